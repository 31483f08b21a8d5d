"""The bench's history: `.local/bench/history.jsonl`, one line per run.

Each line holds the git commit (with `-dirty` when the working tree had changes), the date,
the scale, the machine facts and every figure and ratio of the run (the same document as
`latest.json`). The table prints each ratio beside the previous run's: the last line of the
same scale, else the last line (a ratio compares rates of the same run, so it moves little
with the scale; the table says which run it compares with).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import Previous

FILE = "history.jsonl"


def git_commit(root: Path) -> str:
    """HEAD's commit, `-dirty` when tracked files differ from it; `unknown` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 (git from PATH, as every tool here)
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def read(path: Path) -> list[dict[str, Any]]:
    """Every run recorded, oldest first (lines that do not parse are skipped)."""
    if not path.exists():
        return []
    runs: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            run = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(run, dict):
            runs.append(run)
    return runs


def previous(path: Path, scale: str) -> tuple[Previous, str]:
    """The ratios of the run to compare with, and a line saying which run it was."""
    runs = read(path)
    same = [r for r in runs if r.get("scale") == scale]
    chosen = same[-1] if same else (runs[-1] if runs else None)
    if chosen is None:
        return {}, ""
    ratios: Previous = {}
    for section in chosen.get("sections", []):
        for ratio in section.get("ratios", []):
            value = ratio.get("value")
            if isinstance(value, int | float):
                ratios[(str(section.get("key", "")), str(ratio.get("label")))] = float(value)
    commit = str(chosen.get("commit", "unknown"))
    commit = commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")
    return (
        ratios,
        f"the run of {chosen.get('date', '?')} (commit {commit}, scale {chosen.get('scale')})",
    )


def append(path: Path, root: Path, scale: str, document: dict[str, Any]) -> None:
    line = {
        "commit": git_commit(root),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": scale,
        **document,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
