"""In-memory stand-ins for what servicekit's workers talk to, so that the relay, the
projector, the consumer runner and the pusher are unit-tested without a broker or a
database.

- `InMemoryNotificationLog`: a service's notification log and tracking rows (the relay's
  and projector's `ProcessRecorder`), with gaps in its ids when a test asks for them.
- `FakeProducer`: the relay's Kafka producer; what it was given, acks that fail on demand.
- `InMemoryParkedStore`: `servicekit.isolation.ParkedStore` on dictionaries. A write given
  a cursor of a `FakeDatabase` belongs to that cursor's transaction (undone with it);
  without one it commits at once, as the real store's own connection does.
- `FakeDatabase` / `FakePool`: just enough of PostgreSQL for the projector's positions and
  the push tables, with transactions and savepoints that undo what they wrote. The workers
  speak SQL to their pool, so the fake recognises their statements by their text and
  refuses any other loudly: a statement changed in servicekit shows up here as a failing
  test, never as a fake that silently does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaTimeoutError
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from servicekit.isolation import Candidate, Known, ParkedEvent, ParkedStore, Role, Status

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# -- the notification log ------------------------------------------------------------------


class InMemoryNotificationLog:
    """The recorder a relay or projector reads: notifications in id order, tracking rows
    that only move forward (eventsourcing's own rule: IntegrityError otherwise)."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self.tracking: dict[str, int] = {}
        self.reads: list[tuple[int | None, int, bool]] = []
        """(start, limit, inclusive_of_start) of every select_notifications."""

    def append(
        self,
        aggregate: uuid.UUID,
        version: int,
        state: bytes,
        *,
        topic: str = "sample.domain:Thing.Happened",
        notification_id: int | None = None,
    ) -> Notification:
        """Adds a notification; `notification_id` leaves a gap (ids follow commit order,
        and a transaction that rolled back leaves its ids unused)."""
        last = self.notifications[-1].id if self.notifications else 0
        given = last + 1 if notification_id is None else notification_id
        assert given > last, "ids only grow"
        notification = Notification(
            originator_id=aggregate,
            originator_version=version,
            topic=topic,
            state=state,
            id=given,
        )
        self.notifications.append(notification)
        return notification

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        self.reads.append((start, limit, inclusive_of_start))
        first = start or 0
        chosen = [
            n
            for n in self.notifications
            if (n.id >= first if inclusive_of_start else n.id > first)
            and (stop is None or n.id <= stop)
            and (not topics or n.topic in topics)
        ]
        return chosen[:limit]

    def max_notification_id(self) -> int | None:
        return self.notifications[-1].id if self.notifications else None

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.tracking.get(application_name)

    def insert_tracking(self, tracking: Tracking) -> None:
        current = self.tracking.get(tracking.application_name)
        if current is not None and current >= tracking.notification_id:
            raise IntegrityError(f"tracking {tracking.notification_id} not greater than {current}")
        self.tracking[tracking.application_name] = tracking.notification_id


# -- the producer --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class FakeProducer:
    """An AIOKafkaProducer as the relay uses it: `send` queues and hands back the ack's
    future. `refuse[value]` raises from `send` itself (the producer's own checks);
    `fail_ack[value]` fails that record's ack (the broker's answer). Each is used once.
    `away`: how many of the next records' acks time out (the broker unreachable)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        """Every record handed over, in order (acked or not)."""
        self.refuse: dict[bytes, BaseException] = {}
        self.fail_ack: dict[bytes, BaseException] = {}
        self.away = 0
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        refused = self.refuse.pop(value, None)
        if refused is not None:
            raise refused
        self.sent.append(Sent(topic, key, value, list(headers or [])))
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        failure = self.fail_ack.pop(value, None)
        if failure is None and self.away > 0:
            self.away -= 1
            failure = KafkaTimeoutError()
        if failure is None:
            ack.set_result(len(self.sent))
        else:
            ack.set_exception(failure)
        return ack

    def values(self) -> list[bytes]:
        return [s.value for s in self.sent]


# -- the parked table ----------------------------------------------------------------------


class InMemoryParkedStore(ParkedStore):
    """`ParkedStore` on dictionaries (the methods the workers call, and what an operator's
    re-drive or skip does to an entry)."""

    def __init__(self) -> None:  # no pool: nothing here reaches a database
        self.rows: dict[int, ParkedEvent] = {}
        self.attempt_counts: dict[tuple[str, str], int] = {}
        self.starts: dict[tuple[str, str], tuple[int, int]] = {}
        self._ids = itertools.count(1)

    # Writes made with a FakeDatabase cursor are part of its transaction.
    @staticmethod
    def _write(cur: Any, do: Callable[[], Any], undo: Callable[[], None]) -> Any:
        done = do()
        if isinstance(cur, FakeCursor):
            cur.connection.db.on_rollback(undo)
        return done

    def _open(self, worker: str) -> list[ParkedEvent]:
        return [e for e in self.rows.values() if e.worker == worker and e.status == Status.parked]

    def has_open(self, worker: str, cur: Any = None) -> bool:
        return bool(self._open(worker))

    def known(
        self,
        worker: str,
        keys: Sequence[str],
        aggregates: Sequence[str],
        cur: Any = None,
        *,
        lock: bool = False,
    ) -> Known:
        known = Known()
        wanted, blocked = set(keys), set(aggregates)
        for entry in self._open(worker):
            is_head = entry.held_behind is None
            if entry.event_key in wanted or (is_head and entry.aggregate_id in blocked):
                if entry.event_key in wanted:
                    known.keys[entry.event_key] = Status.parked
                if is_head and entry.aggregate_id:
                    known.heads[entry.aggregate_id] = entry.id
        return known

    def park(
        self,
        role: Role,
        worker: str,
        event: Candidate,
        error: str,
        attempts: int,
        cur: Any = None,
    ) -> int:
        return self._insert_entry(cur, role, worker, event, error, attempts, None)

    def hold(
        self, role: Role, worker: str, head: int, event: Candidate, cur: Any = None
    ) -> int | None:
        found = self.rows.get(head)
        if found is None or found.status != Status.parked:
            return None
        return self._insert_entry(cur, role, worker, event, f"held behind #{head}", 0, head)

    def _insert_entry(
        self,
        cur: Any,
        role: Role,
        worker: str,
        event: Candidate,
        error: str,
        attempts: int,
        head: int | None,
    ) -> int:
        for entry in self._open(worker):
            if entry.event_key == event.key:
                return entry.id  # ON CONFLICT DO NOTHING: the open entry stands
        entry = ParkedEvent(
            id=next(self._ids),
            role=role.value,
            worker=worker,
            event_key=event.key,
            aggregate_id=event.aggregate_id,
            version=event.version,
            position=event.position,
            partition=event.partition,
            error=error,
            attempts=attempts,
            parked_at=EPOCH,
            held_behind=head,
            status=Status.parked,
            resolved_at=None,
            resolved_by=None,
            reason=None,
            body=event.body,
            headers=copy.deepcopy(event.headers),
        )

        def insert() -> int:
            self.rows[entry.id] = entry
            return entry.id

        def remove() -> None:
            self.rows.pop(entry.id, None)

        return int(self._write(cur, insert, remove))

    def count_attempt(
        self, worker: str, key: str, error: str | None = None, cur: Any = None
    ) -> int:
        before = self.attempt_counts.get((worker, key))

        def count() -> int:
            self.attempt_counts[(worker, key)] = (before or 0) + 1
            return (before or 0) + 1

        return int(self._write(cur, count, lambda: self._restore(worker, key, before)))

    def _restore(self, worker: str, key: str, before: int | None) -> None:
        if before is None:
            self.attempt_counts.pop((worker, key), None)
        else:
            self.attempt_counts[(worker, key)] = before

    def uncount_attempt(self, worker: str, key: str) -> None:
        if (worker, key) in self.attempt_counts:
            self.attempt_counts[(worker, key)] = max(self.attempt_counts[(worker, key)] - 1, 0)

    def attempts(self, worker: str, key: str) -> int:
        return self.attempt_counts.get((worker, key), 0)

    def forget_attempts(self, worker: str, keys: Sequence[str], cur: Any = None) -> None:
        removed = {
            k: self.attempt_counts[(worker, k)] for k in keys if (worker, k) in self.attempt_counts
        }

        def forget() -> None:
            for key in removed:
                del self.attempt_counts[(worker, key)]

        def restore() -> None:
            for key, count in removed.items():
                self.attempt_counts[(worker, key)] = count

        self._write(cur, forget, restore)

    def note_start(self, worker: str, part: str, position: int) -> int:
        last_position, starts = self.starts.get((worker, part), (None, 0))
        starts = starts + 1 if last_position == position else 1
        self.starts[(worker, part)] = (position, starts)
        return starts

    # -- what an operator does, and what the tests read -----------------------------------

    def close_ids(self, cur: Any, ids: Sequence[int], status: str, by: str, reason: str) -> None:
        before = {
            i: self.rows[i] for i in ids if i in self.rows and self.rows[i].status == Status.parked
        }

        def close() -> None:
            for entry_id, entry in before.items():
                self.rows[entry_id] = dataclasses.replace(
                    entry, status=status, resolved_at=EPOCH, resolved_by=by, reason=reason or None
                )

        def reopen() -> None:
            self.rows.update(before)

        self._write(cur, close, reopen)

    def redriven(self, entry_id: int) -> None:
        """An operator re-drove the entry (its event went through)."""
        self.close_ids(None, [entry_id], Status.redriven, "operator", "")

    def open_entries(self, worker: str) -> list[ParkedEvent]:
        return sorted(self._open(worker), key=lambda e: e.id)

    def heads(self, worker: str) -> list[ParkedEvent]:
        return [e for e in self.open_entries(worker) if e.held_behind is None]

    def held_by(self, head: int) -> list[ParkedEvent]:
        return [
            e for e in self.rows.values() if e.held_behind == head and e.status == Status.parked
        ]


# -- a database, as far as the workers' SQL goes --------------------------------------------


class UnknownStatement(AssertionError):
    """The fake does not know this statement: servicekit's SQL changed, teach the fake."""


class FakeDatabase:
    """Tables of the projector and the pusher, and the parked store, under transactions:
    everything written inside one is undone when it rolls back (savepoints included)."""

    def __init__(self, parked: InMemoryParkedStore | None = None) -> None:
        self.parked = parked or InMemoryParkedStore()
        self.positions: dict[str, int] = {}
        self.ledger: list[tuple[Any, ...]] = []
        """The sample projection's table: one row per event it applied."""
        self.push_records: dict[tuple[str, str], dict[str, Any]] = {}
        self.push_receipts: list[dict[str, Any]] = []
        self.statements: list[str] = []
        self.commits = 0
        self.fail_next: dict[str, BaseException] = {}
        """Statement prefix → error raised (once) instead of running it."""
        self._levels: list[list[Callable[[], None]]] = []

    def on_rollback(self, undo: Callable[[], None]) -> None:
        if self._levels:
            self._levels[-1].append(undo)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._levels.append([])
        try:
            yield
        except BaseException:
            for undo in reversed(self._levels.pop()):
                undo()
            raise
        done = self._levels.pop()
        if self._levels:
            self._levels[-1].extend(done)  # a savepoint released: its parent decides
        else:
            self.commits += 1

    @property
    def in_transaction(self) -> bool:
        return bool(self._levels)

    # -- statements ---------------------------------------------------------------------------

    def run(self, cur: FakeCursor, query: str, params: Any) -> None:
        text = " ".join(query.split())
        self.statements.append(text)
        for prefix in list(self.fail_next):
            if text.startswith(prefix):
                raise self.fail_next.pop(prefix)
        if text.startswith(("CREATE ", "ALTER TABLE ", "SELECT pg_advisory_xact_lock")):
            return
        for prefix, handler in self._handlers():
            if text.startswith(prefix):
                handler(cur, text, params)
                return
        raise UnknownStatement(text[:200])

    def _handlers(self) -> list[tuple[str, Callable[[FakeCursor, str, Any], None]]]:
        return [
            ("INSERT INTO projection_positions", self._position_row),
            ("SELECT position, EXISTS", self._locked_position),
            ("UPDATE projection_positions SET position", self._set_position),
            ("SELECT position FROM projection_positions", self._read_position),
            ("INSERT INTO ledger", self._ledger_insert),
            ("INSERT INTO push_records", self._push_insert),
            ("SELECT payload = %s FROM push_records", self._push_same_payload),
            ("WITH due AS", self._push_claim),
            ("INSERT INTO push_receipts", self._push_receipt),
            ("UPDATE push_records SET attempts = attempts - 1", self._push_release),
            ("UPDATE push_records SET status = 'pending', attempts = 0", self._push_requeue),
            ("UPDATE push_records SET", self._push_outcome),
            ("SELECT record_id FROM push_records", self._push_select_status),
            ("SELECT status, attempts, next_attempt_at", self._push_status),
            ("SELECT attempt, at, http_status", self._push_receipts),
            ("SELECT status, count(*) FROM push_records", self._push_counts),
            ("SELECT id FROM parked_events", self._parked_ids),
            ("UPDATE parked_events SET status = %s", self._parked_close),
        ]

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        missing = key not in table
        before = table.get(key)
        table[key] = value
        self.on_rollback(lambda: table.pop(key) if missing else table.__setitem__(key, before))

    def _position_row(self, cur: FakeCursor, text: str, params: Any) -> None:
        (name,) = params
        if name not in self.positions:
            self._set(self.positions, name, 0)

    def _locked_position(self, cur: FakeCursor, text: str, params: Any) -> None:
        worker, name = params
        if name in self.positions:
            cur.rows = [(self.positions[name], self.parked.has_open(worker))]

    def _set_position(self, cur: FakeCursor, text: str, params: Any) -> None:
        position, name = params
        if name in self.positions:
            self._set(self.positions, name, position)
            cur.rowcount = 1

    def _read_position(self, cur: FakeCursor, text: str, params: Any) -> None:
        (name,) = params
        cur.rows = [(self.positions[name],)] if name in self.positions else []

    def _ledger_insert(self, cur: FakeCursor, text: str, params: Any) -> None:
        row = tuple(params)
        self.ledger.append(row)
        self.on_rollback(lambda: self.ledger.remove(row))

    # push_records: the outbox

    def _push_insert(self, cur: FakeCursor, text: str, params: Any) -> None:
        feed, record_id, document, created_at, due = params
        if (feed, record_id) in self.push_records:
            return
        row = {
            "payload": copy.deepcopy(document.obj),
            "created_at": created_at,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": due,
            "last_error": None,
            "delivered_at": None,
        }
        self._set(self.push_records, (feed, record_id), row)
        cur.rows = [(1,)]

    def _push_same_payload(self, cur: FakeCursor, text: str, params: Any) -> None:
        document, feed, record_id = params
        row = self.push_records.get((feed, record_id))
        cur.rows = [] if row is None else [(row["payload"] == document.obj,)]

    def _update(self, key: tuple[str, str], **changes: Any) -> None:
        row = self.push_records[key]
        before = dict(row)
        row.update(changes)
        self.on_rollback(lambda: row.update(before))

    def _push_claim(self, cur: FakeCursor, text: str, params: Any) -> None:
        due = sorted(
            (
                (row["next_attempt_at"], row["attempts"], row["created_at"], key)
                for key, row in self.push_records.items()
                if key[0] == params["feed"]
                and row["status"] == "pending"
                and row["next_attempt_at"] <= params["now"]
            ),
        )[: params["limit"]]
        claimed = []
        for *_, key in due:
            row = self.push_records[key]
            self._update(key, attempts=row["attempts"] + 1, next_attempt_at=params["lease_until"])
            claimed.append((key[1], copy.deepcopy(row["payload"]), row["attempts"]))
        cur.rows = claimed

    def _push_receipt(self, cur: FakeCursor, text: str, params: Any) -> None:
        names = "feed record_id attempt at http_status error response_body receipt_id key_id"
        receipt = dict(zip(names.split(), params, strict=True))
        self.push_receipts.append(receipt)
        self.on_rollback(lambda: self.push_receipts.remove(receipt))

    def _push_outcome(self, cur: FakeCursor, text: str, params: Any) -> None:
        assert text.endswith("AND status = 'pending'"), text
        key = (params["feed"], params["record_id"])
        row = self.push_records.get(key)
        if row is None or row["status"] != "pending":
            return
        if "status = 'delivered'" in text:
            changes = {"status": "delivered", "delivered_at": params["now"], "last_error": None}
            changes["next_attempt_at"] = params["now"]
        elif "status = 'dead'" in text:
            changes = {"status": "dead", "last_error": params["error"]}
            changes["next_attempt_at"] = params["now"]
        elif text.startswith("UPDATE push_records SET last_error = %(error)s, next_attempt_at"):
            changes = {"last_error": params["error"], "next_attempt_at": params["retry_at"]}
        else:
            raise UnknownStatement(text[:200])
        self._update(key, **changes)
        cur.rowcount = 1

    def _push_release(self, cur: FakeCursor, text: str, params: Any) -> None:
        retry_at, feed, record_ids = params
        for record_id in record_ids:
            row = self.push_records.get((feed, record_id))
            if row is not None and row["status"] == "pending":
                self._update(
                    (feed, record_id), attempts=row["attempts"] - 1, next_attempt_at=retry_at
                )

    def _push_requeue(self, cur: FakeCursor, text: str, params: Any) -> None:
        now, feed, ids = params
        record_ids = ids if isinstance(ids, list) else [ids]
        found = [(feed, r) for r in record_ids if (feed, r) in self.push_records]
        for key in found:
            self._update(key, status="pending", attempts=0, next_attempt_at=now, delivered_at=None)
        cur.rowcount = len(found)

    def _push_select_status(self, cur: FakeCursor, text: str, params: Any) -> None:
        feed, status, since, _ = params
        chosen = sorted(
            (row["created_at"], key[1])
            for key, row in self.push_records.items()
            if key[0] == feed
            and row["status"] == status
            and (since is None or row["created_at"] >= since)
        )
        cur.rows = [(record_id,) for _, record_id in chosen]

    def _push_status(self, cur: FakeCursor, text: str, params: Any) -> None:
        row = self.push_records.get(tuple(params))
        names = ("status", "attempts", "next_attempt_at", "last_error", "delivered_at")
        cur.rows = [] if row is None else [tuple(row[n] for n in names)]

    def _push_receipts(self, cur: FakeCursor, text: str, params: Any) -> None:
        feed, record_id = params
        names = ("attempt", "at", "http_status", "error", "response_body", "receipt_id", "key_id")
        cur.rows = [
            tuple(r[n] for n in names)
            for r in self.push_receipts
            if r["feed"] == feed and r["record_id"] == record_id
        ]

    def _push_counts(self, cur: FakeCursor, text: str, params: Any) -> None:
        (feed,) = params
        counts: dict[str, int] = {}
        for (name, _), row in self.push_records.items():
            if name == feed:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
        cur.rows = list(counts.items())

    # parked_events, as the pusher's repush closes entries

    def _parked_ids(self, cur: FakeCursor, text: str, params: Any) -> None:
        worker, keys = params
        cur.rows = [(e.id,) for e in self.parked.open_entries(worker) if e.event_key in keys]

    def _parked_close(self, cur: FakeCursor, text: str, params: Any) -> None:
        status, by, reason, ids = params
        self.parked.close_ids(cur, ids, status, by, reason or "")


class FakeCursor:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.rows: list[tuple[Any, ...]] = []
        self.rowcount = 0

    def execute(self, query: Any, params: Any = None) -> FakeCursor:
        self.rows, self.rowcount = [], 0
        self.connection.db.run(self, str(query), params)
        if self.rows:
            self.rowcount = len(self.rows)
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows.pop(0) if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self.rows = self.rows, []
        return rows

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *_: object) -> None:
        pass


class FakeConnection:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self.db.transaction()

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def execute(self, query: Any, params: Any = None) -> FakeCursor:
        return FakeCursor(self).execute(query, params)


class FakePool:
    """A psycopg ConnectionPool: a connection's block is a transaction (committed when the
    block ends, rolled back when it raises), as psycopg's pool does."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @contextlib.contextmanager
    def connection(self) -> Iterator[FakeConnection]:
        with self.db.transaction():
            yield FakeConnection(self.db)
