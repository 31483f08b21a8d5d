"""The operators' service (pubrev.common.v1.AdminService) in every service's authorization
matrix: invokers that call each admin RPC through servicekit.admin's desk with valid
arguments, over an in-memory fake of the parked-events store (unit tests only: the real one
is PostgreSQL, tested in libs/servicekit/tests/test_servicekit_isolation.py).

A call that gets past authorization returns or raises a rule or a bad-argument error (a
service without projections or feeds refuses the name as unknown), never NotFound: the fake
store always holds entry #1, a parked head of the service's relay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pubrev.common.v1 import admin_pb2, admin_pb2_grpc
from servicekit.admin import AdminDesk
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity
from servicekit.isolation import ParkedCount, ParkedEvent, Role, Status
from tests.support.authz import Invokers

ADMIN_RPCS = frozenset(
    m.name for m in admin_pb2.DESCRIPTOR.services_by_name["AdminService"].methods
)


def _entry(service: str) -> ParkedEvent:
    return ParkedEvent(
        id=1,
        role=Role.relay.value,
        worker=f"relay:{service}",
        event_key="7",
        aggregate_id="3f0c2a4e-0000-4000-8000-000000000001",
        version=1,
        position=7,
        partition=None,
        error="cannot send: MessageSizeTooLargeError",
        attempts=1,
        parked_at=datetime(2026, 5, 1, tzinfo=UTC),
        held_behind=None,
        status=Status.parked.value,
        resolved_at=None,
        resolved_by=None,
        reason=None,
    )


class FakeParkedStore:
    """In memory, stateless: entry #1 is always a parked head with nothing behind it."""

    def __init__(self, service: str) -> None:
        self.entry = _entry(service)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield None

    def entries(self, **_: Any) -> list[ParkedEvent]:
        return [self.entry]

    def get(
        self, entry_id: int, cur: Any = None, *, for_update: bool = False
    ) -> ParkedEvent | None:
        return self.entry if entry_id == self.entry.id else None

    def held_behind(self, cur: Any, head: int) -> list[ParkedEvent]:
        return []

    def close(self, *_: Any) -> None:
        pass

    def promote(self, *_: Any) -> None:
        pass

    def forget_attempts(self, *_: Any) -> None:
        pass

    def counts(self) -> list[ParkedCount]:
        return [ParkedCount(self.entry.role, self.entry.worker, 1, 0)]


class FakeRedriver:
    """Re-drives the relay's entries by doing nothing, successfully."""

    role = Role.relay

    def __init__(self, service: str) -> None:
        self.service = service

    def workers(self) -> list[str]:
        return [f"relay:{self.service}"]

    def redrive(self, cur: Any, chain: Sequence[ParkedEvent]) -> tuple[int, str | None]:
        return len(chain), None


def admin_desk(app: ServiceApplication, service: str) -> AdminDesk:
    return AdminDesk(
        app,
        FakeParkedStore(service),  # type: ignore[arg-type]
        service,
        [FakeRedriver(service)],
    )


def admin_invokers(app: ServiceApplication, service: str) -> Invokers:
    """Every admin RPC through the desk, with valid arguments."""
    desk = admin_desk(app, service)

    def lag(identity: Identity) -> object:
        import asyncio

        return asyncio.run(desk.lag(identity))

    return {
        "ListParked": lambda i: desk.list_parked(i, "relay", "", "", 0, 10),
        "RedriveParked": lambda i: desk.redrive(i, 1),
        "SkipParked": lambda i: desk.skip(i, 1, "接收方确认无需重发"),
        "GetLag": lag,
        "RebuildProjection": lambda i: desk.rebuild(i, "read-model"),
        "RepushFeeds": lambda i: desk.repush_feeds(i, "creditchina", "dead", ""),
    }


def register_admin(app: ServiceApplication, service: str) -> Callable[[Any], None]:
    from servicekit.admin import register

    return register(admin_desk(app, service))  # type: ignore[no-any-return]


def admin_grpc_calls(channel: Any) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """Every admin RPC over gRPC with valid arguments; each takes the metadata."""
    stub = admin_pb2_grpc.AdminServiceStub(channel)
    return {
        "ListParked": lambda md: stub.ListParked(
            admin_pb2.ListParkedRequest(role="relay"), metadata=md
        ),
        "RedriveParked": lambda md: stub.RedriveParked(
            admin_pb2.RedriveParkedRequest(id=1), metadata=md
        ),
        "SkipParked": lambda md: stub.SkipParked(
            admin_pb2.SkipParkedRequest(id=1, reason="接收方确认无需重发"), metadata=md
        ),
        "GetLag": lambda md: stub.GetLag(admin_pb2.GetLagRequest(), metadata=md),
        "RebuildProjection": lambda md: stub.RebuildProjection(
            admin_pb2.RebuildProjectionRequest(name="read-model"), metadata=md
        ),
        "RepushFeeds": lambda md: stub.RepushFeeds(
            admin_pb2.RepushFeedsRequest(feed="creditchina", status="dead"), metadata=md
        ),
    }
