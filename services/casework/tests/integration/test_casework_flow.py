"""Casework on the real stack: personal data never on the Kafka topic (read back), shredded
for good in PostgreSQL, police isolation through gRPC, and a rectification case opened by
inspection's event."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import openpyxl
import pytest

from casework.application.app import CaseworkApplication
from casework.bootstrap import build
from casework.domain.case import Case
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import (
    FakeClock,
    eventually,
    identity_metadata,
    publish_event,
    read_topic,
    running_service,
)
from services.casework.tests.support.scenario import zhihui_feed
from tools.feed_receiver import FeedReceiver, dev_keys

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
SCHEMAS_DIR = Path(__file__).resolve().parents[4] / "contracts" / "feeds"
OFFICER = identity_metadata("property-bureau", "officer", "licheng")
POLICE = identity_metadata("police", "investigator", "licheng", "putian-psb-licheng")
NAME, PHONE = "陈某某", "13800138000"


async def test_personal_data_stays_out_of_kafka_and_can_be_shredded(
    service_settings, infra
) -> None:
    async with running_service(build, service_settings("casework")) as (parts, run):
        assert run.grpc
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)
            received = await stub.ReceiveComplaint(
                pb.ReceiveComplaintRequest(
                    request_id=str(uuid.uuid4()),
                    channel="hotline_12345",
                    community_code="LC-0009",
                    category="revenue_embezzled",
                    description="怀疑物业挪用广告收入",
                    unit="licheng",
                    complainant_name=NAME,
                    complainant_phone=PHONE,
                ),
                metadata=OFFICER,
            )
            got = await stub.GetCase(pb.GetCaseRequest(case_id=received.case_id), metadata=OFFICER)
            assert (got.case.complainant_name, got.case.complainant_phone) == ("", "")
            read = await stub.ReadComplainant(
                pb.ReadComplainantRequest(case_id=received.case_id, purpose="investigation"),
                metadata=OFFICER,
            )
            assert (read.complainant_name, read.complainant_phone) == (NAME, PHONE)
            assert read.read_id > 0
            assert [e.type for e in got.history] == ["Case.Received"]
            assert NAME not in got.history[0].payload_json  # only ciphertext in the trail

            records = await read_topic(
                infra["kafka"], infra["prefix"] + CASEWORK_EVENTS, subject=received.case_id
            )
            on_the_wire = b"".join(r.value + b"".join(v for _, v in r.headers) for r in records)
            assert NAME.encode() not in on_the_wire and PHONE.encode() not in on_the_wire
            assert json.loads(records[0].value)["channel"] == "hotline_12345"

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetCase(pb.GetCaseRequest(case_id=received.case_id), metadata=POLICE)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # not referred to them

            shredded = (
                await stub.ShredPersonalData(
                    pb.ShredPersonalDataRequest(request_id="shred", case_id=received.case_id),
                    metadata=OFFICER,
                )
            ).case
            assert shredded.personal_data_shredded and not shredded.complainant_name
            after = await stub.ReadComplainant(
                pb.ReadComplainantRequest(case_id=received.case_id, purpose="feedback"),
                metadata=OFFICER,
            )
            assert after.shredded and not after.complainant_name and after.read_id == 0
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        stored = app.case(received.case_id)
        assert stored.sealed_personal_data  # ciphertext kept, key gone
        assert app.vault.open(stored.id, stored.sealed_personal_data) is None


async def test_a_finding_opens_a_rectification_case_once(service_settings, infra) -> None:
    topic = infra["prefix"] + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    finding = str(uuid.uuid4())
    deadline = datetime.now(UTC) - timedelta(days=1)  # already past: the case is overdue
    body = json.loads((SAMPLES / "pubrev.inspection.RectificationOrdered.v1.json").read_text())
    body |= {
        "aggregate_id": finding,
        "aggregate_version": 2,
        "deadline": deadline.isoformat().replace("+00:00", "Z"),
    }
    async with running_service(build, service_settings("casework")) as (parts, run):
        assert run.grpc and run.consumer
        for _ in range(2):  # a re-sent copy changes nothing
            await publish_event(
                infra["kafka"], topic, "pubrev.inspection.RectificationOrdered.v1", body
            )
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        case_id = Case.create_id(f"rectification:{finding}")

        async def opened() -> bool:
            return (
                await asyncio.to_thread(lambda: case_id in app.repository)
                and run.consumer is not None
                and run.consumer.duplicates >= 1
            )

        await eventually(opened, what="the rectification case (and the duplicate skipped)")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)
            overdue = await stub.ListCases(pb.ListCasesRequest(overdue_only=True), metadata=OFFICER)
        assert [(c.case_id, c.kind) for c in overdue.cases] == [(str(case_id), "rectification")]


async def test_a_city_checked_finding_is_in_the_communitys_unit_ledger(
    service_settings, infra
) -> None:
    """A finding of the city's own spot check of a chengxiang community (RectificationOrdered
    with the community's unit, DOMAIN.md §2; the checking body apart) opens a rectification
    case filed under chengxiang: it is in chengxiang's monthly ledger, not in the city's."""
    topic = infra["prefix"] + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    finding = str(uuid.uuid4())
    body = json.loads((SAMPLES / "pubrev.inspection.RectificationOrdered.v1.json").read_text())
    body |= {
        "aggregate_id": finding,
        "aggregate_version": 2,
        "unit": "chengxiang",
        "community_code": "CX-0042",
        "occurred_at": "2026-05-06T02:30:00Z",
        "deadline": "2026-06-05T15:59:59Z",
        "checking_unit": "putian",
        "checking_kind": "city",
    }
    chengxiang = identity_metadata("property-bureau", "officer", "chengxiang")
    async with running_service(build, service_settings("casework")) as (parts, run):
        assert run.grpc and run.consumer
        await publish_event(
            infra["kafka"], topic, "pubrev.inspection.RectificationOrdered.v1", body
        )
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        case_id = str(Case.create_id(f"rectification:{finding}"))
        await eventually(
            lambda: asyncio.to_thread(lambda: uuid.UUID(case_id) in app.repository),
            what="the rectification case of the city's finding",
        )
        assert app.case(case_id).unit == "chengxiang"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)
            reply = await stub.ExportMonthlyLedgers(
                pb.ExportMonthlyLedgersRequest(unit="chengxiang", year=2026, month=5, format="csv"),
                metadata=chengxiang,
            )
            licheng = await stub.ExportMonthlyLedgers(
                pb.ExportMonthlyLedgersRequest(unit="licheng", year=2026, month=5, format="csv"),
                metadata=OFFICER,
            )
    rows = reply.files[0].data.decode("utf-8-sig").splitlines()[1:]
    assert [(r.split(",")[0], r.split(",")[1], r.split(",")[4]) for r in rows] == [
        (case_id, "整改", "CX-0042")
    ]
    assert case_id not in licheng.files[0].data.decode("utf-8-sig")


async def test_monthly_ledgers_for_a_known_month(service_settings) -> None:
    clock = FakeClock(datetime(2026, 3, 31, 15, 30, tzinfo=UTC))  # 1 April 23:30 Shanghai
    async with running_service(
        lambda s: build(s, clock=clock), service_settings("casework"), ("api",)
    ) as (_, run):
        assert run.grpc
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)

            async def complaint(n: int, at: str) -> str:
                reply = await stub.ReceiveComplaint(
                    pb.ReceiveComplaintRequest(
                        request_id=f"c{n}",
                        channel="phone",
                        community_code=f"LC-{n}",
                        category="accounts_unclear",
                        unit="licheng",
                        received_at=at,
                    ),
                    metadata=OFFICER,
                )
                return reply.case_id

            march = await complaint(1, "2026-03-31T15:59:00Z")  # 31 March 23:59 Shanghai
            april = await complaint(2, "2026-03-31T16:00:00Z")  # 1 April 00:00 Shanghai
            await stub.StartInvestigation(
                pb.StartInvestigationRequest(request_id="i1", case_id=march), metadata=OFFICER
            )
            csv_files = (
                await stub.ExportMonthlyLedgers(
                    pb.ExportMonthlyLedgersRequest(
                        unit="licheng", year=2026, month=4, format="csv"
                    ),
                    metadata=OFFICER,
                )
            ).files
            xlsx = (
                await stub.ExportMonthlyLedgers(
                    pb.ExportMonthlyLedgersRequest(
                        unit="licheng", year=2026, month=4, format="xlsx"
                    ),
                    metadata=OFFICER,
                )
            ).files
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ExportMonthlyLedgers(
                    pb.ExportMonthlyLedgersRequest(
                        unit="licheng", year=2026, month=4, format="csv"
                    ),
                    metadata=identity_metadata("property-bureau", "officer", "hanjiang"),
                )
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            # 2027's holidays are not entered: its due dates are refused, never guessed.
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ExportMonthlyLedgers(
                    pb.ExportMonthlyLedgersRequest(
                        unit="licheng", year=2027, month=1, format="csv"
                    ),
                    metadata=OFFICER,
                )
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "2027" in (caught.value.details() or "")
            april_reply = await stub.ExportMonthlyLedgers(
                pb.ExportMonthlyLedgersRequest(unit="licheng", year=2026, month=4, format="csv"),
                metadata=OFFICER,
            )
    # Due by the 25th (plan 六（四）); Saturday 25 April 2026 moves to Monday 27 April.
    assert april_reply.due_on == "2026-04-27" and "六（四）" in april_reply.due_legal_basis
    problem_csv, work_csv, due_csv = csv_files
    assert due_csv.data.decode("utf-8-sig").splitlines()[1].startswith("2026-04-27,")
    problems = problem_csv.data.decode("utf-8-sig").splitlines()
    assert problems[0].startswith("编号,类型,来源渠道,受理日期")
    assert [line.split(",")[0] for line in problems[1:]] == [april]
    assert problems[1].split(",")[3] == "2026-04-01"
    work = work_csv.data.decode("utf-8-sig").splitlines()[1:]
    # Receipts count on the day received (Shanghai); the March one is not April's work.
    assert [(line.split(",")[1], line.split(",")[2]) for line in work] == [(april, "受理")]
    book = openpyxl.load_workbook(io.BytesIO(xlsx[0].data))
    assert book.sheetnames == ["问题线索台账", "工作台账", "报送期限"]
    assert book["报送期限"]["A2"].value == "2026-04-27"
    assert [row[0] for row in book["问题线索台账"].iter_rows(min_row=2, values_only=True)] == [
        april
    ]


async def test_warning_raised_pushed_to_zhihui_and_closed_with_evidence(
    service_settings, infra
) -> None:
    topic = infra["prefix"] + DISCLOSURE_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    schema = json.loads((SCHEMAS_DIR / "zhihui.schema.json").read_text())
    with FeedReceiver(schemas={"zhihui": schema}, keys=dev_keys(["zhihui"])) as receiver:
        feed = zhihui_feed(receiver.feed_url("zhihui"))
        async with running_service(lambda s: build(s, feed=feed), service_settings("casework")) as (
            _,
            run,
        ):
            assert run.grpc
            overdue = json.loads(
                (SAMPLES / "pubrev.disclosure.DisclosureOverdue.v1.json").read_text()
            )
            overdue |= {"aggregate_id": str(uuid.uuid4()), "community_code": "LC-0042"}
            for _ in range(2):  # redelivered: still one warning
                await publish_event(
                    infra["kafka"], topic, "pubrev.disclosure.DisclosureOverdue.v1", overdue
                )
            async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
                stub = pb_grpc.CaseworkServiceStub(channel)

                async def raised() -> list[pb.Warning]:
                    reply = await stub.ListWarnings(
                        pb.ListWarningsRequest(unit="licheng", rule="disclosure_overdue"),
                        metadata=OFFICER,
                    )
                    return list(reply.warnings)

                [warning] = await eventually(raised, what="the overdue warning")
                assert (warning.subject, warning.period) == ("LC-0042", "2026Q1")
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.CloseWarning(
                        pb.CloseWarningRequest(request_id="w0", warning_id=warning.warning_id),
                        metadata=OFFICER,
                    )
                assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
                closed = await stub.CloseWarning(
                    pb.CloseWarningRequest(
                        request_id="w1",
                        warning_id=warning.warning_id,
                        evidence_refs=["公示照片.jpg"],
                        note="已补正公示",
                    ),
                    metadata=OFFICER,
                )
                assert closed.warning.status == "closed"

                async def pushed() -> bool:
                    kinds = {
                        r["record_type"]
                        for (f, _), r in receiver.records.items()
                        if f == "zhihui" and r["warning_id"] == warning.warning_id
                    }
                    return kinds == {"warning_raised", "warning_closed"}

                await eventually(pushed, what="raise and closure pushed to 智慧监督")
                # (the calendar's hourly sweep, on the real clock, raises warnings of its own)
                still_open = await stub.ListWarnings(
                    pb.ListWarningsRequest(unit="licheng", rule="disclosure_overdue"),
                    metadata=OFFICER,
                )
                assert not still_open.warnings
