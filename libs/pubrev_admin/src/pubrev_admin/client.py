"""Where the services are, who the operator is, and one call to a service's AdminService.

Addresses: the defaults of `make run` (tools/run_platform.py starts disclosure on 50051,
inspection 50052, credit 50053, casework 50054 on 127.0.0.1), or per service
`PUBREV_ADMIN_<SERVICE>_TARGET`, or `--target`.

Identity: in development the services read the header `x-pubrev-identity`; the operator is
`agency=operator;role=operator;unit=putian;subject=<name>` (the only identity the
AdminService's policy admits). With mTLS (production) the header is refused and the client
certificate's URI SAN names the caller, so then no header is sent at all.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from pubrev.common.v1 import admin_pb2_grpc
from pubrev_contracts.vocabulary.agencies import SUBJECT_PATTERNS, SubjectKind

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {"disclosure": 50051, "inspection": 50052, "credit": 50053, "casework": 50054}
"""The four services' gRPC ports under `make run` (tools/run_platform.py SERVICES; a test
checks that both agree)."""
FEED_SERVICES = ("credit", "casework")
"""The services that push feeds (credit: 信用中国(福建) and market regulation; casework:
智慧监督)."""

IDENTITY_HEADER = "x-pubrev-identity"
OPERATOR_IDENTITY = "agency=operator;role=operator;unit=putian"
"""The operators' identity (pubrev_contracts.identities: the operator agency exists at the
city level only; servicekit.operations grants the AdminService to its `operator` role)."""

ECHO = 32
"""Characters of an argument an error message quotes (like the services' errors)."""

_PERSON = re.compile(SUBJECT_PATTERNS[SubjectKind.PERSON])
_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_TARGET = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})")

UNREACHABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

T = TypeVar("T")


def excerpt(text: str, limit: int = ECHO) -> str:
    """A short printable prefix of what the operator typed, for an error message."""
    shown = "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])
    return repr(shown + ("…" if len(text) > limit else ""))


class ArgumentProblem(ValueError):
    """An argument the command line refuses before calling anything (exit 2)."""


# -- where --------------------------------------------------------------------------------------


def target_env(service: str) -> str:
    return f"PUBREV_ADMIN_{service.upper().replace('-', '_')}_TARGET"


def check_target(text: str) -> str:
    # A host name is at most 253 characters (RFC 1035); the port at most 65535.
    match = _TARGET.fullmatch(text) if len(text) <= 260 else None
    if match is None or not 0 < int(match.group(1)) < 65536:
        raise ArgumentProblem(
            f"target {excerpt(text)} is not HOST:PORT "
            "(e.g. 127.0.0.1:50053 or credit-api.pubrev:50051)"
        )
    return text


def resolve_targets(
    services: Sequence[str], given: Sequence[str], env: Mapping[str, str]
) -> dict[str, str]:
    """service → HOST:PORT. `--target SERVICE=HOST:PORT` (or a bare HOST:PORT when one
    service is named) wins over `PUBREV_ADMIN_<SERVICE>_TARGET`, which wins over the
    defaults of `make run`. A service with none of these is an error."""
    explicit: dict[str, str] = {}
    for text in given:
        name, sep, address = text.rpartition("=")
        if not sep:
            if len(services) != 1:
                raise ArgumentProblem(
                    "a bare --target HOST:PORT needs exactly one --service; "
                    "otherwise give --target SERVICE=HOST:PORT"
                )
            name = services[0]
        if name not in services:
            raise ArgumentProblem(
                f"--target names {excerpt(name)}, which is not among the "
                f"services of this command ({', '.join(services)})"
            )
        explicit[name] = check_target(address)
    targets: dict[str, str] = {}
    for service in services:
        if not _SERVICE_NAME.fullmatch(service):
            raise ArgumentProblem(f"service {excerpt(service)} is not a service name")
        address = explicit.get(service) or env.get(target_env(service), "")
        if address:
            targets[service] = check_target(address)
        elif service in DEFAULT_PORTS:
            targets[service] = f"{DEFAULT_HOST}:{DEFAULT_PORTS[service]}"
        else:
            raise ArgumentProblem(
                f"unknown service {excerpt(service)}: one of {', '.join(DEFAULT_PORTS)}, or "
                f"give its address with --target or {target_env(service)}"
            )
    return targets


# -- who ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """How the command line authenticates: the development header naming the operator, or
    a client certificate (mTLS) whose URI SAN names them."""

    operator: str = ""
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    server_name: str = ""

    @property
    def mtls(self) -> bool:
        return self.cert is not None

    def metadata(self) -> tuple[tuple[str, str], ...]:
        if self.mtls:
            return ()  # the services refuse the header when mTLS is on
        return ((IDENTITY_HEADER, f"{OPERATOR_IDENTITY};subject={self.operator}"),)

    def channel(self, target: str) -> grpc.Channel:
        if not self.mtls:
            return grpc.insecure_channel(target)
        assert self.cert is not None and self.key is not None
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes() if self.ca else None,
            private_key=self.key.read_bytes(),
            certificate_chain=self.cert.read_bytes(),
        )
        options = [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []
        return grpc.secure_channel(target, credentials, options=options)


def operator_name(given: str | None, env: Mapping[str, str]) -> str:
    """The operator's name for the audit trail: --operator, else $PUBREV_OPERATOR, else the
    login name ($USER)."""
    name = given or env.get("PUBREV_OPERATOR") or env.get("USER") or env.get("LOGNAME")
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = ""
    if not name:
        raise ArgumentProblem(
            "who is the operator? give --operator NAME (or set PUBREV_OPERATOR or USER)"
        )
    if _PERSON.fullmatch(name) is None or not name.isprintable() or name != name.strip():
        raise ArgumentProblem(
            f"operator name {excerpt(name)} is not a person's name as identities carry it: "
            "1–64 characters, no ';' or '=', no control characters, not starting with a "
            "space"
        )
    if not name.isascii():
        # gRPC refuses a non-ASCII value in a text header before it leaves ("Invalid
        # metadata"); the development header is one.
        raise ArgumentProblem(
            f"operator name {excerpt(name)}: the development identity header carries ASCII "
            "only; give your login name or its pinyin (with mTLS your certificate names you)"
        )
    return name


def make_credentials(
    operator: str | None,
    cert: Path | None,
    key: Path | None,
    ca: Path | None,
    server_name: str | None,
    env: Mapping[str, str],
) -> Credentials:
    cert = cert or _path(env, "PUBREV_ADMIN_TLS_CERT")
    key = key or _path(env, "PUBREV_ADMIN_TLS_KEY")
    ca = ca or _path(env, "PUBREV_ADMIN_TLS_CA")
    server_name = server_name or env.get("PUBREV_ADMIN_TLS_SERVER_NAME", "")
    if (cert is None) != (key is None):
        raise ArgumentProblem(
            "mTLS needs both the client certificate and its key: give "
            "--cert and --key (or PUBREV_ADMIN_TLS_CERT and _KEY)"
        )
    if cert is None:
        if ca is not None or server_name:
            raise ArgumentProblem("--ca and --server-name are for mTLS: give --cert and --key too")
        return Credentials(operator=operator_name(operator, env))
    for path in (cert, key, ca):
        if path is not None and not path.is_file():
            raise ArgumentProblem(f"no file {excerpt(str(path), 200)}")
    return Credentials(cert=cert, key=key, ca=ca, server_name=server_name or "")


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "")
    return Path(value) if value else None


# -- a call -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    field: str
    rule: str
    description: str
    description_zh: str = ""


@dataclass
class ServiceFailure(Exception):
    """A call that did not succeed: the service's status, English and zh-CN messages and
    the fields it named; or no answer at all (`unreachable`)."""

    service: str
    target: str
    rpc: str
    code: str
    message: str
    message_zh: str = ""
    violations: list[Violation] = field(default_factory=list)
    unreachable: bool = False

    def __str__(self) -> str:
        return f"{self.service} ({self.target}) {self.rpc}: {self.code}: {self.message}"

    def hint(self, mtls: bool) -> str:
        if self.unreachable:
            return (
                f"is {self.service} running and listening on {self.target}? `make run` "
                f"starts it there by default; else give --target or "
                f"{target_env(self.service)}."
                + (
                    ""
                    if mtls
                    else " A service with mTLS on does not answer a client "
                    "without a certificate: give --cert and --key."
                )
            )
        if self.code == "UNAUTHENTICATED":
            return (
                "the service did not accept the caller's identity: in development it "
                "reads the header only with PUBREV_DEV_IDENTITY_HEADER=true; with mTLS "
                "give the operator's client certificate (--cert, --key, --ca)."
            )
        if self.code == "PERMISSION_DENIED":
            return (
                "the AdminService admits the operators' identity only: see docs/authorization.md."
            )
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "target": self.target,
            "rpc": self.rpc,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "violations": [v.__dict__ for v in self.violations],
            "unreachable": self.unreachable,
        }


def failure_from(error: grpc.RpcError, service: str, target: str, rpc: str) -> ServiceFailure:
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = (error.details() if isinstance(error, grpc.Call) else str(error)) or ""
    zh = ""
    violations: list[Violation] = []
    try:
        status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    except ValueError:  # details that disagree with the status: keep the plain message
        status = None
    details: Sequence[Any] = status.details if status is not None else ()
    for detail in details:
        localized = error_details_pb2.LocalizedMessage()
        bad_request = error_details_pb2.BadRequest()
        if detail.Is(localized.DESCRIPTOR) and detail.Unpack(localized):
            zh = localized.message
        elif detail.Is(bad_request.DESCRIPTOR) and detail.Unpack(bad_request):
            violations.extend(
                Violation(v.field, v.reason, v.description, v.localized_message.message)
                for v in bad_request.field_violations
            )
    return ServiceFailure(
        service, target, rpc, code.name, message, zh, violations, unreachable=code in UNREACHABLE
    )


class AdminClient:
    """The AdminService of one service, over one channel."""

    def __init__(self, service: str, target: str, credentials: Credentials, timeout: float) -> None:
        self.service = service
        self.target = target
        self.credentials = credentials
        self.timeout = timeout
        self._channel = credentials.channel(target)
        self.stub = admin_pb2_grpc.AdminServiceStub(self._channel)

    def call(self, rpc: str, request: Any, timeout: float | None = None) -> Any:
        method = getattr(self.stub, rpc)
        try:
            return method(
                request, metadata=self.credentials.metadata(), timeout=timeout or self.timeout
            )
        except grpc.RpcError as error:
            raise failure_from(error, self.service, self.target, rpc) from None

    def close(self) -> None:
        self._channel.close()


@contextmanager
def admin_client(
    service: str, target: str, credentials: Credentials, timeout: float
) -> Iterator[AdminClient]:
    client = AdminClient(service, target, credentials, timeout)
    try:
        yield client
    finally:
        client.close()
