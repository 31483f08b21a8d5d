"""The campaign's code list of violations (DOMAIN.md §4; letters follow section 二 of the
work plan) and the checklist items that reveal them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViolationKind:
    code: str
    name: str
    name_zh: str
    legal_basis: str


_CIVIL_CODE = "《民法典》第二百八十二条、第九百四十三条"
_REGULATION = "《物业管理条例》第五十四条"
_WORK_PLAN = "莆田市住宅小区公共收益专项整治工作方案"

KINDS = {k.code: k for k in (
    ViolationKind("A1", "no signboard", "未设置公示栏", _CIVIL_CODE),
    ViolationKind("A2", "signboard not at the main entrance", "公示栏未设在小区主要出入口",
                  _CIVIL_CODE),
    ViolationKind("A3", "disclosed late", "未按时公示", _CIVIL_CODE),
    ViolationKind("A4", "posted under 30 days", "公示时间不足30日", _CIVIL_CODE),
    ViolationKind("A5", "items withheld or mislabelled", "公示项目不全或名目不清", _CIVIL_CODE),
    ViolationKind("A6", "accounts confused", "账目混同", _CIVIL_CODE),
    ViolationKind("A7", "false amounts", "公示金额不实", _CIVIL_CODE),
    ViolationKind("A8", "disclosure differs from reality", "公示内容与实际不符", _CIVIL_CODE),
    ViolationKind("B1", "no separate account", "未设立公共收益专户", _REGULATION),
    ViolationKind("B2", "spent without the owners' decision", "未经业主共同决定支出",
                  _REGULATION),
    ViolationKind("B3", "revenue not booked or under-booked", "收入未入账或少入账", _REGULATION),
    ViolationKind("B4", "fictitious expenditure", "虚列支出", _REGULATION),
    ViolationKind("B5", "distribution not per rule", "未按规定分配", _REGULATION),
    ViolationKind("B6", "surplus not transferred", "结余未按规定转存", _REGULATION),
    ViolationKind("C1", "common parts operated without authority", "擅自利用共用部位经营",
                  "《物业管理条例》第六十三条"),
    ViolationKind("C2", "staff embezzlement", "工作人员侵占公共收益", "《刑法》第二百七十一条"),
    ViolationKind("D1", "common parts leased to third parties in collusion",
                  "企业与业委会串通出租共用部位", _CIVIL_CODE),
    ViolationKind("D2", "inflated repair projects", "虚增维修项目", _REGULATION),
    ViolationKind("D3", "inflated management costs", "虚增管理成本", _REGULATION),
    ViolationKind("E1", "checks not done", "未履行监督检查职责", _WORK_PLAN),
    ViolationKind("E2", "findings not acted on", "发现问题未处置", _WORK_PLAN),
    ViolationKind("E3", "complaints stuck", "投诉处理不及时", _WORK_PLAN),
)}

CHECKLIST = {
    "signboard_present": "A1",
    "signboard_at_main_entrance": "A2",
    "posting_30_days": "A4",
    "five_items_present": "A5",
    "separate_account": "B1",
    "figures_match_books": "A7",
    "spending_approved_by_owners": "B2",
    "revenue_fully_booked": "B3",
    "surplus_transferred": "B6",
    "common_parts_authorised": "C1",
}
"""Checklist item → the violation its failure reveals."""

SEVERITIES = ("minor", "general", "serious")
