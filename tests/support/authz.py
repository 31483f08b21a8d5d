"""The authorization matrix: every RPC × every identity the vocabulary allows × its relation
to a record, called through the application and compared with (1) the service's declared
policy and (2) an oracle written independently of it from DOMAIN.md (tests/support/
must_deny.py). A wrong policy passes (1) but not (2).

A service's matrix test gives, per RPC, a function that performs the call for an identity
with valid arguments on the scenario's record (`Invokers`), and the record's facts. A call
is *denied* when it raises PermissionDenied, or NotFound for a record the caller may not
know of; anything else (an answer, a domain rule, a duplicate) means the caller got past
authorization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import NotFound, PermissionDenied
from servicekit.identity import Identity, IdentityRules
from servicekit.policy import Cell, Policy, Resource, relations
from tests.support.must_deny import must_deny

RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
OTHER_SUBJECTS = {
    "uscc": "91110000600037341L",
    "police_office": "putian-psb-other",
    "community": "ZZ-9999",
    "frontend": "some-frontend",
    "person": "someone",
}
WHOLE_LOG = "GetHistory"
RECORD_HISTORY = "GetHistory(record)"
"""The matrix's name for GetHistory of one record (judged by the record's read rule)."""

Invokers = Mapping[str, Callable[[Identity], object]]


@dataclass(frozen=True)
class Mismatch:
    rpc: str
    cell: Cell
    expected: str
    got: str
    why: str = ""

    def __str__(self) -> str:
        return (
            f"{self.rpc} by {self.cell.identity.render()} ({self.cell.relation}): "
            f"expected {self.expected}, got {self.got}{' — ' + self.why if self.why else ''}"
        )


def outcome(call: Callable[[Identity], object], identity: Identity) -> str:
    try:
        call(identity)
    except (PermissionDenied, NotFound):
        return "denied"
    except Exception as error:  # a domain rule, a duplicate: past authorization
        return f"allowed ({type(error).__name__})"
    return "allowed"


def cells(record: Resource, other_unit: str = "licheng") -> list[Cell]:
    return list(relations(RULES, record, other_unit, OTHER_SUBJECTS))


def expected(
    policy: Policy, rpc: str, identity: Identity, record: Resource, history_rpc: str
) -> bool:
    if rpc == WHOLE_LOG:
        return policy.decide(WHOLE_LOG, identity, Resource()) is not None
    if rpc == RECORD_HISTORY:
        return (
            policy.decide(WHOLE_LOG, identity, Resource()) is not None
            or policy.decide_history(history_rpc, identity, record) is not None
        )
    return policy.decide(rpc, identity, record) is not None


def run_matrix(
    service: str,
    policy: Policy,
    record: Resource,
    invokers: Invokers,
    history_rpc: str,
    rpcs: Iterable[str] | None = None,
) -> tuple[int, list[Mismatch]]:
    """Calls every invoker for every cell; returns the number of cells and the mismatches
    against the declared policy and against the must-deny oracle."""
    mismatches: list[Mismatch] = []
    count = 0
    for rpc in sorted(rpcs if rpcs is not None else invokers):
        call = invokers[rpc]
        for cell in cells(record):
            count += 1
            got = outcome(call, cell.identity)
            allowed = got.startswith("allowed")
            want = expected(policy, rpc, cell.identity, record, history_rpc)
            if allowed != want:
                mismatches.append(
                    Mismatch(
                        rpc,
                        cell,
                        "allowed" if want else "denied",
                        got,
                        "against the declared policy",
                    )
                )
            reason = must_deny(service, rpc, cell.identity, cell.relation, record)
            if reason is not None and allowed:
                mismatches.append(Mismatch(rpc, cell, "denied", got, f"must deny: {reason}"))
    return count, mismatches
