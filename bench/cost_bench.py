"""What the four services cost idle: the resident memory of every role and the PostgreSQL
connections they hold (issue 14, goal 6: ≤ 300 MiB and ≤ 20 connections for the four).
Measured twice: as deployed (each role its own process), then as a small deployment runs
them (each service one process, `python -m <service> all`: the shape of the issue's
340 MiB baseline, four processes).

Every role runs as deployed and as `make run` runs it (tools/run_platform.SERVICE_ROLES: 15
processes, disclosure without a consumer), `python -m <service> <role>` in a process of
its own, each service on a scratch database of its own (`prepare` first, as `make run`
does), its topics under a prefix of this run, development settings. Once every api
answers SERVING the roles are left alone; then, after `SETTLE_SECONDS` and again after
`LATE_SECONDS` (past the pools' idle shrink), it samples:
- RSS of each role's process tree (psutil; shared pages counted in each process, as `ps`
  and the issue's figure do), summed;
- `pg_stat_activity` rows whose database is one of the four, by role (application_name is
  not set by the services, so connections are told apart by the client's port: psutil
  maps each role's TCP connections to the server's port).

Run alone: `.venv/bin/python -m bench.cost_bench` (after `tools/devinfra.py up`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]  # psutil ships no type information
import psycopg

from bench.disclosure_data import IDENTITY_METADATA
from bench.infra import kafka_bootstrap, scratch_database, server_url
from bench.machine import ROOT
from bench.process_bench import ServerProcess, clean_environment, free_port, spawn, stop_server
from bench.progress import NO_PROGRESS, BenchProgress
from bench.report import Figure, Section
from bench.stopwatch import Timing

SERVICE_ROLES = {
    "disclosure": ("api", "relay", "projector"),
    "inspection": ("api", "relay", "consumer", "projector"),
    "credit": ("api", "relay", "consumer", "projector"),
    "casework": ("api", "relay", "consumer", "projector"),
}
SETTLE_SECONDS = 20.0
LATE_SECONDS = 90.0
"""After start: past the pools' idle shrink (servicekit's pools close one unused connection
per `PUBREV_DB_POOL_MAX_IDLE_SECONDS`, 10 s by default)."""
READY_SECONDS = 180.0
GOAL_MIB = 300.0
GOAL_CONNECTIONS = 20


@dataclass
class Sample:
    at_s: float
    rss_mib: dict[str, float] = field(default_factory=dict)
    pss_mib: dict[str, float] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)
    """role → connections whose client port is one of its sockets; `?` for the rest."""

    @property
    def total_mib(self) -> float:
        return sum(self.rss_mib.values())

    @property
    def total_pss_mib(self) -> float:
        return sum(self.pss_mib.values())

    @property
    def total_connections(self) -> int:
        return sum(self.connections.values())


def role_environment(
    service: str, database_url: str, port: int, prefix: str, role: str
) -> dict[str, str]:
    env = {
        **clean_environment(),
        "DATABASE_URL": database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "PUBREV_ENVIRONMENT": "development",
        "PUBREV_DEV_IDENTITY_HEADER": "true",
        "PUBREV_LOG_LEVEL": "WARNING",
        "PUBREV_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP": kafka_bootstrap(),
        # Nobody receives the feeds: the pushers find nothing to push when idle.
        "PUBREV_FEED_CREDITCHINA_URL": "http://127.0.0.1:9/feeds/creditchina",
        "PUBREV_FEED_MARKET_URL": "http://127.0.0.1:9/feeds/market",
        "PUBREV_ZHIHUI_URL": "http://127.0.0.1:9/feeds/zhihui",
    }
    if role in ("api", "all"):
        env["PUBREV_GRPC_PORT"] = str(port)
    return env


def memory_mib(popen_pid: int) -> tuple[float, float]:
    """RSS and PSS (shared pages divided among the processes sharing them) of the tree."""
    try:
        root = psutil.Process(popen_pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    rss = pss = 0
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = process.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss / 2**20, pss / 2**20


def client_ports(popen_pid: int) -> set[int]:
    try:
        root = psutil.Process(popen_pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    ports: set[int] = set()
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            ports.update(c.laddr.port for c in process.net_connections(kind="tcp") if c.laddr)
    return ports


def sample(started: float, roles: dict[str, ServerProcess], databases: list[str]) -> Sample:
    result = Sample(at_s=time.monotonic() - started)
    ports = {name: client_ports(server.popen.pid) for name, server in roles.items()}
    with psycopg.connect(server_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT client_port FROM pg_stat_activity WHERE datname = ANY(%s)", (databases,)
        ).fetchall()
    for (port,) in rows:
        owner = next((name for name, own in ports.items() if port in own), "?")
        result.connections[owner] = result.connections.get(owner, 0) + 1
    for name, server in roles.items():
        result.rss_mib[name], result.pss_mib[name] = memory_mib(server.popen.pid)
    return result


def prepare(service: str, env: dict[str, str]) -> None:
    import subprocess

    done = subprocess.run(  # noqa: S603  # our own interpreter and module, no shell
        [sys.executable, "-m", service, "prepare"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=READY_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace")[-3000:]
        raise RuntimeError(f"{service} prepare failed ({done.returncode}):\n{tail}")


async def api_ready(port: int) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""),
                metadata=IDENTITY_METADATA,
                timeout=2.0,
            )
        except grpc.aio.AioRpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


@contextlib.contextmanager
def databases(services: list[str]) -> Iterator[dict[str, str]]:
    with contextlib.ExitStack() as stack:
        yield {s: stack.enter_context(scratch_database(f"cost_{s}")) for s in services}


ONE_PROCESS_EACH = {service: ("all",) for service in SERVICE_ROLES}
"""The small deployment: each service's roles in one process (`python -m <service> all`)."""


async def measure(
    progress: BenchProgress = NO_PROGRESS, layout: Mapping[str, Sequence[str]] = SERVICE_ROLES
) -> tuple[list[Sample], dict[str, Any]]:
    prefix = f"bench.cost.{uuid.uuid4().hex[:8]}."
    services = list(layout)
    processes = sum(len(r) for r in layout.values())
    roles: dict[str, ServerProcess] = {}
    apis: dict[str, int] = {}
    with databases(services) as urls, contextlib.ExitStack() as outputs:
        names = [urlsplit(u).path.lstrip("/") for u in urls.values()]
        try:
            with progress.step("cost: prepare the four databases"):
                await asyncio.gather(
                    *(
                        asyncio.to_thread(
                            prepare, s, role_environment(s, urls[s], 0, prefix, "prepare")
                        )
                        for s in services
                    )
                )
            started = time.monotonic()
            for service, service_roles in layout.items():
                port = free_port()
                for role in service_roles:
                    output = outputs.enter_context(tempfile.TemporaryFile())
                    env = role_environment(service, urls[service], port, prefix, role)
                    argv = [sys.executable, "-m", service, role]
                    roles[f"{service}-{role}"] = ServerProcess(
                        f"{service} {role}", spawn(argv, env, output), port, output
                    )
                apis[service] = port
            with progress.step(f"cost: {processes} processes start, every api SERVING"):
                deadline = time.monotonic() + READY_SECONDS
                waiting = dict(apis)
                while waiting:
                    for name, server in roles.items():
                        if server.popen.poll() is not None:
                            raise RuntimeError(
                                f"{name} exited ({server.popen.returncode}):\n"
                                f"{server.output_tail()}"
                            )
                    for service, port in list(waiting.items()):
                        if await api_ready(port):
                            del waiting[service]
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"not SERVING after {READY_SECONDS:.0f} s: {waiting}")
                    await asyncio.sleep(0.5)
                ready_s = time.monotonic() - started
            samples = []
            for at in (SETTLE_SECONDS, LATE_SECONDS):
                with progress.step(f"cost: {processes} processes idle until {at:.0f} s"):
                    await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
                    samples.append(await asyncio.to_thread(sample, started, roles, names))
            for name, server in roles.items():
                if server.popen.poll() is not None:
                    raise RuntimeError(f"{name} died while idle:\n{server.output_tail()}")
        finally:
            for server in roles.values():
                server.popen.send_signal(15)
            for server in roles.values():
                stop_server(server)
    return samples, {"ready_s": round(ready_s, 1)}


def by_service(values: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in values.items():
        service = name.split("-")[0]
        out[service] = out.get(service, 0) + value
    return out


def idle_figures(samples: list[Sample], key: str, what: str) -> tuple[list[Figure], list[str]]:
    figures: list[Figure] = []
    notes: list[str] = []
    for suffix, s in zip(("settled", "late"), samples, strict=True):
        timing = Timing(seconds=s.at_s, cpu_seconds=0.0, host_busy_seconds=None)
        figures.append(
            Figure(
                key=f"{key}_{suffix}",
                label=(
                    f"{what}, idle at {s.at_s:.0f} s: {s.total_mib:,.0f} MiB RSS"
                    f" (goal ≤ {GOAL_MIB:.0f}), {s.total_pss_mib:,.0f} MiB PSS,"
                    f" {s.total_connections} connections (goal ≤ {GOAL_CONNECTIONS})"
                ),
                count=s.total_connections,
                timing=timing,
                unit="connections",
                latency_only=True,
            )
        )
        roles = ", ".join(
            f"{n} {s.rss_mib[n]:.0f} MiB/{s.connections.get(n, 0)}" for n in s.rss_mib
        )
        notes.append(f"{what}, at {s.at_s:.0f} s, RSS/connections: {roles}")
        if "?" in s.connections:
            notes.append(f"connections not matched to a process: {s.connections['?']}")
    return figures, notes


async def cost_section(progress: BenchProgress = NO_PROGRESS) -> Section:
    samples, extra = await measure(progress)
    compact, compact_extra = await measure(progress, ONE_PROCESS_EACH)
    section = Section(
        title="Cost idle: the four services as deployed (15 roles, each its own process), then"
        " as a small deployment (each service one process, role `all`)",
        key="cost",
    )
    for figures_notes in (
        idle_figures(samples, "idle", "15 processes"),
        idle_figures(compact, "compact", "4 processes"),
    ):
        section.figures.extend(figures_notes[0])
        section.notes.extend(figures_notes[1])
    last, small = samples[-1], compact[-1]
    section.extra = {
        **extra,
        "rss_mib": round(last.total_mib, 1),
        "pss_mib": round(last.total_pss_mib, 1),
        "connections": last.total_connections,
        "settled_rss_mib": round(samples[0].total_mib, 1),
        "settled_connections": samples[0].total_connections,
        "per_role": {
            n: [round(last.rss_mib[n], 1), last.connections.get(n, 0)] for n in last.rss_mib
        },
        "compact_ready_s": compact_extra["ready_s"],
        "compact_rss_mib": round(small.total_mib, 1),
        "compact_pss_mib": round(small.total_pss_mib, 1),
        "compact_connections": small.total_connections,
    }
    return section


def main() -> None:
    from bench.report import render_section

    section = asyncio.run(cost_section())
    print("\n".join(render_section(1, section)))
    for key, value in section.extra.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
