"""Events published by the disclosure service on pubrev.disclosure.events.v1."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from pubrev_contracts.events.base import ContractEvent, Fen, UtcDatetime, register
from pubrev_contracts.topics import DISCLOSURE_EVENTS


@register("pubrev.disclosure.CommunityRegistered.v1", DISCLOSURE_EVENTS)
class CommunityRegisteredV1(ContractEvent):
    community_code: str
    name: str
    address: str
    division_code: str
    township: str
    company_uscc: str
    company_name: str
    signboard_at_main_entrance: bool
    elevator_count: int
    barrier_gate_count: int
    has_leasable_space: bool
    household_count: int


class IncomeLineV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    source: Literal["advertising", "parking", "leasing", "vending", "other"]
    amount_fen: Fen


class DisclosureFiguresV1(BaseModel):
    """The five items of the provincial template, totalled."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    income: list[IncomeLineV1]
    income_total_fen: Fen
    operating_cost_fen: Fen
    expenditure_total_fen: Fen
    surplus_fen: int
    owners_share_fen: Fen
    company_share_fen: Fen
    transferred_to_maintenance_fund_fen: Fen
    posting_days: int
    posting_channels: list[str]


@register("pubrev.disclosure.DisclosureFiled.v1", DISCLOSURE_EVENTS)
class DisclosureFiledV1(ContractEvent):
    community_id: UUID
    community_code: str
    company_uscc: str
    year: int
    quarter: Literal[1, 2, 3, 4]
    figures: DisclosureFiguresV1
    late: bool
    zero_revenue: bool


@register("pubrev.disclosure.DisclosureAmended.v1", DISCLOSURE_EVENTS)
class DisclosureAmendedV1(ContractEvent):
    community_id: UUID
    community_code: str
    company_uscc: str
    year: int
    quarter: Literal[1, 2, 3, 4]
    revision: int
    reason: str
    figures: DisclosureFiguresV1
    late: bool
    """The original filing's late flag (an amendment does not change it)."""
    zero_revenue: bool


@register("pubrev.disclosure.PropertyCompanyRegistered.v1", DISCLOSURE_EVENTS)
class PropertyCompanyRegisteredV1(ContractEvent):
    """`unit` is the city (putian): a company is not bound to one unit."""

    uscc: str
    name: str
    source: Literal["application", "official_registry"]
    uscc_flagged: bool
    """The code fails the GB 32100 check but came from an official registry."""


@register("pubrev.disclosure.PropertyCompanyChanged.v1", DISCLOSURE_EVENTS)
class PropertyCompanyChangedV1(ContractEvent):
    community_code: str
    previous_company_uscc: str
    company_uscc: str
    company_name: str
    effective_date: str
    reason: str


@register("pubrev.disclosure.DisclosureOverdue.v1", DISCLOSURE_EVENTS)
class DisclosureOverdueV1(ContractEvent):
    """No disclosure by the deadline (aggregate: the community)."""

    community_code: str
    company_uscc: str
    year: int
    quarter: Literal[1, 2, 3, 4]


@register("pubrev.disclosure.AuditRequested.v1", DISCLOSURE_EVENTS)
class AuditRequestedV1(ContractEvent):
    """Aggregate: the disclosure to be audited."""

    community_code: str
    company_uscc: str
    year: int
    quarter: Literal[1, 2, 3, 4]
    requester: Literal["owners_committee", "owners"]
    owners_count: int
    household_count: int
    reason: str


@register("pubrev.disclosure.SelfInspectionFiled.v1", DISCLOSURE_EVENTS)
class SelfInspectionFiledV1(ContractEvent):
    """Aggregate: the community's self-inspection ledger for the year. The company's 自查自纠
    ledger (plan 五（二）: problems, measures, deadlines, responsible people) filed and posted
    in the community; published."""

    community_code: str
    company_uscc: str
    year: int
    problems: int
    """Problems the company found itself."""
    posted_on: str
    """The Asia/Shanghai date it was posted in the community, YYYY-MM-DD."""
    filed_at: UtcDatetime
    late: bool = False
    """Filed after the campaign calendar's self_inspection stage (vocabulary.campaign)."""


@register("pubrev.disclosure.AuditResultRecorded.v1", DISCLOSURE_EVENTS)
class AuditResultRecordedV1(ContractEvent):
    """Aggregate: the disclosure. The result of the audit the owners asked for
    (AuditRequested), recorded and posted (DOMAIN.md §3: audit on request)."""

    community_code: str
    year: int
    quarter: int
    auditor: str
    conclusion: Literal["consistent", "discrepancies"]
    discrepancy_fen: Fen
    posted_on: str
    recorded_at: UtcDatetime


@register("pubrev.disclosure.SelfInspectionItemRectified.v1", DISCLOSURE_EVENTS)
class SelfInspectionItemRectifiedV1(ContractEvent):
    """Aggregate: the community's self-inspection ledger for the year (SelfInspectionFiled).
    One problem of the company's 自查自纠 ledger rectified (plan 五（二）: each with its
    measure, deadline and responsible person), recorded by the company or the unit's bureau."""

    community_code: str
    company_uscc: str
    year: int
    item: int
    """The problem's number in the ledger, from 1."""
    rectified_on: str
    """The Asia/Shanghai date it was rectified, YYYY-MM-DD."""
    past_deadline: bool
    """Rectified after the deadline the ledger set for it."""
    recorded_at: UtcDatetime
