"""Outbound feeds' settings, read from the environment by one function for every service.

Each feed is described by a `FeedSpec` (its name, the prefix of its variables and the local
receiver's URL); `load_feeds` reads `<prefix>URL`, `<prefix>KEY_ID`, `<prefix>SECRET` and
`<prefix>MAX_ATTEMPTS`, loads the feed's JSON Schema from `schema_dir/<name>.schema.json`,
and refuses, naming every reason at once and never echoing a value (a URL may carry
credentials, a secret is a secret):
- in production, http:// receivers and development or short secrets (push.production_refusals);
- anywhere, variables a service retired (a setting that would otherwise be silently ignored);
- two feeds sharing one secret (PushOutbox refuses it too, once built).
Defaults serve `make run` and the tests: tools/feed_receiver.py accepts the development keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from servicekit.push import DEV_KEY_ID, FeedConfig, FeedKey, dev_secret, production_refusals
from servicekit.settings import Environment

MAX_ATTEMPTS_BOUND = 100
"""Attempts of one record before it is parked (local configuration: 8 by default)."""


@dataclass(frozen=True)
class FeedSpec:
    name: str
    """The feed's name: its schema file, its development secret, its records' feed."""
    prefix: str
    """Of its environment variables, e.g. PUBREV_FEED_CREDITCHINA_."""
    local_url: str
    """Where it goes when nothing is set: the local receiver."""
    max_attempts_variable: str = ""
    """A variable several feeds share for their attempts (default: <prefix>MAX_ATTEMPTS)."""


def load_feeds(
    specs: Sequence[FeedSpec],
    environment: Environment,
    schema_dir: Path,
    env: Mapping[str, str] | None = None,
    retired: Mapping[str, str] | None = None,
) -> dict[str, FeedConfig]:
    """The feeds' configurations, or ValueError listing every problem. `retired` maps a
    variable no longer read to what replaces it."""
    env = os.environ if env is None else env
    problems = [
        f"{variable} is no longer read: {instead}"
        for variable, instead in (retired or {}).items()
        if variable in env
    ]
    configs: dict[str, FeedConfig] = {}
    owners: dict[str, str] = {}
    for spec in specs:
        url = env.get(f"{spec.prefix}URL", spec.local_url)
        key_id = env.get(f"{spec.prefix}KEY_ID", DEV_KEY_ID)
        secret = env.get(f"{spec.prefix}SECRET", dev_secret(spec.name))
        attempts_variable = spec.max_attempts_variable or f"{spec.prefix}MAX_ATTEMPTS"
        attempts_text = env.get(attempts_variable, "8")
        max_attempts = int(attempts_text) if attempts_text.isdigit() else 0
        if not 1 <= max_attempts <= MAX_ATTEMPTS_BOUND:
            problems.append(f"{attempts_variable} must be a whole number 1–{MAX_ATTEMPTS_BOUND}")
        if environment is Environment.production:
            problems.extend(
                production_refusals(f"{spec.prefix}URL", url, f"{spec.prefix}SECRET", secret)
            )
        other = owners.setdefault(secret, spec.name)
        if other != spec.name:
            problems.append(
                f"feeds {other} and {spec.name} share one secret: each feed has its own key"
            )
        if problems:
            continue
        try:
            key = FeedKey(key_id, secret.encode())
        except ValueError as error:
            problems.append(f"{spec.prefix}KEY_ID: {error}")
            continue
        configs[spec.name] = FeedConfig(
            spec.name, url, key, _schema(schema_dir, spec.name), max_attempts=max_attempts
        )
    if problems:
        raise ValueError("feed settings refused: " + "; ".join(problems))
    return configs


def _schema(schema_dir: Path, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (schema_dir / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return loaded
