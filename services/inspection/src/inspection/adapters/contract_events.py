"""Inspection's domain events → contract events on pubrev.inspection.events.v1. The
community watch (what inspection learnt from disclosure) is internal and not published."""

from __future__ import annotations

import uuid
from typing import Any

from inspection.domain import draw as draws
from inspection.domain.finding import Finding
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan, candidates_hash
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent
from pubrev_contracts.events.inspection import (
    ChecklistResultV1,
    CrossCheckReportedV1,
    DrawV1,
    FindingObjectedV1,
    FindingWithdrawnV1,
    ObjectionRejectedV1,
    PlannedTargetV1,
    RectificationEvidenceSubmittedV1,
    RectificationOrderedV1,
    RectificationOverdueV1,
    RectificationVerifiedV1,
    SpotCheckDoneV1,
    SpotCheckDrawnV1,
    SpotCheckPlannedV1,
    TownshipInspectionRecordedV1,
    ViolationFoundV1,
)


def _rectification(event: Any) -> dict[str, Any]:
    return {
        "unit": event.unit,
        "community_code": event.community_code,
        "company_uscc": event.company_uscc,
        "kind": event.kind,
    }


def _attachments(recorded: list[dict[str, Any]]) -> list[AttachmentRefV1]:
    return [
        AttachmentRefV1(
            sha256=a["sha256"], size=a["size"], media_type=a["media_type"], filename=a["filename"]
        )
        for a in recorded
    ]


def _targets(targets: list[dict[str, Any]]) -> list[PlannedTargetV1]:
    return [
        PlannedTargetV1(
            community_code=t["community_code"], reason=t["reason"], inspectors=t["inspectors"]
        )
        for t in targets
    ]


def to_contract(event: Any) -> ContractEvent | None:
    base = {
        "aggregate_id": event.originator_id,
        "aggregate_version": event.originator_version,
        "occurred_at": event.timestamp,
    }
    if isinstance(event, SpotCheckPlan.Planned):
        draw = event.draw
        if event.commitment:
            # Commit-reveal: the pool and roster are recorded, nothing is drawn yet (the
            # targets follow in SpotCheckDrawn).
            recorded = DrawV1(
                seed="",
                algorithm=draws.ALGORITHM,
                pool_hash=candidates_hash(event.candidates),
                pool_size=len(event.candidates),
                drawn=[],
                inspector_pool_hash=draws.pool_hash(event.roster),
            )
        else:
            recorded = DrawV1(
                seed=draw["seed"],
                algorithm=draw["algorithm"],
                pool_hash=draw["pool_hash"],
                pool_size=draw["pool_size"],
                drawn=draw["drawn"],
                inspector_pool_hash=draw["inspector_pool_hash"],
            )
        return SpotCheckPlannedV1(
            **base,
            unit=event.unit,
            year=event.year,
            kind=event.kind,
            quarter=int(draw.get("quarter", 0)),
            checked_unit=str(draw.get("checked_unit", event.unit)),
            communities=event.communities,
            quota=event.quota,
            rules_version=event.rules_version,
            targets=_targets(event.targets),
            draw=recorded,
        )
    if isinstance(event, SpotCheckPlan.DrawExecuted):
        record = event.draw
        return SpotCheckDrawnV1(
            **base,
            unit=event.unit,
            year=event.year,
            kind=event.kind,
            checked_unit=event.checked_unit,
            round=event.round,
            seed_scheme=draws.SEED_SCHEME,
            commitment=event.commitment,
            secret=event.secret,
            contribution=event.contribution,
            seed=event.seed,
            algorithm=record["algorithm"],
            candidates_hash=record["candidates_hash"],
            candidates=record["candidates"],
            roster_hash=record["roster_hash"],
            targets=_targets(event.targets),
            redraw_reasons=event.redraw_reasons,
        )
    if isinstance(event, SpotCheck.Done):
        return SpotCheckDoneV1(
            **base,
            unit=event.unit,
            plan_id=event.plan_id,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            inspected_at=event.inspected_at,
            inspectors=event.inspectors,
            checklist=[
                ChecklistResultV1(item=i["item"], passed=i["passed"]) for i in event.checklist
            ],
            findings=len(event.finding_ids),
            checking_unit=event.checking_unit,
            checking_kind=event.checking_kind,
        )
    if isinstance(event, Finding.ViolationFound):
        return ViolationFoundV1(
            **base,
            unit=event.unit,
            spot_check_id=event.spot_check_id,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            kind=event.kind,
            kind_name=event.kind_name,
            severity=event.severity,
            legal_basis=event.legal_basis,
            found_at=event.found_at,
            evidence_refs=event.evidence_refs,
            checking_unit=event.checking_unit,
            checking_kind=event.checking_kind,
            party=event.party,
            agency_unit=event.agency_unit,
            warning_id=uuid.UUID(event.warning_id) if event.warning_id else None,
            attachments=_attachments(event.attachments),
        )
    if isinstance(event, Finding.RectificationOrdered):
        return RectificationOrderedV1(
            **base,
            **_rectification(event),
            deadline=event.deadline,
            checking_unit=event.checking_unit,
            checking_kind=event.checking_kind,
            deadline_basis=event.deadline_basis,
        )
    if isinstance(event, Finding.RectificationVerified):
        return RectificationVerifiedV1(
            **base, **_rectification(event), verified_at=event.verified_at, late=event.late
        )
    if isinstance(event, Finding.RectificationOverdue):
        return RectificationOverdueV1(**base, **_rectification(event), deadline=event.deadline)
    if isinstance(event, Finding.RectificationEvidenceSubmitted):
        return RectificationEvidenceSubmittedV1(
            **base,
            **_rectification(event),
            note=event.note,
            attachments=_attachments(event.attachments),
            submitted_at=event.submitted_at,
        )
    if isinstance(event, Finding.Objected):
        return FindingObjectedV1(
            **base,
            **_rectification(event),
            reason=event.reason,
            objected_at=event.objected_at,
            deadline=event.deadline,
            attachments=_attachments(event.attachments),
        )
    if isinstance(event, Finding.ObjectionRejected):
        return ObjectionRejectedV1(
            **base, **_rectification(event), decision=event.decision, decided_at=event.decided_at
        )
    if isinstance(event, Finding.Withdrawn):
        return FindingWithdrawnV1(
            **base,
            **_rectification(event),
            reason=event.reason,
            withdrawn_at=event.withdrawn_at,
        )
    if isinstance(event, TownshipInspectionLedger.InspectionRecorded):
        return TownshipInspectionRecordedV1(
            **base,
            unit=event.unit,
            community_code=event.community_code,
            township=event.township,
            inspected_on=event.inspected_on,
            problems=len(event.problems),
            inspector=event.inspector,
        )
    if isinstance(event, SpotCheckPlan.CrossCheckReported):
        return CrossCheckReportedV1(
            **base,
            unit=event.unit,
            checked_unit=event.checked_unit,
            year=event.year,
            quarter=event.quarter,
            planned=event.planned,
            checked=event.checked,
            findings=event.findings,
            findings_by_kind=event.findings_by_kind,
        )
    return None
