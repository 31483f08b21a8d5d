"""Typed commands (servicekit.eventstore) on the in-memory event store: the service's bus
(`handle`), idempotent commands whose receipt is named after the command's type and
remembers a flat result dataclass, and the group commit where one command's failure is
its own (servicekit.group_commit)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import OperationalError

from servicekit.errors import (
    AlreadyExists,
    Conflict,
    FieldViolation,
    InvalidArgument,
    ServiceError,
)
from servicekit.eventstore import (
    CommandReceipt,
    Prepared,
    ServiceApplication,
    fingerprint,
    rebuild,
    remember,
)
from servicekit.group_commit import GroupCommitter
from servicekit.identity import Identity

CLERK = Identity("property-bureau", "clerk", "licheng")
LEDGERS = uuid.UUID("0b3f2a8e-5a1c-4c1e-9d7a-3f1e2d4c5b6a")


class Unencodable:
    """A value no transcoding is registered for: storing it is a bug of the command."""


class Ledger(Aggregate):
    @staticmethod
    def create_id(name: str) -> uuid.UUID:
        return uuid.uuid5(LEDGERS, name)

    @event("Opened")
    def __init__(self, name: str, opening_fen: int, note: Any = None) -> None:
        self.name = name
        self.opening_fen = opening_fen
        self.note = note

    @event("Noted")
    def annotate(self, note: str) -> None:
        self.note = note


@dataclasses.dataclass(frozen=True)
class OpenLedger:
    request_id: str
    name: str
    opening_fen: int = 0


@dataclasses.dataclass(frozen=True)
class LedgerOpened:
    ledger_id: str
    name: str
    opening_fen: int


@dataclasses.dataclass(frozen=True)
class CloseLedger:
    request_id: str
    name: str


class SampleApplication(ServiceApplication):
    def __init__(self) -> None:
        super().__init__()
        self.executions = 0
        self.callers: list[Identity] = []

    def open_execute(
        self, cmd: OpenLedger, note: Any = None
    ) -> tuple[Sequence[Aggregate], LedgerOpened]:
        self.executions += 1
        ledger = Ledger(cmd.name, cmd.opening_fen, note)
        return [ledger], LedgerOpened(str(ledger.id), cmd.name, cmd.opening_fen)

    def stored(self) -> int:
        return self.process_recorder.max_notification_id() or 0


def open_ledger(app: SampleApplication, identity: Identity, cmd: OpenLedger) -> LedgerOpened:
    app.callers.append(identity)
    return app.run_command(cmd, LedgerOpened, lambda: app.open_execute(cmd))


SampleApplication.handlers = {OpenLedger: open_ledger}


def already_open() -> ServiceError:
    return AlreadyExists("the ledger is open already", "账簿已开立")


@pytest.fixture
def app() -> SampleApplication:
    return SampleApplication()


# -- the bus ---------------------------------------------------------------------------------


def test_handle_runs_the_handler_of_the_commands_type(app: SampleApplication) -> None:
    result = app.handle(CLERK, OpenLedger("r-1", "parking", 1200))

    assert result == LedgerOpened(str(Ledger.create_id("parking")), "parking", 1200)
    assert app.callers == [CLERK]


def test_a_command_without_a_handler_is_a_wiring_bug(app: SampleApplication) -> None:
    with pytest.raises(TypeError, match="SampleApplication has no handler for CloseLedger"):
        app.handle(CLERK, CloseLedger("r-1", "parking"))
    assert app.stored() == 0


# -- idempotent typed commands -----------------------------------------------------------------


def test_a_command_is_carried_out_once_and_its_receipt_named_after_its_type(
    app: SampleApplication,
) -> None:
    cmd = OpenLedger("r-1", "parking", 1200)

    first = app.handle(CLERK, cmd)

    ledger = app.find(Ledger.create_id("parking"), Ledger)
    assert ledger is not None and ledger.opening_fen == 1200
    receipt = app.find_receipt("OpenLedger", "r-1")
    assert receipt is not None
    assert receipt.id == CommandReceipt.create_id("OpenLedger", "r-1")
    assert receipt.fingerprint == fingerprint(cmd)
    assert receipt.result == {"ledger_id": first.ledger_id, "name": "parking", "opening_fen": 1200}
    assert app.stored() == 2  # the ledger's event and the receipt's


def test_a_repeated_request_gets_the_same_result_rebuilt_and_writes_nothing(
    app: SampleApplication,
) -> None:
    cmd = OpenLedger("r-1", "parking", 1200)
    first = app.handle(CLERK, cmd)

    again = app.handle(CLERK, OpenLedger("r-1", "parking", 1200))

    assert again == first and isinstance(again, LedgerOpened)
    assert app.executions == 1
    assert app.stored() == 2


def test_another_payload_under_the_same_request_id_is_already_exists(
    app: SampleApplication,
) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))

    with pytest.raises(AlreadyExists, match="request_id 'r-1' was already used") as refused:
        app.handle(CLERK, OpenLedger("r-1", "parking", 1300))
    assert "different OpenLedger" in refused.value.message
    assert app.executions == 1 and app.stored() == 2


def test_the_same_request_id_for_another_command_type_is_its_own_request(
    app: SampleApplication,
) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))

    def close() -> tuple[Sequence[Aggregate], LedgerOpened]:
        return [], LedgerOpened("x", "parking", 0)

    result = app.run_command(CloseLedger("r-1", "parking"), LedgerOpened, close)
    assert result == LedgerOpened("x", "parking", 0)
    assert app.find_receipt("CloseLedger", "r-1") is not None


def test_a_result_is_rebuilt_from_an_older_receipt_only_with_defaults() -> None:
    @dataclasses.dataclass(frozen=True)
    class Grown:
        ledger_id: str
        late: bool = False

    @dataclasses.dataclass(frozen=True)
    class Required:
        ledger_id: str
        late: bool

    # A field the result gained takes its default; one it lost is left out.
    assert rebuild(Grown, {"ledger_id": "L1", "dropped": 3}) == Grown("L1", False)
    with pytest.raises(TypeError, match="late"):
        rebuild(Required, {"ledger_id": "L1"})


def test_a_receipt_written_before_the_result_grew_replays_with_the_default(
    app: SampleApplication,
) -> None:
    @dataclasses.dataclass(frozen=True)
    class LedgerOpenedV2:
        ledger_id: str
        name: str
        opening_fen: int
        audited: bool = False

    cmd = OpenLedger("r-1", "parking", 1200)
    first = app.handle(CLERK, cmd)

    again = app.run_command(cmd, LedgerOpenedV2, lambda: pytest.fail("not run twice"))

    assert again == LedgerOpenedV2(first.ledger_id, "parking", 1200, False)


def test_a_result_is_remembered_only_as_a_dataclass() -> None:
    assert remember(LedgerOpened("L1", "停车", 1)) == {
        "ledger_id": "L1",
        "name": "停车",
        "opening_fen": 1,
    }
    with pytest.raises(TypeError, match="a command's result is a dataclass, not dict"):
        remember({"ledger_id": "L1"})
    with pytest.raises(TypeError):
        remember(LedgerOpened)  # the class, not a result


def test_prepare_decides_and_commit_writes(app: SampleApplication) -> None:
    cmd = OpenLedger("r-1", "parking", 1200)

    prepared = app.prepare_command(cmd, LedgerOpened, lambda: app.open_execute(cmd))

    assert isinstance(prepared, Prepared)
    assert (prepared.command, prepared.request_id, prepared.result_type) == (
        "OpenLedger",
        "r-1",
        LedgerOpened,
    )
    assert app.stored() == 0  # decided, nothing written yet
    committed = app.commit_command(prepared, LedgerOpened)
    assert committed == LedgerOpened(str(Ledger.create_id("parking")), "parking", 1200)
    assert app.stored() == 2

    repeated = app.prepare_command(cmd, LedgerOpened, lambda: app.open_execute(cmd))
    assert repeated == committed  # a repeated request: its result, nothing to commit


def test_an_optimistic_command_tells_a_repeat_from_a_conflict_at_commit(
    app: SampleApplication,
) -> None:
    cmd = OpenLedger("r-1", "parking", 1200)
    first = app.run_command(cmd, LedgerOpened, lambda: app.open_execute(cmd), already_open)

    # The same request again: no receipt lookup first, the commit conflicts, the receipt
    # then found says it is a repeat.
    again = app.run_command(cmd, LedgerOpened, lambda: app.open_execute(cmd), already_open)
    assert again == first and app.executions == 2

    other = OpenLedger("r-2", "parking", 1200)
    with pytest.raises(AlreadyExists, match="the ledger is open already"):
        app.run_command(other, LedgerOpened, lambda: app.open_execute(other), already_open)
    assert app.stored() == 2


def test_a_conflict_without_on_conflict_is_conflict(app: SampleApplication) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))
    with pytest.raises(Conflict):
        app.handle(CLERK, OpenLedger("r-2", "parking", 1200))


# -- commit_group ------------------------------------------------------------------------------


def prepare(app: SampleApplication, cmd: OpenLedger, note: Any = None) -> Any:
    return app.prepare_command(cmd, LedgerOpened, lambda: app.open_execute(cmd, note), already_open)


def test_a_group_commits_together_and_hands_back_typed_results(app: SampleApplication) -> None:
    group = [prepare(app, OpenLedger(f"r-{n}", f"ledger-{n}", n)) for n in range(3)]

    outcomes = app.commit_group(group)

    assert outcomes == [
        LedgerOpened(str(Ledger.create_id(f"ledger-{n}")), f"ledger-{n}", n) for n in range(3)
    ]
    assert app.stored() == 6


def test_a_conflicting_command_fails_alone(app: SampleApplication) -> None:
    group = [
        prepare(app, OpenLedger("r-1", "parking", 1)),
        prepare(app, OpenLedger("r-2", "parking", 2)),  # the same ledger: conflicts
        prepare(app, OpenLedger("r-3", "leasing", 3)),
    ]

    first, second, third = app.commit_group(group)

    assert first == LedgerOpened(str(Ledger.create_id("parking")), "parking", 1)
    assert isinstance(second, AlreadyExists)
    assert third == LedgerOpened(str(Ledger.create_id("leasing")), "leasing", 3)
    assert app.find_receipt("OpenLedger", "r-2") is None


def test_a_command_whose_events_cannot_be_stored_fails_alone(app: SampleApplication) -> None:
    """A bug of one command (an event value no transcoding knows) is found only when the
    group's events are encoded: the others of the group must still commit."""
    group = [
        prepare(app, OpenLedger("r-1", "parking", 1)),
        prepare(app, OpenLedger("r-2", "leasing", 2), note=Unencodable()),
        prepare(app, OpenLedger("r-3", "vending", 3)),
    ]

    first, second, third = app.commit_group(group)

    assert first == LedgerOpened(str(Ledger.create_id("parking")), "parking", 1)
    assert isinstance(second, TypeError)
    assert third == LedgerOpened(str(Ledger.create_id("vending")), "vending", 3)
    assert app.find(Ledger.create_id("leasing"), Ledger) is None
    assert app.stored() == 4


def test_the_database_away_fails_the_whole_group(
    app: SampleApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = [prepare(app, OpenLedger(f"r-{n}", f"ledger-{n}", n)) for n in range(2)]

    def away(*objs: Any, **kw: Any) -> bool:
        raise OperationalError("connection refused")

    monkeypatch.setattr(app, "record", away)
    with pytest.raises(OperationalError):
        app.commit_group(group)


# -- the group committer -----------------------------------------------------------------------


class Boom(RuntimeError):
    """A bug in one command's decision (not a ServiceError)."""


async def test_concurrent_commands_share_a_group_and_each_failure_is_its_own(
    app: SampleApplication,
) -> None:
    committer = GroupCommitter(app)

    def refused() -> Any:
        raise InvalidArgument([FieldViolation("name", "required", "a ledger needs a name")])

    def buggy() -> Any:
        raise Boom("division by zero in the fee table")

    decisions = [
        lambda: prepare(app, OpenLedger("r-1", "parking", 1)),
        buggy,
        refused,
        lambda: prepare(app, OpenLedger("r-2", "leasing", 2), note=Unencodable()),
        lambda: prepare(app, OpenLedger("r-3", "vending", 3)),
    ]

    outcomes = await asyncio.gather(
        *(committer.run(decide) for decide in decisions), return_exceptions=True
    )
    await committer.close()

    assert (committer.groups, committer.commands) == (1, 5)
    assert outcomes[0] == LedgerOpened(str(Ledger.create_id("parking")), "parking", 1)
    assert isinstance(outcomes[1], Boom)
    assert isinstance(outcomes[2], InvalidArgument)
    assert isinstance(outcomes[3], TypeError)
    assert outcomes[4] == LedgerOpened(str(Ledger.create_id("vending")), "vending", 3)


async def test_a_repeated_request_in_a_group_gets_its_first_result(
    app: SampleApplication,
) -> None:
    cmd = OpenLedger("r-1", "parking", 1)
    first = app.handle(CLERK, cmd)
    committer = GroupCommitter(app)

    def again() -> Any:
        return app.prepare_command(cmd, LedgerOpened, lambda: app.open_execute(cmd))

    assert await committer.run(again) == first
    await committer.close()
    assert app.executions == 1


async def test_commit_of_a_decided_result_needs_no_group(app: SampleApplication) -> None:
    committer = GroupCommitter(app)
    decided = LedgerOpened("L1", "parking", 1)

    assert await committer.commit(decided) is decided
    assert committer.groups == 0

    prepared = prepare(app, OpenLedger("r-1", "parking", 1))
    assert await committer.commit(prepared) == LedgerOpened(
        str(Ledger.create_id("parking")), "parking", 1
    )
    assert committer.groups == 1
    await committer.close()


async def test_when_the_database_fails_every_command_of_the_group_fails(
    app: SampleApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    committer = GroupCommitter(app)

    def away(group: Any) -> list[Any]:
        raise OperationalError("connection refused")

    monkeypatch.setattr(app, "commit_group", away)
    outcomes = await asyncio.gather(
        committer.run(lambda: prepare(app, OpenLedger("r-1", "a", 1))),
        committer.run(lambda: prepare(app, OpenLedger("r-2", "b", 2))),
        return_exceptions=True,
    )
    await committer.close()
    assert all(isinstance(o, OperationalError) for o in outcomes)


async def test_a_caller_that_went_away_does_not_stop_the_committer(
    app: SampleApplication,
) -> None:
    committer = GroupCommitter(app)
    gone = asyncio.create_task(committer.run(lambda: prepare(app, OpenLedger("r-1", "a", 1))))
    await asyncio.sleep(0)  # queued
    gone.cancel()
    stays = committer.run(lambda: prepare(app, OpenLedger("r-2", "b", 2)))

    assert await stays == LedgerOpened(str(Ledger.create_id("b")), "b", 2)
    with pytest.raises(asyncio.CancelledError):
        await gone
    await committer.close()


# -- what a group reads, read once (ADR 0019) ------------------------------------------------


def counting_reads(app: SampleApplication, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which recorder reads the application makes from now on."""
    reads: list[str] = []
    recorder: Any = app.recorder
    select_events = recorder.select_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append("select_events")
        return select_events(*args, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counted)
    return reads


def test_preread_answers_read_only_finds_from_one_read(
    app: SampleApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))
    parking, absent = Ledger.create_id("parking"), Ledger.create_id("nowhere")
    stored = app.find(parking, Ledger)
    assert stored is not None

    reads = counting_reads(app, monkeypatch)
    with app.preread([parking, absent, parking]):
        before = len(reads)
        first = app.find(parking, Ledger, read_only=True)
        again = app.find(parking, Ledger, read_only=True)
        missing = app.find(absent, Ledger, read_only=True)
        assert len(reads) == before  # answered from what preread read
        to_change = app.find(parking, Ledger)  # a copy that may change: read as ever
        assert len(reads) == before + 1
        with app.preread([absent]):  # nested: the outer block's reads stand
            assert app.find(parking, Ledger, read_only=True) is first

    assert first is again
    assert missing is None
    assert first is not None and to_change is not None and to_change is not first
    assert (first.name, first.version, first.opening_fen) == ("parking", 1, 1200)
    assert vars(first) == vars(stored)
    after = len(reads)
    assert app.find(parking, Ledger, read_only=True) is not first  # gone after the block
    assert len(reads) > after


def test_preread_reads_a_cached_aggregate_from_its_cached_version_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGGREGATE_CACHE_MAXSIZE", "100")
    monkeypatch.setenv("AGGREGATE_CACHE_FASTFORWARD", "y")
    app = SampleApplication()
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))
    app.handle(CLERK, OpenLedger("r-2", "bikes", 0))
    parking, bikes = Ledger.create_id("parking"), Ledger.create_id("bikes")
    # A short history is read in the group's query each time, never kept...
    with app.preread([bikes]):
        assert app.find(bikes, Ledger, read_only=True) is not None
    assert app.repository.cache is not None
    with pytest.raises(KeyError):
        app.repository.cache.get(bikes)
    # ...a long one (here: from one event on) is kept once read.
    monkeypatch.setattr(app, "preread_keeps_from", 1)
    asked: list[int | None] = []
    recorder: Any = app.recorder
    select_events = recorder.select_events

    def counted(originator_id: Any, *args: Any, gt: int | None = None, **kwargs: Any) -> Any:
        if originator_id == parking:
            asked.append(gt)
        return select_events(originator_id, *args, gt=gt, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counted)
    with app.preread([parking]):  # not cached yet: read whole, then cached
        first = app.find(parking, Ledger, read_only=True)
    with app.preread([parking]):  # cached and unchanged: only what follows version 1
        again = app.find(parking, Ledger, read_only=True)
    assert asked == [0, 1]
    assert first is not None and again is first

    changed = app.find(parking, Ledger)
    assert changed is not None
    changed.annotate("moved to the new lot")
    app.save(changed)
    with app.preread([parking]):  # moved on: brought forward from the cached version
        latest = app.find(parking, Ledger, read_only=True)
    assert asked[2] == 1
    assert latest is not None and (latest.version, latest.note) == (2, "moved to the new lot")


def test_preread_of_a_record_of_another_kind_is_refused_as_ever(app: SampleApplication) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))
    receipt_id = CommandReceipt.create_id("OpenLedger", "r-1")
    with app.preread([receipt_id]), pytest.raises(TypeError):
        app.find(receipt_id, Ledger, read_only=True)


def test_preread_is_per_thread(app: SampleApplication) -> None:
    app.handle(CLERK, OpenLedger("r-1", "parking", 1200))
    parking = Ledger.create_id("parking")
    with app.preread([Ledger.create_id("nowhere")]):
        # Another thread (a query served meanwhile) reads the store as ever.
        found: list[Any] = []
        reader = threading.Thread(target=lambda: found.append(app.find(parking, Ledger)))
        reader.start()
        reader.join()
    assert found[0] is not None and found[0].name == "parking"


async def test_the_committer_reads_what_its_group_only_reads_once(
    app: SampleApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.handle(CLERK, OpenLedger("r-0", "parking", 1200))
    parking = Ledger.create_id("parking")
    committer = GroupCommitter(app)
    reads = counting_reads(app, monkeypatch)
    seen: list[Any] = []

    def decide(n: int) -> Any:
        seen.append(app.find(parking, Ledger, read_only=True))
        return prepare(app, OpenLedger(f"r-{n}", f"fees-{n}", n))

    outcomes = await asyncio.gather(
        *(committer.run(lambda n=n: decide(n), [parking]) for n in range(1, 6))
    )
    await committer.close()

    assert [o.name for o in outcomes] == [f"fees-{n}" for n in range(1, 6)]
    assert len({id(s) for s in seen}) == 1 and seen[0].name == "parking"
    # One read for the group (the in-memory recorder reads each aggregate apart: one).
    assert reads.count("select_events") == 1


async def test_a_group_is_decided_while_the_one_before_commits(
    app: SampleApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    committer = GroupCommitter(app)
    commit_group = app.commit_group
    first_commit_started = asyncio.Event()
    release_first = asyncio.Event()
    loop = asyncio.get_running_loop()
    commits: list[list[str]] = []

    def slow_commit(group: Sequence[Prepared]) -> list[Any]:
        commits.append([p.request_id for p in group])
        if len(commits) == 1:
            loop.call_soon_threadsafe(first_commit_started.set)
            asyncio.run_coroutine_threadsafe(release_first.wait(), loop).result(5)
        return commit_group(group)

    monkeypatch.setattr(app, "commit_group", slow_commit)
    first = asyncio.create_task(committer.run(lambda: prepare(app, OpenLedger("r-1", "a", 1))))
    await asyncio.wait_for(first_commit_started.wait(), 5)
    decided = asyncio.Event()

    def second_decision() -> Any:
        loop.call_soon_threadsafe(decided.set)
        # The same request again, decided before its first commit is done: answered with
        # the first result once its own commit finds the receipt.
        return prepare(app, OpenLedger("r-1", "a", 1))

    second = asyncio.create_task(committer.run(second_decision))
    await asyncio.wait_for(decided.wait(), 5)  # decided while the first group commits
    assert commits == [["r-1"]]
    release_first.set()
    assert await first == await second == LedgerOpened(str(Ledger.create_id("a")), "a", 1)
    await committer.close()
    assert commits == [["r-1"], ["r-1"]]
    assert app.stored() == 2  # the ledger and one receipt


async def test_a_group_with_nothing_to_commit_is_answered_at_once(
    app: SampleApplication,
) -> None:
    committer = GroupCommitter(app)

    def refused() -> Any:
        raise InvalidArgument([FieldViolation("name", "required", "a ledger needs a name")])

    with pytest.raises(InvalidArgument):
        await committer.run(refused)
    await committer.close()
    assert (committer.groups, committer.commands) == (1, 1)
