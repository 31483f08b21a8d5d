"""Growth: the command's latency as the store grows, and on an aggregate with 10,000 events
of its own (issue 14, goal 6: flat, within 20 %, from 10,000 to 1,000,000 stored events and
for an aggregate with 10,000 events of its own).

Per size (10,000, then `BENCH_SCALE`'s stored events: 1,000,000 by default, 100,000 with
`small`), a scratch disclosure database (`prepare`), the disclosure `api` as its own process
(one worker, as bench.e2e_bench starts it), and the same client: the companies and
`COMMUNITIES` communities of a synthetic Putian (seed `SEED`, community codes prefixed
`growth-` so that they are none of the bulk store's) registered through the api, then the
store bulk-filled by COPY (bench.replay_store.fill, untimed) with the province's filings
and amendments until it holds the size, then FileDisclosure as an open loop at `RATE`
(200/s) for `SECONDS` (20 s) after `WARM_SECONDS` of warm-up, each call a distinct quarter
of a distinct community. Printed: p50/p99 at each size, large ÷ small (goal ≤ 1.2).

The aggregate with 10,000 events of its own: a community (Community, the aggregate each
FileDisclosure loads) with 10,000 handovers between two property companies
(Community.CompanyChanged, one per day from 1990, alternating, the last back to its own
company), appended by COPY after the small store's run. Why a community: it is the one
aggregate a filing reads whose history grows without bound (handovers, overdue notices;
a disclosure's own history is a handful of amendments, and each filing is a new
disclosure); no real community has 10,000 handovers (Putian's see a few in decades), so
this is the stress bound the issue names, not a forecast. Its history is replayed once in
an api process (the first call on it, printed apart); the aggregate is then cached and each
group of filings reads only what follows its cached version (servicekit.eventstore
`preread`), and `company_for` bisects its handovers. There are no snapshots: a new process
pays the replay once per such community.
`BIG_COMMUNITIES` such communities, and as many ordinary ones of the same store as the
control, file their generated quarters one call at a time, alternating big and control;
printed: p50/p99 of each and big ÷ control (goal ≤ 1.2).

Opt-in in `python -m bench` (the million-event fill takes minutes): `BENCH_SECTIONS=growth`
or `BENCH_SCALE=large`. Run alone: `.venv/bin/python -m bench.growth_bench`
(after `tools/devinfra.py up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import grpc
import psycopg
from psycopg import sql

from bench.cost_bench import api_ready, prepare, role_environment
from bench.disclosure_data import REFUSED_KIND, CommandData, Filing, register_all
from bench.infra import disclosure_settings, scratch_database
from bench.process_bench import CHANNEL_OPTIONS, ServerProcess, free_port, spawn, stop_server
from bench.progress import NO_PROGRESS, BenchProgress
from bench.replay_store import _copy, _rows, fill
from bench.report import Figure, Ratio, Section, percentile
from bench.scale import Scale, bench_scale
from bench.soak_bench import Calls, send
from bench.stopwatch import Stopwatch
from disclosure.bootstrap import build
from disclosure.domain.community import Community
from disclosure.domain.property_company import PropertyCompany
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.runtime import close
from tools.synthetic_putian import generate

SMALL = 10_000
RATE = 200.0
SECONDS = 20.0
WARM_SECONDS = 2.0
SEED = 2024
"""Not the bulk store's seed: another synthetic Putian, its codes prefixed besides."""
COMMUNITIES = 900
CODE_PREFIX = "growth-"
BIG_EVENTS = 10_000
"""Handovers appended to each big community (with its registration: 10,001 events)."""
BIG_COMMUNITIES = 10
FIRST_HANDOVER = date(1990, 1, 1)
CHANNELS = 4
READY_SECONDS = 180.0
TIMEOUT = 30.0
GOAL = 1.2


@dataclass(frozen=True)
class Workload:
    data: CommandData
    timed: list[Filing]
    big: list[Filing]
    control: list[Filing]
    big_codes: list[str]


def _renamed(filing: Filing) -> Filing:
    request = pb.FileDisclosureRequest()
    request.CopyFrom(filing.request)
    request.community_code = CODE_PREFIX + request.community_code
    return Filing(request, filing.kind, filing.unit, filing.filed_at)


def workload() -> Workload:
    dataset = generate(seed=SEED, communities=COMMUNITIES, companies=COMMUNITIES // 5)
    communities = []
    for c in dataset.communities:
        request = pb.RegisterCommunityRequest()
        request.CopyFrom(c)
        request.community_code = CODE_PREFIX + request.community_code
        communities.append(request)
    unit_of = {c.community_code: c.unit for c in dataset.communities}
    valid = [
        _renamed(Filing(f.request, f.kind, unit_of[f.request.community_code], f.filed_at))
        for f in dataset.filings
        if f.kind != REFUSED_KIND
    ]
    codes = [c.community_code for c in communities]
    big_codes = codes[:BIG_COMMUNITIES]
    control_codes = codes[BIG_COMMUNITIES : 2 * BIG_COMMUNITIES]
    apart = set(big_codes) | set(control_codes)
    timed = [f for f in valid if f.request.community_code not in apart]
    needed = int(RATE * (SECONDS + WARM_SECONDS))
    if len(timed) < needed:
        raise ValueError(f"{len(timed):,} filings generated, {needed:,} needed")
    return Workload(
        CommandData(dataset.companies, communities, valid, []),
        timed[:needed],
        [f for f in valid if f.request.community_code in big_codes],
        [f for f in valid if f.request.community_code in control_codes],
        big_codes,
    )


@contextlib.asynccontextmanager
async def api_on(url: str) -> AsyncIterator[tuple[int, ServerProcess]]:
    port = free_port()
    prefix = f"bench.growth.{uuid.uuid4().hex[:8]}."
    await asyncio.to_thread(
        prepare, "disclosure", role_environment("disclosure", url, 0, prefix, "prepare")
    )
    with tempfile.TemporaryFile() as output:
        env = role_environment("disclosure", url, port, prefix, "api")
        env["PUBREV_API_WORKERS"] = "1"
        server = ServerProcess(
            "disclosure api",
            spawn([sys.executable, "-m", "disclosure", "api"], env, output),
            port,
            output,
        )
        try:
            deadline = time.monotonic() + READY_SECONDS
            while not await api_ready(port):
                if server.popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the disclosure api did not serve:\n{server.output_tail()}")
                await asyncio.sleep(0.3)
            yield port, server
        finally:
            stop_server(server)


def stored_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        table = _events_table(conn)
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
    return int(row[0]) if row else 0


def _events_table(conn: psycopg.Connection[Any]) -> sql.Identifier:
    row = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_name LIKE '%%\\_events' ORDER BY table_name LIMIT 1"
    ).fetchone()
    if row is None:
        raise RuntimeError("no events table")
    return sql.Identifier(str(row[0]))


def fill_to(url: str, events: int) -> tuple[int, str]:
    """Fills the store by COPY until it holds `events` (what the api wrote counts)."""
    have = stored_events(url)
    parts = build(disclosure_settings(url))
    try:
        shape = fill(parts.app, url, max(1, events - have))
    finally:
        close(parts)
    return stored_events(url), shape.note()


def grow_communities(url: str, codes: Sequence[str], companies: Sequence[str]) -> None:
    """Appends BIG_EVENTS handovers to each community (see the module's docstring)."""
    parts = build(disclosure_settings(url))
    app = parts.app
    try:
        with psycopg.connect(url) as conn:
            statement = sql.SQL(
                "COPY {} (originator_id, originator_version, topic, state)"
                " FROM STDIN (FORMAT BINARY)"
            ).format(_events_table(conn))
            for code in codes:
                community: Community = app.repository.get(Community.create_id(code))
                own: PropertyCompany = app.repository.get(
                    PropertyCompany.create_id(community.company_uscc)
                )
                other_uscc = next(u for u in companies if u != community.company_uscc)
                other: PropertyCompany = app.repository.get(PropertyCompany.create_id(other_uscc))
                for day in range(BIG_EVENTS):
                    community.change_company(
                        other if day % 2 == 0 else own,
                        (FIRST_HANDOVER + timedelta(days=day)).isoformat(),
                        "bench: interim management",
                    )
                _copy(conn, statement, _rows(iter(community.collect_events()), app.mapper))
            conn.execute(sql.SQL("ANALYZE {}").format(_events_table(conn)))
            conn.commit()
    finally:
        close(parts)


async def one_by_one(
    stub: pb_grpc.DisclosureServiceAsyncStub, big: Sequence[Filing], control: Sequence[Filing]
) -> tuple[list[float], list[float]]:
    """Each call alone, big and control alternating (same moment, same machine load)."""
    times: tuple[list[float], list[float]] = ([], [])
    for index in range(max(len(big), len(control))):
        for kind, filings in enumerate((big, control)):
            if index < len(filings):
                filing = filings[index]
                started = time.perf_counter()
                await stub.FileDisclosure(filing.request, metadata=filing.metadata, timeout=TIMEOUT)
                times[kind].append(time.perf_counter() - started)
    return times


@dataclass
class AtSize:
    events: int
    calls: Calls
    stopwatch: Stopwatch
    note: str
    big: list[float]
    control: list[float]
    big_filings: Sequence[Filing] = ()
    """The filings `big` timed, in order."""


async def at_size(size: int, work: Workload, progress: BenchProgress, with_big: bool) -> AtSize:
    with scratch_database("growth") as url:
        async with api_on(url) as (port, _):
            channels = [
                grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
                for _ in range(CHANNELS)
            ]
            try:
                with progress.step(f"growth {size:,}: register through the api"):
                    await register_all(channels[0], work.data, 50)
                with progress.step(f"growth {size:,}: fill the store by COPY (untimed)"):
                    events, note = await asyncio.to_thread(fill_to, url, size)
                warm = int(RATE * WARM_SECONDS)
                with progress.step(f"growth {size:,}: FileDisclosure at {RATE:.0f}/s"):
                    await send(channels, work.timed[:warm], RATE)
                    with Stopwatch() as stopwatch:
                        calls = await send(channels, work.timed[warm:], RATE)
                big: list[float] = []
                control: list[float] = []
                if with_big:
                    with progress.step(f"growth: {BIG_COMMUNITIES} communities × 10,000 events"):
                        uscc = [c.uscc for c in work.data.companies]
                        await asyncio.to_thread(grow_communities, url, work.big_codes, uscc)
                        stub = pb_grpc.DisclosureServiceStub(channels[0])
                        big, control = await one_by_one(stub, work.big, work.control)
            finally:
                for channel in channels:
                    await channel.close()
    if calls.errors:
        raise RuntimeError(f"{len(calls.errors):,} FileDisclosure failed: {calls.errors[0]!r}")
    return AtSize(events, calls, stopwatch, note, big, control, work.big if with_big else ())


def _latency(key: str, label: str, samples: Sequence[float], stopwatch: Stopwatch) -> Figure:
    return Figure(
        key=key,
        label=label,
        count=len(samples),
        timing=stopwatch.timing,
        unit="commands/s",
        p50_ms=percentile(samples, 0.5) * 1000,
        p99_ms=percentile(samples, 0.99) * 1000,
        latency_only=True,
    )


async def growth_section(
    scale: Scale | None = None, progress: BenchProgress = NO_PROGRESS
) -> Section:
    large_size = max(SMALL * 10, (scale or bench_scale()).replay_events)
    with progress.step("growth: generate the workload"):
        work = await asyncio.to_thread(workload)
    small = await at_size(SMALL, work, progress, with_big=True)
    large = await at_size(large_size, work, progress, with_big=False)
    section = Section(
        title=(
            f"Growth: FileDisclosure at {RATE:.0f}/s for {SECONDS:.0f} s on {small.events:,}"
            f" and {large.events:,} stored events; on a community of {BIG_EVENTS + 1:,} events"
        ),
        key="growth",
    )
    latencies = {
        name: [latency for _, latency in at.calls.done]
        for name, at in (("small", small), ("large", large))
    }
    section.figures = [
        _latency(
            "small",
            f"FileDisclosure, {small.events:,} stored events",
            latencies["small"],
            small.stopwatch,
        ),
        _latency(
            "large",
            f"FileDisclosure, {large.events:,} stored events",
            latencies["large"],
            large.stopwatch,
        ),
        _latency(
            "control",
            f"one call at a time, ordinary communities ({len(small.control)} calls)",
            small.control,
            small.stopwatch,
        ),
        _latency(
            "big",
            f"one call at a time, communities of {BIG_EVENTS + 1:,} events"
            f" ({len(small.big)} calls)",
            small.big,
            small.stopwatch,
        ),
    ]
    section.ratios = [
        Ratio("p50: large store ÷ small store (goal ≤ 1.2)", "large", "small", of="p50"),
        Ratio("p50: 10,000-event aggregate ÷ ordinary (goal ≤ 1.2)", "big", "control", of="p50"),
    ]
    figures = {f.key: f for f in section.figures}

    def ratio(a: str, b: str, of: str) -> float:
        value_a = getattr(figures[a], f"{of}_ms") or 0.0
        value_b = getattr(figures[b], f"{of}_ms") or 1e-9
        return float(value_a / max(value_b, 1e-9))

    ratios = {
        "store_p50": ratio("large", "small", "p50"),
        "store_p99": ratio("large", "small", "p99"),
        "aggregate_p50": ratio("big", "control", "p50"),
        "aggregate_p99": ratio("big", "control", "p99"),
    }
    verdict = {k: ("met" if v <= GOAL else "MISSED") for k, v in ratios.items()}
    section.notes = [
        f"large ÷ small store: p50 {ratios['store_p50']:.2f} ({verdict['store_p50']}),"
        f" p99 {ratios['store_p99']:.2f} ({verdict['store_p99']}); goal ≤ {GOAL}",
        f"10,001-event community ÷ ordinary: p50 {ratios['aggregate_p50']:.2f}"
        f" ({verdict['aggregate_p50']}), p99 {ratios['aggregate_p99']:.2f}"
        f" ({verdict['aggregate_p99']}); goal ≤ {GOAL}",
        cold_note(small),
        f"small store: {small.note}",
        f"large store: {large.note}",
    ]
    section.extra = {k: round(v, 3) for k, v in ratios.items()} | {
        "small_events": small.events,
        "large_events": large.events,
    }
    return section


def cold_note(at: AtSize) -> str:
    """The first call on each big community in the api process replays its whole history
    (then the aggregate is cached, and read from its cached version on): apart, they are
    what the p99 above is made of."""
    first = {f.request.community_code: i for i, f in reversed(list(enumerate(at.big_filings)))}
    cold = [at.big[i] for i in sorted(first.values()) if i < len(at.big)]
    warm = [t for i, t in enumerate(at.big) if i not in set(first.values())]
    if not cold or not warm:
        return "no 10,001-event community was filed for"
    return (
        f"of those: the first call on each of the {len(cold)} communities (its history"
        f" replayed once in the process) p50 {percentile(cold, 0.5) * 1000:.1f} ms, max"
        f" {max(cold) * 1000:.1f} ms; the {len(warm)} others (the cached aggregate, read from"
        f" its version on) p50 {percentile(warm, 0.5) * 1000:.1f} ms, p99"
        f" {percentile(warm, 0.99) * 1000:.1f} ms"
    )


def main() -> None:
    from bench.report import render_section

    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    section = asyncio.run(growth_section(progress=BenchProgress()))
    print("\n".join(render_section(1, section)))
    print(f"  {section.extra}")


if __name__ == "__main__":
    main()
