"""Inspection through gRPC on the real stack: pools fed by disclosure's events on Kafka, a
unit's plan with its quota and verifiable draw, checks, findings, rectification, cross
checks and jurisdiction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest

from disclosure.bootstrap import build as build_disclosure
from inspection.bootstrap import build as build_inspection
from inspection.domain.community_watch import CommunityWatch
from pubrev.disclosure.v1 import disclosure_pb2 as dpb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as dpb_grpc
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from servicekit.testing import FakeClock, eventually, identity_metadata, running_service
from services.disclosure.tests.support.requests import USCC, file_request, register

pytestmark = pytest.mark.infra

LICHENG = identity_metadata("property-bureau", "officer", "licheng")
HANJIANG = identity_metadata("property-bureau", "officer", "hanjiang")
CITY = identity_metadata("property-bureau", "officer", "putian")
LICHENG_DISCIPLINE = identity_metadata("discipline", "supervisor", "licheng", "supervisor")
CITY_DISCIPLINE = identity_metadata("discipline", "supervisor", "putian", "supervisor")
ALL_ITEMS = [
    "signboard_present",
    "signboard_at_main_entrance",
    "posting_30_days",
    "five_items_present",
    "separate_account",
    "figures_match_books",
    "spending_approved_by_owners",
    "revenue_fully_booked",
    "surplus_transferred",
    "common_parts_authorised",
]


def checklist(failed: dict[str, str]) -> list[pb.ChecklistItem]:
    return [
        pb.ChecklistItem(
            item=i,
            passed=i not in failed,
            severity=failed.get(i, ""),
            evidence_refs=[f"{i}.jpg"] if i in failed else [],
        )
        for i in ALL_ITEMS
    ]


async def test_pools_plan_draw_check_rectify_and_cross_check(service_settings) -> None:
    # Fixed codes (each test has its own database and topics): the draw below is then
    # deterministic, and so is the check that a tampered seed is caught (with a pool of 5 and
    # one drawn, a different seed picks the same community 1 time in 5).
    prefix = "IN"
    codes = [f"{prefix}-{n}" for n in range(8)]
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    # Inspection's own clock: the day of the check, of the verification, past the deadlines,
    # and the quarter of the cross check (a quarter that is over is not planned any more).
    inspection_clock = FakeClock(datetime(2026, 6, 1, 3, tzinfo=UTC))
    async with (
        running_service(
            lambda s: build_disclosure(s, clock=clock), service_settings("disclosure")
        ) as (_, d),
        running_service(
            lambda s: build_inspection(s, clock=inspection_clock), service_settings("inspection")
        ) as (parts, i),
    ):
        app = parts.app
        assert d.grpc and i.grpc
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{d.grpc.port}") as dch,
            grpc.aio.insecure_channel(f"127.0.0.1:{i.grpc.port}") as ich,
        ):
            disclosure = dpb_grpc.DisclosureServiceStub(dch)
            inspection = pb_grpc.InspectionServiceStub(ich)
            for code in codes:
                await register(disclosure, code, LICHENG, unit="licheng")
            clock.now = datetime(2026, 4, 20, tzinfo=UTC)
            zero = file_request(codes[0])
            zero.content.ClearField("income")
            zero.content.no_income = True
            zero.content.operating_cost_fen = 0
            del zero.content.expenditure[:]
            zero.content.owners_share_fen = 0
            zero.content.transferred_to_maintenance_fund_fen = 0
            await disclosure.FileDisclosure(zero, metadata=LICHENG)
            for code in codes[1:4] + codes[6:]:
                await disclosure.FileDisclosure(file_request(code), metadata=LICHENG)
            clock.now = datetime(2026, 5, 2, tzinfo=UTC)
            closed = await disclosure.CloseQuarter(
                dpb.CloseQuarterRequest(request_id="close-2026q1", year=2026, quarter=1),
                metadata=CITY,
            )
            assert closed.marked_overdue >= 2  # codes[4] and codes[5]

            async def progress() -> pb.UnitProgress | None:
                reply = await inspection.GetPlanProgress(
                    pb.GetPlanProgressRequest(year=2026, unit="licheng"), metadata=LICHENG
                )
                [unit] = reply.units
                return unit if unit.communities >= 8 else None

            await eventually(progress, what="inspection to learn the communities")
            for n, (unit, who) in enumerate(
                [("licheng", LICHENG)] * 3 + [("hanjiang", HANJIANG)] * 3
            ):
                await inspection.RegisterInspector(
                    pb.RegisterInspectorRequest(
                        request_id=f"i-{prefix}-{n}",
                        inspector_code=f"{prefix}-I{n}",
                        name=f"检查员{n}",
                        unit=unit,
                    ),
                    metadata=who,
                )
            await inspection.DeclareConflict(
                pb.DeclareConflictRequest(
                    request_id=f"c-{prefix}",
                    inspector_code=f"{prefix}-I0",
                    community_code=codes[0],
                    reason="亲属在该小区物业任职",
                ),
                metadata=LICHENG,
            )

            async def pools_fed() -> bool:
                # A plan is made once: wait until the zero-revenue filing and both overdue
                # quarters have come through Kafka into inspection's pools.
                watches = [
                    await asyncio.to_thread(app.find, CommunityWatch.create_id(c), CommunityWatch)
                    for c in codes
                ]
                return (
                    watches[0] is not None
                    and watches[0].zero_revenue
                    and all(w is not None and w.overdue_quarters for w in watches[4:6])
                )

            await eventually(pools_fed, what="the pools to be fed from Kafka")
            with pytest.raises(grpc.aio.AioRpcError) as picked:
                await inspection.PlanSpotChecks(
                    pb.PlanSpotChecksRequest(
                        request_id=f"p0-{prefix}", year=2026, unit="licheng", seed="fixed-seed"
                    ),
                    metadata=LICHENG,
                )
            assert picked.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            planned = await inspection.PlanSpotChecks(
                pb.PlanSpotChecksRequest(request_id=f"p-{prefix}", year=2026, unit="licheng"),
                metadata=LICHENG,
            )
            assert (planned.communities, planned.quota) == (8, 4)
            # Recorded: the pool, the roster and the commitment; drawn: nothing yet.
            assert not planned.targets and not planned.draw.seed and not planned.draw.secret
            assert len(planned.draw.commitment) == 64 and len(planned.draw.candidates) == 8
            plan = await inspection.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id=f"e-{prefix}",
                    plan_id=planned.plan_id,
                    contribution="licheng discipline 3f9a0c7e",
                ),
                metadata=LICHENG_DISCIPLINE,
            )
            assert plan.draw.commitment == planned.draw.commitment and plan.draw.secret
            reasons = [t.reason for t in plan.targets]
            assert reasons == ["zero_revenue", "overdue", "overdue", "random"]
            assert {t.community_code for t in plan.targets[1:3]} == set(codes[4:6])
            assert len(plan.draw.drawn) == 1 and plan.draw.pool_size == 5
            assert plan.targets[0].community_code == codes[0]
            assert f"{prefix}-I0" not in plan.targets[0].inspector_codes
            assert all(
                c.startswith(f"{prefix}-I") and int(c[-1]) < 3
                for t in plan.targets
                for c in t.inspector_codes
            )

            verified = await inspection.VerifyDraw(
                pb.VerifyDrawRequest(plan_id=plan.plan_id), metadata=LICHENG
            )
            assert verified.matches and verified.status == "drawn", verified.explanation
            given = await inspection.VerifyDraw(
                pb.VerifyDrawRequest(draw=plan.draw, count=1), metadata=LICHENG
            )
            assert given.matches, given.explanation
            tampered = pb.DrawRecord()
            tampered.CopyFrom(plan.draw)
            tampered.seed = "another seed"
            forged = await inspection.VerifyDraw(
                pb.VerifyDrawRequest(draw=tampered, count=1), metadata=LICHENG
            )
            assert not forged.matches
            shrunk = pb.DrawRecord()
            shrunk.CopyFrom(plan.draw)
            shrunk.pool.remove(plan.draw.drawn[0])
            assert not (
                await inspection.VerifyDraw(
                    pb.VerifyDrawRequest(draw=shrunk, count=1), metadata=LICHENG
                )
            ).matches

            target = plan.targets[0]
            recorded = await inspection.RecordSpotCheck(
                pb.RecordSpotCheckRequest(
                    request_id=f"r-{prefix}",
                    plan_id=plan.plan_id,
                    community_code=target.community_code,
                    inspected_at="2026-06-01T09:30:00+08:00",
                    inspector_codes=target.inspector_codes,
                    checklist=checklist(
                        {"signboard_present": "general", "surplus_transferred": "serious"}
                    ),
                ),
                metadata=LICHENG,
            )
            kinds = sorted(
                (f.kind, f.severity, f.rectification_deadline[:10]) for f in recorded.findings
            )
            assert kinds == [("A1", "general", "2026-07-01"), ("B6", "serious", "2026-07-31")]

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await inspection.RecordSpotCheck(
                    pb.RecordSpotCheckRequest(
                        request_id=f"r2-{prefix}",
                        plan_id=plan.plan_id,
                        community_code=plan.targets[1].community_code,
                        inspected_at="2026-06-02T09:30:00+08:00",
                        inspector_codes=["x"],
                        checklist=checklist({}),
                    ),
                    metadata=HANJIANG,
                )
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED

            findings = await inspection.ListFindings(
                pb.ListFindingsRequest(company_uscc=USCC), metadata=LICHENG
            )
            assert {f.kind for f in findings.findings} >= {"A1", "B6"}
            a1 = next(f for f in recorded.findings if f.kind == "A1")
            inspection_clock.now = datetime(2026, 6, 20, 3, tzinfo=UTC)
            done = await inspection.VerifyRectification(
                pb.VerifyRectificationRequest(
                    request_id=f"v-{prefix}",
                    finding_id=a1.finding_id,
                    verified_at="2026-06-20T10:00:00+08:00",
                    evidence_refs=["after.jpg"],
                ),
                metadata=LICHENG,
            )
            assert done.finding.status == "verified"
            inspection_clock.now = datetime(2026, 8, 3, 3, tzinfo=UTC)
            swept = await inspection.SweepRectificationDeadlines(
                pb.SweepRectificationDeadlinesRequest(request_id=f"s-{prefix}"), metadata=CITY
            )
            assert swept.marked_overdue >= 1  # B6's deadline (31 July 2026) has passed

            now = await progress()
            assert now is not None and now.checked == 1

            planned_cross = await inspection.PlanCrossCheck(
                pb.PlanCrossCheckRequest(
                    request_id=f"x-{prefix}",
                    year=2026,
                    quarter=3,
                    checking_unit="hanjiang",
                    checked_unit="licheng",
                    communities=2,
                ),
                metadata=CITY,
            )
            assert not planned_cross.targets
            cross = await inspection.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id=f"xe-{prefix}",
                    plan_id=planned_cross.cross_check_id,
                    contribution="the city's discipline office 8d21",
                ),
                metadata=CITY_DISCIPLINE,
            )
            assert cross.plan_id == planned_cross.cross_check_id
            assert len(cross.targets) == 2
            assert all(int(c[-1]) >= 3 for t in cross.targets for c in t.inspector_codes)
            t0 = cross.targets[0]
            await inspection.RecordSpotCheck(
                pb.RecordSpotCheckRequest(
                    request_id=f"xr-{prefix}",
                    plan_id=cross.plan_id,
                    community_code=t0.community_code,
                    inspected_at="2026-08-03T10:00:00+08:00",
                    inspector_codes=t0.inspector_codes,
                    checklist=checklist({"posting_30_days": "minor"}),
                ),
                metadata=HANJIANG,
            )
            report = await inspection.ReportCrossCheck(
                pb.ReportCrossCheckRequest(request_id=f"xp-{prefix}", cross_check_id=cross.plan_id),
                metadata=HANJIANG,
            )
            assert (report.planned, report.checked) == (2, 1)
            assert report.findings_by_kind["A4"] == 1
