"""Domain events of the disclosure service → contract events on pubrev.disclosure.events.v1.

Events with no public meaning (command receipts) translate to None and are not published.
"""

from __future__ import annotations

from typing import Any

from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent
from disclosure.domain.property_company import PropertyCompany
from disclosure.domain.self_inspection_ledger import SelfInspectionLedger
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.events.disclosure import (
    AuditRequestedV1,
    AuditResultRecordedV1,
    CommunityRegisteredV1,
    DisclosureAmendedV1,
    DisclosureFiguresV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
    IncomeLineV1,
    PropertyCompanyChangedV1,
    PropertyCompanyRegisteredV1,
    SelfInspectionFiledV1,
    SelfInspectionItemRectifiedV1,
)
from pubrev_contracts.vocabulary.units import CITY


def figures(content_state: dict[str, Any]) -> DisclosureFiguresV1:
    content = DisclosureContent.from_state(content_state)
    return DisclosureFiguresV1(
        income=[
            IncomeLineV1.model_validate({"source": i.source, "amount_fen": i.amount_fen})
            for i in content.income
        ],
        income_total_fen=content.income_total_fen,
        operating_cost_fen=content.operating_cost_fen or 0,
        expenditure_total_fen=content.expenditure_total_fen,
        surplus_fen=content.surplus_fen,
        owners_share_fen=content.owners_share_fen or 0,
        company_share_fen=content.company_share_fen or 0,
        transferred_to_maintenance_fund_fen=content.transferred_to_maintenance_fund_fen or 0,
        posting_days=content.posting_days,
        posting_channels=list(content.posting_channels),
    )


def to_contract(event: Any) -> ContractEvent | None:
    """The contract event of a domain event, each field named; None for what is not
    published."""
    if isinstance(event, PropertyCompany.Registered):
        return PropertyCompanyRegisteredV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=CITY,
            uscc=event.uscc,
            name=event.name,
            source=event.source,
            uscc_flagged=event.uscc_flagged,
        )
    if isinstance(event, Community.CompanyChanged):
        return PropertyCompanyChangedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.code,
            previous_company_uscc=event.previous_uscc,
            company_uscc=event.new_uscc,
            company_name=event.new_company_name,
            effective_date=event.effective_date,
            reason=event.reason,
        )
    if isinstance(event, Community.DisclosureOverdue):
        return DisclosureOverdueV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.code,
            company_uscc=event.company_uscc,
            year=event.year,
            quarter=event.quarter,
        )
    if isinstance(event, Disclosure.AuditRequested):
        return AuditRequestedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            year=event.year,
            quarter=event.quarter,
            requester=event.requester,
            owners_count=event.owners_count,
            household_count=event.household_count,
            reason=event.reason,
        )
    if isinstance(event, Community.Registered):
        return CommunityRegisteredV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.code,
            name=event.name,
            address=event.address,
            division_code=event.division_code,
            township=event.township,
            company_uscc=event.company_uscc,
            company_name=event.company_name,
            signboard_at_main_entrance=event.signboard_at_main_entrance,
            elevator_count=event.elevator_count,
            barrier_gate_count=event.barrier_gate_count,
            has_leasable_space=event.has_leasable_space,
            household_count=event.household_count,
        )
    if isinstance(event, Disclosure.Filed):
        return DisclosureFiledV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_id=event.community_id,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            year=event.year,
            quarter=event.quarter,
            figures=figures(event.content),
            late=event.late,
            zero_revenue=DisclosureContent.from_state(event.content).zero_revenue,
        )
    if isinstance(event, Disclosure.Amended):
        return DisclosureAmendedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_id=event.community_id,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            year=event.year,
            quarter=event.quarter,
            revision=event.revision,
            reason=event.reason,
            figures=figures(event.content),
            late=event.late,
            zero_revenue=DisclosureContent.from_state(event.content).zero_revenue,
        )
    if isinstance(event, Disclosure.AuditResultRecorded):
        return AuditResultRecordedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.community_code,
            year=event.year,
            quarter=event.quarter,
            auditor=event.auditor,
            conclusion=event.conclusion,
            discrepancy_fen=event.discrepancy_fen,
            posted_on=event.posted_on,
            recorded_at=event.recorded_at,
        )
    if isinstance(event, SelfInspectionLedger.Filed):
        return SelfInspectionFiledV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            year=event.year,
            problems=len(event.items),
            posted_on=event.posted_on,
            filed_at=event.filed_at,
            late=event.late,
        )
    if isinstance(event, SelfInspectionLedger.ItemRectified):
        return SelfInspectionItemRectifiedV1(
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            unit=event.unit,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            year=event.year,
            item=event.item,
            rectified_on=event.rectified_on,
            past_deadline=event.past_deadline,
            recorded_at=event.recorded_at,
        )
    return None
