"""The bus's client side, without a broker: how each client authenticates (KafkaSecurity),
which source a topic accepts, and the consumer runner refusing a record from anyone but the
topic's owner before any handler sees it. The same on the real broker, with the ACLs:
tests/e2e/test_bus_security.py."""

from __future__ import annotations

import json
import ssl
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from faststream.security import BaseSecurity, SASLScram512

from pubrev_contracts.events.inspection import ViolationFoundV1
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit.cloudevents import CloudEventAttributes, event_id, service_source, topic_source
from servicekit.consumer import ConsumerRunner, Subscription, dead_letter_topic
from servicekit.eventstore import DeliveryRef
from servicekit.isolation import ParkedStore
from servicekit.kafka_admin import KafkaSecurity, read_password, salted_password
from servicekit.settings import ServiceSettings

SAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "samples"


# ---------------------------------------------------------------------------- KafkaSecurity


def test_the_default_is_plaintext_with_no_credentials() -> None:
    security = KafkaSecurity()
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faststream() is None


def test_sasl_ssl_gives_scram_credentials_and_a_verifying_tls_context() -> None:
    security = KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", "credit", "pw")
    options = security.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert (
        options["sasl_mechanism"],
        options["sasl_plain_username"],
        options["sasl_plain_password"],
    ) == ("SCRAM-SHA-512", "credit", "pw")
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert "pw" not in repr(security)
    faststream = security.faststream()
    assert isinstance(faststream, SASLScram512)
    assert (faststream.username, faststream.password, faststream.use_ssl) == ("credit", "pw", True)


def test_sasl_plaintext_has_no_tls() -> None:
    security = KafkaSecurity.scram("inspection", "pw")
    assert "ssl_context" not in security.client_options()
    faststream = security.faststream()
    assert isinstance(faststream, SASLScram512) and not faststream.use_ssl


def test_ssl_alone_is_tls_without_sasl() -> None:
    faststream = KafkaSecurity("SSL").faststream()
    assert type(faststream) is BaseSecurity and faststream.use_ssl
    assert "sasl_mechanism" not in KafkaSecurity("SSL").client_options()


def test_sasl_without_a_password_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a SASL username and password"):
        KafkaSecurity("SASL_SSL", username="credit")


def test_from_settings_reads_the_password_file_without_its_line_end(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    settings = ServiceSettings(
        service="credit",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="credit",
        kafka_sasl_password_file=password,
    )
    security = KafkaSecurity.from_settings(settings)
    assert (security.protocol, security.username, security.password) == (
        "SASL_PLAINTEXT",
        "credit",
        "s3cret",
    )


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "password"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        read_password(empty)


def test_scram_salted_password_is_rfc_5802_hi() -> None:
    # RFC 7677's SCRAM-SHA-256 exchange (password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
    # 4096 iterations): the client proof computed from our SaltedPassword is the RFC's.
    import base64
    import hashlib
    import hmac

    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    salted = salted_password("pencil", salt, 4096, "sha256")
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    auth_message = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAf"
        b"uxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgb"
        b"NEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    assert base64.b64encode(proof) == b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="


# ------------------------------------------------------------------------------ ce_source


def test_a_topic_accepts_only_its_owners_source() -> None:
    assert topic_source(INSPECTION_EVENTS) == service_source("inspection") == "/pubrev/inspection"
    assert topic_source("test1a2b3c4d." + INSPECTION_EVENTS) == "/pubrev/inspection"
    assert Subscription("credit.ledger", INSPECTION_EVENTS, {}).source == "/pubrev/inspection"


@pytest.mark.parametrize(
    "topic", ["pubrev.inspection.dlq.v1", "inspection-events", "xpubrev.inspection.events.v1"]
)
def test_a_topic_that_does_not_name_its_owner_needs_an_explicit_source(topic: str) -> None:
    with pytest.raises(ValueError, match="does not name its owner"):
        Subscription("credit.ledger", topic, {})
    assert Subscription("credit.ledger", topic, {}, source="/pubrev/x").source == "/pubrev/x"


class Runner:
    """A consumer runner whose dead-letter publish is recorded instead of sent; it parks
    in a real database (servicekit.isolation)."""

    def __init__(self, store: ParkedStore) -> None:
        self.applied: list[tuple[str, int]] = []
        self.parked: list[dict[str, Any]] = []

        def on_violation(event: ViolationFoundV1, delivery: DeliveryRef) -> bool:
            self.applied.append((delivery.aggregate_id, delivery.version))
            return True

        self.subscription = Subscription(
            "credit.ledger", INSPECTION_EVENTS, {ViolationFoundV1: on_violation}
        )
        self.runner = ConsumerRunner("credit", "127.0.0.1:1", [self.subscription], store=store)

        async def publish(body: bytes, *, topic: str, headers: dict[str, str]) -> None:
            self.parked.append({"body": body, "topic": topic, "headers": headers})

        self.runner.broker.publish = publish  # type: ignore[method-assign,assignment]

    async def deliver(self, aggregate_id: str, version: int, source: str) -> None:
        body = json.loads((SAMPLES / "pubrev.inspection.ViolationFound.v1.json").read_text())
        body |= {"aggregate_id": aggregate_id, "aggregate_version": version}
        headers = CloudEventAttributes(
            id=event_id(aggregate_id, version),
            source=source,
            type=ViolationFoundV1.ce_type,
            time=datetime.now(UTC),
            subject=aggregate_id,
            unit="licheng",
        ).headers()
        value = json.dumps(body).encode()
        record = ConsumerRecord(
            INSPECTION_EVENTS,
            0,
            0,
            0,
            0,
            aggregate_id.encode(),
            value,
            None,
            36,
            len(value),
            headers,
        )
        await self.runner.dispatch(self.subscription, record)


@pytest.mark.infra
async def test_a_forged_source_is_parked_at_once_and_the_real_event_applied(
    parked_store: ParkedStore,
) -> None:
    runner = Runner(parked_store)
    finding = str(uuid.uuid4())
    await runner.deliver(finding, 1, "/pubrev/casework")  # forged, same aggregate, same version
    await runner.deliver(finding, 1, "/pubrev/inspection")
    assert runner.applied == [(finding, 1)]  # only the real one reached the handler
    assert runner.runner.refused == 1 and runner.runner.dead_lettered == 1
    [parked] = runner.parked
    assert parked["topic"] == dead_letter_topic("credit")
    assert parked["headers"]["ce_source"] == "/pubrev/casework"
    assert parked["headers"]["x-pubrev-error"].startswith(
        "refused: ce_source '/pubrev/casework' is not '/pubrev/inspection'"
    )


@pytest.mark.infra
async def test_the_refusal_echoes_only_a_prefix_of_a_long_source(parked_store: ParkedStore) -> None:
    runner = Runner(parked_store)
    await runner.deliver(str(uuid.uuid4()), 1, "/pubrev/" + "x" * 5000)
    error = runner.parked[0]["headers"]["x-pubrev-error"]
    assert len(error) < 300 and "x" * 100 not in error
