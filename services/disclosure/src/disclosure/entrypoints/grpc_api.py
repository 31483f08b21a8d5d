"""pubrev.disclosure.v1.DisclosureService over grpc.aio.

Each RPC turns its request into a command (application/commands.py) field by field, has the
application handle it (`app.handle`, or the group committer for FileDisclosure), and builds
its response field by field from the typed result (the `*_to_pb` functions), so a renamed
field fails mypy, not a caller. The application is synchronous (eventsourcing): every
command and every query loading a record from the event store runs in a worker thread, off
the event loop; the lists and rates read the read model on this loop (asyncpg,
servicekit.readside) and are awaited directly.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date
from typing import Any

import grpc

from disclosure.application import queries
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AmendDisclosure,
    AuditRequested,
    AuditResultRecorded,
    ChangePropertyCompany,
    CloseQuarter,
    CommunityRegistered,
    CompanyRegistered,
    DisclosureAmended,
    DisclosureFiled,
    FileDisclosure,
    FileSelfInspection,
    PropertyCompanyChanged,
    QuarterClosed,
    RecordAuditResult,
    RecordSelfInspectionRectification,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
    SelfInspectionFiled,
    SelfInspectionItemRectified,
)
from disclosure.application.handlers import file_disclosure_reads, prepare_file_disclosure
from disclosure.application.ports import DisclosureRow, SelfInspectionRow
from disclosure.application.queries import AuditsView, DisclosureView, SelfInspectionView, UnitRate
from disclosure.domain.disclosure import (
    AuditRequest,
    DisclosureContent,
    ExpenditureItem,
    IncomeItem,
)
from disclosure.domain.self_inspection_ledger import ItemStanding, SelfInspectionItem
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.group_commit import GroupCommitter
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def content_from_pb(c: pb.DisclosureContent) -> DisclosureContent:
    return DisclosureContent(
        income=tuple(IncomeItem(i.source, i.amount_fen, i.note) for i in c.income),
        operating_cost_fen=c.operating_cost_fen if c.HasField("operating_cost_fen") else None,
        expenditure=tuple(
            ExpenditureItem(e.purpose, e.amount_fen, e.owners_decision_ref) for e in c.expenditure
        ),
        owners_share_fen=c.owners_share_fen if c.HasField("owners_share_fen") else None,
        company_share_fen=c.company_share_fen if c.HasField("company_share_fen") else None,
        transferred_to_maintenance_fund_fen=c.transferred_to_maintenance_fund_fen
        if c.HasField("transferred_to_maintenance_fund_fen")
        else None,
        no_income=c.no_income,
        separate_account=c.separate_account,
        contact_name=c.contact_name,
        contact_phone=c.contact_phone,
        posting_start=_date(c.posting_start),
        posting_end=_date(c.posting_end),
        posting_channels=tuple(c.posting_channels),
        company_share_decision_ref=c.company_share_decision_ref,
    )


def content_to_pb(c: DisclosureContent) -> pb.DisclosureContent:
    return pb.DisclosureContent(
        income=[
            pb.IncomeItem(source=i.source, amount_fen=i.amount_fen, note=i.note) for i in c.income
        ],
        operating_cost_fen=c.operating_cost_fen,
        expenditure=[
            pb.ExpenditureItem(
                purpose=e.purpose,
                amount_fen=e.amount_fen,
                owners_decision_ref=e.owners_decision_ref,
            )
            for e in c.expenditure
        ],
        owners_share_fen=c.owners_share_fen,
        company_share_fen=c.company_share_fen,
        transferred_to_maintenance_fund_fen=c.transferred_to_maintenance_fund_fen,
        no_income=c.no_income,
        separate_account=c.separate_account,
        contact_name=c.contact_name,
        contact_phone=c.contact_phone,
        posting_start=c.posting_start.isoformat() if c.posting_start else "",
        posting_end=c.posting_end.isoformat() if c.posting_end else "",
        posting_channels=list(c.posting_channels),
        company_share_decision_ref=c.company_share_decision_ref,
    )


def view_to_pb(view: DisclosureView) -> pb.Disclosure:
    c = view.content
    return pb.Disclosure(
        disclosure_id=view.disclosure_id,
        version=view.version,
        community_code=view.community_code,
        unit=view.unit,
        year=view.year,
        quarter=view.quarter,
        content=content_to_pb(c),
        income_total_fen=c.income_total_fen,
        expenditure_total_fen=c.expenditure_total_fen,
        surplus_fen=c.surplus_fen,
        late=view.late,
        zero_revenue=c.zero_revenue,
        filed_at=view.filed_at,
        revision=view.revision,
        amendment_reason=view.amendment_reason,
        deficit=c.deficit,
    )


def summary_to_pb(row: DisclosureRow) -> pb.DisclosureSummary:
    return pb.DisclosureSummary(
        disclosure_id=row.disclosure_id,
        version=row.version,
        community_code=row.community_code,
        unit=row.unit,
        company_uscc=row.company_uscc,
        year=row.year,
        quarter=row.quarter,
        income_total_fen=row.income_total_fen,
        surplus_fen=row.surplus_fen,
        late=row.late,
        zero_revenue=row.zero_revenue,
        filed_at=row.filed_at.astimezone(UTC).isoformat(),
        revision=row.revision,
        deficit=row.deficit,
    )


def rate_to_pb(rate: UnitRate) -> pb.UnitDisclosureRate:
    return pb.UnitDisclosureRate(
        unit=rate.unit,
        communities=rate.communities,
        on_time=rate.on_time,
        late=rate.late,
        overdue=rate.overdue,
        pending=rate.pending,
        rate_percent=rate.rate_percent,
        on_time_rate_percent=rate.on_time_rate_percent,
    )


def company_registered_to_pb(result: CompanyRegistered) -> pb.RegisterCompanyResponse:
    return pb.RegisterCompanyResponse(
        company_id=result.company_id, version=result.version, uscc_flagged=result.uscc_flagged
    )


def community_registered_to_pb(result: CommunityRegistered) -> pb.RegisterCommunityResponse:
    return pb.RegisterCommunityResponse(community_id=result.community_id, version=result.version)


def company_changed_to_pb(result: PropertyCompanyChanged) -> pb.ChangePropertyCompanyResponse:
    return pb.ChangePropertyCompanyResponse(
        community_id=result.community_id, version=result.version
    )


def disclosure_filed_to_pb(result: DisclosureFiled) -> pb.FileDisclosureResponse:
    return pb.FileDisclosureResponse(
        disclosure_id=result.disclosure_id,
        version=result.version,
        late=result.late,
        zero_revenue=result.zero_revenue,
        deficit=result.deficit,
    )


def disclosure_amended_to_pb(result: DisclosureAmended) -> pb.AmendDisclosureResponse:
    return pb.AmendDisclosureResponse(disclosure_id=result.disclosure_id, version=result.version)


def audit_requested_to_pb(result: AuditRequested) -> pb.RequestAuditResponse:
    return pb.RequestAuditResponse(disclosure_id=result.disclosure_id, version=result.version)


def quarter_closed_to_pb(result: QuarterClosed) -> pb.CloseQuarterResponse:
    return pb.CloseQuarterResponse(
        marked_overdue=result.marked_overdue,
        already_overdue=result.already_overdue,
        filed=result.filed,
    )


def audit_result_recorded_to_pb(result: AuditResultRecorded) -> pb.RecordAuditResultResponse:
    return pb.RecordAuditResultResponse(
        disclosure_id=result.disclosure_id, version=result.version, audit=result.audit
    )


def audit_to_pb(request: AuditRequest) -> pb.Audit:
    audit = pb.Audit(
        number=request.number,
        requester=request.requester,
        owners_count=request.owners_count,
        household_count=request.household_count,
        reason=request.reason,
    )
    result = request.result
    if result is not None:
        audit.result.CopyFrom(
            pb.AuditResult(
                auditor=result.auditor,
                conclusion=result.conclusion,
                discrepancy_fen=result.discrepancy_fen,
                summary=result.summary,
                posted_on=result.posted_on.isoformat(),
                recorded_at=result.recorded_at.astimezone(UTC).isoformat(),
            )
        )
    return audit


def audits_to_pb(view: AuditsView) -> pb.GetAuditResultResponse:
    return pb.GetAuditResultResponse(
        disclosure_id=view.disclosure_id,
        community_code=view.community_code,
        unit=view.unit,
        year=view.year,
        quarter=view.quarter,
        audits=[audit_to_pb(a) for a in view.audits],
    )


def self_inspection_item_from_pb(item: pb.SelfInspectionItem) -> SelfInspectionItem:
    return SelfInspectionItem(
        problem=item.problem,
        measure=item.measure,
        deadline=_date(item.deadline),
        responsible=item.responsible,
    )


def self_inspection_filed_to_pb(result: SelfInspectionFiled) -> pb.FileSelfInspectionResponse:
    return pb.FileSelfInspectionResponse(
        ledger_id=result.ledger_id,
        version=result.version,
        late=result.late,
        problems=result.problems,
    )


def item_rectified_to_pb(
    result: SelfInspectionItemRectified,
) -> pb.RecordSelfInspectionRectificationResponse:
    return pb.RecordSelfInspectionRectificationResponse(
        ledger_id=result.ledger_id, version=result.version, past_deadline=result.past_deadline
    )


def standing_to_pb(standing: ItemStanding) -> pb.SelfInspectionEntry:
    item, done = standing.item, standing.rectification
    return pb.SelfInspectionEntry(
        number=standing.number,
        problem=item.problem,
        measure=item.measure,
        deadline=item.deadline.isoformat() if item.deadline else "",
        responsible=item.responsible,
        rectified_on=done.rectified_on.isoformat() if done else "",
        rectification_note=done.note if done else "",
        past_deadline=standing.past_deadline,
    )


def self_inspection_to_pb(view: SelfInspectionView) -> pb.SelfInspection:
    return pb.SelfInspection(
        ledger_id=view.ledger_id,
        version=view.version,
        community_code=view.community_code,
        unit=view.unit,
        company_uscc=view.company_uscc,
        year=view.year,
        items=[standing_to_pb(i) for i in view.items],
        posted_on=view.posted_on,
        owners_notified_via=view.owners_notified_via,
        late=view.late,
        filed_at=view.filed_at,
        due=view.due,
        due_basis=view.due_basis,
        problems=view.problems,
        rectified=view.rectified,
    )


def self_inspection_row_to_pb(row: SelfInspectionRow) -> pb.SelfInspectionSummary:
    return pb.SelfInspectionSummary(
        ledger_id=row.ledger_id,
        version=row.version,
        community_code=row.community_code,
        unit=row.unit,
        company_uscc=row.company_uscc,
        year=row.year,
        problems=row.problems,
        rectified=row.rectified,
        posted_on=row.posted_on,
        late=row.late,
        filed_at=row.filed_at.astimezone(UTC).isoformat(),
    )


class DisclosureServicer(pb_grpc.DisclosureServiceServicer):
    def __init__(self, app: DisclosureApplication, committer: GroupCommitter) -> None:
        self.app = app
        self.committer = committer

    async def RegisterCompany(
        self, request: pb.RegisterCompanyRequest, context: Context
    ) -> pb.RegisterCompanyResponse:
        cmd = RegisterCompany(
            request_id=request.request_id,
            uscc=request.uscc,
            name=request.name,
            source=request.source,
        )
        result: CompanyRegistered = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return company_registered_to_pb(result)

    async def RegisterCommunity(
        self, request: pb.RegisterCommunityRequest, context: Context
    ) -> pb.RegisterCommunityResponse:
        cmd = RegisterCommunity(
            request_id=request.request_id,
            community_code=request.community_code,
            name=request.name,
            address=request.address,
            unit=request.unit,
            division_code=request.division_code,
            township=request.township,
            company_uscc=request.company_uscc,
            company_name=request.company_name,
            signboard_at_main_entrance=request.signboard_at_main_entrance,
            elevator_count=request.elevator_count,
            barrier_gate_count=request.barrier_gate_count,
            has_leasable_space=request.has_leasable_space,
            household_count=request.household_count,
        )
        result: CommunityRegistered = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return community_registered_to_pb(result)

    async def ChangePropertyCompany(
        self, request: pb.ChangePropertyCompanyRequest, context: Context
    ) -> pb.ChangePropertyCompanyResponse:
        cmd = ChangePropertyCompany(
            request_id=request.request_id,
            community_code=request.community_code,
            new_company_uscc=request.new_company_uscc,
            effective_date=request.effective_date,
            reason=request.reason,
        )
        result: PropertyCompanyChanged = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return company_changed_to_pb(result)

    async def FileDisclosure(
        self, request: pb.FileDisclosureRequest, context: Context
    ) -> pb.FileDisclosureResponse:
        cmd = FileDisclosure(
            request_id=request.request_id,
            community_code=request.community_code,
            year=request.year,
            quarter=request.quarter,
            content=content_from_pb(request.content),
        )
        # Decided and committed together with the concurrent filings (group commit).
        identity = current_identity()
        result: DisclosureFiled = await self.committer.run(
            lambda: prepare_file_disclosure(self.app, identity, cmd), file_disclosure_reads(cmd)
        )
        return disclosure_filed_to_pb(result)

    async def AmendDisclosure(
        self, request: pb.AmendDisclosureRequest, context: Context
    ) -> pb.AmendDisclosureResponse:
        cmd = AmendDisclosure(
            request_id=request.request_id,
            disclosure_id=request.disclosure_id,
            expected_version=request.expected_version,
            reason=request.reason,
            content=content_from_pb(request.content),
        )
        result: DisclosureAmended = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return disclosure_amended_to_pb(result)

    async def RequestAudit(
        self, request: pb.RequestAuditRequest, context: Context
    ) -> pb.RequestAuditResponse:
        cmd = RequestAudit(
            request_id=request.request_id,
            disclosure_id=request.disclosure_id,
            requester=request.requester,
            owners_count=request.owners_count,
            reason=request.reason,
        )
        result: AuditRequested = await asyncio.to_thread(self.app.handle, current_identity(), cmd)
        return audit_requested_to_pb(result)

    async def CloseQuarter(
        self, request: pb.CloseQuarterRequest, context: Context
    ) -> pb.CloseQuarterResponse:
        cmd = CloseQuarter(
            request_id=request.request_id,
            year=request.year,
            quarter=request.quarter,
            unit=request.unit,
        )
        result: QuarterClosed = await asyncio.to_thread(self.app.handle, current_identity(), cmd)
        return quarter_closed_to_pb(result)

    async def GetDisclosure(
        self, request: pb.GetDisclosureRequest, context: Context
    ) -> pb.GetDisclosureResponse:
        view = await asyncio.to_thread(
            queries.get_disclosure,
            self.app,
            current_identity(),
            request.disclosure_id,
            request.version,
        )
        return pb.GetDisclosureResponse(disclosure=view_to_pb(view))

    async def ListDisclosures(
        self, request: pb.ListDisclosuresRequest, context: Context
    ) -> pb.ListDisclosuresResponse:
        rows, token = await queries.list_disclosures(
            self.app,
            current_identity(),
            request.unit,
            request.year,
            request.quarter,
            request.company_uscc,
            request.page_size,
            request.page_token,
            request.community_code,
        )
        return pb.ListDisclosuresResponse(
            disclosures=[summary_to_pb(r) for r in rows], next_page_token=token
        )

    async def GetDisclosureRate(
        self, request: pb.GetDisclosureRateRequest, context: Context
    ) -> pb.GetDisclosureRateResponse:
        rates, position = await queries.disclosure_rate(
            self.app,
            current_identity(),
            request.unit,
            request.year,
            request.quarter,
        )
        return pb.GetDisclosureRateResponse(
            units=[rate_to_pb(r) for r in rates], as_of_position=position
        )

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)

    async def RecordAuditResult(
        self, request: pb.RecordAuditResultRequest, context: Context
    ) -> pb.RecordAuditResultResponse:
        cmd = RecordAuditResult(
            request_id=request.request_id,
            disclosure_id=request.disclosure_id,
            auditor=request.auditor,
            conclusion=request.conclusion,
            discrepancy_fen=request.discrepancy_fen,
            summary=request.summary,
            posted_on=_date(request.posted_on),
        )
        result: AuditResultRecorded = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return audit_result_recorded_to_pb(result)

    async def GetAuditResult(
        self, request: pb.GetAuditResultRequest, context: Context
    ) -> pb.GetAuditResultResponse:
        view = await asyncio.to_thread(
            queries.get_audit_result, self.app, current_identity(), request.disclosure_id
        )
        return audits_to_pb(view)

    async def FileSelfInspection(
        self, request: pb.FileSelfInspectionRequest, context: Context
    ) -> pb.FileSelfInspectionResponse:
        cmd = FileSelfInspection(
            request_id=request.request_id,
            community_code=request.community_code,
            year=request.year,
            items=tuple(self_inspection_item_from_pb(i) for i in request.items),
            posted_on=_date(request.posted_on),
            owners_notified_via=tuple(request.owners_notified_via),
        )
        result: SelfInspectionFiled = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return self_inspection_filed_to_pb(result)

    async def RecordSelfInspectionRectification(
        self, request: pb.RecordSelfInspectionRectificationRequest, context: Context
    ) -> pb.RecordSelfInspectionRectificationResponse:
        cmd = RecordSelfInspectionRectification(
            request_id=request.request_id,
            community_code=request.community_code,
            year=request.year,
            item=request.item,
            rectified_on=_date(request.rectified_on),
            note=request.note,
        )
        result: SelfInspectionItemRectified = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return item_rectified_to_pb(result)

    async def GetSelfInspection(
        self, request: pb.GetSelfInspectionRequest, context: Context
    ) -> pb.GetSelfInspectionResponse:
        view = await asyncio.to_thread(
            queries.get_self_inspection,
            self.app,
            current_identity(),
            request.community_code,
            request.year,
        )
        return pb.GetSelfInspectionResponse(ledger=self_inspection_to_pb(view))

    async def ListSelfInspections(
        self, request: pb.ListSelfInspectionsRequest, context: Context
    ) -> pb.ListSelfInspectionsResponse:
        rows, token = await queries.list_self_inspections(
            self.app,
            current_identity(),
            request.unit,
            request.year,
            request.page_size,
            request.page_token,
        )
        return pb.ListSelfInspectionsResponse(
            ledgers=[self_inspection_row_to_pb(r) for r in rows], next_page_token=token
        )


def register(app: DisclosureApplication, committer: GroupCommitter) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_DisclosureServiceServicer_to_server(DisclosureServicer(app, committer), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DisclosureService"].full_name
