"""The gRPC path's queries on asyncpg (issue 14 goal 7), on the real PostgreSQL, wired as
bootstrap.py wires them: right after a command the projection is behind, and the query
catches it up before reading (read-your-writes); once it is current, every query over the
read model answers on the caller's loop alone: no worker thread, no psycopg connection, no
projector run. Each answers as the in-memory read model does on the same commands (same
rows, same order)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from inspection.adapters.read_model import PostgresInspectionReadModel
from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.bootstrap import build
from servicekit.identity import Identity
from servicekit.runtime import close
from servicekit.testing import FakeClock
from services.inspection.tests.support.world import (
    CITY_DISCIPLINE,
    CITY_OFFICER,
    CX_DISCIPLINE,
    CX_INSPECTOR,
    CX_OFFICER,
    CX_TOWNSHIP,
    NOW,
    communities,
    drawn_plan,
    new_app,
    record_check,
    rosters,
)

pytestmark = pytest.mark.infra

TOWNSHIP_INSPECTOR = Identity("township", "inspector", "chengxiang", "巡查员甲")
INSPECTED = datetime(2026, 7, 20, 2, tzinfo=UTC)


def forbidden(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the query path used {what}")

    return refuse


def commands(app: InspectionApplication) -> None:
    """Communities, rosters, chengxiang's drawn plan and a failed check of it (a finding),
    a cross check of licheng by chengxiang's team, then a township's inspection: the last
    command reads nothing of the read model, so the projection is left behind."""
    communities(app)
    rosters(app)
    # CX-0001 handed down: a target whatever the draw's secret (the twin's differs).
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE, handed_down=("CX-0001",))
    record_check(app, CX_INSPECTOR, plan, "CX-0001", failed=("signboard_present",))
    cross = app.handle(
        CITY_OFFICER,
        c.PlanCrossCheck("cross", 2026, 3, "chengxiang", "licheng", 1, inspectors_per_target=2),
    )
    app.handle(
        CITY_DISCIPLINE,
        c.ContributeDrawEntropy("entropy", cross.cross_check_id, "the city's discipline 2026"),
    )
    app.clock.now = INSPECTED  # type: ignore[attr-defined]
    app.handle(
        TOWNSHIP_INSPECTOR,
        c.RecordTownshipInspection(
            "township", "CX-0002", CX_TOWNSHIP, "2026-07-20", "巡查员甲", ("公示栏破损",)
        ),
    )


QUERIES: dict[str, Callable[[InspectionApplication], Awaitable[Any]]] = {
    "ListSpotChecks": lambda app: queries.spot_checks(app, CX_OFFICER, 2026, "", "", ""),
    "ListFindings": lambda app: queries.findings(app, CITY_OFFICER, ""),
    "GetPlanProgress": lambda app: queries.plan_progress(app, CITY_OFFICER, 2026, ""),
    "ListTownshipInspections": lambda app: queries.township_inspections(
        app, CX_OFFICER, "", CX_TOWNSHIP, "", "2026-07-01", "2026-07-31"
    ),
    "GetTownshipCoverage": lambda app: queries.township_coverage(app, CITY_OFFICER, 2026, ""),
    "GetCrossCheckCompliance": lambda app: queries.cross_check_compliance(
        app, CITY_OFFICER, 2026, ""
    ),
}


def comparable(answer: Any) -> Any:
    """An answer with the ids the two event stores drew at random left out."""
    if isinstance(answer, list):
        return [comparable(a) for a in answer]
    fields = getattr(answer, "__dataclass_fields__", None)
    if fields is None:
        return answer
    return {
        name: comparable(getattr(answer, name))
        for name in fields
        if name not in {"spot_check_id", "plan_id", "plan_ids", "finding_id", "ledger_id"}
    }


async def test_queries_read_their_writes_then_answer_without_a_thread_hop(
    service_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = build(service_settings("inspection"), clock=FakeClock(NOW))
    app = parts.app
    assert isinstance(app, InspectionApplication)
    read_model = app.read_model
    assert isinstance(read_model, PostgresInspectionReadModel)
    twin = new_app()
    try:
        await asyncio.to_thread(commands, app)
        commands(twin)
        end = app.process_recorder.max_notification_id() or 0
        # No projector role runs here: the township's inspection is not projected yet.
        assert read_model.projector.position() < end

        [ledger] = await QUERIES["ListTownshipInspections"](app)
        assert (ledger.community_code, ledger.township, ledger.problems) == (
            "CX-0002",
            CX_TOWNSHIP,
            ("公示栏破损",),
        )
        assert read_model.projector.position() == end

        # Current now: the queries must not leave the loop, nor touch psycopg.
        monkeypatch.setattr("servicekit.readside.asyncio.to_thread", forbidden("a worker thread"))
        monkeypatch.setattr(read_model.pool, "connection", forbidden("the psycopg pool"))
        monkeypatch.setattr(read_model.projector, "catch_up", forbidden("the projector"))

        answers = {rpc: await query(app) for rpc, query in QUERIES.items()}
        [check] = answers["ListSpotChecks"]
        [finding] = answers["ListFindings"]
        assert (check.findings, finding.community_code) == (1, check.community_code)
        chengxiang = next(p for p in answers["GetPlanProgress"] if p.unit == "chengxiang")
        assert (chengxiang.communities, chengxiang.checked) == (6, 1)
        [coverage] = [u for u in answers["GetTownshipCoverage"] if u.unit == "chengxiang"]
        assert (coverage.communities, coverage.inspected) == (6, 1)
        [duty] = [
            d
            for d in answers["GetCrossCheckCompliance"].duties
            if (d.unit, d.quarter) == ("chengxiang", 3)
        ]
        assert len(duty.plan_ids) == 1

        monkeypatch.undo()
        for rpc, query in QUERIES.items():  # the fake answers as PostgreSQL does
            assert comparable(await query(twin)) == comparable(answers[rpc]), rpc
    finally:
        monkeypatch.undo()
        for hook in parts.on_stop:  # as the runtime, once the gRPC server has drained
            await hook()
        await asyncio.to_thread(close, parts)
