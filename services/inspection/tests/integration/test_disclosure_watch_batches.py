"""Inspection's disclosure watch on the real stack, taking what it fetches in batches
(ADR 0018): a filing season's DisclosureFiled, then the same events again (a relay's
re-send after a crash: the same CloudEvents ids under new offsets), are noted once each,
each with its own tracking row, nothing parked."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from inspection.application.app import InspectionApplication
from inspection.bootstrap import build as build_inspection
from inspection.domain.community_watch import CommunityWatch
from inspection.entrypoints.consumers import DISCLOSURE_WATCH
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, running_service

pytestmark = pytest.mark.infra

SAMPLE = (
    Path(__file__).resolve().parents[4]
    / "contracts"
    / "samples"
    / "pubrev.disclosure.DisclosureFiled.v1.json"
)
COMMUNITIES = 120
QUARTERS = (1, 2, 3)


def filings(tag: str) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    sample = json.loads(SAMPLE.read_text("utf-8"))
    records = []
    for quarter in QUARTERS:
        for n in range(COMMUNITIES):
            code = f"BW{tag}-{n:04d}"
            aggregate = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}:{quarter}"))
            body = sample | {
                "aggregate_id": aggregate,
                "community_code": code,
                "quarter": quarter,
                "zero_revenue": n % 3 == 0,
            }
            headers = CloudEventAttributes(
                id=event_id(aggregate, 1),
                source="/pubrev/disclosure",
                type="pubrev.disclosure.DisclosureFiled.v1",
                time=datetime.now(UTC),
                subject=aggregate,
                unit=body["unit"],
            ).headers()
            records.append((aggregate.encode(), json.dumps(body).encode(), headers))
    return records


async def produce(bootstrap: str, topic: str, records: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        acks = [await producer.send(topic, v, key=k, headers=h) for k, v, h in records]
        for ack in acks:
            await ack
    finally:
        await producer.stop()


def tracked(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM inspection_tracking WHERE application_name LIKE %s",
            (DISCLOSURE_WATCH + "|%",),
        ).fetchone()
    return int(row[0]) if row else 0


async def test_a_season_redelivered_is_noted_once_in_batches(
    service_settings: Any, infra: dict[str, str]
) -> None:
    # Topics of its own: it counts every event its consumer applies, and other tests file
    # on the session's shared topics.
    prefix = f"{infra['prefix']}batches."
    settings = service_settings("inspection", topic_prefix=prefix)
    topic = prefix + DISCLOSURE_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    tag = uuid.uuid4().hex[:6]
    records = filings(tag)
    # The season, then all of it again: every event twice, the copies under new offsets.
    await produce(infra["kafka"], topic, records)
    await produce(infra["kafka"], topic, records)

    async with running_service(build_inspection, settings, ("consumer",)) as (parts, run):
        app = parts.app
        assert isinstance(app, InspectionApplication) and run.consumer
        consumer = run.consumer

        async def through() -> bool:
            return consumer.applied + consumer.duplicates >= 2 * len(records)

        await eventually(through, what="the season and its re-send to go through")
        assert (consumer.applied, consumer.duplicates) == (len(records), len(records))
        assert consumer.dead_lettered == 0 and consumer.held == 0

        assert tracked(settings.service_database_url) == len(records)
        noted = {
            n: app.find(CommunityWatch.create_id(f"BW{tag}-{n:04d}"), CommunityWatch)
            for n in range(COMMUNITIES)
        }
        assert {n: w.disclosures_noted if w else 0 for n, w in noted.items()} == {
            n: len(QUARTERS) for n in range(COMMUNITIES)
        }
        latest = noted[3]
        assert latest is not None and latest.latest is not None
        assert (latest.latest.quarter, latest.zero_revenue) == (3, True)
