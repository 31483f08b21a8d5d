"""tools/assert_identity.py: the development tool that signs a front end's assertion; its
token is one the services' verifier accepts."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from servicekit.assertion import MAX_TTL, Asserted, load_public_keys, verify
from tools import assert_identity

ROOT = Path(__file__).resolve().parents[3]
OWNERS = "agency=owners;role=representative;unit=chengxiang;subject=CX-0001"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "assert_identity.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=ROOT,
    )


def test_new_key_then_sign_on_the_command_line(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "putian-app.pem"
    made = run("--new-key", str(key))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = serialization.load_pem_public_key(
        (tmp_path / "keys" / "putian-app.pem.pub").read_bytes()
    )
    assert isinstance(public, Ed25519PublicKey)
    signed = run("--key", str(key), "--issuer", "putian-app", "--identity", OWNERS)
    assert signed.returncode == 0, signed.stderr
    token = signed.stdout.strip()
    assert signed.stdout == token + "\n"
    keys = load_public_keys({"putian-app": key.with_name("putian-app.pem.pub")})
    assert verify(token, "putian-app", keys, int(time.time())) == Asserted("putian-app", OWNERS)
    assert run("--new-key", str(key)).returncode == 2  # never overwrites a key


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--identity", "agency=owners;role=representative;unit=chengxiang"],
            "the services would refuse this identity: owners needs subject=<community>",
        ),
        (
            [
                "--identity",
                "agency=property-bureau;role=officer;unit=chengxiang",
                "--frontend-agency",
                "provincial-system",
            ],
            "no front end (provincial-system) may assert property-bureau",
        ),
        (
            ["--identity", "agency=auditor;role=auditor;unit=putian"],
            "no front end (provincial-system, console) may assert auditor",
        ),
        (["--identity", OWNERS, "--ttl", str(MAX_TTL + 1)], f"--ttl must be 1–{MAX_TTL} seconds"),
        (["--identity", OWNERS, "--issuer", "Putian App"], "is not a front end's name"),
    ],
)
def test_what_the_services_would_refuse_is_not_signed(
    tmp_path: Path, args: list[str], says: str
) -> None:
    key = tmp_path / "app.pem"
    assert run("--new-key", str(key)).returncode == 0
    base = {"--key": str(key), "--issuer": "putian-app"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    refused = run(*(x for pair in base.items() for x in pair))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert says in refused.stderr


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    with pytest.raises(assert_identity.Refused, match="cannot read a private key"):
        assert_identity.load_key(bad)


def test_the_console_may_assert_staff(tmp_path: Path) -> None:
    key = tmp_path / "console.pem"
    assert_identity.new_key(key)
    officer = "agency=property-bureau;role=officer;unit=chengxiang"
    token = assert_identity.assertion(
        assert_identity.load_key(key), "console", officer, 60, "console", now=1_780_000_000
    )
    keys = load_public_keys({"console": key.with_name("console.pem.pub")})
    assert verify(token, "console", keys, 1_780_000_030) == Asserted("console", officer)
