"""Progress of the chaos run: a bar with the commands done, the rate, an ETA and the chaos so
far (rich), on a terminal; under CI (`CI` set) or without a terminal only a line per
phase, so a test's or a pipeline's log stays short."""

from __future__ import annotations

import os
import sys
import time
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


def quiet() -> bool:
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


class Display:
    def __init__(self, total: int, *, force_quiet: bool = False) -> None:
        self.quiet = force_quiet or quiet()
        self.started = time.monotonic()
        self.console = Console(stderr=True, highlight=False)
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self.total = total

    def __enter__(self) -> Display:
        if not self.quiet:
            self._progress = Progress(
                TextColumn("[bold]chaos[/bold] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[chaos]}"),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("commands", total=self.total, rate="", chaos="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, done: int, chaos: str) -> None:
        if self._progress is None or self._task is None:
            return
        elapsed = max(0.001, time.monotonic() - self.started)
        self._progress.update(
            self._task, completed=min(done, self.total), rate=f"{done / elapsed:.0f}/s", chaos=chaos
        )

    def phase(self, text: str) -> None:
        """One line, whatever the mode: what the run is doing now, with its time."""
        line = f"chaos [{time.monotonic() - self.started:6.1f} s] {text}"
        if self._progress is not None:
            self._progress.console.print(line)
        else:
            print(line, file=sys.stderr, flush=True)
