"""Working days and deadlines (期间), by the State Council's holiday calendar.

- A period whose last day is a rest day ends on the next working day: 《民法典》第二百零三条
  (期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日). Rest days are the
  statutory holidays of each year's notice and the weekly rest days, Saturday and Sunday
  (《国务院关于职工工作时间的规定》第七条), except the weekend days the notice makes working
  days (调休上班), which count as working days.
- Days counted in working days skip the same rest days: 《行政处罚法》第八十五条 (its "三日"
  etc. are working days, statutory holidays excluded).

The calendar itself is configuration (`holidays.toml` beside this module), one table a year
with the notice it comes from. A date in a year that is not entered raises
`CalendarNotConfigured`: an unknown year is never guessed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.sources import plan

CIVIL_CODE_ART_201 = "《民法典》第二百零一条"
"""Periods in days start the day after the event (按照年、月、日计算期间的，开始的当日不计入)."""
CIVIL_CODE_ART_203 = "《民法典》第二百零三条"
PENALTY_LAW_ART_85 = "《行政处罚法》第八十五条"
_DATA = Path(__file__).with_name("holidays.toml")

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The campaign's rules are local time: dates and deadlines are Asia/Shanghai; the wire is UTC."""


class CalendarNotConfigured(NotConfigured):
    """The holiday calendar has no entry for the year a deadline falls in."""

    def __init__(self, year: int, version: str) -> None:
        super().__init__(
            f"the holiday calendar ({version}) has no {year}: enter the State Council's notice "
            f"of {year} holidays before a deadline in {year} can be computed",
            f"节假日日历（{version}）尚未录入{year}年，请先按国务院办公厅{year}年部分节假日安排"
            "的通知配置后再计算期限",
        )
        self.year = year


@dataclass(frozen=True)
class HolidayYear:
    year: int
    source: str
    rest: frozenset[date]
    work: frozenset[date]


@dataclass(frozen=True)
class WorkCalendar:
    version: str
    years: dict[int, HolidayYear]

    def _year(self, day: date) -> HolidayYear:
        entry = self.years.get(day.year)
        if entry is None:
            raise CalendarNotConfigured(day.year, self.version)
        return entry

    def is_working_day(self, day: date) -> bool:
        entry = self._year(day)
        if day in entry.work:
            return True
        return day.weekday() < 5 and day not in entry.rest

    def period_end(self, last_day: date) -> date:
        """The day a period really ends whose nominal last day is `last_day`: that day when
        it is a working day, else the first working day after it (民法典 Art. 203)."""
        day = last_day
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted)."""
        if days < 0:
            raise ValueError("working days are counted forward")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def add_days(self, start: date, days: int) -> date:
        """A period of `days` calendar days from `start` (the start day not counted), whose
        end moves past rest days (民法典 Art. 201 and 203)."""
        return self.period_end(start + timedelta(days=days))

    def source(self, year: int) -> str:
        return self._year(date(year, 1, 1)).source


def load(path: Path = _DATA) -> WorkCalendar:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    years: dict[int, HolidayYear] = {}
    for table in data["year"]:
        year = int(table["year"])
        rest: set[date] = set()
        for first, last in table["rest"]:
            if first > last or first.year != year or last.year != year:
                raise ValueError(f"{path.name}: {year}: bad rest range {first}..{last}")
            day = first
            while day <= last:
                rest.add(day)
                day += timedelta(days=1)
        work = frozenset(table["work"])
        if any(d.year != year or d.weekday() < 5 or d in rest for d in work):
            raise ValueError(
                f"{path.name}: {year}: a make-up working day must be a weekend "
                "day of that year outside its holidays"
            )
        if year in years:
            raise ValueError(f"{path.name}: {year} is entered twice")
        years[year] = HolidayYear(year, str(table["source"]), frozenset(rest), work)
    return WorkCalendar(str(data["version"]), years)


CHINA = load()
"""The calendar in force (holidays.toml)."""


DISCLOSURE_DEADLINE_SOURCE = f"DOMAIN.md §3；{plan('二（一）')}；{CIVIL_CODE_ART_203}"
"""Where the disclosure deadline comes from (the day, and its move past rest days)."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return quarter_label(self.year, self.quarter)

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


def quarter_label(year: int, quarter: int) -> str:
    """The one label of a quarter, 2024Q3: in keys, read models and messages (years are
    four digits from 2000 to 2100, so no padding is needed and labels sort by time)."""
    return f"{year}Q{quarter}"


def quarter_of(day: date) -> Quarter:
    """The quarter a (Shanghai) date falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)
