"""Wakes a reader of a service's notification log (relay, projector) when a writer commits.

eventsourcing's PostgreSQL recorder sends `NOTIFY <channel>` in every transaction that
inserts stored events (the channel is the events table's name, `recorder.channel_name`:
`disclosure_events`); PostgreSQL delivers it when that transaction commits, to every
session LISTENing on the channel, whichever process wrote: the api's commands, a
consumer's effects, `prepare`. So no trigger is needed, and none is added.

`LogListener` LISTENs on a connection of its own (autocommit, outside any pool: it sits in
LISTEN all its life) and sets `woken` on each notification. The reader clears it before it
reads, so a commit that lands while it reads wakes it again at once. A notification can be
missed (the connection drops, the server restarts): the reader keeps polling, slowly
while the listener listens (`listen_poll_seconds`) and at its old pace while it does not,
so a missed one costs at most one slow poll, never a stall. The listener reconnects with
backoff for as long as it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from servicekit.isolation import short_error

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]

LISTEN_POLL_SECONDS = 1.0
"""The reader's poll while it listens: what a missed notification costs at most."""
RECEIVE_SECONDS = 5.0
"""How long one wait for notifications lasts before the connection is looked at again."""
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10}
"""A listener whose server vanished without a word (a half-open TCP connection) finds out
within about a minute, and reconnects."""


class LogListener:
    def __init__(
        self,
        channel: str,
        connect: Connect,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 30.0,
    ) -> None:
        self.channel = channel
        self.connect = connect
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.woken = asyncio.Event()
        self.listening = False
        """Whether the LISTEN is in place now (False: the reader polls at its old pace)."""
        self.settled = asyncio.Event()
        """Set once the first LISTEN succeeded or failed: a reader that waits for it before
        its first read misses no commit made after that read."""
        self.notifications = 0

    @classmethod
    def of(cls, recorder: object) -> LogListener | None:
        """The listener of an eventsourcing PostgreSQL recorder's log; None for any other
        recorder (in memory, SQLite, a test's fake): the reader then only polls."""
        channel = getattr(recorder, "channel_name", None)
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        kwargs = getattr(pool, "kwargs", None)
        if not isinstance(channel, str) or not isinstance(kwargs, dict):
            return None
        conninfo = str(getattr(pool, "conninfo", "") or "")
        password: Callable[[], str] | None = getattr(pool, "get_password_func", None)

        async def connect() -> psycopg.AsyncConnection[Any]:
            options = {k: v for k, v in kwargs.items() if k != "row_factory"}
            if password is not None:  # a rotating secret, asked at each connection
                options["password"] = password()
            return await psycopg.AsyncConnection.connect(
                make_conninfo(conninfo, **options, **KEEPALIVES), autocommit=True
            )

        return cls(channel, connect)

    def clear(self) -> None:
        """Called by the reader before it reads: what it reads then needs no wake-up."""
        self.woken.clear()

    async def wait(self, stop: asyncio.Event, seconds: float) -> bool:
        """Waits until woken, `stop` or `seconds`, whichever comes first; True if woken."""
        if self.woken.is_set() or stop.is_set():
            return self.woken.is_set()
        woken = asyncio.ensure_future(self.woken.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((woken, stopped), timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in (woken, stopped):
                waiter.cancel()
        return self.woken.is_set()

    async def run(self) -> None:
        """Listens until cancelled, reconnecting with backoff."""
        backoff = self.retry_seconds
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: poll meanwhile, listen again
                log.warning(
                    "log listener lost its connection; polling until it is back",
                    extra={
                        "channel": self.channel,
                        "error": short_error(error),
                        "retry_in_s": backoff,
                    },
                )
            finally:
                self.listening = False
                self.settled.set()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_retry_seconds)

    async def _listen(self) -> None:
        conn = await self.connect()
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.listening = True
            self.settled.set()
            # Whatever was committed while no LISTEN was in place: one look, now.
            self.woken.set()
            log.info("log listener listening", extra={"channel": self.channel})
            while True:
                async for _ in conn.notifies(timeout=RECEIVE_SECONDS):
                    self.notifications += 1
                    self.woken.set()
                if conn.closed:
                    raise psycopg.OperationalError("the listener's connection closed")

    async def start(self, settle_seconds: float = 5.0) -> asyncio.Task[None]:
        """Starts listening in a task, and waits (at most `settle_seconds`) for the first
        LISTEN to be in place or to fail."""
        task = asyncio.create_task(self.run(), name=f"listen:{self.channel}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled.wait(), timeout=settle_seconds)
        return task


async def stop_listening(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
