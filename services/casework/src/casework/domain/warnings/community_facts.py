"""What the warnings remember of one community (小区预警档案): its unit and company, its
facilities (CommunityRegistered), its last disclosures (DisclosureFiled, DisclosureAmended)
and its recent complaints (ComplaintReceived)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from casework.domain.warnings import NAMESPACE
from pubrev_contracts.vocabulary.calendar import Quarter

QUARTERS_KEPT = 8
"""Disclosure quarters remembered per community (revenue_drop looks back 4 at most)."""
COMPLAINTS_KEPT = 32
"""Complaint times remembered per community: more than any sane threshold."""


@dataclass(frozen=True)
class Facilities:
    """What earns public revenue in a community (from CommunityRegistered)."""

    elevators: int
    barrier_gates: int
    leasable_space: bool

    @property
    def any(self) -> bool:
        return self.elevators > 0 or self.barrier_gates > 0 or self.leasable_space


@dataclass(frozen=True)
class QuarterFigures:
    """One quarter's disclosure, as filed or last amended (money in fen)."""

    year: int
    quarter: int
    revision: int
    income_fen: int
    cost_fen: int
    surplus_fen: int
    transferred_fen: int
    expenditure_fen: int
    zero_revenue: bool
    late: bool

    @property
    def of(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    @property
    def period(self) -> str:
        return str(self.of)


class CommunityFacts(Aggregate):
    """What the warnings remember of one community: its unit and company, its facilities,
    its last `QUARTERS_KEPT` disclosures and its recent complaints."""

    class Opened(Aggregate.Created):
        community_code: str
        unit: str

    @event(Opened)
    def __init__(self, community_code: str, unit: str) -> None:
        self.community_code = community_code
        self.unit = unit
        self.company = ""
        self.facilities: Facilities | None = None
        self.quarters: dict[Quarter, QuarterFigures] = {}
        self.complaints: list[datetime] = []

    @staticmethod
    def create_id(community_code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"community:{community_code}")

    class Registered(Aggregate.Event):
        unit: str
        company: str
        elevators: int
        barrier_gates: int
        leasable_space: bool

    def register(
        self, unit: str, company: str, elevators: int, barrier_gates: int, leasable_space: bool
    ) -> None:
        self._registered(
            unit=unit,
            company=company,
            elevators=elevators,
            barrier_gates=barrier_gates,
            leasable_space=leasable_space,
        )

    @event(Registered)
    def _registered(
        self, unit: str, company: str, elevators: int, barrier_gates: int, leasable_space: bool
    ) -> None:
        self.unit = unit
        self.company = company or self.company
        self.facilities = Facilities(elevators, barrier_gates, leasable_space)

    class DisclosureNoted(Aggregate.Event):
        unit: str
        company: str
        year: int
        quarter: int
        revision: int
        income_fen: int
        cost_fen: int
        surplus_fen: int
        transferred_fen: int
        expenditure_fen: int
        zero_revenue: bool
        late: bool

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 did not keep the expenditure. Every stored filing satisfied the
            # identity (the disclosure service refuses one that does not), so it is exact.
            state["expenditure_fen"] = (
                state["income_fen"] - state["cost_fen"] - state["surplus_fen"]
            )

    def note_disclosure(self, unit: str, company: str, figures: QuarterFigures) -> bool:
        """Remembers a filing or amendment; False (and no event) for a revision older than
        the one remembered, or a quarter older than all those kept."""
        known = self.quarters.get(figures.of)
        if known is not None and figures.revision < known.revision:
            return False
        if (
            known is None
            and len(self.quarters) >= QUARTERS_KEPT
            and figures.of < min(self.quarters)
        ):
            return False
        self._disclosure(
            unit=unit,
            company=company,
            year=figures.year,
            quarter=figures.quarter,
            revision=figures.revision,
            income_fen=figures.income_fen,
            cost_fen=figures.cost_fen,
            surplus_fen=figures.surplus_fen,
            transferred_fen=figures.transferred_fen,
            expenditure_fen=figures.expenditure_fen,
            zero_revenue=figures.zero_revenue,
            late=figures.late,
        )
        return True

    @event(DisclosureNoted)
    def _disclosure(
        self,
        unit: str,
        company: str,
        year: int,
        quarter: int,
        revision: int,
        income_fen: int,
        cost_fen: int,
        surplus_fen: int,
        transferred_fen: int,
        expenditure_fen: int,
        zero_revenue: bool,
        late: bool,
    ) -> None:
        self.unit = unit or self.unit
        self.company = company or self.company
        figures = QuarterFigures(
            year,
            quarter,
            revision,
            income_fen,
            cost_fen,
            surplus_fen,
            transferred_fen,
            expenditure_fen,
            zero_revenue,
            late,
        )
        self.quarters[figures.of] = figures
        for old in sorted(self.quarters)[:-QUARTERS_KEPT]:
            del self.quarters[old]

    class ComplaintNoted(Aggregate.Event):
        received_at: datetime

    def note_complaint(self, received_at: datetime) -> None:
        self._complaint(received_at=received_at)

    @event(ComplaintNoted)
    def _complaint(self, received_at: datetime) -> None:
        # Sorted, whatever order they arrive in; the oldest go first.
        self.complaints = sorted([*self.complaints, received_at])[-COMPLAINTS_KEPT:]


# Stored before issue 12 under the single module casework.domain.warnings (ADR 0014).
register_topic("casework.domain.warnings:CommunityFacts", CommunityFacts)
register_topic("casework.domain.warnings:CommunityFacts.Opened", CommunityFacts.Opened)
register_topic("casework.domain.warnings:CommunityFacts.Registered", CommunityFacts.Registered)
register_topic(
    "casework.domain.warnings:CommunityFacts.DisclosureNoted", CommunityFacts.DisclosureNoted
)
register_topic(
    "casework.domain.warnings:CommunityFacts.ComplaintNoted", CommunityFacts.ComplaintNoted
)
