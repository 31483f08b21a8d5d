"""Delegated identity: a trusted front end's short-lived, signed assertion of a person.

A front end (the provincial system, the console) calls with its own client certificate and,
in the `x-pubrev-assertion` header, a token `<payload>.<signature>` (both base64url, no
padding): the payload is JSON `{"v": 1, "iss": <front end>, "aud": "pubrev", "sub":
<identity text>, "iat": <unix s>, "exp": <unix s>}`, the signature Ed25519 over the payload's
base64url text. The services verify it with the front end's public key (configured, one per
front end) and authorize the person it names; the front end alone is authorized for nothing.
An assertion lives at most `MAX_TTL` seconds: a captured one is soon worthless.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from servicekit.errors import Unauthenticated

ASSERTION_HEADER = "x-pubrev-assertion"
AUDIENCE = "pubrev"
MAX_TTL = 300
"""Seconds from issue to expiry at most."""
CLOCK_SKEW = 30
"""Seconds of clock difference tolerated between a front end and a service."""
MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True)
class Asserted:
    issuer: str
    identity_text: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding: one spelling per value (a lenient decoder skips
    stray characters, so many texts would pass for one token)."""
    if _B64URL.fullmatch(text) is None:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def sign(key: Ed25519PrivateKey, issuer: str, identity_text: str, now: int, ttl: int = 120) -> str:
    """What a front end sends (and what tests use to act as one)."""
    if not 0 < ttl <= MAX_TTL:
        raise ValueError(f"an assertion lives 1–{MAX_TTL} s, not {ttl}")
    payload = _b64(
        json.dumps(
            {
                "v": 1,
                "iss": issuer,
                "aud": AUDIENCE,
                "sub": identity_text,
                "iat": now,
                "exp": now + ttl,
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_b64(key.sign(payload.encode('ascii')))}"


def load_public_keys(paths: Mapping[str, Path]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for name, path in paths.items():
        key = load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"front end {name}: {path} is not an Ed25519 public key")
        keys[name] = key
    return keys


def verify(token: str, issuer: str, keys: Mapping[str, Ed25519PublicKey], now: int) -> Asserted:
    """The person a front end asserts, or Unauthenticated. `issuer` is the front end the
    certificate names: an assertion names its issuer and only that issuer's key counts."""

    def refuse(why: str, zh: str) -> Unauthenticated:
        return Unauthenticated(f"assertion refused: {why}", f"委托身份断言无效：{zh}")

    if len(token) > MAX_TOKEN_LENGTH:
        raise refuse("too long", "长度超限")
    payload_text, dot, signature_text = token.partition(".")
    if not dot:
        raise refuse("not <payload>.<signature>", "格式错误")
    key = keys.get(issuer)
    if key is None:
        raise refuse(f"no key is configured for front end {issuer[:64]!r}", "未配置该前端的公钥")
    try:
        key.verify(_unb64(signature_text), payload_text.encode("ascii"))
        claims = json.loads(_unb64(payload_text))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeError, RecursionError):
        raise refuse("bad signature or payload", "签名或内容无效") from None
    if not isinstance(claims, dict) or claims.get("v") != 1:
        raise refuse("unknown version", "版本不支持")
    iat, exp = claims.get("iat"), claims.get("exp")
    if claims.get("iss") != issuer or claims.get("aud") != AUDIENCE:
        raise refuse("issued by another front end or for another audience", "签发方或受众不符")
    if not (type(iat) is int and type(exp) is int and 0 < exp - iat <= MAX_TTL):
        raise refuse(f"lifetime must be 1–{MAX_TTL} s", "有效期不符合要求")
    if not iat - CLOCK_SKEW <= now <= exp:
        raise refuse("expired or not yet valid", "已过期或尚未生效")
    subject = claims.get("sub")
    if not isinstance(subject, str):
        raise refuse("no identity", "缺少身份")
    return Asserted(issuer, subject)
