"""Signed feeds without a database: servicekit.push's signing and production rules, and
tools/feed_receiver.py refusing what a captured or forged request could try (issue 10,
item 5). The pusher's side on PostgreSQL is in test_servicekit_push.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicekit.push import (
    DEV_KEY_ID,
    MAX_CLOCK_SKEW_S,
    FeedKey,
    canonical_json,
    dev_secret,
    production_refusals,
    signed_headers,
)
from tools.feed_receiver import FeedReceiver, configured_keys, dev_keys, load_feeds

FEEDS_DIR = Path(__file__).resolve().parents[3] / "contracts" / "feeds"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["n"],
    "properties": {"n": {"type": "integer"}},
}
A, B = "feed-a", "feed-b"
KEY_A, KEY_B = FeedKey("a1", b"key-of-feed-a"), FeedKey("b1", b"key-of-feed-b")
NOW = 1_780_000_000


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Iterator[FeedReceiver]:
    keys = {A: {KEY_A.key_id: KEY_A.secret}, B: {KEY_B.key_id: KEY_B.secret}}
    with FeedReceiver(schemas={A: SCHEMA, B: SCHEMA}, keys=keys, clock=clock) as receiver:
        yield receiver


def signed(
    key: FeedKey = KEY_A,
    feed: str = A,
    record_id: str = "r-1",
    n: int = 1,
    timestamp: int = NOW,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    body = canonical_json({"n": n})
    return signed_headers(key, feed, record_id, body, timestamp, nonce), body


def post(
    receiver: FeedReceiver, feed: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    response = httpx.post(receiver.feed_url(feed), content=body, headers=headers)
    return response.status_code, response.json()


def test_a_signed_fresh_request_is_taken_once(receiver: FeedReceiver) -> None:
    headers, body = signed()
    status, answer = post(receiver, A, headers, body)
    assert status == 200 and answer["receipt_id"]
    assert receiver.records == {(A, "r-1"): {"n": 1}}


@pytest.mark.parametrize("offset", [-MAX_CLOCK_SKEW_S, MAX_CLOCK_SKEW_S])
def test_five_minutes_either_way_is_still_fresh(receiver: FeedReceiver, offset: int) -> None:
    assert post(receiver, A, *signed(timestamp=NOW + offset))[0] == 200


@pytest.mark.parametrize(
    ("offset", "side"), [(-301, "behind"), (301, "ahead of"), (-86_400, "behind")]
)
def test_more_than_five_minutes_either_way_is_stale(
    receiver: FeedReceiver, offset: int, side: str
) -> None:
    status, answer = post(receiver, A, *signed(timestamp=NOW + offset))
    assert (status, answer["error"]) == (401, "stale")
    assert f"{abs(offset)} s {side} the receiver's clock" in answer["detail"]
    assert receiver.records == {}


def test_a_replay_within_the_window_is_refused_and_after_it_is_stale(
    receiver: FeedReceiver, clock: Clock
) -> None:
    headers, body = signed()
    assert post(receiver, A, headers, body)[0] == 200
    clock.now += 60
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (409, "replayed")
    clock.now += MAX_CLOCK_SKEW_S
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (401, "stale")
    assert [r.status for r in receiver.requests] == [200, 409, 401]


def test_a_nonce_is_taken_once_whatever_it_is_sent_with(receiver: FeedReceiver) -> None:
    nonce = "0123456789abcdef0123456789abcdef"
    assert post(receiver, A, *signed(record_id="r-1", nonce=nonce))[0] == 200
    status, answer = post(receiver, A, *signed(record_id="r-2", n=2, nonce=nonce))
    assert (status, answer["error"]) == (409, "replayed")
    assert set(receiver.records) == {(A, "r-1")}


def test_nonces_are_forgotten_once_their_requests_would_be_stale(
    receiver: FeedReceiver, clock: Clock
) -> None:
    for n in range(5):
        assert post(receiver, A, *signed(record_id=f"r-{n}"))[0] == 200
    assert receiver.remembered_nonces == 5
    clock.now += MAX_CLOCK_SKEW_S + 1
    assert post(receiver, A, *signed(record_id="r-5", timestamp=int(clock.now)))[0] == 200
    assert receiver.remembered_nonces == 1


@pytest.mark.parametrize("change", ["record id", "body", "timestamp", "nonce", "key id"])
def test_every_signed_field_is_bound_to_the_signature(receiver: FeedReceiver, change: str) -> None:
    headers, body = signed(timestamp=NOW - 400)  # stale: a forger would freshen it
    if change == "record id":
        headers["X-Pubrev-Record-Id"] = "r-2"
    elif change == "body":
        body = canonical_json({"n": 2})
    elif change == "timestamp":
        headers["X-Pubrev-Timestamp"] = str(NOW)
    elif change == "nonce":
        headers["X-Pubrev-Nonce"] = "f" * 32
    else:
        receiver.set_keys(A, {KEY_A.key_id: KEY_A.secret, "a2": KEY_A.secret})
        headers["X-Pubrev-Key-Id"] = "a2"
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (401, "bad_signature")
    assert receiver.records == {}


def test_a_request_for_one_feed_is_refused_by_another_even_under_one_key(
    clock: Clock,
) -> None:
    """The feed is in the signed material: even two feeds that (wrongly) shared a key would
    not take each other's requests."""
    keys = {A: {"k": b"one-key"}, B: {"k": b"one-key"}}
    with FeedReceiver(schemas={A: SCHEMA, B: SCHEMA}, keys=keys, clock=clock) as receiver:
        headers, body = signed(key=FeedKey("k", b"one-key"), feed=A)
        status, answer = post(receiver, B, headers, body)
        assert (status, answer["error"]) == (400, "feed_mismatch")
        status, answer = post(receiver, B, {**headers, "X-Pubrev-Feed": B}, body)
        assert (status, answer["error"]) == (401, "bad_signature")
        assert receiver.records == {}


def test_a_feeds_key_does_not_sign_for_another_feed(receiver: FeedReceiver) -> None:
    headers, body = signed(key=FeedKey(KEY_B.key_id, KEY_A.secret), feed=B)
    status, answer = post(receiver, B, headers, body)
    assert (status, answer["error"]) == (401, "bad_signature")


def test_an_unknown_key_id_is_refused(receiver: FeedReceiver) -> None:
    status, answer = post(receiver, A, *signed(key=FeedKey("a9", KEY_A.secret)))
    assert (status, answer["error"]) == (401, "unknown_key")
    assert "'a9'" in answer["detail"] and A in answer["detail"]


def test_during_a_rotation_both_keys_are_taken_then_only_the_new_one(
    receiver: FeedReceiver,
) -> None:
    new = FeedKey("a2", b"key-of-feed-a-2026")
    receiver.set_keys(A, {KEY_A.key_id: KEY_A.secret, new.key_id: new.secret})
    assert post(receiver, A, *signed(key=KEY_A, record_id="r-1"))[0] == 200
    assert post(receiver, A, *signed(key=new, record_id="r-2"))[0] == 200
    receiver.set_keys(A, {new.key_id: new.secret})
    status, answer = post(receiver, A, *signed(key=KEY_A, record_id="r-3"))
    assert (status, answer["error"]) == (401, "unknown_key")
    assert post(receiver, A, *signed(key=new, record_id="r-4"))[0] == 200


def test_a_body_only_signature_is_refused(receiver: FeedReceiver) -> None:
    """The signature of old, over the body alone, signs nothing here."""
    body = canonical_json({"n": 1})
    headers = {
        "X-Pubrev-Feed": A,
        "X-Pubrev-Record-Id": "r-1",
        "X-Pubrev-Signature": "sha256=" + hmac.new(KEY_A.secret, body, hashlib.sha256).hexdigest(),
    }
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (401, "unsigned")
    assert answer["detail"] == "missing X-Pubrev-Key-Id, X-Pubrev-Timestamp, X-Pubrev-Nonce"
    headers.update(
        {
            "X-Pubrev-Key-Id": KEY_A.key_id,
            "X-Pubrev-Timestamp": str(NOW),
            "X-Pubrev-Nonce": "0" * 32,
        }
    )
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (401, "bad_signature")


@pytest.mark.parametrize(
    ("header", "value", "why"),
    [
        ("X-Pubrev-Timestamp", "2026-03-02T09:00:00Z", "Unix seconds"),
        ("X-Pubrev-Timestamp", "-5", "Unix seconds"),
        ("X-Pubrev-Nonce", "short", "16–128"),
    ],
)
def test_malformed_signing_headers_are_refused(
    receiver: FeedReceiver, header: str, value: str, why: str
) -> None:
    headers, body = signed()
    status, answer = post(receiver, A, {**headers, header: value}, body)
    assert (status, answer["error"]) == (401, "unsigned") and why in answer["detail"]


def test_a_missing_record_id_is_a_bad_request(receiver: FeedReceiver) -> None:
    headers, body = signed()
    del headers["X-Pubrev-Record-Id"]
    status, answer = post(receiver, A, headers, body)
    assert (status, answer["error"]) == (400, "no_record_id")


def test_the_signature_is_v1_hmac_over_the_documented_lines() -> None:
    key = FeedKey("k1", b"secret")
    headers = signed_headers(
        key,
        "creditchina",
        "记录:1",
        b'{"a":1}',
        1_780_000_000,
        nonce="00112233445566778899aabbccddeeff",
    )
    material = (
        b"pubrev-feed-v1\nk1\n1780000000\n00112233445566778899aabbccddeeff\n"
        b"creditchina\n%E8%AE%B0%E5%BD%95:1\n"
        b'{"a":1}'
    )
    assert headers == {
        "X-Pubrev-Key-Id": "k1",
        "X-Pubrev-Timestamp": "1780000000",
        "X-Pubrev-Nonce": "00112233445566778899aabbccddeeff",
        "X-Pubrev-Feed": "creditchina",
        "X-Pubrev-Record-Id": "%E8%AE%B0%E5%BD%95:1",
        "X-Pubrev-Signature": "v1=" + hmac.new(b"secret", material, hashlib.sha256).hexdigest(),
    }
    assert (
        signed_headers(key, "f", "r", b"{}", 1)["X-Pubrev-Nonce"]
        != signed_headers(key, "f", "r", b"{}", 1)["X-Pubrev-Nonce"]
    )


@pytest.mark.parametrize(
    ("key_id", "secret", "match"),
    [
        ("", b"s", "key id"),
        ("k 1", b"s", "key id"),
        ("k\n1", b"s", "key id"),
        ("k1\n", b"s", "key id"),
        ("k" * 65, b"s", "key id"),
        ("k1", b"", "empty secret"),
    ],
)
def test_a_feed_key_needs_a_header_safe_id_and_a_secret(
    key_id: str, secret: bytes, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        FeedKey(key_id, secret)


def test_a_feed_keys_secret_stays_out_of_its_repr() -> None:
    assert "hidden" not in repr(FeedKey("k1", b"hidden"))


STRONG = "x" * 32
NOT_HTTPS = "URL must be an https:// URL in production, not "


@pytest.mark.parametrize(
    ("url", "secret", "problems"),
    [
        ("https://receiver.example/feeds/a", STRONG, []),
        ("HTTPS://receiver.example/feeds/a", STRONG, []),
        ("http://receiver.example/feeds/a", STRONG, [NOT_HTTPS + "http://"]),
        ("receiver.example/feeds/a", STRONG, [NOT_HTTPS + "one without a scheme"]),
        ("https://receiver.example/", dev_secret("a"), ["SECRET is a development secret"]),
        ("https://receiver.example/", "pubrev-dev-feed-secret", ["SECRET is a development secret"]),
        ("https://receiver.example/", "x" * 31, ["SECRET is shorter than 32 bytes"]),
        ("http://u:pw@receiver.example/", "changeme", ["URL must be", "SECRET is shorter"]),
    ],
)
def test_production_refuses_http_and_development_or_short_secrets(
    url: str, secret: str, problems: list[str]
) -> None:
    found = production_refusals("URL", url, "SECRET", secret)
    assert len(found) == len(problems)
    for message, expected in zip(found, problems, strict=True):
        assert message.startswith(expected)
        assert secret not in message and "pw" not in message


def test_the_receivers_development_keys_are_the_services_defaults() -> None:
    feeds = load_feeds(FEEDS_DIR)
    assert set(feeds) == {"creditchina", "market", "zhihui"}
    assert dev_keys(feeds) == {feed: {DEV_KEY_ID: dev_secret(feed).encode()} for feed in feeds}


def test_receiver_keys_from_a_file_and_arguments_replace_the_development_ones(
    tmp_path: Path,
) -> None:
    feeds = {"creditchina": {}, "market": {}}
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"creditchina": {"2026-01": "old", "2026-07": "new"}}))
    keys = configured_keys(feeds, keys_file, ["market=m1:market-key"])
    assert keys == {
        "creditchina": {"2026-01": b"old", "2026-07": b"new"},
        "market": {"m1": b"market-key"},
    }
    assert configured_keys(feeds, None, [])["market"] == {DEV_KEY_ID: dev_secret("market").encode()}
    with pytest.raises(ValueError, match="no known feed: zhihui"):
        configured_keys(feeds, None, ["zhihui=z1:k"])
    with pytest.raises(ValueError, match="FEED=KEY_ID:SECRET"):
        configured_keys(feeds, None, ["market=only-a-secret"])
