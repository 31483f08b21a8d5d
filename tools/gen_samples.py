"""Rewrite the golden samples (contracts/samples/<ce_type>.json) from the four services'
scenarios (services/<svc>/tests/support/scenario.py: run_scenario). Run it only for a
deliberate contract change; review the diff like code: consumers rely on these shapes.

The output is the same on every run, so the diff shows only what changed: the time is fixed,
ids come from natural keys or from the draws a scenario seeds (casework's tracking numbers
and random ids: its application takes a seeded `tokens`), and nothing else in a scenario is
random."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXED_TIME = "2026-05-06T02:30:00Z"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from services.casework.tests.support import scenario as casework_scenario
    from services.credit.tests.support import scenario as credit_scenario
    from services.disclosure.tests.support import scenario as disclosure_scenario
    from services.inspection.tests.support import scenario as inspection_scenario

    seen: dict[str, dict[str, object]] = {}
    events = [
        *disclosure_scenario.run_scenario(),
        *inspection_scenario.run_scenario(),
        *credit_scenario.run_scenario(),
        *casework_scenario.run_scenario(),
    ]
    for event in events:
        data = json.loads(event.model_dump_json())
        data["occurred_at"] = FIXED_TIME
        seen.setdefault(event.ce_type, data)  # the first of each type
    folder = ROOT / "contracts" / "samples"
    for ce_type, data in seen.items():
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        (folder / f"{ce_type}.json").write_text(text, encoding="utf-8")
    print(f"gen_samples: wrote {len(seen)} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
