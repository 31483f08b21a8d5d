"""Attachments: files (photos, scanned documents) stored once by their SHA-256 and
referenced from events by that hash (ADR 0016).

An event never carries a file's bytes (a Kafka record holds 1 MiB at most, and evidence
must not travel to every consumer): it carries an `AttachmentRef`, the hash plus what a
reader needs to show the file. The bytes live in an `AttachmentStore`, content-addressed,
so the same bytes are stored once however often they are put, and a reader can check that
what it got back is what was referenced.

What this module holds, standard library only (plus servicekit.errors), so that an
application layer may import the port and the reference without a driver, and a domain
layer the reference (the one attachment value of every service; its import-linter allowlist
names this module):
- `AttachmentRef`, the value events carry (as a plain mapping: `as_dict`, `from_dict`), and
  `MAX_ATTACHMENTS`, how many one record may carry;
- `AttachmentStore`, the port; `InMemoryAttachmentStore` for unit tests; the PostgreSQL
  adapter is `servicekit.attachments_postgres` (it imports psycopg, which the application
  layers may not reach even indirectly);
- `AttachmentLimits`: size, allowed media types checked against the content's magic bytes,
  filenames made safe;
- `Scanner`: the virus-scanner hook, `NoScanner` (development, tests) and `ClamdScanner`
  (clamd's INSTREAM over TCP); `load_scanner` reads `PUBREV_ATTACHMENT_SCANNER` and refuses
  to run production without a scanner.

Refusals are `InvalidArgument` with one field violation per broken rule (all at once),
never quoting more of an input than `errors.excerpt` does, and nothing is written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import struct
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from servicekit.errors import FieldViolation, InvalidArgument, NotFound, Validator, excerpt

log = logging.getLogger(__name__)

FIELD = "attachment"
"""The field violations name unless the caller says which (e.g. `evidence[2]`)."""

MiB = 1024 * 1024

MAX_ATTACHMENTS = 20
"""Files one record attaches at most (a finding, a statement, an objection, a complaint, an
interview...). **Local configuration**: no source sets a number; a check's photos and
ledgers rarely pass a dozen, and twenty references keep an event far below the bus's
record size (ADR 0016)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- the reference events carry ------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment as an event references it: the SHA-256 of its bytes (lower-case hex,
    the store's key), their size, the media type they were checked to be, and a filename
    made safe to show and to offer for download (`sanitise_filename`).

    Equal bytes put under the same name give equal refs; under another name, a ref that
    differs in `filename` only and names the same stored bytes."""

    sha256: str
    size: int
    media_type: str
    filename: str

    def __post_init__(self) -> None:
        # Refs are rebuilt from stored events and contract messages: a malformed one is a
        # bug (or a forgery) that must not reach a store's key.
        if _SHA256.fullmatch(self.sha256) is None:
            raise ValueError(f"sha256 must be 64 lower-case hex digits, got {excerpt(self.sha256)}")
        if self.size < 1:
            raise ValueError(f"an attachment has at least one byte, got size {self.size}")
        if not self.media_type or not self.filename:
            raise ValueError("an attachment ref names its media type and its filename")

    def as_dict(self) -> dict[str, Any]:
        """The ref as events store it: a plain mapping of its four fields (what the
        contracts' AttachmentRefV1 carries), so a stored event never names this class."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> AttachmentRef:
        """The ref a stored mapping (`as_dict`) holds; ValueError if it is malformed."""
        return cls(
            str(stored["sha256"]),
            int(stored["size"]),
            str(stored["media_type"]),
            str(stored["filename"]),
        )


# -- the port ------------------------------------------------------------------------------


class AttachmentStore(Protocol):
    """Where attachments' bytes live, keyed by their SHA-256.

    - `put` checks the bytes against the store's `AttachmentLimits` and its `Scanner`, stores
      them unless already stored, and returns their ref. Idempotent: the same bytes give the
      same ref and are stored once, whoever puts them and however often (concurrently too).
      A refusal is `InvalidArgument` (field `field`) and writes nothing; a scanner or storage
      that cannot be reached raises an error `servicekit.isolation.is_transient` recognises.
    - `get` returns the bytes after checking that they still hash to `sha256`
      (`AttachmentCorrupted`, logged, otherwise); `NotFound` when absent.
    - `exists` says whether the bytes are stored.
    `get` and `exists` refuse a malformed hash with `InvalidArgument` (field `sha256`).

    An S3-compatible adapter (MinIO, a cloud's object storage) implements it so:
    - key = `<prefix>/<sha256>`; nothing else in the key, so the key *is* the content's
      identity and two puts of the same bytes address one object;
    - `put`: the same checks and scan first (`AttachmentLimits.check`, `refuse_if_infected`),
      then PutObject with `Content-Type: <ref.media_type>`, `Content-Length`,
      `x-amz-checksum-sha256: <base64 of the digest>` (the server verifies the upload) and
      `If-None-Match: *`, so an object is written once and never overwritten: 412
      PreconditionFailed means it is stored already (success, return the ref), 409
      ConditionalRequestConflict means a concurrent put of the same key is under way
      (retry; it then answers 412). The filename stays in the ref, not in the object: one
      object serves every name the bytes were put under;
    - `get`: GetObject, NoSuchKey → `NotFound`, then the same hash check as here;
    - `exists`: HeadObject (404 → False);
    - connection failures and 5xx/SlowDown raised as (or from) `ConnectionError` or
      `TimeoutError`, so callers retry them; a bucket with versioning or Object Lock keeps
      evidence from being deleted by the service's own credentials.
    """

    def put(
        self, content: bytes, media_type: str, filename: str, *, field: str = FIELD
    ) -> AttachmentRef: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


class AttachmentCorrupted(Exception):
    """Stored bytes no longer hash to their key: the store is damaged (disk, restore, a
    hand-made UPDATE). Not a ServiceError and not transient: the caller gets INTERNAL with an
    incident id, and an operator restores the object from a backup."""

    def __init__(self, sha256: str, actual: str, size: int) -> None:
        super().__init__(
            f"attachment {sha256} is corrupted: its {size} stored bytes hash to {actual}"
        )
        self.sha256 = sha256
        self.actual = actual


def checked_key(sha256: str) -> str:
    """The store key of a hash given to `get`/`exists`, or InvalidArgument."""
    key = sha256.strip().lower()
    if _SHA256.fullmatch(key) is None:
        raise InvalidArgument(
            [
                FieldViolation(
                    "sha256",
                    "sha256_format",
                    f"an attachment's SHA-256 is 64 hex digits, got {excerpt(sha256)}",
                    "附件摘要须为64位十六进制 SHA-256 值",
                )
            ]
        )
    return key


def verify(sha256: str, content: bytes) -> bytes:
    """`content` if it hashes to `sha256`; AttachmentCorrupted (logged) otherwise."""
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        log.error(
            "attachment corrupted",
            extra={"sha256": sha256, "actual_sha256": actual, "size": len(content)},
        )
        raise AttachmentCorrupted(sha256, actual, len(content))
    return content


def not_found(sha256: str) -> NotFound:
    return NotFound(f"no attachment {sha256}", f"附件 {sha256[:12]}… 不存在")


# -- limits: size, media types by their magic bytes, filenames ------------------------------

_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    # media type: (offset, bytes) that must all be present
    "image/jpeg": ((0, b"\xff\xd8\xff"),),  # SOI marker, then the first segment's marker
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    # Strict: at the start. Readers tolerate junk before it (Acrobat looks in the first
    # 1,024 bytes); refusing that costs little and keeps polyglots out.
    "application/pdf": ((0, b"%PDF-"),),
    "image/webp": ((0, b"RIFF"), (8, b"WEBP")),
}
"""The media types this module can recognise by content. A type can be allowed only if it
is recognised here: a declared type nobody checked is just a claim."""

_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "image/webp": (".webp",),
}

_NAMES_ZH = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/pdf": "PDF",
    "image/webp": "WebP",
}


def sniff_media_type(content: bytes) -> str | None:
    """The media type `content`'s magic bytes say, among those this module knows."""
    for media_type, marks in _SIGNATURES.items():
        if all(content[at : at + len(mark)] == mark for at, mark in marks):
            return media_type
    return None


def normalise_media_type(declared: str) -> str:
    """`Image/PNG; charset=x` → `image/png`: parameters mean nothing for these types."""
    return declared.split(";", 1)[0].strip().lower()


_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(10)] + [f"LPT{i}" for i in range(10)]
)
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
DEFAULT_FILENAME = "attachment"


def sanitise_filename(name: str, media_type: str, max_chars: int = 120) -> str:
    """A filename safe to store in an event, show in a list and offer for download:
    - the last component of any path (`../../etc/passwd` → `passwd…`, `C:\\x\\y.pdf` → `y.pdf`);
    - NFC, without control or format characters (a right-to-left override, U+202E, makes
      `invoice<U+202E>gpj.exe` look like `invoiceexe.jpg`), without characters Windows forbids,
      whitespace collapsed, no leading or trailing dots or spaces, not a Windows device name;
    - ending in an extension of its media type (`report.exe` checked to be a PDF becomes
      `report.exe.pdf`), so a download opens as what it was checked to be;
    - at most `max_chars` characters, the extension kept; `attachment.<ext>` when nothing is
      left."""
    text = unicodedata.normalize("NFC", name)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _SPACES.sub(" ", text)  # tabs and line breaks become spaces before controls go
    # Cc controls, Cf format characters (bidi overrides, zero-width), surrogates, private
    # use and unassigned code points: nothing a reader should be shown.
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = _UNSAFE_CHARACTERS.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    extensions = _EXTENSIONS.get(media_type, ())
    suffix = next((e for e in extensions if text[-len(e) :].lower() == e), None)
    if suffix is None:
        suffix = extensions[0] if extensions else ""
    else:
        text = text[: -len(suffix)]
    stem = text.strip(" .") or DEFAULT_FILENAME
    if stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    # max_chars ≥ 16 (AttachmentLimits) leaves room for the default name and any extension.
    stem = stem[: max_chars - len(suffix)].rstrip(" .") or DEFAULT_FILENAME
    return stem + suffix


@dataclass(frozen=True)
class AttachmentLimits:
    """What an attachment may be. **Local configuration**: neither the work plan, DOMAIN.md
    nor a law sets these numbers; they are the platform's own choice (ADR 0016), to be
    revisited with the bureau.

    - 20 MiB: a phone photo is 2–8 MB and a scanned multi-page decision or ledger in PDF
      rarely passes 15 MB; the deployment's clamd.conf states StreamMaxLength 21M, above
      it, so every allowed file can be scanned whole;
    - JPEG, PNG, PDF and WebP: what phones, scanners and office software produce for photos
      and documents (WeChat sends JPEG or WebP). HEIC, office formats and archives are not
      accepted: they carry macros or nest other files, and cannot be shown inline;
    - filenames of at most 120 characters (after sanitising)."""

    max_bytes: int = 20 * MiB
    media_types: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"image/jpeg", "image/png", "application/pdf", "image/webp"}
        )
    )
    filename_max_chars: int = 120

    def __post_init__(self) -> None:
        unknown = sorted(self.media_types - _SIGNATURES.keys())
        if unknown:
            raise ValueError(
                f"media types {unknown} cannot be checked against their content: "
                f"allow only {sorted(_SIGNATURES)}"
            )
        if self.max_bytes < 1 or self.filename_max_chars < 16:
            raise ValueError("max_bytes ≥ 1 and filename_max_chars ≥ 16")

    def check(
        self, content: bytes, media_type: str, filename: str, *, field: str = FIELD
    ) -> AttachmentRef:
        """The ref of `content` if it is within the limits; InvalidArgument listing every
        broken rule otherwise. Nothing is hashed before the size is known to be allowed."""
        v = Validator()
        declared = normalise_media_type(media_type)
        allowed_zh = "、".join(_NAMES_ZH[t] for t in sorted(self.media_types))
        if not content:
            v.add(field, "attachment_empty", "the attachment has no content", "附件内容为空")
        elif len(content) > self.max_bytes:
            v.add(
                field,
                "attachment_too_large",
                f"at most {_size(self.max_bytes)} ({self.max_bytes} bytes), "
                f"got {len(content)} bytes",
                f"附件不得超过{_size(self.max_bytes)}",
            )
        if declared not in self.media_types:
            v.add(
                field,
                "attachment_type_not_allowed",
                f"media type {excerpt(media_type)} is not one of "
                f"{', '.join(sorted(self.media_types))}",
                f"附件类型须为{allowed_zh}",
            )
        elif content:
            found = sniff_media_type(content)
            if found != declared:
                v.add(
                    field,
                    "attachment_type_mismatch",
                    f"declared {declared}, but the content is "
                    f"{found or 'none of the allowed types'}",
                    f"附件内容与声明的类型（{_NAMES_ZH[declared]}）不符",
                )
        v.raise_if_any()
        return AttachmentRef(
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            media_type=declared,
            filename=sanitise_filename(filename, declared, self.filename_max_chars),
        )


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n} bytes"


# -- the virus-scanner hook --------------------------------------------------------------


@dataclass(frozen=True)
class ScanVerdict:
    clean: bool
    signature: str = ""
    """What the scanner found (e.g. `Eicar-Test-Signature`); empty when clean."""
    scanner: str = ""
    """Who said so: `none` when nothing scanned (NoScanner), `clamd` otherwise."""


class Scanner(Protocol):
    """Scans bytes before they are stored. Returns a verdict; raises a transient error
    (`ScannerUnavailable`) when it cannot be reached, `ScanFailed` when it answered something
    other than a verdict."""

    def scan(self, content: bytes) -> ScanVerdict: ...


class ScannerUnavailable(ConnectionError):
    """The scanner cannot be reached or did not answer in time. A ConnectionError, so
    `servicekit.isolation.is_transient` sees an outage: gRPC answers UNAVAILABLE with
    RetryInfo, and a worker retries."""


class ScanFailed(RuntimeError):
    """The scanner answered, but not with a verdict (clamd's `... ERROR`: a stream over its
    StreamMaxLength, an unreadable database). Not transient: it is a deployment fault that
    retrying does not mend, so the caller gets INTERNAL with an incident id and it is
    logged."""


class NoScanner:
    """Scans nothing and says so (`scanner="none"`). For development and tests only:
    `load_scanner` refuses it in production."""

    def scan(self, content: bytes) -> ScanVerdict:
        return ScanVerdict(clean=True, scanner="none")


CLAMD_REPLY_LIMIT = 4096
"""Bytes of a clamd reply read at most: a verdict line is short, and a peer that is not
clamd must not fill memory."""


@dataclass(frozen=True)
class ClamdScanner:
    """ClamAV's daemon, over TCP (`TCPSocket` in clamd.conf), with INSTREAM: the command
    `zINSTREAM\\0`, then the bytes in chunks each prefixed by its length (4 bytes, unsigned,
    network order), then a zero length; clamd answers `stream: OK\\0` or
    `stream: <signature> FOUND\\0` and closes. A stream longer than clamd's StreamMaxLength
    is answered `INSTREAM size limit exceeded. ERROR` (clamd may close while we still send):
    set StreamMaxLength ≥ `AttachmentLimits.max_bytes`. clamd speaks no TLS: run it beside
    the service (a sidecar, or a Service reachable only from the namespace)."""

    host: str
    port: int = 3310
    timeout_s: float = 60.0
    """Connect, and each send or receive; a 20 MiB PDF takes seconds to scan."""
    chunk_bytes: int = 64 * 1024

    def scan(self, content: bytes) -> ScanVerdict:
        reply = self._exchange(b"zINSTREAM\0", content)
        text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        if text == "stream: OK":
            return ScanVerdict(clean=True, scanner="clamd")
        if text.startswith("stream: ") and text.endswith(" FOUND"):
            return ScanVerdict(
                clean=False, signature=text[len("stream: ") : -len(" FOUND")], scanner="clamd"
            )
        log.error("clamd answered no verdict", extra={"reply": excerpt(text, 120)})
        raise ScanFailed(f"clamd at {self.host}:{self.port} answered {excerpt(text, 120)}")

    def ping(self) -> bool:
        """Whether clamd answers PING with PONG (a readiness check at start-up)."""
        try:
            return self._exchange(b"zPING\0", None).rstrip(b"\0").strip() == b"PONG"
        except ScannerUnavailable:
            return False

    def _exchange(self, command: bytes, content: bytes | None) -> bytes:
        where = f"clamd at {self.host}:{self.port}"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
                try:
                    sock.sendall(command)
                    if content is not None:
                        view = memoryview(content)
                        for start in range(0, len(view), self.chunk_bytes):
                            piece = view[start : start + self.chunk_bytes]
                            sock.sendall(struct.pack("!I", len(piece)) + piece)
                        sock.sendall(struct.pack("!I", 0))
                except (BrokenPipeError, ConnectionResetError) as error:
                    # clamd refuses an over-long stream by answering and closing: its answer
                    # is the news, if it arrived before the reset.
                    reply = _read_reply(sock, error)
                    if reply:
                        return reply
                    raise ScannerUnavailable(f"{where} closed the connection: {error}") from error
                reply = _read_reply(sock, None)
        except ScannerUnavailable:
            raise
        except OSError as error:  # refused, unreachable, timed out (TimeoutError is an OSError)
            raise ScannerUnavailable(f"{where} cannot be reached: {error}") from error
        if not reply:
            raise ScannerUnavailable(f"{where} closed the connection without an answer")
        return reply


def _read_reply(sock: socket.socket, after: OSError | None) -> bytes:
    """clamd's answer, up to its NUL, or b"" when it closed first (or reset, after `after`)."""
    reply = b""
    while b"\0" not in reply and len(reply) < CLAMD_REPLY_LIMIT:
        try:
            data = sock.recv(CLAMD_REPLY_LIMIT - len(reply))
        except (ConnectionResetError, BrokenPipeError):
            if after is not None:
                return reply
            raise
        if not data:
            break
        reply += data
    return reply.split(b"\0", 1)[0] if b"\0" in reply else reply


def refuse_if_infected(
    scanner: Scanner, content: bytes, ref: AttachmentRef, *, field: str = FIELD
) -> None:
    """Scans `content`; InvalidArgument (`attachment_infected`) if the scanner found
    something. Lets the scanner's own errors through (`ScannerUnavailable` is transient)."""
    verdict = scanner.scan(content)
    if verdict.clean:
        return
    log.warning(
        "attachment refused by the virus scanner",
        extra={"sha256": ref.sha256, "signature": verdict.signature, "scanner": verdict.scanner},
    )
    v = Validator()
    v.add(
        field,
        "attachment_infected",
        f"the virus scanner found {excerpt(verdict.signature, 64)}; the file was not stored",
        "附件未通过病毒扫描，已拒收",
    )
    v.raise_if_any()


# -- which scanner: a setting, refused in production when it scans nothing ---------------

SCANNER_SETTING = "PUBREV_ATTACHMENT_SCANNER"
"""`none` (the default: development and tests) or `clamd://<host>:<port>[?timeout=<s>]`."""


def scanner_refusals(value: str, environment: str) -> list[str]:
    """Why `value` of PUBREV_ATTACHMENT_SCANNER may not serve `environment` (none: it may),
    each naming the setting. Production must scan: NoScanner there would store whatever a
    caller sends, and nobody would notice."""
    problems = []
    parsed = _parse_scanner(value)
    if isinstance(parsed, str):
        problems.append(parsed)
    elif isinstance(parsed, NoScanner) and environment == "production":
        problems.append(
            f"{SCANNER_SETTING}={value.strip() or '(unset)'} is refused when "
            "PUBREV_ENVIRONMENT=production: attachments must be scanned; set "
            "clamd://<host>:<port>"
        )
    return problems


def load_scanner(environment: str, env: Mapping[str, str] | None = None) -> Scanner:
    """The scanner PUBREV_ATTACHMENT_SCANNER names, or ValueError naming the setting and
    every reason (never echoing more than a prefix of the value)."""
    env = os.environ if env is None else env
    value = env.get(SCANNER_SETTING, "none")
    problems = scanner_refusals(value, environment)
    parsed = _parse_scanner(value)
    if problems or isinstance(parsed, str):
        raise ValueError("attachment scanner refused: " + "; ".join(problems))
    if isinstance(parsed, NoScanner):
        log.warning(
            "attachments are not virus-scanned",
            extra={"setting": SCANNER_SETTING, "environment": environment},
        )
    return parsed


def _parse_scanner(value: str) -> NoScanner | ClamdScanner | str:
    text = value.strip()
    if text.lower() in ("", "none"):
        return NoScanner()
    parts = urlsplit(text)
    if parts.scheme != "clamd" or not parts.hostname:
        return f"{SCANNER_SETTING} must be none or clamd://<host>:<port>, got {excerpt(text)}"
    try:
        port = parts.port or 3310
    except ValueError:
        return f"{SCANNER_SETTING}: the port of {excerpt(text)} is not a port number"
    timeouts = parse_qs(parts.query).get("timeout", ["60"])
    try:
        timeout = float(timeouts[-1])
    except ValueError:
        timeout = 0.0
    if not 0 < timeout <= 600:
        return f"{SCANNER_SETTING}: timeout must be a number of seconds in (0, 600]"
    return ClamdScanner(parts.hostname, port, timeout_s=timeout)


# -- in memory: the port for unit tests ------------------------------------------------------


class InMemoryAttachmentStore:
    """The same checks, scan and idempotence as the PostgreSQL store, in a dict: for the
    services' unit tests (application on in-memory persistence)."""

    def __init__(self, *, scanner: Scanner, limits: AttachmentLimits | None = None) -> None:
        self.limits = limits or AttachmentLimits()
        self.scanner = scanner
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(
        self, content: bytes, media_type: str, filename: str, *, field: str = FIELD
    ) -> AttachmentRef:
        ref = self.limits.check(content, media_type, filename, field=field)
        with self._lock:
            if ref.sha256 in self._blobs:
                return ref
        refuse_if_infected(self.scanner, content, ref, field=field)
        with self._lock:
            self._blobs.setdefault(ref.sha256, bytes(content))
        return ref

    def get(self, sha256: str) -> bytes:
        key = checked_key(sha256)
        with self._lock:
            content = self._blobs.get(key)
        if content is None:
            raise not_found(key)
        return verify(key, content)

    def exists(self, sha256: str) -> bool:
        key = checked_key(sha256)
        with self._lock:
            return key in self._blobs
