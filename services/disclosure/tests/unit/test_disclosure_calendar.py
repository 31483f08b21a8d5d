"""Quarters and filing deadlines, in Asia/Shanghai time.

The rule: the disclosure of quarter Q is due by the last day of the first month of Q+1
(DOMAIN.md §3; work plan 二（一）: 每季度第一个月的月底前); when that day is a rest day the
deadline is the next working day (《民法典》第二百零三条), by the State Council's holiday
calendar of the shared kernel (vocabulary.calendar.CHINA, make-up working days counted as
working days). A year the calendar lacks (2027) is an explicit error, never a guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from pubrev_contracts.vocabulary import calendar
from pubrev_contracts.vocabulary.calendar import (
    DISCLOSURE_DEADLINE_SOURCE,
    SHANGHAI,
    CalendarNotConfigured,
    HolidayYear,
    Quarter,
    WorkCalendar,
)

ADJUSTED_DEADLINES = [
    # (quarter, nominal day, deadline day, why)
    (Quarter(2024, 1), date(2024, 4, 30), date(2024, 4, 30), "a Tuesday: stays"),
    (Quarter(2024, 3), date(2024, 10, 31), date(2024, 10, 31), "a Thursday: stays"),
    (
        Quarter(2024, 4),
        date(2025, 1, 31),
        date(2025, 2, 5),
        "Spring Festival 2025 (28 Jan – 4 Feb): the next working day",
    ),
    (Quarter(2025, 4), date(2026, 1, 31), date(2026, 2, 2), "Saturday: Monday"),
    (Quarter(2026, 1), date(2026, 4, 30), date(2026, 4, 30), "a Thursday before 劳动节"),
    (Quarter(2026, 2), date(2026, 7, 31), date(2026, 7, 31), "a Friday: stays"),
    (Quarter(2026, 3), date(2026, 10, 31), date(2026, 11, 2), "Saturday: Monday"),
]


def test_the_deadline_cites_the_domain_the_plan_and_civil_code_203() -> None:
    assert "DOMAIN.md §3" in DISCLOSURE_DEADLINE_SOURCE
    assert "二（一）" in DISCLOSURE_DEADLINE_SOURCE
    assert "《民法典》第二百零三条" in DISCLOSURE_DEADLINE_SOURCE


@pytest.mark.parametrize(("quarter", "nominal", "deadline_day", "why"), ADJUSTED_DEADLINES)
def test_deadline_day_is_last_day_of_first_month_of_next_quarter_moved_past_rest_days(
    quarter: Quarter, nominal: date, deadline_day: date, why: str
) -> None:
    """DOMAIN.md §3, plan 二（一）, 民法典 Art. 203 (holidays by vocabulary.calendar.CHINA)."""
    assert quarter.nominal_deadline_day == nominal
    assert quarter.deadline_day == deadline_day, why
    assert quarter.deadline == datetime.combine(deadline_day + timedelta(days=1), time(0), SHANGHAI)
    assert quarter.deadline.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(("quarter", "nominal", "deadline_day", "why"), ADJUSTED_DEADLINES)
def test_last_microsecond_of_deadline_day_is_on_time_and_midnight_after_is_late(
    quarter: Quarter, nominal: date, deadline_day: date, why: str
) -> None:
    last_instant = datetime.combine(deadline_day, time(23, 59, 59, 999_999), SHANGHAI)
    first_late = datetime.combine(deadline_day + timedelta(days=1), time(0), SHANGHAI)

    assert not quarter.is_late(last_instant)
    assert quarter.is_late(first_late)
    assert quarter.is_late(first_late + timedelta(days=40))


def test_q4_2024_filed_on_5_february_2025_is_on_time_by_civil_code_203() -> None:
    """31 Jan 2025 fell in the Spring Festival holiday (国务院办公厅关于2025年部分节假日安排
    的通知): the period ends on 5 Feb (民法典 Art. 203), so a filing that day is on time."""
    q4 = Quarter(2024, 4)
    assert not q4.is_late(datetime(2025, 2, 5, 17, 30, tzinfo=SHANGHAI))
    assert not q4.is_late(datetime(2025, 2, 5, 15, 59, 59, tzinfo=UTC))
    assert q4.is_late(datetime(2025, 2, 5, 16, 0, tzinfo=UTC))  # 6 Feb 00:00 in Shanghai


def test_a_make_up_working_day_on_the_nominal_day_keeps_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A weekend day the State Council makes a working day (调休上班) is a working day: a
    deadline falling on it does not move. No real notice has put one on a deadline day yet,
    so a calendar with Saturday 31 October 2026 worked shows it."""
    worked = WorkCalendar(
        "test", {2026: HolidayYear(2026, "test", frozenset(), frozenset({date(2026, 10, 31)}))}
    )
    monkeypatch.setattr(calendar, "CHINA", worked)
    assert Quarter(2026, 3).deadline_day == date(2026, 10, 31)


def test_boundary_instants_expressed_in_utc() -> None:
    q1 = Quarter(2026, 1)
    # 2026-04-30T15:59:59Z is 23:59:59 on 30 April in Shanghai: still on time.
    assert not q1.is_late(datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC))
    assert not q1.is_late(datetime(2026, 4, 30, 15, 59, 59, 999_999, tzinfo=UTC))
    # 2026-04-30T16:00:00Z is 00:00 on 1 May in Shanghai: late, although it is still
    # 30 April in UTC.
    assert q1.is_late(datetime(2026, 4, 30, 16, 0, 0, tzinfo=UTC))
    assert q1.deadline == datetime(2026, 4, 30, 16, 0, tzinfo=UTC)


def test_q4_2025_deadline_moves_from_saturday_31_january_to_monday_2_february() -> None:
    q4 = Quarter(2025, 4)
    assert not q4.is_late(datetime(2026, 2, 2, 15, 59, 59, tzinfo=UTC))
    assert q4.is_late(datetime(2026, 2, 2, 16, 0, tzinfo=UTC))


def test_a_filing_on_the_deadline_day_in_utc_but_after_midnight_in_shanghai_is_late() -> None:
    # 31 July 20:00 UTC is already 1 August 04:00 in Shanghai.
    assert Quarter(2026, 2).is_late(datetime(2026, 7, 31, 20, 0, tzinfo=UTC))


def test_a_deadline_in_a_year_the_calendar_lacks_is_an_explicit_error() -> None:
    """Q4 2026 is due 31 Jan 2027, and the 2027 holiday notice is not entered: the deadline
    is CalendarNotConfigured (FAILED_PRECONDITION), never a guess."""
    q4 = Quarter(2026, 4)
    assert q4.nominal_deadline_day == date(2027, 1, 31)
    with pytest.raises(CalendarNotConfigured) as raised:
        _ = q4.deadline_day
    assert raised.value.year == 2027
    with pytest.raises(CalendarNotConfigured):
        q4.is_late(datetime(2027, 2, 1, 9, 0, tzinfo=SHANGHAI))


def test_before_the_nominal_day_ends_nothing_is_late_even_in_an_unknown_year() -> None:
    # A deadline only ever moves later (民法典 Art. 203): a filing on or before 31 Jan 2027
    # is on time whatever the 2027 holidays turn out to be, so no calendar is needed.
    q4 = Quarter(2026, 4)
    assert not q4.is_late(datetime(2027, 1, 20, 10, 0, tzinfo=SHANGHAI))
    assert not q4.is_late(datetime(2027, 1, 31, 23, 59, 59, tzinfo=SHANGHAI))
    assert not q4.deadline_passed(datetime(2027, 1, 31, 12, 0, tzinfo=SHANGHAI))


@pytest.mark.parametrize(
    ("quarter", "end"),
    [
        (Quarter(2026, 1), datetime(2026, 4, 1, tzinfo=SHANGHAI)),
        (Quarter(2026, 2), datetime(2026, 7, 1, tzinfo=SHANGHAI)),
        (Quarter(2026, 3), datetime(2026, 10, 1, tzinfo=SHANGHAI)),
        (Quarter(2026, 4), datetime(2027, 1, 1, tzinfo=SHANGHAI)),
    ],
)
def test_quarter_end_is_first_instant_of_next_quarter_in_shanghai(
    quarter: Quarter, end: datetime
) -> None:
    assert quarter.end == end
    assert quarter.end.utcoffset() == timedelta(hours=8)
    assert quarter.end < quarter.nominal_deadline


def test_quarter_end_in_utc_is_16_00_of_the_previous_day() -> None:
    assert Quarter(2026, 1).end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert Quarter(2026, 4).end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_first_day_last_day_next_previous_and_str() -> None:
    assert Quarter(2026, 3).first_day == date(2026, 7, 1)
    assert Quarter(2026, 3).last_day == date(2026, 9, 30)
    assert Quarter(2026, 4).last_day == date(2026, 12, 31)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter(2026, 2).next() == Quarter(2026, 3)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert str(Quarter(2026, 2)) == "2026Q2"
    assert Quarter(2025, 4) < Quarter(2026, 1) < Quarter(2026, 2)
