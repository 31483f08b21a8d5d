"""The callers' side: one gRPC call, retried with its request_id as a careful client does.

A call answered UNAVAILABLE (the api killed, restarting, or its database or broker away),
DEADLINE_EXCEEDED (no answer in time: it may have been carried out) or ABORTED (a concurrent
change won) is sent again, unchanged, after a pause that doubles up to 2 s, until it gets
another answer or the command's budget runs out (then it is *unresolved*). Any other answer
is the command's outcome. Every attempt and its code is counted, so the report can say how
often callers had to retry and why.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from tools.chaos.commands import Metadata

RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)
NOT_SPECIFIC = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})
"""Answers that tell a caller nothing about its request (and not whether it was done)."""
CALL_TIMEOUT = 20.0
"""Per attempt: a loaded 2-core machine with roles restarting answers slowly, not never."""
CHANNEL_OPTIONS = [
    ("grpc.use_local_subchannel_pool", 1),
    # A killed api is back in seconds: reconnect quickly instead of backing off to 2 minutes.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
]


@dataclass
class Answer:
    code: grpc.StatusCode
    reply: Any = None
    details: str = ""
    attempts: int = 1
    trailers_size: int = 0

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK


@dataclass
class CallStats:
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(rpc, final code) → commands."""
    retries: Counter[str] = field(default_factory=Counter)
    """Code of each attempt that was retried → attempts."""
    not_specific: list[tuple[str, str, str]] = field(default_factory=list)
    """(rpc, code, details prefix) of each INTERNAL/UNKNOWN answer."""
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    """(rpc, request_id) of each command without an answer within its budget."""

    def commands(self) -> int:
        return sum(self.outcomes.values())


Stub = Callable[..., Awaitable[Any]]


class Caller:
    """Sends calls to the four services over a few channels each (callers share them)."""

    def __init__(
        self,
        ports: Mapping[str, int],
        stubs: Mapping[str, Callable[[grpc.aio.Channel], Any]],
        channels_per_service: int = 2,
        budget: float = 600.0,
    ) -> None:
        self.budget = budget
        self.stats = CallStats()
        self._channels = {
            service: [
                grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
                for _ in range(channels_per_service)
            ]
            for service, port in ports.items()
        }
        self._stubs = {
            service: [stubs[service](c) for c in channels]
            for service, channels in self._channels.items()
        }
        self._admin = {
            service: [stubs["admin"](c) for c in channels]
            for service, channels in self._channels.items()
        }
        self._rng = random.Random()  # noqa: S311 (jitter)

    async def close(self) -> None:
        for channels in self._channels.values():
            for channel in channels:
                await channel.close()

    def stub(self, service: str, admin: bool = False) -> Any:
        stubs = (self._admin if admin else self._stubs)[service]
        return stubs[self._rng.randrange(len(stubs))]

    async def call(
        self,
        service: str,
        rpc: str,
        request: Any,
        metadata: Metadata,
        *,
        admin: bool = False,
        count: bool = True,
        budget: float | None = None,
    ) -> Answer:
        """The command's outcome, after as many attempts as it takes (see the module)."""
        deadline = time.monotonic() + (self.budget if budget is None else budget)
        pause = 0.1
        attempts = 0
        while True:
            attempts += 1
            method = getattr(self.stub(service, admin), rpc)
            try:
                reply = await method(request, metadata=metadata, timeout=CALL_TIMEOUT)
                answer = Answer(grpc.StatusCode.OK, reply, attempts=attempts)
            except grpc.aio.AioRpcError as error:
                trailers = error.trailing_metadata() or ()
                answer = Answer(
                    error.code(),
                    None,
                    (error.details() or "")[:300],
                    attempts,
                    sum(
                        len(str(k)) + len(v if isinstance(v, bytes) else str(v))
                        for k, v in trailers
                    ),
                )
            if answer.code in RETRYABLE:
                self.stats.retries[answer.code.name] += 1
                if time.monotonic() + pause < deadline:
                    await asyncio.sleep(pause * (0.5 + self._rng.random()))
                    pause = min(2.0, pause * 2)
                    continue
                if count:
                    self.stats.unresolved.append((rpc, str(getattr(request, "request_id", ""))))
            if count:
                self.stats.outcomes[(rpc, answer.code.name)] += 1
                if answer.code in NOT_SPECIFIC:
                    self.stats.not_specific.append((rpc, answer.code.name, answer.details[:120]))
            return answer
