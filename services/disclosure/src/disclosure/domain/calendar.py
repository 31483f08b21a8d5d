"""Quarters and deadlines, in Asia/Shanghai time (the campaign's rules are local time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
    def end(self) -> datetime:
        """The instant the quarter is over (start of the next quarter's first day)."""
        nxt = self.next()
        return datetime.combine(nxt.first_day, time(0), SHANGHAI)

    def next(self) -> Quarter:
        if self.quarter == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.quarter + 1)

    @property
    def deadline_day(self) -> date:
        """Last day of the first month of the next quarter: Q1→30 Apr, Q2→31 Jul,
        Q3→31 Oct, Q4→31 Jan of the next year."""
        nxt = self.next()
        first_of_second_month = date(nxt.year, nxt.first_day.month + 1, 1)
        return first_of_second_month - timedelta(days=1)

    @property
    def deadline(self) -> datetime:
        """The first instant that is late (00:00 the day after the deadline day)."""
        return datetime.combine(self.deadline_day + timedelta(days=1), time(0), SHANGHAI)

    def is_late(self, filed_at: datetime) -> bool:
        return filed_at >= self.deadline
