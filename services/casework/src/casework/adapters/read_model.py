"""The case listing read model (rm_cases), kept by the projector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Cursor
from psycopg_pool import ConnectionPool

from casework.application.ports import CaseRow
from casework.domain.case import Case
from servicekit.projector import Projector

DDL = """CREATE TABLE IF NOT EXISTS rm_cases (
    case_id uuid PRIMARY KEY, kind text NOT NULL, unit text NOT NULL, status text NOT NULL,
    due_at timestamptz NOT NULL, police_office text NOT NULL DEFAULT '')"""

_STATUS = {
    Case.Assigned: "assigned", Case.InvestigationStarted: "investigating",
    Case.Resolved: "resolved", Case.Closed: "closed",
}


class CaseProjection:
    name = "casework.cases"

    def create_tables(self, cur: Cursor[Any]) -> None:
        cur.execute(DDL)

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, Case.Received):
            cur.execute("INSERT INTO rm_cases VALUES (%s, %s, %s, 'received', %s, '') "
                        "ON CONFLICT DO NOTHING",
                        (event.originator_id, event.kind, event.unit, event.due_at))
        elif type(event) in _STATUS:
            status = _STATUS[type(event)]
            if isinstance(event, Case.Assigned):
                cur.execute("UPDATE rm_cases SET unit = %s, status = CASE WHEN status = "
                            "'received' THEN 'assigned' ELSE status END WHERE case_id = %s",
                            (event.unit, event.originator_id))
            else:
                cur.execute("UPDATE rm_cases SET status = %s WHERE case_id = %s",
                            (status, event.originator_id))
        elif isinstance(event, Case.ReferredToPolice):
            cur.execute("UPDATE rm_cases SET police_office = %s WHERE case_id = %s",
                        (event.police_office, event.originator_id))


class PostgresCaseReadModel:
    def __init__(self, projector: Projector, pool: ConnectionPool) -> None:
        self.projector = projector
        self.pool = pool

    def catch_up(self) -> int:
        return self.projector.catch_up()

    def cases(self, units: list[str], status: str, overdue_before: datetime | None,
              police_office: str) -> list[CaseRow]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT case_id, kind, unit, status, due_at, police_office FROM rm_cases"
                " WHERE unit = ANY(%s) AND (%s = '' OR status = %s)"
                " AND (%s::timestamptz IS NULL OR (status <> 'closed' AND due_at < %s))"
                " AND (%s = '' OR police_office = %s) ORDER BY due_at",
                (units, status, status, overdue_before, overdue_before, police_office,
                 police_office),
            ).fetchall()
        return [CaseRow(str(r[0]), *r[1:]) for r in rows]


def make_projector(recorder: Any, decode: Any, pool: ConnectionPool) -> Projector:
    return Projector(CaseProjection(), recorder, decode, pool)
