"""What the inspection application needs from its read model (implemented in adapters), the
one thing it keeps beside it (the secrets of the draws not yet executed), and the evidence
store its commands' attachments must be in (servicekit.attachments.AttachmentStore)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from servicekit.attachments import AttachmentStore

__all__ = [
    "AttachmentStore",
    "AttachmentUse",
    "CheckRow",
    "CrossCheckRow",
    "FindingRow",
    "InspectionReadModel",
    "InspectorRow",
    "TownshipInspectionRow",
    "WatchRow",
]


@dataclass(frozen=True)
class WatchRow:
    code: str
    unit: str
    company_uscc: str
    zero_revenue: bool
    overdue_count: int
    leads: int
    handed_down: bool = False
    major_petition: bool = False
    township: str = ""


@dataclass(frozen=True)
class InspectorRow:
    code: str
    unit: str
    conflicts: tuple[str, ...]


@dataclass(frozen=True)
class CheckRow:
    spot_check_id: str
    plan_id: str
    community_code: str
    unit: str
    company_uscc: str
    inspected_at: datetime
    findings: int
    checking_unit: str
    checking_kind: str


@dataclass(frozen=True)
class FindingRow:
    finding_id: str
    community_code: str
    unit: str
    company_uscc: str
    kind: str
    kind_name: str
    severity: str
    legal_basis: str
    deadline: datetime | None
    status: str
    checking_unit: str
    checking_kind: str
    deadline_basis: str
    party: str = "company"
    agency_unit: str = ""
    warning_id: str = ""
    objection: str = ""
    """"" (none), pending, upheld or rejected."""
    submissions: int = 0
    """The company's rectification evidence submitted so far."""


@dataclass(frozen=True)
class TownshipInspectionRow:
    """One entry of a township's inspection ledger."""

    ledger_id: str
    community_code: str
    unit: str
    township: str
    inspected_on: date
    inspector: str
    problems: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class AttachmentUse:
    """A record referencing a stored file, by the facts its read rule judges."""

    sha256: str
    record_id: str
    unit: str
    company_uscc: str
    community_code: str


@dataclass(frozen=True)
class CrossCheckRow:
    """A cross check (交叉检查) as planned, and when it was first reported."""

    plan_id: str
    year: int
    quarter: int
    checking_unit: str
    checked_unit: str
    reported_at: datetime | None


class InspectionReadModel(Protocol):
    """Commands and the sweep run in threads and read it synchronously (`catch_up` first, to
    read their own writes); the gRPC path's queries run on the servicer's loop and read it
    with the async methods (`current` first), no thread hop when the projection is current."""

    def catch_up(self) -> int: ...

    async def current(self) -> int:
        """Makes the read model current (read-your-writes); returns the log position reached."""
        ...

    def communities(self, unit: str | None) -> list[WatchRow]:
        """Registered communities of a unit (None: all)."""
        ...

    async def query_communities(self, unit: str | None) -> list[WatchRow]:
        """`communities`, for a query."""
        ...

    def inspectors(self, unit: str) -> list[InspectorRow]: ...

    def checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]: ...

    async def query_checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        """`checks`, for a query."""
        ...

    def findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]: ...

    async def query_findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]:
        """`findings`, for a query."""
        ...

    def open_findings_due(self, now: datetime) -> list[str]: ...

    async def township_inspections(
        self, units: list[str], township: str, community_code: str, since: date, until: date
    ) -> list[TownshipInspectionRow]:
        """Ledger entries of the units' communities inspected from `since` to `until`
        (inclusive), of one township and one community when given ("": any)."""
        ...

    async def cross_checks(self, year: int) -> list[CrossCheckRow]:
        """The year's cross checks, with their first report."""
        ...

    def attachment_uses(self, sha256: str) -> list[AttachmentUse]:
        """The findings whose evidence, rectification evidence or objection reference it
        (read for the evidence service's download, which runs in a thread)."""
        ...

    async def checked_communities(self, year: int, unit: str) -> int:
        """Distinct communities checked in `year` (Asia/Shanghai) toward `unit`'s quota: for
        the city (putian), those its own plans checked, in any unit; for a county-level unit,
        its communities checked by itself or a cross-check team, never by the city."""
        ...

    def keep_secret(self, commitment: str, secret: str) -> None:
        """Keeps the service's secret of a draw, found by its commitment (sha256), outside
        the event store and every response until the draw reveals it in its event."""
        ...

    def secret(self, commitment: str) -> str | None: ...
