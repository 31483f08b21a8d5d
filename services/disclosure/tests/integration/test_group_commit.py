"""Group commit on PostgreSQL: concurrent filings share transactions, and a conflict inside
a group fails only the conflicting command."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    DisclosureFiled,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.application.handlers import file_disclosure_reads, prepare_file_disclosure
from disclosure.entrypoints.grpc_api import content_from_pb
from servicekit.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from servicekit.group_commit import GroupCommitter
from servicekit.identity import Identity
from servicekit.postgres import eventsourcing_env
from services.disclosure.tests.support.requests import USCC, content, unique_code

pytestmark = pytest.mark.infra

OFFICER = Identity("property-bureau", "officer", "chengxiang")
CITY = Identity("property-bureau", "officer", "putian")


def filing(code: str, request_id: str) -> FileDisclosure:
    return FileDisclosure(request_id, code, 2026, 1, content_from_pb(content()))


async def test_concurrent_filings_share_transactions(service_settings) -> None:
    settings = service_settings("disclosure")
    app = DisclosureApplication(
        env=eventsourcing_env(settings.database_url),
        clock=lambda: datetime(2026, 4, 20, tzinfo=UTC),
    )
    app.handle(CITY, RegisterCompany("c", USCC, "某物业", ""))
    codes = [unique_code("GC") for _ in range(60)]
    for code in codes:
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "小区",
                "地址",
                "chengxiang",
                "350302",
                "龙桥街道",
                USCC,
                "某物业",
                True,
                1,
                1,
                False,
                100,
            ),
        )
    committer = GroupCommitter(app)
    before = app.process_recorder.max_notification_id() or 0

    async def file(code: str, request_id: str) -> DisclosureFiled:
        prepared = await asyncio.to_thread(
            prepare_file_disclosure, app, OFFICER, filing(code, request_id)
        )
        filed: DisclosureFiled = await committer.commit(prepared)
        return filed

    # Two different requests for the same quarter of codes[0]: one must lose.
    outcomes = await asyncio.gather(
        *(file(code, f"f-{code}") for code in codes),
        file(codes[0], "a-competing-request"),
        return_exceptions=True,
    )
    await committer.close()
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    # The loser fails at commit (Conflict) or, if the winner was committed before it was
    # decided, at decision (AlreadyExists); either way, only it.
    assert len(failures) == 1 and isinstance(failures[0], Conflict | AlreadyExists)
    assert committer.groups < committer.commands <= 61
    # 60 disclosures + 60 receipts, nothing else written (ids may have gaps).
    written = app.process_recorder.select_notifications(before, 1000, inclusive_of_start=False)
    assert len(written) == 120
    assert all(app.find_receipt("FileDisclosure", f"f-{code}") is not None for code in codes[1:])
    app.close()


async def test_decisions_run_in_the_group_one_refusal_fails_only_itself(
    service_settings,
) -> None:
    settings = service_settings("disclosure")
    app = DisclosureApplication(
        env=eventsourcing_env(settings.database_url),
        clock=lambda: datetime(2026, 4, 20, tzinfo=UTC),
    )
    app.handle(CITY, RegisterCompany("c", USCC, "某物业", ""))
    codes = [unique_code("GR") for _ in range(20)]
    for code in codes:
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "小区",
                "地址",
                "chengxiang",
                "350302",
                "龙桥街道",
                USCC,
                "某物业",
                True,
                1,
                1,
                False,
                100,
            ),
        )
    committer = GroupCommitter(app)
    first = app.handle(OFFICER, filing(codes[0], f"f-{codes[0]}"))

    def decide(code: str, request_id: str) -> Callable[[], object]:
        return lambda: prepare_file_disclosure(app, OFFICER, filing(code, request_id))

    bad = FileDisclosure("bad", codes[1], 2026, 7, content_from_pb(content()))
    outcomes = await asyncio.gather(
        committer.run(decide(codes[0], f"f-{codes[0]}")),  # a retry: the first result
        committer.run(lambda: prepare_file_disclosure(app, OFFICER, bad)),  # quarter 7
        *(committer.run(decide(code, f"f-{code}")) for code in codes[2:]),
        return_exceptions=True,
    )
    await committer.close()
    assert outcomes[0] == first
    assert isinstance(outcomes[1], InvalidArgument)
    assert all(isinstance(o, DisclosureFiled) and o.late is False for o in outcomes[2:])
    assert committer.groups < committer.commands == 20
    app.close()


async def test_a_group_reads_its_communities_in_one_query(service_settings) -> None:
    """The servicer names what a filing reads (`file_disclosure_reads`): the group reads
    those communities in one query on PostgreSQL, an unknown one is NOT_FOUND for its own
    filing only, and the filings are what they would be read one by one."""
    settings = service_settings("disclosure")
    app = DisclosureApplication(
        env=eventsourcing_env(settings.database_url),
        clock=lambda: datetime(2026, 4, 20, tzinfo=UTC),
    )
    app.handle(CITY, RegisterCompany("c", USCC, "某物业", ""))
    codes = [unique_code("GP") for _ in range(12)]
    for code in codes:
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "小区",
                "地址",
                "chengxiang",
                "350302",
                "龙桥街道",
                USCC,
                "某物业",
                True,
                1,
                1,
                False,
                100,
            ),
        )
    recorder: Any = app.recorder
    queries = {"after": 0, "one": 0}
    select_events_after, select_events = recorder.select_events_after, recorder.select_events

    def after(*args: Any, **kwargs: Any) -> Any:
        queries["after"] += 1
        return select_events_after(*args, **kwargs)

    def one(*args: Any, **kwargs: Any) -> Any:
        queries["one"] += 1
        return select_events(*args, **kwargs)

    recorder.select_events_after, recorder.select_events = after, one
    committer = GroupCommitter(app)
    unknown = unique_code("GX")

    def run(code: str) -> Any:
        cmd = filing(code, f"f-{code}")
        return committer.run(
            lambda: prepare_file_disclosure(app, OFFICER, cmd), file_disclosure_reads(cmd)
        )

    outcomes = await asyncio.gather(*(run(c) for c in [*codes, unknown]), return_exceptions=True)
    await committer.close()
    assert all(isinstance(o, DisclosureFiled) and o.late is False for o in outcomes[:-1])
    assert isinstance(outcomes[-1], NotFound)
    assert queries["after"] == committer.groups < len(codes)
    assert queries["one"] == 0  # no community read one by one
    app.close()
