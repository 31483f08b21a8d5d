"""Evidence a party or the bureau attaches (a scanned notice, a statement's documents, an
objection's proof, a repair application's proof of performance): files kept in the
service's evidence store and referenced by the SHA-256 of their bytes (ADR 0016). Events
carry each reference as a plain mapping, never the file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """One file by its hash, size, media type and (sanitised) filename, as the evidence
    store answered when it was put."""

    sha256: str
    size: int
    media_type: str
    filename: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
        }


def as_dicts(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    """What an event carries: each reference as a mapping, in the order given."""
    return [e.as_dict() for e in evidence]
