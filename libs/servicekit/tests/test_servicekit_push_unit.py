"""servicekit.push without PostgreSQL or a receiver: the outbox tables in a fake database,
the receiver an httpx.MockTransport, time a fake clock moved by hand (a backoff or a lease
is passed by moving it, never by sleeping). test_servicekit_push.py holds the same promises
on the real stack (marked infra); these run with every unit test.

What is asserted: a record is validated against its feed's schema before it is queued;
each attempt is signed anew with the feed's key (checked here with an HMAC computed
independently); answers that may pass are retried with a growing backoff, refusals are
dead at once, and every dead record is parked for the operators; a record whose pusher
died holding it comes back when its lease runs out."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from libs.servicekit.tests.fakes import EPOCH, FakeDatabase, FakePool
from servicekit.isolation import Role, Status
from servicekit.push import (
    FeedConfig,
    FeedKey,
    InvalidRecord,
    Pusher,
    PushOutbox,
    PushState,
    UnknownFeed,
    backoff,
)
from servicekit.testing import FakeClock

FEED = "sample-feed"
SECRET = b"the-sample-feed-key"
KEY = FeedKey("k1", SECRET)
WALL = 1_772_442_000  # the Unix time signatures carry (the wall clock, not the fake one)
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["名称", "amount"],
    "additionalProperties": False,
    "properties": {
        "名称": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def document(n: int = 1) -> dict[str, Any]:
    return {"名称": f"测试记录{n}", "amount": 1.25 * n}


def config(**overrides: Any) -> FeedConfig:
    values: dict[str, Any] = {
        "name": FEED,
        "url": "https://receiver.example/feeds/sample",
        "key": KEY,
        "schema": SCHEMA,
        "max_attempts": 3,
    }
    values.update(overrides)
    return FeedConfig(**values)


class FakeReceiver:
    """The receiver behind httpx.MockTransport: answers from `script` in turn (then 200
    with a receipt), and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[Callable[[httpx.Request], httpx.Response]] = []

    def answer(self, status: int, text: str = "") -> None:
        self.script.append(lambda request: httpx.Response(status, text=text))

    def fail(self, error: Callable[[httpx.Request], Exception]) -> None:
        def raising(request: httpx.Request) -> httpx.Response:
            raise error(request)

        self.script.append(raising)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)(request)
        return httpx.Response(200, json={"receipt_id": f"rcpt-{len(self.requests)}"})

    def record_ids(self) -> list[str]:
        return [unquote(r.headers["x-pubrev-record-id"]) for r in self.requests]


class Stack:
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.pool = FakePool(self.db)
        self.clock = FakeClock(EPOCH)
        self.receiver = FakeReceiver()
        self.client = httpx.Client(transport=httpx.MockTransport(self.receiver))

    def pusher(self, *feeds: FeedConfig, batch_size: int = 5) -> Pusher:
        configs = {f.name: f for f in feeds or (config(),)}
        pusher = Pusher(
            self.pool,  # type: ignore[arg-type]
            configs,
            self.clock,
            batch_size=batch_size,
            rng=random.Random(7),
            client=self.client,
            wall_clock=lambda: WALL + 0.75,
        )
        pusher.parking = self.db.parked  # the fake database's parked table
        return pusher

    def enqueue(self, pusher: Pusher, *records: tuple[str, Any], feed: str = FEED) -> list[bool]:
        """In one transaction, as a projection's apply does."""
        outbox = PushOutbox(pusher.feeds, self.clock)
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            return [outbox.enqueue(cur, feed, rid, payload) for rid, payload in records]  # type: ignore[arg-type]

    def status(self, pusher: Pusher, record_id: str, feed: str = FEED) -> Any:
        found = pusher.status(feed, record_id)
        assert found is not None
        return found


@pytest.fixture
def stack() -> Iterator[Stack]:
    stack = Stack()
    yield stack
    stack.client.close()


# -- enqueue -----------------------------------------------------------------------------


def test_enqueue_queues_the_document_once(stack: Stack) -> None:
    pusher = stack.pusher()
    payload = {**document(), "tags": ("a", "b")}  # a tuple: the receiver will see a list

    assert stack.enqueue(pusher, ("r-1", payload), ("r-1", payload)) == [True, False]
    assert stack.enqueue(pusher, ("r-1", {**document(), "amount": 9})) == [False]

    row = stack.db.push_records[(FEED, "r-1")]
    assert row["payload"] == {**document(), "tags": ["a", "b"]}  # the first one stands
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("pending", 0, EPOCH)
    assert pusher.counts(FEED) == {"pending": 1, "delivered": 0, "dead": 0}


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction(stack: Stack) -> None:
    pusher = stack.pusher()
    outbox = PushOutbox(pusher.feeds, stack.clock)

    def apply_that_fails_after_enqueueing() -> None:
        with stack.pool.connection() as conn, conn.cursor() as cur:
            assert outbox.enqueue(cur, FEED, "r-1", document())  # type: ignore[arg-type]
            raise RuntimeError("the projection's apply failed after it")

    with pytest.raises(RuntimeError):
        apply_that_fails_after_enqueueing()
    assert stack.db.push_records == {}


@pytest.mark.parametrize(
    ("record_id", "payload", "problem"),
    [
        ("r-1", {"amount": 1}, "record r-1: /: '名称' is a required property"),
        ("r-1", {**document(), "amount": -1}, "record r-1: /amount: -1 is less than the minimum"),
        ("r-1", {**document(), "extra": 1}, "Additional properties are not allowed"),
        ("r-1", {**document(), "tags": [1]}, "/tags/0: 1 is not of type 'string'"),
        ("r-1", {**document(), "amount": float("nan")}, "record r-1: not JSON"),
        ("r-1", {**document(), "tags": {"a"}}, "record r-1: not JSON"),
        ("", document(), "record id '' must be 1–200 characters"),
        ("r\n1", document(), "no control characters"),
        ("r" * 201, document(), "must be 1–200 characters"),
    ],
)
def test_enqueue_refuses_a_record_its_feed_would_refuse(
    stack: Stack, record_id: str, payload: Any, problem: str
) -> None:
    pusher = stack.pusher()
    with pytest.raises(InvalidRecord) as refused:
        stack.enqueue(pusher, (record_id, payload))
    assert problem in str(refused.value)
    assert str(refused.value).startswith(f"feed {FEED}")
    assert stack.db.push_records == {}


def test_enqueue_to_a_feed_nobody_configured_is_refused(stack: Stack) -> None:
    with pytest.raises(UnknownFeed):
        stack.enqueue(stack.pusher(), ("r-1", document()), feed="other-feed")


def test_feed_configuration_is_checked_at_start() -> None:
    with pytest.raises(ValueError, match="lower-case letters"):
        config(name="sample-feed\n")
    with pytest.raises(ValueError, match="url must be http"):
        config(url="ftp://receiver.example/")
    with pytest.raises(ValueError, match="max_attempts"):
        config(max_attempts=0)
    with pytest.raises(SchemaError):
        config(schema={"type": "no-such-type"})
    with pytest.raises(ValueError, match="share one secret"):
        PushOutbox({FEED: config(), "other": config(name="other")})
    with pytest.raises(ValueError, match="registered under another name"):
        PushOutbox({"other": config()})
    with pytest.raises(ValueError, match="empty secret"):
        FeedKey("k2", b"")


def test_backoff_doubles_from_one_second_within_its_jitter_and_caps_at_five_minutes() -> None:
    rng = random.Random(1)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (30, 300)]:
        wait = backoff(attempt, rng).total_seconds()
        assert base * 0.8 <= wait <= base * 1.2, attempt


# -- sending -----------------------------------------------------------------------------


def expected_signature(request: httpx.Request) -> str:
    """HMAC-SHA256 over the v1 signing input, computed here from the documented layout."""
    h = request.headers
    head = "\n".join(
        [
            "pubrev-feed-v1",
            h["x-pubrev-key-id"],
            h["x-pubrev-timestamp"],
            h["x-pubrev-nonce"],
            h["x-pubrev-feed"],
            h["x-pubrev-record-id"],
        ]
    )
    material = head.encode() + b"\n" + request.content
    return "v1=" + hmac.new(SECRET, material, hashlib.sha256).hexdigest()


def test_a_delivered_record_was_signed_with_the_feeds_key_and_keeps_its_receipt(
    stack: Stack,
) -> None:
    pusher = stack.pusher()
    record_id = "记录:〔2026〕1号"
    stack.enqueue(pusher, (record_id, document()))

    assert pusher.run_once() == 1

    [request] = stack.receiver.requests
    assert str(request.url) == "https://receiver.example/feeds/sample"
    assert (
        request.content
        == json.dumps(
            document(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    )
    headers = request.headers
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-pubrev-key-id"] == "k1"
    assert headers["x-pubrev-timestamp"] == str(WALL)  # the wall clock, whole seconds
    assert len(headers["x-pubrev-nonce"]) == 32 and int(headers["x-pubrev-nonce"], 16) >= 0
    assert headers["x-pubrev-feed"] == FEED
    assert headers["x-pubrev-record-id"].isascii()
    assert unquote(headers["x-pubrev-record-id"]) == record_id
    assert headers["x-pubrev-attempt"] == "1"
    assert headers["x-pubrev-signature"] == expected_signature(request)

    status = stack.status(pusher, record_id)
    assert status.status is PushState.delivered and status.delivered_at == EPOCH
    [receipt] = status.receipts
    assert (receipt.attempt, receipt.http_status, receipt.error) == (1, 200, None)
    assert (receipt.receipt_id, receipt.key_id) == ("rcpt-1", "k1")
    assert status.receipt_id == "rcpt-1"
    assert pusher.run_once() == 0  # nothing left to send


def test_answers_that_may_pass_are_retried_with_a_growing_backoff(stack: Stack) -> None:
    pusher = stack.pusher(config(max_attempts=5))
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.answer(503, "busy")
    stack.receiver.answer(429)
    stack.receiver.answer(408)

    waits = []
    for _ in range(3):
        assert pusher.run_once() == 1
        status = stack.status(pusher, "r-1")
        assert status.status is PushState.pending
        waits.append(status.next_attempt_at - stack.clock.now)
        assert pusher.run_once() == 0  # not due before its backoff has passed
        stack.clock.now += waits[-1]
    assert pusher.run_once() == 1

    for wait, base in zip(waits, (1, 2, 4), strict=True):
        assert timedelta(seconds=0.8 * base) <= wait <= timedelta(seconds=1.2 * base)
    status = stack.status(pusher, "r-1")
    assert status.status is PushState.delivered and status.attempts == 4
    assert [(r.attempt, r.http_status) for r in status.receipts] == [
        (1, 503),
        (2, 429),
        (3, 408),
        (4, 200),
    ]
    assert status.receipts[0].error == "HTTP 503: busy"
    assert [r.headers["x-pubrev-attempt"] for r in stack.receiver.requests] == ["1", "2", "3", "4"]
    nonces = {r.headers["x-pubrev-nonce"] for r in stack.receiver.requests}
    assert len(nonces) == 4  # each attempt signed anew
    assert stack.db.parked.rows == {}


def test_a_refusal_is_dead_at_once_and_parked_and_the_feed_goes_on(stack: Stack) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document(1)), ("r-2", document(2)))
    stack.receiver.answer(422, "amount: not a number")

    assert pusher.run_once() == 2

    dead = stack.status(pusher, "r-1")
    assert dead.status is PushState.dead and dead.last_error == "HTTP 422: amount: not a number"
    assert stack.status(pusher, "r-2").status is PushState.delivered
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")
    assert entry.role == Role.push and entry.event_key == "r-1"
    assert (entry.attempts, entry.error) == (1, "HTTP 422: amount: not a number")
    assert entry.aggregate_id is None  # a dead record holds nothing behind it
    stack.clock.now += timedelta(days=1)
    assert pusher.run_once() == 0  # dead records are not tried again by themselves


def test_a_record_failing_max_attempts_times_is_dead_and_parked(stack: Stack) -> None:
    pusher = stack.pusher(config(max_attempts=2))
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.answer(500)
    stack.receiver.answer(502)

    pusher.run_once()
    stack.clock.now += timedelta(minutes=10)
    pusher.run_once()

    status = stack.status(pusher, "r-1")
    assert status.status is PushState.dead and status.attempts == 2
    assert status.last_error == "HTTP 502"
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")
    assert (entry.event_key, entry.attempts) == ("r-1", 2)


def test_no_answer_retries_the_record_and_the_rest_of_the_batch_waits_uncounted(
    stack: Stack,
) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document(1)), ("r-2", document(2)), ("r-3", document(3)))
    stack.receiver.fail(lambda request: httpx.ReadTimeout("no answer", request=request))

    assert pusher.run_once() == 1  # one request: the feed is not hammered

    first = stack.status(pusher, "r-1")
    assert first.status is PushState.pending and first.attempts == 1
    assert first.last_error == "timeout: ReadTimeout"
    [receipt] = first.receipts
    assert receipt.http_status is None
    for record_id in ("r-2", "r-3"):
        waiting = stack.status(pusher, record_id)
        assert waiting.attempts == 0 and waiting.receipts == ()  # never sent: not counted
        assert waiting.next_attempt_at == first.next_attempt_at > EPOCH

    stack.clock.now = first.next_attempt_at
    assert pusher.run_once() == 3
    # Due together, the records tried less go first.
    assert stack.receiver.record_ids() == ["r-1", "r-2", "r-3", "r-1"]


def test_a_connection_refused_is_retried_like_a_timeout(stack: Stack) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.fail(lambda request: httpx.ConnectError("refused", request=request))

    pusher.run_once()

    status = stack.status(pusher, "r-1")
    assert status.status is PushState.pending and status.last_error == "ConnectError: refused"


def test_a_record_the_client_cannot_send_is_dead_at_once_and_the_feed_goes_on(
    stack: Stack,
) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document(1)), ("r-2", document(2)))
    stack.receiver.fail(lambda request: ValueError("cannot encode this header"))

    assert pusher.run_once() == 2

    dead = stack.status(pusher, "r-1")
    assert dead.status is PushState.dead
    assert dead.last_error == "cannot send: ValueError: cannot encode this header"
    assert stack.status(pusher, "r-2").status is PushState.delivered
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")
    assert entry.event_key == "r-1"


def test_a_lease_keeps_a_claimed_record_from_others_until_it_runs_out(stack: Stack) -> None:
    pusher = stack.pusher(config(timeout_s=2.0), batch_size=5)
    stack.enqueue(pusher, ("r-1", document()))
    feed = pusher.feeds[FEED]

    assert [c.record_id for c in pusher._claim(feed)] == ["r-1"]  # then the pusher dies
    lease = timedelta(seconds=2.0 * 3 * 5 + 30)
    assert stack.status(pusher, "r-1").next_attempt_at == EPOCH + lease

    stack.clock.now = EPOCH + lease - timedelta(seconds=1)
    assert pusher.run_once() == 0  # still leased: another pusher leaves it
    stack.clock.now = EPOCH + lease
    assert pusher.run_once() == 1

    [request] = stack.receiver.requests
    assert request.headers["x-pubrev-attempt"] == "2"  # the claim that died counted
    assert stack.status(pusher, "r-1").status is PushState.delivered


def test_a_record_that_kills_its_pusher_is_dead_after_max_attempts_claims(stack: Stack) -> None:
    pusher = stack.pusher(config(max_attempts=2))
    stack.enqueue(pusher, ("r-1", document()))
    feed = pusher.feeds[FEED]
    for _ in range(2):
        assert [c.record_id for c in pusher._claim(feed)] == ["r-1"]  # then "killed"
        stack.clock.now += timedelta(hours=2)  # the lease runs out

    assert pusher.run_once() == 1

    assert stack.receiver.requests == []  # not sent a third time
    status = stack.status(pusher, "r-1")
    assert status.status is PushState.dead and status.attempts == 3
    assert status.last_error == "the pusher died sending it 2 times"
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")
    assert (entry.event_key, entry.attempts) == ("r-1", 3)


def test_an_outcome_after_the_lease_ran_out_leaves_the_record_as_the_other_pusher_left_it(
    stack: Stack,
) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.answer(422)
    slow = pusher._claim(pusher.feeds[FEED])[0]
    stack.db.push_records[(FEED, "r-1")]["status"] = "delivered"  # another pusher, later

    pusher._record(pusher.feeds[FEED], slow, pusher._send(pusher.feeds[FEED], slow))

    assert stack.status(pusher, "r-1").status is PushState.delivered
    assert stack.db.parked.rows == {}  # not parked: it is not dead


def test_one_feeds_outage_does_not_stop_another_feed(stack: Stack) -> None:
    other = config(name="other-feed", url="https://other.example/", key=FeedKey("k9", b"other"))
    pusher = stack.pusher(config(), other)
    stack.enqueue(pusher, ("r-1", document()))
    stack.enqueue(pusher, ("o-1", document()), feed="other-feed")
    stack.receiver.fail(lambda request: httpx.ConnectError("down", request=request))

    assert pusher.run_once() == 2

    assert stack.status(pusher, "r-1").status is PushState.pending
    assert stack.status(pusher, "o-1", "other-feed").status is PushState.delivered
    other_request = stack.receiver.requests[1]
    assert other_request.headers["x-pubrev-key-id"] == "k9"


# -- operators -------------------------------------------------------------------------------


def test_a_repush_queues_a_dead_record_again_and_closes_its_parked_entry(stack: Stack) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.answer(400)
    pusher.run_once()
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")

    assert pusher.repush(FEED, "r-1", by="agency=operator;role=operator;unit=putian")
    assert not pusher.repush(FEED, "no-such-record")

    closed = stack.db.parked.rows[entry.id]
    assert closed.status == Status.redriven and closed.reason == "queued again"
    assert closed.resolved_by == "agency=operator;role=operator;unit=putian"
    requeued = stack.status(pusher, "r-1")
    assert (requeued.status, requeued.attempts) == (PushState.pending, 0)
    assert pusher.run_once() == 1
    status = stack.status(pusher, "r-1")
    assert status.status is PushState.delivered
    assert [r.attempt for r in status.receipts] == [1, 1]  # a fresh count, every round kept


def test_repush_where_queues_every_dead_record_of_the_feed(stack: Stack) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document(1)), ("r-2", document(2)), ("r-3", document(3)))
    stack.receiver.answer(400)
    stack.receiver.answer(200)
    stack.receiver.answer(400)
    pusher.run_once()

    assert pusher.repush_where(FEED, PushState.dead) == ["r-1", "r-3"]
    assert stack.db.parked.open_entries(f"push:{FEED}") == []
    assert pusher.counts(FEED) == {"pending": 2, "delivered": 1, "dead": 0}


def test_a_parked_record_is_re_driven_in_the_operators_transaction(stack: Stack) -> None:
    pusher = stack.pusher()
    stack.enqueue(pusher, ("r-1", document()))
    stack.receiver.answer(400)
    pusher.run_once()
    [entry] = stack.db.parked.open_entries(f"push:{FEED}")
    missing = type(entry)(**{**entry.__dict__, "event_key": "gone"})

    with stack.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        assert pusher.redrive(cur, [entry]) == (1, None)  # type: ignore[arg-type]
        assert pusher.redrive(cur, [missing]) == (0, f"no record 'gone' in feed {FEED}")  # type: ignore[arg-type]

    assert stack.status(pusher, "r-1").status is PushState.pending
    assert pusher.workers() == [f"push:{FEED}"]
    assert pusher.run_once() == 1
