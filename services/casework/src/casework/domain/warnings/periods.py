"""The periods a warning is raised for, in Asia/Shanghai (a warning is raised once per rule,
subject and period): quarters (their labels are vocabulary.calendar's), years, months and
days, and the quarters a figure is compared with."""

from __future__ import annotations

from datetime import datetime

from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter, quarter_of


def previous_quarters(quarter: Quarter, count: int) -> list[Quarter]:
    """The `count` calendar quarters before `quarter`, nearest first."""
    found: list[Quarter] = []
    for _ in range(count):
        quarter = quarter.previous()
        found.append(quarter)
    return found


def quarter_at(moment: datetime) -> Quarter:
    """The quarter an instant falls in, in Putian."""
    return quarter_of(moment.astimezone(SHANGHAI).date())


def year_label(moment: datetime) -> str:
    """2026: the year an instant falls in, in Putian."""
    return str(moment.astimezone(SHANGHAI).year)


def month_label(moment: datetime) -> str:
    """2026-05: the month an instant falls in, in Putian."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}-{local.month:02d}"


def date_label(moment: datetime) -> str:
    """2026-05-06: the day an instant falls on, in Putian."""
    return moment.astimezone(SHANGHAI).date().isoformat()
