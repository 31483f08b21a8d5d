"""The campaign's domain events → contract events on pubrev.casework.events.v1 (called by
contract_events.to_contract): a stage a unit recorded, a monthly report or briefing
submitted, a warning escalated into an inspection finding."""

from __future__ import annotations

from typing import Any, Literal, cast

from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.events.casework import (
    CampaignStageRecordedV1,
    MonthlyReportSubmittedV1,
    WarningEscalatedV1,
)


def campaign_contract(event: Any) -> ContractEvent | None:
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
    return None
