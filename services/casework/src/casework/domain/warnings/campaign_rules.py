"""The warnings of the campaign calendar (专项整治进度预警, DOMAIN.md §5b, §8): pure functions
returning the warnings due (`Due`), each with its basis (`campaign_basis`).

- `unit_behind_stage`: a unit behind a stage of the calendar (vocabulary.campaign.progress:
  once the stage's due date has passed with fewer done than expected); once per (year, stage,
  unit), closed by the platform when the unit catches up. Not for spot checks: the pace's
  own `unit_behind_quota` is that stage's warning (one warning, not two).
- `monthly_report_late`: a county-level unit's monthly report to the city not submitted by
  its due day (25th, moved past rest days by vocabulary.campaign), or submitted after it;
  once per unit and month, closed by the platform when the report arrives.
- `province_briefing_late`: the same for the city's briefing to the province (30th).
- `cross_check_missing`: a county-level unit whose cross-check team made no report in a
  quarter of the campaign (plan 四（四）: 每季度开展交叉检查，形成交叉检查报告); once per
  unit and quarter, closed by the platform when the report arrives.
- `agency_finding`: an inspection finding against an agency (E1–E3, plan 二（五）: the
  agency's supervision failed), raised for the 智慧监督 platform, never a company's credit;
  once per finding. A finding that escalates an existing warning is linked to it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from casework.domain.warnings.supervision_warning import Due
from pubrev_contracts.vocabulary.calendar import CIVIL_CODE_ART_203, Quarter, quarter_label
from pubrev_contracts.vocabulary.campaign import (
    MOBILISATION,
    REVIEW,
    SPOT_CHECKS,
    MonthlyDuty,
    Stage,
    UnitProgress,
    YearCalendar,
    shanghai_date,
)
from pubrev_contracts.vocabulary.sources import local, plan
from pubrev_contracts.vocabulary.units import UNITS
from pubrev_contracts.vocabulary.violations import KINDS

UNIT_BEHIND_STAGE = "unit_behind_stage"
MONTHLY_REPORT_LATE = "monthly_report_late"
PROVINCE_BRIEFING_LATE = "province_briefing_late"
CROSS_CHECK_MISSING = "cross_check_missing"
AGENCY_FINDING = "agency_finding"

CAMPAIGN_RULES = frozenset(
    {
        UNIT_BEHIND_STAGE,
        MONTHLY_REPORT_LATE,
        PROVINCE_BRIEFING_LATE,
        CROSS_CHECK_MISSING,
        AGENCY_FINDING,
    }
)
CLOSED_BY_PLATFORM = "casework:campaign"
"""Who closes a warning whose cause the facts show gone (a stage caught up, a report or a
cross check's report arrived): the platform itself, with those facts as the evidence."""


def campaign_basis(rule: str) -> str:
    """The source of a campaign warning (its stage's or duty's own basis rides in its
    details)."""
    if rule == UNIT_BEHIND_STAGE:
        # 五（三）: the city circulates the units' progress monthly and interviews the heads of
        # lagging units; 附件1 #16, #25: 推进较慢…及时督促提醒、约谈.
        return f"{plan('五、五（三）；附件1第16项、第25项')}；" + local(
            "阶段截止日已过而完成数少于应完成数即预警，补齐后由平台销号"
        )
    if rule == MONTHLY_REPORT_LATE:
        return f"{plan('六（四）；附件2第7项、第36项、第45项（每月25日前）')}；{CIVIL_CODE_ART_203}"
    if rule == PROVINCE_BRIEFING_LATE:
        return f"{plan('附件1第36项、第48项（每月30日前）')}；{CIVIL_CODE_ART_203}"
    if rule == CROSS_CHECK_MISSING:
        return (
            f"{plan('四（四）；附件1第17项；附件2第17项（每季度开展一次交叉检查，形成交叉检查报告）')}；"
            + local(
                "专项整治期间（动员部署截止日至总结提升截止日）结束的季度未形成交叉检查报告即预警"
            )
        )
    if rule == AGENCY_FINDING:
        return f"{plan('二（五）、四（五）（录入“智慧监督”平台，跟踪督促问题整改到位）')}"
    raise ValueError(f"unknown campaign warning rule {rule!r}")


def unit_behind_stage(
    stage: Stage, progress: UnitProgress[str], calendar_version: str
) -> Due | None:
    """A unit behind a stage other than spot checks (whose warning is the pace's)."""
    if stage.key == SPOT_CHECKS or not progress.behind:
        return None
    return Due(
        UNIT_BEHIND_STAGE,
        progress.unit,
        "unit",
        progress.unit,
        stage_period(stage),
        {
            "stage": stage.key,
            "stage_name": stage.name,
            "year": stage.year,
            "due_on": stage.due.isoformat(),
            "done": progress.done,
            "expected": progress.expected,
            "stage_basis": stage.basis,
            "calendar_version": calendar_version,
        },
    )


def stage_period(stage: Stage) -> str:
    """2026:self_inspection: a stage warning's period (once per year, stage and unit)."""
    return f"{stage.year}:{stage.key}"


def report_rule(duty: MonthlyDuty) -> str:
    return PROVINCE_BRIEFING_LATE if duty.key == "province_briefing" else MONTHLY_REPORT_LATE


def report_late(
    duty: MonthlyDuty, unit: str, month: int, now: datetime, submitted_at: datetime | None
) -> Due | None:
    """A month's report not submitted by the end of its due day (by `now`), or submitted
    after it. Up to the nominal day the holiday calendar is not asked
    (`MonthlyDuty.due_passed`)."""
    reached = submitted_at if submitted_at is not None else now
    if not duty.due_passed(month, reached):
        return None
    due_on = duty.due_day(month)
    return Due(
        report_rule(duty),
        unit,
        "unit",
        unit,
        f"{duty.year}-{month:02d}",
        {
            "duty": duty.key,
            "duty_name": duty.name,
            "year": duty.year,
            "month": month,
            "due_on": due_on.isoformat(),
            "due_basis": duty.due_basis(month),
            "submitted_at": submitted_at.isoformat() if submitted_at is not None else "",
        },
    )


def campaign_quarters(calendar: YearCalendar) -> list[Quarter]:
    """The quarters that end within the campaign: from the mobilisation's due date to the
    review's (2023: Q3 and Q4), the quarters a cross check is due in."""
    start, end = calendar.stage(MOBILISATION).due, calendar.stage(REVIEW).due
    quarters = [Quarter(calendar.year, q) for q in (1, 2, 3, 4)]
    return [q for q in quarters if start <= q.last_day <= end]


def cross_check_missing(
    unit: str,
    quarter: Quarter,
    planned: list[str],
    reported: Mapping[str, date],
    now: datetime,
) -> Due | None:
    """A quarter over (Asia/Shanghai) without a cross-check report led by the unit."""
    if reported or shanghai_date(now) <= quarter.last_day:
        return None
    return Due(
        CROSS_CHECK_MISSING,
        unit,
        "unit",
        unit,
        quarter_label(quarter.year, quarter.quarter),
        {
            "year": quarter.year,
            "quarter": quarter.quarter,
            "quarter_ends_on": quarter.last_day.isoformat(),
            "planned_checked_units": sorted(planned),
        },
    )


def agency_finding(
    finding_id: str,
    unit: str,
    agency_unit: str,
    community_code: str,
    kind: str,
    kind_name: str,
    severity: str,
    legal_basis: str,
    found_at: datetime,
) -> Due:
    """The 智慧监督 record of an agency's failure found by inspection (E1–E3), once per
    finding: its subject is the finding, and it has no period (""). It belongs to the
    agency's unit when that is a unit of Putian, else (a township) to the community's."""
    responsible = agency_unit if agency_unit in UNITS else unit
    return Due(
        AGENCY_FINDING,
        responsible,
        "finding",
        finding_id,
        "",
        {
            "agency_unit": agency_unit or unit,
            "community_code": community_code,
            "kind": kind,
            # 智慧监督 reads Chinese: the code list's text (as the credit feeds carry it),
            # the producer's English name only for a code the list does not know.
            "kind_name": KINDS[kind].name_zh if kind in KINDS else kind_name,
            "severity": severity,
            "finding_legal_basis": legal_basis,
            "found_at": found_at.isoformat(),
        },
    )
