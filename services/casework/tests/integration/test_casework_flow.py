"""Casework on the real stack: personal data never on the Kafka topic (read back), shredded
for good in PostgreSQL, police isolation through gRPC, and a rectification case opened by
inspection's event."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from casework.application.app import CaseworkApplication
from casework.bootstrap import build
from casework.domain.case import Case
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev_contracts.topics import CASEWORK_EVENTS, INSPECTION_EVENTS
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import (
    eventually,
    identity_metadata,
    publish_event,
    read_topic,
    running_service,
)

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
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
            received = await stub.ReceiveComplaint(pb.ReceiveComplaintRequest(
                request_id=str(uuid.uuid4()), channel="hotline_12345",
                community_code="LC-0009", category="revenue_embezzled",
                description="怀疑物业挪用广告收入", unit="licheng",
                complainant_name=NAME, complainant_phone=PHONE), metadata=OFFICER)
            case = (await stub.GetCase(pb.GetCaseRequest(case_id=received.case_id),
                                       metadata=OFFICER)).case
            assert (case.complainant_name, case.complainant_phone) == (NAME, PHONE)

            records = await read_topic(infra["kafka"], infra["prefix"] + CASEWORK_EVENTS,
                                       subject=received.case_id)
            on_the_wire = b"".join(r.value + b"".join(v for _, v in r.headers)
                                   for r in records)
            assert NAME.encode() not in on_the_wire and PHONE.encode() not in on_the_wire
            assert json.loads(records[0].value)["channel"] == "hotline_12345"

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetCase(pb.GetCaseRequest(case_id=received.case_id),
                                   metadata=POLICE)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # not referred to them

            shredded = (await stub.ShredPersonalData(pb.ShredPersonalDataRequest(
                request_id="shred", case_id=received.case_id), metadata=OFFICER)).case
            assert shredded.personal_data_shredded and not shredded.complainant_name
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
    body |= {"aggregate_id": finding, "aggregate_version": 2,
             "deadline": deadline.isoformat().replace("+00:00", "Z")}
    async with running_service(build, service_settings("casework")) as (parts, run):
        assert run.grpc and run.consumer
        for _ in range(2):  # a re-sent copy changes nothing
            await publish_event(infra["kafka"], topic,
                                "pubrev.inspection.RectificationOrdered.v1", body)
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        case_id = Case.create_id(f"rectification:{finding}")

        async def opened() -> bool:
            return await asyncio.to_thread(lambda: case_id in app.repository) and \
                run.consumer is not None and run.consumer.duplicates >= 1

        await eventually(opened, what="the rectification case (and the duplicate skipped)")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)
            overdue = await stub.ListCases(pb.ListCasesRequest(overdue_only=True),
                                           metadata=OFFICER)
        assert [(c.case_id, c.kind) for c in overdue.cases] == [(str(case_id), "rectification")]
