"""Kafka subscriptions of casework: contract events of the other services (and its own
complaints) → the application's policies, as plain values.

- `casework.rectification` (inspection's topic): each RectificationOrdered opens a
  rectification case (handlers/cases.py).
- `casework.warnings.<service>` (one consumer per topic: disclosure, inspection, casework):
  the warnings' policies (handlers/warnings.py) and the campaign's facts (handlers/campaign.py:
  self-inspections, townships' inspections, rectifications, withdrawn findings, cross
  checks; read by the groups that already read these topics, so no new group). One group
  over the three topics would work too, but every member's start would then rebalance all
  three.

`casework.warnings.disclosure` takes what the runner fetched as one batch too (ADR 0018): a
filing season brings thousands of filings a second. Its filings and amendments are applied
together (`warnings.on_disclosures`: one transaction, each event tracked, the same effects as
`on_disclosure` one by one); its other events, rare, go one by one within the batch, in order.

The consumer names are Kafka group ids and tracking prefixes: they never change. The
runner skips a delivery applied before (`already_applied`), so the policies hold no
duplicate check of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casework.application.app import CaseworkApplication
from casework.application.handlers import campaign, cases, warnings
from casework.domain.warnings.community_facts import QuarterFigures
from pubrev_contracts.events.casework import ComplaintReceivedV1
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureAmendedV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
    SelfInspectionFiledV1,
)
from pubrev_contracts.events.inspection import (
    CrossCheckReportedV1,
    FindingWithdrawnV1,
    RectificationOrderedV1,
    RectificationOverdueV1,
    RectificationVerifiedV1,
    SpotCheckDoneV1,
    SpotCheckPlannedV1,
    TownshipInspectionRecordedV1,
    ViolationFoundV1,
)
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.consumer import Handler, Subscription
from servicekit.eventstore import DeliveryRef

RECTIFICATION = "casework.rectification"
WARNINGS = "casework.warnings"


def disclosure_note(event: DisclosureFiledV1 | DisclosureAmendedV1) -> warnings.DisclosureNote:
    """What the warnings note of a filing or an amendment, event by event or in a batch. A
    filing (revision 0) counts toward its unit's disclosure rate; an amendment does not."""
    f = event.figures
    revision = event.revision if isinstance(event, DisclosureAmendedV1) else 0
    return warnings.DisclosureNote(
        community_code=event.community_code,
        unit=event.unit,
        company=event.company_uscc,
        figures=QuarterFigures(
            year=event.year,
            quarter=event.quarter,
            revision=revision,
            income_fen=f.income_total_fen,
            cost_fen=f.operating_cost_fen,
            surplus_fen=f.surplus_fen,
            transferred_fen=f.transferred_to_maintenance_fund_fen,
            expenditure_fen=f.expenditure_total_fen,
            zero_revenue=event.zero_revenue,
            late=event.late,
        ),
        filed_at=event.occurred_at if revision == 0 else None,
    )


def subscriptions(app: CaseworkApplication) -> list[Subscription]:
    # RectificationOrdered (not ViolationFound) carries the deadline the case tracks; its
    # aggregate, like that of every rectification event, is the finding.
    def on_rectification_ordered(event: RectificationOrderedV1, delivery: DeliveryRef) -> bool:
        return cases.on_rectification_ordered(
            app,
            delivery,
            finding_id=str(event.aggregate_id),
            unit=event.unit,
            community_code=event.community_code,
            company_uscc=event.company_uscc,
            kind=event.kind,
            deadline=event.deadline,
            found_at=event.occurred_at,
        )

    def on_community_registered(event: CommunityRegisteredV1, delivery: DeliveryRef) -> bool:
        return warnings.on_community_registered(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            company=event.company_uscc,
            elevators=event.elevator_count,
            barrier_gates=event.barrier_gate_count,
            leasable_space=event.has_leasable_space,
            registered_at=event.occurred_at,
        )

    def on_disclosure(
        event: DisclosureFiledV1 | DisclosureAmendedV1, delivery: DeliveryRef
    ) -> bool:
        note = disclosure_note(event)
        return warnings.on_disclosure(
            app,
            delivery,
            community_code=note.community_code,
            unit=note.unit,
            company=note.company,
            figures=note.figures,
            filed_at=note.filed_at,
        )

    def on_disclosure_overdue(event: DisclosureOverdueV1, delivery: DeliveryRef) -> bool:
        return warnings.on_disclosure_overdue(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            company=event.company_uscc,
            year=event.year,
            quarter=event.quarter,
        )

    def on_violation_found(event: ViolationFoundV1, delivery: DeliveryRef) -> bool:
        return warnings.on_violation_found(
            app,
            delivery,
            company=event.company_uscc,
            unit=event.unit,
            finding_id=str(event.aggregate_id),
            found_at=event.found_at,
            community_code=event.community_code,
            kind=event.kind,
            party=event.party,
            agency_unit=event.agency_unit,
            warning_id=str(event.warning_id) if event.warning_id is not None else "",
            kind_name=event.kind_name,
            severity=event.severity,
            legal_basis=event.legal_basis,
        )

    def on_rectification_overdue(event: RectificationOverdueV1, delivery: DeliveryRef) -> bool:
        return warnings.on_rectification_overdue(
            app,
            delivery,
            finding_id=str(event.aggregate_id),
            unit=event.unit,
            community_code=event.community_code,
            company=event.company_uscc,
            kind=event.kind,
            deadline=event.deadline,
        )

    def on_spot_check_planned(event: SpotCheckPlannedV1, delivery: DeliveryRef) -> bool:
        return warnings.on_spot_check_planned(
            app,
            delivery,
            plan_id=str(event.aggregate_id),
            kind=event.kind,
            unit=event.unit,
            checked_unit=event.checked_unit,
            year=event.year,
            quota=event.quota,
            quarter=event.quarter,
        )

    def on_spot_check_done(event: SpotCheckDoneV1, delivery: DeliveryRef) -> bool:
        return warnings.on_spot_check_done(
            app,
            delivery,
            plan_id=str(event.plan_id),
            community_code=event.community_code,
            inspected_at=event.inspected_at,
        )

    def on_complaint_received(event: ComplaintReceivedV1, delivery: DeliveryRef) -> bool:
        return warnings.on_complaint_received(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            received_at=event.received_at,
        )

    # -- the campaign's facts (GetCampaignProgress, the calendar's warnings) ----------------

    def on_self_inspection_filed(event: SelfInspectionFiledV1, delivery: DeliveryRef) -> bool:
        return campaign.on_self_inspection_filed(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            year=event.year,
            filed_at=event.filed_at,
        )

    def on_township_inspection(event: TownshipInspectionRecordedV1, delivery: DeliveryRef) -> bool:
        return campaign.on_township_inspection_recorded(
            app,
            delivery,
            community_code=event.community_code,
            unit=event.unit,
            inspected_on=event.inspected_on,
        )

    def on_rectification_ordered_for_progress(
        event: RectificationOrderedV1, delivery: DeliveryRef
    ) -> bool:
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

    disclosure_handlers: dict[Any, Handler] = {
        CommunityRegisteredV1: on_community_registered,
        DisclosureFiledV1: on_disclosure,
        DisclosureAmendedV1: on_disclosure,
        DisclosureOverdueV1: on_disclosure_overdue,
        SelfInspectionFiledV1: on_self_inspection_filed,
    }

    def on_disclosure_batch(events: Sequence[tuple[Any, DeliveryRef]]) -> int:
        # Filings and amendments (a season brings thousands a second) go together, run by
        # run; any other event goes on its own between two runs, so everything is applied
        # in the batch's order. A run written before a later part fails is found applied
        # when the runner then goes event by event: the effects are those of one by one.
        applied = 0
        run: list[tuple[warnings.DisclosureNote, DeliveryRef]] = []
        for event, delivery in events:
            if isinstance(event, DisclosureFiledV1 | DisclosureAmendedV1):
                run.append((disclosure_note(event), delivery))
                continue
            if run:
                applied += warnings.on_disclosures(app, run)
                run = []
            if not app.already_applied(delivery):
                applied += disclosure_handlers[type(event)](event, delivery)
        if run:
            applied += warnings.on_disclosures(app, run)
        return applied

    return [
        Subscription(
            RECTIFICATION,
            INSPECTION_EVENTS,
            {RectificationOrderedV1: on_rectification_ordered},
            already_applied=app.already_applied,
        ),
        Subscription(
            f"{WARNINGS}.disclosure",
            DISCLOSURE_EVENTS,
            disclosure_handlers,
            already_applied=app.already_applied,
            batch_handler=on_disclosure_batch,
            # A batch's transaction holds the log's insert lock while it writes (some
            # 2,000 rows: facts, units' years, warnings); casework's commands wait that long.
            max_records=1_000,
        ),
        Subscription(
            f"{WARNINGS}.inspection",
            INSPECTION_EVENTS,
            {
                ViolationFoundV1: on_violation_found,
                RectificationOverdueV1: on_rectification_overdue,
                SpotCheckPlannedV1: on_spot_check_planned,
                SpotCheckDoneV1: on_spot_check_done,
                TownshipInspectionRecordedV1: on_township_inspection,
                RectificationOrderedV1: on_rectification_ordered_for_progress,
                RectificationVerifiedV1: on_rectification_verified,
                FindingWithdrawnV1: on_finding_withdrawn,
                CrossCheckReportedV1: on_cross_check_reported,
            },
            already_applied=app.already_applied,
        ),
        Subscription(
            f"{WARNINGS}.casework",
            CASEWORK_EVENTS,
            {ComplaintReceivedV1: on_complaint_received},
            already_applied=app.already_applied,
        ),
    ]
