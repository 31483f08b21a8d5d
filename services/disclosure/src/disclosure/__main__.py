"""python -m disclosure api|relay|projector|all|prepare

- api: the gRPC server (DisclosureService and the operators' AdminService);
- relay: the notification log to Kafka (pubrev.disclosure.events.v1);
- projector: the read model (rm_communities, rm_disclosures, rm_self_inspections) and the
  hourly quarter close;
- all: every role in one process (development);
- prepare: creates the database and its tables, then exits.
`consumer` is accepted like every service's and does nothing: disclosure consumes no topic.
"""

from disclosure.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("disclosure", build)
