"""What the application needs from the read model (implemented in adapters)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from servicekit.eventstore import ServiceApplication


@dataclass(frozen=True)
class DisclosureRow:
    disclosure_id: str
    version: int
    community_code: str
    unit: str
    company_uscc: str
    year: int
    quarter: int
    income_total_fen: int
    surplus_fen: int
    late: bool
    zero_revenue: bool
    filed_at: datetime
    revision: int

    @property
    def deficit(self) -> bool:
        """Cost and expenditure exceed income (the surplus is negative)."""
        return self.surplus_fen < 0


@dataclass(frozen=True)
class UnitCounts:
    unit: str
    communities: int
    on_time: int
    late: int


@dataclass(frozen=True)
class DisclosureQuery:
    units: Sequence[str]
    year: int
    quarter: int
    """0 for the whole year."""
    company_uscc: str
    """'' for every company."""
    community_code: str
    """'' for every community."""
    after: str
    """Page token: the last disclosure's sort key, '' for the first page."""
    limit: int


@dataclass(frozen=True)
class SelfInspectionRow:
    ledger_id: str
    version: int
    community_code: str
    unit: str
    company_uscc: str
    year: int
    problems: int
    rectified: int
    posted_on: str
    late: bool
    filed_at: datetime


@dataclass(frozen=True)
class SelfInspectionQuery:
    units: Sequence[str]
    year: int
    after: str
    """Page token: the last ledger's community code, '' for the first page."""
    limit: int


class DisclosureReadModel(Protocol):
    """Commands and sweeps (synchronous, in worker threads) catch the read model up and
    read community codes; the queries of the gRPC path (asynchronous, on the servicer's
    loop) make it current and read their pages and counts without leaving the loop."""

    def catch_up(self) -> int:
        """Applies everything recorded so far; returns the position reached."""
        ...

    def position(self) -> int: ...

    def community_codes(self, registered_before: datetime) -> list[str]: ...

    async def current(self) -> int:
        """Applies whatever is recorded and not yet applied (read-your-writes); returns the
        position reached. Costs one query when the read model is current already."""
        ...

    async def list_disclosures(self, query: DisclosureQuery) -> tuple[list[DisclosureRow], str]:
        """A page of disclosures and the next page token ('' on the last page)."""
        ...

    async def unit_counts(
        self, units: Sequence[str], year: int, quarter: int, registered_before: datetime
    ) -> list[UnitCounts]: ...

    async def list_self_inspections(
        self, query: SelfInspectionQuery
    ) -> tuple[list[SelfInspectionRow], str]:
        """A page of self-inspection ledgers by community code, and the next page token."""
        ...


ReadModelOf = Callable[[ServiceApplication], DisclosureReadModel]
"""Builds the read model on the application it is given to: it follows that application's
own notification log, which exists only once the application does
(`InMemoryDisclosureReadModel`, or the PostgreSQL one in bootstrap.py)."""
