"""pubrev.casework.v1.CaseworkService over grpc.aio."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import grpc

from casework.adapters.ledger_files import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from casework.application.app import CaseView, CaseworkApplication, Complaint
from casework.application.ledgers import DUE_COLUMNS, PROBLEM_COLUMNS, WORK_COLUMNS
from casework.application.ports import PersonalDataRead
from casework.application.warnings import WarningsPolicy
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev.common.v1 import audit_pb2
from servicekit.audit import history_events
from servicekit.errors import Validator
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


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


def case_to_pb(view: CaseView) -> pb.Case:
    """A case as GetCase and every command answer it: never the complainant's name and
    phone (fields left empty), which only ReadComplainant discloses."""
    c = view.case
    return pb.Case(
        case_id=str(c.id),
        kind=c.kind,
        channel=c.channel,
        unit=c.unit,
        township=c.township,
        community_code=c.community_code,
        company_uscc=c.company_uscc,
        category=c.category,
        status=c.status,
        received_at=c.received_at.astimezone(UTC).isoformat(),
        due_at=(c.due_at if c.due_provisional else c.deadline()).astimezone(UTC).isoformat(),
        due_provisional=c.due_provisional,
        overdue=view.overdue,
        result=c.result,
        feedback_given=c.feedback_given,
        typical=c.typical,
        joint_meeting=bool(c.joint_meetings),
        police_office=c.police_office,
        police_status=c.police_status,
        personal_data_shredded=c.shredded,
        finding_id=c.finding_id,
        version=c.version,
        archived=c.archived,
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


def warning_to_pb(w: SupervisionWarning) -> pb.Warning:
    return pb.Warning(
        warning_id=str(w.id),
        rule=w.rule,
        unit=w.unit,
        subject_kind=w.subject_kind,
        subject=w.subject,
        period=w.period,
        status=w.status,
        raised_at=w.raised_at.astimezone(UTC).isoformat(),
        details_json=json.dumps(w.details, ensure_ascii=False, sort_keys=True),
        rules_version=w.rules_version,
    )


class CaseworkServicer(pb_grpc.CaseworkServiceServicer):
    def __init__(self, app: CaseworkApplication, policy: WarningsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def _act(self, request: Any, action: str, *args: Any) -> pb.Case:
        identity = current_identity()

        def run() -> pb.Case:
            self.app.act(identity, request.request_id, request.case_id, action, *args)
            return case_to_pb(self.app.view(identity, request.case_id))

        return await asyncio.to_thread(run)

    async def ReceiveComplaint(
        self, request: pb.ReceiveComplaintRequest, context: Context
    ) -> pb.ReceiveComplaintResponse:
        cmd = Complaint(
            request.request_id,
            request.channel,
            request.major,
            request.community_code,
            request.company_uscc,
            request.category,
            request.description,
            request.unit,
            request.complainant_name,
            request.complainant_phone,
            _time(request.received_at),
        )
        result = await asyncio.to_thread(self.app.receive_complaint, current_identity(), cmd)
        return pb.ReceiveComplaintResponse(**result)

    async def AssignCase(
        self, request: pb.AssignCaseRequest, context: Context
    ) -> pb.AssignCaseResponse:
        return pb.AssignCaseResponse(
            case=await self._act(
                request, "assign", request.unit, request.township, request.assignee
            )
        )

    async def StartInvestigation(
        self, request: pb.StartInvestigationRequest, context: Context
    ) -> pb.StartInvestigationResponse:
        return pb.StartInvestigationResponse(case=await self._act(request, "start_investigation"))

    async def ResolveCase(
        self, request: pb.ResolveCaseRequest, context: Context
    ) -> pb.ResolveCaseResponse:
        return pb.ResolveCaseResponse(case=await self._act(request, "resolve", request.result))

    async def GiveFeedback(
        self, request: pb.GiveFeedbackRequest, context: Context
    ) -> pb.GiveFeedbackResponse:
        return pb.GiveFeedbackResponse(
            case=await self._act(request, "give_feedback", request.channel, request.content)
        )

    async def CloseCase(
        self, request: pb.CloseCaseRequest, context: Context
    ) -> pb.CloseCaseResponse:
        return pb.CloseCaseResponse(case=await self._act(request, "close"))

    async def RecordJointMeeting(
        self, request: pb.RecordJointMeetingRequest, context: Context
    ) -> pb.RecordJointMeetingResponse:
        return pb.RecordJointMeetingResponse(
            case=await self._act(
                request,
                "record_joint_meeting",
                request.meeting_date,
                list(request.agencies),
                request.decision,
            )
        )

    async def FlagTypicalCase(
        self, request: pb.FlagTypicalCaseRequest, context: Context
    ) -> pb.FlagTypicalCaseResponse:
        return pb.FlagTypicalCaseResponse(
            case=await self._act(request, "flag_typical", request.reason)
        )

    async def ReferToPolice(
        self, request: pb.ReferToPoliceRequest, context: Context
    ) -> pb.ReferToPoliceResponse:
        return pb.ReferToPoliceResponse(
            case=await self._act(
                request,
                "refer_to_police",
                request.police_office,
                request.suspected_offence,
                list(request.evidence_refs),
                request.summary,
            )
        )

    async def AcknowledgeReferral(
        self, request: pb.AcknowledgeReferralRequest, context: Context
    ) -> pb.AcknowledgeReferralResponse:
        return pb.AcknowledgeReferralResponse(case=await self._act(request, "police_acknowledge"))

    async def ReportPoliceOutcome(
        self, request: pb.ReportPoliceOutcomeRequest, context: Context
    ) -> pb.ReportPoliceOutcomeResponse:
        return pb.ReportPoliceOutcomeResponse(
            case=await self._act(request, "report_police_outcome", request.outcome, request.note)
        )

    async def ShredPersonalData(
        self, request: pb.ShredPersonalDataRequest, context: Context
    ) -> pb.ShredPersonalDataResponse:
        return pb.ShredPersonalDataResponse(case=await self._act(request, "shred_personal_data"))

    async def GetCase(self, request: pb.GetCaseRequest, context: Context) -> pb.GetCaseResponse:
        identity = current_identity()
        view = await asyncio.to_thread(self.app.view, identity, request.case_id)
        # The case's own audit trail (who did what, when), as GetHistory gives it.
        history = await history_events(
            self.app, identity, audit_pb2.HistoryQuery(aggregate_id=str(view.case.id))
        )
        return pb.GetCaseResponse(case=case_to_pb(view), history=history)

    async def ReadComplainant(
        self, request: pb.ReadComplainantRequest, context: Context
    ) -> pb.ReadComplainantResponse:
        view = await asyncio.to_thread(
            self.app.read_complainant,
            current_identity(),
            request.case_id,
            request.purpose,
            request.note,
        )
        read = view.read
        return pb.ReadComplainantResponse(
            case_id=view.case_id,
            complainant_name=view.name,
            complainant_phone=view.phone,
            shredded=view.shredded,
            read_id=read.read_id if read else 0,
            read_at=_utc(read.read_at) if read else "",
        )

    async def ListPersonalDataReads(
        self, request: pb.ListPersonalDataReadsRequest, context: Context
    ) -> pb.ListPersonalDataReadsResponse:
        limit = request.limit or 100
        reads = await asyncio.to_thread(
            self.app.list_personal_data_reads,
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
        rows = await asyncio.to_thread(
            self.app.list_cases,
            current_identity(),
            request.unit,
            request.status,
            request.overdue_only,
            request.police_office,
        )
        return pb.ListCasesResponse(
            cases=[
                pb.Case(
                    case_id=r.case_id,
                    kind=r.kind,
                    unit=r.unit,
                    status=r.status,
                    due_at=r.due_at.astimezone(UTC).isoformat(),
                    police_office=r.police_office,
                )
                for r in rows
            ]
        )

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
        ledgers = await asyncio.to_thread(
            self.app.monthly_ledgers,
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
                    data=to_csv(PROBLEM_COLUMNS, problems),
                    rows=len(problems),
                ),
                pb.LedgerFile(
                    name=f"{stem}-work-ledger.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(WORK_COLUMNS, work),
                    rows=len(work),
                ),
                pb.LedgerFile(
                    name=f"{stem}-report-due.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(DUE_COLUMNS, due),
                    rows=1,
                ),
            ]
        else:
            data = to_xlsx(
                [
                    ("问题线索台账", PROBLEM_COLUMNS, problems),
                    ("工作台账", WORK_COLUMNS, work),
                    ("报送期限", DUE_COLUMNS, due),
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
        rows = await asyncio.to_thread(
            self.app.list_warnings, current_identity(), request.unit, request.rule, request.all
        )
        return pb.ListWarningsResponse(
            warnings=[
                pb.Warning(
                    warning_id=r.warning_id,
                    rule=r.rule,
                    unit=r.unit,
                    subject_kind=r.subject_kind,
                    subject=r.subject,
                    period=r.period,
                    status=r.status,
                    raised_at=r.raised_at.astimezone(UTC).isoformat(),
                    details_json=json.dumps(r.details, ensure_ascii=False, sort_keys=True),
                    rules_version=r.rules_version,
                )
                for r in rows
            ]
        )

    async def AcknowledgeWarning(
        self, request: pb.AcknowledgeWarningRequest, context: Context
    ) -> pb.AcknowledgeWarningResponse:
        warning = await asyncio.to_thread(
            self.policy.acknowledge,
            current_identity(),
            request.warning_id,
            request.note,
            request.request_id,
        )
        return pb.AcknowledgeWarningResponse(warning=warning_to_pb(warning))

    async def CloseWarning(
        self, request: pb.CloseWarningRequest, context: Context
    ) -> pb.CloseWarningResponse:
        warning = await asyncio.to_thread(
            self.policy.close,
            current_identity(),
            request.warning_id,
            list(request.evidence_refs),
            request.note,
            request.request_id,
        )
        return pb.CloseWarningResponse(warning=warning_to_pb(warning))

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: CaseworkApplication, policy: WarningsPolicy) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CaseworkServiceServicer_to_server(CaseworkServicer(app, policy), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CaseworkService"].full_name
