"""The cheapest grpc.aio unary call there is: bytes in, bytes out, no interceptor."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc

SERVICE = "pubrev.bench.Trivial"
METHOD = f"/{SERVICE}/Ping"


async def _ping(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return b"pong"


@contextlib.asynccontextmanager
async def trivial_server() -> AsyncIterator[int]:
    """A grpc.aio server on a free local port (yielded) with a single Ping method."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Ping": grpc.unary_unary_rpc_method_handler(_ping)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(1.0)
