"""Deadlines by the holiday calendar: 民法典 Art. 203 (a period ending on a rest day ends on
the next working day), 行政处罚法 Art. 85 (days counted as working days), make-up working
days (调休) counting as working days, and an unknown year refused, never guessed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pubrev_contracts.vocabulary.calendar import CHINA, CalendarNotConfigured, load


def test_q4_2024_deadline_inside_spring_festival_moves_to_5_february() -> None:
    # 31 January 2025 fell inside the Spring Festival holiday (28 January – 4 February,
    # 国务院办公厅关于2025年部分节假日安排的通知): the period ends on 5 February.
    assert CHINA.period_end(date(2025, 1, 31)) == date(2025, 2, 5)


def test_a_working_day_deadline_stays() -> None:
    assert CHINA.period_end(date(2024, 4, 30)) == date(2024, 4, 30)


def test_a_weekend_deadline_moves_to_monday() -> None:
    # 31 January 2026 is a Saturday and no make-up working day.
    assert CHINA.period_end(date(2026, 1, 31)) == date(2026, 2, 2)


def test_a_make_up_working_day_is_a_working_day() -> None:
    # Sunday 26 January 2025 and Saturday 8 February 2025 were worked (调休上班).
    assert CHINA.is_working_day(date(2025, 1, 26))
    assert CHINA.is_working_day(date(2025, 2, 8))
    assert CHINA.period_end(date(2025, 2, 8)) == date(2025, 2, 8)
    assert not CHINA.is_working_day(date(2025, 2, 9))


def test_working_days_skip_holidays_and_count_make_up_days() -> None:
    # Three working days after Friday 27 September 2024: Sunday 29 September was worked,
    # 1–7 October were the National Day holiday, so: 29 Sept, 30 Sept, 8 Oct.
    assert CHINA.add_working_days(date(2024, 9, 27), 3) == date(2024, 10, 8)
    # An ordinary week: Thursday + 3 working days = Tuesday.
    assert CHINA.add_working_days(date(2026, 3, 5), 3) == date(2026, 3, 10)


def test_calendar_days_end_on_a_working_day() -> None:
    # 15 days from 20 September 2026 is 5 October, inside the National Day holiday.
    assert CHINA.add_days(date(2026, 9, 20), 15) == date(2026, 10, 8)


def test_an_unknown_year_is_an_explicit_error() -> None:
    with pytest.raises(CalendarNotConfigured) as raised:
        CHINA.period_end(date(2027, 1, 31))
    assert raised.value.year == 2027
    assert "2027" in raised.value.message_zh


def test_a_period_running_into_an_unknown_year_is_refused_too() -> None:
    # 31 December 2026 is a Thursday, a working day: known. Working days past it are not.
    assert CHINA.period_end(date(2026, 12, 31)) == date(2026, 12, 31)
    with pytest.raises(CalendarNotConfigured):
        CHINA.add_working_days(date(2026, 12, 30), 3)


def test_every_year_names_its_notice() -> None:
    assert sorted(CHINA.years) == [2022, 2023, 2024, 2025, 2026]
    for year, entry in CHINA.years.items():
        assert f"国务院办公厅关于{year}年部分节假日安排的通知" in entry.source
    assert CHINA.version


def test_the_2025_holidays_as_the_notice_lists_them() -> None:
    entry = CHINA.years[2025]
    # 春节 28 Jan – 4 Feb (8 days, the first year of the longer Spring Festival), 国庆 1–8 Oct.
    assert sum(1 for d in entry.rest if d.month in (1, 2)) == 1 + 8
    assert date(2025, 10, 8) in entry.rest and date(2025, 10, 9) not in entry.rest
    assert entry.work == {
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    }


def test_a_make_up_day_on_a_weekday_is_refused_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "h.toml"
    bad.write_text(
        'version = "x"\n[[year]]\nyear = 2030\nsource = "s"\nrest = []\nwork = [2030-01-02]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="make-up working day"):
        load(bad)
