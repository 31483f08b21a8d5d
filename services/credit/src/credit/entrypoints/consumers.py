"""Kafka subscriptions of the credit service: inspection's findings deduct credit (a
company's only: an agency's finding, E1–E3, never touches a company's credit), withdrawn
findings annul their deductions, verified rectifications allow repair, spot-check results
go to market regulation's feed. The runner skips a delivery applied before
(`already_applied`), so the handlers only translate."""

from __future__ import annotations

from credit.application.app import CreditApplication
from pubrev_contracts.events.inspection import (
    FindingWithdrawnV1,
    RectificationVerifiedV1,
    SpotCheckDoneV1,
    ViolationFoundV1,
)
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef

LEDGER = "credit.ledger"


def subscriptions(app: CreditApplication) -> list[Subscription]:
    def on_violation(event: ViolationFoundV1, delivery: DeliveryRef) -> bool:
        return app.apply_finding(
            str(event.aggregate_id),
            event.company_uscc,
            event.unit,
            event.kind,
            event.severity,
            event.found_at,
            delivery,
            party=event.party,
        )

    def on_withdrawn(event: FindingWithdrawnV1, delivery: DeliveryRef) -> bool:
        return app.apply_withdrawal(
            str(event.aggregate_id), event.company_uscc, event.reason, delivery
        )

    def on_rectified(event: RectificationVerifiedV1, delivery: DeliveryRef) -> bool:
        return app.apply_rectification(
            str(event.aggregate_id), event.company_uscc, event.verified_at, delivery
        )

    def on_spot_check(event: SpotCheckDoneV1, delivery: DeliveryRef) -> bool:
        failed = [item.item for item in event.checklist if not item.passed]
        return app.note_spot_check(
            str(event.aggregate_id),
            event.company_uscc,
            event.community_code,
            event.unit,
            event.inspected_at,
            failed,
            delivery,
        )

    return [
        Subscription(
            LEDGER,
            INSPECTION_EVENTS,
            {
                ViolationFoundV1: on_violation,
                FindingWithdrawnV1: on_withdrawn,
                RectificationVerifiedV1: on_rectified,
                SpotCheckDoneV1: on_spot_check,
            },
            already_applied=app.already_applied,
        )
    ]
