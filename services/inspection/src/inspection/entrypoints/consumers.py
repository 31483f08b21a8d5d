"""Kafka subscriptions of the inspection service."""

from __future__ import annotations

from inspection.adapters.disclosure_events import noted_from_amended, noted_from_filed
from inspection.application.app import InspectionApplication
from pubrev_contracts.events.disclosure import DisclosureAmendedV1, DisclosureFiledV1
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef

DISCLOSURE_WATCH = "inspection.disclosure-watch"


def subscriptions(app: InspectionApplication) -> list[Subscription]:
    def on_filed(event: DisclosureFiledV1, delivery: DeliveryRef) -> bool:
        return app.note_disclosure(noted_from_filed(event), delivery)

    def on_amended(event: DisclosureAmendedV1, delivery: DeliveryRef) -> bool:
        return app.note_disclosure(noted_from_amended(event), delivery)

    return [
        Subscription(
            DISCLOSURE_WATCH,
            DISCLOSURE_EVENTS,
            {DisclosureFiledV1: on_filed, DisclosureAmendedV1: on_amended},
        )
    ]
