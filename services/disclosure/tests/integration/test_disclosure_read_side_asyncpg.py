"""The gRPC path's lists and rates on asyncpg (issue 14 goal 7), on the real PostgreSQL, wired
as bootstrap.py wires them: right after a command the projection is behind, and the query
catches it up before reading (read-your-writes); once it is current, the queries answer on
the caller's loop alone: no worker thread, no psycopg connection, no projector run."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest

from disclosure.adapters.read_model import PostgresDisclosureReadModel
from disclosure.application import queries
from disclosure.application.commands import (
    FileDisclosure,
    FileSelfInspection,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.bootstrap import build
from disclosure.domain.self_inspection_ledger import SelfInspectionItem
from disclosure.entrypoints.grpc_api import content_from_pb
from servicekit import readside
from servicekit.identity import Identity
from servicekit.runtime import close
from servicekit.testing import FakeClock
from services.disclosure.tests.support.requests import USCC, content

pytestmark = pytest.mark.infra

UNIT = "chengxiang"
CODE = "CX-0001"
CITY = Identity("property-bureau", "officer", "putian", "city-1")
OFFICER = Identity("property-bureau", "officer", UNIT, "officer-1")


def forbidden(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the query path used {what}")

    return refuse


async def test_queries_read_their_writes_then_answer_without_a_thread_hop(
    service_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    parts = build(service_settings("disclosure"), clock=clock)
    app = parts.app
    read_model = app.read_model
    assert isinstance(read_model, PostgresDisclosureReadModel)
    try:
        app.handle(CITY, RegisterCompany("co", USCC, "物业公司", ""))
        app.handle(
            CITY,
            RegisterCommunity(
                "reg",
                CODE,
                "阳光花园",
                "地址",
                UNIT,
                "350302",
                "龙桥街道",
                USCC,
                "物业",
                True,
                1,
                1,
                False,
                100,
            ),
        )
        clock.now = datetime(2026, 4, 20, tzinfo=UTC)
        filed = app.handle(OFFICER, FileDisclosure("f", CODE, 2026, 1, content_from_pb(content())))
        clock.now = datetime(2026, 7, 18, 2, tzinfo=UTC)
        problem = SelfInspectionItem(
            "公示牌未设在主要出入口", "移至南门", date(2026, 8, 15), "林经理"
        )
        app.handle(
            OFFICER,
            FileSelfInspection("si", CODE, 2026, (problem,), date(2026, 7, 17), ("sms",)),
        )
        end = app.process_recorder.max_notification_id()
        # No projector role runs here: the read model has applied none of it.
        assert read_model.position() < end

        rows, token = await queries.list_disclosures(app, OFFICER, UNIT, 2026, 1, "", 50, "")
        assert ([r.disclosure_id for r in rows], token) == ([filed.disclosure_id], "")
        assert read_model.position() == end

        # Current now: the queries must not leave the loop, nor touch psycopg.
        monkeypatch.setattr(readside.asyncio, "to_thread", forbidden("a worker thread"))
        monkeypatch.setattr(read_model.pool, "connection", forbidden("the psycopg pool"))
        monkeypatch.setattr(read_model.projector, "catch_up", forbidden("the projector"))

        rows, token = await queries.list_disclosures(app, CITY, "", 2026, 0, USCC, 50, "")
        [row] = rows
        assert (row.community_code, row.unit, row.quarter, row.late, token) == (
            CODE,
            UNIT,
            1,
            False,
            "",
        )
        assert row.filed_at == datetime(2026, 4, 20, tzinfo=UTC)
        [rate], position = await queries.disclosure_rate(app, OFFICER, UNIT, 2026, 1)
        assert position == end
        assert (rate.communities, rate.on_time, rate.late, rate.pending) == (1, 1, 0, 0)
        assert rate.rate_percent == "100.00"
        ledgers, token = await queries.list_self_inspections(app, OFFICER, UNIT, 2026, 50, "")
        assert [(r.community_code, r.problems, r.rectified, r.late) for r in ledgers] == [
            (CODE, 1, 0, False)
        ]
        assert token == ""
    finally:
        monkeypatch.undo()
        for hook in parts.on_stop:  # as the runtime, once the gRPC server has drained
            await hook()
        await asyncio.to_thread(close, parts)
