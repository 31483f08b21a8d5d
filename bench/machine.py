"""Facts about the machine and the stack, printed above the figures they explain."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

from bench.infra import kafka_bootstrap
from bench.stopwatch import Stopwatch

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "infra" / "kafka" / "pom.xml"
PACKAGES = ("eventsourcing", "grpcio", "aiokafka", "asyncpg", "psycopg")


def kafka_version() -> str:
    """The broker version, from the one place it is pinned."""
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text("utf-8"))
    return found.group(1) if found else "unknown"


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text("utf-8")
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else "unknown"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def background_load(seconds: float = 1.0) -> str:
    """What the rest of the machine uses while this process sleeps: others' builds and tests
    on a shared machine slow every figure, the baselines as much as the rest (or not)."""
    with Stopwatch() as watch:
        await asyncio.sleep(seconds)
    busy = watch.timing.host_percent
    return "unknown" if busy is None else f"{busy:.0f}% of all cores while idle"


async def machine_facts(database_url: str) -> dict[str, Any]:
    load = await background_load()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": usable_cpus(),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "kafka": f"{kafka_version()} (infra/kafka/pom.xml) at {kafka_bootstrap()}",
        "postgresql": await postgres_version(database_url),
        "packages": ", ".join(f"{p} {metadata.version(p)}" for p in PACKAGES),
        # ThreadPoolExecutor's default: how many eventsourcing calls run at once.
        "asyncio.to_thread workers": min(32, (os.cpu_count() or 1) + 4),
        "host load before start": load,
    }
