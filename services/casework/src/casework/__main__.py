"""python -m casework api|relay|consumer|projector|all|prepare

- api: the gRPC server (CaseworkService, EvidenceService beside it, and the operators'
  AdminService); the only role that holds the key-encryption key;
- relay: the notification log to Kafka (pubrev.casework.events.v1);
- consumer: the subscriptions of entrypoints/consumers.py (casework.rectification and
  casework.warnings.{disclosure,inspection,casework});
- projector: the read model (rm_cases, rm_warnings), the 智慧监督 feed's pusher and the
  sweeps (complaint feedback and the campaign calendar hourly, quota pace and personal-data
  retention 6-hourly);
- all: every role in one process (development);
- prepare: creates the database and its tables, then exits.
"""

from casework.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("casework", build)
