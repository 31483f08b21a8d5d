"""`make chaos`: python -m tools.chaos [--small] [options] (from the repository root).

Prints the reconciliation table and the run's figures, writes them as JSON
(<state>/result.json unless --json says otherwise), and exits 1 on any loss, double effect,
unspecific answer or unresolved command, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

# The run forks (its roles, pg_ctl) while gRPC's threads serve its callers: nothing of gRPC
# is used in a child, so its fork handlers (and their warnings) are not wanted.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from tools.chaos.run import Options, run, table, write_json

ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "commands": 500,
    "kills": 5,
    "after_ack_probability": 0.2,
    "after_ack_max": 2,
    "after_ack_gap": 5.0,
    "generated": 40,
    "rate": 10.0,
    "quiescence_timeout": 100.0,
}
"""The version inside `make test`: about 500 commands and 5 kills, in well under 3 minutes."""


def main(argv: list[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m tools.chaos", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--small",
        action="store_true",
        help="the test's version: 500 commands, 5 kills (other options given still win)",
    )
    parser.add_argument("--commands", type=int, help=f"default {defaults.commands}")
    parser.add_argument("--callers", type=int, help=f"default {defaults.callers}")
    parser.add_argument("--kills", type=int, help=f"kill -9 of roles (default {defaults.kills})")
    parser.add_argument(
        "--after-ack-probability",
        type=float,
        help="chance a relay crashes between the Kafka ack and its position "
        f"record, per batch (default {defaults.after_ack_probability})",
    )
    parser.add_argument(
        "--after-ack-max",
        type=int,
        help=f"at most this many such crashes (default {defaults.after_ack_max})",
    )
    parser.add_argument(
        "--after-ack-gap",
        type=float,
        help=f"seconds at least between two such crashes (default {defaults.after_ack_gap})",
    )
    parser.add_argument(
        "--generated",
        type=int,
        help=f"hypothesis-generated requests (default {defaults.generated})",
    )
    parser.add_argument(
        "--rate",
        type=float,
        help=f"commands started per second at most (default {defaults.rate}; "
        "0: as fast as the platform answers)",
    )
    parser.add_argument("--seed", type=int, help=f"default {defaults.seed}")
    parser.add_argument(
        "--state",
        type=Path,
        help="its broker's and database's data, logs, received feeds "
        "(default .local/chaos, or .local/chaos-small with --small)",
    )
    parser.add_argument("--quiescence-timeout", type=float)
    parser.add_argument(
        "--json", type=Path, help="where the result goes (default <state>/result.json)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    values: dict[str, object] = dict(SMALL) if args.small else {}
    values["state"] = ROOT / ".local" / ("chaos-small" if args.small else "chaos")
    for name in (
        "commands",
        "callers",
        "kills",
        "after_ack_probability",
        "after_ack_max",
        "after_ack_gap",
        "generated",
        "rate",
        "seed",
        "state",
        "quiescence_timeout",
        "quiet",
    ):
        value = getattr(args, name)
        if value not in (None, False):
            values[name] = value
    options = Options(**values)  # type: ignore[arg-type]
    result = asyncio.run(run(options))
    print(table(result), flush=True)
    output = args.json or options.state / "result.json"
    write_json(result, output)
    print(f"result written to {output}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
