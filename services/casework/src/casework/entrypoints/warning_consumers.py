"""Kafka subscriptions of the warnings policy (智慧监督 预警): contract events of disclosure,
inspection and casework → `WarningsPolicy`, as plain values.

One consumer (Kafka group, tracking prefix) per topic: `casework.warnings.<service>`. A
single group over three topics works too, but every member's start then rebalances all
three subscriptions.
"""

from __future__ import annotations

from casework.application.warnings import WarningsPolicy
from pubrev_contracts.events.casework import ComplaintReceivedV1
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureAmendedV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
)
from pubrev_contracts.events.inspection import (
    RectificationOverdueV1,
    SpotCheckDoneV1,
    SpotCheckPlannedV1,
    ViolationFoundV1,
)
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef
from servicekit.identity import CITY_UNIT

WARNINGS = "casework.warnings"
PACED_UNITS = (*COUNTY_UNITS, CITY_UNIT)
"""Units with a yearly spot-check quota: the seven county-level units and the city."""


def warning_subscriptions(policy: WarningsPolicy) -> list[Subscription]:
    def on_registered(event: CommunityRegisteredV1, delivery: DeliveryRef) -> bool:
        return policy.on_community_registered(
            event.community_code,
            event.unit,
            event.company_uscc,
            event.elevator_count,
            event.barrier_gate_count,
            event.has_leasable_space,
            delivery,
        )

    def on_filed(event: DisclosureFiledV1, delivery: DeliveryRef) -> bool:
        f = event.figures
        return policy.on_disclosure(
            event.community_code,
            event.unit,
            event.company_uscc,
            event.year,
            event.quarter,
            f.income_total_fen,
            f.operating_cost_fen,
            f.surplus_fen,
            f.transferred_to_maintenance_fund_fen,
            event.zero_revenue,
            event.late,
            delivery,
            expenditure_fen=f.expenditure_total_fen,
        )

    def on_amended(event: DisclosureAmendedV1, delivery: DeliveryRef) -> bool:
        f = event.figures
        return policy.on_disclosure(
            event.community_code,
            event.unit,
            event.company_uscc,
            event.year,
            event.quarter,
            f.income_total_fen,
            f.operating_cost_fen,
            f.surplus_fen,
            f.transferred_to_maintenance_fund_fen,
            event.zero_revenue,
            event.late,
            delivery,
            expenditure_fen=f.expenditure_total_fen,
            revision=event.revision,
        )

    def on_overdue(event: DisclosureOverdueV1, delivery: DeliveryRef) -> bool:
        return policy.on_overdue(
            event.community_code,
            event.unit,
            event.company_uscc,
            event.year,
            event.quarter,
            delivery,
        )

    def on_violation(event: ViolationFoundV1, delivery: DeliveryRef) -> bool:
        return policy.on_violation(
            event.company_uscc,
            event.unit,
            str(event.aggregate_id),
            event.found_at,
            delivery,
            community_code=event.community_code,
            kind=event.kind,
        )

    def on_rectification_overdue(event: RectificationOverdueV1, delivery: DeliveryRef) -> bool:
        # The aggregate of the rectification events is the finding.
        return policy.on_rectification_overdue(
            str(event.aggregate_id),
            event.unit,
            event.community_code,
            event.company_uscc,
            event.kind,
            event.deadline,
            delivery,
        )

    def on_planned(event: SpotCheckPlannedV1, delivery: DeliveryRef) -> bool:
        # A yearly plan sets its unit's pace: a county-level unit's 50% or the city's 15%
        # (plan 四（三）). A cross check (四（四）) carries no quota; its checks count for
        # the checked unit, as inspection's progress counts them.
        if event.kind == "cross" and event.checked_unit in COUNTY_UNITS:
            return policy.on_cross_plan(
                str(event.aggregate_id), event.checked_unit, event.year, delivery
            )
        if event.kind != "yearly" or event.unit not in PACED_UNITS:
            return False
        return policy.on_plan(
            str(event.aggregate_id), event.unit, event.year, event.quota, delivery
        )

    def on_checked(event: SpotCheckDoneV1, delivery: DeliveryRef) -> bool:
        # By plan, not by `unit` (the community's): a city check counts for the city.
        return policy.on_check(str(event.plan_id), event.community_code, delivery)

    def on_complaint(event: ComplaintReceivedV1, delivery: DeliveryRef) -> bool:
        return policy.on_complaint(
            event.community_code, event.unit, event.company_uscc, event.received_at, delivery
        )

    return [
        Subscription(
            f"{WARNINGS}.disclosure",
            DISCLOSURE_EVENTS,
            {
                CommunityRegisteredV1: on_registered,
                DisclosureFiledV1: on_filed,
                DisclosureAmendedV1: on_amended,
                DisclosureOverdueV1: on_overdue,
            },
        ),
        Subscription(
            f"{WARNINGS}.inspection",
            INSPECTION_EVENTS,
            {
                ViolationFoundV1: on_violation,
                RectificationOverdueV1: on_rectification_overdue,
                SpotCheckPlannedV1: on_planned,
                SpotCheckDoneV1: on_checked,
            },
        ),
        Subscription(f"{WARNINGS}.casework", CASEWORK_EVENTS, {ComplaintReceivedV1: on_complaint}),
    ]
