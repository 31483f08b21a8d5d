"""`python -m bench.trivial_server --port N`: the trivial Ping server of `bench.trivial_grpc`
as its own OS process, the baseline for the disclosure API in its own process.

It serves on 127.0.0.1:N until SIGTERM or SIGINT, then stops (1 s grace) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from bench.trivial_grpc import new_server


async def serve(port: int) -> None:
    server, _ = new_server(f"127.0.0.1:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    await stop.wait()
    await server.stop(1.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trivial_server")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
