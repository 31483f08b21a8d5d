"""A projection's `apply_batch` (servicekit.projector), on the fakes of the projector's own
tests: a projection that has one gets each batch whole, in log order, decoded; every
guarantee of the per-event path holds — the position commits with the effects, a batch
that fails is applied again event by event so that only the poison is parked, events held
behind a parked one never reach it."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Notification

from libs.servicekit.tests.fakes import FakeDatabase, FakePool, InMemoryNotificationLog
from servicekit.projector import Projector

WORKER = "projection:ledger"
A = uuid.UUID("00000000-0000-0000-0000-00000000000a")
B = uuid.UUID("00000000-0000-0000-0000-00000000000b")


class BatchLedger:
    """One ledger row per event, written by `apply_batch` for a whole batch (as a COPY
    would: all of it or, failing, none once its savepoint is undone)."""

    name = "ledger"

    def __init__(self) -> None:
        self.batches: list[list[tuple[Any, int]]] = []
        self.one_by_one: list[int] = []

    def create_tables(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS ledger (position bigint, aggregate text)")

    def _row(self, cur: Any, event: Any, position: int) -> None:
        aggregate, state = event
        cur.execute("INSERT INTO ledger (position, aggregate, state)", (position, aggregate, state))
        if state.startswith("poison"):
            raise ValueError(f"numeric field overflow in {state}")
        if state.startswith("outage"):
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    def apply(self, cur: Any, event: Any, position: int) -> None:
        self.one_by_one.append(position)
        self._row(cur, event, position)

    def apply_batch(self, cur: Any, events: list[tuple[Any, int]]) -> None:
        self.batches.append(list(events))
        for event, position in events:
            self._row(cur, event, position)


def decode(notification: Notification) -> tuple[str, str]:
    return str(notification.originator_id), notification.state.decode()


class Stack:
    def __init__(self) -> None:
        self.log = InMemoryNotificationLog()
        self.db = FakeDatabase()
        self.projection = BatchLedger()

    def projector(self, **options: Any) -> Projector:
        projector = Projector(
            self.projection,
            self.log,  # type: ignore[arg-type]
            decode,
            FakePool(self.db),  # type: ignore[arg-type]
            **options,
        )
        projector.store = projector.guard.store = self.db.parked
        return projector

    def event(self, aggregate: uuid.UUID, version: int, state: str) -> Notification:
        return self.log.append(aggregate, version, state.encode())

    def applied(self) -> list[tuple[int, str]]:
        return [(position, state) for position, _, state in self.db.ledger]


@pytest.fixture
def stack() -> Stack:
    return Stack()


def test_a_projection_with_apply_batch_gets_each_batch_whole_in_log_order(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    stack.event(A, 2, "A2")
    stack.event(B, 2, "B2")
    projector = stack.projector(batch_size=3)

    assert projector.run_once() == 3
    assert projector.run_once() == 1

    assert stack.projection.batches == [
        [((str(A), "A1"), 1), ((str(B), "B1"), 2), ((str(A), "A2"), 3)],
        [((str(B), "B2"), 4)],
    ]
    assert stack.projection.one_by_one == []
    assert stack.applied() == [(1, "A1"), (2, "B1"), (3, "A2"), (4, "B2")]
    assert projector.position() == 4


def test_the_position_commits_with_the_batch_or_neither_does(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    projector = stack.projector()
    stack.db.fail_next["UPDATE projection_positions"] = psycopg.OperationalError("gone")

    with pytest.raises(psycopg.OperationalError):
        projector.run_once()
    assert stack.db.ledger == []
    assert projector.position() == 0

    assert projector.run_once() == 2
    assert stack.applied() == [(1, "A1"), (2, "B1")]


def test_a_failed_batch_is_applied_event_by_event_and_only_the_poison_is_parked(
    stack: Stack,
) -> None:
    stack.event(A, 1, "A1")
    stack.event(A, 2, "poison A2")
    stack.event(B, 1, "B1")
    stack.event(A, 3, "A3")
    projector = stack.projector()

    assert projector.run_once() == 4

    # The batch's own rows were undone with its savepoint; then one event per savepoint.
    assert len(stack.projection.batches) == 1
    assert stack.projection.one_by_one == [1, 2, 3]
    assert stack.applied() == [(1, "A1"), (3, "B1")]
    [head] = stack.db.parked.heads(WORKER)
    assert (head.event_key, head.version) == ("2", 2)
    assert [e.event_key for e in stack.db.parked.held_by(head.id)] == ["4"]
    assert projector.position() == 4


def test_with_an_event_parked_the_batch_holds_its_aggregate_and_applies_the_rest(
    stack: Stack,
) -> None:
    stack.event(A, 1, "poison A1")
    projector = stack.projector()
    assert projector.run_once() == 1
    [head] = stack.db.parked.heads(WORKER)

    stack.event(A, 2, "A2")
    stack.event(B, 1, "B1")
    stack.event(B, 2, "B2")
    assert projector.run_once() == 3

    assert stack.projection.batches[-1] == [((str(B), "B1"), 3), ((str(B), "B2"), 4)]
    assert [e.event_key for e in stack.db.parked.held_by(head.id)] == ["2"]
    assert stack.applied() == [(3, "B1"), (4, "B2")]


def test_the_database_away_fails_the_batch_and_parks_nothing(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "outage B1")
    projector = stack.projector()

    with pytest.raises(psycopg.OperationalError):
        projector.run_once()

    assert stack.db.ledger == []
    assert stack.db.parked.rows == {}
    assert stack.projection.one_by_one == []  # not the event's fault: nothing isolated
    assert projector.position() == 0


def test_an_event_that_cannot_be_decoded_is_parked_and_the_rest_go_in_a_batch(
    stack: Stack,
) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")

    def strict(notification: Notification) -> tuple[str, str]:
        if notification.originator_id == A:
            raise KeyError("unknown topic")
        return decode(notification)

    projector = stack.projector()
    projector.decode = strict
    assert projector.run_once() == 2

    assert stack.applied() == [(2, "B1")]
    [head] = stack.db.parked.heads(WORKER)
    assert head.error == "cannot apply: KeyError: 'unknown topic'"
