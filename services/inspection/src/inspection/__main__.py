"""python -m inspection api|relay|consumer|projector|all|prepare (servicekit.runtime): the
gRPC API (InspectionService, EvidenceService beside it and the operators' AdminService),
the relay of the notification log to Kafka, the consumers of disclosure's and casework's
events, the projector (read model and the hourly rectification sweep), all of them in one
process, or the one-time creation of the database and tables."""

from inspection.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("inspection", build)
