"""Who is calling: agency, role and unit, as the application layer sees it.

How an identity is obtained (mTLS client certificate, or a development header) is the gRPC
layer's business (`servicekit.grpc_kit`); the application only receives an `Identity`.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from servicekit.errors import Unauthenticated

CITY_UNIT = "putian"
"""The city (莆田市) sees every unit's records."""


@dataclass(frozen=True)
class Identity:
    agency: str
    role: str
    unit: str
    subject: str = ""
    """Certificate subject or development name, for the audit trail."""

    @property
    def is_city(self) -> bool:
        return self.unit == CITY_UNIT

    def may_access_unit(self, unit: str) -> bool:
        return self.is_city or self.unit == unit

    @classmethod
    def parse(cls, text: str) -> Identity:
        """Parses `agency=...;role=...;unit=...[;subject=...]` (the development header and
        the URI SAN of a client certificate carry the same form)."""
        fields: dict[str, str] = {}
        for part in text.split(";"):
            if "=" in part:
                key, _, value = part.partition("=")
                fields[key.strip()] = value.strip()
        missing = [k for k in ("agency", "role", "unit") if not fields.get(k)]
        if missing:
            raise Unauthenticated(
                f"identity lacks {', '.join(missing)}", f"身份信息缺少：{'、'.join(missing)}"
            )
        return cls(fields["agency"], fields["role"], fields["unit"], fields.get("subject", ""))

    def render(self) -> str:
        text = f"agency={self.agency};role={self.role};unit={self.unit}"
        return f"{text};subject={self.subject}" if self.subject else text


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
