"""The outbox relay: a service's notification log → its Kafka topic.

The event store is the outbox: an event is committed once, with its aggregate, and the
relay publishes it afterwards. For each batch the relay
1. reads notifications after its recorded position (ids follow commit order; gaps are normal
   and never waited for),
2. translates each to a Kafka message (key = aggregate id, so one aggregate's events keep
   their order within a partition; events with no contract are skipped),
3. sends the whole batch and awaits the acks together (idempotent producer, acks=all),
4. records the last position, in the service's own database.
A crash between 3 and 4 re-sends the batch on restart: allowed, because consumers dedupe by
`ce_id` (aggregate id + version). Nothing is ever skipped: the position only moves after acks.

Run exactly one relay per service (a Kubernetes Deployment with one replica): two would
interleave their batches. Should two run anyway, the position guard (the tracking row only
moves forward) makes the slower one fail loudly rather than lose anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import IntegrityError, Notification, ProcessRecorder, Tracking

from servicekit import faults
from servicekit.aio import wait_or_stop
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.kafka_admin import KafkaSecurity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


Translate = Callable[[Notification], OutboundMessage | None]


def make_producer(bootstrap: str, client_id: str,
                  security: KafkaSecurity | None = None) -> AIOKafkaProducer:
    """The relay's producer; under ACLs its principal may write only its own topic."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        **(security or KafkaSecurity()).client_options(),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
    )


class Relay:
    def __init__(
        self,
        name: str,
        recorder: ProcessRecorder,
        translate: Translate,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.05,
        topic_prefix: str = "",
    ) -> None:
        self.name = name
        self.topic_prefix = topic_prefix
        self.tracking_name = f"relay:{name}"
        self.recorder = recorder
        self.translate = translate
        self.producer = producer
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.published = 0
        self._position: int | None = None

    async def position(self) -> int:
        if self._position is None:
            recorded = await asyncio.to_thread(self.recorder.max_tracking_id, self.tracking_name)
            self._position = recorded or 0
        return self._position

    async def run_once(self) -> int:
        """Relays one batch; returns how many notifications it moved past (0 when idle)."""
        start = await self.position()
        notifications: Sequence[Notification] = await asyncio.to_thread(
            self.recorder.select_notifications,
            start,
            self.batch_size,
            inclusive_of_start=False,
        )
        if not notifications:
            return 0
        messages = [m for m in map(self.translate, notifications) if m is not None]
        started = time.perf_counter()
        # Queue the whole batch, then await every ack together: one round trip per batch.
        pending = [
            await self.producer.send(
                self.topic_prefix + m.topic, m.value, key=m.key, headers=m.headers
            )
            for m in messages
        ]
        await asyncio.gather(*pending)
        faults.point("relay.after_ack")
        last = notifications[-1].id
        try:
            await asyncio.to_thread(
                self.recorder.insert_tracking, Tracking(self.tracking_name, last)
            )
        except IntegrityError:
            # The recorded position is already at or past `last`: another relay ran.
            self._position = None
            log.error(
                "relay position moved under us; is a second relay running?",
                extra={"relay": self.name, "position": last},
            )
            raise
        self._position = last
        self.published += len(messages)
        log.debug(
            "relayed batch",
            extra={
                "relay": self.name,
                "position": last,
                "messages": len(messages),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return len(notifications)

    async def run(self, stop: asyncio.Event) -> None:
        """Relays until `stop` is set; the batch under way is finished and recorded first."""
        backoff = 0.5
        log.info("relay started", extra={"relay": self.name, "position": await self.position()})
        while not stop.is_set():
            try:
                moved = await self.run_once()
                backoff = 0.5
            except Exception as error:  # broker or database away: retry, never skip
                log.warning(
                    "relay batch failed; will retry",
                    extra={"relay": self.name, "error": repr(error), "retry_in_s": backoff},
                )
                self._position = None  # re-read: the batch may or may not have been recorded
                await wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if moved == 0:
                await wait_or_stop(stop, self.idle_poll_seconds)
        log.info("relay stopped", extra={"relay": self.name, "published": self.published})



def contract_translator(
    source: str,
    decode: Callable[[Notification], Any],
    to_contract: Callable[[Any], Any],
) -> Translate:
    """Builds a relay translation: stored event → domain event → contract event → message.

    `to_contract` returns a contract model (pydantic, with `ce_type`, `topic`, `unit`,
    `aggregate_id`, `aggregate_version`, `occurred_at`) or None for an internal event.
    """

    def translate(notification: Notification) -> OutboundMessage | None:
        contract = to_contract(decode(notification))
        if contract is None:
            return None
        aggregate_id = str(contract.aggregate_id)
        attributes = CloudEventAttributes(
            id=event_id(aggregate_id, contract.aggregate_version),
            source=source,
            type=contract.ce_type,
            time=contract.occurred_at,
            subject=aggregate_id,
            unit=contract.unit,
        )
        return OutboundMessage(
            topic=contract.topic,
            key=aggregate_id.encode(),
            value=contract.model_dump_json().encode(),
            headers=attributes.headers(),
        )

    return translate
