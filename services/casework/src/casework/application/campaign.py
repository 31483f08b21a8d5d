"""The campaign's read side (issue 13 items 3 and 8): each unit's progress in the stages of the
calendar (GetCampaignProgress), a submitted monthly report (GetMonthlyReport), the city's
monthly circular ranking the units (GetMonthlyCircular, ExportMonthlyCircular), and the
figures a monthly report is assembled from.

Everything is read from what casework keeps: the facts of the other services' events
(domain/campaign, domain/warnings), its own cases and warnings, the units' own records. The
calendar is `WarningRules.campaign` (vocabulary.campaign), judged on the application's
clock.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from casework.application import ledgers
from casework.application.access import POLICY, authorize, list_filter
from casework.domain.campaign.circular import (
    CHECK_RATE,
    DISCLOSURE_RATE,
    FEEDBACK_RATE,
    INDICATORS,
    RANKING_BASIS,
    RECTIFICATION_RATE,
    Rate,
    Standing,
    as_of,
    disclosure_quarter,
    standings,
)
from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.campaign.progress import (
    COUNTED,
    RECORDED_STAGES,
    STAGE_UNITS,
    WITH_CITY,
    UnitFacts,
    counts,
)
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.campaign.unit_campaign import UnitCampaign
from casework.domain.campaign.unit_communities import UnitCommunities
from casework.domain.case import Case
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases
from casework.domain.warnings.campaign_rules import UNIT_BEHIND_STAGE, stage_period
from casework.domain.warnings.periods import month_label
from casework.domain.warnings.plan_checks import PlanChecks
from casework.domain.warnings.rules import UNIT_BEHIND_QUOTA
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.domain.warnings.unit_inspections import UnitInspections
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.campaign import (
    MONTHLY_KEYS,
    PROVINCE_BRIEFING,
    SPOT_CHECKS,
    UNIT_REPORT,
    MonthlyDuty,
    Stage,
    YearCalendar,
    progress,
    shanghai_date,
)
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS, UNITS
from servicekit.errors import NotFound, RuleViolated, Validator
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

YEARS = (2020, 2100)


# -- loading the facts ---------------------------------------------------------------------------


def communities_of(app: CaseworkApplication, unit: str) -> dict[str, date]:
    facts = app.find(UnitCommunities.create_id(unit), UnitCommunities, read_only=True)
    return dict(facts.communities) if facts is not None else {}


def campaign_of(app: CaseworkApplication, unit: str, year: int) -> UnitCampaign | None:
    return app.find(UnitCampaign.create_id(unit, year), UnitCampaign, read_only=True)


def plan_checks(app: CaseworkApplication, unit: str, year: int) -> list[PlanChecks]:
    """The checks under the unit's yearly plan and the cross checks of its communities (the
    plans the pace counts for it)."""
    facts = app.find(UnitInspections.create_id(unit, year), UnitInspections, read_only=True)
    if facts is None:
        return []
    found = (app.find(PlanChecks.create_id(p), PlanChecks, read_only=True) for p in facts.plans)
    return [checks for checks in found if checks is not None]


def spot_checks(app: CaseworkApplication, unit: str, year: int) -> tuple[int, int]:
    """(checked, quota) of a unit's year as the pace counts them (sweeps.checked)."""
    facts = app.find(UnitInspections.create_id(unit, year), UnitInspections, read_only=True)
    if facts is None:
        return 0, 0
    communities = set(facts.checked)
    for checks in plan_checks(app, unit, year):
        communities.update(checks.checked)
    return len(communities), facts.quota


def unit_facts(app: CaseworkApplication, unit: str, year: int) -> UnitFacts:
    recorded: dict[str, date] = {}
    for stage in RECORDED_STAGES:
        record = app.find(StageRecord.create_id(unit, year, stage), StageRecord, read_only=True)
        if record is not None:
            recorded[stage] = shanghai_date(record.recorded_at)
    return UnitFacts(
        unit,
        communities_of(app, unit) if unit != CITY else {},
        campaign_of(app, unit, year),
        recorded,
        spot_checks(app, unit, year),
    )


def monthly_report(
    app: CaseworkApplication, duty: str, unit: str, year: int, month: int
) -> MonthlyReport | None:
    return app.find(MonthlyReport.create_id(duty, unit, year, month), MonthlyReport, read_only=True)


def open_warning(app: CaseworkApplication, warning_id: uuid.UUID) -> SupervisionWarning | None:
    return app.find(warning_id, SupervisionWarning, read_only=True)


# -- GetCampaignProgress -------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One unit in one stage on the day asked."""

    stage: Stage
    unit: str
    done: int
    expected: int
    expected_by_now: int
    tolerance_percent: int
    behind: bool
    by_pace: bool
    counted: str
    recorded_on: date | None
    warning: SupervisionWarning | None
    """The stage's warning about the unit (unit_behind_quota of this month for spot checks)."""


@dataclass(frozen=True)
class ReportRow:
    """One monthly duty of one unit for one month that has begun."""

    duty: str
    unit: str
    month: int
    due_on: date | None
    """None while the holiday calendar lacks the due day's year."""
    status: str
    """submitted, late (submitted after its due day), missing (due day over, none yet),
    pending (not due yet)."""
    report: MonthlyReport | None


@dataclass(frozen=True)
class CampaignProgress:
    year: int
    version: str
    as_of: datetime
    current_stages: list[str]
    stages: list[StageRow]
    reports: list[ReportRow]


def _validate_year(v: Validator, year: int) -> None:
    v.require(YEARS[0] <= year <= YEARS[1], "year", "year_range", "2020–2100", "年度不正确")


def campaign_progress(
    app: CaseworkApplication, identity: Identity, year: int, unit: str
) -> CampaignProgress:
    """Each unit's progress in each stage of the year's calendar on the application's day,
    with the monthly duties of the months begun: the unit asked for (none: the caller's
    unit; the city: every unit and its own). CampaignCalendarNotConfigured for a year the
    calendar lacks."""
    POLICY.admit("GetCampaignProgress", identity)
    v = Validator()
    _validate_year(v, year)
    v.require(not unit or unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    v.raise_if_any()
    scope = list_filter(POLICY, "GetCampaignProgress", identity, unit)
    units = [scope.unit] if scope.unit else list(WITH_CITY)
    calendar = app.warning_rules.campaign.year(year)
    now = app.clock()
    facts = {u: unit_facts(app, u, year) for u in units}
    rows = [
        _stage_row(app, stage, facts[u], now)
        for stage in calendar.stages
        for u in units
        if u in STAGE_UNITS[stage.key]
    ]
    reports = [row for u in units for row in _report_rows(app, calendar, u, now)]
    return CampaignProgress(
        year,
        calendar.version,
        now,
        [s.key for s in calendar.current_stages(shanghai_date(now))],
        rows,
        reports,
    )


def _stage_row(app: CaseworkApplication, stage: Stage, facts: UnitFacts, now: datetime) -> StageRow:
    done, expected = counts(stage, facts)
    (judged,) = progress(stage, now, {facts.unit: (done, expected)}, pace=app.warning_rules.pace)
    if stage.key == SPOT_CHECKS:
        warning_id = SupervisionWarning.create_id(UNIT_BEHIND_QUOTA, facts.unit, month_label(now))
    else:
        warning_id = SupervisionWarning.create_id(
            UNIT_BEHIND_STAGE, facts.unit, stage_period(stage)
        )
    return StageRow(
        stage,
        facts.unit,
        judged.done,
        judged.expected,
        judged.expected_by_now,
        judged.tolerance_percent,
        judged.behind,
        judged.by_pace,
        COUNTED[stage.key],
        facts.recorded.get(stage.key),
        open_warning(app, warning_id),
    )


def duties_of(calendar: YearCalendar, unit: str) -> list[MonthlyDuty]:
    """The monthly duties a unit has: a county-level unit reports to the city, the city
    briefs the province."""
    key = PROVINCE_BRIEFING if unit == CITY else UNIT_REPORT
    return [calendar.monthly[key]]


def _report_rows(
    app: CaseworkApplication, calendar: YearCalendar, unit: str, now: datetime
) -> list[ReportRow]:
    today = shanghai_date(now)
    rows = []
    for duty in duties_of(calendar, unit):
        for month in duty.months:
            if date(duty.year, month, 1) > today:
                break
            report = monthly_report(app, duty.key, unit, duty.year, month)
            try:
                due_on: date | None = duty.due_day(month)
                over = duty.due_passed(month, now)
            except NotConfigured:
                due_on, over = None, False
            if report is not None:
                status = "late" if report.late else "submitted"
            else:
                status = "missing" if over else "pending"
            rows.append(ReportRow(duty.key, unit, month, due_on, status, report))
    return rows


# -- the monthly figures ----------------------------------------------------------------------


FIGURES = (
    ("complaints_received", "受理投诉（件）"),
    ("rectification_cases_opened", "立整改案件（件）"),
    ("cases_closed", "办结案件（件）"),
    ("feedback_given", "反馈投诉人（件）"),
    ("typical_cases", "列为典型案例（件）"),
    ("typical_cases_published", "通报曝光典型案例（件）"),
    ("interviews", "约谈（次）"),
    ("police_referrals", "移送公安（件）"),
    ("problem_ledger_rows", "问题（线索）台账（条）"),
    ("work_ledger_rows", "工作台账（条）"),
    ("spot_checks", "实地抽查小区（个）"),
    ("township_inspections", "镇（街道）检查小区（个）"),
    ("self_inspections", "企业报自查自纠台账（个小区）"),
    ("rectifications_ordered", "责令整改（项）"),
    ("rectifications_verified", "整改验收（项）"),
    ("warnings_raised", "智慧监督预警（条）"),
)
"""The figures of a monthly report, in the order of its file, with their headings."""
_WORK_ACTIONS = {
    "受理": "complaints_received",
    "办结": "cases_closed",
    "反馈投诉人": "feedback_given",
    "列为典型案例": "typical_cases",
    "移送公安": "police_referrals",
}


def _in_month(day: date | None, year: int, month: int) -> bool:
    return day is not None and (day.year, day.month) == (year, month)


def month_figures(app: CaseworkApplication, unit: str, year: int, month: int) -> dict[str, int]:
    """What a county-level unit did in a month (Asia/Shanghai), from the ledgers casework
    keeps: its cases (the two ledgers, 双台账), the typical cases it published, the interviews
    in its ledger, its checks, its townships' inspections, its companies' self-inspections,
    the rectifications in its communities and the warnings about it."""
    figures = dict.fromkeys((key for key, _ in FIGURES), 0)
    app.read_model.catch_up()
    problems = 0
    for row in app.read_model.cases([unit], "", None, ""):
        case = app.case(row.case_id)
        if ledgers.received_in(case, year, month):
            problems += 1
            if case.kind == "rectification":
                figures["rectification_cases_opened"] += 1
        work = ledgers.work_rows(case, list(app.repository.event_store.get(case.id)), year, month)
        figures["work_ledger_rows"] += len(work)
        for line in work:
            key = _WORK_ACTIONS.get(line["action"])
            if key is not None and not (key == "complaints_received" and case.kind != "complaint"):
                figures[key] += 1
    figures["problem_ledger_rows"] = problems
    for checks in plan_checks(app, unit, year):
        figures["spot_checks"] += sum(
            1 for day in checks.checked_on.values() if _in_month(day, year, month)
        )
    campaign = campaign_of(app, unit, year)
    if campaign is not None:
        figures["township_inspections"] = len(campaign.township_months.get(month, set()))
        for key, days in (
            ("self_inspections", campaign.self_inspections.values()),
            ("rectifications_ordered", campaign.rectifications_ordered.values()),
            ("rectifications_verified", campaign.rectifications_verified.values()),
        ):
            figures[key] = sum(1 for day in days if _in_month(day, year, month))
    register = app.find(TypicalCases.create_id(year), TypicalCases, read_only=True)
    if register is not None:
        figures["typical_cases_published"] = sum(
            1
            for entry in register.published.values()
            if entry["unit"] == unit and _in_month(entry["published_on"], year, month)
        )
    ledger = app.find(InterviewLedger.create_id(unit, year), InterviewLedger, read_only=True)
    if ledger is not None:
        figures["interviews"] = sum(
            1 for entry in ledger.interviews if _in_month(entry["held_on"], year, month)
        )
    figures["warnings_raised"] = sum(
        1
        for w in app.read_model.warnings([unit], "", True)
        if _in_month(w.raised_at.astimezone(SHANGHAI).date(), year, month)
    )
    return figures


def briefing_figures(app: CaseworkApplication, year: int, month: int) -> dict[str, int]:
    """The city's month: every county-level unit's figures summed."""
    total: Counter[str] = Counter(dict.fromkeys((key for key, _ in FIGURES), 0))
    for unit in COUNTY_UNITS:
        total.update(month_figures(app, unit, year, month))
    return dict(total)


def reported_units(app: CaseworkApplication, year: int, month: int) -> list[str]:
    """The county-level units whose report of the month is in."""
    return [u for u in COUNTY_UNITS if monthly_report(app, UNIT_REPORT, u, year, month)]


# -- GetMonthlyReport ------------------------------------------------------------------------------


def monthly_report_view(
    app: CaseworkApplication, identity: Identity, duty: str, unit: str, year: int, month: int
) -> MonthlyReport:
    """A submitted report, for those who may read its unit's (the briefing: the city's)."""
    POLICY.admit("GetMonthlyReport", identity)
    v = Validator()
    v.require(
        duty in MONTHLY_KEYS,
        "duty",
        "unknown_duty",
        "unit_report or province_briefing",
        "报送类型不正确",
    )
    v.require(unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    _validate_month(v, year, month)
    v.raise_if_any()
    authorize(POLICY, "GetMonthlyReport", identity, Resource(unit=unit))
    report = monthly_report(app, duty, unit, year, month)
    if report is None:
        raise NotFound("no such report has been submitted", "该月报送尚未提交")
    return report


def _validate_month(v: Validator, year: int, month: int) -> None:
    _validate_year(v, year)
    v.require(1 <= month <= 12, "month", "month_range", "1–12", "月份不正确")


# -- GetMonthlyCircular ------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyCircular:
    year: int
    month: int
    as_of: datetime
    disclosure_quarter: str
    standings: list[Standing]
    report_status: dict[str, str]
    """Unit → its monthly report's status (submitted, late, missing, pending)."""


def monthly_circular(
    app: CaseworkApplication, identity: Identity, year: int, month: int
) -> MonthlyCircular:
    """The city's circular of a campaign month: the seven county-level units ranked on the
    plan's indicators (domain/campaign/circular.py), at the month's end (now while it runs).
    NotACampaignMonth for a month the campaign does not report in."""
    POLICY.admit("GetMonthlyCircular", identity)
    v = Validator()
    _validate_month(v, year, month)
    v.raise_if_any()
    authorize(POLICY, "GetMonthlyCircular", identity, Resource(unit=CITY))
    duty = app.warning_rules.campaign.monthly(year, UNIT_REPORT)
    duty.nominal_due_day(month)  # NotACampaignMonth outside the campaign's months
    now = app.clock()
    if shanghai_date(now) < date(year, month, 1):
        raise RuleViolated(
            f"{year}-{month:02d} has not begun: there is nothing to circulate yet",
            "该月尚未开始，无法通报",
        )
    at = as_of(year, month, now)
    last_day = shanghai_date(at - timedelta(microseconds=1))
    quarter = disclosure_quarter(at)
    rates: dict[str, dict[str, Rate]] = {}
    status: dict[str, str] = {}
    cases = _complaints(app)
    for unit in COUNTY_UNITS:
        registered = {c for c, on in communities_of(app, unit).items() if on <= last_day}
        disclosed = campaign_of(app, unit, quarter.year)
        filed = (
            {
                c
                for c, on in disclosed.disclosures.get(quarter.quarter, {}).items()
                if on <= last_day
            }
            if disclosed
            else set()
        )
        checked: set[str] = set()
        for checks in plan_checks(app, unit, year):
            checked |= checks.checked_by(last_day)
        this_year = campaign_of(app, unit, year)
        ordered = (
            {f for f, on in this_year.rectifications_ordered.items() if on <= last_day}
            if this_year
            else set()
        )
        verified = (
            {f for f, on in this_year.rectifications_verified.items() if on <= last_day}
            if this_year
            else set()
        )
        rates[unit] = {
            DISCLOSURE_RATE: Rate(len(filed & registered), len(registered)),
            CHECK_RATE: Rate(len(checked & registered), len(registered)),
            RECTIFICATION_RATE: Rate(len(ordered & verified), len(ordered)),
            FEEDBACK_RATE: _feedback_rate(cases.get(unit, []), year, at),
        }
        status[unit] = _status(app, duty, unit, month, now)
    return MonthlyCircular(year, month, at, str(quarter), standings(rates), status)


def _status(
    app: CaseworkApplication, duty: MonthlyDuty, unit: str, month: int, now: datetime
) -> str:
    report = monthly_report(app, duty.key, unit, duty.year, month)
    if report is not None:
        return "late" if report.late else "submitted"
    # A due day the holiday calendar lacks raises here: the circular's quarter needed it too.
    return "missing" if duty.due_passed(month, now) else "pending"


@dataclass(frozen=True)
class _Complaint:
    received_at: datetime
    due_at: datetime
    feedback_at: datetime | None


def _complaints(app: CaseworkApplication) -> dict[str, list[_Complaint]]:
    """Every complaint case by unit: when received, its time limit, when fed back."""
    app.read_model.catch_up()
    found: dict[str, list[_Complaint]] = {}
    for row in app.read_model.cases(list(COUNTY_UNITS), "", None, ""):
        if row.kind != "complaint":
            continue
        case = app.case(row.case_id)
        feedback = next(
            (
                e.timestamp
                for e in app.repository.event_store.get(case.id)
                if isinstance(e, Case.FeedbackGiven)
            ),
            None,
        )
        found.setdefault(case.unit, []).append(_Complaint(case.received_at, case.due_at, feedback))
    return found


def _feedback_rate(complaints: Iterable[_Complaint], year: int, at: datetime) -> Rate:
    """Of the complaints received in the year before `at`, those fed back by `at` over those
    fed back or past their time limit at `at` (circular.FEEDBACK_RATE)."""
    given = due = 0
    for c in complaints:
        if c.received_at.astimezone(SHANGHAI).year != year or c.received_at >= at:
            continue
        fed = c.feedback_at is not None and c.feedback_at < at
        if fed or c.due_at <= at:
            due += 1
            given += fed
    return Rate(given, due)


CIRCULAR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("overall_rank", "综合名次"),
    ("unit", "单位"),
    *(
        column
        for indicator in INDICATORS
        for column in (
            (f"{indicator.key}_numerator", f"{indicator.name}（分子）"),
            (f"{indicator.key}_denominator", f"{indicator.name}（分母）"),
            (f"{indicator.key}_percent", f"{indicator.name}（%）"),
            (f"{indicator.key}_rank", f"{indicator.name}名次"),
        )
    ),
    ("report_status", "月度报送"),
)
"""The circular's table, in the order of its file."""
BASIS_COLUMNS = (("item", "项目"), ("basis", "依据"))
_STATUS_ZH = {"submitted": "按时报送", "late": "逾期报送", "missing": "未报送", "pending": "未到期"}


def percent(rate: Rate) -> str:
    """12.34: a rate as a percentage with two decimals, exact (rounded down); "" when there is
    nothing to count."""
    bp = rate.basis_points
    return "" if bp is None else f"{bp // 100}.{bp % 100:02d}"


def circular_rows(circular: MonthlyCircular) -> list[dict[str, Any]]:
    rows = []
    for s in circular.standings:
        row: dict[str, Any] = {"overall_rank": s.overall_rank, "unit": UNITS[s.unit][0]}
        for indicator in INDICATORS:
            rate = s.rates[indicator.key]
            row[f"{indicator.key}_numerator"] = rate.numerator
            row[f"{indicator.key}_denominator"] = rate.denominator
            row[f"{indicator.key}_percent"] = percent(rate)
            row[f"{indicator.key}_rank"] = s.ranks[indicator.key]
        row["report_status"] = _STATUS_ZH.get(circular.report_status[s.unit], "")
        rows.append(row)
    return rows


def basis_rows(circular: MonthlyCircular) -> list[dict[str, Any]]:
    """Where each indicator and the ranking come from, and when the circular was judged."""
    rows: list[dict[str, Any]] = [
        {"item": indicator.name, "basis": indicator.basis} for indicator in INDICATORS
    ]
    rows.append({"item": "排名规则", "basis": RANKING_BASIS})
    rows.append({"item": "统计时点", "basis": circular.as_of.astimezone(SHANGHAI).isoformat()})
    rows.append({"item": "公示率所依季度", "basis": circular.disclosure_quarter})
    return rows
