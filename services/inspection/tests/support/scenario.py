"""Every inspection event, from its aggregates, with fixed data: the source of the golden
samples (tools/gen_samples.py) and of the test that the producer emits their shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from inspection.adapters.contract_events import to_contract
from inspection.domain import draw as draws
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check import ChecklistResult, SpotCheck
from inspection.domain.spot_check_plan import Candidate, SpotCheckPlan, candidates_of
from inspection.domain.violations import KINDS
from pubrev_contracts.events.base import ContractEvent


class _Check(NamedTuple):
    plan_id: str
    community_code: str


class _Found(NamedTuple):
    community_code: str
    checking_unit: str
    kind: str


WHEN = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)
SECRET = "9f2c" * 16
CROSS_SECRET = "c0de" * 16


def run_scenario() -> list[ContractEvent]:
    pool = [
        Candidate(f"LC-{n:04d}", frozenset({"zero_revenue"} if n == 7 else set()))
        for n in range(1, 21)
    ]
    roster = {"INS-01": [], "INS-02": [], "INS-03": ["LC-0007"]}
    rules = DEFAULT_RULES
    # The commit-reveal draw: the plan records the pool, the roster and the commitment to the
    # service's secret; the discipline office's contribution then runs the draw.
    plan = SpotCheckPlan(
        2026,
        "licheng",
        "yearly",
        "licheng",
        20,
        10,
        rules.version,
        [],
        {},
        2,
        candidates_of(pool),
        roster,
        draws.commitment(SECRET),
        {"handed_down": [], "major_petition": [], "typical_case": []},
    )
    plan.execute_draw(SECRET, "licheng discipline office 2026-05-06 #4821")
    cross = SpotCheckPlan(
        2026,
        "hanjiang",
        "cross",
        "2:hanjiang>licheng",
        20,
        3,
        rules.version,
        [],
        {"quarter": 2, "checked_unit": "licheng"},
        2,
        candidates_of([Candidate(c.code, frozenset()) for c in pool]),
        roster,
        draws.commitment(CROSS_SECRET),
        {},
    )
    cross.execute_draw(CROSS_SECRET, "city discipline office 2026-05-06 #77")
    code = plan.target_codes[0]
    a1, b6 = KINDS["A1"], KINDS["B6"]
    check, [finding] = SpotCheck.record(
        plan,
        code,
        "licheng",
        "91350200776049653A",
        WHEN,
        plan.targets[0]["inspectors"],
        [
            ChecklistResult(
                "signboard_present", False, "小区主入口未见公示栏", ("photo-2026-0506-01.jpg",)
            )
        ],
        [],
        {},
        rules,
    )
    assert finding.kind == a1.code
    finding.verify(WHEN + timedelta(days=10), ["photo-2026-0516-01.jpg"], "已设置公示栏")
    # A finding of the same check whose rectification runs late (the checklist above would
    # have named it: only the sample's shape matters here).
    late = Finding.found(
        check.id,
        code,
        "licheng",
        "licheng",
        "county",
        "91350200776049653A",
        b6,
        "serious",
        "",
        ["ledger-2026Q1.pdf"],
        WHEN,
        rules,
    )
    deadline = rules.rectification_deadline(WHEN, "serious")
    late.mark_overdue(deadline + timedelta(days=1))
    # The cross-check team checked its three targets and found one violation.
    cross_checks = [_Check(str(cross.id), c) for c in cross.target_codes]
    cross.report(cross_checks, [_Found(cross.target_codes[0], "hanjiang", "A1")])
    events = [e for a in (plan, cross, check, finding, late) for e in a.collect_events()]
    return [c for c in map(to_contract, events) if c is not None]
