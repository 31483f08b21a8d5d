"""eventsourcing helpers every service application shares.

Stdlib + eventsourcing only: the `application` layer of a service imports this module, and
that layer must not reach grpc, faststream, pydantic or psycopg.

What it adds to `eventsourcing.application.Application`:
- a process recorder, so that an event consumed from Kafka is applied together with a
  tracking record in one database transaction (`record(..., tracking=...)`);
- `DeliveryRef`: which upstream event is being applied. Dedupe is keyed by upstream
  aggregate and version, not by Kafka offset, because a relay re-send after a crash gets a
  new offset but keeps the aggregate id and version (the CloudEvents `ce_id`); each applied
  event has its own tracking row;
- command receipts, so that a retried command (same `request_id`) returns its first result
  and writes nothing;
- stored means publishable: every new event passes the bootstrap's `publish_check` (its
  contract translation and its size on the topic, servicekit.publishable) before it is
  written, so the relay never meets an event it cannot translate or send;
- the audit trail (`history`);
- a consumer's batch applied in one transaction (`apply_batch`): the batch's deliveries
  deduped in one query, each aggregate loaded once (kept between batches), every effect
  written with one tracking row per delivery, all at once (ADR 0018).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate, CanMutateAggregate, DomainEventProtocol, event
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    Notification,
    OperationalError,
    ProcessRecorder,
    Recording,
    StoredEvent,
    Tracking,
    Transcoding,
)
from eventsourcing.popo import POPOProcessRecorder

from servicekit.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    excerpt,
)
from servicekit.identity import Identity
from servicekit.policy import Policy, Resource

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
"""A typed command's result (a flat dataclass)."""

PublishCheck = Callable[[Sequence[DomainEventProtocol[uuid.UUID]]], None]
"""Raises (InvalidArgument for a caller-caused size, Unpublishable for a bug in the
translation) when one of the events about to be written could not be published."""


class Unpublishable(ServiceError):
    """An event the platform was about to store cannot be translated to its contract (a bug
    of the service, not of the caller): INTERNAL, with the incident logged; nothing was
    written."""


RECEIPT_NAMESPACE = uuid.UUID("6f0a3c55-6a43-4f43-9a53-0d6b1f3f7a10")


@dataclasses.dataclass(frozen=True)
class DeliveryRef:
    """The upstream event being applied by a consumer."""

    consumer: str
    """Name of the consuming policy or projection, e.g. `inspection.disclosure-watch`."""
    aggregate_id: str
    version: int

    def tracking(self) -> Tracking:
        # One tracking row per applied event (consumer, upstream aggregate, version), not one
        # per aggregate holding the highest version: an older event re-driven after a newer
        # one was applied (it had been parked) must still be applied once. eventsourcing's
        # single-row tracking refuses a second insert of the same row (its id is not
        # higher), in the same transaction as the effect: a redelivered event cannot apply
        # twice.
        return Tracking(f"{self.consumer}|{self.aggregate_id}|{self.version}", 1)


@dataclasses.dataclass(frozen=True)
class BatchEffect(Generic[A]):
    """What one upstream event does to one aggregate, in a consumer's batch
    (`ServiceApplication.apply_batch`)."""

    delivery: DeliveryRef
    aggregate_id: uuid.UUID
    kind: type[A]
    apply: Callable[[A | None], A]
    """Given the aggregate as it stands (None: it has no event yet), calls its verbs and
    returns it (a new one when it had none), its new events pending."""


@dataclasses.dataclass(frozen=True)
class BatchStep:
    """What one upstream event does in a consumer's batch when it may change several
    aggregates (`ServiceApplication.apply_steps`); a `BatchEffect` is the one-aggregate
    case."""

    delivery: DeliveryRef
    changes: Sequence[uuid.UUID]
    """The aggregates it may change: each is brought forward once for the whole batch."""
    apply: Callable[[Mapping[uuid.UUID, Aggregate]], Sequence[Aggregate]]
    """Given the batch's aggregates as they stand (those without events absent), calls
    their verbs; returns the aggregates it changed or opened, their new events pending."""


StepEvents = list[DomainEventProtocol[uuid.UUID]]
Finish = Callable[[Sequence[StepEvents]], None]
"""Given each applied step's new events (in the steps' order), adds events of aggregates
no step read (e.g. a warning raised once) to the step that causes them; runs before the
batch is written, in its all-or-nothing."""


def batch_aggregate(
    aggregates: Mapping[uuid.UUID, Aggregate], key: uuid.UUID, kind: type[A]
) -> A | None:
    """The batch's aggregate `key` as a `kind` (None: it has no event yet)."""
    found = aggregates.get(key)
    if found is None or isinstance(found, kind):
        return found
    raise TypeError(f"{key} is a {type(found).__name__}, not {kind.__name__}")


BATCH_RECORDER_TOPIC = "servicekit.batch_recorder:BatchPostgresProcessRecorder"
"""eventsourcing's PostgreSQL process recorder, able to apply a consumer's batch."""


@runtime_checkable
class BatchRecorder(Protocol):
    """What `apply_batch` needs of the process recorder besides eventsourcing's own."""

    def read_batch(
        self, application_names: Sequence[str], after: Mapping[uuid.UUID, int]
    ) -> tuple[set[str], list[StoredEvent]]:
        """Which of the tracking rows exist, and each aggregate's events after the version
        given (0: all of them; each aggregate's in order): what a batch needs to know
        before it is applied, in one round trip."""
        ...

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[Tracking]
    ) -> None:
        """The events and the tracking rows, all or nothing, in one transaction: IntegrityError
        when an event's version or a tracking row exists already (eventsourcing writes one
        tracking row, `insert_events(..., tracking=)`)."""
        ...


class BatchPOPOProcessRecorder(POPOProcessRecorder):
    """eventsourcing's in-memory process recorder (unit tests), able to apply a batch."""

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        trackings: Sequence[Tracking] = kwargs.get("trackings") or ()
        if len({t.application_name for t in trackings}) < len(trackings):
            raise IntegrityError("a batch tracks one delivery twice")
        for tracking in trackings:
            self._assert_tracking_uniqueness(tracking)

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._update_table(stored_events, **kwargs)
        for tracking in kwargs.get("trackings") or ():
            self._insert_tracking(tracking)
        return notification_ids

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[Tracking]
    ) -> None:
        self.insert_events(stored_events, trackings=trackings)

    def read_batch(
        self, application_names: Sequence[str], after: Mapping[uuid.UUID, int]
    ) -> tuple[set[str], list[StoredEvent]]:
        with self._database_lock:
            tracked = {n for n in application_names if self._max_tracking_ids.get(n) is not None}
            return tracked, [e for i, v in after.items() for e in self.select_events(i, gt=v)]


class _BatchAggregates:
    """The aggregates a consumer's batches changed, kept between batches (most recently
    used first out): the next batch reads only their new events, in the one query that
    loads the batch's aggregates. Private to the batch path, never handed to anyone
    else, so a batch may change them in place; one that fails forgets what it touched."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.kept: OrderedDict[uuid.UUID, Aggregate] = OrderedDict()

    def versions(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {i: (a.version if (a := self.kept.get(i)) is not None else 0) for i in ids}

    def keep(self, aggregates: Mapping[uuid.UUID, Aggregate]) -> None:
        for aggregate_id, aggregate in aggregates.items():
            self.kept[aggregate_id] = aggregate
            self.kept.move_to_end(aggregate_id)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)

    def forget(self, ids: Sequence[uuid.UUID]) -> None:
        for aggregate_id in ids:
            self.kept.pop(aggregate_id, None)


class _Preread(threading.local):
    """The aggregates `ServiceApplication.preread` read for the thread's block."""

    aggregates: dict[uuid.UUID, Aggregate | None] | None = None


class CommandReceipt(Aggregate):
    """Remembers that a command with a client request_id was carried out, and its result."""

    @event("Issued")
    def __init__(self, command: str, request_id: str, fingerprint: str, result: dict[str, Any]):
        self.command = command
        self.request_id = request_id
        self.fingerprint = fingerprint
        self.result = result

    @staticmethod
    def create_id(command: str, request_id: str) -> uuid.UUID:
        return uuid.uuid5(RECEIPT_NAMESPACE, f"{command}:{request_id}")


class OperatorAction(Aggregate):
    """One action of an operator or of the platform's scheduler that is not itself a domain
    decision (a re-push, a sweep): who, through which front end, which RPC, with what. Kept
    in the event store, so it is in the audit trail (GetHistory) like everything else."""

    @event("Taken")
    def __init__(self, actor: str, via: str, rpc: str, details: dict[str, Any]) -> None:
        self.actor = actor
        self.rpc = rpc


def fingerprint(payload: Any) -> str:
    """A stable hash of a command's content, to tell a retry from a reuse of its request_id."""
    text = json.dumps(to_jsonable(payload), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class DateAsISO(Transcoding):
    """Dates (deadlines, decision dates) in stored events, as ISO text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


HISTORY_RPC = "GetHistory"

HistoryReads = Mapping[type[Aggregate], tuple[str, Callable[[Any], Resource]]]
"""Aggregate type → (the RPC that reads it, the facts its scope is judged on)."""


class ServiceApplication(Application[uuid.UUID]):
    """Base of each service's eventsourcing application."""

    policy: Policy
    """The service's declared authorization (application/access.py)."""
    history_reads: ClassVar[HistoryReads] = {}
    """Who may read a record's history: the same rule as the record's own read RPC."""
    publish_check: PublishCheck | None = None
    """Set by the bootstrap (servicekit.publishable): every write passes it first."""
    handlers: ClassVar[Mapping[type, Callable[..., Any]]] = {}
    """Command type → handler `(app, identity, command) -> result` (application/handlers.py):
    the service's message bus, as in cosmicpython's `allocation`."""
    preread_keeps_from: ClassVar[int] = 50
    """`preread` puts an aggregate it read whole in the repository's cache only from this
    many events on (about a millisecond of replay; local configuration): a long history is
    replayed once per process, while the province's ordinary communities, read in one
    query per group anyway, do not fill the api's memory (the soak: +33 MiB when it kept
    every one)."""

    def handle(self, identity: Identity, command: Any) -> Any:
        """Runs the command's handler. A command type without one is a wiring bug."""
        handler = self.handlers.get(type(command))
        if handler is None:
            raise TypeError(f"{type(self).__name__} has no handler for {type(command).__name__}")
        return handler(self, identity, command)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    env: ClassVar[dict[str, str]] = {"PROCESS_RECORDER_TOPIC": BATCH_RECORDER_TOPIC}
    """eventsourcing's defaults, overridden by the process's environment and the one
    given: on PostgreSQL, the recorder that applies a consumer's batch."""

    def construct_recorder(self) -> ProcessRecorder:
        recorder = self.factory.process_recorder()
        if type(recorder) is POPOProcessRecorder:
            return BatchPOPOProcessRecorder()
        return recorder

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def _record(self, processing_event: ProcessingEvent[uuid.UUID]) -> list[Recording[uuid.UUID]]:
        # Every write (save, record, a command's commit, a consumer's effect) comes through
        # here before its transaction: an event that could not be published is refused
        # now, with nothing written, rather than met by the relay later, forever.
        if self.publish_check is not None:
            self.publish_check(processing_event.events)
        return super()._record(processing_event)

    # -- consumers -------------------------------------------------------------------------

    def already_applied(self, delivery: DeliveryRef) -> bool:
        tracking = delivery.tracking()
        return self.process_recorder.has_tracking_id(
            tracking.application_name, tracking.notification_id
        )

    def record(
        self,
        *objs: Aggregate | DomainEventProtocol[uuid.UUID] | None,
        delivery: DeliveryRef | None = None,
    ) -> bool:
        """Saves the aggregates' pending events, atomically with the delivery's tracking.

        Returns False (and writes nothing) when the delivery had been applied already.
        Raises Conflict when another writer changed one of the aggregates first.
        """
        processing = ProcessingEvent[uuid.UUID](tracking=delivery.tracking() if delivery else None)
        for obj in objs:
            if isinstance(obj, CanMutateAggregate):
                # An aggregate's event (a command's commit hands over events, not
                # aggregates): what collect_events would do, without its isinstance on a
                # runtime Protocol, a few percent of a busy API's CPU.
                processing.events.append(obj)
            else:
                processing.collect_events(obj)
        try:
            recordings = self._record(processing)
        except IntegrityError as error:
            if delivery is not None and self.already_applied(delivery):
                return False
            raise Conflict(
                "a concurrent command changed the same record first; read it again and retry",
                "数据已被并发修改，请重新读取后重试",
            ) from error
        self._notify(recordings)
        return True

    def apply_batch(self, effects: Sequence[BatchEffect[Any]]) -> int:
        """Applies a consumer's batch in one transaction, each event changing one aggregate
        (`apply_steps`, whose promises it keeps); returns how many of its deliveries were
        applied (the others had been, before or earlier in the batch)."""
        return self.apply_steps([_step_of(effect) for effect in effects])

    def apply_steps(self, steps: Sequence[BatchStep], finish: Finish | None = None) -> int:
        """Applies a consumer's batch in one transaction with the effects of its events
        applied one by one; returns how many of its deliveries were applied.

        One round trip finds the deliveries applied before (passed over, as are repeats
        within the batch) and loads each aggregate the steps change once (only its new
        events, when an earlier batch left it here); the steps run in the batch's order;
        `finish` may then add what depends on the whole batch; every new event (each
        through the publish check) and one tracking row per delivery are written in one
        transaction. Nothing is written when anything fails: a verb that refuses, an event
        that cannot be published, a concurrent writer or a repeat racing its first delivery
        (IntegrityError). The consumer then applies the batch event by event, which tells
        the event at fault from the others."""
        recorder = self._batch_recorder()
        names = {s.delivery.tracking().application_name: s.delivery for s in steps}
        ids = list(dict.fromkeys(i for s in steps for i in s.changes))
        kept = self._batch_aggregates()
        with kept.lock:
            tracked, new = recorder.read_batch(list(names), kept.versions(ids))
            seen = {names[n] for n in tracked}
            pending: list[BatchStep] = []
            for step in steps:
                if step.delivery not in seen:
                    seen.add(step.delivery)
                    pending.append(step)
            if not pending:
                return 0
            try:
                aggregates = self._brought_forward(kept, ids, new)
                changed: list[StepEvents] = []
                for step in pending:
                    events: StepEvents = []
                    for aggregate in step.apply(aggregates):
                        aggregates[aggregate.id] = aggregate
                        events.extend(aggregate.collect_events())
                    changed.append(events)
                if finish is not None:
                    finish(changed)
                # In the deliveries' order, as event by event would have written them.
                new_events = [e for events in changed for e in events]
                # Stored means publishable, as on every other write (`_record`).
                if self.publish_check is not None:
                    self.publish_check(new_events)
                recorder.insert_batch(
                    [self.mapper.to_stored_event(e) for e in new_events],
                    [s.delivery.tracking() for s in pending],
                )
            except BaseException:
                # What was changed in place is not what is stored: read it all again.
                kept.forget(ids)
                raise
            kept.keep({i: aggregates[i] for i in ids if i in aggregates})
        return len(pending)

    def _batch_recorder(self) -> BatchRecorder:
        recorder = self.recorder
        if not isinstance(recorder, BatchRecorder):
            raise NotImplementedError(
                f"{type(recorder).__name__} cannot apply a batch (PROCESS_RECORDER_TOPIC "
                f"{BATCH_RECORDER_TOPIC} on PostgreSQL)"
            )
        return recorder

    def _batch_aggregates(self) -> _BatchAggregates:
        kept: _BatchAggregates | None = self.__dict__.get("_batch_kept")
        if kept is None:
            size = int(self.env.get("AGGREGATE_CACHE_MAXSIZE") or 0) or 10_000
            kept = self.__dict__.setdefault("_batch_kept", _BatchAggregates(size))
        return kept

    def _brought_forward(
        self, kept: _BatchAggregates, ids: Sequence[uuid.UUID], new: Sequence[StoredEvent]
    ) -> dict[uuid.UUID, Aggregate]:
        """The aggregates as they stand now (those without events left out): what was kept
        of each, brought forward by its new events."""
        by_aggregate: dict[uuid.UUID, list[StoredEvent]] = defaultdict(list)
        for stored in new:
            by_aggregate[uuid.UUID(str(stored.originator_id))].append(stored)
        aggregates: dict[uuid.UUID, Aggregate] = {}
        for aggregate_id in ids:
            aggregate = kept.kept.get(aggregate_id)
            events = by_aggregate.get(aggregate_id)
            if events:
                events.sort(key=lambda e: e.originator_version)
                aggregate = mutate_all(aggregate, (self.mapper.to_domain_event(s) for s in events))
            if aggregate is not None:
                aggregates[aggregate_id] = aggregate
        return aggregates

    # -- idempotent commands ---------------------------------------------------------------

    def find(
        self,
        aggregate_id: uuid.UUID,
        kind: type[A],
        version: int | None = None,
        *,
        read_only: bool = False,
    ) -> A | None:
        """The aggregate, or None when it does not exist (one read, not two).

        `read_only`: the caller will not change it, so the cached copy is handed out as is
        instead of a deep copy (a hot path saving).
        """
        preread = self._preread.aggregates if read_only and version is None else None
        if preread is not None and aggregate_id in preread:
            # Read for the whole group of commands being decided (`preread`), one query.
            found: Aggregate | None = preread[aggregate_id]
            if found is None:
                return None
            aggregate: Aggregate = found
        else:
            try:
                aggregate = self.repository.get(
                    aggregate_id,
                    version=version,
                    projector_func=mutate_all,
                    deepcopy_from_cache=not read_only,
                )
            except AggregateNotFoundError:
                return None
        if not isinstance(aggregate, kind):
            raise TypeError(f"{aggregate_id} is a {type(aggregate).__name__}, not {kind.__name__}")
        return aggregate

    @contextlib.contextmanager
    def preread(self, ids: Iterable[uuid.UUID]) -> Iterator[None]:
        """Within the block, this thread's `find(..., read_only=True)` of these aggregates
        answers from one query made now (an absent one: None), not one query each: the
        group committer decides a group's commands one after another in one thread, and
        reading the aggregates each command reads (a filing's community) one by one was
        most of a group's time (ADR 0019). The state is the same a read just before each
        decision would see, save for a commit in between, which no read outside the
        commit's transaction excludes either. Copies that may be changed (`read_only`
        False) are still read each time.

        The repository's cache is used as `repository.get` uses it: an aggregate held
        there is read from its cached version on (the one query asks for the events after
        it; none, and the cached one stands), so a long history is replayed once per
        process, not once per group (issue 14, goal 6: a community of 10,000 events). One
        that has moved on since is brought forward by `repository.get` itself (under its
        fast-forward lock); one read whole here is put in the cache for the next group when
        its history is long (`preread_keeps_from`)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted or self._preread.aggregates is not None:
            yield
            return
        cache = self.repository.cache
        cached: dict[uuid.UUID, Aggregate] = {}
        for aggregate_id in wanted:
            hit = _cached(cache, aggregate_id)
            if hit is not None:
                cached[aggregate_id] = hit
        stored = self._select_events_after(
            {i: cached[i].version if i in cached else 0 for i in wanted}
        )
        by_aggregate: dict[uuid.UUID, list[StoredEvent]] = defaultdict(list)
        for event_ in stored:
            by_aggregate[uuid.UUID(str(event_.originator_id))].append(event_)
        aggregates: dict[uuid.UUID, Aggregate | None] = {}
        for aggregate_id in wanted:
            events = by_aggregate.get(aggregate_id)
            if aggregate_id in cached:
                aggregates[aggregate_id] = (
                    self.repository.get(
                        aggregate_id, projector_func=mutate_all, deepcopy_from_cache=False
                    )
                    if events
                    else cached[aggregate_id]
                )
                continue
            if not events:
                aggregates[aggregate_id] = None
                continue
            events.sort(key=lambda e: e.originator_version)
            read = mutate_all(None, (self.mapper.to_domain_event(e) for e in events))
            if read is not None and cache is not None and len(events) >= self.preread_keeps_from:
                cache.put(aggregate_id, read)
            aggregates[aggregate_id] = read
        self._preread.aggregates = aggregates
        try:
            yield
        finally:
            self._preread.aggregates = None

    @property
    def _preread(self) -> _Preread:
        local: _Preread | None = self.__dict__.get("_preread_local")
        if local is None:
            local = self.__dict__.setdefault("_preread_local", _Preread())
        return local

    def _select_events_after(self, after: Mapping[uuid.UUID, int]) -> Sequence[StoredEvent]:
        """Each aggregate's events after the version given, in one query where the recorder
        can (the PostgreSQL batch recorder), else one per aggregate."""
        recorder: Any = self.recorder
        if hasattr(recorder, "select_events_after"):
            return list(recorder.select_events_after(after))
        return [e for i, v in after.items() for e in recorder.select_events(i, gt=v)]

    def existing(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these aggregates have events, in one query where the recorder can (for
        records a batch creates once, e.g. a warning: `apply_steps`' `finish`)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        stored = self._select_events_after(dict.fromkeys(wanted, 0))
        return {uuid.UUID(str(e.originator_id)) for e in stored}

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        """Whether the aggregate has any event: one indexed row read, no reconstruction
        (`aggregate_id in self.repository` rebuilds the whole aggregate)."""
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def find_receipt(self, command: str, request_id: str) -> CommandReceipt | None:
        return self.find(CommandReceipt.create_id(command, request_id), CommandReceipt)

    def run_once(
        self,
        command: str,
        request_id: str,
        payload: Any,
        execute: Callable[[], tuple[Sequence[Aggregate], dict[str, Any]]],
    ) -> dict[str, Any]:
        """Runs `execute` at most once per (command, request_id).

        `execute` returns the aggregates to save and the result to remember. A repeat of the
        same request returns the remembered result; the same request_id with other content
        is ALREADY_EXISTS (a client bug that must not pass silently).
        """
        prepared = self.prepare_once(command, request_id, payload, execute)
        if isinstance(prepared, dict):
            return prepared
        return self.commit_prepared(prepared)

    def prepare_once(
        self,
        command: str,
        request_id: str,
        payload: Any,
        execute: Callable[[], tuple[Sequence[Aggregate], dict[str, Any]]],
        on_conflict: Callable[[], ServiceError] | None = None,
    ) -> Prepared | dict[str, Any]:
        """The deciding half of `run_once`: the remembered result of a repeated request, or
        the new events (with the receipt) still to be committed.

        With `on_conflict`, the command is optimistic: it does not look for its receipt
        first (the common case is a new request), and `execute` creates aggregates
        without asking whether they exist. The commit then fails on the unique version 1,
        and only then is the reason found: a repeated request (replayed), or
        `on_conflict()` (e.g. ALREADY_EXISTS for a second filing of a quarter).
        """
        digest = fingerprint(payload)
        if on_conflict is None:
            receipt = self.find_receipt(command, request_id)
            if receipt is not None:
                return self._replay(receipt, command, request_id, digest)
        aggregates, result = execute()
        receipt = CommandReceipt(command, request_id, digest, result)
        # Take the events out of the aggregates now: a failed group commit can then
        # commit them again, one command at a time.
        events = [e for a in (*aggregates, receipt) for e in a.collect_events()]
        return Prepared(command, request_id, digest, events, result, on_conflict)

    def commit_prepared(self, prepared: Prepared) -> dict[str, Any]:
        try:
            self.record(*prepared.events)
        except Conflict:
            # Either the same request raced itself (then its receipt exists now), or
            # another command touched the aggregate first.
            raced = self.find_receipt(prepared.command, prepared.request_id)
            if raced is not None:
                return self._replay(raced, prepared.command, prepared.request_id, prepared.digest)
            if prepared.on_conflict is not None:
                raise prepared.on_conflict() from None
            raise
        return prepared.result

    def commit_group(self, group: Sequence[Prepared]) -> list[Any]:
        """Commits several commands' events in one transaction (the lever for throughput:
        one insert and one commit for many commands). If one fails for its own reasons (a
        conflict, an event it cannot publish, a value it cannot store), the group is
        committed again command by command, so only that one fails; the database away
        fails them all."""
        if len(group) > 1:
            try:
                self.record(*(e for p in group for e in p.events))
                return [p.typed(p.result) for p in group]
            except (OperationalError, InterfaceError):
                raise
            except Exception:  # noqa: S110 (found again, and kept, command by command below)
                # One command's conflict, unpublishable event or bug (an event value no
                # transcoding knows is met only now): the others commit alone.
                pass
        outcomes: list[Any] = []
        for prepared in group:
            try:
                outcomes.append(prepared.typed(self.commit_prepared(prepared)))
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                outcomes.append(error)
        return outcomes

    # -- typed commands ----------------------------------------------------------------------

    def run_command(
        self,
        command: Command,
        result: type[R],
        execute: Callable[[], tuple[Sequence[Aggregate], R]],
        on_conflict: Callable[[], ServiceError] | None = None,
    ) -> R:
        """`run_once` for a typed command: the receipt is named after the command's type
        (its RPC: `FileDisclosure`), `result` is the flat dataclass the handler returns,
        remembered in the receipt and rebuilt from it for a repeated request."""
        prepared = self.prepare_command(command, result, execute, on_conflict)
        if isinstance(prepared, Prepared):
            return self.commit_command(prepared, result)
        return prepared

    def prepare_command(
        self,
        command: Command,
        result: type[R],
        execute: Callable[[], tuple[Sequence[Aggregate], R]],
        on_conflict: Callable[[], ServiceError] | None = None,
    ) -> Prepared | R:
        """The deciding half of `run_command` (for group commit): the remembered result of
        a repeated request, or the decided events still to be committed."""

        def remembered() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            aggregates, value = execute()
            return aggregates, remember(value)

        # A command may name what a retry is compared on (`fingerprinted()`): e.g. leaving
        # out personal data, whose hash in a receipt would outlive its shredding.
        shown = getattr(command, "fingerprinted", None)
        payload = shown() if callable(shown) else command
        outcome = self.prepare_once(
            type(command).__name__, command.request_id, payload, remembered, on_conflict
        )
        if isinstance(outcome, Prepared):
            return dataclasses.replace(outcome, result_type=result)
        return rebuild(result, outcome)

    def commit_command(self, prepared: Prepared, result: type[R]) -> R:
        return rebuild(result, self.commit_prepared(prepared))

    @staticmethod
    def _replay(
        receipt: CommandReceipt, command: str, request_id: str, digest: str
    ) -> dict[str, Any]:
        if receipt.fingerprint != digest:
            raise AlreadyExists(
                f"request_id {excerpt(request_id)} was already used for a different {command}",
                f"请求编号 {excerpt(request_id)} 已用于另一条不同的请求",
            )
        return dict(receipt.result)

    # -- audit trail -----------------------------------------------------------------------

    def record_operation(self, identity: Identity, rpc: str, details: Mapping[str, Any]) -> None:
        """Records an operation (Trust: operators act under an operator identity and every
        action is recorded), before its effect is reported done."""
        self.save(
            OperatorAction(
                identity.render(),
                identity.via,
                rpc,
                {k: to_jsonable(v) for k, v in details.items()},
            )
        )

    def read_history(
        self, identity: Identity, aggregate_id: uuid.UUID | None, after_position: int, limit: int
    ) -> list[HistoryEntry]:
        """The history a caller may read: the whole log only under the GetHistory rule (the
        auditor's), one record's history under that record's own read rule
        (`Policy.decide_history`: not for the public, nor for grants that open only what is
        published). Anyone else gets the same denial whether or not the record exists: ids
        can be predictable, and existence alone can tell (an inspection planned)."""
        if aggregate_id is None:
            self.policy.authorize(HISTORY_RPC, identity, Resource())
            return self.history(None, after_position, limit)
        if self.policy.decide(HISTORY_RPC, identity, Resource()) is not None:
            if not self.exists(aggregate_id):
                raise NotFound("no such record", "记录不存在")
            return self.history(aggregate_id, after_position, limit)
        denied = PermissionDenied(
            f"{identity.agency}/{identity.role} of {identity.unit} may not read this "
            "history: no such record, or not one it may read",
            "无权查看该记录的历史，或记录不存在",
        )
        if not any(
            self.policy.may_read_history_under(rpc, identity)
            for rpc, _ in self.history_reads.values()
        ):
            raise denied  # before anything is read
        subject = self._history_subject(aggregate_id)
        if subject is None:
            raise denied
        rpc, resource = subject
        if self.policy.decide_history(rpc, identity, resource) is None:
            raise denied
        return self.history(aggregate_id, after_position, limit)

    def _history_subject(self, aggregate_id: uuid.UUID) -> tuple[str, Resource] | None:
        """The read RPC whose rule judges the record, and its facts; None when it does not
        exist or no read rule was declared for its type (then it is the auditor's only)."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, projector_func=mutate_all)
        except AggregateNotFoundError:
            return None
        for kind, (rpc, facts) in self.history_reads.items():
            if isinstance(aggregate, kind):
                return rpc, facts(aggregate)
        return None

    def history(
        self, aggregate_id: uuid.UUID | None, after_position: int, limit: int
    ) -> list[HistoryEntry]:
        if aggregate_id is not None:
            stored: Sequence[StoredEvent] = self.recorder.select_events(aggregate_id, limit=limit)
        else:
            stored = self.process_recorder.select_notifications(
                start=after_position, limit=limit, inclusive_of_start=False
            )
        return [self._history_entry(s) for s in stored]

    def _history_entry(self, stored: StoredEvent) -> HistoryEntry:
        domain_event: Any = self.mapper.to_domain_event(stored)
        attributes = {
            k: v
            for k, v in vars(domain_event).items()
            if k not in ("originator_id", "originator_version", "timestamp")
        }
        return HistoryEntry(
            aggregate_id=str(stored.originator_id),
            version=stored.originator_version,
            type=type(domain_event).__qualname__,
            occurred_at=domain_event.timestamp,
            payload=to_jsonable(attributes),
            position=stored.id if isinstance(stored, Notification) else 0,
        )


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A decided command whose events are not committed yet."""

    command: str
    request_id: str
    digest: str
    events: Sequence[DomainEventProtocol[uuid.UUID]]
    result: dict[str, Any]
    on_conflict: Callable[[], ServiceError] | None = None
    result_type: type | None = None
    """A typed command's result class (`prepare_command`): what the commit hands back."""

    def typed(self, remembered: dict[str, Any]) -> Any:
        return remembered if self.result_type is None else rebuild(self.result_type, remembered)


class Command(Protocol):
    """A typed command: a frozen dataclass named after its RPC, carrying the caller's
    idempotency key."""

    @property
    def request_id(self) -> str: ...


def remember(result: Any) -> dict[str, Any]:
    """A handler's result as its receipt keeps it: a flat dataclass of JSON values."""
    if not (dataclasses.is_dataclass(result) and not isinstance(result, type)):
        raise TypeError(f"a command's result is a dataclass, not {type(result).__name__}")
    return {f.name: to_jsonable(getattr(result, f.name)) for f in dataclasses.fields(result)}


def rebuild(result: type[R], remembered: Mapping[str, Any]) -> R:
    """The result a receipt remembered, as its dataclass again. A field the result gained
    after the receipt was written takes its default."""
    names = {f.name for f in dataclasses.fields(result)}  # type: ignore[arg-type]
    return result(**{k: v for k, v in remembered.items() if k in names})


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    aggregate_id: str
    version: int
    type: str
    occurred_at: datetime
    payload: Any
    position: int


def to_jsonable(value: Any) -> Any:
    """Domain values as JSON: UUIDs and Decimals as strings, times in ISO 8601."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        # Sorted, so that equal sets give equal fingerprints whatever the hash seed.
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def _cached(cache: Any, aggregate_id: uuid.UUID) -> Aggregate | None:
    """The repository's cached copy of the aggregate, if it holds one (None: no cache)."""
    if cache is None:
        return None
    try:
        found: Aggregate = cache.get(aggregate_id)
    except KeyError:
        return None
    return found


def mutate_all(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its `assert isinstance(event,
    CanMutateProtocol)` per event: an isinstance check against a runtime-checkable Protocol,
    which Python 3.11 answers by listing the protocol's attributes each time — 35–40 % of a
    long history's replay, profiled (`bench.profile`, a community of 10,001 events). The
    events come from the application's own mapper, which only makes domain events."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def _step_of(effect: BatchEffect[Any]) -> BatchStep:
    def apply(aggregates: Mapping[uuid.UUID, Aggregate]) -> list[Aggregate]:
        current = batch_aggregate(aggregates, effect.aggregate_id, effect.kind)
        return [effect.apply(current)]

    return BatchStep(effect.delivery, [effect.aggregate_id], apply)
