"""The periodic sweep of the disclosure service: the hourly quarter close (the bootstrap
schedules it in the projector role)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from disclosure.application.commands import CloseQuarter, QuarterClosed
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.calendar import (
    SHANGHAI,
    CalendarNotConfigured,
    Quarter,
    quarter_of,
)
from pubrev_contracts.vocabulary.units import CITY
from servicekit.identity import Identity

if TYPE_CHECKING:
    from disclosure.application.app import DisclosureApplication

log = logging.getLogger(__name__)

SCHEDULER = Identity(Agency.OPERATOR, "scheduler", CITY, "disclosure quarter close")
"""The sweep acts as the platform's scheduler, which the policy lets close quarters at the
city level (application/access.py), and nothing else."""


def latest_due_quarter(now: datetime) -> Quarter:
    """The most recent quarter whose deadline (moved past rest days) has passed at `now`.
    CalendarNotConfigured when that depends on a year the holiday calendar lacks."""
    period = quarter_of(now.astimezone(SHANGHAI).date())
    while not period.deadline_passed(now):
        period = period.previous()
    return period


def close_latest_quarter(app: DisclosureApplication) -> QuarterClosed | None:
    """Closes the latest due quarter in every unit. Idempotent: communities already marked
    are counted, not marked again. None when the holiday calendar lacks the year the
    deadline depends on: nobody knows then whether it has passed, so nothing is marked, a
    warning says why, and the next run tries again (the projector role lives on)."""
    try:
        period = latest_due_quarter(app.clock())
    except CalendarNotConfigured as error:
        log.warning("quarter close skipped: %s", error.message, extra={"calendar_year": error.year})
        return None
    closed: QuarterClosed = app.handle(
        SCHEDULER, CloseQuarter(f"sweep-{period}", period.year, period.quarter)
    )
    return closed
