"""The checklist of a spot check (DOMAIN.md §4) and the violation each failed item reveals, and
how every code of the campaign's list can be recorded.

The code list itself, with its texts, the party it is charged to and its legal basis, is the
shared kernel's (`vocabulary.violations.KINDS`): one list for every service, citing the work
plan's paragraph of 二 and the law, so what inspection emits is what credit and casework read.

Two ways lead to a finding:
- a spot check's checklist (`CHECKLIST`): what inspectors can see on the spot and in the
  company's books and postings — every code of 二（一）, 二（二） and C1 of 二（三）;
- a finding entered directly (`RecordFinding`, with evidence): what an investigation, an
  audit or a case establishes rather than a checklist — a staff member's embezzlement (C2),
  the collusion of company and owners' committee (D1–D3), and the agencies' own failures
  (E1–E3, never a company's). Any code may be entered directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from pubrev_contracts.vocabulary.sources import plan
from pubrev_contracts.vocabulary.violations import KINDS, SEVERITIES, ViolationKind


@dataclass(frozen=True)
class ChecklistItem:
    """One item of the spot check's checklist: what is checked (the plan's words in 二) and
    the violation its failure reveals."""

    key: str
    code: str
    question_zh: str
    source: str


def _item(key: str, code: str, question_zh: str, section: str) -> ChecklistItem:
    return ChecklistItem(key, code, question_zh, plan(section))


CHECKLIST_ITEMS = (
    _item("signboard_present", "A1", "是否设置公共收益公示牌", "二（一）"),
    _item("signboard_at_main_entrance", "A2", "公示牌是否设置在小区主要人行出入口位置", "二（一）"),
    _item(
        "disclosed_on_time",
        "A3",
        "是否在每季度第一个月的月底前，将上一季度公共收益收支情况在小区公示牌等醒目位置及省住宅"
        "小区公共收益信息管理系统公示",
        "二（一）",
    ),
    _item("posting_30_days", "A4", "公示时间是否不少于30日", "二（一）"),
    _item("five_items_present", "A5", "公示项目是否齐全，有无漏项错项、张冠李戴", "二（一）"),
    _item("accounts_orderly", "A6", "公示的账目是否清晰，有无账目混乱", "二（一）"),
    _item("figures_match_books", "A7", "公示金额是否与账簿一致，有无填报不实", "二（一）"),
    _item("disclosure_matches_reality", "A8", "公示的公共收益收支情况是否与实际相符", "二（一）"),
    _item("separate_account", "B1", "公共收益是否单独开户或专账管理", "二（二）"),
    _item("spending_approved_by_owners", "B2", "公共收益的使用是否经业主共同决定", "二（二）"),
    _item("revenue_fully_booked", "B3", "公共收益是否全部入账，有无不入账、少入账", "二（二）"),
    _item("expenditure_genuine", "B4", "列支的项目是否真实，有无虚增项目列支", "二（二）"),
    _item("distribution_per_rule", "B5", "公共收益是否按规定或约定的比例进行分配", "二（二）"),
    _item("surplus_transferred", "B6", "公共收益结余是否及时存入维修资金专户", "二（二）"),
    _item(
        "common_parts_authorised",
        "C1",
        "利用共有部分进行经营是否依法经业主共同决定",
        "二（三）",
    ),
)
"""The checklist, in the plan's order (二（一）–（三）)."""

CHECKLIST = {item.key: item.code for item in CHECKLIST_ITEMS}
"""Checklist item → the violation its failure reveals (all charged to the company)."""

DIRECT_ONLY = tuple(code for code in KINDS if code not in CHECKLIST.values())
"""The codes no checklist item leads to: recorded only as findings entered directly (C2,
D1–D3, E1–E3)."""


def how_recorded(code: str) -> tuple[str, ...]:
    """The ways a code can be recorded: `checklist:<item>` and `direct` (every code)."""
    items = tuple(f"checklist:{item.key}" for item in CHECKLIST_ITEMS if item.code == code)
    return (*items, "direct")


__all__ = [
    "CHECKLIST",
    "CHECKLIST_ITEMS",
    "DIRECT_ONLY",
    "KINDS",
    "SEVERITIES",
    "ChecklistItem",
    "ViolationKind",
    "how_recorded",
]
