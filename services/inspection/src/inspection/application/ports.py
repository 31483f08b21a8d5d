"""What the inspection application needs from its read model (implemented in adapters), and
the one thing it keeps beside it: the secrets of the draws not yet executed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class InspectionReadModel(Protocol):
    def catch_up(self) -> int: ...

    def communities(self, unit: str | None) -> list[WatchRow]:
        """Registered communities of a unit (None: all)."""
        ...

    def inspectors(self, unit: str) -> list[InspectorRow]: ...

    def checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]: ...

    def findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]: ...

    def open_findings_due(self, now: datetime) -> list[str]: ...

    def checked_communities(self, year: int, unit: str) -> int:
        """Distinct communities checked in `year` (Asia/Shanghai) toward `unit`'s quota: for
        the city (putian), those its own plans checked, in any unit; for a county-level unit,
        its communities checked by itself or a cross-check team, never by the city."""
        ...

    def keep_secret(self, commitment: str, secret: str) -> None:
        """Keeps the service's secret of a draw, found by its commitment (sha256), outside
        the event store and every response until the draw reveals it in its event."""
        ...

    def secret(self, commitment: str) -> str | None: ...
