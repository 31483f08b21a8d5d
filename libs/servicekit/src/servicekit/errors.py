"""Errors the application and domain raise, and that the gRPC layer maps to status codes.

Stdlib only, so that `domain` packages may raise them without importing anything technical.
Every error carries an English message for logs and integrators and a zh-CN message for the
officials who read it (returned as google.rpc.LocalizedMessage).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One broken rule of one field: `field` is the request path (e.g. `content.income[0]`)."""

    field: str
    rule: str
    description: str
    description_zh: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.description} [{self.rule}]"


class ServiceError(Exception):
    """Base of the errors with a defined gRPC status. Never raised itself."""

    def __init__(self, message: str, message_zh: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh or message


class InvalidArgument(ServiceError):
    """Bad input. Lists every broken field at once; nothing was written."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        if not violations:
            raise ValueError("InvalidArgument needs at least one violation")
        self.violations = tuple(violations)
        summary = "; ".join(str(v) for v in violations)
        summary_zh = "；".join(
            f"{v.field}：{v.description_zh or v.description}" for v in violations
        )
        super().__init__(f"invalid request: {summary}", f"请求参数有误：{summary_zh}")


class RuleViolated(ServiceError):
    """A rule of the domain forbids the command now (FAILED_PRECONDITION)."""


class NotFound(ServiceError):
    """The named thing does not exist (or is not visible to the caller)."""


class AlreadyExists(ServiceError):
    """The thing the command would create exists already."""


class Conflict(ServiceError):
    """A concurrent command changed the same aggregate first; re-read and retry (ABORTED)."""


class PermissionDenied(ServiceError):
    """The caller's identity may not do this."""


class Unauthenticated(ServiceError):
    """No usable caller identity came with the call."""


class Validator:
    """Collects field violations so that all broken rules come back at once.

        v = Validator()
        v.require(amount >= 0, "amount_fen", "non_negative", "must be >= 0", "金额不能为负")
        v.raise_if_any()
    """

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field: str, rule: str, description: str, description_zh: str = "") -> None:
        self.violations.append(FieldViolation(field, rule, description, description_zh))

    def require(
        self, ok: bool, field: str, rule: str, description: str, description_zh: str = ""
    ) -> bool:
        if not ok:
            self.add(field, rule, description, description_zh)
        return ok

    def require_request_id(self, request_id: str) -> bool:
        """Every command carries a client request_id: a retry with it is answered from the
        first result instead of acting twice."""
        return self.require(0 < len(request_id) <= 100, "request_id", "required",
                            "a client request_id (1–100 characters) makes retries safe",
                            "缺少请求编号 request_id（1至100个字符）")

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)
