"""Who is calling: agency, role and unit, as the application layer sees it.

How an identity is obtained (mTLS client certificate, a front end's signed assertion of a
person, or the development header) is the gRPC layer's business (`servicekit.grpc_kit`);
the application only receives an `Identity`. Parsing is strict (`IdentityRules.parse`): the
exact form `agency=…;role=…;unit=…[;subject=…]`, known keys once each, known values, and a
subject wherever the agency's scope depends on it. The vocabulary (agencies, roles, units)
is the published language's (`pubrev_contracts.identities`), handed in by each bootstrap:
servicekit knows no business noun.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from servicekit.errors import Unauthenticated

MAX_IDENTITY_LENGTH = 512
_KEYS = ("agency", "role", "unit", "subject")
_Kind = TypeVar("_Kind", bound=str)
"""A subject kind: any str (the contracts' SubjectKind is a StrEnum)."""


@dataclass(frozen=True)
class Identity:
    agency: str
    role: str
    unit: str
    subject: str = ""
    """Whom the identity is: a company's USCC, a police office, a community, a front end's
    name, or a person's name for the audit trail (which, depends on the agency)."""
    via: str = field(default="", compare=False)
    """The front end that asserted this person ("" when the caller is the person itself)."""

    def render(self) -> str:
        text = f"agency={self.agency};role={self.role};unit={self.unit}"
        return f"{text};subject={self.subject}" if self.subject else text


class AgencyRule(Protocol):
    """What servicekit needs to know of an agency (pubrev_contracts.identities.AgencyDef)."""

    @property
    def roles(self) -> Mapping[str, str]: ...
    @property
    def subject(self) -> str: ...
    @property
    def subject_required(self) -> bool: ...
    @property
    def city_only(self) -> bool: ...
    @property
    def frontend(self) -> bool: ...
    @property
    def people(self) -> tuple[str, ...]: ...


def _short(text: str, limit: int = 32) -> str:
    """An input echoed in an error: a short prefix, never more."""
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


class IdentityRules:
    """The vocabulary an identity is checked against, and the strict parser."""

    def __init__(
        self,
        agencies: Mapping[str, AgencyRule],
        units: Collection[str],
        subject_patterns: Mapping[_Kind, str],
        city: str,
    ) -> None:
        self.agencies = agencies
        self.units = frozenset(units)
        self.city = city
        self.patterns: dict[str, re.Pattern[str]] = {
            str(kind): re.compile(p) for kind, p in subject_patterns.items()
        }

    def parse(self, text: str) -> Identity:
        if len(text) > MAX_IDENTITY_LENGTH:
            raise Unauthenticated(
                f"identity longer than {MAX_IDENTITY_LENGTH} characters", "身份信息过长"
            )
        fields: dict[str, str] = {}
        for part in text.split(";"):
            key, sep, value = part.partition("=")
            if not sep or key not in _KEYS:
                raise Unauthenticated(
                    f"identity part {_short(part)} is not one of "
                    f"{', '.join(k + '=…' for k in _KEYS)}",
                    "身份信息格式错误",
                )
            if key in fields:
                raise Unauthenticated(f"identity names {key} twice", f"身份信息重复：{key}")
            fields[key] = value
        missing = [k for k in ("agency", "role", "unit") if not fields.get(k)]
        if missing:
            raise Unauthenticated(
                f"identity lacks {', '.join(missing)}", f"身份信息缺少：{'、'.join(missing)}"
            )
        if "subject" in fields and not fields["subject"]:
            # `subject=` is not "no subject": the form leaves the part out.
            raise Unauthenticated(
                "identity gives an empty subject (leave subject= out)", "身份信息中的 subject 为空"
            )
        return self.check(
            Identity(fields["agency"], fields["role"], fields["unit"], fields.get("subject", ""))
        )

    def check(self, identity: Identity) -> Identity:
        for key in _KEYS:
            value: str = getattr(identity, key)
            if value != value.strip() or not value.isprintable():
                # Spaces inside a person's name are fine; around a value, or any control,
                # line or format character anywhere, they are a forged or mangled identity.
                raise Unauthenticated(
                    f"identity {key} {_short(value)} has surrounding whitespace or control "
                    "characters",
                    f"身份信息中的 {key} 含有首尾空白或控制字符",
                )
        rule = self.agencies.get(identity.agency)
        if rule is None:
            raise Unauthenticated(f"unknown agency {_short(identity.agency)}", "未知的机构类型")
        if identity.role not in rule.roles:
            raise Unauthenticated(
                f"agency {identity.agency} has no role {_short(identity.role)} "
                f"(roles: {', '.join(rule.roles)})",
                "该机构类型无此角色",
            )
        if identity.unit not in self.units:
            raise Unauthenticated(f"unknown unit {_short(identity.unit)}", "未知的辖区单位")
        if rule.city_only and identity.unit != self.city:
            raise Unauthenticated(
                f"{identity.agency} exists at the city level only (unit={self.city})",
                "该机构类型仅限市级",
            )
        if identity.subject:
            pattern = self.patterns.get(rule.subject)
            if pattern is None or pattern.fullmatch(identity.subject) is None:
                raise Unauthenticated(
                    f"subject {_short(identity.subject)} is not a {rule.subject}",
                    "身份信息中的 subject 格式错误",
                )
        elif rule.subject_required:
            raise Unauthenticated(
                f"{identity.agency} needs subject=<{rule.subject}>",
                f"该机构类型须注明 subject（{rule.subject}）",
            )
        return identity

    def is_frontend(self, identity: Identity) -> bool:
        rule = self.agencies.get(identity.agency)
        return rule is not None and rule.frontend

    def may_assert(self, frontend: Identity, person: Identity) -> bool:
        rule = self.agencies.get(frontend.agency)
        return rule is not None and rule.frontend and person.agency in rule.people


_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "pubrev_identity", default=None
)


def current_identity() -> Identity:
    """The identity of the call being served; Unauthenticated when there is none."""
    identity = _current.get()
    if identity is None:
        raise Unauthenticated("no caller identity", "未识别调用方身份")
    return identity


def bind_identity(identity: Identity | None) -> contextvars.Token[Identity | None]:
    return _current.set(identity)


def reset_identity(token: contextvars.Token[Identity | None]) -> None:
    _current.reset(token)
