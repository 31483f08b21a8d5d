"""The disclosure API through a real gRPC channel, on PostgreSQL: error mapping, idempotent
retries, optimistic concurrency and jurisdiction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from disclosure.bootstrap import build
from pubrev.common.v1 import audit_pb2
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.eventstore import ServiceApplication
from servicekit.testing import identity_metadata, running_service
from services.disclosure.tests.support.requests import (
    file_request,
    register,
    unique_code,
)

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")
OTHER_UNIT = identity_metadata("property-bureau", "officer", "xianyou")


@pytest.fixture
async def api(
    service_settings,
) -> AsyncIterator[tuple[pb_grpc.DisclosureServiceStub, ServiceApplication, grpc.aio.Channel]]:
    async with running_service(build, service_settings("disclosure"), ("api",)) as (parts, run):
        assert run.grpc
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            yield pb_grpc.DisclosureServiceStub(channel), parts.app, channel


def details(error: grpc.aio.AioRpcError) -> dict[str, object]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "no google.rpc.Status in the trailers"
    found: dict[str, object] = {}
    for detail in status.details:
        for kind in (
            error_details_pb2.BadRequest,
            error_details_pb2.LocalizedMessage,
            error_details_pb2.ErrorInfo,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    return found


def log_size(app: ServiceApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


async def test_malformed_filing_names_every_bad_field_and_writes_nothing(api) -> None:
    """The domain's rules name every broken one at once (the contract's bounds hold)."""
    stub, app, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    before = log_size(app)
    bad = file_request(code)
    bad.content.ClearField("operating_cost_fen")
    bad.content.contact_phone = "0594-1234567"
    bad.content.posting_end = "2026-04-20"  # 16 days

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(bad, metadata=OFFICER)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = details(caught.value)
    bad_request = found["BadRequest"]
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    violations = {(v.field, v.reason) for v in bad_request.field_violations}
    assert violations >= {
        ("content.operating_cost_fen", "item_missing"),
        ("content.contact_phone", "contact_number_format"),
        ("content.posting_end", "posting_too_short"),
    }
    zh = found["LocalizedMessage"]
    assert isinstance(zh, error_details_pb2.LocalizedMessage)
    assert zh.locale == "zh-CN" and "联系电话" in zh.message
    assert log_size(app) == before


async def test_out_of_bounds_filing_is_refused_by_the_contract_before_the_handler(api) -> None:
    """The bounds the .proto declares (a quarter 1–4, amounts 0 to ¥100 million, dates as
    YYYY-MM-DD) are checked by the interceptor: every bad field by its request path and
    protovalidate's rule id, in English and zh-CN, and nothing written."""
    stub, app, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    before = log_size(app)
    bad = file_request(code, quarter=5)
    bad.content.income[0].amount_fen = -1
    bad.content.income.add(source="parking", amount_fen=2**63 - 1)
    bad.content.posting_end = "2026/04/20"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(bad, metadata=OFFICER)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = details(caught.value)
    bad_request = found["BadRequest"]
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert {(v.field, v.reason) for v in bad_request.field_violations} == {
        ("quarter", "int32.gte_lte"),
        ("content.income[0].amount_fen", "int64.gte_lte"),
        ("content.income[2].amount_fen", "int64.gte_lte"),
        ("content.posting_end", "string.pattern"),
    }
    assert all(
        v.localized_message.locale == "zh-CN" and v.localized_message.message
        for v in bad_request.field_violations
    )
    assert "2026/04/20" not in (caught.value.details() or "")
    assert log_size(app) == before


async def test_identity_broken_is_named(api) -> None:
    stub, _, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    bad = file_request(code)
    bad.content.transferred_to_maintenance_fund_fen += 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(bad, metadata=OFFICER)
    bad_request = details(caught.value)["BadRequest"]
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("content.transferred_to_maintenance_fund_fen", "identity_broken")
    ]


async def test_a_deficit_quarter_with_a_landline_is_filed_and_shown_as_a_deficit(api) -> None:
    """DOMAIN.md §3 / 民法典 Art. 282: cost and expenditure above income are filed with the
    negative surplus and nothing distributed; plan 四（二）: the 联系电话 may be a landline.
    On PostgreSQL through gRPC: the response, GetDisclosure and the listing (read model)."""
    stub, _, _ = api
    code = unique_code("DF")
    await register(stub, code, OFFICER)
    request = file_request(code)
    c = request.content
    c.operating_cost_fen = sum(i.amount_fen for i in c.income)  # the expenditure is the loss
    c.owners_share_fen = c.company_share_fen = c.transferred_to_maintenance_fund_fen = 0
    c.contact_phone = "0594-2345678"
    filed = await stub.FileDisclosure(request, metadata=OFFICER)
    assert filed.deficit
    loss = -sum(e.amount_fen for e in c.expenditure)
    got = await stub.GetDisclosure(
        pb.GetDisclosureRequest(disclosure_id=filed.disclosure_id), metadata=OFFICER
    )
    assert (got.disclosure.surplus_fen, got.disclosure.deficit) == (loss, True)
    assert got.disclosure.content.contact_phone == "0594-2345678"
    listed = await stub.ListDisclosures(
        pb.ListDisclosuresRequest(unit="chengxiang", year=2026, quarter=1, page_size=500),
        metadata=OFFICER,
    )
    [row] = [d for d in listed.disclosures if d.community_code == code]
    assert (row.surplus_fen, row.deficit) == (loss, True)


async def test_retry_returns_first_result_and_writes_nothing(api) -> None:
    stub, app, _ = api
    code = unique_code()
    first = await register(stub, code, OFFICER)
    filed = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    before = log_size(app)
    again = await register(stub, code, OFFICER)
    refiled = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    assert (again, refiled) == (first, filed)
    assert log_size(app) == before

    other = file_request(code, request_id="another-request")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(other, metadata=OFFICER)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_concurrent_amendments_one_wins_the_rest_are_aborted(api) -> None:
    stub, _, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    filed = await stub.FileDisclosure(file_request(code), metadata=OFFICER)

    def amendment(n: int) -> pb.AmendDisclosureRequest:
        request = file_request(code)
        return pb.AmendDisclosureRequest(
            request_id=f"amend-{code}-{n}",
            disclosure_id=filed.disclosure_id,
            expected_version=1,
            reason=f"correction {n}",
            content=request.content,
        )

    results = await asyncio.gather(
        *(stub.AmendDisclosure(amendment(n), metadata=OFFICER) for n in range(6)),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, pb.AmendDisclosureResponse)]
    losses = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(wins) == 1 and len(losses) == 5
    assert {e.code() for e in losses} == {grpc.StatusCode.ABORTED}

    latest = await stub.GetDisclosure(
        pb.GetDisclosureRequest(disclosure_id=filed.disclosure_id), metadata=OFFICER
    )
    assert latest.disclosure.version == 2 and latest.disclosure.revision == 1
    original = await stub.GetDisclosure(
        pb.GetDisclosureRequest(disclosure_id=filed.disclosure_id, version=1), metadata=OFFICER
    )
    assert original.disclosure.revision == 0


async def test_other_unit_is_denied_and_nothing_written(api) -> None:
    stub, app, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    before = log_size(app)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(file_request(code), metadata=OTHER_UNIT)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.FileDisclosure(file_request(code))  # no identity at all
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert log_size(app) == before


async def test_health_and_reflection(api) -> None:
    _, _, channel = api
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="pubrev.disclosure.v1.DisclosureService")
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = set()
    async for response in responses:
        names = {s.name for s in response.list_services_response.service}
    assert "pubrev.disclosure.v1.DisclosureService" in names
    assert "grpc.health.v1.Health" in names


async def test_history_follows_the_records_read_rule_and_the_log_is_the_auditors(api) -> None:
    stub, _, _ = api
    code = unique_code()
    await register(stub, code, OFFICER)
    filed = await stub.FileDisclosure(file_request(code), metadata=OFFICER)
    query = pb.GetHistoryRequest(query=audit_pb2.HistoryQuery(aggregate_id=filed.disclosure_id))
    own = await stub.GetHistory(query, metadata=OFFICER)
    assert [e.type for e in own.events] == ["Disclosure.Filed"]
    city = identity_metadata("property-bureau", "officer", "putian")
    assert len((await stub.GetHistory(query, metadata=city)).events) == 1
    whole_log = pb.GetHistoryRequest(query=audit_pb2.HistoryQuery(limit=5))
    for denied, metadata in ((whole_log, OTHER_UNIT), (query, OTHER_UNIT), (whole_log, city)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetHistory(denied, metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    auditor = identity_metadata("auditor", "auditor", "putian")
    whole = await stub.GetHistory(whole_log, metadata=auditor)
    assert len(whole.events) == 5
    assert [e.position for e in whole.events] == sorted(e.position for e in whole.events)
