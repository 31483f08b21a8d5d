"""The inspection read model in PostgreSQL (rm_* tables), kept by the projector, and the
draw secrets beside it (draw_secrets: the service's secret of each draw not yet executed,
found by its commitment; never in the event store or a response until the draw's event
reveals it). The gRPC path's queries read it on asyncpg (servicekit.readside.ReadPool, on
the servicer's loop); commands and the sweep, which run in threads, on psycopg."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import Cursor
from psycopg_pool import ConnectionPool

from inspection.application.ports import (
    AttachmentUse,
    CheckRow,
    CrossCheckRow,
    FindingRow,
    InspectorRow,
    TownshipInspectionRow,
    WatchRow,
)
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.finding import EVIDENCE_EVENTS, Finding
from inspection.domain.inspector import Inspector
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from pubrev_contracts.vocabulary.calendar import quarter_label
from pubrev_contracts.vocabulary.units import CITY
from servicekit.eventstore import ServiceApplication
from servicekit.projector import Projector
from servicekit.readside import ReadPool, numbered

DDL = [
    """CREATE TABLE IF NOT EXISTS rm_watch (
        watch_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, unit text NOT NULL,
        company_uscc text NOT NULL DEFAULT '', registered boolean NOT NULL DEFAULT false,
        zero_revenue boolean NOT NULL DEFAULT false, latest_period text NOT NULL DEFAULT '',
        overdue_count int NOT NULL DEFAULT 0, leads int NOT NULL DEFAULT 0,
        handed_down boolean NOT NULL DEFAULT false,
        major_petition boolean NOT NULL DEFAULT false)""",
    """CREATE TABLE IF NOT EXISTS rm_inspectors (
        inspector_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, unit text NOT NULL,
        conflicts text[] NOT NULL DEFAULT '{}')""",
    """CREATE TABLE IF NOT EXISTS rm_checks (
        spot_check_id uuid PRIMARY KEY, plan_id uuid NOT NULL, community_code text NOT NULL,
        unit text NOT NULL, company_uscc text NOT NULL, inspected_at timestamptz NOT NULL,
        findings int NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS rm_checks_unit ON rm_checks (unit, inspected_at)",
    """CREATE TABLE IF NOT EXISTS rm_findings (
        finding_id uuid PRIMARY KEY, community_code text NOT NULL, unit text NOT NULL,
        company_uscc text NOT NULL, kind text NOT NULL, kind_name text NOT NULL,
        severity text NOT NULL, legal_basis text NOT NULL, deadline timestamptz,
        status text NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS rm_findings_company ON rm_findings (company_uscc)",
    # Who checked (plan 四（三）、四（四）), added later: rows projected before it keep ''
    # (unknown), except the city's, which were stored under putian.
    "ALTER TABLE rm_checks ADD COLUMN IF NOT EXISTS checking_unit text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_checks ADD COLUMN IF NOT EXISTS checking_kind text NOT NULL DEFAULT ''",
    "UPDATE rm_checks SET checking_unit = 'putian', checking_kind = 'city'"
    " WHERE checking_kind = '' AND unit = 'putian'",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS checking_unit text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS checking_kind text NOT NULL DEFAULT ''",
    "UPDATE rm_findings SET checking_unit = 'putian', checking_kind = 'city'"
    " WHERE checking_kind = '' AND unit = 'putian'",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS deadline_basis text NOT NULL DEFAULT ''",
    """CREATE TABLE IF NOT EXISTS draw_secrets (
        commitment text PRIMARY KEY, secret text NOT NULL,
        kept_at timestamptz NOT NULL DEFAULT now())""",
    # Issue 13: townships, findings entered directly (agencies' too), the company's evidence
    # and objections, the quarters' cross checks. Cross checks planned before rm_cross_checks
    # existed appear once the projection is rebuilt (pubrev-admin RebuildProjection).
    "ALTER TABLE rm_watch ADD COLUMN IF NOT EXISTS township text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS party text NOT NULL DEFAULT 'company'",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS agency_unit text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS warning_id text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS objection text NOT NULL DEFAULT ''",
    "ALTER TABLE rm_findings ADD COLUMN IF NOT EXISTS submissions int NOT NULL DEFAULT 0",
    """CREATE TABLE IF NOT EXISTS rm_township_inspections (
        ledger_id uuid NOT NULL, inspected_on date NOT NULL, community_code text NOT NULL,
        unit text NOT NULL, township text NOT NULL, inspector text NOT NULL,
        problems text[] NOT NULL, note text NOT NULL,
        PRIMARY KEY (ledger_id, inspected_on))""",
    "CREATE INDEX IF NOT EXISTS rm_township_inspections_unit"
    " ON rm_township_inspections (unit, inspected_on)",
    """CREATE TABLE IF NOT EXISTS rm_cross_checks (
        plan_id uuid PRIMARY KEY, year int NOT NULL, quarter int NOT NULL,
        checking_unit text NOT NULL, checked_unit text NOT NULL, reported_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS rm_attachment_uses (
        sha256 text NOT NULL, record_id uuid NOT NULL, unit text NOT NULL,
        company_uscc text NOT NULL, community_code text NOT NULL,
        PRIMARY KEY (sha256, record_id))""",
]

# Statements by event class: each takes the event and returns (sql, params).
_WATCH_UPDATES: dict[type, tuple[str, Any]] = {
    CommunityWatch.RegistrationNoted: (
        "UPDATE rm_watch SET registered = true, company_uscc = %s, township = %s"
        " WHERE watch_id = %s",
        lambda e: (e.company_uscc, e.township, e.originator_id),
    ),
    CommunityWatch.CompanyNoted: (
        "UPDATE rm_watch SET company_uscc = %s WHERE watch_id = %s",
        lambda e: (e.company_uscc, e.originator_id),
    ),
    CommunityWatch.OverdueNoted: (
        "UPDATE rm_watch SET overdue_count = overdue_count + 1 WHERE watch_id = %s",
        lambda e: (e.originator_id,),
    ),
    CommunityWatch.DisclosureNoted: (
        # Only a disclosure of the latest quarter (or an amendment of it) says whether the
        # community has revenue now; a late older quarter does not.
        "UPDATE rm_watch SET zero_revenue = %s, latest_period = %s "
        "WHERE watch_id = %s AND latest_period <= %s",
        lambda e: (
            e.zero_revenue,
            quarter_label(e.year, e.quarter),
            e.originator_id,
            quarter_label(e.year, e.quarter),
        ),
    ),
    CommunityWatch.LeadNoted: (
        "UPDATE rm_watch SET leads = leads + 1, handed_down = handed_down OR %s, "
        "major_petition = major_petition OR %s WHERE watch_id = %s",
        lambda e: (e.channel == "handed_down", e.major, e.originator_id),
    ),
    Inspector.ConflictDeclared: (
        "UPDATE rm_inspectors SET conflicts = array_append(conflicts, %s) WHERE inspector_id = %s",
        lambda e: (e.community_code, e.originator_id),
    ),
    Finding.RectificationOrdered: (
        "UPDATE rm_findings SET deadline = %s, deadline_basis = %s, status = 'open'"
        " WHERE finding_id = %s",
        lambda e: (e.deadline, e.deadline_basis, e.originator_id),
    ),
    Finding.RectificationVerified: (
        "UPDATE rm_findings SET status = 'verified' WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    Finding.RectificationOverdue: (
        "UPDATE rm_findings SET status = 'overdue' WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    Finding.RectificationEvidenceSubmitted: (
        "UPDATE rm_findings SET submissions = submissions + 1 WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    Finding.Objected: (
        "UPDATE rm_findings SET objection = 'pending' WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    Finding.ObjectionRejected: (
        "UPDATE rm_findings SET objection = 'rejected' WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    Finding.Withdrawn: (
        "UPDATE rm_findings SET objection = 'upheld', status = 'withdrawn' WHERE finding_id = %s",
        lambda e: (e.originator_id,),
    ),
    TownshipInspectionLedger.InspectionRecorded: (
        "INSERT INTO rm_township_inspections (ledger_id, inspected_on, community_code, unit,"
        " township, inspector, problems, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        lambda e: (
            e.originator_id,
            date.fromisoformat(e.inspected_on),
            e.community_code,
            e.unit,
            e.township,
            e.inspector,
            list(e.problems),
            e.note,
        ),
    ),
    SpotCheckPlan.CrossCheckReported: (
        # The quarter's first report is the one judged (cross_check_duty).
        "UPDATE rm_cross_checks SET reported_at = %s WHERE plan_id = %s AND reported_at IS NULL",
        lambda e: (e.reported_at, e.originator_id),
    ),
}


class InspectionProjection:
    name = "inspection.read-model"

    def create_tables(self, cur: Cursor[Any]) -> None:
        for statement in DDL:
            cur.execute(statement)

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, EVIDENCE_EVENTS):
            for a in event.attachments:
                cur.execute(
                    "INSERT INTO rm_attachment_uses (sha256, record_id, unit, company_uscc,"
                    " community_code) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (
                        a["sha256"],
                        event.originator_id,
                        event.unit,
                        event.company_uscc,
                        event.community_code,
                    ),
                )
        update = _WATCH_UPDATES.get(type(event))
        if update is not None:
            sql, params = update
            cur.execute(sql, params(event))
        elif isinstance(event, CommunityWatch.Opened):
            cur.execute(
                "INSERT INTO rm_watch (watch_id, code, unit) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (event.originator_id, event.community_code, event.unit),
            )
        elif isinstance(event, Inspector.Registered):
            cur.execute(
                "INSERT INTO rm_inspectors (inspector_id, code, unit) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (event.originator_id, event.code, event.unit),
            )
        elif isinstance(event, SpotCheck.Done):
            cur.execute(
                "INSERT INTO rm_checks (spot_check_id, plan_id, community_code, unit,"
                " company_uscc, inspected_at, findings, checking_unit, checking_kind)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    event.originator_id,
                    event.plan_id,
                    event.community_code,
                    event.unit,
                    event.company_uscc,
                    event.inspected_at,
                    len(event.finding_ids),
                    event.checking_unit,
                    event.checking_kind,
                ),
            )
        elif isinstance(event, Finding.ViolationFound):
            cur.execute(
                "INSERT INTO rm_findings (finding_id, community_code, unit,"
                " company_uscc, kind, kind_name, severity, legal_basis, deadline,"
                " status, checking_unit, checking_kind, party, agency_unit, warning_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL, 'found', %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (
                    event.originator_id,
                    event.community_code,
                    event.unit,
                    event.company_uscc,
                    event.kind,
                    event.kind_name,
                    event.severity,
                    event.legal_basis,
                    event.checking_unit,
                    event.checking_kind,
                    event.party,
                    event.agency_unit,
                    event.warning_id,
                ),
            )
        elif isinstance(event, SpotCheckPlan.Planned) and event.kind == "cross":
            cur.execute(
                "INSERT INTO rm_cross_checks (plan_id, year, quarter, checking_unit,"
                " checked_unit) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    event.originator_id,
                    event.year,
                    int(event.draw.get("quarter", 0)),
                    event.unit,
                    str(event.draw.get("checked_unit", "")),
                ),
            )


# The read model's SELECTs, each written once (psycopg's %s) with the builder of its
# parameters: the sync path (commands, the sweep) runs it on psycopg, the gRPC path's queries
# on asyncpg (`servicekit.readside.numbered`: the same text with $1, $2, ...), both through
# the same row builder.
Select = tuple[str, tuple[Any, ...]]


def _communities(unit: str | None) -> Select:
    return (
        "SELECT code, unit, company_uscc, zero_revenue, overdue_count, leads, handed_down,"
        " major_petition, township FROM rm_watch"
        " WHERE registered AND (%s::text IS NULL OR unit = %s) ORDER BY code",
        (unit, unit),
    )


def _watch_rows(rows: list[tuple[Any, ...]]) -> list[WatchRow]:
    return [WatchRow(*r) for r in rows]


def _checks(year: int, units: list[str], community_code: str, company_uscc: str) -> Select:
    return (
        "SELECT spot_check_id, plan_id, community_code, unit, company_uscc, inspected_at,"
        " findings, checking_unit, checking_kind FROM rm_checks WHERE unit = ANY(%s::text[])"
        " AND extract(year FROM inspected_at AT TIME ZONE 'Asia/Shanghai') = %s::int"
        " AND (%s::text = '' OR community_code = %s) AND (%s::text = '' OR company_uscc = %s)"
        " ORDER BY inspected_at, community_code",
        (units, year, community_code, community_code, company_uscc, company_uscc),
    )


def _check_rows(rows: list[tuple[Any, ...]]) -> list[CheckRow]:
    return [CheckRow(str(r[0]), str(r[1]), *r[2:]) for r in rows]


def _findings(company_uscc: str, units: list[str]) -> Select:
    return (
        "SELECT finding_id, community_code, unit, company_uscc, kind, kind_name, severity,"
        " legal_basis, deadline, status, checking_unit, checking_kind, deadline_basis,"
        " party, agency_unit, warning_id, objection, submissions"
        " FROM rm_findings WHERE unit = ANY(%s::text[])"
        " AND (%s::text = '' OR company_uscc = %s) ORDER BY community_code, kind",
        (units, company_uscc, company_uscc),
    )


def _finding_rows(rows: list[tuple[Any, ...]]) -> list[FindingRow]:
    return [FindingRow(str(r[0]), *r[1:]) for r in rows]


def _township_inspections(
    units: list[str], township: str, community_code: str, since: date, until: date
) -> Select:
    return (
        "SELECT ledger_id, community_code, unit, township, inspected_on, inspector,"
        " problems, note FROM rm_township_inspections WHERE unit = ANY(%s::text[])"
        " AND (%s::text = '' OR township = %s) AND (%s::text = '' OR community_code = %s)"
        " AND inspected_on BETWEEN %s::date AND %s::date ORDER BY inspected_on, community_code",
        (units, township, township, community_code, community_code, since, until),
    )


def _cross_checks(year: int) -> Select:
    return (
        "SELECT plan_id, year, quarter, checking_unit, checked_unit, reported_at"
        " FROM rm_cross_checks WHERE year = %s::int"
        " ORDER BY quarter, checking_unit, checked_unit",
        (year,),
    )


def _checked_communities(year: int, unit: str) -> Select:
    return (
        "SELECT count(DISTINCT community_code) FROM rm_checks"
        " WHERE (CASE WHEN %s::boolean THEN checking_kind = 'city'"
        " ELSE unit = %s AND checking_kind <> 'city' END)"
        " AND extract(year FROM inspected_at AT TIME ZONE 'Asia/Shanghai') = %s::int",
        (unit == CITY, unit, year),
    )


class PostgresInspectionReadModel:
    """The read model over the application's own log: its projector keeps the rm_* tables
    (`run` in the projector role). Commands and the sweep read it on psycopg (`catch_up`
    first, to read their own writes); the gRPC path's queries on asyncpg through `reads`
    (`current` first: one query when the projection is current, servicekit.readside)."""

    def __init__(self, app: ServiceApplication, pool: ConnectionPool, reads: ReadPool) -> None:
        self.projector = Projector(
            InspectionProjection(), app.process_recorder, app.mapper.to_domain_event, pool
        )
        self.pool = pool
        self.reads = reads

    def catch_up(self) -> int:
        return self.projector.catch_up()

    async def current(self) -> int:
        return await self.reads.current(self.projector)

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        rows = await self.reads.fetch(numbered(sql), *params)
        return [tuple(r.values()) for r in rows]

    def communities(self, unit: str | None) -> list[WatchRow]:
        return _watch_rows(self._rows(*_communities(unit)))

    async def query_communities(self, unit: str | None) -> list[WatchRow]:
        return _watch_rows(await self._fetch(*_communities(unit)))

    def inspectors(self, unit: str) -> list[InspectorRow]:
        rows = self._rows(
            "SELECT code, unit, conflicts FROM rm_inspectors WHERE unit = %s ORDER BY code", (unit,)
        )
        return [InspectorRow(r[0], r[1], tuple(r[2])) for r in rows]

    def checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        return _check_rows(self._rows(*_checks(year, units, community_code, company_uscc)))

    async def query_checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        return _check_rows(await self._fetch(*_checks(year, units, community_code, company_uscc)))

    def findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]:
        return _finding_rows(self._rows(*_findings(company_uscc, units)))

    async def query_findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]:
        return _finding_rows(await self._fetch(*_findings(company_uscc, units)))

    def open_findings_due(self, now: datetime) -> list[str]:
        rows = self._rows(
            "SELECT finding_id FROM rm_findings WHERE status = 'open' "
            "AND deadline < %s ORDER BY deadline",
            (now,),
        )
        return [str(r[0]) for r in rows]

    async def township_inspections(
        self, units: list[str], township: str, community_code: str, since: date, until: date
    ) -> list[TownshipInspectionRow]:
        rows = await self._fetch(
            *_township_inspections(units, township, community_code, since, until)
        )
        return [
            TownshipInspectionRow(str(r[0]), r[1], r[2], r[3], r[4], r[5], tuple(r[6]), r[7])
            for r in rows
        ]

    async def cross_checks(self, year: int) -> list[CrossCheckRow]:
        rows = await self._fetch(*_cross_checks(year))
        return [CrossCheckRow(str(r[0]), *r[1:]) for r in rows]

    def attachment_uses(self, sha256: str) -> list[AttachmentUse]:
        rows = self._rows(
            "SELECT sha256, record_id, unit, company_uscc, community_code"
            " FROM rm_attachment_uses WHERE sha256 = %s ORDER BY record_id",
            (sha256,),
        )
        return [AttachmentUse(r[0], str(r[1]), r[2], r[3], r[4]) for r in rows]

    async def checked_communities(self, year: int, unit: str) -> int:
        rows = await self._fetch(*_checked_communities(year, unit))
        return int(rows[0][0])

    def keep_secret(self, commitment: str, secret: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO draw_secrets (commitment, secret) VALUES (%s, %s)"
                " ON CONFLICT (commitment) DO NOTHING",
                (commitment, secret),
            )

    def secret(self, commitment: str) -> str | None:
        rows = self._rows("SELECT secret FROM draw_secrets WHERE commitment = %s", (commitment,))
        return str(rows[0][0]) if rows else None
