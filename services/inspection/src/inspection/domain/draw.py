"""The 双随机 draw: random targets and random inspectors, reproducible by anyone.

Algorithm `sha256-rank-v1`: every candidate gets the rank sha256("<seed>:<salt>:<code>"),
and the draw takes the lowest ranks. The result depends only on the seed and the set of
candidates (not their order), so re-running it from the recorded seed and pool gives the
same draw, and a changed seed or pool gives another one.

The seed (scheme `commit-reveal-sha256-v1`) is chosen by nobody alone: when a plan and its
pool are recorded, the service commits to a secret of its own (only `commitment(secret)` is
recorded); after that, the discipline office contributes a value of its choosing; the seed
is `combined_seed(secret, contribution, plan_id)`, and the secret is revealed with the draw,
so anyone can check it against the commitment and re-run the draw. The service cannot steer
the draw (its secret is fixed before the contribution is known), nor can the discipline
office (it does not know the secret), nor can the caller (it gives no seed). Plans recorded
before this scheme (`LEGACY_SCHEME`) carry a seed that the caller chose, or the service
alone drew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

ALGORITHM = "sha256-rank-v1"
SEED_SCHEME = "commit-reveal-sha256-v1"
LEGACY_SCHEME = "chosen-v0"
"""Seeds recorded before commit-reveal: chosen by the caller, or drawn by the service alone."""


def pool_hash(codes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()


def commitment(secret: str) -> str:
    """What is recorded of the service's secret before the draw: sha256 of its UTF-8 text."""
    return hashlib.sha256(secret.encode()).hexdigest()


def combined_seed(secret: str, contribution: str, plan_id: str) -> str:
    """The seed of a commit-reveal draw: sha256 of the JSON array [secret, contribution,
    plan id] (JSON: no separator inside a value can shift the parts)."""
    text = json.dumps([secret, contribution, plan_id], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _rank(seed: str, salt: str, code: str) -> str:
    return hashlib.sha256(f"{seed}:{salt}:{code}".encode()).hexdigest()


def draw(seed: str, pool: Iterable[str], count: int, salt: str = "targets") -> list[str]:
    """`count` codes of `pool` (all of them when the pool is smaller), in draw order."""
    ranked = sorted(set(pool), key=lambda code: _rank(seed, salt, code))
    return ranked[: max(count, 0)]


def draw_inspectors(seed: str, target: str, eligible: Sequence[str], per_target: int) -> list[str]:
    """The inspectors of one target, drawn from those eligible for it."""
    return draw(seed, eligible, per_target, salt=f"inspectors:{target}")
