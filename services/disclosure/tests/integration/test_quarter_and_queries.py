"""Quarter close, audits, handovers, listings and rates through gRPC on PostgreSQL, with the
service's clock under the test's control (Asia/Shanghai deadlines)."""

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
    company_request,
    file_request,
    register,
    unique_code,
)

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")
CITY = identity_metadata("property-bureau", "officer", "putian")
XIANYOU = identity_metadata("property-bureau", "officer", "xianyou")


@pytest.fixture
async def api(service_settings) -> AsyncIterator[tuple[pb_grpc.DisclosureServiceStub, Any]]:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    settings = service_settings("disclosure")
    async with (
        running_service(lambda s: build(s, clock=clock), settings, ("api",)) as _,
        grpc.aio.insecure_channel(f"127.0.0.1:{_[1].grpc.port}") as channel,
    ):
        yield pb_grpc.DisclosureServiceStub(channel), clock


async def test_close_marks_overdue_once_and_rates_add_up(api) -> None:
    stub, clock = api
    codes = sorted(unique_code("CX") for _ in range(4))
    for code in codes:
        await register(stub, code, OFFICER)
    clock.now = datetime(2026, 4, 20, tzinfo=UTC)
    await stub.FileDisclosure(file_request(codes[0]), metadata=OFFICER)  # on time
    # 2026-04-30T16:00Z is 1 May 00:00 in Shanghai: the first late instant for Q1.
    clock.now = datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC)
    early = await stub.FileDisclosure(file_request(codes[1]), metadata=OFFICER)
    assert not early.late
    # One second before the deadline has passed, closing is refused.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CloseQuarter(
            pb.CloseQuarterRequest(request_id="close-early", year=2026, quarter=1), metadata=CITY
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    clock.now = datetime(2026, 5, 2, tzinfo=UTC)
    late = await stub.FileDisclosure(file_request(codes[2]), metadata=OFFICER)
    assert late.late

    close = pb.CloseQuarterRequest(request_id="close-1", year=2026, quarter=1)
    first = await stub.CloseQuarter(close, metadata=CITY)
    close.request_id = "close-2"
    again = await stub.CloseQuarter(close, metadata=CITY)
    assert (first.marked_overdue, first.filed) == (1, 3)
    assert (again.marked_overdue, again.already_overdue, again.filed) == (0, 1, 3)

    rate = await stub.GetDisclosureRate(
        pb.GetDisclosureRateRequest(unit="chengxiang", year=2026, quarter=1), metadata=OFFICER
    )
    [unit] = rate.units
    assert (unit.communities, unit.on_time, unit.late, unit.overdue, unit.pending) == (
        4,
        2,
        1,
        1,
        0,
    )
    assert (unit.rate_percent, unit.on_time_rate_percent) == ("75.00", "50.00")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDisclosureRate(
            pb.GetDisclosureRateRequest(unit="chengxiang", year=2026, quarter=1),
            metadata=XIANYOU,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_listing_pages_through_every_disclosure_once(api) -> None:
    stub, clock = api
    codes = sorted(unique_code("LS") for _ in range(5))
    for code in codes:
        await register(stub, code, OFFICER)
    clock.now = datetime(2026, 4, 10, tzinfo=UTC)
    for code in codes:
        await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListDisclosures(
            pb.ListDisclosuresRequest(year=2026, quarter=1, page_size=2, page_token=token),
            metadata=OFFICER,
        )
        seen += [d.community_code for d in page.disclosures]
        token = page.next_page_token
        if not token:
            break
    assert seen == codes
    other_unit = await stub.ListDisclosures(
        pb.ListDisclosuresRequest(year=2026, quarter=1), metadata=XIANYOU
    )
    assert list(other_unit.disclosures) == []


async def test_audit_needs_a_fifth_of_households(api) -> None:
    stub, clock = api
    code = unique_code("AU")
    await register(stub, code, OFFICER)  # 320 households
    clock.now = datetime(2026, 4, 10, tzinfo=UTC)
    filed = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    owners = identity_metadata("owners", "representative", "chengxiang", code)

    def ask(n: int, request_id: str) -> pb.RequestAuditRequest:
        return pb.RequestAuditRequest(
            request_id=request_id,
            disclosure_id=filed.disclosure_id,
            requester="owners",
            owners_count=n,
            reason="停车收入明显偏低",
        )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RequestAudit(ask(63, "a-63"), metadata=owners)  # 19.7%
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    accepted = await stub.RequestAudit(ask(64, "a-64"), metadata=owners)  # exactly 20%
    assert accepted.version == 2


async def test_company_handover_and_bad_codes(api) -> None:
    stub, _ = api
    code = unique_code("HO")
    await register(stub, code, OFFICER)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RegisterCompany(company_request("91350203M0001QAY9B"), metadata=CITY)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    official = company_request("91350203M0001QAY9B")
    official.source = "official_registry"
    flagged = await stub.RegisterCompany(official, metadata=CITY)
    assert flagged.uscc_flagged

    moved = await stub.ChangePropertyCompany(
        pb.ChangePropertyCompanyRequest(
            request_id=f"ho-{code}",
            community_code=code,
            new_company_uscc="91350203M0001QAY9B",
            effective_date="2026-03-01",
            reason="业主大会决定更换",
        ),
        metadata=OFFICER,
    )
    assert moved.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ChangePropertyCompany(
            pb.ChangePropertyCompanyRequest(
                request_id=f"ho2-{code}",
                community_code=code,
                new_company_uscc="91430111MA4L41YT1U",
                effective_date="2026-03-01",
                reason="x",
            ),
            metadata=OFFICER,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # not registered
