"""The campaign's handlers of contract events (issue 13 items 2, 3 and 7), merged into the
subscriptions of entrypoints/consumers.py (the groups that already read these topics:
`casework.warnings.disclosure` and `casework.warnings.inspection`, so no new group and no
new topic). Each passes plain values to the application's policies
(application/handlers/campaign.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casework.application.app import CaseworkApplication
from casework.application.handlers import campaign
from pubrev_contracts.events.disclosure import SelfInspectionFiledV1
from pubrev_contracts.events.inspection import (
    CrossCheckReportedV1,
    FindingWithdrawnV1,
    RectificationOrderedV1,
    RectificationVerifiedV1,
    TownshipInspectionRecordedV1,
)
from servicekit.eventstore import DeliveryRef

Handlers = dict[type, Callable[[Any, DeliveryRef], bool]]


def disclosure_handlers(app: CaseworkApplication) -> Handlers:
    def on_self_inspection_filed(event: SelfInspectionFiledV1, delivery: DeliveryRef) -> bool:
        return campaign.on_self_inspection_filed(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            year=event.year,
            filed_at=event.filed_at,
        )

    return {SelfInspectionFiledV1: on_self_inspection_filed}


def inspection_handlers(app: CaseworkApplication) -> Handlers:
    # Every rectification event's aggregate is its finding.
    def on_township_inspection(event: TownshipInspectionRecordedV1, delivery: DeliveryRef) -> bool:
        return campaign.on_township_inspection_recorded(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            inspected_on=event.inspected_on,
        )

    def on_rectification_ordered(event: RectificationOrderedV1, delivery: DeliveryRef) -> bool:
        return campaign.on_rectification_ordered(
            app,
            delivery,
            finding_id=str(event.aggregate_id),
            unit=event.unit,
            ordered_at=event.occurred_at,
        )

    def on_rectification_verified(event: RectificationVerifiedV1, delivery: DeliveryRef) -> bool:
        return campaign.on_rectification_verified(
            app,
            delivery,
            finding_id=str(event.aggregate_id),
            unit=event.unit,
            verified_at=event.verified_at,
        )

    def on_finding_withdrawn(event: FindingWithdrawnV1, delivery: DeliveryRef) -> bool:
        return campaign.on_finding_withdrawn(
            app,
            delivery,
            finding_id=str(event.aggregate_id),
            unit=event.unit,
            company=event.company_uscc,
            reason=event.reason,
            withdrawn_at=event.withdrawn_at,
        )

    def on_cross_check_reported(event: CrossCheckReportedV1, delivery: DeliveryRef) -> bool:
        return campaign.on_cross_check_reported(
            app,
            delivery,
            unit=event.unit,
            checked_unit=event.checked_unit,
            year=event.year,
            quarter=event.quarter,
            reported_at=event.occurred_at,
        )

    return {
        TownshipInspectionRecordedV1: on_township_inspection,
        RectificationOrderedV1: on_rectification_ordered,
        RectificationVerifiedV1: on_rectification_verified,
        FindingWithdrawnV1: on_finding_withdrawn,
        CrossCheckReportedV1: on_cross_check_reported,
    }
