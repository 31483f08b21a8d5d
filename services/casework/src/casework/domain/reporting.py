"""The monthly report (月度报送): each county-level unit sends the city its two ledgers
(问题（线索）台账、工作台账), its briefing and typical cases before the 25th of every month
(plan 六（四）: 每月25日前; 附件2 #7 and #36; DOMAIN.md §9).

A deadline that falls on a rest day ends on the next working day (民法典 Art. 203, by the
holiday calendar vocabulary.calendar.CHINA); a month in a year the calendar lacks raises
CalendarNotConfigured rather than guessing.
"""

from __future__ import annotations

from datetime import date

from pubrev_contracts.vocabulary.calendar import CHINA, CIVIL_CODE_ART_203, WorkCalendar
from pubrev_contracts.vocabulary.sources import plan

REPORT_DAY = 25
LEGAL_BASIS = f"{plan('六（四）；附件2第7项、第36项（每月25日前）')}；{CIVIL_CODE_ART_203}"


def monthly_report_due(year: int, month: int, calendar: WorkCalendar = CHINA) -> date:
    """The day the month's report is due: the 25th, or the first working day after it."""
    return calendar.period_end(date(year, month, REPORT_DAY))
