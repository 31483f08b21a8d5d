"""`python -m bench` (what `make bench` runs): all measurements, a table, JSON and history.

Run it from the repository root: the workload comes from `tools.synthetic_putian`, a sibling
of this package, so whatever puts `bench` on sys.path puts `tools` there too. `BENCH_SCALE`
chooses the stores' size (bench.scale); progress goes to stderr (bench.progress), the table
to stdout, the figures to `.local/bench/latest.json` and one line per run to
`.local/bench/history.jsonl` (bench.history), whose previous run's ratios the table prints
beside this run's. The long sections (soak, growth) run only when `BENCH_SECTIONS` names
them (comma-separated, e.g. `BENCH_SECTIONS=soak,growth`) or with `BENCH_SCALE=large`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from bench import history
from bench.command_bench import command_section
from bench.consumer_bench import consumer_section
from bench.cost_bench import cost_section
from bench.e2e_bench import e2e_section
from bench.growth_bench import growth_section
from bench.infra import server_url
from bench.machine import ROOT, machine_facts
from bench.progress import BenchProgress
from bench.relay_bench import relay_section
from bench.replay_bench import replay_section
from bench.report import document, render, write_json
from bench.scale import bench_scale
from bench.soak_bench import soak_section

OUTPUT = ROOT / ".local" / "bench" / "latest.json"
HISTORY = ROOT / ".local" / "bench" / history.FILE
OPT_IN = "BENCH_SECTIONS"


def opted_in(section: str, scale_name: str) -> bool:
    """A long section runs only when asked for: the default `make bench` stays as long."""
    named = {s.strip().lower() for s in os.environ.get(OPT_IN, "").split(",")}
    return section in named or scale_name == "large"


async def run(output: Path, history_file: Path) -> None:
    scale = bench_scale()
    started = time.perf_counter()
    machine = await machine_facts(server_url())
    machine["scale"] = f"BENCH_SCALE={scale.name} ({scale.replay_events:,} stored events)"
    with BenchProgress() as progress:
        progress.line(f"scale {scale.name}: {scale.replay_events:,} stored events to replay")
        relay = await relay_section(scale, progress)
        consumer = await consumer_section(scale, progress)
        replay = await replay_section(scale, progress)
        with progress.step("commands: FileDisclosure through gRPC and its baselines"):
            commands = await command_section()
        e2e = await e2e_section(scale, progress)
        cost = await cost_section(progress)
        sections = [relay, consumer, replay, commands, e2e, cost]
        if opted_in("soak", scale.name):
            sections.append(await soak_section(progress))
        if opted_in("growth", scale.name):
            sections.append(await growth_section(scale, progress))
    elapsed = time.perf_counter() - started
    previous, previous_run = history.previous(history_file, scale.name)
    print(render(machine, sections, elapsed, previous, previous_run))
    write_json(output, machine, sections, elapsed)
    history.append(history_file, ROOT, scale.name, document(machine, sections, elapsed))
    print(
        f"figures written to {output.relative_to(ROOT)}, history to "
        f"{history_file.relative_to(ROOT)}"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run(OUTPUT, HISTORY))


if __name__ == "__main__":
    main()
