"""Projections: a service's own notification log → read-model tables in its database.

The projector applies a batch of events and records its position in the same transaction,
so each event is applied exactly once, whatever crashes. Read models are eventually
consistent; a command that must see everything up to now calls `catch_up()` first. Idle,
it is woken by a commit to the log (LISTEN/NOTIFY, servicekit.wakeup), a slow poll kept.

A projection that implements `apply_batch` gets whole batches instead of one event at a
time, to fold each aggregate's events into its row and write rows in bulk (see
`Projection`); it may be given a decoder of only the fields it reads
(servicekit.stored_fields) instead of the mapper's.

One event the projection cannot apply (a value its table cannot hold, a record its feed
refuses) does not stop the projection: the batch is applied again one event at a time,
each in a savepoint, and the event that fails is parked (servicekit.isolation) in the
same transaction as the position, with its error; the later events of its aggregate are
held behind it, every other aggregate goes on. The database away is retried for ever.
The fast path is unchanged: a batch that applies cleanly costs one savepoint more.

An operator re-drives a parked event after a fix (`redrive`: the head, then the events held
behind it, in one transaction) or rebuilds the projection (`rebuild`: every event from
position 0 into fresh tables in a schema of their own, in batches of
`rebuild_batch_size`, the log read one batch ahead; then, under the projector's lock, the
tail, and the tables swapped in).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from eventsourcing.persistence import Notification, ProcessRecorder
from psycopg import Connection, Cursor, sql
from psycopg_pool import ConnectionPool

from servicekit.aio import wait_or_stop
from servicekit.isolation import (
    TABLES as ISOLATION_TABLES,
)
from servicekit.isolation import (
    Candidate,
    CrashGuard,
    Known,
    ParkedEvent,
    ParkedStore,
    Role,
    Status,
    is_transient,
    short_error,
)
from servicekit.log_reading import log_reader
from servicekit.push import TABLES as PUSH_TABLES
from servicekit.wakeup import LISTEN_POLL_SECONDS, LogListener, stop_listening

log = logging.getLogger(__name__)

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    "name text PRIMARY KEY, position bigint NOT NULL)"
)
SHARED_TABLES = frozenset({"projection_positions", *ISOLATION_TABLES, *PUSH_TABLES})
"""Tables a projection's `create_tables` may create that are not its own read model: a
rebuild neither rebuilds nor swaps them (the push outbox keeps what it has sent; a rebuilt
projection enqueues into it again, which is a no-op for every record already there)."""


class Projection(Protocol):
    """A read model kept from the log.

    A projection MAY also define `apply_batch(cur, events)`, `events` being the batch's
    decoded events with their positions, `(event, position)` in log order: the projector
    then hands it whole batches (hundreds of events live, thousands in a rebuild) instead
    of calling `apply` once per event, so it can fold each aggregate's events into the one
    row it keeps, and write the rows with one statement per table (`executemany`, COPY,
    `unnest`). Its effects must be those of `apply` on each event in turn: when a batch
    fails, the projector applies it again one event at a time with `apply`, to park the
    one that fails (`apply` stays required)."""

    name: str

    def create_tables(self, cur: Cursor[Any]) -> None: ...

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None: ...


BatchApply = Callable[[Cursor[Any], Sequence[tuple[Any, int]]], None]
"""`apply_batch(cur, [(event, position), ...])` of a projection that has one."""

REBUILD_BATCH_SIZE = 10_000
"""Events per transaction of a rebuild: a rebuild writes millions of rows into tables
nobody reads yet, so it takes big bites (each one transaction, its rows in a few
statements when the projection has `apply_batch`)."""


@dataclass(frozen=True)
class Applied:
    """What one batch did."""

    moved: int = 0
    parked: int = 0
    held: int = 0


@dataclass(frozen=True)
class RebuildReport:
    name: str
    applied: int
    """Notifications the rebuilt projection went through."""
    parked: int
    held: int
    position: int
    tables: tuple[str, ...]
    seconds: float


Progress = Callable[[int, int], None]
"""(position reached, head of the log when the rebuild started)."""


class Projector:
    def __init__(
        self,
        projection: Projection,
        recorder: ProcessRecorder,
        decode: Callable[[Notification], Any],
        pool: ConnectionPool,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.05,
        max_attempts: int = 5,
        rebuild_batch_size: int = REBUILD_BATCH_SIZE,
        listen: bool = True,
        listen_poll_seconds: float = LISTEN_POLL_SECONDS,
    ) -> None:
        self.projection = projection
        self.recorder = recorder
        self.decode = decode
        self.pool = pool
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.listen = listen
        """Woken by the log's LISTEN/NOTIFY when it is PostgreSQL's (servicekit.wakeup)."""
        self.listen_poll_seconds = listen_poll_seconds
        self.listener: LogListener | None = None
        apply_batch = getattr(projection, "apply_batch", None)
        self.apply_batch: BatchApply | None = apply_batch if callable(apply_batch) else None
        self.worker = f"projection:{projection.name}"
        self.store = ParkedStore(pool)
        self.guard = CrashGuard(self.store, self.worker, max_attempts)
        self.parked = 0
        self.held = 0
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            ParkedStore.create_tables(cur)
            cur.execute(POSITIONS_DDL)
            projection.create_tables(cur)

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM projection_positions WHERE name = %s",
                (self.projection.name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def run_once(self, careful: bool = False) -> int:
        """Applies one batch; returns how many notifications it moved past. `careful`: one
        event, its attempt counted (committed) before it is tried (a crash loop)."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            start, parked = self._lock_position(cur)
            notifications: Sequence[Notification] = self.recorder.select_notifications(
                start, 1 if careful else self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return 0
            if careful:
                done = self._careful(conn, cur, notifications[0])
            else:
                done = self._project(conn, cur, notifications, self.worker, parked)
            cur.execute(
                "UPDATE projection_positions SET position = %s WHERE name = %s",
                (notifications[-1].id, self.projection.name),
            )
        self.parked += done.parked
        self.held += done.held
        return done.moved

    def _lock_position(self, cur: Cursor[Any]) -> tuple[int, bool]:
        """The position, locked, and whether the projection has parked entries open (in the
        same round trip: the common batch then looks at nothing more)."""
        # Row lock: two projectors on one database take turns instead of racing (and so
        # none parks while another's batch reads what is parked).
        cur.execute(
            "INSERT INTO projection_positions (name, position) VALUES (%s, 0) "
            "ON CONFLICT (name) DO NOTHING",
            (self.projection.name,),
        )
        cur.execute(
            "SELECT position, EXISTS (SELECT 1 FROM parked_events WHERE worker = %s"
            " AND status = 'parked') FROM projection_positions WHERE name = %s FOR UPDATE",
            (self.worker, self.projection.name),
        )
        row = cur.fetchone()
        return (int(row[0]), bool(row[1])) if row else (0, False)

    def _project(
        self,
        conn: Connection[Any],
        cur: Cursor[Any],
        notifications: Sequence[Notification],
        worker: str,
        parked: bool = True,
        decoded: Mapping[int, Any] | None = None,
    ) -> Applied:
        """Applies the batch: all at once in a savepoint; if one event fails for its own
        reasons, again one event per savepoint, parking the ones that fail. `parked`:
        whether the worker has entries open (False: nothing to look up). `decoded`: events
        decoded beforehand, by position (the others are decoded here)."""
        known = Known()
        if parked:
            known = self.store.known(
                worker,
                [str(n.id) for n in notifications],
                [str(n.originator_id) for n in notifications],
                cur,
                lock=True,
            )
        try:
            with conn.transaction():
                return self._apply_all(
                    conn, cur, notifications, worker, _copy(known), isolate=False, decoded=decoded
                )
        except Exception as error:
            if is_transient(error):
                raise
            log.warning(
                "a projection batch failed; applying it one event at a time",
                extra={"projection": self.projection.name, "error": short_error(error)},
            )
        return self._apply_all(conn, cur, notifications, worker, known, isolate=True)

    def _apply_all(
        self,
        conn: Connection[Any],
        cur: Cursor[Any],
        notifications: Sequence[Notification],
        worker: str,
        known: Known,
        *,
        isolate: bool,
        decoded: Mapping[int, Any] | None = None,
    ) -> Applied:
        if not isolate and not known.keys and not known.heads:
            # Nothing parked, nothing to isolate: every event of the batch, in order.
            self._apply_in_order(cur, notifications, decoded)
            return Applied(len(notifications))
        parked = held = 0
        selected: list[Notification] = []
        for notification in notifications:
            key = str(notification.id)
            aggregate = str(notification.originator_id)
            if key in known.keys:
                continue  # parked before (a rebuild's catch-up, a retried batch)
            head = known.heads.get(aggregate)
            if head is not None:
                if (
                    self.store.hold(Role.projector, worker, head, _candidate(notification), cur)
                    is not None
                ):
                    held += 1
                    continue
                del known.heads[aggregate]
            if not isolate:
                selected.append(notification)
                continue
            try:
                with conn.transaction():
                    self.projection.apply(cur, self.decode(notification), notification.id)
            except Exception as error:
                if is_transient(error):
                    raise
                known.heads[aggregate] = self.store.park(
                    Role.projector,
                    worker,
                    _candidate(notification),
                    f"cannot apply: {short_error(error)}",
                    1,
                    cur,
                )
                known.keys[key] = Status.parked
                parked += 1
        if selected:
            self._apply_in_order(cur, selected, decoded)
        return Applied(len(notifications), parked, held)

    def _apply_in_order(
        self,
        cur: Cursor[Any],
        notifications: Sequence[Notification],
        decoded: Mapping[int, Any] | None = None,
    ) -> None:
        """The events, decoded, through `apply_batch` when the projection has one, else
        `apply` one after the other. A failure raises: the caller isolates."""
        ready = decoded or {}
        events = [(ready[n.id] if n.id in ready else self.decode(n), n.id) for n in notifications]
        if self.apply_batch is not None:
            self.apply_batch(cur, events)
            return
        for event, position in events:
            self.projection.apply(cur, event, position)

    def _decoded(self, notifications: Sequence[Notification]) -> dict[int, Any]:
        """The batch decoded ahead of its transaction (a rebuild's next batch, while the
        one before is written). One that does not decode is left out: decoded again in
        the transaction, its failure is isolated and parked there."""
        decoded: dict[int, Any] = {}
        for notification in notifications:
            try:
                decoded[notification.id] = self.decode(notification)
            except Exception:  # noqa: S112 (met again, and parked, in its transaction)
                continue
        return decoded

    def _careful(
        self, conn: Connection[Any], cur: Cursor[Any], notification: Notification
    ) -> Applied:
        key = str(notification.id)
        attempts = self.guard.before(key)
        if self.guard.exhausted(attempts):
            known = self.store.known(
                self.worker, [key], [str(notification.originator_id)], cur, lock=True
            )
            if key not in known.keys:
                self.store.park(
                    Role.projector,
                    self.worker,
                    _candidate(notification),
                    f"the projector died applying it {attempts - 1} times",
                    attempts - 1,
                    cur,
                )
            return Applied(1, 1, 0)
        try:
            done = self._project(conn, cur, [notification], self.worker)
        except Exception:
            # Not the event's fault (its own failures are parked, never raised): the attempt
            # counted before it is taken back, or an outage would park it.
            self.store.uncount_attempt(self.worker, key)
            raise
        self.store.forget_attempts(self.worker, [key], cur)
        return done

    def catch_up(self) -> int:
        """Applies everything recorded so far (for commands that need a complete view)."""
        target = self.recorder.max_notification_id() or 0
        while self.position() < target:
            if self.run_once() == 0:
                break
        return target

    async def run(self, stop: asyncio.Event) -> None:
        """Projects until `stop` is set. Idle, it waits for the log's notification
        (servicekit.wakeup), polling every `listen_poll_seconds` in case one was missed, or
        every `idle_poll_seconds` while it cannot listen."""
        listener = LogListener.of(self.recorder) if self.listen else None
        self.listener = listener
        listening = await listener.start() if listener is not None else None
        try:
            await self._run(stop, listener)
        finally:
            await stop_listening(listening)

    async def _run(self, stop: asyncio.Event, listener: LogListener | None) -> None:
        log.info("projector started", extra={"projection": self.projection.name})
        backoff = 0.5
        guarded = False
        while not stop.is_set():
            if listener is not None:
                listener.clear()
            try:
                position = await asyncio.to_thread(self.position)
                if not guarded:
                    end = await asyncio.to_thread(self._batch_end, position)
                    careful = await self.guard.started("log", position, end)
                    guarded = True
                else:
                    careful = self.guard.careful("log", position)
                moved = await asyncio.to_thread(self.run_once, careful)
                backoff = 0.5
            except Exception as error:  # database away: retry, never skip
                log.warning(
                    "projection batch failed; will retry",
                    extra={"projection": self.projection.name, "error": short_error(error)},
                )
                await wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if moved == 0:
                if listener is not None and listener.listening:
                    await listener.wait(stop, self.listen_poll_seconds)
                else:
                    await wait_or_stop(stop, self.idle_poll_seconds)
        log.info("projector stopped", extra={"projection": self.projection.name})

    def _batch_end(self, position: int) -> int:
        batch = self.recorder.select_notifications(
            position, self.batch_size, inclusive_of_start=False
        )
        return batch[-1].id if batch else position

    # -- operators ---------------------------------------------------------------------------

    def workers(self) -> list[str]:
        return [self.worker]

    role = Role.projector

    def redrive(self, cur: Cursor[Any], chain: Sequence[ParkedEvent]) -> tuple[int, str | None]:
        """Applies the chain's events in order, each in a savepoint of the operator's
        transaction (which also closes their entries: all of it commits together)."""
        for index, entry in enumerate(chain):
            try:
                with cur.connection.transaction():
                    assert entry.position is not None
                    [notification] = self.recorder.select_notifications(entry.position, 1)
                    if notification.id != entry.position:
                        raise LookupError(f"notification {entry.position} is not in the log")
                    self.projection.apply(cur, self.decode(notification), notification.id)
            except Exception as error:
                if is_transient(error):
                    raise
                return index, short_error(error)
        return len(chain), None

    def rebuild(self, progress: Progress | None = None) -> RebuildReport:
        """Projects the whole log from position 0 into fresh tables, then swaps them in.

        The replay runs beside the live projector (in a schema of its own, found first on
        the search path, so the projection's SQL is unchanged); the swap takes the live
        projector's lock, applies what came since, moves the old tables out and the new
        ones in, sets the position and replaces the projection's parked events by the ones
        the rebuild parked, in one transaction. Readers see the old tables until the commit
        and the new ones after it."""
        started = time.monotonic()
        tag = uuid.uuid4().hex[:10]
        schema = f"rebuild_{tag}"
        worker = f"{self.worker}@{schema}"
        head = self.recorder.max_notification_id() or 0
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT current_schema()")
            row = cur.fetchone()
            live = str(row[0]) if row and row[0] else "public"
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            self.projection.create_tables(cur)
            cur.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s ORDER BY 1",
                (schema,),
            )
            created = [str(r[0]) for r in cur.fetchall()]
            for shared in [t for t in created if t in SHARED_TABLES]:
                cur.execute(
                    sql.SQL("DROP TABLE {}.{} CASCADE").format(
                        sql.Identifier(schema), sql.Identifier(shared)
                    )
                )
        tables = tuple(t for t in created if t not in SHARED_TABLES)
        path = sql.SQL("SET LOCAL search_path TO {}, {}").format(
            sql.Identifier(schema), sql.Identifier(live)
        )
        total = Applied()
        position = 0
        try:
            total, position = self._replay(path, worker, head, progress)
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                self._lock_position(cur)
                cur.execute(path)
                while True:
                    done, position = self._rebuild_batch(
                        conn, cur, position, worker, total.parked > 0
                    )
                    total = _add(total, done)
                    if done.moved == 0:
                        break
                self._swap(cur, schema, live, tables, position, worker)
        except BaseException:
            with self.pool.connection() as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
            raise
        report = RebuildReport(
            self.projection.name,
            total.moved,
            total.parked,
            total.held,
            position,
            tables,
            round(time.monotonic() - started, 3),
        )
        log.info(
            "projection rebuilt",
            extra={
                "projection": self.projection.name,
                "events": report.applied,
                "parked": report.parked,
                "position": report.position,
                "seconds": report.seconds,
            },
        )
        return report

    def _replay(
        self, path: sql.Composed, worker: str, head: int, progress: Progress | None
    ) -> tuple[Applied, int]:
        """A rebuild's first part: the whole log into the fresh tables, three batches at
        once — the next read (a thread), this one decoded (here), the one before written
        (a thread: mostly waiting on PostgreSQL, as the read is). Batches are written one
        after the other, in log order, each in its own transaction."""
        total = Applied()
        position = written = 0
        parked = [0]  # events parked so far, counted by the writer batch after batch

        def write(batch: Sequence[Notification], decoded: Mapping[int, Any]) -> Applied:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                cur.execute(path)
                # Tables nobody reads until the swap: a batch lost to a crash of the
                # server fails the rebuild (its connections die with it), and the swap's
                # own commit is durable with everything before it.
                cur.execute("SET LOCAL synchronous_commit = off")
                done = self._project(conn, cur, batch, worker, parked[0] > 0, decoded)
            parked[0] += done.parked
            return done

        with (
            _fewer_collections(),
            _ReadAhead(self.recorder, self.rebuild_batch_size) as log_reader,
            ThreadPoolExecutor(1, thread_name_prefix="projector-rebuild-write") as writer,
        ):
            pending: tuple[Future[Applied], int] | None = None
            while True:
                batch = log_reader.after(position)
                decoded = self._decoded(batch)
                if pending is not None:
                    total = _add(total, pending[0].result())
                    written = pending[1]
                    if progress is not None:
                        progress(written, head)
                if not batch:
                    return total, written
                position = batch[-1].id
                pending = (writer.submit(write, batch, decoded), position)

    def _rebuild_batch(
        self,
        conn: Connection[Any],
        cur: Cursor[Any],
        position: int,
        worker: str,
        parked: bool,
    ) -> tuple[Applied, int]:
        """One batch of a rebuild's tail. `parked`: whether this rebuild parked any event
        yet (its worker is its own: until it parks one there is nothing to look up)."""
        notifications = self.recorder.select_notifications(
            position, self.rebuild_batch_size, inclusive_of_start=False
        )
        if not notifications:
            return Applied(), position
        return self._project(conn, cur, notifications, worker, parked), notifications[-1].id

    def _swap(
        self,
        cur: Cursor[Any],
        schema: str,
        live: str,
        tables: Sequence[str],
        position: int,
        worker: str,
    ) -> None:
        retired = f"retired_{schema.removeprefix('rebuild_')}"
        cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(live)))
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(retired)))
        for table in tables:
            cur.execute("SELECT to_regclass(%s)", (f"{live}.{table}",))
            row = cur.fetchone()
            if row is not None and row[0] is not None:
                cur.execute(
                    sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                        sql.Identifier(live), sql.Identifier(table), sql.Identifier(retired)
                    )
                )
            cur.execute(
                sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                    sql.Identifier(schema), sql.Identifier(table), sql.Identifier(live)
                )
            )
        cur.execute(
            "UPDATE projection_positions SET position = %s WHERE name = %s",
            (position, self.projection.name),
        )
        cur.execute(
            "UPDATE parked_events SET status = 'superseded', resolved_at = now(),"
            " resolved_by = 'rebuild', reason = 'the projection was rebuilt'"
            " WHERE worker = %s AND status = 'parked'",
            (self.worker,),
        )
        cur.execute("UPDATE parked_events SET worker = %s WHERE worker = %s", (self.worker, worker))
        cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(retired)))
        cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


class _ReadAhead:
    """Reads the log one batch ahead of the rebuild, in a thread of its own: while a batch
    is decoded and written, PostgreSQL is already sending the next."""

    def __init__(self, recorder: ProcessRecorder, limit: int) -> None:
        self._read = log_reader(recorder, limit)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="projector-read-ahead")
        self._ahead: tuple[int, Future[list[Notification]]] | None = None

    def after(self, position: int) -> Sequence[Notification]:
        """The batch after `position`; the one after it is then read meanwhile."""
        if self._ahead is not None and self._ahead[0] == position:
            batch = self._ahead[1].result()
        else:
            batch = self._read(position)
        self._ahead = None
        if batch:
            last = batch[-1].id
            self._ahead = (last, self._executor.submit(self._read, last))
        return batch

    def __enter__(self) -> _ReadAhead:
        return self

    def __exit__(self, *_: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


REBUILD_GC_THRESHOLD = (100_000, 20, 100)
"""The cyclic collector's thresholds while a rebuild replays the log (gc.set_threshold)."""


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A rebuild allocates millions of short-lived objects while three batches of them
    (tens of thousands) stay alive; at the default thresholds (700, 10, 10) the collector's
    full passes, each scanning every live object of the process, took half of its time
    (measured: 18 → 9.5 µs of this process per event). Raised while it runs, for the whole
    process (collections are only postponed: garbage is still collected), then restored."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(before, REBUILD_GC_THRESHOLD, strict=False)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _candidate(notification: Notification) -> Candidate:
    return Candidate(
        key=str(notification.id),
        aggregate_id=str(notification.originator_id),
        version=notification.originator_version,
        position=notification.id,
    )


def _copy(known: Known) -> Known:
    return Known(dict(known.keys), dict(known.heads))


def _add(total: Applied, done: Applied) -> Applied:
    return replace(
        total,
        moved=total.moved + done.moved,
        parked=total.parked + done.parked,
        held=total.held + done.held,
    )
