"""The disclosure watch's batch path (ADR 0018) on in-memory persistence: a batch of
disclosure's events noted in one transaction leaves the watches exactly as noting them one
by one does, each event tracked; a batch seen before writes nothing; a batch with an event
that cannot be noted writes nothing at all (the consumer then goes event by event)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from inspection.adapters.disclosure_events import noted_from_filed
from inspection.application.app import InspectionApplication, WatchNote, disclosure
from inspection.domain.community_watch import CommunityWatch
from inspection.entrypoints.consumers import DISCLOSURE_WATCH, subscriptions
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureFiledV1,
    DisclosureOverdueV1,
)
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"


def sample(kind: type[Any], name: str, **changes: Any) -> Any:
    body = json.loads((SAMPLES / f"pubrev.disclosure.{name}.v1.json").read_text("utf-8"))
    return kind.model_validate(body | changes)


def season(codes: list[str]) -> list[Any]:
    """Each community registered, filing two quarters, and overdue for a third."""
    events: list[Any] = []
    for code in codes:
        events.append(
            sample(
                CommunityRegisteredV1,
                "CommunityRegistered",
                aggregate_id=str(uuid.uuid5(uuid.NAMESPACE_URL, code)),
                community_code=code,
                township="东海镇",
            )
        )
    for quarter in (1, 2):
        for n, code in enumerate(codes):
            events.append(
                sample(
                    DisclosureFiledV1,
                    "DisclosureFiled",
                    aggregate_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}:{quarter}")),
                    community_code=code,
                    quarter=quarter,
                    zero_revenue=n % 2 == 0,
                )
            )
    for code in codes:
        events.append(
            sample(
                DisclosureOverdueV1,
                "DisclosureOverdue",
                aggregate_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}:overdue")),
                community_code=code,
                quarter=3,
            )
        )
    return events


def app() -> InspectionApplication:
    return InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def watch_subscription(app: InspectionApplication) -> Subscription:
    [watch] = [s for s in subscriptions(app) if s.consumer == DISCLOSURE_WATCH]
    return watch


def deliveries(events: list[Any]) -> list[tuple[Any, DeliveryRef]]:
    return [
        (e, DeliveryRef(DISCLOSURE_WATCH, str(e.aggregate_id), e.aggregate_version)) for e in events
    ]


def state(app: InspectionApplication, codes: list[str]) -> list[dict[str, Any]]:
    watches = [app.find(CommunityWatch.create_id(c), CommunityWatch) for c in codes]
    return [
        {k: v for k, v in vars(w).items() if not k.startswith("_") or k == "_version"}
        for w in watches
        if w is not None
    ]


def test_a_batch_leaves_the_watches_as_noting_one_by_one_does() -> None:
    codes = ["CX-0001", "CX-0002", "CX-0003"]
    events = deliveries(season(codes))
    one_by_one, together = app(), app()
    by_event = watch_subscription(one_by_one)
    for event, delivery in events:
        _, handler = by_event.by_type[type(event).ce_type]  # type: ignore[attr-defined]
        assert handler(event, delivery) is True
    batch = watch_subscription(together).batch_handler
    assert batch is not None

    assert batch(events) == len(events)

    assert state(together, codes) == state(one_by_one, codes)
    [watch] = state(together, codes[:1])
    assert watch["registered"] and watch["township"] == "东海镇"
    assert watch["disclosures_noted"] == 2 and watch["overdue_quarters"] == ["2026Q3"]
    assert all(together.already_applied(d) for _, d in events)


def test_a_batch_seen_before_is_noted_once() -> None:
    inspection = app()
    batch = watch_subscription(inspection).batch_handler
    assert batch is not None
    events = deliveries(season(["CX-0001", "CX-0002"]))
    assert batch(events) == len(events)
    size = inspection.recorder.max_notification_id()

    assert batch(events) == 0
    assert batch(events[:3] + events[:3]) == 0

    assert inspection.recorder.max_notification_id() == size


def test_a_note_that_fails_fails_the_whole_batch() -> None:
    inspection = app()
    codes = ["CX-0001", "CX-0002"]
    events = deliveries(season(codes))
    filed = events[2][0]

    def broken(watch: CommunityWatch) -> None:
        raise ValueError("cannot note this")

    notes: list[tuple[WatchNote, DeliveryRef]] = [
        (disclosure_of(e), d) for e, d in events if isinstance(e, DisclosureFiledV1)
    ]
    notes.insert(1, (WatchNote(filed.community_code, filed.unit, broken), events[0][1]))

    with pytest.raises(ValueError, match="cannot note this"):
        inspection.note_batch(notes)

    assert inspection.recorder.max_notification_id() is None
    assert not any(inspection.already_applied(d) for _, d in notes)
    # The same events, without the broken one, go through afterwards.
    assert inspection.note_batch(notes[:1] + notes[2:]) == len(notes) - 1


def disclosure_of(event: DisclosureFiledV1) -> WatchNote:
    return disclosure(noted_from_filed(event), event.company_uscc)
