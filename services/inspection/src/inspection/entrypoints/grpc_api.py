"""pubrev.inspection.v1.InspectionService over grpc.aio (application calls run in worker
threads: eventsourcing is synchronous)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from inspection.application.app import (
    ChecklistResult,
    DrawVerification,
    InspectionApplication,
    Substitution,
)
from inspection.application.ports import FindingRow
from inspection.domain import draw as draws
from inspection.domain.check import Finding
from inspection.domain.plan import SpotCheckPlan, candidates_hash
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


def _time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _targets(plan: SpotCheckPlan) -> list[pb.PlannedTarget]:
    return [
        pb.PlannedTarget(
            community_code=t["community_code"], reason=t["reason"], inspector_codes=t["inspectors"]
        )
        for t in plan.targets
    ]


def _draw(plan: SpotCheckPlan) -> pb.DrawRecord:
    """What the plan recorded of its draw: before it is executed, the commitment, the pool
    and the roster; after, the seed, the revealed secret and what was drawn."""
    d = plan.draw
    roster = plan.roster or {code: [] for code in d.get("inspector_pool", [])}
    return pb.DrawRecord(
        seed=d.get("seed", ""),
        algorithm=d.get("algorithm", draws.ALGORITHM),
        pool_hash=d.get("pool_hash", ""),
        pool_size=d.get("pool_size", 0),
        pool=d.get("pool", []),
        drawn=d.get("drawn", []),
        inspector_pool_hash=d.get("inspector_pool_hash", draws.pool_hash(roster)),
        inspector_pool=d.get("inspector_pool", sorted(roster)),
        seed_scheme=plan.scheme,
        commitment=plan.commitment,
        secret=d.get("secret", ""),
        contribution=d.get("contribution", ""),
        plan_id=str(plan.id),
        candidates=[
            pb.DrawCandidate(community_code=c["community_code"], reasons=c["reasons"])
            for c in plan.candidates
        ],
        candidates_hash=candidates_hash(plan.candidates) if plan.candidates else "",
        roster=[
            pb.RosterEntry(inspector_code=code, conflicts=conflicts)
            for code, conflicts in sorted(roster.items())
        ],
        round=plan.round,
        quota=plan.quota,
        inspectors_per_target=plan.per_target,
    )


def _verification(v: DrawVerification) -> pb.VerifyDrawResponse:
    reply = pb.VerifyDrawResponse(
        matches=v.matches,
        drawn=v.drawn,
        explanation=v.explanation,
        status=v.status,
        published=v.published,
    )
    if v.plan is not None:
        reply.round = v.plan.round
        reply.draw.CopyFrom(_draw(v.plan))
        reply.targets.extend(_targets(v.plan))
        reply.redraws.extend(
            pb.DrawRound(
                round=r["round"],
                reason=r["reason"],
                commitment=r["commitment"],
                drawn=r["drawn"],
                secret=r["secret"],
                seed=r["seed"],
                targets=r["targets"],
            )
            for r in v.redraws
        )
    return reply


def _finding(f: Finding | FindingRow, finding_id: str) -> pb.Finding:
    deadline = f.deadline
    return pb.Finding(
        finding_id=finding_id,
        community_code=f.community_code,
        company_uscc=f.company_uscc,
        kind=f.kind,
        kind_name=f.kind_name,
        severity=f.severity,
        legal_basis=f.legal_basis,
        rectification_deadline=_iso(deadline),
        status=f.status,
        unit=f.unit,
        checking_unit=f.checking_unit,
        checking_kind=f.checking_kind,
        rectification_deadline_basis=f.deadline_basis,
    )


class InspectionServicer(pb_grpc.InspectionServiceServicer):
    def __init__(self, app: InspectionApplication) -> None:
        self.app = app

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, current_identity(), *args)

    async def RegisterInspector(
        self, request: pb.RegisterInspectorRequest, context: Context
    ) -> pb.RegisterInspectorResponse:
        result = await self._call(
            self.app.register_inspector,
            request.request_id,
            request.inspector_code,
            request.name,
            request.unit,
        )
        return pb.RegisterInspectorResponse(**result)

    async def DeclareConflict(
        self, request: pb.DeclareConflictRequest, context: Context
    ) -> pb.DeclareConflictResponse:
        result = await self._call(
            self.app.declare_conflict,
            request.request_id,
            request.inspector_code,
            request.community_code,
            request.reason,
        )
        return pb.DeclareConflictResponse(**result)

    async def PlanSpotChecks(
        self, request: pb.PlanSpotChecksRequest, context: Context
    ) -> pb.PlanSpotChecksResponse:
        result = await self._call(
            self.app.plan_spot_checks,
            request.request_id,
            request.year,
            request.unit,
            request.seed,
            request.inspectors_per_target,
            list(request.handed_down),
            list(request.major_petitions),
            list(request.typical_cases),
        )
        plan = await asyncio.to_thread(self.app.plan, result["plan_id"])
        return pb.PlanSpotChecksResponse(
            plan_id=str(plan.id),
            communities=plan.communities,
            quota=plan.quota,
            quota_rules_version=plan.rules_version,
            targets=_targets(plan),
            draw=_draw(plan),
            # The rules in force made the quota: a plan records their version, not the text.
            quota_source=self.app.rules.quota_source,
        )

    async def VerifyDraw(
        self, request: pb.VerifyDrawRequest, context: Context
    ) -> pb.VerifyDrawResponse:
        given = (
            MessageToDict(request.draw, preserving_proto_field_name=True)
            if request.HasField("draw")
            else None
        )
        verification = await self._call(self.app.verify_draw, request.plan_id, given, request.count)
        return _verification(verification)

    async def ContributeDrawEntropy(
        self, request: pb.ContributeDrawEntropyRequest, context: Context
    ) -> pb.ContributeDrawEntropyResponse:
        result = await self._call(
            self.app.contribute_draw_entropy,
            request.request_id,
            request.plan_id,
            request.contribution,
        )
        plan = await asyncio.to_thread(self.app.plan, result["plan_id"])
        return pb.ContributeDrawEntropyResponse(
            plan_id=str(plan.id), round=result["round"], targets=_targets(plan), draw=_draw(plan)
        )

    async def RedrawSpotChecks(
        self, request: pb.RedrawSpotChecksRequest, context: Context
    ) -> pb.RedrawSpotChecksResponse:
        result = await self._call(
            self.app.redraw, request.request_id, request.plan_id, request.reason
        )
        return pb.RedrawSpotChecksResponse(**result)

    async def PlanCrossCheck(
        self, request: pb.PlanCrossCheckRequest, context: Context
    ) -> pb.PlanCrossCheckResponse:
        result = await self._call(
            self.app.plan_cross_check,
            request.request_id,
            request.year,
            request.quarter,
            request.checking_unit,
            request.checked_unit,
            request.communities,
            request.seed,
            request.inspectors_per_target,
        )
        plan = await asyncio.to_thread(self.app.plan, result["cross_check_id"])
        return pb.PlanCrossCheckResponse(
            cross_check_id=str(plan.id), targets=_targets(plan), draw=_draw(plan)
        )

    async def RecordSpotCheck(
        self, request: pb.RecordSpotCheckRequest, context: Context
    ) -> pb.RecordSpotCheckResponse:
        checklist = [
            ChecklistResult(i.item, i.passed, i.note, tuple(i.evidence_refs), i.severity)
            for i in request.checklist
        ]
        substitutions = [
            Substitution(s.absent_inspector_code, s.substitute_inspector_code, s.reason)
            for s in request.substitutions
        ]
        result = await self._call(
            self.app.record_spot_check,
            request.request_id,
            request.plan_id,
            request.community_code,
            _time(request.inspected_at),
            list(request.inspector_codes),
            checklist,
            substitutions,
        )
        findings = [await asyncio.to_thread(self.app.finding, f) for f in result["finding_ids"]]
        return pb.RecordSpotCheckResponse(
            spot_check_id=result["spot_check_id"],
            findings=[_finding(f, str(f.id)) for f in findings],
        )

    async def VerifyRectification(
        self, request: pb.VerifyRectificationRequest, context: Context
    ) -> pb.VerifyRectificationResponse:
        finding = await self._call(
            self.app.verify_rectification,
            request.request_id,
            request.finding_id,
            _time(request.verified_at),
            list(request.evidence_refs),
            request.note,
        )
        return pb.VerifyRectificationResponse(finding=_finding(finding, str(finding.id)))

    async def SweepRectificationDeadlines(
        self, request: pb.SweepRectificationDeadlinesRequest, context: Context
    ) -> pb.SweepRectificationDeadlinesResponse:
        marked = await self._call(self.app.sweep, request.request_id)
        return pb.SweepRectificationDeadlinesResponse(marked_overdue=marked)

    async def ReportCrossCheck(
        self, request: pb.ReportCrossCheckRequest, context: Context
    ) -> pb.ReportCrossCheckResponse:
        result = await self._call(
            self.app.report_cross_check, request.request_id, request.cross_check_id
        )
        return pb.ReportCrossCheckResponse(**result)

    async def GetPlanProgress(
        self, request: pb.GetPlanProgressRequest, context: Context
    ) -> pb.GetPlanProgressResponse:
        progress = await self._call(self.app.plan_progress, request.year, request.unit)
        return pb.GetPlanProgressResponse(units=[pb.UnitProgress(**vars(p)) for p in progress])

    async def ListSpotChecks(
        self, request: pb.ListSpotChecksRequest, context: Context
    ) -> pb.ListSpotChecksResponse:
        rows = await self._call(
            self.app.spot_checks,
            request.year,
            request.unit,
            request.community_code,
            request.company_uscc,
        )
        return pb.ListSpotChecksResponse(
            spot_checks=[
                pb.SpotCheckSummary(
                    spot_check_id=r.spot_check_id,
                    plan_id=r.plan_id,
                    community_code=r.community_code,
                    unit=r.unit,
                    company_uscc=r.company_uscc,
                    inspected_at=_iso(r.inspected_at),
                    findings=r.findings,
                    checking_unit=r.checking_unit,
                    checking_kind=r.checking_kind,
                )
                for r in rows
            ]
        )

    async def ListFindings(
        self, request: pb.ListFindingsRequest, context: Context
    ) -> pb.ListFindingsResponse:
        rows = await self._call(self.app.findings, request.company_uscc, request.unit)
        return pb.ListFindingsResponse(findings=[_finding(r, r.finding_id) for r in rows])

    async def GetCommunityDisclosure(
        self, request: pb.GetCommunityDisclosureRequest, context: Context
    ) -> pb.GetCommunityDisclosureResponse:
        view = await self._call(self.app.community_disclosure, request.community_code)
        return pb.GetCommunityDisclosureResponse(disclosure=pb.CommunityDisclosure(**vars(view)))

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: InspectionApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_InspectionServiceServicer_to_server(InspectionServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InspectionService"].full_name
