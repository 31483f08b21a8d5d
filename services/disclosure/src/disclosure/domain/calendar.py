"""Quarters and deadlines, in Asia/Shanghai time (the campaign's rules are local time).

The disclosure of a quarter is due by the last day of the first month of the next quarter
(DOMAIN.md §3; the work plan 二（一）: 每季度第一个月的月底前). When that day is a rest day the
period ends on the next working day (《民法典》第二百零三条), by the State Council's holiday
calendar of the shared kernel (`campaign.workdays.CHINA`, make-up working days counted as
working days). A deadline in a year the calendar has not entered raises
`CalendarNotConfigured` (a rule violation: FAILED_PRECONDITION), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaign.sources import plan
from campaign.workdays import CHINA, CIVIL_CODE_ART_203

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE_SOURCE = f"DOMAIN.md §3；{plan('二（一）')}；{CIVIL_CODE_ART_203}"
"""Where the disclosure deadline comes from (the day, and its move past rest days)."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def end(self) -> datetime:
        """The instant the quarter is over (start of the next quarter's first day)."""
        nxt = self.next()
        return datetime.combine(nxt.first_day, time(0), SHANGHAI)

    def next(self) -> Quarter:
        if self.quarter == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.quarter + 1)

    def previous(self) -> Quarter:
        if self.quarter == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.quarter - 1)

    @property
    def nominal_deadline_day(self) -> date:
        """Last day of the first month of the next quarter, before any move past rest days:
        Q1→30 Apr, Q2→31 Jul, Q3→31 Oct, Q4→31 Jan of the next year."""
        nxt = self.next()
        first_of_second_month = date(nxt.year, nxt.first_day.month + 1, 1)
        return first_of_second_month - timedelta(days=1)

    @property
    def deadline_day(self) -> date:
        """The day the disclosure is due: the nominal day, or the first working day after it
        when it is a rest day (Q4 2024: 31 Jan 2025 fell in the Spring Festival → 5 Feb).
        Raises CalendarNotConfigured for a year the calendar has not entered."""
        return CHINA.period_end(self.nominal_deadline_day)

    @property
    def deadline(self) -> datetime:
        """The first instant that is late (00:00 the day after the deadline day)."""
        return datetime.combine(self.deadline_day + timedelta(days=1), time(0), SHANGHAI)

    @property
    def nominal_deadline(self) -> datetime:
        """00:00 after the nominal deadline day: a deadline only ever moves later, so any
        instant before this one is before the deadline, whatever the holidays."""
        return datetime.combine(self.nominal_deadline_day + timedelta(days=1), time(0), SHANGHAI)

    def is_late(self, filed_at: datetime) -> bool:
        # Before the nominal day's end nothing is late, and the calendar is not asked: a
        # quarter whose deadline falls in a year not yet entered can still be filed in time.
        if filed_at < self.nominal_deadline:
            return False
        return filed_at >= self.deadline

    def deadline_passed(self, now: datetime) -> bool:
        """Whether the deadline is over at `now` (the same test as a late filing)."""
        return self.is_late(now)
