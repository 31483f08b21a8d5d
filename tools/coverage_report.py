"""Branch coverage of each service's domain and application packages by its unit tests.

Prints one line per service, `coverage <service> <percent>`, and fails when one is below
the bar (`--fail-under`, 90 by default). Unit tests only: the rules and their errors are
asserted on in-memory persistence, where a failure names the rule, not the infrastructure.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("disclosure", "inspection", "credit", "casework")


def measure(service: str, data_dir: Path, quiet: bool) -> float:
    data = data_dir / f".coverage.{service}"
    run = [
        sys.executable,
        "-m",
        "coverage",
        "run",
        "--branch",
        f"--data-file={data}",
        f"--source={service}.domain,{service}.application",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not infra",
        str(ROOT / "services" / service / "tests" / "unit"),
    ]
    done = subprocess.run(run, cwd=ROOT, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        if quiet:
            sys.stdout.write(done.stdout[-4000:])
        raise SystemExit(f"coverage: {service}'s unit tests failed")
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "coverage",
            "report",
            f"--data-file={data}",
            "--format=total",
            "--precision=1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(report.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--fail-under", type=float, default=90.0)
    parser.add_argument("--verbose", action="store_true", help="show the tests' output")
    args = parser.parse_args()
    below = []
    with tempfile.TemporaryDirectory() as tmp:
        for service in args.services:
            percent = measure(service, Path(tmp), quiet=not args.verbose)
            print(f"coverage {service} {percent:.1f}", flush=True)
            if percent < args.fail_under:
                below.append(service)
    if below:
        print(f"coverage: below {args.fail_under:g}%: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
