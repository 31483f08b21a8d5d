"""The walking skeleton end to end on the real stack: gRPC → disclosure's PostgreSQL event
store → relay → Kafka → inspection's consumer → inspection's PostgreSQL → inspection gRPC."""

from __future__ import annotations

import grpc
import pytest

from disclosure.bootstrap import build as build_disclosure
from inspection.bootstrap import build as build_inspection
from pubrev.common.v1 import audit_pb2
from pubrev.disclosure.v1 import disclosure_pb2 as dpb
from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev.inspection.v1 import inspection_pb2 as ipb
from pubrev.inspection.v1 import inspection_pb2_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.testing import eventually, identity_metadata, read_topic, running_service
from services.disclosure.tests.support.requests import (
    file_request,
    register,
    unique_code,
)

pytestmark = pytest.mark.infra

OFFICER = identity_metadata("property-bureau", "officer", "chengxiang")


async def test_filed_disclosure_reaches_inspection(service_settings, infra) -> None:
    code = unique_code()
    async with (
        running_service(build_disclosure, service_settings("disclosure")) as (_, d),
        running_service(build_inspection, service_settings("inspection")) as (_, i),
    ):
        assert d.grpc and i.grpc
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{d.grpc.port}") as dch,
            grpc.aio.insecure_channel(f"127.0.0.1:{i.grpc.port}") as ich,
        ):
            disclosure = disclosure_pb2_grpc.DisclosureServiceStub(dch)
            inspection = inspection_pb2_grpc.InspectionServiceStub(ich)
            await register(disclosure, code, OFFICER)
            filed = await disclosure.FileDisclosure(file_request(code), metadata=OFFICER)
            assert filed.late  # filed in November for Q1 (deadline 30 April)

            async def seen() -> ipb.CommunityDisclosure | None:
                try:
                    reply = await inspection.GetCommunityDisclosure(
                        ipb.GetCommunityDisclosureRequest(community_code=code), metadata=OFFICER
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    return None
                return reply.disclosure

            noted = await eventually(seen, what="inspection to note the disclosure")
            assert noted.disclosure_id == filed.disclosure_id
            assert (noted.year, noted.quarter, noted.late) == (2026, 1, True)
            assert noted.income_total_fen == 1_000_000
            assert noted.surplus_fen == 700_000
            assert noted.disclosures_noted == 1

            # The event on the topic is a CloudEvent in binary mode with a stable id.
            records = await read_topic(
                infra["kafka"], infra["prefix"] + DISCLOSURE_EVENTS, subject=filed.disclosure_id
            )
            headers = {k: v.decode() for k, v in records[0].headers}
            assert headers["ce_type"] == "pubrev.disclosure.DisclosureFiled.v1"
            assert headers["ce_id"] == f"{filed.disclosure_id}:1"
            assert headers["ce_unit"] == "chengxiang"
            assert headers["content-type"] == "application/json"
            assert records[0].key == filed.disclosure_id.encode()

            history = await disclosure.GetHistory(
                dpb.GetHistoryRequest(
                    query=audit_pb2.HistoryQuery(aggregate_id=filed.disclosure_id)
                ),
                metadata=OFFICER,
            )
            assert [e.type for e in history.events] == ["Disclosure.Filed"]
