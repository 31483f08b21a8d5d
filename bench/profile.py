"""Where the time goes: py-spy profiles of the command path and of the relay, the two goals
of issue 14 that one process's CPU bounds (goal 3, FileDisclosure ≥ 0.5 of a trivial
handler; goal 4, the relay ≥ 0.8 of raw produce).

`python -m bench.profile commands` — `python -m disclosure api` (one worker) in its own
process on a scratch database, the companies and communities registered and a warm-up
filed through it (as bench.process_bench does), then py-spy samples that process while 50
callers over 4 channels file `--commands` disclosures.
`python -m bench.profile queries` — the same API with 3,300 filings, then ListDisclosures
(a page of 50 of the unit and year with most filings) by 50 callers, `--queries` times.
`python -m bench.profile relay` — `--events` DisclosureFiled written to a scratch store
(untimed), then py-spy samples this process while the relay drains them to Kafka.

py-spy (requirements-dev.txt) records with `--gil`: only the thread holding the GIL is
sampled, so the shares say what the one core the process can use is spent on. Printed:
the samples by the package of the innermost frame (self), then by the project modules on
the stack (inclusive: a sample counts once for each module it passes through). The raw
collapsed stacks are kept in `.local/bench/profile-<target>.txt` (flame graph tools read
them). Run after `tools/devinfra.py up`; `make profile` runs all three.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import grpc

from bench.disclosure_data import (
    TIMEOUT,
    UNIT_METADATA,
    command_data,
    fill_with_filings,
    register_all,
    relay_filings,
)
from bench.infra import disclosure_settings, scratch_database
from bench.load import Call
from bench.machine import ROOT
from bench.process_bench import (
    CHANNELS,
    disclosure_environment,
    disclosure_ready,
    drive_spread,
    filer_on,
    free_port,
    open_channels,
    server_process,
)
from bench.query_bench import PAGE, busiest
from bench.relay_bench import bench_relay
from disclosure.bootstrap import build
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.kafka_admin import ensure_topics
from servicekit.runtime import close

OUTPUT = ROOT / ".local" / "bench"
PY_SPY = Path(sys.executable).with_name("py-spy")
CALLERS = 50
WARM_UP = 300
RATE = 250
"""Samples per second."""

_BUCKETS = (
    ("/servicekit/", "servicekit"),
    ("/services/", "services"),
    ("/pubrev_contracts/", "pubrev_contracts"),
    ("/contracts/src/pubrev/", "pubrev (generated stubs)"),
    ("/bench/", "bench"),
)


def package_of(frame: str) -> str:
    """`function (path:line)` → the package its file belongs to (stdlib modules by name)."""
    path = frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in path:
        top = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    for marker, name in _BUCKETS:
        if marker in path:
            return name
    if "/lib/python3" in path:
        rest = path.split("/lib/python3", 1)[1].split("/", 2)
        module = rest[1] if len(rest) > 1 else path
        return "stdlib " + module.removesuffix(".py")
    return path or frame


def module_of(frame: str) -> str | None:
    """The project module a frame is in (`servicekit/relay.py`, `disclosure/domain/...`)."""
    path = frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]
    for marker in ("/src/", "/contracts/src/"):
        if marker in path and "site-packages" not in path:
            return path.split(marker, 1)[1]
    return None


def summarise(raw: str, top: int = 14) -> list[str]:
    """The table printed: self time by package, then inclusive time by project module."""
    by_package: collections.Counter[str] = collections.Counter()
    by_module: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_package[package_of(frames[-1])] += count
        for module in {m for f in frames if (m := module_of(f)) is not None}:
            by_module[module] += count
    if total == 0:
        return ["no samples"]
    lines = [f"{total:,} samples holding the GIL", "self, by package of the innermost frame:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_package.most_common(top)]
    lines.append("inclusive, by project module on the stack:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_module.most_common(top)]
    return lines


@contextmanager
def sampling(pid: int, target: str) -> Iterator[Path]:
    """py-spy records `pid` until the block ends; yields the raw output's path."""
    if not PY_SPY.exists():
        raise SystemExit(f"{PY_SPY} not found: `make` installs py-spy (requirements-dev.txt)")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    raw = OUTPUT / f"profile-{target}.txt"
    argv = [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--gil"]
    argv += ["--full-filenames", "--nonblocking", "--rate", str(RATE), "--output", str(raw)]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        yield raw
    finally:
        spy.send_signal(signal.SIGINT)
        _, errors = spy.communicate(timeout=60)
        if spy.returncode not in (0, -signal.SIGINT) and not raw.exists():
            raise SystemExit(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")


@asynccontextmanager
async def disclosure_api(url: str) -> AsyncIterator[tuple[int, int]]:
    port = free_port()
    argv = [sys.executable, "-m", "disclosure", "api"]
    async with server_process(
        f"disclosure api (port {port})",
        argv,
        disclosure_environment(url, port, 1),
        port,
        disclosure_ready,
    ) as server:
        yield server.popen.pid, port


async def profile_commands(commands: int) -> list[str]:
    data = command_data(WARM_UP + commands)
    warm, measured = data.filings[:WARM_UP], data.filings[WARM_UP : WARM_UP + commands]
    with scratch_database("profile") as url:
        async with disclosure_api(url) as (pid, port), open_channels(port, CHANNELS) as channels:
            await register_all(channels[0], data, CALLERS)
            await drive_spread(channels, filer_on(warm), len(warm), CALLERS)
            with sampling(pid, "commands") as raw:
                await drive_spread(channels, filer_on(measured), len(measured), CALLERS)
    head = f"FileDisclosure, API in its own process (pid {pid}), {commands:,} filings"
    return [head, *summarise(raw.read_text())]


async def profile_queries(queries: int) -> list[str]:
    data = command_data(WARM_UP + 3_000)
    filings = data.filings[: WARM_UP + 3_000]
    unit, year = busiest(filings)
    request = pb.ListDisclosuresRequest(unit=unit, year=year, page_size=PAGE)
    metadata = UNIT_METADATA[unit]

    def lister(channel: grpc.aio.Channel) -> Call:
        stub = pb_grpc.DisclosureServiceStub(channel)

        async def call(_: int) -> None:
            await stub.ListDisclosures(request, metadata=metadata, timeout=TIMEOUT)

        return call

    with scratch_database("profile_queries") as url:
        async with disclosure_api(url) as (pid, port), open_channels(port, CHANNELS) as channels:
            await register_all(channels[0], data, CALLERS)
            await drive_spread(channels, filer_on(filings), len(filings), CALLERS)
            await drive_spread(channels, lister, CALLERS * 2, CALLERS)  # the catch-up
            with sampling(pid, "queries") as raw:
                await drive_spread(channels, lister, queries, CALLERS)
    head = f"ListDisclosures (a page of {PAGE}), API in its own process (pid {pid}), {queries:,}"
    return [head, *summarise(raw.read_text())]


async def profile_relay(events: int) -> list[str]:
    filings = relay_filings(events)
    with scratch_database("profile_relay") as url:
        parts = build(disclosure_settings(url))
        try:
            settings = parts.settings
            await ensure_topics(settings.kafka_bootstrap, [parts.topic])
            await asyncio.to_thread(fill_with_filings, parts.app, filings)
            async with bench_relay(parts, settings.relay_batch_size) as relay:
                with sampling(os.getpid(), "relay") as raw:
                    while await relay.run_once():
                        pass
        finally:
            close(parts)
    return [f"Relay draining {events:,} DisclosureFiled to Kafka", *summarise(raw.read_text())]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("target", choices=("commands", "queries", "relay", "all"))
    parser.add_argument("--commands", type=int, default=3_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.target in ("commands", "all"):
        print("\n".join(asyncio.run(profile_commands(args.commands))))
    if args.target in ("queries", "all"):
        print("\n".join(asyncio.run(profile_queries(args.queries))))
    if args.target in ("relay", "all"):
        print("\n".join(asyncio.run(profile_relay(args.events))))


if __name__ == "__main__":
    main()
