"""Isolation instead of retry-forever (issue 11 item 3), on the real broker and database.

Two small services built on servicekit's runtime (tests/support/isolation_service.py):
`notes` (relay, projector, api) and `tally` (consumer, api). Each failure class: a poison
event in the relay (too large for Kafka; one its contract cannot render), in a projector
(bigint out of range), in a consumer (its handler fails), a crash-looping event reaching
the parked table through the durable counter, and what an operator does about them over
the AdminService: re-drive after a fix (the head, then the events held behind it, in
order), skip with a reason (in the audit trail), an older event re-driven after a newer
one, the lag, a projection's rebuild. The same in the push: tests of servicekit.push."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import grpc
import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from servicekit.eventstore import DeliveryRef
from servicekit.postgres import eventsourcing_env
from servicekit.settings import ServiceSettings
from servicekit.testing import eventually, identity_metadata, read_topic, running_service
from tests.support import isolation_service as iso
from tests.support.isolation_service import (
    BIGINT_MAX,
    TOPIC,
    Switches,
    TallyApp,
    build_notes,
    build_tally,
)

pytestmark = pytest.mark.infra

OPERATOR = identity_metadata("operator", "operator", "putian")
AUDITOR = identity_metadata("auditor", "auditor", "putian")


@pytest.fixture(autouse=True)
def broken() -> Iterator[None]:
    """Every poison is poison again at the start of a test (a test deploys its fix)."""
    Switches.translation_broken = Switches.projection_broken = Switches.handler_broken = True
    yield
    Switches.translation_broken = Switches.projection_broken = Switches.handler_broken = True


def parked(settings: ServiceSettings, status: str = "parked") -> list[dict[str, Any]]:
    """The parked table as an operator would read it (raw, to be independent of the code
    under test)."""
    with psycopg.connect(settings.service_database_url) as conn:
        table = conn.execute("SELECT to_regclass('parked_events')").fetchone()
        if table is None or table[0] is None:
            return []  # the service has not started yet
        cur = conn.execute(
            "SELECT id, role, worker, event_key, aggregate_id, version, error, attempts,"
            " held_behind, status, reason FROM parked_events WHERE status = %s ORDER BY id",
            (status,),
        )
        names = [c.name for c in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def notes_table(settings: ServiceSettings) -> dict[str, tuple[int, int]]:
    """iso_notes: note id → (amount, version)."""
    with psycopg.connect(settings.service_database_url) as conn:
        rows = conn.execute("SELECT note_id, amount, version FROM iso_notes").fetchall()
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


async def on_topic(infra: dict[str, str], subject: str, count: int = 1) -> list[Any]:
    return await read_topic(
        infra["kafka"], infra["prefix"] + TOPIC, subject=subject, min_count=count
    )


async def subjects_on_topic(infra: dict[str, str]) -> list[tuple[str, str]]:
    """Every (subject, ce_id) on the topic so far, in order."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        infra["prefix"] + TOPIC,
        bootstrap_servers=infra["kafka"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    seen: list[tuple[str, str]] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                return seen
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    seen.append((headers["ce_subject"], headers["ce_id"]))
    finally:
        await consumer.stop()


def admin(port: int) -> Any:
    from pubrev.common.v1 import admin_pb2_grpc

    return admin_pb2_grpc.AdminServiceStub(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))


def pb() -> Any:
    from pubrev.common.v1 import admin_pb2

    return admin_pb2


# -- the relay -------------------------------------------------------------------------------


async def test_an_event_too_large_for_kafka_is_parked_and_the_relay_goes_on(
    service_settings: Any, infra: dict[str, str]
) -> None:
    """Issue 11: the relay retried MessageSizeTooLargeError for ever and nothing after it
    reached the consumers. Now the event is parked, the later event of its aggregate held
    behind it, every other event relayed; the operator skips it with a reason (in the audit
    trail) and re-drives the one that waited."""
    settings = service_settings("notes")
    async with running_service(build_notes, settings, ("relay", "api")) as (parts, run):
        app = parts.app
        assert isinstance(app, iso.NotesApp) and run.grpc
        first = app.write("ok-1")
        big = app.write("x" * 1_200_000)
        app.amend(big.id, "after the big one")
        last = app.write("ok-last")

        await on_topic(infra, str(last.id))  # before: never, the relay stuck on `big`
        await on_topic(infra, str(first.id))

        async def both_parked() -> list[dict[str, Any]]:
            rows = await asyncio.to_thread(parked, settings)
            return rows if len(rows) == 2 else []

        head, held = await eventually(both_parked, what="the big note parked, its amendment held")
        assert (head["role"], head["worker"], head["aggregate_id"], head["version"]) == (
            "relay",
            "relay:notes",
            str(big.id),
            1,
        )
        assert "MessageSizeTooLarge" in head["error"] and head["attempts"] == 1
        assert len(head["error"]) < 400 and "xxxxxxxxxx" not in head["error"]
        assert (held["held_behind"], held["version"]) == (head["id"], 2)
        assert str(big.id) not in {s for s, _ in await subjects_on_topic(infra)}

        stub = admin(run.grpc.port)
        listed = await stub.ListParked(pb().ListParkedRequest(role="relay"), metadata=OPERATOR)
        assert [e.id for e in listed.parked] == [head["id"], held["id"]]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListParked(pb().ListParkedRequest(), metadata=AUDITOR)
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as behind:
            await stub.RedriveParked(pb().RedriveParkedRequest(id=held["id"]), metadata=OPERATOR)
        assert behind.value.code() is grpc.StatusCode.FAILED_PRECONDITION

        reason = "超过消息上限，已请经办人重新录入"
        skipped = await stub.SkipParked(
            pb().SkipParkedRequest(id=head["id"], reason=reason), metadata=OPERATOR
        )
        assert (skipped.skipped.status, skipped.skipped.reason) == ("skipped", reason)
        assert skipped.next_head == held["id"]
        redriven = await stub.RedriveParked(
            pb().RedriveParkedRequest(id=held["id"]), metadata=OPERATOR
        )
        assert list(redriven.redriven_ids) == [held["id"]] and redriven.failed_id == 0
        [amended] = await on_topic(infra, str(big.id))
        assert dict(amended.headers)["ce_id"].decode() == f"{big.id}:2"
        assert await asyncio.to_thread(parked, settings) == []

        actions = [e for e in app.history(None, 0, 1000) if e.type == "OperatorAction.Taken"]
        assert [(a.payload["rpc"], a.payload["details"].get("reason")) for a in actions] == [
            ("SkipParked", reason),
            ("RedriveParked", None),
        ]
        assert actions[0].payload["actor"] == "agency=operator;role=operator;unit=putian"


async def test_an_event_its_contract_cannot_render_waits_for_the_fix_then_goes_in_order(
    service_settings: Any, infra: dict[str, str]
) -> None:
    settings = service_settings("notes")
    async with running_service(build_notes, settings, ("relay", "api")) as (parts, run):
        app = parts.app
        assert isinstance(app, iso.NotesApp) and run.grpc
        bad = app.write("untranslatable-1")
        app.amend(bad.id, "untranslatable too, until the fix")
        ok = app.write("ok")
        await on_topic(infra, str(ok.id))

        async def two() -> list[dict[str, Any]]:
            rows = await asyncio.to_thread(parked, settings)
            return rows if len(rows) == 2 else []

        head, held = await eventually(two, what="the note parked, its amendment held")
        assert "cannot translate" in head["error"] and held["held_behind"] == head["id"]

        stub = admin(run.grpc.port)
        again = await stub.RedriveParked(
            pb().RedriveParkedRequest(id=head["id"]), metadata=OPERATOR
        )
        assert (list(again.redriven_ids), again.failed_id, again.still_held) == ([], head["id"], 1)
        assert "no contract" in again.error
        [still] = await asyncio.to_thread(
            lambda: [r for r in parked(settings) if r["id"] == head["id"]]
        )
        assert still["attempts"] == 2

        Switches.translation_broken = False  # the fix is deployed
        fixed = await stub.RedriveParked(
            pb().RedriveParkedRequest(id=head["id"]), metadata=OPERATOR
        )
        assert list(fixed.redriven_ids) == [head["id"], held["id"]]
        records = await on_topic(infra, str(bad.id), count=2)
        assert [dict(r.headers)["ce_id"].decode() for r in records] == [
            f"{bad.id}:1",
            f"{bad.id}:2",
        ]
        assert await asyncio.to_thread(parked, settings) == []


# -- a projector ------------------------------------------------------------------------------


async def test_a_value_the_read_model_cannot_hold_is_parked_and_the_projection_goes_on(
    service_settings: Any,
) -> None:
    """Issue 11: the read-model projector looped on `bigint out of range` and every read
    failed. Now that event is parked (its aggregate's later events held), the others are
    projected; after the fix a re-drive applies both in order; a rebuild from position 0
    swaps in tables equal to the live ones."""
    settings = service_settings("notes")
    async with running_service(build_notes, settings, ("projector", "api")) as (parts, run):
        app = parts.app
        assert isinstance(app, iso.NotesApp) and run.grpc and parts.projector
        first = app.write("ok-1", 5)
        huge = app.write("huge", BIGINT_MAX + 1)
        app.amend(huge.id, "huge, amended", 7)
        last = app.write("ok-2", 9)

        async def projected() -> bool:
            table = await asyncio.to_thread(notes_table, settings)
            return str(last.id) in table  # before: never, the batch failed again and again

        await eventually(projected, what="the notes after the poison projected")
        table = await asyncio.to_thread(notes_table, settings)
        assert table == {str(first.id): (5, 1), str(last.id): (9, 1)}
        head, held = await asyncio.to_thread(parked, settings)
        assert (head["role"], head["worker"]) == ("projector", "projection:notes.read-model")
        assert "out of range" in head["error"] and held["held_behind"] == head["id"]

        stub = admin(run.grpc.port)
        Switches.projection_broken = False
        fixed = await stub.RedriveParked(
            pb().RedriveParkedRequest(id=head["id"]), metadata=OPERATOR
        )
        assert list(fixed.redriven_ids) == [head["id"], held["id"]]
        table = await asyncio.to_thread(notes_table, settings)
        assert table[str(huge.id)] == (7, 2)

        # The re-drive is recorded in the log too (an OperatorAction): the projector moves
        # past it, to the head.
        log_head = await asyncio.to_thread(app.recorder.max_notification_id)
        projector = parts.projector

        async def caught_up() -> bool:
            return await asyncio.to_thread(projector.position) == log_head

        await eventually(caught_up, what="the projector at the head of the log")
        lag = await stub.GetLag(pb().GetLagRequest(), metadata=OPERATOR)
        assert [(p.name, p.position, p.head) for p in lag.projections] == [
            ("notes.read-model", log_head, log_head)
        ]
        assert (lag.relay.name, lag.relay.head) == ("relay:notes", log_head)
        assert list(lag.parked) == []

        rebuilt = await stub.RebuildProjection(
            pb().RebuildProjectionRequest(name="notes.read-model"), metadata=OPERATOR
        )
        assert (rebuilt.applied, rebuilt.parked, rebuilt.position) == (log_head, 0, log_head)
        assert list(rebuilt.tables) == ["iso_notes"]
        assert await asyncio.to_thread(notes_table, settings) == table
        with psycopg.connect(settings.service_database_url) as conn:
            schemas = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE"
                " 'rebuild_%' OR nspname LIKE 'retired_%'"
            ).fetchall()
        assert schemas == []
        after = app.write("after the rebuild", 11)

        async def live_again() -> bool:
            return str(after.id) in await asyncio.to_thread(notes_table, settings)

        await eventually(live_again, what="the live projector to go on in the new tables")


# -- a consumer -------------------------------------------------------------------------------


async def test_an_event_its_handler_cannot_apply_is_parked_and_its_aggregate_waits(
    service_settings: Any, infra: dict[str, str]
) -> None:
    notes = service_settings("notes")
    tally = service_settings("tally", consumer_max_attempts=3)
    async with (
        running_service(build_notes, notes, ("relay",)) as (nparts, _),
        running_service(build_tally, tally, ("consumer", "api")) as (tparts, run),
    ):
        app, sink = nparts.app, tparts.app
        assert isinstance(app, iso.NotesApp) and isinstance(sink, TallyApp) and run.grpc
        poison = app.write("poison-1")
        app.amend(poison.id, "second")
        ok = app.write("ok")

        async def counted() -> bool:
            return await asyncio.to_thread(sink.versions, str(ok.id)) == [1]

        await eventually(counted, what="the note after the poison counted")

        async def two() -> list[dict[str, Any]]:
            rows = await asyncio.to_thread(parked, tally)
            return rows if len(rows) == 2 else []

        head, held = await eventually(two, timeout=60, what="the poison parked, its next held")
        assert (head["role"], head["worker"], head["event_key"]) == (
            "consumer",
            "consumer:tally.notes",
            f"{poison.id}:1",
        )
        assert head["attempts"] == 3 and "cannot count" in head["error"]
        assert (held["held_behind"], held["version"], held["attempts"]) == (head["id"], 2, 0)
        assert sink.versions(str(poison.id)) == []  # its second event waited behind it

        port = run.grpc.port

        async def no_lag() -> Any:
            lag = await admin(port).GetLag(pb().GetLagRequest(), metadata=OPERATOR)
            assert lag.consumers_error == ""
            busy = {(c.group, c.lag) for c in lag.consumers if c.end > 0}
            return lag if busy == {("tally.notes", 0)} else None

        lag = await eventually(no_lag, what="the group's offsets past the held event")
        assert [(c.worker, c.parked, c.held) for c in lag.parked] == [
            ("consumer:tally.notes", 1, 1)
        ]

        Switches.handler_broken = False
        fixed = await admin(run.grpc.port).RedriveParked(
            pb().RedriveParkedRequest(id=head["id"]), metadata=OPERATOR
        )
        assert list(fixed.redriven_ids) == [head["id"], held["id"]]
        assert sink.versions(str(poison.id)) == [1, 2]


async def test_an_older_event_re_driven_after_a_newer_one_of_its_aggregate_is_applied(
    service_settings: Any, infra: dict[str, str]
) -> None:
    """Issue 11: a dead-lettered event published again after a fix was ignored when a
    later version of its aggregate had been applied (tracking kept only the highest
    version). The operator skips the poison, lets its next event through, and after the fix
    the skipped event is published again: it is applied, once."""
    notes = service_settings("notes")
    tally = service_settings("tally", consumer_max_attempts=2)
    async with (
        running_service(build_notes, notes, ("relay",)) as (nparts, _),
        running_service(build_tally, tally, ("consumer", "api")) as (tparts, run),
    ):
        app, sink = nparts.app, tparts.app
        assert isinstance(app, iso.NotesApp) and isinstance(sink, TallyApp) and run.grpc
        poison = app.write("poison-2")
        app.amend(poison.id, "second")

        async def two() -> list[dict[str, Any]]:
            rows = await asyncio.to_thread(parked, tally)
            return rows if len(rows) == 2 else []

        head, held = await eventually(two, timeout=60, what="the poison parked, its next held")
        stub = admin(run.grpc.port)
        await stub.SkipParked(
            pb().SkipParkedRequest(id=head["id"], reason="待修复后重发"), metadata=OPERATOR
        )
        await stub.RedriveParked(pb().RedriveParkedRequest(id=held["id"]), metadata=OPERATOR)
        assert sink.versions(str(poison.id)) == [2]

        Switches.handler_broken = False
        records = await on_topic(infra, str(poison.id), count=2)
        [first] = [r for r in records if dict(r.headers)["ce_id"] == f"{poison.id}:1".encode()]
        await republish(infra, first)

        async def both() -> bool:
            return await asyncio.to_thread(sink.versions, str(poison.id)) == [2, 1]

        await eventually(both, what="the older event applied after the newer one")
        assert run.consumer is not None
        seen = run.consumer.duplicates
        await republish(infra, first)  # and only once

        async def recognised() -> bool:
            return run.consumer is not None and run.consumer.duplicates > seen

        await eventually(recognised, what="the repeat recognised as a duplicate")
        assert sink.versions(str(poison.id)) == [2, 1]


async def republish(infra: dict[str, str], record: Any) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra["kafka"], acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            record.topic, record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()


def test_the_tracking_of_an_older_event_after_a_newer_one(service_settings: Any) -> None:
    """The same at the event store: each applied event has its own tracking record."""
    settings = service_settings("tally")
    sink = TallyApp(env=eventsourcing_env(settings.service_database_url))
    note_id = str(uuid.uuid4())
    event = iso.NoteV1(aggregate_id=uuid.UUID(note_id), aggregate_version=2, text="b", amount=1)
    assert sink.apply_note(event, DeliveryRef("tally.notes", note_id, 2)) is True
    older = event.model_copy(update={"aggregate_version": 1, "text": "a"})
    assert sink.apply_note(older, DeliveryRef("tally.notes", note_id, 1)) is True
    assert sink.apply_note(older, DeliveryRef("tally.notes", note_id, 1)) is False
    assert sink.apply_note(event, DeliveryRef("tally.notes", note_id, 2)) is False
    assert sink.versions(note_id) == [2, 1]
    sink.close()


# -- a crash loop ------------------------------------------------------------------------------


async def test_an_event_that_kills_the_consumer_every_time_reaches_the_parked_table(
    service_settings: Any, infra: dict[str, str]
) -> None:
    """Issue 11: the consumer's attempt counter lived in memory, so an event that crashed
    its process never reached the dead-letter topic: the consumer died on it for ever. Now
    a process that starts where the last one died counts each attempt in the database
    first, and the event is parked after max_attempts; the consumer then goes on."""
    notes = service_settings("notes")
    tally = service_settings("tally", consumer_max_attempts=2)
    async with running_service(build_notes, notes, ("relay",)) as (nparts, _):
        app = nparts.app
        assert isinstance(app, iso.NotesApp)
        before = app.write("ok-before")
        crash = app.write("crash-1")
        after = app.write("ok-after")
        await on_topic(infra, str(after.id))
    env = {
        **os.environ,
        "PUBREV_TEST_CRASH": "1",
        "DATABASE_URL": tally.database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "KAFKA_BOOTSTRAP": infra["kafka"],
        "PUBREV_TOPIC_PREFIX": infra["prefix"],
        "PUBREV_LOG_LEVEL": "WARNING",
        "PUBREV_CONSUMER_MAX_ATTEMPTS": "2",
    }
    sink = TallyApp(env=eventsourcing_env(tally.service_database_url))
    crashes = 0
    try:
        for _ in range(8):  # before: it died on the same event each time, for ever
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.support.isolation_service",
                "tally",
                "consumer",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )

            async def through(process: Any = process) -> bool:
                if process.returncode is not None:
                    return True
                rows = await asyncio.to_thread(parked, tally)
                return bool(rows) and await asyncio.to_thread(sink.versions, str(after.id)) == [1]

            await eventually(through, timeout=90, what="the consumer to die or get through")
            if process.returncode is None:
                process.terminate()  # it stays up: the event no longer kills it
                await process.wait()
                break
            stderr = await process.stderr.read() if process.stderr else b""
            assert process.returncode == 86, stderr.decode()[-2000:]
            crashes += 1
    finally:
        if process.returncode is None:
            process.kill()
    # The first death is not yet a loop; then 2 attempts counted before each try; parked on
    # the next start.
    assert crashes == 3
    [entry] = await asyncio.to_thread(parked, tally)
    assert (entry["event_key"], entry["attempts"]) == (f"{crash.id}:1", 2)
    assert "died applying it 2 times" in entry["error"]
    try:
        assert sink.versions(str(before.id)) == [1] and sink.versions(str(after.id)) == [1]
        assert sink.versions(str(crash.id)) == []
    finally:
        sink.close()


# -- credit's feeds ----------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Any]:
    from credit.bootstrap import SCHEMAS
    from tools.feed_receiver import FeedReceiver, dev_keys

    feeds = ("creditchina", "market")
    schemas = {f: json.loads((SCHEMAS / f"{f}.schema.json").read_text()) for f in feeds}
    with FeedReceiver(schemas=schemas, keys=dev_keys(list(feeds))) as r:
        yield r


async def test_a_penalty_its_feed_refuses_is_parked_and_every_other_record_is_pushed(
    service_settings: Any, receiver: Any
) -> None:
    """Issue 11: a decision number with a tab broke the feed enqueue inside credit's
    projector, and all credit feeds stopped. The command refuses such a number now; one
    stored before (here written to the log directly, past the command's checks) is parked
    by the projector, and the penalties after it reach both receivers."""
    from credit.application.app import CreditApplication
    from credit.bootstrap import build as build_credit
    from credit.domain.penalty import Penalty
    from servicekit.identity import Identity
    from services.credit.tests.support.scenario import noticed, penalty_command

    feeds = {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
    }
    settings = service_settings("credit")
    async with running_service(
        lambda s: build_credit(s, feeds=feeds), settings, ("projector", "api")
    ) as (parts, run):
        app = parts.app
        assert isinstance(app, CreditApplication) and run.grpc
        cmd = penalty_command("莆城管罚决〔2026〕\t9号")
        old = Penalty.impose(
            app.rules.display,
            decision_number=cmd.decision_number,
            party_name=cmd.party_name,
            party_uscc=cmd.party_uscc,
            violation_kind=cmd.violation_kind,
            facts=cmd.facts,
            legal_basis=cmd.legal_basis,
            penalty_types=list(cmd.penalty_types),
            content=cmd.content,
            fine_fen=cmd.fine_fen,
            confiscated_fen=cmd.confiscated_fen,
            decision_date=date(2026, 5, 6),
            valid_until=date(2026, 11, 5),
            severity=cmd.severity,
            authority_name=cmd.authority_name,
            authority_uscc=cmd.authority_uscc,
            unit=cmd.unit,
            remarks=cmd.remarks,
        )
        await asyncio.to_thread(
            app.recorder.insert_events,
            [app.mapper.to_stored_event(e) for e in old.collect_events()],
        )
        good = penalty_command("莆城管罚决〔2026〕10号")
        officer = Identity("property-bureau", "officer", "licheng")
        # A decision follows its notice (《行政处罚法》第四十四条): served 30 days before.
        await asyncio.to_thread(lambda: app.handle(officer, noticed(app, good, officer)))
        record_id = f"penalty:{good.decision_number}"

        async def pushed() -> bool:
            return {("creditchina", record_id), ("market", record_id)} <= set(receiver.records)

        await eventually(pushed, what="the later penalty on both feeds")  # before: never
        [entry] = await asyncio.to_thread(parked, settings)
        assert (entry["role"], entry["worker"], entry["aggregate_id"]) == (
            "projector",
            "projection:credit.feeds",
            str(Penalty.create_id(cmd.decision_number)),
        )
        assert "record id" in entry["error"] and "\t" not in entry["error"]
        assert not any(cmd.decision_number in r for _, r in receiver.records)

        # The feeds' re-push by status and time, as pubrev-admin asks for it.
        stub = admin(run.grpc.port)
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.RepushFeeds(
                pb().RepushFeedsRequest(feed="creditchina", since="yesterday"), metadata=OPERATOR
            )
        assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "since" in (bad.value.details() or "")
        none_dead = await stub.RepushFeeds(
            pb().RepushFeedsRequest(feed="creditchina"), metadata=OPERATOR
        )
        assert (none_dead.repushed, list(none_dead.record_ids)) == (0, [])
        again = await stub.RepushFeeds(
            pb().RepushFeedsRequest(
                feed="creditchina", status="delivered", since="2020-01-01T00:00:00+08:00"
            ),
            metadata=OPERATOR,
        )
        assert list(again.record_ids) == [record_id]
