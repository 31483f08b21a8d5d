"""servicekit.push on real PostgreSQL, against a real HTTP receiver on 127.0.0.1.

Time is a fake clock shared by the outbox and the pushers: a backoff is passed by moving
the clock, never by sleeping. Signatures carry the wall clock, which the receiver compares
with its own; a test that needs another time gives the pusher a wall clock of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from psycopg_pool import ConnectionPool

from servicekit.isolation import ParkedStore, Status
from servicekit.postgres import drop_database, ensure_database
from servicekit.push import (
    RECORD_ID_HEADER,
    FeedConfig,
    FeedKey,
    InvalidRecord,
    Pusher,
    PushOutbox,
    PushState,
    UnknownFeed,
    backoff,
    canonical_json,
)
from servicekit.settings import with_database
from servicekit.testing import eventually
from tools.feed_receiver import FeedReceiver

pytestmark = pytest.mark.infra

FEED = "sample-feed"
SECRET = b"the-sample-feed-key"
KEY = FeedKey("k1", SECRET)
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["名称", "amount", "on"],
    "additionalProperties": False,
    "properties": {
        "名称": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0},
        "on": {"type": "string", "format": "date"},
    },
}


def record(n: int = 1) -> dict[str, Any]:
    return {"名称": f"测试记录{n}", "amount": 1.25 * n, "on": "2026-03-01"}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="module")
def database(infra: dict[str, str]) -> Iterator[str]:
    url = with_database(infra["database"], f"test_push_{uuid.uuid4().hex[:10]}")
    ensure_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def pool(database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database, min_size=1, max_size=6) as pool:
        with pool.connection() as conn:
            conn.execute("DROP TABLE IF EXISTS push_receipts, push_records")
        yield pool


@pytest.fixture
def receiver() -> Iterator[FeedReceiver]:
    with FeedReceiver(port=0, schemas={FEED: SCHEMA}, keys={FEED: {"k1": SECRET}}) as receiver:
        yield receiver


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def feed_config(receiver: FeedReceiver, **overrides: Any) -> FeedConfig:
    values: dict[str, Any] = {
        "name": FEED,
        "url": receiver.feed_url(FEED),
        "key": KEY,
        "schema": SCHEMA,
    }
    values.update(overrides)
    return FeedConfig(**values)


@pytest.fixture
def make_pusher(pool, receiver, clock) -> Iterator[Any]:
    made: list[Pusher] = []

    def make(batch_size: int = 5, wall_clock: Any = time.time, **overrides: Any) -> Pusher:
        config = feed_config(receiver, **overrides)
        pusher = Pusher(
            pool,
            {FEED: config},
            clock,
            rng=random.Random(7),
            batch_size=batch_size,
            wall_clock=wall_clock,
        )
        made.append(pusher)
        return pusher

    yield make
    for pusher in made:
        pusher.close()


def enqueue(
    pool: ConnectionPool, pusher: Pusher, clock: FakeClock, *records: tuple[str, Any]
) -> list[bool]:
    """Enqueues in one transaction, as a projection's apply does."""
    outbox = PushOutbox(pusher.feeds, clock)
    with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        return [outbox.enqueue(cur, FEED, record_id, payload) for record_id, payload in records]


def test_delivers_signed_canonical_body_and_keeps_the_receipt(
    pool, receiver, clock, make_pusher
) -> None:
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))

    assert pusher.run_once() == 1

    [request] = receiver.requests
    assert request.status == 200
    assert request.body == canonical_json(record())
    assert "测试记录1".encode() in request.body  # UTF-8 as is, not \\u escapes
    assert request.headers["x-pubrev-signature"] == expected_signature(
        request.headers, request.body
    )
    assert request.headers["x-pubrev-key-id"] == "k1"
    assert abs(int(request.headers["x-pubrev-timestamp"]) - time.time()) < 5
    assert len(request.headers["x-pubrev-nonce"]) == 32
    assert request.headers["x-pubrev-feed"] == FEED
    assert request.headers["x-pubrev-record-id"] == "r-1"
    assert request.headers["x-pubrev-attempt"] == "1"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert receiver.records[(FEED, "r-1")] == record()

    status = pusher.status(FEED, "r-1")
    assert status is not None
    assert status.status is PushState.delivered
    assert status.delivered_at == clock.now
    assert status.receipt_id == receiver.receipts[(FEED, "r-1")]
    [receipt] = status.receipts
    assert (receipt.attempt, receipt.http_status, receipt.error) == (1, 200, None)
    assert receipt.key_id == "k1"
    assert json.loads(receipt.response_body or "{}")["receipt_id"] == status.receipt_id
    assert pusher.counts(FEED) == {"pending": 0, "delivered": 1, "dead": 0}
    assert pusher.run_once() == 0  # nothing left to send


def test_record_ids_may_hold_chinese(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    record_id = "记录:〔2026〕1号"
    enqueue(pool, pusher, clock, (record_id, record()))

    pusher.run_once()

    [request] = receiver.requests
    header = request.headers["x-pubrev-record-id"]
    assert header.isascii() and unquote(header) == record_id
    assert receiver.records == {(FEED, record_id): record()}
    status = pusher.status(FEED, record_id)
    assert status is not None and status.status is PushState.delivered


def test_enqueue_twice_pushes_once(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    assert enqueue(pool, pusher, clock, ("r-1", record()), ("r-1", record())) == [True, False]
    assert enqueue(pool, pusher, clock, ("r-1", record())) == [False]

    pusher.run_once()
    pusher.run_once()

    assert [r.record_id for r in receiver.requests] == ["r-1"]


def test_retries_5xx_with_growing_backoff_until_delivered(
    pool, receiver, clock, make_pusher
) -> None:
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))
    receiver.fail_next(2, status=503)

    waits = []
    for _ in range(2):
        assert pusher.run_once() == 1
        status = pusher.status(FEED, "r-1")
        assert status is not None and status.status is PushState.pending
        waits.append(status.next_attempt_at - clock.now)
        assert pusher.run_once() == 0  # not due before its backoff has passed
        clock.advance(waits[-1])
    assert pusher.run_once() == 1

    assert timedelta(seconds=0.8) <= waits[0] <= timedelta(seconds=1.2)
    assert timedelta(seconds=1.6) <= waits[1] <= timedelta(seconds=2.4)
    status = pusher.status(FEED, "r-1")
    assert status is not None
    assert status.status is PushState.delivered and status.attempts == 3
    assert [(r.attempt, r.http_status) for r in status.receipts] == [(1, 503), (2, 503), (3, 200)]
    assert status.receipts[0].error is not None and "503" in status.receipts[0].error
    assert [r.attempt for r in receiver.requests] == ["1", "2", "3"]


def test_timeout_is_retried_and_the_rest_of_the_feed_waits_with_it(
    pool, receiver, clock, make_pusher
) -> None:
    pusher = make_pusher(timeout_s=0.2)
    enqueue(pool, pusher, clock, ("r-1", record()), ("r-2", record(2)))
    receiver.timeout_next(1, seconds=1.0)

    assert pusher.run_once() == 1  # the feed went quiet: r-2 waits instead of timing out too

    status = pusher.status(FEED, "r-1")
    assert status is not None and status.status is PushState.pending
    assert status.receipts[0].http_status is None
    assert (status.receipts[0].error or "").startswith("timeout")
    waiting = pusher.status(FEED, "r-2")
    assert waiting is not None and waiting.attempts == 0 and waiting.receipts == ()
    assert waiting.next_attempt_at == status.next_attempt_at

    clock.advance(timedelta(seconds=2))
    assert pusher.run_once() == 2
    assert pusher.counts(FEED) == {"pending": 0, "delivered": 2, "dead": 0}


def test_refusal_is_dead_at_once(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))
    receiver.refuse_next(1)

    pusher.run_once()

    status = pusher.status(FEED, "r-1")
    assert status is not None
    assert status.status is PushState.dead and status.attempts == 1
    assert status.last_error is not None and "HTTP 422" in status.last_error
    clock.advance(timedelta(hours=1))
    assert pusher.run_once() == 0


def test_wrong_secret_is_refused_by_the_receiver(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher(key=FeedKey("k1", b"not-the-feeds-key"))
    enqueue(pool, pusher, clock, ("r-1", record()))

    pusher.run_once()

    status = pusher.status(FEED, "r-1")
    assert status is not None and status.status is PushState.dead
    assert [r.http_status for r in status.receipts] == [401]
    assert "bad_signature" in (status.last_error or "")
    assert receiver.records == {}


def test_dead_after_max_attempts_then_repush_delivers(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher(max_attempts=3)
    enqueue(pool, pusher, clock, ("r-1", record()))
    receiver.fail_next(3, status=500)

    for _ in range(3):
        assert pusher.run_once() == 1
        clock.advance(timedelta(minutes=6))

    status = pusher.status(FEED, "r-1")
    assert status is not None
    assert status.status is PushState.dead and status.attempts == 3
    assert pusher.run_once() == 0

    assert pusher.repush(FEED, "r-1") is True
    assert pusher.repush(FEED, "no-such-record") is False
    assert pusher.run_once() == 1

    status = pusher.status(FEED, "r-1")
    assert status is not None
    assert status.status is PushState.delivered and status.attempts == 1
    assert [r.http_status for r in status.receipts] == [500, 500, 500, 200]
    assert status.last_error is None


def test_repush_of_a_delivered_record_gets_the_receivers_first_receipt(
    pool, receiver, clock, make_pusher
) -> None:
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))
    pusher.run_once()
    first = pusher.status(FEED, "r-1")

    assert pusher.repush(FEED, "r-1") is True
    assert pusher.run_once() == 1

    again = pusher.status(FEED, "r-1")
    assert first is not None and again is not None
    assert again.status is PushState.delivered
    assert [r.receipt_id for r in again.receipts] == [first.receipt_id, first.receipt_id]
    assert len(receiver.requests) == 2 and len(receiver.records) == 1


def test_invalid_payload_is_refused_at_enqueue(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    bad = {**record(), "amount": -1, "extra": True}

    with pytest.raises(InvalidRecord, match=r"/amount: -1 is less than the minimum"):
        enqueue(pool, pusher, clock, ("r-1", bad))
    with pytest.raises(InvalidRecord, match="not JSON"):
        enqueue(pool, pusher, clock, ("r-2", {**record(), "on": {1, 2}}))
    with pytest.raises(InvalidRecord, match="record id"):
        enqueue(pool, pusher, clock, ("r\n3", record()))
    with pytest.raises(InvalidRecord, match="record id"):
        enqueue(pool, pusher, clock, ("r-3\n", record()))
    with pytest.raises(UnknownFeed):
        PushOutbox({}, clock).enqueue(None, FEED, "r-4", record())  # type: ignore[arg-type]

    assert pusher.counts(FEED) == {"pending": 0, "delivered": 0, "dead": 0}


def test_two_pushers_never_send_a_record_twice(pool, receiver, clock, make_pusher) -> None:
    # Small batches: many claims, so the two pushers keep meeting on the same rows.
    pushers = [make_pusher(batch_size=2), make_pusher(batch_size=2)]
    ids = [f"r-{n}" for n in range(60)]
    enqueue(pool, pushers[0], clock, *((i, record()) for i in ids))
    start = threading.Barrier(2)
    sent: list[int] = []

    def work(pusher: Pusher) -> None:
        start.wait()
        while (count := pusher.run_once()) > 0:
            sent.append(count)

    threads = [threading.Thread(target=work, args=(p,)) for p in pushers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    per_record = Counter(r.record_id for r in receiver.requests)
    assert sorted(per_record) == sorted(ids)
    assert set(per_record.values()) == {1}
    assert sum(sent) == 60
    assert pushers[0].counts(FEED) == {"pending": 0, "delivered": 60, "dead": 0}


async def test_run_pushes_until_stopped(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    stop = asyncio.Event()
    task = asyncio.create_task(pusher.run(stop, idle=0.02))
    await asyncio.to_thread(enqueue, pool, pusher, clock, ("r-1", record()))

    async def arrived() -> bool:
        return (FEED, "r-1") in receiver.records

    await eventually(arrived, timeout=10, what="the record at the receiver")
    stop.set()
    await asyncio.wait_for(task, timeout=5)


def test_backoff_doubles_from_one_second_and_caps_at_five_minutes() -> None:
    rng = random.Random(1)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (30, 300)]:
        wait = backoff(attempt, rng).total_seconds()
        assert base * 0.8 <= wait <= base * 1.2


def test_a_feed_name_takes_no_trailing_newline() -> None:
    with pytest.raises(ValueError, match="feed name"):
        FeedConfig(FEED + "\n", "http://127.0.0.1:1/", KEY, SCHEMA)


def test_feed_config_refuses_a_broken_schema() -> None:
    with pytest.raises(Exception, match="is not valid under any of the given schemas"):
        FeedConfig(FEED, "http://127.0.0.1:1/", KEY, {"type": "no-such-type"})


# -- leaks of issue 10 (item 5): what a captured request could do -------------------------


def expected_signature(headers: dict[str, str], body: bytes) -> str:
    """v1, computed here from the rule in servicekit.push's docstring, not with its code."""
    lines = [
        "pubrev-feed-v1",
        headers["x-pubrev-key-id"],
        headers["x-pubrev-timestamp"],
        headers["x-pubrev-nonce"],
        headers["x-pubrev-feed"],
        headers["x-pubrev-record-id"],
    ]
    material = "\n".join(lines).encode() + b"\n" + body
    return "v1=" + hmac.new(SECRET, material, hashlib.sha256).hexdigest()


def _post(receiver: FeedReceiver, feed: str, headers: dict[str, str], body: bytes) -> int:
    headers = {k: v for k, v in headers.items() if k not in ("content-length", "host")}
    return httpx.post(receiver.feed_url(feed), content=body, headers=headers).status_code


def test_a_captured_request_does_not_replay_as_another_record(
    pool, receiver, clock, make_pusher
) -> None:
    """The signature covered the body only: the same body under another record id was a
    new record at the receiver."""
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))
    pusher.run_once()
    [captured] = receiver.requests

    forged = {**captured.headers, "x-pubrev-record-id": "r-2"}
    status = _post(receiver, FEED, forged, captured.body)

    assert status == 401
    assert receiver.requests[-1].error == "bad_signature"
    assert set(receiver.records) == {(FEED, "r-1")}


def test_a_captured_request_does_not_replay_as_itself(pool, receiver, clock, make_pusher) -> None:
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record()))
    pusher.run_once()
    [captured] = receiver.requests

    status = _post(receiver, FEED, captured.headers, captured.body)

    assert status == 409
    assert [(r.status, r.error) for r in receiver.requests] == [(200, None), (409, "replayed")]


# -- signing anew, rotation, time -----------------------------------------------------------


def test_each_attempt_and_a_repush_is_signed_anew(pool, receiver, clock, make_pusher) -> None:
    """A retry or a re-push is a new request: a fresh timestamp and nonce, so neither is
    refused as stale (a record dead for a day) nor as a replay of the attempt before."""
    wall = [time.time()]
    pusher = make_pusher(wall_clock=lambda: wall[0])
    enqueue(pool, pusher, clock, ("r-1", record()))
    receiver.fail_next(1, status=503)
    pusher.run_once()
    clock.advance(timedelta(seconds=2))
    wall[0] += 2
    pusher.run_once()
    assert pusher.repush(FEED, "r-1") is True
    wall[0] += 120
    pusher.run_once()

    first, second, third = receiver.requests
    assert [r.status for r in (first, second, third)] == [503, 200, 200]
    nonces = {r.headers["x-pubrev-nonce"] for r in (first, second, third)}
    assert len(nonces) == 3
    stamps = [int(r.headers["x-pubrev-timestamp"]) for r in (first, second, third)]
    assert stamps[1] - stamps[0] == 2 and stamps[2] - stamps[1] == 120
    for request in (second, third):
        assert request.headers["x-pubrev-signature"] == expected_signature(
            request.headers, request.body
        )


def test_a_key_rotation_delivers_throughout(pool, receiver, clock, make_pusher) -> None:
    """The receiver adds the new key, the sender switches, the receiver drops the old key:
    every record arrives, and the old key is refused afterwards as unknown."""
    new = FeedKey("k2", b"the-sample-feed-key-of-2026")
    receiver.set_keys(FEED, {"k1": SECRET, "k2": new.secret})
    old_pusher, new_pusher = make_pusher(), make_pusher(key=new)
    enqueue(pool, old_pusher, clock, ("r-1", record(1)))
    old_pusher.run_once()  # signed with k1 while the receiver holds both
    enqueue(pool, new_pusher, clock, ("r-2", record(2)))
    new_pusher.run_once()
    receiver.set_keys(FEED, {"k2": new.secret})
    enqueue(pool, old_pusher, clock, ("r-3", record(3)))
    old_pusher.run_once()  # a sender left behind on the old key

    assert set(receiver.records) == {(FEED, "r-1"), (FEED, "r-2")}
    assert [r.headers["x-pubrev-key-id"] for r in receiver.requests] == ["k1", "k2", "k1"]
    assert receiver.requests[-1].error == "unknown_key"
    late = pusher_status(old_pusher, "r-3")
    assert late.status is PushState.dead and late.receipts[-1].key_id == "k1"
    assert pusher_status(new_pusher, "r-2").receipts[-1].key_id == "k2"


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_sender_clock_off_by_more_than_five_minutes_is_refused_as_stale(
    pool, receiver, clock, make_pusher, skew: int
) -> None:
    pusher = make_pusher(wall_clock=lambda: time.time() + skew)
    enqueue(pool, pusher, clock, ("r-1", record()))

    pusher.run_once()

    status = pusher_status(pusher, "r-1")
    assert status.status is PushState.dead
    assert status.receipts[-1].http_status == 401
    assert "stale" in (status.last_error or "")
    assert receiver.records == {}


def test_a_sender_clock_off_by_less_than_five_minutes_delivers(
    pool, receiver, clock, make_pusher
) -> None:
    pusher = make_pusher(wall_clock=lambda: time.time() - 290)
    enqueue(pool, pusher, clock, ("r-1", record()))

    pusher.run_once()

    assert pusher_status(pusher, "r-1").status is PushState.delivered


def test_one_key_for_two_feeds_is_refused(pool, receiver, clock) -> None:
    other = FeedConfig("other-feed", receiver.feed_url("other-feed"), FeedKey("k9", SECRET), SCHEMA)
    with pytest.raises(ValueError, match="share one secret"):
        Pusher(pool, {FEED: feed_config(receiver), "other-feed": other}, clock)
    with pytest.raises(ValueError, match="share one secret"):
        PushOutbox({FEED: feed_config(receiver), "other-feed": other}, clock)


def pusher_status(pusher: Pusher, record_id: str) -> Any:
    status = pusher.status(FEED, record_id)
    assert status is not None
    return status


# -- isolation: a record that cannot be sent does not stop its feed (issue 11) ---------------


def parked_records(pool: ConnectionPool) -> list[tuple[str, str, str, int, str]]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT worker, event_key, status, attempts, error FROM parked_events"
            " WHERE role = 'push' ORDER BY id"
        ).fetchall()
    return [(r[0], r[1], r[2], int(r[3]), str(r[4])) for r in rows]


@pytest.fixture
def no_parked(pool: ConnectionPool) -> None:
    with pool.connection() as conn:
        conn.execute("DELETE FROM parked_events WHERE role = 'push'")


class RefusingTransport(httpx.HTTPTransport):
    """The real transport, except that the HTTP client refuses the request of one record
    (as it would a header value it cannot encode): an exception that is neither the
    receiver's answer nor the network's failure."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get(RECORD_ID_HEADER) == self.poison:
            raise ValueError("the client cannot encode this request")
        return super().handle_request(request)


def test_a_record_the_client_cannot_send_is_dead_and_parked_and_the_feed_goes_on(
    pool, receiver, clock, make_pusher, no_parked
) -> None:
    """Before, the exception left the pusher's round: the rest of the claimed batch waited
    for its lease, and the same record came back to fail again, for ever."""
    client = httpx.Client(transport=RefusingTransport("r-2"))
    config = feed_config(receiver)
    pusher = Pusher(pool, {FEED: config}, clock, rng=random.Random(7), client=client)
    try:
        enqueue(pool, pusher, clock, ("r-1", record(1)), ("r-2", record(2)), ("r-3", record(3)))
        assert pusher.run_once() == 3
        assert sorted(r for _, r in receiver.records) == ["r-1", "r-3"]
        status = pusher.status(FEED, "r-2")
        assert status is not None and status.status is PushState.dead
        assert "cannot send: ValueError" in (status.last_error or "")
        [entry] = parked_records(pool)
        assert entry[:4] == (f"push:{FEED}", "r-2", "parked", 1)
        assert "the client cannot encode" in entry[4]
    finally:
        client.close()


def test_a_record_that_kills_the_pusher_is_dead_after_max_attempts_claims(
    pool, receiver, clock, make_pusher, no_parked
) -> None:
    """Each claim counts an attempt in the database before the send: a pusher that dies
    sending the record leaves it leased, the lease runs out, the next pusher claims it
    again. Claimed more often than max_attempts, it is dead without being sent again."""
    pusher = make_pusher(max_attempts=2)
    enqueue(pool, pusher, clock, ("r-1", record()))
    config = pusher.feeds[FEED]
    for _ in range(2):
        assert [c.record_id for c in pusher._claim(config)] == ["r-1"]  # then "killed"
        clock.advance(timedelta(hours=2))  # the lease runs out
    assert pusher.run_once() == 1
    assert receiver.records == {}  # not sent a third time
    status = pusher.status(FEED, "r-1")
    assert status is not None and status.status is PushState.dead and status.attempts == 3
    [entry] = parked_records(pool)
    assert entry[:3] == (f"push:{FEED}", "r-1", "parked")
    assert "died sending it 2 times" in entry[4]


def test_a_dead_record_is_parked_and_an_operator_re_drives_it(
    pool, receiver, clock, make_pusher, no_parked
) -> None:
    """The parked entry of a dead record is re-driven like any other (the record queued
    again, the entry closed), and a re-push by status and time closes the entries too."""
    pusher = make_pusher()
    enqueue(pool, pusher, clock, ("r-1", record(1)), ("r-2", record(2)))
    receiver.refuse_next(2)
    pusher.run_once()
    assert [e[1:3] for e in parked_records(pool)] == [("r-1", "parked"), ("r-2", "parked")]

    store = ParkedStore(pool)
    [first, _] = store.entries(role="push")
    with store.transaction() as cur:
        assert pusher.redrive(cur, [first]) == (1, None)
        store.close(cur, [first.id], Status.redriven, "operator")
    assert pusher.run_once() == 1
    delivered = pusher.status(FEED, "r-1")
    assert delivered is not None and delivered.status is PushState.delivered

    assert pusher.repush_where(
        FEED,
        PushState.dead,
        clock.now - timedelta(days=1),
        by="agency=operator;role=operator;unit=putian",
    ) == ["r-2"]
    assert [e[1:3] for e in parked_records(pool)] == [("r-1", "redriven"), ("r-2", "redriven")]
    assert pusher.repush_where(FEED, PushState.dead) == []
    assert pusher.run_once() == 1
    assert sorted(r for _, r in receiver.records) == ["r-1", "r-2"]
