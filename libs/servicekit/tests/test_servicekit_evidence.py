"""servicekit.evidence: pubrev.common.v1.EvidenceService through servicekit's real gRPC server
in-process (the development identity header, the bounds, the error mapping), over the
in-memory store and uploads; then the uploads table and the store on the real PostgreSQL
(marked infra).

The policy here is a test's own, shaped as the services declare theirs: a bureau uploads
for its unit (the city for any), a company its own evidence; the bureau of the unit, the
city and the company itself download."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from psycopg_pool import ConnectionPool

from pubrev.common.v1 import evidence_pb2 as pb
from pubrev.common.v1 import evidence_pb2_grpc as pb_grpc
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.attachments import (
    AttachmentRef,
    InMemoryAttachmentStore,
    MiB,
    NoScanner,
    ScanVerdict,
)
from servicekit.attachments_postgres import PostgresAttachmentStore
from servicekit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from servicekit.evidence import (
    CLIENT_OPTIONS,
    GET,
    SERVICE_NAME,
    UPLOAD,
    UPLOADS_READ,
    EvidenceDesk,
    InMemoryUploads,
    PostgresUploads,
    Upload,
    WhoMayRead,
    nobody,
    postgres_desk,
    register,
    serve_beside,
)
from servicekit.grpc_kit import IDENTITY_HEADER, MAX_RECEIVE_MESSAGE_BYTES, GrpcServer
from servicekit.identity import Identity, IdentityRules
from servicekit.policy import Grant, Policy, Resource, Rule, Scope
from servicekit.settings import ServiceSettings

RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
USCC = "91350200776049653A"
OTHER_USCC = "91110000600037341L"

BUREAU = Identity("property-bureau", "inspector", "chengxiang")
OTHER_BUREAU = Identity("property-bureau", "inspector", "licheng")
CITY_BUREAU = Identity("property-bureau", "officer", "putian")
COMPANY = Identity("property-company", "manager", "chengxiang", USCC)
OTHER_COMPANY = Identity("property-company", "manager", "chengxiang", OTHER_USCC)
DISCIPLINE = Identity("discipline", "supervisor", "chengxiang")

POLICY = Policy(
    "evidence-test",
    [
        Rule(
            UPLOAD,
            (
                Grant("property-bureau", (), (Scope.JURISDICTION,)),
                Grant("property-company", (), (Scope.OWN_COMPANY,)),
            ),
            "a bureau for its unit (the city for any); a company its own evidence",
        ),
        Rule(
            GET,
            (
                Grant("property-bureau", (), (Scope.JURISDICTION,)),
                Grant("property-company", (), (Scope.OWN_COMPANY,)),
            ),
            "the bureau of the unit, the city; the company its own",
        ),
    ],
    city=CITY,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


class CountingScanner:
    def __init__(self, verdict: ScanVerdict | None = None) -> None:
        self.verdict = verdict or ScanVerdict(clean=True, scanner="test")
        self.calls = 0

    def scan(self, content: bytes) -> ScanVerdict:
        self.calls += 1
        return self.verdict


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def desk(who_may_read: WhoMayRead = nobody, scanner: CountingScanner | None = None) -> EvidenceDesk:
    return EvidenceDesk(
        POLICY,
        InMemoryAttachmentStore(scanner=scanner or CountingScanner()),
        InMemoryUploads(),
        RULES,
        who_may_read,
        clock=Clock(),
    )


def violations(error: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in error.violations]


# -- the desk -----------------------------------------------------------------------------------


def test_an_upload_is_the_store_s_ref_and_a_retry_gets_it_again() -> None:
    scanner = CountingScanner()
    d = desk(scanner=scanner)
    ref = d.upload(BUREAU, "r-1", PNG, "image/png", "../公告栏.png")
    assert ref == AttachmentRef(
        hashlib.sha256(PNG).hexdigest(), len(PNG), "image/png", "公告栏.png"
    )
    assert d.upload(BUREAU, "r-1", PNG, "image/png", "../公告栏.png") == ref
    assert scanner.calls == 1
    # Other uploads of the same bytes name the same stored file (scanned once).
    again = d.upload(CITY_BUREAU, "r-2", PNG, "image/png", "photo.png", "chengxiang")
    assert (again.sha256, again.filename) == (ref.sha256, "photo.png")
    assert scanner.calls == 1
    assert [u.request_id for u in d.uploads.of(ref.sha256)] == ["r-1", "r-2"]


@pytest.mark.parametrize(
    ("caller", "content", "media_type", "filename", "unit"),
    [
        (CITY_BUREAU, JPEG, "image/jpeg", "x.png", "chengxiang"),  # other bytes
        (CITY_BUREAU, PNG, "image/png", "other.png", "chengxiang"),  # another name
        (CITY_BUREAU, PNG, "Image/PNG", "x.png", "chengxiang"),  # the type as sent
        (BUREAU, PNG, "image/png", "x.png", "chengxiang"),  # another caller
        (CITY_BUREAU, PNG, "image/png", "x.png", "hanjiang"),  # another unit
    ],
)
def test_a_request_id_reused_for_anything_else_is_already_exists(
    caller: Identity, content: bytes, media_type: str, filename: str, unit: str
) -> None:
    d = desk()
    first = d.upload(CITY_BUREAU, "r-1", PNG, "image/png", "x.png", "chengxiang")
    with pytest.raises(AlreadyExists, match="already used") as refused:
        d.upload(caller, "r-1", content, media_type, filename, unit)
    assert "请求编号" in refused.value.message_zh
    recorded = d.uploads.find("r-1")
    assert recorded is not None and recorded.ref == first


def test_the_caller_s_own_unit_named_or_not_is_the_same_request() -> None:
    d = desk()
    first = d.upload(BUREAU, "r-1", PNG, "image/png", "x.png")
    assert d.upload(BUREAU, "r-1", PNG, "image/png", "x.png", "chengxiang") == first


def test_an_upload_raced_by_another_with_the_same_request_id_gets_the_first_s_answer() -> None:
    d = desk()
    theirs = d.upload(BUREAU, "r-1", PNG, "image/png", "x.png")
    # As if both had found no upload under the id before storing: the second's record loses.
    d.uploads.find = lambda request_id: None  # type: ignore[method-assign]
    assert d.upload(BUREAU, "r-1", PNG, "image/png", "x.png") == theirs
    with pytest.raises(AlreadyExists):
        d.upload(BUREAU, "r-1", JPEG, "image/jpeg", "x.jpg")


def test_the_store_s_refusals_name_the_content_and_record_nothing() -> None:
    d = desk()
    with pytest.raises(InvalidArgument) as caught:
        d.upload(BUREAU, "r-1", PNG, "application/pdf", "x.pdf")
    assert violations(caught.value) == [("content", "attachment_type_mismatch")]
    with pytest.raises(InvalidArgument) as caught:
        d.upload(BUREAU, "r-2", b"MZ\x90\x00", "application/x-msdownload", "x.exe")
    assert violations(caught.value) == [("content", "attachment_type_not_allowed")]
    with pytest.raises(InvalidArgument) as caught:
        d.upload(BUREAU, "r-3", b"", "image/png", "x.png")
    assert violations(caught.value) == [("content", "attachment_empty")]
    infected = desk(scanner=CountingScanner(ScanVerdict(False, "Test-Sig", "test")))
    with pytest.raises(InvalidArgument) as caught:
        infected.upload(BUREAU, "r-4", PNG, "image/png", "x.png")
    assert violations(caught.value) == [("content", "attachment_infected")]
    assert [d.uploads.find(r) for r in ("r-1", "r-2", "r-3")] == [None, None, None]
    assert infected.uploads.find("r-4") is None
    assert not infected.store.exists(hashlib.sha256(PNG).hexdigest())


def test_an_upload_names_a_known_unit_and_carries_a_request_id() -> None:
    d = desk()
    with pytest.raises(InvalidArgument) as caught:
        d.upload(CITY_BUREAU, "", PNG, "image/png", "x.png", "atlantis")
    assert violations(caught.value) == [("request_id", "required"), ("unit", "unknown_unit")]


@pytest.mark.parametrize(
    ("who", "unit"),
    [
        (OTHER_BUREAU, "chengxiang"),  # another unit's records
        (DISCIPLINE, ""),  # no grant
        (Identity("police", "officer", "chengxiang", "putian-psb-cx"), ""),
        (Identity("public", "anonymous", "putian", via="provincial-app"), ""),
    ],
)
def test_who_may_not_upload(who: Identity, unit: str) -> None:
    d = desk()
    with pytest.raises(PermissionDenied):
        d.upload(who, "r-1", PNG, "image/png", "x.png", unit)
    assert d.uploads.find("r-1") is None
    assert not d.store.exists(hashlib.sha256(PNG).hexdigest())


def test_an_upload_is_read_by_the_bureau_of_its_unit_the_city_and_the_uploader() -> None:
    d = desk()
    by_company = d.upload(COMPANY, "r-1", PDF, "application/pdf", "整改报告.pdf")
    by_bureau = d.upload(CITY_BUREAU, "r-2", PNG, "image/png", "现场.png", "chengxiang")
    for who in (BUREAU, CITY_BUREAU, COMPANY):
        found = d.download(who, by_company.sha256)
        assert (found.ref, found.content) == (by_company, PDF)
    for who in (OTHER_BUREAU, OTHER_COMPANY, DISCIPLINE):
        with pytest.raises(PermissionDenied):
            d.download(who, by_company.sha256)
    # The bureau's photo is its unit's record: the company has no say in it (yet).
    assert d.download(BUREAU, by_bureau.sha256).content == PNG
    with pytest.raises(PermissionDenied):
        d.download(COMPANY, by_bureau.sha256)


def test_an_upload_may_name_the_company_its_records_are_about() -> None:
    d = desk()
    photo = d.upload(BUREAU, "r-1", PNG, "image/png", "现场.png", company=USCC)
    assert d.download(COMPANY, photo.sha256).content == PNG
    with pytest.raises(PermissionDenied):
        d.download(OTHER_COMPANY, photo.sha256)
    # A company names none but itself (naming itself is what it does by default).
    with pytest.raises(PermissionDenied):
        d.upload(COMPANY, "r-2", PDF, "application/pdf", "x.pdf", company=OTHER_USCC)
    own = d.upload(COMPANY, "r-3", PDF, "application/pdf", "x.pdf", company=USCC)
    assert d.upload(COMPANY, "r-3", PDF, "application/pdf", "x.pdf") == own
    recorded = d.uploads.find("r-3")
    assert recorded is not None and (recorded.unit, recorded.company) == ("chengxiang", USCC)


def test_a_record_referencing_a_file_opens_it_to_whoever_may_read_the_record() -> None:
    finding = Resource(unit="chengxiang", company=USCC, community="CX-0001")
    store = InMemoryAttachmentStore(scanner=NoScanner())
    ref = store.put(JPEG, "image/jpeg", "x.jpg")  # e.g. stored before uploads were recorded
    asked: list[str] = []

    def who_may_read(sha256: str) -> Iterable[Resource]:
        asked.append(sha256)
        return [finding] if sha256 == ref.sha256 else []

    d = EvidenceDesk(POLICY, store, InMemoryUploads(), RULES, who_may_read)
    found = d.download(COMPANY, ref.sha256.upper())
    assert found.content == JPEG
    assert found.ref == AttachmentRef(ref.sha256, len(JPEG), "image/jpeg", "attachment.jpg")
    assert asked == [ref.sha256]
    with pytest.raises(PermissionDenied):
        d.download(OTHER_COMPANY, ref.sha256)
    # Without the record, nobody.
    alone = EvidenceDesk(POLICY, store, InMemoryUploads(), RULES)
    with pytest.raises(PermissionDenied):
        alone.download(CITY_BUREAU, ref.sha256)


def test_a_file_never_stored_looks_like_a_forbidden_one() -> None:
    d = desk()
    ref = d.upload(BUREAU, "r-1", PNG, "image/png", "x.png")
    with pytest.raises(PermissionDenied) as forbidden:
        d.download(OTHER_BUREAU, ref.sha256)
    with pytest.raises(PermissionDenied) as missing:
        d.download(OTHER_BUREAU, hashlib.sha256(b"absent").hexdigest())
    assert missing.value.message == forbidden.value.message


def test_a_referenced_file_missing_from_the_store_is_not_found_to_its_readers() -> None:
    absent = hashlib.sha256(b"absent").hexdigest()
    d = desk(lambda sha256: [Resource(unit="chengxiang")])
    with pytest.raises(NotFound):
        d.download(BUREAU, absent)


def test_a_malformed_hash_is_a_field_error() -> None:
    with pytest.raises(InvalidArgument) as caught:
        desk().download(BUREAU, "not-a-hash")
    assert violations(caught.value) == [("sha256", "sha256_format")]


def test_uploads_of_one_file_are_read_earliest_first_and_bounded() -> None:
    uploads = InMemoryUploads()
    ref = AttachmentRef(hashlib.sha256(PNG).hexdigest(), len(PNG), "image/png", "x.png")
    start = datetime(2026, 7, 1, tzinfo=UTC)
    for n in reversed(range(UPLOADS_READ + 5)):
        uploads.add(Upload(f"r-{n}", "f", ref, "chengxiang", "", BUREAU, start + timedelta(n)))
    found = uploads.of(ref.sha256)
    assert len(found) == UPLOADS_READ
    assert [u.request_id for u in found[:2]] == ["r-0", "r-1"]


def test_facts_of_an_upload_put_the_uploader_s_subject_where_its_kind_goes() -> None:
    d = desk()
    committee = Identity("owners-committee", "member", "chengxiang", "CX-0001")
    police = Identity("police", "officer", "chengxiang", "putian-psb-cx")
    assert d.facts("hanjiang", "", COMPANY) == Resource(unit="hanjiang", company=USCC)
    assert d.facts("hanjiang", OTHER_USCC, COMPANY) == Resource("hanjiang", OTHER_USCC)
    assert d.facts("chengxiang", "", committee) == Resource("chengxiang", community="CX-0001")
    assert d.facts("chengxiang", "", police) == Resource("chengxiang", office="putian-psb-cx")
    assert d.facts("chengxiang", "", BUREAU) == Resource(unit="chengxiang")
    assert d.facts("chengxiang", USCC, BUREAU) == Resource(unit="chengxiang", company=USCC)


# -- through gRPC ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(d: EvidenceDesk) -> AsyncIterator[pb_grpc.EvidenceServiceStub]:
    settings = ServiceSettings(
        service="evidence-test", environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    register(d)(server.server)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=list(CLIENT_OPTIONS)
        ) as channel:
            yield pb_grpc.EvidenceServiceStub(channel)
    finally:
        await server.stop(0)


def who(identity: Identity) -> tuple[tuple[str, str], ...]:
    return ((IDENTITY_HEADER, identity.render()),)


def bad_request(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = status_pb2.Status()
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status.ParseFromString(value)
    found = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found += [(v.field, v.reason) for v in request.field_violations]
    return found


def upload_request(content: bytes = PNG, **fields: str) -> pb.UploadAttachmentRequest:
    values = {"request_id": "r-1", "media_type": "image/png", "filename": "x.png", **fields}
    return pb.UploadAttachmentRequest(content=content, **values)


async def test_upload_then_download_over_grpc() -> None:
    async with serving(desk()) as stub:
        sent = await stub.UploadAttachment(
            upload_request(filename="C:\\现场\\公告栏.PNG"), metadata=who(BUREAU)
        )
        ref = sent.attachment
        assert (ref.sha256, ref.size, ref.media_type, ref.filename) == (
            hashlib.sha256(PNG).hexdigest(),
            len(PNG),
            "image/png",
            "公告栏.png",
        )
        again = await stub.UploadAttachment(
            upload_request(filename="C:\\现场\\公告栏.PNG"), metadata=who(BUREAU)
        )
        assert again == sent
        got = await stub.GetAttachment(
            pb.GetAttachmentRequest(sha256=ref.sha256), metadata=who(CITY_BUREAU)
        )
        assert got.content == PNG
        assert got.attachment == ref


async def test_denied_callers_over_grpc() -> None:
    async with serving(desk()) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(upload_request(), metadata=who(DISCIPLINE))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                upload_request(unit="chengxiang"), metadata=who(OTHER_BUREAU)
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        ref = (await stub.UploadAttachment(upload_request(), metadata=who(BUREAU))).attachment
        for caller in (OTHER_BUREAU, COMPANY):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetAttachment(
                    pb.GetAttachmentRequest(sha256=ref.sha256), metadata=who(caller)
                )
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetAttachment(pb.GetAttachmentRequest(sha256=ref.sha256))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_requests_out_of_their_bounds_are_field_errors() -> None:
    async with serving(desk()) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetAttachment(
                pb.GetAttachmentRequest(sha256="ABC" * 20), metadata=who(BUREAU)
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request(refused.value) == [("sha256", "string.pattern")]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                pb.UploadAttachmentRequest(filename="x" * 256, unit="Chengxiang", company="9135"),
                metadata=who(BUREAU),
            )
        assert sorted(bad_request(refused.value)) == [
            ("company", "string.pattern"),
            ("content", "required"),
            ("filename", "string.max_len"),
            ("media_type", "required"),
            ("request_id", "required"),
            ("unit", "string.pattern"),
        ]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                upload_request(PDF, media_type="image/png"), metadata=who(BUREAU)
            )
        assert bad_request(refused.value) == [("content", "attachment_type_mismatch")]
        await stub.UploadAttachment(upload_request(request_id="r-9"), metadata=who(BUREAU))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                upload_request(JPEG, request_id="r-9", media_type="image/jpeg"),
                metadata=who(BUREAU),
            )
        assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_twenty_mib_go_through_and_one_byte_more_is_refused_by_the_bounds() -> None:
    """The contract's bytes.max_len refuses it before the desk runs (the store's own
    attachment_too_large stays the check of callers that skip the interceptor)."""
    limit = 20 * MiB
    largest = PNG + bytes(limit - len(PNG))
    async with serving(desk()) as stub:
        sent = await stub.UploadAttachment(upload_request(largest), metadata=who(BUREAU))
        assert sent.attachment.size == limit
        got = await stub.GetAttachment(
            pb.GetAttachmentRequest(sha256=sent.attachment.sha256), metadata=who(BUREAU)
        )
        assert got.content == largest
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                upload_request(largest + b"\0", request_id="r-2"), metadata=who(BUREAU)
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request(refused.value) == [("content", "bytes.max_len")]
        # Past the server's limit on a message, the transport refuses before anything runs.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadAttachment(
                upload_request(bytes(MAX_RECEIVE_MESSAGE_BYTES), request_id="r-3"),
                metadata=who(BUREAU),
            )
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_the_store_runs_in_a_worker_thread() -> None:
    d = desk()
    threads: list[int] = []
    put = d.store.put

    def recording_put(*args: Any, **kwargs: Any) -> AttachmentRef:
        threads.append(threading.get_ident())
        return put(*args, **kwargs)

    d.store.put = recording_put  # type: ignore[method-assign]
    async with serving(d) as stub:
        await stub.UploadAttachment(upload_request(), metadata=who(BUREAU))
    assert threads and threads[0] != threading.get_ident()


async def test_served_beside_the_service_s_own_servicer() -> None:
    d = desk()
    added: list[str] = []

    def own(server: grpc.aio.Server) -> None:
        added.append("own")

    settings = ServiceSettings(
        service="evidence-test", environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    serve_beside(own, d)(server.server)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.EvidenceServiceStub(channel)
            sent = await stub.UploadAttachment(upload_request(), metadata=who(BUREAU))
    finally:
        await server.stop(0)
    assert added == ["own"]
    assert sent.attachment.size == len(PNG)


# -- PostgreSQL (the real server) -------------------------------------------------------------


@pytest.fixture
def pool(fresh_database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(fresh_database, min_size=1, max_size=8) as pool:
        yield pool


@pytest.fixture
def pg_desk(pool: ConnectionPool) -> EvidenceDesk:
    store = PostgresAttachmentStore(pool, scanner=NoScanner())
    store.ensure_tables()
    return postgres_desk(POLICY, store, pool, RULES)


@pytest.mark.infra
def test_postgres_uploads_round_trip(pg_desk: EvidenceDesk, pool: ConnectionPool) -> None:
    ref = pg_desk.upload(COMPANY, "r-1", PDF, "application/pdf", "整改.pdf")
    assert pg_desk.upload(COMPANY, "r-1", PDF, "application/pdf", "整改.pdf") == ref
    pg_desk.upload(CITY_BUREAU, "r-2", PDF, "application/pdf", "b.pdf", "chengxiang")
    with pytest.raises(AlreadyExists):
        pg_desk.upload(COMPANY, "r-1", PNG, "image/png", "整改.png")
    recorded = pg_desk.uploads.find("r-1")
    assert recorded is not None
    assert (recorded.ref, recorded.unit, recorded.company, recorded.uploader) == (
        ref,
        "chengxiang",
        USCC,
        COMPANY,
    )
    assert [u.request_id for u in pg_desk.uploads.of(ref.sha256)] == ["r-1", "r-2"]
    assert pg_desk.download(BUREAU, ref.sha256).content == PDF
    assert pg_desk.download(COMPANY, ref.sha256).ref.filename == "整改.pdf"
    with pytest.raises(PermissionDenied):
        pg_desk.download(OTHER_COMPANY, ref.sha256)
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM attachments").fetchone() == (1,)
    PostgresUploads(pool).ensure_tables()  # idempotent


@pytest.mark.infra
def test_postgres_concurrent_retries_of_one_upload_record_it_once(
    pg_desk: EvidenceDesk, pool: ConnectionPool
) -> None:
    callers = 6
    start = threading.Barrier(callers)

    def send(_: int) -> AttachmentRef:
        start.wait()
        return pg_desk.upload(BUREAU, "r-1", JPEG, "image/jpeg", "a.jpg")

    with ThreadPoolExecutor(callers) as pool_of_callers:
        refs = set(pool_of_callers.map(send, range(callers)))
    assert len(refs) == 1
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM attachment_uploads").fetchone() == (1,)


def test_the_client_options_allow_the_server_s_limit() -> None:
    assert dict(CLIENT_OPTIONS) == {
        "grpc.max_send_message_length": MAX_RECEIVE_MESSAGE_BYTES,
        "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
    }
    assert 21 * MiB == MAX_RECEIVE_MESSAGE_BYTES
