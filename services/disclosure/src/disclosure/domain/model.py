"""Aggregates of the disclosure service: Community (小区) and Disclosure (季度公示).

Event class names are stored with every event: renaming one is a data migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from disclosure.domain.calendar import Quarter
from disclosure.domain.content import DisclosureContent

NAMESPACE = uuid.UUID("0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31")


class Community(Aggregate):
    """A residential community under one supervising unit, managed by one property company."""

    class Registered(Aggregate.Created):
        code: str
        name: str
        address: str
        unit: str
        division_code: str
        township: str
        company_uscc: str
        company_name: str
        signboard_at_main_entrance: bool
        elevator_count: int
        barrier_gate_count: int
        has_leasable_space: bool
        household_count: int

    @event(Registered)
    def __init__(
        self, code: str, name: str, address: str, unit: str, division_code: str,
        township: str, company_uscc: str, company_name: str,
        signboard_at_main_entrance: bool, elevator_count: int, barrier_gate_count: int,
        has_leasable_space: bool, household_count: int,
    ) -> None:
        self.code = code
        self.name = name
        self.address = address
        self.unit = unit
        self.division_code = division_code
        self.township = township
        self.company_uscc = company_uscc
        self.company_name = company_name
        self.signboard_at_main_entrance = signboard_at_main_entrance
        self.elevator_count = elevator_count
        self.barrier_gate_count = barrier_gate_count
        self.has_leasable_space = has_leasable_space
        self.household_count = household_count

    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"community:{code}")


class Disclosure(Aggregate):
    """One community's disclosure for one quarter. Never edited: corrected by amendments,
    and every version stays in the event history."""

    class Filed(Aggregate.Created):
        community_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        year: int
        quarter: int
        content: dict[str, Any]
        late: bool
        filed_at: datetime

    class Amended(Aggregate.Event):
        reason: str
        content: dict[str, Any]
        unit: str
        community_id: uuid.UUID
        community_code: str
        company_uscc: str
        year: int
        quarter: int
        revision: int
        late: bool

    @event(Filed)
    def __init__(
        self, community_id: uuid.UUID, community_code: str, unit: str, company_uscc: str,
        year: int, quarter: int, content: dict[str, Any], late: bool, filed_at: datetime,
    ) -> None:
        self.community_id = community_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.year = year
        self.quarter = quarter
        self.content_state = content
        self.late = late
        self.filed_at = filed_at
        self.revision = 0
        self.amendment_reason = ""

    @staticmethod
    def create_id(community_code: str, year: int, quarter: int) -> uuid.UUID:
        # eventsourcing calls this with the constructor's arguments of the same names.
        return uuid.uuid5(NAMESPACE, f"disclosure:{community_code}:{Quarter(year, quarter)}")

    @property
    def content(self) -> DisclosureContent:
        return DisclosureContent.from_state(self.content_state)

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    def amend(self, reason: str, content: DisclosureContent) -> None:
        # The event repeats the disclosure's identity (unit, community, quarter) so that it
        # can be published on its own, without replaying the aggregate.
        self._amended(
            reason=reason, content=content.to_state(), unit=self.unit,
            community_id=self.community_id, community_code=self.community_code,
            company_uscc=self.company_uscc, year=self.year, quarter=self.quarter,
            revision=self.revision + 1, late=self.late,
        )

    @event(Amended)
    def _amended(
        self, reason: str, content: dict[str, Any], unit: str, community_id: uuid.UUID,
        community_code: str, company_uscc: str, year: int, quarter: int, revision: int,
        late: bool,
    ) -> None:
        self.content_state = content
        self.revision = revision
        self.amendment_reason = reason
