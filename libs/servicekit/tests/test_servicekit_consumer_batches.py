"""The consumer runner's batch path (servicekit.consumer, ADR 0018) on fakes: a
subscription with a batch handler gets the fetched batch's plain events in one call; what
is malformed, forged, parked before or blocked goes event by event beside it; a batch
that fails for the events' sake wrote nothing and goes event by event at once (so the
event at fault is counted, parked, and its aggregate's later events held, exactly as
without a batch handler); one that fails for a reason of the moment comes again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from libs.servicekit.tests.fakes import InMemoryParkedStore
from libs.servicekit.tests.test_servicekit_consumer_runner import (
    CONSUMER,
    TOPIC,
    WORKER,
    A,
    B,
    Effects,
    FakeBroker,
    ThingHappenedV1,
    record,
)
from servicekit import faults
from servicekit.consumer import ConsumerRunner, Subscription
from servicekit.eventstore import DeliveryRef


class BatchEffects(Effects):
    """The consuming application with a batch handler that is all or nothing, as
    `ServiceApplication.apply_batch` is: a `bug` note fails the whole batch, nothing of
    it applied; a batch outage meets the database away."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[DeliveryRef]] = []
        self.one_by_one: list[DeliveryRef] = []
        self.batch_outages = 0
        self.batch_bugs = 0
        """Batches that fail for a reason of their own (then the event fails alone too)."""

    def handle(self, event: ThingHappenedV1, delivery: DeliveryRef) -> bool:
        self.one_by_one.append(delivery)
        return super().handle(event, delivery)

    def handle_batch(self, events: Sequence[tuple[Any, DeliveryRef]]) -> int:
        self.batches.append([d for _, d in events])
        if self.batch_outages > 0:
            self.batch_outages -= 1
            raise psycopg.OperationalError("the database system is shutting down")
        if self.batch_bugs > 0:
            self.batch_bugs -= 1
            raise KeyError("missing row")
        new: list[tuple[ThingHappenedV1, DeliveryRef]] = []
        seen = set(self.tracking)
        for event, delivery in events:
            if delivery not in seen:
                seen.add(delivery)
                new.append((event, delivery))
        if any(event.note == "bug" for event, _ in new):
            raise ValueError("no rule for bug")
        for event, delivery in new:
            self.applied.append((event.aggregate_id, event.aggregate_version, event.note))
            self.tracking.add(delivery)
        return len(new)

    def subscription(self, **options: Any) -> Subscription:
        return Subscription(
            CONSUMER,
            TOPIC,
            {ThingHappenedV1: self.handle},
            already_applied=self.already_applied,
            batch_handler=self.handle_batch,
            **options,
        )


class Harness:
    def __init__(self, effects: BatchEffects, store: InMemoryParkedStore, **options: Any):
        self.effects = effects
        self.store = store
        self.subscription = effects.subscription()
        self.runner = ConsumerRunner(
            "watcher", "127.0.0.1:9", [self.subscription], store=store, **options
        )
        self.broker = FakeBroker()
        self.runner.broker = self.broker  # type: ignore[assignment]
        self.threads = 0
        real = asyncio.to_thread

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.threads += 1
            return await real(fn, *args, **kwargs)

        self._counted = counted

    async def deliver(self, *records: Any) -> None:
        await self.runner.dispatch_batch(self.subscription, list(records))


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        asked.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return asked


@pytest.fixture
def harness(pauses: list[float]) -> Harness:
    return Harness(BatchEffects(), InMemoryParkedStore(), max_attempts=3)


async def test_a_batch_is_given_to_the_batch_handler_in_one_call_and_one_thread(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio, "to_thread", harness._counted)

    await harness.deliver(record(0, A, 1, "a1"), record(1, B, 1, "b1"), record(2, A, 2, "a2"))

    assert harness.effects.batches == [
        [DeliveryRef(CONSUMER, A, 1), DeliveryRef(CONSUMER, B, 1), DeliveryRef(CONSUMER, A, 2)]
    ]
    assert harness.effects.applied == [(A, 1, "a1"), (B, 1, "b1"), (A, 2, "a2")]
    assert harness.effects.one_by_one == []
    assert (harness.runner.applied, harness.runner.duplicates) == (3, 0)

    # Past a partition's first batch (where the crash guard notes the start), a batch
    # costs two worker-thread hops whatever its size: the parked table's probe, and the
    # batch. None per event.
    harness.threads = 0
    await harness.deliver(*(record(3 + n, B, 2 + n) for n in range(50)))
    assert harness.threads == 2
    assert harness.runner.applied == 53


async def test_deliveries_applied_before_count_as_duplicates(harness: Harness) -> None:
    harness.effects.tracking.add(DeliveryRef(CONSUMER, A, 1))

    # A1 was applied before; A2 comes twice in one fetch (a relay's re-send).
    await harness.deliver(record(0, A, 1), record(1, A, 2), record(2, A, 2))

    assert harness.effects.applied == [(A, 2, "")]
    assert (harness.runner.applied, harness.runner.duplicates) == (1, 2)


async def test_a_poison_event_sends_its_batch_event_by_event_where_it_is_parked(
    harness: Harness, pauses: list[float]
) -> None:
    batch = [record(0, A, 1, "bug"), record(1, B, 1, "b1"), record(2, A, 2, "a2")]

    for attempt in (1, 2):
        with pytest.raises(ValueError, match="no rule for bug"):
            await harness.deliver(*batch)
        # The batch wrote nothing; event by event, the poison failed first.
        assert harness.store.attempts(WORKER, f"{A}:1") == attempt
        assert harness.effects.applied == []
    assert pauses == [0.2, 0.4]

    await harness.deliver(*batch)  # the third attempt: max_attempts, parked

    [head] = harness.store.heads(WORKER)
    assert (head.event_key, head.error, head.attempts) == (
        f"{A}:1",
        "ValueError: no rule for bug",
        3,
    )
    [held] = harness.store.held_by(head.id)
    assert held.event_key == f"{A}:2"
    assert harness.effects.applied == [(B, 1, "b1")]
    assert (harness.runner.dead_lettered, harness.runner.held) == (1, 1)
    assert len(harness.effects.batches) == 3  # each delivery tried the batch first

    # A later fetch: the parked copy is not tried, A is still blocked (held, event by
    # event), and B goes in a batch of its own.
    before = len(harness.effects.batches)
    await harness.deliver(record(3, A, 1, "bug"), record(4, A, 3, "a3"), record(5, B, 2, "b2"))
    assert harness.effects.batches[before:] == [[DeliveryRef(CONSUMER, B, 2)]]
    assert harness.effects.applied[-1] == (B, 2, "b2")
    assert [e.event_key for e in harness.store.held_by(head.id)] == [f"{A}:2", f"{A}:3"]


async def test_a_batch_meeting_the_database_away_comes_again_and_counts_nothing(
    harness: Harness, pauses: list[float]
) -> None:
    harness.effects.batch_outages = 2
    batch = [record(0, A, 1, "a1"), record(1, B, 1, "b1")]

    for _ in range(2):
        with pytest.raises(psycopg.OperationalError):
            await harness.deliver(*batch)
    assert pauses == [0.5, 1.0]
    assert harness.store.attempt_counts == {} and harness.effects.one_by_one == []

    await harness.deliver(*batch)
    assert harness.effects.applied == [(A, 1, "a1"), (B, 1, "b1")]
    assert harness.runner._transient_pause == 0.5


async def test_what_is_not_plain_goes_event_by_event_beside_the_batch(harness: Harness) -> None:
    forged = record(0, A, 1, "forged", source="/pubrev/intruder")
    malformed = record(1, B, 1, value=b"\x00{not json")

    await harness.deliver(forged, malformed, record(2, A, 1, "a1"), record(3, B, 2, "b2"))

    assert harness.effects.batches == [[DeliveryRef(CONSUMER, A, 1), DeliveryRef(CONSUMER, B, 2)]]
    assert harness.effects.applied == [(A, 1, "a1"), (B, 2, "b2")]
    assert (harness.runner.refused, harness.runner.dead_lettered) == (1, 2)
    assert len(harness.store.open_entries(WORKER)) == 2


async def test_a_batch_read_carefully_after_crashes_goes_event_by_event(
    harness: Harness,
) -> None:
    harness.store.starts[(WORKER, "0")] = (0, 1)  # the process before died here

    await harness.deliver(record(0, A, 1, "a1"), record(1, B, 1, "b1"))

    assert harness.effects.batches == []
    assert harness.effects.one_by_one == [DeliveryRef(CONSUMER, A, 1), DeliveryRef(CONSUMER, B, 1)]
    assert harness.store.attempt_counts == {}  # counted before each, forgotten after


async def test_a_batch_committed_before_a_failure_is_found_applied_event_by_event(
    harness: Harness,
) -> None:
    faults.arm("consumer.after_effect", times=1)
    try:
        await harness.deliver(record(0, A, 1, "a1"), record(1, B, 1, "b1"))
    finally:
        faults.disarm_all()

    assert harness.effects.applied == [(A, 1, "a1"), (B, 1, "b1")]  # once each
    assert (harness.runner.applied, harness.runner.duplicates) == (0, 2)


async def test_attempts_counted_event_by_event_are_forgotten_once_a_batch_applies(
    harness: Harness,
) -> None:
    harness.effects.batch_bugs = 1
    flaky = {"fail": True}
    handle = harness.effects.handle

    def once_broken(event: Any, delivery: DeliveryRef) -> bool:
        if flaky.pop("fail", False):
            raise KeyError("missing row")
        return handle(event, delivery)

    harness.effects.handle = once_broken  # type: ignore[method-assign]
    harness.subscription = harness.effects.subscription()
    with pytest.raises(KeyError):
        await harness.deliver(record(0, A, 1, "a1"))
    assert harness.store.attempts(WORKER, f"{A}:1") == 1

    await harness.deliver(record(0, A, 1, "a1"))  # the batch goes through now

    assert harness.store.attempt_counts == {}
    assert harness.effects.applied == [(A, 1, "a1")]


async def test_a_subscription_without_a_batch_handler_goes_event_by_event(
    harness: Harness,
) -> None:
    plain = Subscription(CONSUMER, TOPIC, {ThingHappenedV1: harness.effects.handle})

    await harness.runner.dispatch_batch(plain, [record(0, A, 1, "a1"), record(1, B, 1, "b1")])

    assert harness.effects.batches == []
    assert harness.effects.applied == [(A, 1, "a1"), (B, 1, "b1")]
    assert plain.max_records == 500
