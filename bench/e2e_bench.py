"""End to end: from FileDisclosure's answer to inspection's effect, roles as deployed
(issue 14, goal 5: at a sustained 500 commands/s for 60 s, p50 ≤ 50 ms, p99 ≤ 250 ms, and
the lag never grows).

Three processes, each `python -m <service> <role>` on a scratch database of its service
(`prepare` first) and topics under a prefix of this run: the disclosure `api` (one worker),
the disclosure `relay` (woken by LISTEN/NOTIFY) and the inspection `consumer`. The bench
is the client: it registers the companies and communities through the api (untimed),
waits until inspection has noted every registration (the pipeline warm, the consumer's
group joined), then sends FileDisclosure at a fixed rate — call i starts at t0 + i/rate,
whether or not earlier calls have answered (an open loop, as independent filers are; at
most `IN_FLIGHT` outstanding) — and keeps each answer's time and disclosure id.

Inspection's effect: the consumer notes each filing on the community's watch
(CommunityWatch.DisclosureNoted, the filing's disclosure_id in its state), one stored
event per filing in inspection's event table. A watcher in the bench reads that table's
new rows every `POLL_SECONDS` (one indexed range query on notification_id) and stamps
each noted disclosure id with the time it first saw it; lag = seen − answered, so each
figure includes up to one poll interval (≤ 5 ms) of the watcher. Every filing must be
seen within `DRAIN_SECONDS` of the last answer, or the bench fails.

Printed: the command's latency (p50/p99), the lag's p50/p99/max over all filings, and
over the first and the last 10 s of sending (the lag grew if the last p50 is well above
the first). `BENCH_SCALE=small`: 100/s for 10 s (the windows are then the first and last
2 s); otherwise 500/s for 60 s. `E2E_RATE` / `E2E_SECONDS` override.

Run alone: `.venv/bin/python -m bench.e2e_bench` (after `tools/devinfra.py up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import psycopg
from psycopg import sql

from bench.cost_bench import api_ready, prepare, role_environment
from bench.disclosure_data import (
    REFUSED_KIND,
    CommandData,
    Filing,
    register_all,
)
from bench.infra import scratch_database
from bench.process_bench import (
    CHANNEL_OPTIONS,
    ServerCpu,
    ServerProcess,
    free_port,
    spawn,
    stop_server,
)
from bench.progress import NO_PROGRESS, BenchProgress
from bench.report import Figure, Ratio, Section, percentile
from bench.scale import Scale, bench_scale
from bench.stopwatch import Stopwatch
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from tools.synthetic_putian import generate

POLL_SECONDS = 0.005
DRAIN_SECONDS = 120.0
IN_FLIGHT = 2_000
TIMEOUT = 30.0
CHANNELS = 4
WARM_SECONDS = 180.0
SEED = 2023
UNIT = "ms"
GROWTH_NOISE_SECONDS = 0.020
"""The lag grew only if the last window's p50 exceeds the first's by 1.5× AND this much."""


@dataclass(frozen=True)
class Plan:
    rate: float
    seconds: float
    window: float
    """The first and the last `window` seconds of sending are compared."""

    @property
    def filings(self) -> int:
        return int(self.rate * self.seconds)

    @classmethod
    def of(cls, scale: Scale) -> Plan:
        small = scale.replay_events <= 100_000
        rate = float(os.environ.get("E2E_RATE", 100 if small else 500))
        seconds = float(os.environ.get("E2E_SECONDS", 10 if small else 60))
        return cls(rate, seconds, min(10.0, seconds / 5))


def workload(filings: int) -> CommandData:
    """Enough communities of a synthetic Putian (the `make run` generator, larger than the
    command bench's when needed) for `filings` valid filings, in time order."""
    communities = max(2_800, int(filings / 7) + 200)
    dataset = generate(seed=SEED, communities=communities, companies=max(560, communities // 5))
    unit_of = {c.community_code: c.unit for c in dataset.communities}
    valid = [
        Filing(f.request, f.kind, unit_of[f.request.community_code], f.filed_at)
        for f in dataset.filings
        if f.kind != REFUSED_KIND
    ]
    if len(valid) < filings:
        raise ValueError(f"{len(valid):,} valid filings generated, {filings:,} needed")
    return CommandData(dataset.companies, dataset.communities, valid[:filings], [])


# -- inspection's effect ---------------------------------------------------------------------


@dataclass
class Watcher:
    """Reads inspection's new stored events every POLL_SECONDS: when each disclosure was
    first seen noted, and how many registrations were."""

    url: str
    seen: dict[str, float] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    position: int = 0
    table: str = ""

    async def find_table(self, conn: psycopg.AsyncConnection[Any]) -> str:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name LIKE '%%\\_events' ORDER BY table_name"
        )
        names = [str(row[0]) for row in await cursor.fetchall()]
        if not names:
            return ""
        return names[0]

    async def run(self, stop: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            while not self.table and not stop.is_set():
                self.table = await self.find_table(conn)
                await asyncio.sleep(0.2)
            query = sql.SQL(
                "SELECT notification_id, topic, state FROM {} WHERE notification_id > %s"
                " ORDER BY notification_id"
            ).format(sql.Identifier(self.table))
            while not stop.is_set():
                cursor = await conn.execute(query, (self.position,))
                rows = await cursor.fetchall()
                now = time.perf_counter()
                for notification_id, topic, state in rows:
                    self.position = max(self.position, notification_id)
                    kind = topic.rsplit(".", 1)[-1]
                    self.kinds[kind] += 1
                    if kind == "DisclosureNoted":
                        disclosure = _disclosure_id(bytes(state))
                        if disclosure:
                            self.seen.setdefault(disclosure, now)
                await asyncio.sleep(POLL_SECONDS)


@dataclass
class RelayWatcher:
    """Reads disclosure's log and the relay's recorded position every POLL_SECONDS: when
    each filing's event was first seen relayed (the relay records its position once Kafka
    has acknowledged the batch), to split the lag into the relay's part and the rest."""

    url: str
    relayed: dict[str, float] = field(default_factory=dict)
    """disclosure_id (its aggregate's id) → when the relay's position first covered it."""
    pending: list[tuple[int, str]] = field(default_factory=list)
    position: int = 0

    async def tables(self, conn: psycopg.AsyncConnection[Any]) -> tuple[str, str]:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND (table_name LIKE '%%\\_events' OR table_name LIKE '%%\\_tracking')"
        )
        names = [str(row[0]) for row in await cursor.fetchall()]
        events = next((n for n in names if n.endswith("_events")), "")
        tracking = next((n for n in names if n.endswith("_tracking")), "")
        return events, tracking

    async def run(self, stop: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            events, tracking = "", ""
            while not (events and tracking) and not stop.is_set():
                events, tracking = await self.tables(conn)
                await asyncio.sleep(0.2)
            read = sql.SQL(
                "SELECT notification_id, originator_id FROM {} WHERE notification_id > %s"
                " ORDER BY notification_id"
            ).format(sql.Identifier(events))
            relayed = sql.SQL(
                "SELECT max(notification_id) FROM {} WHERE application_name = %s"
            ).format(sql.Identifier(tracking))
            while not stop.is_set():
                cursor = await conn.execute(relayed, ("relay:disclosure",))
                row = await cursor.fetchone()
                at = int(row[0]) if row and row[0] is not None else 0
                cursor = await conn.execute(read, (self.position,))
                for notification_id, originator_id in await cursor.fetchall():
                    self.position = max(self.position, int(notification_id))
                    self.pending.append((int(notification_id), str(originator_id)))
                now = time.perf_counter()
                still = []
                for notification_id, aggregate in self.pending:
                    if notification_id <= at:
                        self.relayed.setdefault(aggregate, now)
                    else:
                        still.append((notification_id, aggregate))
                self.pending = still
                await asyncio.sleep(POLL_SECONDS)


def _disclosure_id(state: bytes) -> str:
    """The noted filing's disclosure_id, wherever the event's state keeps it."""
    try:
        value: Any = json.loads(state)
    except ValueError:
        return ""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found = item.get("disclosure_id")
            if isinstance(found, str):
                return found
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


# -- the three processes ----------------------------------------------------------------------


E2E_ROLES = (("disclosure", "api"), ("disclosure", "relay"), ("inspection", "consumer"))


@contextlib.asynccontextmanager
async def pipeline(
    progress: BenchProgress, name: str = "e2e", roles_wanted: Sequence[tuple[str, str]] = E2E_ROLES
) -> AsyncIterator[tuple[int, str, str, dict[str, ServerProcess]]]:
    """The roles as processes (one api worker) on scratch disclosure and inspection
    databases (`prepare` first) and topics of their own, the disclosure api SERVING; yields
    its port, the inspection and disclosure URLs and the processes (soak_bench uses it too)."""
    prefix = f"bench.{name}.{uuid.uuid4().hex[:8]}."
    port = free_port()
    with (
        scratch_database(f"{name}_disclosure") as disclosure_url,
        scratch_database(f"{name}_inspection") as inspection_url,
        contextlib.ExitStack() as outputs,
    ):
        urls = {"disclosure": disclosure_url, "inspection": inspection_url}
        with progress.step(f"{name}: prepare both databases"):
            await asyncio.gather(
                *(
                    asyncio.to_thread(prepare, s, role_environment(s, u, 0, prefix, "prepare"))
                    for s, u in urls.items()
                )
            )
        roles: dict[str, ServerProcess] = {}
        try:
            for service, role in roles_wanted:
                env = role_environment(service, urls[service], port, prefix, role)
                env["PUBREV_API_WORKERS"] = "1"
                output = outputs.enter_context(tempfile.TemporaryFile())
                argv = [sys.executable, "-m", service, role]
                roles[f"{service}-{role}"] = ServerProcess(
                    f"{service} {role}", spawn(argv, env, output), port, output
                )
            deadline = time.monotonic() + WARM_SECONDS
            while not await api_ready(port):
                check_alive(roles)
                if time.monotonic() > deadline:
                    raise RuntimeError("the disclosure api was not SERVING in time")
                await asyncio.sleep(0.3)
            yield port, inspection_url, disclosure_url, roles
        finally:
            for server in roles.values():
                stop_server(server)


def check_alive(roles: dict[str, ServerProcess]) -> None:
    for name, server in roles.items():
        if server.popen.poll() is not None:
            raise RuntimeError(
                f"{name} exited ({server.popen.returncode}):\n{server.output_tail()}"
            )


# -- the open-loop client ---------------------------------------------------------------------


@dataclass
class Sent:
    started: list[float] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)
    """disclosure_id → when its answer arrived."""
    index_of: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    behind: float = 0.0
    """How late the client ever was to start a call (its own limit, if large)."""


async def send(
    channels: Sequence[grpc.aio.Channel], filings: Sequence[Filing], rate: float
) -> Sent:
    stubs = [pb_grpc.DisclosureServiceStub(c) for c in channels]
    sent = Sent()
    limit = asyncio.Semaphore(IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []

    async def call(index: int, filing: Filing) -> None:
        try:
            started = time.perf_counter()
            stub = stubs[index % len(stubs)]
            response = await stub.FileDisclosure(
                filing.request, metadata=filing.metadata, timeout=TIMEOUT
            )
            answered = time.perf_counter()
            sent.answered[response.disclosure_id] = answered
            sent.index_of[response.disclosure_id] = index
            sent.latencies.append(answered - started)
        except Exception as error:
            sent.errors.append(error)
        finally:
            limit.release()

    t0 = time.perf_counter()
    for index, filing in enumerate(filings):
        due = t0 + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            sent.behind = max(sent.behind, -delay)
        await limit.acquire()
        sent.started.append(time.perf_counter() - t0)
        tasks.append(asyncio.create_task(call(index, filing)))
    await asyncio.gather(*tasks)
    return sent


# -- the section ----------------------------------------------------------------------------


def _figure(key: str, label: str, lags: Sequence[float], timing: Any) -> Figure:
    return Figure(
        key=key,
        label=label,
        count=len(lags),
        timing=timing,
        unit=UNIT,
        p50_ms=percentile(lags, 0.50) * 1000 if lags else None,
        p99_ms=percentile(lags, 0.99) * 1000 if lags else None,
        latency_only=True,
    )


async def e2e_section(scale: Scale | None = None, progress: BenchProgress = NO_PROGRESS) -> Section:
    plan = Plan.of(scale or bench_scale())
    with progress.step(f"e2e: generate {plan.filings:,} filings"):
        data = await asyncio.to_thread(workload, plan.filings)
    async with pipeline(progress) as (port, inspection_url, disclosure_url, roles):
        channels = [
            grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
            for _ in range(CHANNELS)
        ]
        stop = asyncio.Event()
        watcher = Watcher(inspection_url)
        watching = asyncio.create_task(watcher.run(stop))
        relay_watcher = RelayWatcher(disclosure_url)
        relay_watching = asyncio.create_task(relay_watcher.run(stop))
        try:
            with progress.step(
                f"e2e: register {len(data.companies):,} companies, "
                f"{len(data.communities):,} communities; inspection notes them"
            ):
                await register_all(channels[0], data, 50)
                deadline = time.monotonic() + WARM_SECONDS
                while watcher.kinds["RegistrationNoted"] < len(data.communities):
                    check_alive(roles)
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"inspection noted {watcher.kinds['RegistrationNoted']:,} of "
                            f"{len(data.communities):,} registrations in {WARM_SECONDS:.0f} s"
                        )
                    await asyncio.sleep(0.2)
            cpu = {name: ServerCpu(server) for name, server in roles.items()}
            with progress.step(
                f"e2e: FileDisclosure at {plan.rate:,.0f}/s for {plan.seconds:.0f} s"
            ):
                for meter in cpu.values():
                    meter.__enter__()
                with Stopwatch() as stopwatch:
                    sent = await send(channels, data.filings, plan.rate)
                    deadline = time.monotonic() + DRAIN_SECONDS
                    while any(d not in watcher.seen for d in sent.answered):
                        check_alive(roles)
                        if time.monotonic() > deadline:
                            missing = sum(1 for d in sent.answered if d not in watcher.seen)
                            raise RuntimeError(
                                f"{missing:,} filings not noted by inspection "
                                f"{DRAIN_SECONDS:.0f} s after the last answer"
                            )
                        await asyncio.sleep(0.05)
                for meter in cpu.values():
                    meter.__exit__(None, None, None)
        finally:
            stop.set()
            await watching
            await relay_watching
            for channel in channels:
                await channel.close()
    if sent.errors:
        raise RuntimeError(f"{len(sent.errors):,} FileDisclosure failed; first: {sent.errors[0]!r}")
    timing = stopwatch.timing
    order = sorted(sent.answered, key=lambda d: sent.index_of[d])
    lag = {d: watcher.seen[d] - sent.answered[d] for d in order}
    started = {d: sent.started[sent.index_of[d]] for d in order}
    first = [lag[d] for d in order if started[d] < plan.window]
    last = [lag[d] for d in order if started[d] >= plan.seconds - plan.window]
    every = list(lag.values())
    relay_part = [
        relay_watcher.relayed[d] - sent.answered[d] for d in order if d in relay_watcher.relayed
    ]
    rest_part = [
        watcher.seen[d] - relay_watcher.relayed[d] for d in order if d in relay_watcher.relayed
    ]
    section = Section(
        title=(
            f"End to end: FileDisclosure → inspection noted it, {plan.rate:,.0f}/s for "
            f"{plan.seconds:.0f} s (disclosure api, relay and inspection consumer as processes)"
        ),
        key="e2e",
    )
    section.figures = [
        Figure(
            key="command",
            label="FileDisclosure answered (the command's latency)",
            count=len(sent.latencies),
            timing=timing,
            unit="commands/s",
            p50_ms=percentile(sent.latencies, 0.5) * 1000,
            p99_ms=percentile(sent.latencies, 0.99) * 1000,
            server_cpu_percent=sum(m.total_percent for m in cpu.values()),
        ),
        _figure("lag", "answer → noted by inspection, every filing", every, timing),
        _figure(
            "lag_relay",
            "  of which answer → relayed (produce acknowledged, position recorded)",
            relay_part,
            timing,
        ),
        _figure(
            "lag_consume",
            "  of which relayed → noted (Kafka fetch, the consumer's batch applied)",
            rest_part,
            timing,
        ),
        _figure("lag_first", f"  the same, first {plan.window:.0f} s of sending", first, timing),
        _figure("lag_last", f"  the same, last {plan.window:.0f} s of sending", last, timing),
    ]
    growth = (percentile(last, 0.5) / max(percentile(first, 0.5), 1e-9)) if first and last else 0
    section.ratios = [
        Ratio("lag p50: last ÷ first window (1 = no growth)", "lag_last", "lag_first", of="p50")
    ]
    lag_max = max(every) * 1000
    p50, p99 = percentile(every, 0.5) * 1000, percentile(every, 0.99) * 1000
    # Grown: the last window's p50 well above the first's, beyond this machine's noise.
    grew = (
        bool(first and last)
        and growth > 1.5
        and (percentile(last, 0.5) - percentile(first, 0.5) > GROWTH_NOISE_SECONDS)
    )
    verdict = "met" if p50 <= 50 and p99 <= 250 and not grew else "MISSED"
    section.notes = [
        f"lag p50 {p50:.1f} ms (goal ≤ 50), p99 {p99:.1f} ms (goal ≤ 250), max {lag_max:.1f} ms;"
        f" last/first-window p50 {growth:.2f} ({'grew' if grew else 'did not grow'}): {verdict}",
        f"the client started calls at most {sent.behind * 1000:.1f} ms behind schedule"
        " (large: the client, not the services, set the rate)",
        "lag = when the bench's watcher first saw the DisclosureNoted event in inspection's"
        f" event table (polled every {POLL_SECONDS * 1000:.0f} ms) − when the answer arrived",
        "srv cpu% = the three processes: "
        + ", ".join(f"{name} {meter.total_percent:.0f}%" for name, meter in cpu.items()),
    ]
    section.extra = {
        "rate": plan.rate,
        "seconds": plan.seconds,
        "lag_p50_ms": round(p50, 2),
        "lag_p99_ms": round(p99, 2),
        "lag_max_ms": round(lag_max, 2),
        "growth": round(growth, 3),
        "grew": grew,
        "client_behind_ms": round(sent.behind * 1000, 1),
    }
    return section


def main() -> None:
    from bench.report import render_section

    section = asyncio.run(e2e_section(progress=BenchProgress()))
    print("\n".join(render_section(1, section)))


if __name__ == "__main__":
    main()
