"""Errors the application and domain raise, and that the gRPC layer maps to status codes.

Stdlib only, so that `domain` packages may raise them without importing anything technical.
Every error carries an English message for logs and integrators and a zh-CN message for the
officials who read it (returned as google.rpc.LocalizedMessage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
"""No instant a caller states (received, inspected, verified) is earlier: the platform's
records start in the 2020s, and year-1 times cannot even be turned into UTC."""
INSTANT_SLACK = timedelta(days=1)
"""How far past the service's clock a stated instant may lie (clocks of callers differ)."""

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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


SUMMARIZED = 5
"""Violations spelled out in an InvalidArgument's message; all are in `violations`."""
ECHO = 32
"""Characters of an input an error message may quote (`excerpt`)."""


def excerpt(value: object, limit: int = ECHO) -> str:
    """A short, printable prefix of an input, for an error message: an error never echoes
    more than this of what a caller sent (a 10,000-character id once came back as ~20 KB
    of trailers, which the client refused as RESOURCE_EXHAUSTED)."""
    text = value if isinstance(value, str) else str(value)
    shown = "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])
    return repr(shown + ("…" if len(text) > limit else ""))


class InvalidArgument(ServiceError):
    """Bad input. Lists every broken field at once; nothing was written."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        if not violations:
            raise ValueError("InvalidArgument needs at least one violation")
        self.violations = tuple(violations)
        shown = violations[:SUMMARIZED]
        more = len(violations) - len(shown)
        summary = "; ".join(str(v) for v in shown)
        summary_zh = "；".join(f"{v.field}：{v.description_zh or v.description}" for v in shown)
        if more:
            summary += f"; and {more} more"
            summary_zh += f"；另有{more}处"
        super().__init__(f"invalid request: {summary}", f"请求参数有误：{summary_zh}")


class RuleViolated(ServiceError):
    """A rule of the domain forbids the command now (FAILED_PRECONDITION)."""


def as_service_error(error: BaseException) -> ServiceError | None:
    """The error as a ServiceError, or None for a bug or an outage. A module that may not
    import this one (the contracts' vocabulary is standard library only) declares the
    meaning of its exceptions by a class attribute `service_error = "rule_violated"` and
    carries `message` and `message_zh`."""
    if isinstance(error, ServiceError):
        return error
    if getattr(type(error), "service_error", None) == "rule_violated":
        message = str(getattr(error, "message", "") or error)
        mapped = RuleViolated(message, str(getattr(error, "message_zh", "") or message))
        mapped.__cause__ = error
        return mapped
    return None


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
        return self.require(
            0 < len(request_id) <= 100,
            "request_id",
            "required",
            "a client request_id (1–100 characters) makes retries safe",
            "缺少请求编号 request_id（1至100个字符）",
        )

    def require_text(
        self,
        value: str,
        field: str,
        max_len: int,
        zh_name: str,
        *,
        required: bool = False,
        multiline: bool = False,
    ) -> bool:
        """Text that goes into events and out to feeds: no control characters (a tab in a
        penalty's decision number once stopped every credit feed), at most `max_len`
        characters, and present when `required`. `multiline` allows tab, line feed and
        carriage return (descriptions, notes)."""
        if required and not value.strip():
            self.add(field, "required", f"{field} is required", f"缺少{zh_name}")
            return False
        ok = self.require(
            len(value) <= max_len,
            field,
            "too_long",
            f"at most {max_len} characters",
            f"{zh_name}不超过{max_len}个字符",
        )
        control = _CONTROL_LINES if multiline else _CONTROL_ONE_LINE
        return (
            self.require(
                control.search(value) is None,
                field,
                "control_character",
                "must not contain control characters (tab, line breaks, ...)"
                if not multiline
                else "must not contain control characters",
                f"{zh_name}不得包含控制字符",
            )
            and ok
        )

    def require_instant(
        self, value: datetime | None, field: str, now: datetime, zh_name: str
    ) -> datetime | None:
        """A stated instant, in UTC, within [EARLIEST_INSTANT, now + INSTANT_SLACK] of the
        service's clock; None (and a violation) otherwise. `0001-01-01T00:00:00+14:00` was
        once stored as given, and the relay's serializer failed on it on every retry."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.add(
                field,
                "time_format",
                "an RFC 3339 time with its offset",
                f"{zh_name}须为带时区的时间（RFC 3339）",
            )
            return None
        try:
            utc = value.astimezone(UTC)
        except (OverflowError, ValueError):
            utc = None
        latest = now.astimezone(UTC) + INSTANT_SLACK
        if utc is None or not EARLIEST_INSTANT <= utc <= latest:
            self.add(
                field,
                "time_range",
                f"between {EARLIEST_INSTANT:%Y-%m-%d} and one day after now (UTC)",
                f"{zh_name}须在2000年1月1日至当前时间后一天之内",
            )
            return None
        return utc

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)
