"""Who may do what on the bus, declared once: each service's principal, its topics, its reads.

Every service authenticates to Kafka as its own principal, `User:<service>` (SCRAM-SHA-512),
and may
- write its own event topic `pubrev.<service>.events.v1` (its relay) and, if it consumes
  anything, its own dead-letter topic `pubrev.<service>.dlq.v1` (its consumer runner parks
  events there), nothing else;
- read exactly the topics its consumer runner subscribes to (`entrypoints/consumers.py`,
  checked against this table by tests/e2e/test_bus_security.py);
- use consumer groups named `<service>.…` (every subscription's group is so named);
- create no topic and change no configuration: the admin creates the topics beforehand
  (Strimzi KafkaTopic resources; on the local broker `apply-local` below). The services'
  start-up only finds them (servicekit.kafka_admin.ensure_topics).
The admin (`User:admin`, a super user) and, on the local broker only, the open PLAINTEXT
listener's `User:ANONYMOUS` (a super user there, so tests that predate the ACLs keep
working on 127.0.0.1:19092) are outside this table.

This table renders into
- `deploy/k8s/base/kafka/users.yaml` and `topics.yaml`: one Strimzi KafkaUser per service
  (SCRAM-SHA-512, simple authorization with exactly these ACLs) and one KafkaTopic per topic;
- the local broker (tools/devinfra.py runs `apply-local` on every `up` whose inputs changed):
  SCRAM credentials for the admin and each service (passwords in .local/kafka/sasl/, made
  once), the topics, and the same ACLs, stale ones removed;
- the tests (`bindings(prefix)`, `apply_for_tests`): the same ACLs over a test session's
  topic namespace.

    python tools/bus_acls.py show                   # the rules, one line each
    python tools/bus_acls.py render [--check]       # write (or compare) the Strimzi manifests
    python tools/bus_acls.py apply-local --bootstrap H:P --sasl-bootstrap H:P --secrets DIR
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.consumer import dead_letter_topic
from servicekit.kafka_admin import (
    AclBinding,
    AclOperation,
    KafkaSecurity,
    PatternType,
    ResourceType,
    connected_admin,
    create_acls,
    delete_acls,
    describe_acls,
    ensure_topics,
    upsert_scram_credentials,
)

ROOT = Path(__file__).resolve().parent.parent
K8S_DIR = ROOT / "deploy" / "k8s" / "base" / "kafka"
STRIMZI_CLUSTER = "pubrev"
"""The Strimzi `Kafka` resource's name (label strimzi.io/cluster): its operators pick up
these KafkaUsers and KafkaTopics."""
ADMIN = "admin"
PARTITIONS = 3
PRODUCTION_REPLICAS = 3
MIN_INSYNC_REPLICAS = 2


@dataclass(frozen=True)
class Read:
    topic: str
    why: str


@dataclass(frozen=True)
class ServiceBus:
    service: str
    reads: tuple[Read, ...]

    @property
    def principal(self) -> str:
        return f"User:{self.service}"

    @property
    def events(self) -> str:
        return f"pubrev.{self.service}.events.v1"

    @property
    def dead_letters(self) -> str:
        return dead_letter_topic(self.service)

    @property
    def writes(self) -> tuple[str, ...]:
        """Its events, and its dead letters if it consumes (nothing to park otherwise)."""
        return (self.events, self.dead_letters) if self.reads else (self.events,)

    @property
    def group_prefix(self) -> str:
        return f"{self.service}."


SERVICES = (
    ServiceBus("disclosure", reads=()),
    ServiceBus(
        "inspection",
        reads=(
            Read(
                DISCLOSURE_EVENTS,
                "the register, companies, filings and overdue quarters feed the spot-check pools",
            ),
            Read(CASEWORK_EVENTS, "complaints about a community are spot-check leads"),
        ),
    ),
    ServiceBus(
        "credit",
        reads=(
            Read(
                INSPECTION_EVENTS,
                "findings deduct credit, verified rectifications allow "
                "repair, spot-check results go to market regulation's feed",
            ),
        ),
    ),
    ServiceBus(
        "casework",
        reads=(
            Read(
                INSPECTION_EVENTS,
                "rectification orders open cases; findings, plans and checks "
                "feed the 智慧监督 warnings",
            ),
            Read(DISCLOSURE_EVENTS, "the register and filings feed the 智慧监督 warnings"),
            Read(CASEWORK_EVENTS, "its own complaints feed the 智慧监督 warnings"),
        ),
    ),
)
PRINCIPALS = (ADMIN, *(s.service for s in SERVICES))


def topics(prefix: str = "") -> list[str]:
    """Every declared topic (the services' events and dead letters), under `prefix`."""
    return sorted(prefix + t for s in SERVICES for t in s.writes)


def bindings(prefix: str = "", groups: bool = True) -> set[AclBinding]:
    """The declared ACLs; topic names under `prefix` (a test session's namespace). Group
    names carry no prefix (the consumer runner does not prefix them), so `groups=False`
    leaves them out for a session that must not touch the shared ones."""
    rules: set[AclBinding] = set()
    for bus in SERVICES:
        for topic in bus.writes:
            rules.add(
                AclBinding(bus.principal, ResourceType.TOPIC, prefix + topic, AclOperation.WRITE)
            )
        for read in bus.reads:
            rules.add(
                AclBinding(
                    bus.principal, ResourceType.TOPIC, prefix + read.topic, AclOperation.READ
                )
            )
        if groups and bus.reads:
            rules.add(
                AclBinding(
                    bus.principal,
                    ResourceType.GROUP,
                    bus.group_prefix,
                    AclOperation.READ,
                    PatternType.PREFIXED,
                )
            )
    return rules


# ----------------------------------------------------------------------- Strimzi manifests

STRIMZI_RESOURCE = {ResourceType.TOPIC: "topic", ResourceType.GROUP: "group"}
STRIMZI_PATTERN = {PatternType.LITERAL: "literal", PatternType.PREFIXED: "prefix"}
STRIMZI_OPERATION = {
    AclOperation.READ: "Read",
    AclOperation.WRITE: "Write",
    AclOperation.DESCRIBE: "Describe",
    AclOperation.CREATE: "Create",
}
HEADER = (
    "# Generated by tools/bus_acls.py from its table (the one declaration of the bus's "
    "ACLs):\n# edit the table and run `python tools/bus_acls.py render`, not this file.\n"
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_users() -> str:
    out = [HEADER]
    for bus in SERVICES:
        mine = sorted(b for b in bindings() if b.principal == bus.principal)
        why = {
            bus.events: "its relay publishes its events",
            bus.dead_letters: "its consumer runner parks events it cannot apply",
            bus.group_prefix: "its consumer groups (one per subscription)",
        }
        why |= {read.topic: read.why for read in bus.reads}
        out += [
            "---\n",
            f"# {bus.principal}: writes only its own topics, reads only what it consumes.\n",
            "apiVersion: kafka.strimzi.io/v1beta2\n",
            "kind: KafkaUser\n",
            "metadata:\n",
            f"  name: {bus.service}\n",
            "  labels:\n",
            f"    strimzi.io/cluster: {STRIMZI_CLUSTER}\n",
            "spec:\n",
            "  authentication:\n",
            "    # The User Operator makes Secret <name> (key `password`), mounted by the pods.\n",
            "    type: scram-sha-512\n",
            "  authorization:\n",
            "    type: simple\n",
            "    acls:\n",
        ]
        for rule in mine:
            out += [
                f"      # {why[rule.resource_name]}\n",
                "      - type: allow\n",
                "        resource:\n",
                f"          type: {STRIMZI_RESOURCE[rule.resource_type]}\n",
                f"          name: {_quote(rule.resource_name)}\n",
                f"          patternType: {STRIMZI_PATTERN[rule.pattern]}\n",
                f"        operations: [{STRIMZI_OPERATION[rule.operation]}]\n",
                f"        host: {_quote(rule.host)}\n",
            ]
    return "".join(out)


def render_topics() -> str:
    out = [HEADER]
    for bus in SERVICES:
        for topic in bus.writes:
            what = "events" if topic == bus.events else "dead letters"
            out += [
                "---\n",
                f"# {bus.service}'s {what}: written by User:{bus.service} only.\n",
                "apiVersion: kafka.strimzi.io/v1beta2\n",
                "kind: KafkaTopic\n",
                "metadata:\n",
                f"  name: {topic}\n",
                "  labels:\n",
                f"    strimzi.io/cluster: {STRIMZI_CLUSTER}\n",
                "spec:\n",
                f"  topicName: {topic}\n",
                f"  partitions: {PARTITIONS}\n",
                f"  replicas: {PRODUCTION_REPLICAS}\n",
                "  config:\n",
                "    # acks=all (the relay's producer) then means two copies at least.\n",
                f"    min.insync.replicas: {MIN_INSYNC_REPLICAS}\n",
            ]
    return "".join(out)


def rendered() -> dict[Path, str]:
    return {K8S_DIR / "users.yaml": render_users(), K8S_DIR / "topics.yaml": render_topics()}


# ------------------------------------------------------------------------- applying them


def _owned(binding: AclBinding, prefix: str, groups: bool) -> bool:
    """Whether a rule on the broker is in the namespace this run manages."""
    if binding.resource_type is ResourceType.TOPIC:
        return binding.resource_name.startswith(prefix + "pubrev.")
    return groups and binding.resource_type is ResourceType.GROUP


async def sync_acls(
    admin: AIOKafkaAdminClient, prefix: str = "", groups: bool = True
) -> tuple[int, int]:
    """Makes the declared principals' ACLs in the namespace (topics under `prefix`; groups
    when `groups`) exactly the declared ones; returns (added, removed)."""
    wanted = bindings(prefix, groups)
    existing: set[AclBinding] = set()
    for bus in SERVICES:
        existing |= await describe_acls(admin, bus.principal)
    stale = {b for b in existing if _owned(b, prefix, groups)} - wanted
    missing = wanted - existing
    await delete_acls(admin, stale)
    await create_acls(admin, missing)
    await _until_visible(admin, wanted, stale)
    return len(missing), len(stale)


async def _until_visible(
    admin: AIOKafkaAdminClient,
    wanted: set[AclBinding],
    gone: set[AclBinding],
    timeout: float = 15.0,
) -> None:
    """The broker applies ACLs from its metadata log a moment after the controller accepted
    them; its DescribeAcls answers from the authorizer's own state."""
    deadline = time.monotonic() + timeout
    while True:
        seen: set[AclBinding] = set()
        for principal in {b.principal for b in wanted | gone}:
            seen |= await describe_acls(admin, principal)
        if wanted <= seen and not gone & seen:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the broker did not show the ACLs within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def apply_for_tests(
    bootstrap: str, prefix: str, security: KafkaSecurity | None = None
) -> None:
    """A test session's namespace: its declared topics and their ACLs (the group ACLs are
    the shared ones the local broker already has from `apply-local`)."""
    await ensure_topics(bootstrap, topics(prefix), partitions=PARTITIONS, security=security)
    async with connected_admin(bootstrap, security) as admin:
        await create_acls(admin, bindings(prefix))  # the group ACLs exist already: no-op
        await _until_visible(admin, bindings(prefix), set())


async def remove_for_tests(
    bootstrap: str, prefix: str, security: KafkaSecurity | None = None
) -> None:
    async with connected_admin(bootstrap, security) as admin:
        await delete_acls(admin, bindings(prefix, groups=False))


def local_passwords(secrets_dir: Path) -> dict[str, str]:
    """The local broker's SCRAM passwords, one file per principal, made once (0600)."""
    secrets_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir.chmod(0o700)
    passwords = {}
    for user in PRINCIPALS:
        path = secrets_dir / f"{user}.password"
        if not path.is_file() or not path.read_text().strip():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
        passwords[user] = path.read_text().strip()
    return passwords


async def apply_local(bootstrap: str, sasl_bootstrap: str, secrets_dir: Path) -> str:
    """Through the open listener (a super user there): SCRAM credentials, topics, ACLs; then
    waits until the SASL listener takes the admin's password."""
    passwords = local_passwords(secrets_dir)
    async with connected_admin(bootstrap) as admin:
        await upsert_scram_credentials(admin, passwords)
        await ensure_topics(bootstrap, topics(), partitions=PARTITIONS)
        added, removed = await sync_acls(admin)
    await _until_authenticated(sasl_bootstrap, KafkaSecurity.scram(ADMIN, passwords[ADMIN]))
    return (
        f"{len(PRINCIPALS)} SCRAM users, {len(topics())} topics, {len(bindings())} ACLs "
        f"({added} added, {removed} removed)"
    )


async def _until_authenticated(
    bootstrap: str, security: KafkaSecurity, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with connected_admin(bootstrap, security, request_timeout_ms=5000) as admin:
                await admin.list_topics()
                return
        except Exception as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{bootstrap} does not accept {security.username}'s password: {error!r}"
                ) from error
            await asyncio.sleep(0.25)


# ------------------------------------------------------------------------------------ CLI


def show(rules: Iterable[AclBinding]) -> str:
    return "".join(
        f"{r.principal:<16} {r.operation.name:<6} {r.resource_type.name.lower():<5} "
        f"{r.resource_name}{'*' if r.pattern is PatternType.PREFIXED else ''}\n"
        for r in sorted(rules)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bus_acls.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show", help="the declared ACLs, one per line")
    render = sub.add_parser("render", help="write deploy/k8s/base/kafka/{users,topics}.yaml")
    render.add_argument("--check", action="store_true", help="fail if they are out of date")
    local = sub.add_parser(
        "apply-local",
        help="credentials, topics and ACLs on a broker whose open listener is a super user",
    )
    local.add_argument("--bootstrap", required=True, help="the open (PLAINTEXT) listener")
    local.add_argument("--sasl-bootstrap", required=True, help="the SASL_PLAINTEXT listener")
    local.add_argument("--secrets", required=True, type=Path, help="password files' folder")
    args = parser.parse_args(argv)
    if args.command == "show":
        print(show(bindings()), end="")
        return 0
    if args.command == "render":
        stale = []
        for path, text in rendered().items():
            if args.check:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    stale.append(str(path.relative_to(ROOT)))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        if stale:
            print(
                "bus ACL manifests out of date; run `python tools/bus_acls.py render`:",
                *stale,
                sep="\n  ",
                file=sys.stderr,
            )
            return 1
        print(
            f"bus_acls: {len(SERVICES)} KafkaUsers, {len(topics())} KafkaTopics "
            f"{'match' if args.check else 'written'}"
        )
        return 0
    summary = asyncio.run(apply_local(args.bootstrap, args.sasl_bootstrap, args.secrets))
    print(f"bus_acls: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
