"""The projector (servicekit.projector) on fakes: the notification log in memory and a
database whose transactions undo what they wrote. The projector's promise is exactly once:
a batch's effects and its position commit together or not at all, so a failure or a
restart never applies an event twice nor skips one; a poison event is parked in that same
transaction and its aggregate's later events are held behind it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Notification

from libs.servicekit.tests.fakes import FakeDatabase, FakePool, InMemoryNotificationLog
from servicekit.isolation import ParkedEvent, Role, Status
from servicekit.projector import Projector

WORKER = "projection:ledger"
A = uuid.UUID("00000000-0000-0000-0000-00000000000a")
B = uuid.UUID("00000000-0000-0000-0000-00000000000b")


class LedgerProjection:
    """One row per event applied; an event whose state starts `poison` breaks it (a value
    its table cannot hold), one starting `outage` meets the database away."""

    name = "ledger"

    def __init__(self) -> None:
        self.tables_created = 0

    def create_tables(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS ledger (position bigint, aggregate text)")
        self.tables_created += 1

    def apply(self, cur: Any, event: Any, position: int) -> None:
        aggregate, state = event
        cur.execute("INSERT INTO ledger (position, aggregate, state)", (position, aggregate, state))
        if state.startswith("poison"):
            raise ValueError(f"numeric field overflow in {state}")
        if state.startswith("outage"):
            raise psycopg.OperationalError("server closed the connection unexpectedly")


def decode(notification: Notification) -> tuple[str, str]:
    return str(notification.originator_id), notification.state.decode()


class Stack:
    def __init__(self) -> None:
        self.log = InMemoryNotificationLog()
        self.db = FakeDatabase()
        self.projection = LedgerProjection()

    def projector(
        self, decoder: Callable[[Notification], Any] = decode, **options: Any
    ) -> Projector:
        projector = Projector(
            self.projection,
            self.log,  # type: ignore[arg-type]
            decoder,
            FakePool(self.db),  # type: ignore[arg-type]
            **options,
        )
        # The projector builds its ParkedStore from the pool; the fake database keeps the
        # parked table in memory instead.
        projector.store = projector.guard.store = self.db.parked
        return projector

    def event(self, aggregate: uuid.UUID, version: int, state: str) -> Notification:
        return self.log.append(aggregate, version, state.encode())

    def applied(self) -> list[tuple[int, str]]:
        return [(position, state) for position, _, state in self.db.ledger]


@pytest.fixture
def stack() -> Stack:
    return Stack()


def test_it_creates_its_tables_and_starts_at_position_zero(stack: Stack) -> None:
    projector = stack.projector()
    assert stack.projection.tables_created == 1
    assert projector.position() == 0
    assert projector.run_once() == 0
    assert stack.db.positions == {"ledger": 0}


def test_it_applies_a_batch_in_log_order_and_records_the_position(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    stack.event(A, 2, "A2")
    projector = stack.projector()

    assert projector.run_once() == 3

    assert stack.applied() == [(1, "A1"), (2, "B1"), (3, "A2")]
    assert projector.position() == 3
    assert projector.run_once() == 0
    assert len(stack.db.ledger) == 3


def test_the_position_commits_with_the_effects_or_neither_does(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    projector = stack.projector()
    stack.db.fail_next["UPDATE projection_positions"] = psycopg.OperationalError("gone")

    with pytest.raises(psycopg.OperationalError):
        projector.run_once()
    assert stack.db.ledger == []  # the effects rolled back with the position
    assert projector.position() == 0

    assert projector.run_once() == 2
    assert stack.applied() == [(1, "A1"), (2, "B1")]  # once each


def test_a_restarted_projector_continues_from_its_position(stack: Stack) -> None:
    for version in range(1, 6):
        stack.event(A, version, f"A{version}")
    first = stack.projector(batch_size=2)
    assert first.run_once() == 2

    restarted = stack.projector(batch_size=2)
    assert restarted.position() == 2
    assert restarted.run_once() == 2
    assert restarted.run_once() == 1
    assert [p for p, _ in stack.applied()] == [1, 2, 3, 4, 5]
    assert stack.log.reads[-1] == (4, 2, False)  # strictly after the position


def test_catch_up_applies_everything_recorded_so_far(stack: Stack) -> None:
    for version in range(1, 6):
        stack.event(A, version, f"A{version}")
    projector = stack.projector(batch_size=2)

    assert projector.catch_up() == 5
    assert projector.position() == 5
    assert len(stack.db.ledger) == 5


def test_a_poison_event_is_parked_its_aggregate_held_and_the_rest_applied(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(A, 2, "poison A2")
    stack.event(B, 1, "B1")
    stack.event(A, 3, "A3")
    stack.event(B, 2, "B2")
    projector = stack.projector()

    assert projector.run_once() == 5

    # The batch was tried whole, rolled back, then applied one event per savepoint: no
    # row of the failed try survives, and each good event is there once.
    assert stack.applied() == [(1, "A1"), (3, "B1"), (5, "B2")]
    assert projector.position() == 5
    [head] = stack.db.parked.heads(WORKER)
    assert head.role == Role.projector
    assert (head.event_key, head.aggregate_id, head.version) == ("2", str(A), 2)
    assert head.error == "cannot apply: ValueError: numeric field overflow in poison A2"
    assert [e.event_key for e in stack.db.parked.held_by(head.id)] == ["4"]
    assert (projector.parked, projector.held) == (1, 1)

    # The next batch knows A is blocked (the parked table says so), B is not.
    stack.event(A, 4, "A4")
    stack.event(B, 3, "B3")
    assert projector.run_once() == 2
    assert stack.applied()[-1] == (7, "B3")
    assert [e.event_key for e in stack.db.parked.held_by(head.id)] == ["4", "6"]


def test_parking_rolls_back_with_the_batch(stack: Stack) -> None:
    stack.event(A, 1, "poison A1")
    stack.event(A, 2, "A2")
    projector = stack.projector()
    stack.db.fail_next["UPDATE projection_positions"] = psycopg.OperationalError("gone")

    with pytest.raises(psycopg.OperationalError):
        projector.run_once()
    assert stack.db.parked.rows == {}  # parked in the batch's transaction, undone with it

    assert projector.run_once() == 2
    assert len(stack.db.parked.open_entries(WORKER)) == 2  # the head and the one it holds


def test_an_event_that_cannot_be_decoded_is_parked_too(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")

    def strict(notification: Notification) -> tuple[str, str]:
        if notification.originator_id == A:
            raise KeyError("unknown topic")
        return decode(notification)

    projector = stack.projector(strict)
    assert projector.run_once() == 2
    assert stack.applied() == [(2, "B1")]
    [head] = stack.db.parked.heads(WORKER)
    assert head.error == "cannot apply: KeyError: 'unknown topic'"


def test_the_database_away_is_raised_and_nothing_is_parked(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "outage B1")
    projector = stack.projector()

    with pytest.raises(psycopg.OperationalError):
        projector.run_once()

    assert stack.db.ledger == []
    assert stack.db.parked.rows == {}
    assert projector.position() == 0


def test_a_careful_batch_is_one_event_its_attempt_counted_first(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    projector = stack.projector(max_attempts=3)
    counted_when_tried: list[int] = []

    def watching(notification: Notification) -> tuple[str, str]:
        counted_when_tried.append(stack.db.parked.attempts(WORKER, str(notification.id)))
        return decode(notification)

    projector.decode = watching
    assert projector.run_once(careful=True) == 1

    # Counted, on a connection of its own, before the event was tried: a crash while
    # applying it would leave the count behind.
    assert counted_when_tried == [1]
    assert stack.applied() == [(1, "A1")]


def test_a_careful_batch_meeting_the_database_away_counts_nothing_against_the_event(
    stack: Stack,
) -> None:
    """An outage is nobody's fault (servicekit.isolation): the attempt counted before the
    try is taken back, as the consumer runner does, so retries through an outage never
    park a healthy event as one that killed the projector."""
    stack.event(A, 1, "A1")
    projector = stack.projector(max_attempts=3)

    for _ in range(4):  # more failed tries than max_attempts
        stack.db.fail_next["INSERT INTO ledger"] = psycopg.OperationalError("gone")
        with pytest.raises(psycopg.OperationalError):
            projector.run_once(careful=True)
        assert stack.db.parked.attempts(WORKER, "1") == 0

    assert projector.run_once(careful=True) == 1
    assert stack.applied() == [(1, "A1")]
    assert stack.db.parked.rows == {}


def test_a_careful_batch_parks_an_event_tried_max_attempts_times(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(A, 2, "A2")
    stack.db.parked.attempt_counts[(WORKER, "1")] = 3
    projector = stack.projector(max_attempts=3)

    assert projector.run_once(careful=True) == 1

    assert stack.db.ledger == []
    [head] = stack.db.parked.heads(WORKER)
    assert (head.event_key, head.attempts) == ("1", 3)
    assert head.error == "the projector died applying it 3 times"
    assert projector.position() == 1

    # The next careful event applies (it is A's: held behind the parked one).
    assert projector.run_once(careful=True) == 1
    assert [e.event_key for e in stack.db.parked.held_by(head.id)] == ["2"]
    assert (WORKER, "2") not in stack.db.parked.attempt_counts  # forgotten once through


def test_a_careful_event_that_applies_forgets_its_attempts(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.db.parked.attempt_counts[(WORKER, "1")] = 1
    projector = stack.projector(max_attempts=3)

    assert projector.run_once(careful=True) == 1
    assert stack.applied() == [(1, "A1")]
    assert (WORKER, "1") not in stack.db.parked.attempt_counts


# -- the operators' re-drive ------------------------------------------------------------


def parked(entry_id: int, position: int) -> ParkedEvent:
    return ParkedEvent(
        id=entry_id,
        role=Role.projector,
        worker=WORKER,
        event_key=str(position),
        aggregate_id=str(A),
        version=position,
        position=position,
        partition=None,
        error="cannot apply",
        attempts=1,
        parked_at=datetime(2026, 3, 2, tzinfo=UTC),
        held_behind=None,
        status=Status.parked,
        resolved_at=None,
        resolved_by=None,
        reason=None,
    )


def test_a_redrive_applies_the_chain_in_order_until_one_fails_again(stack: Stack) -> None:
    stack.event(A, 1, "A1")
    stack.event(A, 2, "poison A2")
    stack.event(A, 3, "A3")
    projector = stack.projector()
    pool = FakePool(stack.db)

    with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        done = projector.redrive(cur, [parked(1, 1), parked(2, 2), parked(3, 3)])  # type: ignore[arg-type]

    assert done == (1, "ValueError: numeric field overflow in poison A2")
    assert stack.applied() == [(1, "A1")]  # A2's row was undone by its savepoint


def test_a_redrive_of_a_position_the_log_does_not_hold_fails(stack: Stack) -> None:
    stack.log.append(A, 1, b"A1", notification_id=5)  # 3 was never used
    projector = stack.projector()

    with FakePool(stack.db).connection() as conn, conn.cursor() as cur:
        done = projector.redrive(cur, [parked(1, 3)])  # type: ignore[arg-type]

    assert done == (0, "LookupError: notification 3 is not in the log")
    assert stack.db.ledger == []


async def test_run_starting_where_the_last_process_died_parks_the_killer_and_goes_on(
    stack: Stack,
) -> None:
    stack.event(A, 1, "A1")
    stack.event(B, 1, "B1")
    stack.db.parked.starts[(WORKER, "log")] = (0, 1)  # the process before started here too
    stack.db.parked.attempt_counts[(WORKER, "1")] = 3
    projector = stack.projector(max_attempts=3, idle_poll_seconds=0.01)
    stop = asyncio.Event()

    task = asyncio.create_task(projector.run(stop))
    for _ in range(1000):  # a deadline, not a timing: it returns as soon as it is done
        if stack.db.positions.get("ledger") == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task

    assert stack.applied() == [(2, "B1")]
    [head] = stack.db.parked.heads(WORKER)
    assert head.error == "the projector died applying it 3 times"
    assert stack.db.parked.starts[(WORKER, "log")] == (0, 2)
