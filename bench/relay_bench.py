"""Measurement 1: the relay draining the disclosure event store to Kafka, and its floors."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
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
from bench.progress import NO_PROGRESS, BenchProgress
from bench.report import Figure, Ratio, Section, percentile
from bench.scale import Scale
from bench.stopwatch import Stopwatch
from disclosure.bootstrap import build
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import ensure_topics
from servicekit.relay import OutboundMessage, Relay, Translate, make_producer
from servicekit.runtime import ServiceParts, close

UNIT = "events/s"
IDLE_SAMPLES = 40
IDLE_PAUSE_SECONDS = (0.02, 0.2)
IDLE_SETTLE_SECONDS = 1.0
SEED = 14


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


async def produce_batches(
    producer: AIOKafkaProducer, messages: Sequence[OutboundMessage], batch_size: int
) -> None:
    """The same records, each chunk of `batch_size` built into one record batch per
    partition by this process (partitioned as aiokafka's default partitioner does) and
    handed over whole (`send_batch`): no per-record future, no per-record queueing."""
    topic = messages[0].topic
    partitions = sorted(await producer.partitions_for(topic))
    for chunk in chunks(messages, batch_size):
        builders: dict[int, Any] = {}
        acks: list[asyncio.Future[Any]] = []
        for m in chunk:
            partition = partitions[(murmur2(m.key) & 0x7FFFFFFF) % len(partitions)]
            builder = builders.get(partition)
            if builder is None:
                builder = builders[partition] = producer.create_batch()
            if builder.append(timestamp=None, key=m.key, value=m.value, headers=m.headers) is None:
                acks.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[partition] = producer.create_batch()
                builder.append(timestamp=None, key=m.key, value=m.value, headers=m.headers)
        for partition, builder in builders.items():
            acks.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*acks)


async def time_raw_batch_produce(
    bootstrap: str, messages: Sequence[OutboundMessage], batch_size: int
) -> Figure:
    producer = await started_producer(bootstrap, "bench-raw-batches", messages[0].topic)
    try:
        with Stopwatch() as watch:
            await produce_batches(producer, messages, batch_size)
    finally:
        await producer.stop()
    return Figure(
        "produce_batches",
        "raw produce, record batches built here (send_batch), same records",
        len(messages),
        watch.timing,
        UNIT,
    )


@contextlib.asynccontextmanager
async def bench_relay(
    parts: ServiceParts, batch_size: int, client_id: str = "bench-relay", **options: Any
) -> AsyncIterator[Relay]:
    """The service's relay over its store (`options`: the Relay's own), its producer
    started, at its recorded position; producer and pool closed on the way out."""
    settings = parts.settings
    producer = await started_producer(settings.kafka_bootstrap, client_id, parts.topic)
    # Where it would park an event it cannot send (none here): the service's database.
    store = ParkedStore(
        ConnectionPool(settings.service_database_url, min_size=1, max_size=2, open=True)
    )
    try:
        store.ensure_tables()
        relay = Relay(
            settings.service,
            parts.app.process_recorder,
            parts.translate,
            producer,
            store,
            batch_size=batch_size,
            **options,
        )
        await relay.position()
        yield relay
    finally:
        await producer.stop()
        store.pool.close()


async def time_relay(parts: ServiceParts, batch_size: int) -> Figure:
    async with bench_relay(parts, batch_size) as relay:
        moved = 0
        with Stopwatch() as watch:
            while step := await relay.run_once():
                moved += step
    return Figure(
        "relay",
        "Relay.run_once until idle (read+translate+produce+track)",
        moved,
        watch.timing,
        UNIT,
    )


async def time_idle_latency(
    parts: ServiceParts, filings: Sequence[Filing], *, listen: bool
) -> Figure:
    """Write one event, wait for the relay to have produced it (its ack in, its position
    recorded), at random moments, relay idle in between: today's poll or LISTEN/NOTIFY."""
    settings = parts.settings
    pauses = random.Random(SEED + int(listen))  # noqa: S311 (pauses, not secrets)
    latencies: list[float] = []
    async with bench_relay(
        parts,
        settings.relay_batch_size,
        "bench-idle",
        idle_poll_seconds=settings.relay_idle_poll_seconds,
        listen=listen,
    ) as relay:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        try:
            await asyncio.sleep(IDLE_SETTLE_SECONDS)
            if listen and (relay.listener is None or not relay.listener.listening):
                raise RuntimeError("the relay is not listening to its log's notifications")
            with Stopwatch() as watch:
                for filing in filings:
                    # A random moment of the poll's cycle, the relay idle.
                    await asyncio.sleep(pauses.uniform(*IDLE_PAUSE_SECONDS))
                    before = relay.published
                    started = time.perf_counter()
                    await asyncio.to_thread(fill_with_filings, parts.app, [filing])
                    while relay.published == before:
                        if running.done():
                            running.result()  # the relay died: say why
                            raise RuntimeError("the relay stopped")
                        await asyncio.sleep(0.0005)
                    latencies.append(time.perf_counter() - started)
        finally:
            stop.set()
            await running
    how = (
        f"LISTEN/NOTIFY (poll {relay.listen_poll_seconds:g} s kept)"
        if listen
        else f"polling every {relay.idle_poll_seconds * 1000:g} ms (before)"
    )
    return Figure(
        "idle_listen" if listen else "idle_poll",
        f"idle latency, write → produced: {how}",
        len(latencies),
        watch.timing,
        "writes",
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        latency_only=True,
    )


async def measure(
    parts: ServiceParts,
    filings: Sequence[Filing],
    idle: Sequence[Filing],
    progress: BenchProgress,
) -> list[Figure]:
    """Fills the store, then times the floors first and the relay last (a warm cache helps
    them all alike: the relay reads a log that was just written, too); then the idle
    latency, polling and listening."""
    batch_size = parts.settings.relay_batch_size
    recorder = parts.app.process_recorder
    with progress.step(f"relay: writing {len(filings):,} DisclosureFiled (untimed)"):
        await asyncio.to_thread(fill_with_filings, parts.app, filings)
    with progress.step("relay: log read, translation, raw produce, relay"):
        read = await asyncio.to_thread(time_read, recorder, batch_size)
        notifications = await asyncio.to_thread(read_log, recorder, batch_size)
        translate, messages = time_translate(parts.translate, notifications)
        produce = await time_raw_produce(parts.settings.kafka_bootstrap, messages, batch_size)
        batches = await time_raw_batch_produce(parts.settings.kafka_bootstrap, messages, batch_size)
        relay = await time_relay(parts, batch_size)
    if relay.count != len(notifications):
        raise RuntimeError(f"relay moved {relay.count} of {len(notifications)} notifications")
    half = len(idle) // 2
    with progress.step(f"relay: idle latency, {half} writes polling then {half} listening"):
        polling = await time_idle_latency(parts, idle[:half], listen=False)
        listening = await time_idle_latency(parts, idle[half:], listen=True)
    return [relay, produce, batches, read, translate, polling, listening]


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


async def relay_section(scale: Scale, progress: BenchProgress = NO_PROGRESS) -> Section:
    events = scale.relay_events
    chosen = relay_filings(events + 2 * IDLE_SAMPLES)
    filings, idle = chosen[:events], chosen[events:]
    with scratch_database("relay") as url:
        parts = build(disclosure_settings(url))
        try:
            await ensure_topics(
                parts.settings.kafka_bootstrap,
                [parts.topic],
                replication_factor=parts.settings.topic_replication_factor,
            )
            figures = await measure(parts, filings, idle, progress)
        finally:
            close(parts)
    batch = parts.settings.relay_batch_size
    throughput = [f for f in figures if not f.latency_only]
    return Section(
        key="relay",
        title=f"Relay: disclosure event store → Kafka ({events:,} DisclosureFiled, "
        f"batch {batch}, topic {parts.topic})",
        figures=figures,
        ratios=[
            Ratio("relay ÷ raw produce", "relay", "produce", goal=0.8),
            Ratio("relay ÷ notification-log read", "relay", "read"),
            Ratio("relay ÷ translate only", "relay", "translate"),
            Ratio("raw produce in record batches ÷ raw produce", "produce_batches", "produce"),
            Ratio("idle latency p50: polling ÷ LISTEN", "idle_poll", "idle_listen", of="p50"),
        ],
        notes=[
            source_note(),
            workload_note(filings),
            per_event_note(throughput),
            f"idle latency: {IDLE_SAMPLES} single DisclosureFiled writes (app.save) each way, "
            f"{IDLE_PAUSE_SECONDS[0]:g}–{IDLE_PAUSE_SECONDS[1]:g} s apart at random, timed "
            "from the write's call to the relay's recorded position (ack in)",
        ],
    )
