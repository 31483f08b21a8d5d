"""pytest fixtures for tests on the real stack (Kafka broker, PostgreSQL).

Registered from the repository's root conftest. Tests that use them are marked `infra`.
The fixtures start the local infrastructure (tools/devinfra.py, idempotent) unless
KAFKA_BOOTSTRAP / DATABASE_URL name servers of your own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from psycopg_pool import ConnectionPool

from servicekit.cloudevents import CloudEventAttributes, event_id, topic_source
from servicekit.grpc_kit import IDENTITY_HEADER
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import KafkaSecurity
from servicekit.postgres import drop_database, ensure_database
from servicekit.runtime import ROLES, Running, ServiceParts, close, start, stop
from servicekit.settings import ServiceSettings, with_database

ROOT = Path(__file__).resolve().parents[4]
LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_DATABASE = "postgresql://postgres@127.0.0.1:15432/postgres"

T = TypeVar("T")


@pytest.fixture(scope="session")
def infra() -> Iterator[dict[str, str]]:
    """Addresses of a running broker and database server (started when needed)."""
    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, str(ROOT / "tools" / "devinfra.py"), "up"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"local infrastructure did not start:\n{result.stderr[-4000:]}")
    kafka = os.environ.get("KAFKA_BOOTSTRAP", LOCAL_KAFKA)
    database = os.environ.get("DATABASE_URL", LOCAL_DATABASE)
    # Every topic of this session carries this prefix: the tests neither see events of
    # earlier runs or of a developer's `make run` on the same broker, nor disturb them.
    prefix = f"test{uuid.uuid4().hex[:8]}."
    yield {"kafka": kafka, "database": database, "prefix": prefix}
    asyncio.run(_delete_topics(kafka, prefix))


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


@pytest.fixture
def service_settings(infra: dict[str, str]) -> Iterator[Callable[..., ServiceSettings]]:
    """Factory of settings for a service on a fresh database of its own (dropped after)."""
    created: list[str] = []

    def make(service: str, **overrides: Any) -> ServiceSettings:
        url = with_database(infra["database"], f"test_{service}_{uuid.uuid4().hex[:10]}")
        ensure_database(url)
        created.append(url)
        values: dict[str, Any] = {
            "service": service,
            "environment": "test",
            "kafka_bootstrap": infra["kafka"],
            "database_url": url,
            "database_is_service_db": True,
            "grpc_port": 0,
            "dev_identity_header": True,
            "relay_idle_poll_seconds": 0.02,
            "topic_prefix": infra["prefix"],
            "shutdown_grace_seconds": 2.0,
        }
        values.update(overrides)
        return ServiceSettings(**values)

    yield make
    for url in created:
        drop_database(url)


@pytest.fixture
def fresh_database(infra: dict[str, str]) -> Iterator[str]:
    """The URL of a new, empty database of its own (dropped after the test)."""
    url = with_database(infra["database"], f"test_db_{uuid.uuid4().hex[:10]}")
    ensure_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def parked_store(fresh_database: str) -> Iterator[ParkedStore]:
    """A parked-events store (servicekit.isolation) on a fresh database, tables created."""
    pool = ConnectionPool(fresh_database, min_size=1, max_size=4, open=True)
    store = ParkedStore(pool)
    store.ensure_tables()
    try:
        yield store
    finally:
        pool.close()


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Polls `probe` until it returns a truthy value (returned) or raises no AssertionError.

    Waits on the condition with a deadline instead of sleeping a fixed time, so a loaded
    2-core CI machine is slower but not flaky.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = await probe()
            if value:
                return value
        except AssertionError as error:
            last = error
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}") from last


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    subject: str | None = None,
    min_count: int = 1,
    timeout: float = 30.0,
) -> list[Any]:
    """Reads a topic from the beginning (no group, no commits) until `min_count` records
    (with ce_subject == subject, when given) have been seen."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Any] = []

    async def fetch(timeout_ms: int) -> None:
        for records in (await consumer.getmany(timeout_ms=timeout_ms)).values():
            for record in records:
                headers = {k: v.decode() for k, v in record.headers}
                if subject is None or headers.get("ce_subject") == subject:
                    found.append(record)

    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await fetch(200)
            if len(found) >= min_count:
                await fetch(500)  # drain what is already there, to see duplicates too
                return found
    finally:
        await consumer.stop()
    raise AssertionError(f"only {len(found)} of {min_count} records on {topic}")


@contextlib.asynccontextmanager
async def running_service(
    build: Callable[[ServiceSettings], ServiceParts],
    settings: ServiceSettings,
    roles: tuple[str, ...] = ROLES,
) -> AsyncIterator[tuple[ServiceParts, Running]]:
    """A service started in this process on the real stack, stopped (cleanly) afterwards."""
    parts = build(settings)
    running = await start(parts, roles)
    try:
        yield parts, running
    finally:
        await stop(parts, running)
        close(parts)


def identity_metadata(
    agency: str, role: str, unit: str, subject: str = ""
) -> tuple[tuple[str, str], ...]:
    """The development identity header (tests run with PUBREV_DEV_IDENTITY_HEADER on)."""
    text = f"agency={agency};role={role};unit={unit}" + (f";subject={subject}" if subject else "")
    return ((IDENTITY_HEADER, text),)


class FakeClock:
    """A clock a test moves by hand (`clock.now = ...`); services take it as `clock=`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def publish_event(
    bootstrap: str,
    topic: str,
    ce_type: str,
    body: dict[str, Any],
    source: str | None = None,
    security: KafkaSecurity | None = None,
) -> None:
    """Publishes a contract event as a producer's relay would (CloudEvents binary mode,
    keyed by aggregate id, `ce_source` the topic owner's unless `source` says otherwise):
    for tests of consumers without running the producer."""
    source = source or topic_source(topic)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **(security or KafkaSecurity()).client_options()
    )
    await producer.start()
    try:
        aggregate_id = str(body["aggregate_id"])
        headers = CloudEventAttributes(
            id=event_id(aggregate_id, int(body.get("aggregate_version", 1))),
            source=source,
            type=ce_type,
            time=datetime.now(UTC),
            subject=aggregate_id,
            unit=str(body.get("unit", "")),
        ).headers()
        await producer.send_and_wait(
            topic, json.dumps(body).encode(), key=aggregate_id.encode(), headers=headers
        )
    finally:
        await producer.stop()
