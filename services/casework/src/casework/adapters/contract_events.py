"""Casework's domain events → contract events on pubrev.casework.events.v1. Personal data
(the sealed name and phone, feedback content) is never translated: it does not travel."""

from __future__ import annotations

from typing import Any, Literal, cast

from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.case import Case
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent
from pubrev_contracts.events.casework import (
    CampaignStageRecordedV1,
    CaseAssignedV1,
    CaseClosedV1,
    CaseOpenedV1,
    CaseReferredToPoliceV1,
    ComplaintReceivedV1,
    FeedbackGivenV1,
    InterviewRecordedV1,
    MonthlyReportSubmittedV1,
    PoliceAcknowledgedV1,
    TypicalCasePublishedV1,
    WarningClosedV1,
    WarningEscalatedV1,
    WarningRaisedV1,
)


def to_contract(event: Any) -> ContractEvent | None:
    base = {
        "aggregate_id": event.originator_id,
        "aggregate_version": event.originator_version,
        "occurred_at": event.timestamp,
        "unit": getattr(event, "unit", ""),
    }
    if isinstance(event, Case.Received):
        if event.kind == "rectification":
            return CaseOpenedV1(
                **base,
                finding_id=event.finding_id,
                community_code=event.community_code,
                company_uscc=event.company_uscc,
                category=event.category,
                due_at=event.due_at,
            )
        return ComplaintReceivedV1(
            **base,
            channel=event.channel,
            major=event.major,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            category=event.category,
            received_at=event.received_at,
        )
    if isinstance(event, Case.Assigned):
        return CaseAssignedV1(**base, township=event.township, assignee=event.assignee)
    if isinstance(event, Case.FeedbackGiven):
        return FeedbackGivenV1(**base, channel=event.channel)
    if isinstance(event, Case.Closed):
        return CaseClosedV1(**base, closed_at=event.closed_at, overdue=event.overdue)
    if isinstance(event, Case.ReferredToPolice):
        return CaseReferredToPoliceV1(
            **base,
            police_office=event.police_office,
            suspected_offence=event.suspected_offence,
            evidence_count=len(event.evidence_refs),
        )
    if isinstance(event, SupervisionWarning.Raised):
        return WarningRaisedV1(
            **base,
            rule=event.rule,
            subject_kind=event.subject_kind,
            subject=event.subject,
            period=event.period,
            details=event.details,
            rules_version=event.rules_version,
        )
    if isinstance(event, SupervisionWarning.Closed):
        return WarningClosedV1(
            **base, rule=event.rule, subject=event.subject, evidence_count=len(event.evidence_refs)
        )
    # The campaign's: a warning escalated, a stage a unit recorded, a monthly report.
    if isinstance(event, SupervisionWarning.Escalated):
        return WarningEscalatedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            rule=event.rule,
            subject=event.subject,
            finding_id=event.finding_id,
            kind=event.kind,
            escalated_at=event.at,
        )
    if isinstance(event, StageRecord.Recorded):
        return CampaignStageRecordedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            year=event.year,
            stage=event.stage,
            due_on=event.due_on,
            late=event.late,
            recorded_at=event.recorded_at,
        )
    if isinstance(event, MonthlyReport.Submitted):
        return MonthlyReportSubmittedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            duty=cast(Literal["unit_report", "province_briefing"], event.duty),
            year=event.year,
            month=event.month,
            due_on=event.due_on.isoformat(),
            late=event.late,
            submitted_at=event.submitted_at,
            figures=dict(event.figures),
            units_reported=list(event.units_reported),
        )
    if isinstance(event, Case.PoliceAcknowledged):
        return PoliceAcknowledgedV1(**base, police_office=event.police_office)
    if isinstance(event, TypicalCases.Published):
        return TypicalCasePublishedV1(
            **base,
            case_id=event.case_id,
            title=event.title,
            summary=event.summary,
            company_uscc=event.company_uscc,
            published_on=event.published_on,
            category=event.category,
        )
    if isinstance(event, InterviewLedger.Recorded):
        return InterviewRecordedV1(
            **base,
            interview_id=event.interview_id,
            interviewer_unit=event.interviewer_unit,
            subject_kind=event.subject_kind,
            subject=event.subject,
            reason=event.reason,
            warning_ids=list(event.warning_ids),
            finding_ids=list(event.finding_ids),
            held_on=event.held_on,
            outcome=event.outcome,
            attachments=[AttachmentRefV1.model_validate(e) for e in event.evidence],
        )
    return None
