"""Measurement: replay — a fresh projection rebuilt from the whole disclosure event store,
beside a raw read of the same notification log (issue 14, goal 2).

A fresh database gets `scale.replay_events` stored events by COPY (bench.replay_store; not
timed). Then, on that one store:
- `read`: the raw notification-log read, eventsourcing's `select_notifications` in
  batches of 10,000 from position 0 to the end (no decoding): the floor set by PostgreSQL
  and eventsourcing, the baseline;
- `rebuild`: `servicekit.projector.Projector.rebuild()` of the disclosure read model with
  the service's own projection and decoder, as its projector is built
  (disclosure.adapters.read_model: `DisclosureProjection.apply_batch`, folded per
  aggregate, rows by COPY, and `partial_decoder`, the stored fields it reads; one
  transaction per 10,000 events, the log read one batch ahead), fresh tables in a schema of
  their own swapped in at the end, exactly as an operator's RebuildProjection;
- `rebuild, mapper`: the same rebuild decoding every event with the application's mapper:
  how much of the rebuild is decoding;
- `per event`: the same projection through `apply` one event at a time (the projector's
  `apply_batch` switched off), decoding with the mapper, batches of 500, the live
  projector's `run_once` — the service's projection before issue 14 — on empty tables,
  over a prefix of the log (`scale.per_event_events`; a million would take minutes);
- `the rebuild's reader alone`: the log read as the rebuild reads it (binary rows as
  tuples, the collector's thresholds raised as during a rebuild), nothing else: how close
  the rebuild comes to its own floor.
Both rebuilds must leave the same read model (counts and sums of the figures are compared,
the bench fails otherwise). What the bench process holds before (the relay's dataset, the
modules) is frozen out of the collector's sight first (`gc.freeze`), as a service process
would not hold it: each figure's collections scan only what that figure makes.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from psycopg import sql
from psycopg_pool import ConnectionPool

from bench.infra import disclosure_settings, scratch_database
from bench.progress import BenchProgress
from bench.replay_store import StoreShape, fill
from bench.report import Figure, Ratio, Section
from bench.scale import Scale
from bench.stopwatch import Stopwatch
from disclosure.adapters.read_model import DisclosureProjection
from disclosure.adapters.read_model_batches import partial_decoder
from disclosure.bootstrap import build
from servicekit.eventstore import ServiceApplication
from servicekit.log_reading import log_reader
from servicekit.projector import REBUILD_BATCH_SIZE, REBUILD_GC_THRESHOLD, Projector
from servicekit.runtime import ServiceParts, close

READ_BATCH = REBUILD_BATCH_SIZE
PER_EVENT_BATCH = 500
PER_EVENT_SCHEMA = "bench_per_event"
UNIT = "events/s"
EXTRAPOLATE_TO = 10_000_000
CHECK = (
    "SELECT (SELECT count(*) FROM rm_communities), count(*), sum(income_total_fen),"
    " sum(surplus_fen), sum(revision), sum(version), count(*) FILTER (WHERE late),"
    " count(*) FILTER (WHERE zero_revenue), min(filed_at), max(filed_at) FROM rm_disclosures"
)


def time_read(app: ServiceApplication, events: int, progress: BenchProgress) -> Figure:
    recorder = app.process_recorder
    count = position = 0
    with (
        progress.step("replay: raw notification-log read", events) as advance,
        Stopwatch() as watch,
    ):
        while batch := recorder.select_notifications(
            position, READ_BATCH, inclusive_of_start=False
        ):
            count += len(batch)
            position = batch[-1].id
            advance(count)
    return Figure(
        "read",
        f"raw notification-log read (select_notifications, batches of {READ_BATCH:,})",
        count,
        watch.timing,
        UNIT,
    )


def time_rebuild_reader(app: ServiceApplication, events: int, progress: BenchProgress) -> Figure:
    """The log read as a rebuild reads it (servicekit.projector's reader: binary rows as
    tuples, the collector's thresholds raised), nothing else: the rebuild's own floor."""
    read = log_reader(app.process_recorder, READ_BATCH)
    count = position = 0
    before = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLD)
    try:
        with (
            progress.step("replay: the rebuild's reader alone", events) as advance,
            Stopwatch() as watch,
        ):
            while batch := read(position):
                count += len(batch)
                position = batch[-1].id
                advance(count)
    finally:
        gc.set_threshold(*before)
    return Figure(
        "read_rebuild",
        "the rebuild's own reader alone (binary tuples, its collector thresholds)",
        count,
        watch.timing,
        UNIT,
    )


def read_model(pool: ConnectionPool) -> tuple[Any, ...]:
    with pool.connection() as conn:
        row = conn.execute(CHECK).fetchone()
    assert row is not None
    return tuple(row)


def time_rebuild(
    parts: ServiceParts,
    pool: ConnectionPool,
    events: int,
    progress: BenchProgress,
    *,
    stored_fields: bool,
) -> tuple[Figure, tuple[Any, ...]]:
    app = parts.app
    decode = partial_decoder(app.mapper) if stored_fields else app.mapper.to_domain_event
    projector = Projector(
        DisclosureProjection(),
        app.process_recorder,
        decode,
        pool,
        rebuild_batch_size=READ_BATCH,
    )
    how = "stored fields" if stored_fields else "mapper"
    with (
        progress.step(f"replay: rebuild ({how} decoding)", events) as advance,
        Stopwatch() as watch,
    ):
        report = projector.rebuild(lambda position, head: advance(position))
    if report.parked or report.held:
        raise RuntimeError(f"the rebuild parked {report.parked} and held {report.held} events")
    key, label = (
        ("rebuild", "rebuild: apply_batch, folded, COPY; stored-fields decoding")
        if stored_fields
        else ("rebuild_mapper", "rebuild: the same, decoding with the mapper")
    )
    return Figure(key, label, report.applied, watch.timing, UNIT), read_model(pool)


def time_per_event(
    parts: ServiceParts, url: str, events: int, progress: BenchProgress
) -> tuple[Figure, int]:
    """The projection applied per event (no `apply_batch`, the mapper decoding), on empty
    tables of a schema of its own: the baseline the batches are measured against."""
    with ConnectionPool(url, min_size=1, max_size=1, open=True) as admin, admin.connection() as c:
        c.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(PER_EVENT_SCHEMA)))
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=2,
        open=True,
        kwargs={"options": f"-c search_path={PER_EVENT_SCHEMA}"},
    )
    try:
        projector = Projector(
            DisclosureProjection(),
            parts.app.process_recorder,
            parts.app.mapper.to_domain_event,
            pool,
            batch_size=PER_EVENT_BATCH,
        )
        projector.apply_batch = None  # `apply` on each event in turn
        moved = 0
        with (
            progress.step("replay: the projection per event", events) as advance,
            Stopwatch() as watch,
        ):
            while moved < events and (step := projector.run_once()):
                moved += step
                advance(moved)
        with pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM rm_disclosures").fetchone()
        rows = int(row[0]) if row else 0
    finally:
        pool.close()
    figure = Figure(
        "per_event",
        "the projection's `apply` per event (apply_batch off, as before issue 14), mapper"
        f" decoding, batches of {PER_EVENT_BATCH} (a prefix)",
        moved,
        watch.timing,
        UNIT,
    )
    return figure, rows


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def measure(
    parts: ServiceParts, url: str, scale: Scale, progress: BenchProgress
) -> tuple[StoreShape, list[Figure], dict[str, Any]]:
    app = parts.app
    events = scale.replay_events
    with progress.step(f"replay: writing {events:,} stored events by COPY", events) as advance:
        shape = fill(app, url, events, advance)
    # What the bench itself holds (the relay's dataset, imported modules) out of the
    # collector's sight, as a service process holds nothing of it: each figure's full
    # collections then scan what that figure made, not the bench.
    gc.collect()
    gc.freeze()
    pool = ConnectionPool(url, min_size=1, max_size=4, open=True)
    try:
        read = time_read(app, shape.events, progress)
        floor = time_rebuild_reader(app, shape.events, progress)
        rebuild, rebuilt = time_rebuild(parts, pool, shape.events, progress, stored_fields=True)
        mapper, again = time_rebuild(parts, pool, shape.events, progress, stored_fields=False)
    finally:
        pool.close()
        gc.unfreeze()
    if rebuilt != again:
        raise RuntimeError(f"the two rebuilds differ: {rebuilt} and {again}")
    per_event, _ = time_per_event(parts, url, scale.per_event_events, progress)
    communities, disclosures = int(rebuilt[0]), int(rebuilt[1])
    extra = {
        "rows_written": communities + disclosures,
        "extrapolated_10m_rebuild_s": round(EXTRAPOLATE_TO / rebuild.rate, 1),
        "extrapolated_10m_read_s": round(EXTRAPOLATE_TO / read.rate, 1),
        "extrapolated_10m_per_event_s": round(EXTRAPOLATE_TO / per_event.rate, 1),
    }
    return shape, [rebuild, mapper, per_event, read, floor], extra


def extrapolation_note(extra: dict[str, Any]) -> str:
    return (
        "10 million events, extrapolated at these rates: rebuild "
        f"{_duration(extra['extrapolated_10m_rebuild_s'])}, raw read "
        f"{_duration(extra['extrapolated_10m_read_s'])}, the per-event projection "
        f"{_duration(extra['extrapolated_10m_per_event_s'])}"
    )


def per_event_note(figures: list[Figure]) -> str:
    costs = ", ".join(f"{f.key} {f.seconds / max(f.count, 1) * 1e6:.1f} µs" for f in figures)
    return f"per event: {costs}"


async def replay_section(scale: Scale, progress: BenchProgress) -> Section:
    with scratch_database("replay") as url:
        parts = build(disclosure_settings(url))
        try:
            shape, figures, extra = await asyncio.to_thread(measure, parts, url, scale, progress)
        finally:
            close(parts)
    rebuild, read = figures[0], figures[3]
    return Section(
        key="replay",
        title=f"Replay: the disclosure read model rebuilt from {shape.events:,} stored events "
        f"(batches of {READ_BATCH:,})",
        figures=figures,
        ratios=[
            Ratio("rebuild ÷ raw notification-log read", "rebuild", "read", goal=0.5),
            Ratio("rebuild (mapper decoding) ÷ raw read", "rebuild_mapper", "read"),
            Ratio("per-event projection (apply per event) ÷ raw read", "per_event", "read"),
            Ratio("rebuild ÷ per-event projection", "rebuild", "per_event"),
            Ratio("rebuild ÷ the rebuild's reader alone", "rebuild", "read_rebuild"),
        ],
        notes=[
            shape.note(),
            f"rows written by the rebuild: {extra['rows_written']:,} for {shape.events:,} "
            "events (amendments folded into their disclosure's row)",
            extrapolation_note(extra),
            per_event_note(figures),
            f"rebuild: {rebuild.count:,} events at {rebuild.rate:,.0f}/s against the raw "
            f"read's {read.rate:,.0f}/s",
        ],
        extra=extra,
    )
