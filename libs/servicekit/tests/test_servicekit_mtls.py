"""Production identity: mTLS, the caller named by its client certificate (real TLS, real
gRPC channel; the development header is off, as the production settings force)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2

from servicekit.errors import PermissionDenied
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer
from servicekit.identity import Identity, current_identity
from servicekit.settings import ServiceSettings

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Pem:
    cert: bytes
    key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name,
           ec.EllipticCurvePrivateKey] | None, sans: list[x509.GeneralName],
           ca: bool = False) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


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

    server = leaf("localhost", [x509.DNSName("localhost")])
    (folder / "server.crt").write_bytes(server.cert)
    (folder / "server.key").write_bytes(server.key)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    identity = "urn:pubrev:identity:agency=property-bureau;role=officer;unit=hanjiang"
    return {
        "dir": folder,
        "officer": leaf("hanjiang officer", [x509.UniformResourceIdentifier(identity)]),
        "anonymous": leaf("no identity", [x509.DNSName("client.example")]),
    }


@pytest.fixture
async def server(pki: dict[str, Pem | Path]) -> Iterator[int]:
    folder = pki["dir"]
    assert isinstance(folder, Path)
    settings = ServiceSettings(
        service="disclosure", environment="production", grpc_port=0,
        tls_cert=folder / "server.crt", tls_key=folder / "server.key",
        tls_client_ca=folder / "ca.crt",
        # production also refuses a bus without SASL_SSL (this test never connects to it)
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="disclosure",
        kafka_sasl_password="secret",
    )
    seen: list[Identity] = []

    async def who_am_i(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        identity = current_identity()
        seen.append(identity)
        if identity.unit != "hanjiang":
            raise PermissionDenied("wrong unit")
        return identity.render().encode()

    kit = GrpcServer(settings, [])
    kit.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "test.Identity", {"WhoAmI": grpc.unary_unary_rpc_method_handler(who_am_i)}
    ),))
    port = await kit.start()
    yield port
    await kit.stop(0)


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


async def call(channel: grpc.aio.Channel, header: str | None = None) -> bytes:
    method = channel.unary_unary("/test.Identity/WhoAmI")
    metadata = ((IDENTITY_HEADER, header),) if header else None
    reply: bytes = await method(b"", metadata=metadata, timeout=10)
    return reply


async def test_certificate_names_the_caller(pki, server) -> None:
    async with _channel(pki, server, "officer") as channel:
        assert await call(channel) == b"agency=property-bureau;role=officer;unit=hanjiang"


async def test_certificate_without_identity_is_unauthenticated_header_ignored(
    pki, server
) -> None:
    async with _channel(pki, server, "anonymous") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            # A development header must not work in production, even over mTLS.
            await call(channel, header="agency=property-bureau;role=officer;unit=hanjiang")
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_no_client_certificate_no_call(pki, server) -> None:
    async with _channel(pki, server, None) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(channel)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_health_needs_no_identity_but_a_certificate(pki, server) -> None:
    async with _channel(pki, server, "anonymous") as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        reply = await check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
