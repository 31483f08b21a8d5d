"""What the casework application needs from outside (implemented in adapters)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class PersonalDataVault(Protocol):
    """Encrypts a case's personal data with a key of its own, kept outside the event
    store; destroying the key makes the stored ciphertext unreadable (crypto-shredding)."""

    def seal(self, case_id: uuid.UUID, data: dict[str, str]) -> str: ...

    def open(self, case_id: uuid.UUID, sealed: str) -> dict[str, str] | None:
        """None when the key was destroyed."""
        ...

    def shred(self, case_id: uuid.UUID) -> None: ...


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


class CaseReadModel(Protocol):
    def catch_up(self) -> int: ...

    def warnings(self, units: list[str], rule: str, include_closed: bool) -> list[WarningRow]:
        ...

    def cases(self, units: list[str], status: str, overdue_before: datetime | None,
              police_office: str) -> list[CaseRow]: ...
