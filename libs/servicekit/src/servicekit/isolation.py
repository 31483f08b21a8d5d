"""Isolation instead of retry-forever: the parked events of a service's workers.

Every worker that moves events — the relay (log → Kafka), a projector (log → read model),
a consumer (Kafka → the application), the pusher (outbox → a receiver) — tells two kinds of
failure apart:

- **transient**: the database or the broker is away, a timeout, a lock or a concurrent
  writer (`is_transient`). Nothing is wrong with the event: the worker retries with backoff,
  for ever, and counts nothing against the event;
- **deterministic**: this one event cannot be decoded, translated, sent (too large) or
  applied, and would fail the same way on every retry. The worker *parks* it — a row of
  `parked_events` in the service's own database, with its error (short), its position or
  offset, its attempts and the time — and moves on.

Where order matters (a later event of the same aggregate, for the same worker), the later
events wait behind the parked one: each is parked too, "held behind" it, and applied only
when the operator re-drives the head (head first, then the held ones in order). Events of
other aggregates are never held. A worker reads, per batch, which of its aggregates are
blocked and which of the batch's events were parked before (one indexed query).

Attempt counts are durable (`worker_attempts`): an event that kills its process every time
(so no exception handler ever runs) still reaches the parked table. The workers recognise a
crash loop by where they start: a process that starts again and again at the same position
(`worker_starts`, one write per process start, nothing per event) works *carefully* from
there — each event's attempt counted in the database before it is tried — so the event
that kills it is parked once it has been tried `max_attempts` times.

psycopg only (and the error classes of the clients whose failures it classifies); it knows
no service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
import psycopg
from aiokafka import errors as kafka_errors
from eventsourcing import persistence as es
from psycopg import Cursor, sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from servicekit.errors import Conflict

log = logging.getLogger(__name__)

ERROR_LIMIT = 300
"""Characters of an error kept with a parked event: enough to read what broke, and never
more than a short prefix of whatever input the error message quotes."""

DDL_LOCK = "servicekit.isolation.ddl"

DDL = (
    """
    CREATE TABLE IF NOT EXISTS parked_events (
        id bigserial PRIMARY KEY,
        role text NOT NULL,
        worker text NOT NULL,
        event_key text NOT NULL,
        aggregate_id text,
        version bigint,
        position bigint,
        kafka_partition int,
        error text NOT NULL,
        attempts int NOT NULL,
        parked_at timestamptz NOT NULL DEFAULT now(),
        held_behind bigint REFERENCES parked_events (id),
        status text NOT NULL DEFAULT 'parked'
            CHECK (status IN ('parked', 'redriven', 'skipped', 'superseded')),
        resolved_at timestamptz,
        resolved_by text,
        reason text,
        body bytea,
        headers jsonb
    )
    """,
    # One open entry per event and worker; closed ones stay as the record of what was done.
    """
    CREATE UNIQUE INDEX IF NOT EXISTS parked_events_open
        ON parked_events (worker, event_key) WHERE status = 'parked'
    """,
    # The heads: what blocks an aggregate. Small, whatever the history holds.
    """
    CREATE INDEX IF NOT EXISTS parked_events_heads ON parked_events (worker, aggregate_id)
        WHERE status = 'parked' AND held_behind IS NULL
    """,
    """
    CREATE INDEX IF NOT EXISTS parked_events_held ON parked_events (held_behind)
        WHERE status = 'parked'
    """,
    """
    CREATE TABLE IF NOT EXISTS worker_attempts (
        worker text NOT NULL,
        event_key text NOT NULL,
        attempts int NOT NULL,
        last_error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (worker, event_key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS worker_starts (
        worker text NOT NULL,
        part text NOT NULL,
        position bigint NOT NULL,
        starts int NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (worker, part)
    )
    """,
)

TABLES = ("parked_events", "worker_attempts", "worker_starts")


class Role(StrEnum):
    relay = "relay"
    projector = "projector"
    consumer = "consumer"
    push = "push"


class Status(StrEnum):
    parked = "parked"
    redriven = "redriven"
    skipped = "skipped"
    superseded = "superseded"
    """Closed by a projection rebuild, which parked its own failures afresh."""


# -- what kind of failure ----------------------------------------------------------------

_TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    psycopg.OperationalError,  # connection lost, server shutting down, lock/statement timeout
    psycopg.InterfaceError,
    PoolTimeout,
    es.OperationalError,
    es.InterfaceError,
    Conflict,  # a concurrent writer changed the aggregate first: read again and retry
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NoBrokersAvailable,
    kafka_errors.NodeNotReadyError,
    httpx.TransportError,
)

RECORD_FAULTS: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.CorruptRecordException,
    kafka_errors.RecordTooLargeError,
    kafka_errors.InvalidTimestampError,
)
"""What the broker (or the producer, before sending) refuses about one record itself:
sending it again fails again. Anything else a send raises is about the broker or the
connection (authorization included: an operator fixes the ACL and the relay goes on)."""


def is_transient(error: BaseException) -> bool:
    """A failure that is not the event's fault (so it is retried, never counted): the error
    or any error it was raised from is one of the database's or broker's outages, a
    timeout, a concurrency conflict, or a Kafka error the client marks retriable. Only
    explicit causes (`raise ... from`) are followed: drivers wrap their errors that way,
    while an implicit context can be any error handled on the way."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RECORD_FAULTS):
            return False
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, kafka_errors.KafkaError) and getattr(current, "retriable", False):
            return True
        current = current.__cause__
    return False


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def short_error(error: BaseException | str, limit: int = ERROR_LIMIT) -> str:
    """An error as it is kept with a parked event: its type and a short prefix of its
    message, control characters replaced (it is shown in terminals and answers)."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    text = _CONTROL.sub("?", text)
    return text if len(text) <= limit else text[:limit] + "…"


# -- the parked table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An event a worker is about to park or hold: what identifies it and what re-drives it."""

    key: str
    """Stable per event and worker: a notification id, a CloudEvents id, a record id."""
    aggregate_id: str | None = None
    """None: the event holds nothing behind it (a malformed or forged record)."""
    version: int | None = None
    position: int | None = None
    """Notification id, or Kafka offset."""
    partition: int | None = None
    body: bytes | None = None
    headers: Any = None
    """JSON: a consumer's original headers, as [[name, base64 or null], ...]."""


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    role: str
    worker: str
    event_key: str
    aggregate_id: str | None
    version: int | None
    position: int | None
    partition: int | None
    error: str
    attempts: int
    parked_at: datetime
    held_behind: int | None
    status: str
    resolved_at: datetime | None
    resolved_by: str | None
    reason: str | None
    body: bytes | None = dataclasses.field(default=None, repr=False)
    headers: Any = dataclasses.field(default=None, repr=False)


_COLUMNS = (
    "id, role, worker, event_key, aggregate_id, version, position, kafka_partition,"
    " error, attempts, parked_at, held_behind, status, resolved_at, resolved_by,"
    " reason, body, headers"
)


def _row(row: Sequence[Any]) -> ParkedEvent:
    values = list(row)
    if values[16] is not None:
        values[16] = bytes(values[16])
    return ParkedEvent(*values)


@dataclass
class Known:
    """What the parked table says about one batch of a worker."""

    keys: dict[str, str] = dataclasses.field(default_factory=dict)
    """Event key → status, for the batch's events that are parked now."""
    heads: dict[str, int] = dataclasses.field(default_factory=dict)
    """Aggregate id → the parked entry that blocks it."""


@dataclass(frozen=True)
class ParkedCount:
    role: str
    worker: str
    heads: int
    held: int


class ParkedStore:
    """The durable tables of isolation, in the service's database. Methods that take a
    cursor run in the caller's transaction (a projector parks in its batch's transaction);
    with `cur=None` they use a connection of their own and commit."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @staticmethod
    def create_tables(cur: Cursor[Any]) -> None:
        """Creates the tables when missing; an advisory lock serialises processes starting
        together (CREATE ... IF NOT EXISTS of one object races otherwise)."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        for statement in DDL:
            cur.execute(statement)

    def ensure_tables(self) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            self.create_tables(cur)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor[Any]]:
        """A cursor in a transaction of its own, committed when the block ends."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextlib.contextmanager
    def _cursor(self, cur: Cursor[Any] | None) -> Iterator[Cursor[Any]]:
        if cur is not None:
            yield cur
            return
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as own:
            yield own

    # -- the workers' side -------------------------------------------------------------------

    def known(
        self,
        worker: str,
        keys: Sequence[str],
        aggregates: Sequence[str],
        cur: Cursor[Any] | None = None,
        *,
        lock: bool = False,
    ) -> Known:
        """The batch's events that are parked now (a redelivered copy of one is not tried
        again), and which of its aggregates are blocked. A closed entry (re-driven, skipped)
        blocks nothing: a copy published again after a fix is a new delivery, applied as
        any other (tracking recognises one that was applied already). `lock`: share-lock
        the blocking heads until the caller's transaction ends, so that a re-drive (which
        locks the head for update) cannot slip between this read and the caller's holding
        an event behind it."""
        known = Known()
        with self._cursor(cur) as c:
            c.execute(
                "SELECT event_key, aggregate_id, id, held_behind FROM parked_events"  # noqa: S608
                " WHERE worker = %(w)s AND status = 'parked' AND (event_key = ANY(%(keys)s)"
                " OR (held_behind IS NULL AND aggregate_id = ANY(%(aggs)s)))"
                + (" FOR SHARE" if lock else ""),
                {"w": worker, "keys": list(keys), "aggs": list(set(aggregates))},
            )
            wanted = set(keys)
            for key, aggregate_id, entry_id, held_behind in c.fetchall():
                if key in wanted:
                    known.keys[key] = Status.parked
                if held_behind is None and aggregate_id:
                    known.heads[aggregate_id] = entry_id
        return known

    def has_open(self, worker: str, cur: Cursor[Any] | None = None) -> bool:
        """Whether the worker has any parked entry open: when it has none (the usual
        case), a batch needs no look at its keys (one cheap indexed probe instead)."""
        with self._cursor(cur) as c:
            c.execute(
                "SELECT EXISTS (SELECT 1 FROM parked_events WHERE worker = %s"
                " AND status = 'parked')",
                (worker,),
            )
            row = c.fetchone()
        return bool(row and row[0])

    def park(
        self,
        role: Role,
        worker: str,
        event: Candidate,
        error: str,
        attempts: int,
        cur: Cursor[Any] | None = None,
    ) -> int:
        """Parks the event as a head (it blocks its aggregate, if it has one); returns the
        entry's id (the existing one when it was parked already)."""
        with self._cursor(cur) as c:
            entry = self._insert(c, role, worker, event, short_error(error), attempts, None)
        log.error(
            "event parked",
            extra={
                "worker": worker,
                "event_key": event.key[:200],
                "aggregate_id": event.aggregate_id,
                "parked_id": entry,
                "error": short_error(error),
            },
        )
        return entry

    def hold(
        self, role: Role, worker: str, head: int, event: Candidate, cur: Cursor[Any] | None = None
    ) -> int | None:
        """Parks the event behind `head` (an earlier event of its aggregate). None when the
        head is no longer parked (re-driven or skipped meanwhile): then the event is not
        held and the caller applies it."""
        with self._cursor(cur) as c:
            c.execute("SELECT status FROM parked_events WHERE id = %s FOR SHARE", (head,))
            row = c.fetchone()
            if row is None or row[0] != Status.parked:
                return None
            entry = self._insert(c, role, worker, event, f"held behind #{head}", 0, head)
        log.warning(
            "event held behind a parked one of its aggregate",
            extra={
                "worker": worker,
                "event_key": event.key[:200],
                "head": head,
                "parked_id": entry,
            },
        )
        return entry

    @staticmethod
    def _insert(
        cur: Cursor[Any],
        role: Role,
        worker: str,
        event: Candidate,
        error: str,
        attempts: int,
        head: int | None,
    ) -> int:
        cur.execute(
            "INSERT INTO parked_events (role, worker, event_key, aggregate_id, version,"
            " position, kafka_partition, error, attempts, held_behind, body, headers)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (worker, event_key) WHERE status = 'parked' DO NOTHING"
            " RETURNING id",
            (
                role.value,
                worker,
                event.key,
                event.aggregate_id,
                event.version,
                event.position,
                event.partition,
                error,
                attempts,
                head,
                event.body,
                None if event.headers is None else Jsonb(event.headers),
            ),
        )
        row = cur.fetchone()
        if row is not None:
            return int(row[0])
        cur.execute(
            "SELECT id FROM parked_events WHERE worker = %s AND event_key = %s"
            " AND status = 'parked'",
            (worker, event.key),
        )
        existing = cur.fetchone()
        assert existing is not None
        return int(existing[0])

    # -- durable attempts ----------------------------------------------------------------------

    def count_attempt(
        self, worker: str, key: str, error: str | None = None, cur: Cursor[Any] | None = None
    ) -> int:
        """One more attempt of the event, committed (before the attempt, in a crash loop;
        after a failure, otherwise); returns the count so far."""
        with self._cursor(cur) as c:
            c.execute(
                "INSERT INTO worker_attempts AS a (worker, event_key, attempts, last_error)"
                " VALUES (%s, %s, 1, %s) ON CONFLICT (worker, event_key) DO UPDATE"
                " SET attempts = a.attempts + 1,"
                " last_error = coalesce(EXCLUDED.last_error, a.last_error), updated_at = now()"
                " RETURNING attempts",
                (worker, key, None if error is None else short_error(error)),
            )
            row = c.fetchone()
        assert row is not None
        return int(row[0])

    def uncount_attempt(self, worker: str, key: str) -> None:
        """Takes back an attempt counted before a try that then failed transiently (the
        database went away): an outage is not the event's fault. Best effort."""
        with contextlib.suppress(Exception), self._cursor(None) as c:
            c.execute(
                "UPDATE worker_attempts SET attempts = greatest(attempts - 1, 0)"
                " WHERE worker = %s AND event_key = %s",
                (worker, key),
            )

    def attempts(self, worker: str, key: str) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT attempts FROM worker_attempts WHERE worker = %s AND event_key = %s",
                (worker, key),
            ).fetchone()
        return int(row[0]) if row else 0

    def forget_attempts(
        self, worker: str, keys: Sequence[str], cur: Cursor[Any] | None = None
    ) -> None:
        if not keys:
            return
        with self._cursor(cur) as c:
            c.execute(
                "DELETE FROM worker_attempts WHERE worker = %s AND event_key = ANY(%s)",
                (worker, list(keys)),
            )

    def note_start(self, worker: str, part: str, position: int) -> int:
        """Records that a process starts `worker`'s `part` (a partition, or the log) at
        `position`; returns how many starts in a row were at that same position. Two or
        more: the process before died there, so this one works carefully."""
        with self._cursor(None) as c:
            c.execute(
                "INSERT INTO worker_starts AS s (worker, part, position, starts)"
                " VALUES (%s, %s, %s, 1) ON CONFLICT (worker, part) DO UPDATE"
                " SET starts = CASE WHEN s.position = EXCLUDED.position THEN s.starts + 1"
                " ELSE 1 END, position = EXCLUDED.position, updated_at = now()"
                " RETURNING starts",
                (worker, part, position),
            )
            row = c.fetchone()
        assert row is not None
        return int(row[0])

    def migrate_tracking(
        self, consumers: Sequence[str], table: str = "notification_tracking"
    ) -> int:
        """Turns the consumers' tracking rows of the kind kept before each event had its own
        (`consumer|aggregate` → highest version applied) into one row per version up to it;
        returns how many old rows it replaced. Run at start, idempotent (a no-op once done).
        `table` is the application's tracking table (eventsourcing names it
        `<application>_tracking`: `tracking_table(recorder)`).
        Those old rows could not tell an event applied from one dead-lettered and passed
        over: every version up to the highest counts as applied, as it did then (never
        twice), so such an old event re-driven now is reported a duplicate."""
        replaced = 0
        with self._cursor(None) as c:
            name = sql.Identifier("public", _identifier(table))
            c.execute("SELECT to_regclass(%s)", (f"public.{table}",))
            row = c.fetchone()
            if row is None or row[0] is None:
                return 0
            for consumer in consumers:
                # eventsourcing keeps its tables in its schema, "public" unless
                # POSTGRES_SCHEMA says otherwise (servicekit's environment never does).
                c.execute(
                    sql.SQL(
                        "WITH legacy AS (DELETE FROM {table}"
                        " WHERE left(application_name, length(%(c)s) + 1) = %(c)s || '|'"
                        " AND position('|' IN substr(application_name, length(%(c)s) + 2)) = 0"
                        " RETURNING application_name, notification_id),"
                        " versions AS (INSERT INTO {table}"
                        " (application_name, notification_id)"
                        " SELECT legacy.application_name || '|' || v, 1"
                        " FROM legacy, generate_series(1, legacy.notification_id) AS v"
                        " ON CONFLICT (application_name) DO NOTHING RETURNING 1)"
                        " SELECT (SELECT count(*) FROM legacy), (SELECT count(*) FROM versions)"
                    ).format(table=name),
                    {"c": consumer},
                )
                counted = c.fetchone()
                if counted and counted[0]:
                    replaced += int(counted[0])
                    log.warning(
                        "per-aggregate tracking rows replaced by per-event rows",
                        extra={
                            "consumer": consumer,
                            "rows": int(counted[0]),
                            "events": int(counted[1]),
                        },
                    )
        return replaced

    # -- the operators' side -------------------------------------------------------------------

    def entries(
        self,
        *,
        role: str = "",
        worker: str = "",
        status: str = Status.parked,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[ParkedEvent]:
        clauses = ["id > %(after)s"]
        if role:
            clauses.append("role = %(role)s")
        if worker:
            clauses.append("worker = %(worker)s")
        if status:
            clauses.append("status = %(status)s")
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM parked_events WHERE "  # noqa: S608 (fixed clauses)
                + " AND ".join(clauses)
                + " ORDER BY id LIMIT %(limit)s",
                {
                    "after": after_id,
                    "role": role,
                    "worker": worker,
                    "status": status,
                    "limit": limit,
                },
            ).fetchall()
        return [_row(r) for r in rows]

    def get(
        self, entry_id: int, cur: Cursor[Any] | None = None, *, for_update: bool = False
    ) -> ParkedEvent | None:
        with self._cursor(cur) as c:
            c.execute(
                f"SELECT {_COLUMNS} FROM parked_events WHERE id = %s"  # noqa: S608
                + (" FOR UPDATE" if for_update else ""),
                (entry_id,),
            )
            row = c.fetchone()
        return None if row is None else _row(row)

    def held_behind(self, cur: Cursor[Any], head: int) -> list[ParkedEvent]:
        """The entries waiting behind `head`, in their aggregate's order, locked."""
        cur.execute(
            f"SELECT {_COLUMNS} FROM parked_events"  # noqa: S608 (fixed columns)
            " WHERE held_behind = %s AND status = 'parked'"
            " ORDER BY version NULLS LAST, position NULLS LAST, id FOR UPDATE",
            (head,),
        )
        return [_row(r) for r in cur.fetchall()]

    @staticmethod
    def close(
        cur: Cursor[Any], ids: Sequence[int], status: Status, by: str, reason: str = ""
    ) -> None:
        if ids:
            cur.execute(
                "UPDATE parked_events SET status = %s, resolved_at = now(), resolved_by = %s,"
                " reason = %s WHERE id = ANY(%s) AND status = 'parked'",
                (status.value, by, reason or None, list(ids)),
            )

    @staticmethod
    def promote(
        cur: Cursor[Any],
        new_head: ParkedEvent,
        rest: Sequence[ParkedEvent],
        error: str,
        attempts: int,
    ) -> None:
        """`new_head` now blocks its aggregate (it failed again, or the head it waited
        behind was skipped); the `rest` wait behind it."""
        cur.execute(
            "UPDATE parked_events SET held_behind = NULL, error = %s, attempts = %s WHERE id = %s",
            (short_error(error), attempts, new_head.id),
        )
        if rest:
            cur.execute(
                "UPDATE parked_events SET held_behind = %s WHERE id = ANY(%s)",
                (new_head.id, [e.id for e in rest]),
            )

    @staticmethod
    def record_failure(cur: Cursor[Any], entry: ParkedEvent, error: BaseException | str) -> None:
        cur.execute(
            "UPDATE parked_events SET error = %s, attempts = attempts + 1 WHERE id = %s",
            (short_error(error), entry.id),
        )

    def counts(self) -> list[ParkedCount]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT role, worker, count(*) FILTER (WHERE held_behind IS NULL),"
                " count(*) FILTER (WHERE held_behind IS NOT NULL) FROM parked_events"
                " WHERE status = 'parked' GROUP BY role, worker ORDER BY role, worker"
            ).fetchall()
        return [ParkedCount(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


class CrashGuard:
    """Tells a worker when to work carefully: the process before this one died at the
    position this one starts from (twice or more in a row), so the event that killed it
    is among the next ones. Then each event's attempt is counted in the database before it
    is tried (`before`), and one tried `max_attempts` times is parked instead of tried
    again. Careful mode ends once the worker is past `careful_until` (the end of the first
    batch it read after starting)."""

    def __init__(
        self, store: ParkedStore, worker: str, max_attempts: int, threshold: int = 2
    ) -> None:
        self.store = store
        self.worker = worker
        self.max_attempts = max_attempts
        self.threshold = threshold
        self._careful_until: dict[str, int] = {}
        self._started: set[str] = set()

    async def started(self, part: str, position: int, batch_end: int) -> bool:
        """Notes the first batch of `part` this process works on; whether to be careful."""
        if part not in self._started:
            self._started.add(part)
            starts = await asyncio.to_thread(self.store.note_start, self.worker, part, position)
            if starts >= self.threshold:
                log.warning(
                    "starting where the last process died: each event's attempts"
                    " are counted before it is tried",
                    extra={
                        "worker": self.worker,
                        "part": part,
                        "position": position,
                        "starts": starts,
                    },
                )
                self._careful_until[part] = batch_end
        return self.careful(part, position)

    def careful(self, part: str, position: int) -> bool:
        until = self._careful_until.get(part)
        if until is None:
            return False
        if position > until:
            del self._careful_until[part]
            return False
        return True

    def before(self, key: str) -> int:
        """Counts the attempt about to be made (committed first); returns the count."""
        return self.store.count_attempt(self.worker, key)

    def exhausted(self, attempts: int) -> bool:
        return attempts > self.max_attempts


def tracking_table(recorder: object) -> str:
    """The tracking table of an eventsourcing recorder (`<application>_tracking` on
    PostgreSQL); eventsourcing's default name for any other recorder."""
    return str(getattr(recorder, "tracking_table_name", "notification_tracking"))


def _identifier(name: str) -> str:
    """A table name put into SQL text: lower-case letters, digits and underscores only."""
    if not name or not all(c.islower() or c.isdigit() or c == "_" for c in name):
        raise ValueError(f"not a plain table name: {name[:64]!r}")
    return name
