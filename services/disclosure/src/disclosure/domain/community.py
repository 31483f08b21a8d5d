"""小区 (Community): a residential community under one supervising unit, managed by one
property company at a time, with the facilities the campaign checks (DOMAIN.md §2).

Its rules:
- it lies in one of the seven county-level units and in a Fujian division (35xxxx), with at
  least one household and no negative count of lifts or barrier gates;
- a handover names another company than the one in charge, on an ISO date;
- each quarter's disclosure is the duty of the company in charge on the quarter's last day
  (`company_for`; 《民法典》第九百四十三条), and a quarter without one becomes overdue only once
  its deadline has passed (DOMAIN.md §3), charged to that company, once.
"""

from __future__ import annotations

import bisect
import re
import uuid
from datetime import date, datetime

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from disclosure.domain.ids import NAMESPACE
from disclosure.domain.property_company import PropertyCompany
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured, Quarter
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import FieldViolation, RuleViolated, Validator

DIVISION = re.compile(r"35[0-9]{4}")
"""A Fujian administrative division code (GB/T 2260): Putian's are 3503xx (DOMAIN.md §1)."""


class Community(Aggregate):
    """A residential community under one supervising unit, managed by one property company."""

    class Registered(Aggregate.Created):
        code: str
        name: str
        address: str
        unit: str
        division_code: str
        township: str
        company_uscc: str
        company_name: str
        signboard_at_main_entrance: bool
        elevator_count: int
        barrier_gate_count: int
        has_leasable_space: bool
        household_count: int
        registered_at: datetime

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        address: str,
        unit: str,
        division_code: str,
        township: str,
        company_uscc: str,
        company_name: str,
        signboard_at_main_entrance: bool,
        elevator_count: int,
        barrier_gate_count: int,
        has_leasable_space: bool,
        household_count: int,
        registered_at: datetime,
    ) -> None:
        self.code = code
        self.name = name
        self.address = address
        self.unit = unit
        self.division_code = division_code
        self.township = township
        self.company_uscc = company_uscc
        self.company_name = company_name
        self.signboard_at_main_entrance = signboard_at_main_entrance
        self.elevator_count = elevator_count
        self.barrier_gate_count = barrier_gate_count
        self.has_leasable_space = has_leasable_space
        self.household_count = household_count
        self.registered_at = registered_at

        self.overdue_quarters: list[str] = []
        self.companies: list[tuple[str, str]] = [(company_uscc, "")]
        """Every company that managed the community, with the date it took over."""

    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"community:{code}")

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        address: str,
        unit: str,
        division_code: str,
        township: str,
        company: PropertyCompany,
        company_name: str,
        signboard_at_main_entrance: bool,
        elevator_count: int,
        barrier_gate_count: int,
        has_leasable_space: bool,
        household_count: int,
        registered_at: datetime,
    ) -> Community:
        """Registers a community managed by a registered company (`company_name` as the
        registrar wrote it). InvalidArgument as `check_registration` says."""
        v = Validator()
        v.violations.extend(
            cls.check_registration(
                unit, division_code, elevator_count, barrier_gate_count, household_count
            )
        )
        v.raise_if_any()
        return cls(
            code=code,
            name=name,
            address=address,
            unit=unit,
            division_code=division_code,
            township=township,
            company_uscc=company.uscc,
            company_name=company_name,
            signboard_at_main_entrance=signboard_at_main_entrance,
            elevator_count=elevator_count,
            barrier_gate_count=barrier_gate_count,
            has_leasable_space=has_leasable_space,
            household_count=household_count,
            registered_at=registered_at,
        )

    @staticmethod
    def check_registration(
        unit: str,
        division_code: str,
        elevator_count: int,
        barrier_gate_count: int,
        household_count: int,
    ) -> list[FieldViolation]:
        """Where a community lies and what it has (the handler asks before it reads
        anything, so every bad field comes back at once; `register` refuses the same)."""
        v = Validator()
        v.require(
            unit in COUNTY_UNITS,
            "unit",
            "unknown_unit",
            f"unit must be one of {', '.join(COUNTY_UNITS)}",
            "监管单位不在莆田市七个县区（管委会）之列",
        )
        v.require(
            DIVISION.fullmatch(division_code) is not None,
            "division_code",
            "division_format",
            "a 6-digit Fujian division code (35xxxx)",
            "行政区划代码须为35开头的6位数字",
        )
        for field, count in (
            ("elevator_count", elevator_count),
            ("barrier_gate_count", barrier_gate_count),
        ):
            v.require(count >= 0, field, "non_negative", "must be >= 0", "不能为负数")
        v.require(
            household_count >= 1,
            "household_count",
            "positive",
            "a community has at least one household",
            "户数须大于0",
        )
        return v.violations

    # -- handover ----------------------------------------------------------------------------

    class CompanyChanged(Aggregate.Event):
        unit: str
        code: str
        previous_uscc: str
        new_uscc: str
        new_company_name: str
        effective_date: str
        reason: str

    def change_company(self, company: PropertyCompany, effective_date: str, reason: str) -> None:
        """Hands the community to another registered company from `effective_date` (00:00);
        every earlier company stays in `companies`."""
        v = Validator()
        v.violations.extend(self.check_handover(effective_date))
        v.raise_if_any()
        if company.uscc == self.company_uscc:
            raise RuleViolated(
                f"community {self.code} is already managed by {company.uscc}",
                f"小区 {self.code} 已由该企业服务",
            )
        self._company_changed(
            unit=self.unit,
            code=self.code,
            previous_uscc=self.company_uscc,
            new_uscc=company.uscc,
            new_company_name=company.name,
            effective_date=effective_date,
            reason=reason,
        )

    @staticmethod
    def check_handover(effective_date: str) -> list[FieldViolation]:
        """The effective date is an ISO date: `company_for` orders handovers by its text."""
        v = Validator()
        v.require(
            _is_date(effective_date),
            "effective_date",
            "date_format",
            "must be a date YYYY-MM-DD",
            "交接日期格式错误",
        )
        return v.violations

    @event(CompanyChanged)
    def _company_changed(
        self,
        unit: str,
        code: str,
        previous_uscc: str,
        new_uscc: str,
        new_company_name: str,
        effective_date: str,
        reason: str,
    ) -> None:
        self.company_uscc = new_uscc
        self.company_name = new_company_name
        self.companies.append((new_uscc, effective_date))

    def company_for(self, period: Quarter) -> str:
        """The company whose duty the quarter's disclosure is: the one in charge on the
        quarter's last day (a handover takes effect at 00:00 of its effective date). The
        disclosure reports that quarter's revenue and its use (《民法典》第九百四十三条;
        DOMAIN.md §3: the quarterly disclosure of one community), so it stays the duty, and
        the right, of the company that managed the quarter to its end, even after a later
        handover; the incoming company files the quarters it ends in charge of."""
        last_day = period.last_day.isoformat()
        # ISO dates order as text; the registered company's "" precedes every date. The
        # latest handover in effect wins, a later record of the same date over an earlier:
        # the last of the records ordered by (date, record number) not after the last day.
        ordered = self._handovers_in_date_order()
        return ordered[bisect.bisect_right(ordered, (last_day, len(self.companies))) - 1][2]

    def _handovers_in_date_order(self) -> list[tuple[str, int, str]]:
        """(effective date, record number, USCC) of every record, sorted; derived from
        `companies` (not state: rebuilt whenever a handover was recorded since), so a
        filing of a community with a long history does not sort it again each time."""
        kept: tuple[int, list[tuple[str, int, str]]] | None = self.__dict__.get("_by_date")
        if kept is None or kept[0] != len(self.companies):
            ordered = sorted((e, n, uscc) for n, (uscc, e) in enumerate(self.companies))
            kept = (len(self.companies), ordered)
            self.__dict__["_by_date"] = kept
        return kept[1]

    # -- overdue -----------------------------------------------------------------------------

    class DisclosureOverdue(Aggregate.Event):
        unit: str
        code: str
        company_uscc: str
        year: int
        quarter: int

    def is_overdue(self, period: Quarter) -> bool:
        return str(period) in self.overdue_quarters

    def mark_overdue(self, period: Quarter, now: datetime) -> bool:
        """Records that no disclosure of `period` came by its deadline; False (and nothing
        recorded) when that is recorded already. RuleViolated before the deadline."""
        require_deadline_passed(period, now)
        if self.is_overdue(period):
            return False
        # Charged to the company that owed it, not to whoever manages the community now.
        self._overdue(
            unit=self.unit,
            code=self.code,
            company_uscc=self.company_for(period),
            year=period.year,
            quarter=period.quarter,
        )
        return True

    @event(DisclosureOverdue)
    def _overdue(self, unit: str, code: str, company_uscc: str, year: int, quarter: int) -> None:
        self.overdue_quarters.append(str(Quarter(year, quarter)))


def require_deadline_passed(period: Quarter, now: datetime) -> None:
    """A quarter's missing disclosures are overdue only once its deadline (moved past rest
    days, DOMAIN.md §3, 《民法典》第二百零三条) has passed: RuleViolated before, and
    CalendarNotConfigured when that depends on a year the holiday calendar lacks."""
    if period.deadline_passed(now):
        return
    due, due_zh = _due_day(period)
    raise RuleViolated(
        f"the deadline of {period} ({due}) has not passed",
        f"{period} 公示截止日（{due_zh}）尚未届满",
    )


def _due_day(period: Quarter) -> tuple[str, str]:
    """The deadline day for a message (English, Chinese); for a year the holiday calendar
    lacks, the nominal day and the rule that may move it (no guess at the holidays)."""
    try:
        day = period.deadline_day.isoformat()
    except CalendarNotConfigured:
        nominal = period.nominal_deadline_day.isoformat()
        return f"{nominal}, or the next working day", f"{nominal}，遇休息日顺延"
    return day, day


def _is_date(text: str) -> bool:
    """YYYY-MM-DD exactly: Python also reads 20260601 or 2026-W22-1 as dates, which would
    not order as text among the others."""
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


# Stored events name their classes by module path (ADR 0014): those written while this
# class lived in disclosure.domain.model must still load.
register_topic("disclosure.domain.model:Community", Community)
register_topic("disclosure.domain.model:Community.Registered", Community.Registered)
register_topic("disclosure.domain.model:Community.CompanyChanged", Community.CompanyChanged)
register_topic("disclosure.domain.model:Community.DisclosureOverdue", Community.DisclosureOverdue)
