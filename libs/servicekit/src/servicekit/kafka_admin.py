"""The bus's client plumbing: how a client authenticates, topics, ACLs, SCRAM credentials.

- `KafkaSecurity`: the protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), the SCRAM
  user and password and the brokers' CA, from the service's settings; handed to every
  producer, consumer and admin client (aiokafka keyword arguments, or FastStream's
  `security=` object).
- `ensure_topics`: topics are created explicitly (the broker does not auto-create). A
  service principal may not create topics (the ACLs give it none of that): its topics are
  created beforehand by the admin (Strimzi KafkaTopic resources; locally tools/bus_acls.py),
  and it only finds them. A creation the broker refuses is an error that says so.
- ACLs and SCRAM credentials through the admin API, for the local broker and the tests.
  aiokafka has no public call for them, so the requests are built from its protocol
  classes (CreateAcls/DescribeAcls/DeleteAcls v1, AlterUserScramCredentials v0).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

if TYPE_CHECKING:
    from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


# ------------------------------------------------------------------------- authentication


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client reaches the brokers. The default is the local open listener."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        if self.protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
            raise ValueError(f"unknown Kafka security protocol {self.protocol[:32]!r}")
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.protocol} needs a SASL username and password")

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaSecurity:
        password = None
        if settings.kafka_sasl_password is not None:
            password = settings.kafka_sasl_password.get_secret_value()
        if settings.kafka_sasl_password_file is not None:
            password = read_password(settings.kafka_sasl_password_file)
        return cls(
            protocol=settings.kafka_security_protocol.value,
            mechanism=settings.kafka_sasl_mechanism.value,
            username=settings.kafka_sasl_username,
            password=password,
            ca_file=settings.kafka_ca_file,
        )

    @classmethod
    def scram(
        cls, username: str, password: str, *, tls: bool = False, ca_file: Path | None = None
    ) -> KafkaSecurity:
        return cls(
            "SASL_SSL" if tls else "SASL_PLAINTEXT", "SCRAM-SHA-512", username, password, ca_file
        )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying context (certificate chain and host name) on the given CA, else on
        the system's trust store; None without TLS."""
        if not self.tls:
            return None
        return ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        if self.sasl:
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options

    def faststream(self) -> BaseSecurity | None:
        """FastStream's `security=` for a KafkaBroker (None: plaintext, no SASL)."""
        if self.protocol == "PLAINTEXT":
            return None
        context = self.ssl_context()
        if not self.sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        assert self.username is not None and self.password is not None
        kind = SASLScram512 if self.mechanism == "SCRAM-SHA-512" else SASLScram256
        return kind(self.username, self.password, ssl_context=context, use_ssl=self.tls)


def read_password(path: Path) -> str:
    """A password file's content without its line end (a Kubernetes Secret has none, a file
    written by `echo` has one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"cannot read the Kafka password file {str(path)[:200]}: {type(error).__name__}"
        ) from None
    password = text.rstrip("\r\n")
    if not password:
        raise ValueError(f"the Kafka password file {str(path)[:200]} is empty")
    return password


def admin_client(
    bootstrap: str,
    security: KafkaSecurity | None = None,
    client_id: str = "pubrev-admin",
    **options: Any,
) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        **(security or KafkaSecurity()).client_options(),
        **options,
    )


@contextlib.asynccontextmanager
async def connected_admin(
    bootstrap: str, security: KafkaSecurity | None = None, **options: Any
) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = admin_client(bootstrap, security, **options)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


# ------------------------------------------------------------------------------------ lag


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    """-1: the group has committed nothing on this partition yet."""
    end: int

    @property
    def lag(self) -> int:
        return self.end - max(self.committed, 0)


async def consumer_lag(
    bootstrap: str, groups: Mapping[str, Iterable[str]], security: KafkaSecurity | None = None
) -> list[PartitionLag]:
    """Each group's committed offset against the end of each partition of its topics.

    From the group's committed offsets (OffsetFetch) and the partitions' end offsets
    (ListOffsets), not from aiokafka's `describe_consumer_groups`, which fails against the
    local Kafka 4.1 broker.
    Needs only what a service's principal has: Describe on its groups, Describe/Read on the
    topics it consumes."""
    options = (security or KafkaSecurity()).client_options()
    found: list[PartitionLag] = []
    async with connected_admin(bootstrap, security, client_id="pubrev-lag") as admin:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="pubrev-lag",
            group_id=None,
            enable_auto_commit=False,
            **options,
        )
        await consumer.start()
        try:
            wanted = sorted({t for topics in groups.values() for t in topics})
            numbers = {
                d["topic"]: sorted(p["partition"] for p in d["partitions"])
                for d in await admin.describe_topics(wanted)
                if d["error_code"] == 0
            }
            for group, topics in sorted(groups.items()):
                committed = await admin.list_consumer_group_offsets(group)
                partitions = [
                    TopicPartition(topic, n)
                    for topic in sorted(set(topics))
                    for n in numbers.get(topic, [])
                ]
                ends = await consumer.end_offsets(partitions) if partitions else {}
                for tp in partitions:
                    meta = committed.get(tp)
                    offset = -1 if meta is None or meta.offset < 0 else int(meta.offset)
                    found.append(
                        PartitionLag(group, tp.topic, tp.partition, offset, int(ends.get(tp, 0)))
                    )
        finally:
            await consumer.stop()
    return found


# --------------------------------------------------------------------------------- topics


class TopicCreationRefused(RuntimeError):
    """The broker refused to create a topic (for a service principal: it may not create
    topics; the admin creates them beforehand)."""


async def ensure_topics(
    bootstrap: str,
    topics: list[str],
    partitions: int = 3,
    replication_factor: int = 1,
    security: KafkaSecurity | None = None,
) -> None:
    async with connected_admin(bootstrap, security) as admin:
        # Only the topics this client may describe are listed: under ACLs, a service sees
        # its own topics and those it reads, which are exactly the ones it asks for.
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
                for name in missing
            ]
        )
        refused = []
        for result in response.to_object()["topic_errors"]:
            code = result["error_code"]
            # Another service may create the same topic at the same moment.
            if code not in (0, TOPIC_ALREADY_EXISTS):
                refused.append(f"{result['topic']}: {for_code(code).__name__}")
        if refused:
            who = (security.username if security and security.sasl else None) or "this client"
            raise TopicCreationRefused(
                f"topics missing and not created ({'; '.join(refused)}); {who} may not create "
                "topics: the admin creates them beforehand (Strimzi KafkaTopic resources, "
                "locally `tools/bus_acls.py apply-local`, run by devinfra)"
            )
        log.info("created topics", extra={"topics": missing})


# ----------------------------------------------------------------------------------- ACLs


class ResourceType(IntEnum):
    """Kafka's resource type codes (org.apache.kafka.common.resource.ResourceType)."""

    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class PatternType(IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class AclOperation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


ALLOW = 3


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule: `principal` may do `operation` on the resource, from any host."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    operation: AclOperation
    pattern: PatternType = PatternType.LITERAL
    host: str = "*"

    def row(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            self.resource_type,
            self.resource_name,
            self.pattern,
            self.principal,
            self.host,
            self.operation,
            ALLOW,
        )


class AclRequestFailed(RuntimeError):
    pass


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 30

    def __init__(self, bindings: list[AclBinding]) -> None:
        self.bindings = bindings

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> Any:
        return request_struct_class([b.row() for b in self.bindings])


class _DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 31

    def __init__(self, bindings: list[AclBinding]) -> None:
        self.bindings = bindings

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> Any:
        return request_struct_class([b.row() for b in self.bindings])


def _raise_for(code: int, message: str | None, what: str) -> None:
    if code:
        raise AclRequestFailed(
            f"{what}: {for_code(code).__name__}" + (f" ({message[:200]})" if message else "")
        )


async def describe_acls(
    admin: AIOKafkaAdminClient, principal: str | None = None
) -> set[AclBinding]:
    """The ALLOW rules of `principal` (every principal's when None)."""
    response = await admin._send_request(
        DescribeAclsRequest(
            ResourceType.ANY,
            None,
            PatternType.ANY,
            principal,
            None,
            AclOperation.ANY,
            ALLOW,
        )
    )
    result = response.to_object()
    _raise_for(result["error_code"], result["error_message"], "DescribeAcls")
    return {
        AclBinding(
            acl["principal"],
            ResourceType(resource["resource_type"]),
            resource["resource_name"],
            AclOperation(acl["operation"]),
            PatternType(resource["resource_pattern_type"]),
            acl["host"],
        )
        for resource in result["resources"]
        for acl in resource["acls"]
        if acl["permission_type"] == ALLOW
    }


async def create_acls(admin: AIOKafkaAdminClient, bindings: Iterable[AclBinding]) -> None:
    """Adds the rules (adding one that exists is a no-op)."""
    wanted = sorted(bindings)
    if not wanted:
        return
    response = await admin._send_request(_CreateAcls(wanted))
    for binding, result in zip(wanted, response.to_object()["creation_responses"], strict=True):
        _raise_for(result["error_code"], result["error_message"], f"CreateAcls {binding}")


async def delete_acls(admin: AIOKafkaAdminClient, bindings: Iterable[AclBinding]) -> None:
    """Removes exactly these rules (each one is its own exact filter)."""
    doomed = sorted(bindings)
    if not doomed:
        return
    response = await admin._send_request(_DeleteAcls(doomed))
    for binding, result in zip(doomed, response.to_object()["filter_responses"], strict=True):
        _raise_for(result["error_code"], result["error_message"], f"DeleteAcls {binding}")


# ----------------------------------------------------------------------- SCRAM credentials


class _AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("tags", TaggedFields),
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterUserScramCredentials(
    Request[_AlterUserScramCredentialsRequest_v0]  # type: ignore[misc]
):
    API_KEY = 51

    def __init__(
        self, upsertions: list[tuple[str, int, int, bytes, bytes, dict[int, bytes]]]
    ) -> None:
        self.upsertions = upsertions

    def build(self, request_struct_class: type[_AlterUserScramCredentialsRequest_v0]) -> Any:
        return request_struct_class([], self.upsertions, {})


SCRAM_MECHANISMS = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
SCRAM_ITERATIONS = 8192


def salted_password(password: str, salt: bytes, iterations: int, hash_name: str) -> bytes:
    """SCRAM's SaltedPassword := Hi(password, salt, i) (RFC 5802), which is PBKDF2 with the
    mechanism's HMAC and one block of output. The broker stores keys derived from it; the
    password itself never travels."""
    return hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)


async def upsert_scram_credentials(
    admin: AIOKafkaAdminClient,
    passwords: Mapping[str, str],
    mechanism: str = "SCRAM-SHA-512",
) -> None:
    """Sets each user's SCRAM credential (creates the user, or replaces its password)."""
    code, hash_name = SCRAM_MECHANISMS[mechanism]
    upsertions: list[tuple[str, int, int, bytes, bytes, dict[int, bytes]]] = []
    for user, password in sorted(passwords.items()):
        salt = os.urandom(32)
        upsertions.append(
            (
                user,
                code,
                SCRAM_ITERATIONS,
                salt,
                salted_password(password, salt, SCRAM_ITERATIONS, hash_name),
                {},
            )
        )
    if not upsertions:
        return
    response = await admin._send_request(_AlterUserScramCredentials(upsertions))
    for result in response.to_object()["results"]:
        if result["error_code"]:
            raise AclRequestFailed(
                f"AlterUserScramCredentials {result['user'][:64]}: "
                f"{for_code(result['error_code']).__name__}"
                + (f" ({result['error_message'][:200]})" if result["error_message"] else "")
            )
