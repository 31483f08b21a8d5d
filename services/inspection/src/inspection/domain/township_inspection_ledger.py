"""A community's township-inspection ledger (镇（街道）检查工作台账): the daily inspections a
township makes of each community of its area (plan 四（三）: 镇（街道）、村（居）应对辖区…进行
全面检查; 二（五）: …未能全面开展检查…并建立检查工作台账), with the problems each found.

One ledger per community; `unit` is the community's county-level unit. The township is the
one the community was registered in (disclosure's register), when inspection knows it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from eventsourcing.domain import Aggregate, event

from inspection.domain.rules import InspectionRules
from servicekit.errors import RuleViolated, excerpt

NAMESPACE = uuid.UUID("0c8e6a52-94d1-4f3b-b7a2-5e1d9c3f7a64")


class TownshipInspectionLedger(Aggregate):
    """The township inspections of one community, one entry per day."""

    class Opened(Aggregate.Created):
        community_code: str
        unit: str

    @event(Opened)
    def __init__(self, community_code: str, unit: str) -> None:
        self.community_code = community_code
        self.unit = unit
        self.days: list[str] = []
        """The dates inspected (YYYY-MM-DD, Asia/Shanghai), as entered."""

    @staticmethod
    def create_id(community_code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"township-ledger:{community_code}")

    class InspectionRecorded(Aggregate.Event):
        unit: str
        community_code: str
        township: str
        inspected_on: str
        """The Asia/Shanghai date inspected, YYYY-MM-DD."""
        inspector: str
        problems: list[str]
        """What was found, one line each (none: the community was in order)."""
        note: str

    def record(
        self,
        township: str,
        registered_township: str,
        inspected_on: date,
        today: date,
        inspector: str,
        problems: list[str],
        note: str,
        rules: InspectionRules,
    ) -> None:
        """One day's inspection of the community by its township (日常巡查), entered on
        `today` (Asia/Shanghai): not ahead of the day, at most `township_entry_days` after it
        (a ledger kept daily, not written up at the stage's end: local configuration), once
        a day, by the township the community is registered in."""
        if registered_township and township != registered_township:
            raise RuleViolated(
                f"community {self.community_code} is registered in "
                f"{excerpt(registered_township)}, not {excerpt(township)}",
                f"该小区属{registered_township}，不属所填镇（街道）",
            )
        if inspected_on > today:
            raise RuleViolated(
                f"an inspection of {inspected_on} is not made yet (today is {today})",
                "检查日期不得晚于当日",
            )
        if inspected_on < today - timedelta(days=rules.township_entry_days):
            raise RuleViolated(
                f"an inspection is entered within {rules.township_entry_days} days "
                f"({rules.township_entry_source})",
                f"检查须在{rules.township_entry_days}日内录入台账",
            )
        if inspected_on.isoformat() in self.days:
            raise RuleViolated(
                f"the inspection of {self.community_code} on {inspected_on} is entered already",
                "该小区当日检查已录入台账",
            )
        self._recorded(
            unit=self.unit,
            community_code=self.community_code,
            township=township,
            inspected_on=inspected_on.isoformat(),
            inspector=inspector,
            problems=problems,
            note=note,
        )

    @event(InspectionRecorded)
    def _recorded(
        self,
        unit: str,
        community_code: str,
        township: str,
        inspected_on: str,
        inspector: str,
        problems: list[str],
        note: str,
    ) -> None:
        self.days.append(inspected_on)
