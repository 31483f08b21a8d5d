"""The files a command attaches (佐证材料, ADR 0016): each must name a file already in the
service's evidence store (uploaded through EvidenceService.UploadAttachment), and becomes
the domain's `Evidence` its event carries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from casework.application.commands import Attachment
from casework.domain.evidence import MAX_PER_RECORD, Evidence
from servicekit.attachments import AttachmentLimits, normalise_media_type, sanitise_filename
from servicekit.errors import Validator

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

SHA256 = re.compile(r"[0-9a-f]{64}")
LIMITS = AttachmentLimits()


def checked_evidence(
    app: CaseworkApplication,
    v: Validator,
    attachments: Sequence[Attachment],
    field: str = "attachments",
) -> list[Evidence]:
    """The attachments as evidence, each file's presence in the store checked (only when
    it is well formed: a malformed hash is not looked up); what is wrong is added to `v`.
    A file name is made safe as the store makes it (a caller may send any name with a
    hash), so what an event shows and offers for download is never a path or a trick."""
    v.require(
        len(attachments) <= MAX_PER_RECORD,
        field,
        "too_many",
        f"at most {MAX_PER_RECORD} files",
        f"附件不超过{MAX_PER_RECORD}个",
    )
    evidence: list[Evidence] = []
    for n, attachment in enumerate(attachments[:MAX_PER_RECORD]):
        where = f"{field}[{n}]"
        media_type = normalise_media_type(attachment.media_type)
        well_formed = v.require(
            SHA256.fullmatch(attachment.sha256) is not None,
            f"{where}.sha256",
            "sha256_format",
            "the SHA-256 of the file: 64 lower-case hex digits",
            "附件摘要须为64位小写十六进制 SHA-256 值",
        )
        well_formed &= v.require(
            1 <= attachment.size <= LIMITS.max_bytes,
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
        if v.require(
            app.attachments.exists(attachment.sha256),
            where,
            "attachment_not_stored",
            "no such file in the evidence store: upload it first (UploadAttachment)",
            "附件未上传或不存在，请先上传",
        ):
            evidence.append(
                Evidence(
                    attachment.sha256,
                    attachment.size,
                    media_type,
                    sanitise_filename(attachment.filename, media_type),
                )
            )
    return evidence
