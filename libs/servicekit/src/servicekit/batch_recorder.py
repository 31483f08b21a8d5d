"""eventsourcing's PostgreSQL process recorder, able to apply a consumer's batch (ADR 0018).

What `ServiceApplication.apply_batch` needs besides eventsourcing's own methods, on the same
datastore (its pool, its schema, its tables: `<app>_events`, `<app>_tracking`):

- `insert_batch(events, trackings)`: the events and one tracking row per delivery in one
  transaction, written as eventsourcing writes events (the table lock that keeps
  notification ids in commit order, the NOTIFY that wakes the relay and projector), the
  events by binary COPY. eventsourcing writes one tracking row (`tracking=`) with an
  upsert that only moves an id forward; these rows (`consumer|aggregate|version`, id 1)
  are plain inserts, so a delivery tracked meanwhile fails the whole transaction
  (IntegrityError) instead of passing silently;
- `tracked(names)`: which of a batch's tracking rows exist (one query);
- `select_events_after({aggregate: version})`: the events of many aggregates after the
  versions given (one query; each aggregate's in order, the aggregates in no order).

A batch's keys travel as one text parameter each (JSON, or comma-separated UUIDs and
numbers) rather than as arrays: psycopg adapts an array element by element in Python
(about 2 µs a UUID), PostgreSQL splits one string in C.

The application layer names this class by its topic (`PROCESS_RECORDER_TOPIC`), never by
import: it reaches psycopg.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping, Sequence

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Identifier, Literal

COPY_TYPES = ("uuid", "int8", "text", "bytea")


class BatchPostgresProcessRecorder(PostgresProcessRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore,
            events_table_name=events_table_name,
            tracking_table_name=tracking_table_name,
        )
        schema = Identifier(self.datastore.schema)
        tracking = Identifier(self.tracking_table_name)
        events = Identifier(self.events_table_name)
        self.insert_trackings_statement = (
            SQL(
                "INSERT INTO {0}.{1} (application_name, notification_id)"
                " SELECT application_name, notification_id"
                " FROM json_to_recordset({{rows}}::json)"
                " AS t(application_name text, notification_id bigint)"
            )
            .format(schema, tracking)
            .as_string(None)
        )
        """Completed with `.format(rows=Literal(...))` (a Composed cannot be formatted)."""
        # eventsourcing's own insert takes these too: notification ids in commit order, and
        # the relay and projector woken.
        self.opening_statements: list[Composable] = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("LOCK TABLE {0}.{1} IN EXCLUSIVE MODE").format(schema, events),
            SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
        ]
        self.copy_events_statement = SQL(
            "COPY {0}.{1} (originator_id, originator_version, topic, state)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(schema, events)
        self.tracked_statement = SQL(
            "SELECT application_name FROM {0}.{1}"
            " WHERE application_name = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))"
        ).format(schema, tracking)
        # One index range of the primary key per aggregate: the subquery is fenced (OFFSET
        # 0) so the planner cannot make it a join, which it would run as a merge join
        # over the whole index once the table is large.
        self.select_events_after_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM unnest(string_to_array(%s, ',')::uuid[], string_to_array(%s, ',')::bigint[])"
            " AS k(id, after) CROSS JOIN LATERAL (SELECT * FROM {0}.{1} AS s"
            " WHERE s.originator_id = k.id AND s.originator_version > k.after"
            " ORDER BY s.originator_version OFFSET 0) AS e"
        ).format(schema, events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[Tracking]
    ) -> None:
        if not stored_events and not trackings:
            return
        # Round trips are what a batch waits on: the statements before the COPY go as one
        # (no parameters: the tracking rows are a literal), then the COPY, then COMMIT.
        opening: list[Composable] = [SQL("BEGIN")]
        if stored_events:
            opening += self.opening_statements
        if trackings:
            rows = [
                {"application_name": t.application_name, "notification_id": t.notification_id}
                for t in trackings
            ]
            opening.append(
                SQL(self.insert_trackings_statement).format(rows=Literal(json.dumps(rows)))
            )
        with self.datastore.get_connection() as conn:
            try:
                with conn.cursor() as curs:
                    curs.execute(SQL("; ").join(opening))
                    if stored_events:
                        with curs.copy(self.copy_events_statement) as copy:
                            copy.set_types(list(COPY_TYPES))
                            for e in stored_events:
                                copy.write_row(
                                    (e.originator_id, e.originator_version, e.topic, e.state)
                                )
                    curs.execute("COMMIT")
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")
                raise

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def read_batch(
        self, application_names: Sequence[str], after: Mapping[uuid.UUID, int]
    ) -> tuple[set[str], list[StoredEvent]]:
        """`tracked` and `select_events_after` in one round trip."""
        ids = ",".join(str(i) for i in after)
        versions = ",".join(str(int(v)) for v in after.values())
        with (
            self.datastore.get_connection() as conn,
            conn.cursor() as tracked,
            conn.cursor() as events,
        ):
            with conn.pipeline():
                tracked.execute(self.tracked_statement, (json.dumps(list(application_names)),))
                events.execute(self.select_events_after_statement, (ids, versions))
            return (
                {row["application_name"] for row in tracked.fetchall()},
                [_stored(row) for row in events.fetchall()],
            )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def tracked(self, application_names: Sequence[str]) -> set[str]:
        if not application_names:
            return set()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.tracked_statement, (json.dumps(list(application_names)),))
            return {row["application_name"] for row in curs.fetchall()}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_after(self, after: Mapping[uuid.UUID, int]) -> list[StoredEvent]:
        if not after:
            return []
        ids = ",".join(str(i) for i in after)
        versions = ",".join(str(int(v)) for v in after.values())
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_events_after_statement, (ids, versions))
            return [_stored(row) for row in curs.fetchall()]


def _stored(row: DictRow) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
