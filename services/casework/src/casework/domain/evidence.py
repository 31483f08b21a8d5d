"""Evidence (佐证材料): a file kept in the service's evidence store, referenced from events
by the SHA-256 of its bytes (ADR 0016). The events carry the reference as a plain mapping
(`as_stored`), never the file; the bytes are fetched from the store by their hash.

The domain's own value (its allowlist keeps servicekit.attachments out): the same four
fields as servicekit's AttachmentRef and the contracts' AttachmentRefV1."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_PER_RECORD = 20
"""Files attached to one complaint, resolution or interview: local configuration (no
source sets a number), bounded so an event stays far below the bus's record size."""


@dataclass(frozen=True)
class Evidence:
    sha256: str
    size: int
    media_type: str
    filename: str

    def as_stored(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, object]) -> Evidence:
        size = stored["size"]
        assert isinstance(size, int)
        return cls(str(stored["sha256"]), size, str(stored["media_type"]), str(stored["filename"]))


def stored(evidence: Iterable[Evidence]) -> list[dict[str, object]]:
    """Evidence as an event holds it: one mapping per file, each hash once, in order."""
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for item in evidence:
        if item.sha256 not in seen:
            seen.add(item.sha256)
            out.append(item.as_stored())
    return out
