"""servicekit.attachments (limits, magic bytes, filenames, the clamd scanner, the settings
check) and servicekit.attachments_postgres on the real PostgreSQL (marked infra)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from psycopg_pool import ConnectionPool

from servicekit.attachments import (
    AttachmentCorrupted,
    AttachmentLimits,
    AttachmentRef,
    AttachmentStore,
    ClamdScanner,
    InMemoryAttachmentStore,
    NoScanner,
    ScanFailed,
    ScannerUnavailable,
    ScanVerdict,
    load_scanner,
    sanitise_filename,
    scanner_refusals,
    sniff_media_type,
)
from servicekit.attachments_postgres import PostgresAttachmentStore
from servicekit.errors import ECHO, InvalidArgument, NotFound, as_service_error
from servicekit.isolation import is_transient

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(range(32))
MARKER = b"FAKE-VIRUS-MARKER"
"""What the fake clamd reports as infected (not EICAR: this file must not trip a real
scanner on a developer's machine)."""


def violations(error: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in error.violations]


class CountingScanner:
    def __init__(self, verdict: ScanVerdict | None = None) -> None:
        self.verdict = verdict or ScanVerdict(clean=True, scanner="test")
        self.calls = 0
        self._lock = threading.Lock()

    def scan(self, content: bytes) -> ScanVerdict:
        with self._lock:
            self.calls += 1
        return self.verdict


# -- limits --------------------------------------------------------------------------------


def test_sniffs_each_allowed_type_by_its_magic_bytes() -> None:
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(JPEG) == "image/jpeg"
    assert sniff_media_type(PDF) == "application/pdf"
    assert sniff_media_type(WEBP) == "image/webp"
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None  # RIFF, but audio
    assert sniff_media_type(b"<html><script>") is None
    assert sniff_media_type(b"  %PDF-1.7") is None  # strict: at the start
    assert sniff_media_type(b"") is None


def test_a_file_within_the_limits_gets_its_ref() -> None:
    ref = AttachmentLimits().check(PNG, "Image/PNG; charset=binary", "现场照片.png")
    assert ref == AttachmentRef(
        sha256=hashlib.sha256(PNG).hexdigest(),
        size=len(PNG),
        media_type="image/png",
        filename="现场照片.png",
    )


def test_defaults_are_twenty_mib_and_four_types() -> None:
    limits = AttachmentLimits()
    assert limits.max_bytes == 20 * 1024 * 1024
    assert limits.media_types == {"image/jpeg", "image/png", "application/pdf", "image/webp"}


def test_empty_content_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        AttachmentLimits().check(b"", "image/png", "a.png")
    assert violations(caught.value) == [("attachment", "attachment_empty")]
    assert caught.value.violations[0].description_zh == "附件内容为空"


def test_too_large_is_refused_before_anything_is_hashed() -> None:
    limits = AttachmentLimits(max_bytes=1024)
    with pytest.raises(InvalidArgument) as caught:
        limits.check(PDF + bytes(2000), "application/pdf", "a.pdf", field="evidence[2]")
    assert violations(caught.value) == [("evidence[2]", "attachment_too_large")]
    assert "1024 bytes" in caught.value.violations[0].description


def test_a_type_not_allowed_is_refused_quoting_only_a_prefix() -> None:
    declared = "text/html" + "x" * 10_000
    with pytest.raises(InvalidArgument) as caught:
        AttachmentLimits().check(b"<html>", declared, "a.html")
    assert violations(caught.value) == [("attachment", "attachment_type_not_allowed")]
    assert len(str(caught.value)) < 400
    assert "x" * (ECHO + 1) not in str(caught.value)
    assert "JPEG" in caught.value.violations[0].description_zh


def test_declared_type_must_match_the_content() -> None:
    with pytest.raises(InvalidArgument) as caught:
        AttachmentLimits().check(JPEG, "image/png", "a.png")
    assert violations(caught.value) == [("attachment", "attachment_type_mismatch")]
    assert "the content is image/jpeg" in caught.value.violations[0].description
    with pytest.raises(InvalidArgument) as caught:
        AttachmentLimits().check(b"MZ\x90\x00 an executable", "application/pdf", "a.pdf")
    assert violations(caught.value) == [("attachment", "attachment_type_mismatch")]


def test_a_type_allowed_in_general_but_not_here_is_not_allowed() -> None:
    limits = AttachmentLimits(media_types=frozenset({"application/pdf"}))
    with pytest.raises(InvalidArgument) as caught:
        limits.check(PNG, "image/png", "a.png")
    assert violations(caught.value) == [("attachment", "attachment_type_not_allowed")]


def test_every_broken_rule_at_once() -> None:
    limits = AttachmentLimits(max_bytes=16)
    with pytest.raises(InvalidArgument) as caught:
        limits.check(JPEG, "image/png", "a.png")
    assert violations(caught.value) == [
        ("attachment", "attachment_too_large"),
        ("attachment", "attachment_type_mismatch"),
    ]


def test_only_types_that_can_be_sniffed_may_be_allowed() -> None:
    with pytest.raises(ValueError, match="cannot be checked"):
        AttachmentLimits(media_types=frozenset({"image/heic"}))


def test_refs_rebuilt_from_events_are_checked() -> None:
    good = hashlib.sha256(b"x").hexdigest()
    AttachmentRef(good, 1, "image/png", "a.png")
    with pytest.raises(ValueError, match="64 lower-case hex"):
        AttachmentRef(good.upper(), 1, "image/png", "a.png")
    with pytest.raises(ValueError, match="64 lower-case hex"):
        AttachmentRef("../../etc/passwd", 1, "image/png", "a.png")
    with pytest.raises(ValueError, match="at least one byte"):
        AttachmentRef(good, 0, "image/png", "a.png")


# -- filenames -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "media_type", "expected"),
    [
        ("整改报告.pdf", "application/pdf", "整改报告.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\wang\\现场.JPG", "image/jpeg", "现场.jpg"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("invoice\u202egpj.exe", "image/png", "invoicegpj.exe.png"),
        ("a\x00b\tc\nd\u200b.png", "image/png", "ab c d.png"),
        ('what?<is>:"this"|*.pdf', "application/pdf", "what__is___this___.pdf"),
        ("report.exe", "application/pdf", "report.exe.pdf"),
        ("photo.jpg", "image/png", "photo.jpg.png"),
        ("", "image/webp", "attachment.webp"),
        ("...", "application/pdf", "attachment.pdf"),
        ("  .hidden.png  ", "image/png", "hidden.png"),
        ("CON.pdf", "application/pdf", "_CON.pdf"),
        ("nul", "image/png", "_nul.png"),
    ],
)
def test_filenames_are_made_safe(given: str, media_type: str, expected: str) -> None:
    assert sanitise_filename(given, media_type) == expected


def test_filenames_are_bounded_keeping_their_extension() -> None:
    name = sanitise_filename("检" * 500 + ".pdf", "application/pdf", max_chars=120)
    assert len(name) == 120
    assert name.endswith("检.pdf")
    ref = AttachmentLimits(filename_max_chars=40).check(PDF, "application/pdf", "x" * 10_000)
    assert len(ref.filename) == 40
    assert ref.filename.endswith(".pdf")


# -- the in-memory store ---------------------------------------------------------------------


def test_in_memory_store_round_trip_and_idempotence() -> None:
    scanner = CountingScanner()
    store: AttachmentStore = InMemoryAttachmentStore(scanner=scanner)
    first = store.put(PDF, "application/pdf", "决定书.pdf")
    again = store.put(PDF, "application/pdf", "决定书.pdf")
    renamed = store.put(PDF, "application/pdf", "copy.pdf")
    assert first == again
    assert renamed.sha256 == first.sha256
    assert renamed.filename == "copy.pdf"
    assert scanner.calls == 1  # stored bytes were scanned when first put
    assert store.exists(first.sha256)
    assert store.exists(first.sha256.upper())
    assert store.get(first.sha256) == PDF


def test_in_memory_store_not_found_and_malformed_hash() -> None:
    store = InMemoryAttachmentStore(scanner=NoScanner())
    missing = hashlib.sha256(b"never put").hexdigest()
    assert not store.exists(missing)
    with pytest.raises(NotFound):
        store.get(missing)
    with pytest.raises(InvalidArgument) as caught:
        store.get("x" * 5000)
    assert violations(caught.value) == [("sha256", "sha256_format")]
    assert len(str(caught.value)) < 300


def test_in_memory_store_refuses_and_writes_nothing() -> None:
    scanner = CountingScanner()
    store = InMemoryAttachmentStore(scanner=scanner)
    with pytest.raises(InvalidArgument):
        store.put(JPEG, "image/png", "a.png")
    assert scanner.calls == 0  # refused by the limits before any scan
    assert not store.exists(hashlib.sha256(JPEG).hexdigest())


def test_in_memory_store_detects_corruption(caplog: pytest.LogCaptureFixture) -> None:
    store = InMemoryAttachmentStore(scanner=NoScanner())
    ref = store.put(PNG, "image/png", "a.png")
    store._blobs[ref.sha256] = PNG[:-1] + b"\x00"
    with (
        caplog.at_level(logging.ERROR, logger="servicekit.attachments"),
        pytest.raises(AttachmentCorrupted) as caught,
    ):
        store.get(ref.sha256)
    assert caught.value.sha256 == ref.sha256
    assert as_service_error(caught.value) is None  # INTERNAL, with an incident id
    assert not is_transient(caught.value)
    assert any(r.getMessage() == "attachment corrupted" for r in caplog.records)


# -- clamd ---------------------------------------------------------------------------------


class FakeClamd:
    """clamd's INSTREAM on a local socket. `behaviour`: verdict (FOUND when the stream holds
    MARKER, OK otherwise), error (an ERROR line), limit (an ERROR line in mid-stream, then
    hangs up), close (hangs up without reading), silent (reads, never answers)."""

    def __init__(self, behaviour: str = "verdict") -> None:
        self.behaviour = behaviour
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.05)
        self.streams: list[bytes] = []
        self.chunk_sizes: list[list[int]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stopping.set()
        self.server.close()
        self.thread.join(5)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue  # look at `stopping` again: close() does not wake accept()
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                if self.behaviour == "close":
                    continue
                with contextlib.suppress(OSError):  # the client gave up: serve the next
                    self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        command = b""
        while not command.endswith(b"\0"):
            data = conn.recv(1)
            if not data:
                return
            command += data
        if command == b"zPING\0":
            conn.sendall(b"PONG\0")
            return
        assert command == b"zINSTREAM\0"
        if self.behaviour == "limit":
            # clamd past its StreamMaxLength: answers at once and closes while the client
            # is still sending (unread data makes the close a reset)
            self._exactly(conn, 4096)
            conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
            return
        stream, sizes = b"", []
        while True:
            (size,) = struct.unpack("!I", self._exactly(conn, 4))
            if size == 0:
                break
            sizes.append(size)
            stream += self._exactly(conn, size)
        self.streams.append(stream)
        self.chunk_sizes.append(sizes)
        if self.behaviour == "silent":
            self.stopping.wait(5)
        elif self.behaviour == "error":
            conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
        elif MARKER in stream:
            conn.sendall(b"stream: Win.Test.Fake-1 FOUND\0")
        else:
            conn.sendall(b"stream: OK\0")

    @staticmethod
    def _exactly(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            piece = conn.recv(n - len(data))
            if not piece:
                raise ConnectionError("client went away")
            data += piece
        return data


@pytest.fixture
def clamd(request: pytest.FixtureRequest) -> Iterator[FakeClamd]:
    server = FakeClamd(getattr(request, "param", "verdict"))
    yield server
    server.close()


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def test_clamd_clean_stream_in_size_prefixed_chunks(clamd: FakeClamd) -> None:
    content = PDF + bytes(2500)
    verdict = ClamdScanner("127.0.0.1", clamd.port, chunk_bytes=1000).scan(content)
    assert verdict == ScanVerdict(clean=True, scanner="clamd")
    assert clamd.streams == [content]
    assert clamd.chunk_sizes == [[1000, 1000, len(content) - 2000]]


def test_clamd_infected(clamd: FakeClamd) -> None:
    verdict = ClamdScanner("127.0.0.1", clamd.port).scan(PDF + MARKER)
    assert verdict == ScanVerdict(clean=False, signature="Win.Test.Fake-1", scanner="clamd")


def test_an_infected_file_is_refused_and_not_stored(clamd: FakeClamd) -> None:
    store = InMemoryAttachmentStore(scanner=ClamdScanner("127.0.0.1", clamd.port))
    with pytest.raises(InvalidArgument) as caught:
        store.put(PDF + MARKER, "application/pdf", "a.pdf", field="evidence[0]")
    assert violations(caught.value) == [("evidence[0]", "attachment_infected")]
    assert "Win.Test.Fake-1" in caught.value.violations[0].description
    assert caught.value.violations[0].description_zh == "附件未通过病毒扫描，已拒收"
    assert not store.exists(hashlib.sha256(PDF + MARKER).hexdigest())
    assert store.put(PDF, "application/pdf", "b.pdf").size == len(PDF)


def test_an_unreachable_clamd_is_a_transient_failure_and_nothing_is_stored() -> None:
    store = InMemoryAttachmentStore(scanner=ClamdScanner("127.0.0.1", free_port(), timeout_s=2))
    with pytest.raises(ScannerUnavailable) as caught:
        store.put(PNG, "image/png", "a.png")
    assert is_transient(caught.value)
    assert as_service_error(caught.value) is None
    assert not store.exists(hashlib.sha256(PNG).hexdigest())


@pytest.mark.parametrize("clamd", ["close"], indirect=True)
def test_clamd_hanging_up_without_an_answer_is_transient(clamd: FakeClamd) -> None:
    with pytest.raises(ScannerUnavailable) as caught:
        ClamdScanner("127.0.0.1", clamd.port, timeout_s=2).scan(PNG)
    assert is_transient(caught.value)


@pytest.mark.parametrize("clamd", ["silent"], indirect=True)
def test_clamd_not_answering_in_time_is_transient(clamd: FakeClamd) -> None:
    with pytest.raises(ScannerUnavailable) as caught:
        ClamdScanner("127.0.0.1", clamd.port, timeout_s=0.3).scan(PNG)
    assert is_transient(caught.value)


@pytest.mark.parametrize("clamd", ["error"], indirect=True)
def test_clamd_error_is_a_deployment_fault_not_a_verdict(clamd: FakeClamd) -> None:
    with pytest.raises(ScanFailed, match="size limit exceeded") as caught:
        ClamdScanner("127.0.0.1", clamd.port).scan(PNG)
    assert not is_transient(caught.value)


@pytest.mark.parametrize("clamd", ["limit"], indirect=True)
def test_clamd_refusing_in_mid_stream_is_heard_despite_the_reset(clamd: FakeClamd) -> None:
    with pytest.raises(ScanFailed, match="size limit exceeded"):
        ClamdScanner("127.0.0.1", clamd.port, timeout_s=5).scan(PDF + bytes(8 * 1024 * 1024))


def test_clamd_ping(clamd: FakeClamd) -> None:
    assert ClamdScanner("127.0.0.1", clamd.port).ping()
    assert not ClamdScanner("127.0.0.1", free_port(), timeout_s=1).ping()


# -- which scanner ---------------------------------------------------------------------------


def test_no_scanner_outside_production() -> None:
    assert isinstance(load_scanner("development", {}), NoScanner)
    assert isinstance(load_scanner("test", {"PUBREV_ATTACHMENT_SCANNER": "none"}), NoScanner)
    assert NoScanner().scan(PNG) == ScanVerdict(clean=True, scanner="none")


@pytest.mark.parametrize("value", [None, "", "none", "NONE"])
def test_production_refuses_to_scan_nothing(value: str | None) -> None:
    env = {} if value is None else {"PUBREV_ATTACHMENT_SCANNER": value}
    with pytest.raises(ValueError, match="PUBREV_ATTACHMENT_SCANNER") as caught:
        load_scanner("production", env)
    assert "PUBREV_ENVIRONMENT=production" in str(caught.value)


def test_clamd_setting() -> None:
    env = {"PUBREV_ATTACHMENT_SCANNER": "clamd://clamav.pubrev.svc:3310?timeout=30"}
    scanner = load_scanner("production", env)
    assert scanner == ClamdScanner("clamav.pubrev.svc", 3310, timeout_s=30.0)
    assert load_scanner("production", {"PUBREV_ATTACHMENT_SCANNER": "clamd://clam"}) == (
        ClamdScanner("clam", 3310)
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://clam:3310", "must be none or clamd://"),
        ("clamd://", "must be none or clamd://"),
        ("clamd://clam:99999", "not a port number"),
        ("clamd://clam:3310?timeout=0", "timeout"),
        ("clamd://clam:3310?timeout=soon", "timeout"),
    ],
)
def test_bad_scanner_settings_are_refused_everywhere(value: str, says: str) -> None:
    assert any(says in p for p in scanner_refusals(value, "development"))
    with pytest.raises(ValueError, match="PUBREV_ATTACHMENT_SCANNER"):
        load_scanner("development", {"PUBREV_ATTACHMENT_SCANNER": value})


def test_a_refused_setting_is_quoted_only_in_part() -> None:
    value = "smb://" + "s3cr3t" * 1000
    (problem,) = scanner_refusals(value, "production")
    assert len(problem) < 200
    assert "s3cr3t" * 10 not in problem


# -- PostgreSQL (the real server) -------------------------------------------------------------


@pytest.fixture
def pool(fresh_database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(fresh_database, min_size=1, max_size=8) as pool:
        yield pool


@pytest.fixture
def scanner() -> CountingScanner:
    return CountingScanner()


@pytest.fixture
def store(pool: ConnectionPool, scanner: CountingScanner) -> PostgresAttachmentStore:
    store = PostgresAttachmentStore(pool, scanner=scanner)
    store.ensure_tables()
    return store


def rows(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM attachments").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.infra
def test_postgres_round_trip(store: PostgresAttachmentStore, pool: ConnectionPool) -> None:
    big = PDF + bytes(range(256)) * (5 * 4096)  # 5 MiB and a little: out of line, binary
    ref = store.put(big, "application/pdf", "卷宗.pdf")
    assert ref.sha256 == hashlib.sha256(big).hexdigest()
    assert store.exists(ref.sha256)
    assert store.get(ref.sha256) == big
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT size, media_type, created_at IS NOT NULL FROM attachments WHERE sha256 = %s",
            (ref.sha256,),
        ).fetchone()
    assert row == (len(big), "application/pdf", True)
    missing = hashlib.sha256(b"absent").hexdigest()
    assert not store.exists(missing)
    with pytest.raises(NotFound):
        store.get(missing)


@pytest.mark.infra
def test_postgres_put_is_idempotent(
    store: PostgresAttachmentStore, pool: ConnectionPool, scanner: CountingScanner
) -> None:
    first = store.put(JPEG, "image/jpeg", "a.jpg")
    assert store.put(JPEG, "image/jpeg", "a.jpg") == first
    assert store.put(JPEG, "image/jpeg", "b.jpg").sha256 == first.sha256
    assert rows(pool) == 1
    assert scanner.calls == 1


@pytest.mark.infra
def test_postgres_refusals_write_nothing(pool: ConnectionPool) -> None:
    infected = CountingScanner(ScanVerdict(clean=False, signature="Sig", scanner="test"))
    store = PostgresAttachmentStore(pool, scanner=infected)
    store.ensure_tables()
    with pytest.raises(InvalidArgument) as caught:
        store.put(PNG, "image/png", "a.png")
    assert violations(caught.value) == [("attachment", "attachment_infected")]
    with pytest.raises(InvalidArgument):
        store.put(PNG, "application/pdf", "a.pdf")
    assert rows(pool) == 0


@pytest.mark.infra
def test_postgres_detects_corruption_on_read(
    store: PostgresAttachmentStore, pool: ConnectionPool, caplog: pytest.LogCaptureFixture
) -> None:
    ref = store.put(PNG, "image/png", "a.png")
    with pool.connection() as conn:
        conn.execute(
            "UPDATE attachments SET content = set_byte(content, 20, (get_byte(content, 20) + 1)"
            " %% 256) WHERE sha256 = %s",
            (ref.sha256,),
        )
    with (
        caplog.at_level(logging.ERROR, logger="servicekit.attachments"),
        pytest.raises(AttachmentCorrupted),
    ):
        store.get(ref.sha256)
    logged = [r for r in caplog.records if r.getMessage() == "attachment corrupted"]
    assert logged and getattr(logged[0], "sha256", None) == ref.sha256


@pytest.mark.infra
def test_postgres_concurrent_puts_of_the_same_bytes_store_once(
    store: PostgresAttachmentStore, pool: ConnectionPool
) -> None:
    content = WEBP + bytes(100_000)
    callers = 8
    start = threading.Barrier(callers)

    def put(_: int) -> AttachmentRef:
        start.wait(10)
        return store.put(content, "image/webp", "p.webp")

    with ThreadPoolExecutor(callers) as pool_of_callers:
        refs = list(pool_of_callers.map(put, range(callers)))
    assert len(set(refs)) == 1
    assert rows(pool) == 1
    assert store.get(refs[0].sha256) == content


@pytest.mark.infra
def test_postgres_tables_created_once_by_processes_starting_together(
    pool: ConnectionPool,
) -> None:
    store = PostgresAttachmentStore(pool, scanner=NoScanner())
    with ThreadPoolExecutor(6) as starters:
        list(starters.map(lambda _: store.ensure_tables(), range(6)))
    store.ensure_tables()
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'attachments'::regclass AND attname = 'content'"
        ).fetchone()
    assert row == ("e",)  # EXTERNAL: already-compressed formats are not compressed again
