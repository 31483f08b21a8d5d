"""The gRPC path's read side on asyncpg (servicekit.readside), on the real PostgreSQL.

A query reads its read model through the pool on the caller's loop; `current` makes the
projection current first (read-your-writes) and costs one query when it already is; the
pool starts empty, opens on first use and gives its connections back when closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from psycopg_pool import ConnectionPool

from servicekit.eventstore import ServiceApplication
from servicekit.postgres import eventsourcing_env
from servicekit.projector import Projector
from servicekit.readside import ReadPool, named, named_params, numbered

pytestmark = pytest.mark.infra


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class NotesProjection:
    name = "notes.read-model"

    def create_tables(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS rm_notes (position bigint PRIMARY KEY)")

    def apply(self, cur: Any, event: Any, position: int) -> None:
        cur.execute("INSERT INTO rm_notes VALUES (%s)", (position,))


@pytest.fixture
def stack(fresh_database: str) -> Iterator[tuple[ServiceApplication, Projector, str]]:
    app = ServiceApplication(env=eventsourcing_env(fresh_database, pool_size=2))
    pool = ConnectionPool(fresh_database, min_size=0, max_size=2, open=True)
    projector = Projector(
        NotesProjection(),
        app.process_recorder,
        lambda n: n,
        pool,
        listen=False,
    )
    try:
        yield app, projector, fresh_database
    finally:
        pool.close()
        app.close()


async def test_current_catches_the_projection_up_then_reads_your_writes(stack) -> None:
    app, projector, url = stack
    reads = ReadPool(url, max_size=2)
    try:
        assert await reads.current(projector) == 0  # an empty log: nothing to apply
        app.save(Note("一"), Note("二"))
        # Not yet projected: `current` applies both before the query reads.
        end = await reads.current(projector)
        assert end == app.process_recorder.max_notification_id() == 2
        rows = await reads.fetch("SELECT position FROM rm_notes ORDER BY position")
        assert [r["position"] for r in rows] == [1, 2]
        assert await reads.fetchval("SELECT count(*) FROM rm_notes") == 2
        # Current already: one query answers, the projector is not run.
        ran: list[int] = []
        original = projector.catch_up
        projector.catch_up = lambda: ran.append(1) or original()  # type: ignore[method-assign]
        assert await reads.current(projector) == 2
        assert ran == []
        assert await reads.fetchrow("SELECT position FROM rm_notes WHERE position = $1", 9) is None
    finally:
        await reads.close()


async def test_the_pool_opens_on_first_use_and_closes_its_connections(stack) -> None:
    _, projector, url = stack
    reads = ReadPool(url, max_size=3)
    await asyncio.to_thread(projector.catch_up)
    assert reads._pool is None  # nothing opened before the first query
    await asyncio.gather(*(reads.fetchval("SELECT pg_sleep(0.05)") for _ in range(3)))
    assert reads._pool is not None and reads._pool.get_size() <= 3
    await reads.close()
    assert reads._pool is None
    await reads.close()  # twice is harmless


async def test_an_idle_connection_is_given_back(stack) -> None:
    _, _, url = stack
    reads = ReadPool(url, max_size=2, max_idle_seconds=0.2)
    try:
        await reads.fetchval("SELECT 1")
        assert reads._pool.get_idle_size() == 1

        async def released() -> bool:
            for _ in range(50):
                if reads._pool.get_idle_size() == 0:
                    return True
                await asyncio.sleep(0.1)
            return False

        assert await released()
    finally:
        await reads.close()


def test_a_pool_follows_its_caller_to_a_new_loop_once_the_old_one_is_closed(stack) -> None:
    _, _, url = stack
    reads = ReadPool(url, max_size=1)
    # asyncio.run twice: the first loop is closed when the second query comes.
    assert asyncio.run(reads.fetchval("SELECT 1")) == 1
    assert asyncio.run(reads.fetchval("SELECT 2")) == 2
    asyncio.run(reads.close())
    assert reads._pool is None


def test_one_statement_serves_both_drivers() -> None:
    assert numbered("SELECT a FROM t WHERE b = %s AND c = ANY(%s) LIMIT %s") == (
        "SELECT a FROM t WHERE b = $1 AND c = ANY($2) LIMIT $3"
    )
    sql = "SELECT a FROM t WHERE b = $1 OR c = $1 LIMIT $2"
    assert named(sql) == "SELECT a FROM t WHERE b = %(p1)s OR c = %(p1)s LIMIT %(p2)s"
    assert named_params(["x", 5]) == {"p1": "x", "p2": 5}
