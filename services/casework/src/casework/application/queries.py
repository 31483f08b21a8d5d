"""The read side of casework: a case, lists of cases and warnings, the monthly ledgers, the
recorded reads of complainants' personal data. Every query admits the caller and reads
only what its grant's scope opens (access.POLICY); the lists read the read model after
catching it up, so a caller reads its own writes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from casework.application import ledgers
from casework.application.access import (
    POLICY,
    authorize,
    case_facts,
    list_filter,
    warning_facts,
)
from casework.application.ports import CaseRow, PersonalDataRead, WarningRow
from casework.domain import reporting
from casework.domain.case import Case
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.vocabulary.agencies import SUBJECT_PATTERNS, SubjectKind
from pubrev_contracts.vocabulary.identifiers import (
    COMMUNITY_CODE_DESCRIPTION,
    COMMUNITY_CODE_DESCRIPTION_ZH,
    is_community_code,
)
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS, UNITS
from servicekit.attachments import AttachmentRef
from servicekit.errors import NotFound, Validator
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


def list_cases(
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
    app.read_model.catch_up()
    units = [scope.unit] if scope.unit else list(COUNTY_UNITS)
    return app.read_model.cases(units, status, app.clock() if overdue_only else None, scope.office)


def list_warnings(
    app: CaseworkApplication, identity: Identity, unit: str, rule: str, include_closed: bool
) -> list[WarningRow]:
    """Warnings of the unit asked for; none asked: the caller's unit (the city: every
    unit's and the city's own)."""
    POLICY.admit("ListWarnings", identity)
    v = Validator()
    v.require(not unit or unit in UNITS, "unit", "unknown_unit", "a unit of Putian", "单位不正确")
    v.raise_if_any()
    scope = list_filter(POLICY, "ListWarnings", identity, unit)
    app.read_model.catch_up()
    units = [scope.unit] if scope.unit else [*COUNTY_UNITS, CITY]
    return app.read_model.warnings(units, rule, include_closed)


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


def monthly_ledgers(
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
    app.read_model.catch_up()
    problems: list[dict[str, Any]] = []
    work: list[dict[str, Any]] = []
    for row in app.read_model.cases([unit], "", None, ""):
        case = app.case(row.case_id)
        if ledgers.received_in(case, year, month):
            problems.append(ledgers.problem_row(case))
        events = list(app.repository.event_store.get(case.id))
        work += ledgers.work_rows(case, events, year, month)
    problems.sort(key=lambda r: (r["received_on"], r["case_id"]))
    work.sort(key=lambda r: (r["date"], r["case_id"]))
    return MonthlyLedgers(problems, work, due_on, reporting.LEGAL_BASIS)


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


def list_community_complaints(
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
    app.read_model.catch_up()
    cases = [
        app.case(case_id)
        for case_id in app.read_model.complaints_about(community_code, COMMUNITY_COMPLAINTS_SHOWN)
    ]
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
