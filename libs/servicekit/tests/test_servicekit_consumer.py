"""The consumer runner on the real broker: a malformed record in a fetched batch is parked
on the dead-letter topic where it stands, the valid records around it are applied, and the
group's committed offset covers the whole batch (nothing dropped unseen, nothing applied
twice)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from pubrev_contracts.events.disclosure import DisclosureFiledV1
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.consumer import (
    ConsumerRunner,
    MalformedHeader,
    Subscription,
    dead_letter_topic,
    parked_headers,
    text_headers,
)
from servicekit.eventstore import DeliveryRef
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, read_topic

SAMPLE = (
    Path(__file__).resolve().parents[3]
    / "contracts"
    / "samples"
    / "pubrev.disclosure.DisclosureFiled.v1.json"
)


class Applied:
    """The handler's observable effect: every event it was given, in order. It does not
    dedupe on purpose, so a redelivered record would show up twice."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[str] = []

    def __call__(self, event: Any, delivery: DeliveryRef) -> bool:
        with self.lock:
            self.events.append(str(event.aggregate_id))
        return True

    def seen(self) -> list[str]:
        with self.lock:
            return list(self.events)


class Stack:
    """A topic of one partition, a dead-letter topic and a group of their own."""

    def __init__(self, infra: dict[str, str], store: ParkedStore) -> None:
        tag = uuid.uuid4().hex[:8]
        self.store = store
        self.bootstrap = infra["kafka"]
        self.prefix = infra["prefix"]
        self.service = f"batchtest{tag}"
        self.topic = f"pubrev.batchtest{tag}.events.v1"
        self.group = f"batchtest-{tag}"
        self.applied = Applied()

    @property
    def dead_letters(self) -> str:
        return self.prefix + dead_letter_topic(self.service)

    def runner(self) -> ConsumerRunner:
        # The events are disclosure's (valid_event): that is the source to accept.
        subscription = Subscription(
            self.group, self.topic, {DisclosureFiledV1: self.applied}, source="/pubrev/disclosure"
        )
        return ConsumerRunner(
            self.service,
            self.bootstrap,
            [subscription],
            graceful_timeout=2.0,
            topic_prefix=self.prefix,
            store=self.store,
        )

    async def committed(self) -> int | None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.group)
        finally:
            await admin.close()
        meta = offsets.get(TopicPartition(self.prefix + self.topic, 0))
        return None if meta is None or meta.offset < 0 else int(meta.offset)


@pytest.fixture
def stack(infra: dict[str, str], parked_store: ParkedStore) -> Stack:
    stack = Stack(infra, parked_store)
    asyncio.run(
        ensure_topics(
            stack.bootstrap, [stack.prefix + stack.topic, stack.dead_letters], partitions=1
        )
    )
    return stack


def valid_event() -> tuple[str, bytes, list[tuple[str, bytes | None]]]:
    body = json.loads(SAMPLE.read_text())
    aggregate_id = str(uuid.uuid4())
    body |= {"aggregate_id": aggregate_id, "community_code": f"B-{aggregate_id[:8]}"}
    headers: list[tuple[str, bytes | None]] = list(
        CloudEventAttributes(
            id=event_id(aggregate_id, 1),
            source="/pubrev/disclosure",
            type=DisclosureFiledV1.ce_type,
            time=datetime.now(UTC),
            subject=aggregate_id,
            unit="licheng",
        ).headers()
    )
    return aggregate_id, json.dumps(body).encode(), headers


async def produce_one_batch(
    bootstrap: str, topic: str, records: list[tuple[bytes, list[tuple[str, bytes | None]]]]
) -> None:
    """All records sent before any is awaited: one producer batch, one partition, so the
    consumer fetches them together."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=50)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value, key=b"k", partition=0, headers=headers)
            for value, headers in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def original_headers(record: Any) -> list[tuple[str, bytes | None]]:
    carried = json.loads(dict(record.headers)["x-pubrev-original-headers"].decode())
    return [(name, None if value is None else base64.b64decode(value)) for name, value in carried]


@pytest.mark.infra
async def test_malformed_headers_are_dead_lettered_and_the_rest_of_the_batch_applied(
    stack: Stack,
) -> None:
    events = [valid_event() for _ in range(6)]
    null_header = ("x-trace", None)
    not_utf8 = ("x-trace", b"\xff\xfe\x00not text")
    records = [
        (events[0][1], events[0][2]),
        (events[1][1], events[1][2]),
        (events[2][1], [*events[2][2], null_header]),
        (events[3][1], [*events[3][2], not_utf8]),
        (events[4][1], events[4][2]),
        (events[5][1], events[5][2]),
    ]
    valid = [events[i][0] for i in (0, 1, 4, 5)]
    await produce_one_batch(stack.bootstrap, stack.prefix + stack.topic, records)

    runner = stack.runner()
    await runner.start()
    try:

        async def through() -> bool:
            return len(stack.applied.seen()) >= 4 and runner.dead_lettered >= 2

        await eventually(through, what="the valid records applied and the bad ones parked")

        async def committed_all() -> bool:
            return await stack.committed() == 6

        await eventually(committed_all, what="the group's offset to cover the batch")
    finally:
        await runner.stop()
    assert stack.applied.seen() == valid
    assert runner.dead_lettered == 2

    parked = await read_topic(stack.bootstrap, stack.dead_letters, min_count=2)
    assert [r.value for r in parked] == [events[2][1], events[3][1]]
    reasons = [dict(r.headers)["x-pubrev-error"].decode() for r in parked]
    assert "'x-trace'" in reasons[0] and "null" in reasons[0]
    assert "'x-trace'" in reasons[1] and "UTF-8" in reasons[1]
    # The parked copies carry the original headers, bytes for bytes (and the null as null).
    assert original_headers(parked[0]) == records[2][1]
    assert original_headers(parked[1]) == records[3][1]
    # ...and what was text stays readable as a header of its own.
    assert dict(parked[1].headers)["ce_id"].decode() == event_id(events[3][0], 1)

    # A restart of the group reads on after the batch: a record produced now is the next
    # one it sees, and nothing of the batch comes again.
    sentinel = valid_event()
    await produce_one_batch(
        stack.bootstrap, stack.prefix + stack.topic, [(sentinel[1], sentinel[2])]
    )
    again = stack.runner()
    await again.start()
    try:

        async def sentinel_applied() -> bool:
            return sentinel[0] in stack.applied.seen()

        await eventually(sentinel_applied, what="the record after the batch")

        async def committed_sentinel() -> bool:
            return await stack.committed() == 7

        await eventually(committed_sentinel, what="the offset after the sentinel")
    finally:
        await again.stop()
    assert stack.applied.seen() == [*valid, sentinel[0]]
    assert again.dead_lettered == 0


@pytest.mark.infra
async def test_a_body_that_is_not_json_is_dead_lettered_not_redelivered_forever(
    stack: Stack,
) -> None:
    # Its content-type says JSON: a decoder that trusts that fails on it before the runner
    # can park it, and the batch is sought back to the same record again and again.
    first, poison, last = valid_event(), valid_event(), valid_event()
    await produce_one_batch(
        stack.bootstrap,
        stack.prefix + stack.topic,
        [
            (first[1], first[2]),
            (b"\x00{not json", poison[2]),
            (last[1], last[2]),
        ],
    )
    runner = stack.runner()
    await runner.start()
    try:

        async def through() -> bool:
            return await stack.committed() == 3

        await eventually(through, what="the batch committed")
    finally:
        await runner.stop()
    assert stack.applied.seen() == [first[0], last[0]]
    [parked] = await read_topic(stack.bootstrap, stack.dead_letters)
    assert parked.value == b"\x00{not json"
    assert dict(parked.headers)["x-pubrev-error"].decode().startswith("contract violation")


def test_a_header_reason_names_the_header_and_echoes_only_a_short_prefix() -> None:
    name, value = "x-" + "n" * 500, b"\xff" + b"v" * 5000
    with pytest.raises(MalformedHeader) as caught:
        text_headers([("ce_id", b"ok"), (name, value)])
    reason = str(caught.value)
    assert "UTF-8" in reason and name[:64] in reason and len(reason) < 200
    with pytest.raises(MalformedHeader, match="'x-trace' has a null value"):
        text_headers([("x-trace", None)])


def test_parked_headers_are_text_and_keep_the_original_bytes() -> None:
    raw: list[tuple[str, bytes | None]] = [
        ("ce_id", b"a:1"),
        ("x-bin", b"\xff\x00"),
        ("x-null", None),
        ("ce_id", b"a:2"),
    ]
    headers = parked_headers(raw)
    assert all(isinstance(v, str) for v in headers.values())
    assert headers["ce_id"] == "a:2" and "x-bin" not in headers and "x-null" not in headers
    carried = json.loads(headers["x-pubrev-original-headers"])
    assert [(n, None if v is None else base64.b64decode(v)) for n, v in carried] == raw
