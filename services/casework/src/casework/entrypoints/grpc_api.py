"""pubrev.casework.v1.CaseworkService over grpc.aio: each RPC's request → command or query
explicitly, its result → pb explicitly (the `*_to_pb` functions at the bottom). The
campaign's RPCs (issue 13 items 3 and 8: progress in the calendar's stages, a unit's own
stage records, the monthly reports and the city's monthly circular) close the servicer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any, Protocol

import grpc

from casework.adapters.ledger_files import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from casework.application import commands as c
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.ports import CaseRow, PersonalDataRead, WarningRow
from casework.domain.campaign.circular import INDICATORS, RANKING_BASIS
from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev.common.v1 import audit_pb2
from servicekit.attachments import AttachmentRef
from servicekit.audit import history_events
from servicekit.errors import Validator
from servicekit.evidence import ref_to_pb, refs_from_pb
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]
_FIGURE_NAMES = dict(queries.FIGURES)


def _time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min  # noqa: DTZ901 (naive on purpose: refused as time_format)
    return value


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _utc_or_empty(value: datetime | None) -> str:
    return _utc(value) if value is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


class CaseCommand(Protocol):
    @property
    def case_id(self) -> str: ...


def case_to_pb(view: queries.CaseView) -> pb.Case:
    """A case as GetCase and every command answer it: never the complainant's name and
    phone (fields left empty), which only ReadComplainant discloses."""
    case = view.case
    return pb.Case(
        case_id=str(case.id),
        kind=case.kind,
        channel=case.channel,
        unit=case.unit,
        township=case.township,
        community_code=case.community_code,
        company_uscc=case.company_uscc,
        category=case.category,
        status=case.status,
        received_at=_utc(case.received_at),
        due_at=_utc(case.due_at if case.due_provisional else case.deadline()),
        due_provisional=case.due_provisional,
        overdue=view.overdue,
        result=case.result,
        feedback_given=case.feedback_given,
        typical=case.typical,
        joint_meeting=bool(case.joint_meetings),
        police_office=case.police_office,
        police_status=case.police_status,
        personal_data_shredded=case.shredded,
        finding_id=case.finding_id,
        version=case.version,
        archived=case.archived,
        evidence=[ref_to_pb(AttachmentRef.from_dict(e)) for e in case.evidence],
    )


def read_to_pb(read: PersonalDataRead) -> pb.PersonalDataRead:
    return pb.PersonalDataRead(
        read_id=read.read_id,
        read_at=_utc(read.read_at),
        case_id=read.case_id,
        unit=read.unit,
        reader=read.reader,
        via=read.via,
        purpose=read.purpose,
        note=read.note,
        fields=list(read.fields),
    )


def case_row_to_pb(row: CaseRow) -> pb.Case:
    """A case as ListCases lists it: the read model's row."""
    return pb.Case(
        case_id=row.case_id,
        kind=row.kind,
        unit=row.unit,
        status=row.status,
        due_at=_utc(row.due_at),
        police_office=row.police_office,
    )


def warning_row_to_pb(row: WarningRow) -> pb.Warning:
    return pb.Warning(
        warning_id=row.warning_id,
        rule=row.rule,
        unit=row.unit,
        subject_kind=row.subject_kind,
        subject=row.subject,
        period=row.period,
        status=row.status,
        raised_at=_utc(row.raised_at),
        details_json=json.dumps(row.details, ensure_ascii=False, sort_keys=True),
        rules_version=row.rules_version,
        escalated_finding_ids=list(row.escalated_finding_ids),
    )


def warning_to_pb(w: SupervisionWarning) -> pb.Warning:
    return pb.Warning(
        warning_id=str(w.id),
        rule=w.rule,
        unit=w.unit,
        subject_kind=w.subject_kind,
        subject=w.subject,
        period=w.period,
        status=w.status,
        raised_at=_utc(w.raised_at),
        details_json=json.dumps(w.details, ensure_ascii=False, sort_keys=True),
        rules_version=w.rules_version,
        escalated_finding_ids=list(w.escalated_to),
    )


class CaseworkServicer(pb_grpc.CaseworkServiceServicer):
    def __init__(self, app: CaseworkApplication) -> None:
        self.app = app

    async def _case(self, command: CaseCommand) -> pb.Case:
        """Runs a command on a case; the answer is the case as the caller now reads it."""
        identity = current_identity()

        def run() -> pb.Case:
            self.app.handle(identity, command)
            return case_to_pb(queries.case_view(self.app, identity, command.case_id))

        return await asyncio.to_thread(run)

    async def _warning(self, command: c.AcknowledgeWarning | c.CloseWarning) -> pb.Warning:
        """Runs a command on a warning; the answer is the warning as it now stands."""
        identity = current_identity()

        def run() -> pb.Warning:
            self.app.handle(identity, command)
            return warning_to_pb(self.app.warning(command.warning_id))

        return await asyncio.to_thread(run)

    async def ReceiveComplaint(
        self, request: pb.ReceiveComplaintRequest, context: Context
    ) -> pb.ReceiveComplaintResponse:
        command = c.ReceiveComplaint(
            request_id=request.request_id,
            channel=request.channel,
            major=request.major,
            community_code=request.community_code,
            company_uscc=request.company_uscc,
            category=request.category,
            description=request.description,
            unit=request.unit,
            complainant_name=request.complainant_name,
            complainant_phone=request.complainant_phone,
            received_at=_time(request.received_at),
        )
        received: c.ComplaintReceived = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.ReceiveComplaintResponse(case_id=received.case_id, due_at=received.due_at)

    async def AssignCase(
        self, request: pb.AssignCaseRequest, context: Context
    ) -> pb.AssignCaseResponse:
        command = c.AssignCase(
            request_id=request.request_id,
            case_id=request.case_id,
            unit=request.unit,
            township=request.township,
            assignee=request.assignee,
        )
        return pb.AssignCaseResponse(case=await self._case(command))

    async def StartInvestigation(
        self, request: pb.StartInvestigationRequest, context: Context
    ) -> pb.StartInvestigationResponse:
        command = c.StartInvestigation(request_id=request.request_id, case_id=request.case_id)
        return pb.StartInvestigationResponse(case=await self._case(command))

    async def ResolveCase(
        self, request: pb.ResolveCaseRequest, context: Context
    ) -> pb.ResolveCaseResponse:
        command = c.ResolveCase(
            request_id=request.request_id,
            case_id=request.case_id,
            result=request.result,
            attachments=refs_from_pb(request.attachments),
        )
        return pb.ResolveCaseResponse(case=await self._case(command))

    async def GiveFeedback(
        self, request: pb.GiveFeedbackRequest, context: Context
    ) -> pb.GiveFeedbackResponse:
        command = c.GiveFeedback(
            request_id=request.request_id,
            case_id=request.case_id,
            channel=request.channel,
            content=request.content,
        )
        return pb.GiveFeedbackResponse(case=await self._case(command))

    async def CloseCase(
        self, request: pb.CloseCaseRequest, context: Context
    ) -> pb.CloseCaseResponse:
        command = c.CloseCase(request_id=request.request_id, case_id=request.case_id)
        return pb.CloseCaseResponse(case=await self._case(command))

    async def RecordJointMeeting(
        self, request: pb.RecordJointMeetingRequest, context: Context
    ) -> pb.RecordJointMeetingResponse:
        command = c.RecordJointMeeting(
            request_id=request.request_id,
            case_id=request.case_id,
            meeting_date=request.meeting_date,
            agencies=tuple(request.agencies),
            decision=request.decision,
        )
        return pb.RecordJointMeetingResponse(case=await self._case(command))

    async def FlagTypicalCase(
        self, request: pb.FlagTypicalCaseRequest, context: Context
    ) -> pb.FlagTypicalCaseResponse:
        command = c.FlagTypicalCase(
            request_id=request.request_id, case_id=request.case_id, reason=request.reason
        )
        return pb.FlagTypicalCaseResponse(case=await self._case(command))

    async def ReferToPolice(
        self, request: pb.ReferToPoliceRequest, context: Context
    ) -> pb.ReferToPoliceResponse:
        command = c.ReferToPolice(
            request_id=request.request_id,
            case_id=request.case_id,
            police_office=request.police_office,
            suspected_offence=request.suspected_offence,
            evidence_refs=tuple(request.evidence_refs),
            summary=request.summary,
        )
        return pb.ReferToPoliceResponse(case=await self._case(command))

    async def AcknowledgeReferral(
        self, request: pb.AcknowledgeReferralRequest, context: Context
    ) -> pb.AcknowledgeReferralResponse:
        command = c.AcknowledgeReferral(request_id=request.request_id, case_id=request.case_id)
        return pb.AcknowledgeReferralResponse(case=await self._case(command))

    async def ReportPoliceOutcome(
        self, request: pb.ReportPoliceOutcomeRequest, context: Context
    ) -> pb.ReportPoliceOutcomeResponse:
        command = c.ReportPoliceOutcome(
            request_id=request.request_id,
            case_id=request.case_id,
            outcome=request.outcome,
            note=request.note,
        )
        return pb.ReportPoliceOutcomeResponse(case=await self._case(command))

    async def ShredPersonalData(
        self, request: pb.ShredPersonalDataRequest, context: Context
    ) -> pb.ShredPersonalDataResponse:
        command = c.ShredPersonalData(request_id=request.request_id, case_id=request.case_id)
        return pb.ShredPersonalDataResponse(case=await self._case(command))

    async def GetCase(self, request: pb.GetCaseRequest, context: Context) -> pb.GetCaseResponse:
        identity = current_identity()
        view = await asyncio.to_thread(queries.case_view, self.app, identity, request.case_id)
        # The case's own audit trail (who did what, when), as GetHistory gives it.
        history = await history_events(
            self.app, identity, audit_pb2.HistoryQuery(aggregate_id=str(view.case.id))
        )
        return pb.GetCaseResponse(case=case_to_pb(view), history=history)

    async def ReadComplainant(
        self, request: pb.ReadComplainantRequest, context: Context
    ) -> pb.ReadComplainantResponse:
        command = c.ReadComplainant(
            case_id=request.case_id, purpose=request.purpose, note=request.note
        )
        read: c.ComplainantRead = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.ReadComplainantResponse(
            case_id=read.case_id,
            complainant_name=read.complainant_name,
            complainant_phone=read.complainant_phone,
            shredded=read.shredded,
            read_id=read.read_id,
            read_at=read.read_at,
        )

    async def ListPersonalDataReads(
        self, request: pb.ListPersonalDataReadsRequest, context: Context
    ) -> pb.ListPersonalDataReadsResponse:
        limit = request.limit or 100
        reads = await asyncio.to_thread(
            queries.list_personal_data_reads,
            self.app,
            current_identity(),
            request.unit,
            request.case_id,
            _time(request.since),
            _time(request.until),
            request.after_read_id,
            request.limit,
        )
        return pb.ListPersonalDataReadsResponse(
            reads=[read_to_pb(r) for r in reads],
            next_after_read_id=reads[-1].read_id if len(reads) == limit else 0,
        )

    async def ListCases(
        self, request: pb.ListCasesRequest, context: Context
    ) -> pb.ListCasesResponse:
        rows = await queries.list_cases(
            self.app,
            current_identity(),
            request.unit,
            request.status,
            request.overdue_only,
            request.police_office,
        )
        return pb.ListCasesResponse(cases=[case_row_to_pb(r) for r in rows])

    async def ExportMonthlyLedgers(
        self, request: pb.ExportMonthlyLedgersRequest, context: Context
    ) -> pb.ExportMonthlyLedgersResponse:
        v = Validator()
        v.require(
            request.format in ("csv", "xlsx"),
            "format",
            "unknown_format",
            "csv or xlsx",
            "导出格式须为csv或xlsx",
        )
        v.raise_if_any()
        ledgers = await queries.monthly_ledgers(
            self.app,
            current_identity(),
            request.unit,
            request.year,
            request.month,
        )
        problems, work = ledgers.problems, ledgers.work
        # The report says when it is due, in the files as well as in the response.
        due = [{"due_on": ledgers.due_on.isoformat(), "legal_basis": ledgers.due_legal_basis}]
        stem = f"{request.unit}-{request.year:04d}-{request.month:02d}"
        if request.format == "csv":
            files = [
                pb.LedgerFile(
                    name=f"{stem}-problem-ledger.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.PROBLEM_COLUMNS, problems),
                    rows=len(problems),
                ),
                pb.LedgerFile(
                    name=f"{stem}-work-ledger.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.WORK_COLUMNS, work),
                    rows=len(work),
                ),
                pb.LedgerFile(
                    name=f"{stem}-report-due.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.DUE_COLUMNS, due),
                    rows=1,
                ),
            ]
        else:
            data = to_xlsx(
                [
                    ("问题线索台账", queries.PROBLEM_COLUMNS, problems),
                    ("工作台账", queries.WORK_COLUMNS, work),
                    ("报送期限", queries.DUE_COLUMNS, due),
                ]
            )
            files = [
                pb.LedgerFile(
                    name=f"{stem}-ledgers.xlsx",
                    content_type=XLSX_TYPE,
                    data=data,
                    rows=len(problems) + len(work),
                )
            ]
        return pb.ExportMonthlyLedgersResponse(
            files=files, due_on=ledgers.due_on.isoformat(), due_legal_basis=ledgers.due_legal_basis
        )

    async def ListWarnings(
        self, request: pb.ListWarningsRequest, context: Context
    ) -> pb.ListWarningsResponse:
        rows = await queries.list_warnings(
            self.app,
            current_identity(),
            request.unit,
            request.rule,
            request.all,
        )
        return pb.ListWarningsResponse(warnings=[warning_row_to_pb(r) for r in rows])

    async def AcknowledgeWarning(
        self, request: pb.AcknowledgeWarningRequest, context: Context
    ) -> pb.AcknowledgeWarningResponse:
        command = c.AcknowledgeWarning(
            request_id=request.request_id, warning_id=request.warning_id, note=request.note
        )
        return pb.AcknowledgeWarningResponse(warning=await self._warning(command))

    async def CloseWarning(
        self, request: pb.CloseWarningRequest, context: Context
    ) -> pb.CloseWarningResponse:
        command = c.CloseWarning(
            request_id=request.request_id,
            warning_id=request.warning_id,
            evidence_refs=tuple(request.evidence_refs),
            note=request.note,
        )
        return pb.CloseWarningResponse(warning=await self._warning(command))

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)

    # -- issue 13, part A: the owners' side, typical cases published, interviews -------------

    async def LodgeComplaint(
        self, request: pb.LodgeComplaintRequest, context: Context
    ) -> pb.LodgeComplaintResponse:
        command = c.LodgeComplaint(
            request_id=request.request_id,
            community_code=request.community_code,
            category=request.category,
            description=request.description,
            complainant_name=request.complainant_name,
            complainant_phone=request.complainant_phone,
            attachments=refs_from_pb(request.attachments),
        )
        lodged: c.ComplaintLodged = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.LodgeComplaintResponse(
            case_id=lodged.case_id,
            tracking_number=lodged.tracking_number,
            due_at=lodged.due_at,
            unit=lodged.unit,
        )

    async def GetComplaintStatus(
        self, request: pb.GetComplaintStatusRequest, context: Context
    ) -> pb.GetComplaintStatusResponse:
        command = c.GetComplaintStatus(tracking_number=request.tracking_number, phone=request.phone)
        status: c.ComplaintStatus = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.GetComplaintStatusResponse(
            tracking_number=status.tracking_number,
            community_code=status.community_code,
            category=status.category,
            status=status.status,
            received_at=status.received_at,
            due_at=status.due_at,
            feedback_given=status.feedback_given,
            result=status.result,
            closed_at=status.closed_at,
        )

    async def ListCommunityComplaints(
        self, request: pb.ListCommunityComplaintsRequest, context: Context
    ) -> pb.ListCommunityComplaintsResponse:
        complaints = await queries.list_community_complaints(
            self.app,
            current_identity(),
            request.community_code,
        )
        return pb.ListCommunityComplaintsResponse(
            complaints=[community_complaint_to_pb(c) for c in complaints]
        )

    async def PublishTypicalCase(
        self, request: pb.PublishTypicalCaseRequest, context: Context
    ) -> pb.PublishTypicalCaseResponse:
        identity = current_identity()
        command = c.PublishTypicalCase(
            request_id=request.request_id,
            case_id=request.case_id,
            title=request.title,
            summary=request.summary,
            company_uscc=request.company_uscc,
            published_on=request.published_on,
        )

        def run() -> pb.TypicalCase:
            published: c.TypicalCasePublished = self.app.handle(identity, command)
            year = int(published.published_on[:4])
            return next(
                typical_case_to_pb(p)
                for p in queries.list_typical_cases(self.app, identity, year)
                if p.case_id == published.case_id
            )

        return pb.PublishTypicalCaseResponse(typical_case=await asyncio.to_thread(run))

    async def ListTypicalCases(
        self, request: pb.ListTypicalCasesRequest, context: Context
    ) -> pb.ListTypicalCasesResponse:
        published = await asyncio.to_thread(
            queries.list_typical_cases, self.app, current_identity(), request.year, request.unit
        )
        return pb.ListTypicalCasesResponse(typical_cases=[typical_case_to_pb(p) for p in published])

    async def RecordInterview(
        self, request: pb.RecordInterviewRequest, context: Context
    ) -> pb.RecordInterviewResponse:
        identity = current_identity()
        command = c.RecordInterview(
            request_id=request.request_id,
            subject_kind=request.subject_kind,
            subject=request.subject,
            unit=request.unit,
            reason=request.reason,
            warning_ids=tuple(request.warning_ids),
            finding_ids=tuple(request.finding_ids),
            held_on=request.held_on,
            outcome=request.outcome,
            attachments=refs_from_pb(request.attachments),
        )

        def run() -> pb.Interview:
            recorded: c.InterviewRecorded = self.app.handle(identity, command)
            year = int(request.held_on[:4])
            return next(
                interview_to_pb(e)
                for e in queries.list_interviews(self.app, identity, recorded.unit, year)
                if e.interview_id == recorded.interview_id
            )

        return pb.RecordInterviewResponse(interview=await asyncio.to_thread(run))

    async def ListInterviews(
        self, request: pb.ListInterviewsRequest, context: Context
    ) -> pb.ListInterviewsResponse:
        entries = await asyncio.to_thread(
            queries.list_interviews, self.app, current_identity(), request.unit, request.year
        )
        return pb.ListInterviewsResponse(interviews=[interview_to_pb(e) for e in entries])

    # -- the campaign ---------------------------------------------------------------------

    async def GetCampaignProgress(
        self, request: pb.GetCampaignProgressRequest, context: Context
    ) -> pb.GetCampaignProgressResponse:
        progress = await asyncio.to_thread(
            queries.campaign_progress, self.app, current_identity(), request.year, request.unit
        )
        return pb.GetCampaignProgressResponse(
            year=progress.year,
            calendar_version=progress.version,
            as_of=_utc_or_empty(progress.as_of),
            current_stages=progress.current_stages,
            stages=[stage_to_pb(r) for r in progress.stages],
            reports=[report_status_to_pb(r) for r in progress.reports],
        )

    async def RecordStageDone(
        self, request: pb.RecordStageDoneRequest, context: Context
    ) -> pb.RecordStageDoneResponse:
        command = c.RecordStageDone(
            request_id=request.request_id,
            unit=request.unit,
            year=request.year,
            stage=request.stage,
            note=request.note,
        )
        done: c.StageDoneRecorded = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.RecordStageDoneResponse(
            record_id=done.record_id,
            unit=done.unit,
            year=done.year,
            stage=done.stage,
            due_on=done.due_on,
            late=done.late,
        )

    async def SubmitMonthlyReport(
        self, request: pb.SubmitMonthlyReportRequest, context: Context
    ) -> pb.SubmitMonthlyReportResponse:
        command = c.SubmitMonthlyReport(
            request_id=request.request_id,
            unit=request.unit,
            year=request.year,
            month=request.month,
            briefing=request.briefing,
        )
        submitted: c.MonthlyReportSubmitted = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.SubmitMonthlyReportResponse(
            report_id=submitted.report_id,
            unit=submitted.unit,
            year=submitted.year,
            month=submitted.month,
            due_on=submitted.due_on,
            late=submitted.late,
        )

    async def SubmitProvinceBriefing(
        self, request: pb.SubmitProvinceBriefingRequest, context: Context
    ) -> pb.SubmitProvinceBriefingResponse:
        command = c.SubmitProvinceBriefing(
            request_id=request.request_id,
            year=request.year,
            month=request.month,
            briefing=request.briefing,
        )
        submitted: c.ProvinceBriefingSubmitted = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.SubmitProvinceBriefingResponse(
            report_id=submitted.report_id,
            year=submitted.year,
            month=submitted.month,
            due_on=submitted.due_on,
            late=submitted.late,
            units_reported=submitted.units_reported,
        )

    async def GetMonthlyReport(
        self, request: pb.GetMonthlyReportRequest, context: Context
    ) -> pb.GetMonthlyReportResponse:
        report = await asyncio.to_thread(
            queries.monthly_report_view,
            self.app,
            current_identity(),
            request.duty or "unit_report",
            request.unit,
            request.year,
            request.month,
        )
        return report_to_pb(report)

    async def GetMonthlyCircular(
        self, request: pb.GetMonthlyCircularRequest, context: Context
    ) -> pb.GetMonthlyCircularResponse:
        circular = await queries.monthly_circular(
            self.app, current_identity(), request.year, request.month
        )
        return circular_to_pb(circular)

    async def ExportMonthlyCircular(
        self, request: pb.ExportMonthlyCircularRequest, context: Context
    ) -> pb.ExportMonthlyCircularResponse:
        v = Validator()
        v.require(
            request.format in ("csv", "xlsx"),
            "format",
            "unknown_format",
            "csv or xlsx",
            "导出格式须为csv或xlsx",
        )
        v.raise_if_any()
        circular = await queries.monthly_circular(
            self.app, current_identity(), request.year, request.month
        )
        rows, basis = queries.circular_rows(circular), queries.basis_rows(circular)
        stem = f"circular-{request.year:04d}-{request.month:02d}"
        if request.format == "csv":
            files = [
                pb.LedgerFile(
                    name=f"{stem}.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.CIRCULAR_COLUMNS, rows),
                    rows=len(rows),
                ),
                pb.LedgerFile(
                    name=f"{stem}-basis.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.BASIS_COLUMNS, basis),
                    rows=len(basis),
                ),
            ]
        else:
            data = to_xlsx(
                [
                    ("月度通报", queries.CIRCULAR_COLUMNS, rows),
                    ("指标依据", queries.BASIS_COLUMNS, basis),
                ]
            )
            files = [
                pb.LedgerFile(
                    name=f"{stem}.xlsx", content_type=XLSX_TYPE, data=data, rows=len(rows)
                )
            ]
        return pb.ExportMonthlyCircularResponse(files=files)


def community_complaint_to_pb(complaint: queries.CommunityComplaint) -> pb.CommunityComplaint:
    return pb.CommunityComplaint(
        channel=complaint.channel,
        category=complaint.category,
        status=complaint.status,
        received_at=_utc(complaint.received_at),
        due_at=_utc(complaint.due_at),
        feedback_given=complaint.feedback_given,
        result=complaint.result,
        closed_at=_utc(complaint.closed_at) if complaint.closed_at else "",
    )


def typical_case_to_pb(published: queries.PublishedCase) -> pb.TypicalCase:
    return pb.TypicalCase(
        case_id=published.case_id,
        unit=published.unit,
        title=published.title,
        summary=published.summary,
        company_uscc=published.company_uscc,
        published_on=published.published_on.isoformat(),
        category=published.category,
    )


def interview_to_pb(entry: queries.InterviewEntry) -> pb.Interview:
    return pb.Interview(
        interview_id=entry.interview_id,
        unit=entry.unit,
        interviewer_unit=entry.interviewer_unit,
        subject_kind=entry.subject_kind,
        subject=entry.subject,
        reason=entry.reason,
        warning_ids=list(entry.warning_ids),
        finding_ids=list(entry.finding_ids),
        held_on=entry.held_on.isoformat(),
        outcome=entry.outcome,
        attachments=[ref_to_pb(e) for e in entry.evidence],
        recorded_at=_utc(entry.recorded_at),
    )


def stage_to_pb(row: queries.StageRow) -> pb.StageProgress:
    return pb.StageProgress(
        stage=row.stage.key,
        stage_name=row.stage.name,
        unit=row.unit,
        due_on=row.stage.due.isoformat(),
        basis=row.stage.basis,
        counted=row.counted,
        done=row.done,
        expected=row.expected,
        expected_by_now=row.expected_by_now,
        tolerance_percent=row.tolerance_percent,
        behind=row.behind,
        by_pace=row.by_pace,
        recorded_on=_day(row.recorded_on),
        warning_id=str(row.warning.id) if row.warning is not None else "",
        warning_status=row.warning.status if row.warning is not None else "",
    )


def report_status_to_pb(row: queries.ReportRow) -> pb.MonthlyReportStatus:
    return pb.MonthlyReportStatus(
        duty=row.duty,
        unit=row.unit,
        month=row.month,
        due_on=_day(row.due_on),
        status=row.status,
        submitted_at=_utc_or_empty(row.report.submitted_at) if row.report is not None else "",
        report_id=str(row.report.id) if row.report is not None else "",
    )


def report_to_pb(report: MonthlyReport) -> pb.GetMonthlyReportResponse:
    return pb.GetMonthlyReportResponse(
        report_id=str(report.id),
        duty=report.duty,
        unit=report.unit,
        year=report.year,
        month=report.month,
        due_on=report.due_on.isoformat(),
        due_basis=report.due_basis,
        late=report.late,
        submitted_by=report.submitted_by,
        submitted_at=_utc_or_empty(report.submitted_at),
        figures=[
            pb.ReportFigure(key=key, name=_FIGURE_NAMES.get(key, key), value=value)
            for key, value in report.figures.items()
        ],
        units_reported=list(report.units_reported),
        briefing=report.briefing,
    )


def circular_to_pb(circular: queries.MonthlyCircular) -> pb.GetMonthlyCircularResponse:
    return pb.GetMonthlyCircularResponse(
        year=circular.year,
        month=circular.month,
        as_of=_utc_or_empty(circular.as_of),
        disclosure_quarter=circular.disclosure_quarter,
        indicators=[
            pb.Indicator(
                key=i.key,
                name=i.name,
                target_percent=i.target_percent or 0,
                basis=i.basis,
            )
            for i in INDICATORS
        ],
        ranking_basis=RANKING_BASIS,
        standings=[
            pb.UnitStanding(
                unit=s.unit,
                overall_rank=s.overall_rank,
                rank_sum=s.rank_sum,
                values=[
                    pb.IndicatorValue(
                        key=i.key,
                        numerator=s.rates[i.key].numerator,
                        denominator=s.rates[i.key].denominator,
                        basis_points=_bp(s.rates[i.key].basis_points),
                        rank=s.ranks[i.key],
                    )
                    for i in INDICATORS
                ],
                report_status=circular.report_status[s.unit],
            )
            for s in circular.standings
        ],
    )


def _bp(value: int | None) -> int:
    return -1 if value is None else value


def register(app: CaseworkApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CaseworkServiceServicer_to_server(CaseworkServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CaseworkService"].full_name
