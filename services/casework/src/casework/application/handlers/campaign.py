"""Handlers of the campaign calendar (issue 13 items 2, 3 and 7; the calendar:
vocabulary.campaign; the facts: domain/campaign).

Command: RecordStageDone (a unit records a stage it did itself).

The consumers' policies (`on_*`, bound to contract events in entrypoints/consumers.py): each
remembers a fact of the campaign in the unit's year (`UnitCampaign`) and saves it with the
delivery's tracking row in one `record` (the runner skips a delivery applied before). The
warnings of the calendar are raised by the sweeps (application/sweeps.py), which judge the
units on these facts, and closed by the platform when the facts show the unit caught up: a
stage done, a report or a cross check's report in.

Findings (`finding_effects`, called by the warnings' ViolationFound policy): a finding that
cites a warning (`warning_id`) is linked to it (the warning records `Escalated`); an agency's
finding (E1–E3) that cites none is raised as an `agency_finding` warning for the 智慧监督
platform. Escalating needs no RPC of casework: the bureau records the finding in inspection
citing the warning, and the link follows from that finding's event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from casework.application.access import POLICY, authorize
from casework.application.commands import RecordStageDone, StageDoneRecorded
from casework.application.queries import YEARS
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.campaign.unit_campaign import UnitCampaign
from casework.domain.case import Case
from casework.domain.warnings.campaign_rules import (
    AGENCY_FINDING,
    CLOSED_BY_PLATFORM,
    CROSS_CHECK_MISSING,
    UNIT_BEHIND_STAGE,
    agency_finding,
    stage_period,
)
from casework.domain.warnings.company_facts import CompanyFacts
from casework.domain.warnings.periods import year_label
from casework.domain.warnings.rules import (
    RECTIFICATION_OVERDUE,
    REPEAT_VIOLATIONS,
    repeat_violations,
)
from casework.domain.warnings.supervision_warning import Due, SupervisionWarning
from pubrev_contracts.vocabulary.calendar import quarter_label
from pubrev_contracts.vocabulary.campaign import STAGE_KEYS, shanghai_date
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.errors import Validator
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

log = logging.getLogger(__name__)

NOTE_MAX = 2000


# -- RecordStageDone ---------------------------------------------------------------------------


def record_stage_done(
    app: CaseworkApplication, identity: Identity, cmd: RecordStageDone
) -> StageDoneRecorded:
    """The unit's own record of a stage (StageRecord.record decides what may be recorded),
    by its bureau's officers and heads; a warning of the unit behind that stage is closed by
    the platform in the same commit, the record its evidence."""
    POLICY.admit("RecordStageDone", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.require(cmd.unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    v.require(YEARS[0] <= cmd.year <= YEARS[1], "year", "year_range", "2020–2100", "年度不正确")
    v.require(
        cmd.stage in STAGE_KEYS,
        "stage",
        "unknown_stage",
        f"one of {', '.join(STAGE_KEYS)}",
        "专项整治阶段不正确",
    )
    v.require(
        len(cmd.note) <= NOTE_MAX,
        "note",
        "too_long",
        f"at most {NOTE_MAX} characters",
        f"备注不能超过{NOTE_MAX}字",
    )
    v.raise_if_any()
    authorize(POLICY, "RecordStageDone", identity, Resource(unit=cmd.unit))
    stage = app.warning_rules.campaign.stage(cmd.year, cmd.stage)

    def execute() -> tuple[list[StageRecord | SupervisionWarning], StageDoneRecorded]:
        existing = app.find(StageRecord.create_id(cmd.unit, cmd.year, cmd.stage), StageRecord)
        if existing is not None:
            existing.record_again()
        now = app.clock()
        record = StageRecord.record(cmd.unit, stage, identity.render(), now, cmd.note.strip())
        warning = app.find(
            SupervisionWarning.create_id(UNIT_BEHIND_STAGE, cmd.unit, stage_period(stage)),
            SupervisionWarning,
        )
        closed = close_by_platform(
            warning, now, [f"stage-record:{record.id}"], f"{stage.name}已记录完成"
        )
        return [record, *closed], StageDoneRecorded(
            str(record.id), cmd.unit, cmd.year, cmd.stage, record.due_on, record.late
        )

    return app.run_command(cmd, StageDoneRecorded, execute)


def close_by_platform(
    warning: SupervisionWarning | None, at: datetime, evidence: list[str], note: str
) -> list[SupervisionWarning]:
    """Closes an open warning whose cause the facts show gone, with those facts as its
    evidence (the warning, to save; nothing when there is none open)."""
    if warning is None or warning.closed:
        return []
    warning.close(CLOSED_BY_PLATFORM, at, evidence, note)
    return [warning]


# -- the consumers' policies: the facts of the campaign ------------------------------------------


def _campaign(app: CaseworkApplication, unit: str, year: int) -> UnitCampaign:
    return app.find(UnitCampaign.create_id(unit, year), UnitCampaign) or UnitCampaign(unit, year)


def on_self_inspection_filed(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    year: int,
    filed_at: datetime,
) -> bool:
    """SelfInspectionFiled: the community's company filed the year's self-inspection ledger
    (the self_inspection stage)."""
    facts = _campaign(app, unit, year)
    facts.note_self_inspection(community_code, shanghai_date(filed_at))
    return app.record(facts, delivery=delivery)


def on_township_inspection_recorded(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    inspected_on: str,
) -> bool:
    """TownshipInspectionRecorded: a township inspected the community (the
    township_inspections stage; the month's report counts the communities inspected)."""
    day = date.fromisoformat(inspected_on)
    facts = _campaign(app, unit, day.year)
    facts.note_township_inspection(community_code, day)
    return app.record(facts, delivery=delivery)


def on_rectification_ordered(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    finding_id: str,
    unit: str,
    ordered_at: datetime,
) -> bool:
    """RectificationOrdered: a rectification the community's unit supervises."""
    day = shanghai_date(ordered_at)
    facts = _campaign(app, unit, day.year)
    facts.note_rectification_ordered(finding_id, day)
    return app.record(facts, delivery=delivery)


def on_rectification_verified(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    finding_id: str,
    unit: str,
    verified_at: datetime,
) -> bool:
    """RectificationVerified: counted in the year the rectification was ordered (this year
    or, for one ordered in December, the last)."""
    day = shanghai_date(verified_at)
    facts = _campaign(app, unit, day.year)
    if finding_id not in facts.rectifications_ordered:
        last = app.find(UnitCampaign.create_id(unit, day.year - 1), UnitCampaign)
        if last is not None and finding_id in last.rectifications_ordered:
            facts = last
    facts.note_rectification_verified(finding_id, day)
    return app.record(facts, delivery=delivery)


def on_finding_withdrawn(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    finding_id: str,
    unit: str,
    company: str,
    reason: str,
    withdrawn_at: datetime,
) -> bool:
    """FindingWithdrawn (the company's objection upheld): whatever the finding cost in
    casework is undone. It leaves the rectifications counted (this year's or last year's)
    and the company's findings (repeat_violations); the warnings it caused are closed by the
    platform, the withdrawal their evidence: its agency_finding, the rectification_overdue
    of its rectification, and a repeat_violations warning the remaining findings no longer
    make due. Its rectification case stays the bureau's to close."""
    year = shanghai_date(withdrawn_at).year
    now = app.clock()
    evidence, note = [f"finding-withdrawn:{finding_id}"], f"认定已撤销：{reason}"
    changed: list[Aggregate] = []
    for y in (year, year - 1):
        facts = app.find(UnitCampaign.create_id(unit, y), UnitCampaign)
        if facts is not None and facts.note_finding_withdrawn(finding_id):
            changed.append(facts)
    warnings = [app.find(agency_finding_id(finding_id), SupervisionWarning)]
    app.read_model.catch_up()
    case_id = str(Case.rectification_id(finding_id))
    warnings += [
        app.find(uuid.UUID(row.warning_id), SupervisionWarning)
        for row in app.read_model.warnings([unit], RECTIFICATION_OVERDUE, False)
        if row.subject == case_id
    ]
    company_facts = app.find(CompanyFacts.create_id(company), CompanyFacts) if company else None
    withdrawn = company_facts.withdraw_finding(finding_id) if company_facts else None
    if company_facts is not None and withdrawn is not None:
        changed.append(company_facts)
        period = year_label(withdrawn.found_at)
        still_due = {
            d.period for d in repeat_violations(company, company_facts.findings, app.warning_rules)
        }
        repeat = app.find(
            SupervisionWarning.create_id(REPEAT_VIOLATIONS, company, period), SupervisionWarning
        )
        if (
            repeat is not None
            and finding_id in repeat.details.get("finding_ids", [])
            and period not in still_due
        ):
            warnings.append(repeat)
    for warning in warnings:
        changed += close_by_platform(warning, now, evidence, note)
    return app.record(*changed, delivery=delivery)


def on_cross_check_reported(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    unit: str,
    checked_unit: str,
    year: int,
    quarter: int,
    reported_at: datetime,
) -> bool:
    """CrossCheckReported: the unit's cross-check team reported its quarter (plan 四（四）); a
    cross_check_missing warning of that quarter is closed by the platform."""
    facts = _campaign(app, unit, year)
    facts.note_cross_check_reported(quarter, checked_unit, shanghai_date(reported_at))
    warning = app.find(
        SupervisionWarning.create_id(CROSS_CHECK_MISSING, unit, quarter_label(year, quarter)),
        SupervisionWarning,
    )
    closed = close_by_platform(
        warning,
        app.clock(),
        [f"cross-check-report:{year}Q{quarter}:{unit}>{checked_unit}"],
        "交叉检查报告已形成",
    )
    return app.record(facts, *closed, delivery=delivery)


def note_cross_check_planned(
    app: CaseworkApplication, unit: str, year: int, quarter: int, checked_unit: str
) -> UnitCampaign:
    """A cross check planned for the unit's team (SpotCheckPlanned kind=cross)."""
    facts = _campaign(app, unit, year)
    facts.note_cross_check_planned(quarter, checked_unit)
    return facts


# -- findings: escalation and agencies' failures ---------------------------------------------------


def agency_finding_id(finding_id: str) -> uuid.UUID:
    return SupervisionWarning.create_id(AGENCY_FINDING, finding_id, "")


def finding_effects(
    app: CaseworkApplication,
    *,
    finding_id: str,
    unit: str,
    party: str,
    agency_unit: str,
    warning_id: str,
    community_code: str,
    kind: str,
    kind_name: str,
    severity: str,
    legal_basis: str,
    found_at: datetime,
) -> tuple[Sequence[SupervisionWarning], list[Due]]:
    """What a finding changes in the warnings: the warning it cites records the escalation
    (whatever the party); an agency's finding citing none is due as an agency_finding
    warning. A cited warning casework does not hold is logged, and an agency's finding then
    raises its own record (the 智慧监督 platform must hear of it either way)."""
    linked = _cited(app, warning_id)
    if linked is not None:
        linked.escalate(finding_id, kind, found_at)
        return [linked], []
    if warning_id:
        log.warning(
            "finding %s cites warning %s, which casework does not hold",
            finding_id,
            warning_id[:40],
        )
    if party != "agency":
        return [], []
    due = agency_finding(
        finding_id,
        unit,
        agency_unit,
        community_code,
        kind,
        kind_name,
        severity,
        legal_basis,
        found_at,
    )
    return [], [due]


def _cited(app: CaseworkApplication, warning_id: str) -> SupervisionWarning | None:
    if not warning_id:
        return None
    try:
        return app.find(uuid.UUID(warning_id), SupervisionWarning)
    except (ValueError, TypeError):  # not an id, or the id of another record
        return None
