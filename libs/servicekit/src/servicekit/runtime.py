"""Runs a service's roles (api, relay, consumer) and shuts them down cleanly.

SIGTERM or SIGINT: health turns NOT_SERVING and the gRPC server stops taking calls while
in-flight calls finish (grace period); the consumer finishes the event in hand and commits;
the relay finishes and records its batch; then connections close.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from psycopg_pool import ConnectionPool
from psycopg_pool.pool import ShrinkPool

from servicekit.admin import SERVICE_NAME as ADMIN_SERVICE
from servicekit.admin import AdminDesk, KafkaLag, Redriver, consumer_groups
from servicekit.admin import register as register_admin
from servicekit.aio import wait_or_stop
from servicekit.consumer import (
    ConsumerRedriver,
    ConsumerRunner,
    Subscription,
    dead_letter_topic,
)
from servicekit.eventstore import ServiceApplication
from servicekit.grpc_kit import GrpcServer
from servicekit.identity import IdentityRules
from servicekit.isolation import ParkedStore, tracking_table
from servicekit.kafka_admin import KafkaSecurity, ensure_topics
from servicekit.logs import configure_logging
from servicekit.postgres import ensure_database, eventsourcing_env, schema_lock
from servicekit.projector import Projector
from servicekit.push import Pusher
from servicekit.readside import ReadPool
from servicekit.relay import Relay, RelayRedriver, Translate, make_producer
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

ROLES = ("api", "relay", "consumer", "projector")


# -- the connection budget (docs/adr/0020) --------------------------------------------------
# Every role of a service is a process of its own (15 for the four), so whatever a process
# holds idle is held fifteen times. A process has at most two psycopg pools: the event
# store's (eventsourcing's recorder) and the service's own (read models, parked events,
# attachments, the feeds' outbox), shared by everything in the process; an api process
# also has the asyncpg pool its queries read through (servicekit.readside). All start empty
# and give back what they no longer use: a role holds the connections its work of the last
# `db_pool_max_idle_seconds` needed, not what some role might need one day. Beside them,
# the relay and the projector each keep one LISTEN connection (servicekit.wakeup).


def service_pool(settings: ServiceSettings) -> ConnectionPool:
    """The process's one pool for the service's own tables (everything but the event
    store): empty at start, at most `db_pool_max`, an idle connection closed after
    `db_pool_max_idle_seconds`."""
    return ConnectionPool(
        settings.service_database_url,
        min_size=0,
        max_size=settings.db_pool_max,
        max_idle=settings.db_pool_max_idle_seconds,
        open=True,
    )


def read_pool(settings: ServiceSettings) -> ReadPool:
    """The process's asyncpg pool for its queries (servicekit.readside): empty at start,
    opened by the first query, at most `read_pool_max`, an idle connection closed after
    `db_pool_max_idle_seconds`. The bootstrap adds its `close` to `on_stop`."""
    return ReadPool(
        settings.service_database_url,
        max_size=settings.read_pool_max,
        max_idle_seconds=settings.db_pool_max_idle_seconds,
    )


def event_store_env(settings: ServiceSettings) -> dict[str, str]:
    """eventsourcing's settings for the service's database, with its pool on the budget:
    none kept open (its POOL_SIZE is the pool's minimum), at most `event_store_pool_max`."""
    return {
        **eventsourcing_env(settings.service_database_url),
        "POSTGRES_POOL_SIZE": "0",
        "POSTGRES_MAX_OVERFLOW": str(settings.event_store_pool_max),
    }


def trim_when_idle(app: ServiceApplication, max_idle: float) -> None:
    """The event store's pool gives back an idle connection after `max_idle` seconds,
    not psycopg_pool's 10 minutes: eventsourcing opens that pool itself (creating its
    tables, while the application is built), before anyone could set it, so the shrink
    is scheduled anew here. Any other recorder (in memory, SQLite) is left alone."""
    pool = getattr(getattr(app.recorder, "datastore", None), "pool", None)
    if not isinstance(pool, ConnectionPool) or pool.closed:
        return
    pool.max_idle = max_idle
    pool.schedule_task(ShrinkPool(pool), max_idle)


@dataclass(frozen=True)
class PeriodicJob:
    """A synchronous job the projector role runs every `interval` seconds (first at start)."""

    name: str
    interval: float
    run: Callable[[], object]


@dataclass
class ServiceParts:
    """What a service's bootstrap hands to the runtime."""

    settings: ServiceSettings
    app: ServiceApplication
    grpc_service_names: Sequence[str]
    register_grpc: Callable[[grpc.aio.Server], None]
    topic: str
    translate: Translate
    identity_rules: IdentityRules
    """Who may call at all (the published language's agencies, roles and units)."""
    subscriptions: list[Subscription] = field(default_factory=list)
    projector: Projector | None = None
    periodic: list[PeriodicJob] = field(default_factory=list)
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    """Long-running loops of the projector role (e.g. the feeds' pusher), stopped by the
    event they are given."""
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Awaited once the gRPC server has drained (e.g. a group committer's task)."""
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Called once at the very end (connection pools)."""
    pushers: list[Pusher] = field(default_factory=list)
    """The feeds' pushers (also in `background`), for the operators' re-push and re-drive."""
    pool: ConnectionPool | None = None
    """The service's own pool (`service_pool`), which the parked events share; None: the
    runtime opens one of its own for them (closed by the runtime)."""


@dataclass
class Running:
    """Handles of a running service, for tests and the shutdown."""

    grpc: GrpcServer | None = None
    relay: Relay | None = None
    consumer: ConsumerRunner | None = None
    store: ParkedStore | None = None
    """The parked events of this process's workers (servicekit.isolation)."""
    admin: AdminDesk | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def start(parts: ServiceParts, roles: Sequence[str]) -> Running:
    settings = parts.settings
    prefix = settings.topic_prefix
    # The service's own principal (SASL) or the open local listener; every client below
    # authenticates the same way.
    security = KafkaSecurity.from_settings(settings)
    topics = {prefix + parts.topic}
    if parts.subscriptions:  # a service that consumes nothing parks nothing
        topics.add(prefix + dead_letter_topic(settings.service))
        topics.update(prefix + s.topic for s in parts.subscriptions)
    await ensure_topics(
        settings.kafka_bootstrap,
        sorted(topics),
        replication_factor=settings.topic_replication_factor,
        security=security,
    )
    running = Running()
    trim_when_idle(parts.app, settings.db_pool_max_idle_seconds)
    store = running.store = ParkedStore(parts.pool or service_pool(settings))
    await asyncio.to_thread(store.ensure_tables)
    if parts.subscriptions and {"consumer", "api"} & set(roles):
        await asyncio.to_thread(
            store.migrate_tracking,
            [s.consumer for s in parts.subscriptions],
            tracking_table(parts.app.process_recorder),
        )
    if "relay" in roles:
        producer = make_producer(
            settings.kafka_bootstrap, f"pubrev-{settings.service}-relay", security
        )
        await producer.start()
        running.relay = Relay(
            settings.service,
            parts.app.process_recorder,
            parts.translate,
            producer,
            store,
            batch_size=settings.relay_batch_size,
            idle_poll_seconds=settings.relay_idle_poll_seconds,
            topic_prefix=prefix,
            max_attempts=settings.consumer_max_attempts,
        )
        running.tasks.append(asyncio.create_task(running.relay.run(running.stop)))
    if "consumer" in roles and parts.subscriptions:
        running.consumer = ConsumerRunner(
            settings.service,
            settings.kafka_bootstrap,
            parts.subscriptions,
            max_attempts=settings.consumer_max_attempts,
            graceful_timeout=settings.shutdown_grace_seconds,
            topic_prefix=prefix,
            security=security,
            store=store,
        )
        await running.consumer.start()
    if "projector" in roles:
        if parts.projector is not None:
            running.tasks.append(asyncio.create_task(parts.projector.run(running.stop)))
        for job in parts.periodic:
            running.tasks.append(asyncio.create_task(_every(job, running.stop)))
        for loop in parts.background:
            running.tasks.append(asyncio.create_task(loop(running.stop)))
    if "api" in roles:
        running.admin = admin_desk(parts, store, security)
        running.grpc = GrpcServer(
            settings, [*parts.grpc_service_names, ADMIN_SERVICE], parts.identity_rules
        )
        parts.register_grpc(running.grpc.server)
        register_admin(running.admin)(running.grpc.server)
        await running.grpc.start()
    return running


async def stop(parts: ServiceParts, running: Running) -> None:
    grace = parts.settings.shutdown_grace_seconds
    if running.grpc is not None:
        await running.grpc.stop(grace)
        for hook in parts.on_stop:
            await hook()
    if running.consumer is not None:
        await running.consumer.stop()
    running.stop.set()
    if running.tasks:
        await asyncio.wait(running.tasks, timeout=grace)
    if running.relay is not None:
        await running.relay.producer.stop()
    if running.store is not None and running.store.pool is not parts.pool:
        running.store.pool.close()


def admin_desk(parts: ServiceParts, store: ParkedStore, security: KafkaSecurity) -> AdminDesk:
    """The operators' RPCs of the service: every worker kind's parked events can be
    re-driven from the api (the relay's with a producer of their own)."""
    settings = parts.settings
    projectors = [parts.projector] if parts.projector is not None else []
    redrivers: list[Redriver] = [
        RelayRedriver(
            settings.service,
            parts.app.process_recorder,
            parts.translate,
            store,
            lambda: make_producer(
                settings.kafka_bootstrap, f"pubrev-{settings.service}-redrive", security
            ),
            settings.topic_prefix,
        ),
        ConsumerRedriver(parts.subscriptions),
        *projectors,
        *parts.pushers,
    ]
    groups = consumer_groups(parts.subscriptions, settings.topic_prefix)
    return AdminDesk(
        parts.app,
        store,
        settings.service,
        redrivers,
        projectors,
        parts.pushers,
        KafkaLag(settings.kafka_bootstrap, security, groups),
    )


async def _every(job: PeriodicJob, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            result = await asyncio.to_thread(job.run)
            log.info("periodic job done", extra={"job": job.name, "result": result})
        except Exception:
            log.exception("periodic job failed; will run again", extra={"job": job.name})
        await wait_or_stop(stop, job.interval)


def close(parts: ServiceParts) -> None:
    parts.app.close()
    for closer in parts.closers:
        closer()


async def serve(parts: ServiceParts, roles: Sequence[str]) -> None:
    running = await start(parts, roles)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, running.stop.set)
    log.info("service up", extra={"roles": list(roles)})
    await running.stop.wait()
    log.info("shutting down")
    await stop(parts, running)
    close(parts)
    log.info("service down")


def build_parts(
    settings: ServiceSettings, build: Callable[[ServiceSettings], ServiceParts]
) -> ServiceParts:
    """The service's parts: its database first, then `build` (which creates or upgrades
    the tables it uses) under the database's schema lock, so that processes starting
    together take turns at their DDL instead of racing on it."""
    ensure_database(settings.service_database_url)
    with schema_lock(settings.service_database_url):
        return build(settings)


def prepare_isolation(parts: ServiceParts) -> None:
    """What start() also does to the database before any role runs: the isolation tables
    and the tracking migration. Both are idempotent; run once here by `prepare`, they are
    no-ops when the roles start."""
    store = ParkedStore(parts.pool or service_pool(parts.settings))
    try:
        store.ensure_tables()
        if parts.subscriptions:
            store.migrate_tracking(
                [s.consumer for s in parts.subscriptions],
                tracking_table(parts.app.process_recorder),
            )
    finally:
        if store.pool is not parts.pool:
            store.pool.close()


def main(
    service: str,
    build: Callable[[ServiceSettings], ServiceParts],
    argv: Sequence[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    parser.add_argument(
        "role",
        choices=[*ROLES, "all", "prepare"],
        help="api: gRPC server; relay: outbox to Kafka; consumer: Kafka "
        "subscriptions; projector: read models and periodic jobs; "
        "all: every role in one process (development); prepare: "
        "create the database and its tables, then exit",
    )
    args = parser.parse_args(argv)
    settings = ServiceSettings(service=service)
    configure_logging(service, settings.log_level)
    if args.role == "prepare":
        parts = build_parts(settings, build)
        prepare_isolation(parts)
        close(parts)
        log.info("schema ready")
        return
    workers: list[subprocess.Popen[bytes]] = []
    if args.role == "api" and settings.api_workers > 1:
        workers = _start_api_workers(service, settings.api_workers - 1)
        settings.grpc_reuseport = True
    parts = build_parts(settings, build)
    roles = ROLES if args.role == "all" else (args.role,)
    try:
        asyncio.run(serve(parts, roles))
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=settings.shutdown_grace_seconds + 5)


def _start_api_workers(service: str, count: int) -> list[subprocess.Popen[bytes]]:
    """More api processes on the same port (SO_REUSEPORT; the kernel spreads connections).
    They share nothing but the database: commands stay correct across processes as they
    are across replicas."""
    env = {**os.environ, "PUBREV_API_WORKERS": "1", "PUBREV_GRPC_REUSEPORT": "true"}
    log.info("starting api workers", extra={"workers": count + 1})
    return [
        subprocess.Popen([sys.executable, "-m", service, "api"], env=env)  # noqa: S603
        for _ in range(count)
    ]
