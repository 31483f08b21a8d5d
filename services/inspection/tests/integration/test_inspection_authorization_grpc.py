"""A part of the inspection authorization matrix over real gRPC (the development identity
header, the interceptor's error mapping, the service on PostgreSQL and Kafka): every identity
the vocabulary allows × its relation to the record, on the draw, the checks, the findings,
the progress and the histories, compared with the declared policy and the must-deny oracle
exactly as the in-memory matrix is (test_inspection_authorization.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from inspection.application.access import POLICY
from inspection.bootstrap import build
from pubrev.common.v1 import audit_pb2
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.errors import NotFound, PermissionDenied
from servicekit.grpc_kit import IDENTITY_HEADER
from servicekit.identity import Identity
from servicekit.kafka_admin import ensure_topics
from servicekit.policy import Resource
from servicekit.testing import eventually, identity_metadata, publish_event, running_service
from tests.support.authz import RECORD_HISTORY, WHOLE_LOG, cells, run_matrix

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
USCC_A = "91350200776049653A"
USCC_B = "9144030071526726XG"
RECORD = Resource(unit="chengxiang", company=USCC_A, community="CX-0001")
CX = identity_metadata("property-bureau", "officer", "chengxiang", "officer one")
CITY = identity_metadata("property-bureau", "officer", "putian", "city officer")
CX_DISCIPLINE = identity_metadata("discipline", "supervisor", "chengxiang", "supervisor")
ITEMS = ["signboard_present", "signboard_at_main_entrance", "posting_30_days"]
RPCS = [
    "VerifyDraw",
    "ContributeDrawEntropy",
    "RecordSpotCheck",
    "ListSpotChecks",
    "ListFindings",
    "GetPlanProgress",
    WHOLE_LOG,
    RECORD_HISTORY,
]


def registered(code: str, unit: str, company: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (SAMPLES / "pubrev.disclosure.CommunityRegistered.v1.json").read_text()
    )
    return data | {
        "aggregate_id": str(uuid.uuid4()),
        "community_code": code,
        "unit": unit,
        "company_uscc": company,
    }


def checklist(failed: tuple[str, ...] = ()) -> list[pb.ChecklistItem]:
    return [
        pb.ChecklistItem(
            item=i,
            passed=i not in failed,
            severity="general" if i in failed else "",
            evidence_refs=[f"{i}.jpg"] if i in failed else [],
        )
        for i in ITEMS
    ]


def as_service_error(
    call: Callable[[tuple[tuple[str, str], ...]], Any],
) -> Callable[[Identity], Any]:
    """The call with the identity in the development header; PERMISSION_DENIED and
    NOT_FOUND become the application's errors (what the matrix counts as denied)."""

    def invoke(identity: Identity) -> Any:
        try:
            return call(((IDENTITY_HEADER, identity.render()),))
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            if code == grpc.StatusCode.PERMISSION_DENIED:
                raise PermissionDenied(str(error.details())) from None  # type: ignore[attr-defined]
            if code == grpc.StatusCode.NOT_FOUND:
                raise NotFound(str(error.details())) from None  # type: ignore[attr-defined]
            raise

    return invoke


async def test_the_matrix_over_real_grpc(service_settings, infra) -> None:
    # Topics of its own: it waits for the unit's exact number of communities, and other
    # tests register communities on the session's shared topics.
    prefix = f"{infra['prefix']}authz."
    topic = prefix + DISCLOSURE_EVENTS
    await ensure_topics(infra["kafka"], [topic])
    async with running_service(build, service_settings("inspection", topic_prefix=prefix)) as (
        _,
        run,
    ):
        assert run.grpc
        for n in range(1, 7):
            await publish_event(
                infra["kafka"],
                topic,
                "pubrev.disclosure.CommunityRegistered.v1",
                registered(f"CX-{n:04d}", "chengxiang", USCC_A if n <= 3 else USCC_B),
            )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.InspectionServiceStub(channel)

            async def learnt() -> bool:
                reply = await stub.GetPlanProgress(
                    pb.GetPlanProgressRequest(year=2026, unit="chengxiang"), metadata=CX
                )
                return reply.units[0].communities == 6

            await eventually(learnt, what="inspection to learn the communities")
            for n in range(1, 4):
                await stub.RegisterInspector(
                    pb.RegisterInspectorRequest(
                        request_id=f"i{n}",
                        inspector_code=f"CX-I{n}",
                        name="检查员",
                        unit="chengxiang",
                    ),
                    metadata=CX,
                )
            planned = await stub.PlanSpotChecks(
                pb.PlanSpotChecksRequest(
                    request_id="p", year=2026, unit="chengxiang", handed_down=["CX-0001"]
                ),
                metadata=CX,
            )
            plan = await stub.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id="e",
                    plan_id=planned.plan_id,
                    contribution="chengxiang supervisor 6c1d2e",
                ),
                metadata=CX_DISCIPLINE,
            )
            target = next(t for t in plan.targets if t.community_code == "CX-0001")
            done = await stub.RecordSpotCheck(
                pb.RecordSpotCheckRequest(
                    request_id="r",
                    plan_id=plan.plan_id,
                    community_code="CX-0001",
                    inspected_at="2026-06-01T09:30:00+08:00",
                    inspector_codes=target.inspector_codes,
                    checklist=checklist(("signboard_present",)),
                ),
                metadata=CX,
            )
            [finding] = done.findings

        def calls(sync: pb_grpc.InspectionServiceStub) -> dict[str, Callable[[Identity], Any]]:
            def history(aggregate_id: str) -> Callable[[Any], Any]:
                return lambda md: sync.GetHistory(
                    pb.GetHistoryRequest(
                        query=audit_pb2.HistoryQuery(aggregate_id=aggregate_id, limit=10)
                    ),
                    metadata=md,
                )

            raw: dict[str, Callable[[Any], Any]] = {
                "VerifyDraw": lambda md: sync.VerifyDraw(
                    pb.VerifyDrawRequest(plan_id=plan.plan_id), metadata=md
                ),
                "ContributeDrawEntropy": lambda md: sync.ContributeDrawEntropy(
                    pb.ContributeDrawEntropyRequest(
                        request_id=f"m-{uuid.uuid4().hex[:10]}",
                        plan_id=plan.plan_id,
                        contribution="another value of 24 chars",
                    ),
                    metadata=md,
                ),
                "RecordSpotCheck": lambda md: sync.RecordSpotCheck(
                    pb.RecordSpotCheckRequest(
                        request_id=f"m-{uuid.uuid4().hex[:10]}",
                        plan_id=plan.plan_id,
                        community_code="CX-0001",
                        inspected_at="2026-06-01T09:30:00+08:00",
                        inspector_codes=target.inspector_codes,
                        checklist=checklist(),
                    ),
                    metadata=md,
                ),
                "ListSpotChecks": lambda md: sync.ListSpotChecks(
                    pb.ListSpotChecksRequest(year=2026, unit="chengxiang", company_uscc=USCC_A),
                    metadata=md,
                ),
                "ListFindings": lambda md: sync.ListFindings(
                    pb.ListFindingsRequest(company_uscc=USCC_A, unit="chengxiang"), metadata=md
                ),
                "GetPlanProgress": lambda md: sync.GetPlanProgress(
                    pb.GetPlanProgressRequest(year=2026, unit="chengxiang"), metadata=md
                ),
                WHOLE_LOG: history(""),
                RECORD_HISTORY: history(finding.finding_id),
            }
            return {rpc: as_service_error(call) for rpc, call in raw.items()}

        def matrix() -> tuple[int, list[Any]]:
            with grpc.insecure_channel(f"127.0.0.1:{run.grpc.port}") as sync_channel:
                sync = pb_grpc.InspectionServiceStub(sync_channel)
                return run_matrix(
                    "inspection", POLICY, RECORD, calls(sync), history_rpc="ListFindings", rpcs=RPCS
                )

        count, mismatches = await asyncio.to_thread(matrix)
    assert count == len(RPCS) * len(cells(RECORD))
    assert [str(m) for m in mismatches] == []
    print(f"inspection matrix over gRPC: {count} cells")
