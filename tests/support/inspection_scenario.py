"""Every inspection event, from its aggregates, with fixed data: the source of the golden
samples (tools/gen_samples.py) and of the test that the producer emits their shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inspection.adapters.contract_events import to_contract
from inspection.domain import draw as draws
from inspection.domain.check import Finding, SpotCheck
from inspection.domain.plan import Candidate, SpotCheckPlan, assign_inspectors, choose_targets
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.violations import KINDS
from pubrev_contracts.events.base import ContractEvent

WHEN = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)


def run_scenario() -> list[ContractEvent]:
    seed = "5eed0f2026"
    pool = [Candidate(f"LC-{n:04d}", frozenset({"zero_revenue"} if n == 7 else set()))
            for n in range(1, 21)]
    targets, rest, drawn = choose_targets(seed, pool, 3)
    roster = {"INS-01": [], "INS-02": [], "INS-03": ["LC-0007"]}
    planned = assign_inspectors(seed, targets, roster, 2)
    record = {"seed": seed, "algorithm": draws.ALGORITHM, "pool": rest,
              "pool_hash": draws.pool_hash(rest), "pool_size": len(rest), "drawn": drawn,
              "inspector_pool": sorted(roster), "inspector_pool_hash": draws.pool_hash(roster)}
    rules = DEFAULT_RULES
    plan = SpotCheckPlan(2026, "licheng", "yearly", "licheng", 20, 10, rules.version,
                         planned, record)
    cross = SpotCheckPlan(2026, "hanjiang", "cross", "2:hanjiang>licheng", 20, 3,
                          rules.version, planned,
                          record | {"quarter": 2, "checked_unit": "licheng"})
    code = targets[0][0]
    check_id = SpotCheck.create_id(plan.id, code)
    a1, b6 = KINDS["A1"], KINDS["B6"]
    finding = Finding(check_id, code, "licheng", "licheng", "county", "91350200776049653A",
                      a1.code, a1.name, "general", a1.legal_basis, "小区主入口未见公示栏",
                      ["photo-2026-0506-01.jpg"], WHEN)
    deadline = rules.rectification_deadline(WHEN, "general")
    finding.order_rectification(deadline, rules.deadline_basis("general", deadline))
    check = SpotCheck(plan.id, code, "licheng", "licheng", "county", "91350200776049653A",
                      WHEN, planned[0]["inspectors"],
                      [{"item": "signboard_present", "passed": False, "note": "",
                        "evidence_refs": [], "severity": "general"}], [str(finding.id)])
    finding.verify(WHEN + timedelta(days=10), ["photo-2026-0516-01.jpg"], "已设置公示栏")
    late = Finding(check_id, code, "licheng", "licheng", "county", "91350200776049653A",
                   b6.code, b6.name, "serious", b6.legal_basis, "", ["ledger-2026Q1.pdf"], WHEN)
    deadline = rules.rectification_deadline(WHEN, "serious")
    late.order_rectification(deadline, rules.deadline_basis("serious", deadline))
    late.mark_overdue(deadline + timedelta(days=1))
    cross.report(3, {"A1": 1})
    events = [e for a in (plan, cross, check, finding, late) for e in a.collect_events()]
    return [c for c in map(to_contract, events) if c is not None]
