"""Credit on the real stack: findings from Kafka deduct once under redelivery; penalties
go out on both feeds to a real HTTP receiver, validated against the published schemas,
signed; a refusing receiver dead-letters a record, re-push delivers it; a revocation sends
its withdrawal with the 3-working-day deadline."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from credit.application.app import CreditApplication
from credit.bootstrap import DEV_SECRET, SCHEMAS, FeedSettings, build
from credit.domain.ledger import CreditLedger
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit import faults
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import eventually, identity_metadata, publish_event, running_service
from tests.support.credit_scenario import COMPANY, penalty_command
from tools.feed_receiver import FeedReceiver

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
OFFICER = identity_metadata("property-bureau", "officer", "licheng")
CITY = identity_metadata("property-bureau", "officer", "putian")
FEEDS = ("creditchina", "market")


@pytest.fixture
def receiver() -> Iterator[FeedReceiver]:
    schemas = {f: json.loads((SCHEMAS / f"{f}.schema.json").read_text()) for f in FEEDS}
    with FeedReceiver(schemas=schemas, secrets={f: DEV_SECRET.encode() for f in FEEDS}) as r:
        yield r


def sample(name: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads((SAMPLES / f"pubrev.inspection.{name}.v1.json")
                                         .read_text())
    return data | changes



def score(app: CreditApplication) -> int | None:
    ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    return ledger.score if ledger else None


async def test_findings_penalties_and_feeds(service_settings, infra, receiver) -> None:
    topic = infra["prefix"] + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    feeds = FeedSettings(creditchina_url=receiver.feed_url("creditchina"),
                         market_url=receiver.feed_url("market"), max_attempts=2)
    finding = str(uuid.uuid4())
    check = str(uuid.uuid4())
    faults.arm("consumer.after_effect", times=1)  # the first delivery fails after its effect
    try:
        async with running_service(
            lambda s: build(s, feeds=feeds), service_settings("credit")
        ) as (parts, run):
            app = parts.app
            assert isinstance(app, CreditApplication) and run.grpc and run.consumer
            await publish_event(infra["kafka"], topic, "pubrev.inspection.ViolationFound.v1",
                          sample("ViolationFound", aggregate_id=finding, company_uscc=COMPANY,
                                 kind="C1", severity="general"))
            await publish_event(infra["kafka"], topic, "pubrev.inspection.SpotCheckDone.v1",
                          sample("SpotCheckDone", aggregate_id=check, company_uscc=COMPANY))

            async def deducted() -> bool:
                return score(app) == 92 and run.consumer is not None \
                    and run.consumer.duplicates >= 1

            await eventually(deducted, what="one deduction despite the redelivery")
            assert faults._armed["consumer.after_effect"] == 0

            async def delivered(*keys: tuple[str, str]) -> bool:
                return all(k in receiver.records for k in keys)

            await eventually(lambda: delivered(("market", f"spot-check:{check}")),
                             what="the spot-check result on the market feed")
            async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
                stub = pb_grpc.CreditServiceStub(channel)
                ledger = await stub.GetLedger(pb.GetLedgerRequest(company_uscc=COMPANY),
                                              metadata=OFFICER)
                assert (ledger.score, ledger.grade) == (92, "AAA")
                assert [e.type for e in ledger.entries] == ["deducted"]

                cmd = penalty_command()
                receiver.fail_next(1)  # the first attempt gets a 503: retried
                await stub.ImposePenalty(pb.ImposePenaltyRequest(
                    request_id=cmd.request_id, decision_number=cmd.decision_number,
                    party_name=cmd.party_name, party_uscc=cmd.party_uscc,
                    violation_kind=cmd.violation_kind, facts=cmd.facts,
                    legal_basis=cmd.legal_basis, penalty_types=list(cmd.penalty_types),
                    content=cmd.content, fine_fen=cmd.fine_fen,
                    confiscated_fen=cmd.confiscated_fen, decision_date=cmd.decision_date,
                    authority_name=cmd.authority_name, authority_uscc=cmd.authority_uscc,
                    unit="licheng"), metadata=OFFICER)
                record_id = f"penalty:{cmd.decision_number}"
                await eventually(lambda: delivered(("creditchina", record_id),
                                                   ("market", record_id)),
                                 timeout=30, what="the penalty on both feeds")
                pushed = receiver.records[("creditchina", record_id)]
                assert pushed["fine_wan_yuan"] == "5.000000"
                assert pushed["confiscated_wan_yuan"] == "1.234567"
                assert pushed["penalty_categories"] == ["警告", "罚款", "没收违法所得"]
                status = await stub.GetFeedStatus(pb.GetFeedStatusRequest(
                    feed="creditchina", record_id=record_id), metadata=CITY)
                assert status.status == "delivered" and len(status.attempts) >= 1

                receiver.refuse_next(10)  # the receiver refuses: dead at once (422)
                revoked = await stub.RevokePenalty(pb.RevokePenaltyRequest(
                    request_id="rv-1", decision_number=cmd.decision_number,
                    reason="行政复议撤销"), metadata=OFFICER)
                withdrawal = f"withdrawal:{cmd.decision_number}"

                async def dead() -> bool:
                    s = await stub.GetFeedStatus(pb.GetFeedStatusRequest(
                        feed="creditchina", record_id=withdrawal), metadata=CITY)
                    return s.status == "dead"

                await eventually(dead, what="the refused withdrawal to be dead-lettered")
                receiver.refuse_next(0)
                again = await stub.RepushFeedRecord(pb.RepushFeedRecordRequest(
                    feed="creditchina", record_id=withdrawal), metadata=CITY)
                assert again.found
                await eventually(lambda: delivered(("creditchina", withdrawal)),
                                 what="the re-pushed withdrawal")
                sent = receiver.records[("creditchina", withdrawal)]
                assert sent["withdraw_by"] == revoked.withdraw_by
                assert sent["withdraws"] == record_id
    finally:
        faults.disarm_all()
