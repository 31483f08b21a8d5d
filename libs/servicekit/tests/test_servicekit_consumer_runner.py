"""The consumer runner (servicekit.consumer) on fakes: records built in memory, a parked
store on dictionaries, a broker that only keeps the dead-letter copies. What is asserted is
the runner's rule for each record: read under the topic's rules (its owner's source only,
its contract), applied once (a delivery applied before never reaches the handler), a
failure of the moment raised so the batch comes again, a failure of the event counted
and then parked, and its aggregate's later events held behind it."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import psycopg
import pytest
from aiokafka import ConsumerRecord
from pydantic import BaseModel

from libs.servicekit.tests.fakes import InMemoryParkedStore
from servicekit.cloudevents import CloudEventAttributes
from servicekit.consumer import (
    ConsumerRedriver,
    ConsumerRunner,
    Read,
    Subscription,
    dead_letter_topic,
    original_headers,
    read_record,
)
from servicekit.eventstore import DeliveryRef
from servicekit.isolation import ParkedEvent, Role, Status

TOPIC = "pubrev.sample.events.v1"
SOURCE = "/pubrev/sample"
CONSUMER = "watcher.sample-watch"
WORKER = f"consumer:{CONSUMER}"
A = str(uuid.UUID("00000000-0000-0000-0000-00000000000a"))
B = str(uuid.UUID("00000000-0000-0000-0000-00000000000b"))


class ThingHappenedV1(BaseModel):
    ce_type: ClassVar[str] = "pubrev.sample.ThingHappened.v1"
    aggregate_id: str
    aggregate_version: int
    note: str = ""


class ThingForgottenV1(BaseModel):
    ce_type: ClassVar[str] = "pubrev.sample.ThingForgotten.v1"
    aggregate_id: str
    aggregate_version: int


class Effects:
    """The consuming application: what its handler applied, and its tracking rows (what
    `ServiceApplication.already_applied` reads). A note `bug` fails the handler for good, a
    note `outage` meets the database away."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, int, str]] = []
        self.tracking: set[DeliveryRef] = set()
        self.outages = 0

    def handle(self, event: ThingHappenedV1, delivery: DeliveryRef) -> bool:
        if event.note == "bug":
            raise ValueError(f"no rule for {event.note}")
        if event.note == "outage" and self.outages > 0:
            self.outages -= 1
            raise psycopg.OperationalError("the database system is shutting down")
        self.applied.append((event.aggregate_id, event.aggregate_version, event.note))
        self.tracking.add(delivery)
        return True

    def already_applied(self, delivery: DeliveryRef) -> bool:
        return delivery in self.tracking

    def subscription(self, **options: Any) -> Subscription:
        return Subscription(
            CONSUMER,
            TOPIC,
            {ThingHappenedV1: self.handle},
            already_applied=self.already_applied,
            **options,
        )


def headers(
    aggregate: str,
    version: int,
    *,
    source: str = SOURCE,
    ce_type: str = ThingHappenedV1.ce_type,
) -> list[tuple[str, bytes | None]]:
    return list(
        CloudEventAttributes(
            id=f"{aggregate}:{version}",
            source=source,
            type=ce_type,
            time=datetime(2026, 3, 2, tzinfo=UTC),
            subject=aggregate,
            unit="licheng",
        ).headers()
    )


def body(aggregate: str, version: int, note: str = "") -> bytes:
    return json.dumps(
        {"aggregate_id": aggregate, "aggregate_version": version, "note": note}
    ).encode()


def record(
    offset: int,
    aggregate: str,
    version: int,
    note: str = "",
    *,
    value: bytes | None = None,
    raw_headers: list[tuple[str, bytes | None]] | None = None,
    partition: int = 0,
    **header_options: Any,
) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=TOPIC,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=aggregate.encode(),
        value=body(aggregate, version, note) if value is None else value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=raw_headers
        if raw_headers is not None
        else headers(aggregate, version, **header_options),
    )


def read(subscription: Subscription, rec: ConsumerRecord[Any, Any]) -> Read | None:
    place = f"{rec.topic}/{rec.partition}/{rec.offset}"
    return read_record(subscription, list(rec.headers), rec.value or b"", place)


# -- reading a record --------------------------------------------------------------------


def test_a_record_is_read_as_its_contract_event_with_its_delivery() -> None:
    effects = Effects()
    subscription = effects.subscription()

    found = read(subscription, record(7, A, 3, "hello"))

    assert found is not None and found.problem is None
    assert found.key == f"{A}:3"  # the CloudEvents id: the same for a relay's re-send
    assert found.event == ThingHappenedV1(aggregate_id=A, aggregate_version=3, note="hello")
    assert found.delivery == DeliveryRef(CONSUMER, A, 3)
    assert found.handler is not None


def test_a_type_the_consumer_does_not_handle_is_passed_over() -> None:
    subscription = Effects().subscription()
    rec = record(1, A, 1, ce_type=ThingForgottenV1.ce_type)
    assert read(subscription, rec) is None


def test_a_record_from_another_source_is_refused_whatever_its_type() -> None:
    subscription = Effects().subscription()

    for ce_type in (ThingHappenedV1.ce_type, ThingForgottenV1.ce_type):
        found = read(subscription, record(4, A, 1, source="/pubrev/intruder", ce_type=ce_type))
        assert found is not None and found.problem is not None
        assert found.problem.refused
        assert found.problem.reason == (
            f"refused: ce_source '/pubrev/intruder' is not '{SOURCE}',"
            f" the only publisher of {TOPIC}"
        )
        # Parked under its place: it names no aggregate, so it holds none back.
        assert found.key == f"{TOPIC}/0/4" and found.delivery is None


def test_records_that_cannot_be_read_are_problems_under_their_place() -> None:
    subscription = Effects().subscription()
    no_type = [h for h in headers(A, 1) if h[0] != "ce_type"]
    cases = [
        ("bad header: 'x-trace' has a null value", [*headers(A, 1), ("x-trace", None)], None),
        ("bad envelope: not a CloudEvent: missing headers ce_type", no_type, None),
        ("contract violation", None, b"\x00{not json"),
    ]
    for offset, (reason, raw_headers, value) in enumerate(cases):
        rec = record(offset, A, 1, raw_headers=raw_headers, value=value)
        found = read(subscription, rec)
        assert found is not None and found.problem is not None, reason
        assert found.problem.reason.startswith(reason)
        assert not found.problem.refused
        assert found.key == f"{TOPIC}/0/{offset}"
    invalid = read(subscription, record(5, A, 1, value=b'{"aggregate_id": "x"}'))
    assert invalid is not None and invalid.problem is not None
    assert invalid.problem.reason.startswith("contract violation")
    assert "aggregate_version" in invalid.problem.reason


# -- the subscription ----------------------------------------------------------------------


def test_a_subscription_accepts_only_its_topics_owner_by_default() -> None:
    assert Effects().subscription().source == SOURCE
    explicit = Effects().subscription(source="/pubrev/disclosure")
    assert explicit.source == "/pubrev/disclosure"
    with pytest.raises(ValueError, match="does not name its owner"):
        Subscription(CONSUMER, "some.topic", {})


def test_by_type_maps_each_contract_type_to_its_model_and_handler() -> None:
    def handle(event: Any, delivery: DeliveryRef) -> bool:
        return True

    def forget(event: Any, delivery: DeliveryRef) -> bool:
        return True

    subscription = Subscription(
        CONSUMER, TOPIC, {ThingHappenedV1: handle, ThingForgottenV1: forget}
    )

    assert subscription.by_type == {
        ThingHappenedV1.ce_type: (ThingHappenedV1, handle),
        ThingForgottenV1.ce_type: (ThingForgottenV1, forget),
    }


def test_already_applied_keeps_a_delivery_applied_before_from_the_handler() -> None:
    effects = Effects()
    subscription = effects.subscription()
    _, handler = subscription.by_type[ThingHappenedV1.ce_type]
    event = ThingHappenedV1(aggregate_id=A, aggregate_version=1)
    delivery = DeliveryRef(CONSUMER, A, 1)

    assert handler(event, delivery) is True
    assert handler(event, delivery) is False  # applied before: not given to the handler
    assert effects.applied == [(A, 1, "")]
    # An older event of the aggregate is its own delivery: still applied.
    assert handler(
        ThingHappenedV1(aggregate_id=A, aggregate_version=0), DeliveryRef(CONSUMER, A, 0)
    )
    assert len(effects.applied) == 2


# -- the runner ----------------------------------------------------------------------------


class FakeBroker:
    """The runner's FastStream broker, as far as parking goes: the dead-letter copies."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish(self, message: bytes, *, topic: str, headers: dict[str, str]) -> None:
        self.published.append({"body": message, "topic": topic, "headers": headers})


class Harness:
    def __init__(self, effects: Effects, store: InMemoryParkedStore, **options: Any) -> None:
        self.effects = effects
        self.store = store
        self.subscription = effects.subscription()
        self.runner = ConsumerRunner(
            "watcher",
            "127.0.0.1:9",  # never dialled: the broker is replaced below
            [self.subscription],
            topic_prefix="t.",
            store=store,
            **options,
        )
        self.broker = FakeBroker()
        self.runner.broker = self.broker  # type: ignore[assignment]

    async def deliver(self, *records: ConsumerRecord[Any, Any]) -> None:
        await self.runner.dispatch_batch(self.subscription, list(records))


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The runner's pauses before a batch comes again, recorded instead of slept."""
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        asked.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return asked


@pytest.fixture
def harness(pauses: list[float]) -> Harness:
    return Harness(Effects(), InMemoryParkedStore(), max_attempts=3)


async def test_a_batch_is_applied_in_order(harness: Harness) -> None:
    await harness.deliver(record(0, A, 1, "a1"), record(1, B, 1, "b1"), record(2, A, 2, "a2"))

    assert harness.effects.applied == [(A, 1, "a1"), (B, 1, "b1"), (A, 2, "a2")]
    assert harness.runner.applied == 3
    assert harness.store.rows == {} and harness.broker.published == []


async def test_a_delivery_applied_before_never_reaches_the_handler(harness: Harness) -> None:
    calls: list[DeliveryRef] = []
    handle = harness.effects.handle

    def counted(event: Any, delivery: DeliveryRef) -> bool:
        calls.append(delivery)
        return handle(event, delivery)

    harness.effects.handle = counted  # type: ignore[method-assign]
    harness.subscription = harness.effects.subscription()
    harness.effects.tracking.add(DeliveryRef(CONSUMER, A, 1))

    # A1 was applied before; A2 comes twice (a relay's re-send after a crash).
    await harness.deliver(record(0, A, 1), record(1, A, 2), record(2, A, 2))

    assert calls == [DeliveryRef(CONSUMER, A, 2)]
    assert (harness.runner.applied, harness.runner.duplicates) == (1, 2)


async def test_records_of_types_not_handled_are_passed_over(harness: Harness) -> None:
    await harness.deliver(record(0, A, 1, ce_type=ThingForgottenV1.ce_type), record(1, B, 1, "b1"))
    assert harness.effects.applied == [(B, 1, "b1")]
    assert harness.store.rows == {}


async def test_a_record_from_another_source_is_parked_and_blocks_nothing(
    harness: Harness,
) -> None:
    forged = record(0, A, 1, "forged", source="/pubrev/intruder")

    await harness.deliver(forged, record(1, A, 1, "a1"), record(2, A, 2, "a2"))

    assert harness.effects.applied == [(A, 1, "a1"), (A, 2, "a2")]  # the real ones go on
    assert harness.runner.refused == 1 and harness.runner.dead_lettered == 1
    [entry] = harness.store.open_entries(WORKER)
    assert entry.role == Role.consumer and entry.event_key == f"{TOPIC}/0/0"
    assert entry.aggregate_id is None and entry.attempts == 1
    assert entry.body == forged.value and entry.position == 0 and entry.partition == 0
    assert entry.headers == original_headers(list(forged.headers))
    [copy] = harness.broker.published
    assert copy["topic"] == "t." + dead_letter_topic("watcher")
    assert copy["body"] == forged.value
    assert copy["headers"]["x-pubrev-consumer"] == CONSUMER
    assert copy["headers"]["x-pubrev-error"].startswith("refused: ce_source '/pubrev/intruder'")
    assert copy["headers"]["ce_source"] == "/pubrev/intruder"


async def test_a_malformed_record_is_parked_at_once_and_never_tried(harness: Harness) -> None:
    await harness.deliver(record(0, A, 1, value=b"\x00{not json"), record(1, A, 2, "a2"))

    assert harness.effects.applied == [(A, 2, "a2")]
    [entry] = harness.store.open_entries(WORKER)
    assert entry.error.startswith("contract violation") and entry.attempts == 1
    assert harness.runner.refused == 0
    assert harness.store.attempt_counts == {}


async def test_a_failure_of_the_moment_is_raised_and_counts_nothing(
    harness: Harness, pauses: list[float]
) -> None:
    harness.effects.outages = 2
    batch = [record(0, B, 1, "outage"), record(1, A, 1, "a1")]

    for _ in range(2):
        with pytest.raises(psycopg.OperationalError):
            await harness.deliver(*batch)
    assert harness.store.attempt_counts == {} and harness.store.rows == {}
    assert harness.effects.applied == []  # nothing after it in the batch ran either
    assert pauses == [0.5, 1.0]  # a growing pause before the batch comes again

    await harness.deliver(*batch)
    assert harness.effects.applied == [(B, 1, "outage"), (A, 1, "a1")]
    assert harness.runner._transient_pause == 0.5  # reset once through


async def test_a_failing_event_is_counted_then_parked_and_its_aggregate_held(
    harness: Harness, pauses: list[float]
) -> None:
    batch = [record(0, A, 1, "bug"), record(1, B, 1, "b1"), record(2, A, 2, "a2")]

    for attempt in (1, 2):
        with pytest.raises(ValueError, match="no rule for bug"):
            await harness.deliver(*batch)
        assert harness.store.attempts(WORKER, f"{A}:1") == attempt
    assert pauses == [0.2, 0.4]
    assert harness.store.rows == {}

    await harness.deliver(*batch)  # the third attempt: max_attempts, parked

    [head] = harness.store.heads(WORKER)
    assert (head.event_key, head.aggregate_id, head.version) == (f"{A}:1", A, 1)
    assert head.attempts == 3 and head.error == "ValueError: no rule for bug"
    assert head.body == batch[0].value
    [held] = harness.store.held_by(head.id)
    assert (held.event_key, held.error) == (f"{A}:2", f"held behind #{head.id}")
    assert harness.effects.applied == [(B, 1, "b1")]
    assert (harness.runner.dead_lettered, harness.runner.held) == (1, 1)
    [copy] = harness.broker.published
    assert copy["headers"]["x-pubrev-error"] == "ValueError: no rule for bug"

    # A later batch: A is still blocked, B is not; a copy of the parked one is not tried.
    await harness.deliver(record(3, A, 1, "bug"), record(4, A, 3, "a3"), record(5, B, 2, "b2"))
    assert harness.effects.applied == [(B, 1, "b1"), (B, 2, "b2")]
    assert [e.event_key for e in harness.store.held_by(head.id)] == [f"{A}:2", f"{A}:3"]

    # Once an operator re-drove the head, A's new events are applied again.
    harness.store.redriven(head.id)
    await harness.deliver(record(6, A, 4, "a4"))
    assert harness.effects.applied[-1] == (A, 4, "a4")


async def test_an_event_that_applies_after_failing_forgets_its_attempts(
    harness: Harness,
) -> None:
    flaky = {"fail": True}
    handle = harness.effects.handle

    def once_broken(event: Any, delivery: DeliveryRef) -> bool:
        if flaky.pop("fail", False):
            raise KeyError("missing row")
        return handle(event, delivery)

    subscription = Subscription(CONSUMER, TOPIC, {ThingHappenedV1: once_broken})
    with pytest.raises(KeyError):
        await harness.runner.dispatch_batch(subscription, [record(0, A, 1)])
    assert harness.store.attempts(WORKER, f"{A}:1") == 1

    await harness.runner.dispatch_batch(subscription, [record(0, A, 1)])
    assert harness.store.attempt_counts == {}
    assert harness.effects.applied == [(A, 1, "")]


async def test_a_consumer_that_keeps_dying_counts_each_attempt_before_it(
    harness: Harness,
) -> None:
    # The process before started at offset 0 of partition 0 too: this one is careful.
    harness.store.starts[(WORKER, "0")] = (0, 1)
    harness.store.attempt_counts[(WORKER, f"{A}:1")] = 3

    await harness.deliver(record(0, A, 1, "a1"), record(1, B, 1, "b1"))

    [head] = harness.store.heads(WORKER)
    assert head.error == "the consumer died applying it 3 times" and head.attempts == 3
    assert harness.effects.applied == [(B, 1, "b1")]
    assert (WORKER, f"{B}:1") not in harness.store.attempt_counts  # counted, then forgotten


async def test_a_careful_attempt_met_by_an_outage_is_taken_back(harness: Harness) -> None:
    harness.store.starts[(WORKER, "0")] = (0, 1)
    harness.effects.outages = 1

    with pytest.raises(psycopg.OperationalError):
        await harness.deliver(record(0, A, 1, "outage"))
    assert harness.store.attempts(WORKER, f"{A}:1") == 0


async def test_a_runner_without_a_parked_store_refuses_to_run() -> None:
    runner = ConsumerRunner("watcher", "127.0.0.1:9", [Effects().subscription()])
    with pytest.raises(RuntimeError, match="no parked store"):
        await runner.dispatch_batch(runner.subscriptions[0], [record(0, A, 1)])
    with pytest.raises(RuntimeError, match="no parked store"):
        await runner.start()


# -- the operators' re-drive ---------------------------------------------------------------


def parked(entry_id: int, rec: ConsumerRecord[Any, Any], worker: str = WORKER) -> ParkedEvent:
    return ParkedEvent(
        id=entry_id,
        role=Role.consumer,
        worker=worker,
        event_key=f"key-{entry_id}",
        aggregate_id=None,
        version=None,
        position=rec.offset,
        partition=rec.partition,
        error="ValueError",
        attempts=3,
        parked_at=datetime(2026, 3, 2, tzinfo=UTC),
        held_behind=None,
        status=Status.parked,
        resolved_at=None,
        resolved_by=None,
        reason=None,
        body=rec.value,
        headers=original_headers(list(rec.headers)),
    )


def test_a_redrive_applies_the_chain_in_order_skipping_deliveries_applied_before() -> None:
    effects = Effects()
    effects.tracking.add(DeliveryRef(CONSUMER, A, 2))  # applied meanwhile, by a re-send
    redriver = ConsumerRedriver([effects.subscription()])
    chain = [
        parked(1, record(0, A, 1, "a1")),
        parked(2, record(1, A, 2, "a2")),
        parked(3, record(2, A, 3, ce_type=ThingForgottenV1.ce_type)),  # no longer handled
        parked(4, record(3, A, 4, "a4")),
    ]

    assert redriver.redrive(None, chain) == (4, None)  # type: ignore[arg-type]

    assert effects.applied == [(A, 1, "a1"), (A, 4, "a4")]
    assert redriver.workers() == [WORKER]


def test_a_redrive_stops_at_the_first_event_that_fails_again() -> None:
    effects = Effects()
    redriver = ConsumerRedriver([effects.subscription()])
    chain = [
        parked(1, record(0, A, 1, "a1")),
        parked(2, record(1, A, 2, "bug")),
        parked(3, record(2, A, 3, "a3")),
    ]

    assert redriver.redrive(None, chain) == (1, "ValueError: no rule for bug")  # type: ignore[arg-type]
    assert effects.applied == [(A, 1, "a1")]


def test_a_redrive_refuses_a_record_that_still_cannot_be_read() -> None:
    redriver = ConsumerRedriver([Effects().subscription()])
    forged = parked(1, record(0, A, 1, source="/pubrev/intruder"))

    sent, error = redriver.redrive(None, [forged])  # type: ignore[arg-type]

    assert sent == 0
    assert error is not None and error.startswith("Unreadable: refused: ce_source")


def test_a_redrive_meeting_the_database_away_raises() -> None:
    effects = Effects()
    effects.outages = 1
    redriver = ConsumerRedriver([effects.subscription()])

    with pytest.raises(psycopg.OperationalError):
        redriver.redrive(None, [parked(1, record(0, A, 1, "outage"))])  # type: ignore[arg-type]


def test_original_headers_come_back_byte_for_byte() -> None:
    raw: list[tuple[str, bytes | None]] = [("ce_id", b"a:1"), ("x-bin", b"\xff"), ("x", None)]
    stored = original_headers(raw)
    assert stored[1] == ["x-bin", base64.b64encode(b"\xff").decode()]
    assert stored[2] == ["x", None]
