"""Kafka subscriptions of the inspection service: what disclosure tells it about communities
(the register, companies, filings, overdue quarters) and the complaints casework receives
feed the spot-check pools. Every subscription gives the runner the application's tracking
check, so a delivery applied before is skipped before any handler sees it.

The disclosure watch takes what the runner fetched as one batch too (`note_batch`: one
transaction, each event tracked; ADR 0018): a filing season brings thousands of events a
second. Both paths note an event the same way (`watch_note`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from inspection.adapters.disclosure_events import noted_from_amended, noted_from_filed
from inspection.application.app import (
    InspectionApplication,
    WatchNote,
    company_change,
    disclosure,
    lead,
    overdue,
    registration,
)
from pubrev_contracts.events.casework import ComplaintReceivedV1
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureAmendedV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
    PropertyCompanyChangedV1,
)
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS
from servicekit.consumer import Handler, Subscription
from servicekit.eventstore import DeliveryRef

DISCLOSURE_WATCH = "inspection.disclosure-watch"
LEADS = "inspection.leads"

DISCLOSURE_NOTES: dict[type, Callable[[Any], WatchNote]] = {
    CommunityRegisteredV1: lambda e: registration(
        e.community_code, e.unit, e.company_uscc, e.township
    ),
    PropertyCompanyChangedV1: lambda e: company_change(e.community_code, e.unit, e.company_uscc),
    DisclosureFiledV1: lambda e: disclosure(noted_from_filed(e), e.company_uscc),
    DisclosureAmendedV1: lambda e: disclosure(noted_from_amended(e), e.company_uscc),
    DisclosureOverdueV1: lambda e: overdue(e.community_code, e.unit, e.year, e.quarter),
}
"""Disclosure's event → what the community's watch notes of it."""


def watch_note(event: Any) -> WatchNote:
    return DISCLOSURE_NOTES[type(event)](event)


def subscriptions(app: InspectionApplication) -> list[Subscription]:
    def on_disclosure(event: Any, delivery: DeliveryRef) -> bool:
        return app.note(watch_note(event), delivery)

    def on_disclosures(events: Sequence[tuple[Any, DeliveryRef]]) -> int:
        return app.note_batch([(watch_note(event), delivery) for event, delivery in events])

    def on_complaint(event: ComplaintReceivedV1, delivery: DeliveryRef) -> bool:
        if not event.community_code:
            return False  # a complaint about no community is not a spot-check lead
        note = lead(event.community_code, event.unit, event.channel, event.major, event.category)
        return app.note(note, delivery)

    disclosure_handlers: dict[Any, Handler] = {kind: on_disclosure for kind in DISCLOSURE_NOTES}
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
            disclosure_handlers,
            already_applied=app.already_applied,
            batch_handler=on_disclosures,
            # A batch's transaction holds the log's insert lock for a few milliseconds
            # (a COPY of ~3,000 rows): commands writing meanwhile wait that long.
            max_records=2_000,
        ),
    ]
