"""The communities checked under one spot-check plan (SpotCheckDone by plan_id), counted
for the unit whose plan it is (unit_inspections)."""

from __future__ import annotations

import uuid

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

    @staticmethod
    def create_id(plan_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"plan-checks:{plan_id}")

    class CheckNoted(Aggregate.Event):
        community_code: str

    def note_check(self, community_code: str) -> bool:
        """False (and no event) for a community checked under the plan before."""
        if community_code in self.checked:
            return False
        self._check(community_code=community_code)
        return True

    @event(CheckNoted)
    def _check(self, community_code: str) -> None:
        self.checked.append(community_code)


# Stored before issue 12 under the single module casework.domain.warnings (ADR 0014).
register_topic("casework.domain.warnings:PlanChecks", PlanChecks)
register_topic("casework.domain.warnings:PlanChecks.Opened", PlanChecks.Opened)
register_topic("casework.domain.warnings:PlanChecks.CheckNoted", PlanChecks.CheckNoted)
