"""Casework's disclosure warnings taking a fetched batch at once (ADR 0018), in memory: the
batch handler leaves exactly the events, warnings and tracking rows that applying the same
deliveries one by one leaves, in the same order; a redelivered batch changes nothing; a
batch that fails writes nothing and forgets what it changed in place."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from casework.application.app import CaseworkApplication
from casework.domain.campaign.unit_campaign import UnitCampaign
from casework.domain.warnings.community_facts import CommunityFacts
from casework.domain.warnings.rules import DEFICIT_QUARTER, ZERO_REVENUE_WITH_FACILITIES
from casework.entrypoints.consumers import WARNINGS, subscriptions
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef, batch_aggregate
from servicekit.testing import FakeClock
from services.casework.tests.support.disclosure_batches import (
    FILED,
    UNITS,
    YEAR,
    code,
    season,
)
from services.casework.tests.support.scenario import app_with_vault
from services.casework.tests.unit.test_casework_warnings import WHEN

DISCLOSURE = f"{WARNINGS}.disclosure"


def warnings_subscription(app: CaseworkApplication) -> Subscription:
    [subscription] = [s for s in subscriptions(app) if s.consumer == DISCLOSURE]
    return subscription


def deliveries(subscription: Subscription, tag: str) -> list[tuple[Any, DeliveryRef]]:
    events = []
    for ce_type, body in season(tag):
        model, _ = subscription.by_type[ce_type]
        event: Any = model.model_validate(body)
        delivery = DeliveryRef(
            subscription.consumer, str(event.aggregate_id), event.aggregate_version
        )
        events.append((event, delivery))
    return events


def stored(app: CaseworkApplication) -> list[tuple[uuid.UUID, int, str, dict[str, Any]]]:
    """Every stored event in the log's order, its state without eventsourcing's own
    timestamp (the moment it was made, never the same twice)."""
    rows = []
    for n in app.recorder.select_notifications(1, 100_000):
        event = app.mapper.to_domain_event(n)
        state = {k: v for k, v in vars(event).items() if k != "timestamp"}
        rows.append((n.originator_id, n.originator_version, n.topic, state))
    return rows


def one_by_one(app: CaseworkApplication, events: list[tuple[Any, DeliveryRef]]) -> int:
    subscription = warnings_subscription(app)
    applied = 0
    for event, delivery in events:
        _, handler = subscription.by_type[event.ce_type]
        applied += bool(handler(event, delivery))
    return applied


def in_batches(app: CaseworkApplication, events: list[tuple[Any, DeliveryRef]], size: int) -> int:
    handler = warnings_subscription(app).batch_handler
    assert handler is not None
    return sum(handler(events[i : i + size]) for i in range(0, len(events), size))


@pytest.mark.parametrize("size", [1, 4, 100])
def test_a_batch_leaves_what_one_by_one_leaves(size: int) -> None:
    each, batched = app_with_vault(FakeClock(WHEN)), app_with_vault(FakeClock(WHEN))
    events = deliveries(warnings_subscription(each), "u")
    distinct = len({d for _, d in events})

    assert one_by_one(each, events) == distinct
    assert in_batches(batched, events, size) == distinct

    assert stored(batched) == stored(each)
    for _, delivery in events:
        assert batched.already_applied(delivery) and each.already_applied(delivery)
    rules = {e[3]["rule"] for e in stored(batched) if e[2].endswith("SupervisionWarning.Raised")}
    assert {DEFICIT_QUARTER, ZERO_REVENUE_WITH_FACILITIES} <= rules
    for app in (each, batched):
        lc = app.find(UnitCampaign.create_id(UNITS[0], YEAR), UnitCampaign)
        assert lc is not None and set(lc.disclosures) == {1, 2}
        facts = app.find(CommunityFacts.create_id(code("u", 2)), CommunityFacts)
        assert facts is not None and [q.revision for q in facts.quarters.values()] == [1, 0]


def test_a_redelivered_batch_changes_nothing() -> None:
    app = app_with_vault(FakeClock(WHEN))
    events = deliveries(warnings_subscription(app), "r")
    in_batches(app, events, 100)
    before = stored(app)

    assert in_batches(app, events, 100) == 0
    assert in_batches(app, events, 3) == 0
    assert stored(app) == before


def test_a_batch_after_one_by_one_continues_from_the_stored_aggregates() -> None:
    each, mixed = app_with_vault(FakeClock(WHEN)), app_with_vault(FakeClock(WHEN))
    events = deliveries(warnings_subscription(each), "m")
    one_by_one(each, events)

    # Batches kept between batches are brought forward by what one by one wrote meanwhile.
    in_batches(mixed, events[:5], 100)
    one_by_one(mixed, events[5:9])
    in_batches(mixed, events[9:], 100)

    assert stored(mixed) == stored(each)


def test_a_failing_batch_writes_nothing_and_forgets_what_it_changed() -> None:
    app = app_with_vault(FakeClock(WHEN))
    events = deliveries(warnings_subscription(app), "f")
    in_batches(app, events[:3], 100)
    before = stored(app)

    def refuse(events: Any) -> None:
        raise ValueError("not publishable")

    app.publish_check = refuse
    with pytest.raises(ValueError, match="not publishable"):
        in_batches(app, events[3:], 100)
    assert stored(app) == before
    assert not any(app.already_applied(d) for _, d in events[3:])

    app.publish_check = None
    assert in_batches(app, events[3:], 100) == len({d for _, d in events[3:]})
    each = app_with_vault(FakeClock(WHEN))
    one_by_one(each, events)
    assert stored(app) == stored(each)


def test_an_aggregate_of_another_kind_is_refused() -> None:
    facts = CommunityFacts("LC-9", "licheng")
    assert batch_aggregate({facts.id: facts}, facts.id, CommunityFacts) is facts
    assert batch_aggregate({}, facts.id, CommunityFacts) is None
    with pytest.raises(TypeError, match="not UnitCampaign"):
        batch_aggregate({facts.id: facts}, facts.id, UnitCampaign)


def test_only_the_disclosure_subscription_takes_batches() -> None:
    subscription = warnings_subscription(app_with_vault(FakeClock(WHEN)))
    assert subscription.batch_handler is not None and subscription.max_records == 1_000
    assert FILED in subscription.by_type
    assert all(
        s.batch_handler is None
        for s in subscriptions(app_with_vault(FakeClock(WHEN)))
        if s.consumer != DISCLOSURE
    )
