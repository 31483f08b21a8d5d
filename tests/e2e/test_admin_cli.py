"""`pubrev-admin` against the real services (issue 11, item 4): their AdminService over gRPC,
on the real PostgreSQL and Kafka, the feeds to a real HTTP receiver.

The command line runs in this process (`pubrev_admin.cli.main` in a thread, its output
captured) beside the services it calls, and once as the installed `.venv/bin/pubrev-admin`
in a process of its own: it shows, re-drives and skips parked events (the issue's "Done
when"), re-pushes dead feed records of credit and casework, prints the lag of all four
services, rebuilds a projection, and works under mTLS with a client certificate."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casework.bootstrap import build as build_casework
from credit.application.app import CreditApplication
from credit.bootstrap import SCHEMAS
from credit.bootstrap import build as build_credit
from credit.domain.penalty import Penalty
from disclosure.bootstrap import build as build_disclosure
from inspection.bootstrap import build as build_inspection
from pubrev.common.v1 import audit_pb2
from pubrev.credit.v1 import credit_pb2, credit_pb2_grpc
from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev_admin.cli import main
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.identity import Identity
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, identity_metadata, publish_event, running_service
from services.casework.tests.support.scenario import zhihui_feed
from services.credit.tests.support.scenario import noticed, penalty_command
from services.disclosure.tests.support.requests import register, unique_code
from tools.feed_receiver import FeedReceiver, dev_keys

pytestmark = pytest.mark.infra

OPERATOR = "lin.wei"
ACTOR = f"agency=operator;role=operator;unit=putian;subject={OPERATOR}"
OFFICER = Identity("property-bureau", "officer", "licheng")
AUDITOR = identity_metadata("auditor", "auditor", "putian")
CHENGXIANG = identity_metadata("property-bureau", "officer", "chengxiang")
SAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "samples"
FEEDS = ("creditchina", "market", "zhihui")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


async def admin(*args: str) -> Ran:
    """One `pubrev-admin` command, in a thread (the services it calls run on this loop)."""
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(
        main, list(args), stdout=out, stderr=err, env={"PUBREV_OPERATOR": OPERATOR}
    )
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture
def receiver() -> Iterator[FeedReceiver]:
    schemas = {f: json.loads((SCHEMAS / f"{f}.schema.json").read_text()) for f in FEEDS}
    with FeedReceiver(schemas=schemas, keys=dev_keys(list(FEEDS))) as r:
        yield r


# -- parked, redrive, skip, feeds repush: credit ---------------------------------------------


async def test_pubrev_admin_shows_redrives_and_skips_parked_events(
    service_settings, receiver
) -> None:
    feeds = {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
    }
    async with running_service(
        lambda s: build_credit(s, feeds=feeds), service_settings("credit"), ("projector", "api")
    ) as (parts, run):
        app = parts.app
        assert isinstance(app, CreditApplication) and run.grpc
        target = f"127.0.0.1:{run.grpc.port}"
        at = ("--service", "credit", "--target", target)

        # Both feeds refuse the penalty's records (422): dead at once, parked by the pusher.
        receiver.refuse_next(2)
        refused = penalty_command("莆城管罚决〔2026〕41号")
        # A decision follows its notice (《行政处罚法》第四十四条): served 30 days before.
        await asyncio.to_thread(lambda: app.handle(OFFICER, noticed(app, refused, OFFICER)))
        record = f"penalty:{refused.decision_number}"

        async def both_parked() -> list[dict[str, Any]] | None:
            shown = await admin("parked", *at, "--json")
            assert shown.code == 0, shown.err
            entries: list[dict[str, Any]] = shown.json()["services"]["credit"]["parked"]
            return entries if len(entries) == 2 else None

        entries = await eventually(both_parked, what="both refused records parked")
        by_feed = {e["worker"]: e for e in entries}
        assert set(by_feed) == {"push:creditchina", "push:market"}
        for entry in entries:
            assert (entry["role"], entry["event_key"], entry["status"]) == (
                "push",
                record,
                "parked",
            )
            assert entry["error"].startswith("HTTP 422")
        china, market = by_feed["push:creditchina"], by_feed["push:market"]

        shown = await admin("parked", *at)
        assert shown.code == 0, shown.err
        assert f"credit ({target}): 2 parked\n  push\n" in shown.out
        assert f"    #{china['id']}  push:creditchina  event {record}\n" in shown.out
        assert "after 1 attempt: HTTP 422" in shown.out
        assert "pubrev-admin redrive ID --service S" in shown.out

        # After the fix (the receiver takes it now): re-driven, queued, delivered.
        redriven = await admin("redrive", str(china["id"]), *at)
        assert redriven.code == 0, redriven.err
        assert redriven.out.startswith(
            f"Re-drove #{china['id']} on credit (push:creditchina, event {record}) "
            "(queued again: the pusher sends it in its next round).\n"
        )

        async def delivered(feed: str) -> bool:
            return (feed, record) in receiver.records

        await eventually(lambda: delivered("creditchina"), what="the re-driven record sent")

        # Given up, with a reason: recorded with the entry, and in the audit trail.
        reason = "市场监管平台已由经办人手工录入"
        skipped = await admin("skip", f"#{market['id']}", *at, "--reason", reason)
        assert skipped.code == 0, skipped.err
        assert skipped.out.startswith(
            f"Skipped #{market['id']} on credit (push:market, "
            f"event {record}): it will not be applied or sent.\n"
        )
        assert f"by {ACTOR}, reason “{reason}”" in skipped.out

        nothing = await admin("parked", *at)
        assert (nothing.code, nothing.out) == (0, f"credit ({target}): nothing parked\n")
        history = await admin("parked", *at, "--status", "all", "--json")
        resolved = {e["id"]: e for e in history.json()["services"]["credit"]["parked"]}
        assert (resolved[china["id"]]["status"], resolved[china["id"]]["resolved_by"]) == (
            "redriven",
            ACTOR,
        )
        assert (
            resolved[market["id"]]["status"],
            resolved[market["id"]]["reason"],
            resolved[market["id"]]["resolved_by"],
        ) == ("skipped", reason, ACTOR)
        listed = await admin("parked", *at, "--status", "skipped")
        when = dt.datetime.fromisoformat(resolved[market["id"]]["resolved_at"])
        assert f"skipped {when:%Y-%m-%d %H:%M:%S} UTC by {ACTOR}: “{reason}”" in listed.out

        async with grpc.aio.insecure_channel(target) as channel:
            trail = await credit_pb2_grpc.CreditServiceStub(channel).GetHistory(
                credit_pb2.GetHistoryRequest(query=audit_pb2.HistoryQuery(limit=1000)),
                metadata=AUDITOR,
            )
        actions = [
            json.loads(e.payload_json) for e in trail.events if e.type == "OperatorAction.Taken"
        ]
        assert [(a["rpc"], a["actor"]) for a in actions] == [
            ("RedriveParked", ACTOR),
            ("SkipParked", ACTOR),
        ]
        assert actions[1]["details"]["reason"] == reason

        # The skipped record is still dead in the outbox: the feed's re-push sends it.
        today = dt.datetime.now(dt.UTC).date().isoformat()
        repush = (
            "feeds",
            "repush",
            "--service",
            "credit",
            "--target",
            target,
            "--feed",
            "market",
            "--status",
            "dead",
        )
        repushed = await admin(*repush, "--since", today)
        assert repushed.code == 0, repushed.err
        assert repushed.out == (
            f"Queued 1 dead record of market on credit enqueued since {today}T00:00:00+08:00 "
            f"again: {record}. The pusher sends it in its next round.\n"
        )
        await eventually(lambda: delivered("market"), what="the re-pushed record sent")
        again = await admin(*repush, "--json")
        assert again.json() == {
            "ok": True,
            "service": "credit",
            "feed": "market",
            "status": "dead",
            "since": "",
            "repushed": 0,
            "record_ids": [],
        }

        # A service's refusal: its status, English and zh-CN, and the field it names.
        bad = await admin("parked", *at, "--worker", "NOT A WORKER")
        assert bad.code == 1
        assert f"pubrev-admin: credit ({target}) refused ListParked: INVALID_ARGUMENT" in bad.err
        assert "\n  worker: has the wrong format" in bad.err and "[string.pattern]" in bad.err
        assert "格式不正确" in bad.err
        unknown = await admin("skip", "999999", *at, "--reason", "测试", "--json")
        assert unknown.code == 1
        assert (unknown.json()["error"]["code"], unknown.json()["error"]["message_zh"]) == (
            "NOT_FOUND",
            "暂存事件 #999999 不存在",
        )


async def test_redrive_honours_the_order_of_an_aggregate(service_settings, receiver) -> None:
    """A penalty stored before the bounds (a tab in its decision number) and its revocation:
    credit's feed projection parks the first and holds the second behind it. Re-driving
    the head before a fix fails again and says what still waits; the held one cannot be
    re-driven past its head; skipping the head makes the held one the head."""
    feeds = {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
    }
    async with running_service(
        lambda s: build_credit(s, feeds=feeds), service_settings("credit"), ("projector", "api")
    ) as (parts, run):
        app = parts.app
        assert isinstance(app, CreditApplication) and run.grpc
        at = ("--service", "credit", "--target", f"127.0.0.1:{run.grpc.port}")
        cmd = penalty_command("莆城管罚决〔2026〕\t42号")
        old = Penalty.impose(
            app.rules.display,
            decision_number=cmd.decision_number,
            party_name=cmd.party_name,
            party_uscc=cmd.party_uscc,
            violation_kind=cmd.violation_kind,
            facts=cmd.facts,
            legal_basis=cmd.legal_basis,
            penalty_types=list(cmd.penalty_types),
            content=cmd.content,
            fine_fen=cmd.fine_fen,
            confiscated_fen=cmd.confiscated_fen,
            decision_date=date(2026, 5, 6),
            valid_until=date(2026, 11, 5),
            severity=cmd.severity,
            authority_name=cmd.authority_name,
            authority_uscc=cmd.authority_uscc,
            unit=cmd.unit,
            remarks=cmd.remarks,
        )
        old.revoke("复议撤销", date(2026, 5, 8))
        await asyncio.to_thread(
            app.recorder.insert_events,
            [app.mapper.to_stored_event(e) for e in old.collect_events()],
        )

        async def chain() -> list[dict[str, Any]] | None:
            shown = await admin("parked", *at, "--role", "projector", "--json")
            entries: list[dict[str, Any]] = shown.json()["services"]["credit"]["parked"]
            return entries if len(entries) == 2 else None

        head, held = await eventually(chain, what="the penalty parked, its revocation held")
        assert held["held_behind"] == head["id"] and (head["version"], held["version"]) == (1, 2)
        shown = await admin("parked", *at)
        assert "1 parked, 1 held behind it\n  projector\n" in shown.out
        assert f"held behind #{head['id']} since " in shown.out

        again = await admin("redrive", str(head["id"]), *at)
        assert again.code == 1
        assert f"#{head['id']} failed again on credit (projection:credit.feeds" in again.out
        assert (
            f"Nothing was re-driven: #{head['id']} stays parked at the head; 1 event "
            "still waits behind it."
        ) in again.out

        past = await admin("redrive", str(held["id"]), *at)
        assert past.code == 1
        assert "refused RedriveParked: FAILED_PRECONDITION" in past.err
        assert f"re-drive #{head['id']} (it brings this one after it)" in past.err
        assert f"请重新投递 #{head['id']}" in past.err

        skipped = await admin(
            "skip", str(head["id"]), *at, "--reason", "决定书编号含制表符，已另行更正"
        )
        assert skipped.code == 0, skipped.err
        assert (
            f"#{held['id']}, held behind it, is now the head of its aggregate and still "
            f"parked: re-drive it with `pubrev-admin redrive {held['id']} --service "
            "credit`."
        ) in skipped.out
        [now] = (await admin("parked", *at, "--json")).json()["services"]["credit"]["parked"]
        assert (now["id"], now["held_behind"], now["status"]) == (held["id"], 0, "parked")


# -- the four services: lag, a rebuild, casework's feed -----------------------------------------


async def test_lag_of_all_four_services_a_rebuild_and_a_casework_repush(
    service_settings, receiver, infra
) -> None:
    await ensure_topics(infra["kafka"], [infra["prefix"] + DISCLOSURE_EVENTS])
    feeds = {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
    }
    warnings = zhihui_feed(receiver.feed_url("zhihui"))
    async with (
        running_service(build_disclosure, service_settings("disclosure")) as (_, d),
        running_service(build_inspection, service_settings("inspection")) as (_, i),
        running_service(lambda s: build_credit(s, feeds=feeds), service_settings("credit")) as (
            _,
            k,
        ),
        running_service(
            lambda s: build_casework(s, feed=warnings), service_settings("casework")
        ) as (_, c),
    ):
        assert d.grpc and i.grpc and k.grpc and c.grpc
        ports = {
            "disclosure": d.grpc.port,
            "inspection": i.grpc.port,
            "credit": k.grpc.port,
            "casework": c.grpc.port,
        }
        targets = [f"--target={s}=127.0.0.1:{p}" for s, p in ports.items()]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{d.grpc.port}") as channel:
            await register(
                disclosure_pb2_grpc.DisclosureServiceStub(channel), unique_code("ADM"), CHENGXIANG
            )

        # The installed command, in a process of its own, addresses from the environment.
        env = {
            **os.environ,
            "PUBREV_OPERATOR": OPERATOR,
            "CI": "true",
            **{f"PUBREV_ADMIN_{s.upper()}_TARGET": f"127.0.0.1:{p}" for s, p in ports.items()},
        }
        installed = Path(sys.executable).with_name("pubrev-admin")
        assert installed.is_file(), "make installs .venv/bin/pubrev-admin"
        process = await asyncio.create_subprocess_exec(
            str(installed),
            "lag",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        text = stdout.decode()
        assert process.returncode == 0, stderr.decode()
        for service, port in ports.items():
            assert f"{service} (127.0.0.1:{port})\n  relay       relay:{service}: at " in text
        assert "  consumers   none (it subscribes to no topic)\n" in text  # disclosure
        assert "  consumer    inspection." in text and "  consumer    credit." in text
        assert "  consumer    casework." in text

        lag = await admin("lag", *targets, "--json")
        assert lag.code == 0, lag.err
        services = lag.json()["services"]
        assert set(services) == set(ports)
        for service, answer in services.items():
            assert answer["relay"]["name"] == f"relay:{service}"
            assert answer["relay"]["head"] >= answer["relay"]["position"] >= 0
            assert answer["projections"] and answer["consumers_error"] == ""
            groups = {g["group"] for g in answer["consumers"]}
            assert (groups == set()) == (service == "disclosure")
            assert all(g.startswith(f"{service}.") for g in groups)
        assert services["disclosure"]["relay"]["head"] >= 1

        # A projection rebuilt from position 0, then swapped in.
        name = services["disclosure"]["projections"][0]["name"]
        at = ("--service", "disclosure", "--target", f"127.0.0.1:{ports['disclosure']}")
        rebuilt = await admin("projection", "rebuild", name, *at)
        assert rebuilt.code == 0, rebuilt.err
        assert rebuilt.out.startswith(f"Rebuilt {name} on disclosure from position 0 in ")
        assert "Nothing was parked." in rebuilt.out
        unknown = await admin("projection", "rebuild", "no.such-projection", *at)
        assert unknown.code == 1 and "unknown_projection" in unknown.err

        # casework's 智慧监督 feed: a warning refused once (dead), re-pushed, delivered.
        receiver.refuse_next(1)
        overdue = json.loads((SAMPLES / "pubrev.disclosure.DisclosureOverdue.v1.json").read_text())
        overdue |= {"aggregate_id": str(uuid.uuid4()), "community_code": "LC-0077"}
        await publish_event(
            infra["kafka"],
            infra["prefix"] + DISCLOSURE_EVENTS,
            "pubrev.disclosure.DisclosureOverdue.v1",
            overdue,
        )
        casework = ("--service", "casework", "--target", f"127.0.0.1:{ports['casework']}")

        async def dead() -> dict[str, Any] | None:
            shown = await admin("parked", *casework, "--role", "push", "--json")
            entries = shown.json()["services"]["casework"]["parked"]
            return entries[0] if entries else None

        entry = await eventually(dead, what="the refused warning parked")
        assert entry["worker"] == "push:zhihui"
        repushed = await admin("feeds", "repush", *casework, "--feed", "zhihui")
        assert repushed.code == 0, repushed.err
        assert repushed.out.startswith(
            f"Queued 1 dead record of zhihui on casework again: {entry['event_key']}."
        )

        async def delivered() -> bool:
            return ("zhihui", entry["event_key"]) in receiver.records

        await eventually(delivered, what="the re-pushed warning sent")
        assert (await admin("parked", *casework, "--json")).json()["services"]["casework"][
            "parked"
        ] == []  # the re-push closed its parked entry


async def test_lag_says_what_it_could_not_learn_when_the_broker_is_away(service_settings) -> None:
    """The relay's and projections' positions come from the service's database, the groups'
    offsets from Kafka: with the broker away the first are still shown, the missing part is
    said, and the exit status is 1 (a script must not take it for "no lag")."""
    async with running_service(build_credit, service_settings("credit"), ("api",)) as (_, run):
        assert run.grpc and run.admin and run.admin.kafka
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            nowhere = s.getsockname()[1]
        run.admin.kafka.bootstrap = f"127.0.0.1:{nowhere}"  # the broker, as the service sees it
        lag = await admin("lag", "--service", "credit", "--target", f"127.0.0.1:{run.grpc.port}")
        assert lag.code == 1
        assert "  relay       relay:credit: at 0 of 0 (caught up)\n" in lag.out
        assert "  consumers   the broker could not be asked: KafkaConnectionError" in lag.out
        assert "could not ask the broker for its consumer groups' offsets" in lag.err


# -- mTLS -------------------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    sans: list[x509.GeneralName],
    ca: bool = False,
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA, the service's certificate (localhost) and two clients: an operator and an
    auditor, each named by the URI SAN the services read."""
    ca_key = _key()
    ca = _cert("pubrev test CA", ca_key, None, [], ca=True)
    issuer = (x509.load_pem_x509_certificate(ca).subject, ca_key)
    (tmp_path / "ca.crt").write_bytes(ca)
    clients: list[tuple[str, list[x509.GeneralName]]] = [
        ("server", [x509.DNSName("localhost")]),
        (
            "operator",
            [
                x509.UniformResourceIdentifier(
                    "urn:pubrev:identity:agency=operator;role=operator;unit=putian;subject=chen.min"
                )
            ],
        ),
        (
            "auditor",
            [
                x509.UniformResourceIdentifier(
                    "urn:pubrev:identity:agency=auditor;role=auditor;unit=putian"
                )
            ],
        ),
    ]
    for name, sans in clients:
        key = _write_key(tmp_path / f"{name}.key", _key())
        private = serialization.load_pem_private_key(key.read_bytes(), None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        (tmp_path / f"{name}.crt").write_bytes(_cert(name, private, issuer, sans))
    return tmp_path


async def test_pubrev_admin_under_mtls_is_the_operator_its_certificate_names(
    service_settings, pki
) -> None:
    settings = service_settings(
        "disclosure",
        dev_identity_header=False,
        tls_cert=pki / "server.crt",
        tls_key=pki / "server.key",
        tls_client_ca=pki / "ca.crt",
    )
    async with running_service(build_disclosure, settings, ("api",)) as (_, run):
        assert run.grpc
        at = (
            "--service",
            "disclosure",
            "--target",
            f"localhost:{run.grpc.port}",
            "--ca",
            str(pki / "ca.crt"),
        )

        def client(name: str) -> tuple[str, ...]:
            return (*at, "--cert", str(pki / f"{name}.crt"), "--key", str(pki / f"{name}.key"))

        lag = await admin("lag", *client("operator"))
        assert lag.code == 0, lag.err
        assert lag.out.startswith(
            f"disclosure (localhost:{run.grpc.port})\n  relay       "
            "relay:disclosure: at 0 of 0 (caught up)\n"
        )
        auditor = await admin("lag", *client("auditor"))
        assert auditor.code == 1
        assert "refused GetLag: PERMISSION_DENIED" in auditor.err
        assert "Hint: the AdminService admits the operators' identity only" in auditor.err

        # Without a client certificate the TLS handshake fails: no answer at all.
        bare = await admin(
            "lag",
            "--service",
            "disclosure",
            "--target",
            f"127.0.0.1:{run.grpc.port}",
            "--timeout",
            "5",
        )
        assert bare.code == 3 and "did not answer GetLag: UNAVAILABLE" in bare.err
        assert "A service with mTLS on does not answer a client without a certificate" in bare.err
