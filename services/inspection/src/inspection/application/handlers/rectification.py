"""Rectification (整改): a finding is verified with evidence by the community's unit (late
when after its deadline); a sweep marks the findings past their deadline overdue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspection.application.commands import (
    DeadlinesSwept,
    RectificationVerified,
    SweepRectificationDeadlines,
    VerifyRectification,
)
from inspection.application.sweeps import sweep_rectification_deadlines
from inspection.domain.finding import Finding
from pubrev_contracts.vocabulary.units import CITY
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def verify_rectification(
    app: InspectionApplication, identity: Identity, cmd: VerifyRectification
) -> RectificationVerified:
    app.policy.admit("VerifyRectification", identity)
    v = cmd.check()
    # Stored in UTC, within the platform's window of the service's clock.
    verified_at = v.require_instant(cmd.verified_at, "verified_at", app.clock(), "验收时间")
    v.raise_if_any()
    assert verified_at is not None
    finding = app.finding(cmd.finding_id)
    app.policy.authorize(
        "VerifyRectification",
        identity,
        Resource(unit=finding.unit, company=finding.company_uscc, community=finding.community_code),
    )

    def execute() -> tuple[list[Finding], RectificationVerified]:
        current = app.finding(cmd.finding_id)
        current.verify(verified_at, list(cmd.evidence_refs), cmd.note)
        return [current], RectificationVerified(str(current.id))

    return app.run_command(cmd, RectificationVerified, execute)


def sweep_deadlines(
    app: InspectionApplication, identity: Identity, cmd: SweepRectificationDeadlines
) -> DeadlinesSwept:
    """The sweep called by someone (the projector role's periodic job runs it itself). It is
    recorded as an operation: the sweep is safe to repeat, so no receipt is kept."""
    app.policy.admit("SweepRectificationDeadlines", identity)
    app.policy.authorize("SweepRectificationDeadlines", identity, Resource(unit=CITY))
    marked = sweep_rectification_deadlines(app)
    app.record_operation(identity, "SweepRectificationDeadlines", {"marked": marked})
    return DeadlinesSwept(marked)
