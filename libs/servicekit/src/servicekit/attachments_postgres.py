"""The attachment store in the service's own PostgreSQL database (ADR 0016).

A module of its own because it imports psycopg: `servicekit.attachments` (the ref, the port,
the limits, the scanners) stays importable by application layers, which may not reach a
driver even indirectly (`.importlinter`, pure-core). Bootstraps build this store and hand
it to the application as its `AttachmentStore`.

One row per distinct content in `attachments`: the bytes (bytea), their SHA-256 as the
primary key, size, media type and when first stored. Rows are only ever inserted: a put of
stored bytes is `ON CONFLICT DO NOTHING`, so concurrent puts of one file store it once and
all get the same ref.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import Cursor
from psycopg_pool import ConnectionPool

from servicekit.attachments import (
    FIELD,
    AttachmentLimits,
    AttachmentRef,
    Scanner,
    checked_key,
    not_found,
    refuse_if_infected,
    verify,
)

log = logging.getLogger(__name__)

TABLE = "attachments"
DDL_LOCK = "servicekit.attachments.ddl"

DDL = (
    """
    CREATE TABLE attachments (
        sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size bigint NOT NULL CHECK (size > 0),
        media_type text NOT NULL,
        content bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (octet_length(content) = size)
    )
    """,
    # JPEG, PNG, WebP and PDF are compressed already: TOAST's compression would cost CPU on
    # every write for nothing. EXTERNAL stores them out of line, uncompressed.
    "ALTER TABLE attachments ALTER COLUMN content SET STORAGE EXTERNAL",
)


class PostgresAttachmentStore:
    """`AttachmentStore` on a psycopg pool of the service's database.

    `scanner` has no default: the bootstrap chooses it (`attachments.load_scanner`, which
    refuses NoScanner in production)."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        scanner: Scanner,
        limits: AttachmentLimits | None = None,
    ) -> None:
        self.pool = pool
        self.scanner = scanner
        self.limits = limits or AttachmentLimits()

    @staticmethod
    def create_tables(cur: Cursor[Any]) -> None:
        """Creates the table when missing. Idempotent; an advisory lock (its own, not the
        database's schema lock, which `runtime.build_parts` may hold around this) serialises
        processes starting together: CREATE TABLE IF NOT EXISTS of one table races otherwise,
        and the storage setting is applied once, with the table."""
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        row = cur.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
        if row is not None and row[0] is not None:
            return
        for statement in DDL:
            cur.execute(statement)
        log.info("created the attachments table")

    def ensure_tables(self) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            self.create_tables(cur)

    def put(
        self, content: bytes, media_type: str, filename: str, *, field: str = FIELD
    ) -> AttachmentRef:
        """Checks, scans and stores `content` (see `AttachmentStore.put`). Bytes already
        stored are not scanned again: they were scanned when first put, and a retried upload
        gets its first answer."""
        ref = self.limits.check(content, media_type, filename, field=field)
        if self.exists(ref.sha256):
            return ref
        refuse_if_infected(self.scanner, content, ref, field=field)
        with self.pool.connection() as conn:
            cur = conn.execute(
                "INSERT INTO attachments (sha256, size, media_type, content)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                (ref.sha256, ref.size, ref.media_type, content),
            )
            if cur.rowcount == 1:
                log.info(
                    "attachment stored",
                    extra={"sha256": ref.sha256, "size": ref.size, "media_type": ref.media_type},
                )
        return ref

    def get(self, sha256: str) -> bytes:
        key = checked_key(sha256)
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT content FROM attachments WHERE sha256 = %s", (key,), binary=True
            ).fetchone()
        if row is None:
            raise not_found(key)
        return verify(key, bytes(row[0]))

    def exists(self, sha256: str) -> bool:
        key = checked_key(sha256)
        with self.pool.connection() as conn:
            row = conn.execute("SELECT 1 FROM attachments WHERE sha256 = %s", (key,)).fetchone()
        return row is not None
