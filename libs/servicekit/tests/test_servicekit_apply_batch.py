"""`ServiceApplication.apply_batch` (ADR 0018) on eventsourcing's in-memory recorder: a
consumer's batch applied in one transaction with one tracking row per delivery, the
deliveries applied before passed over, each aggregate loaded once and kept between
batches (brought forward by what others wrote meanwhile), and nothing written when
anything of the batch fails."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from servicekit.eventstore import (
    BatchEffect,
    BatchPOPOProcessRecorder,
    BatchStep,
    DeliveryRef,
    ServiceApplication,
    StepEvents,
    batch_aggregate,
)

CONSUMER = "tallies.counting"


class Tally(Aggregate):
    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0

    @staticmethod
    def create_id(name: str) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"tally:{name}")

    def add(self, amount: int) -> None:
        if amount < 0:
            raise ValueError(f"a tally only grows, not by {amount}")
        self._added(amount=amount)

    @event("Added")
    def _added(self, amount: int) -> None:
        self.total += amount


class Other(Aggregate):
    @event("Made")
    def __init__(self) -> None:
        pass

    @staticmethod
    def create_id_of_first() -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, "other:first")

    @classmethod
    def first(cls) -> Other:
        return cls._create(cls.Made, id=cls.create_id_of_first())


class Tallies(ServiceApplication):
    name = "tallies"


@pytest.fixture
def app() -> Tallies:
    return Tallies(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def adding(name: str, amount: int, upstream: str = "", version: int = 1) -> BatchEffect[Tally]:
    def apply(tally: Tally | None) -> Tally:
        tally = tally or Tally(name)
        tally.add(amount)
        return tally

    delivery = DeliveryRef(CONSUMER, upstream or f"up-{name}-{amount}", version)
    return BatchEffect(delivery, Tally.create_id(name), Tally, apply)


def stored(app: Tallies) -> int:
    return app.recorder.max_notification_id() or 0


def total(app: Tallies, name: str) -> int:
    tally = app.find(Tally.create_id(name), Tally)
    return tally.total if tally else 0


class Spy:
    """The recorder's batch writes, counted."""

    def __init__(self, app: Tallies) -> None:
        recorder = app.recorder
        assert isinstance(recorder, BatchPOPOProcessRecorder)
        self.writes: list[tuple[int, int]] = []
        real = recorder.insert_batch

        def insert_batch(events: Sequence[StoredEvent], trackings: Sequence[Tracking]) -> None:
            self.writes.append((len(events), len(trackings)))
            real(events, trackings)

        recorder.insert_batch = insert_batch  # type: ignore[method-assign]


def test_a_batch_is_written_in_one_transaction_each_delivery_tracked(app: Tallies) -> None:
    spy = Spy(app)
    effects = [adding("a", 1), adding("b", 2), adding("a", 3)]

    assert app.apply_batch(effects) == 3

    assert spy.writes == [(5, 3)]  # a: Opened, Added, Added; b: Opened, Added
    assert (total(app, "a"), total(app, "b")) == (4, 2)
    assert all(app.already_applied(e.delivery) for e in effects)
    # In the deliveries' order, as event by event would have written them.
    log = app.recorder.select_notifications(start=1, limit=10)
    ids = [(n.originator_id, n.originator_version) for n in log]
    a, b = Tally.create_id("a"), Tally.create_id("b")
    assert ids == [(a, 1), (a, 2), (b, 1), (b, 2), (a, 3)]


def test_a_batch_applied_before_writes_nothing(app: Tallies) -> None:
    effects = [adding("a", 1), adding("b", 2)]
    app.apply_batch(effects)
    spy = Spy(app)
    size = stored(app)

    assert app.apply_batch(effects) == 0

    assert spy.writes == [] and stored(app) == size
    assert total(app, "a") == 1


def test_deliveries_applied_before_or_twice_in_the_batch_count_once(app: Tallies) -> None:
    first = adding("a", 1)
    app.apply_batch([first])

    again = adding("a", 5, upstream="up-x")
    assert app.apply_batch([first, again, again, adding("a", 7)]) == 2

    assert total(app, "a") == 13


def test_a_verb_that_refuses_fails_the_batch_and_nothing_is_written(app: Tallies) -> None:
    app.apply_batch([adding("a", 1)])
    size = stored(app)
    batch = [adding("a", 2), adding("b", 1), adding("a", -1)]

    with pytest.raises(ValueError, match="only grows"):
        app.apply_batch(batch)

    assert stored(app) == size
    assert not any(app.already_applied(e.delivery) for e in batch)
    # What the failed batch changed in place was forgotten: the next one starts from
    # what is stored.
    assert app.apply_batch([adding("a", 10)]) == 1
    assert total(app, "a") == 11


def test_what_others_wrote_meanwhile_brings_a_kept_aggregate_forward(app: Tallies) -> None:
    app.apply_batch([adding("a", 1)])  # kept, at version 2
    tally = app.find(Tally.create_id("a"), Tally)
    assert tally is not None
    tally.add(100)
    app.record(tally, delivery=DeliveryRef("elsewhere", "x", 1))  # one by one, version 3

    assert app.apply_batch([adding("a", 5)]) == 1

    assert total(app, "a") == 106
    assert app.repository.get(Tally.create_id("a")).version == 4


def test_a_write_racing_the_batch_fails_it_whole(
    app: Tallies, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.apply_batch([adding("a", 1)])
    recorder = app.recorder
    assert isinstance(recorder, BatchPOPOProcessRecorder)
    real = recorder.read_batch
    racer = DeliveryRef(CONSUMER, "up-b-2", 1)

    def raced(names: Sequence[str], after: Any) -> Any:
        found = real(names, after)
        # Another member of the group applies the same delivery, and writes to "a",
        # after the batch looked.
        tally = app.find(Tally.create_id("a"), Tally)
        assert tally is not None
        tally.add(1)
        app.record(tally, delivery=racer)
        return found

    monkeypatch.setattr(recorder, "read_batch", raced)
    size = stored(app)

    with pytest.raises(IntegrityError):
        app.apply_batch([adding("a", 5), adding("b", 2)])

    assert stored(app) == size + 1  # the racer's event only
    assert total(app, "b") == 0


def test_the_new_events_pass_the_publish_check_first(app: Tallies) -> None:
    checked: list[list[str]] = []

    def check(events: Sequence[DomainEventProtocol[uuid.UUID]]) -> None:
        checked.append([type(e).__name__ for e in events])
        if len(checked) > 1:
            raise ValueError("too large for the topic")

    app.publish_check = check
    app.apply_batch([adding("a", 1)])
    size = stored(app)

    with pytest.raises(ValueError, match="too large"):
        app.apply_batch([adding("a", 2)])

    assert checked == [["Opened", "Added"], ["Added"]]
    assert stored(app) == size


def test_an_aggregate_of_another_kind_fails_the_batch(app: Tallies) -> None:
    other = Other()
    app.save(other)
    wrong = BatchEffect(DeliveryRef(CONSUMER, "up", 1), other.id, Tally, lambda t: Tally("x"))

    with pytest.raises(TypeError, match="is a Other, not Tally"):
        app.apply_batch([wrong])


def test_a_recorder_that_cannot_apply_a_batch_says_so(
    app: Tallies, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.popo import POPOProcessRecorder

    monkeypatch.setattr(app, "recorder", POPOProcessRecorder())

    with pytest.raises(NotImplementedError, match="cannot apply a batch"):
        app.apply_batch([adding("a", 1)])


def test_an_empty_batch_does_nothing(app: Tallies) -> None:
    assert app.apply_batch([]) == 0
    assert stored(app) == 0


# -- steps that change several aggregates (apply_steps) -------------------------------------


def transfer(source: str, target: str, amount: int, upstream: str) -> BatchStep:
    """Adds `amount` to two tallies at once (each opened if new)."""
    ids = [Tally.create_id(source), Tally.create_id(target)]

    def apply(aggregates: Mapping[uuid.UUID, Aggregate]) -> list[Aggregate]:
        changed: list[Aggregate] = []
        for name, key in zip((source, target), ids, strict=True):
            tally = batch_aggregate(aggregates, key, Tally) or Tally(name)
            tally.add(amount)
            changed.append(tally)
        return changed

    return BatchStep(DeliveryRef(CONSUMER, upstream, 1), ids, apply)


def test_steps_change_several_aggregates_and_finish_adds_once_per_batch(app: Tallies) -> None:
    spy = Spy(app)
    milestones: list[uuid.UUID] = []

    def finish(changed: Sequence[StepEvents]) -> None:
        # A record made once, by the first step that needs it, unless it exists.
        if not app.existing([Other.create_id_of_first()]):
            made = Other.first()
            milestones.append(made.id)
            changed[0].extend(made.collect_events())

    steps = [transfer("a", "b", 1, "up-1"), transfer("b", "c", 2, "up-2")]
    assert app.apply_steps(steps, finish) == 2

    assert spy.writes == [(8, 2)]  # a 2, b 3, c 2 events, and the one Other
    assert (total(app, "a"), total(app, "b"), total(app, "c")) == (1, 3, 2)
    assert app.existing([*milestones, Tally.create_id("z")]) == set(milestones)
    assert app.apply_steps(steps, finish) == 0  # applied before: nothing runs again


def test_a_finish_that_fails_writes_nothing(app: Tallies) -> None:
    def finish(changed: Sequence[StepEvents]) -> None:
        raise ValueError("a warning that cannot be raised")

    with pytest.raises(ValueError, match="cannot be raised"):
        app.apply_steps([transfer("a", "b", 1, "up-1")], finish)
    assert stored(app) == 0
    # What the failed batch changed in place is forgotten: the next one starts over.
    assert app.apply_steps([transfer("a", "b", 1, "up-1")]) == 1
    assert (total(app, "a"), total(app, "b")) == (1, 1)
