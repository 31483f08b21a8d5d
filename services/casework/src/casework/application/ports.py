"""What the casework application needs from outside (implemented in adapters)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class WrappedKey:
    """A case's data key wrapped (encrypted) by a key-encryption key: what is stored, never
    the data key itself."""

    kek_id: str
    """Which key-encryption key wrapped it (e.g. `vault:transit/casework-pii`)."""
    kek_version: int
    """Which version of that key (a rotation adds one; older ones still unwrap)."""
    ciphertext: bytes


class KeyEncryptionKey(Protocol):
    """The key-encryption key (KEK) behind its provider: it wraps and unwraps the per-case
    data keys and never leaves the provider (a local key file in development and tests,
    Vault's transit engine in production). `context` (the case id) is bound to the wrapped
    key: a wrapped key copied to another case does not unwrap there."""

    @property
    def kek_id(self) -> str: ...

    def current_version(self) -> int: ...

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes: ...

    def rewrap(self, wrapped: WrappedKey, context: bytes) -> WrappedKey:
        """The same data key under the current version (after a rotation)."""
        ...


class KeyProviderError(Exception):
    """The key provider refused or could not be reached (a wrapped key of another KEK, a
    Vault outage): nothing is disclosed and nothing is written."""


@dataclass(frozen=True)
class HeldKey:
    """A case whose data key still exists (wrapped), since when."""

    case_id: uuid.UUID
    created_at: datetime


class PersonalDataVault(Protocol):
    """Encrypts a case's personal data with a key of its own, kept outside the event
    store; destroying the key makes the stored ciphertext unreadable (crypto-shredding)."""

    def seal(self, case_id: uuid.UUID, data: dict[str, str]) -> str: ...

    def open(self, case_id: uuid.UUID, sealed: str) -> dict[str, str] | None:
        """None when the key was destroyed."""
        ...

    def shred(self, case_id: uuid.UUID) -> None:
        """Destroys the case's key (idempotent)."""
        ...

    def held(self) -> list[HeldKey]:
        """The cases whose key still exists (for the retention job)."""
        ...


@dataclass(frozen=True)
class PersonalDataRead:
    """One disclosure of a complainant's personal data: who read it (the identity as
    rendered, and the front end it came through), when, which case, why."""

    read_at: datetime
    case_id: str
    unit: str
    """The case's unit when it was read (the city lists by unit)."""
    reader: str
    via: str
    purpose: str
    note: str
    fields: tuple[str, ...]
    read_id: int = 0
    """Given by the log when recorded; increasing."""


class PersonalDataReadLog(Protocol):
    """Append-only: a read is recorded (durably) before the data leaves the service."""

    def record(self, read: PersonalDataRead) -> PersonalDataRead:
        """The read as recorded, with its id."""
        ...

    def reads(
        self,
        units: list[str],
        case_id: str,
        since: datetime | None,
        until: datetime | None,
        after_id: int,
        limit: int,
    ) -> list[PersonalDataRead]:
        """Recorded reads of those units (and case), oldest first, after `after_id`."""
        ...


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    kind: str
    unit: str
    status: str
    due_at: datetime
    police_office: str


@dataclass(frozen=True)
class WarningRow:
    warning_id: str
    rule: str
    unit: str
    subject_kind: str
    subject: str
    period: str
    status: str
    raised_at: datetime
    details: dict[str, object]
    rules_version: str
    escalated_finding_ids: tuple[str, ...] = ()
    """The inspection findings that cite the warning (issue 13 item 2)."""


class CaseReadModel(Protocol):
    """rm_cases and rm_warnings. The sync methods serve the code that runs in threads (the
    commands' handlers, the sweeps); the async ones the gRPC path's queries, on the
    servicer's loop (issue 14 goal 7): the same statements, read through another driver."""

    def catch_up(self) -> int: ...

    async def current(self) -> int:
        """Makes the read model current (the caller reads its own writes); the log position
        reached. No thread hop when it already is."""
        ...

    def warnings(self, units: list[str], rule: str, include_closed: bool) -> list[WarningRow]: ...

    async def query_warnings(
        self, units: list[str], rule: str, include_closed: bool
    ) -> list[WarningRow]:
        """`warnings`, for the queries."""
        ...

    def cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]: ...

    async def query_cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]:
        """`cases`, for the queries."""
        ...

    async def complaints_about(self, community_code: str, limit: int) -> list[str]:
        """The complaints about a community (their case ids), latest due first."""
        ...


class AttachmentStore(Protocol):
    """The service's evidence store (ADR 0016), as the commands that take attachments need
    it: whether a file's bytes were stored (by the EvidenceService's upload) under their
    SHA-256. servicekit.attachments' stores (in memory, PostgreSQL) implement it."""

    def exists(self, sha256: str) -> bool: ...
