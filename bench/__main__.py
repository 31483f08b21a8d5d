"""`python -m bench` (what `make bench` runs): all measurements, a table and a JSON file.

Run it from the repository root: the workload comes from `tools.synthetic_putian`, a sibling
of this package, so whatever puts `bench` on sys.path puts `tools` there too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bench.command_bench import command_section
from bench.infra import server_url
from bench.machine import ROOT, machine_facts
from bench.relay_bench import relay_section
from bench.report import render, write_json

OUTPUT = ROOT / ".local" / "bench" / "latest.json"


async def run(output: Path) -> None:
    started = time.perf_counter()
    machine = await machine_facts(server_url())
    sections = [await relay_section(), await command_section()]
    elapsed = time.perf_counter() - started
    print(render(machine, sections, elapsed))
    write_json(output, machine, sections, elapsed)
    print(f"figures written to {output.relative_to(ROOT)}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run(OUTPUT))


if __name__ == "__main__":
    main()
