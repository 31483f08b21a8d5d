"""pubrev.credit.v1.CreditService over grpc.aio: each request becomes a command or a query
field by field, each result a response field by field (the `*_to_pb` functions)."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import grpc

from credit.application.app import CreditApplication
from credit.application.commands import (
    ApplyForCreditRepair,
    ClassifyPenalty,
    CreditRepairAppliedFor,
    CreditRepairDecided,
    DecideCreditRepair,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    DeductionObjectionDecided,
    DeductionObjectionFiled,
    DisplayPeriodsSwept,
    FeedRecordRepushed,
    ImposePenalty,
    NotifyIntendedPenalty,
    ObjectToDeduction,
    PenaltyClassified,
    PenaltyImposed,
    PenaltyNoticeIssued,
    PenaltyRevoked,
    RepushFeedRecord,
    RevokePenalty,
    SeriousDishonestyDecided,
    StatementReceived,
    SubmitStatement,
    SweepDisplayPeriods,
)
from credit.application.queries import (
    FeedStatusView,
    LedgerEntryView,
    LedgerView,
    PenaltyNoticeView,
    get_feed_status,
    get_ledger,
    get_penalty_notice,
)
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.evidence import ref_to_pb, refs_from_pb
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


class CreditServicer(pb_grpc.CreditServiceServicer):
    """Passes each call and its caller's identity to the application, which decides who may
    (application/access.py); nothing here judges the caller."""

    def __init__(self, app: CreditApplication) -> None:
        self.app = app

    async def ImposePenalty(
        self, request: pb.ImposePenaltyRequest, context: Context
    ) -> pb.ImposePenaltyResponse:
        cmd = ImposePenalty(
            request_id=request.request_id,
            decision_number=request.decision_number,
            party_name=request.party_name,
            party_uscc=request.party_uscc,
            violation_kind=request.violation_kind,
            facts=request.facts,
            legal_basis=request.legal_basis,
            penalty_types=tuple(request.penalty_types),
            content=request.content,
            fine_fen=request.fine_fen,
            confiscated_fen=request.confiscated_fen,
            decision_date=request.decision_date,
            authority_name=request.authority_name,
            authority_uscc=request.authority_uscc,
            unit=request.unit,
            remarks=request.remarks,
            severity=request.severity,
            valid_until=request.valid_until,
            notice_id=request.notice_id,
            statement_consideration=request.statement_consideration,
        )
        result: PenaltyImposed = await asyncio.to_thread(self.app.handle, current_identity(), cmd)
        return imposed_to_pb(result)

    async def NotifyIntendedPenalty(
        self, request: pb.NotifyIntendedPenaltyRequest, context: Context
    ) -> pb.NotifyIntendedPenaltyResponse:
        cmd = NotifyIntendedPenalty(
            request_id=request.request_id,
            party_name=request.party_name,
            party_uscc=request.party_uscc,
            violation_kind=request.violation_kind,
            facts=request.facts,
            legal_basis=request.legal_basis,
            penalty_types=tuple(request.penalty_types),
            content=request.content,
            fine_fen=request.fine_fen,
            confiscated_fen=request.confiscated_fen,
            severity=request.severity,
            unit=request.unit,
            notified_on=request.notified_on,
            statement_deadline=request.statement_deadline,
            attachments=refs_from_pb(request.attachments),
        )
        result: PenaltyNoticeIssued = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.NotifyIntendedPenaltyResponse(
            notice_id=result.notice_id,
            notified_on=result.notified_on,
            statement_deadline=result.statement_deadline,
        )

    async def SubmitStatement(
        self, request: pb.SubmitStatementRequest, context: Context
    ) -> pb.SubmitStatementResponse:
        cmd = SubmitStatement(
            request_id=request.request_id,
            notice_id=request.notice_id,
            text=request.text,
            waives=request.waives,
            attachments=refs_from_pb(request.attachments),
        )
        result: StatementReceived = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.SubmitStatementResponse(
            notice_id=result.notice_id, statements=result.statements, waived=result.waived
        )

    async def GetPenaltyNotice(
        self, request: pb.GetPenaltyNoticeRequest, context: Context
    ) -> pb.GetPenaltyNoticeResponse:
        view = await asyncio.to_thread(
            get_penalty_notice, self.app, current_identity(), request.notice_id
        )
        return notice_to_pb(view)

    async def ObjectToDeduction(
        self, request: pb.ObjectToDeductionRequest, context: Context
    ) -> pb.ObjectToDeductionResponse:
        cmd = ObjectToDeduction(
            request_id=request.request_id,
            company_uscc=request.company_uscc,
            finding_id=request.finding_id,
            reason=request.reason,
            attachments=refs_from_pb(request.attachments),
        )
        result: DeductionObjectionFiled = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.ObjectToDeductionResponse(finding_id=result.finding_id, unit=result.unit)

    async def DecideDeductionObjection(
        self, request: pb.DecideDeductionObjectionRequest, context: Context
    ) -> pb.DecideDeductionObjectionResponse:
        cmd = DecideDeductionObjection(
            request_id=request.request_id,
            company_uscc=request.company_uscc,
            finding_id=request.finding_id,
            upheld=request.upheld,
            reason=request.reason,
        )
        result: DeductionObjectionDecided = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.DecideDeductionObjectionResponse(
            finding_id=result.finding_id,
            upheld=result.upheld,
            points_restored=result.points_restored,
            score=result.score,
        )

    async def ApplyForCreditRepair(
        self, request: pb.ApplyForCreditRepairRequest, context: Context
    ) -> pb.ApplyForCreditRepairResponse:
        cmd = ApplyForCreditRepair(
            request_id=request.request_id,
            decision_number=request.decision_number,
            statement=request.statement,
            attachments=refs_from_pb(request.attachments),
        )
        result: CreditRepairAppliedFor = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.ApplyForCreditRepairResponse(
            penalty_id=result.penalty_id, applied_on=result.applied_on
        )

    async def DecideCreditRepair(
        self, request: pb.DecideCreditRepairRequest, context: Context
    ) -> pb.DecideCreditRepairResponse:
        cmd = DecideCreditRepair(
            request_id=request.request_id,
            decision_number=request.decision_number,
            approved=request.approved,
            reason=request.reason,
        )
        result: CreditRepairDecided = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.DecideCreditRepairResponse(
            penalty_id=result.penalty_id, approved=result.approved, decided_on=result.decided_on
        )

    async def DecideSeriousDishonesty(
        self, request: pb.DecideSeriousDishonestyRequest, context: Context
    ) -> pb.DecideSeriousDishonestyResponse:
        cmd = DecideSeriousDishonesty(
            request_id=request.request_id,
            company_uscc=request.company_uscc,
            lists=request.lists,
            reason=request.reason,
        )
        result: SeriousDishonestyDecided = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.DecideSeriousDishonestyResponse(
            company_uscc=result.company_uscc, listed=result.listed
        )

    async def ClassifyPenalty(
        self, request: pb.ClassifyPenaltyRequest, context: Context
    ) -> pb.ClassifyPenaltyResponse:
        cmd = ClassifyPenalty(
            request_id=request.request_id,
            decision_number=request.decision_number,
            severity=request.severity,
            valid_until=request.valid_until,
            reason=request.reason,
        )
        result: PenaltyClassified = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return classified_to_pb(result)

    async def RevokePenalty(
        self, request: pb.RevokePenaltyRequest, context: Context
    ) -> pb.RevokePenaltyResponse:
        cmd = RevokePenalty(
            request_id=request.request_id,
            decision_number=request.decision_number,
            reason=request.reason,
        )
        result: PenaltyRevoked = await asyncio.to_thread(self.app.handle, current_identity(), cmd)
        return revoked_to_pb(result)

    async def GetLedger(
        self, request: pb.GetLedgerRequest, context: Context
    ) -> pb.GetLedgerResponse:
        view = await asyncio.to_thread(
            get_ledger, self.app, current_identity(), request.company_uscc
        )
        return ledger_to_pb(view)

    async def SweepDisplayPeriods(
        self, request: pb.SweepDisplayPeriodsRequest, context: Context
    ) -> pb.SweepDisplayPeriodsResponse:
        cmd = SweepDisplayPeriods(request_id=request.request_id)
        result: DisplayPeriodsSwept = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.SweepDisplayPeriodsResponse(restored=result.restored)

    async def GetFeedStatus(
        self, request: pb.GetFeedStatusRequest, context: Context
    ) -> pb.GetFeedStatusResponse:
        view = await asyncio.to_thread(
            get_feed_status, self.app, current_identity(), request.feed, request.record_id
        )
        return feed_status_to_pb(view)

    async def RepushFeedRecord(
        self, request: pb.RepushFeedRecordRequest, context: Context
    ) -> pb.RepushFeedRecordResponse:
        cmd = RepushFeedRecord(feed=request.feed, record_id=request.record_id)
        result: FeedRecordRepushed = await asyncio.to_thread(
            self.app.handle, current_identity(), cmd
        )
        return pb.RepushFeedRecordResponse(found=result.found)

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def notice_to_pb(view: PenaltyNoticeView) -> pb.GetPenaltyNoticeResponse:
    return pb.GetPenaltyNoticeResponse(
        notice_id=view.notice_id,
        unit=view.unit,
        party_name=view.party_name,
        party_uscc=view.party_uscc,
        violation_kind=view.violation_kind,
        facts=view.facts,
        legal_basis=view.legal_basis,
        penalty_types=view.penalty_types,
        content=view.content,
        fine_fen=view.fine_fen,
        confiscated_fen=view.confiscated_fen,
        severity=view.severity,
        notified_on=view.notified_on.isoformat(),
        statement_deadline=view.statement_deadline.isoformat(),
        attachments=[ref_to_pb(a) for a in view.attachments],
        statements=[
            pb.Statement(
                text=st.text,
                waives=st.waives,
                submitted_at=st.submitted_at.astimezone(UTC).isoformat(),
                attachments=[ref_to_pb(a) for a in st.attachments],
            )
            for st in view.statements
        ],
        decision_number=view.decision_number,
        statement_consideration=view.statement_consideration,
    )


def imposed_to_pb(result: PenaltyImposed) -> pb.ImposePenaltyResponse:
    return pb.ImposePenaltyResponse(
        penalty_id=result.penalty_id,
        display_until=result.display_until,
        repair_from=result.repair_from,
        published=result.published,
    )


def classified_to_pb(result: PenaltyClassified) -> pb.ClassifyPenaltyResponse:
    return pb.ClassifyPenaltyResponse(
        penalty_id=result.penalty_id,
        display_until=result.display_until,
        repair_from=result.repair_from,
        published=result.published,
    )


def revoked_to_pb(result: PenaltyRevoked) -> pb.RevokePenaltyResponse:
    return pb.RevokePenaltyResponse(penalty_id=result.penalty_id, withdraw_by=result.withdraw_by)


def ledger_to_pb(view: LedgerView) -> pb.GetLedgerResponse:
    return pb.GetLedgerResponse(
        company_uscc=view.company_uscc,
        score=view.score,
        grade=view.grade,
        seriously_dishonest=view.seriously_dishonest,
        bands_version=view.bands_version,
        entries=[entry_to_pb(e) for e in view.entries],
        dishonesty_proposed=view.dishonesty_proposed,
    )


def entry_to_pb(entry: LedgerEntryView) -> pb.LedgerEntry:
    return pb.LedgerEntry(
        type=entry.type,
        finding_id=entry.finding_id,
        kind=entry.kind,
        severity=entry.severity,
        points=entry.points,
        score_after=entry.score_after,
        at=entry.at.isoformat(),
        table_version=entry.table_version,
        reason=entry.reason,
    )


def feed_status_to_pb(view: FeedStatusView) -> pb.GetFeedStatusResponse:
    return pb.GetFeedStatusResponse(
        counts=[
            pb.FeedCounts(feed=c.feed, pending=c.pending, delivered=c.delivered, dead=c.dead)
            for c in view.counts
        ],
        status=view.status,
        attempts=[
            pb.FeedAttempt(
                attempt=a.attempt,
                at=a.at.astimezone(UTC).isoformat(),
                http_status=a.http_status,
                error=a.error,
            )
            for a in view.attempts
        ],
    )


def register(app: CreditApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CreditServiceServicer_to_server(CreditServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CreditService"].full_name
