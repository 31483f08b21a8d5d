"""The read side of casework: a case, lists of cases and warnings, the monthly ledgers
(双台账), the recorded reads of complainants' personal data, the owners' and the public's
reads (typical cases, interviews, a community's complaints), and the campaign's (issue 13
items 3 and 8): each unit's progress in the calendar's stages (GetCampaignProgress), a
submitted monthly report (GetMonthlyReport), the city's monthly circular ranking the units
(GetMonthlyCircular, ExportMonthlyCircular) and the figures a monthly report is assembled
from (SubmitMonthlyReport's handler and the calendar's sweep read them here).

Every query admits the caller and reads only what its grant's scope opens (access.POLICY),
before any I/O. The queries that read the read model (ListCases, ListWarnings,
ListCommunityComplaints, ExportMonthlyLedgers, the monthly circular) are coroutines run on
the servicer's loop (issue 14 goal 7): they make the read model current first, so a caller
reads its own writes, and read it on asyncpg without a thread hop; what they load from the
event store besides (cases, the campaign's facts) is loaded in a thread, the event store
staying on psycopg. The other queries read aggregates only and stay synchronous (the
servicer runs them in a thread), as do the figures SubmitMonthlyReport's handler and the
sweeps read here. The
campaign is read from what casework keeps: the facts of the other services' events
(domain/campaign, domain/warnings), its own cases and warnings, the units' own records; the
calendar is `WarningRules.campaign` (vocabulary.campaign), judged on the application's
clock.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from casework.application.access import POLICY, authorize, case_facts, list_filter, warning_facts
from casework.application.ports import CaseRow, PersonalDataRead, WarningRow
from casework.domain import reporting
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
from pubrev_contracts.vocabulary.agencies import SUBJECT_PATTERNS, SubjectKind
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
from pubrev_contracts.vocabulary.identifiers import (
    COMMUNITY_CODE_DESCRIPTION,
    COMMUNITY_CODE_DESCRIPTION_ZH,
    is_community_code,
)
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS, UNITS
from servicekit.attachments import AttachmentRef
from servicekit.errors import NotFound, RuleViolated, Validator
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

POLICE_OFFICE = re.compile(SUBJECT_PATTERNS[SubjectKind.POLICE_OFFICE])
READS_PAGE_MAX = 1000


@dataclass(frozen=True)
class CaseView:
    """A case as its readers see it: never the complainant's name and phone, which only
    ReadComplainant discloses, with a purpose, recorded."""

    case: Case
    overdue: bool


@dataclass(frozen=True)
class MonthlyLedgers:
    """双台账 of a unit and month, with the day they are due at the city (plan 六（四）)."""

    problems: list[dict[str, Any]]
    work: list[dict[str, Any]]
    due_on: date
    due_legal_basis: str


def case_view(app: CaseworkApplication, identity: Identity, case_id: str) -> CaseView:
    """GetCase: for those who may read the case; to anyone else it does not exist."""
    POLICY.admit("GetCase", identity)
    case = app.case(case_id)
    if POLICY.decide("GetCase", identity, case_facts(case)) is None:
        raise NotFound(f"case {case_id[:40]} does not exist", "案件不存在")
    return CaseView(case, case.is_overdue(app.clock()))


async def list_cases(
    app: CaseworkApplication,
    identity: Identity,
    unit: str,
    status: str,
    overdue_only: bool,
    police_office: str = "",
) -> list[CaseRow]:
    """Cases of the unit (and police office) asked for; what is not asked is forced from
    the caller's grant: a county's are its unit's, the police's their referrals."""
    POLICY.admit("ListCases", identity)
    v = Validator()
    v.require(
        not unit or unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        "a county-level unit",
        "承办单位不正确",
    )
    v.require(
        not police_office or POLICE_OFFICE.fullmatch(police_office) is not None,
        "police_office",
        "police_office_format",
        "a police office's name",
        "公安机关名称格式错误",
    )
    v.raise_if_any()
    scope = list_filter(POLICY, "ListCases", identity, unit, police_office)
    await app.read_model.current()
    units = [scope.unit] if scope.unit else list(COUNTY_UNITS)
    return await app.read_model.query_cases(
        units, status, app.clock() if overdue_only else None, scope.office
    )


async def list_warnings(
    app: CaseworkApplication, identity: Identity, unit: str, rule: str, include_closed: bool
) -> list[WarningRow]:
    """Warnings of the unit asked for; none asked: the caller's unit (the city: every
    unit's and the city's own)."""
    POLICY.admit("ListWarnings", identity)
    v = Validator()
    v.require(not unit or unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    v.raise_if_any()
    scope = list_filter(POLICY, "ListWarnings", identity, unit)
    await app.read_model.current()
    units = [scope.unit] if scope.unit else [*COUNTY_UNITS, CITY]
    return await app.read_model.query_warnings(units, rule, include_closed)


def warning_view(
    app: CaseworkApplication, identity: Identity, warning_id: str
) -> SupervisionWarning:
    """One warning, for those who may read it (ListWarnings' rule)."""
    POLICY.admit("ListWarnings", identity)
    warning = app.warning(warning_id)
    # County-level discipline commissions exist (县纪委监委) and are bound to their unit
    # like everyone else (DOMAIN.md §2); the city's see every unit.
    authorize(POLICY, "ListWarnings", identity, warning_facts(warning))
    return warning


async def monthly_ledgers(
    app: CaseworkApplication, identity: Identity, unit: str, year: int, month: int
) -> MonthlyLedgers:
    """The problem/lead ledger and the work ledger of a unit for a month (Shanghai), and
    the day they are due at the city. CalendarNotConfigured (FAILED_PRECONDITION) for a
    month of a year the holiday calendar lacks: the due date is never guessed."""
    POLICY.admit("ExportMonthlyLedgers", identity)
    v = Validator()
    v.require(unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit", "单位不正确")
    v.require(2020 <= year <= 2100, "year", "year_range", "2020–2100", "年度不正确")
    v.require(1 <= month <= 12, "month", "month_range", "1–12", "月份不正确")
    v.raise_if_any()
    authorize(POLICY, "ExportMonthlyLedgers", identity, Resource(unit=unit))
    due_on = reporting.monthly_report_due(year, month)
    await app.read_model.current()
    rows = await app.read_model.query_cases([unit], "", None, "")
    problems, work = await asyncio.to_thread(_ledgers, app, rows, year, month)
    return MonthlyLedgers(problems, work, due_on, reporting.LEGAL_BASIS)


def _ledgers(
    app: CaseworkApplication, rows: list[CaseRow], year: int, month: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The two ledgers' lines of the unit's cases (loaded from the event store)."""
    problems: list[dict[str, Any]] = []
    work: list[dict[str, Any]] = []
    for row in rows:
        case = app.case(row.case_id)
        if received_in(case, year, month):
            problems.append(problem_row(case))
        events = list(app.repository.event_store.get(case.id))
        work += work_rows(case, events, year, month)
    problems.sort(key=lambda r: (r["received_on"], r["case_id"]))
    work.sort(key=lambda r: (r["date"], r["case_id"]))
    return problems, work


def list_personal_data_reads(
    app: CaseworkApplication,
    identity: Identity,
    unit: str,
    case_id: str,
    since: datetime | None,
    until: datetime | None,
    after_read_id: int,
    limit: int,
) -> list[PersonalDataRead]:
    """The recorded reads of complainants' personal data, oldest first, of a unit (none
    asked: every unit), a case, a period [since, until); paged by the last read id."""
    POLICY.admit("ListPersonalDataReads", identity)
    v = Validator()
    v.require(
        not unit or unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        "a county-level unit",
        "承办单位不正确",
    )
    v.require(
        not case_id or _is_uuid(case_id),
        "case_id",
        "case_id_format",
        "a case id (UUID)",
        "案件编号格式错误",
    )
    for name, value in (("since", since), ("until", until)):
        v.require(
            value is None or value.tzinfo is not None,
            name,
            "time_format",
            "RFC 3339 with offset",
            "时间格式错误",
        )
    if since and until and since.tzinfo and until.tzinfo:
        v.require(
            since <= until, "until", "before_since", "not before since", "截止时间不能早于起始时间"
        )
    v.require(
        after_read_id >= 0, "after_read_id", "non_negative", "0 or a read id", "分页位置不能为负"
    )
    v.require(
        0 <= limit <= READS_PAGE_MAX,
        "limit",
        "limit_range",
        f"0 (100) to {READS_PAGE_MAX}",
        f"每页条数为0至{READS_PAGE_MAX}",
    )
    v.raise_if_any()
    authorize(POLICY, "ListPersonalDataReads", identity, Resource(unit=unit))
    units = [unit] if unit else list(COUNTY_UNITS)
    return app.read_log.reads(
        units,
        str(uuid.UUID(case_id)) if case_id else "",
        since,
        until,
        after_read_id,
        limit or 100,
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# -- issue 13 (part A): typical cases published, the interview ledgers ----------------------


@dataclass(frozen=True)
class PublishedCase:
    """A typical case as published (通报曝光): the public record."""

    case_id: str
    unit: str
    title: str
    summary: str
    company_uscc: str
    published_on: date
    category: str


@dataclass(frozen=True)
class InterviewEntry:
    """One interview of a unit's ledger (约谈台账)."""

    interview_id: str
    unit: str
    interviewer_unit: str
    subject_kind: str
    subject: str
    reason: str
    warning_ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    held_on: date
    outcome: str
    evidence: tuple[AttachmentRef, ...]
    recorded_at: datetime


def list_typical_cases(
    app: CaseworkApplication, identity: Identity, year: int, unit: str = ""
) -> list[PublishedCase]:
    """The typical cases published in a year (of a unit, or all), by day of publication: a
    public record, for the public (every unit's) and the staff of the unit (none asked: a
    county's own; the city's, all)."""
    POLICY.admit("ListTypicalCases", identity)
    v = Validator()
    v.require(2020 <= year <= 2100, "year", "year_range", "2020–2100", "年度不正确")
    v.require(
        not unit or unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        "a county-level unit",
        "单位不正确",
    )
    v.raise_if_any()
    asked = Resource(unit=unit, published=True)
    if not unit and POLICY.decide("ListTypicalCases", identity, asked) is None:
        asked = Resource(unit=identity.unit, published=True)  # a county's staff: its own
    authorize(POLICY, "ListTypicalCases", identity, asked)
    unit = asked.unit
    register = app.find(TypicalCases.create_id(year), TypicalCases)
    entries = [] if register is None else list(register.published.values())
    return sorted(
        (PublishedCase(**entry) for entry in entries if not unit or entry["unit"] == unit),
        key=lambda p: (p.published_on, p.case_id),
    )


def list_interviews(
    app: CaseworkApplication, identity: Identity, unit: str, year: int
) -> list[InterviewEntry]:
    """The interview ledger of a unit and year (none asked: the caller's unit; the city:
    every unit's and its own), by day held."""
    POLICY.admit("ListInterviews", identity)
    v = Validator()
    v.require(not unit or unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    v.require(2020 <= year <= 2100, "year", "year_range", "2020–2100", "年度不正确")
    v.raise_if_any()
    scope = list_filter(POLICY, "ListInterviews", identity, unit)
    entries: list[InterviewEntry] = []
    for each in [scope.unit] if scope.unit else [*COUNTY_UNITS, CITY]:
        ledger = app.find(InterviewLedger.create_id(each, year), InterviewLedger)
        for row in [] if ledger is None else ledger.interviews:
            entries.append(
                InterviewEntry(
                    interview_id=row["interview_id"],
                    unit=each,
                    interviewer_unit=row["interviewer_unit"],
                    subject_kind=row["subject_kind"],
                    subject=row["subject"],
                    reason=row["reason"],
                    warning_ids=tuple(row["warning_ids"]),
                    finding_ids=tuple(row["finding_ids"]),
                    held_on=row["held_on"],
                    outcome=row["outcome"],
                    evidence=tuple(AttachmentRef.from_dict(e) for e in row["evidence"]),
                    recorded_at=row["recorded_at"],
                )
            )
    return sorted(entries, key=lambda e: (e.held_on, e.recorded_at, e.interview_id))


COMMUNITY_COMPLAINTS_SHOWN = 100
"""The latest complaints a community's owners are shown: local configuration (no source
sets a number), a bound on what one call reads."""


@dataclass(frozen=True)
class CommunityComplaint:
    """A complaint about a community as its owners see it: its course, never who complained
    or what they wrote; the result once the complainant was told it."""

    channel: str
    category: str
    status: str
    received_at: datetime
    due_at: datetime
    feedback_given: bool
    result: str
    closed_at: datetime | None


async def list_community_complaints(
    app: CaseworkApplication, identity: Identity, community_code: str
) -> list[CommunityComplaint]:
    """The complaints about a community, latest due first (COMMUNITY_COMPLAINTS_SHOWN at
    most), for its owners and committee (issue 13 item 5: owners see the status of their
    community's complaints)."""
    POLICY.admit("ListCommunityComplaints", identity)
    v = Validator()
    v.require(
        is_community_code(community_code),
        "community_code",
        "code_format",
        COMMUNITY_CODE_DESCRIPTION,
        COMMUNITY_CODE_DESCRIPTION_ZH,
    )
    v.raise_if_any()
    authorize(POLICY, "ListCommunityComplaints", identity, Resource(community=community_code))
    await app.read_model.current()
    ids = await app.read_model.complaints_about(community_code, COMMUNITY_COMPLAINTS_SHOWN)
    if not ids:
        return []
    cases = await asyncio.to_thread(lambda: [app.case(case_id) for case_id in ids])
    return [
        CommunityComplaint(
            channel=case.channel,
            category=case.category,
            status=case.status,
            received_at=case.received_at,
            due_at=case.due_at if case.due_provisional else case.deadline(),
            feedback_given=case.feedback_given,
            result=case.result_told,
            closed_at=case.closed_at,
        )
        for case in cases
    ]


# -- the monthly ledgers (双台账) ------------------------------------------------------------
# A county-level unit reports them by the 25th (DOMAIN.md §9; the due date:
# casework.domain.reporting): the problem/lead ledger (问题线索台账: every case received in
# the month) and the work ledger (工作台账: what was done in the month, one line per action).

PROBLEM_COLUMNS = (
    ("case_id", "编号"),
    ("kind", "类型"),
    ("channel", "来源渠道"),
    ("received_on", "受理日期"),
    ("community_code", "小区编码"),
    ("company_uscc", "物业服务企业统一社会信用代码"),
    ("category", "问题类别"),
    ("status", "办理状态"),
    ("due_on", "办理时限"),
    ("result", "处理结果"),
    ("feedback_given", "已反馈投诉人"),
    ("police", "移送公安"),
    ("closed_on", "办结日期"),
)
WORK_COLUMNS = (
    ("date", "日期"),
    ("case_id", "案件编号"),
    ("action", "工作事项"),
    ("detail", "说明"),
)
DUE_COLUMNS = (("due_on", "报送期限"), ("legal_basis", "依据"))
"""The line that says when the month's ledgers are due at the city (casework.domain.reporting)."""
_ACTIONS = {
    "Received": "受理",
    "Assigned": "交办",
    "InvestigationStarted": "调查核实",
    "Resolved": "形成处理结果",
    "FeedbackGiven": "反馈投诉人",
    "Closed": "办结",
    "JointMeetingRecorded": "召开联席会议",
    "FlaggedTypical": "列为典型案例",
    "ReferredToPolice": "移送公安",
    "PoliceAcknowledged": "公安签收",
    "PoliceOutcomeReported": "公安反馈结果",
    "PersonalDataShredded": "个人信息销毁",
}


def _month(value: datetime) -> tuple[int, int]:
    local = value.astimezone(SHANGHAI)
    return local.year, local.month


def _day(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).date().isoformat() if value else ""


def problem_row(case: Case) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "kind": {"complaint": "投诉", "rectification": "整改"}.get(case.kind, case.kind),
        "channel": case.channel,
        "received_on": _day(case.received_at),
        "community_code": case.community_code,
        "company_uscc": case.company_uscc,
        "category": case.category,
        "status": case.status,
        "due_on": _day(case.due_at),
        "result": case.result,
        "feedback_given": "是" if case.feedback_given else "否",
        "police": case.police_office,
        "closed_on": _day(case.closed_at),
    }


def work_rows(case: Case, events: list[Any], year: int, month: int) -> list[dict[str, Any]]:
    rows = []
    for e in events:
        name = type(e).__name__
        # A complaint counts from when it was received (possibly before it was recorded);
        # every other action from when it was recorded.
        when = e.received_at if name == "Received" else e.timestamp
        if name in _ACTIONS and _month(when) == (year, month):
            detail = (
                getattr(e, "result", "")
                or getattr(e, "decision", "")
                or getattr(e, "outcome", "")
                or getattr(e, "reason", "")
            )
            rows.append(
                {
                    "date": _day(when),
                    "case_id": str(case.id),
                    "action": _ACTIONS[name],
                    "detail": detail,
                }
            )
    return rows


def received_in(case: Case, year: int, month: int) -> bool:
    return _month(case.received_at) == (year, month)


# -- the campaign (issue 13 items 3 and 8) ----------------------------------------------------

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
    """(checked, quota) of a unit's year as the pace counts them."""
    facts = app.find(UnitInspections.create_id(unit, year), UnitInspections, read_only=True)
    if facts is None:
        return 0, 0
    return checked_communities(app, facts), facts.quota


def checked_communities(app: CaseworkApplication, facts: UnitInspections) -> int:
    """The distinct communities checked in a unit's year, under its yearly plan and by the
    cross checks of its communities: what the pace counts (the progress of the spot-check
    stage and the quota-pace sweep alike)."""
    communities = set(facts.checked)
    for checks in plan_checks(app, facts.unit, facts.year):
        communities.update(checks.checked)
    return len(communities)


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
        app.warning_rules.campaign.year(year).counted_from,
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
        if received_in(case, year, month):
            problems += 1
            if case.kind == "rectification":
                figures["rectification_cases_opened"] += 1
        work = work_rows(case, list(app.repository.event_store.get(case.id)), year, month)
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


async def monthly_circular(
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
    await app.read_model.current()
    rows = await app.read_model.query_cases(list(COUNTY_UNITS), "", None, "")
    complaints = [row for row in rows if row.kind == "complaint"]
    return await asyncio.to_thread(_circular, app, duty, year, month, now, complaints)


def _circular(
    app: CaseworkApplication,
    duty: MonthlyDuty,
    year: int,
    month: int,
    now: datetime,
    complaints: list[CaseRow],
) -> MonthlyCircular:
    """The circular from the campaign's facts and the complaint cases (loaded from the
    event store)."""
    at = as_of(year, month, now)
    last_day = shanghai_date(at - timedelta(microseconds=1))
    quarter = disclosure_quarter(at)
    rates: dict[str, dict[str, Rate]] = {}
    status: dict[str, str] = {}
    cases = _complaints(app, complaints)
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


def _complaints(app: CaseworkApplication, rows: list[CaseRow]) -> dict[str, list[_Complaint]]:
    """The complaint cases by unit: when received, its time limit, when fed back."""
    found: dict[str, list[_Complaint]] = {}
    for row in rows:
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
