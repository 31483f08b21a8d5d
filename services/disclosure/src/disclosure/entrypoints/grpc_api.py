"""pubrev.disclosure.v1.DisclosureService over grpc.aio.

Translates protobuf to application commands and back; the application is synchronous
(eventsourcing), so every call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date
from typing import Any

import grpc

from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AmendDisclosure,
    ChangePropertyCompany,
    DisclosureView,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.domain.content import DisclosureContent, ExpenditureItem, IncomeItem
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


class DisclosureServicer(pb_grpc.DisclosureServiceServicer):
    def __init__(self, app: DisclosureApplication, committer: GroupCommitter) -> None:
        self.app = app
        self.committer = committer

    async def RegisterCompany(
        self, request: pb.RegisterCompanyRequest, context: Context
    ) -> pb.RegisterCompanyResponse:
        cmd = RegisterCompany(request.request_id, request.uscc, request.name, request.source)
        result = await asyncio.to_thread(self.app.register_company, current_identity(), cmd)
        return pb.RegisterCompanyResponse(**result)

    async def ChangePropertyCompany(
        self, request: pb.ChangePropertyCompanyRequest, context: Context
    ) -> pb.ChangePropertyCompanyResponse:
        cmd = ChangePropertyCompany(
            request.request_id,
            request.community_code,
            request.new_company_uscc,
            request.effective_date,
            request.reason,
        )
        result = await asyncio.to_thread(self.app.change_property_company, current_identity(), cmd)
        return pb.ChangePropertyCompanyResponse(**result)

    async def RequestAudit(
        self, request: pb.RequestAuditRequest, context: Context
    ) -> pb.RequestAuditResponse:
        cmd = RequestAudit(
            request.request_id,
            request.disclosure_id,
            request.requester,
            request.owners_count,
            request.reason,
        )
        result = await asyncio.to_thread(self.app.request_audit, current_identity(), cmd)
        return pb.RequestAuditResponse(**result)

    async def CloseQuarter(
        self, request: pb.CloseQuarterRequest, context: Context
    ) -> pb.CloseQuarterResponse:
        counts = await asyncio.to_thread(
            self.app.close_quarter,
            current_identity(),
            request.year,
            request.quarter,
            request.unit,
        )
        return pb.CloseQuarterResponse(**counts)

    async def ListDisclosures(
        self, request: pb.ListDisclosuresRequest, context: Context
    ) -> pb.ListDisclosuresResponse:
        rows, token = await asyncio.to_thread(
            self.app.list_disclosures,
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
            disclosures=[
                pb.DisclosureSummary(
                    disclosure_id=r.disclosure_id,
                    version=r.version,
                    community_code=r.community_code,
                    unit=r.unit,
                    company_uscc=r.company_uscc,
                    year=r.year,
                    quarter=r.quarter,
                    income_total_fen=r.income_total_fen,
                    surplus_fen=r.surplus_fen,
                    late=r.late,
                    zero_revenue=r.zero_revenue,
                    filed_at=r.filed_at.astimezone(UTC).isoformat(),
                    revision=r.revision,
                    deficit=r.deficit,
                )
                for r in rows
            ],
            next_page_token=token,
        )

    async def GetDisclosureRate(
        self, request: pb.GetDisclosureRateRequest, context: Context
    ) -> pb.GetDisclosureRateResponse:
        rates, position = await asyncio.to_thread(
            self.app.disclosure_rate,
            current_identity(),
            request.unit,
            request.year,
            request.quarter,
        )
        return pb.GetDisclosureRateResponse(
            units=[pb.UnitDisclosureRate(**vars(r)) for r in rates], as_of_position=position
        )

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
        result = await asyncio.to_thread(self.app.register_community, current_identity(), cmd)
        return pb.RegisterCommunityResponse(**result)

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
        result = await self.committer.run(lambda: self.app.prepare_file_disclosure(identity, cmd))
        return pb.FileDisclosureResponse(**result)

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
        result = await asyncio.to_thread(self.app.amend_disclosure, current_identity(), cmd)
        return pb.AmendDisclosureResponse(**result)

    async def GetDisclosure(
        self, request: pb.GetDisclosureRequest, context: Context
    ) -> pb.GetDisclosureResponse:
        view = await asyncio.to_thread(
            self.app.get_disclosure, current_identity(), request.disclosure_id, request.version
        )
        return pb.GetDisclosureResponse(disclosure=view_to_pb(view))

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: DisclosureApplication, committer: GroupCommitter) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_DisclosureServiceServicer_to_server(DisclosureServicer(app, committer), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DisclosureService"].full_name
