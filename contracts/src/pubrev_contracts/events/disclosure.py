"""Events published by the disclosure service on pubrev.disclosure.events.v1."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from pubrev_contracts.events.base import ContractEvent, Fen, register
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
