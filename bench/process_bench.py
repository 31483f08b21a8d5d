"""Measurement 2, servers in their own processes: the disclosure API as it is deployed
(`python -m disclosure api`, with 1 and with 2 api workers) and the trivial Ping server
(`python -m bench.trivial_server`), each started as its own OS process. The bench's process
is then only the client: 50 callers spread round-robin over 4 grpc.aio channels, each
channel its own TCP connection.

After the timed run, the 1-worker API also takes the realistic peak (`peak`): a province's
20,000 communities all filing in the deadline's last hour (5.6 filings/s), arriving at
random (Poisson, seeded) rather than as fast as 50 callers can send, each call's latency
counted from its arrival, so that waiting for a busy server is in it.

Every server is stopped (SIGTERM, SIGKILL after 20 s) and every scratch database dropped on
the way out, also when a measurement fails half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any, NoReturn

import grpc
import psutil  # type: ignore[import-untyped]  # psutil ships no type information
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.disclosure_data import (
    IDENTITY_METADATA,
    TIMEOUT,
    CommandData,
    Filing,
    filer,
    register_all,
)
from bench.infra import kafka_bootstrap, scratch_database
from bench.load import Call, LoadResult, drive_callers
from bench.machine import ROOT
from bench.report import Figure
from bench.stopwatch import Stopwatch
from bench.trivial_grpc import METHOD
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc

CHANNELS = 4
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
"""Channels to one target otherwise share grpc's global subchannel pool: one connection."""
READY_SECONDS = 60.0
PROBE_SECONDS = 2.0
STOP_SECONDS = 20.0
DISCLOSURE_SERVICE = pb.DESCRIPTOR.services_by_name["DisclosureService"].full_name
CMD_UNIT = "commands/s"
PROVINCE_COMMUNITIES = 20_000
"""A province's communities (Fujian's order of magnitude), each filing once a quarter."""
PEAK_WINDOW_SECONDS = 3_600.0
"""All of them in the deadline's last hour: the issue's 'last day' read harshly (24 times the
mean rate of a day), the crowd that waits for the last moment."""
PEAK_FILINGS = 120
"""Filings sent at the peak's rate (about 21 s of it)."""
RPC_UNIT = "calls/s"

Probe = Callable[[grpc.aio.Channel], Awaitable[bool]]


@dataclass(frozen=True)
class Plan:
    commands: int
    warm_up: int
    callers: int
    trivial_calls: int
    channels: int = CHANNELS


# -- server processes -----------------------------------------------------------------------


@dataclass
class ServerProcess:
    """A server the bench started: its process, port and output, and every process of its
    tree seen so far (the api role starts its extra workers as children)."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    output: IO[bytes]
    seen: dict[int, Any] = field(default_factory=dict)

    def tree(self) -> list[Any]:
        """The process and its descendants now (psutil.Process each)."""
        try:
            root = psutil.Process(self.popen.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for process in processes:
            self.seen.setdefault(process.pid, process)
        return processes

    def listening(self) -> int:
        """How many of its processes listen on its port."""
        return sum(1 for p in self.tree() if sockets(p, self.port, psutil.CONN_LISTEN))

    def output_tail(self, lines: int = 40) -> str:
        """The end of what it wrote to stdout and stderr (both go to one file)."""
        fd = self.output.fileno()
        text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:]) or "(nothing)"


def sockets(process: Any, port: int, status: str) -> int:
    """TCP sockets of `process` on local `port` in `status` (a psutil.CONN_* constant)."""
    try:
        connections = process.net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0
    return sum(1 for c in connections if c.status == status and c.laddr and c.laddr.port == port)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(argv: Sequence[str], env: dict[str, str], output: IO[bytes]) -> subprocess.Popen[bytes]:
    """In a session of its own: a Ctrl-C on the bench reaches the bench only, which then
    stops the server in order."""
    return subprocess.Popen(  # noqa: S603  # our own interpreter and module, no shell
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def fail(server: ServerProcess, why: str) -> NoReturn:
    print(
        f"bench: {server.name} {why}; its output ends with:\n{server.output_tail()}",
        file=sys.stderr,
    )
    raise RuntimeError(f"{server.name} {why} (its output is printed above)")


async def probe_fresh(port: int, probe: Probe, times: int) -> bool:
    """`probe` on `times` new connections, all must answer: with several processes on the
    port, the kernel hands new connections to each of them."""
    for _ in range(times):
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=CHANNEL_OPTIONS
        ) as channel:
            try:
                if not await probe(channel):
                    return False
            except grpc.aio.AioRpcError:
                return False
    return True


async def wait_ready(server: ServerProcess, probe: Probe, processes: int) -> None:
    """Until `processes` processes listen on the port and `probe` succeeds on fresh
    connections; fails with the server's output if it exits or READY_SECONDS pass."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            fail(server, f"exited with status {server.popen.returncode} before it was ready")
        if server.listening() >= processes and await probe_fresh(server.port, probe, 2 * processes):
            return
        await asyncio.sleep(0.2)
    fail(server, f"was not ready within {READY_SECONDS:.0f} s")


def alive(process: Any) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait_gone(processes: Sequence[Any], seconds: float) -> list[Any]:
    """Those of `processes` still alive after up to `seconds`."""
    deadline = time.monotonic() + seconds
    left = [p for p in processes if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


def stop_server(server: ServerProcess) -> None:
    """SIGTERM to the server, which stops its own workers; up to STOP_SECONDS for it to
    exit, then SIGKILL. Workers still alive after that get the same treatment."""
    server.tree()  # remember the workers before the main process stops them
    popen = server.popen
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(
                f"bench: {server.name} ignored SIGTERM for {STOP_SECONDS:.0f} s; killed",
                file=sys.stderr,
            )
            popen.kill()
            popen.wait()
    left = wait_gone([p for pid, p in server.seen.items() if pid != popen.pid], STOP_SECONDS)
    for process in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    killed = wait_gone(left, STOP_SECONDS)
    for process in killed:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    wait_gone(killed, 5.0)
    # Anything it started that the bench never saw is still in the session it leads.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def server_process(
    name: str, argv: Sequence[str], env: dict[str, str], port: int, probe: Probe, processes: int = 1
) -> AsyncIterator[ServerProcess]:
    """The server started and ready; stopped on the way out, whatever happened."""
    with tempfile.TemporaryFile() as output:
        server = ServerProcess(name, spawn(argv, env, output), port, output)
        try:
            await wait_ready(server, probe, processes)
            yield server
        finally:
            stop_server(server)


# -- CPU of the server's processes ----------------------------------------------------------


def cpu_seconds(process: Any) -> float | None:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return None
    return float(times.user + times.system)


@dataclass(frozen=True)
class ProcessShare:
    pid: int
    role: str
    cpu_percent: float
    """% of one core over the timed loop."""
    connections: int
    """Established connections on the server's port when the loop ended."""


class ServerCpu:
    """`with ServerCpu(server) as cpu: ...`: CPU each of the server's processes used during
    the block (`cpu.shares`) and their sum (`cpu.total_percent`)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.shares: list[ProcessShare] = []
        self._start: dict[int, tuple[Any, float | None]] = {}
        self._wall = 0.0

    def __enter__(self) -> ServerCpu:
        self._start = {p.pid: (p, cpu_seconds(p)) for p in self.server.tree()}
        self._wall = time.perf_counter()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        seconds = max(time.perf_counter() - self._wall, 1e-9)
        shares = []
        for pid, (process, before) in self._start.items():
            after = cpu_seconds(process)
            if before is None or after is None:
                continue
            role = "main" if pid == self.server.popen.pid else "worker"
            shares.append(
                ProcessShare(
                    pid,
                    role,
                    100 * (after - before) / seconds,
                    sockets(process, self.server.port, psutil.CONN_ESTABLISHED),
                )
            )
        self.shares = shares

    @property
    def total_percent(self) -> float:
        return sum(share.cpu_percent for share in self.shares)

    def note(self, what: str, channels: int) -> str:
        parts = "; ".join(
            f"pid {s.pid} ({s.role}) {s.cpu_percent:.0f}% CPU, {s.connections} connection(s)"
            for s in self.shares
        )
        counts = [s.connections for s in self.shares]
        remarks = []
        if sum(counts) != channels:
            remarks.append(f"{sum(counts)} connections seen, {channels} opened")
        if len(counts) > 1 and max(counts) - min(counts) > 1:
            remarks.append(
                "UNEVEN: the kernel put the connections "
                + "/".join(map(str, counts))
                + " on the processes"
            )
        remark = f" — {'; '.join(remarks)}" if remarks else ""
        return f"{what}: {parts}{remark}"


# -- load over several connections ----------------------------------------------------------


@contextlib.asynccontextmanager
async def open_channels(port: int, count: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    """`count` channels to the port, each its own TCP connection, connected."""
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        for _ in range(count)
    ]
    try:
        await asyncio.gather(*(asyncio.wait_for(c.channel_ready(), TIMEOUT) for c in channels))
        yield channels
    finally:
        await asyncio.gather(*(c.close() for c in channels))


async def drive_spread(
    channels: Sequence[grpc.aio.Channel],
    call_on: Callable[[grpc.aio.Channel], Call],
    count: int,
    callers: int,
) -> LoadResult:
    """`count` calls by `callers` callers, caller k on channel k mod len(channels)."""
    calls = [call_on(channel) for channel in channels]
    return await drive_callers(lambda k: calls[k % len(calls)], count, callers)


async def paced(
    channels: Sequence[grpc.aio.Channel],
    call_on: Callable[[grpc.aio.Channel], Call],
    count: int,
    rate: float,
    seed: int = 14,
) -> LoadResult:
    """`count` calls arriving at random (exponential gaps, mean rate `rate`/s, seeded), each
    sent at its arrival however many are in flight (an open loop, unlike `drive_spread`);
    its latency counts from the arrival. Failures are re-raised as in `drive`."""
    calls = [call_on(channel) for channel in channels]
    gaps = random.Random(seed)  # noqa: S311  # arrival times of a bench, no secret
    latencies: list[float] = []
    errors: list[BaseException] = []

    async def arrive(index: int, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            await calls[index % len(calls)](index)
        except Exception as error:
            errors.append(error)
            return
        latencies.append(time.perf_counter() - due)

    with Stopwatch() as watch:
        due = time.perf_counter()
        arrivals = []
        for index in range(count):
            due += gaps.expovariate(rate)
            arrivals.append(arrive(index, due))
        await asyncio.gather(*arrivals)
    if errors:
        raise RuntimeError(f"{len(errors)} of {count} calls failed; first: {errors[0]!r}")
    return LoadResult(count, watch.timing, latencies)


async def timed(
    server: ServerProcess,
    channels: Sequence[grpc.aio.Channel],
    call_on: Callable[[grpc.aio.Channel], Call],
    count: int,
    callers: int,
) -> tuple[LoadResult, ServerCpu]:
    with ServerCpu(server) as cpu:
        result = await drive_spread(channels, call_on, count, callers)
    return result, cpu


# -- the disclosure API in its own process --------------------------------------------------


async def disclosure_ready(channel: grpc.aio.Channel) -> bool:
    """SERVING for the disclosure service itself: set once its gRPC server has started."""
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=DISCLOSURE_SERVICE)
    response = await stub.Check(request, metadata=IDENTITY_METADATA, timeout=PROBE_SECONDS)
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def clean_environment() -> dict[str, str]:
    """This process's environment without settings meant for a service (`PUBREV_*`,
    DATABASE_URL, KAFKA_BOOTSTRAP): the bench sets those of its servers itself."""
    own = ("DATABASE_URL", "KAFKA_BOOTSTRAP")
    return {k: v for k, v in os.environ.items() if not k.startswith("PUBREV_") and k not in own}


def disclosure_environment(database_url: str, port: int, workers: int) -> dict[str, str]:
    return {
        **clean_environment(),
        "DATABASE_URL": database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "PUBREV_GRPC_PORT": str(port),
        "PUBREV_DEV_IDENTITY_HEADER": "true",
        "PUBREV_LOG_LEVEL": "WARNING",
        "KAFKA_BOOTSTRAP": kafka_bootstrap(),
        "PUBREV_API_WORKERS": str(workers),
    }


def filer_on(filings: Sequence[Filing]) -> Callable[[grpc.aio.Channel], Call]:
    return lambda channel: filer(pb_grpc.DisclosureServiceStub(channel), filings)


async def disclosure_process(
    workers: int, plan: Plan, data: CommandData, peak: bool = False
) -> tuple[list[Figure], str]:
    """FileDisclosure against `python -m disclosure api` with `workers` api processes, on a
    fresh database with the companies and communities registered anew (a (community,
    quarter) is filed once per database): the first warm-up and timed filings of `data`, the
    very slices the API in the bench's process files. With `peak`, then the next
    PEAK_FILINGS at the province's deadline peak (`paced`): a second figure."""
    end = plan.warm_up + plan.commands
    needed = end + (PEAK_FILINGS if peak else 0)
    if len(data.filings) < needed:
        raise ValueError(f"{len(data.filings):,} filings for a run needing {needed:,}")
    warm, measured = data.filings[: plan.warm_up], data.filings[plan.warm_up : end]
    rate = PROVINCE_COMMUNITIES / PEAK_WINDOW_SECONDS
    peaked: LoadResult | None = None
    plural = "worker" if workers == 1 else "workers"
    label = (
        f"FileDisclosure, API in its own process ({workers} {plural}), "
        f"{plan.callers} callers over {plan.channels} channels"
    )
    with scratch_database(f"proc{workers}") as url:
        port = free_port()
        argv = [sys.executable, "-m", "disclosure", "api"]
        env = disclosure_environment(url, port, workers)
        async with (
            server_process(
                f"disclosure api ({workers} {plural}, port {port})",
                argv,
                env,
                port,
                disclosure_ready,
                processes=workers,
            ) as server,
            open_channels(port, plan.channels) as channels,
        ):
            await register_all(channels[0], data, plan.callers)
            await drive_spread(channels, filer_on(warm), len(warm), plan.callers)
            result, cpu = await timed(
                server, channels, filer_on(measured), len(measured), plan.callers
            )
            if peak:
                at_peak = data.filings[end:needed]
                peaked = await paced(channels, filer_on(at_peak), len(at_peak), rate)
    figure = result.figure(f"file_proc{workers}", label, CMD_UNIT)
    figures = [dataclasses.replace(figure, server_cpu_percent=cpu.total_percent)]
    if peaked is not None:
        peak_label = (
            f"FileDisclosure at the deadline peak, {rate:.1f}/s random arrivals, "
            f"own process ({workers} {plural})"
        )
        figures.append(
            dataclasses.replace(peaked.figure("file_peak", peak_label, CMD_UNIT), latency_only=True)
        )
    note = cpu.note(f"disclosure api, {workers} {plural}", plan.channels)
    if peaked is not None:
        note += (
            f"; then the deadline peak: {PROVINCE_COMMUNITIES:,} communities filing in the "
            f"last hour = {rate:.1f}/s, {PEAK_FILINGS} filings at exponential gaps (seeded), "
            "each sent at its arrival, its latency counted from the arrival"
        )
    return figures, note


# -- the trivial server in its own process --------------------------------------------------


def pinger(channel: grpc.aio.Channel) -> Call:
    ping: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(METHOD)

    async def call(_: int) -> None:
        await ping(b"ping", timeout=TIMEOUT)

    return call


async def trivial_ready(channel: grpc.aio.Channel) -> bool:
    ping: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(METHOD)
    return await ping(b"ping", timeout=PROBE_SECONDS) == b"pong"


async def trivial_process(plan: Plan) -> tuple[Figure, str]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.trivial_server", "--port", str(port)]
    async with (
        server_process(
            f"trivial server (port {port})", argv, clean_environment(), port, trivial_ready
        ) as server,
        open_channels(port, plan.channels) as channels,
    ):
        await drive_spread(channels, pinger, plan.callers * 4, plan.callers)
        result, cpu = await timed(server, channels, pinger, plan.trivial_calls, plan.callers)
    label = (
        f"trivial grpc.aio unary (bytes), own process, {plan.callers} callers over "
        f"{plan.channels} channels"
    )
    figure = dataclasses.replace(
        result.figure("trivial_proc", label, RPC_UNIT), server_cpu_percent=cpu.total_percent
    )
    return figure, cpu.note("trivial server", plan.channels)


async def process_figures(plan: Plan, data: CommandData) -> tuple[list[Figure], list[str]]:
    """FileDisclosure with 1 and 2 api workers, then the trivial baseline, each server its
    own process; one note per run on its processes' CPU and connections."""
    one, one_note = await disclosure_process(1, plan, data, peak=True)
    two, two_note = await disclosure_process(2, plan, data)
    trivial, trivial_note = await trivial_process(plan)
    return [*one, *two, trivial], [one_note, two_note, trivial_note]
