"""The roster of inspectors (检查人员名录) and their declared conflicts of interest."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("7d3c4b2a-1f0e-4c5d-9e8f-0a1b2c3d4e5f")


class Inspector(Aggregate):
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
        if community_code not in self.conflicts:
            self._conflict(community_code=community_code, reason=reason)

    @event(ConflictDeclared)
    def _conflict(self, community_code: str, reason: str) -> None:
        self.conflicts.append(community_code)
