"""Sign a front end's assertion of a person, for development (what the provincial system or
the console sends in `x-pubrev-assertion`; servicekit.assertion).

    python tools/assert_identity.py --new-key .local/dev-keys/putian-app.pem
    python tools/assert_identity.py --key .local/dev-keys/putian-app.pem --issuer putian-app \\
        --identity 'agency=owners;role=representative;unit=chengxiang;subject=CX-0001'

`--new-key PATH` writes an Ed25519 private key to PATH and its public key to PATH.pub (the
file the services are given in PUBREV_FRONTEND_KEYS). Signing prints the token alone on
stdout (for `$(…)`), valid `--ttl` seconds (at most servicekit.assertion.MAX_TTL). The
identity is checked as strictly as the services check it, and must be one a front end may
assert.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS, SubjectKind
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.assertion import MAX_TTL, sign
from servicekit.errors import Unauthenticated
from servicekit.identity import IdentityRules

RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
FRONTENDS = {name: agency for name, agency in AGENCIES.items() if agency.frontend}


class Refused(Exception):
    """Input the tool will not sign; the message says why."""


def new_key(path: Path) -> Path:
    if path.exists():
        raise Refused(f"{path} exists: not overwriting a key")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise Refused(f"cannot read a private key from {path}: {type(error).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise Refused(f"{path} is not an Ed25519 private key")
    return key


def assertion(
    key: Ed25519PrivateKey,
    issuer: str,
    identity_text: str,
    ttl: int,
    frontend_agency: str | None = None,
    now: int | None = None,
) -> str:
    """The token, after the checks the services would make of the person it names."""
    if re.fullmatch(SUBJECT_PATTERNS[SubjectKind.FRONTEND], issuer) is None:
        raise Refused(f"issuer {issuer[:32]!r} is not a front end's name (a-z, 0-9, -)")
    if not 0 < ttl <= MAX_TTL:
        raise Refused(f"--ttl must be 1–{MAX_TTL} seconds")
    try:
        person = RULES.parse(identity_text)
    except Unauthenticated as error:
        raise Refused(f"the services would refuse this identity: {error.message}") from None
    frontends = [frontend_agency] if frontend_agency else list(FRONTENDS)
    if not any(person.agency in FRONTENDS[f].people for f in frontends):
        raise Refused(f"no front end ({', '.join(frontends)}) may assert {person.agency}")
    return sign(key, issuer, identity_text, int(time.time()) if now is None else now, ttl=ttl)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--new-key",
        type=Path,
        metavar="PATH",
        help="write a new Ed25519 key pair (PATH, PATH.pub) and stop",
    )
    parser.add_argument("--key", type=Path, help="the front end's private key (PEM)")
    parser.add_argument("--issuer", help="the front end's name (its certificate's subject)")
    parser.add_argument("--identity", help="the person: agency=…;role=…;unit=…[;subject=…]")
    parser.add_argument("--ttl", type=int, default=120, help="seconds (default 120)")
    parser.add_argument(
        "--frontend-agency",
        choices=sorted(FRONTENDS),
        help="check the person is one this kind of front end may assert",
    )
    args = parser.parse_args(argv)
    try:
        if args.new_key is not None:
            public = new_key(args.new_key)
            print(
                f"wrote {args.new_key} (private, 0600) and {public} (public: give it to the "
                "services in PUBREV_FRONTEND_KEYS)",
                file=sys.stderr,
            )
            return 0
        if not (args.key and args.issuer and args.identity):
            parser.error("--key, --issuer and --identity are required (or --new-key)")
        print(
            assertion(
                load_key(args.key), args.issuer, args.identity, args.ttl, args.frontend_agency
            )
        )
    except Refused as error:
        print(f"assert_identity: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
