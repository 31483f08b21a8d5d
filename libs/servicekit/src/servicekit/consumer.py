"""The consumer runner: Kafka → a service's policies and projections, effect exactly once.

FastStream subscribers with `AckPolicy.NACK_ON_ERROR`: the offset is committed only after
the handler returned, and a failing handler seeks back so the event comes again
(at-least-once; never the default ACK_FIRST, which is at-most-once). Each handler writes its
effect and a tracking record in one transaction (`ServiceApplication.record(delivery=...)`),
so a redelivered event is a no-op.

An event that keeps failing is retried `consumer_max_attempts` times with backoff, then
parked on the service's dead-letter topic with the error, and the partition moves on; so is
a malformed record (a header value that is null or not UTF-8 text, a bad CloudEvents
envelope, a body that does not match its contract). Nothing is dropped silently: FastStream
is given a parser and a decoder that cannot fail on a record, so every fetched record reaches
the runner, which reads its headers and body under its own dead-letter rule. A parked copy
carries the original headers exactly, in `x-pubrev-original-headers` (JSON: a list of
[name, base64 value or null]), besides the ones that were text.

Every record must come from the topic's owner: `ce_source` is `/pubrev/<service>` on
`pubrev.<service>.events.v1` (defence in depth behind the broker's ACLs, which let only that
service's principal write there). A record from anyone else is refused before its type or
body is looked at: parked at once, never retried, never applied and never tracked, so a
forged event keyed to a real aggregate blocks nothing (its version is not recorded as that
aggregate's) and the aggregate's real events that follow are applied.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from uuid import UUID

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError

from servicekit import faults
from servicekit.cloudevents import CloudEventAttributes, topic_source
from servicekit.eventstore import DeliveryRef
from servicekit.kafka_admin import KafkaSecurity

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
    source: str = ""
    """The only `ce_source` accepted on the topic; by default its owner's (`topic_source`)."""
    by_type: dict[str, tuple[type[BaseModel], Handler]] = field(init=False)

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", topic_source(self.topic))
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
        security: KafkaSecurity | None = None,
    ) -> None:
        self.service = service
        self.topic_prefix = topic_prefix
        self.subscriptions = subscriptions
        self.max_attempts = max_attempts
        self.broker = KafkaBroker(
            bootstrap, client_id=f"pubrev-{service}", graceful_timeout=graceful_timeout,
            security=(security or KafkaSecurity()).faststream(),
            # Topics are made explicitly (runtime's ensure_topics, or the admin beforehand);
            # a service principal may not create any, so FastStream must not try.
            allow_auto_create_topics=False,
            logger=logging.getLogger(f"faststream.{service}"),
            # FastStream's per-message "Received/Processed" lines at DEBUG, not INFO.
            log_level=logging.DEBUG,
        )
        self.attempts: dict[tuple[str, str], int] = {}
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.refused = 0
        """Records parked because they did not come from the topic's owner."""
        for subscription in subscriptions:
            self._subscribe(subscription)

    def _subscribe(self, subscription: Subscription) -> None:
        runner = self

        async def handle(message: KafkaMessage) -> None:
            # A batch of records, each applied in order with its own tracking; the offsets
            # are committed once the whole batch is through. A failure seeks back to the
            # batch's start: what was applied is then recognised and skipped.
            # The raw records, not FastStream's decoding: the runner reads headers and body
            # itself, so a malformed one is parked instead of failing the batch (and the
            # AsyncAPI subscriber shows no payload schema; the producer's document carries
            # the schemas of every event on the topic).
            for record in message.raw_message:
                await runner.dispatch(subscription, record)

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
        )(handle, parser=_parse_batch_unread, decoder=_undecoded_bodies)

    async def dispatch(self, subscription: Subscription, record: ConsumerRecord[Any, Any]) -> None:
        body: bytes = record.value or b""
        raw_headers: list[tuple[str, bytes | None]] = list(record.headers)
        # Reading the record is deterministic: whatever fails here fails on every
        # redelivery, so it is parked at once, never retried and never let out of this
        # method (that would fail, and so replay, the whole batch).
        try:
            headers = text_headers(raw_headers)
        except MalformedHeader as error:
            await self._dead_letter(subscription, body, raw_headers, f"bad header: {error}")
            return
        try:
            attributes = CloudEventAttributes.from_headers(headers)
        except Exception as error:
            await self._dead_letter(
                subscription, body, raw_headers, f"bad envelope: {_prefix(str(error), 200)}"
            )
            return
        if attributes.source != subscription.source:
            # Forged or misrouted: whatever its type, it is not the owner's event. Parked
            # before any handler or tracking sees it, so it holds nothing behind it.
            await self._dead_letter(
                subscription, body, raw_headers,
                f"refused: ce_source {_prefix(attributes.source, 64)!r} is not "
                f"{subscription.source!r}, the only publisher of {subscription.topic}",
            )
            self.refused += 1
            return
        entry = subscription.by_type.get(attributes.type)
        if entry is None:
            return  # an event type this consumer does not care about
        model, handler = entry
        try:
            event: Any = model.model_validate_json(body)
        except ValidationError as error:
            await self._dead_letter(
                subscription, body, raw_headers, f"contract violation: {error}"
            )
            return
        except Exception as error:
            await self._dead_letter(
                subscription, body, raw_headers,
                f"contract violation: {_prefix(repr(error), 200)}",
            )
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
                await self._dead_letter(subscription, body, raw_headers, repr(error))
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
        self,
        subscription: Subscription,
        body: bytes,
        raw_headers: list[tuple[str, bytes | None]],
        reason: str,
    ) -> None:
        headers = parked_headers(raw_headers)
        log.error(
            "event parked on the dead-letter topic",
            extra={"consumer": subscription.consumer,
                   "ce_id": _prefix(headers.get("ce_id", ""), 200) or None,
                   "reason": reason[:2000]},
        )
        # Published before the counter moves and before the batch is acknowledged: if the
        # publish fails, the batch is sought back and this record comes again.
        await self.broker.publish(
            body,
            topic=self.topic_prefix + dead_letter_topic(self.service),
            headers={**headers,
                     "x-pubrev-consumer": subscription.consumer,
                     "x-pubrev-error": reason[:2000]},
        )
        self.dead_lettered += 1

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()


def _apply(handler: Handler, event: Any, delivery: DeliveryRef) -> bool:
    faults.point("consumer.before_effect")
    applied = handler(event, delivery)
    faults.point("consumer.after_effect")
    return applied


class MalformedHeader(ValueError):
    """A header value that is not text: names the header and the rule, echoes at most a
    short prefix of the value."""


def text_headers(raw_headers: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """The record's headers as text (CloudEvents attributes are text), or MalformedHeader."""
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        if value is None:
            raise MalformedHeader(
                f"{_prefix(name, 64)!r} has a null value; a header value must be UTF-8 text"
            )
        try:
            headers[name] = value.decode()
        except UnicodeDecodeError as error:
            raise MalformedHeader(
                f"{_prefix(name, 64)!r} is not UTF-8 text (invalid byte at {error.start}; "
                f"starts {value[:16]!r}{'…' if len(value) > 16 else ''})"
            ) from None
    return headers


def parked_headers(raw_headers: list[tuple[str, bytes | None]]) -> dict[str, str]:
    """Headers of a dead-letter copy: the original ones exactly (base64, null kept as null)
    in one header, so nothing is lost and publishing cannot fail on them, plus the ones that
    were text as they were, for people and tools that read the topic."""
    carried: dict[str, str] = {}
    for name, value in raw_headers:
        if value is None:
            continue
        try:
            carried[name] = value.decode()
        except UnicodeDecodeError:
            continue
    carried["x-pubrev-original-headers"] = json.dumps([
        [name, None if value is None else base64.b64encode(value).decode("ascii")]
        for name, value in raw_headers
    ])
    return carried


def _prefix(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


async def _parse_batch_unread(
    records: tuple[ConsumerRecord[Any, Any], ...],
    parse: Callable[[tuple[ConsumerRecord[Any, Any], ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    # FastStream's own batch parser decodes every record's headers as UTF-8: one null or
    # non-UTF-8 value raises before the handler runs, the whole batch is dropped and a later
    # commit moves past it. It is given the records without their headers (it keeps its
    # message class and consumer binding, so ack and nack still commit and seek), and the
    # handler gets the untouched records to read under the runner's dead-letter rule.
    message = await parse(tuple(dataclasses.replace(r, headers=[]) for r in records))
    message.raw_message = records
    return message


async def _undecoded_bodies(message: StreamMessage[Any]) -> Any:
    # FastStream's decoder would json-load each body its content-type calls JSON: a body
    # that is not JSON would fail the batch on every redelivery. The runner validates the
    # raw bytes against the contract instead.
    return message.body
