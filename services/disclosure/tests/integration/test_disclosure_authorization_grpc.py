"""A part of the disclosure authorization matrix over real gRPC (dev identity header on a
real channel, PostgreSQL): each cell's answer is compared with the declared policy and the
must-deny oracle, as the in-memory matrix does; the cells include every leak of issue 10
for this service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from disclosure.application.access import POLICY
from disclosure.bootstrap import build
from pubrev.common.v1 import audit_pb2
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.identity import Identity
from servicekit.policy import Resource
from servicekit.testing import FakeClock, identity_metadata, running_service
from services.disclosure.tests.support.requests import USCC, file_request, register
from tests.support.authz import RECORD_HISTORY, RULES, WHOLE_LOG, expected
from tests.support.must_deny import must_deny

pytestmark = pytest.mark.infra

OTHER_USCC = "91110000600037341L"
CODE = "CX-0001"
OTHER_CODE = "ZZ-9999"
PHONE = "13905941234"  # services.disclosure.tests.support.requests.content()
RECORD = Resource(unit="chengxiang", company=USCC, community=CODE, published=True)
HISTORY = Resource(unit="chengxiang", company=USCC, community=CODE, published=False)
"""A record's history is judged on its facts, never published (application/access.py)."""
OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")
COMPANY = identity_metadata("property-company", "filer", "chengxiang", USCC)
DENIED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}


@dataclass
class Api:
    stub: pb_grpc.DisclosureServiceStub
    disclosure_id: str


@pytest.fixture
async def api(service_settings: Any) -> AsyncIterator[Api]:
    clock = FakeClock(datetime(2026, 5, 6, 2, tzinfo=UTC))  # after the 2026Q1 deadline
    async with running_service(
        lambda s: build(s, clock=clock), service_settings("disclosure"), ("api",)
    ) as (_, run):
        assert run.grpc
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.DisclosureServiceStub(channel)
            await register(stub, CODE, OFFICER)
            filed = await stub.FileDisclosure(file_request(CODE), metadata=COMPANY)
            yield Api(stub, filed.disclosure_id)


Call = Callable[[Api, Any], Awaitable[Any]]


def history(whole: bool) -> Call:
    def call(api: Api, metadata: Any) -> Awaitable[Any]:
        query = audit_pb2.HistoryQuery(aggregate_id="" if whole else api.disclosure_id)
        return api.stub.GetHistory(pb.GetHistoryRequest(query=query), metadata=metadata)

    return call


def get(api: Api, metadata: Any) -> Awaitable[Any]:
    return api.stub.GetDisclosure(
        pb.GetDisclosureRequest(disclosure_id=api.disclosure_id), metadata=metadata
    )


def list_record(api: Api, metadata: Any) -> Awaitable[Any]:
    return api.stub.ListDisclosures(
        pb.ListDisclosuresRequest(
            unit="chengxiang", year=2026, quarter=1, company_uscc=USCC, community_code=CODE
        ),
        metadata=metadata,
    )


def audit(requester: str) -> Call:
    def call(api: Api, metadata: Any) -> Awaitable[Any]:
        return api.stub.RequestAudit(
            pb.RequestAuditRequest(
                request_id=f"audit-{uuid.uuid4()}",
                disclosure_id=api.disclosure_id,
                requester=requester,
                owners_count=64,
                reason="停车收入明显偏低",
            ),
            metadata=metadata,
        )

    return call


def close(api: Api, metadata: Any) -> Awaitable[Any]:
    return api.stub.CloseQuarter(
        pb.CloseQuarterRequest(request_id="close-cx", year=2026, quarter=1, unit="chengxiang"),
        metadata=metadata,
    )


def refile(api: Api, metadata: Any) -> Awaitable[Any]:
    return api.stub.FileDisclosure(file_request(CODE, request_id="refile"), metadata=metadata)


def rate(api: Api, metadata: Any) -> Awaitable[Any]:
    return api.stub.GetDisclosureRate(
        pb.GetDisclosureRateRequest(unit="chengxiang", year=2026, quarter=1), metadata=metadata
    )


CELLS: list[tuple[str, Identity, str, Call]] = [
    # leak: refused GetDisclosure, but GetHistory of the same aggregate with the phone
    (
        "GetDisclosure",
        Identity("property-company", "filer", "chengxiang", OTHER_USCC),
        "same unit, other uscc",
        get,
    ),
    (
        RECORD_HISTORY,
        Identity("property-company", "filer", "chengxiang", OTHER_USCC),
        "same unit, other uscc",
        history(whole=False),
    ),
    (
        RECORD_HISTORY,
        Identity("property-company", "manager", "chengxiang", USCC),
        "same unit, own uscc",
        history(whole=False),
    ),
    # leak: unit=putian in a company's identity opened the whole log
    (
        WHOLE_LOG,
        Identity("property-company", "filer", "putian", USCC),
        "city, own uscc",
        history(whole=True),
    ),
    (WHOLE_LOG, Identity("property-bureau", "officer", "putian"), "city", history(whole=True)),
    (WHOLE_LOG, Identity("auditor", "auditor", "putian"), "city", history(whole=True)),
    # leak: identities without a company's subject listed everything of the city
    (
        "ListDisclosures",
        Identity("police", "investigator", "putian", "putian-psb-other"),
        "city",
        list_record,
    ),
    (
        "ListDisclosures",
        Identity("property-company", "filer", "putian", OTHER_USCC),
        "city, other uscc",
        list_record,
    ),
    (
        "ListDisclosures",
        Identity("owners-committee", "chair", "chengxiang", CODE),
        "same unit, own community",
        list_record,
    ),
    # leak: owners' identities requested audits of any community
    (
        "RequestAudit",
        Identity("owners", "representative", "chengxiang", OTHER_CODE),
        "same unit, other community",
        audit("owners"),
    ),
    (
        "RequestAudit",
        Identity("owners-committee", "member", "chengxiang", OTHER_CODE),
        "same unit, other community",
        audit("owners_committee"),
    ),
    (
        "RequestAudit",
        Identity("owners", "representative", "chengxiang", CODE),
        "same unit, own community",
        audit("owners"),
    ),
    # the public, other units, the scheduler
    ("GetDisclosure", Identity("public", "anonymous", "putian"), "city", get),
    (RECORD_HISTORY, Identity("public", "anonymous", "putian"), "city", history(whole=False)),
    ("GetDisclosure", Identity("property-bureau", "inspector", "licheng"), "other unit", get),
    (
        "FileDisclosure",
        Identity("property-company", "filer", "chengxiang", OTHER_USCC),
        "same unit, other uscc",
        refile,
    ),
    ("CloseQuarter", Identity("operator", "scheduler", "putian", "sweep"), "city", close),
    ("CloseQuarter", Identity("operator", "operator", "putian", "ops-1"), "city", close),
    (
        "GetDisclosureRate",
        Identity("market-regulation", "officer", "chengxiang"),
        "same unit",
        rate,
    ),
]


def metadata_of(identity: Identity) -> Any:
    return identity_metadata(identity.agency, identity.role, identity.unit, identity.subject)


async def answer(call: Call, api: Api, identity: Identity) -> Any:
    """The reply, or the error the call ended with."""
    try:
        return await call(api, metadata_of(identity))
    except grpc.aio.AioRpcError as error:
        return error


async def test_cells_over_grpc_match_the_policy_and_the_oracle(api: Api) -> None:
    mismatches = []
    replies: dict[tuple[str, str], Any] = {}
    for rpc, identity, relation, call in CELLS:
        RULES.check(identity)
        reply = await answer(call, api, identity)
        replies[(rpc, identity.render())] = reply
        refused = isinstance(reply, grpc.aio.AioRpcError)
        # Valid arguments: an admitted caller meets at most a repeat (ALREADY_EXISTS).
        assert not refused or reply.code() in DENIED | {grpc.StatusCode.ALREADY_EXISTS}, reply
        allowed = not refused or reply.code() not in DENIED
        record = HISTORY if rpc == RECORD_HISTORY else RECORD
        want = expected(POLICY, rpc, identity, record, "GetDisclosure")
        if allowed != want:
            mismatches.append(f"{rpc} by {identity.render()}: allowed={allowed}, policy={want}")
        reason = must_deny("disclosure", rpc, identity, relation, record)
        if reason is not None and allowed:
            mismatches.append(f"{rpc} by {identity.render()}: allowed, must deny: {reason}")
    print(f"disclosure authorization over gRPC: {len(CELLS)} cells")
    assert mismatches == []
    assert sum(not isinstance(r, grpc.aio.AioRpcError) for r in replies.values()) >= 6

    # What the allowed answered: the company's own history with its phone, the public's
    # copy without the contact, the owners' committee's list of its own community.
    own_history = replies[
        (RECORD_HISTORY, f"agency=property-company;role=manager;unit=chengxiang;subject={USCC}")
    ]
    assert PHONE in own_history.events[0].payload_json
    public = replies[("GetDisclosure", "agency=public;role=anonymous;unit=putian")]
    assert (public.disclosure.content.contact_name, public.disclosure.content.contact_phone) == (
        "",
        "",
    )
    assert public.disclosure.income_total_fen > 0
    listed = replies[
        ("ListDisclosures", f"agency=owners-committee;role=chair;unit=chengxiang;subject={CODE}")
    ]
    assert [d.community_code for d in listed.disclosures] == [CODE]


async def test_owners_cannot_claim_the_committee_nor_a_company_go_without_subject(
    api: Api,
) -> None:
    owners = identity_metadata("owners", "representative", "chengxiang", CODE)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await audit("owners_committee")(api, owners)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for text in (
        "agency=property-company;role=filer;unit=putian",
        "agency=police;role=investigator;unit=putian",
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await api.stub.ListDisclosures(
                pb.ListDisclosuresRequest(year=2026), metadata=(("x-pubrev-identity", text),)
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_company_lists_its_own_filings_only(api: Api) -> None:
    other = identity_metadata("property-company", "filer", "putian", OTHER_USCC)
    assert (
        list(
            (
                await api.stub.ListDisclosures(pb.ListDisclosuresRequest(year=2026), metadata=other)
            ).disclosures
        )
        == []
    )
    own = await api.stub.ListDisclosures(pb.ListDisclosuresRequest(year=2026), metadata=COMPANY)
    assert [(d.community_code, d.company_uscc) for d in own.disclosures] == [(CODE, USCC)]
