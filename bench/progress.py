"""Progress of `make bench`: a bar per step with its rate and ETA (rich) on a terminal; under
CI (`CI` set) or without a terminal, one line per step when it ends, so a log stays short.

Steps whose size is known (events written, read, rebuilt) get a bar; the others (a command
run, a baseline) a line with their time. Everything goes to stderr: stdout keeps the table.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]
"""Called with how many of the step's items are done so far."""


def quiet() -> bool:
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


class BenchProgress:
    def __init__(self, *, force_quiet: bool = False) -> None:
        self.quiet = force_quiet or quiet()
        self.started = time.monotonic()
        self.console = Console(stderr=True, highlight=False)
        self._progress: Progress | None = None

    def __enter__(self) -> BenchProgress:
        if not self.quiet:
            self._progress = Progress(
                TextColumn("[bold]bench[/bold] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def line(self, text: str) -> None:
        """One line, whatever the mode, with the time since the bench started."""
        line = f"bench [{time.monotonic() - self.started:7.1f} s] {text}"
        if self._progress is not None:
            self._progress.console.print(line)
        else:
            print(line, file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """A step of the bench: a bar when `total` is known; a line when it ends."""
        began = time.monotonic()
        task: TaskID | None = None
        if self._progress is not None and total:
            task = self._progress.add_task(description, total=total, rate="")

        def advance(done: int) -> None:
            if self._progress is None or task is None:
                return
            elapsed = max(time.monotonic() - began, 1e-3)
            self._progress.update(
                task, completed=min(done, total or done), rate=f"{done / elapsed:,.0f}/s"
            )

        try:
            yield advance
        finally:
            if self._progress is not None and task is not None:
                self._progress.remove_task(task)
            self.line(f"{description}: {time.monotonic() - began:.1f} s")


NO_PROGRESS = BenchProgress(force_quiet=True)
"""For callers that want no display (tests): steps still print their one line."""
