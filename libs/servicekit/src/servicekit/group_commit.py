"""Group commit: concurrent commands share one database transaction.

Saving each command on its own caps the command path near 650/s on two cores (one insert,
one commit, one table lock each). Commands are queued here; one committer takes whatever
is waiting, up to `max_group`, decides each in a worker thread and commits the group in a
single transaction. Under load the groups grow by themselves; alone, a command waits for no
one. Deciding in the committer's thread (not in a thread of its own per command) saves the
event loop a thread hop per command, which is where a CPU-bound API spends its time. The
aggregates the group's commands only read (named by each command's `reads`) are read in one
query before the group is decided (`ServiceApplication.preread`), not one round trip per
command one after another (ADR 0019). A conflict in a group falls back to committing its
commands one by one, so only the conflicting command fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from servicekit.eventstore import Prepared, ServiceApplication

Decide = Callable[[], Any]
"""Decides one command: its `Prepared` events, or a repeated request's remembered result."""
_Item = tuple[Decide, tuple[uuid.UUID, ...], asyncio.Future[Any]]


class GroupCommitter:
    def __init__(self, app: ServiceApplication, max_group: int = 200) -> None:
        self.app = app
        self.max_group = max_group
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self.groups = 0
        self.commands = 0

    async def commit(self, prepared: Any) -> Any:
        """The result once `prepared` (decided already) is committed."""
        if not isinstance(prepared, Prepared):
            return prepared
        return await self.run(lambda: prepared)

    async def run(self, decide: Decide, reads: Iterable[uuid.UUID] = ()) -> Any:
        """Decides (in the committer's worker thread) and commits a command with the
        others waiting; its result, or its error. `reads`: the aggregates the decision
        reads without changing them (`find(..., read_only=True)`), read with the group's."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._loop(self._queue))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((decide, tuple(reads), future))
        return await future

    async def _loop(self, queue: asyncio.Queue[_Item]) -> None:
        # A group is decided while the group before it commits: the commit mostly waits on
        # PostgreSQL (the GIL released), the decisions are Python, so the two overlap
        # instead of taking turns. Deciding before the previous group is committed is what
        # two commands in threads of their own do anyway: a conflict is still found at
        # commit (unique versions), and commits stay one at a time, in order, so a repeat
        # decided meanwhile finds its first request's receipt when its own commit fails.
        committing: asyncio.Task[None] | None = None
        try:
            while True:
                group = [await queue.get()]
                while len(group) < self.max_group and not queue.empty():
                    group.append(queue.get_nowait())
                try:
                    outcomes, prepared = await asyncio.to_thread(
                        self._decide_group,
                        [decide for decide, _, _ in group],
                        [i for _, reads, _ in group for i in reads],
                    )
                except Exception as error:  # the database itself failed: every command fails
                    self._settle(group, [error] * len(group))
                    continue
                if not prepared:  # refused or repeated, all of them: nothing to commit
                    self._settle(group, outcomes)
                    continue
                if committing is not None:
                    await committing
                committing = asyncio.create_task(self._commit(group, outcomes, prepared))
        finally:
            if committing is not None and not committing.done():
                committing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await committing

    async def _commit(
        self, group: list[_Item], outcomes: list[Any], prepared: list[Prepared]
    ) -> None:
        try:
            committed = iter(await asyncio.to_thread(self.app.commit_group, prepared))
            results = [next(committed) if o is None else o for o in outcomes]
        except Exception as error:  # the database itself failed: every command fails
            results = [error] * len(group)
        self._settle(group, results)

    def _settle(self, group: list[_Item], outcomes: list[Any]) -> None:
        self.groups += 1
        self.commands += len(group)
        for (_, _, future), outcome in zip(group, outcomes, strict=True):
            if future.done():
                continue  # the caller went away (cancelled RPC)
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _decide_group(
        self, decisions: list[Decide], reads: list[uuid.UUID]
    ) -> tuple[list[Any], list[Prepared]]:
        """Each decision's outcome (None: its events are in `prepared`, still to commit)."""
        with self.app.preread(reads):
            return self._decide(decisions)

    @staticmethod
    def _decide(decisions: list[Decide]) -> tuple[list[Any], list[Prepared]]:
        outcomes: list[Any] = []
        prepared: list[Prepared] = []
        for decide in decisions:
            try:
                decided = decide()
            except Exception as error:
                # Refused (a rule, a bad request, a missing calendar year) or a bug: that
                # command fails alone, the others of the group go on.
                outcomes.append(error)
                continue
            if isinstance(decided, Prepared):
                outcomes.append(None)
                prepared.append(decided)
            else:
                outcomes.append(decided)  # a repeated request: its first result
        return outcomes, prepared

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
