"""Figures, ratios and their rendering: a table for people, JSON for tools."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stopwatch import Timing


@dataclass(frozen=True)
class Figure:
    """`count` operations in `seconds` of one timed loop."""

    key: str
    label: str
    count: int
    timing: Timing
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_percent: float | None = None
    """CPU of the server's own process(es), summed, in % of one core; None when the server
    runs inside the bench's process (its CPU is then part of `timing.cpu_percent`)."""
    latency_only: bool = False
    """A latency figure (its p50/p99 are the point; its `count / seconds` is no rate)."""

    @property
    def seconds(self) -> float:
        return self.timing.seconds

    @property
    def rate(self) -> float:
        return self.count / max(self.seconds, 1e-9)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "seconds": round(self.seconds, 4),
            "rate": round(self.rate, 1),
            "unit": self.unit,
            "p50_ms": _rounded(self.p50_ms),
            "p99_ms": _rounded(self.p99_ms),
            "process_cpu_percent": _rounded(self.timing.cpu_percent),
            "host_cpu_percent": _rounded(self.timing.host_percent),
            "server_cpu_percent": _rounded(self.server_cpu_percent),
        }


@dataclass(frozen=True)
class Ratio:
    """rate of `numerator` ÷ rate of `denominator` (keys of figures of the same section);
    with `of="p50"`, their p50 latencies instead (then the slower one is the numerator, so
    that, like a ratio of rates, higher means the denominator is better)."""

    label: str
    numerator: str
    denominator: str
    goal: float | None = None
    """The issue's goal for it (at least this), printed beside it."""
    of: str = "rate"


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key: str = ""
    """What the section measures, the same from run to run (its title may carry sizes):
    the history matches a run's ratios to the previous run's by it."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Other figures worth keeping in the history (e.g. an extrapolated time)."""

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)

    def ratio_value(self, ratio: Ratio) -> float:
        numerator, denominator = self.figure(ratio.numerator), self.figure(ratio.denominator)
        if ratio.of == "p50":
            return (numerator.p50_ms or 0.0) / max(denominator.p50_ms or 0.0, 1e-9)
        return numerator.rate / denominator.rate

    def ratio_values(self) -> dict[str, float]:
        return {r.label: round(self.ratio_value(r), 4) for r in self.ratios}

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "figures": [f.as_json() for f in self.figures],
            "ratios": [
                {
                    "label": r.label,
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                    "of": r.of,
                    "value": round(self.ratio_value(r), 4),
                    "goal": r.goal,
                }
                for r in self.ratios
            ],
            "notes": list(self.notes),
            "extra": dict(self.extra),
        }


Previous = dict[tuple[str, str], float]
"""(section key, ratio label) → that ratio's value in the previous run."""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of unsorted samples."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# -- table ---------------------------------------------------------------------------------

LABEL_WIDTH = 60


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _figure_row(figure: Figure, width: int) -> str:
    rate = "" if figure.latency_only else f"{figure.rate:,.0f} {figure.unit}"
    timing = figure.timing
    return (
        f"  {figure.label:<{width}} {figure.count:>7,} {figure.seconds:>8.2f} "
        f"{rate:>18} {_number(figure.p50_ms, 1):>7} {_number(figure.p99_ms, 1):>7} "
        f"{_number(timing.cpu_percent, 0):>7} {_number(figure.server_cpu_percent, 0):>8} "
        f"{_number(timing.host_percent, 0):>7}"
    )


def _header(width: int) -> str:
    return (
        f"  {'figure':<{width}} {'count':>7} {'seconds':>8} {'rate':>18} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'py cpu%':>7} {'srv cpu%':>8} {'host%':>7}"
    )


LEGEND = (
    "py cpu% = this process (the client, and the server too where it runs in this process),"
    " % of one core",
    "srv cpu% = a server running as its own process(es), summed, % of one core",
    "host% = the whole machine, % of all cores",
)


def _ratio_row(section: Section, ratio: Ratio, width: int, previous: Previous) -> str:
    value = section.ratio_value(ratio)
    before = previous.get((section.key, ratio.label))
    goal = "" if ratio.goal is None else f"≥ {ratio.goal:g}"
    met = "" if ratio.goal is None else ("met" if value >= ratio.goal else "MISSED")
    change = ""
    if before is not None and before > 0:
        change = f"{(value / before - 1) * 100:+.0f}%"
    return (
        f"  {ratio.label:<{width}} {value:>7.3f} {_number(before, 3):>9} {change:>7}"
        f" {goal:>7} {met:>6}"
    ).rstrip()


def render_section(number: int, section: Section, previous: Previous | None = None) -> list[str]:
    labels = [f.label for f in section.figures] + [r.label for r in section.ratios]
    width = max([LABEL_WIDTH, *map(len, labels)])
    lines = [f"{number}. {section.title}", _header(width)]
    lines.extend(_figure_row(f, width) for f in section.figures)
    if section.ratios:
        lines.append(f"  {'ratio':<{width}} {'value':>7} {'previous':>9} {'change':>7} {'goal':>7}")
        for ratio in section.ratios:
            lines.append(_ratio_row(section, ratio, width, previous or {}))
    lines.extend(f"  · {note}" for note in section.notes)
    return lines


def render(
    machine: dict[str, Any],
    sections: Sequence[Section],
    elapsed: float,
    previous: Previous | None = None,
    previous_run: str = "",
) -> str:
    lines = ["pubrev bench — figures beside raw baselines of the same run", ""]
    lines.extend(f"  {key:<28} {value}" for key, value in machine.items())
    lines.extend(f"  {line}" for line in LEGEND)
    lines.append(
        "  previous = the same ratio in "
        + (previous_run or "no earlier run (.local/bench/history.jsonl is empty)")
    )
    for number, section in enumerate(sections, start=1):
        lines.append("")
        lines.extend(render_section(number, section, previous))
    lines.extend(["", f"bench took {elapsed:.1f} s"])
    return "\n".join(lines)


def document(
    machine: dict[str, Any], sections: Sequence[Section], elapsed: float
) -> dict[str, Any]:
    return {
        "machine": machine,
        "elapsed_s": round(elapsed, 2),
        "sections": [s.as_json() for s in sections],
    }


def write_json(
    path: Path, machine: dict[str, Any], sections: Sequence[Section], elapsed: float
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document(machine, sections, elapsed), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
