"""Rectification (整改): the company submits its own evidence for its finding, the community's
unit verifies the rectification (against its own evidence or citing the company's; late when
done after the deadline), and a sweep marks the findings past their deadline overdue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspection.application.commands import (
    DeadlinesSwept,
    EvidenceSubmitted,
    RectificationVerified,
    SubmitRectificationEvidence,
    SweepRectificationDeadlines,
    VerifyRectification,
)
from inspection.application.sweeps import sweep_rectification_deadlines
from inspection.domain.finding import Finding
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import NotFound, PermissionDenied
from servicekit.identity import Identity
from servicekit.policy import Resource, Scope

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
    app.policy.authorize("VerifyRectification", identity, finding_facts(finding))

    def execute() -> tuple[list[Finding], RectificationVerified]:
        current = app.finding(cmd.finding_id)
        current.verify(verified_at, list(cmd.evidence_refs), cmd.note, cmd.cite_company_evidence)
        return [current], RectificationVerified(str(current.id))

    return app.run_command(cmd, RectificationVerified, execute)


def submit_rectification_evidence(
    app: InspectionApplication, identity: Identity, cmd: SubmitRectificationEvidence
) -> EvidenceSubmitted:
    """The company's own evidence of its rectification (整改佐证), for the bureau to verify."""
    app.policy.admit("SubmitRectificationEvidence", identity)
    cmd.check().raise_if_any()
    app.require_stored(cmd.attachments, "attachments")
    authorized_finding(app, "SubmitRectificationEvidence", identity, cmd.finding_id)
    submitted_at = app.clock()

    def execute() -> tuple[list[Finding], EvidenceSubmitted]:
        current = app.finding(cmd.finding_id)
        current.submit_evidence(cmd.note.strip(), cmd.attachments, submitted_at)
        return [current], EvidenceSubmitted(str(current.id), len(current.submissions))

    return app.run_command(cmd, EvidenceSubmitted, execute)


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


def finding_facts(finding: Finding) -> Resource:
    """What a finding's scopes are judged on: its jurisdiction, company and community."""
    return Resource(
        unit=finding.unit, company=finding.company_uscc, community=finding.community_code
    )


def authorized_finding(
    app: InspectionApplication, rpc: str, identity: Identity, finding_id: str
) -> Finding:
    """The finding, once the caller may act on it. A caller who may act on its own
    company's findings only is told the same whether the finding does not exist or is
    another's: finding ids derive from plan ids anyone can compute, and existence alone would
    tell which community was found at fault."""
    grants = app.policy.grants(rpc, identity)
    own_company_only = bool(grants) and all(Scope.OWN_COMPANY in g.scopes for g in grants)
    try:
        finding = app.finding(finding_id)
        app.policy.authorize(rpc, identity, finding_facts(finding))
    except (NotFound, PermissionDenied):
        if own_company_only:
            raise PermissionDenied(
                f"{identity.agency}/{identity.role} may not act on this finding: no such "
                "finding, or not its company's",
                "无权办理该问题，或问题不存在",
            ) from None
        raise
    return finding
