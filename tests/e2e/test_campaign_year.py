"""Issue 13's "done when": one unit (licheng) walked through the 2026 campaign year on the
injected clock, the four services in one process on the real PostgreSQL with the bus played
in between (tests/support/platform.py), and at each stage date the progress, the warnings, the
ledgers and the records queued for 信用中国, market regulation and 智慧监督 asserted exactly.

The year, by the calendar's stages (vocabulary.campaign: 2026 carries the 2023 plan's dates):
Q1 filed (one late, one missing: overdue) and Q2; an audit asked and answered; mobilisation by
7/15 and the draw with the discipline office's value; the companies' self-inspection ledgers
by 7/20 (one late); spot checks whose checklists fail every item they have, and findings
entered directly (C2, D1–D3; E1–E3 against the agencies, E1 escalating a 智慧监督 warning):
every code of the list; an objection upheld (the finding withdrawn, its deduction annulled);
rectification with the company's own evidence, one late, one past the stage; a penalty after
notice and statement, published and later repaired; a company listed as seriously dishonest by
the credit office; a deduction objected to and the objection refused; township inspections
(one community after the stage); the cross check of each quarter; a complaint lodged by the
public, followed by its tracking number, closed and published as a typical case; interviews of
the unit and of a company; every monthly report (July's late) and the city's briefings
(September's late); the unit's summary and the review, judged on 4 January 2027 (last year's
calendar is judged through January; nothing then needs a 2027 working day).

Licheng's progress, warnings, 智慧监督 records and monthly duties are asserted whole at every
checkpoint against `Expected`, which each stage moves by what it did. The other county-level
units record nothing, so the calendar warns about each of them alike (asserted by unit).
Each stage is a function: a failure names it and the walk's date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import pytest

from casework.application import commands as cw
from casework.application import queries as casework_queries
from credit.application import commands as cr
from credit.application import queries as credit_queries
from disclosure.application import commands as ds
from disclosure.application import queries as disclosure_queries
from disclosure.domain.self_inspection_ledger import SelfInspectionItem
from inspection.application import commands as ins
from inspection.application import queries as inspection_queries
from inspection.domain.spot_check import ChecklistResult
from inspection.domain.violations import CHECKLIST_ITEMS
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.units import UNITS
from pubrev_contracts.vocabulary.violations import KINDS
from servicekit.testing import FakeClock
from tests.support.campaign_year import (
    AUTHORITY,
    CITY,
    CITY_DISCIPLINE,
    CITY_HEAD,
    CITY_OFFICER,
    COMMITTEE,
    COMPANY_NAMES,
    CREDIT_OFFICE,
    DISCIPLINE,
    HEAD,
    INSPECTOR,
    LICHENG,
    OFFICER,
    OTHER_COUNTIES,
    PEER,
    PEER_OFFICER,
    PUBLIC,
    SITES,
    TOWNSHIP,
    UNIT,
    USCC_A,
    USCC_B,
    YEAR,
    Walk,
    at,
    content,
    filer,
    manager,
)
from tests.support.platform import InProcessPlatform

pytestmark = pytest.mark.infra

PHONE = "13905940000"
DECISION = "莆荔城管罚决〔2026〕8号"

Row = tuple[int, int, int, bool]
"""A stage of GetCampaignProgress: done, expected, expected by now, behind."""


@dataclass
class Expected:
    """What licheng's year should show at the next checkpoint; each stage moves it."""

    progress: dict[str, Row] = field(
        default_factory=lambda: {
            "mobilisation": (0, 1, 0, False),
            "self_inspection": (0, 6, 0, False),
            "self_inspection_ledgers": (0, 1, 0, False),
            "spot_checks": (0, 0, 0, False),
            "township_inspections": (0, 6, 0, False),
            "supervised_rectification": (0, 0, 0, False),
            "unit_summaries": (0, 1, 0, False),
            "review": (0, 1, 0, False),
        }
    )
    warnings: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(rule, subject named back, period) → status."""
    zhihui: list[tuple[str, str, str]] = field(default_factory=list)
    """(record type, rule, subject named back) of every 智慧监督 record about licheng."""
    reports: dict[int, str] = field(default_factory=dict)
    """Month → its monthly report's status."""

    def raised(self, rule: str, subject: str, period: str) -> None:
        self.warnings[(rule, subject, period)] = "raised"
        self.zhihui.append(("warning_raised", rule, subject))

    def acknowledged(self, rule: str, subject: str, period: str) -> None:
        self.warnings[(rule, subject, period)] = "acknowledged"
        self.zhihui.append(("warning_acknowledged", rule, subject))

    def closed(self, rule: str, subject: str, period: str) -> None:
        assert (rule, subject, period) in self.warnings, "a warning closes once raised"
        self.warnings[(rule, subject, period)] = "closed"
        self.zhihui.append(("warning_closed", rule, subject))

    def escalated(self, rule: str, subject: str) -> None:
        self.zhihui.append(("warning_escalated", rule, subject))


def checkpoint(walk: Walk, expect: Expected) -> None:
    """Licheng's progress in every stage, its warnings, the 智慧监督 records about it and its
    monthly reports, whole; and every record carried so far was read by its consumers."""
    assert walk.platform.delivered.problems == []
    assert walk.progress() == expect.progress
    assert walk.warning_list() == sorted((*key, status) for key, status in expect.warnings.items())
    assert sorted(walk.zhihui()) == sorted(expect.zhihui)
    assert walk.reports() == expect.reports


def other_counties(
    walk: Walk,
    stages: tuple[str, ...],
    late_months: range,
    cross_missing: tuple[str, ...] = (),
) -> None:
    """Every other county-level unit recorded nothing: behind each of its stages over by now,
    late with every report due, without a cross check in each campaign quarter over; and
    hanjiang, whose two communities no township inspected, behind the townships' stage once
    it is over (9/30)."""
    for unit in OTHER_COUNTIES:
        own = stages
        if unit == PEER and walk.now.date() > date(YEAR, 9, 30):
            own = (*stages, "township_inspections")
        expected = [("unit_behind_stage", unit, f"{YEAR}:{s}", "raised") for s in own]
        expected += [
            ("monthly_report_late", unit, f"{YEAR}-{m:02d}", "raised") for m in late_months
        ]
        expected += [("cross_check_missing", unit, q, "raised") for q in cross_missing]
        assert walk.warning_list(unit) == sorted(expected), unit


def test_one_unit_walks_the_campaign_year(service_settings) -> None:
    platform = InProcessPlatform(service_settings, FakeClock(at(3, 2)))
    walk, expect = Walk(platform), Expected()
    stages: tuple[Callable[[Walk, Expected], None], ...] = (
        register,
        first_quarter,
        audit_and_second_quarter,
        mobilisation,
        self_inspection,
        spot_checks,
        july_report,
        self_inspection_ledgers,
        findings_entered,
        complaint_and_typical_case,
        due_process,
        rectification,
        overdue_and_interview,
        checks_and_township_stage,
        fourth_quarter_and_repair,
        supervised_rectification,
        summaries_and_review,
        new_year,
    )
    try:
        for stage in stages:
            try:
                stage(walk, expect)
            except Exception as error:  # a refused command as much as a failed assertion
                when = walk.now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                error.add_note(f"campaign-year walk: stage {stage.__name__}, at {when}")
                raise
    finally:
        platform.close()


# -- March–July: the register, the quarterly filings, an audit -------------------------------------


def register(walk: Walk, expect: Expected) -> None:
    """3/2: the companies (the city's register), the communities (their units' bureaus) and
    licheng's roster of four inspectors. Nothing is due yet."""
    for uscc, name in COMPANY_NAMES.items():
        walk.do("disclosure", CITY_OFFICER, ds.RegisterCompany(f"co-{uscc}", uscc, name, ""))
    for site in SITES:
        walk.do(
            "disclosure",
            OFFICER if site.unit == UNIT else PEER_OFFICER,
            ds.RegisterCommunity(
                f"reg-{site.code}",
                site.code,
                f"{site.code}小区",
                f"莆田市{UNITS[site.unit][0]}{site.township}",
                site.unit,
                UNITS[site.unit][1],
                site.township,
                site.company,
                COMPANY_NAMES[site.company],
                True,
                2,
                1,
                True,
                400,
            ),
        )
    for n in range(1, 5):
        walk.do(
            "inspection", OFFICER, ins.RegisterInspector(f"ins-{n}", f"LC-I{n}", f"检查员{n}", UNIT)
        )
    walk.sweep()
    assert walk.disclosure_rate(1) == (6, 0, 0, 0, 6)
    assert walk.current_stages() == ["mobilisation"]
    checkpoint(walk, expect)  # no campaign month (July–December) has begun: no report row
    assert walk.platform.feed_records("casework", "zhihui") == []


def first_quarter(walk: Walk, expect: Expected) -> None:
    """Q1 (due 4/30): four licheng communities and hanjiang's two file in April, LC-0005 late
    on 5/6, LC-0006 never: the quarter's close marks it overdue, a 智慧监督 warning."""
    walk.on(4, 20)
    for site in SITES:
        if site.code not in ("LC-0005", "LC-0006"):
            walk.do(
                "disclosure",
                filer(site.company),
                ds.FileDisclosure(f"q1-{site.code}", site.code, YEAR, 1, content(1)),
            )
    walk.on(5, 6)
    late = walk.do(
        "disclosure", filer(USCC_B), ds.FileDisclosure("q1-LC-0005", "LC-0005", YEAR, 1, content(1))
    )
    assert late.late is True
    walk.sweep()  # the hourly quarter close: Q1's deadline (4/30) has passed
    assert walk.disclosure_rate(1) == (6, 4, 1, 1, 0)
    assert walk.disclosure_rate(1, PEER) == (2, 2, 0, 0, 0)
    expect.raised("disclosure_overdue", "LC-0006", "2026Q1")
    checkpoint(walk, expect)


def audit_and_second_quarter(walk: Walk, expect: Expected) -> None:
    """LC-0002's owners' committee asks an audit of its Q1 filing (5/20), answered 6/20; the
    bureau acknowledges and closes the overdue warning with its order to disclose (6/15);
    every community files Q2 on time (7/10)."""
    walk.on(5, 20)
    [q1], _ = walk.platform.ask(
        disclosure_queries.list_disclosures(
            walk.app("disclosure"), OFFICER, UNIT, YEAR, 1, "", 0, "", "LC-0002"
        )
    )
    walk.do(
        "disclosure",
        COMMITTEE,
        ds.RequestAudit("audit-1", q1.disclosure_id, "owners_committee", 0, "停车收入与车位数不符"),
    )
    walk.on(6, 15)
    overdue = walk.warning_id("disclosure_overdue", "LC-0006", "2026Q1")
    walk.do("casework", OFFICER, cw.AcknowledgeWarning("ack-overdue", overdue, "已责令限期公示"))
    expect.acknowledged("disclosure_overdue", "LC-0006", "2026Q1")
    walk.do(
        "casework",
        OFFICER,
        cw.CloseWarning(
            "close-overdue", overdue, ("荔城物业〔2026〕15号责令限期公示通知书",), "已送达"
        ),
    )
    expect.closed("disclosure_overdue", "LC-0006", "2026Q1")
    walk.on(6, 20)
    walk.do(
        "disclosure",
        OFFICER,
        ds.RecordAuditResult(
            "audit-1-result",
            q1.disclosure_id,
            "福建某会计师事务所",
            "consistent",
            0,
            "停车收入与车位数相符",
            date(2026, 6, 19),
        ),
    )
    audits = disclosure_queries.get_audit_result(
        walk.app("disclosure"), COMMITTEE, q1.disclosure_id
    )
    [audit] = audits.audits
    assert audit.result is not None
    assert (audit.number, audit.requester, audit.result.conclusion) == (
        1,
        "owners_committee",
        "consistent",
    )
    walk.on(7, 10)
    for site in SITES:
        walk.do(
            "disclosure",
            filer(site.company),
            ds.FileDisclosure(f"q2-{site.code}", site.code, YEAR, 2, content(2)),
        )
    assert walk.disclosure_rate(2) == (6, 6, 0, 0, 0)  # all filed, before the deadline (7/31)
    expect.reports[7] = "pending"  # July, the campaign's first month, has begun
    checkpoint(walk, expect)


# -- July: mobilisation, the draw, self-inspection, the checks, the first report -------------------


def mobilisation(walk: Walk, expect: Expected) -> None:
    """7/14: licheng and the city record their mobilisation; licheng plans its 50% (3 of 6:
    the three handed down), its discipline office's value draws it; the city plans the Q3
    cross check (licheng's team in hanjiang's two communities). 7/16: mobilisation is over;
    licheng, with no check yet, is behind the pace (1 of 3 expected); the six other counties
    are behind mobilisation."""
    walk.on(7, 14)
    walk.do(
        "casework", OFFICER, cw.RecordStageDone("mob", UNIT, YEAR, "mobilisation", "动员部署会")
    )
    walk.do(
        "casework", CITY_OFFICER, cw.RecordStageDone("mob-city", CITY, YEAR, "mobilisation", "全市")
    )
    planned = walk.do(
        "inspection",
        OFFICER,
        ins.PlanSpotChecks(
            "plan",
            YEAR,
            UNIT,
            inspectors_per_target=2,
            handed_down=("LC-0001", "LC-0002", "LC-0005"),
        ),
    )
    walk.ids["plan"] = planned.plan_id
    walk.do(
        "inspection",
        DISCIPLINE,
        ins.ContributeDrawEntropy("draw", planned.plan_id, "licheng discipline 2026-07-14 #5521"),
    )
    plan = walk.app("inspection").plan(planned.plan_id)
    assert sorted(plan.target_codes) == ["LC-0001", "LC-0002", "LC-0005"]
    verified = inspection_queries.verify_draw(
        walk.app("inspection"), DISCIPLINE, planned.plan_id, None, 0
    )
    assert (verified.matches, verified.status) == (True, "drawn")
    _plan_cross_check(walk, 3)
    walk.on(7, 16)
    walk.sweep()
    assert walk.current_stages() == ["self_inspection"]
    assert walk.plan_progress() == (6, 3, 0, 1, True)
    expect.progress["mobilisation"] = (1, 1, 1, False)
    expect.progress["spot_checks"] = (0, 3, 1, True)
    expect.raised("unit_behind_quota", UNIT, "2026-07")
    checkpoint(walk, expect)
    walk.warnings["behind-quota-07"] = walk.warning_id("unit_behind_quota", UNIT, "2026-07")
    assert walk.stage_warnings() == {"spot_checks": "unit_behind_quota:2026-07"}
    other_counties(walk, ("mobilisation",), range(0))
    assert walk.warning_list(CITY) == []
    assert walk.progress(CITY) == {
        "mobilisation": (1, 1, 1, False),
        "spot_checks": (0, 0, 0, False),
        "review": (0, 1, 0, False),
    }


def _plan_cross_check(walk: Walk, quarter: int) -> None:
    planned = walk.do(
        "inspection",
        CITY_OFFICER,
        ins.PlanCrossCheck(
            f"cross-{quarter}", YEAR, quarter, UNIT, PEER, 2, inspectors_per_target=2
        ),
    )
    walk.ids[f"cross-{quarter}"] = planned.cross_check_id
    walk.do(
        "inspection",
        CITY_DISCIPLINE,
        ins.ContributeDrawEntropy(
            f"cross-draw-{quarter}", planned.cross_check_id, f"city discipline {YEAR}Q{quarter} #77"
        ),
    )


ONE_PROBLEM = (SelfInspectionItem("停车收入台账不全", "补齐台账", date(2026, 8, 31), "黄主管"),)
PROBLEMS = {
    "LC-0001": (
        SelfInspectionItem("公示牌未设在主要出入口", "移至南门", date(2026, 8, 15), "林经理"),
        SelfInspectionItem("广告收入未入专户", "补记入专户", date(2026, 7, 31), "陈会计"),
    ),
    "LC-0004": (),
}


def self_inspection(walk: Walk, expect: Expected) -> None:
    """7/17: the companies file the self-inspection ledgers of five licheng communities and
    hanjiang's two; the city interviews licheng about its pace. 7/21: the stage (7/20) is
    over with LC-0006's missing: behind. 7/22: LC-0006's comes in, late; the platform closes
    the warning."""
    walk.on(7, 17)
    for site in SITES:
        if site.code != "LC-0006":
            walk.do(
                "disclosure",
                filer(site.company),
                ds.FileSelfInspection(
                    f"si-{site.code}",
                    site.code,
                    YEAR,
                    PROBLEMS.get(site.code, ONE_PROBLEM),
                    date(2026, 7, 16),
                    ("wechat_group", "sms"),
                ),
            )
    walk.do(
        "casework",
        CITY_HEAD,
        cw.RecordInterview(
            "interview-licheng",
            "unit",
            UNIT,
            "",
            "抽查进度滞后",
            (walk.warnings["behind-quota-07"],),
            (),
            "2026-07-17",
            "区局承诺7月底前完成抽查",
        ),
    )
    walk.on(7, 21)
    walk.sweep()
    expect.progress["self_inspection"] = (5, 6, 6, True)
    expect.raised("unit_behind_stage", UNIT, "2026:self_inspection")
    checkpoint(walk, expect)
    walk.on(7, 22)
    filed = walk.do(
        "disclosure",
        filer(USCC_B),
        ds.FileSelfInspection(
            "si-LC-0006", "LC-0006", YEAR, ONE_PROBLEM, date(2026, 7, 21), ("phone",)
        ),
    )
    assert filed.late is True
    walk.do(
        "disclosure",
        filer(USCC_A),
        ds.RecordSelfInspectionRectification(
            "si-fix", "LC-0001", YEAR, 2, date(2026, 7, 21), "已补记并公示"
        ),
    )
    walk.sweep()
    expect.progress["self_inspection"] = (6, 6, 6, False)
    expect.closed("unit_behind_stage", UNIT, "2026:self_inspection")
    checkpoint(walk, expect)
    assert walk.self_inspections() == [
        ("LC-0001", 2, 1, False),
        ("LC-0002", 1, 0, False),
        ("LC-0003", 1, 0, False),
        ("LC-0004", 0, 0, False),
        ("LC-0005", 1, 0, False),
        ("LC-0006", 1, 0, True),
    ]


FAILED = {
    "LC-0001": {"A1": "general", "A2": "minor", "A3": "general", "A4": "minor", "A5": "general"},
    "LC-0002": {
        "A6": "general",
        "A7": "general",
        "A8": "general",
        "B1": "general",
        "B2": "general",
    },
    "LC-0005": {
        "B3": "general",
        "B4": "general",
        "B5": "general",
        "B6": "serious",
        "C1": "general",
    },
}
"""What each drawn community's checklist fails, and how seriously: between them every item of
the checklist (A1–A8, B1–B6, C1)."""


def spot_checks(walk: Walk, expect: Expected) -> None:
    """7/23, 7/24, 7/27: the drawn teams check LC-0001, LC-0002 and LC-0005; the checklists
    fail all fifteen items between them, each with a photo: fifteen findings, fifteen
    deductions, both companies found twice in a year, each check's result to market
    regulation."""
    plan = walk.app("inspection").plan(walk.ids["plan"])
    # LC-0005 is checked at 07:30, still 7/26 in UTC: its record's day is Putian's (7/27).
    for (month, day, hour), code in zip(
        ((7, 23, 10), (7, 24, 10), (7, 27, 7)), FAILED, strict=True
    ):
        walk.on(month, day, hour, 30)
        failed = FAILED[code]
        checklist = tuple(
            ChecklistResult(
                item.key,
                item.code not in failed,
                f"{item.question_zh}：否" if item.code in failed else "",
                (),
                failed.get(item.code, ""),
                (walk.photo(f"{code}-{item.code}.png"),) if item.code in failed else (),
            )
            for item in CHECKLIST_ITEMS
        )
        [target] = [t for t in plan.targets if t["community_code"] == code]
        done = walk.do(
            "inspection",
            INSPECTOR,
            ins.RecordSpotCheck(
                f"check-{code}",
                walk.ids["plan"],
                code,
                walk.now,
                tuple(target["inspectors"]),
                checklist,
            ),
        )
        codes = [item.code for item in CHECKLIST_ITEMS if item.code in failed]
        walk.findings.update(zip(codes, done.finding_ids, strict=True))
        walk.ids[f"check:{code}"] = done.spot_check_id
    assert walk.plan_progress() == (6, 3, 3, 1, False)
    expect.progress["spot_checks"] = (3, 3, 1, False)
    expect.progress["supervised_rectification"] = (0, 15, 0, False)
    expect.raised("repeat_violations", USCC_A, "2026")
    expect.raised("repeat_violations", USCC_B, "2026")
    checkpoint(walk, expect)
    assert walk.credit_feed("market") == [
        "spot-check:check:LC-0001",
        "spot-check:check:LC-0002",
        "spot-check:check:LC-0005",
    ]
    record = walk.credit_record("market", f"spot-check:{walk.ids['check:LC-0005']}")
    assert (record["uscc"], record["inspected_on"], record["result"], record["findings"]) == (
        USCC_B,
        "2026-07-27",
        "problems_found",
        sorted(i.key for i in CHECKLIST_ITEMS if i.code in FAILED["LC-0005"]),
    )
    assert walk.credit_feed("creditchina") == []  # a finding is no penalty
    # A: A 2+1+2+1+2 (LC-0001) and 2+2+2, B 4+4 (LC-0002) = 22; B: B 4+4+4+8, C 8 = 28.
    assert walk.ledger(USCC_A) == (78, "A", False, False)
    assert walk.ledger(USCC_B) == (72, "A", False, False)


NOTHING = dict.fromkeys((key for key, _ in casework_queries.FIGURES), 0)
"""A monthly report's figures when nothing happened in the month."""


def july_report(walk: Walk, expect: Expected) -> None:
    """7/28: July's report was due 7/27 (the 25th a Saturday): the sweep warns about all seven
    units; licheng submits, late, and the platform closes its warning with the report, whose
    figures are July's ledgers. Licheng records its guidance on the ledgers; LC-0001's
    company objects to A4, upheld 7/29: withdrawn, its deduction annulled, its rectification
    no longer counted. 7/30: the city's briefing, on time, with licheng's report in."""
    walk.on(7, 28)
    walk.sweep()
    expect.raised("monthly_report_late", UNIT, "2026-07")
    expect.reports[7] = "missing"
    checkpoint(walk, expect)
    submitted = walk.do(
        "casework", OFFICER, cw.SubmitMonthlyReport("report-07", UNIT, YEAR, 7, "完成动员和抽查")
    )
    assert (submitted.due_on, submitted.late) == ("2026-07-27", True)
    assert walk.report_figures(7) == {
        **NOTHING,
        "interviews": 1,  # the city's of licheng, 7/17
        "problem_ledger_rows": 15,  # a rectification case per finding
        "rectification_cases_opened": 15,
        "work_ledger_rows": 15,
        "rectifications_ordered": 15,
        "self_inspections": 6,
        "spot_checks": 3,
        "warnings_raised": 5,  # behind quota and self-inspection, repeats A and B, this one
    }
    expect.closed("monthly_report_late", UNIT, "2026-07")
    expect.reports[7] = "late"
    walk.do(
        "casework",
        OFFICER,
        cw.RecordStageDone("ledgers", UNIT, YEAR, "self_inspection_ledgers", "已指导建立台账"),
    )
    expect.progress["self_inspection_ledgers"] = (1, 1, 0, False)
    walk.do(
        "inspection",
        manager(USCC_A),
        ins.ObjectToFinding(
            "object-A4", walk.findings["A4"], "公示已满30日", (walk.photo("公示照片.png"),)
        ),
    )
    walk.on(7, 29)
    decided = walk.do(
        "inspection",
        OFFICER,
        ins.DecideObjection("decide-A4", walk.findings["A4"], True, "经复核，公示期满30日"),
    )
    assert (decided.objection, decided.status) == ("upheld", "withdrawn")
    assert walk.findings_list()["A4"] == ("withdrawn", "upheld", 0)
    expect.progress["supervised_rectification"] = (0, 14, 0, False)
    assert walk.ledger(USCC_A) == (79, "A", False, False)
    assert walk.ledger_entries(USCC_A)[-1] == ("annulled", "finding:A4", 1, 79)
    walk.on(7, 30)
    briefed = walk.do(
        "casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-07", YEAR, 7, "7月简报")
    )
    assert (briefed.due_on, briefed.late, briefed.units_reported) == ("2026-07-30", False, [UNIT])
    assert walk.reports(CITY) == {7: "submitted"}
    checkpoint(walk, expect)


def self_inspection_ledgers(walk: Walk, expect: Expected) -> None:
    """8/1: the stage of the ledgers (7/31) is over: the six other counties are behind it and
    late with July's report; Q2 closes with nothing overdue; licheng keeps its pace."""
    walk.on(8, 1)
    walk.sweep()
    assert walk.current_stages() == ["spot_checks", "township_inspections"]
    expect.progress["self_inspection_ledgers"] = (1, 1, 1, False)
    expect.reports[8] = "pending"
    checkpoint(walk, expect)
    assert walk.disclosure_rate(2) == (6, 6, 0, 0, 0)
    other_counties(walk, ("mobilisation", "self_inspection_ledgers"), range(7, 8))


# -- August: findings entered directly, the public's complaint, due process, rectification ---------


DIRECT = {
    "C2": ("LC-0003", "serious", "物业项目经理私自截留停车费4.2万元"),
    "D1": ("LC-0004", "general", "与业委会将架空层出租给第三方经营"),
    "D2": ("LC-0006", "general", "虚增外墙维修工程量套取公共收益"),
    "D3": ("LC-0003", "general", "虚增公共收益经营管理费用1.8万元"),
}


def findings_entered(walk: Walk, expect: Expected) -> None:
    """8/3 company A submits its evidence of rectifying A1. 8/4: licheng enters the collusion
    and embezzlement its investigations found (C2, D1–D3, with evidence) and its township's
    failure (E2, 镇海街道); the city enters licheng's own (E1, escalating July's pace warning;
    E3). Company A falls below 60: proposed for the list. 8/5: the credit office lists it
    (信用中国); the city closes the escalated warning; A1 verified on the company's evidence,
    A2 on the bureau's (minor: its points back at once)."""
    walk.on(8, 3)
    walk.do(
        "inspection",
        filer(USCC_A),
        ins.SubmitRectificationEvidence(
            "evidence-A1", walk.findings["A1"], "已设置公示牌", (walk.photo("公示牌.png"),)
        ),
    )
    walk.on(8, 4)
    for code, (community, severity, note) in DIRECT.items():
        found = walk.do(
            "inspection",
            OFFICER,
            ins.RecordFinding(
                f"direct-{code}", code, severity, note, (walk.photo(f"{code}.png"),), community
            ),
        )
        walk.findings[code] = found.finding_id
    agency = (
        (OFFICER, "E2", "镇海街道", "", "镇海街道未对发现问题的企业及时查处"),
        (CITY_OFFICER, "E1", "", walk.warnings["behind-quota-07"], "荔城区未按进度开展抽查"),
        (CITY_OFFICER, "E3", "", "", "荔城区对业主投诉查处不及时"),
    )
    for who, code, township, warning_id, note in agency:
        found = walk.do(
            "inspection",
            who,
            ins.RecordFinding(
                f"direct-{code}",
                code,
                "general",
                note,
                (walk.photo(f"{code}.png"),),
                agency_unit=UNIT,
                township=township,
                warning_id=warning_id,
            ),
        )
        assert (found.party, found.deadline) == ("agency", "")
        walk.findings[code] = found.finding_id
    assert set(walk.findings_list()) == set(KINDS)  # every code of the list, recorded
    expect.progress["supervised_rectification"] = (0, 18, 0, False)
    expect.raised("agency_finding", "finding:E2", "")
    expect.raised("agency_finding", "finding:E3", "")
    expect.escalated("unit_behind_quota", UNIT)  # E1 cites it: linked, no record of its own
    checkpoint(walk, expect)
    assert walk.escalations("unit_behind_quota", UNIT, "2026-07") == ("finding:E1",)
    # A: C 12 (C2), D 8 + 8 (D1, D3); D1 took it to 59, below 60: proposed, not listed.
    assert walk.ledger(USCC_A) == (51, "C", False, True)
    assert walk.ledger(USCC_B) == (64, "B", False, False)  # D2: 8
    walk.warnings["repeat-A"] = walk.warning_id("repeat_violations", USCC_A, "2026")
    walk.on(8, 5, 7, 45)  # 8/4 in UTC: the listing's day is Putian's (8/5)
    walk.do(
        "credit",
        CREDIT_OFFICE,
        cr.DecideSeriousDishonesty("list-A", USCC_A, True, "扣分低于60分且侵占公共收益，列入名单"),
    )
    assert walk.ledger(USCC_A) == (51, "C", True, False)
    walk.on(8, 5)
    walk.do(
        "casework",
        CITY_OFFICER,
        cw.CloseWarning(
            "close-quota", walk.warnings["behind-quota-07"], ("E1认定",), "已认定并移交问责"
        ),
    )
    expect.closed("unit_behind_quota", UNIT, "2026-07")
    walk.do(
        "inspection",
        OFFICER,
        ins.VerifyRectification(
            "verify-A1", walk.findings["A1"], walk.now, (), "", cite_company_evidence=True
        ),
    )
    walk.do(
        "inspection",
        OFFICER,
        ins.VerifyRectification("verify-A2", walk.findings["A2"], walk.now, ("A2复查照片",)),
    )
    # A1 counts as rectified when the company proved it (8/3), not when the bureau came.
    assert walk.verification("A1") == (False, "2026-08-03")
    assert walk.verification("A2") == (False, "2026-08-05")
    expect.progress["supervised_rectification"] = (2, 18, 0, False)
    checkpoint(walk, expect)
    assert walk.ledger(USCC_A) == (52, "C", True, False)  # A2 is minor: repaired at once
    assert walk.ledger_entries(USCC_A) == [
        *(("deducted", f"finding:{c}", p, s) for c, p, s in DEDUCTED_A),
        ("annulled", "finding:A4", 1, 79),
        ("deducted", "finding:C2", 12, 67),
        ("deducted", "finding:D1", 8, 59),
        ("dishonesty_proposed", "", 0, 59),
        ("deducted", "finding:D3", 8, 51),
        ("dishonesty_listed", "", 0, 51),
        ("restored", "finding:A2", 1, 52),
    ]
    # The ledger's 17th event lists it: Opened, 10 deductions, the annulment, C2, D1, the
    # proposal, D3, the listing.
    assert walk.credit_feed("creditchina") == [f"dishonesty:{USCC_A}:17"]
    listed = walk.credit_record("creditchina", f"dishonesty:{USCC_A}:17")
    assert (listed["record_type"], listed["listed_on"], listed["score"]) == (
        "serious_dishonesty",
        "2026-08-05",
        51,
    )


DEDUCTED_A = (
    ("A1", 2, 98),
    ("A2", 1, 97),
    ("A3", 2, 95),
    ("A4", 1, 94),
    ("A5", 2, 92),
    ("A6", 2, 90),
    ("A7", 2, 88),
    ("A8", 2, 86),
    ("B1", 4, 82),
    ("B2", 4, 78),
)
"""Company A's deductions of July's checks (table putian-credit-2023.1: A minor 1, general 2;
B general 4)."""


def complaint_and_typical_case(walk: Walk, expect: Expected) -> None:
    """8/5, evening: an owner lodges a complaint about LC-0003 through the public app and
    follows it by its tracking number; licheng investigates, tells the complainant (8/7),
    closes it and publishes it as a typical case (8/10)."""
    walk.on(8, 5, 20)
    lodged = walk.do(
        "casework",
        PUBLIC,
        cw.LodgeComplaint(
            "lodge-1", "LC-0003", "revenue_not_disclosed", "停车收入去向不明", "王某某", PHONE
        ),
    )
    assert lodged.unit == UNIT
    walk.ids["case:complaint"] = lodged.case_id
    status = walk.do("casework", PUBLIC, cw.GetComplaintStatus(lodged.tracking_number, PHONE))
    assert (status.status, status.feedback_given, status.result) == ("received", False, "")
    walk.on(8, 6)
    walk.do("casework", OFFICER, cw.StartInvestigation("inv-1", lodged.case_id))
    walk.do(
        "casework",
        OFFICER,
        cw.ResolveCase(
            "res-1", lodged.case_id, "已立案查处，责令退还", (walk.case_file("退款凭证.png"),)
        ),
    )
    walk.on(8, 7)
    walk.do("casework", OFFICER, cw.GiveFeedback("fb-1", lodged.case_id, "phone", "已电话告知"))
    walk.do("casework", OFFICER, cw.CloseCase("close-1", lodged.case_id))
    walk.do("casework", HEAD, cw.FlagTypicalCase("flag-1", lodged.case_id, "侵占停车收入"))
    status = walk.do("casework", PUBLIC, cw.GetComplaintStatus(lodged.tracking_number, PHONE))
    assert (status.status, status.feedback_given, status.result) == (
        "closed",
        True,
        "已立案查处，责令退还",
    )
    walk.on(8, 10)
    walk.do(
        "casework",
        HEAD,
        cw.PublishTypicalCase(
            "publish-1", lodged.case_id, "某物业截留停车收入案", "责令退还并扣减信用分", USCC_A, ""
        ),
    )
    assert walk.typical_cases() == [("case:complaint", UNIT, USCC_A, "2026-08-10")]
    # The pace expects 2 of the 3 checks once 26 of the window's 78 days have passed (8/10).
    expect.progress["spot_checks"] = (3, 3, 2, False)
    checkpoint(walk, expect)  # told in time: no complaint_without_feedback


def due_process(walk: Walk, expect: Expected) -> None:
    """8/10: licheng notifies company A of the penalty it intends for C2 (statement by 8/17,
    5 working days); 8/12 the company states and defends; 8/18 the decision, considering it:
    published on 信用中国 and with market regulation. Company B objects to B5's deduction
    (8/12); the credit office refuses (8/13)."""
    walk.on(8, 10)
    penalty = cr.ImposePenalty(
        request_id="penalty",
        decision_number=DECISION,
        party_name=COMPANY_NAMES[USCC_A],
        party_uscc=USCC_A,
        violation_kind="C2",
        facts="项目经理私自截留停车费4.2万元",
        legal_basis="《物业管理条例》第六十三条",
        penalty_types=("warning", "fine"),
        content="警告，罚款人民币贰万元",
        fine_fen=2_000_000,
        confiscated_fen=0,
        decision_date="2026-08-18",
        authority_name=AUTHORITY[0],
        authority_uscc=AUTHORITY[1],
        unit=UNIT,
        remarks="",
        severity="general",
        valid_until="2027-02-17",
    )
    notice = walk.do(
        "credit",
        OFFICER,
        cr.NotifyIntendedPenalty(
            "notice",
            penalty.party_name,
            penalty.party_uscc,
            penalty.violation_kind,
            penalty.facts,
            penalty.legal_basis,
            penalty.penalty_types,
            penalty.content,
            penalty.fine_fen,
            penalty.confiscated_fen,
            penalty.severity,
            UNIT,
            "",
            "",
            (walk.document("告知书.pdf"),),
        ),
    )
    assert (notice.notified_on, notice.statement_deadline) == ("2026-08-10", "2026-08-17")
    walk.on(8, 12)
    walk.do(
        "credit",
        manager(USCC_A),
        cr.SubmitStatement(
            "statement",
            notice.notice_id,
            "已退还全部款项",
            attachments=(walk.document("退款.pdf"),),
        ),
    )
    walk.do(
        "credit",
        manager(USCC_B),
        cr.ObjectToDeduction("object-B5", USCC_B, walk.findings["B5"], "分配比例经业主大会确认"),
    )
    walk.on(8, 13)
    walk.do(
        "credit",
        CREDIT_OFFICE,
        cr.DecideDeductionObjection(
            "decide-B5", USCC_B, walk.findings["B5"], False, "决议未经表决"
        ),
    )
    assert walk.ledger_entries(USCC_B) == [
        ("deducted", "finding:B3", 4, 96),
        ("deducted", "finding:B4", 4, 92),
        ("deducted", "finding:B5", 4, 88),
        ("deducted", "finding:B6", 8, 80),
        ("deducted", "finding:C1", 8, 72),
        ("deducted", "finding:D2", 8, 64),
        ("objected", "finding:B5", 0, 0),
        ("objection_rejected", "finding:B5", 0, 0),
    ]
    walk.on(8, 18)
    imposed = walk.do(
        "credit",
        OFFICER,
        replace(
            penalty, notice_id=notice.notice_id, statement_consideration="退还款项属实，从轻处罚"
        ),
    )
    # general: displayed 3 months to a year from the decision (DOMAIN.md §6)
    assert (imposed.display_until, imposed.repair_from, imposed.published) == (
        "2027-08-18",
        "2026-11-18",
        True,
    )
    assert walk.credit_feed("creditchina") == [f"dishonesty:{USCC_A}:17", f"penalty:{DECISION}"]
    published = walk.credit_record("creditchina", f"penalty:{DECISION}")
    assert {k: published[k] for k in PUBLISHED} == {
        "party_uscc": USCC_A,
        "violation_code": "C2",
        "violation_type": "管理人员私自侵吞公共收益",
        "fine_wan_yuan": "2.000000",
        "decision_date": "2026-08-18",
        "valid_until": "2027-02-17",
        "display_until": "2027-08-18",
    }
    assert walk.credit_feed("market")[-1] == f"penalty:{DECISION}"
    checkpoint(walk, expect)


PUBLISHED = (
    "party_uscc",
    "violation_code",
    "violation_type",
    "fine_wan_yuan",
    "decision_date",
    "valid_until",
    "display_until",
)

VERIFIED_IN_AUGUST = (
    "A3",
    "A5",
    "A6",
    "A7",
    "A8",
    "B1",
    "B2",
    "B3",
    "B5",
    "B6",
    "C1",
    "C2",
    "D1",
    "D2",
)


def rectification(walk: Walk, expect: Expected) -> None:
    """8/19: the townships inspect five of licheng's six communities. 8/20: the bureau verifies
    every rectification but B4's and D3's. 8/21–8/24: the Q3 cross check made and reported;
    August's report on time. 8/27: B4's deadline (8/26: 30 days from 7/27) passed: overdue.
    8/31: the city's August briefing (due the 30th, a Sunday)."""
    walk.on(8, 19)
    for site in LICHENG:
        if site.code != "LC-0006":
            walk.do(
                "inspection",
                TOWNSHIP,
                ins.RecordTownshipInspection(
                    f"township-{site.code}",
                    site.code,
                    site.township,
                    "2026-08-19",
                    "巡查员甲",
                    ("公示栏破损",) if site.code == "LC-0004" else (),
                ),
            )
    expect.progress["township_inspections"] = (5, 6, 0, False)
    walk.on(8, 20)
    for code in VERIFIED_IN_AUGUST:
        walk.do(
            "inspection",
            OFFICER,
            ins.VerifyRectification(
                f"verify-{code}", walk.findings[code], walk.now, (f"{code}复查",)
            ),
        )
    expect.progress["supervised_rectification"] = (16, 18, 0, False)
    walk.on(8, 21, 10)
    _cross_check(walk, 3)
    walk.on(8, 24)
    walk.do("inspection", OFFICER, ins.ReportCrossCheck("report-cross-3", walk.ids["cross-3"]))
    walk.do("casework", OFFICER, cw.SubmitMonthlyReport("report-08", UNIT, YEAR, 8, "8月进展"))
    assert walk.report_figures(8) == {
        **NOTHING,
        "complaints_received": 1,
        "cases_closed": 1,
        "feedback_given": 1,
        "typical_cases": 1,
        "typical_cases_published": 1,
        "problem_ledger_rows": 5,  # the complaint, the rectification cases of C2 and D1–D3
        "rectification_cases_opened": 4,
        "work_ledger_rows": 10,
        "rectifications_ordered": 4,
        "rectifications_verified": 16,
        "township_inspections": 5,
        "warnings_raised": 2,  # E2's and E3's
    }
    expect.reports[8] = "submitted"
    walk.on(8, 27)
    walk.sweep()
    assert walk.findings_list()["B4"] == ("overdue", "", 0)
    expect.raised("rectification_overdue", "rectification:B4", "2026-08-26")
    checkpoint(walk, expect)
    walk.warnings["overdue-B4"] = walk.warning_id(
        "rectification_overdue", walk.rectification_case("B4"), "2026-08-26"
    )
    walk.on(8, 31)
    walk.do("casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-08", YEAR, 8, "8月简报"))
    assert walk.reports(CITY) == {7: "submitted", 8: "submitted"}  # September has not begun
    assert walk.cross_checks() == {"2026Q3": "done", "2026Q4": "pending"}
    assert walk.township_ledger() == [
        ("LC-0001", "镇海街道", "2026-08-19", 0),
        ("LC-0002", "镇海街道", "2026-08-19", 0),
        ("LC-0003", "镇海街道", "2026-08-19", 0),
        ("LC-0004", "黄石镇", "2026-08-19", 1),
        ("LC-0005", "黄石镇", "2026-08-19", 0),
    ]


def _cross_check(walk: Walk, quarter: int) -> None:
    """The cross check's drawn team checks both of hanjiang's communities: all in order."""
    plan = walk.app("inspection").plan(walk.ids[f"cross-{quarter}"])
    passed = tuple(ChecklistResult(item.key, True) for item in CHECKLIST_ITEMS)
    for target in plan.targets:
        done = walk.do(
            "inspection",
            INSPECTOR,
            ins.RecordSpotCheck(
                f"cross-{quarter}-{target['community_code']}",
                walk.ids[f"cross-{quarter}"],
                target["community_code"],
                walk.now,
                tuple(target["inspectors"]),
                passed,
            ),
        )
        walk.ids[f"cross-{quarter}:{target['community_code']}"] = done.spot_check_id


def overdue_and_interview(walk: Walk, expect: Expected) -> None:
    """9/1: B4 verified, late; the bureau closes its warning. 9/4: D3's deadline (9/3: 30 days
    from 8/4) passed. 9/15: licheng interviews company A on its repeated violations. 9/28:
    September's report on time (the 25th fell in the Mid-Autumn holiday)."""
    walk.on(9, 1)
    walk.do(
        "inspection",
        OFFICER,
        ins.VerifyRectification("verify-B4", walk.findings["B4"], walk.now, ("B4复查",)),
    )
    assert walk.verification("B4") == (True, "2026-09-01")
    expect.progress["supervised_rectification"] = (17, 18, 0, False)
    walk.do(
        "casework",
        OFFICER,
        cw.CloseWarning("close-B4", walk.warnings["overdue-B4"], ("B4复查",), "已逾期整改完毕"),
    )
    expect.closed("rectification_overdue", "rectification:B4", "2026-08-26")
    walk.on(9, 4)
    walk.sweep()
    expect.raised("rectification_overdue", "rectification:D3", "2026-09-03")
    expect.reports[9] = "pending"
    checkpoint(walk, expect)
    walk.warnings["overdue-D3"] = walk.warning_id(
        "rectification_overdue", walk.rectification_case("D3"), "2026-09-03"
    )
    walk.on(9, 15)
    walk.do(
        "casework",
        OFFICER,
        cw.RecordInterview(
            "interview-A",
            "company",
            USCC_A,
            UNIT,
            "一年内多次违规，整改逾期",
            (walk.warnings["repeat-A"], walk.warnings["overdue-D3"]),
            (walk.findings["C2"], walk.findings["D3"]),
            "2026-09-15",
            "企业承诺9月底前退还并整改",
        ),
    )
    assert walk.interviews() == [
        ("2026-07-17", CITY, "unit", UNIT, ("warning:behind-quota-07",), ()),
        (
            "2026-09-15",
            UNIT,
            "company",
            USCC_A,
            ("warning:repeat-A", "warning:overdue-D3"),
            ("finding:C2", "finding:D3"),
        ),
    ]
    walk.on(9, 28)
    submitted = walk.do(
        "casework", OFFICER, cw.SubmitMonthlyReport("report-09", UNIT, YEAR, 9, "9月进展")
    )
    assert (submitted.due_on, submitted.late) == ("2026-09-28", False)
    assert walk.report_figures(9) == {
        **NOTHING,
        "interviews": 1,
        "rectifications_verified": 1,  # B4
        "warnings_raised": 1,  # D3's overdue
    }
    expect.reports[9] = "submitted"
    expect.progress["spot_checks"] = (3, 3, 3, False)  # the whole quota from 9/5 (52 days)
    checkpoint(walk, expect)


# -- October–November: the checks' and townships' stage, the fourth quarter, credit repair ---------


def checks_and_township_stage(walk: Walk, expect: Expected) -> None:
    """10/1: spot checks and townships' inspections were due 9/30: licheng met its quota, but
    its townships left LC-0006 out; hanjiang's townships did nothing; the other six counties
    made no Q3 cross check; the city's September briefing is missing. 10/8: the townships
    inspect LC-0006 (late, it completes the stage: caught up, the platform closes the
    warning, and inspection's coverage counts it too); the city
    briefs, late, and its warning closes."""
    walk.on(10, 1)
    walk.sweep()
    assert walk.current_stages() == ["supervised_rectification"]
    expect.progress["township_inspections"] = (5, 6, 6, True)
    expect.raised("unit_behind_stage", UNIT, "2026:township_inspections")
    expect.reports[10] = "pending"
    checkpoint(walk, expect)
    assert walk.township_coverage() == (6, 5, 83, True, {"镇海街道": (3, 3), "黄石镇": (3, 2)})
    assert walk.reports(CITY) == {7: "submitted", 8: "submitted", 9: "missing", 10: "pending"}
    assert walk.warning_list(CITY) == [("province_briefing_late", CITY, "2026-09", "raised")]
    assert walk.cross_checks() == {"2026Q3": "done", "2026Q4": "pending"}
    walk.on(10, 8)
    walk.do(
        "inspection",
        TOWNSHIP,
        ins.RecordTownshipInspection(
            "township-LC-0006", "LC-0006", "黄石镇", "2026-10-08", "巡查员乙"
        ),
    )
    briefed = walk.do(
        "casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-09", YEAR, 9, "9月简报")
    )
    assert (briefed.due_on, briefed.late, briefed.units_reported) == ("2026-09-30", True, [UNIT])
    assert walk.report_figures(9, CITY) == walk.report_figures(9)  # only licheng did anything
    walk.sweep()
    expect.progress["township_inspections"] = (6, 6, 6, False)
    expect.closed("unit_behind_stage", UNIT, "2026:township_inspections")
    checkpoint(walk, expect)
    # inspection and casework count the stage the same way (vocabulary.campaign): late
    # inspections complete it
    assert walk.township_coverage()[:4] == (6, 6, 100, False)
    assert walk.warning_list(CITY) == [("province_briefing_late", CITY, "2026-09", "closed")]
    other_counties(walk, ("mobilisation", "self_inspection_ledgers"), range(7, 10), ("2026Q3",))


def fourth_quarter_and_repair(walk: Walk, expect: Expected) -> None:
    """10/12: Q3 filed everywhere; the Q4 cross check planned, made (10/20), reported (10/21);
    October's report (due the 26th) and briefing on time. 11/3: Q3 closes with nothing
    overdue; July's general deductions, rectified, have had their three months: restored.
    11/19: company A applies to repair its penalty (from 11/18), approved 11/20: withdrawn
    from 信用中国. November's report and briefing on time."""
    walk.on(10, 12)
    for site in SITES:
        walk.do(
            "disclosure",
            filer(site.company),
            ds.FileDisclosure(f"q3-{site.code}", site.code, YEAR, 3, content(3)),
        )
    _plan_cross_check(walk, 4)
    walk.on(10, 20, 10)
    _cross_check(walk, 4)
    walk.on(10, 21)
    walk.do("inspection", OFFICER, ins.ReportCrossCheck("report-cross-4", walk.ids["cross-4"]))
    walk.on(10, 26)
    walk.do("casework", OFFICER, cw.SubmitMonthlyReport("report-10", UNIT, YEAR, 10, "10月进展"))
    expect.reports[10] = "submitted"
    walk.on(10, 30)
    walk.do("casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-10", YEAR, 10, "10月"))
    walk.on(11, 3)
    walk.sweep()
    expect.reports[11] = "pending"
    checkpoint(walk, expect)
    assert walk.disclosure_rate(3) == (6, 6, 0, 0, 0)
    assert walk.cross_checks() == {"2026Q3": "done", "2026Q4": "done"}
    # A: A1, A3, A5–A8 (2 each), B1, B2 (4 each) back; B: B3, B4, B5 (4 each), C1 (8) back.
    assert walk.ledger(USCC_A) == (72, "A", True, False)
    assert walk.ledger(USCC_B) == (84, "AA", False, False)
    walk.on(11, 19)
    walk.do(
        "credit",
        manager(USCC_A),
        cr.ApplyForCreditRepair(
            "repair", DECISION, "罚款已缴纳，问题已整改", (walk.document("缴款凭证.pdf"),)
        ),
    )
    walk.on(11, 20)
    walk.do("credit", CREDIT_OFFICE, cr.DecideCreditRepair("repair-ok", DECISION, True, "符合条件"))
    assert walk.credit_feed("creditchina") == [
        f"dishonesty:{USCC_A}:17",
        f"penalty:{DECISION}",
        f"withdrawal:{DECISION}:repaired",
    ]
    withdrawal = walk.credit_record("creditchina", f"withdrawal:{DECISION}:repaired")
    assert (withdrawal["withdraws"], withdrawal["cause"], withdrawal["withdrawn_on"]) == (
        f"penalty:{DECISION}",
        "repaired",
        "2026-11-20",
    )
    walk.on(11, 25)
    walk.do("casework", OFFICER, cw.SubmitMonthlyReport("report-11", UNIT, YEAR, 11, "11月进展"))
    expect.reports[11] = "submitted"
    walk.on(11, 30)
    walk.do("casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-11", YEAR, 11, "11月"))
    checkpoint(walk, expect)


# -- December: supervised rectification, the summary, the review -----------------------------------


def supervised_rectification(walk: Walk, expect: Expected) -> None:
    """12/1: supervised rectification was due 11/30 with D3 still open: licheng is behind.
    12/2: D3 verified (late); the platform closes the stage's warning, the bureau D3's."""
    walk.on(12, 1)
    walk.sweep()
    expect.progress["supervised_rectification"] = (17, 18, 18, True)
    expect.raised("unit_behind_stage", UNIT, "2026:supervised_rectification")
    expect.reports[12] = "pending"
    checkpoint(walk, expect)
    assert walk.ledger(USCC_A) == (80, "AA", True, False)  # D1 (8/4 + 3 months) back
    assert walk.ledger(USCC_B) == (92, "AAA", False, False)  # D2 back
    walk.on(12, 2)
    walk.do(
        "inspection",
        OFFICER,
        ins.VerifyRectification("verify-D3", walk.findings["D3"], walk.now, ("D3复查",)),
    )
    assert walk.verification("D3") == (True, "2026-12-02")
    walk.do(
        "casework",
        OFFICER,
        cw.CloseWarning("close-D3", walk.warnings["overdue-D3"], ("D3复查",), "已整改"),
    )
    expect.closed("rectification_overdue", "rectification:D3", "2026-09-03")
    walk.sweep()
    expect.progress["supervised_rectification"] = (18, 18, 18, False)
    expect.closed("unit_behind_stage", UNIT, "2026:supervised_rectification")
    checkpoint(walk, expect)
    assert walk.ledger(USCC_A) == (88, "AAA", True, False)  # D3, past its 3 months: at once


def summaries_and_review(walk: Walk, expect: Expected) -> None:
    """12/10 licheng's summary; 12/16 the six others are behind it; December's report (12/24)
    and briefing (12/30); 12/28 the reviews. 12/31: every licheng stage done, the review
    still running; the year's findings, ledgers, feeds and circular as they stand."""
    walk.on(12, 10)
    walk.do(
        "casework", OFFICER, cw.RecordStageDone("summary", UNIT, YEAR, "unit_summaries", "总结")
    )
    expect.progress["unit_summaries"] = (1, 1, 0, False)
    walk.on(12, 16)
    walk.sweep()
    expect.progress["unit_summaries"] = (1, 1, 1, False)
    checkpoint(walk, expect)
    other_counties(
        walk,
        ("mobilisation", "self_inspection_ledgers", "unit_summaries"),
        range(7, 12),
        ("2026Q3",),
    )
    walk.on(12, 24)
    walk.do("casework", OFFICER, cw.SubmitMonthlyReport("report-12", UNIT, YEAR, 12, "12月进展"))
    expect.reports[12] = "submitted"
    walk.on(12, 28)
    walk.do("casework", OFFICER, cw.RecordStageDone("review", UNIT, YEAR, "review", "总结提升"))
    walk.do(
        "casework", CITY_OFFICER, cw.RecordStageDone("review-city", CITY, YEAR, "review", "全市")
    )
    expect.progress["review"] = (1, 1, 0, False)  # due 12/31: judged from 1/1
    walk.on(12, 30)
    walk.do("casework", CITY_OFFICER, cw.SubmitProvinceBriefing("briefing-12", YEAR, 12, "12月"))
    walk.on(12, 31, 18)
    walk.sweep()
    assert walk.current_stages() == ["review"]
    checkpoint(walk, expect)
    assert walk.reports(CITY) == {m: "late" if m == 9 else "submitted" for m in range(7, 13)}
    assert walk.progress(CITY) == {
        "mobilisation": (1, 1, 1, False),
        "spot_checks": (0, 0, 0, False),
        "review": (1, 1, 0, False),
    }
    # hanjiang: checked twice over by licheng's team (no quota of its own), its ledgers filed.
    assert walk.progress(PEER) == {
        "mobilisation": (0, 1, 1, True),
        "self_inspection": (2, 2, 2, False),
        "self_inspection_ledgers": (0, 1, 1, True),
        "spot_checks": (2, 0, 0, False),
        "township_inspections": (0, 2, 2, True),
        "supervised_rectification": (0, 0, 0, False),
        "unit_summaries": (0, 1, 1, True),
        "review": (0, 1, 0, False),
    }
    other_counties(
        walk,
        ("mobilisation", "self_inspection_ledgers", "unit_summaries"),
        range(7, 13),
        ("2026Q3",),
    )
    assert {u: dict(c) for u, c in walk.zhihui_by_unit().items() if u != UNIT} == {
        CITY: {"warning_raised": 1, "warning_closed": 1},
        **{u: {"warning_raised": 11 if u == PEER else 10} for u in OTHER_COUNTIES},
    }
    assert walk.findings_list() == {
        **{code: ("verified", "", 0) for code, kind in KINDS.items() if kind.party == "company"},
        "A1": ("verified", "", 1),
        "A4": ("withdrawn", "upheld", 0),
        "E1": ("found", "", 0),
        "E2": ("found", "", 0),
        "E3": ("found", "", 0),
    }
    assert sorted(walk.credit_feed("market")) == sorted(
        [
            "spot-check:check:LC-0001",
            "spot-check:check:LC-0002",
            "spot-check:check:LC-0005",
            *(f"spot-check:cross-{q}:{c}" for q in (3, 4) for c in ("HJ-0001", "HJ-0002")),
            f"penalty:{DECISION}",
        ]
    )
    status = credit_queries.get_feed_status(walk.app("credit"), CITY_OFFICER, "", "")
    assert [(c.feed, c.pending, c.delivered, c.dead) for c in status.counts] == [
        ("creditchina", 3, 0, 0),
        ("market", 8, 0, 0),
    ]
    circular = walk.platform.ask(
        casework_queries.monthly_circular(walk.app("casework"), CITY_OFFICER, YEAR, 12)
    )
    [standing] = [s for s in circular.standings if s.unit == UNIT]
    assert {k: (r.numerator, r.denominator) for k, r in standing.rates.items()} == {
        "disclosure_rate": (6, 6),  # Q3, the latest quarter due
        "check_rate": (3, 6),
        "rectification_rate": (18, 18),
        "feedback_rate": (1, 1),
    }
    assert (circular.disclosure_quarter, circular.report_status[UNIT]) == ("2026Q3", "submitted")


def new_year(walk: Walk, expect: Expected) -> None:
    """2027-01-04: last year's calendar is judged through January: the review (12/31) is over
    and done; the others missed it and Q4's cross check. Nothing here needs a 2027 working
    day (the holiday calendar has no 2027 yet)."""
    walk.on(1, 4, year=YEAR + 1)
    walk.sweep()
    expect.progress["review"] = (1, 1, 1, False)
    checkpoint(walk, expect)
    assert walk.cross_checks() == {"2026Q3": "done", "2026Q4": "done"}
    assert walk.warning_list(CITY) == [("province_briefing_late", CITY, "2026-09", "closed")]
    other_counties(
        walk,
        ("mobilisation", "self_inspection_ledgers", "unit_summaries", "review"),
        range(7, 13),
        ("2026Q3", "2026Q4"),
    )
