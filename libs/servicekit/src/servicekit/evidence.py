"""Evidence up and down (pubrev.common.v1.EvidenceService): the generic RPCs over a
service's `AttachmentStore` (ADR 0016), authorized by the service's declared policy.

`EvidenceDesk` does the work with the caller's identity; `EvidenceServicer` is its gRPC face,
running the desk (and so the store, the scanner and the database) in a worker thread.
A service serves it beside its own service: its bootstrap builds the store
(`PostgresAttachmentStore(pool, scanner=load_scanner(environment))`), the desk
(`postgres_desk`), and registers both servicers (`serve_beside`); its policy has a row for
each RPC (`UPLOAD`, `GET`).

Who may upload: whoever the service's `UploadAttachment` grants allow on the facts the
upload states, as a record would: the unit whose records the file is evidence for (the
request's `unit`, else the caller's own), the company they are about (the request's
`company`; a company's own USCC when a company uploads), and the uploader's own community
or office. A file belongs to no record yet; the command that later references it is
authorized on its record as usual.

Who may download: whoever the service's `GetAttachment` grants allow on the facts of any
record that may be read with the file (`Resource`s), which are
- the facts of each upload of the bytes (so, with the grants the services declare, the
  bureau of the unit it named, the city, the uploader's own agency in that unit, the company
  it named), and
- the facts the service gives for the hash (`who_may_read(sha256)`: one per record of the
  service that references it, e.g. a finding's unit, company and community), when it
  indexes its records' attachments.
A hash nobody may read and a hash never stored get the same PermissionDenied: the answer
must not tell a caller whether the platform holds a file it has a copy of.

Idempotent by request_id: a retry (same caller, same request) returns the first ref, and
the request_id reused for another file, name, type, unit or caller is ALREADY_EXISTS, as a
command's receipt answers. The uploads are recorded (`Uploads`: in memory for tests, the
table `attachment_uploads` in the service's database); the bytes are the store's, stored
once however often they are uploaded. The store's refusals pass through as they are:
InvalidArgument on the field `content` (`attachment_too_large`, `attachment_type_mismatch`,
`attachment_infected`, ...), a scanner that cannot be reached is transient (UNAVAILABLE).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from psycopg import Cursor
from psycopg_pool import ConnectionPool

from pubrev.common.v1 import evidence_pb2 as pb
from pubrev.common.v1 import evidence_pb2_grpc as pb_grpc
from servicekit.attachments import (
    AttachmentRef,
    AttachmentStore,
    checked_key,
    sanitise_filename,
    sniff_media_type,
)
from servicekit.clock import Clock, utc_now
from servicekit.errors import AlreadyExists, PermissionDenied, Validator, excerpt
from servicekit.grpc_kit import MAX_RECEIVE_MESSAGE_BYTES
from servicekit.identity import Identity, IdentityRules, current_identity
from servicekit.policy import Policy, Resource

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EvidenceService"].full_name
UPLOAD = "UploadAttachment"
GET = "GetAttachment"
EVIDENCE_RPCS = (UPLOAD, GET)
"""The rows each serving service's POLICY declares."""

CONTENT_FIELD = "content"
"""The request field the store's refusals name."""

CLIENT_OPTIONS = (
    ("grpc.max_send_message_length", MAX_RECEIVE_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
)
"""Channel options of a client of EvidenceService: gRPC refuses a received message over
4 MiB by default, and a download is up to 20 MiB."""

UPLOADS_READ = 100
"""Uploads of one file read to authorize a download (the earliest): the same bytes
uploaded more often than this by distinct callers are a test, not evidence."""

WhoMayRead = Callable[[str], Iterable[Resource]]
"""The facts of every record of the service that references the hash (none: `nobody`)."""


def nobody(sha256: str) -> Iterable[Resource]:
    """A service whose records are not yet indexed by attachment: only uploads open files."""
    return ()


# -- the uploads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One UploadAttachment that stored (or found stored) a file."""

    request_id: str
    fingerprint: str
    """Of the request as sent (content's hash, media type, filename, unit, company) and its
    caller:
    a retry has the same, a reuse of the request_id does not."""
    ref: AttachmentRef
    unit: str
    """The unit whose records the file is evidence for."""
    company: str
    """The company those records are about ("": none)."""
    uploader: Identity
    uploaded_at: datetime


def fingerprint(
    sha256: str, media_type: str, filename: str, unit: str, company: str, uploader: Identity
) -> str:
    text = json.dumps(
        [sha256, media_type, filename, unit, company, uploader.render()], ensure_ascii=False
    ).encode()
    return hashlib.sha256(text).hexdigest()


class Uploads(Protocol):
    """The record of uploads, by request_id and by the bytes' hash."""

    def find(self, request_id: str) -> Upload | None: ...

    def add(self, upload: Upload) -> Upload:
        """Records `upload` unless its request_id is recorded already; the recorded one
        (the earlier one when two uploads raced with one request_id)."""
        ...

    def of(self, sha256: str) -> list[Upload]:
        """The earliest `UPLOADS_READ` uploads of the bytes, earliest first."""
        ...


class InMemoryUploads:
    """For unit tests (and the authorization matrices)."""

    def __init__(self) -> None:
        self._by_request: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def find(self, request_id: str) -> Upload | None:
        with self._lock:
            return self._by_request.get(request_id)

    def add(self, upload: Upload) -> Upload:
        with self._lock:
            return self._by_request.setdefault(upload.request_id, upload)

    def of(self, sha256: str) -> list[Upload]:
        with self._lock:
            found = [u for u in self._by_request.values() if u.ref.sha256 == sha256]
        return sorted(found, key=lambda u: u.uploaded_at)[:UPLOADS_READ]


UPLOADS_TABLE = "attachment_uploads"
UPLOADS_DDL_LOCK = "servicekit.evidence.ddl"
UPLOADS_DDL = (
    """
    CREATE TABLE attachment_uploads (
        request_id text PRIMARY KEY,
        fingerprint text NOT NULL,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size bigint NOT NULL CHECK (size > 0),
        media_type text NOT NULL,
        filename text NOT NULL,
        unit text NOT NULL,
        company text NOT NULL,
        uploader_agency text NOT NULL,
        uploader_role text NOT NULL,
        uploader_unit text NOT NULL,
        uploader_subject text NOT NULL,
        uploaded_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX attachment_uploads_by_sha256 ON attachment_uploads (sha256, uploaded_at)",
)
_COLUMNS = (
    "request_id, fingerprint, sha256, size, media_type, filename, unit, company,"
    " uploader_agency,"
    " uploader_role, uploader_unit, uploader_subject, uploaded_at"
)


class PostgresUploads:
    """The uploads in the service's own database, beside the `attachments` table (rows are
    only inserted: who uploaded what, for what unit, when — the trail of the evidence)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @staticmethod
    def create_tables(cur: Cursor[Any]) -> None:
        """Creates the table when missing, under an advisory lock of its own (as the
        attachments table is: processes starting together take turns)."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (UPLOADS_DDL_LOCK,))
        row = cur.execute("SELECT to_regclass(%s)", (UPLOADS_TABLE,)).fetchone()
        if row is not None and row[0] is not None:
            return
        for statement in UPLOADS_DDL:
            cur.execute(statement)
        log.info("created the attachment uploads table")

    def ensure_tables(self) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            self.create_tables(cur)

    def find(self, request_id: str) -> Upload | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM attachment_uploads WHERE request_id = %s",  # noqa: S608
                (request_id,),
            ).fetchone()
        return None if row is None else _upload(row)

    def add(self, upload: Upload) -> Upload:
        ref, who = upload.ref, upload.uploader
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO attachment_uploads ({_COLUMNS})"  # noqa: S608
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (request_id) DO NOTHING",
                (
                    upload.request_id,
                    upload.fingerprint,
                    ref.sha256,
                    ref.size,
                    ref.media_type,
                    ref.filename,
                    upload.unit,
                    upload.company,
                    who.agency,
                    who.role,
                    who.unit,
                    who.subject,
                    upload.uploaded_at,
                ),
            )
        recorded = self.find(upload.request_id)
        assert recorded is not None  # rows are never deleted
        return recorded

    def of(self, sha256: str) -> list[Upload]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM attachment_uploads WHERE sha256 = %s"  # noqa: S608
                " ORDER BY uploaded_at, request_id LIMIT %s",
                (sha256, UPLOADS_READ),
            ).fetchall()
        return [_upload(row) for row in rows]


def _upload(row: tuple[Any, ...]) -> Upload:
    request_id, digest, sha256, size, media_type, filename, unit, company = row[:8]
    agency, role, uploader_unit, subject, uploaded_at = row[8:]
    return Upload(
        request_id=request_id,
        fingerprint=digest,
        ref=AttachmentRef(sha256=sha256, size=size, media_type=media_type, filename=filename),
        unit=unit,
        company=company,
        uploader=Identity(agency, role, uploader_unit, subject),
        uploaded_at=uploaded_at,
    )


# -- the desk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    ref: AttachmentRef
    """The hash and size; the media type the content is; the first upload's name."""
    content: bytes


@dataclass
class EvidenceDesk:
    """UploadAttachment and GetAttachment with the caller's identity (synchronous: the
    servicer runs it in a worker thread)."""

    policy: Policy
    """The serving service's declared policy (its rows UPLOAD and GET)."""
    store: AttachmentStore
    uploads: Uploads
    rules: IdentityRules
    """The vocabulary: the units an upload may name, the kind of each agency's subject."""
    who_may_read: WhoMayRead = nobody
    clock: Clock = field(default=utc_now)

    def upload(
        self,
        identity: Identity,
        request_id: str,
        content: bytes,
        media_type: str,
        filename: str,
        unit: str = "",
        company: str = "",
    ) -> AttachmentRef:
        self.policy.admit(UPLOAD, identity)
        unit = unit or identity.unit
        company = company or self.facts(unit, "", identity).company
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            unit in self.rules.units,
            "unit",
            "unknown_unit",
            f"unit {excerpt(unit)} is not one of {', '.join(sorted(self.rules.units))}",
            "未知的辖区单位",
        )
        v.raise_if_any()
        self.policy.authorize(UPLOAD, identity, self.facts(unit, company, identity))
        earlier = self.uploads.find(request_id)
        if earlier is not None:
            sha256 = hashlib.sha256(content).hexdigest()
            return self._replay(
                earlier, fingerprint(sha256, media_type, filename, unit, company, identity)
            )
        ref = self.store.put(content, media_type, filename, field=CONTENT_FIELD)
        digest = fingerprint(ref.sha256, media_type, filename, unit, company, identity)
        recorded = self.uploads.add(
            Upload(request_id, digest, ref, unit, company, identity, self.clock())
        )
        if recorded.fingerprint == digest and recorded.ref == ref:
            log.info(
                "attachment uploaded",
                extra={
                    "sha256": ref.sha256,
                    "size": ref.size,
                    "unit": unit,
                    "agency": identity.agency,
                    "request_id": excerpt(request_id, 100),
                },
            )
        return self._replay(recorded, digest)

    @staticmethod
    def _replay(recorded: Upload, digest: str) -> AttachmentRef:
        if recorded.fingerprint != digest:
            raise AlreadyExists(
                f"request_id {excerpt(recorded.request_id)} was already used for a different "
                "UploadAttachment",
                f"请求编号 {excerpt(recorded.request_id)} 已用于另一条不同的请求",
            )
        return recorded.ref

    def download(self, identity: Identity, sha256: str) -> Download:
        key = checked_key(sha256)
        self.policy.admit(GET, identity)
        uploads = self.uploads.of(key)
        if not any(self.policy.decide(GET, identity, facts) for facts in self._facts(uploads, key)):
            # The words of Policy.authorize's refusal, the same for a file that is not
            # stored: the answer must not tell whether the platform holds it.
            raise PermissionDenied(
                f"{identity.agency}/{identity.role} of {identity.unit} may not call {GET}: "
                "the record is outside the caller's scope",
                f"无权调用 {GET}",
            )
        content = self.store.get(key)
        media_type = sniff_media_type(content) or (
            uploads[0].ref.media_type if uploads else "application/octet-stream"
        )
        filename = uploads[0].ref.filename if uploads else sanitise_filename("", media_type)
        return Download(AttachmentRef(key, len(content), media_type, filename), content)

    def _facts(self, uploads: list[Upload], sha256: str) -> Iterator[Resource]:
        for upload in uploads:
            yield self.facts(upload.unit, upload.company, upload.uploader)
        # Asked only when no upload opened the file: it may read the service's records.
        yield from self.who_may_read(sha256)

    def facts(self, unit: str, company: str, uploader: Identity) -> Resource:
        """An upload as a record the grants are judged on: the unit and company it names,
        and the uploader's own subject in the field its kind fills (a company's USCC when it
        names none; servicekit.policy.SUBJECT_SCOPES)."""
        agency = self.rules.agencies.get(uploader.agency)
        kind = agency.subject if agency is not None and uploader.subject else ""
        return Resource(
            unit=unit,
            company=company or (uploader.subject if kind == "uscc" else ""),
            community=uploader.subject if kind == "community" else "",
            office=uploader.subject if kind == "police_office" else "",
        )


def postgres_desk(
    policy: Policy,
    store: AttachmentStore,
    pool: ConnectionPool,
    rules: IdentityRules,
    who_may_read: WhoMayRead = nobody,
) -> EvidenceDesk:
    """The desk of a service on its database: the uploads table created when missing."""
    uploads = PostgresUploads(pool)
    uploads.ensure_tables()
    return EvidenceDesk(policy, store, uploads, rules, who_may_read)


# -- gRPC --------------------------------------------------------------------------------------

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[Any, Any]
else:
    Context = Any


def ref_to_pb(ref: AttachmentRef) -> pb.AttachmentRef:
    return pb.AttachmentRef(
        sha256=ref.sha256, size=ref.size, media_type=ref.media_type, filename=ref.filename
    )


def refs_from_pb(refs: Iterable[pb.AttachmentRef]) -> tuple[AttachmentRef, ...]:
    """The refs a request names, as sent (well formed: the wire's bounds refuse a malformed
    one); the service's handler checks each is in its store."""
    return tuple(AttachmentRef(r.sha256, r.size, r.media_type, r.filename) for r in refs)


class EvidenceServicer(pb_grpc.EvidenceServiceServicer):
    """Passes each call and its caller to the desk, in a worker thread: hashing, scanning
    and storing 20 MiB must not hold the event loop."""

    def __init__(self, desk: EvidenceDesk) -> None:
        self.desk = desk

    async def UploadAttachment(
        self, request: pb.UploadAttachmentRequest, context: Context
    ) -> pb.UploadAttachmentResponse:
        ref = await asyncio.to_thread(
            self.desk.upload,
            current_identity(),
            request.request_id,
            request.content,
            request.media_type,
            request.filename,
            request.unit,
            request.company,
        )
        return pb.UploadAttachmentResponse(attachment=ref_to_pb(ref))

    async def GetAttachment(
        self, request: pb.GetAttachmentRequest, context: Context
    ) -> pb.GetAttachmentResponse:
        found = await asyncio.to_thread(self.desk.download, current_identity(), request.sha256)
        return pb.GetAttachmentResponse(attachment=ref_to_pb(found.ref), content=found.content)


def register(desk: EvidenceDesk) -> Callable[[grpc.aio.Server], None]:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_EvidenceServiceServicer_to_server(EvidenceServicer(desk), server)

    return add


def serve_beside(
    register_service: Callable[[grpc.aio.Server], None], desk: EvidenceDesk
) -> Callable[[grpc.aio.Server], None]:
    """A bootstrap's `register_grpc`: the service's own servicer, then EvidenceService
    (name both in `grpc_service_names`: `[SERVICE_NAME, evidence.SERVICE_NAME]`)."""
    add_evidence = register(desk)

    def add(server: grpc.aio.Server) -> None:
        register_service(server)
        add_evidence(server)

    return add
