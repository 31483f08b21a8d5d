"""pubrev.credit.v1.CreditService over grpc.aio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC
from typing import Any

import grpc

from credit.adapters.feeds import CREDIT_CHINA, MARKET
from credit.application.app import ClassifyPenalty, CreditApplication, ImposePenalty
from credit.application.ports import FeedDesk
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]
FEEDS = (CREDIT_CHINA, MARKET)


class CreditServicer(pb_grpc.CreditServiceServicer):
    """Passes each call and its caller's identity to the application, which decides who may
    (application/access.py); nothing here judges the caller."""

    def __init__(self, app: CreditApplication, desk: FeedDesk, sweep: Callable[[], int]) -> None:
        self.app = app
        self.desk = desk
        self.sweep = sweep

    async def ImposePenalty(
        self, request: pb.ImposePenaltyRequest, context: Context
    ) -> pb.ImposePenaltyResponse:
        cmd = ImposePenalty(
            request.request_id,
            request.decision_number,
            request.party_name,
            request.party_uscc,
            request.violation_kind,
            request.facts,
            request.legal_basis,
            tuple(request.penalty_types),
            request.content,
            request.fine_fen,
            request.confiscated_fen,
            request.decision_date,
            request.authority_name,
            request.authority_uscc,
            request.unit,
            request.remarks,
            request.severity,
            request.valid_until,
        )
        result = await asyncio.to_thread(self.app.impose_penalty, current_identity(), cmd)
        return pb.ImposePenaltyResponse(**result)

    async def ClassifyPenalty(
        self, request: pb.ClassifyPenaltyRequest, context: Context
    ) -> pb.ClassifyPenaltyResponse:
        cmd = ClassifyPenalty(
            request.request_id,
            request.decision_number,
            request.severity,
            request.valid_until,
            request.reason,
        )
        result = await asyncio.to_thread(self.app.classify_penalty, current_identity(), cmd)
        return pb.ClassifyPenaltyResponse(**result)

    async def RevokePenalty(
        self, request: pb.RevokePenaltyRequest, context: Context
    ) -> pb.RevokePenaltyResponse:
        result = await asyncio.to_thread(
            self.app.revoke_penalty,
            current_identity(),
            request.request_id,
            request.decision_number,
            request.reason,
        )
        return pb.RevokePenaltyResponse(**result)

    async def GetLedger(
        self, request: pb.GetLedgerRequest, context: Context
    ) -> pb.GetLedgerResponse:
        view = await asyncio.to_thread(self.app.ledger, current_identity(), request.company_uscc)
        return pb.GetLedgerResponse(
            company_uscc=view.company_uscc,
            score=view.score,
            grade=view.grade,
            seriously_dishonest=view.seriously_dishonest,
            bands_version=view.bands_version,
            entries=[pb.LedgerEntry(**e) for e in view.entries],
        )

    async def SweepDisplayPeriods(
        self, request: pb.SweepDisplayPeriodsRequest, context: Context
    ) -> pb.SweepDisplayPeriodsResponse:
        restored = await asyncio.to_thread(
            self.app.sweep_display_periods, current_identity(), self.sweep
        )
        return pb.SweepDisplayPeriodsResponse(restored=restored)

    async def GetFeedStatus(
        self, request: pb.GetFeedStatusRequest, context: Context
    ) -> pb.GetFeedStatusResponse:
        view = await asyncio.to_thread(
            self.app.feed_status,
            current_identity(),
            self.desk,
            FEEDS,
            request.feed,
            request.record_id,
        )
        return pb.GetFeedStatusResponse(
            counts=[pb.FeedCounts(feed=feed, **c) for feed, c in view.counts.items()],
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

    async def RepushFeedRecord(
        self, request: pb.RepushFeedRecordRequest, context: Context
    ) -> pb.RepushFeedRecordResponse:
        found = await asyncio.to_thread(
            self.app.repush_feed_record,
            current_identity(),
            self.desk,
            FEEDS,
            request.feed,
            request.record_id,
        )
        return pb.RepushFeedRecordResponse(found=found)

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: CreditApplication, desk: FeedDesk, sweep: Callable[[], int]) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CreditServiceServicer_to_server(CreditServicer(app, desk, sweep), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CreditService"].full_name
