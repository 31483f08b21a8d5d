"""python -m credit api|relay|consumer|projector|all|prepare

api: the gRPC CreditService (EvidenceService and the operators' AdminService beside it);
relay: the event store's notifications to Kafka; consumer: inspection's events (findings,
rectifications, spot checks); projector: the read model, the outbound feeds and their
pusher, and the display-period sweep every 6 h; all: every role in one process
(development); prepare: the one-time migrations, before the roles start."""

from credit.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("credit", build)
