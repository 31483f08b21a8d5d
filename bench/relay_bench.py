"""Measurement 1: the relay draining the disclosure event store to Kafka, and its floors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification, ProcessRecorder
from psycopg_pool import ConnectionPool

from bench.disclosure_data import (
    Filing,
    chunks,
    fill_with_filings,
    kinds,
    relay_filings,
    source_note,
)
from bench.infra import disclosure_settings, scratch_database
from bench.report import Figure, Ratio, Section
from bench.stopwatch import Stopwatch
from disclosure.bootstrap import build
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import ensure_topics
from servicekit.relay import OutboundMessage, Relay, Translate, make_producer
from servicekit.runtime import ServiceParts, close

EVENTS = 20_000
UNIT = "events/s"


def read_log(recorder: ProcessRecorder, batch_size: int) -> list[Notification]:
    """The whole notification log, in batches the way the relay reads it."""
    notifications: list[Notification] = []
    position = 0
    while batch := recorder.select_notifications(position, batch_size, inclusive_of_start=False):
        notifications.extend(batch)
        position = batch[-1].id
    return notifications


def time_read(recorder: ProcessRecorder, batch_size: int) -> Figure:
    with Stopwatch() as watch:
        count = len(read_log(recorder, batch_size))
    return Figure(
        "read",
        f"notification-log read (batches of {batch_size}, no Kafka)",
        count,
        watch.timing,
        UNIT,
    )


def time_translate(
    translate: Translate, notifications: Sequence[Notification]
) -> tuple[Figure, list[OutboundMessage]]:
    with Stopwatch() as watch:
        translated = [translate(n) for n in notifications]
    messages = [m for m in translated if m is not None]
    figure = Figure(
        "translate",
        "translate only (stored event → contract message)",
        len(notifications),
        watch.timing,
        UNIT,
    )
    return figure, messages


async def started_producer(bootstrap: str, client_id: str, topic: str) -> AIOKafkaProducer:
    """A producer with the relay's settings, its topic metadata already fetched."""
    producer = make_producer(bootstrap, client_id)
    await producer.start()
    await producer.partitions_for(topic)
    return producer


async def produce_all(
    producer: AIOKafkaProducer, messages: Sequence[OutboundMessage], batch_size: int
) -> None:
    for batch in chunks(messages, batch_size):
        pending = [
            await producer.send(m.topic, m.value, key=m.key, headers=m.headers) for m in batch
        ]
        await asyncio.gather(*pending)


async def time_raw_produce(
    bootstrap: str, messages: Sequence[OutboundMessage], batch_size: int
) -> Figure:
    producer = await started_producer(bootstrap, "bench-raw-produce", messages[0].topic)
    try:
        with Stopwatch() as watch:
            await produce_all(producer, messages, batch_size)
    finally:
        await producer.stop()
    return Figure(
        "produce",
        "raw aiokafka produce of the same messages (acks=all, idem.)",
        len(messages),
        watch.timing,
        UNIT,
    )


async def time_relay(parts: ServiceParts, batch_size: int) -> Figure:
    settings = parts.settings
    producer = await started_producer(settings.kafka_bootstrap, "bench-relay", parts.topic)
    # Where it would park an event it cannot send (none here): the service's database.
    store = ParkedStore(
        ConnectionPool(settings.service_database_url, min_size=1, max_size=2, open=True)
    )
    store.ensure_tables()
    relay = Relay(
        settings.service,
        parts.app.process_recorder,
        parts.translate,
        producer,
        store,
        batch_size=batch_size,
    )
    try:
        await relay.position()
        moved = 0
        with Stopwatch() as watch:
            while step := await relay.run_once():
                moved += step
    finally:
        await producer.stop()
        store.pool.close()
    return Figure(
        "relay",
        "Relay.run_once until idle (read+translate+produce+track)",
        moved,
        watch.timing,
        UNIT,
    )


async def measure(parts: ServiceParts, filings: Sequence[Filing]) -> list[Figure]:
    """Fills the store, then times the floors first and the relay last (a warm cache helps
    them all alike: the relay reads a log that was just written, too)."""
    batch_size = parts.settings.relay_batch_size
    recorder = parts.app.process_recorder
    await asyncio.to_thread(fill_with_filings, parts.app, filings)
    read = await asyncio.to_thread(time_read, recorder, batch_size)
    notifications = await asyncio.to_thread(read_log, recorder, batch_size)
    translate, messages = time_translate(parts.translate, notifications)
    produce = await time_raw_produce(parts.settings.kafka_bootstrap, messages, batch_size)
    relay = await time_relay(parts, batch_size)
    if relay.count != len(notifications):
        raise RuntimeError(f"relay moved {relay.count} of {len(notifications)} notifications")
    return [relay, produce, read, translate]


def per_event_note(figures: Sequence[Figure]) -> str:
    costs = ", ".join(f"{f.key} {f.seconds / max(f.count, 1) * 1e6:.0f} µs" for f in figures)
    return f"per event: {costs}"


def workload_note(filings: Sequence[Filing]) -> str:
    communities = len({f.request.community_code for f in filings})
    late = sum(1 for f in filings if f.late_as_generated)
    return (
        f"stored events: the first {len(filings):,} valid filings of that dataset in time "
        f"order ({communities:,} communities; {kinds(filings)}), written directly with the "
        f"generator's filed_at ({late:,} of them late by it); `inconsistent` ones left out "
        "(the service refuses them)"
    )


async def relay_section(events: int = EVENTS) -> Section:
    filings = relay_filings(events)
    with scratch_database("relay") as url:
        parts = build(disclosure_settings(url))
        try:
            await ensure_topics(
                parts.settings.kafka_bootstrap,
                [parts.topic],
                replication_factor=parts.settings.topic_replication_factor,
            )
            figures = await measure(parts, filings)
        finally:
            close(parts)
    batch = parts.settings.relay_batch_size
    return Section(
        title=f"Relay: disclosure event store → Kafka ({events:,} DisclosureFiled, "
        f"batch {batch}, topic {parts.topic})",
        figures=figures,
        ratios=[
            Ratio("relay ÷ raw produce", "relay", "produce"),
            Ratio("relay ÷ notification-log read", "relay", "read"),
            Ratio("relay ÷ translate only", "relay", "translate"),
        ],
        notes=[source_note(), workload_note(filings), per_event_note(figures)],
    )
