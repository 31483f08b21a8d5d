"""Kafka subscriptions of the casework service: each finding opens a rectification case."""

from __future__ import annotations

from casework.application.app import CaseworkApplication
from pubrev_contracts.events.inspection import RectificationOrderedV1
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef

RECTIFICATION = "casework.rectification"


def subscriptions(app: CaseworkApplication) -> list[Subscription]:
    # RectificationOrdered (not ViolationFound) carries the deadline the case tracks.
    def on_ordered(event: RectificationOrderedV1, delivery: DeliveryRef) -> bool:
        return app.open_rectification_case(
            str(event.aggregate_id),
            event.unit,
            event.community_code,
            event.company_uscc,
            event.kind,
            event.deadline,
            event.occurred_at,
            delivery,
        )

    return [Subscription(RECTIFICATION, INSPECTION_EVENTS, {RectificationOrderedV1: on_ordered})]
