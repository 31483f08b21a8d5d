"""The operators' RPCs (pubrev.common.v1.AdminService), the same in every service.

`AdminDesk` does the work, with the caller's identity: it authorizes by the service's
declared policy (the rows of servicekit.operations, operators only), checks the request,
acts, and records what it changed with `ServiceApplication.record_operation` (so it is in
the audit trail). `AdminServicer` is its gRPC face; the runtime registers it on the api
role's server beside the service's own.

- parked events: list, re-drive (the head, then the events held behind it, in order, all
  under the head's row lock, so the live worker cannot slip a later event of the aggregate
  in between), skip with a reason;
- lag: the relay's position against the log's head, each projection's, each consumer
  group's committed offsets against the partitions' ends, the parked counts;
- a projection's rebuild; the feeds' re-push by status and time.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import grpc

from pubrev.common.v1 import admin_pb2 as pb
from pubrev.common.v1 import admin_pb2_grpc as pb_grpc
from servicekit.errors import NotFound, RuleViolated, Validator
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity, current_identity
from servicekit.isolation import ParkedCount, ParkedEvent, ParkedStore, Role, Status
from servicekit.kafka_admin import KafkaSecurity, PartitionLag, consumer_lag
from servicekit.operations import (
    GET_LAG,
    LIST_PARKED,
    REBUILD_PROJECTION,
    REDRIVE_PARKED,
    REPUSH_FEEDS,
    SKIP_PARKED,
)
from servicekit.policy import Resource
from servicekit.projector import Projector, RebuildReport
from servicekit.push import Pusher, PushState

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AdminService"].full_name
MAX_LIMIT = 1000
MAX_REASON = 500
MAX_WORKER = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Redriver(Protocol):
    """What applies (or sends) one worker kind's parked events again."""

    role: Role

    def workers(self) -> list[str]: ...

    def redrive(self, cur: Any, chain: list[ParkedEvent]) -> tuple[int, str | None]:
        """Applies the chain in order within the operator's transaction (`cur`, which
        holds the entries locked); how many went through, and the error of the first
        that did not."""
        ...


@dataclass(frozen=True)
class RedriveOutcome:
    redriven: tuple[int, ...]
    failed_id: int = 0
    error: str = ""
    still_held: int = 0


@dataclass(frozen=True)
class SkipOutcome:
    skipped: ParkedEvent
    next_head: int = 0


@dataclass(frozen=True)
class Lag:
    relay: tuple[str, int, int]
    projections: list[tuple[str, int, int]]
    consumers: list[PartitionLag]
    parked: list[ParkedCount]
    consumers_error: str = ""


@dataclass
class KafkaLag:
    """Where the consumer groups of the service are (None: it consumes nothing)."""

    bootstrap: str
    security: KafkaSecurity
    groups: Mapping[str, Sequence[str]]
    """Group id → the (prefixed) topics it reads."""


@dataclass
class AdminDesk:
    app: ServiceApplication
    store: ParkedStore
    service: str
    redrivers: list[Redriver]
    projectors: list[Projector] = field(default_factory=list)
    pushers: list[Pusher] = field(default_factory=list)
    kafka: KafkaLag | None = None

    # -- parked events ------------------------------------------------------------------------

    def list_parked(
        self, identity: Identity, role: str, worker: str, status: str, after_id: int, limit: int
    ) -> list[ParkedEvent]:
        self.app.policy.authorize(LIST_PARKED, identity, Resource())
        v = Validator()
        v.require(
            role in ("", *Role),
            "role",
            "unknown_role",
            "one of relay, projector, consumer, push (or empty for all)",
            "角色须为 relay、projector、consumer、push 之一（留空为全部）",
        )
        _check_text(v, "worker", worker, MAX_WORKER, required=False)
        v.require(
            status in ("", "all", *Status),
            "status",
            "unknown_status",
            "one of parked, redriven, skipped, superseded, all",
            "状态须为 parked、redriven、skipped、superseded、all 之一",
        )
        v.require(after_id >= 0, "after_id", "non_negative", "must be >= 0", "不能为负")
        v.require(
            0 <= limit <= MAX_LIMIT,
            "limit",
            "limit_range",
            f"must be 0–{MAX_LIMIT}",
            f"条数须在0至{MAX_LIMIT}之间",
        )
        v.raise_if_any()
        return self.store.entries(
            role=role,
            worker=worker,
            status="" if status == "all" else status or Status.parked,
            after_id=after_id,
            limit=limit or 100,
        )

    def redrive(self, identity: Identity, entry_id: int) -> RedriveOutcome:
        self.app.policy.authorize(REDRIVE_PARKED, identity, Resource())
        _require_id(entry_id)
        with self.store.transaction() as cur:
            head = self._open_entry(cur, entry_id)
            if head.held_behind is not None:
                raise RuleViolated(
                    f"#{entry_id} waits behind #{head.held_behind}, an earlier event of its "
                    f"aggregate: re-drive #{head.held_behind} (it brings this one after it)",
                    f"#{entry_id} 排在同一对象更早的 #{head.held_behind} 之后：请重新投递 "
                    f"#{head.held_behind}",
                )
            redriver = self._redriver(head.worker)
            chain = [head, *self.store.held_behind(cur, head.id)]
            done, error = redriver.redrive(cur, chain)
            through = chain[:done]
            self.store.close(cur, [e.id for e in through], Status.redriven, identity.render())
            self.store.forget_attempts(head.worker, [e.event_key for e in through], cur)
            outcome = RedriveOutcome(tuple(e.id for e in through))
            if error is not None:
                failed, rest = chain[done], chain[done + 1 :]
                self.store.promote(cur, failed, rest, error, failed.attempts + 1)
                outcome = RedriveOutcome(outcome.redriven, failed.id, error, len(rest))
        self.app.record_operation(
            identity,
            REDRIVE_PARKED,
            {
                "id": entry_id,
                "worker": head.worker,
                "event_key": head.event_key,
                "redriven": list(outcome.redriven),
                "failed_id": outcome.failed_id,
                "error": outcome.error,
            },
        )
        log.info(
            "parked events re-driven",
            extra={
                "worker": head.worker,
                "head": entry_id,
                "redriven": len(outcome.redriven),
                "failed_id": outcome.failed_id or None,
                "by": identity.render(),
            },
        )
        return outcome

    def skip(self, identity: Identity, entry_id: int, reason: str) -> SkipOutcome:
        self.app.policy.authorize(SKIP_PARKED, identity, Resource())
        v = Validator()
        v.require(
            entry_id > 0, "id", "required", "the parked entry's id (> 0)", "请指定暂存事件编号"
        )
        _check_text(v, "reason", reason, MAX_REASON, required=True)
        v.raise_if_any()
        with self.store.transaction() as cur:
            entry = self._open_entry(cur, entry_id)
            next_head = 0
            if entry.held_behind is None:
                waiting = self.store.held_behind(cur, entry.id)
                if waiting:
                    self.store.promote(
                        cur,
                        waiting[0],
                        waiting[1:],
                        f"was held behind #{entry.id}, which was skipped: re-drive it",
                        waiting[0].attempts,
                    )
                    next_head = waiting[0].id
            self.store.close(cur, [entry.id], Status.skipped, identity.render(), reason)
            self.store.forget_attempts(entry.worker, [entry.event_key], cur)
            skipped = self.store.get(entry.id, cur)
        assert skipped is not None
        self.app.record_operation(
            identity,
            SKIP_PARKED,
            {
                "id": entry_id,
                "worker": entry.worker,
                "event_key": entry.event_key,
                "aggregate_id": entry.aggregate_id,
                "version": entry.version,
                "reason": reason,
                "next_head": next_head,
            },
        )
        log.warning(
            "parked event skipped",
            extra={"worker": entry.worker, "id": entry_id, "by": identity.render()},
        )
        return SkipOutcome(skipped, next_head)

    def _open_entry(self, cur: Any, entry_id: int) -> ParkedEvent:
        entry = self.store.get(entry_id, cur, for_update=True)
        if entry is None:
            raise NotFound(f"no parked entry #{entry_id}", f"暂存事件 #{entry_id} 不存在")
        if entry.status != Status.parked:
            raise RuleViolated(
                f"#{entry_id} is {entry.status} already", f"#{entry_id} 已处理（{entry.status}）"
            )
        return entry

    def _redriver(self, worker: str) -> Redriver:
        for redriver in self.redrivers:
            if worker in redriver.workers():
                return redriver
        raise RuleViolated(
            f"{worker[:MAX_WORKER]} is no worker of {self.service} any more: skip the entry",
            f"{self.service} 已无该处理程序：请跳过该事件",
        )

    # -- lag ----------------------------------------------------------------------------------

    async def lag(self, identity: Identity) -> Lag:
        self.app.policy.authorize(GET_LAG, identity, Resource())
        recorder = self.app.process_recorder
        relay_name = f"relay:{self.service}"

        def local() -> tuple[tuple[str, int, int], list[tuple[str, int, int]], list[ParkedCount]]:
            head = recorder.max_notification_id() or 0
            relay = (relay_name, recorder.max_tracking_id(relay_name) or 0, head)
            projections = [(p.name, p.position(), head) for p in self.projectors]
            return relay, projections, self.store.counts()

        relay, projections, parked = await asyncio.to_thread(local)
        consumers: list[PartitionLag] = []
        error = ""
        if self.kafka is not None and self.kafka.groups:
            try:
                consumers = await asyncio.wait_for(
                    consumer_lag(self.kafka.bootstrap, self.kafka.groups, self.kafka.security), 30
                )
            except Exception as failure:  # the broker away: the rest still answers
                error = f"{type(failure).__name__}: {str(failure)[:200]}"
        return Lag(relay, projections, consumers, parked, error)

    # -- projections ---------------------------------------------------------------------------

    def rebuild(self, identity: Identity, name: str) -> RebuildReport:
        self.app.policy.authorize(REBUILD_PROJECTION, identity, Resource())
        names = {p.name: p for p in self.projectors}
        v = Validator()
        v.require(
            name in names,
            "name",
            "unknown_projection",
            f"one of: {', '.join(sorted(names)) or '(this service has none)'}",
            "投影名称不存在",
        )
        v.raise_if_any()
        started = time.monotonic()
        last = [started]

        def progress(position: int, head: int) -> None:
            now = time.monotonic()
            if now - last[0] < 2 and position < head:
                return
            last[0] = now
            rate = position / max(now - started, 1e-6)
            eta = (head - position) / rate if rate > 0 and head > position else 0
            log.info(
                "rebuilding projection",
                extra={
                    "projection": name,
                    "position": position,
                    "head": head,
                    "eta_s": round(eta, 1),
                },
            )

        report = names[name].rebuild(progress)
        self.app.record_operation(
            identity,
            REBUILD_PROJECTION,
            {
                "name": name,
                "applied": report.applied,
                "parked": report.parked,
                "position": report.position,
                "tables": list(report.tables),
            },
        )
        return report

    # -- feeds ---------------------------------------------------------------------------------

    def repush_feeds(self, identity: Identity, feed: str, status: str, since: str) -> list[str]:
        self.app.policy.authorize(REPUSH_FEEDS, identity, Resource())
        pushers = {name: pusher for pusher in self.pushers for name in pusher.feeds}
        v = Validator()
        v.require(
            feed in pushers,
            "feed",
            "unknown_feed",
            f"one of: {', '.join(sorted(pushers)) or '(this service pushes none)'}",
            "推送通道不存在",
        )
        v.require(
            status in ("", PushState.dead, PushState.delivered),
            "status",
            "unknown_status",
            "dead (the default) or delivered",
            "状态须为 dead 或 delivered",
        )
        when = _instant(v, "since", since)
        v.raise_if_any()
        state = PushState(status or PushState.dead)
        ids = pushers[feed].repush_where(feed, state, when, by=identity.render())
        self.app.record_operation(
            identity,
            REPUSH_FEEDS,
            {
                "feed": feed,
                "status": state.value,
                "since": since,
                "repushed": len(ids),
                "record_ids": ids[:100],
            },
        )
        return ids


def _require_id(entry_id: int) -> None:
    v = Validator()
    v.require(entry_id > 0, "id", "required", "the parked entry's id (> 0)", "请指定暂存事件编号")
    v.raise_if_any()


def _check_text(v: Validator, name: str, text: str, limit: int, *, required: bool) -> None:
    if required and not text.strip():
        v.add(name, "required", "must not be empty", "不能为空")
        return
    v.require(
        len(text) <= limit, name, "too_long", f"at most {limit} characters", f"不超过{limit}个字符"
    )
    v.require(
        not _CONTROL.search(text),
        name,
        "control_characters",
        "no control characters (tabs, line breaks …)",
        "不能包含控制字符",
    )


def _instant(v: Validator, name: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text[:40])
    except ValueError:
        v.add(
            name,
            "rfc3339",
            "an RFC 3339 instant with its offset, e.g. 2026-05-01T00:00:00+08:00",
            "须为带时区的时间，如 2026-05-01T00:00:00+08:00",
        )
        return None
    if len(text) > 40 or when.tzinfo is None:
        v.add(name, "rfc3339", "an RFC 3339 instant with its offset", "须为带时区的时间")
        return None
    return when


# -- gRPC ------------------------------------------------------------------------------------

Context = grpc.aio.ServicerContext[Any, Any]


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def parked_message(entry: ParkedEvent) -> pb.ParkedEvent:
    return pb.ParkedEvent(
        id=entry.id,
        role=entry.role,
        worker=entry.worker,
        event_key=entry.event_key,
        aggregate_id=entry.aggregate_id or "",
        version=entry.version or 0,
        position=entry.position or 0,
        partition=entry.partition or 0,
        error=entry.error,
        attempts=entry.attempts,
        parked_at=_time(entry.parked_at),
        held_behind=entry.held_behind or 0,
        status=entry.status,
        resolved_at=_time(entry.resolved_at),
        resolved_by=entry.resolved_by or "",
        reason=entry.reason or "",
    )


class AdminServicer(pb_grpc.AdminServiceServicer):
    """Passes each call and its caller's identity to the desk, which decides who may."""

    def __init__(self, desk: AdminDesk) -> None:
        self.desk = desk

    async def ListParked(
        self, request: pb.ListParkedRequest, context: Context
    ) -> pb.ListParkedResponse:
        entries = await asyncio.to_thread(
            self.desk.list_parked,
            current_identity(),
            request.role,
            request.worker,
            request.status,
            request.after_id,
            request.limit,
        )
        return pb.ListParkedResponse(parked=[parked_message(e) for e in entries])

    async def RedriveParked(
        self, request: pb.RedriveParkedRequest, context: Context
    ) -> pb.RedriveParkedResponse:
        outcome = await asyncio.to_thread(self.desk.redrive, current_identity(), request.id)
        return pb.RedriveParkedResponse(
            redriven_ids=list(outcome.redriven),
            failed_id=outcome.failed_id,
            error=outcome.error,
            still_held=outcome.still_held,
        )

    async def SkipParked(
        self, request: pb.SkipParkedRequest, context: Context
    ) -> pb.SkipParkedResponse:
        outcome = await asyncio.to_thread(
            self.desk.skip, current_identity(), request.id, request.reason
        )
        return pb.SkipParkedResponse(
            skipped=parked_message(outcome.skipped), next_head=outcome.next_head
        )

    async def GetLag(self, request: pb.GetLagRequest, context: Context) -> pb.GetLagResponse:
        lag = await self.desk.lag(current_identity())
        name, position, head = lag.relay
        return pb.GetLagResponse(
            relay=pb.RelayLag(name=name, position=position, head=head),
            projections=[
                pb.ProjectionLag(name=n, position=p, head=h) for n, p, h in lag.projections
            ],
            consumers=[
                pb.ConsumerLag(
                    group=c.group,
                    topic=c.topic,
                    partition=c.partition,
                    committed=c.committed,
                    end=c.end,
                    lag=c.lag,
                )
                for c in lag.consumers
            ],
            parked=[
                pb.ParkedCount(role=c.role, worker=c.worker, parked=c.heads, held=c.held)
                for c in lag.parked
            ],
            consumers_error=lag.consumers_error,
        )

    async def RebuildProjection(
        self, request: pb.RebuildProjectionRequest, context: Context
    ) -> pb.RebuildProjectionResponse:
        report = await asyncio.to_thread(self.desk.rebuild, current_identity(), request.name)
        return pb.RebuildProjectionResponse(
            name=report.name,
            applied=report.applied,
            parked=report.parked,
            held=report.held,
            position=report.position,
            tables=list(report.tables),
            seconds=report.seconds,
        )

    async def RepushFeeds(
        self, request: pb.RepushFeedsRequest, context: Context
    ) -> pb.RepushFeedsResponse:
        ids = await asyncio.to_thread(
            self.desk.repush_feeds, current_identity(), request.feed, request.status, request.since
        )
        return pb.RepushFeedsResponse(repushed=len(ids), record_ids=ids[:100])


def register(desk: AdminDesk) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_AdminServiceServicer_to_server(AdminServicer(desk), server)

    return add


def consumer_groups(subscriptions: Iterable[Any], prefix: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for subscription in subscriptions:
        groups.setdefault(subscription.consumer, []).append(prefix + subscription.topic)
    return groups
