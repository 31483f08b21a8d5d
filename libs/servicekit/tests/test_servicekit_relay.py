"""The outbox relay (servicekit.relay) on fakes: a notification log in memory, a producer
that records what it was given, a parked store on dictionaries. What is asserted is what
the relay promises its consumers: every event after the recorded position goes out once
per batch, in the log's order, keyed by its aggregate; the position moves only after the
acks; an event it cannot translate is parked with its reason and its aggregate's later
events wait behind it while every other aggregate goes on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import errors as kafka_errors
from eventsourcing.persistence import IntegrityError, Notification

from libs.servicekit.tests.fakes import FakeProducer, InMemoryNotificationLog, InMemoryParkedStore
from servicekit import faults
from servicekit import relay as relay_module
from servicekit.isolation import Candidate, ParkedEvent, Role, Status
from servicekit.relay import OutboundMessage, Relay, RelayRedriver

TOPIC = "pubrev.sample.events.v1"
INTERNAL = "servicekit.eventstore:CommandReceipt.Issued"
WORKER = "relay:sample"
A = uuid.UUID("00000000-0000-0000-0000-00000000000a")
B = uuid.UUID("00000000-0000-0000-0000-00000000000b")


def translate(notification: Notification) -> OutboundMessage | None:
    """The sample service's contract: receipts are internal, a state starting `poison`
    is one its contract cannot render."""
    if notification.topic == INTERNAL:
        return None
    if notification.state.startswith(b"poison"):
        raise ValueError("year 1 has no UTC form")
    ce_id = f"{notification.originator_id}:{notification.originator_version}"
    return OutboundMessage(
        topic=TOPIC,
        key=str(notification.originator_id).encode(),
        value=notification.state,
        headers=[("ce_id", ce_id.encode())],
    )


@pytest.fixture(autouse=True)
def no_armed_faults() -> Iterator[None]:
    yield
    faults.disarm_all()


class Outbox:
    """A service's log, its relay's producer and parked store."""

    def __init__(self) -> None:
        self.log = InMemoryNotificationLog()
        self.producer = FakeProducer()
        self.store = InMemoryParkedStore()

    def relay(self, **options: Any) -> Relay:
        return Relay(
            "sample",
            self.log,  # type: ignore[arg-type]
            translate,
            self.producer,
            self.store,
            **options,
        )

    def event(self, aggregate: uuid.UUID, version: int, state: bytes, **kw: Any) -> Notification:
        return self.log.append(aggregate, version, state, **kw)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


async def test_a_batch_goes_out_in_log_order_keyed_by_aggregate_and_the_position_is_recorded(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.event(A, 2, b"A2")
    relay = outbox.relay(topic_prefix="test1.")

    assert await relay.run_once() == 3

    assert outbox.producer.values() == [b"A1", b"B1", b"A2"]
    first = outbox.producer.sent[0]
    assert first.topic == "test1." + TOPIC
    assert first.key == str(A).encode()
    assert first.headers == [("ce_id", f"{A}:1".encode())]
    assert outbox.log.tracking == {WORKER: 3}
    assert relay.published == 3
    # Idle: nothing read again, nothing sent again.
    assert await relay.run_once() == 0
    assert len(outbox.producer.sent) == 3


async def test_it_reads_after_the_recorded_position_and_a_new_relay_continues_from_it(
    outbox: Outbox,
) -> None:
    for version in range(1, 6):
        outbox.event(A, version, f"A{version}".encode())
    outbox.log.tracking[WORKER] = 2  # a relay before this one got that far

    relay = outbox.relay(batch_size=2)
    assert await relay.position() == 2
    assert await relay.run_once() == 2
    assert outbox.producer.values() == [b"A3", b"A4"]
    assert outbox.log.reads[-1] == (2, 2, False)  # strictly after the position

    restarted = outbox.relay(batch_size=2)
    assert await restarted.run_once() == 1
    assert outbox.producer.values() == [b"A3", b"A4", b"A5"]
    assert outbox.log.tracking[WORKER] == 5


async def test_gaps_in_notification_ids_are_passed_not_waited_for(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1", notification_id=1)
    outbox.event(B, 1, b"B1", notification_id=4)  # 2 and 3 rolled back: never used
    outbox.event(A, 2, b"A2", notification_id=9)
    relay = outbox.relay()

    assert await relay.run_once() == 3
    assert outbox.producer.values() == [b"A1", b"B1", b"A2"]
    assert outbox.log.tracking[WORKER] == 9

    outbox.event(B, 2, b"B2", notification_id=12)
    assert await relay.run_once() == 1
    assert outbox.producer.values()[-1] == b"B2"
    assert outbox.log.tracking[WORKER] == 12


async def test_internal_events_are_not_sent_but_the_position_moves_past_them(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"receipt", topic=INTERNAL)
    outbox.event(B, 1, b"receipt", topic=INTERNAL)
    relay = outbox.relay()

    assert await relay.run_once() == 2
    assert outbox.producer.sent == []
    assert outbox.log.tracking[WORKER] == 2
    assert relay.published == 0
    assert await relay.run_once() == 0


async def test_a_crash_between_the_acks_and_the_position_sends_the_batch_again(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    faults.arm("relay.after_ack")

    with pytest.raises(faults.InjectedFault):
        await outbox.relay().run_once()
    assert outbox.producer.values() == [b"A1", b"B1"]
    assert WORKER not in outbox.log.tracking  # acked, but not recorded

    # At least once: the restarted relay sends the same records (same ce_id: consumers
    # recognise the copies), then records the position. It is the second start at
    # position 0 in a row, so it goes carefully, one event at a time.
    restarted = outbox.relay()
    assert await restarted.run_once() == 1
    assert await restarted.run_once() == 1
    assert outbox.producer.values() == [b"A1", b"B1", b"A1", b"B1"]
    assert outbox.producer.sent[0].headers == outbox.producer.sent[2].headers
    assert outbox.log.tracking[WORKER] == 2
    assert outbox.store.rows == {}  # nothing parked: a crash is not the events' fault


async def test_a_failed_ack_keeps_the_position_and_the_batch_comes_again(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.producer.fail_ack[b"B1"] = kafka_errors.KafkaTimeoutError()
    relay = outbox.relay()

    with pytest.raises(kafka_errors.KafkaTimeoutError):
        await relay.run_once()
    assert WORKER not in outbox.log.tracking
    assert outbox.store.rows == {}  # the broker away is nobody's fault: nothing parked

    assert await relay.run_once() == 2
    assert outbox.producer.values() == [b"A1", b"B1", b"A1", b"B1"]
    assert outbox.log.tracking[WORKER] == 2


async def test_an_untranslatable_event_is_parked_and_its_aggregate_waits_behind_it(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"poison A1")
    outbox.event(B, 1, b"B1")
    outbox.event(A, 2, b"A2")
    outbox.event(B, 2, b"B2")
    relay = outbox.relay()

    assert await relay.run_once() == 4

    assert outbox.producer.values() == [b"B1", b"B2"]  # the other aggregate goes on
    assert outbox.log.tracking[WORKER] == 4
    [head] = outbox.store.heads(WORKER)
    assert head.role == Role.relay
    assert head.event_key == "1" and head.position == 1
    assert head.aggregate_id == str(A) and head.version == 1
    assert head.error == "cannot translate: ValueError: year 1 has no UTC form"
    [held] = outbox.store.held_by(head.id)
    assert (held.event_key, held.version, held.error) == ("3", 2, f"held behind #{head.id}")
    assert (relay.parked, relay.held) == (1, 1)

    # Later batches: A's next event is held too (the parked table is asked), B's goes out.
    outbox.event(A, 3, b"A3")
    outbox.event(B, 3, b"B3")
    fresh = outbox.relay()  # knows nothing of what the one before parked
    assert await fresh.run_once() == 2
    assert outbox.producer.values() == [b"B1", b"B2", b"B3"]
    assert [e.event_key for e in outbox.store.held_by(head.id)] == ["3", "5"]

    # Once an operator re-drove the head, A's events go out again, in order.
    outbox.store.redriven(head.id)
    outbox.event(A, 4, b"A4")
    assert await fresh.run_once() == 1
    assert outbox.producer.values()[-1] == b"A4"


async def test_a_record_the_producer_refuses_is_parked_and_the_batch_goes_on(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.event(A, 2, b"A2")
    outbox.producer.refuse[b"A1"] = kafka_errors.MessageSizeTooLargeError("2 MB")
    relay = outbox.relay()

    assert await relay.run_once() == 3

    assert outbox.producer.values() == [b"B1"]
    [head] = outbox.store.heads(WORKER)
    assert head.error.startswith("cannot send: MessageSizeTooLargeError")
    assert [e.event_key for e in outbox.store.held_by(head.id)] == ["3"]
    assert outbox.log.tracking[WORKER] == 3


async def test_a_record_the_broker_refuses_at_ack_is_parked_and_the_position_moves(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.producer.fail_ack[b"A1"] = kafka_errors.RecordTooLargeError()
    relay = outbox.relay()

    assert await relay.run_once() == 2

    [head] = outbox.store.heads(WORKER)
    assert (head.event_key, head.aggregate_id) == ("1", str(A))
    assert head.error.startswith("cannot send: RecordTooLargeError")
    assert outbox.log.tracking[WORKER] == 2


async def test_an_event_parked_before_is_not_sent_again_when_its_batch_is_read_again(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.store.park(Role.relay, WORKER, Candidate("1", str(A), 1, 1), "cannot send", 1)

    assert await outbox.relay().run_once() == 2
    assert outbox.producer.values() == [b"B1"]
    assert len(outbox.store.open_entries(WORKER)) == 1  # not parked twice


async def test_a_relay_that_keeps_dying_goes_one_event_at_a_time_and_parks_the_killer(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    # The process before died here (twice in a row at position 0), and A1 has been tried
    # as often as it may be.
    outbox.store.starts[(WORKER, "log")] = (0, 1)
    outbox.store.attempt_counts[(WORKER, "1")] = 3
    relay = outbox.relay(max_attempts=3)

    assert await relay.run_once() == 1  # one event only, careful
    assert outbox.producer.sent == []
    [head] = outbox.store.heads(WORKER)
    assert head.error == "the relay died sending it 3 times" and head.attempts == 3
    assert outbox.log.tracking[WORKER] == 1
    assert (WORKER, "1") not in outbox.store.attempt_counts  # forgotten once past it

    # Still within the batch it started in: careful, each attempt counted first.
    assert await relay.run_once() == 1
    assert outbox.producer.values() == [b"B1"]
    assert (WORKER, "2") not in outbox.store.attempt_counts


async def test_a_careful_relay_counts_the_attempt_before_it_sends(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1")
    outbox.store.starts[(WORKER, "log")] = (0, 1)
    outbox.producer.fail_ack[b"A1"] = kafka_errors.KafkaTimeoutError()
    relay = outbox.relay(max_attempts=3)

    with pytest.raises(kafka_errors.KafkaTimeoutError):
        await relay.run_once()
    assert outbox.store.attempts(WORKER, "1") == 1


async def test_a_careful_relay_meeting_the_broker_away_counts_nothing_against_the_event(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker away is nobody's fault (servicekit.isolation): a careful relay (two
    restarts in a row at one position, e.g. two deploys while idle) that retries through
    an outage takes back each attempt it counted, as the consumer runner does, instead of
    parking a healthy event as one that killed it, with its aggregate held behind it."""
    outbox.event(A, 1, b"A1")
    outbox.event(B, 1, b"B1")
    outbox.store.starts[(WORKER, "log")] = (0, 1)
    outbox.producer.away = 4  # more failed tries than max_attempts
    relay = outbox.relay(max_attempts=3, idle_poll_seconds=0.001)
    stop = asyncio.Event()
    pauses: list[float] = []

    async def no_wait(stop_event: asyncio.Event, seconds: float) -> None:
        pauses.append(seconds)
        if seconds == 0.001 or len(pauses) > 50:  # idle: everything is through
            stop_event.set()
        await asyncio.sleep(0)

    monkeypatch.setattr(relay_module, "wait_or_stop", no_wait)
    await relay.run(stop)

    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0]  # four failed batches, backing off
    assert outbox.store.rows == {}
    assert outbox.producer.values()[-2:] == [b"A1", b"B1"]
    assert outbox.log.tracking[WORKER] == 2
    assert outbox.store.attempt_counts == {}


async def test_a_position_moved_by_another_relay_fails_loudly(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1")
    relay = outbox.relay()
    assert await relay.position() == 0
    outbox.log.tracking[WORKER] = 5  # a second relay ran meanwhile

    with pytest.raises(IntegrityError):
        await relay.run_once()
    assert await relay.position() == 5  # read again, not trusted


# -- the operators' re-drive ------------------------------------------------------------


def parked(entry_id: int, position: int, key: str | None = None) -> ParkedEvent:
    return ParkedEvent(
        id=entry_id,
        role=Role.relay,
        worker=WORKER,
        event_key=key or str(position),
        aggregate_id=str(A),
        version=position,
        position=position,
        partition=None,
        error="cannot translate",
        attempts=1,
        parked_at=datetime(2026, 3, 2, tzinfo=UTC),
        held_behind=None,
        status=Status.parked,
        resolved_at=None,
        resolved_by=None,
        reason=None,
    )


def redriver(outbox: Outbox) -> RelayRedriver:
    return RelayRedriver(
        "sample",
        outbox.log,  # type: ignore[arg-type]
        translate,
        outbox.store,
        lambda: outbox.producer,
        topic_prefix="p.",
    )


def test_a_redrive_sends_the_chain_in_order_with_a_producer_of_its_own(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(A, 2, b"A2")
    outbox.event(A, 3, b"receipt", topic=INTERNAL)

    assert redriver(outbox).redrive(None, [parked(7, 1), parked(8, 2), parked(9, 3)]) == (3, None)  # type: ignore[arg-type]

    assert outbox.producer.values() == [b"A1", b"A2"]
    assert outbox.producer.sent[0].topic == "p." + TOPIC
    assert outbox.producer.started and outbox.producer.stopped


def test_a_redrive_stops_at_the_first_event_that_fails_again(outbox: Outbox) -> None:
    outbox.event(A, 1, b"A1")
    outbox.event(A, 2, b"poison A2")
    outbox.event(A, 3, b"A3")

    sent, error = redriver(outbox).redrive(None, [parked(7, 1), parked(8, 2), parked(9, 3)])  # type: ignore[arg-type]

    assert (sent, error) == (1, "ValueError: year 1 has no UTC form")
    assert outbox.producer.values() == [b"A1"]  # A3 stays behind A2
    assert outbox.producer.stopped


def test_a_redrive_meeting_the_broker_away_raises_instead_of_blaming_the_event(
    outbox: Outbox,
) -> None:
    outbox.event(A, 1, b"A1")
    outbox.producer.fail_ack[b"A1"] = kafka_errors.KafkaTimeoutError()

    with pytest.raises(kafka_errors.KafkaTimeoutError):
        redriver(outbox).redrive(None, [parked(7, 1)])  # type: ignore[arg-type]
