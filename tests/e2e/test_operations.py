"""Operations on the real stack: clean shutdown on SIGTERM, and poison events parked on the
dead-letter topic without blocking the partition."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inspection.application.app import InspectionApplication
from inspection.bootstrap import build as build_inspection
from inspection.domain.community_watch import CommunityWatch
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.consumer import dead_letter_topic
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, read_topic, running_service

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "samples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_sigterm_stops_every_role_cleanly(service_settings, infra, tmp_path) -> None:
    settings = service_settings("disclosure")
    port = free_port()
    log = tmp_path / "disclosure.log"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "KAFKA_BOOTSTRAP": infra["kafka"],
        "PUBREV_GRPC_PORT": str(port),
        "PUBREV_DEV_IDENTITY_HEADER": "true",
        "PUBREV_TOPIC_PREFIX": infra["prefix"],
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "disclosure", "all", env=env, stdout=out, stderr=out
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)

                async def serving() -> bool:
                    try:
                        reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    except grpc.aio.AioRpcError:
                        return False
                    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

                await eventually(serving, timeout=60, what="the service to serve")
            process.send_signal(signal.SIGTERM)
            status = await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    assert status == 0, log.read_text()[-3000:]
    for expected in ("grpc server stopped", "relay stopped", "service down"):
        assert expected in messages


async def test_poison_event_is_dead_lettered_and_the_partition_moves_on(
    service_settings, infra
) -> None:
    topic = infra["prefix"] + DISCLOSURE_EVENTS
    await ensure_topics(infra["kafka"], [topic, infra["prefix"] + dead_letter_topic("inspection")])
    good = json.loads((SAMPLES / "pubrev.disclosure.DisclosureFiled.v1.json").read_text())
    aggregate_id = str(uuid.uuid4())
    code = f"DLQ-{aggregate_id[:8]}"
    good |= {"aggregate_id": aggregate_id, "community_code": code}
    key = aggregate_id.encode()  # same key: same partition, poison first

    def headers(ce_id: str) -> list[tuple[str, bytes]]:
        return CloudEventAttributes(
            id=ce_id,
            source="/pubrev/disclosure",
            type="pubrev.disclosure.DisclosureFiled.v1",
            time=datetime.now(UTC),
            subject=aggregate_id,
            unit="licheng",
        ).headers()

    producer = AIOKafkaProducer(bootstrap_servers=infra["kafka"], acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            b'{"aggregate_id": "not even a uuid"}',
            key=key,
            headers=headers(f"{aggregate_id}:0"),
        )
        await producer.send_and_wait(
            topic,
            json.dumps(good).encode(),
            key=key,
            headers=headers(event_id(aggregate_id, 1)),
        )
    finally:
        await producer.stop()

    async with running_service(build_inspection, service_settings("inspection"), ("consumer",)) as (
        parts,
        run,
    ):
        app = parts.app
        assert isinstance(app, InspectionApplication) and run.consumer

        async def applied() -> bool:
            watch = await asyncio.to_thread(
                app.find, CommunityWatch.create_id(code), CommunityWatch
            )
            return watch is not None and watch.disclosures_noted == 1

        await eventually(applied, what="the good event behind the poison to be applied")
        consumer = run.consumer

        async def parked_too() -> bool:
            # A batch's readable events are applied together, the unreadable one parked
            # beside them: either may finish first.
            return consumer.dead_lettered >= 1

        await eventually(parked_too, what="the poison to be dead-lettered")

    parked = await read_topic(
        infra["kafka"], infra["prefix"] + dead_letter_topic("inspection"), subject=aggregate_id
    )
    reasons = [dict(r.headers)["x-pubrev-error"].decode() for r in parked]
    assert any("contract violation" in reason for reason in reasons)
    assert parked[0].value == b'{"aggregate_id": "not even a uuid"}'
