"""A stand-in for the outside receivers of the platform's outbound feeds (信用中国(福建),
market regulation, 智慧监督), for tests and `make run`.

It behaves as a careful receiver should, so the pusher is tested against the real thing:
- `POST /feeds/<feed>`: the HMAC-SHA256 signature over the body bytes (header
  `X-Pubrev-Signature: sha256=<hex>`) must match the feed's secret, else 401;
- the body must satisfy the feed's JSON Schema (Draft 2020-12), else 422 with the reason;
- records are deduplicated by `X-Pubrev-Record-Id` (percent-encoded UTF-8): a repeat is
  answered 200 with the receipt id of the first delivery;
- the answer is `{"receipt_id": "..."}`.
Knobs make it misbehave on purpose: `fail_next` (5xx), `timeout_next` (answers too late),
`refuse_next` (422).

In tests:
    with FeedReceiver(schemas={"f": schema}, secrets={"f": b"secret"}) as receiver:
        url = receiver.feed_url("f")   # configure the pusher with it
        ...; receiver.records[("f", "r-1")]

From the command line (`make run`): one feed per `<feed>.schema.json` in the folder,
accepted records appended as JSON lines to `<out>/<feed>.jsonl`:
    python tools/feed_receiver.py --port 18080 --feeds-dir contracts/feeds
The secret is `--secret` (or PUBREV_FEED_SECRET) for every feed, `--feed-secret f=…` for one.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Mapping
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
DEFAULT_SECRET = "pubrev-dev-feed-secret"  # noqa: S105 (development receiver only)
MAX_BODY = 1 << 20

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


class FeedReceiver:
    """An HTTP receiver on 127.0.0.1, served from a background thread while open."""

    def __init__(
        self,
        port: int = 0,
        schemas: Mapping[str, Mapping[str, Any]] | None = None,
        secrets: Mapping[str, bytes] | None = None,
        *,
        host: str = "127.0.0.1",
        sink_dir: Path | None = None,
    ) -> None:
        schemas = schemas or {}
        secrets = secrets or {}
        missing = set(schemas) ^ set(secrets)
        if missing:
            raise ValueError(f"every feed needs a schema and a secret: {sorted(missing)}")
        self._validators = {
            feed: Draft202012Validator(dict(schema)) for feed, schema in schemas.items()
        }
        self._secrets = dict(secrets)
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
        return sorted(self._secrets)

    def feed_url(self, feed: str) -> str:
        return f"{self.url}/feeds/{feed}"

    def start(self) -> FeedReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="feed-receiver", daemon=True,
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
        with self._lock:
            self._requests.append(ReceivedRequest(
                feed, _record_id(headers), headers.get("x-pubrev-attempt"),
                answer.status, dict(headers), body,
            ))
        return answer

    def _answer(self, feed: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        if self._take("fail"):
            return _Answer(self._knobs.fail_status, {"error": "receiver unavailable"})
        if feed not in self._secrets:
            return _Answer(404, {"error": f"no feed {feed}"})
        if headers.get("x-pubrev-feed") != feed:
            return _Answer(400, {"error": "X-Pubrev-Feed does not name this feed"})
        if not _signed(self._secrets[feed], body, headers.get("x-pubrev-signature", "")):
            return _Answer(401, {"error": "bad signature"})
        record_id = _record_id(headers)
        if not record_id:
            return _Answer(400, {"error": "X-Pubrev-Record-Id is missing"})
        if self._take("refuse"):
            return _Answer(422, {"error": "refused on purpose (refuse_next)"})
        try:
            document = json.loads(body.decode("utf-8"))
        except ValueError as error:
            return _Answer(400, {"error": f"body is not UTF-8 JSON: {error}"})
        problems = [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self._validators[feed].iter_errors(document)
        ]
        if problems:
            return _Answer(422, {"error": "; ".join(sorted(problems))})
        return _Answer(200, {"receipt_id": self._accept(feed, record_id, document)})

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
        line = json.dumps({
            "record_id": record_id, "receipt_id": receipt,
            "received_at": datetime.now(UTC).isoformat(), "payload": document,
        }, ensure_ascii=False)
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


def _signed(secret: bytes, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: FeedReceiver


class _Handler(BaseHTTPRequestHandler):
    server_version = "pubrev-feed-receiver/1"

    def do_POST(self) -> None:
        receiver = cast(_Server, self.server).receiver
        prefix = "/feeds/"
        if not self.path.startswith(prefix):
            self._reply(_Answer(404, {"error": "POST /feeds/<feed>"}))
            return
        length = int(self.headers.get("Content-Length") or -1)
        if not 0 <= length <= MAX_BODY:
            self._reply(_Answer(411 if length < 0 else 413, {"error": "bad Content-Length"}))
            return
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = receiver.handle(self.path[len(prefix):], headers, body)
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

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


# -- command line ----------------------------------------------------------------------------


def load_feeds(folder: Path) -> dict[str, dict[str, Any]]:
    """Schemas by feed name, from `<feed>.schema.json` files."""
    suffix = ".schema.json"
    return {
        path.name[: -len(suffix)]: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob(f"*{suffix}"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--feeds-dir", type=Path, default=ROOT / "contracts" / "feeds")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "feeds")
    parser.add_argument("--secret", default=os.environ.get("PUBREV_FEED_SECRET", DEFAULT_SECRET))
    parser.add_argument("--feed-secret", action="append", default=[], metavar="FEED=SECRET")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="feed_receiver: %(message)s")
    schemas = load_feeds(args.feeds_dir)
    if not schemas:
        log.warning("no <feed>.schema.json in %s: every POST will be answered 404", args.feeds_dir)
    secrets = {feed: args.secret.encode() for feed in schemas}
    for item in args.feed_secret:
        feed, _, secret = item.partition("=")
        if feed not in schemas:
            parser.error(f"--feed-secret names no known feed: {feed}")
        secrets[feed] = secret.encode()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FeedReceiver(args.port, schemas, secrets, host=args.host, sink_dir=args.out) as receiver:
        for feed in schemas:
            log.info("feed %s at %s, accepted records in %s", feed, receiver.feed_url(feed),
                     args.out / f"{feed}.jsonl")
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
