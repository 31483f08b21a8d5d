"""A short filing season on disclosure's topic, for casework's disclosure warnings applied
in batches and event by event (ADR 0018): filings of two units' communities over two
quarters, a deficit quarter, an amendment, a registration arriving after its community's
zero-revenue filing, an overdue quarter, and one filing delivered twice."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
FILED = "pubrev.disclosure.DisclosureFiled.v1"
AMENDED = "pubrev.disclosure.DisclosureAmended.v1"
REGISTERED = "pubrev.disclosure.CommunityRegistered.v1"
OVERDUE = "pubrev.disclosure.DisclosureOverdue.v1"
YEAR = 2026
UNITS = ("licheng", "xiuyu")
COMMUNITIES = 6


def sample(ce_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{ce_type}.json").read_text("utf-8"))
    return loaded


def code(tag: str, n: int) -> str:
    return f"BT{tag}-{n:02d}"


def unit(n: int) -> str:
    return UNITS[n % len(UNITS)]


def filing_id(tag: str, n: int, quarter: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code(tag, n)}:{YEAR}Q{quarter}"))


def zero_figures() -> dict[str, Any]:
    return sample(FILED)["figures"] | {
        "income": [],
        "income_total_fen": 0,
        "operating_cost_fen": 0,
        "expenditure_total_fen": 0,
        "surplus_fen": 0,
        "owners_share_fen": 0,
        "transferred_to_maintenance_fund_fen": 0,
    }


def deficit_figures() -> dict[str, Any]:
    # Cost above income: surplus = income - cost - expenditure < 0.
    return sample(FILED)["figures"] | {
        "income": [{"source": "parking", "amount_fen": 100000}],
        "income_total_fen": 100000,
        "operating_cost_fen": 150000,
        "expenditure_total_fen": 0,
        "surplus_fen": -50000,
        "owners_share_fen": 0,
        "transferred_to_maintenance_fund_fen": 0,
    }


def filed(tag: str, n: int, quarter: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    day = f"{YEAR}-{quarter * 3 + 1:02d}-10T02:30:00Z"
    return FILED, sample(FILED) | {
        "aggregate_id": filing_id(tag, n, quarter),
        "aggregate_version": 1,
        "unit": unit(n),
        "occurred_at": day,
        "community_code": code(tag, n),
        "year": YEAR,
        "quarter": quarter,
        **changes,
    }


def season(tag: str) -> list[tuple[str, dict[str, Any]]]:
    """(CloudEvents type, body) in the order the topic carries them."""
    events = [filed(tag, n, 1) for n in range(COMMUNITIES)]
    events[0] = filed(tag, 0, 1, zero_revenue=True, figures=zero_figures())
    events.append(
        (
            REGISTERED,
            sample(REGISTERED)
            | {
                "aggregate_id": str(uuid.uuid5(uuid.NAMESPACE_URL, code(tag, 0))),
                "unit": unit(0),
                "community_code": code(tag, 0),
            },
        )
    )
    events.append(events[3])  # delivered twice
    amended = sample(AMENDED) | {
        "aggregate_id": filing_id(tag, 2, 1),
        "unit": unit(2),
        "community_code": code(tag, 2),
        "year": YEAR,
        "quarter": 1,
        "figures": sample(AMENDED)["figures"] | {"transferred_to_maintenance_fund_fen": 0},
    }
    events.append((AMENDED, amended))
    for n in range(COMMUNITIES):
        if n == 4:
            events.append(
                (
                    OVERDUE,
                    sample(OVERDUE)
                    | {
                        "aggregate_id": filing_id(tag, n, 2),
                        "unit": unit(n),
                        "community_code": code(tag, n),
                        "year": YEAR,
                        "quarter": 2,
                    },
                )
            )
        elif n == 1:
            events.append(filed(tag, n, 2, figures=deficit_figures()))
        else:
            events.append(filed(tag, n, 2))
    return events
