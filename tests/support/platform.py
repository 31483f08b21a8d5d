"""The four services in one process on the real PostgreSQL, with the bus in between played
by the test: what each relay would publish is translated by the service's own relay
translation (bytes and CloudEvents headers, as on Kafka) and read by each consumer under the
runner's own rules (`servicekit.consumer.read_record`), then applied by its handler. No
broker: a campaign year is walked on an injected clock in seconds, deterministically.

Used by tests that follow records across services through time (tests/e2e/
test_campaign_year.py); the Kafka path itself is what the thin-slice and delivery tests prove.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, TypeVar

import psycopg
from eventsourcing.domain import CanCreateTimestamp

from casework.bootstrap import build as build_casework
from credit.bootstrap import build as build_credit
from disclosure.bootstrap import build as build_disclosure
from inspection.bootstrap import build as build_inspection
from servicekit.consumer import read_record
from servicekit.identity import Identity
from servicekit.runtime import ServiceParts, close
from servicekit.settings import ServiceSettings
from servicekit.testing import FakeClock

SERVICES = ("disclosure", "inspection", "credit", "casework")

T = TypeVar("T")


@dataclass(frozen=True)
class FeedRecord:
    """A record a service's projection queued for an outbound feed (servicekit.push's
    `push_records`): nothing pushes it in process, so it stays pending."""

    record_id: str
    payload: dict[str, Any]
    status: str


@dataclass
class Delivered:
    """What the in-process bus carried, for assertions."""

    published: dict[str, list[str]] = field(default_factory=dict)
    """Service → the CloudEvents types its relay translation produced, in order."""
    applied: int = 0
    problems: list[str] = field(default_factory=list)
    """Records a consumer could not read (they would be parked): a test fails on any."""


class InProcessPlatform:
    def __init__(
        self,
        settings: Callable[..., ServiceSettings],
        clock: FakeClock,
        feed_url: Callable[[str], str] | None = None,
    ) -> None:
        url = feed_url or (lambda feed: f"http://127.0.0.1:9/feeds/{feed}")
        self.clock = clock
        self.parts: dict[str, ServiceParts] = {
            "disclosure": build_disclosure(settings("disclosure"), clock=clock),
            "inspection": build_inspection(settings("inspection"), clock=clock),
            "credit": build_credit(
                settings("credit"),
                clock=clock,
                feeds={
                    "PUBREV_FEED_CREDITCHINA_URL": url("creditchina"),
                    "PUBREV_FEED_MARKET_URL": url("market"),
                },
            ),
            "casework": build_casework(
                settings("casework"), clock=clock, feed={"PUBREV_ZHIHUI_URL": url("zhihui")}
            ),
        }
        # Events are stamped by eventsourcing with the wall clock; in a walked year they
        # happen at the walk's time (their occurred_at on the wire), as they would have.
        self._stamp = CanCreateTimestamp.__dict__["create_timestamp"]
        CanCreateTimestamp.create_timestamp = staticmethod(  # type: ignore[method-assign]
            lambda: clock().astimezone(UTC)
        )
        self.positions = dict.fromkeys(SERVICES, 0)
        self.delivered = Delivered()
        # The gRPC path's queries are coroutines reading on an asyncpg pool bound to the loop
        # that opened it (servicekit.readside): one loop for the whole walk.
        self._loop = asyncio.Runner()

    def app(self, service: str) -> Any:
        return self.parts[service].app

    def ask(self, query: Coroutine[Any, Any, T]) -> T:
        """Answers a query of the gRPC path (a coroutine) on the walk's one loop."""
        return self._loop.run(query)

    def handle(self, service: str, identity: Identity, command: Any) -> Any:
        """Runs a typed command, then lets its effects travel (settle)."""
        result = self.app(service).handle(identity, command)
        self.settle()
        return result

    def settle(self, rounds: int = 20) -> int:
        """Relays every new event to every subscriber and catches the projections up, until
        nothing moves (effects can cause events, which cause effects)."""
        moved_total = 0
        for _ in range(rounds):
            moved = 0
            for service in SERVICES:
                for message in self._new_messages(service):
                    moved += 1
                    self._deliver(message)
            for parts in self.parts.values():
                if parts.projector is not None:
                    parts.projector.catch_up()
            moved_total += moved
            if moved == 0:
                return moved_total
        raise AssertionError(f"the platform did not settle in {rounds} rounds")

    def _new_messages(self, service: str) -> Iterator[Any]:
        parts = self.parts[service]
        recorder = parts.app.process_recorder
        while True:
            batch = recorder.select_notifications(
                start=self.positions[service] + 1, limit=500, inclusive_of_start=True
            )
            if not batch:
                return
            for notification in batch:
                self.positions[service] = notification.id
                message = parts.translate(notification)
                if message is not None:
                    types = dict(message.headers)
                    self.delivered.published.setdefault(service, []).append(
                        types.get("ce_type", b"").decode()
                    )
                    yield message

    def _deliver(self, message: Any) -> None:
        for parts in self.parts.values():
            for subscription in parts.subscriptions:
                if subscription.topic != message.topic:
                    continue
                read = read_record(subscription, list(message.headers), message.value, "in-process")
                if read is None:
                    continue
                if read.problem is not None:
                    self.delivered.problems.append(f"{subscription.consumer}: {read.problem}")
                    continue
                assert read.handler is not None and read.delivery is not None
                if read.handler(read.event, read.delivery):
                    self.delivered.applied += 1

    def feed_records(self, service: str, feed: str) -> list[FeedRecord]:
        """What `service` queued for `feed` (credit: creditchina, market; casework: zhihui),
        in the order queued (by the walk's clock, then record id)."""
        url = self.parts[service].settings.service_database_url
        with psycopg.connect(url) as conn:
            exists = conn.execute("SELECT to_regclass('push_records') IS NOT NULL").fetchone()
            if exists is None or not exists[0]:
                return []  # the projection has queued nothing yet
            rows = conn.execute(
                "SELECT record_id, payload, status FROM push_records WHERE feed = %s"
                " ORDER BY created_at, record_id",
                (feed,),
            ).fetchall()
        return [FeedRecord(record_id, payload, status) for record_id, payload, status in rows]

    def sweep(self) -> None:
        """Runs every periodic job once (deadlines, warnings, feeds' display periods), as the
        projector role would at this instant, then settles."""
        for parts in self.parts.values():
            for job in parts.periodic:
                job.run()
        self.settle()

    def close(self) -> None:
        CanCreateTimestamp.create_timestamp = self._stamp  # type: ignore[method-assign]

        async def stop() -> None:
            for parts in self.parts.values():
                for hook in parts.on_stop:  # the read pools, closed on the loop they ran on
                    await hook()

        self._loop.run(stop())
        self._loop.close()
        for parts in self.parts.values():
            close(parts)
