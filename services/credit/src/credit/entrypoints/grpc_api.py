"""pubrev.credit.v1.CreditService over grpc.aio."""

from __future__ import annotations

from typing import Any

import grpc

from credit.application.app import CreditApplication
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


class CreditServicer(pb_grpc.CreditServiceServicer):
    def __init__(self, app: CreditApplication) -> None:
        self.app = app

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: CreditApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CreditServiceServicer_to_server(CreditServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CreditService"].full_name
