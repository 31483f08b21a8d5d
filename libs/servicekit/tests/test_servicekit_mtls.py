"""Who is calling, over a real gRPC channel: with mTLS the client certificate's URI SAN names
the caller and the development header is refused; a front end's certificate plus its signed
assertion names the person it acts for; without mTLS, the development header (when on)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.assertion import ASSERTION_HEADER, sign
from servicekit.errors import PermissionDenied
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer, IdentityResolver
from servicekit.identity import IdentityRules, current_identity
from servicekit.settings import ServiceSettings

NOW = dt.datetime.now(dt.UTC)
RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
PREFIX = "urn:pubrev:identity:"
OFFICER = "agency=property-bureau;role=officer;unit=hanjiang"
APP = "agency=provincial-system;role=frontend;unit=putian;subject=putian-app"
CONSOLE = "agency=console;role=frontend;unit=putian;subject=console"
UNKEYED_APP = "agency=provincial-system;role=frontend;unit=putian;subject=unkeyed-app"
OWNERS = "agency=owners;role=representative;unit=hanjiang;subject=HJ-0001"
PUBLIC = "agency=public;role=anonymous;unit=putian"
APP_KEY = Ed25519PrivateKey.generate()
CONSOLE_KEY = Ed25519PrivateKey.generate()


@dataclass
class Pem:
    cert: bytes
    key: bytes


Pki = dict[str, Pem | Path]


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    sans: list[x509.GeneralName],
    ca: bool = False,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pem | Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca = _issue("pubrev test CA", ca_key, None, [], ca=True)
    issuer = (ca.subject, ca_key)

    def leaf(name: str, sans: list[x509.GeneralName]) -> Pem:
        key = _key()
        cert = _issue(name, key, issuer, sans)
        return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))

    def uri(identity: str) -> x509.UniformResourceIdentifier:
        return x509.UniformResourceIdentifier(PREFIX + identity)

    server = leaf("localhost", [x509.DNSName("localhost")])
    (folder / "server.crt").write_bytes(server.cert)
    (folder / "server.key").write_bytes(server.key)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "putian-app.pub.pem").write_bytes(_public_pem(APP_KEY))
    (folder / "console.pub.pem").write_bytes(_public_pem(CONSOLE_KEY))
    return {
        "dir": folder,
        "officer": leaf("hanjiang officer", [x509.DNSName("client.example"), uri(OFFICER)]),
        "anonymous": leaf("no identity", [x509.DNSName("client.example")]),
        "two": leaf(
            "two identities", [uri(OFFICER), uri("agency=property-bureau;role=head;unit=putian")]
        ),
        "dns-only": leaf("identity in a DNS name", [x509.DNSName(PREFIX + OFFICER)]),
        "invalid": leaf("police without office", [uri("agency=police;role=officer;unit=hanjiang")]),
        "app": leaf("provincial system", [uri(APP)]),
        "console": leaf("console", [uri(CONSOLE)]),
        "unkeyed": leaf("front end without a key", [uri(UNKEYED_APP)]),
    }


async def who_am_i(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    identity = current_identity()
    if identity.agency == "township":
        raise PermissionDenied("townships may not ask")
    if identity.agency == "market-regulation":
        # What a handler meets while PostgreSQL restarts: nothing was committed.
        raise RuntimeError("save failed") from psycopg.OperationalError(
            "the database system is shutting down"
        )
    if identity.agency == "credit-office":
        raise RuntimeError("a bug")
    return f"{identity.render()} via={identity.via}".encode()


async def _serve(settings: ServiceSettings) -> AsyncIterator[int]:
    kit = GrpcServer(settings, [], RULES)
    kit.server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Identity", {"WhoAmI": grpc.unary_unary_rpc_method_handler(who_am_i)}
            ),
        )
    )
    port = await kit.start()
    yield port
    await kit.stop(0)


def _keys(folder: Path) -> dict[str, Path]:
    return {"putian-app": folder / "putian-app.pub.pem", "console": folder / "console.pub.pem"}


@pytest.fixture
async def server(pki: dict[str, Pem | Path]) -> AsyncIterator[int]:
    folder = pki["dir"]
    assert isinstance(folder, Path)
    settings = ServiceSettings(
        service="disclosure",
        environment="test",
        grpc_port=0,
        tls_cert=folder / "server.crt",
        tls_key=folder / "server.key",
        tls_client_ca=folder / "ca.crt",
        frontend_keys=_keys(folder),
    )
    async for port in _serve(settings):
        yield port


@pytest.fixture
async def dev_server(pki: dict[str, Pem | Path]) -> AsyncIterator[int]:
    folder = pki["dir"]
    assert isinstance(folder, Path)
    settings = ServiceSettings(
        service="disclosure",
        environment="development",
        grpc_port=0,
        dev_identity_header=True,
        frontend_keys=_keys(folder),
    )
    async for port in _serve(settings):
        yield port


def _channel(pki: dict[str, Pem | Path], port: int, client: str | None) -> grpc.aio.Channel:
    folder = pki["dir"]
    assert isinstance(folder, Path)
    pem = pki[client] if client else None
    assert pem is None or isinstance(pem, Pem)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(folder / "ca.crt").read_bytes(),
        private_key=pem.key if pem else None,
        certificate_chain=pem.cert if pem else None,
    )
    return grpc.aio.secure_channel(
        f"localhost:{port}", credentials, options=[("grpc.ssl_target_name_override", "localhost")]
    )


async def call(
    channel: grpc.aio.Channel,
    header: str | None = None,
    assertion: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> str:
    method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        "/test.Identity/WhoAmI"
    )
    metadata = []
    if header is not None:
        metadata.append((IDENTITY_HEADER, header))
    if assertion is not None:
        metadata.append((ASSERTION_HEADER, assertion))
    reply: bytes = await method(b"", metadata=(*metadata, *extra), timeout=10)
    return reply.decode()


async def refused(
    channel: grpc.aio.Channel,
    code: grpc.StatusCode,
    *,
    header: str | None = None,
    assertion: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, header, assertion, extra)
    assert caught.value.code() == code, caught.value.details()
    return caught.value


def zh_message(error: grpc.aio.AioRpcError) -> str:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.LocalizedMessage.DESCRIPTOR):
                    message = error_details_pb2.LocalizedMessage()
                    detail.Unpack(message)
                    return str(message.message)
    raise AssertionError("no LocalizedMessage")


def now() -> int:
    return int(time.time())


# -- certificates ---------------------------------------------------------------------------


async def test_certificate_names_the_caller(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "officer") as channel:
        assert await call(channel) == f"{OFFICER} via="


async def test_the_development_header_is_refused_with_mtls_even_with_a_valid_certificate(
    pki: Pki, server: int
) -> None:
    for client in ("officer", "anonymous"):
        async with _channel(pki, server, client) as channel:
            error = await refused(
                channel,
                grpc.StatusCode.UNAUTHENTICATED,
                header="agency=property-bureau;role=head;unit=putian",
            )
            assert error.details() == "the development identity header is refused with mTLS"
            assert zh_message(error) == "已启用双向TLS，不接受开发用身份请求头"


async def test_a_certificate_naming_two_identities_is_refused(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "two") as channel:
        error = await refused(channel, grpc.StatusCode.UNAUTHENTICATED)
        assert error.details() == "the certificate names more than one pubrev identity"


async def test_only_a_uri_san_names_the_caller(pki: Pki, server: int) -> None:
    """The identity form is a URI SAN: the same text in a DNS name is not an identity."""
    async with _channel(pki, server, "dns-only") as channel:
        error = await refused(channel, grpc.StatusCode.UNAUTHENTICATED)
        assert error.details() == "no caller identity"


async def test_a_certificate_with_an_invalid_identity_is_refused(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "invalid") as channel:
        error = await refused(channel, grpc.StatusCode.UNAUTHENTICATED)
        assert error.details() == "police needs subject=<police_office>"


async def test_a_certificate_without_identity_is_unauthenticated(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "anonymous") as channel:
        await refused(channel, grpc.StatusCode.UNAUTHENTICATED)


async def test_no_client_certificate_no_call(pki: Pki, server: int) -> None:
    async with _channel(pki, server, None) as channel:
        await refused(channel, grpc.StatusCode.UNAVAILABLE)


async def test_health_needs_no_identity_but_a_certificate(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "anonymous") as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        reply = await check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_errors_of_the_application_still_map(pki: Pki, server: int) -> None:
    """A refusal by the handler (after the identity was bound) keeps its own code."""
    async with _channel(pki, server, "app") as channel:
        township = "agency=township;role=officer;unit=hanjiang"
        # The provincial system may not assert a township; the console may.
        await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(APP_KEY, "putian-app", township, now()),
        )
    async with _channel(pki, server, "console") as channel:
        await refused(
            channel,
            grpc.StatusCode.PERMISSION_DENIED,
            assertion=sign(CONSOLE_KEY, "console", township, now()),
        )


# -- front ends and their assertions --------------------------------------------------------


async def test_a_front_end_s_assertion_binds_the_person_with_via(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "app") as channel:
        assert await call(channel, assertion=sign(APP_KEY, "putian-app", OWNERS, now())) == (
            f"{OWNERS} via=putian-app"
        )
        assert await call(channel, assertion=sign(APP_KEY, "putian-app", PUBLIC, now())) == (
            f"{PUBLIC} via=putian-app"
        )
    async with _channel(pki, server, "console") as channel:
        assert await call(channel, assertion=sign(CONSOLE_KEY, "console", OFFICER, now())) == (
            f"{OFFICER} via=console"
        )


async def test_a_front_end_without_an_assertion_is_only_itself(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "app") as channel:
        assert await call(channel) == f"{APP} via="


async def test_a_front_end_may_not_assert_an_agency_outside_its_people(
    pki: Pki, server: int
) -> None:
    async with _channel(pki, server, "app") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(APP_KEY, "putian-app", OFFICER, now()),
        )
        assert error.details() == "provincial-system may not act for property-bureau"
        assert zh_message(error) == "该前端系统无权代表此类用户"
    async with _channel(pki, server, "console") as channel:
        for other in ("agency=auditor;role=auditor;unit=putian", CONSOLE):
            await refused(
                channel,
                grpc.StatusCode.UNAUTHENTICATED,
                assertion=sign(CONSOLE_KEY, "console", other, now()),
            )


async def test_an_expired_assertion_is_refused(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "app") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(APP_KEY, "putian-app", OWNERS, now() - 200, ttl=60),
        )
        assert error.details() == "assertion refused: expired or not yet valid"


async def test_a_forged_assertion_is_refused(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "app") as channel:
        for token in (
            sign(Ed25519PrivateKey.generate(), "putian-app", OWNERS, now()),
            sign(CONSOLE_KEY, "console", OWNERS, now()),
            "not-a-token",
        ):
            await refused(channel, grpc.StatusCode.UNAUTHENTICATED, assertion=token)


async def test_another_front_end_s_assertion_is_refused(pki: Pki, server: int) -> None:
    """A console assertion captured and replayed by the provincial system is not its own."""
    token = sign(CONSOLE_KEY, "console", PUBLIC, now())
    async with _channel(pki, server, "app") as channel:
        await refused(channel, grpc.StatusCode.UNAUTHENTICATED, assertion=token)


async def test_a_front_end_without_a_configured_key_asserts_nobody(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "unkeyed") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(APP_KEY, "unkeyed-app", OWNERS, now()),
        )
        assert "no key is configured" in (error.details() or "")


async def test_an_asserted_identity_is_parsed_as_strictly(pki: Pki, server: int) -> None:
    async with _channel(pki, server, "app") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(
                APP_KEY, "putian-app", "agency=owners;role=representative;unit=hanjiang", now()
            ),
        )
        assert error.details() == "owners needs subject=<community>"


async def test_a_caller_that_is_not_a_front_end_may_not_send_an_assertion(
    pki: Pki, server: int
) -> None:
    async with _channel(pki, server, "officer") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=sign(APP_KEY, "putian-app", OWNERS, now()),
        )
        assert error.details() == "only a front end may assert a person"


async def test_an_assertion_sent_twice_is_refused(pki: Pki, server: int) -> None:
    token = sign(APP_KEY, "putian-app", OWNERS, now())
    async with _channel(pki, server, "app") as channel:
        error = await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            assertion=token,
            extra=((ASSERTION_HEADER, token),),
        )
        assert error.details() == f"{ASSERTION_HEADER} sent twice"


async def test_a_failure_while_resolving_is_internal_not_unknown(
    pki: Pki, server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: IdentityResolver, context: object) -> None:
        raise RuntimeError("resolver bug")

    monkeypatch.setattr(IdentityResolver, "resolve", broken)
    async with _channel(pki, server, "officer") as channel:
        error = await refused(channel, grpc.StatusCode.INTERNAL)
        assert (error.details() or "").startswith("internal error, incident ")
        assert "resolver bug" not in (error.details() or "")


# -- development mode: no TLS, the header --------------------------------------------------


async def test_development_header_names_the_caller_without_tls(dev_server: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{dev_server}") as channel:
        assert await call(channel, header=OFFICER) == f"{OFFICER} via="
        error = await refused(
            channel, grpc.StatusCode.UNAUTHENTICATED, header="agency=drc;role=officer;unit=hanjiang"
        )
        assert error.details() == "unknown agency 'drc'"
        await refused(channel, grpc.StatusCode.UNAUTHENTICATED)


async def test_development_front_end_header_with_an_assertion(dev_server: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{dev_server}") as channel:
        assert await call(
            channel, header=APP, assertion=sign(APP_KEY, "putian-app", OWNERS, now())
        ) == (f"{OWNERS} via=putian-app")
        await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            header=OFFICER,
            assertion=sign(APP_KEY, "putian-app", OWNERS, now()),
        )
        await refused(
            channel,
            grpc.StatusCode.UNAUTHENTICATED,
            header=APP,
            assertion=sign(APP_KEY, "putian-app", OWNERS, now() - 600),
        )


async def test_an_outage_is_unavailable_and_retryable_a_bug_is_internal(dev_server: int) -> None:
    """A database or broker outage is UNAVAILABLE with a RetryInfo (the caller retries with
    its request_id; the chaos run met INTERNAL during a PostgreSQL restart); anything else
    stays INTERNAL with an incident id, its text never sent."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{dev_server}") as channel:
        outage = await refused(
            channel,
            grpc.StatusCode.UNAVAILABLE,
            header="agency=market-regulation;role=officer;unit=hanjiang",
        )
        assert "retry with the same request_id" in (outage.details() or "")
        assert "shutting down" not in (outage.details() or "")
        assert "请使用相同的请求编号重试" in zh_message(outage)
        bug = await refused(
            channel,
            grpc.StatusCode.INTERNAL,
            header="agency=credit-office;role=officer;unit=hanjiang",
        )
        assert (bug.details() or "").startswith("internal error, incident ")
