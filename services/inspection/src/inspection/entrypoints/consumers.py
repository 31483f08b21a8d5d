"""Kafka subscriptions of the inspection service: what disclosure tells it about communities
(the register, companies, filings, overdue quarters) and the complaints casework receives
feed the spot-check pools. Every subscription gives the runner the application's tracking
check, so a delivery applied before is skipped before any handler sees it."""

from __future__ import annotations

from inspection.adapters.disclosure_events import noted_from_amended, noted_from_filed
from inspection.application.app import InspectionApplication
from pubrev_contracts.events.casework import ComplaintReceivedV1
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureAmendedV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
    PropertyCompanyChangedV1,
)
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef

DISCLOSURE_WATCH = "inspection.disclosure-watch"
LEADS = "inspection.leads"


def subscriptions(app: InspectionApplication) -> list[Subscription]:
    def on_registered(event: CommunityRegisteredV1, delivery: DeliveryRef) -> bool:
        return app.note_registration(
            event.community_code, event.unit, event.company_uscc, delivery, event.township
        )

    def on_company_changed(event: PropertyCompanyChangedV1, delivery: DeliveryRef) -> bool:
        return app.note_company_change(
            event.community_code, event.unit, event.company_uscc, delivery
        )

    def on_filed(event: DisclosureFiledV1, delivery: DeliveryRef) -> bool:
        return app.note_disclosure(noted_from_filed(event), delivery, event.company_uscc)

    def on_amended(event: DisclosureAmendedV1, delivery: DeliveryRef) -> bool:
        return app.note_disclosure(noted_from_amended(event), delivery, event.company_uscc)

    def on_overdue(event: DisclosureOverdueV1, delivery: DeliveryRef) -> bool:
        return app.note_overdue(
            event.community_code, event.unit, event.year, event.quarter, delivery
        )

    def on_complaint(event: ComplaintReceivedV1, delivery: DeliveryRef) -> bool:
        if not event.community_code:
            return False  # a complaint about no community is not a spot-check lead
        return app.note_lead(
            event.community_code, event.unit, event.channel, event.major, event.category, delivery
        )

    return [
        Subscription(
            LEADS,
            CASEWORK_EVENTS,
            {ComplaintReceivedV1: on_complaint},
            already_applied=app.already_applied,
        ),
        Subscription(
            DISCLOSURE_WATCH,
            DISCLOSURE_EVENTS,
            {
                CommunityRegisteredV1: on_registered,
                PropertyCompanyChangedV1: on_company_changed,
                DisclosureFiledV1: on_filed,
                DisclosureAmendedV1: on_amended,
                DisclosureOverdueV1: on_overdue,
            },
            already_applied=app.already_applied,
        ),
    ]
