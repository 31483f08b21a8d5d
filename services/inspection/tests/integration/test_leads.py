"""Complaint leads and cases handed down (casework's ComplaintReceived on Kafka) come first
in a plan, in the order of DOMAIN.md §5."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import grpc
import pytest

from inspection.bootstrap import build
from inspection.domain.community_watch import CommunityWatch
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, identity_metadata, publish_event, running_service

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
XIUYU = identity_metadata("property-bureau", "officer", "xiuyu")


def event(name: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads((SAMPLES / f"{name}.json").read_text())
    return data | {"aggregate_id": str(uuid.uuid4()), "aggregate_version": 1} | changes


async def test_handed_down_then_complaint_leads_then_the_draw(service_settings, infra) -> None:
    disclosure_topic = infra["prefix"] + DISCLOSURE_EVENTS
    casework_topic = infra["prefix"] + CASEWORK_EVENTS
    await ensure_topics(infra["kafka"], [disclosure_topic, casework_topic])
    codes = [f"XY-{n}" for n in range(4)]
    async with running_service(build, service_settings("inspection")) as (parts, run):
        assert run.grpc
        app = parts.app
        for code in codes:
            await publish_event(
                infra["kafka"],
                disclosure_topic,
                "pubrev.disclosure.CommunityRegistered.v1",
                event(
                    "pubrev.disclosure.CommunityRegistered.v1", community_code=code, unit="xiuyu"
                ),
            )
        await publish_event(
            infra["kafka"],
            casework_topic,
            "pubrev.casework.ComplaintReceived.v1",
            event(
                "pubrev.casework.ComplaintReceived.v1",
                community_code=codes[2],
                unit="xiuyu",
                channel="hotline_12345",
            ),
        )
        await publish_event(
            infra["kafka"],
            casework_topic,
            "pubrev.casework.ComplaintReceived.v1",
            event(
                "pubrev.casework.ComplaintReceived.v1",
                community_code=codes[3],
                unit="xiuyu",
                channel="handed_down",
            ),
        )

        async def fed() -> bool:
            watches = [
                await asyncio.to_thread(app.find, CommunityWatch.create_id(c), CommunityWatch)
                for c in codes
            ]
            return (
                all(w is not None and w.registered for w in watches)
                and bool(watches[2] and watches[2].leads)
                and bool(watches[3] and watches[3].leads)
            )

        await eventually(fed, what="registrations and leads from Kafka")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.InspectionServiceStub(channel)
            for n in range(2):
                await stub.RegisterInspector(
                    pb.RegisterInspectorRequest(
                        request_id=f"i{n}", inspector_code=f"XY-I{n}", name="检查员", unit="xiuyu"
                    ),
                    metadata=XIUYU,
                )
            planned = await stub.PlanSpotChecks(
                pb.PlanSpotChecksRequest(request_id="p", year=2026, unit="xiuyu"), metadata=XIUYU
            )
            plan = await stub.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id="e", plan_id=planned.plan_id, contribution="xiuyu supervisor 0b5e"
                ),
                metadata=identity_metadata("discipline", "supervisor", "xiuyu", "supervisor"),
            )
    assert planned.quota == 2
    assert [(t.community_code, t.reason) for t in plan.targets] == [
        (codes[3], "handed_down"),
        (codes[2], "complaint_lead"),
    ]
