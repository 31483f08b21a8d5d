"""The read side of the async gRPC path on asyncpg (issue 14, goal 7; docs/adr/0021).

A query answered by the gRPC servicer reads its read model through a `ReadPool`: asyncpg
on the servicer's own event loop, no thread hop. The event store stays on eventsourcing's
recorder (psycopg) and so do the projector's writes; the read side only reads.

Read-your-writes: a read model is kept by the projector, which may not have applied the
caller's last command yet. `ReadPool.current(projector)` asks, in one round trip, whether
the projection's position has reached the log's last notification; only when it has not
does it run the projector's `catch_up` (psycopg, in a thread) before the query reads.

The pool starts empty, holds at most `read_pool_max` connections and closes one unused for
`db_pool_max_idle_seconds` (the connection budget, docs/adr/0020). It is opened lazily, on
the first query, inside the loop that runs it; `close()` is awaited by the runtime.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

if TYPE_CHECKING:
    from servicekit.projector import Projector

Row = Mapping[str, Any]


# -- one statement for both drivers ---------------------------------------------------------
# A read model's SELECT that a query (asyncpg) and a command or sweep (psycopg, in a thread)
# both run is written once, in either driver's placeholders, and converted here.

_POSITIONAL = "%s"
_NUMBERED = re.compile(r"\$(\d+)")


@lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """psycopg's positional placeholders (`%s`, in order) as asyncpg's (`$1`, `$2`, ...).
    The statement must hold no literal `%s`."""
    first, *rest = sql.split(_POSITIONAL)
    return first + "".join(f"${n}{part}" for n, part in enumerate(rest, start=1))


@lru_cache(maxsize=256)
def named(sql: str) -> str:
    """asyncpg's placeholders (`$2`) as psycopg's named ones (`%(p2)s`), so a parameter a
    statement uses twice is passed once, as with asyncpg; pass `named_params(args)`."""
    return _NUMBERED.sub(r"%(p\1)s", sql)


def named_params(args: Sequence[Any]) -> dict[str, Any]:
    """The arguments of a statement converted by `named`."""
    return {f"p{n}": value for n, value in enumerate(args, start=1)}


class ReadPool:
    """An asyncpg pool for a service's read models, opened on first use."""

    def __init__(self, dsn: str, max_size: int = 4, max_idle_seconds: float = 10.0) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.max_idle_seconds = max_idle_seconds
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._log_end: dict[tuple[str, str], str] = {}

    async def _get(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        if self._pool is not None:
            # A pool is bound to the loop that opened it (tests run one loop per test).
            self._abandon()
        if self._opening is None or self._loop is not loop:
            self._opening = asyncio.Lock()
            self._loop = loop
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=0,
                    max_size=self.max_size,
                    max_inactive_connection_lifetime=self.max_idle_seconds,
                )
        return self._pool

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        pool = await self._get()
        rows: list[Row] = await pool.fetch(sql, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        pool = await self._get()
        row: Row | None = await pool.fetchrow(sql, *args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        pool = await self._get()
        return await pool.fetchval(sql, *args)

    async def current(self, projector: Projector) -> int:
        """Makes the projector's read model current (read-your-writes) and returns the
        log position it has reached. One query when it is (the usual case); otherwise
        the projector catches up in a thread first."""
        at, end = await self._positions(projector)
        if at < end:
            return await asyncio.to_thread(projector.catch_up)
        return at

    async def _positions(self, projector: Projector) -> tuple[int, int]:
        row = await self.fetchrow(
            "SELECT (SELECT position FROM projection_positions WHERE name = $1) AS at, "  # noqa: S608 (quoted names)
            f"({self._max_notification_sql(projector)}) AS end_",
            projector.name,
        )
        assert row is not None  # a SELECT of two scalar subqueries always returns a row
        return int(row["at"] or 0), int(row["end_"] or 0)

    def _max_notification_sql(self, projector: Projector) -> str:
        recorder: Any = projector.recorder
        schema = str(getattr(getattr(recorder, "datastore", None), "schema", "public"))
        table = str(recorder.events_table_name)
        key = (schema, table)
        if key not in self._log_end:
            self._log_end[key] = (
                f"SELECT max(notification_id) FROM {_identifier(schema)}.{_identifier(table)}"  # noqa: S608
            )
        return self._log_end[key]

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._loop is asyncio.get_running_loop():
            await pool.close()
        else:
            self._pool = pool
            self._abandon()

    def _abandon(self) -> None:
        """Drops a pool opened on another loop: terminated while that loop still runs;
        once it is closed, its connections' transports went with it (terminating would
        raise "Event loop is closed")."""
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is not None and not self._loop.is_closed():
            pool.terminate()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
