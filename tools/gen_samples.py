"""Rewrite the golden samples (contracts/samples/<ce_type>.json) from the disclosure and
inspection scenarios. Run it only for a deliberate contract change; review the diff like code:
consumers rely on these shapes. The time is fixed so the files do not churn."""

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
