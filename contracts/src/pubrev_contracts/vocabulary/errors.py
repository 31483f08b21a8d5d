"""Errors of the vocabulary: plain exceptions (this package is standard library only) that
declare their gRPC meaning by a class attribute, which servicekit reads
(`servicekit.errors.as_service_error`) without importing this package."""

from __future__ import annotations

from typing import ClassVar


class NotConfigured(LookupError):
    """A rule's table lacks the entry a command needs (a year of the holiday calendar, of the
    campaign's schedule): the command cannot be decided now, and nothing is guessed."""

    service_error: ClassVar[str] = "rule_violated"
    """FAILED_PRECONDITION: the bureau must enter the missing year first."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh
