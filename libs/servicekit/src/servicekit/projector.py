"""Projections: a service's own notification log → read-model tables in its database.

The projector applies a batch of events and records its position in the same transaction,
so each event is applied exactly once, whatever crashes. Read models are eventually
consistent; a command that must see everything up to now calls `catch_up()` first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification, ProcessRecorder
from psycopg import Cursor
from psycopg_pool import ConnectionPool

from servicekit.aio import wait_or_stop

log = logging.getLogger(__name__)

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    "name text PRIMARY KEY, position bigint NOT NULL)"
)


class Projection(Protocol):
    name: str

    def create_tables(self, cur: Cursor[Any]) -> None: ...

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None: ...


class Projector:
    def __init__(
        self,
        projection: Projection,
        recorder: ProcessRecorder,
        decode: Callable[[Notification], Any],
        pool: ConnectionPool,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.05,
    ) -> None:
        self.projection = projection
        self.recorder = recorder
        self.decode = decode
        self.pool = pool
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(POSITIONS_DDL)
            projection.create_tables(cur)

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM projection_positions WHERE name = %s",
                (self.projection.name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def run_once(self) -> int:
        """Applies one batch; returns how many notifications it moved past."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            # Row lock: two projectors on one database take turns instead of racing.
            cur.execute(
                "INSERT INTO projection_positions (name, position) VALUES (%s, 0) "
                "ON CONFLICT (name) DO NOTHING", (self.projection.name,),
            )
            cur.execute(
                "SELECT position FROM projection_positions WHERE name = %s FOR UPDATE",
                (self.projection.name,),
            )
            row = cur.fetchone()
            start = int(row[0]) if row else 0
            notifications: Sequence[Notification] = self.recorder.select_notifications(
                start, self.batch_size, inclusive_of_start=False
            )
            for notification in notifications:
                self.projection.apply(cur, self.decode(notification), notification.id)
            if notifications:
                cur.execute(
                    "UPDATE projection_positions SET position = %s WHERE name = %s",
                    (notifications[-1].id, self.projection.name),
                )
            return len(notifications)

    def catch_up(self) -> int:
        """Applies everything recorded so far (for commands that need a complete view)."""
        target = self.recorder.max_notification_id() or 0
        while self.position() < target:
            if self.run_once() == 0:
                break
        return target

    async def run(self, stop: asyncio.Event) -> None:
        log.info("projector started", extra={"projection": self.projection.name})
        backoff = 0.5
        while not stop.is_set():
            try:
                moved = await asyncio.to_thread(self.run_once)
                backoff = 0.5
            except Exception as error:  # database away: retry, never skip
                log.warning("projection batch failed; will retry",
                            extra={"projection": self.projection.name, "error": repr(error)})
                await wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if moved == 0:
                await wait_or_stop(stop, self.idle_poll_seconds)
        log.info("projector stopped", extra={"projection": self.projection.name})
