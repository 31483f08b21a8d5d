"""servicekit.assertion: a front end's signed, short-lived assertion of a person."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicekit.assertion import (
    AUDIENCE,
    CLOCK_SKEW,
    MAX_TOKEN_LENGTH,
    MAX_TTL,
    Asserted,
    load_public_keys,
    sign,
    verify,
)
from servicekit.errors import Unauthenticated

NOW = 1_780_000_000
APP = "putian-app"
PERSON = "agency=owners;role=representative;unit=chengxiang;subject=CX-0001"
APP_KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
KEYS = {APP: APP_KEY.public_key(), "other-app": OTHER_KEY.public_key()}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(claims: Any, key: Ed25519PrivateKey = APP_KEY) -> str:
    """A token with any claims, correctly signed by `key`."""
    payload = b64(json.dumps(claims).encode())
    return f"{payload}.{b64(key.sign(payload.encode()))}"


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "v": 1,
        "iss": APP,
        "aud": AUDIENCE,
        "sub": PERSON,
        "iat": NOW,
        "exp": NOW + 120,
    }
    base.update(changes)
    return base


def refused(token: str, issuer: str = APP, now: int = NOW) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        verify(token, issuer, KEYS, now)
    assert caught.value.message.startswith("assertion refused: ")
    assert caught.value.message_zh.startswith("委托身份断言无效：")
    return caught.value


def test_sign_and_verify_round_trip() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW)
    assert verify(token, APP, KEYS, NOW) == Asserted(APP, PERSON)
    assert verify(forge(claims()), APP, KEYS, NOW + 120) == Asserted(APP, PERSON)


def test_the_token_is_two_base64url_parts_without_padding() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW, ttl=MAX_TTL)
    payload, signature = token.split(".")
    assert "=" not in token and "+" not in token and "/" not in token
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded == {
        "v": 1,
        "iss": APP,
        "aud": AUDIENCE,
        "sub": PERSON,
        "iat": NOW,
        "exp": NOW + MAX_TTL,
    }
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64


def test_signed_by_another_key_is_refused() -> None:
    assert "bad signature" in refused(forge(claims(), key=OTHER_KEY)).message
    assert "bad signature" in refused(sign(Ed25519PrivateKey.generate(), APP, PERSON, NOW)).message


def test_a_front_end_cannot_pass_another_front_end_s_assertion_as_its_own() -> None:
    # Captured from the other front end: checked against the presenting front end's key.
    assert "bad signature" in refused(sign(OTHER_KEY, "other-app", PERSON, NOW)).message
    # Signed with its own key but naming another issuer.
    assert "issued by another front end" in refused(forge(claims(iss="other-app"))).message


def test_a_front_end_without_a_configured_key_is_refused() -> None:
    error = refused(sign(APP_KEY, "unknown-app", PERSON, NOW), issuer="unknown-app")
    assert "no key is configured for front end 'unknown-app'" in error.message


def test_another_audience_is_refused() -> None:
    assert "another audience" in refused(forge(claims(aud="someone-else"))).message
    assert (
        "another audience"
        in refused(forge({k: v for k, v in claims().items() if k != "aud"})).message
    )


def test_expired_is_refused() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW, ttl=60)
    assert verify(token, APP, KEYS, NOW + 60)
    assert "expired" in refused(token, now=NOW + 61).message


def test_not_yet_valid_is_refused_beyond_the_tolerated_skew() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW, ttl=60)
    assert verify(token, APP, KEYS, NOW - CLOCK_SKEW)
    assert "not yet valid" in refused(token, now=NOW - CLOCK_SKEW - 1).message


@pytest.mark.parametrize("lifetime", [MAX_TTL + 1, 86_400, 0, -5])
def test_a_lifetime_outside_1_to_max_ttl_is_refused(lifetime: int) -> None:
    error = refused(forge(claims(exp=NOW + lifetime)))
    assert f"lifetime must be 1–{MAX_TTL} s" in error.message


def test_the_longest_lifetime_is_accepted() -> None:
    assert verify(sign(APP_KEY, APP, PERSON, NOW, ttl=MAX_TTL), APP, KEYS, NOW + MAX_TTL)


@pytest.mark.parametrize("ttl", [0, MAX_TTL + 1])
def test_sign_refuses_a_lifetime_verify_would_refuse(ttl: int) -> None:
    with pytest.raises(ValueError, match=f"1–{MAX_TTL} s"):
        sign(APP_KEY, APP, PERSON, NOW, ttl=ttl)


@pytest.mark.parametrize(
    "bad", [{"iat": "1780000000"}, {"exp": None}, {"iat": True}, {"exp": 1.78e9}]
)
def test_times_must_be_integers(bad: dict[str, Any]) -> None:
    refused(forge(claims(**bad)))


def test_a_tampered_payload_is_refused() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW)
    payload, signature = token.split(".")
    other = b64(
        json.dumps(
            claims(sub="agency=owners;role=representative;unit=chengxiang;subject=CX-0002")
        ).encode()
    )
    assert "bad signature" in refused(f"{other}.{signature}").message
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    refused(f"{flipped}.{signature}")


def test_a_signature_with_extra_characters_is_refused() -> None:
    """base64 decoding that skips stray characters would accept many spellings of one
    token; only the exact base64url text of the signature counts."""
    token = sign(APP_KEY, APP, PERSON, NOW)
    payload, signature = token.split(".")
    for bad in (
        f"{payload}.{signature}!!",
        f"{payload}.{signature[:10]}*{signature[10:]}",
        f"{payload}.{signature}==",
        f"{payload}.{signature}.x",
        f" {payload}.{signature}",
    ):
        refused(bad)


def test_an_oversize_token_is_refused_before_anything_else() -> None:
    token = forge(claims(sub="x" * MAX_TOKEN_LENGTH))
    assert len(token) > MAX_TOKEN_LENGTH
    assert refused(token).message == "assertion refused: too long"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "abc",
        "abc.",
        ".abc",
        "a.b",
        "%%%.%%%",
        "令牌.签名",
        "eyJ2IjoxfQ.AAAA",
        "\x00.\x00",
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    refused(garbage)


@pytest.mark.parametrize("body", [[1, 2], "text", 1, None])
def test_a_payload_that_is_not_an_object_is_refused(body: Any) -> None:
    assert "unknown version" in refused(forge(body)).message


def test_another_version_is_refused() -> None:
    assert "unknown version" in refused(forge(claims(v=2))).message


@pytest.mark.parametrize("subject", [None, 7, ["agency=public"]])
def test_the_person_must_be_identity_text(subject: Any) -> None:
    assert "no identity" in refused(forge(claims(sub=subject))).message


def test_a_deeply_nested_payload_is_refused_cleanly() -> None:
    assert "unknown version" in refused(forge([[[[[[[[[[]]]]]]]]]])).message
    nested = "[" * 700 + "]" * 700
    payload = b64(nested.encode())
    token = f"{payload}.{b64(APP_KEY.sign(payload.encode()))}"
    assert len(token) <= MAX_TOKEN_LENGTH
    refused(token)


def test_errors_do_not_echo_the_token() -> None:
    token = sign(APP_KEY, APP, PERSON, NOW, ttl=60)
    for error in (
        refused(token, now=NOW + 999),
        refused(token + "x"),
        refused("Q" * 300 + "." + "Q" * 80),
    ):
        assert token[:12] not in error.message and "Q" * 12 not in error.message


def test_load_public_keys_reads_ed25519_pem(tmp_path: Path) -> None:
    path = tmp_path / "app.pub.pem"
    path.write_bytes(
        APP_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    keys = load_public_keys({APP: path})
    assert verify(sign(APP_KEY, APP, PERSON, NOW), APP, keys, NOW) == Asserted(APP, PERSON)


def test_load_public_keys_refuses_another_kind_of_key(tmp_path: Path) -> None:
    path = tmp_path / "ec.pub.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match=r"front end app: .* is not an Ed25519 public key"):
        load_public_keys({"app": path})
