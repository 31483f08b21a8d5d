"""The monthly reports of the campaign (月度报送, DOMAIN.md §5b, §9): each county-level unit's
report to the city by the 25th (plan 六（四）; 附件2 #7, #36, #45: its two ledgers, its
briefing, its typical cases and the month's progress), and the city's briefing to the
province (省住建厅) by the 30th (附件1 #36, #48). The due days are vocabulary.campaign's
(moved past rest days as it decides); a report after its due day is recorded as late.

The figures are assembled by the application from the ledgers casework keeps when the
report is submitted, and recorded with it: what was reported stays what was reported."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from eventsourcing.domain import Aggregate, event

from casework.domain.campaign import NAMESPACE
from pubrev_contracts.vocabulary.campaign import (
    PROVINCE_BRIEFING,
    UNIT_REPORT,
    MonthlyDuty,
    shanghai_date,
)
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from servicekit.errors import RuleViolated


class MonthlyReport(Aggregate):
    """One monthly report of one duty (unit_report, province_briefing), unit and month."""

    class Submitted(Aggregate.Created):
        duty: str
        unit: str
        year: int
        month: int
        due_on: date
        due_basis: str
        late: bool
        submitted_by: str
        submitted_at: datetime
        figures: dict[str, int]
        units_reported: list[str]
        briefing: str

    @event(Submitted)
    def __init__(
        self,
        duty: str,
        unit: str,
        year: int,
        month: int,
        due_on: date,
        due_basis: str,
        late: bool,
        submitted_by: str,
        submitted_at: datetime,
        figures: dict[str, int],
        units_reported: list[str],
        briefing: str,
    ) -> None:
        self.duty = duty
        self.unit = unit
        self.year = year
        self.month = month
        self.due_on = due_on
        self.due_basis = due_basis
        self.late = late
        self.submitted_by = submitted_by
        self.submitted_at = submitted_at
        self.figures = dict(figures)
        self.units_reported = list(units_reported)
        self.briefing = briefing

    @staticmethod
    def create_id(duty: str, unit: str, year: int, month: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"monthly-report:{duty}:{unit}:{year}:{month}")

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @classmethod
    def submit(
        cls,
        duty: MonthlyDuty,
        unit: str,
        month: int,
        by: str,
        at: datetime,
        figures: Mapping[str, int],
        units_reported: Sequence[str],
        briefing: str,
    ) -> MonthlyReport:
        """A unit's report to the city (a county-level unit), or the city's briefing to the
        province, for a month of the duty's campaign year, submitted once the month has
        begun; `late` after its due day. NotACampaignMonth for a month the campaign does not
        report in, CalendarNotConfigured when the holiday calendar lacks the due day's year
        (both FAILED_PRECONDITION: never guessed)."""
        if duty.key == UNIT_REPORT and unit not in COUNTY_UNITS:
            raise RuleViolated(
                "the monthly report to the city is a county-level unit's",
                "月度报送由县（区、管委会）向市城市管理局报送",
            )
        if duty.key == PROVINCE_BRIEFING and unit != CITY:
            raise RuleViolated(
                "the briefing to the province is the city's",
                "向省住建厅报送工作简报由市城市管理局负责",
            )
        due_on = duty.due_day(month)
        if shanghai_date(at) < date(duty.year, month, 1):
            raise RuleViolated(
                f"the report of {duty.year}-{month:02d} is submitted once the month has begun",
                "月度报送须在当月开始后提交",
            )
        return cls(
            duty.key,
            unit,
            duty.year,
            month,
            due_on,
            duty.due_basis(month),
            duty.due_passed(month, at),
            by,
            at,
            dict(figures),
            sorted(units_reported),
            briefing,
        )

    def submit_again(self) -> None:
        """A month's report is submitted once: what was reported stays the record."""
        raise RuleViolated(
            f"the {self.duty} of {self.unit} for {self.period} was submitted already",
            "本月报送已提交",
        )
