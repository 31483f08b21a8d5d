"""A stand-in for the outside receivers of the platform's outbound feeds (信用中国(福建),
market regulation, 智慧监督), for tests and `make run`.

It behaves as a careful receiver should, so the pusher is tested against the real thing.
It is written from the signing rules (servicekit.push's docstring), not from the pusher's
code, so the two check each other. `POST /feeds/<feed>`, in this order:
- 404 `unknown_feed`; 400 `feed_mismatch` when X-Pubrev-Feed does not name the feed of the
  path; 400 `no_record_id` without X-Pubrev-Record-Id (percent-encoded UTF-8);
- 401 `unsigned`: X-Pubrev-Key-Id, -Timestamp, -Nonce or -Signature missing or malformed;
- 401 `unknown_key`: the key id is none of the feed's keys (a feed holds several while its
  key is rotated);
- 401 `bad_signature`: `v1=` HMAC-SHA256 with that key over the label `pubrev-feed-v1`, the
  key id, the timestamp, the nonce, the feed of the path and the record id as sent, one per
  line, then the body, does not match: a captured request sent under another record id or
  feed, with another body or a changed timestamp ends here;
- 401 `stale`: the timestamp is more than 5 minutes (`max_skew_s`) from the receiver's
  clock, either way;
- 409 `replayed`: the nonce was seen before on this feed (nonces are kept as long as their
  request could still be fresh, so a replay is refused as replayed or as stale, never taken);
- 422 when the body breaks the feed's JSON Schema (Draft 2020-12), with the reasons;
- 200 `{"receipt_id": "..."}`; records are deduplicated by record id: a repeat (a new
  signature, as a retry or a re-push has) is answered with the receipt of the first delivery.
Refusals answer `{"error": <the code above>, "detail": <why>}`.
Knobs make it misbehave on purpose: `fail_next` (5xx), `timeout_next` (answers too late),
`refuse_next` (422).

In tests:
    with FeedReceiver(schemas={"f": schema}, keys={"f": {"k1": b"secret"}}) as receiver:
        url = receiver.feed_url("f")   # configure the pusher with it
        ...; receiver.records[("f", "r-1")]

From the command line (`make run`): one feed per `<feed>.schema.json` in the folder,
accepted records appended as JSON lines to `<out>/<feed>.jsonl`:
    python tools/feed_receiver.py --port 18080 --feeds-dir contracts/feeds
Each feed accepts its development key (id `dev`, secret `pubrev-dev-feed-secret-<feed>`,
what the services use by default) unless keys are given for it: `--keys-file keys.json`
(`{"<feed>": {"<key id>": "<secret>", ...}}`) or `--key <feed>=<key id>:<secret>`
(repeatable: two keys of one feed during a rotation).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import hmac
import json
import logging
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, cast
from urllib.parse import unquote

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
DEV_KEY_ID = "dev"
MAX_BODY = 1 << 20
MAX_SKEW_S = 300
SIGNING_LABEL = "pubrev-feed-v1"
SIGNATURE_PREFIX = "v1="
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")

Keys = Mapping[str, Mapping[str, bytes]]
"""Per feed, its accepted keys by key id."""

log = logging.getLogger("feed_receiver")


@dataclass(frozen=True)
class ReceivedRequest:
    """Every request that reached a feed, accepted or not, with the status it was answered."""

    feed: str
    record_id: str | None
    attempt: str | None
    status: int
    headers: dict[str, str]
    body: bytes
    error: str | None = None  # the refusal's code (`stale`, `replayed`, …); None if taken


@dataclass
class _Knobs:
    fail: int = 0
    fail_status: int = 503
    delay: int = 0
    delay_seconds: float = 0.0
    refuse: int = 0


@dataclass
class _Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def dev_secret(feed: str) -> bytes:
    """The development key's secret, as the services' defaults have it."""
    return f"pubrev-dev-feed-secret-{feed}".encode()


def dev_keys(feeds: list[str] | Mapping[str, Any]) -> dict[str, dict[str, bytes]]:
    """Each feed's development key: what the services sign with unless configured."""
    return {feed: {DEV_KEY_ID: dev_secret(feed)} for feed in feeds}


class FeedReceiver:
    """An HTTP receiver on 127.0.0.1, served from a background thread while open.

    `clock` (Unix seconds) is what timestamps are compared with: tests move it to make a
    request stale without waiting."""

    def __init__(
        self,
        port: int = 0,
        schemas: Mapping[str, Mapping[str, Any]] | None = None,
        keys: Keys | None = None,
        *,
        host: str = "127.0.0.1",
        sink_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        max_skew_s: int = MAX_SKEW_S,
    ) -> None:
        schemas = schemas or {}
        keys = keys or {}
        missing = set(schemas) ^ set(keys)
        if missing:
            raise ValueError(f"every feed needs a schema and its keys: {sorted(missing)}")
        self._validators = {
            feed: Draft202012Validator(dict(schema)) for feed, schema in schemas.items()
        }
        self._keys: dict[str, dict[str, bytes]] = {}
        for feed, feed_keys in keys.items():
            self.set_keys(feed, feed_keys)
        self._clock = clock
        self._max_skew_s = max_skew_s
        self._nonces: set[tuple[str, str]] = set()
        self._nonce_expiry: list[tuple[int, str, str]] = []  # heap by timestamp
        self._sink_dir = sink_dir
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._knobs = _Knobs()
        self._records: dict[tuple[str, str], Any] = {}
        self._receipts: dict[tuple[str, str], str] = {}
        self._requests: list[ReceivedRequest] = []
        self._server = _Server((host, port), _Handler)
        self._server.receiver = self
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def feeds(self) -> list[str]:
        return sorted(self._keys)

    def set_keys(self, feed: str, keys: Mapping[str, bytes]) -> None:
        """The keys a feed accepts from now on, by key id: add the new key before the
        sender switches to it, drop the old one after."""
        if not keys or not all(keys.values()):
            raise ValueError(f"feed {feed}: at least one key, and no empty secret")
        self._keys[feed] = dict(keys)

    def feed_url(self, feed: str) -> str:
        return f"{self.url}/feeds/{feed}"

    def start(self) -> FeedReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="feed-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes handlers held back by timeout_next
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FeedReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what was received -----------------------------------------------------------------

    @property
    def records(self) -> dict[tuple[str, str], Any]:
        """Accepted records by (feed, record id), each once however often it came."""
        with self._lock:
            return dict(self._records)

    @property
    def receipts(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._receipts)

    @property
    def remembered_nonces(self) -> int:
        """Nonces held against replays: only those whose requests could still be fresh."""
        with self._lock:
            return len(self._nonces)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """All requests in the order they were answered, refused ones included."""
        with self._lock:
            return list(self._requests)

    # -- misbehaviour on purpose -----------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """The next n requests are answered `status` (a receiver in trouble)."""
        with self._lock:
            self._knobs.fail, self._knobs.fail_status = n, status

    def timeout_next(self, n: int, seconds: float) -> None:
        """The next n requests are held `seconds` before they are handled as usual: a client
        with a shorter timeout gives up, though the record may still be taken (as happens)."""
        with self._lock:
            self._knobs.delay, self._knobs.delay_seconds = n, seconds

    def refuse_next(self, n: int) -> None:
        """The next n correctly signed requests are refused with 422."""
        with self._lock:
            self._knobs.refuse = n

    # -- handling --------------------------------------------------------------------------

    def handle(self, feed: str, headers: Mapping[str, str], body: bytes) -> _Answer | None:
        """Answers one POST; None when the receiver closed while holding the request."""
        delay = self._take("delay")
        if delay and self._closing.wait(self._knobs.delay_seconds):
            return None
        answer = self._answer(feed, headers, body)
        error = answer.body.get("error") if answer.status >= 300 else None
        with self._lock:
            self._requests.append(
                ReceivedRequest(
                    feed,
                    _record_id(headers),
                    headers.get("x-pubrev-attempt"),
                    answer.status,
                    dict(headers),
                    body,
                    str(error) if error else None,
                )
            )
        return answer

    def _answer(self, feed: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        if self._take("fail"):
            return _refusal(self._knobs.fail_status, "unavailable", "receiver unavailable")
        if feed not in self._keys:
            return _refusal(404, "unknown_feed", f"no feed {feed[:40]}")
        if headers.get("x-pubrev-feed") != feed:
            return _refusal(400, "feed_mismatch", "X-Pubrev-Feed does not name this feed")
        record_header = headers.get("x-pubrev-record-id")
        if not record_header:
            return _refusal(400, "no_record_id", "X-Pubrev-Record-Id is missing")
        refused = self._authenticate(feed, record_header, headers, body)
        if refused is not None:
            return refused
        if self._take("refuse"):
            return _refusal(422, "refused", "refused on purpose (refuse_next)")
        try:
            document = json.loads(body.decode("utf-8"))
        except ValueError as error:
            return _refusal(400, "not_json", f"body is not UTF-8 JSON: {error}")
        problems = [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self._validators[feed].iter_errors(document)
        ]
        if problems:
            return _refusal(422, "schema", "; ".join(sorted(problems)))
        return _Answer(200, {"receipt_id": self._accept(feed, unquote(record_header), document)})

    def _authenticate(
        self, feed: str, record_header: str, headers: Mapping[str, str], body: bytes
    ) -> _Answer | None:
        """None when the request is signed by a key of the feed, fresh and not seen before;
        else the refusal. The nonce is kept only once the signature holds: nobody without a
        key can fill the store or burn a sender's nonces."""
        key_id = headers.get("x-pubrev-key-id", "")
        timestamp = headers.get("x-pubrev-timestamp", "")
        nonce = headers.get("x-pubrev-nonce", "")
        signature = headers.get("x-pubrev-signature", "")
        missing = [
            name
            for name, value in (
                ("X-Pubrev-Key-Id", key_id),
                ("X-Pubrev-Timestamp", timestamp),
                ("X-Pubrev-Nonce", nonce),
                ("X-Pubrev-Signature", signature),
            )
            if not value
        ]
        if missing:
            return _refusal(401, "unsigned", f"missing {', '.join(missing)}")
        if not _TIMESTAMP.match(timestamp):
            return _refusal(401, "unsigned", "X-Pubrev-Timestamp must be Unix seconds")
        if not _NONCE.match(nonce):
            return _refusal(401, "unsigned", "X-Pubrev-Nonce must be 16–128 of A-Z a-z 0-9 _ -")
        secret = self._keys[feed].get(key_id)
        if secret is None:
            return _refusal(
                401, "unknown_key", f"key id {key_id[:20]!r} is not a key of feed {feed}"
            )
        material = "\n".join((SIGNING_LABEL, key_id, timestamp, nonce, feed, record_header))
        try:
            signed = material.encode("ascii") + b"\n" + body
        except UnicodeEncodeError:
            return _refusal(401, "unsigned", "signed headers must be ASCII")
        expected = SIGNATURE_PREFIX + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return _refusal(
                401,
                "bad_signature",
                f"the signature does not match key {key_id}, the timestamp, the "
                f"nonce, feed {feed}, the record id and the body",
            )
        now = int(self._clock())
        skew = int(timestamp) - now
        if abs(skew) > self._max_skew_s:
            side = "behind" if skew < 0 else "ahead of"
            return _refusal(
                401,
                "stale",
                f"timestamp {abs(skew)} s {side} the receiver's clock; at most "
                f"{self._max_skew_s} s either way",
            )
        if not self._first_use(feed, nonce, int(timestamp), now):
            return _refusal(409, "replayed", "this nonce was used before: a request is taken once")
        return None

    def _first_use(self, feed: str, nonce: str, timestamp: int, now: int) -> bool:
        """Records the nonce; False if it was there. A nonce is forgotten once a request
        with its timestamp would be stale anyway."""
        with self._lock:
            expiry = self._nonce_expiry
            while expiry and expiry[0][0] < now - self._max_skew_s:
                _, old_feed, old_nonce = heapq.heappop(expiry)
                self._nonces.discard((old_feed, old_nonce))
            if (feed, nonce) in self._nonces:
                return False
            self._nonces.add((feed, nonce))
            heapq.heappush(expiry, (timestamp, feed, nonce))
            return True

    def _accept(self, feed: str, record_id: str, document: Any) -> str:
        with self._lock:
            key = (feed, record_id)
            if key in self._receipts:
                return self._receipts[key]
            receipt = uuid.uuid4().hex
            self._receipts[key], self._records[key] = receipt, document
            self._sink(feed, record_id, receipt, document)
            return receipt

    def _sink(self, feed: str, record_id: str, receipt: str, document: Any) -> None:
        if self._sink_dir is None:
            return
        self._sink_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "record_id": record_id,
                "receipt_id": receipt,
                "received_at": datetime.now(UTC).isoformat(),
                "payload": document,
            },
            ensure_ascii=False,
        )
        with (self._sink_dir / f"{feed}.jsonl").open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def _take(self, knob: str) -> bool:
        """Uses up one count of a knob; True if it was still set."""
        with self._lock:
            left = cast(int, getattr(self._knobs, knob))
            if left <= 0:
                return False
            setattr(self._knobs, knob, left - 1)
            return True


def _record_id(headers: Mapping[str, str]) -> str | None:
    """The record id from its header, where it travels percent-encoded (UTF-8)."""
    value = headers.get("x-pubrev-record-id")
    return unquote(value) if value else None


def _refusal(status: int, code: str, detail: str) -> _Answer:
    return _Answer(status, {"error": code, "detail": detail})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: FeedReceiver


class _Handler(BaseHTTPRequestHandler):
    server_version = "pubrev-feed-receiver/1"

    def do_POST(self) -> None:
        receiver = cast(_Server, self.server).receiver
        prefix = "/feeds/"
        if not self.path.startswith(prefix):
            self._reply(_refusal(404, "unknown_feed", "POST /feeds/<feed>"))
            return
        length_header = self.headers.get("Content-Length") or ""
        length = int(length_header) if length_header.isdigit() else -1
        if not 0 <= length <= MAX_BODY:
            self._reply(_refusal(411 if length < 0 else 413, "length", "bad Content-Length"))
            return
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = receiver.handle(self.path[len(prefix) :], headers, body)
        if answer is not None:
            self._reply(answer)

    def do_GET(self) -> None:
        self._reply(_Answer(200, {"feeds": cast(_Server, self.server).receiver.feeds}))

    def _reply(self, answer: _Answer) -> None:
        data = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(answer.status, HTTPStatus(answer.status).phrase)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (timeout_next): nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        log.debug(format, *args)


# -- command line ----------------------------------------------------------------------------


def load_feeds(folder: Path) -> dict[str, dict[str, Any]]:
    """Schemas by feed name, from `<feed>.schema.json` files."""
    suffix = ".schema.json"
    return {
        path.name[: -len(suffix)]: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob(f"*{suffix}"))
    }


def configured_keys(
    schemas: Mapping[str, Any], keys_file: Path | None, key_args: list[str]
) -> dict[str, dict[str, bytes]]:
    """Each feed's keys: the file's and the arguments' where given, else its development
    key. Raises ValueError naming what is wrong (never a secret)."""
    given: dict[str, dict[str, bytes]] = {}
    if keys_file is not None:
        loaded = json.loads(keys_file.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict) or not all(
            isinstance(v, dict) and all(isinstance(s, str) for s in v.values())
            for v in loaded.values()
        ):
            raise ValueError(f"{keys_file}: expected {{feed: {{key id: secret}}}}")
        for feed, feed_keys in loaded.items():
            given.setdefault(feed, {}).update({k: s.encode() for k, s in feed_keys.items()})
    for item in key_args:
        feed, _, rest = item.partition("=")
        key_id, _, secret = rest.partition(":")
        if not (feed and key_id and secret):
            raise ValueError(f"--key {feed[:40]}=…: expected FEED=KEY_ID:SECRET")
        given.setdefault(feed, {})[key_id] = secret.encode()
    unknown = sorted(set(given) - set(schemas))
    if unknown:
        raise ValueError(f"keys given for no known feed: {', '.join(unknown)}")
    return {**dev_keys(schemas), **given}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--feeds-dir", type=Path, default=ROOT / "contracts" / "feeds")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "feeds")
    parser.add_argument("--keys-file", type=Path, help="JSON: {feed: {key id: secret}}")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="FEED=KEY_ID:SECRET",
        help="a key a feed accepts (repeat: old and new during a rotation)",
    )
    parser.add_argument("--max-skew", type=int, default=MAX_SKEW_S, metavar="SECONDS")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="feed_receiver: %(message)s")
    schemas = load_feeds(args.feeds_dir)
    if not schemas:
        log.warning("no <feed>.schema.json in %s: every POST will be answered 404", args.feeds_dir)
    try:
        keys = configured_keys(schemas, args.keys_file, args.key)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FeedReceiver(
        args.port, schemas, keys, host=args.host, sink_dir=args.out, max_skew_s=args.max_skew
    ) as receiver:
        for feed in schemas:
            log.info(
                "feed %s at %s (key ids %s), accepted records in %s",
                feed,
                receiver.feed_url(feed),
                ", ".join(sorted(keys[feed])),
                args.out / f"{feed}.jsonl",
            )
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
