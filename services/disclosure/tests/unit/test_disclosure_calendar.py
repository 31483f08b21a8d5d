"""Quarters and filing deadlines, in Asia/Shanghai time (DOMAIN.md §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from disclosure.domain.calendar import SHANGHAI, Quarter


@pytest.mark.parametrize(
    ("quarter", "deadline_day"),
    [
        (Quarter(2026, 1), date(2026, 4, 30)),
        (Quarter(2026, 2), date(2026, 7, 31)),
        (Quarter(2026, 3), date(2026, 10, 31)),
        (Quarter(2026, 4), date(2027, 1, 31)),
    ],
)
def test_deadline_day_is_last_day_of_first_month_of_next_quarter(
    quarter: Quarter, deadline_day: date
) -> None:
    assert quarter.deadline_day == deadline_day
    assert quarter.deadline == datetime.combine(
        deadline_day + timedelta(days=1), time(0), SHANGHAI
    )
    assert quarter.deadline.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("quarter", "deadline_day"),
    [
        (Quarter(2026, 1), date(2026, 4, 30)),
        (Quarter(2026, 2), date(2026, 7, 31)),
        (Quarter(2026, 3), date(2026, 10, 31)),
        (Quarter(2026, 4), date(2027, 1, 31)),
    ],
)
def test_last_microsecond_of_deadline_day_is_on_time_and_midnight_after_is_late(
    quarter: Quarter, deadline_day: date
) -> None:
    last_instant = datetime.combine(deadline_day, time(23, 59, 59, 999_999), SHANGHAI)
    first_late = datetime.combine(deadline_day + timedelta(days=1), time(0), SHANGHAI)

    assert not quarter.is_late(last_instant)
    assert quarter.is_late(first_late)
    assert quarter.is_late(first_late + timedelta(days=40))


def test_boundary_instants_expressed_in_utc() -> None:
    q1 = Quarter(2026, 1)
    # 2026-04-30T15:59:59Z is 23:59:59 on 30 April in Shanghai: still on time.
    assert not q1.is_late(datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC))
    assert not q1.is_late(datetime(2026, 4, 30, 15, 59, 59, 999_999, tzinfo=UTC))
    # 2026-04-30T16:00:00Z is 00:00 on 1 May in Shanghai: late, although it is still
    # 30 April in UTC.
    assert q1.is_late(datetime(2026, 4, 30, 16, 0, 0, tzinfo=UTC))
    assert q1.deadline == datetime(2026, 4, 30, 16, 0, tzinfo=UTC)


def test_q4_deadline_in_utc_falls_on_31_january_of_the_next_year() -> None:
    q4 = Quarter(2025, 4)
    assert not q4.is_late(datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC))
    assert q4.is_late(datetime(2026, 1, 31, 16, 0, tzinfo=UTC))


def test_a_filing_on_the_deadline_day_in_utc_but_after_midnight_in_shanghai_is_late() -> None:
    # 31 July 20:00 UTC is already 1 August 04:00 in Shanghai.
    assert Quarter(2026, 2).is_late(datetime(2026, 7, 31, 20, 0, tzinfo=UTC))


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
    assert quarter.end < quarter.deadline


def test_quarter_end_in_utc_is_16_00_of_the_previous_day() -> None:
    assert Quarter(2026, 1).end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert Quarter(2026, 4).end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_first_day_next_and_str() -> None:
    assert Quarter(2026, 3).first_day == date(2026, 7, 1)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter(2026, 2).next() == Quarter(2026, 3)
    assert str(Quarter(2026, 2)) == "2026Q2"
    assert Quarter(2025, 4) < Quarter(2026, 1) < Quarter(2026, 2)
