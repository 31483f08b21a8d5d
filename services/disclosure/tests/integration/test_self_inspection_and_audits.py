"""The self-inspection ledgers and the audit results through gRPC on PostgreSQL (the read
model's rm_self_inspections and the disclosures' versions kept by the projector), with the
service's clock under the test's control (the campaign calendar's 20 July, Asia/Shanghai)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from disclosure.bootstrap import build
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.testing import FakeClock, identity_metadata, running_service
from services.disclosure.tests.support.requests import (
    USCC,
    file_request,
    register,
    unique_code,
)

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")
COMPANY = identity_metadata("property-company", "filer", "chengxiang", USCC)
PUBLIC = identity_metadata("public", "anonymous", "putian")
TOWNSHIP = identity_metadata("township", "officer", "chengxiang")


@pytest.fixture
async def api(service_settings: Any) -> AsyncIterator[tuple[pb_grpc.DisclosureServiceStub, Any]]:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    settings = service_settings("disclosure")
    async with (
        running_service(lambda s: build(s, clock=clock), settings, ("api",)) as _,
        grpc.aio.insecure_channel(f"127.0.0.1:{_[1].grpc.port}") as channel,
    ):
        yield pb_grpc.DisclosureServiceStub(channel), clock


def ledger_request(code: str, year: int = 2026, posted_on: str = "2026-07-17") -> Any:
    return pb.FileSelfInspectionRequest(
        request_id=f"si-{code}-{year}",
        community_code=code,
        year=year,
        items=[
            pb.SelfInspectionItem(
                problem="公示牌未设在主要出入口",
                measure="移至小区南门",
                deadline="2026-08-15",
                responsible="林经理",
            ),
            pb.SelfInspectionItem(
                problem="广告收入未入专户",
                measure="补记入专户",
                deadline="2026-07-31",
                responsible="陈会计",
            ),
        ],
        posted_on=posted_on,
        owners_notified_via=["wechat_group", "sms"],
    )


async def test_ledgers_are_filed_published_rectified_and_listed(api) -> None:
    stub, clock = api
    on_time, late = sorted(unique_code("SI") for _ in range(2))
    for code in (on_time, late):
        await register(stub, code, OFFICER)
    # 2026-07-20T15:59:59Z is the last second of 20 July in Shanghai.
    clock.now = datetime(2026, 7, 20, 15, 59, 59, tzinfo=UTC)
    filed = await stub.FileSelfInspection(ledger_request(on_time), metadata=COMPANY)
    assert (filed.late, filed.problems, filed.version) == (False, 2, 1)
    clock.now = datetime(2026, 7, 20, 16, 0, tzinfo=UTC)
    assert (await stub.FileSelfInspection(ledger_request(late), metadata=OFFICER)).late
    again = ledger_request(on_time)
    again.request_id = "si-again"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileSelfInspection(again, metadata=COMPANY)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS

    clock.now = datetime(2026, 8, 12, tzinfo=UTC)
    done = await stub.RecordSelfInspectionRectification(
        pb.RecordSelfInspectionRectificationRequest(
            request_id=f"sr-{on_time}",
            community_code=on_time,
            year=2026,
            item=2,
            rectified_on="2026-08-10",
            note="已补记",
        ),
        metadata=COMPANY,
    )
    assert (done.version, done.past_deadline) == (2, True)

    public = (
        await stub.GetSelfInspection(
            pb.GetSelfInspectionRequest(community_code=on_time, year=2026), metadata=PUBLIC
        )
    ).ledger
    assert [(i.number, i.responsible, i.rectified_on, i.past_deadline) for i in public.items] == [
        (1, "", "", False),
        (2, "", "2026-08-10", True),
    ]
    assert (public.due, public.problems, public.rectified, public.late) == (
        "2026-07-20",
        2,
        1,
        False,
    )
    owners = identity_metadata("owners", "representative", "chengxiang", on_time)
    seen = (
        await stub.GetSelfInspection(
            pb.GetSelfInspectionRequest(community_code=on_time, year=2026), metadata=owners
        )
    ).ledger
    assert [i.responsible for i in seen.items] == ["林经理", "陈会计"]

    rows: dict[str, Any] = {}
    token = ""
    while True:
        page = await stub.ListSelfInspections(
            pb.ListSelfInspectionsRequest(
                unit="chengxiang", year=2026, page_size=1, page_token=token
            ),
            metadata=TOWNSHIP,
        )
        for row in page.ledgers:
            assert row.community_code not in rows  # every ledger once
            rows[row.community_code] = row
        token = page.next_page_token
        if not token:
            break
    assert (rows[on_time].rectified, rows[on_time].version, rows[on_time].late) == (1, 2, False)
    assert (rows[late].problems, rows[late].rectified, rows[late].late) == (2, 0, True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSelfInspections(
            pb.ListSelfInspectionsRequest(unit="chengxiang", year=2026), metadata=PUBLIC
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_year_the_campaign_calendar_lacks_is_a_failed_precondition(api) -> None:
    stub, clock = api
    code = unique_code("SY")
    await register(stub, code, OFFICER)
    clock.now = datetime(2028, 7, 10, tzinfo=UTC)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileSelfInspection(ledger_request(code, 2028, "2028-07-09"), metadata=COMPANY)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_an_audit_result_answers_the_owners_request(api) -> None:
    stub, clock = api
    code = unique_code("AR")
    await register(stub, code, OFFICER)
    clock.now = datetime(2026, 4, 10, tzinfo=UTC)
    filed = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    committee = identity_metadata("owners-committee", "chair", "chengxiang", code)
    clock.now = datetime(2026, 6, 22, tzinfo=UTC)

    def result(request_id: str) -> pb.RecordAuditResultRequest:
        return pb.RecordAuditResultRequest(
            request_id=request_id,
            disclosure_id=filed.disclosure_id,
            auditor="福建某会计师事务所",
            conclusion="discrepancies",
            discrepancy_fen=120_000,
            summary="停车收入少计1,200元",
            posted_on="2026-06-20",
        )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordAuditResult(result("ar-0"), metadata=OFFICER)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # nobody asked
    await stub.RequestAudit(
        pb.RequestAuditRequest(
            request_id=f"q-{code}",
            disclosure_id=filed.disclosure_id,
            requester="owners_committee",
            reason="停车收入明显偏低",
        ),
        metadata=committee,
    )
    recorded = await stub.RecordAuditResult(result("ar-1"), metadata=OFFICER)
    assert (recorded.audit, recorded.version) == (1, 3)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordAuditResult(result("ar-1"), metadata=committee)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED

    answer = await stub.GetAuditResult(
        pb.GetAuditResultRequest(disclosure_id=filed.disclosure_id), metadata=committee
    )
    [audit] = answer.audits
    assert (audit.number, audit.requester, audit.HasField("result")) == (
        1,
        "owners_committee",
        True,
    )
    assert (audit.result.conclusion, audit.result.discrepancy_fen, audit.result.posted_on) == (
        "discrepancies",
        120_000,
        "2026-06-20",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetAuditResult(
            pb.GetAuditResultRequest(disclosure_id=filed.disclosure_id), metadata=PUBLIC
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The listed disclosure's version follows the audit (the projector keeps it).
    listed = await stub.ListDisclosures(
        pb.ListDisclosuresRequest(year=2026, quarter=1, community_code=code), metadata=OFFICER
    )
    assert [d.version for d in listed.disclosures] == [3]
