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


def new_server(address: str) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with a single Ping method, listening on `address` (not started
    yet), and the port it got."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Ping": grpc.unary_unary_rpc_method_handler(_ping)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address} (port in use?)")
    return server, port


@contextlib.asynccontextmanager
async def trivial_server() -> AsyncIterator[int]:
    """The server in this process, on a free local port (yielded)."""
    server, port = new_server("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(1.0)
