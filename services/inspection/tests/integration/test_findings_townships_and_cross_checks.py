"""Issue 13's inspection on the real stack (gRPC, PostgreSQL, Kafka) and an injected clock:
- a finding entered directly with a file uploaded to the evidence service (a reference to a
  file never uploaded is INVALID_ARGUMENT), the company's own evidence and objection, the
  bureau upholding it (FindingWithdrawn on the bus), the company downloading the evidence
  against it (the read model's index of files by finding), an agency's failure listed;
- a township's daily inspections in the ledger (rm_township_inspections), read back and
  counted toward the unit's coverage of the campaign window;
- a quarter's cross check in rm_cross_checks: pending while the quarter runs, its report
  missing once it is over, then late."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from inspection.bootstrap import build
from pubrev.common.v1 import evidence_pb2, evidence_pb2_grpc
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import (
    FakeClock,
    eventually,
    identity_metadata,
    publish_event,
    read_topic,
    running_service,
)

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
USCC = "91350200776049653A"
CHENGXIANG = identity_metadata("property-bureau", "officer", "chengxiang")
CITY = identity_metadata("property-bureau", "officer", "putian")
CITY_DISCIPLINE = identity_metadata("discipline", "supervisor", "putian", "supervisor")
COMPANY = identity_metadata("property-company", "manager", "chengxiang", USCC)
TOWNSHIP = identity_metadata("township", "inspector", "chengxiang", "inspector-a")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def registered(code: str, unit: str, township: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (SAMPLES / "pubrev.disclosure.CommunityRegistered.v1.json").read_text()
    )
    return data | {
        "aggregate_id": str(uuid.uuid4()),
        "community_code": code,
        "unit": unit,
        "township": township,
        "company_uscc": USCC,
    }


async def test_direct_findings_the_company_side_townships_and_the_quarter_s_cross_check(
    service_settings,
    infra,
) -> None:
    # Topics of its own: it counts every community inspection learnt, and other tests
    # register communities on the session's shared topics.
    prefix = f"{infra['prefix']}townships."
    await ensure_topics(infra["kafka"], [prefix + DISCLOSURE_EVENTS])
    clock = FakeClock(datetime(2026, 7, 20, 2, 0, tzinfo=UTC))
    communities = [
        ("CX-00", "chengxiang", "龙桥街道"),
        ("CX-01", "chengxiang", "龙桥街道"),
        ("CX-02", "chengxiang", "凤凰山街道"),
        ("LC-00", "licheng", "镇海街道"),
    ]
    async with running_service(
        lambda s: build(s, clock=clock), service_settings("inspection", topic_prefix=prefix)
    ) as (
        _,
        run,
    ):
        assert run.grpc
        for code, unit, township in communities:
            await publish_event(
                infra["kafka"],
                prefix + DISCLOSURE_EVENTS,
                "pubrev.disclosure.CommunityRegistered.v1",
                registered(code, unit, township),
            )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.InspectionServiceStub(channel)
            evidence = evidence_pb2_grpc.EvidenceServiceStub(channel)

            async def learnt() -> bool:
                reply = await stub.GetTownshipCoverage(
                    pb.GetTownshipCoverageRequest(year=2026), metadata=CITY
                )
                return sum(u.communities for u in reply.units) == len(communities)

            await eventually(learnt, what="inspection to learn the communities")

            # -- a finding entered directly, with its evidence --------------------------------
            uploaded = await evidence.UploadAttachment(
                evidence_pb2.UploadAttachmentRequest(
                    request_id="up-1",
                    content=PNG,
                    media_type="image/png",
                    filename="维修合同.png",
                    unit="chengxiang",
                ),
                metadata=CHENGXIANG,
            )
            photo = uploaded.attachment
            never_uploaded = evidence_pb2.AttachmentRef(
                sha256="0" * 64, size=10, media_type="image/png", filename="x.png"
            )
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await stub.RecordFinding(
                    pb.RecordFindingRequest(
                        request_id="f-0",
                        kind="D2",
                        severity="serious",
                        note="虚增维修项目",
                        attachments=[never_uploaded],
                        community_code="CX-00",
                    ),
                    metadata=CHENGXIANG,
                )
            assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            recorded = await stub.RecordFinding(
                pb.RecordFindingRequest(
                    request_id="f-1",
                    kind="D2",
                    severity="serious",
                    note="虚增外墙维修工程量",
                    attachments=[photo],
                    community_code="CX-00",
                    warning_id=str(uuid.UUID(int=7)),
                ),
                metadata=CHENGXIANG,
            )
            finding = recorded.finding
            assert (finding.kind, finding.party, finding.checking_kind, finding.status) == (
                "D2",
                "company",
                "direct",
                "open",
            )
            assert finding.rectification_deadline.startswith("2026-09-18")  # 60 days, a Friday

            # The company downloads the evidence against it: the file's finding is its own.
            downloaded = await evidence.GetAttachment(
                evidence_pb2.GetAttachmentRequest(sha256=photo.sha256), metadata=COMPANY
            )
            assert downloaded.content == PNG

            # -- the company's side --------------------------------------------------------
            proof = (
                await evidence.UploadAttachment(
                    evidence_pb2.UploadAttachmentRequest(
                        request_id="up-2",
                        content=PNG + b"proof",
                        media_type="image/png",
                        filename="退款凭证.png",
                    ),
                    metadata=COMPANY,
                )
            ).attachment
            submitted = await stub.SubmitRectificationEvidence(
                pb.SubmitRectificationEvidenceRequest(
                    request_id="e-1",
                    finding_id=finding.finding_id,
                    note="已退回维修款",
                    attachments=[proof],
                ),
                metadata=COMPANY,
            )
            assert (submitted.submissions, submitted.finding.evidence_submissions) == (1, 1)
            objected = await stub.ObjectToFinding(
                pb.ObjectToFindingRequest(
                    request_id="o-1", finding_id=finding.finding_id, reason="工程量经业委会确认"
                ),
                metadata=COMPANY,
            )
            assert objected.finding.objection == "pending"
            assert objected.objection_deadline.startswith("2026-08-04T15:59:59")
            decided = await stub.DecideObjection(
                pb.DecideObjectionRequest(
                    request_id="d-1",
                    finding_id=finding.finding_id,
                    upheld=True,
                    decision="经复核，工程量属实",
                ),
                metadata=CHENGXIANG,
            )
            assert (decided.finding.status, decided.finding.objection) == ("withdrawn", "upheld")
            listed = await stub.ListFindings(
                pb.ListFindingsRequest(company_uscc=USCC), metadata=CHENGXIANG
            )
            [row] = listed.findings
            assert (row.status, row.objection, row.evidence_submissions, row.warning_id) == (
                "withdrawn",
                "upheld",
                1,
                str(uuid.UUID(int=7)),
            )

            # An agency's failure: the city records licheng's, listed with no company.
            await stub.RecordFinding(
                pb.RecordFindingRequest(
                    request_id="f-2",
                    kind="E1",
                    severity="general",
                    note="未按规定开展抽查",
                    attachments=[photo],
                    agency_unit="licheng",
                ),
                metadata=CITY,
            )
            agencies = await stub.ListFindings(
                pb.ListFindingsRequest(unit="licheng"), metadata=CITY
            )
            assert [
                (f.kind, f.party, f.agency_unit, f.company_uscc) for f in agencies.findings
            ] == [("E1", "agency", "licheng", "")]

            records = await read_topic(
                infra["kafka"],
                prefix + INSPECTION_EVENTS,
                subject=finding.finding_id,
                min_count=5,
            )
            types = [dict(r.headers)["ce_type"].decode() for r in records]
            assert types == [
                "pubrev.inspection.ViolationFound.v1",
                "pubrev.inspection.RectificationOrdered.v1",
                "pubrev.inspection.RectificationEvidenceSubmitted.v1",
                "pubrev.inspection.FindingObjected.v1",
                "pubrev.inspection.FindingWithdrawn.v1",
            ]

            # -- the townships' ledger -----------------------------------------------------
            for code, township in (("CX-00", "龙桥街道"), ("CX-02", "凤凰山街道")):
                await stub.RecordTownshipInspection(
                    pb.RecordTownshipInspectionRequest(
                        request_id=f"t-{code}",
                        community_code=code,
                        township=township,
                        inspected_on="2026-07-20",
                        inspector="巡查员甲",
                        problems=["公示栏破损"],
                    ),
                    metadata=TOWNSHIP,
                )
            ledger = await stub.ListTownshipInspections(
                pb.ListTownshipInspectionsRequest(township="龙桥街道"), metadata=CHENGXIANG
            )
            entries = [
                (i.community_code, i.inspected_on, list(i.problems)) for i in ledger.inspections
            ]
            assert entries == [("CX-00", "2026-07-20", ["公示栏破损"])]
            coverage = await stub.GetTownshipCoverage(
                pb.GetTownshipCoverageRequest(year=2026, unit="chengxiang"), metadata=CHENGXIANG
            )
            [unit] = coverage.units
            assert (unit.communities, unit.inspected, unit.percent, unit.behind) == (
                3,
                2,
                66,
                False,
            )

            # -- the quarter's cross check ---------------------------------------------------
            for n in range(2):
                await stub.RegisterInspector(
                    pb.RegisterInspectorRequest(
                        request_id=f"i-{n}", inspector_code=f"CX-I{n}", name="员", unit="chengxiang"
                    ),
                    metadata=CHENGXIANG,
                )
            planned = await stub.PlanCrossCheck(
                pb.PlanCrossCheckRequest(
                    request_id="x-1",
                    year=2026,
                    quarter=3,
                    checking_unit="chengxiang",
                    checked_unit="licheng",
                    communities=1,
                ),
                metadata=CITY,
            )

            async def duty() -> pb.CrossCheckDuty:
                reply = await stub.GetCrossCheckCompliance(
                    pb.GetCrossCheckComplianceRequest(year=2026, unit="chengxiang"),
                    metadata=CHENGXIANG,
                )
                assert list(reply.quarters) == ["2026Q3", "2026Q4"]
                return next(d for d in reply.duties if d.quarter == 3)

            running = await duty()
            assert (running.status, list(running.plan_ids)) == (
                "pending",
                [planned.cross_check_id],
            )
            clock.now = datetime(2026, 10, 2, 2, 0, tzinfo=UTC)
            assert (await duty()).status == "missing_report"
            await stub.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id="xe-1",
                    plan_id=planned.cross_check_id,
                    contribution="the city's discipline office 2026",
                ),
                metadata=CITY_DISCIPLINE,
            )
            await stub.ReportCrossCheck(
                pb.ReportCrossCheckRequest(
                    request_id="xr-1", cross_check_id=planned.cross_check_id
                ),
                metadata=CHENGXIANG,
            )
            assert (await duty()).status == "reported_late"
