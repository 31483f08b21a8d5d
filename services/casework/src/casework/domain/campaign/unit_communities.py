"""The communities of one county-level unit (辖区物业小区), as disclosure registers them
(CommunityRegistered): what a stage expects of the unit (every community self-inspected,
every one inspected by its township) and the denominator of its rates in the circular."""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import Aggregate, event

from casework.domain.campaign import NAMESPACE


class UnitCommunities(Aggregate):
    """The communities registered in one unit, each with the day (Asia/Shanghai) it was
    registered, so that a stage expects only the communities registered by its due date."""

    class Opened(Aggregate.Created):
        unit: str

    @event(Opened)
    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.communities: dict[str, date] = {}

    @staticmethod
    def create_id(unit: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"unit-communities:{unit}")

    class CommunityNoted(Aggregate.Event):
        community_code: str
        registered_on: date

    def note(self, community_code: str, registered_on: date) -> bool:
        """False (and no event) for a community noted before: a registration repeated or
        re-driven keeps the first day."""
        if community_code in self.communities:
            return False
        self._noted(community_code=community_code, registered_on=registered_on)
        return True

    @event(CommunityNoted)
    def _noted(self, community_code: str, registered_on: date) -> None:
        self.communities[community_code] = registered_on

    class CommunityLeft(Aggregate.Event):
        community_code: str

    def drop(self, community_code: str) -> bool:
        """The community is now registered under another unit. False if it was not here."""
        if community_code not in self.communities:
            return False
        self._left(community_code=community_code)
        return True

    @event(CommunityLeft)
    def _left(self, community_code: str) -> None:
        del self.communities[community_code]

    def registered_by(self, day: date) -> set[str]:
        """The communities registered on or before `day`."""
        return {code for code, on in self.communities.items() if on <= day}
