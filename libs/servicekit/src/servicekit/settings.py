"""Service settings from the environment (pydantic-settings).

`KAFKA_BOOTSTRAP` and `DATABASE_URL` keep the names every tool here uses; the rest are
`PUBREV_*`. `DATABASE_URL` may name a server (its database is then `pubrev_<service>`) or,
with `PUBREV_DATABASE_IS_SERVICE_DB=true`, the service's own database as given.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_FRONTEND_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""A front end's name, as its certificate's identity gives it (subject=…)."""

DEFAULT_GRPC_PORTS = {"disclosure": 50051, "inspection": 50052, "credit": 50053, "casework": 50054}


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class KafkaSecurityProtocol(StrEnum):
    """Kafka's own names for how a client reaches the brokers."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class KafkaSaslMechanism(StrEnum):
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    SCRAM_SHA_256 = "SCRAM-SHA-256"


class ServiceSettings(BaseSettings):
    # Errors name the setting and the rule, never echo the input (a password may be in it).
    model_config = SettingsConfigDict(
        env_prefix="PUBREV_", extra="ignore", hide_input_in_errors=True
    )

    service: str
    environment: Environment = Environment.development
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP", "PUBREV_KAFKA_BOOTSTRAP"),
    )
    kafka_security_protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT
    """SASL_SSL in production (refused otherwise): the service authenticates as its own
    principal over TLS. PLAINTEXT only on the local broker's open listener."""
    kafka_sasl_mechanism: KafkaSaslMechanism = KafkaSaslMechanism.SCRAM_SHA_512
    kafka_sasl_username: str | None = None
    """The service's principal (User:<name>), e.g. the Strimzi KafkaUser `disclosure`."""
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    """The password in a file (the KafkaUser's Secret, key `password`, mounted); one of the
    two, never both."""
    kafka_ca_file: Path | None = None
    """PEM of the CA that signs the brokers' certificates (SSL/SASL_SSL); without it the
    system's trust store is used. The broker's host name is always verified."""
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:15432/postgres",
        validation_alias=AliasChoices("DATABASE_URL", "PUBREV_DATABASE_URL"),
    )
    database_is_service_db: bool = False
    grpc_host: str = "127.0.0.1"
    grpc_port: int | None = None
    """None: the service's default port (DEFAULT_GRPC_PORTS); 0: any free port (tests)."""
    api_workers: int = 1
    """Processes serving the api role on one port (SO_REUSEPORT): Python runs one core per
    process, so a 2-core node serves about twice the commands with 2."""
    grpc_reuseport: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    dev_identity_header: bool = False
    """Accept `x-pubrev-identity` without mTLS. Refused in production and with mTLS."""
    frontend_keys: dict[str, Path] = Field(default_factory=dict)
    """Trusted front ends (their certificates' subject) → Ed25519 public key (PEM) that
    verifies their assertions of people (JSON in PUBREV_FRONTEND_KEYS)."""
    log_level: str = "INFO"
    relay_batch_size: int = 500
    relay_idle_poll_seconds: float = 0.05
    topic_prefix: str = Field(default="", pattern=r"^[a-z0-9._-]*$")
    """Namespace for every topic this service touches (tests: one per session, so they
    neither see nor disturb a developer's topics on the same broker). Empty in production."""
    topic_replication_factor: int = 1
    """3 on a production cluster; 1 on the single local broker."""
    consumer_max_attempts: int = 5
    """Deliveries of one event before it is parked on the dead-letter topic."""
    shutdown_grace_seconds: float = 10.0
    db_pool_max: int = Field(default=8, ge=1)
    """Connections at most in a process's own pool (read models, parked events,
    attachments, feeds), which starts empty (servicekit.runtime.service_pool)."""
    event_store_pool_max: int = Field(default=20, ge=1)
    """Connections at most in a process's event store pool (eventsourcing's), which starts
    empty too. Set either per role in its deployment (the api's commands need the most)."""
    read_pool_max: int = Field(default=4, ge=1)
    """Connections at most in a process's asyncpg pool for the gRPC path's queries
    (servicekit.readside), which starts empty too; only an api process opens it."""
    db_pool_max_idle_seconds: float = Field(default=10.0, gt=0)
    """A pooled connection unused this long is closed: idle roles hold (almost) nothing."""

    @model_validator(mode="after")
    def _safe_identity(self) -> ServiceSettings:
        tls = (self.tls_cert, self.tls_key, self.tls_client_ca)
        if any(tls) and not all(tls):
            raise ValueError(
                "PUBREV_TLS_CERT, PUBREV_TLS_KEY and PUBREV_TLS_CLIENT_CA go together (mTLS)"
            )
        if self.dev_identity_header and all(tls):
            raise ValueError(
                "PUBREV_DEV_IDENTITY_HEADER=true is refused with mTLS: the client certificate "
                "names the caller"
            )
        if self.environment is Environment.production:
            if self.dev_identity_header:
                raise ValueError(
                    "PUBREV_DEV_IDENTITY_HEADER=true is refused when "
                    "PUBREV_ENVIRONMENT=production: callers must present client certificates"
                )
            if not all(tls):
                raise ValueError("production needs mTLS: set PUBREV_TLS_CERT/KEY/CLIENT_CA")
            if self.kafka_security_protocol is not KafkaSecurityProtocol.SASL_SSL:
                raise ValueError(
                    f"PUBREV_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol.value} is "
                    "refused when PUBREV_ENVIRONMENT=production: the bus needs SASL_SSL (the "
                    "service's own principal, over TLS)"
                )
        self._check_kafka_security()
        self._check_frontend_keys()
        if self.grpc_port is None:
            self.grpc_port = DEFAULT_GRPC_PORTS.get(self.service, 50050)
        if self.api_workers < 1:
            raise ValueError("PUBREV_API_WORKERS must be at least 1")
        if self.api_workers > 1 and self.grpc_port == 0:
            raise ValueError("PUBREV_API_WORKERS > 1 needs a fixed PUBREV_GRPC_PORT")
        return self

    def _check_kafka_security(self) -> None:
        protocol = self.kafka_security_protocol
        sasl = protocol in (KafkaSecurityProtocol.SASL_PLAINTEXT, KafkaSecurityProtocol.SASL_SSL)
        tls = protocol in (KafkaSecurityProtocol.SSL, KafkaSecurityProtocol.SASL_SSL)
        given = self.kafka_sasl_password is not None, self.kafka_sasl_password_file is not None
        if sasl:
            if not self.kafka_sasl_username:
                raise ValueError(
                    f"PUBREV_KAFKA_SECURITY_PROTOCOL={protocol.value} needs "
                    "PUBREV_KAFKA_SASL_USERNAME (the service's principal)"
                )
            if given == (False, False):
                raise ValueError(
                    f"PUBREV_KAFKA_SECURITY_PROTOCOL={protocol.value} needs "
                    "PUBREV_KAFKA_SASL_PASSWORD_FILE (or PUBREV_KAFKA_SASL_PASSWORD)"
                )
            if all(given):
                raise ValueError(
                    "PUBREV_KAFKA_SASL_PASSWORD and PUBREV_KAFKA_SASL_PASSWORD_FILE "
                    "are exclusive: set one"
                )
            if (
                self.kafka_sasl_password_file is not None
                and not self.kafka_sasl_password_file.is_file()
            ):
                raise ValueError(
                    f"PUBREV_KAFKA_SASL_PASSWORD_FILE: no file at "
                    f"{str(self.kafka_sasl_password_file)[:200]}"
                )
        elif self.kafka_sasl_username or any(given):
            raise ValueError(
                f"Kafka SASL credentials are set but PUBREV_KAFKA_SECURITY_PROTOCOL "
                f"is {protocol.value}: they would be ignored; use SASL_SSL"
            )
        if self.kafka_ca_file is not None:
            if not tls:
                raise ValueError(
                    f"PUBREV_KAFKA_CA_FILE is set but PUBREV_KAFKA_SECURITY_PROTOCOL "
                    f"is {protocol.value}, which uses no TLS"
                )
            if not self.kafka_ca_file.is_file():
                raise ValueError(
                    f"PUBREV_KAFKA_CA_FILE: no file at {str(self.kafka_ca_file)[:200]}"
                )

    def _check_frontend_keys(self) -> None:
        for name, path in self.frontend_keys.items():
            if _FRONTEND_NAME.fullmatch(name) is None:
                raise ValueError(
                    f"PUBREV_FRONTEND_KEYS: {name[:32]!r} is not a front end's "
                    "name (its certificate's subject: a-z, 0-9 and -)"
                )
            if not path.is_file():
                raise ValueError(
                    f"PUBREV_FRONTEND_KEYS: no key file for front end {name} at {str(path)[:200]}"
                )

    @property
    def mtls(self) -> bool:
        return self.tls_cert is not None

    @property
    def service_database_url(self) -> str:
        if self.database_is_service_db:
            return self.database_url
        return with_database(self.database_url, f"pubrev_{self.service}")

    @property
    def grpc_address(self) -> str:
        return f"{self.grpc_host}:{self.grpc_port}"


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))
