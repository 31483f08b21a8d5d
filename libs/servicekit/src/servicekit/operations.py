"""The operators' RPCs (pubrev.common.v1.AdminService), as each service's policy declares them.

Stdlib only: a service's `application/access.py` puts `admin_rules()` among its policy's
rows (the generated docs/authorization.md then lists them), and that layer may not reach
grpc or the database. The RPCs themselves are servicekit.admin.
"""

from __future__ import annotations

from servicekit.policy import Grant, Rule, Scope

LIST_PARKED = "ListParked"
REDRIVE_PARKED = "RedriveParked"
SKIP_PARKED = "SkipParked"
GET_LAG = "GetLag"
REBUILD_PROJECTION = "RebuildProjection"
REPUSH_FEEDS = "RepushFeeds"

ADMIN_RPCS = (LIST_PARKED, REDRIVE_PARKED, SKIP_PARKED, GET_LAG, REBUILD_PROJECTION, REPUSH_FEEDS)

OPERATORS = (Grant("operator", ("operator",), (Scope.ANY,)),)
"""The platform's operators (运维) under their operator identity (ARCHITECTURE.md "Trust":
operators use `pubrev-admin`, which calls these RPCs, never the databases); not the
scheduler, which runs sweeps and decides nothing about single events."""


def admin_rules() -> list[Rule]:
    """The AdminService's rows: operators only; what changes something is recorded in the
    service's audit trail (an OperatorAction, read with GetHistory)."""
    return [
        Rule(
            LIST_PARKED,
            OPERATORS,
            "lists the events the service's workers parked instead of retrying for ever, "
            "with their errors: the operators",
        ),
        Rule(
            REDRIVE_PARKED,
            OPERATORS,
            "applies or sends a parked event again after a fix, then the ones held behind "
            "it: the operators, recorded",
        ),
        Rule(
            SKIP_PARKED,
            OPERATORS,
            "gives up on a parked event with a reason: the operators, recorded",
        ),
        Rule(
            GET_LAG,
            OPERATORS,
            "how far the relay, the projections and the consumer groups are behind: the operators",
        ),
        Rule(
            REBUILD_PROJECTION,
            OPERATORS,
            "rebuilds a read model from the whole log and swaps it in: the operators, recorded",
        ),
        Rule(
            REPUSH_FEEDS,
            OPERATORS,
            "queues a feed's dead (or delivered) records again after the receiver or the "
            "data was fixed: the operators, recorded (a corrected decision goes out by its "
            "own command, not by a re-push)",
        ),
    ]
