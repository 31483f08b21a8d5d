"""The roster of inspectors (检查人员名录) and their declared conflicts of interest."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

NAMESPACE = uuid.UUID("7d3c4b2a-1f0e-4c5d-9e8f-0a1b2c3d4e5f")


class Inspector(Aggregate):
    """An inspector of a unit's roster (检查人员), drawn for targets of its unit's plans."""

    class Registered(Aggregate.Created):
        code: str
        name: str
        unit: str

    @event(Registered)
    def __init__(self, code: str, name: str, unit: str) -> None:
        self.code = code
        self.name = name
        self.unit = unit
        self.conflicts: list[str] = []

    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"inspector:{code}")

    class ConflictDeclared(Aggregate.Event):
        community_code: str
        reason: str

    def declare_conflict(self, community_code: str, reason: str) -> None:
        """A conflict of interest with a community (利害关系): the inspector is never drawn
        for it again. Declared once; a repeat records nothing."""
        if community_code not in self.conflicts:
            self._conflict(community_code=community_code, reason=reason)

    @event(ConflictDeclared)
    def _conflict(self, community_code: str, reason: str) -> None:
        self.conflicts.append(community_code)


# Inspectors were stored under inspection.domain.roster until issue 12 named each
# aggregate's module after it: their stored topics keep resolving here (ADR 0014). Never
# remove a line while such events are stored.
register_topic("inspection.domain.roster:Inspector", Inspector)
register_topic("inspection.domain.roster:Inspector.Registered", Inspector.Registered)
register_topic("inspection.domain.roster:Inspector.ConflictDeclared", Inspector.ConflictDeclared)
