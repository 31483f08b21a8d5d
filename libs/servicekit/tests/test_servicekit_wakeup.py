"""The relay and the projector woken by their log's LISTEN/NOTIFY (servicekit.wakeup).

On the real PostgreSQL (marked infra): a commit wakes an idle relay or projector whose
polls are a minute apart, so the event goes through in far less than a poll; a listener
whose connection is killed is replaced, and until it is, the reader polls at its old pace
(a missed notification never stalls it). Without PostgreSQL (the fakes), there is no
listener and the reader polls as it always did."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification
from psycopg_pool import ConnectionPool

from libs.servicekit.tests.fakes import FakeProducer, InMemoryNotificationLog, InMemoryParkedStore
from servicekit.eventstore import ServiceApplication
from servicekit.postgres import eventsourcing_env
from servicekit.projector import Projector
from servicekit.relay import OutboundMessage, Relay
from servicekit.testing import eventually
from servicekit.wakeup import LogListener

A_MINUTE = 60.0
"""Every poll of the readers under test: what they deliver well before it, a wake-up did."""
DEADLINE = 20.0


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


def translate(notification: Notification) -> OutboundMessage:
    return OutboundMessage(
        topic="pubrev.notes.events.v1",
        key=str(notification.originator_id).encode(),
        value=notification.state,
        headers=[],
    )


@pytest.fixture
def app(fresh_database: str) -> Iterator[ServiceApplication]:
    application = ServiceApplication(env=eventsourcing_env(fresh_database, pool_size=2))
    try:
        yield application
    finally:
        application.close()


def relay(app: ServiceApplication, producer: FakeProducer, **options: Any) -> Relay:
    return Relay(
        "notes",
        app.process_recorder,
        translate,
        producer,  # type: ignore[arg-type]
        InMemoryParkedStore(),
        **options,
    )


def kill_listeners(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%%'"
        ).fetchall()
    return len(rows)


# -- without PostgreSQL --------------------------------------------------------------------


def test_a_log_that_is_not_postgresql_has_no_listener() -> None:
    assert LogListener.of(InMemoryNotificationLog()) is None


async def test_waiting_ends_when_woken_when_stopped_or_when_the_poll_is_due() -> None:
    async def never() -> Any:
        raise AssertionError("not connected in this test")

    listener = LogListener("notes_events", never)
    stop = asyncio.Event()

    assert await listener.wait(stop, 0.01) is False  # the poll is due
    listener.woken.set()
    assert await listener.wait(stop, A_MINUTE) is True
    listener.clear()
    stop.set()
    assert await listener.wait(stop, A_MINUTE) is False


async def test_an_idle_relay_without_a_listener_polls_as_before() -> None:
    log = InMemoryNotificationLog()
    producer = FakeProducer()
    worker = Relay(
        "notes",
        log,  # type: ignore[arg-type]
        translate,
        producer,  # type: ignore[arg-type]
        InMemoryParkedStore(),
        idle_poll_seconds=0.01,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        log.append(uuid.uuid4(), 1, b"n1")
        await eventually(lambda: _sent(producer, 1), timeout=DEADLINE, what="the poll")
    finally:
        stop.set()
        await running
    assert worker.listener is None


async def _sent(producer: FakeProducer, count: int) -> bool | None:
    return True if len(producer.sent) >= count else None


# -- on PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.infra
async def test_a_commit_wakes_the_idle_relay_long_before_its_poll(app: ServiceApplication) -> None:
    producer = FakeProducer()
    worker = relay(app, producer, idle_poll_seconds=A_MINUTE, listen_poll_seconds=A_MINUTE)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: _listening(worker), timeout=DEADLINE, what="LISTEN")
        for count in (1, 2, 3):  # each commit, not only the first
            await asyncio.to_thread(app.save, Note(f"note {count}"))
            await eventually(lambda n=count: _sent(producer, n), timeout=DEADLINE, what="a wake-up")
    finally:
        stop.set()
        await running
    assert worker.listener is not None and worker.listener.notifications >= 3


async def _listening(worker: Relay | Projector) -> bool | None:
    listener = worker.listener
    return True if listener is not None and listener.listening else None


@pytest.mark.infra
async def test_a_lost_listener_is_replaced_and_the_relay_polls_until_it_is(
    app: ServiceApplication, fresh_database: str
) -> None:
    producer = FakeProducer()
    worker = relay(app, producer, idle_poll_seconds=0.05, listen_poll_seconds=A_MINUTE)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: _listening(worker), timeout=DEADLINE, what="LISTEN")
        assert await asyncio.to_thread(kill_listeners, fresh_database) == 1
        await eventually(lambda: _not_listening(worker), timeout=DEADLINE, what="the loss")
        # Whatever is committed meanwhile goes out by the poll (no notification comes).
        await asyncio.to_thread(app.save, Note("while deaf"))
        await eventually(lambda: _sent(producer, 1), timeout=DEADLINE, what="the poll")
        # The listener comes back, and wakes the relay again.
        await eventually(lambda: _listening(worker), timeout=DEADLINE, what="LISTEN again")
        await asyncio.to_thread(app.save, Note("heard again"))
        await eventually(lambda: _sent(producer, 2), timeout=DEADLINE, what="a wake-up")
    finally:
        stop.set()
        await running


async def _not_listening(worker: Relay) -> bool | None:
    listener = worker.listener
    return True if listener is not None and not listener.listening else None


class Titles:
    name = "titles"

    def create_tables(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS titles (position bigint PRIMARY KEY, text text)")

    def apply(self, cur: Any, event: Any, position: int) -> None:
        cur.execute("INSERT INTO titles VALUES (%s, %s)", (position, event.text))


@pytest.mark.infra
async def test_a_commit_wakes_the_idle_projector_long_before_its_poll(
    app: ServiceApplication, fresh_database: str
) -> None:
    pool = ConnectionPool(fresh_database, min_size=1, max_size=2, open=True)
    projector = Projector(
        Titles(),
        app.process_recorder,
        app.mapper.to_domain_event,
        pool,
        idle_poll_seconds=A_MINUTE,
        listen_poll_seconds=A_MINUTE,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))

    async def projected() -> bool | None:
        return True if await asyncio.to_thread(projector.position) > 0 else None

    try:
        await eventually(lambda: _listening(projector), timeout=DEADLINE, what="LISTEN")
        await asyncio.to_thread(app.save, Note("projected"))
        await eventually(projected, timeout=DEADLINE, what="a wake-up")
    finally:
        stop.set()
        await running
        pool.close()
