"""casework's read-model queries on asyncpg (issue 14 goal 7), on the real PostgreSQL, wired
as bootstrap.py wires them: right after a command the projection is behind and the query
catches it up before reading (read-your-writes); once it is current, ListCases and
ListWarnings answer on the caller's loop alone: no worker thread, no psycopg connection, no
projector run. The sweeps' and handlers' sync reads (psycopg) give the same rows from the
same statements."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta
from typing import Any

import pytest

from casework.adapters.read_model import PostgresCaseReadModel
from casework.application import queries
from casework.bootstrap import build
from casework.domain.warnings.rules import DISCLOSURE_OVERDUE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit import readside
from servicekit.runtime import close
from servicekit.testing import FakeClock
from services.casework.tests.support.lodging import COMMITTEE, COMMUNITY
from services.casework.tests.support.scenario import OFFICER, WHEN, complaint

pytestmark = pytest.mark.infra

UNIT = "licheng"
DETAILS: dict[str, object] = {"quarter": 1, "year": 2026, "note": "逾期未公示"}


def forbidden(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the query path used {what}")

    return refuse


async def test_queries_read_their_writes_then_answer_without_a_thread_hop(
    service_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(WHEN)
    parts = build(service_settings("casework"), clock=clock)
    app = parts.app
    read_model = app.read_model
    assert isinstance(read_model, PostgresCaseReadModel)
    try:
        case_id = app.handle(OFFICER, complaint()).case_id
        warning = SupervisionWarning(
            DISCLOSURE_OVERDUE,
            UNIT,
            "community",
            "LC-0001",
            "2026Q1",
            DETAILS,
            app.warning_rules.version,
            WHEN,
        )
        app.record(warning)
        end = app.process_recorder.max_notification_id()
        # No projector role runs here: the read model has applied none of it.
        assert read_model.projector.position() < end

        [row] = await queries.list_cases(app, OFFICER, UNIT, "", False)
        assert (row.case_id, row.kind, row.unit, row.status) == (
            case_id,
            "complaint",
            UNIT,
            "received",
        )
        assert row.due_at == app.case(case_id).due_at
        assert read_model.projector.position() == end
        # An aggregate query besides: the cases themselves come from the event store.
        [listed] = await queries.list_community_complaints(app, COMMITTEE, COMMUNITY)
        assert (listed.channel, listed.status) == ("hotline_12345", "received")
        # The sync reads (the sweeps', the handlers') give the same rows.
        assert read_model.cases([UNIT], "", None, "") == [row]
        sync_warnings = read_model.warnings([UNIT], "", True)

        # Current now: the queries must not leave the loop, nor touch psycopg.
        monkeypatch.setattr(readside.asyncio, "to_thread", forbidden("a worker thread"))
        monkeypatch.setattr(queries.asyncio, "to_thread", forbidden("a worker thread"))
        monkeypatch.setattr(read_model.pool, "connection", forbidden("the psycopg pool"))
        monkeypatch.setattr(read_model.projector, "catch_up", forbidden("the projector"))

        assert await read_model.current() == end
        # Overdue is judged on the application's clock: not yet, then a second past due.
        assert await queries.list_cases(app, OFFICER, "", "", True) == []
        clock.now = row.due_at + timedelta(seconds=1)
        assert [r.case_id for r in await queries.list_cases(app, OFFICER, "", "", True)] == [
            case_id
        ]
        [listed_warning] = await queries.list_warnings(
            app, OFFICER, UNIT, DISCLOSURE_OVERDUE, False
        )
        assert [listed_warning] == sync_warnings
        assert listed_warning.warning_id == str(warning.id)
        assert listed_warning.details == DETAILS
        assert listed_warning.escalated_finding_ids == ()
        assert listed_warning.raised_at == WHEN.astimezone(UTC)
        assert await queries.list_warnings(app, OFFICER, UNIT, "repeat_violations", True) == []
    finally:
        monkeypatch.undo()
        for hook in parts.on_stop:  # as the runtime, once the gRPC server has drained
            await hook()
        await asyncio.to_thread(close, parts)
