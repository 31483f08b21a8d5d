"""Soak: each role's memory and the command's latency over a long run at a steady rate
(issue 14, goal 6: memory of each role flat over a 10-minute run at 200 commands/s).

Four processes, each `python -m <service> <role>` on a scratch database of its service
(`prepare` first) and topics under a prefix of this run, as `bench.e2e_bench` starts them:
disclosure's `api` (one worker), `relay` and `projector`, and inspection's `consumer`.
The bench registers the companies and communities through the api (untimed), then sends
FileDisclosure at `SOAK_RATE` (200/s) for `BENCH_SOAK_SECONDS` (600 s by default; shorter
for a trial) as an open loop (call i starts at t0 + i/rate), each filing a distinct
generated quarter of a distinct community (bench.e2e_bench.workload). Every
`SAMPLE_SECONDS` (10 s) from the first call, the RSS of each role's process tree
(bench.cost_bench.memory_mib) is sampled.

Printed per role: RSS at the first, middle and last sample and the maximum, and the growth
last ÷ first (goal: flat, i.e. near 1; a steady climb over the run is a leak, a step in the
first minute is caches filling); the command's p50/p99 per minute of sending.

Opt-in in `python -m bench` (it takes over ten minutes): `BENCH_SECTIONS=soak` or
`BENCH_SCALE=large`. Run alone: `.venv/bin/python -m bench.soak_bench`
(after `tools/devinfra.py up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from bench.cost_bench import memory_mib
from bench.disclosure_data import Filing, register_all
from bench.e2e_bench import check_alive, pipeline, workload
from bench.process_bench import CHANNEL_OPTIONS, ServerProcess
from bench.progress import NO_PROGRESS, BenchProgress
from bench.report import Figure, Section, percentile
from bench.stopwatch import Stopwatch
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc

ROLES = (
    ("disclosure", "api"),
    ("disclosure", "relay"),
    ("disclosure", "projector"),
    ("inspection", "consumer"),
)
SOAK_RATE = 200.0
SECONDS_VARIABLE = "BENCH_SOAK_SECONDS"
DEFAULT_SECONDS = 600.0
SAMPLE_SECONDS = 10.0
WINDOW_SECONDS = 60.0
"""The latency is summarised per window of sending (by when each call started)."""
IN_FLIGHT = 2_000
TIMEOUT = 30.0
CHANNELS = 4
FLAT = 1.2
"""A role whose last sample exceeds its first by more than this factor did not stay flat."""


def soak_seconds() -> float:
    return float(os.environ.get(SECONDS_VARIABLE, "") or DEFAULT_SECONDS)


@dataclass
class Calls:
    """(start relative to t0, latency) of every answered call; errors apart."""

    done: list[tuple[float, float]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    behind: float = 0.0


async def send(
    channels: Sequence[grpc.aio.Channel], filings: Sequence[Filing], rate: float
) -> Calls:
    """FileDisclosure as an open loop at `rate`; at most IN_FLIGHT outstanding."""
    stubs = [pb_grpc.DisclosureServiceStub(c) for c in channels]
    calls = Calls()
    limit = asyncio.Semaphore(IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    t0 = time.perf_counter()

    async def call(index: int, filing: Filing) -> None:
        started = time.perf_counter()
        try:
            await stubs[index % len(stubs)].FileDisclosure(
                filing.request, metadata=filing.metadata, timeout=TIMEOUT
            )
            calls.done.append((started - t0, time.perf_counter() - started))
        except Exception as error:
            calls.errors.append(error)
        finally:
            limit.release()

    for index, filing in enumerate(filings):
        delay = t0 + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            calls.behind = max(calls.behind, -delay)
        await limit.acquire()
        task = asyncio.create_task(call(index, filing))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return calls


async def sample_memory(
    roles: dict[str, ServerProcess], samples: dict[str, list[float]], stop: asyncio.Event
) -> None:
    """RSS of each role every SAMPLE_SECONDS, the first at once, until `stop`."""
    while True:
        for name, server in roles.items():
            rss, _ = await asyncio.to_thread(memory_mib, server.popen.pid)
            samples[name].append(rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        if stop.is_set():
            return


async def soak_section(progress: BenchProgress = NO_PROGRESS) -> Section:
    seconds = soak_seconds()
    rate = SOAK_RATE
    count = int(rate * seconds)
    with progress.step(f"soak: generate {count:,} filings"):
        data = await asyncio.to_thread(workload, count)
    samples: dict[str, list[float]] = {f"{s}-{r}": [] for s, r in ROLES}
    async with pipeline(progress, "soak", ROLES) as (port, _, _, roles):
        channels = [
            grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
            for _ in range(CHANNELS)
        ]
        try:
            with progress.step(
                f"soak: register {len(data.companies):,} companies, "
                f"{len(data.communities):,} communities"
            ):
                await register_all(channels[0], data, 50)
            stop = asyncio.Event()
            with progress.step(f"soak: FileDisclosure at {rate:,.0f}/s for {seconds:,.0f} s"):
                sampler = asyncio.create_task(sample_memory(roles, samples, stop))
                try:
                    with Stopwatch() as stopwatch:
                        calls = await send(channels, data.filings, rate)
                finally:
                    stop.set()
                    await sampler
            check_alive(roles)
        finally:
            for channel in channels:
                await channel.close()
    if calls.errors:
        raise RuntimeError(
            f"{len(calls.errors):,} FileDisclosure failed; first: {calls.errors[0]!r}"
        )
    return _section(rate, seconds, calls, samples, stopwatch)


def _section(
    rate: float,
    seconds: float,
    calls: Calls,
    samples: dict[str, list[float]],
    stopwatch: Stopwatch,
) -> Section:
    timing = stopwatch.timing
    latencies = [latency for _, latency in calls.done]
    section = Section(
        title=(
            f"Soak: FileDisclosure at {rate:,.0f}/s for {seconds:,.0f} s; RSS of disclosure"
            " api, relay, projector and inspection consumer (own processes) every"
            f" {SAMPLE_SECONDS:.0f} s"
        ),
        key="soak",
    )
    section.figures.append(
        Figure(
            key="command",
            label="FileDisclosure answered, the whole run",
            count=len(latencies),
            timing=timing,
            unit="commands/s",
            p50_ms=percentile(latencies, 0.5) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000,
        )
    )
    windows = max(1, int(-(-seconds // WINDOW_SECONDS)))
    per_window: list[list[float]] = [[] for _ in range(windows)]
    for started, latency in calls.done:
        per_window[min(windows - 1, int(started // WINDOW_SECONDS))].append(latency)
    minutes = []
    for number, window in enumerate(per_window):
        if not window:
            continue
        p50, p99 = percentile(window, 0.5) * 1000, percentile(window, 0.99) * 1000
        minutes.append([number + 1, len(window), round(p50, 2), round(p99, 2)])
        section.figures.append(
            Figure(
                key=f"command_minute_{number + 1}",
                label=f"  minute {number + 1} of sending",
                count=len(window),
                timing=timing,
                unit="ms",
                p50_ms=p50,
                p99_ms=p99,
                latency_only=True,
            )
        )
    per_role = {}
    flat = True
    for name, rss in samples.items():
        if not rss:
            continue
        first, middle, last, peak = rss[0], rss[len(rss) // 2], rss[-1], max(rss)
        growth = last / max(first, 1e-9)
        flat = flat and growth <= FLAT
        per_role[name] = {
            "first_mib": round(first, 1),
            "middle_mib": round(middle, 1),
            "last_mib": round(last, 1),
            "max_mib": round(peak, 1),
            "growth": round(growth, 3),
            "samples": [round(v, 1) for v in rss],
        }
        section.notes.append(
            f"{name} RSS MiB: first {first:.0f}, middle {middle:.0f}, last {last:.0f},"
            f" max {peak:.0f}; last ÷ first {growth:.2f}"
        )
    section.notes.append(
        f"memory {'flat' if flat else 'NOT flat'} (every role's last ÷ first ≤ {FLAT});"
        f" {len(next(iter(samples.values()), []))} samples per role"
    )
    section.notes.append(
        f"the client started calls at most {calls.behind * 1000:.1f} ms behind schedule"
    )
    section.extra = {
        "rate": rate,
        "seconds": seconds,
        "roles": per_role,
        "minutes": minutes,
        "flat": flat,
        "client_behind_ms": round(calls.behind * 1000, 1),
    }
    return section


def main() -> None:
    from bench.report import render_section

    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    section = asyncio.run(soak_section(BenchProgress()))
    print("\n".join(render_section(1, section)))
    for name, role in section.extra["roles"].items():
        print(f"  {name}: {role['samples']}")
    print(f"  minutes [n, count, p50 ms, p99 ms]: {section.extra['minutes']}")


if __name__ == "__main__":
    main()
