"""pubrev.credit.v1.CreditService over grpc.aio: each request becomes a command or a query
field by field, each result a response field by field (the `*_to_pb` functions)."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import grpc

from credit.application.app import CreditApplication
from credit.application.commands import (
    ClassifyPenalty,
    DisplayPeriodsSwept,
    FeedRecordRepushed,
    ImposePenalty,
    PenaltyClassified,
    PenaltyImposed,
    PenaltyRevoked,
    RepushFeedRecord,
    RevokePenalty,
    SweepDisplayPeriods,
)
from credit.application.queries import (
    FeedStatusView,
    LedgerEntryView,
    LedgerView,
    get_feed_status,
    get_ledger,
)
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from servicekit.audit import history_events
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
        )
        result: PenaltyImposed = await asyncio.to_thread(self.app.handle, current_identity(), cmd)
        return imposed_to_pb(result)

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
