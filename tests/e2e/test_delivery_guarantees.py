"""Proofs that nothing is lost or applied twice, on the real broker and database.

(a) the relay killed between Kafka's ack and recording its position re-sends on restart,
    and the re-sent events have no second effect downstream;
(b) a consumer failing mid-handler gets the event again and applies it exactly once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

import grpc
import pytest

from disclosure.bootstrap import build as build_disclosure
from inspection.application.app import InspectionApplication
from inspection.bootstrap import build as build_inspection
from inspection.domain.community_watch import CommunityWatch
from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit import faults
from servicekit.testing import eventually, identity_metadata, read_topic, running_service
from services.disclosure.tests.support.requests import (
    file_request,
    register,
    unique_code,
)

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")


def noted_count(app: InspectionApplication, code: str) -> int:
    watch = app.find(CommunityWatch.create_id(code), CommunityWatch)
    return watch.disclosures_noted if watch else 0


def noted(app: InspectionApplication, code: str) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return await asyncio.to_thread(noted_count, app, code)

    return probe


async def file_disclosures(port: int, count: int) -> list[tuple[str, str]]:
    """Registers `count` communities and files one disclosure each; returns (code, id)."""
    filed = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = disclosure_pb2_grpc.DisclosureServiceStub(channel)
        for _ in range(count):
            code = unique_code()
            await register(stub, code, OFFICER)
            reply = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
            filed.append((code, reply.disclosure_id))
    return filed


async def test_relay_killed_after_ack_resends_and_consumer_dedupes(service_settings, infra) -> None:
    disclosure_settings = service_settings("disclosure")
    # The API alone: events are stored but not yet relayed.
    async with running_service(build_disclosure, disclosure_settings, ("api",)) as (parts, run):
        assert run.grpc
        filed = await file_disclosures(run.grpc.port, 3)
        recorder = parts.app.process_recorder
        assert recorder.max_tracking_id("relay:disclosure") is None

    # A real relay process that dies right after Kafka acknowledged its first batch.
    env = {
        **os.environ,
        "PUBREV_FAULTS": "relay.after_ack",
        "DATABASE_URL": disclosure_settings.database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "KAFKA_BOOTSTRAP": infra["kafka"],
        "PUBREV_LOG_LEVEL": "WARNING",
        "PUBREV_TOPIC_PREFIX": infra["prefix"],
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "disclosure",
        "relay",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == faults.EXIT_STATUS, stderr.decode()[-2000:]

    _, disclosure_id = filed[0]
    topic = infra["prefix"] + DISCLOSURE_EVENTS
    first = await read_topic(infra["kafka"], topic, subject=disclosure_id)
    assert len(first) == 1  # published and acknowledged...
    async with running_service(build_disclosure, disclosure_settings, ("relay",)) as (parts, run):
        # ...but the position was never recorded, so the restarted relay sends it again.
        assert run.relay
        recorder = parts.app.process_recorder

        end = await asyncio.to_thread(recorder.max_notification_id)

        async def caught_up() -> bool | None:
            # The whole log: a relay restarted where one died reads carefully, one event
            # at a time, so its first recorded position may be short of the filing's event.
            at = await asyncio.to_thread(recorder.max_tracking_id, "relay:disclosure")
            return True if at is not None and at >= (end or 0) else None

        await eventually(caught_up, what="the restarted relay to relay the whole log")
    both = await read_topic(infra["kafka"], topic, subject=disclosure_id, min_count=2)
    ce_ids = [dict(r.headers)["ce_id"] for r in both]
    assert len(ce_ids) == 2 and len(set(ce_ids)) == 1  # the same event, twice

    async with running_service(build_inspection, service_settings("inspection"), ("consumer",)) as (
        parts,
        run,
    ):
        app = parts.app
        assert isinstance(app, InspectionApplication) and run.consumer
        for code, _ in filed:
            await eventually(noted(app, code), what=f"{code} noted")
        consumer = run.consumer

        async def duplicates_seen() -> bool:
            return consumer.duplicates >= 1

        await eventually(duplicates_seen, what="the re-sent copies to be recognised")
        assert [noted_count(app, c) for c, _ in filed] == [1, 1, 1]


@pytest.mark.parametrize("point", ["consumer.before_effect", "consumer.after_effect"])
async def test_consumer_failing_mid_handler_applies_exactly_once(
    service_settings, infra, point: str
) -> None:
    # Topics of its own: it asserts nothing was parked, and other tests publish malformed
    # and refused events on the session's shared topics (a CI run saw one parked here).
    prefix = f"{infra['prefix']}midhandler.{point.rsplit('.', 1)[-1]}."
    disclosure = service_settings("disclosure", topic_prefix=prefix)
    async with running_service(build_disclosure, disclosure) as (_, d):
        assert d.grpc
        faults.arm(point, times=1)
        try:
            async with running_service(
                build_inspection,
                service_settings("inspection", topic_prefix=prefix),
                ("consumer",),
            ) as (parts, run):
                app = parts.app
                assert isinstance(app, InspectionApplication) and run.consumer
                [(code, _)] = await file_disclosures(d.grpc.port, 1)
                await eventually(noted(app, code), what="the effect")
                # The failure happened and the event came again...
                assert faults._armed[point] == 0
                consumer = run.consumer

                async def duplicates_seen() -> bool:
                    return consumer.duplicates >= 1

                if point == "consumer.after_effect":
                    # ...after the effect was committed: the redelivery was a no-op.
                    await eventually(duplicates_seen, what="the redelivery")
                assert noted_count(app, code) == 1
                assert run.consumer.dead_lettered == 0
        finally:
            faults.disarm_all()
