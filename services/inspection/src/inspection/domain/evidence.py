"""Evidence (证据材料): files attached to findings, to a company's rectification evidence and to
its objections, as the events reference them.

A file lives in the service's evidence store (servicekit.attachments, ADR 0016), named by the
SHA-256 of its bytes; an event carries its reference only. The application checks that each
referenced file is stored before the aggregate sees it; the domain keeps the reference as a
plain value (the domain does not import servicekit.attachments)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_ATTACHMENTS = 20
"""Files per finding, submission or objection (local configuration: a check's photos and
its ledgers rarely pass a dozen)."""


@dataclass(frozen=True)
class Attachment:
    """A stored file as a record references it: its SHA-256 (lower-case hex, the store's
    key), size in bytes, media type and file name."""

    sha256: str
    size: int
    media_type: str
    filename: str

    def recorded(self) -> dict[str, Any]:
        """The reference as an event keeps it."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
        }

    @classmethod
    def of(cls, recorded: dict[str, Any]) -> Attachment:
        return cls(
            str(recorded["sha256"]),
            int(recorded["size"]),
            str(recorded["media_type"]),
            str(recorded["filename"]),
        )


def recorded(attachments: tuple[Attachment, ...] | list[Attachment]) -> list[dict[str, Any]]:
    return [a.recorded() for a in attachments]
