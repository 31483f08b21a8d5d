"""Drives N calls through K concurrent callers and times them."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bench.report import Figure, percentile
from bench.stopwatch import Stopwatch, Timing

Call = Callable[[int], Awaitable[object]]


@dataclass(frozen=True)
class LoadResult:
    count: int
    timing: Timing
    latencies: list[float]
    """Seconds per call, in completion order."""

    def figure(self, key: str, label: str, unit: str) -> Figure:
        return Figure(
            key=key,
            label=label,
            count=self.count,
            timing=self.timing,
            unit=unit,
            p50_ms=percentile(self.latencies, 0.50) * 1000,
            p99_ms=percentile(self.latencies, 0.99) * 1000,
        )


async def drive(call: Call, count: int, callers: int) -> LoadResult:
    """Calls `call(0)` … `call(count - 1)`, at most `callers` at a time.

    Every failure is collected and the first re-raised at the end: a bench in which calls
    fail measures something else than it claims.
    """
    return await drive_callers(lambda _: call, count, callers)


async def drive_callers(call_of: Callable[[int], Call], count: int, callers: int) -> LoadResult:
    """As `drive`, caller number k (0 … callers - 1) making its calls with `call_of(k)`:
    e.g. callers spread round-robin over several channels."""
    indexes = itertools.count()
    latencies: list[float] = []
    errors: list[BaseException] = []

    async def caller(call: Call) -> None:
        while (index := next(indexes)) < count:
            started = time.perf_counter()
            try:
                await call(index)
            except Exception as error:
                errors.append(error)
                continue
            latencies.append(time.perf_counter() - started)

    with Stopwatch() as watch:
        await asyncio.gather(*(caller(call_of(k)) for k in range(callers)))
    if errors:
        raise RuntimeError(f"{len(errors)} of {count} calls failed; first: {errors[0]!r}")
    return LoadResult(count, watch.timing, latencies)


def run_sequentially(calls: Iterable[Callable[[], object]]) -> LoadResult:
    """Blocking calls one after the other, in the calling thread."""
    latencies: list[float] = []
    with Stopwatch() as watch:
        for call in calls:
            started = time.perf_counter()
            call()
            latencies.append(time.perf_counter() - started)
    return LoadResult(len(latencies), watch.timing, latencies)


async def warm_up(call: Call, count: int, callers: int) -> None:
    """Untimed calls first: connections, caches and code paths are then warm."""
    await drive(call, count, callers)
