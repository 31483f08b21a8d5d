"""Findings entered directly (直接录入的问题), with their evidence: what an investigation, an
audit or a case established, of a company (any code A–D; C2 and D1–D3 only so) or of an
agency (E1–E3, plan 二（五）: the unit or township that failed, never a company)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from inspection.application.commands import FindingRecorded, RecordFinding
from inspection.application.handlers.checks import community_watch
from inspection.domain.checking_body import direct_entry_id
from inspection.domain.finding import Finding
from inspection.domain.violations import KINDS
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def record_finding(
    app: InspectionApplication, identity: Identity, cmd: RecordFinding
) -> FindingRecorded:
    app.policy.admit("RecordFinding", identity)
    cmd.check().raise_if_any()
    app.require_stored(cmd.attachments, "attachments")
    kind = KINDS[cmd.kind]
    watch = community_watch(app, cmd.community_code) if cmd.community_code else None
    if kind.party == "company":
        assert watch is not None  # a company's finding names its community (cmd.check)
        unit, company, concerns = watch.unit, watch.company_uscc, ""
    else:
        # A unit's own failure is recorded by those who supervise it (the city), never by
        # the unit itself; a township's, by its unit too.
        unit, company = cmd.agency_unit, ""
        concerns = "" if cmd.township else cmd.agency_unit
    app.policy.authorize(
        "RecordFinding",
        identity,
        Resource(unit=unit, company=company, community=cmd.community_code, concerns_unit=concerns),
    )
    found_at = app.clock()

    def execute() -> tuple[list[Finding], FindingRecorded]:
        finding = Finding.entered(
            direct_entry_id(identity.unit, cmd.request_id),
            kind,
            cmd.severity,
            cmd.note.strip(),
            cmd.attachments,
            found_at,
            identity.unit,
            app.rules,
            unit=unit,
            community_code=cmd.community_code,
            community_unit=watch.unit if watch is not None else "",
            company_uscc=company,
            agency_unit=cmd.township.strip() or cmd.agency_unit,
            warning_id=cmd.warning_id.lower(),
        )
        deadline = finding.deadline.astimezone(UTC).isoformat() if finding.deadline else ""
        return [finding], FindingRecorded(str(finding.id), finding.party, deadline)

    return app.run_command(cmd, FindingRecorded, execute)
