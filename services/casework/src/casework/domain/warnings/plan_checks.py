"""The communities checked under one spot-check plan (SpotCheckDone by plan_id), counted
for the unit whose plan it is (unit_inspections), each with the day it was first checked
(Asia/Shanghai), so that the monthly circular counts what was checked by its day."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from casework.domain.warnings import NAMESPACE


class PlanChecks(Aggregate):
    """The communities checked under one plan, each once. Kept apart from the plan's unit
    because the plan and its checks are different aggregates of inspection, on different
    partitions: a check may arrive before its plan."""

    class Opened(Aggregate.Created):
        plan_id: str

    @event(Opened)
    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        self.checked: list[str] = []
        self.checked_on: dict[str, date | None] = {}
        """Community → the day it was first checked (None: noted before days were kept)."""

    @staticmethod
    def create_id(plan_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"plan-checks:{plan_id}")

    class CheckNoted(Aggregate.Event):
        community_code: str
        checked_on: date | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 did not keep the day: such a check counts as done before any day.
            state["checked_on"] = None

    def note_check(self, community_code: str, checked_on: date | None = None) -> bool:
        """False (and no event) for a community checked under the plan before."""
        if community_code in self.checked:
            return False
        self._check(community_code=community_code, checked_on=checked_on)
        return True

    @event(CheckNoted)
    def _check(self, community_code: str, checked_on: date | None) -> None:
        self.checked.append(community_code)
        self.checked_on[community_code] = checked_on

    def checked_by(self, day: date) -> set[str]:
        """The communities checked on or before `day` (those noted without a day, too)."""
        return {c for c in self.checked if (self.checked_on.get(c) or day) <= day}


# Stored before issue 12 under the single module casework.domain.warnings (ADR 0014).
register_topic("casework.domain.warnings:PlanChecks", PlanChecks)
register_topic("casework.domain.warnings:PlanChecks.Opened", PlanChecks.Opened)
register_topic("casework.domain.warnings:PlanChecks.CheckNoted", PlanChecks.CheckNoted)
