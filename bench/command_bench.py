"""Measurement 2: FileDisclosure commands/s through gRPC, its decomposition and baselines."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.disclosure_data import (
    IDENTITY_METADATA,
    OFFICER,
    TIMEOUT,
    community_codes,
    file_requests,
    filer,
    register_all,
    register_requests,
    to_command,
)
from bench.infra import disclosure_settings, scratch_database
from bench.load import drive, run_sequentially, warm_up
from bench.process_bench import CHANNELS, CMD_UNIT, RPC_UNIT, Plan, process_figures
from bench.report import Figure, Ratio, Section
from bench.storage_baselines import asyncpg_concurrent, asyncpg_sequential, es_save
from bench.trivial_grpc import METHOD, trivial_server
from disclosure.application.app import DisclosureApplication
from disclosure.bootstrap import build
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.runtime import close, start, stop


@dataclass(frozen=True)
class Sizes:
    commands: int = 3_000
    callers: int = 50
    warm_up: int = 300
    in_process: int = 1_000
    """Commands of each in-process run (50 callers, then 1 thread)."""
    trivial_calls: int = 10_000
    inserts: int = 5_000
    saves: int = 2_000


@dataclass(frozen=True)
class Workload:
    """Disjoint slices of FileDisclosure requests, one per run: a filing happens once."""

    warm_up: Sequence[pb.FileDisclosureRequest]
    grpc: Sequence[pb.FileDisclosureRequest]
    concurrent: Sequence[pb.FileDisclosureRequest]
    sequential: Sequence[pb.FileDisclosureRequest]

    @classmethod
    def split(cls, requests: Sequence[pb.FileDisclosureRequest], sizes: Sizes) -> Workload:
        a = sizes.warm_up
        b = a + sizes.commands
        c = b + sizes.in_process
        return cls(requests[:a], requests[a:b], requests[b:c], requests[c:c + sizes.in_process])


def prepare(sizes: Sizes) -> tuple[list[pb.RegisterCommunityRequest], Workload]:
    """Communities to register first, and the filings for them."""
    total = sizes.warm_up + sizes.commands + 2 * sizes.in_process
    codes = community_codes("CMD", total)
    return register_requests(codes), Workload.split(file_requests(codes), sizes)


async def grpc_file_disclosure(channel: grpc.aio.Channel, workload: Workload,
                               sizes: Sizes) -> Figure:
    stub = pb_grpc.DisclosureServiceStub(channel)
    await warm_up(filer(stub, workload.warm_up), len(workload.warm_up), sizes.callers)
    result = await drive(filer(stub, workload.grpc), len(workload.grpc), sizes.callers)
    return result.figure("file", f"FileDisclosure via gRPC, {sizes.callers} callers", CMD_UNIT)


async def grpc_health(channel: grpc.aio.Channel, sizes: Sizes) -> Figure:
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="")

    async def call(_: int) -> None:
        await stub.Check(request, metadata=IDENTITY_METADATA, timeout=TIMEOUT)

    await warm_up(call, sizes.callers * 2, sizes.callers)
    result = await drive(call, sizes.commands, sizes.callers)
    return result.figure("health", "health Check on that server (servicekit interceptor)",
                         RPC_UNIT)


async def in_process_concurrent(app: DisclosureApplication,
                                requests: Sequence[pb.FileDisclosureRequest],
                                callers: int) -> Figure:
    async def call(index: int) -> None:
        await asyncio.to_thread(app.file_disclosure, OFFICER, to_command(requests[index]))

    result = await drive(call, len(requests), callers)
    return result.figure("in_process",
                         f"FileDisclosure in-process via asyncio.to_thread, {callers} callers",
                         CMD_UNIT)


def in_process_sequential(app: DisclosureApplication,
                          requests: Sequence[pb.FileDisclosureRequest]) -> Figure:
    result = run_sequentially(
        functools.partial(app.file_disclosure, OFFICER, to_command(request))
        for request in requests
    )
    return result.figure("in_process_1", "FileDisclosure in-process, 1 thread sequential",
                         CMD_UNIT)


@contextlib.asynccontextmanager
async def running_disclosure(database_url: str) -> AsyncIterator[tuple[DisclosureApplication, int]]:
    """The disclosure API served in this process (as `servicekit.testing.running_service`
    does); yields the application and the gRPC port."""
    parts = build(disclosure_settings(database_url))
    try:
        app = parts.app
        assert isinstance(app, DisclosureApplication)
        running = await start(parts, ("api",))
        try:
            assert running.grpc is not None
            yield app, running.grpc.port
        finally:
            await stop(parts, running)
    finally:
        close(parts)


async def stored_events(app: DisclosureApplication) -> int:
    return await asyncio.to_thread(app.process_recorder.max_notification_id) or 0


async def disclosure_figures(sizes: Sizes) -> tuple[list[Figure], str]:
    """The command path and its decomposition, against one running disclosure API."""
    communities, workload = prepare(sizes)
    with scratch_database("disclosure") as url:
        async with running_disclosure(url) as (app, port):
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await register_all(channel, communities, sizes.callers)
                before = await stored_events(app)
                file = await grpc_file_disclosure(channel, workload, sizes)
                after = await stored_events(app)
                health = await grpc_health(channel, sizes)
            concurrent = await in_process_concurrent(app, workload.concurrent, sizes.callers)
            sequential = await asyncio.to_thread(in_process_sequential, app, workload.sequential)
    written = (after - before) / (sizes.warm_up + sizes.commands)
    note = (f"stored events per FileDisclosure: {written:.2f} (the filing and its command "
            "receipt, one transaction under the event table's EXCLUSIVE lock)")
    return [file, health, concurrent, sequential], note


async def trivial_grpc(sizes: Sizes) -> Figure:
    async with trivial_server() as port, grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        ping: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = ch.unary_unary(METHOD)

        async def call(_: int) -> None:
            await ping(b"ping", timeout=TIMEOUT)

        await warm_up(call, sizes.callers * 4, sizes.callers)
        result = await drive(call, sizes.trivial_calls, sizes.callers)
    return result.figure("trivial", f"trivial grpc.aio unary (bytes), {sizes.callers} callers",
                         RPC_UNIT)


async def storage_figures(sizes: Sizes) -> list[Figure]:
    with scratch_database("raw") as url:
        pooled = await asyncpg_concurrent(url, sizes.inserts, sizes.callers)
        sequential = await asyncpg_sequential(url, sizes.inserts)
        saves = await asyncio.to_thread(es_save, url, sizes.saves)
    return [pooled, sequential, saves]


RATIOS = [
    Ratio("FileDisclosure ÷ trivial gRPC", "file", "trivial"),
    Ratio("FileDisclosure ÷ asyncpg insert (pool, 50 callers)", "file", "asyncpg_pool"),
    Ratio("FileDisclosure ÷ asyncpg insert (1 connection)", "file", "asyncpg_seq"),
    Ratio("FileDisclosure ÷ es save (1 thread)", "file", "es_save"),
    Ratio("FileDisclosure via gRPC ÷ in-process (50 callers)", "file", "in_process"),
    Ratio("in-process 50 callers ÷ in-process 1 thread", "in_process", "in_process_1"),
    Ratio("health via servicekit ÷ trivial gRPC", "health", "trivial"),
    Ratio("own process: FileDisclosure (1 worker) ÷ trivial (own process)",
          "file_proc1", "trivial_proc"),
    Ratio("own process: FileDisclosure 2 workers ÷ 1 worker", "file_proc2", "file_proc1"),
    Ratio("own process: FileDisclosure (2 workers) ÷ trivial (own process)",
          "file_proc2", "trivial_proc"),
    Ratio("FileDisclosure: API in its own process (1 worker) ÷ in the bench's process",
          "file_proc1", "file"),
    Ratio("trivial gRPC: server in its own process ÷ in the bench's process",
          "trivial_proc", "trivial"),
]


def placement_notes(sizes: Sizes) -> list[str]:
    return [
        "ONE process: `FileDisclosure via gRPC`, `health Check` and `trivial grpc.aio unary, "
        f"{sizes.callers} callers` run the server inside the bench's process, on one channel: "
        "client and server share one Python process (one GIL); py cpu% is both.",
        "SEPARATE processes: the figures saying `own process` run the server as its own OS "
        f"process(es), driven over {CHANNELS} channels (one TCP connection each); py cpu% is "
        "the client alone, srv cpu% the server's processes summed. (The in-process figures "
        "call the application without gRPC; the storage ones have no server.)",
    ]


async def command_section(sizes: Sizes | None = None) -> Section:
    sizes = sizes or Sizes()
    disclosure, note = await disclosure_figures(sizes)
    trivial = await trivial_grpc(sizes)
    own, own_notes = await process_figures(
        Plan(commands=sizes.commands, warm_up=sizes.warm_up, callers=sizes.callers,
             trivial_calls=sizes.trivial_calls)
    )
    storage = await storage_figures(sizes)
    return Section(
        title=f"FileDisclosure through gRPC ({sizes.commands:,} commands, "
              f"{sizes.callers} concurrent callers) — server inside the bench's process "
              "unless the figure says `own process`",
        figures=[*disclosure, trivial, *own, *storage],
        ratios=RATIOS,
        notes=[*placement_notes(sizes), note, *own_notes],
    )
