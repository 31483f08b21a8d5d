"""The credit application. Commands arrive with the credit issue; the audit trail, relay and
gRPC plumbing run from the foundation on."""

from __future__ import annotations

from servicekit.eventstore import ServiceApplication


class CreditApplication(ServiceApplication):
    name = "credit"
