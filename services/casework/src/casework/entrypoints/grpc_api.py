"""pubrev.casework.v1.CaseworkService over grpc.aio."""

from __future__ import annotations

from typing import Any

import grpc

from casework.application.app import CaseworkApplication
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from servicekit.audit import history_events
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]


class CaseworkServicer(pb_grpc.CaseworkServiceServicer):
    def __init__(self, app: CaseworkApplication) -> None:
        self.app = app

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Context
    ) -> pb.GetHistoryResponse:
        events = await history_events(self.app, current_identity(), request.query)
        return pb.GetHistoryResponse(events=events)


def register(app: CaseworkApplication) -> Any:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_CaseworkServiceServicer_to_server(CaseworkServicer(app), server)

    return add


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CaseworkService"].full_name
