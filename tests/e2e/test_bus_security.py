"""The bus on the real broker, under the declared ACLs (tools/bus_acls.py) on the local
broker's SASL/SCRAM listener: who is refused, who may write where, and a forged event that
is dead-lettered without holding back the real events of its aggregate.

The session's topics carry the session prefix (servicekit.testing.infra); the fixture gives
them the declared ACLs, as `devinfra up` gives the unprefixed ones, and removes them after.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.conn import create_conn
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.metadata import MetadataRequest

from credit.application.app import CreditApplication
from credit.bootstrap import build as build_credit
from credit.domain.credit_ledger import CreditLedger
from pubrev_contracts.topics import (
    CASEWORK_EVENTS,
    CREDIT_EVENTS,
    DISCLOSURE_EVENTS,
    INSPECTION_EVENTS,
)
from servicekit.consumer import ConsumerRunner, dead_letter_topic
from servicekit.eventstore import DeliveryRef
from servicekit.kafka_admin import KafkaSecurity, TopicCreationRefused, ensure_topics
from servicekit.relay import make_producer
from servicekit.testing import ROOT, eventually, publish_event, read_topic, running_service
from tools import bus_acls

LOCAL_SASL = "127.0.0.1:19094"
LOCAL_SECRETS = ROOT / ".local" / "kafka" / "sasl"
SAMPLES = ROOT / "contracts" / "samples"
OWN_TOPICS = {
    "disclosure": DISCLOSURE_EVENTS,
    "inspection": INSPECTION_EVENTS,
    "credit": CREDIT_EVENTS,
    "casework": CASEWORK_EVENTS,
}


# ------------------------------------------------------- the table against the services


def _subscriptions(service: str) -> list[Any]:
    """The consumer runner's subscriptions as each bootstrap wires them (over an in-memory
    application: only their topics and group names are read)."""
    memory = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if service == "inspection":
        from inspection.application.app import InspectionApplication
        from inspection.entrypoints.consumers import subscriptions as inspection_subs

        return inspection_subs(InspectionApplication(env=memory))
    if service == "credit":
        from credit.application.app import CreditApplication
        from credit.entrypoints.consumers import subscriptions as credit_subs

        return credit_subs(CreditApplication(env=memory))
    if service == "casework":
        from casework.application.app import CaseworkApplication
        from casework.entrypoints.consumers import subscriptions as casework_subs

        return casework_subs(CaseworkApplication(env=memory))
    return []


@pytest.mark.parametrize("bus", bus_acls.SERVICES, ids=lambda b: b.service)
def test_the_declared_acls_are_what_each_service_publishes_and_consumes(
    bus: bus_acls.ServiceBus,
) -> None:
    subscriptions = _subscriptions(bus.service)
    assert bus.events == OWN_TOPICS[bus.service]
    assert {read.topic for read in bus.reads} == {s.topic for s in subscriptions}
    assert all(s.consumer.startswith(bus.group_prefix) for s in subscriptions)
    assert (bus.dead_letters in bus.writes) == bool(subscriptions)
    mine = {b for b in bus_acls.bindings() if b.principal == f"User:{bus.service}"}
    assert {(b.resource_name, b.operation.name) for b in mine} == (
        {(t, "WRITE") for t in bus.writes}
        | {(r.topic, "READ") for r in bus.reads}
        | ({(bus.group_prefix, "READ")} if bus.reads else set())
    )


def test_the_strimzi_manifests_are_rendered_from_the_table() -> None:
    for path, text in bus_acls.rendered().items():
        assert path.read_text(encoding="utf-8") == text, f"run tools/bus_acls.py render: {path}"


# ------------------------------------------------------------------------- the broker


@dataclass(frozen=True)
class SecureBus:
    bootstrap: str
    """The SASL listener."""
    prefix: str
    secrets: Path

    def password_file(self, user: str) -> Path:
        return self.secrets / f"{user}.password"

    def security(self, user: str) -> KafkaSecurity:
        return KafkaSecurity.scram(user, self.password_file(user).read_text().strip())

    def topic(self, name: str) -> str:
        return self.prefix + name


@pytest.fixture(scope="module")
def bus(infra: dict[str, str]) -> Iterator[SecureBus]:
    external = os.environ.get("KAFKA_BOOTSTRAP")
    bootstrap = os.environ.get("KAFKA_SASL_BOOTSTRAP", LOCAL_SASL)
    if external and "KAFKA_SASL_BOOTSTRAP" not in os.environ:
        pytest.fail(
            "KAFKA_BOOTSTRAP names your own broker: set KAFKA_SASL_BOOTSTRAP to its "
            "SASL/SCRAM listener and PUBREV_KAFKA_SASL_SECRETS to a folder with "
            "<user>.password for admin and the four services"
        )
    secrets = Path(os.environ.get("PUBREV_KAFKA_SASL_SECRETS", LOCAL_SECRETS))
    bus = SecureBus(bootstrap, infra["prefix"], secrets)
    admin = bus.security(bus_acls.ADMIN)
    asyncio.run(bus_acls.apply_for_tests(bootstrap, bus.prefix, admin))
    yield bus
    asyncio.run(bus_acls.remove_for_tests(bootstrap, bus.prefix, admin))


async def _metadata(bus: SecureBus, **options: Any) -> Any:
    host, port = bus.bootstrap.rsplit(":", 1)
    conn = await create_conn(host, int(port), request_timeout_ms=5000, **options)
    try:
        return await conn.send(MetadataRequest([]))
    finally:
        conn.close()


@pytest.mark.infra
async def test_a_client_that_does_not_authenticate_is_refused(bus: SecureBus) -> None:
    with pytest.raises(KafkaConnectionError, match="closed"):
        await _metadata(bus)  # PLAINTEXT to the SASL port: the broker hangs up
    with pytest.raises(SaslAuthenticationFailed, match="invalid credentials"):
        await _metadata(bus, **KafkaSecurity.scram("credit", "not its password").client_options())
    with pytest.raises(SaslAuthenticationFailed):
        await _metadata(bus, **KafkaSecurity.scram("nobody", "x").client_options())
    # The same request with credit's own password is answered.
    assert await _metadata(bus, **bus.security("credit").client_options())


async def _write(bus: SecureBus, user: str, topic: str) -> None:
    producer = make_producer(bus.bootstrap, f"pubrev-{user}-test", bus.security(user))
    await producer.start()
    try:
        await producer.send_and_wait(bus.topic(topic), b"{}", key=b"k")
    finally:
        await producer.stop()


@pytest.mark.infra
async def test_casework_may_not_write_inspections_topic_and_inspection_may(
    bus: SecureBus,
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(bus, "casework", INSPECTION_EVENTS)
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(bus, "credit", INSPECTION_EVENTS)
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(bus, "inspection", dead_letter_topic("credit"))  # another's dead letters
    await _write(bus, "inspection", INSPECTION_EVENTS)  # the relay's producer, idempotent
    await _write(bus, "casework", CASEWORK_EVENTS)


async def _first_fetch(bus: SecureBus, user: str, topic: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        bus.topic(topic),
        bootstrap_servers=bus.bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        **bus.security(user).client_options(),
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()  # also after a refused start


@pytest.mark.infra
async def test_a_service_reads_only_what_it_consumes_in_its_own_groups(bus: SecureBus) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _first_fetch(bus, "credit", CASEWORK_EVENTS, "credit.ledger")
    with pytest.raises(GroupAuthorizationFailedError):
        await _first_fetch(bus, "casework", INSPECTION_EVENTS, "inspection.leads")
    await _first_fetch(bus, "credit", INSPECTION_EVENTS, f"credit.test-{uuid.uuid4().hex[:8]}")


@pytest.mark.infra
async def test_a_service_principal_creates_no_topic(bus: SecureBus) -> None:
    with pytest.raises(TopicCreationRefused, match="credit may not create topics"):
        await ensure_topics(
            bus.bootstrap, [bus.topic("pubrev.credit.extra.v1")], security=bus.security("credit")
        )
    # Its declared topics exist (the admin made them), so its start-up creates nothing.
    await ensure_topics(
        bus.bootstrap,
        [bus.topic(INSPECTION_EVENTS), bus.topic(CREDIT_EVENTS)],
        security=bus.security("credit"),
    )


# ----------------------------------------------------------------------- forged events


def _sample(name: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (SAMPLES / f"pubrev.inspection.{name}.v1.json").read_text()
    )
    return data | changes


@pytest.fixture
async def credit(
    bus: SecureBus, service_settings: Any
) -> AsyncIterator[tuple[CreditApplication, Any]]:
    """Credit's consumer on the SASL listener as User:credit, as in production."""
    settings = service_settings(
        "credit",
        kafka_bootstrap=bus.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="credit",
        kafka_sasl_password_file=bus.password_file("credit"),
    )
    async with running_service(build_credit, settings, ("consumer", "relay")) as (parts, run):
        assert isinstance(parts.app, CreditApplication) and run.consumer is not None
        yield parts.app, run


@pytest.mark.infra
async def test_a_forged_event_is_dead_lettered_and_the_real_events_of_its_aggregate_flow(
    bus: SecureBus,
    infra: dict[str, str],
    credit: tuple[CreditApplication, Any],
) -> None:
    app, run = credit
    runner: ConsumerRunner = run.consumer
    topic = bus.topic(INSPECTION_EVENTS)
    finding = str(uuid.uuid4())
    # A company of this test alone: other tests of the session publish findings about the
    # scenarios' companies on the same topic, and this consumer may read them too.
    company = "913502" + uuid.uuid4().hex[:12].upper()
    consumer = "credit.ledger"

    def applied(version: int) -> bool:
        return app.already_applied(DeliveryRef(consumer, finding, version))

    def score() -> int | None:
        ledger = app.find(CreditLedger.create_id(company), CreditLedger)
        return ledger.score if ledger else None

    # Whoever may write inspection's topic (here the admin) forges findings about a real
    # finding: a serious one as its version 1, and a version 5 that, were it tracked,
    # would make the real versions 1 to 5 look applied already.
    admin = bus.security(bus_acls.ADMIN)
    for version in (1, 5):
        await publish_event(
            bus.bootstrap,
            topic,
            "pubrev.inspection.ViolationFound.v1",
            _sample(
                "ViolationFound",
                aggregate_id=finding,
                aggregate_version=version,
                company_uscc=company,
                kind="C1",
                severity="serious",
            ),
            source="/pubrev/casework",
            security=admin,
        )

    async def both_refused() -> bool:
        return runner.refused == 2

    await eventually(both_refused, what="the two forged events refused")
    assert score() is None and not applied(1) and not applied(5)
    parked = await read_topic(
        infra["kafka"], bus.topic(dead_letter_topic("credit")), subject=finding, min_count=2
    )
    reasons = [dict(r.headers)["x-pubrev-error"].decode() for r in parked]
    assert reasons == 2 * [
        "refused: ce_source '/pubrev/casework' is not '/pubrev/inspection', "
        f"the only publisher of {INSPECTION_EVENTS}"
    ]

    # inspection's own events about the same finding, under its own principal.
    inspection = bus.security("inspection")
    await publish_event(
        bus.bootstrap,
        topic,
        "pubrev.inspection.ViolationFound.v1",
        _sample(
            "ViolationFound",
            aggregate_id=finding,
            aggregate_version=1,
            company_uscc=company,
            kind="C1",
            severity="general",
        ),
        security=inspection,
    )
    await publish_event(
        bus.bootstrap,
        topic,
        "pubrev.inspection.RectificationVerified.v1",
        _sample(
            "RectificationVerified",
            aggregate_id=finding,
            aggregate_version=2,
            company_uscc=company,
            kind="C1",
        ),
        security=inspection,
    )

    async def real_ones_applied() -> bool:
        return await asyncio.to_thread(applied, 2)

    await eventually(real_ones_applied, what="the real events of the finding applied")
    assert score() == 92  # one general finding (8 points), not the forged serious one
    assert not applied(5)
    assert runner.refused == 2
