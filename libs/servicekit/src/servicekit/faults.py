"""Named fault points, so tests can crash a real process at an exact place.

A point does nothing unless `PUBREV_FAULTS` names it, e.g. `PUBREV_FAULTS=relay.after_ack`
(the process exits at once with status 86, as a kill would leave it), or a test arms it in
process with `arm("consumer.after_effect", times=1)` (the point raises InjectedFault).
"""

from __future__ import annotations

import os
import sys

EXIT_STATUS = 86


class InjectedFault(RuntimeError):
    pass


_armed: dict[str, int] = {}


def arm(name: str, times: int = 1) -> None:
    _armed[name] = times


def disarm_all() -> None:
    _armed.clear()


def point(name: str) -> None:
    if name in os.environ.get("PUBREV_FAULTS", "").split(","):
        sys.stderr.write(f"fault point {name}: exiting as if killed\n")
        sys.stderr.flush()
        os._exit(EXIT_STATUS)
    remaining = _armed.get(name, 0)
    if remaining > 0:
        _armed[name] = remaining - 1
        raise InjectedFault(name)
