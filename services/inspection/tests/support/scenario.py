"""Every inspection event, from its aggregates, with fixed data: the source of the golden
samples (tools/gen_samples.py) and of the test that the producer emits their shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from inspection.adapters.contract_events import to_contract
from inspection.domain import draw as draws
from inspection.domain.checking_body import direct_entry_id
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check import ChecklistResult, SpotCheck
from inspection.domain.spot_check_plan import Candidate, SpotCheckPlan, candidates_of
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from inspection.domain.violations import KINDS
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.attachments import AttachmentRef


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
    cross.report(cross_checks, [_Found(cross.target_codes[0], "hanjiang", "A1")], WHEN)
    # A finding entered directly (an audit found inflated repairs: D2), escalating a
    # 智慧监督 warning, with its evidence; the company objects (rejected), submits its own
    # rectification evidence, and the bureau verifies citing it.
    photo = AttachmentRef(
        "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
        48213,
        "image/jpeg",
        "维修合同.jpg",
    )
    direct = Finding.entered(
        direct_entry_id("licheng", "audit-2026-031"),
        KINDS["D2"],
        "serious",
        "2025年外墙维修虚增工程量，套取公共收益12.6万元",
        (photo,),
        WHEN,
        "licheng",
        rules,
        unit="licheng",
        community_code=code,
        community_unit="licheng",
        company_uscc="91350200776049653A",
        warning_id="6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
    )
    direct.raise_objection("维修工程量经业委会签字确认", (photo,), WHEN + timedelta(days=2), rules)
    direct.decide_objection(False, "经复核，签字确认不能证明工程量真实", WHEN + timedelta(days=5))
    direct.submit_evidence(
        "已将12.6万元退回公共收益账户并公示", (photo,), WHEN + timedelta(days=20)
    )
    direct.verify(WHEN + timedelta(days=25), [], "核实退款凭证", cite_company_evidence=True)
    # An objection upheld: the finding is withdrawn, its rectification cancelled.
    withdrawn = Finding.found(
        check.id,
        code,
        "licheng",
        "licheng",
        "county",
        "91350200776049653A",
        KINDS["A4"],
        "minor",
        "",
        ["notice.jpg"],
        WHEN,
        rules,
    )
    withdrawn.raise_objection("公示已满30日，有照片为证", (photo,), WHEN + timedelta(days=1), rules)
    withdrawn.decide_objection(True, "经复核，公示期满30日", WHEN + timedelta(days=3))
    # An agency's failure (E1): the unit's checks were not done; no company, no rectification.
    agency = Finding.entered(
        direct_entry_id("putian", "supervision-2026-07"),
        KINDS["E1"],
        "general",
        "未按规定对辖区住宅小区公共收益公示情况开展抽查",
        (photo,),
        WHEN,
        "putian",
        rules,
        unit="licheng",
        agency_unit="licheng",
        warning_id="7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    )
    # A township's daily inspection of the community.
    ledger = TownshipInspectionLedger(code, "licheng")
    day = WHEN.astimezone(SHANGHAI).date()
    ledger.record("镇海街道", "镇海街道", day, day, "巡查员甲", ["公示栏破损"], "", rules)
    events = [
        e
        for a in (plan, cross, check, direct, finding, late, withdrawn, agency, ledger)
        for e in a.collect_events()
    ]
    return [c for c in map(to_contract, events) if c is not None]
