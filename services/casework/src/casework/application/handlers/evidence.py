"""The files a command attaches (佐证材料, ADR 0016): each must name a file already in the
service's evidence store (uploaded through EvidenceService.UploadAttachment), and becomes
the `AttachmentRef` its event carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from servicekit.attachments import (
    MAX_ATTACHMENTS,
    AttachmentLimits,
    AttachmentRef,
    normalise_media_type,
    sanitise_filename,
)
from servicekit.errors import Validator

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

LIMITS = AttachmentLimits()


def checked_evidence(
    app: CaseworkApplication,
    v: Validator,
    attachments: Sequence[AttachmentRef],
    field: str = "attachments",
) -> list[AttachmentRef]:
    """The attachments as the event carries them, each file once, in order, its presence
    in the store checked (only when it is within the store's limits: what the store never
    takes is not looked up); what is wrong is added to `v`. A ref's hash is well formed by
    construction (the wire's bounds refuse a malformed one). A file name is made safe as the
    store makes it (a caller may send any name with a hash), so what an event shows and
    offers for download is never a path or a trick."""
    v.require(
        len(attachments) <= MAX_ATTACHMENTS,
        field,
        "too_many",
        f"at most {MAX_ATTACHMENTS} files",
        f"附件不超过{MAX_ATTACHMENTS}个",
    )
    evidence: list[AttachmentRef] = []
    for n, attachment in enumerate(attachments[:MAX_ATTACHMENTS]):
        where = f"{field}[{n}]"
        media_type = normalise_media_type(attachment.media_type)
        well_formed = v.require(
            attachment.size <= LIMITS.max_bytes,
            f"{where}.size",
            "attachment_size",
            f"1 to {LIMITS.max_bytes} bytes",
            "附件大小不正确",
        )
        well_formed &= v.require(
            media_type in LIMITS.media_types,
            f"{where}.media_type",
            "attachment_type_not_allowed",
            f"one of {', '.join(sorted(LIMITS.media_types))}",
            "附件类型须为JPEG、PNG、WebP图片或PDF文件",
        )
        if not well_formed:
            continue
        stored = v.require(
            app.attachments.exists(attachment.sha256),
            where,
            "attachment_not_stored",
            "no such file in the evidence store: upload it first (UploadAttachment)",
            "附件未上传或不存在，请先上传",
        )
        # A file named twice is one file of the record, shown under its first name.
        if stored and all(e.sha256 != attachment.sha256 for e in evidence):
            evidence.append(
                replace(
                    attachment,
                    media_type=media_type,
                    filename=sanitise_filename(attachment.filename, media_type),
                )
            )
    return evidence
