"""Casework's disclosure warnings on the real stack, taking what they fetch in batches (ADR
0018): a short filing season (two units, a deficit quarter, an amendment, a registration
after its zero-revenue filing, an overdue quarter, a filing delivered twice) consumed from
Kafka by the batch handler leaves exactly the events, warnings and tracking rows that the
same deliveries applied one by one leave on another fresh database; the season sent again
(a relay's re-send after a crash: the same CloudEvents ids under new offsets) changes
nothing."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from casework.application.app import CaseworkApplication
from casework.bootstrap import build
from casework.domain.warnings.rules import DEFICIT_QUARTER, ZERO_REVENUE_WITH_FACILITIES
from casework.entrypoints.consumers import WARNINGS
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.eventstore import DeliveryRef
from servicekit.kafka_admin import ensure_topics
from servicekit.runtime import ServiceParts, close
from servicekit.settings import ServiceSettings
from servicekit.testing import FakeClock, eventually, running_service
from services.casework.tests.support.disclosure_batches import season

pytestmark = pytest.mark.infra

DISCLOSURE = f"{WARNINGS}.disclosure"
WHEN = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)


def records(tag: str) -> list[tuple[str, dict[str, Any]]]:
    return season(tag)


async def produce(bootstrap: str, topic: str, events: list[tuple[str, dict[str, Any]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        acks = []
        for ce_type, body in events:
            aggregate = body["aggregate_id"]
            headers = CloudEventAttributes(
                id=event_id(aggregate, body["aggregate_version"]),
                source="/pubrev/disclosure",
                type=ce_type,
                time=datetime.now(UTC),
                subject=aggregate,
                unit=body["unit"],
            ).headers()
            value = json.dumps(body).encode()
            acks.append(await producer.send(topic, value, key=aggregate.encode(), headers=headers))
        for ack in acks:
            await ack
    finally:
        await producer.stop()


def stored(app: CaseworkApplication) -> list[tuple[uuid.UUID, int, str, dict[str, Any]]]:
    """The log in order, each event's state without eventsourcing's own timestamp (the
    moment the event object was made)."""
    rows = []
    for n in app.recorder.select_notifications(1, 100_000):
        event = app.mapper.to_domain_event(n)
        state = {k: v for k, v in vars(event).items() if k != "timestamp"}
        rows.append((n.originator_id, n.originator_version, n.topic, state))
    return rows


def counting_batches(settings: ServiceSettings, batches: list[int]) -> ServiceParts:
    """Casework as its bootstrap builds it, its disclosure warnings' batch handler counted
    (how many events each batch it took held): the batch path is proven taken."""
    parts = build(settings, clock=FakeClock(WHEN))
    [subscription] = [s for s in parts.subscriptions if s.consumer == DISCLOSURE]
    handler = subscription.batch_handler
    assert handler is not None

    def counted(events: Sequence[tuple[Any, DeliveryRef]]) -> int:
        applied = handler(events)
        batches.append(len(events))
        return applied

    parts.subscriptions = [
        dataclasses.replace(s, batch_handler=counted) if s is subscription else s
        for s in parts.subscriptions
    ]
    return parts


def tracking(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT application_name FROM casework_tracking WHERE application_name LIKE %s",
            (DISCLOSURE + "|%",),
        ).fetchall()
    return {r[0] for r in rows}


async def test_a_batch_leaves_what_one_by_one_leaves_and_a_resend_changes_nothing(
    service_settings: Any, infra: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    # Topics of its own: exact counts, and other tests file on the session's shared topics.
    # One partition, so the consumer meets the season in the order it is applied one by one.
    prefix = f"{infra['prefix']}cwbatches."
    topic = prefix + DISCLOSURE_EVENTS
    await ensure_topics(infra["kafka"], [topic], partitions=1)
    await ensure_topics(infra["kafka"], [prefix + INSPECTION_EVENTS, prefix + CASEWORK_EVENTS])
    tag = uuid.uuid4().hex[:6]
    events = records(tag)
    distinct = len({(b["aggregate_id"], b["aggregate_version"]) for _, b in events})
    assert distinct == len(events) - 1  # one filing delivered twice

    # The per-event path on a fresh database of its own: each delivery through the
    # subscription's handler, as the runner applies an event on its own.
    one_settings = service_settings("casework")
    one = build(one_settings, clock=FakeClock(WHEN))
    try:
        one_app = one.app
        assert isinstance(one_app, CaseworkApplication)
        [subscription] = [s for s in one.subscriptions if s.consumer == DISCLOSURE]
        for ce_type, body in events + events:
            model, handler = subscription.by_type[ce_type]
            event: Any = model.model_validate(body)
            handler(
                event, DeliveryRef(DISCLOSURE, str(event.aggregate_id), event.aggregate_version)
            )
        expected = stored(one_app)
    finally:
        close(one)
    assert tracking(one_settings.service_database_url) != set()

    settings = service_settings("casework", topic_prefix=prefix)
    await produce(infra["kafka"], topic, events)
    batches: list[int] = []
    async with running_service(lambda s: counting_batches(s, batches), settings, ("consumer",)) as (
        parts,
        run,
    ):
        app = parts.app
        assert isinstance(app, CaseworkApplication) and run.consumer
        consumer = run.consumer

        async def through(count: int) -> bool:
            return consumer.applied + consumer.duplicates >= count

        await eventually(lambda: through(len(events)), what="the season to go through")
        assert (consumer.applied, consumer.duplicates) == (distinct, 1)
        assert consumer.dead_lettered == 0 and consumer.held == 0
        # Every event went through the batch handler, none had to go one by one.
        assert sum(batches) == len(events)
        assert "applied one by one" not in caplog.text
        after_first = stored(app)

        await produce(infra["kafka"], topic, events)
        await eventually(lambda: through(2 * len(events)), what="the re-send to go through")
        assert (consumer.applied, consumer.duplicates) == (distinct, len(events) + 1)
        assert stored(app) == after_first
        assert sum(batches) == 2 * len(events)

    assert after_first == expected
    rules = {s["rule"] for _, _, t, s in expected if t.endswith("SupervisionWarning.Raised")}
    assert {DEFICIT_QUARTER, ZERO_REVENUE_WITH_FACILITIES} <= rules
    assert tracking(settings.service_database_url) == tracking(one_settings.service_database_url)
    assert len(tracking(settings.service_database_url)) == distinct
