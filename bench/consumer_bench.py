"""Measurement: inspection's and casework's consumer groups applying DisclosureFiled from Kafka,
and their floors (issue 14, goal 1: at least 5,000 events/s per consumer group, every feature
on).

N DisclosureFiled contract records (`consumer_events(scale)`: BENCH_SCALE's stored events ÷
20, so 50,000 by default) are produced to a fresh topic first, untimed: the communities of
the synthetic province filing one year, quarter after quarter (a quarter's filings of every
community, then the next quarter's), so each community's watch is opened by its first
filing and found again by the next three. Then, timed:

- `consume`: raw aiokafka consume of those records (partitions assigned, no group, nothing
  decoded): the floor of reading them at all;
- `insert`: a raw batch insert (COPY) of the rows the consumer writes for them (its stored
  events and one tracking row per record), a transaction per batch, into scratch tables
  with the same keys: the floor of writing them at all;
- `consume_apply`: inspection's `ConsumerRunner` with inspection's disclosure-watch
  subscription as its bootstrap builds it (a fresh inspection database; contract check of
  each record's source and body, publish check of each new event, parked store and crash
  guard live) until every record is applied. Timed from its first batch to its last
  effect, so the group's join (the broker's rebalance delay) is not counted; the raw
  consume is timed without a join either;
- `casework_apply`: casework's `ConsumerRunner` with its disclosure-warnings subscription
  (`casework.warnings.disclosure`) as its bootstrap builds it, on a fresh casework database,
  applying the first `CASEWORK_PREFIX` (5,000) of the same records, produced again to a
  topic of its own (untimed), timed the same way. Per filing it updates the community's
  facts and its unit's year (`UnitCampaign`, one event more per filing of the unit) and
  raises the disclosure warnings due (a zero-revenue quarter's deficit, ...). Its ratios
  are against the same floors.

`python -m bench.consumer_bench` runs this section alone (BENCH_SCALE as for `make bench`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from psycopg import sql
from psycopg_pool import ConnectionPool

from bench.infra import kafka_bootstrap, scratch_database
from bench.progress import NO_PROGRESS, BenchProgress
from bench.report import Figure, Ratio, Section
from bench.scale import Scale
from bench.stopwatch import Stopwatch, Timing, host_busy_seconds
from casework.bootstrap import build as build_casework
from casework.entrypoints.consumers import WARNINGS
from inspection.bootstrap import build
from inspection.entrypoints.consumers import DISCLOSURE_WATCH
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.consumer import ConsumerRunner, Subscription, dead_letter_topic
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import ensure_topics
from servicekit.runtime import ServiceParts, close
from servicekit.settings import ServiceSettings

UNIT = "events/s"
QUARTERS = 4
YEAR = 2025
PARTITIONS = 3
"""The topics' partitions as `ensure_topics` makes them for the services."""
NAMESPACE = uuid.UUID("1b0c7f1e-3c55-4a8e-9d0e-6c1f4b1f0e14")
WATCH_NAMESPACE = uuid.UUID("b5b0a4c4-6a0e-4d1b-9b0e-3c2b7d7e9a21")
"""inspection's CommunityWatch ids (domain.community_watch.NAMESPACE): the raw insert's
rows are keyed as the consumer's are."""
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "contracts"
    / "samples"
    / "pubrev.disclosure.DisclosureFiled.v1.json"
)
CASEWORK_WARNINGS = f"{WARNINGS}.disclosure"
CASEWORK_PREFIX = 5_000
"""Casework's disclosure warnings are timed on the records' first this many (a prefix, as
the replay bench's per-event figure is): applied event by event they ran at 263 a second,
too slow for the whole run; the prefix stays, so runs before and after compare."""
PATIENCE_SECONDS = 600.0
"""How long the runner may take before the bench gives up on it (and says how far it got)."""


def consumer_events(scale: Scale) -> int:
    return max(1_000, scale.replay_events // 20)


@dataclasses.dataclass(frozen=True)
class Outbound:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    community: str


def disclosure_records(count: int) -> list[Outbound]:
    """`count` DisclosureFiled records as disclosure's relay publishes them: the contract
    sample's figures, a community per `count ÷ 4`, quarter-major."""
    sample = json.loads(SAMPLE.read_text("utf-8"))
    communities = max(1, -(-count // QUARTERS))
    records: list[Outbound] = []
    for quarter in range(1, QUARTERS + 1):
        occurred = datetime(YEAR + (quarter == 4), (quarter * 3) % 12 + 1, 10, tzinfo=UTC)
        for n in range(communities):
            if len(records) == count:
                return records
            unit = COUNTY_UNITS[n % len(COUNTY_UNITS)]
            code = f"BC-{n:06d}"
            aggregate = str(uuid.uuid5(NAMESPACE, f"{code}:{YEAR}Q{quarter}"))
            zero = n % 17 == 0
            body = sample | {
                "aggregate_id": aggregate,
                "aggregate_version": 1,
                "unit": unit,
                "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
                "community_id": str(uuid.uuid5(NAMESPACE, code)),
                "community_code": code,
                "year": YEAR,
                "quarter": quarter,
                "late": n % 5 == 0,
                "zero_revenue": zero,
            }
            if zero:
                body["figures"] = sample["figures"] | {
                    "income": [],
                    "income_total_fen": 0,
                    "surplus_fen": -150000,
                    "owners_share_fen": 0,
                    "transferred_to_maintenance_fund_fen": 0,
                    "operating_cost_fen": 0,
                }
            headers = CloudEventAttributes(
                id=event_id(aggregate, 1),
                source="/pubrev/disclosure",
                type="pubrev.disclosure.DisclosureFiled.v1",
                time=occurred,
                subject=aggregate,
                unit=unit,
            ).headers()
            value = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            records.append(Outbound(aggregate.encode(), value, headers, code))
    return records


async def produce(bootstrap: str, topic: str, records: Sequence[Outbound]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        for start in range(0, len(records), 5_000):
            acks = [
                await producer.send(topic, r.value, key=r.key, headers=r.headers)
                for r in records[start : start + 5_000]
            ]
            await asyncio.gather(*acks)
    finally:
        await producer.stop()


# -- the floors ------------------------------------------------------------------------------


async def time_raw_consume(bootstrap: str, topic: str, count: int, batch: int) -> Figure:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        with Stopwatch() as watch:
            while seen < count:
                fetched = await consumer.getmany(timeout_ms=1_000, max_records=batch)
                if not fetched:
                    raise RuntimeError(f"raw consume: {seen} of {count} records, then nothing")
                seen += sum(len(batch) for batch in fetched.values())
    finally:
        await consumer.stop()
    return Figure(
        "consume",
        f"raw aiokafka consume of the same records (batches of {batch:,})",
        seen,
        watch.timing,
        UNIT,
    )


STATE = json.dumps(
    {
        "disclosure_id": str(uuid.uuid4()),
        "year": YEAR,
        "quarter": 1,
        "revision": 0,
        "income_total_fen": 1630000,
        "surplus_fen": 1240000,
        "late": True,
        "zero_revenue": False,
        "originator_topic": "inspection.domain.community_watch:CommunityWatch",
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-05-06T02:30:00.000000+00:00"},
    }
).encode()
"""About the size of a stored DisclosureNoted."""


def equivalent_rows(
    records: Sequence[Outbound], batch: int
) -> list[tuple[list[tuple[uuid.UUID, int, str, bytes]], list[str]]]:
    """Per batch of records: the stored events the consumer writes for them (a new
    watch gets Opened, CompanyNoted and DisclosureNoted; a known one DisclosureNoted) and
    one tracking row per record."""
    versions: dict[str, int] = {}
    batches = []
    for start in range(0, len(records), batch):
        events: list[tuple[uuid.UUID, int, str, bytes]] = []
        tracking: list[str] = []
        for r in records[start : start + batch]:
            watch = uuid.uuid5(WATCH_NAMESPACE, f"watch:{r.community}")
            version = versions.get(r.community, 0)
            kinds = (
                ("Opened", "CompanyNoted", "DisclosureNoted")
                if version == 0
                else ("DisclosureNoted",)
            )
            for kind in kinds:
                version += 1
                events.append((watch, version, f"inspection.domain.community_watch:{kind}", STATE))
            versions[r.community] = version
            tracking.append(f"{DISCLOSURE_WATCH}|{r.key.decode()}|1")
        batches.append((events, tracking))
    return batches


SCRATCH_DDL = (
    "CREATE TABLE bench_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
    " topic text, state bytea, notification_id bigserial,"
    " PRIMARY KEY (originator_id, originator_version))",
    "CREATE UNIQUE INDEX ON bench_events (notification_id)",
    "CREATE TABLE bench_tracking (application_name text PRIMARY KEY, notification_id bigint)",
)


def time_raw_insert(url: str, records: Sequence[Outbound], batch: int) -> Figure:
    batches = equivalent_rows(records, batch)
    with psycopg.connect(url) as conn:
        for statement in SCRATCH_DDL:
            conn.execute(statement)
        conn.commit()
        with Stopwatch() as watch:
            for events, tracking in batches:
                with conn.transaction(), conn.cursor() as cur:
                    with cur.copy(
                        "COPY bench_events (originator_id, originator_version, topic, state)"
                        " FROM STDIN"
                    ) as copy:
                        for row in events:
                            copy.write_row(row)
                    with cur.copy(
                        "COPY bench_tracking (application_name, notification_id) FROM STDIN"
                    ) as copy:
                        for name in tracking:
                            copy.write_row((name, 1))
    rows = sum(len(e) + len(t) for e, t in batches)
    return Figure(
        "insert",
        f"raw batch insert (COPY) of equivalent rows ({rows:,}: events + tracking)",
        len(records),
        watch.timing,
        UNIT,
    )


# -- the consumer ----------------------------------------------------------------------------


@dataclasses.dataclass
class Mark:
    wall: float
    cpu: float
    host: float | None

    @classmethod
    def now(cls) -> Mark:
        return cls(time.perf_counter(), time.process_time(), host_busy_seconds())

    def until(self, end: Mark) -> Timing:
        host = None if self.host is None or end.host is None else end.host - self.host
        return Timing(end.wall - self.wall, end.cpu - self.cpu, host)


def inspection_settings(
    database_url: str, prefix: str, service: str = "inspection"
) -> ServiceSettings:
    return ServiceSettings(
        service=service,
        environment="test",
        kafka_bootstrap=kafka_bootstrap(),
        database_url=database_url,
        database_is_service_db=True,
        grpc_port=0,
        dev_identity_header=True,
        topic_prefix=prefix,
        shutdown_grace_seconds=2.0,
    )


def bench_runner(
    parts: ServiceParts, subscription: Subscription, prefix: str, store: ParkedStore
) -> ConsumerRunner:
    """The service's ConsumerRunner for this one subscription, as its consumer role builds
    it (its settings' attempts and grace), on the bench's topics."""
    settings = parts.settings
    return ConsumerRunner(
        settings.service,
        settings.kafka_bootstrap,
        [subscription],
        max_attempts=settings.consumer_max_attempts,
        graceful_timeout=settings.shutdown_grace_seconds,
        topic_prefix=prefix,
        store=store,
    )


def own_group(subscription: Subscription, tag: str) -> Subscription:
    """The subscription under a consumer group of the bench's own: a test or a service
    using the real group id on the same broker is neither rebalanced nor joined."""
    return dataclasses.replace(subscription, consumer=f"{subscription.consumer}.bench-{tag}")


INSPECTION_LABEL = "inspection's ConsumerRunner applying them (disclosure watch, every feature on)"


async def time_consumer(
    runner: ConsumerRunner,
    count: int,
    advance: Callable[[int], None],
    key: str = "consume_apply",
    label: str = INSPECTION_LABEL,
) -> tuple[Figure, int]:
    marks: list[Mark] = []
    dispatch = runner.dispatch_batch

    async def first_marked(
        subscription: Subscription, records: list[ConsumerRecord[Any, Any]]
    ) -> None:
        if not marks:
            marks.append(Mark.now())
        await dispatch(subscription, records)

    runner.dispatch_batch = first_marked  # type: ignore[method-assign]

    def through() -> int:
        return runner.applied + runner.duplicates + runner.dead_lettered + runner.held

    await runner.start()
    deadline = time.monotonic() + PATIENCE_SECONDS
    try:
        while through() < count and time.monotonic() < deadline:
            advance(through())
            await asyncio.sleep(0.005)
        end = Mark.now()
    finally:
        await runner.stop()
    done = through()
    timing = marks[0].until(end) if marks else Timing(0.0, 0.0, None)
    if done < count:
        label += f" — gave up after {PATIENCE_SECONDS:g} s"
    return Figure(key, label, runner.applied, timing, UNIT), done


def applied_rows(url: str, consumer: str, service: str = "inspection") -> tuple[int, int, int]:
    """Tracking rows of the consumer, stored events, parked entries (the effect, checked)."""
    with psycopg.connect(url) as conn:
        tracked = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE application_name LIKE %s").format(
                sql.Identifier(f"{service}_tracking")
            ),
            (consumer + "|%",),
        ).fetchone()
        events = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(f"{service}_events"))
        ).fetchone()
        parked = conn.execute("SELECT count(*) FROM parked_events").fetchone()
    return (
        int(tracked[0]) if tracked else 0,
        int(events[0]) if events else 0,
        int(parked[0]) if parked else 0,
    )


async def measure_casework(
    records: Sequence[Outbound], tag: str, progress: BenchProgress
) -> tuple[Figure, str]:
    """Casework's disclosure-warnings subscription (its bootstrap's, under a group of the
    bench's own) applying the records, produced again to a topic of its own (untimed), on a
    fresh casework database. It needs nothing before a filing: a community's facts and its
    unit's year are opened by the first filing (a registration only adds facilities)."""
    count = len(records)
    prefix = f"bench{tag}cw."
    bootstrap = kafka_bootstrap()
    await ensure_topics(
        bootstrap,
        [prefix + DISCLOSURE_EVENTS, prefix + dead_letter_topic("casework")],
        partitions=PARTITIONS,
    )
    with progress.step(f"consumer: producing {count:,} DisclosureFiled for casework (untimed)"):
        await produce(bootstrap, prefix + DISCLOSURE_EVENTS, records)
    with scratch_database("consumer_casework") as url:
        parts = build_casework(inspection_settings(url, prefix, "casework"))
        store = ParkedStore(ConnectionPool(url, min_size=1, max_size=4, open=True))
        try:
            await asyncio.to_thread(store.ensure_tables)
            [warnings] = [s for s in parts.subscriptions if s.consumer == CASEWORK_WARNINGS]
            subscription = own_group(warnings, tag)
            runner = bench_runner(parts, subscription, prefix, store)
            batching = "a batch per transaction" if subscription.batch_handler else "event by event"
            label = (
                f"casework's ConsumerRunner applying the first {count:,} of them (disclosure "
                f"warnings, {batching}, every feature on)"
            )
            with progress.step(f"consumer: casework applying {count:,}", total=count) as advance:
                apply, done = await time_consumer(runner, count, advance, "casework_apply", label)
            tracked, stored, parked = await asyncio.to_thread(
                applied_rows, url, subscription.consumer, "casework"
            )
        finally:
            store.pool.close()
            close(parts)
    note = (
        f"casework's disclosure warnings applied the first {count:,} {batching} "
        f"(fetched up to {subscription.max_records:,} at a time): {runner.applied:,} applied, "
        f"{runner.duplicates:,} duplicates, {runner.dead_lettered:,} parked; its database "
        f"holds {tracked:,} tracking rows, {stored:,} stored events (community facts, unit "
        f"years, warnings), {parked:,} parked entries"
    )
    if done < count or tracked != count:
        raise RuntimeError(f"casework got {done:,} of {count:,} records through: {note}")
    return apply, note


async def measure(
    count: int, progress: BenchProgress
) -> tuple[list[Figure], list[str], dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench{tag}."
    bootstrap = kafka_bootstrap()
    topic = prefix + DISCLOSURE_EVENTS
    records = disclosure_records(count)
    await ensure_topics(
        bootstrap, [topic, prefix + dead_letter_topic("inspection")], partitions=PARTITIONS
    )
    with progress.step(f"consumer: producing {count:,} DisclosureFiled (untimed)"):
        await produce(bootstrap, topic, records)
    with scratch_database("consumer") as url:
        parts = build(inspection_settings(url, prefix))
        store = ParkedStore(ConnectionPool(url, min_size=1, max_size=4, open=True))
        try:
            await asyncio.to_thread(store.ensure_tables)
            [watch] = [s for s in parts.subscriptions if s.consumer == DISCLOSURE_WATCH]
            subscription = own_group(watch, tag)
            batch = subscription.max_records
            with progress.step("consumer: raw consume and raw insert"):
                consume = await time_raw_consume(bootstrap, topic, count, batch)
                with scratch_database("consumer_insert") as scratch:
                    insert = await asyncio.to_thread(time_raw_insert, scratch, records, batch)
            runner = bench_runner(parts, subscription, prefix, store)
            with progress.step(f"consumer: inspection applying {count:,}", total=count) as advance:
                apply, done = await time_consumer(runner, count, advance)
            tracked, stored, parked = await asyncio.to_thread(
                applied_rows, url, subscription.consumer
            )
        finally:
            store.pool.close()
            close(parts)
    casework, casework_note = await measure_casework(
        records[: min(count, CASEWORK_PREFIX)], tag, progress
    )
    batching = "a batch per transaction" if subscription.batch_handler else "event by event"
    notes = [
        f"{count:,} DisclosureFiled of {-(-count // QUARTERS):,} communities, {QUARTERS} "
        f"quarters of {YEAR}, quarter after quarter (the first filing opens the community's "
        f"watch: 3 events, the next ones 1); {PARTITIONS} partitions; fetched up to {batch:,} "
        "at a time (the subscription's max_records), the floors in batches as large",
        f"the consumer applied them {batching}: {runner.applied:,} applied, "
        f"{runner.duplicates:,} duplicates, {runner.dead_lettered:,} parked; the database holds "
        f"{tracked:,} tracking rows, {stored:,} stored events, {parked:,} parked entries",
        "its own consumer group (the subscription's name + .bench-<tag>), only the disclosure "
        "watch subscribed (inspection's leads read casework's topic)",
        casework_note,
    ]
    if done < count or tracked != count:
        raise RuntimeError(
            f"the consumer got {done:,} of {count:,} records through "
            f"({tracked:,} tracked): {notes[1]}"
        )
    extra = {
        "events": count,
        "tracked": tracked,
        "stored_events": stored,
        "casework_events": casework.count,
    }
    return [apply, consume, insert, casework], notes, extra


async def consumer_section(scale: Scale, progress: BenchProgress = NO_PROGRESS) -> Section:
    count = consumer_events(scale)
    figures, notes, extra = await measure(count, progress)
    apply = figures[0]
    costs = ", ".join(f"{f.key} {f.seconds / max(f.count, 1) * 1e6:.0f} µs" for f in figures)
    notes.append(f"per event: {costs}")
    notes.append(f"goal: ≥ 5,000 events/s applied; this run {apply.rate:,.0f}")
    extra["goal_events_per_second"] = 5_000
    extra["met"] = apply.rate >= 5_000
    return Section(
        key="consumer",
        title=(
            f"Consumer: Kafka → inspection's disclosure watch ({count:,} DisclosureFiled), "
            "casework's disclosure warnings"
        ),
        figures=figures,
        ratios=[
            Ratio("consumer ÷ raw consume", "consume_apply", "consume"),
            Ratio("consumer ÷ raw batch insert", "consume_apply", "insert"),
            Ratio("casework's consumer ÷ raw consume", "casework_apply", "consume"),
            Ratio("casework's consumer ÷ raw batch insert", "casework_apply", "insert"),
        ],
        notes=notes,
        extra=extra,
    )


def main() -> None:
    from bench.report import render_section
    from bench.scale import bench_scale

    async def run() -> Section:
        with BenchProgress() as progress:
            return await consumer_section(bench_scale(), progress)

    section = asyncio.run(run())
    print("\n".join(render_section(1, section)))


if __name__ == "__main__":
    main()
