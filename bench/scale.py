"""`BENCH_SCALE`: how large the bench's stores are.

`small` (100,000 stored events in the replay; a few minutes), `default` (1,000,000: what the
issue's replay goal names; `make bench` on a 2-core machine finishes well within 15
minutes), `large` (3,000,000), or a number of stored events (`BENCH_SCALE=250000`,
underscores allowed). The relay's store grows with it (up to its 20,000 by default);
the command benches do not depend on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

VARIABLE = "BENCH_SCALE"
NAMED = {"small": 100_000, "default": 1_000_000, "large": 3_000_000}
RELAY_EVENTS = 20_000


@dataclass(frozen=True)
class Scale:
    name: str
    replay_events: int
    """Stored events of the replay's store."""
    relay_events: int
    """Stored DisclosureFiled events the relay drains."""
    per_event_events: int
    """Events the projection applied per event (apply_batch off, the baseline) is timed
    on: a prefix of the replay's store, as that projection takes minutes for a million."""

    @classmethod
    def of(cls, events: int, name: str | None = None) -> Scale:
        if events < 1:
            raise ValueError(f"{VARIABLE} must be at least 1 event, not {events}")
        return cls(
            name=name or str(events),
            replay_events=events,
            relay_events=max(1, min(RELAY_EVENTS, events // 5)),
            per_event_events=max(1, min(100_000, events // 10)),
        )


def bench_scale(value: str | None = None) -> Scale:
    """The scale `BENCH_SCALE` names (default when unset or empty)."""
    text = (os.environ.get(VARIABLE, "") if value is None else value).strip().lower()
    if not text:
        text = "default"
    if text in NAMED:
        return Scale.of(NAMED[text], text)
    try:
        events = int(text.replace("_", ""))
    except ValueError:
        names = ", ".join(NAMED)
        raise ValueError(
            f"{VARIABLE}={text!r}: one of {names}, or a number of stored events"
        ) from None
    return Scale.of(events)
