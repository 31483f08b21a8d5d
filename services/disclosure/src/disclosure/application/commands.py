"""Commands and views of the disclosure application, in plain Python (no wire types)."""

from __future__ import annotations

from dataclasses import dataclass

from disclosure.domain.content import DisclosureContent


@dataclass(frozen=True)
class RegisterCommunity:
    request_id: str
    community_code: str
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


@dataclass(frozen=True)
class FileDisclosure:
    request_id: str
    community_code: str
    year: int
    quarter: int
    content: DisclosureContent


@dataclass(frozen=True)
class AmendDisclosure:
    request_id: str
    disclosure_id: str
    expected_version: int
    reason: str
    content: DisclosureContent


@dataclass(frozen=True)
class DisclosureView:
    disclosure_id: str
    version: int
    community_code: str
    unit: str
    year: int
    quarter: int
    content: DisclosureContent
    late: bool
    filed_at: str
    revision: int
    amendment_reason: str


@dataclass(frozen=True)
class RegisterCompany:
    request_id: str
    uscc: str
    name: str
    source: str


@dataclass(frozen=True)
class ChangePropertyCompany:
    request_id: str
    community_code: str
    new_company_uscc: str
    effective_date: str
    reason: str


@dataclass(frozen=True)
class RequestAudit:
    request_id: str
    disclosure_id: str
    requester: str
    owners_count: int
    reason: str


@dataclass(frozen=True)
class UnitRate:
    unit: str
    communities: int
    on_time: int
    late: int
    overdue: int
    pending: int
    rate_percent: str
    on_time_rate_percent: str
