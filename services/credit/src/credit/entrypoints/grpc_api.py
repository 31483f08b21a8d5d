"""pubrev.credit.v1.CreditService over grpc.aio."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import grpc

from credit.adapters.feeds import CREDIT_CHINA, MARKET
from credit.application.app import ClassifyPenalty, CreditApplication, ImposePenalty
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.errors import PermissionDenied, Validator
from servicekit.identity import Identity, current_identity
from servicekit.push import Pusher

Context = grpc.aio.ServicerContext[Any, Any]
FEEDS = (CREDIT_CHINA, MARKET)


def _require_city_bureau(identity: Identity) -> None:
    # Feeds and sweeps are the city's operations (DRC and the bureau run the push).
    if not identity.is_city or identity.agency not in ("property-bureau", "drc"):
        raise PermissionDenied("feed operations are the city's", "推送运维由市级部门负责")


class CreditServicer(pb_grpc.CreditServiceServicer):
    def __init__(self, app: CreditApplication, pusher: Pusher, sweep: Any) -> None:
        self.app = app
        self.pusher = pusher
        self.sweep = sweep

    async def ImposePenalty(
        self, request: pb.ImposePenaltyRequest, context: Context
    ) -> pb.ImposePenaltyResponse:
        cmd = ImposePenalty(
            request.request_id, request.decision_number, request.party_name,
            request.party_uscc, request.violation_kind, request.facts, request.legal_basis,
            tuple(request.penalty_types), request.content, request.fine_fen,
            request.confiscated_fen, request.decision_date, request.authority_name,
            request.authority_uscc, request.unit, request.remarks, request.severity,
            request.valid_until,
        )
        result = await asyncio.to_thread(self.app.impose_penalty, current_identity(), cmd)
        return pb.ImposePenaltyResponse(**result)

    async def ClassifyPenalty(
        self, request: pb.ClassifyPenaltyRequest, context: Context
    ) -> pb.ClassifyPenaltyResponse:
        cmd = ClassifyPenalty(request.request_id, request.decision_number, request.severity,
                              request.valid_until, request.reason)
        result = await asyncio.to_thread(self.app.classify_penalty, current_identity(), cmd)
        return pb.ClassifyPenaltyResponse(**result)

    async def RevokePenalty(
        self, request: pb.RevokePenaltyRequest, context: Context
    ) -> pb.RevokePenaltyResponse:
        result = await asyncio.to_thread(
            self.app.revoke_penalty, current_identity(), request.request_id,
            request.decision_number, request.reason,
        )
        return pb.RevokePenaltyResponse(**result)

    async def GetLedger(
        self, request: pb.GetLedgerRequest, context: Context
    ) -> pb.GetLedgerResponse:
        view = await asyncio.to_thread(self.app.ledger, current_identity(),
                                       request.company_uscc)
        return pb.GetLedgerResponse(
            company_uscc=view.company_uscc, score=view.score, grade=view.grade,
            seriously_dishonest=view.seriously_dishonest, bands_version=view.bands_version,
            entries=[pb.LedgerEntry(**e) for e in view.entries],
        )

    async def SweepDisplayPeriods(
        self, request: pb.SweepDisplayPeriodsRequest, context: Context
    ) -> pb.SweepDisplayPeriodsResponse:
        _require_city_bureau(current_identity())
        restored = await asyncio.to_thread(self.sweep)
        return pb.SweepDisplayPeriodsResponse(restored=restored)

    async def GetFeedStatus(
        self, request: pb.GetFeedStatusRequest, context: Context
    ) -> pb.GetFeedStatusResponse:
        _require_city_bureau(current_identity())
        v = Validator()
        v.require(request.feed in ("", *FEEDS), "feed", "unknown_feed",
                  f"one of {', '.join(FEEDS)}", "推送通道不存在")
        v.require(not request.record_id or bool(request.feed), "feed", "required",
                  "name the feed of the record", "请指定记录所属的推送通道")
        v.raise_if_any()
        feeds = [request.feed] if request.feed else list(FEEDS)
        counts = []
        for feed in feeds:
            c = await asyncio.to_thread(self.pusher.counts, feed)
            counts.append(pb.FeedCounts(feed=feed, pending=c.get("pending", 0),
                                        delivered=c.get("delivered", 0),
                                        dead=c.get("dead", 0)))
        reply = pb.GetFeedStatusResponse(counts=counts)
        if request.record_id:
            status = await asyncio.to_thread(self.pusher.status, request.feed,
                                             request.record_id)
            if status is not None:
                reply.status = status.status.value
                reply.attempts.extend(
                    pb.FeedAttempt(attempt=r.attempt, at=r.at.astimezone(UTC).isoformat(),
                                   http_status=r.http_status or 0, error=r.error or "")
                    for r in status.receipts
                )
        return reply

    async def RepushFeedRecord(
        self, request: pb.RepushFeedRecordRequest, context: Context
    ) -> pb.RepushFeedRecordResponse:
        _require_city_bureau(current_identity())
        found = await asyncio.to_thread(self.pusher.repush, request.feed, request.record_id)
        return pb.RepushFeedRecordResponse(found=found)

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: CreditApplication, pusher: Pusher, sweep: Any) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CreditServiceServicer_to_server(CreditServicer(app, pusher, sweep), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CreditService"].full_name
