"""Wall time, this process's CPU time and the whole host's busy time of one timed loop.

The CPU figures say whether a rate is bound by this Python process (its CPU near 100% of
one core: the GIL lets it use little more) or by the machine (host near 100% of all cores),
or by neither (waiting on something: locks, round trips, a broker).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PROC_STAT = Path("/proc/stat")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def host_busy_seconds() -> float | None:
    """CPU seconds all cores spent not idle since boot (Linux), None elsewhere."""
    try:
        first = PROC_STAT.read_text("ascii").splitlines()[0]
    except OSError:
        return None
    ticks = [int(n) for n in first.split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / TICKS_PER_SECOND


@dataclass(frozen=True)
class Timing:
    seconds: float
    cpu_seconds: float
    """CPU time of this process, all its threads."""
    host_busy_seconds: float | None
    """CPU time of the whole machine (every process, every core); None off Linux."""

    @property
    def cpu_percent(self) -> float:
        """This process's CPU, in % of one core."""
        return 100 * self.cpu_seconds / max(self.seconds, 1e-9)

    @property
    def host_percent(self) -> float | None:
        """The machine's CPU, in % of all its cores."""
        if self.host_busy_seconds is None:
            return None
        cores = os.cpu_count() or 1
        return 100 * self.host_busy_seconds / max(self.seconds, 1e-9) / cores


class Stopwatch:
    """`with Stopwatch() as watch: ...` then `watch.timing`."""

    def __init__(self) -> None:
        self._wall = self._cpu = 0.0
        self._host: float | None = None
        self.timing = Timing(0.0, 0.0, None)

    def __enter__(self) -> Stopwatch:
        self._host = host_busy_seconds()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        seconds = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        host_now = host_busy_seconds()
        host = None if host_now is None or self._host is None else host_now - self._host
        self.timing = Timing(seconds, cpu, host)
