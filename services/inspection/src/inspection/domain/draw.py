"""The 双随机 draw: random targets and random inspectors, reproducible by anyone.

Algorithm `sha256-rank-v1`: every candidate gets the rank sha256("<seed>:<salt>:<code>"),
and the draw takes the lowest ranks. The result depends only on the seed and the set of
candidates (not their order), so re-running it from the recorded seed and pool gives the
same draw, and a changed seed or pool gives another one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

ALGORITHM = "sha256-rank-v1"


def pool_hash(codes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()


def _rank(seed: str, salt: str, code: str) -> str:
    return hashlib.sha256(f"{seed}:{salt}:{code}".encode()).hexdigest()


def draw(seed: str, pool: Iterable[str], count: int, salt: str = "targets") -> list[str]:
    """`count` codes of `pool` (all of them when the pool is smaller), in draw order."""
    ranked = sorted(set(pool), key=lambda code: _rank(seed, salt, code))
    return ranked[:max(count, 0)]


def draw_inspectors(
    seed: str, target: str, eligible: Sequence[str], per_target: int
) -> list[str]:
    """The inspectors of one target, drawn from those eligible for it."""
    return draw(seed, eligible, per_target, salt=f"inspectors:{target}")
