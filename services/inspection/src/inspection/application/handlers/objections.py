"""Objections (异议) to findings: the company objects to its own finding within the objection
period; the bureau that found it (or the city) decides — upheld, the finding is withdrawn and
its rectification cancelled; rejected, it stands."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from inspection.application.commands import (
    DecideObjection,
    ObjectionDecided,
    ObjectionRaised,
    ObjectToFinding,
)
from inspection.application.handlers.rectification import authorized_finding
from inspection.domain.finding import Finding
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def object_to_finding(
    app: InspectionApplication, identity: Identity, cmd: ObjectToFinding
) -> ObjectionRaised:
    app.policy.admit("ObjectToFinding", identity)
    cmd.check().raise_if_any()
    app.require_stored(cmd.attachments, "attachments")
    authorized_finding(app, "ObjectToFinding", identity, cmd.finding_id)
    objected_at = app.clock()

    def execute() -> tuple[list[Finding], ObjectionRaised]:
        current = app.finding(cmd.finding_id)
        current.raise_objection(cmd.reason.strip(), cmd.attachments, objected_at, app.rules)
        assert current.objection_deadline is not None
        deadline = current.objection_deadline.astimezone(UTC).isoformat()
        return [current], ObjectionRaised(str(current.id), deadline)

    return app.run_command(cmd, ObjectionRaised, execute)


def decide_objection(
    app: InspectionApplication, identity: Identity, cmd: DecideObjection
) -> ObjectionDecided:
    app.policy.admit("DecideObjection", identity)
    cmd.check().raise_if_any()
    finding = app.finding(cmd.finding_id)
    app.policy.authorize("DecideObjection", identity, decider_facts(finding))
    decided_at = app.clock()

    def execute() -> tuple[list[Finding], ObjectionDecided]:
        current = app.finding(cmd.finding_id)
        current.decide_objection(cmd.upheld, cmd.decision.strip(), decided_at)
        return [current], ObjectionDecided(str(current.id), current.objection, current.status)

    return app.run_command(cmd, ObjectionDecided, execute)


def decider_facts(finding: Finding) -> Resource:
    """Who reviews an objection: the unit that found it (its checking unit; the city's
    bureau over every unit), or the community's unit for a finding recorded before the
    checking body was kept."""
    return Resource(
        unit=finding.checking_unit or finding.unit,
        company=finding.company_uscc,
        community=finding.community_code,
    )
