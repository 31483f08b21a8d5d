"""pubrev.inspection.v1.InspectionService over grpc.aio: each request becomes a command
(application/commands.py) or a query (application/queries.py); each result becomes its
response field by field. Commands, and the queries that load aggregates, run in a worker
thread (eventsourcing is synchronous); the queries over the read model are awaited on the
servicer's loop (asyncpg, no thread). Nothing is authorized here: the application does it
(access.POLICY)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.application.ports import CheckRow, FindingRow, TownshipInspectionRow
from inspection.application.queries import (
    CommunityDisclosureView,
    CrossCheckCompliance,
    DrawVerification,
    TownshipCoverage,
    UnitProgress,
)
from inspection.domain import draw as draws
from inspection.domain.cross_check_duty import QuarterDuty
from inspection.domain.finding import Finding
from inspection.domain.spot_check import ChecklistResult, Substitution
from inspection.domain.spot_check_plan import SpotCheckPlan, candidates_hash
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.evidence import refs_from_pb
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
    """A finding, as recorded (the aggregate) or as listed (the read model's row)."""
    deadline = f.deadline
    submissions = len(f.submissions) if isinstance(f, Finding) else f.submissions
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
        party=f.party,
        agency_unit=f.agency_unit,
        warning_id=f.warning_id,
        objection=f.objection,
        evidence_submissions=submissions,
    )


def _township_inspection(r: TownshipInspectionRow) -> pb.TownshipInspection:
    return pb.TownshipInspection(
        ledger_id=r.ledger_id,
        community_code=r.community_code,
        unit=r.unit,
        township=r.township,
        inspected_on=r.inspected_on.isoformat(),
        inspector=r.inspector,
        problems=list(r.problems),
        note=r.note,
    )


def _township_coverage(c: TownshipCoverage) -> pb.TownshipCoverage:
    return pb.TownshipCoverage(
        unit=c.unit,
        communities=c.communities,
        inspected=c.inspected,
        percent=c.percent,
        expected_by_now=c.expected_by_now,
        behind=c.behind,
        window_start=c.window_start,
        window_due=c.window_due,
        stage_name=c.stage_name,
        stage_basis=c.stage_basis,
        townships=[
            pb.TownshipCount(township=t.township, communities=t.communities, inspected=t.inspected)
            for t in c.townships
        ],
    )


def _cross_check_duty(d: QuarterDuty) -> pb.CrossCheckDuty:
    return pb.CrossCheckDuty(
        unit=d.unit,
        year=d.year,
        quarter=d.quarter,
        due=d.due,
        over=d.over,
        plan_ids=list(d.plan_ids),
        reported=d.reported,
        reported_in_time=d.reported_in_time,
        checked_by=list(d.checked_by),
        status=d.status,
    )


def _compliance(c: CrossCheckCompliance) -> pb.GetCrossCheckComplianceResponse:
    return pb.GetCrossCheckComplianceResponse(
        duties=[_cross_check_duty(d) for d in c.duties],
        duty_source=c.duty_source,
        report_due_source=c.report_due_source,
        quarters=c.quarters,
    )


def _progress(p: UnitProgress) -> pb.UnitProgress:
    return pb.UnitProgress(
        unit=p.unit,
        communities=p.communities,
        quota=p.quota,
        checked=p.checked,
        expected_by_now=p.expected_by_now,
        behind=p.behind,
        tolerance_percent=p.tolerance_percent,
        pace_rules_version=p.pace_rules_version,
        pace_source=p.pace_source,
        tolerance_source=p.tolerance_source,
        checks_start=p.checks_start,
        checks_due=p.checks_due,
        quota_source=p.quota_source,
    )


def _check_summary(r: CheckRow) -> pb.SpotCheckSummary:
    return pb.SpotCheckSummary(
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


def _community_disclosure(view: CommunityDisclosureView) -> pb.CommunityDisclosure:
    return pb.CommunityDisclosure(
        community_code=view.community_code,
        unit=view.unit,
        disclosure_id=view.disclosure_id,
        year=view.year,
        quarter=view.quarter,
        income_total_fen=view.income_total_fen,
        surplus_fen=view.surplus_fen,
        late=view.late,
        zero_revenue=view.zero_revenue,
        disclosures_noted=view.disclosures_noted,
    )


def record_spot_check_of(request: pb.RecordSpotCheckRequest) -> c.RecordSpotCheck:
    return c.RecordSpotCheck(
        request_id=request.request_id,
        plan_id=request.plan_id,
        community_code=request.community_code,
        inspected_at=_time(request.inspected_at),
        inspector_codes=tuple(request.inspector_codes),
        checklist=tuple(
            ChecklistResult(
                i.item,
                i.passed,
                i.note,
                tuple(i.evidence_refs),
                i.severity,
                refs_from_pb(i.attachments),
            )
            for i in request.checklist
        ),
        substitutions=tuple(
            Substitution(s.absent_inspector_code, s.substitute_inspector_code, s.reason)
            for s in request.substitutions
        ),
    )


class InspectionServicer(pb_grpc.InspectionServiceServicer):
    def __init__(self, app: InspectionApplication) -> None:
        self.app = app

    async def _handle(self, command: Any) -> Any:
        return await asyncio.to_thread(self.app.handle, current_identity(), command)

    async def _query(self, query: Any, *args: Any) -> Any:
        return await asyncio.to_thread(query, self.app, current_identity(), *args)

    async def _read(self, query: Any, *args: Any) -> Any:
        """A query over the read model, awaited here: its reads are async."""
        return await query(self.app, current_identity(), *args)

    async def _plan(self, plan_id: str) -> SpotCheckPlan:
        """The plan a command just made or drew, for its response (the caller may see it)."""
        return await asyncio.to_thread(self.app.plan, plan_id)

    async def RegisterInspector(
        self, request: pb.RegisterInspectorRequest, context: Context
    ) -> pb.RegisterInspectorResponse:
        result: c.InspectorRegistered = await self._handle(
            c.RegisterInspector(
                request_id=request.request_id,
                inspector_code=request.inspector_code,
                name=request.name,
                unit=request.unit,
            )
        )
        return pb.RegisterInspectorResponse(inspector_id=result.inspector_id)

    async def DeclareConflict(
        self, request: pb.DeclareConflictRequest, context: Context
    ) -> pb.DeclareConflictResponse:
        result: c.ConflictDeclared = await self._handle(
            c.DeclareConflict(
                request_id=request.request_id,
                inspector_code=request.inspector_code,
                community_code=request.community_code,
                reason=request.reason,
            )
        )
        return pb.DeclareConflictResponse(version=result.version)

    async def PlanSpotChecks(
        self, request: pb.PlanSpotChecksRequest, context: Context
    ) -> pb.PlanSpotChecksResponse:
        result: c.SpotChecksPlanned = await self._handle(
            c.PlanSpotChecks(
                request_id=request.request_id,
                year=request.year,
                unit=request.unit,
                seed=request.seed,
                inspectors_per_target=request.inspectors_per_target,
                handed_down=tuple(request.handed_down),
                major_petitions=tuple(request.major_petitions),
                typical_cases=tuple(request.typical_cases),
            )
        )
        plan = await self._plan(result.plan_id)
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
        verification = await self._query(queries.verify_draw, request.plan_id, given, request.count)
        return _verification(verification)

    async def ContributeDrawEntropy(
        self, request: pb.ContributeDrawEntropyRequest, context: Context
    ) -> pb.ContributeDrawEntropyResponse:
        result: c.SpotChecksDrawn = await self._handle(
            c.ContributeDrawEntropy(
                request_id=request.request_id,
                plan_id=request.plan_id,
                contribution=request.contribution,
            )
        )
        plan = await self._plan(result.plan_id)
        return pb.ContributeDrawEntropyResponse(
            plan_id=str(plan.id), round=result.round, targets=_targets(plan), draw=_draw(plan)
        )

    async def RedrawSpotChecks(
        self, request: pb.RedrawSpotChecksRequest, context: Context
    ) -> pb.RedrawSpotChecksResponse:
        result: c.SpotChecksRedrawn = await self._handle(
            c.RedrawSpotChecks(
                request_id=request.request_id, plan_id=request.plan_id, reason=request.reason
            )
        )
        return pb.RedrawSpotChecksResponse(
            plan_id=result.plan_id, round=result.round, commitment=result.commitment
        )

    async def PlanCrossCheck(
        self, request: pb.PlanCrossCheckRequest, context: Context
    ) -> pb.PlanCrossCheckResponse:
        result: c.CrossCheckPlanned = await self._handle(
            c.PlanCrossCheck(
                request_id=request.request_id,
                year=request.year,
                quarter=request.quarter,
                checking_unit=request.checking_unit,
                checked_unit=request.checked_unit,
                communities=request.communities,
                seed=request.seed,
                inspectors_per_target=request.inspectors_per_target,
            )
        )
        plan = await self._plan(result.cross_check_id)
        return pb.PlanCrossCheckResponse(
            cross_check_id=str(plan.id), targets=_targets(plan), draw=_draw(plan)
        )

    async def RecordSpotCheck(
        self, request: pb.RecordSpotCheckRequest, context: Context
    ) -> pb.RecordSpotCheckResponse:
        result: c.SpotCheckRecorded = await self._handle(record_spot_check_of(request))
        findings = [await asyncio.to_thread(self.app.finding, f) for f in result.finding_ids]
        return pb.RecordSpotCheckResponse(
            spot_check_id=result.spot_check_id,
            findings=[_finding(f, str(f.id)) for f in findings],
        )

    async def VerifyRectification(
        self, request: pb.VerifyRectificationRequest, context: Context
    ) -> pb.VerifyRectificationResponse:
        result: c.RectificationVerified = await self._handle(
            c.VerifyRectification(
                request_id=request.request_id,
                finding_id=request.finding_id,
                verified_at=_time(request.verified_at),
                evidence_refs=tuple(request.evidence_refs),
                note=request.note,
                cite_company_evidence=request.cite_company_evidence,
            )
        )
        finding = await asyncio.to_thread(self.app.finding, result.finding_id)
        return pb.VerifyRectificationResponse(finding=_finding(finding, str(finding.id)))

    async def SweepRectificationDeadlines(
        self, request: pb.SweepRectificationDeadlinesRequest, context: Context
    ) -> pb.SweepRectificationDeadlinesResponse:
        result: c.DeadlinesSwept = await self._handle(
            c.SweepRectificationDeadlines(request_id=request.request_id)
        )
        return pb.SweepRectificationDeadlinesResponse(marked_overdue=result.marked_overdue)

    async def ReportCrossCheck(
        self, request: pb.ReportCrossCheckRequest, context: Context
    ) -> pb.ReportCrossCheckResponse:
        result: c.CrossCheckReported = await self._handle(
            c.ReportCrossCheck(request_id=request.request_id, cross_check_id=request.cross_check_id)
        )
        return pb.ReportCrossCheckResponse(
            cross_check_id=result.cross_check_id,
            planned=result.planned,
            checked=result.checked,
            findings=result.findings,
            findings_by_kind=result.findings_by_kind,
        )

    async def GetPlanProgress(
        self, request: pb.GetPlanProgressRequest, context: Context
    ) -> pb.GetPlanProgressResponse:
        progress = await self._read(queries.plan_progress, request.year, request.unit)
        return pb.GetPlanProgressResponse(units=[_progress(p) for p in progress])

    async def ListSpotChecks(
        self, request: pb.ListSpotChecksRequest, context: Context
    ) -> pb.ListSpotChecksResponse:
        rows = await self._read(
            queries.spot_checks,
            request.year,
            request.unit,
            request.community_code,
            request.company_uscc,
        )
        return pb.ListSpotChecksResponse(spot_checks=[_check_summary(r) for r in rows])

    async def ListFindings(
        self, request: pb.ListFindingsRequest, context: Context
    ) -> pb.ListFindingsResponse:
        rows = await self._read(queries.findings, request.company_uscc, request.unit)
        return pb.ListFindingsResponse(findings=[_finding(r, r.finding_id) for r in rows])

    async def GetCommunityDisclosure(
        self, request: pb.GetCommunityDisclosureRequest, context: Context
    ) -> pb.GetCommunityDisclosureResponse:
        view = await self._query(queries.community_disclosure, request.community_code)
        return pb.GetCommunityDisclosureResponse(disclosure=_community_disclosure(view))

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)

    async def _finding_pb(self, finding_id: str) -> pb.Finding:
        """The finding a command just changed, for its response (the caller may see it)."""
        finding = await asyncio.to_thread(self.app.finding, finding_id)
        return _finding(finding, str(finding.id))

    async def RecordFinding(
        self, request: pb.RecordFindingRequest, context: Context
    ) -> pb.RecordFindingResponse:
        result: c.FindingRecorded = await self._handle(
            c.RecordFinding(
                request_id=request.request_id,
                kind=request.kind,
                severity=request.severity,
                note=request.note,
                attachments=refs_from_pb(request.attachments),
                community_code=request.community_code,
                agency_unit=request.agency_unit,
                township=request.township,
                warning_id=request.warning_id,
            )
        )
        return pb.RecordFindingResponse(finding=await self._finding_pb(result.finding_id))

    async def SubmitRectificationEvidence(
        self, request: pb.SubmitRectificationEvidenceRequest, context: Context
    ) -> pb.SubmitRectificationEvidenceResponse:
        result: c.EvidenceSubmitted = await self._handle(
            c.SubmitRectificationEvidence(
                request_id=request.request_id,
                finding_id=request.finding_id,
                note=request.note,
                attachments=refs_from_pb(request.attachments),
            )
        )
        return pb.SubmitRectificationEvidenceResponse(
            finding=await self._finding_pb(result.finding_id), submissions=result.submissions
        )

    async def ObjectToFinding(
        self, request: pb.ObjectToFindingRequest, context: Context
    ) -> pb.ObjectToFindingResponse:
        result: c.ObjectionRaised = await self._handle(
            c.ObjectToFinding(
                request_id=request.request_id,
                finding_id=request.finding_id,
                reason=request.reason,
                attachments=refs_from_pb(request.attachments),
            )
        )
        return pb.ObjectToFindingResponse(
            finding=await self._finding_pb(result.finding_id),
            objection_deadline=result.deadline,
        )

    async def DecideObjection(
        self, request: pb.DecideObjectionRequest, context: Context
    ) -> pb.DecideObjectionResponse:
        result: c.ObjectionDecided = await self._handle(
            c.DecideObjection(
                request_id=request.request_id,
                finding_id=request.finding_id,
                upheld=request.upheld,
                decision=request.decision,
            )
        )
        return pb.DecideObjectionResponse(finding=await self._finding_pb(result.finding_id))

    async def RecordTownshipInspection(
        self, request: pb.RecordTownshipInspectionRequest, context: Context
    ) -> pb.RecordTownshipInspectionResponse:
        result: c.TownshipInspectionEntered = await self._handle(
            c.RecordTownshipInspection(
                request_id=request.request_id,
                community_code=request.community_code,
                township=request.township,
                inspected_on=request.inspected_on,
                inspector=request.inspector,
                problems=tuple(request.problems),
                note=request.note,
            )
        )
        return pb.RecordTownshipInspectionResponse(
            ledger_id=result.ledger_id,
            community_code=result.community_code,
            inspected_on=result.inspected_on,
            problems=result.problems,
        )

    async def ListTownshipInspections(
        self, request: pb.ListTownshipInspectionsRequest, context: Context
    ) -> pb.ListTownshipInspectionsResponse:
        rows = await self._read(
            queries.township_inspections,
            request.unit,
            request.township,
            request.community_code,
            request.since,
            request.until,
        )
        return pb.ListTownshipInspectionsResponse(
            inspections=[_township_inspection(r) for r in rows]
        )

    async def GetTownshipCoverage(
        self, request: pb.GetTownshipCoverageRequest, context: Context
    ) -> pb.GetTownshipCoverageResponse:
        coverage = await self._read(queries.township_coverage, request.year, request.unit)
        return pb.GetTownshipCoverageResponse(units=[_township_coverage(u) for u in coverage])

    async def GetCrossCheckCompliance(
        self, request: pb.GetCrossCheckComplianceRequest, context: Context
    ) -> pb.GetCrossCheckComplianceResponse:
        compliance = await self._read(queries.cross_check_compliance, request.year, request.unit)
        return _compliance(compliance)


def register(app: InspectionApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_InspectionServiceServicer_to_server(InspectionServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InspectionService"].full_name
