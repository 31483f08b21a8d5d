"""The casework application. Commands arrive with the casework issue; the audit trail, relay and
gRPC plumbing run from the foundation on."""

from __future__ import annotations

from servicekit.eventstore import ServiceApplication


class CaseworkApplication(ServiceApplication):
    name = "casework"
