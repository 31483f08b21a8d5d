"""The casework read models (rm_cases, rm_warnings), kept by the projector, which also
enqueues the 智慧监督 feed's records (servicekit.push) in the same transaction.

Read two ways, with the same statements: the gRPC path's queries on asyncpg
(servicekit.readside, on the servicer's loop, issue 14 goal 7), the handlers and sweeps,
which run in threads, on psycopg. A statement is written once, with asyncpg's `$n`
placeholders; the psycopg text is derived from it (`servicekit.readside.named`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from casework.adapters.feeds import ZHIHUI, feed_record
from casework.application.ports import CaseRow, WarningRow
from casework.domain.case import Case
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.eventstore import ServiceApplication
from servicekit.projector import Projector
from servicekit.push import PushOutbox
from servicekit.readside import ReadPool, named, named_params

DDL = [
    """CREATE TABLE IF NOT EXISTS rm_cases (
    case_id uuid PRIMARY KEY, kind text NOT NULL, unit text NOT NULL, status text NOT NULL,
    due_at timestamptz NOT NULL, police_office text NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS rm_warnings (
    warning_id uuid PRIMARY KEY, rule text NOT NULL, unit text NOT NULL,
    subject_kind text NOT NULL, subject text NOT NULL, period text NOT NULL,
    status text NOT NULL, raised_at timestamptz NOT NULL, details jsonb NOT NULL,
    rules_version text NOT NULL)""",
    # The findings a warning was escalated into (issue 13), for tables made before.
    "ALTER TABLE rm_warnings ADD COLUMN IF NOT EXISTS escalated jsonb NOT NULL DEFAULT '[]'",
    # The community a case is about (issue 13: its owners list their community's complaints).
    # Rows projected before hold '' until the projection is rebuilt (RebuildProjection).
    "ALTER TABLE rm_cases ADD COLUMN IF NOT EXISTS community_code text NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS rm_cases_by_community ON rm_cases (community_code, due_at)",
]

_STATUS = {
    Case.Assigned: "assigned",
    Case.InvestigationStarted: "investigating",
    Case.Resolved: "resolved",
    Case.Closed: "closed",
}


class CaseProjection:
    name = "casework.cases"

    def __init__(self, outbox: PushOutbox | None = None) -> None:
        self.outbox = outbox

    def create_tables(self, cur: Cursor[Any]) -> None:
        for statement in DDL:
            cur.execute(statement)
        if self.outbox is not None:
            self.outbox.create_tables(cur)

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(
            event,
            SupervisionWarning.Raised
            | SupervisionWarning.Acknowledged
            | SupervisionWarning.Closed
            | SupervisionWarning.Escalated,
        ):
            self._warning(cur, event)
        elif isinstance(event, Case.Received):
            cur.execute(
                "INSERT INTO rm_cases (case_id, kind, unit, status, due_at, police_office,"
                " community_code) VALUES (%s, %s, %s, 'received', %s, '', %s)"
                " ON CONFLICT DO NOTHING",
                (event.originator_id, event.kind, event.unit, event.due_at, event.community_code),
            )
        elif type(event) in _STATUS:
            status = _STATUS[type(event)]
            if isinstance(event, Case.Assigned):
                cur.execute(
                    "UPDATE rm_cases SET unit = %s, status = CASE WHEN status = "
                    "'received' THEN 'assigned' ELSE status END WHERE case_id = %s",
                    (event.unit, event.originator_id),
                )
            else:
                cur.execute(
                    "UPDATE rm_cases SET status = %s WHERE case_id = %s",
                    (status, event.originator_id),
                )
        elif isinstance(event, Case.ReferredToPolice):
            cur.execute(
                "UPDATE rm_cases SET police_office = %s WHERE case_id = %s",
                (event.police_office, event.originator_id),
            )

    def _warning(self, cur: Cursor[Any], event: Any) -> None:
        if isinstance(event, SupervisionWarning.Raised):
            cur.execute(
                "INSERT INTO rm_warnings (warning_id, rule, unit, subject_kind, subject, period,"
                " status, raised_at, details, rules_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, 'raised', %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    event.originator_id,
                    event.rule,
                    event.unit,
                    event.subject_kind,
                    event.subject,
                    event.period,
                    event.raised_at,
                    Jsonb(event.details),
                    event.rules_version,
                ),
            )
        elif isinstance(event, SupervisionWarning.Escalated):
            cur.execute(
                "UPDATE rm_warnings SET escalated = escalated || %s WHERE warning_id = %s"
                " AND NOT escalated ? %s",
                (Jsonb([event.finding_id]), event.originator_id, event.finding_id),
            )
        else:
            status = "closed" if isinstance(event, SupervisionWarning.Closed) else "acknowledged"
            cur.execute(
                "UPDATE rm_warnings SET status = %s WHERE warning_id = %s",
                (status, event.originator_id),
            )
        if self.outbox is None:
            return
        cur.execute(
            "SELECT rule, unit, subject_kind, subject, period, details, rules_version"
            " FROM rm_warnings WHERE warning_id = %s",
            (event.originator_id,),
        )
        row = cur.fetchone()
        assert row is not None
        record = feed_record(event, tuple(row))
        self.outbox.enqueue(cur, ZHIHUI, record["record_id"], record)


# -- the reads: each statement once, in asyncpg's placeholders ------------------------------

CASES = (
    "SELECT case_id, kind, unit, status, due_at, police_office FROM rm_cases"
    " WHERE unit = ANY($1::text[]) AND ($2::text = '' OR status = $2)"
    " AND ($3::timestamptz IS NULL OR (status <> 'closed' AND due_at < $3))"
    " AND ($4::text = '' OR police_office = $4) ORDER BY due_at"
)
# The jsonb columns as text, decoded here: psycopg decodes jsonb itself, asyncpg does not.
WARNINGS = (
    "SELECT warning_id, rule, unit, subject_kind, subject, period, status, raised_at,"
    " details::text AS details, rules_version, escalated::text AS escalated FROM rm_warnings"
    " WHERE unit = ANY($1::text[]) AND ($2::text = '' OR rule = $2)"
    " AND ($3::boolean OR status <> 'closed') ORDER BY raised_at, warning_id"
)
COMPLAINTS_ABOUT = (
    "SELECT case_id FROM rm_cases WHERE community_code = $1 AND kind = 'complaint'"
    " ORDER BY due_at DESC, case_id LIMIT $2"
)

_CASES_PSYCOPG = named(CASES)
_WARNINGS_PSYCOPG = named(WARNINGS)


def _case_row(r: Mapping[str, Any]) -> CaseRow:
    return CaseRow(
        str(r["case_id"]), r["kind"], r["unit"], r["status"], r["due_at"], r["police_office"]
    )


_WARNING_AS_STORED = (
    "rule",
    "unit",
    "subject_kind",
    "subject",
    "period",
    "status",
    "raised_at",
    "rules_version",
)


def _warning_row(r: Mapping[str, Any]) -> WarningRow:
    return WarningRow(
        warning_id=str(r["warning_id"]),
        details=json.loads(r["details"]),
        escalated_finding_ids=tuple(json.loads(r["escalated"])),
        **{name: r[name] for name in _WARNING_AS_STORED},
    )


class PostgresCaseReadModel:
    """The read model over the application's own log: its projector keeps rm_cases and
    rm_warnings and enqueues the 智慧监督 feed's records (`run` in the projector role).
    The queries read through `reads` (asyncpg) after `current()` (read-your-writes); the
    handlers and sweeps through `pool` (psycopg) after `catch_up()`."""

    def __init__(
        self,
        app: ServiceApplication,
        pool: ConnectionPool,
        reads: ReadPool,
        outbox: PushOutbox | None = None,
    ) -> None:
        self.projector = Projector(
            CaseProjection(outbox), app.process_recorder, app.mapper.to_domain_event, pool
        )
        self.pool = pool
        self.reads = reads

    def catch_up(self) -> int:
        return self.projector.catch_up()

    async def current(self) -> int:
        return await self.reads.current(self.projector)

    def _select(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, named_params(args)).fetchall()

    def cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]:
        rows = self._select(_CASES_PSYCOPG, (units, status, overdue_before, police_office))
        return [_case_row(r) for r in rows]

    async def query_cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]:
        rows = await self.reads.fetch(CASES, units, status, overdue_before, police_office)
        return [_case_row(r) for r in rows]

    def warnings(self, units: list[str], rule: str, include_closed: bool) -> list[WarningRow]:
        rows = self._select(_WARNINGS_PSYCOPG, (units, rule, include_closed))
        return [_warning_row(r) for r in rows]

    async def query_warnings(
        self, units: list[str], rule: str, include_closed: bool
    ) -> list[WarningRow]:
        rows = await self.reads.fetch(WARNINGS, units, rule, include_closed)
        return [_warning_row(r) for r in rows]

    async def complaints_about(self, community_code: str, limit: int) -> list[str]:
        rows = await self.reads.fetch(COMPLAINTS_ABOUT, community_code, limit)
        return [str(r["case_id"]) for r in rows]
