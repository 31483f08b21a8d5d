"""The queries that read the read model are coroutines (issue 14 goal 7), the others are
not: a table of calls holding both awaits the answer of the former."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


async def answer(value: Any) -> Any:
    """What a call gave, awaited if it was a coroutine."""
    if inspect.isawaitable(value):
        return await value
    return value


def run(value: Any) -> Any:
    """What a call gave, a coroutine run to its end on a loop of its own: for the sync
    harnesses (tests.support.authz.run_matrix calls each invoker and takes its answer)."""
    if inspect.iscoroutine(value):
        return asyncio.run(value)
    return value
