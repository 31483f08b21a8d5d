"""Configurable inspection rules, versioned, each value with its source (DOMAIN.md §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from math import ceil

from pubrev_contracts.vocabulary.calendar import (
    CHINA,
    CIVIL_CODE_ART_201,
    CIVIL_CODE_ART_203,
    SHANGHAI,
    WorkCalendar,
)
from pubrev_contracts.vocabulary.sources import local, plan

SEVERITY_ZH = {"minor": "轻微", "general": "一般", "serious": "严重"}


@dataclass(frozen=True)
class InspectionRules:
    version: str
    city_percent: int
    """The city checks at least this share of all communities each year."""
    unit_percent: int
    """Each county-level unit checks at least this share of its own communities."""
    quota_source: str
    rectification_days: dict[str, int] = field(default_factory=dict)
    """Days to rectify, by severity."""
    rectification_source: str = ""
    calendar: WorkCalendar = CHINA
    objection_days: int = 15
    """Days from the finding within which its company may object (异议)."""
    objection_source: str = ""
    township_entry_days: int = 7
    """Days after a township's inspection within which it is entered in the ledger."""
    township_entry_source: str = ""

    def quota(self, communities: int, city: bool) -> int:
        percent = self.city_percent if city else self.unit_percent
        return ceil(communities * percent / 100)  # "不少于" (at least): round up

    def rectification_deadline(self, found_at: datetime, severity: str) -> datetime:
        """The last instant of the rectification period: `rectification_days` calendar days
        from the day the finding was made (Asia/Shanghai, that day not counted: 民法典
        Art. 201), the end moved past statutory holidays and weekends to the next working day
        (Art. 203), and the period ending at 24:00 of that day (Art. 203 ¶2). A year missing
        from the holiday calendar raises CalendarNotConfigured: the deadline is never guessed."""
        found_day = found_at.astimezone(SHANGHAI).date()
        last_day = self.calendar.add_days(found_day, self.rectification_days[severity])
        return datetime.combine(last_day, time.max, SHANGHAI)

    def objection_deadline(self, found_at: datetime) -> datetime:
        """The last instant the company may object to a finding: `objection_days` counted
        as a rectification period is (民法典 Art. 201, 203: from the day after the finding,
        ending at 24:00 of a working day). CalendarNotConfigured for a year not entered."""
        found_day = found_at.astimezone(SHANGHAI).date()
        last_day = self.calendar.add_days(found_day, self.objection_days)
        return datetime.combine(last_day, time.max, SHANGHAI)

    def deadline_basis(self, severity: str, deadline: datetime) -> str:
        """Why the deadline is what it is: the local period and the calendar's sources."""
        return (
            f"{SEVERITY_ZH[severity]}问题整改期限{self.rectification_days[severity]}日"
            f"（{self.rectification_source}）；"
            f"期间计算及顺延：{CIVIL_CODE_ART_201}、{CIVIL_CODE_ART_203}；"
            f"节假日：{self.calendar.source(deadline.astimezone(SHANGHAI).year)}"
        )


DEFAULT_RULES = InspectionRules(
    version="putian-2023.3",
    city_percent=15,
    unit_percent=50,
    quota_source=plan(
        "四（三）：市级实地抽查比例不少于辖区物业小区总数的15%，"
        "县（区、管委会）不少于50%，镇（街道）、村（居）全面检查"
    ),
    rectification_days={"minor": 15, "general": 30, "serious": 60},
    rectification_source=local("整改期限按严重程度分别为15日、30日、60日"),
    objection_days=15,
    # An objection to a finding is not an application for administrative reconsideration
    # (《行政复议法》), whose own period the company keeps outside the platform; the plan and
    # the law give none for it.
    objection_source=local("企业对检查发现问题提出异议的期限为发现问题之日起15日"),
    township_entry_days=7,
    township_entry_source=local(
        "镇（街道）检查工作台账（工作方案二（五）、四（三））须在检查后7日内录入"
    ),
)
"""putian-2023.3: objections and the townships' ledger (2023.2: deadlines by the holiday
calendar; 2023.1 added plain days in UTC)."""
