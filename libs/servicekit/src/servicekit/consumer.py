"""The consumer runner: Kafka → a service's policies and projections, effect exactly once.

FastStream subscribers with `AckPolicy.NACK_ON_ERROR`: the offset is committed only after
the handler returned, and a failing handler seeks back so the event comes again
(at-least-once; never the default ACK_FIRST, which is at-most-once). Each handler writes its
effect and a tracking record in one transaction (`ServiceApplication.record(delivery=...)`),
so a redelivered event is a no-op.

An event that keeps failing is retried `consumer_max_attempts` times with backoff, then
parked on the service's dead-letter topic with the error, and the partition moves on; so is
an event whose body does not match its contract. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from uuid import UUID

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import BaseModel, ValidationError

from servicekit import faults
from servicekit.cloudevents import CloudEventAttributes
from servicekit.eventstore import DeliveryRef

log = logging.getLogger(__name__)


class ContractModel(Protocol):
    ce_type: ClassVar[str]
    aggregate_id: UUID
    aggregate_version: int


Handler = Callable[[Any, DeliveryRef], bool]
"""Synchronous (eventsourcing is): the runner calls it in a worker thread. Returns whether
the event was applied (False: it had been applied before)."""


@dataclass(frozen=True)
class Subscription:
    consumer: str
    """Policy or projection name; also the Kafka group id and the tracking prefix."""
    topic: str
    handlers: Mapping[type[BaseModel], Handler]
    by_type: dict[str, tuple[type[BaseModel], Handler]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "by_type",
            {getattr(model, "ce_type"): (model, h) for model, h in self.handlers.items()},  # noqa: B009
        )


def dead_letter_topic(service: str) -> str:
    return f"pubrev.{service}.dlq.v1"


class ConsumerRunner:
    def __init__(
        self,
        service: str,
        bootstrap: str,
        subscriptions: list[Subscription],
        max_attempts: int = 5,
        graceful_timeout: float = 10.0,
        topic_prefix: str = "",
    ) -> None:
        self.service = service
        self.topic_prefix = topic_prefix
        self.subscriptions = subscriptions
        self.max_attempts = max_attempts
        self.broker = KafkaBroker(
            bootstrap, client_id=f"pubrev-{service}", graceful_timeout=graceful_timeout,
            logger=logging.getLogger(f"faststream.{service}"),
            # FastStream's per-message "Received/Processed" lines at DEBUG, not INFO.
            log_level=logging.DEBUG,
        )
        self.attempts: dict[tuple[str, str], int] = {}
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        for subscription in subscriptions:
            self._subscribe(subscription)

    def _subscribe(self, subscription: Subscription) -> None:
        runner = self

        async def handle(message: KafkaMessage) -> None:
            # A batch of records, each applied in order with its own tracking; the offsets
            # are committed once the whole batch is through. A failure seeks back to the
            # batch's start: what was applied is then recognised and skipped.
            # The raw bytes, not FastStream's decoding: the contract model validates them
            # (so the AsyncAPI subscriber shows no payload schema; the producer's document
            # carries the schemas of every event on the topic).
            for record in message.raw_message:
                headers = {k: v.decode() for k, v in record.headers}
                await runner.dispatch(subscription, record.value or b"", headers)

        self.broker.subscriber(
            self.topic_prefix + subscription.topic,
            group_id=subscription.consumer,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=500,
            batch_timeout_ms=100,
            title=f"{subscription.consumer}:{subscription.topic}",
            description=f"{subscription.consumer} consumes, in batches, "
            + ", ".join(sorted(subscription.by_type)),
        )(handle)

    async def dispatch(
        self, subscription: Subscription, body: bytes, headers: Mapping[str, Any]
    ) -> None:
        try:
            attributes = CloudEventAttributes.from_headers(headers)
        except ValueError as error:
            await self._dead_letter(subscription, body, headers, f"bad envelope: {error}")
            return
        entry = subscription.by_type.get(attributes.type)
        if entry is None:
            return  # an event type this consumer does not care about
        model, handler = entry
        try:
            event: Any = model.model_validate_json(body)
        except ValidationError as error:
            await self._dead_letter(subscription, body, headers, f"contract violation: {error}")
            return
        delivery = DeliveryRef(
            subscription.consumer, str(event.aggregate_id), event.aggregate_version
        )
        key = (subscription.consumer, attributes.id)
        try:
            applied = await asyncio.to_thread(_apply, handler, event, delivery)
            faults.point("consumer.before_commit")
        except Exception as error:
            attempt = self.attempts.get(key, 0) + 1
            self.attempts[key] = attempt
            if attempt >= self.max_attempts:
                self.attempts.pop(key, None)
                await self._dead_letter(subscription, body, headers, repr(error))
                return
            log.warning(
                "handler failed; the event will be redelivered",
                extra={"consumer": subscription.consumer, "ce_id": attributes.id,
                       "attempt": attempt, "error": repr(error)},
            )
            await asyncio.sleep(min(0.1 * 2**attempt, 5.0))
            raise
        self.attempts.pop(key, None)
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
            log.info(
                "duplicate event ignored",
                extra={"consumer": subscription.consumer, "ce_id": attributes.id},
            )

    async def _dead_letter(
        self, subscription: Subscription, body: bytes, headers: Mapping[str, Any], reason: str
    ) -> None:
        self.dead_lettered += 1
        log.error(
            "event parked on the dead-letter topic",
            extra={"consumer": subscription.consumer, "ce_id": headers.get("ce_id"),
                   "reason": reason[:2000]},
        )
        await self.broker.publish(
            body,
            topic=self.topic_prefix + dead_letter_topic(self.service),
            headers={**{k: str(v) for k, v in headers.items()},
                     "x-pubrev-consumer": subscription.consumer,
                     "x-pubrev-error": reason[:2000]},
        )

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()


def _apply(handler: Handler, event: Any, delivery: DeliveryRef) -> bool:
    faults.point("consumer.before_effect")
    applied = handler(event, delivery)
    faults.point("consumer.after_effect")
    return applied
