"""Reliable outbound push: records enqueued in the service's database, POSTed to receivers.

A feed is a receiver outside the platform that takes JSON records over HTTPS. Pushing
straight from a projection would lose records when the receiver is down and re-send them
when the projection retries, so the push is split in two:

1. `PushOutbox.enqueue(cur, …)` writes the record into `push_records` with the cursor of
   the caller's transaction. Called from a projection's `apply`, the record commits together
   with the read model and the projector's position: each record is enqueued exactly once,
   and a replay of the same record id is a no-op.
2. `Pusher.run_once()` claims due records, POSTs each one signed with the feed's key and
   keeps a receipt of every attempt in `push_receipts` (what was sent when, with which key,
   and what the receiver answered). Failures that may pass are retried with exponential
   backoff; refusals are parked as `dead` for an operator, who can `repush` them after a fix.

A record the pusher cannot send for reasons of its own (anything but the receiver's answer
or the network: say a value the HTTP client refuses) is dead at once, like a refusal, and
the feed goes on; a record that kills the pusher every time it is sent dies after
`max_attempts` claims (its attempts are counted in the database when it is claimed, before
it is sent). Every record that dies is parked (servicekit.isolation, role `push`) with its
last error, where the operators' `parked`, `redrive` and `skip` find it with the other
workers' parked events; `repush` and `repush_where` re-queue records and close their parked
entries.

Delivery is at least once: a pusher that dies after the receiver accepted a record but
before recording it sends the record again after its lease expires. The stable record id
(header `X-Pubrev-Record-Id`) lets the receiver answer such a repeat with its first receipt.

Signing (version v1). Each attempt is signed anew: HMAC-SHA256, with the feed's own key,
over `signing_input` — the key id, the wall-clock time in Unix seconds, a random nonce, the
feed, the record id and the body — sent as

    X-Pubrev-Key-Id: <key id>          X-Pubrev-Timestamp: <Unix seconds>
    X-Pubrev-Nonce: <32 hex digits>    X-Pubrev-Signature: v1=<hex HMAC-SHA256>
    X-Pubrev-Feed: <feed>              X-Pubrev-Record-Id: <percent-encoded record id>

so a captured request cannot be re-aimed: under another record id or feed, or with another
body, its signature fails; later than `MAX_CLOCK_SKEW_S` it is stale; within that window
the receiver has seen its nonce. Each feed has its own key (`Pusher` refuses two feeds
sharing one), and the key id lets a receiver hold the old and the new key while a key is
rotated: the receiver adds the new key, the sender switches to it, the receiver drops the
old one. `X-Pubrev-Attempt` is informational and not signed. `tools/feed_receiver.py`
checks all this, as the real receivers are asked to.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from psycopg import Cursor
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from servicekit.aio import wait_or_stop
from servicekit.clock import Clock, utc_now
from servicekit.isolation import Candidate, ParkedEvent, ParkedStore, Role, Status, short_error

log = logging.getLogger(__name__)

WallClock = Callable[[], float]
"""Unix seconds (time.time): what a signature's timestamp is read from."""

SIGNATURE_HEADER = "X-Pubrev-Signature"
KEY_ID_HEADER = "X-Pubrev-Key-Id"
TIMESTAMP_HEADER = "X-Pubrev-Timestamp"
NONCE_HEADER = "X-Pubrev-Nonce"
FEED_HEADER = "X-Pubrev-Feed"
RECORD_ID_HEADER = "X-Pubrev-Record-Id"
ATTEMPT_HEADER = "X-Pubrev-Attempt"
CONTENT_TYPE = "application/json; charset=utf-8"

SIGNATURE_VERSION = "v1"
SIGNING_LABEL = "pubrev-feed-v1"
MAX_CLOCK_SKEW_S = 300
"""How far a request's timestamp may be from the receiver's clock, either way, before it is
refused as stale: the receivers' rule (tools/feed_receiver.py applies it), stated here so
that the pusher's side and the receivers' agree on it."""
NONCE_BYTES = 16

DEV_KEY_ID = "dev"
DEV_SECRET_PREFIX = "pubrev-dev-feed-secret"  # noqa: S105 (the mark of the published ones)
MIN_PRODUCTION_SECRET_BYTES = 32
"""HMAC-SHA256 is as strong as its key up to the hash's 32 bytes."""

FIRST_BACKOFF_S = 1.0
BACKOFF_FACTOR = 2.0
MAX_BACKOFF_S = 300.0
JITTER = 0.2
RESPONSE_BODY_LIMIT = 2000
"""Characters of a receiver's answer kept in a receipt: enough to read an error message,
never enough for a misbehaving receiver to fill the database."""

# Used with fullmatch: `$` would let a trailing newline through, into headers and the
# signed lines.
_FEED_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_RECORD_ID = re.compile(r"[^\x00-\x1f\x7f]{1,200}")  # any text but control characters
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

DDL = (
    """
    CREATE TABLE IF NOT EXISTS push_records (
        feed text NOT NULL,
        record_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error text,
        delivered_at timestamptz,
        PRIMARY KEY (feed, record_id)
    )
    """,
    # Only pending records are ever claimed: a partial index stays small however many
    # delivered records pile up over the years.
    """
    CREATE INDEX IF NOT EXISTS push_records_due
        ON push_records (feed, next_attempt_at) WHERE status = 'pending'
    """,
    # A serial id, not (feed, record_id, attempt): a repush starts counting attempts again,
    # and the receipts of every round are kept.
    """
    CREATE TABLE IF NOT EXISTS push_receipts (
        id bigserial PRIMARY KEY,
        feed text NOT NULL,
        record_id text NOT NULL,
        attempt int NOT NULL,
        at timestamptz NOT NULL,
        http_status int,
        error text,
        response_body text,
        receipt_id text,
        FOREIGN KEY (feed, record_id) REFERENCES push_records (feed, record_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS push_receipts_record ON push_receipts (feed, record_id, id)",
    # Which key signed the attempt: during a rotation, which side of it a refusal was on.
    "ALTER TABLE push_receipts ADD COLUMN IF NOT EXISTS key_id text",
)


TABLES = ("push_records", "push_receipts")


class PushState(StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class InvalidRecord(ValueError):
    """A record its feed's schema refuses: a bug in the code that built it, never pushed."""


class UnknownFeed(KeyError):
    """A feed name no FeedConfig was given for."""


@dataclass(frozen=True)
class FeedKey:
    """The key a feed is signed with now. Its id travels in X-Pubrev-Key-Id, so that a
    receiver holding the old and the new key during a rotation knows which one to check."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(
                f"key id {self.key_id[:20]!r}: 1–64 letters, digits, . _ - (it travels in a header)"
            )
        if not self.secret:
            raise ValueError(f"key {self.key_id}: an empty secret signs nothing")


def dev_secret(feed: str) -> str:
    """The development secret of a feed, for `make run` and tests with tools/feed_receiver.py.
    It is in this repository, so production refuses it (`production_refusals`)."""
    return f"{DEV_SECRET_PREFIX}-{feed}"


def production_refusals(url_setting: str, url: str, secret_setting: str, secret: str) -> list[str]:
    """Why one feed's settings may not serve in production, each naming its setting (none:
    they may). The URL must be https: over http the records, their signatures and the
    receiver's answers travel in clear, to a receiver nobody authenticated. The secret must
    not be a development one (published here) and must hold 32 bytes or more. Neither value
    is echoed: a URL may carry credentials, and a secret is a secret."""
    problems = []
    scheme = urlsplit(url).scheme.lower()
    if scheme != "https":
        problems.append(
            f"{url_setting} must be an https:// URL in production, not "
            f"{scheme + '://' if scheme else 'one without a scheme'}"
        )
    if secret.startswith(DEV_SECRET_PREFIX):
        problems.append(
            f"{secret_setting} is a development secret, published in the "
            "repository: set the key agreed with the receiver"
        )
    elif len(secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
        problems.append(f"{secret_setting} is shorter than {MIN_PRODUCTION_SECRET_BYTES} bytes")
    return problems


@dataclass(frozen=True)
class FeedConfig:
    """One receiver: where records go, the feed's own key that signs them, and the JSON
    Schema (Draft 2020-12) every record must satisfy before it is even enqueued."""

    name: str
    url: str
    key: FeedKey
    schema: Mapping[str, Any]
    max_attempts: int = 8
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not _FEED_NAME.fullmatch(self.name):
            raise ValueError(f"feed name {self.name!r}: use lower-case letters, digits, . _ -")
        if urlsplit(self.url).scheme.lower() not in ("http", "https"):
            raise ValueError(f"feed {self.name}: url must be http(s), got {self.url[:40]!r}")
        if self.max_attempts < 1 or self.timeout_s <= 0:
            raise ValueError(f"feed {self.name}: max_attempts ≥ 1 and timeout_s > 0")
        # A broken schema fails the service at start, not the first record at run time.
        Draft202012Validator.check_schema(dict(self.schema))

    @cached_property
    def validator(self) -> Any:
        return Draft202012Validator(dict(self.schema))

    def document(self, record_id: str, payload: Any) -> Any:
        """The payload as the receiver will see it (after a JSON round trip), validated."""
        if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(record_id):
            raise InvalidRecord(
                f"feed {self.name}: record id {record_id!r} must be 1–200 characters,"
                " no control characters"
            )
        try:
            document = json.loads(canonical_json(payload))
        except (TypeError, ValueError) as error:
            raise InvalidRecord(
                f"feed {self.name}, record {record_id}: not JSON: {error}"
            ) from error
        problems = sorted(self.validator.iter_errors(document), key=_where)
        if problems:
            details = "; ".join(f"{_where(p)}: {p.message}" for p in problems)
            raise InvalidRecord(f"feed {self.name}, record {record_id}: {details}")
        return document


def _where(error: Any) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def canonical_json(payload: Any) -> bytes:
    """The one rendering of a payload that is signed and sent: sorted keys, no spaces,
    UTF-8 as is (Chinese stays readable in receipts and logs), no NaN (not JSON)."""
    text = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def header_record_id(record_id: str) -> str:
    """The record id as it travels in X-Pubrev-Record-Id: percent-encoded UTF-8 (RFC 3986),
    since ids may hold Chinese and header values are ASCII. Ids of letters, digits and
    - . _ ~ : / @ travel unchanged; a receiver decodes with `urllib.parse.unquote`."""
    return quote(record_id, safe=":/@!$&'()*+,;=")


def signing_input(
    key_id: str, timestamp: int, nonce: str, feed: str, record_id_header: str, body: bytes
) -> bytes:
    """What a v1 signature covers: the label `pubrev-feed-v1`, the key id, the timestamp
    (Unix seconds, decimal), the nonce, the feed, the record id as it travels in its header
    (percent-encoded), each followed by a newline, then the exact body bytes. None of the
    fields can hold a newline, so no two requests share an input."""
    head = "\n".join((SIGNING_LABEL, key_id, str(timestamp), nonce, feed, record_id_header))
    return head.encode("ascii") + b"\n" + body


def sign(
    key: FeedKey, timestamp: int, nonce: str, feed: str, record_id_header: str, body: bytes
) -> str:
    """The value of X-Pubrev-Signature: `v1=` and the hex HMAC-SHA256 of `signing_input`."""
    material = signing_input(key.key_id, timestamp, nonce, feed, record_id_header, body)
    return f"{SIGNATURE_VERSION}={hmac.new(key.secret, material, hashlib.sha256).hexdigest()}"


def signed_headers(
    key: FeedKey, feed: str, record_id: str, body: bytes, timestamp: int, nonce: str | None = None
) -> dict[str, str]:
    """The headers that authenticate one request (a fresh random nonce unless given)."""
    nonce = nonce if nonce is not None else secrets.token_hex(NONCE_BYTES)
    record_header = header_record_id(record_id)
    return {
        KEY_ID_HEADER: key.key_id,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        FEED_HEADER: feed,
        RECORD_ID_HEADER: record_header,
        SIGNATURE_HEADER: sign(key, timestamp, nonce, feed, record_header, body),
    }


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Wait before the retry that follows attempt `attempt` (1-based): 1 s, 2 s, 4 s … capped
    at 5 min, each ± up to 20% so that records failed together do not retry together."""
    base = min(FIRST_BACKOFF_S * BACKOFF_FACTOR ** max(attempt - 1, 0), MAX_BACKOFF_S)
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=base * spread)


def _check_feeds(feeds: Mapping[str, FeedConfig]) -> dict[str, FeedConfig]:
    owners: dict[bytes, str] = {}
    for name, config in feeds.items():
        if name != config.name:
            raise ValueError(f"feed {config.name!r} registered under another name: {name!r}")
        other = owners.setdefault(config.key.secret, name)
        if other != name:
            # One key for two feeds lets whoever holds one receiver's key sign for the other.
            raise ValueError(
                f"feeds {other} and {name} share one secret: each feed has its own key"
            )
    return dict(feeds)


class PushOutbox:
    """Enqueues records inside the caller's transaction (a projection's `apply`)."""

    def __init__(self, feeds: Mapping[str, FeedConfig], clock: Clock = utc_now) -> None:
        self.feeds = _check_feeds(feeds)
        self.clock = clock

    @staticmethod
    def create_tables(cur: Cursor[Any]) -> None:
        """Creates the push tables when missing. An advisory lock serialises the DDL: two
        processes starting together would otherwise race on CREATE TABLE IF NOT EXISTS."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('servicekit.push.ddl'))")
        for statement in DDL:
            cur.execute(statement)
        ParkedStore.create_tables(cur)  # where a record that dies is parked

    def enqueue(self, cur: Cursor[Any], feed: str, record_id: str, payload: Any) -> bool:
        """Validates the record and queues it for pushing; True if it was new.

        Runs in the transaction of `cur` (commits or rolls back with it). A record id
        already queued is left as it is: records are immutable, a correction is a new
        record with a new id. Raises InvalidRecord (a bug: fix the code, nothing is queued).
        """
        document = self._feed(feed).document(record_id, payload)
        now = self.clock()
        cur.execute(
            "INSERT INTO push_records (feed, record_id, payload, created_at, status, "
            "attempts, next_attempt_at) VALUES (%s, %s, %s, %s, 'pending', 0, %s) "
            "ON CONFLICT (feed, record_id) DO NOTHING RETURNING 1",
            (feed, record_id, Jsonb(document), now, now),
        )
        if cur.fetchone() is not None:
            return True
        cur.execute(
            "SELECT payload = %s FROM push_records WHERE feed = %s AND record_id = %s",
            (Jsonb(document), feed, record_id),
        )
        same = cur.fetchone()
        if same is not None and not same[0]:
            log.warning(
                "record already queued with another payload; the first one stands",
                extra={"feed": feed, "record_id": record_id},
            )
        return False

    def _feed(self, feed: str) -> FeedConfig:
        try:
            return self.feeds[feed]
        except KeyError:
            raise UnknownFeed(feed) from None


@dataclass(frozen=True)
class Receipt:
    """One attempt: when it was sent and what came back (http_status None: no answer)."""

    attempt: int
    at: datetime
    http_status: int | None
    error: str | None
    response_body: str | None
    receipt_id: str | None
    key_id: str | None = None  # None: sent before keys had ids


@dataclass(frozen=True)
class PushStatus:
    feed: str
    record_id: str
    status: PushState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    receipts: tuple[Receipt, ...]

    @property
    def receipt_id(self) -> str | None:
        """The receiver's id of the record, from the latest accepted attempt."""
        accepted = [r.receipt_id for r in self.receipts if r.receipt_id is not None]
        return accepted[-1] if accepted else None


class Verdict(StrEnum):
    delivered = "delivered"
    refused = "refused"  # the receiver will never take it: dead at once
    retry = "retry"  # the receiver answered but could not take it now
    unreachable = "unreachable"  # no answer: the rest of the feed's batch waits too


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    http_status: int | None = None
    error: str | None = None
    response_body: str | None = None
    receipt_id: str | None = None


@dataclass(frozen=True)
class _Claimed:
    record_id: str
    payload: Any
    attempt: int


class Pusher:
    """Sends due records of its feeds; many pushers may share one table.

    A record is claimed (row lock, SKIP LOCKED) and leased by moving its next_attempt_at
    past the time its send can take; the HTTP call then runs outside any transaction, so a
    slow receiver holds no locks and no connection. Another pusher skips leased records.

    `clock` schedules (attempts, backoff, leases, receipts; tests move it); `wall_clock` is
    the real time a signature carries, which the receiver compares with its own.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        feeds: Mapping[str, FeedConfig],
        clock: Clock = utc_now,
        *,
        batch_size: int = 20,
        rng: random.Random | None = None,
        client: httpx.Client | None = None,
        wall_clock: WallClock = time.time,
    ) -> None:
        self.pool = pool
        self.feeds = _check_feeds(feeds)
        self.clock = clock
        self.wall_clock = wall_clock
        self.batch_size = batch_size
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self.client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None
        self.parking = ParkedStore(pool)
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            PushOutbox.create_tables(cur)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Pusher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Sends one batch of due records per feed; returns how many requests it made."""
        return sum(self._push_feed(config) for config in self.feeds.values())

    async def run(self, stop: asyncio.Event, idle: float = 0.2) -> None:
        """Pushes until `stop` is set (the projector role's task), like Projector.run."""
        log.info("pusher started", extra={"feeds": sorted(self.feeds)})
        pause = 0.5
        while not stop.is_set():
            try:
                sent = await asyncio.to_thread(self.run_once)
                pause = 0.5
            except Exception as error:  # database away: retry, never drop
                log.warning("push batch failed; will retry", extra={"error": repr(error)})
                await wait_or_stop(stop, pause)
                pause = min(pause * 2, 10.0)
                continue
            if sent == 0:
                await wait_or_stop(stop, idle)
        log.info("pusher stopped")

    def _push_feed(self, feed: FeedConfig) -> int:
        claimed = self._claim(feed)
        for index, record in enumerate(claimed):
            if record.attempt > feed.max_attempts:
                # Claimed more often than it may be tried, and no outcome was ever recorded:
                # the pusher died sending it, each time. Not sent again.
                self._record(
                    feed,
                    record,
                    _Outcome(
                        Verdict.refused,
                        error=f"the pusher died sending it {record.attempt - 1} times",
                    ),
                )
                continue
            try:
                outcome = self._send(feed, record)
            except Exception as error:
                # Not the receiver's answer nor the network (those are outcomes): this
                # record cannot be sent (the HTTP client refuses something in it). It is
                # dead at once and the feed goes on.
                outcome = _Outcome(Verdict.refused, error=f"cannot send: {short_error(error, 200)}")
            retry_at = self._record(feed, record, outcome)
            if outcome.verdict is Verdict.unreachable:
                # One timeout per feed and round, not one per record: the rest wait with it.
                resume_at = retry_at or self.clock() + backoff(1, self.rng)
                self._release(feed, claimed[index + 1 :], resume_at)
                return index + 1
        return len(claimed)

    def _claim(self, feed: FeedConfig) -> list[_Claimed]:
        now = self.clock()
        # Long enough for every send of the batch to time out in each phase (connect, write,
        # read); a pusher that dies holding a lease delays its records by this much.
        lease = timedelta(seconds=feed.timeout_s * 3 * self.batch_size + 30)
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "WITH due AS ("
                " SELECT feed, record_id FROM push_records"
                " WHERE feed = %(feed)s AND status = 'pending' AND next_attempt_at <= %(now)s"
                " ORDER BY next_attempt_at, attempts, created_at LIMIT %(limit)s"
                " FOR UPDATE SKIP LOCKED) "
                "UPDATE push_records AS r SET attempts = r.attempts + 1,"
                " next_attempt_at = %(lease_until)s "
                "FROM due WHERE r.feed = due.feed AND r.record_id = due.record_id "
                "RETURNING r.record_id, r.payload, r.attempts",
                {
                    "feed": feed.name,
                    "now": now,
                    "limit": self.batch_size,
                    "lease_until": now + lease,
                },
            )
            rows = cur.fetchall()
        return [_Claimed(row[0], row[1], row[2]) for row in rows]

    def _send(self, feed: FeedConfig, record: _Claimed) -> _Outcome:
        body = canonical_json(record.payload)
        # Signed now, for this attempt: a retry or a repush carries a fresh timestamp and
        # nonce, so it is neither stale nor taken for a replay of the attempt before.
        headers = {
            "Content-Type": CONTENT_TYPE,
            **signed_headers(feed.key, feed.name, record.record_id, body, int(self.wall_clock())),
            ATTEMPT_HEADER: str(record.attempt),
        }
        try:
            response = self.client.post(
                feed.url, content=body, headers=headers, timeout=feed.timeout_s
            )
        except httpx.TimeoutException as error:
            return _Outcome(Verdict.unreachable, error=f"timeout: {type(error).__name__}")
        except httpx.HTTPError as error:
            return _Outcome(Verdict.unreachable, error=f"{type(error).__name__}: {error}")
        return _judge(response)

    def _record(self, feed: FeedConfig, record: _Claimed, outcome: _Outcome) -> datetime | None:
        """Keeps the receipt and moves the record on; returns when it will be retried."""
        now = self.clock()
        retry_at: datetime | None = None
        dead = False
        key = {"feed": feed.name, "record_id": record.record_id, "now": now, "error": outcome.error}
        if outcome.verdict is Verdict.delivered:
            update = (
                "status = 'delivered', delivered_at = %(now)s, last_error = NULL,"
                " next_attempt_at = %(now)s"
            )
        elif outcome.verdict is Verdict.refused or record.attempt >= feed.max_attempts:
            update = "status = 'dead', last_error = %(error)s, next_attempt_at = %(now)s"
            dead = True
            log.warning(
                "record is dead; an operator may repush it after a fix",
                extra={**key, "attempts": record.attempt},
            )
        else:
            retry_at = now + backoff(record.attempt, self.rng)
            update = "last_error = %(error)s, next_attempt_at = %(retry_at)s"
            key["retry_at"] = retry_at
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO push_receipts (feed, record_id, attempt, at, http_status, error,"
                " response_body, receipt_id, key_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    feed.name,
                    record.record_id,
                    record.attempt,
                    now,
                    outcome.http_status,
                    outcome.error,
                    outcome.response_body,
                    outcome.receipt_id,
                    feed.key.key_id,
                ),
            )
            # A record no longer pending (another pusher took it after our lease ran out)
            # keeps its state.
            cur.execute(
                f"UPDATE push_records SET {update} "  # noqa: S608 (fixed fragments above)
                "WHERE feed = %(feed)s AND record_id = %(record_id)s AND status = 'pending'",
                key,
            )
            if dead and cur.rowcount == 1:
                self.parking.park(
                    Role.push,
                    push_worker(feed.name),
                    Candidate(key=record.record_id),
                    outcome.error or "dead",
                    record.attempt,
                    cur,
                )
        return retry_at

    def _release(self, feed: FeedConfig, records: Sequence[_Claimed], retry_at: datetime) -> None:
        """Gives back claimed records that were never sent: not an attempt, so not counted."""
        if not records:
            return
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "UPDATE push_records SET attempts = attempts - 1, next_attempt_at = %s"
                " WHERE feed = %s AND record_id = ANY(%s) AND status = 'pending'",
                (retry_at, feed.name, [r.record_id for r in records]),
            )

    # -- operators -------------------------------------------------------------------------

    def repush(self, feed: str, record_id: str, by: str = "") -> bool:
        """Queues a record again, due now, with a fresh count of attempts (after the
        receiver or the data was fixed, or the receiver lost it). False: no such record."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            found = bool(self._requeue(cur, feed, [record_id], by))
        if found:
            log.info("record queued again", extra={"feed": feed, "record_id": record_id})
        return found

    def repush_where(
        self, feed: str, status: PushState, since: datetime | None = None, by: str = ""
    ) -> list[str]:
        """Queues again every record of the feed in `status` (enqueued at or after `since`,
        when given); returns their ids, oldest first."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "SELECT record_id FROM push_records WHERE feed = %s AND status = %s"
                " AND (%s::timestamptz IS NULL OR created_at >= %s) ORDER BY created_at,"
                " record_id FOR UPDATE",
                (feed, status.value, since, since),
            )
            ids = [str(r[0]) for r in cur.fetchall()]
            self._requeue(cur, feed, ids, by)
        log.info(
            "records queued again",
            extra={"feed": feed, "status": status.value, "since": since, "records": len(ids)},
        )
        return ids

    def _requeue(self, cur: Cursor[Any], feed: str, record_ids: Sequence[str], by: str) -> int:
        if not record_ids:
            return 0
        cur.execute(
            "UPDATE push_records SET status = 'pending', attempts = 0,"
            " next_attempt_at = %s, delivered_at = NULL"
            " WHERE feed = %s AND record_id = ANY(%s)",
            (self.clock(), feed, list(record_ids)),
        )
        count = cur.rowcount
        cur.execute(
            "SELECT id FROM parked_events WHERE worker = %s AND event_key = ANY(%s)"
            " AND status = 'parked'",
            (push_worker(feed), list(record_ids)),
        )
        ParkedStore.close(
            cur,
            [int(r[0]) for r in cur.fetchall()],
            Status.redriven,
            by or "repush",
            "queued again",
        )
        return count

    # -- isolation: the operators' re-drive of a parked (dead) record -------------------------

    role = Role.push

    def workers(self) -> list[str]:
        return [push_worker(name) for name in self.feeds]

    def redrive(self, cur: Cursor[Any], chain: Sequence[ParkedEvent]) -> tuple[int, str | None]:
        """Queues the parked records again (in the operator's transaction); they are sent
        by the pusher's next round. A dead record holds nothing behind it."""
        for index, entry in enumerate(chain):
            feed = entry.worker.removeprefix("push:")
            cur.execute(
                "UPDATE push_records SET status = 'pending', attempts = 0,"
                " next_attempt_at = %s, delivered_at = NULL"
                " WHERE feed = %s AND record_id = %s",
                (self.clock(), feed, entry.event_key),
            )
            if cur.rowcount != 1:
                return index, f"no record {entry.event_key[:60]!r} in feed {feed}"
        return len(chain), None

    def status(self, feed: str, record_id: str) -> PushStatus | None:
        """Where a record stands, with the receipt of every attempt, oldest first."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT status, attempts, next_attempt_at, last_error, delivered_at"
                " FROM push_records WHERE feed = %s AND record_id = %s",
                (feed, record_id),
            ).fetchone()
            if row is None:
                return None
            receipts = conn.execute(
                "SELECT attempt, at, http_status, error, response_body, receipt_id, key_id"
                " FROM push_receipts WHERE feed = %s AND record_id = %s ORDER BY id",
                (feed, record_id),
            ).fetchall()
        return PushStatus(
            feed=feed,
            record_id=record_id,
            status=PushState(row[0]),
            attempts=row[1],
            next_attempt_at=row[2],
            last_error=row[3],
            delivered_at=row[4],
            receipts=tuple(Receipt(*r) for r in receipts),
        )

    def counts(self, feed: str) -> dict[str, int]:
        """Records of a feed by status; every status present, zero included."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM push_records WHERE feed = %s GROUP BY status",
                (feed,),
            ).fetchall()
        result = {state.value: 0 for state in PushState}
        result.update({status: int(count) for status, count in rows})
        return result


def push_worker(feed: str) -> str:
    """The name a feed's parked records are listed under."""
    return f"push:{feed}"


def _judge(response: httpx.Response) -> _Outcome:
    """2xx: taken. 408/429 and 5xx: try again later. Any other 4xx: refused for good —
    the receiver read the record and said no, so sending it again changes nothing."""
    status = response.status_code
    text = response.text[:RESPONSE_BODY_LIMIT]
    if 200 <= status < 300:
        return _Outcome(Verdict.delivered, status, None, text, _receipt_id(response))
    error = f"HTTP {status}: {text[:200]}" if text else f"HTTP {status}"
    if 400 <= status < 500 and status not in (408, 429):
        return _Outcome(Verdict.refused, status, error, text)
    return _Outcome(Verdict.retry, status, error, text)


def _receipt_id(response: httpx.Response) -> str | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    receipt = answer.get("receipt_id") if isinstance(answer, dict) else None
    return str(receipt) if isinstance(receipt, str | int) and receipt != "" else None
