"""`ServiceApplication.apply_batch` on PostgreSQL (servicekit.batch_recorder, ADR 0018): the
batch's events and one tracking row per delivery in one transaction, in eventsourcing's
own tables (so the relay, the projector and `already_applied` see them as any other), a
batch applied once however often it comes, and nothing written when a racing writer got
there first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from libs.servicekit.tests.test_servicekit_apply_batch import CONSUMER, Tallies, Tally, adding
from servicekit.batch_recorder import BatchPostgresProcessRecorder
from servicekit.eventstore import BatchEffect, DeliveryRef
from servicekit.postgres import eventsourcing_env

pytestmark = pytest.mark.infra


@pytest.fixture
def app(fresh_database: str) -> Iterator[Tallies]:
    tallies = Tallies(env=eventsourcing_env(fresh_database, pool_size=2))
    try:
        yield tallies
    finally:
        tallies.close()


def rows(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        events = conn.execute("SELECT count(*) FROM tallies_events").fetchone()
        tracked = conn.execute(
            "SELECT count(*) FROM tallies_tracking WHERE application_name LIKE %s",
            (CONSUMER + "|%",),
        ).fetchone()
    assert events is not None and tracked is not None
    return int(events[0]), int(tracked[0])


def test_the_service_applications_recorder_applies_batches(app: Tallies) -> None:
    assert isinstance(app.recorder, BatchPostgresProcessRecorder)


def test_a_batch_is_stored_and_tracked_once_however_often_it_comes(
    app: Tallies, fresh_database: str
) -> None:
    effects = [adding(f"t{n % 40}", n + 1, upstream=f"up-{n}") for n in range(200)]

    assert app.apply_batch(effects) == 200
    assert rows(fresh_database) == (240, 200)  # 40 opened, 200 added; a row per delivery
    assert app.apply_batch(effects) == 0
    assert app.apply_batch(effects[::-1] + effects) == 0
    assert rows(fresh_database) == (240, 200)

    assert all(app.already_applied(e.delivery) for e in effects)
    expected = {f"t{k}": sum(n + 1 for n in range(k, 200, 40)) for k in range(40)}
    assert {name: app.find(Tally.create_id(name), Tally).total for name in expected} == (  # type: ignore[union-attr]
        expected
    )
    # The log in commit order, as the relay and projectors read it.
    log = app.process_recorder.select_notifications(start=1, limit=1_000)
    assert [n.id for n in log] == sorted(n.id for n in log) and len(log) == 240


def test_kept_aggregates_are_brought_forward_by_what_others_wrote(
    app: Tallies, fresh_database: str
) -> None:
    app.apply_batch([adding("a", 1), adding("b", 1)])
    tally = app.find(Tally.create_id("a"), Tally)
    assert tally is not None
    tally.add(10)
    app.record(tally, delivery=DeliveryRef("elsewhere", "x", 1))

    assert app.apply_batch([adding("a", 100), adding("b", 100), adding("c", 100)]) == 3

    totals = {n: app.find(Tally.create_id(n), Tally).total for n in "abc"}  # type: ignore[union-attr]
    assert totals == {"a": 111, "b": 101, "c": 100}


def test_a_delivery_tracked_meanwhile_fails_the_batch_and_nothing_is_written(
    app: Tallies, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.apply_batch([adding("a", 1)])
    before = rows(fresh_database)
    racing = adding("b", 2)
    recorder = app.recorder
    assert isinstance(recorder, BatchPostgresProcessRecorder)
    real = recorder.read_batch

    def raced(names: Any, after: Any) -> Any:
        found = real(names, after)
        # Another member of the group applies one of the batch's deliveries first.
        with psycopg.connect(fresh_database, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO tallies_tracking VALUES (%s, 1)",
                (racing.delivery.tracking().application_name,),
            )
        return found

    monkeypatch.setattr(recorder, "read_batch", raced)

    with pytest.raises(IntegrityError):
        app.apply_batch([adding("a", 5), racing, adding("c", 3)])

    events, tracked = rows(fresh_database)
    assert (events, tracked) == (before[0], before[1] + 1)  # only the racer's row
    monkeypatch.undo()
    # Tried again, the racer's delivery is passed over and the others applied.
    assert app.apply_batch([adding("a", 5), racing, adding("c", 3)]) == 2
    assert app.find(Tally.create_id("a"), Tally).total == 6  # type: ignore[union-attr]


def test_a_version_taken_meanwhile_fails_the_batch_and_nothing_is_written(
    app: Tallies, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.apply_batch([adding("a", 1)])
    recorder = app.recorder
    assert isinstance(recorder, BatchPostgresProcessRecorder)
    real = recorder.read_batch

    def raced(names: Any, after: Any) -> Any:
        found = real(names, after)
        tally = app.find(Tally.create_id("a"), Tally)
        assert tally is not None
        tally.add(1)
        app.record(tally)  # a command on the same aggregate, committed first
        return found

    monkeypatch.setattr(recorder, "read_batch", raced)
    before = rows(fresh_database)

    with pytest.raises(IntegrityError):
        app.apply_batch([adding("b", 2), adding("a", 5)])

    assert rows(fresh_database) == (before[0] + 1, before[1])


def test_a_batch_without_new_events_still_tracks_its_deliveries(
    app: Tallies, fresh_database: str
) -> None:
    def nothing(tally: Tally | None) -> Tally:
        return tally or Tally("quiet")

    app.apply_batch([adding("quiet", 1)])
    before = rows(fresh_database)
    idle = [
        BatchEffect(
            DeliveryRef(CONSUMER, str(uuid.uuid4()), 1), Tally.create_id("quiet"), Tally, nothing
        )
        for _ in range(3)
    ]

    assert app.apply_batch(idle) == 3
    assert rows(fresh_database) == (before[0], before[1] + 3)
