"""The poison inputs of issue 11 on the real stack: each gets a specific INVALID_ARGUMENT
and writes nothing, and after them the platform still files, relays, projects and pushes.

Before: a 1 MB community name was stored and the relay retried MessageSizeTooLargeError
forever; two income items of 2^63−1 fen looped the read model's projector on `bigint out of
range`; `0001-01-01T00:00:00+14:00` failed the relay's serializer on every retry; a tab or
~200 characters in a penalty's decision number stopped every credit feed; GetCase with a
10,000-character id answered ~20 KB of trailers (RESOURCE_EXHAUSTED, not an error naming
the field)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from casework.bootstrap import build as build_casework
from credit.bootstrap import SCHEMAS
from credit.bootstrap import build as build_credit
from disclosure.bootstrap import build as build_disclosure
from inspection.bootstrap import build as build_inspection
from pubrev.casework.v1 import casework_pb2 as cpb
from pubrev.casework.v1 import casework_pb2_grpc
from pubrev.credit.v1 import credit_pb2 as kpb
from pubrev.credit.v1 import credit_pb2_grpc
from pubrev.disclosure.v1 import disclosure_pb2 as dpb
from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev.inspection.v1 import inspection_pb2 as ipb
from pubrev.inspection.v1 import inspection_pb2_grpc
from servicekit.eventstore import ServiceApplication
from servicekit.testing import FakeClock, eventually, identity_metadata, running_service
from services.casework.tests.support.scenario import zhihui_feed
from services.credit.tests.support.scenario import notice_request, penalty_command
from services.disclosure.tests.support.requests import (
    file_request,
    register,
    register_request,
    unique_code,
)
from tools.feed_receiver import FeedReceiver, dev_keys

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")
LICHENG = identity_metadata("property-bureau", "officer", "licheng")
FEEDS = ("creditchina", "market")


@pytest.fixture
def receiver() -> Iterator[FeedReceiver]:
    feeds = (*FEEDS, "zhihui")
    schemas = {f: json.loads((SCHEMAS / f"{f}.schema.json").read_text()) for f in feeds}
    with FeedReceiver(schemas=schemas, keys=dev_keys(list(feeds))) as r:
        yield r


def violations(error: grpc.aio.AioRpcError) -> set[tuple[str, str]]:
    status = rpc_status.from_call(error)
    assert status is not None
    found: set[tuple[str, str]] = set()
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found |= {(v.field, v.reason) for v in bad_request.field_violations}
    return found


async def refused(call: object) -> set[tuple[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    size = sum(len(k) + len(v) for k, v in caught.value.trailing_metadata() or ())
    assert size < 8192  # a client's default metadata limit
    return violations(caught.value)


def log_head(app: ServiceApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


async def test_poison_inputs_are_refused_and_the_platform_goes_on(
    service_settings, infra, receiver
) -> None:
    # Topics of this test's own: "nothing was written" below counts every event of the four
    # services, which other tests' events on the session's shared topics would move.
    topics = {"topic_prefix": f"{infra['prefix']}poison."}
    feeds = {
        "PUBREV_FEED_CREDITCHINA_URL": receiver.feed_url("creditchina"),
        "PUBREV_FEED_MARKET_URL": receiver.feed_url("market"),
        "PUBREV_FEED_MAX_ATTEMPTS": "2",
    }
    warnings = zhihui_feed(receiver.feed_url("zhihui"))
    # Before the campaign's first due date: casework's calendar sweep (run at start) has
    # nothing to write, so the log heads compared below move only by what the test sends.
    before_the_campaign = FakeClock(datetime(2026, 5, 6, 2, 30, tzinfo=UTC))
    async with (
        running_service(build_disclosure, service_settings("disclosure", **topics)) as (dparts, d),
        running_service(build_inspection, service_settings("inspection", **topics)) as (iparts, i),
        running_service(
            lambda s: build_credit(s, feeds=feeds), service_settings("credit", **topics)
        ) as (kparts, k),
        running_service(
            lambda s: build_casework(s, feed=warnings, clock=before_the_campaign),
            service_settings("casework", **topics),
        ) as (cparts, c),
    ):
        assert d.grpc and i.grpc and k.grpc and c.grpc
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{d.grpc.port}") as dch,
            grpc.aio.insecure_channel(f"127.0.0.1:{i.grpc.port}") as ich,
            grpc.aio.insecure_channel(f"127.0.0.1:{k.grpc.port}") as kch,
            grpc.aio.insecure_channel(f"127.0.0.1:{c.grpc.port}") as cch,
        ):
            disclosure = disclosure_pb2_grpc.DisclosureServiceStub(dch)
            inspection = inspection_pb2_grpc.InspectionServiceStub(ich)
            credit = credit_pb2_grpc.CreditServiceStub(kch)
            casework = casework_pb2_grpc.CaseworkServiceStub(cch)
            heads = [log_head(p.app) for p in (dparts, iparts, kparts, cparts)]

            # A 1 MB community name.
            code = unique_code("PZ")
            huge = register_request(code)
            huge.name = "名" * 1_000_000
            assert await refused(disclosure.RegisterCommunity(huge, metadata=OFFICER)) == {
                ("name", "string.max_len")
            }

            # Two income items of 2^63−1 fen, with shares that balance them.
            await register(disclosure, code, OFFICER)
            heads[0] = log_head(dparts.app)
            # Inspection and casework learn the community from the bus (a watch; facts and
            # the unit's list): what they write then is the registration's doing, not a
            # poison input's.
            consumers = [i.consumer, c.consumer]

            async def both_learnt_it() -> bool:
                return all(r is not None and r.applied >= 1 for r in consumers)

            await eventually(both_learnt_it, what="inspection and casework to apply it")
            heads[1], heads[3] = log_head(iparts.app), log_head(cparts.app)
            rich = file_request(code)
            for item in rich.content.income:
                item.amount_fen = 2**63 - 1
            assert await refused(disclosure.FileDisclosure(rich, metadata=OFFICER)) >= {
                ("content.income[0].amount_fen", "int64.gte_lte")
            }

            # A year-1 instant with a +14:00 offset (casework, inspection).
            complaint = cpb.ReceiveComplaintRequest(
                request_id="poison-c",
                channel="hotline_12345",
                community_code=code,
                category="revenue_not_disclosed",
                description="公共收益未公示",
                unit="chengxiang",
                received_at="0001-01-01T00:00:00+14:00",
            )
            assert await refused(casework.ReceiveComplaint(complaint, metadata=OFFICER)) == {
                ("received_at", "time_range")
            }
            assert await refused(
                inspection.VerifyRectification(
                    ipb.VerifyRectificationRequest(
                        request_id="poison-v",
                        finding_id="00000000-0000-4000-8000-000000000000",
                        verified_at="0001-01-01T00:00:00+14:00",
                        evidence_refs=["x.jpg"],
                    ),
                    metadata=OFFICER,
                )
            ) == {("verified_at", "time_range")}

            # A decision number with a tab, and one of ~200 characters.
            cmd = penalty_command("莆城管罚决〔2026〕77号")

            def penalty(number: str) -> kpb.ImposePenaltyRequest:
                return kpb.ImposePenaltyRequest(
                    request_id=f"p-{len(number)}-{number[:4]}",
                    decision_number=number,
                    party_name=cmd.party_name,
                    party_uscc=cmd.party_uscc,
                    violation_kind=cmd.violation_kind,
                    facts=cmd.facts,
                    legal_basis=cmd.legal_basis,
                    penalty_types=list(cmd.penalty_types),
                    content=cmd.content,
                    fine_fen=cmd.fine_fen,
                    confiscated_fen=cmd.confiscated_fen,
                    decision_date=cmd.decision_date,
                    authority_name=cmd.authority_name,
                    authority_uscc=cmd.authority_uscc,
                    unit="licheng",
                    severity=cmd.severity,
                    valid_until=cmd.valid_until,
                )

            assert await refused(
                credit.ImposePenalty(penalty("莆城管罚决〔2026〕\t77号"), metadata=LICHENG)
            ) == {("decision_number", "string.pattern")}
            assert await refused(credit.ImposePenalty(penalty("莆" * 200), metadata=LICHENG)) == {
                ("decision_number", "string.max_len")
            }

            # GetCase with a 10,000-character id: the field named, in small trailers.
            assert await refused(
                casework.GetCase(cpb.GetCaseRequest(case_id="x" * 10_000), metadata=OFFICER)
            ) == {("case_id", "string.max_len")}

            # Nothing was written by any of them...
            assert [log_head(p.app) for p in (dparts, iparts, kparts, cparts)] == heads

            # ...and the platform goes on: files, relays (inspection notes the filing),
            # projects (the listing shows it) and pushes (the penalty on both feeds).
            filed = await disclosure.FileDisclosure(file_request(code), metadata=OFFICER)

            async def noted() -> bool:
                try:
                    reply = await inspection.GetCommunityDisclosure(
                        ipb.GetCommunityDisclosureRequest(community_code=code), metadata=OFFICER
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    return False
                return reply.disclosure.disclosure_id == filed.disclosure_id

            await eventually(noted, what="inspection to note the filing (relayed)")
            listed = await disclosure.ListDisclosures(
                dpb.ListDisclosuresRequest(year=2026, quarter=1, community_code=code),
                metadata=OFFICER,
            )
            assert [r.disclosure_id for r in listed.disclosures] == [filed.disclosure_id]

            # A decision follows its notice (《行政处罚法》第四十四条): served 30 days before.
            notice = await credit.NotifyIntendedPenalty(notice_request(cmd), metadata=LICHENG)
            decided = penalty(cmd.decision_number)
            decided.notice_id = notice.notice_id
            await credit.ImposePenalty(decided, metadata=LICHENG)
            record_id = f"penalty:{cmd.decision_number}"

            async def pushed() -> bool:
                return all((feed, record_id) in receiver.records for feed in FEEDS)

            await eventually(pushed, timeout=30, what="the penalty on both feeds")
