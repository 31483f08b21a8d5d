"""Credit on the real stack: findings from Kafka deduct once under redelivery; penalties
(on their notices) go out on both feeds to a real HTTP receiver, validated against the
published schemas, signed; a refusing receiver dead-letters a record, re-push delivers it;
a revocation sends its withdrawal with the 3-working-day deadline. Due process: an agency's
finding charges no company, a withdrawn finding annuls its deduction, an approved credit
repair (its proof uploaded through the evidence service) withdraws the record from 信用中国."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from credit.application.app import CreditApplication
from credit.bootstrap import SCHEMAS, build
from credit.domain.credit_ledger import CreditLedger
from pubrev.common.v1 import evidence_pb2, evidence_pb2_grpc
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from pubrev_contracts.events.inspection import FindingWithdrawnV1
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit import faults
from servicekit.identity import Identity
from servicekit.kafka_admin import ensure_topics
from servicekit.postgres import eventsourcing_env
from servicekit.push import PushOutbox
from servicekit.settings import ServiceSettings
from servicekit.testing import (
    FakeClock,
    eventually,
    identity_metadata,
    publish_event,
    running_service,
)
from services.credit.tests.support.scenario import (
    AUTHORITY_USCC,
    COMPANY,
    notice_request,
    noticed,
    penalty_command,
    penalty_request,
)
from tools.feed_receiver import FeedReceiver, dev_keys

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
OFFICER = identity_metadata("property-bureau", "officer", "licheng")
OFFICER_ID = Identity("property-bureau", "officer", "licheng")
CITY = identity_metadata("property-bureau", "officer", "putian")
OPERATOR = identity_metadata("operator", "operator", "putian")
FEEDS = ("creditchina", "market")


@pytest.fixture
def receiver() -> Iterator[FeedReceiver]:
    schemas = {f: json.loads((SCHEMAS / f"{f}.schema.json").read_text()) for f in FEEDS}
    with FeedReceiver(schemas=schemas, keys=dev_keys(FEEDS)) as r:
        yield r


def feed_env(receiver: FeedReceiver, max_attempts: int) -> dict[str, str]:
    """The feeds' settings as the environment gives them, pointing at the test's receiver."""
    return {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
        "PUBREV_FEED_MAX_ATTEMPTS": str(max_attempts),
    }


def sample(name: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (SAMPLES / f"pubrev.inspection.{name}.v1.json").read_text()
    )
    return data | changes


def score(app: CreditApplication) -> int | None:
    ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    return ledger.score if ledger else None


async def test_findings_penalties_and_feeds(service_settings, infra, receiver) -> None:
    topic = infra["prefix"] + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    feeds = feed_env(receiver, max_attempts=2)
    finding = str(uuid.uuid4())
    check = str(uuid.uuid4())
    faults.arm("consumer.after_effect", times=1)  # the first delivery fails after its effect
    try:
        async with running_service(lambda s: build(s, feeds=feeds), service_settings("credit")) as (
            parts,
            run,
        ):
            app = parts.app
            assert isinstance(app, CreditApplication) and run.grpc and run.consumer
            await publish_event(
                infra["kafka"],
                topic,
                "pubrev.inspection.ViolationFound.v1",
                sample(
                    "ViolationFound",
                    aggregate_id=finding,
                    company_uscc=COMPANY,
                    kind="C1",
                    severity="general",
                ),
            )
            await publish_event(
                infra["kafka"],
                topic,
                "pubrev.inspection.SpotCheckDone.v1",
                sample("SpotCheckDone", aggregate_id=check, company_uscc=COMPANY),
            )

            async def deducted() -> bool:
                return (
                    score(app) == 92 and run.consumer is not None and run.consumer.duplicates >= 1
                )

            await eventually(deducted, what="one deduction despite the redelivery")
            assert faults._armed["consumer.after_effect"] == 0

            async def delivered(*keys: tuple[str, str]) -> bool:
                return all(k in receiver.records for k in keys)

            await eventually(
                lambda: delivered(("market", f"spot-check:{check}")),
                what="the spot-check result on the market feed",
            )
            async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
                stub = pb_grpc.CreditServiceStub(channel)
                ledger = await stub.GetLedger(
                    pb.GetLedgerRequest(company_uscc=COMPANY), metadata=OFFICER
                )
                assert (ledger.score, ledger.grade) == (92, "AAA")
                assert [e.type for e in ledger.entries] == ["deducted"]

                cmd = penalty_command()
                notice = await stub.NotifyIntendedPenalty(notice_request(cmd), metadata=OFFICER)
                receiver.fail_next(1)  # the first attempt gets a 503: retried
                await stub.ImposePenalty(penalty_request(cmd, notice.notice_id), metadata=OFFICER)
                record_id = f"penalty:{cmd.decision_number}"
                await eventually(
                    lambda: delivered(("creditchina", record_id), ("market", record_id)),
                    timeout=30,
                    what="the penalty on both feeds",
                )
                pushed = receiver.records[("creditchina", record_id)]
                assert pushed["fine_wan_yuan"] == "5.000000"
                assert pushed["confiscated_wan_yuan"] == "1.234567"
                assert pushed["penalty_categories"] == ["警告", "罚款", "没收违法所得"]
                # 违法行为类型 as text, the code beside it; 处罚有效期 the decision's own,
                # 公示截止期 by the tier (general: 1 year at most, DOMAIN.md §6).
                assert (pushed["violation_type"], pushed["violation_code"]) == (
                    "擅自利用共有部分进行经营",
                    "C1",
                )
                assert (pushed["valid_until"], pushed["display_until"]) == (
                    "2026-11-05",
                    "2027-05-06",
                )

                # The receiver has the record a moment before the pusher marks it delivered.
                async def marked_delivered() -> bool:
                    status = await stub.GetFeedStatus(
                        pb.GetFeedStatusRequest(feed="creditchina", record_id=record_id),
                        metadata=CITY,
                    )
                    return status.status == "delivered" and len(status.attempts) >= 1

                await eventually(marked_delivered, what="the push outbox to say delivered")

                receiver.refuse_next(10)  # the receiver refuses: dead at once (422)
                revoked = await stub.RevokePenalty(
                    pb.RevokePenaltyRequest(
                        request_id="rv-1",
                        decision_number=cmd.decision_number,
                        reason="行政复议撤销",
                    ),
                    metadata=OFFICER,
                )
                withdrawal = f"withdrawal:{cmd.decision_number}"

                async def dead() -> bool:
                    s = await stub.GetFeedStatus(
                        pb.GetFeedStatusRequest(feed="creditchina", record_id=withdrawal),
                        metadata=CITY,
                    )
                    return s.status == "dead"

                await eventually(dead, what="the refused withdrawal to be dead-lettered")
                receiver.refuse_next(0)
                with pytest.raises(grpc.aio.AioRpcError) as refused:  # an operation
                    await stub.RepushFeedRecord(
                        pb.RepushFeedRecordRequest(feed="creditchina", record_id=withdrawal),
                        metadata=CITY,
                    )
                assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
                again = await stub.RepushFeedRecord(
                    pb.RepushFeedRecordRequest(feed="creditchina", record_id=withdrawal),
                    metadata=OPERATOR,
                )
                assert again.found
                await eventually(
                    lambda: delivered(("creditchina", withdrawal)), what="the re-pushed withdrawal"
                )
                sent = receiver.records[("creditchina", withdrawal)]
                assert sent["withdraw_by"] == revoked.withdraw_by
                assert sent["withdraws"] == record_id
    finally:
        faults.disarm_all()


OLD_NUMBER = "莆城管罚决〔2025〕7号"


def _old_record() -> dict[str, object]:
    """A 信用中国 record as the builder before this change made it: the violation's code as
    违法行为类型, 公示截止期 = 处罚有效期 = decision + 3 years, whatever the tier."""
    return {
        "record_type": "administrative_penalty",
        "record_id": f"penalty:{OLD_NUMBER}",
        "party_name": "莆田市荔园物业服务有限公司",
        "party_uscc": COMPANY,
        "decision_number": OLD_NUMBER,
        "violation_type": "B3",
        "facts": "停车收益未入账",
        "legal_basis": "《物业管理条例》第五十四条",
        "penalty_categories": ["警告"],
        "content": "警告",
        "fine_wan_yuan": "0.000000",
        "confiscated_wan_yuan": "0.000000",
        "decision_date": "2025-03-03",
        "valid_until": "2028-03-02",
        "display_until": "2028-03-02",
        "authority_name": "莆田市城市管理局",
        "authority_uscc": AUTHORITY_USCC,
        "source_unit_name": "莆田市城市管理局",
        "source_unit_uscc": AUTHORITY_USCC,
        "remarks": "",
    }


def _store_old_penalty(settings: ServiceSettings) -> None:
    """The database as the code before this change left it: the decision stored as a
    PenaltyImposed v1 event (no tier, no validity) and its record delivered to 信用中国."""
    app = CreditApplication(
        env=eventsourcing_env(settings.service_database_url),
        clock=lambda: datetime(2025, 3, 4, tzinfo=UTC),
    )
    try:
        old = replace(
            penalty_command(OLD_NUMBER),
            violation_kind="B3",
            decision_date="2025-03-03",
            valid_until="2025-09-02",
            penalty_types=("warning",),
            fine_fen=0,
            confiscated_fen=0,
        )
        app.handle(OFFICER_ID, noticed(app, old))
        [notification] = [
            n
            for n in app.recorder.select_notifications(1, 10)
            if n.topic.endswith("Penalty.Imposed")
        ]
        state = json.loads(notification.state)
        for added in ("severity", "valid_until", "repair_from", "class_version"):
            state.pop(added)
        state["display_until"] = {"_type_": "date_iso", "_data_": "2028-03-02"}
        table = sql.Identifier(getattr(app.recorder, "events_table_name"))  # noqa: B009
        with psycopg.connect(settings.service_database_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET state = %s WHERE originator_id = %s AND originator_version = 1"
                ).format(table),
                (json.dumps(state).encode(), notification.originator_id),
            )
            with conn.cursor() as cur:
                PushOutbox.create_tables(cur)
            conn.execute(
                "INSERT INTO push_records (feed, record_id, payload, created_at, status,"
                " attempts, next_attempt_at, delivered_at) VALUES ('creditchina', %s, %s,"
                " now(), 'delivered', 1, now(), now())",
                (f"penalty:{OLD_NUMBER}", Jsonb(_old_record())),
            )
    finally:
        app.close()


async def test_records_sent_under_the_old_rules_are_corrected(
    service_settings, infra, receiver
) -> None:
    """A penalty pushed under the old rules (code as 违法行为类型, 3 years' display,
    处罚有效期 = 公示截止期) is re-pushed: at start with the violation's text and code
    (vocabulary.violations), then, when the bureau states the tier (ClassifyPenalty), with the
    decision's own 处罚有效期 and the tier's 公示截止期 (DOMAIN.md §6); each correction
    carries the same record id and the correction marker. Classified minor, the record is
    withdrawn from 信用中国 (not published)."""
    await ensure_topics(infra["kafka"], [infra["prefix"] + INSPECTION_EVENTS])
    settings = service_settings("credit")
    _store_old_penalty(settings)
    feeds = feed_env(receiver, max_attempts=3)
    record_id = f"penalty:{OLD_NUMBER}"
    first, second = f"{record_id}#correction:1", f"{record_id}#correction:2"
    async with running_service(lambda s: build(s, feeds=feeds), settings) as (_, run):
        assert run.grpc is not None

        async def arrived(key: str) -> bool:
            return ("creditchina", key) in receiver.records

        await eventually(lambda: arrived(first), what="the automatic correction")
        fixed = receiver.records[("creditchina", first)]
        assert fixed["record_id"] == record_id and fixed["corrects"] == record_id
        assert fixed["correction"] is True
        assert (fixed["violation_type"], fixed["violation_code"]) == (
            "公共收益不入账、少入账",
            "B3",
        )
        # The tier is unknown: the periods stay as published until the bureau states it.
        assert fixed["display_until"] == "2028-03-02"

        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CreditServiceStub(channel)
            classified = await stub.ClassifyPenalty(
                pb.ClassifyPenaltyRequest(
                    request_id="c-1",
                    decision_number=OLD_NUMBER,
                    severity="general",
                    valid_until="2025-09-02",
                    reason="按信用修复管理办法补录处罚等级",
                ),
                metadata=OFFICER,
            )
            assert (classified.display_until, classified.repair_from) == (
                "2026-03-03",
                "2025-06-03",
            )
            await eventually(lambda: arrived(second), what="the classified correction")
            sent = receiver.records[("creditchina", second)]
            assert (sent["record_id"], sent["corrects"], sent["correction"]) == (
                record_id,
                record_id,
                True,
            )
            assert (sent["valid_until"], sent["display_until"]) == ("2025-09-02", "2026-03-03")
            assert sent["violation_type"] == "公共收益不入账、少入账"

            await stub.ClassifyPenalty(
                pb.ClassifyPenaltyRequest(
                    request_id="c-2",
                    decision_number=OLD_NUMBER,
                    severity="minor",
                    valid_until="2025-09-02",
                    reason="复核认定为轻微",
                ),
                metadata=OFFICER,
            )
            withdrawal = f"withdrawal:{OLD_NUMBER}:not-published:v3"
            await eventually(lambda: arrived(withdrawal), what="the minor one withdrawn")
            gone = receiver.records[("creditchina", withdrawal)]
            assert (gone["withdraws"], gone["cause"]) == (record_id, "not_published")


THE_COMPANY = identity_metadata("property-company", "manager", "licheng", COMPANY)
CREDIT_OFFICE = identity_metadata("credit-office", "officer", "licheng")
REPAIR_NUMBER = "莆城管罚决〔2026〕61号"
PROOF = b"%PDF-1.7\n% " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
"""A small PDF of the company's proof, new on every run (the store keeps files for ever)."""


async def test_due_process_on_the_real_stack(service_settings, infra, receiver) -> None:
    """inspection's findings: an agency's (E1) charges no company; a company's, withdrawn,
    is annulled once. A general penalty decided on 6 May 2026 on its notice: on 20 August
    (after its 3 months' minimum) the company applies for repair citing the proof it
    uploaded to credit's evidence store, which the credit office reads, the office
    approves, and the record's withdrawal (cause repaired) reaches 信用中国, validated
    against the published schema; market regulation keeps its record."""
    topic = infra["prefix"] + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    clock = FakeClock(datetime(2026, 8, 20, 2, tzinfo=UTC))
    feeds = feed_env(receiver, max_attempts=3)
    finding, agency_finding = str(uuid.uuid4()), str(uuid.uuid4())
    async with running_service(
        lambda s: build(s, clock=clock, feeds=feeds), service_settings("credit")
    ) as (parts, run):
        app = parts.app
        assert isinstance(app, CreditApplication) and run.grpc and run.consumer
        await publish_event(
            infra["kafka"],
            topic,
            "pubrev.inspection.ViolationFound.v1",
            sample(
                "ViolationFound",
                aggregate_id=agency_finding,
                company_uscc=COMPANY,
                kind="E1",
                party="agency",
                agency_unit="licheng",
            ),
        )
        await publish_event(
            infra["kafka"],
            topic,
            "pubrev.inspection.ViolationFound.v1",
            sample(
                "ViolationFound",
                aggregate_id=finding,
                company_uscc=COMPANY,
                kind="B3",
                severity="general",
            ),
        )
        await eventually(lambda: _score_is(app, 96), what="the company's finding deducted")
        withdrawn = FindingWithdrawnV1(
            aggregate_id=uuid.UUID(finding),
            aggregate_version=3,
            unit="licheng",
            occurred_at=clock(),
            community_code="LC-0001",
            company_uscc=COMPANY,
            kind="B3",
            reason="企业异议成立，撤销该发现",
            withdrawn_at=clock(),
        )
        await publish_event(
            infra["kafka"],
            topic,
            "pubrev.inspection.FindingWithdrawn.v1",
            withdrawn.model_dump(mode="json"),
        )
        await eventually(lambda: _score_is(app, 100), what="the withdrawn finding annulled")
        ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
        assert ledger is not None and agency_finding not in ledger.records
        assert ledger.annulled_ids == [finding]

        cmd = replace(penalty_command(REPAIR_NUMBER), request_id="p-61")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.CreditServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as unnoticed:
                await stub.ImposePenalty(penalty_request(cmd), metadata=OFFICER)
            assert unnoticed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
            notice = await stub.NotifyIntendedPenalty(notice_request(cmd), metadata=OFFICER)
            await stub.ImposePenalty(penalty_request(cmd, notice.notice_id), metadata=OFFICER)
            record_id = f"penalty:{REPAIR_NUMBER}"

            async def arrived(*keys: tuple[str, str]) -> bool:
                return all(k in receiver.records for k in keys)

            await eventually(
                lambda: arrived(("creditchina", record_id), ("market", record_id)),
                what="the penalty on both feeds",
            )
            # Its proof of performance, uploaded to credit's evidence store (served beside
            # CreditService), cited by the application, read by the office that decides it.
            evidence = evidence_pb2_grpc.EvidenceServiceStub(channel)
            uploaded = await evidence.UploadAttachment(
                evidence_pb2.UploadAttachmentRequest(
                    request_id=str(uuid.uuid4()),
                    content=PROOF,
                    media_type="application/pdf",
                    filename="罚款缴纳凭证.pdf",
                ),
                metadata=THE_COMPANY,
            )
            proof = uploaded.attachment
            applied = await stub.ApplyForCreditRepair(
                pb.ApplyForCreditRepairRequest(
                    request_id="a-61",
                    decision_number=REPAIR_NUMBER,
                    statement="已缴纳罚款并整改",
                    attachments=[proof],
                ),
                metadata=THE_COMPANY,
            )
            assert applied.applied_on == "2026-08-20"
            read = await evidence.GetAttachment(
                evidence_pb2.GetAttachmentRequest(sha256=proof.sha256), metadata=CREDIT_OFFICE
            )
            assert (read.content, read.attachment.filename) == (PROOF, "罚款缴纳凭证.pdf")
            with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
                await evidence.GetAttachment(
                    evidence_pb2.GetAttachmentRequest(sha256=proof.sha256),
                    metadata=identity_metadata("credit-office", "officer", "xianyou"),
                )
            assert elsewhere.value.code() is grpc.StatusCode.PERMISSION_DENIED
            decided = await stub.DecideCreditRepair(
                pb.DecideCreditRepairRequest(
                    request_id="r-61",
                    decision_number=REPAIR_NUMBER,
                    approved=True,
                    reason="符合信用修复条件",
                ),
                metadata=CREDIT_OFFICE,
            )
            assert decided.approved
            removal = f"withdrawal:{REPAIR_NUMBER}:repaired"
            await eventually(
                lambda: arrived(("creditchina", removal)), what="the removal on 信用中国"
            )
            sent = receiver.records[("creditchina", removal)]
            assert (sent["withdraws"], sent["cause"], sent["withdrawn_on"]) == (
                record_id,
                "repaired",
                "2026-08-20",
            )
            assert ("market", removal) not in receiver.records


async def _score_is(app: CreditApplication, expected: int) -> bool:
    return score(app) == expected
