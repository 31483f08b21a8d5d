"""The consumer runner: Kafka → a service's policies and projections, effect exactly once.

FastStream subscribers with `AckPolicy.NACK_ON_ERROR`: the offset is committed only after
the handler returned, and a failing handler seeks back so the event comes again
(at-least-once; never the default ACK_FIRST, which is at-most-once). Each handler writes its
effect and a tracking record of that very event (consumer, aggregate, version) in one
transaction (`ServiceApplication.record(delivery=...)`), so a redelivered event is a no-op,
and an older event re-driven after a newer one of its aggregate is still applied.

Failures are of two kinds (servicekit.isolation). The database away, a timeout, a
concurrent writer: the batch is sought back and tried again with backoff, for ever,
counting nothing against the event. Anything else is the event's: its attempts are counted
in the service's database (they survive the process), and after `consumer_max_attempts`
the event is parked — a row of `parked_events` with its body, original headers, offset,
error, attempts and time, and a copy on the service's dead-letter topic — and the
partition moves on. The later events of its aggregate wait behind it (parked as held
behind it, stored before the batch's offset is committed past them) until an operator
re-drives it; nothing else waits. An event that kills the process every time is counted
too: a process that starts where the one before it died (twice in a row at the same
offset) counts each event's attempt in the database before trying it.

A malformed record (a header value that is null or not UTF-8 text, a bad CloudEvents
envelope, a body that does not match its contract) is parked at once, never retried.
Nothing is dropped silently: FastStream is given a parser and a decoder that cannot fail on
a record, so every fetched record reaches the runner, which reads its headers and body
under its own rule. A parked copy carries the original headers exactly, in
`x-pubrev-original-headers` (JSON: a list of [name, base64 value or null]), besides the
ones that were text.

A subscription may also give a batch handler (`batch_handler`): the runner then applies
what it fetched in one call and one worker thread, the handler's application in one
transaction with a tracking row per event (`ServiceApplication.apply_batch`, ADR 0018).
What cannot go that way goes event by event, as above: records that are malformed or
refused, events parked before, events of an aggregate with a parked event, a batch read
carefully after a crash. If the batch fails for a reason of the moment, it is tried again
like any batch; if it fails for any other reason, nothing of it was written and it is
applied event by event at once, so the event at fault is counted and parked as above
and the others are applied.

Every record must come from the topic's owner: `ce_source` is `/pubrev/<service>` on
`pubrev.<service>.events.v1` (defence in depth behind the broker's ACLs, which let only that
service's principal write there). A record from anyone else is refused before its type or
body is looked at: parked at once, never retried, never applied and never tracked, so a
forged event keyed to a real aggregate blocks nothing (it is parked under its offset, not
as that aggregate's event) and the aggregate's real events that follow are applied.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gc
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from psycopg import Cursor
from pydantic import BaseModel, ValidationError

from servicekit import faults
from servicekit.cloudevents import CloudEventAttributes, event_id, topic_source
from servicekit.eventstore import DeliveryRef
from servicekit.isolation import (
    Candidate,
    CrashGuard,
    Known,
    ParkedEvent,
    ParkedStore,
    Role,
    Status,
    is_transient,
    short_error,
)
from servicekit.kafka_admin import KafkaSecurity

log = logging.getLogger(__name__)


Handler = Callable[[Any, DeliveryRef], bool]
"""Synchronous (eventsourcing is): the runner calls it in a worker thread. Returns whether
the event was applied (False: it had been applied before)."""


BatchHandler = Callable[[Sequence[tuple[Any, DeliveryRef]]], int]
"""Synchronous, called in one worker thread with several events (in the order fetched) of
the subscription's types: applies them all in one transaction, each tracked
(`ServiceApplication.apply_batch`), or raises having written nothing. Returns how many
were applied (the others had been)."""


@dataclass(frozen=True)
class Subscription:
    consumer: str
    """Policy or projection name; also the Kafka group id and the tracking prefix."""
    topic: str
    handlers: Mapping[type[BaseModel], Handler]
    already_applied: Callable[[DeliveryRef], bool] | None = None
    """The application's tracking check (`ServiceApplication.already_applied`): given, the
    runner (and the re-driver) skip a delivery already applied before any handler sees it,
    so handlers hold no duplicate check of their own. A repeat racing its first delivery
    is still caught where the effect is recorded (`record` returns False)."""
    source: str = ""
    """The only `ce_source` accepted on the topic; by default its owner's (`topic_source`)."""
    batch_handler: BatchHandler | None = None
    """Applies a fetched batch at once (every type in `handlers`); the per-event handlers
    stay for what goes event by event (and for the operators' re-drive)."""
    max_records: int = 500
    """Records fetched per batch, at most. A batch handler's fixed cost per batch (a few
    round trips to the database and the broker) is shared by all of them."""
    by_type: dict[str, tuple[type[BaseModel], Handler]] = field(init=False)

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", topic_source(self.topic))
        seen = self.already_applied
        by_type = {
            getattr(model, "ce_type"): (model, h if seen is None else _once(seen, h))  # noqa: B009
            for model, h in self.handlers.items()
        }
        object.__setattr__(self, "by_type", by_type)


def _once(already_applied: Callable[[DeliveryRef], bool], handler: Handler) -> Handler:
    def applied_once(event: Any, delivery: DeliveryRef) -> bool:
        if already_applied(delivery):
            return False
        return handler(event, delivery)

    return applied_once


def dead_letter_topic(service: str) -> str:
    return f"pubrev.{service}.dlq.v1"


def consumer_worker(consumer: str) -> str:
    """The name a consumer's parked events and attempts are kept under."""
    return f"consumer:{consumer}"


class Unreadable(ValueError):
    """A record that cannot be read as an event of its topic: parked at once."""

    def __init__(self, reason: str, refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


@dataclass(frozen=True)
class Read:
    """One fetched record as the runner understood it."""

    key: str
    """The CloudEvents id for an event (stable across a relay's re-sends); the record's
    place (topic/partition/offset) for one that cannot be trusted to name its event."""
    event: Any = None
    handler: Handler | None = None
    delivery: DeliveryRef | None = None
    problem: Unreadable | None = None


@dataclass(frozen=True)
class Pending:
    """A fetched record of a batch, as read, still to apply."""

    record: ConsumerRecord[Any, Any]
    read: Read
    careful: bool
    """Counted in the database before it is tried (a process died near it: CrashGuard)."""


def read_record(
    subscription: Subscription, raw_headers: list[tuple[str, bytes | None]], body: bytes, place: str
) -> Read | None:
    """Reads a record under the runner's rules; None for an event type this consumer does
    not handle. Whatever fails here fails on every delivery: it is the record's."""
    try:
        headers = text_headers(raw_headers)
    except MalformedHeader as error:
        return Read(place, problem=Unreadable(f"bad header: {error}"))
    try:
        attributes = CloudEventAttributes.from_headers(headers)
    except Exception as error:
        return Read(place, problem=Unreadable(f"bad envelope: {_prefix(str(error), 200)}"))
    if attributes.source != subscription.source:
        # Forged or misrouted: whatever its type, it is not the owner's event. Parked
        # under its place, before any handler or tracking sees it: it holds nothing back.
        return Read(
            place,
            problem=Unreadable(
                f"refused: ce_source {_prefix(attributes.source, 64)!r} is not "
                f"{subscription.source!r}, the only publisher of {subscription.topic}",
                refused=True,
            ),
        )
    entry = subscription.by_type.get(attributes.type)
    if entry is None:
        return None
    model, handler = entry
    try:
        event: Any = model.model_validate_json(body)
    except ValidationError as error:
        return Read(place, problem=Unreadable(f"contract violation: {_prefix(str(error), 600)}"))
    except Exception as error:
        return Read(place, problem=Unreadable(f"contract violation: {_prefix(repr(error), 200)}"))
    aggregate_id = str(event.aggregate_id)
    delivery = DeliveryRef(subscription.consumer, aggregate_id, event.aggregate_version)
    return Read(event_id(aggregate_id, event.aggregate_version), event, handler, delivery)


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
        store: ParkedStore | None = None,
    ) -> None:
        self.service = service
        self.topic_prefix = topic_prefix
        self.subscriptions = subscriptions
        self.max_attempts = max_attempts
        self.store = store
        """Where events are parked: required to run (None only to describe the
        subscriptions, as the AsyncAPI generator does)."""
        self.broker = KafkaBroker(
            bootstrap,
            client_id=f"pubrev-{service}",
            graceful_timeout=graceful_timeout,
            security=(security or KafkaSecurity()).faststream(),
            # Topics are made explicitly (runtime's ensure_topics, or the admin beforehand);
            # a service principal may not create any, so FastStream must not try.
            allow_auto_create_topics=False,
            logger=logging.getLogger(f"faststream.{service}"),
            # FastStream's per-message "Received/Processed" lines at DEBUG, not INFO.
            log_level=logging.DEBUG,
        )
        self.guards: dict[str, CrashGuard] = {}
        self._counted: set[tuple[str, str]] = set()
        """(worker, key) whose failed attempts this process counted: forgotten once applied."""
        self._transient_pause = 0.5
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        """Events parked (malformed, refused, or failed max_attempts times)."""
        self.held = 0
        """Events parked behind an earlier parked event of their aggregate."""
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
            await runner.dispatch_batch(subscription, list(message.raw_message))

        self.broker.subscriber(
            self.topic_prefix + subscription.topic,
            group_id=subscription.consumer,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=subscription.max_records,
            batch_timeout_ms=100,
            title=f"{subscription.consumer}:{subscription.topic}",
            description=f"{subscription.consumer} consumes, in batches, "
            + ", ".join(sorted(subscription.by_type)),
        )(handle, parser=_parse_batch_unread, decoder=_undecoded_bodies)

    def _store(self) -> ParkedStore:
        if self.store is None:
            raise RuntimeError("the consumer runner has no parked store: it cannot park")
        return self.store

    def _guard(self, subscription: Subscription) -> CrashGuard:
        worker = consumer_worker(subscription.consumer)
        guard = self.guards.get(worker)
        if guard is None:
            guard = self.guards[worker] = CrashGuard(self._store(), worker, self.max_attempts)
        return guard

    async def dispatch(self, subscription: Subscription, record: ConsumerRecord[Any, Any]) -> None:
        await self.dispatch_batch(subscription, [record])

    async def dispatch_batch(
        self, subscription: Subscription, records: list[ConsumerRecord[Any, Any]]
    ) -> None:
        """Applies a fetched batch in order. Returns once every record is applied, was
        applied before, or is parked (durably); raises (so the batch comes again) on a
        transient failure or on an event that still has attempts left."""
        store = self._store()
        worker = consumer_worker(subscription.consumer)
        guard = self._guard(subscription)
        reads = [
            read_record(
                subscription, list(r.headers), r.value or b"", f"{r.topic}/{r.partition}/{r.offset}"
            )
            for r in records
        ]
        relevant = [(r, read) for r, read in zip(records, reads, strict=True) if read]
        if not relevant:
            return
        known = Known()
        # Another member of the group may have parked events of a partition this process
        # now has: the database is asked each batch, with a cheap probe first.
        if await asyncio.to_thread(store.has_open, worker):
            known = await asyncio.to_thread(
                store.known,
                worker,
                [read.key for _, read in relevant],
                [read.delivery.aggregate_id for _, read in relevant if read.delivery],
            )
        # Where this batch starts and ends on each partition: a process's first batch of a
        # partition starts at the group's committed offset, where the process before it
        # stopped (or died).
        spans: dict[int, tuple[int, int]] = {}
        for record in records:
            first, _ = spans.get(record.partition, (record.offset, record.offset))
            spans[record.partition] = (first, record.offset)
        for partition, (first, last) in spans.items():
            await guard.started(str(partition), first, last)
        pending = [
            Pending(record, read, guard.careful(str(record.partition), record.offset))
            for record, read in relevant
        ]
        if subscription.batch_handler is not None and not any(p.careful for p in pending):
            pending = await self._dispatch_together(subscription, worker, known, pending)
        for p in pending:
            await self._dispatch_one(
                subscription, worker, guard, known, p.record, p.read, p.careful
            )

    async def _dispatch_together(
        self, subscription: Subscription, worker: str, known: Known, pending: list[Pending]
    ) -> list[Pending]:
        """Applies the batch's plain events (read, not parked, their aggregate not
        blocked) with the subscription's batch handler; returns what is left to go event
        by event: the others, or all of them when the batch failed for the events' sake."""
        assert subscription.batch_handler is not None
        reads: list[Read] = []
        events: list[tuple[Any, DeliveryRef]] = []
        rest: list[Pending] = []
        for p in pending:
            delivery = p.read.delivery
            if (
                p.read.problem is None
                and delivery is not None
                and p.read.key not in known.keys
                and delivery.aggregate_id not in known.heads
            ):
                reads.append(p.read)
                events.append((p.read.event, delivery))
            else:
                rest.append(p)
        if not events:
            return rest
        try:
            applied = await asyncio.to_thread(_apply_batch, subscription.batch_handler, events)
            faults.point("consumer.before_commit")
        except Exception as error:
            if is_transient(error):
                pause = self._transient_pause
                self._transient_pause = min(pause * 2, 10.0)
                log.warning(
                    "batch failed for a reason of the moment; it will be tried again",
                    extra={
                        "consumer": subscription.consumer,
                        "events": len(reads),
                        "error": short_error(error),
                        "retry_in_s": pause,
                    },
                )
                await asyncio.sleep(pause)
                raise
            log.warning(
                "batch failed; its events are applied one by one",
                extra={
                    "consumer": subscription.consumer,
                    "events": len(reads),
                    "error": short_error(error),
                },
            )
            return pending
        self._transient_pause = 0.5
        self.applied += applied
        self.duplicates += len(reads) - applied
        counted = [r.key for r in reads if (worker, r.key) in self._counted]
        if counted:
            await asyncio.to_thread(self._store().forget_attempts, worker, counted)
            self._counted.difference_update((worker, key) for key in counted)
        return rest

    async def _dispatch_one(
        self,
        subscription: Subscription,
        worker: str,
        guard: CrashGuard,
        known: Known,
        record: ConsumerRecord[Any, Any],
        read: Read,
        careful: bool,
    ) -> None:
        store = self._store()
        if read.key in known.keys:
            log.info(
                "event parked before; not applied here",
                extra={
                    "consumer": subscription.consumer,
                    "event_key": read.key[:200],
                    "status": known.keys[read.key],
                },
            )
            return
        candidate = _candidate(record, read)
        if read.problem is not None:
            await self._park(subscription, worker, known, record, candidate, read.problem.reason, 1)
            if read.problem.refused:
                self.refused += 1
            return
        assert read.delivery is not None and read.handler is not None
        aggregate = read.delivery.aggregate_id
        head = known.heads.get(aggregate)
        if head is not None:
            held = await asyncio.to_thread(store.hold, Role.consumer, worker, head, candidate)
            if held is not None:
                known.keys[read.key] = Status.parked
                self.held += 1
                return
            del known.heads[aggregate]  # re-driven meanwhile: this one follows it
        attempts = 0
        if careful:
            attempts = await asyncio.to_thread(guard.before, read.key)
            if guard.exhausted(attempts):
                await self._park(
                    subscription,
                    worker,
                    known,
                    record,
                    candidate,
                    f"the consumer died applying it {attempts - 1} times",
                    attempts - 1,
                )
                return
        try:
            applied = await asyncio.to_thread(_apply, read.handler, read.event, read.delivery)
            faults.point("consumer.before_commit")
        except Exception as error:
            if is_transient(error):
                if careful:
                    await asyncio.to_thread(store.uncount_attempt, worker, read.key)
                pause = self._transient_pause
                self._transient_pause = min(pause * 2, 10.0)
                log.warning(
                    "handler failed for a reason of the moment; the batch will be tried again",
                    extra={
                        "consumer": subscription.consumer,
                        "ce_id": read.key,
                        "error": short_error(error),
                        "retry_in_s": pause,
                    },
                )
                await asyncio.sleep(pause)
                raise
            if not careful:
                attempts = await asyncio.to_thread(
                    store.count_attempt, worker, read.key, short_error(error)
                )
                self._counted.add((worker, read.key))
            if attempts >= self.max_attempts:
                await self._park(
                    subscription, worker, known, record, candidate, short_error(error), attempts
                )
                return
            log.warning(
                "handler failed; the event will be redelivered",
                extra={
                    "consumer": subscription.consumer,
                    "ce_id": read.key,
                    "attempt": attempts,
                    "error": short_error(error),
                },
            )
            await asyncio.sleep(min(0.1 * 2**attempts, 5.0))
            raise
        self._transient_pause = 0.5
        if careful or (worker, read.key) in self._counted:
            self._counted.discard((worker, read.key))
            await asyncio.to_thread(store.forget_attempts, worker, [read.key])
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
            log.info(
                "duplicate event ignored",
                extra={"consumer": subscription.consumer, "ce_id": read.key},
            )

    async def _park(
        self,
        subscription: Subscription,
        worker: str,
        known: Known,
        record: ConsumerRecord[Any, Any],
        candidate: Candidate,
        reason: str,
        attempts: int,
    ) -> None:
        # The dead-letter copy first, then the durable entry, and only then does the batch
        # go on (its offsets are committed after it): a crash in between brings the record
        # again, and a second copy on the topic is harmless.
        await self._dead_letter(subscription, candidate.body or b"", list(record.headers), reason)
        entry = await asyncio.to_thread(
            self._store().park, Role.consumer, worker, candidate, reason, attempts
        )
        known.keys[candidate.key] = Status.parked
        if candidate.aggregate_id is not None:
            known.heads[candidate.aggregate_id] = entry

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
            extra={
                "consumer": subscription.consumer,
                "ce_id": _prefix(headers.get("ce_id", ""), 200) or None,
                "reason": reason[:2000],
            },
        )
        await self.broker.publish(
            body,
            topic=self.topic_prefix + dead_letter_topic(self.service),
            headers={
                **headers,
                "x-pubrev-consumer": subscription.consumer,
                "x-pubrev-error": reason[:2000],
            },
        )
        self.dead_lettered += 1

    async def start(self) -> None:
        self._store()
        # What the process holds as it starts (modules, contract schemas, the application
        # and its wiring) lives as long as it does. Frozen, the cyclic collector's full
        # passes no longer walk it: a busy consumer allocates enough to run one every few
        # batches, and walking everything was a third of its time (ADR 0018).
        gc.collect()
        gc.freeze()
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        gc.unfreeze()


def _candidate(record: ConsumerRecord[Any, Any], read: Read) -> Candidate:
    return Candidate(
        key=read.key,
        aggregate_id=read.delivery.aggregate_id if read.delivery else None,
        version=read.delivery.version if read.delivery else None,
        position=record.offset,
        partition=record.partition,
        body=record.value or b"",
        headers=original_headers(list(record.headers)),
    )


def original_headers(raw_headers: list[tuple[str, bytes | None]]) -> list[list[str | None]]:
    """Headers exactly as they came, as JSON: [name, base64 value or null]."""
    return [
        [name, None if value is None else base64.b64encode(value).decode("ascii")]
        for name, value in raw_headers
    ]


def restored_headers(stored: list[list[str | None]]) -> list[tuple[str, bytes | None]]:
    return [
        (str(name), None if value is None else base64.b64decode(value)) for name, value in stored
    ]


class ConsumerRedriver:
    """Re-drives consumers' parked events from another process (the api's admin RPCs):
    each is read again under the runner's rules and given to its handler, the head first
    and then the events held behind it; one that fails again stays parked."""

    role = Role.consumer

    def __init__(self, subscriptions: list[Subscription]) -> None:
        self.by_worker = {consumer_worker(s.consumer): s for s in subscriptions}

    def workers(self) -> list[str]:
        return sorted(self.by_worker)

    def redrive(self, cur: Cursor[Any], chain: list[ParkedEvent]) -> tuple[int, str | None]:
        for index, entry in enumerate(chain):
            try:
                subscription = self.by_worker[entry.worker]
                place = f"{subscription.topic}/{entry.partition}/{entry.position}"
                read = read_record(
                    subscription, restored_headers(entry.headers or []), entry.body or b"", place
                )
                if read is None:
                    continue  # a type the consumer no longer handles: nothing to apply
                if read.problem is not None:
                    raise read.problem
                assert read.handler is not None and read.delivery is not None
                _apply(read.handler, read.event, read.delivery)
            except Exception as error:
                if is_transient(error):
                    raise
                return index, short_error(error)
        return len(chain), None


def _apply(handler: Handler, event: Any, delivery: DeliveryRef) -> bool:
    faults.point("consumer.before_effect")
    applied = handler(event, delivery)
    faults.point("consumer.after_effect")
    return applied


def _apply_batch(handler: BatchHandler, events: list[tuple[Any, DeliveryRef]]) -> int:
    faults.point("consumer.before_effect")
    applied = handler(events)
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
    carried["x-pubrev-original-headers"] = json.dumps(original_headers(raw_headers))
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
