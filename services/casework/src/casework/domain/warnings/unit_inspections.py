"""A unit's yearly spot-check quota and the plans whose checks count toward it, as inspection
reports them (SpotCheckPlanned): what unit_behind_quota judges a unit on."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from casework.domain.warnings import NAMESPACE


class UnitInspections(Aggregate):
    """A unit's yearly spot-check quota (a county-level unit's, or the city's) and the plans
    whose checks count toward it.

    A check counts for the unit whose yearly plan it belongs to (SpotCheckDone.plan_id), not
    for the community's unit: the city's checks of a county's communities are the city's
    15%, not the county's 50% (plan 四（三）). A cross check's plan (四（四）) is noted for the
    checked unit: it verifies that unit's communities (as inspection's progress counts it).
    `checked` holds the communities noted by unit before checks were counted by plan; they
    still count (a set: nothing twice)."""

    class Opened(Aggregate.Created):
        unit: str
        year: int

    @event(Opened)
    def __init__(self, unit: str, year: int) -> None:
        self.unit = unit
        self.year = year
        self.quota = 0
        self.checked: list[str] = []
        self.plans: list[str] = []

    @staticmethod
    def create_id(unit: str, year: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"unit-inspections:{unit}:{year}")

    class QuotaNoted(Aggregate.Event):
        quota: int

    def note_quota(self, quota: int) -> None:
        self._quota(quota=quota)

    @event(QuotaNoted)
    def _quota(self, quota: int) -> None:
        self.quota = quota

    class CheckNoted(Aggregate.Event):
        community_code: str

    @event(CheckNoted)
    def _check(self, community_code: str) -> None:
        # Only replayed from stores written before checks were counted by plan.
        self.checked.append(community_code)

    class PlanNoted(Aggregate.Event):
        plan_id: str

    def note_plan(self, plan_id: str) -> None:
        if plan_id not in self.plans:
            self._plan(plan_id=plan_id)

    @event(PlanNoted)
    def _plan(self, plan_id: str) -> None:
        self.plans.append(plan_id)


# Stored before issue 12 under the single module casework.domain.warnings (ADR 0014).
register_topic("casework.domain.warnings:UnitInspections", UnitInspections)
register_topic("casework.domain.warnings:UnitInspections.Opened", UnitInspections.Opened)
register_topic("casework.domain.warnings:UnitInspections.QuotaNoted", UnitInspections.QuotaNoted)
register_topic("casework.domain.warnings:UnitInspections.CheckNoted", UnitInspections.CheckNoted)
register_topic("casework.domain.warnings:UnitInspections.PlanNoted", UnitInspections.PlanNoted)
