"""pubrev.inspection.v1.InspectionService over grpc.aio."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from inspection.application.app import InspectionApplication
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.errors import Validator
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


class InspectionServicer(pb_grpc.InspectionServiceServicer):
    def __init__(self, app: InspectionApplication) -> None:
        self.app = app

    async def GetCommunityDisclosure(
        self, request: pb.GetCommunityDisclosureRequest, context: Context
    ) -> pb.GetCommunityDisclosureResponse:
        v = Validator()
        v.require(bool(request.community_code), "community_code", "required",
                  "community_code is required", "缺少小区编码")
        v.raise_if_any()
        view = await asyncio.to_thread(
            self.app.community_disclosure, current_identity(), request.community_code
        )
        return pb.GetCommunityDisclosureResponse(
            disclosure=pb.CommunityDisclosure(
                community_code=view.community_code, unit=view.unit,
                disclosure_id=view.disclosure_id, year=view.year, quarter=view.quarter,
                income_total_fen=view.income_total_fen, surplus_fen=view.surplus_fen,
                late=view.late, zero_revenue=view.zero_revenue,
                disclosures_noted=view.disclosures_noted,
            )
        )

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
