"""Runs one role of a service exactly as `python -m <service> <role>` does, with the relay's
fault point between Kafka's ack and the position record armed at a probability.

    python -m tools.chaos.armed_role <service> <role>     (from the repository root)

`servicekit.faults` arms a point for every hit (`PUBREV_FAULTS`) or in process for a number
of hits; a relay armed for every hit would never move. The chaos run wants the crash now
and then, at random batches, and proof that it happened there: so this wrapper replaces the
point with one that, at `relay.after_ack`, after a batch that sent at least one message
(counted by wrapping the producer's `send`; a batch of events that have no contract sends
nothing, and crashing after it would prove nothing), with probability `CHAOS_AFTER_ACK_P`,
first appends a line with the batch's message count to the counter file
`CHAOS_AFTER_ACK_COUNTER` (flushed and fsynced: the line is there when the process is gone)
and then exits at once with the fault status, as a kill -9 would leave it. Those messages
were acknowledged but their position not recorded: the restarted relay must send them
again, and the reconciliation finds at least that many re-sent copies on the topic.
`CHAOS_AFTER_ACK_MAX` caps the crashes of the whole run (all relays, as counted in the
file), and `CHAOS_AFTER_ACK_GAP` seconds must pass since the last one (the file's time), so
that the crashes spread over the run instead of coming all at its start.
"""

from __future__ import annotations

import os
import random
import runpy
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from servicekit import faults

POINT = "relay.after_ack"


def crashes_so_far(counter: Path) -> int:
    try:
        return counter.read_bytes().count(b"\n")
    except OSError:
        return 0


def quiet_for(counter: Path) -> float:
    """Seconds since the last crash was counted (or the run started the file)."""
    try:
        return time.time() - counter.stat().st_mtime
    except OSError:
        return float("inf")


def arm(service: str, probability: float, counter: Path, limit: int, gap: float) -> None:
    original_point = faults.point
    original_send = AIOKafkaProducer.send
    rng = random.Random()  # noqa: S311 (when to crash, not a secret)
    sent = 0

    async def counting_send(self: AIOKafkaProducer, *args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        return await original_send(self, *args, **kwargs)

    def point(name: str) -> None:
        nonlocal sent
        if name != POINT:
            original_point(name)
            return
        in_batch, sent = sent, 0
        if (
            in_batch
            and rng.random() < probability
            and quiet_for(counter) >= gap
            and crashes_so_far(counter) < limit
        ):
            line = (
                f"{datetime.now(UTC).isoformat()} {service} pid={os.getpid()} {POINT} "
                f"messages={in_batch}\n"
            )
            with counter.open("a", encoding="utf-8") as out:
                out.write(line)
                out.flush()
                os.fsync(out.fileno())
            sys.stderr.write(
                f"chaos: crashing at {POINT} (after the acks, before the position is recorded)\n"
            )
            sys.stderr.flush()
            os._exit(faults.EXIT_STATUS)
        original_point(name)

    AIOKafkaProducer.send = counting_send
    faults.point = point


def main() -> None:
    service, role = sys.argv[1], sys.argv[2]
    counter = os.environ.get("CHAOS_AFTER_ACK_COUNTER")
    if counter:
        arm(
            service,
            float(os.environ.get("CHAOS_AFTER_ACK_P", "0")),
            Path(counter),
            int(os.environ.get("CHAOS_AFTER_ACK_MAX", "0")),
            float(os.environ.get("CHAOS_AFTER_ACK_GAP", "0")),
        )
    sys.argv = [service, role]
    runpy.run_module(service, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
