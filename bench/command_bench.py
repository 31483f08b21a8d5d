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
    STRIDE,
    TIMEOUT,
    CommandData,
    Filing,
    all_late,
    command_data,
    file_refused,
    filer,
    kinds,
    register_all,
    source_note,
    to_command,
)
from bench.infra import disclosure_settings, scratch_database
from bench.load import drive, run_sequentially, warm_up
from bench.process_bench import (
    CHANNELS,
    CMD_UNIT,
    PEAK_FILINGS,
    RPC_UNIT,
    Plan,
    process_figures,
)
from bench.query_bench import RATIOS as QUERY_RATIOS
from bench.query_bench import query_figures
from bench.report import Figure, Ratio, Section
from bench.storage_baselines import asyncpg_concurrent, asyncpg_sequential, es_save
from bench.trivial_grpc import METHOD, trivial_server
from disclosure.application.app import DisclosureApplication
from disclosure.bootstrap import build
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
    queries: int = 2_000
    """ListDisclosures calls, and each read baseline's (bench.query_bench)."""

    @property
    def filings(self) -> int:
        """Filings the database of the API in the bench's process takes (the most of any;
        the API in its own process takes warm-up, gRPC and the peak's PEAK_FILINGS)."""
        return max(
            self.warm_up + self.commands + 2 * self.in_process,
            self.warm_up + self.commands + PEAK_FILINGS,
        )


@dataclass(frozen=True)
class Workload:
    """Disjoint slices of the generated filings, one per run on the same database: a
    (community, quarter) is filed once. The API in its own process files the same first
    two slices, each on a fresh database of its own (`process_bench`)."""

    warm_up: Sequence[Filing]
    grpc: Sequence[Filing]
    concurrent: Sequence[Filing]
    sequential: Sequence[Filing]

    @classmethod
    def split(cls, filings: Sequence[Filing], sizes: Sizes) -> Workload:
        a = sizes.warm_up
        b = a + sizes.commands
        c = b + sizes.in_process
        d = c + sizes.in_process
        if len(filings) < d:
            raise ValueError(f"{len(filings):,} filings for runs needing {d:,}")
        return cls(filings[:a], filings[a:b], filings[b:c], filings[c:d])


async def grpc_file_disclosure(
    channel: grpc.aio.Channel, workload: Workload, sizes: Sizes
) -> Figure:
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
    return result.figure("health", "health Check on that server (servicekit interceptor)", RPC_UNIT)


async def in_process_concurrent(
    app: DisclosureApplication, filings: Sequence[Filing], callers: int
) -> Figure:
    async def call(index: int) -> None:
        filing = filings[index]
        await asyncio.to_thread(app.handle, filing.identity, to_command(filing.request))

    result = await drive(call, len(filings), callers)
    return result.figure(
        "in_process",
        f"FileDisclosure in-process via asyncio.to_thread, {callers} callers",
        CMD_UNIT,
    )


def in_process_sequential(app: DisclosureApplication, filings: Sequence[Filing]) -> Figure:
    result = run_sequentially(
        functools.partial(app.handle, filing.identity, to_command(filing.request))
        for filing in filings
    )
    return result.figure("in_process_1", "FileDisclosure in-process, 1 thread sequential", CMD_UNIT)


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


async def disclosure_figures(sizes: Sizes, data: CommandData) -> tuple[list[Figure], list[str]]:
    """The command path and its decomposition, against one running disclosure API."""
    workload = Workload.split(data.filings, sizes)
    with scratch_database("disclosure") as url:
        async with running_disclosure(url) as (app, port):
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await register_all(channel, data, sizes.callers)
                refused = await file_refused(channel, data.refused, sizes.callers)
                before = await stored_events(app)
                file = await grpc_file_disclosure(channel, workload, sizes)
                after = await stored_events(app)
                health = await grpc_health(channel, sizes)
                queries = await query_figures(
                    channel,
                    url,
                    [*workload.warm_up, *workload.grpc],
                    sizes.queries,
                    sizes.callers,
                )
            concurrent = await in_process_concurrent(app, workload.concurrent, sizes.callers)
            sequential = await asyncio.to_thread(in_process_sequential, app, workload.sequential)
    written = (after - before) / (sizes.warm_up + sizes.commands)
    notes = [
        f"refused by design: the {refused:,} `inconsistent` filings of these communities, sent "
        "apart (untimed) before the warm-up, all failed INVALID_ARGUMENT (identity_broken)",
        f"stored events per FileDisclosure: {written:.2f} (the filing and its command "
        "receipt, one transaction under the event table's EXCLUSIVE lock)",
    ]
    return [file, health, *queries, concurrent, sequential], notes


async def trivial_grpc(sizes: Sizes) -> Figure:
    async with trivial_server() as port, grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        ping: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = ch.unary_unary(METHOD)

        async def call(_: int) -> None:
            await ping(b"ping", timeout=TIMEOUT)

        await warm_up(call, sizes.callers * 4, sizes.callers)
        result = await drive(call, sizes.trivial_calls, sizes.callers)
    return result.figure(
        "trivial", f"trivial grpc.aio unary (bytes), {sizes.callers} callers", RPC_UNIT
    )


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
    Ratio(
        "own process: FileDisclosure (1 worker) ÷ trivial (own process)",
        "file_proc1",
        "trivial_proc",
        goal=0.5,
    ),
    Ratio("own process: FileDisclosure 2 workers ÷ 1 worker", "file_proc2", "file_proc1", goal=1.6),
    Ratio(
        "own process: FileDisclosure (2 workers) ÷ trivial (own process)",
        "file_proc2",
        "trivial_proc",
    ),
    Ratio(
        "FileDisclosure: API in its own process (1 worker) ÷ in the bench's process",
        "file_proc1",
        "file",
    ),
    Ratio(
        "trivial gRPC: server in its own process ÷ in the bench's process",
        "trivial_proc",
        "trivial",
    ),
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


def workload_notes(sizes: Sizes, data: CommandData) -> list[str]:
    units = len({c.unit for c in data.communities})
    lateness = (
        "so the service records every one late: filed now, after all their deadlines"
        if all_late(data.filings)
        else "the service judges lateness by its own clock"
    )
    return [
        source_note(),
        f"per database, untimed, through the API: all {len(data.companies):,} companies "
        f"({data.flagged_companies} with source=official_registry, kept flagged), then "
        f"{len(data.communities):,} communities (every {STRIDE}th of the dataset first; "
        f"{units} units)",
        f"FileDisclosure: their valid filings in the generator's time order, a disjoint slice "
        f"per run — in the bench's process warm-up {sizes.warm_up:,}, gRPC {sizes.commands:,}, "
        f"in-process {sizes.in_process:,} + {sizes.in_process:,} on one database; own process: "
        f"the same warm-up and gRPC slices on a fresh database each; kinds of the "
        f"{len(data.filings):,}: {kinds(data.filings)} (the generator's filed_at is not sent, "
        f"{lateness})",
    ]


async def command_section(sizes: Sizes | None = None) -> Section:
    sizes = sizes or Sizes()
    data = command_data(sizes.filings)
    disclosure, disclosure_notes = await disclosure_figures(sizes, data)
    trivial = await trivial_grpc(sizes)
    own, own_notes = await process_figures(
        Plan(
            commands=sizes.commands,
            warm_up=sizes.warm_up,
            callers=sizes.callers,
            trivial_calls=sizes.trivial_calls,
        ),
        data,
    )
    storage = await storage_figures(sizes)
    return Section(
        key="commands",
        title=f"FileDisclosure through gRPC ({sizes.commands:,} commands, "
        f"{sizes.callers} concurrent callers) — server inside the bench's process "
        "unless the figure says `own process`",
        figures=[*disclosure, trivial, *own, *storage],
        ratios=[*RATIOS, *QUERY_RATIOS],
        notes=[
            *workload_notes(sizes, data),
            *placement_notes(sizes),
            *disclosure_notes,
            *own_notes,
        ],
    )
