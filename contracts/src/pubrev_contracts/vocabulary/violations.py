"""The campaign's code list of violations (DOMAIN.md §4; the letters follow section 二 of the
work plan, one letter per paragraph) with the text that names each on the outbound feeds
(违法行为类型) and its source.

A–D are a property company's violations; E are the supervising agencies' own failures
(二（五）: 检查督导落实不到位) and are never charged to a company.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pubrev_contracts.vocabulary.sources import plan

Party = Literal["company", "agency"]

CIVIL_CODE_943 = "《民法典》第九百四十三条"
"""The company discloses public revenue and its use to the owners periodically."""
CIVIL_CODE_282 = "《民法典》第二百八十二条"
"""Income from the common parts, after reasonable cost, belongs to the owners."""
REGULATION_54 = "《物业管理条例》第五十四条"
"""The owners' income from common parts mainly tops up the maintenance fund."""
REGULATION_63 = "《物业管理条例》第六十三条"
"""Unauthorised business use of common parts (DOMAIN.md §4 C, §10)."""
CRIMINAL_LAW_271 = "《刑法》第二百七十一条"
"""职务侵占: a staff member taking the unit's property (DOMAIN.md §7 names the offence)."""


@dataclass(frozen=True)
class ViolationKind:
    code: str
    name: str
    name_zh: str
    """The violation's text, as 违法行为类型 on the feeds."""
    party: Party
    legal_basis: str


def _a(code: str, name: str, zh: str) -> ViolationKind:
    return ViolationKind(code, name, zh, "company", f"{plan('二（一）')}；{CIVIL_CODE_943}")


def _b(code: str, name: str, zh: str, law: str = CIVIL_CODE_282) -> ViolationKind:
    return ViolationKind(code, name, zh, "company", f"{plan('二（二）')}；{law}")


def _d(code: str, name: str, zh: str) -> ViolationKind:
    return ViolationKind(code, name, zh, "company", f"{plan('二（四）')}；{CIVIL_CODE_282}")


def _e(code: str, name: str, zh: str) -> ViolationKind:
    return ViolationKind(code, name, zh, "agency", plan("二（五）"))


KINDS: dict[str, ViolationKind] = {
    k.code: k
    for k in (
        _a("A1", "no signboard", "未设置公示牌"),
        _a("A2", "signboard not at the main entrance", "公示牌未设置在小区主要人行出入口"),
        _a("A3", "disclosed late", "未按规定时限公示公共收益收支情况"),
        _a("A4", "posted under 30 days", "公示时间少于30日"),
        _a("A5", "items withheld or mislabelled", "公示项目漏项错项或张冠李戴"),
        _a("A6", "accounts confused", "公示账目混乱"),
        _a("A7", "false amounts", "公示金额填报不实"),
        _a("A8", "disclosure differs from reality", "公示收支情况与实际不符"),
        _b("B1", "no separate account", "公共收益未单独开户或专账管理"),
        _b("B2", "spent without the owners' decision", "未经业主共同决定擅自使用公共收益"),
        _b("B3", "revenue not booked or under-booked", "公共收益不入账、少入账"),
        _b("B4", "fictitious expenditure", "虚增项目列支公共收益"),
        _b("B5", "distribution not per rule", "未按规定或约定比例分配公共收益"),
        _b("B6", "surplus not transferred", "公共收益结余未及时存入维修资金专户", REGULATION_54),
        ViolationKind(
            "C1",
            "common parts operated without authority",
            "擅自利用共有部分进行经营",
            "company",
            f"{plan('二（三）')}；{REGULATION_63}",
        ),
        ViolationKind(
            "C2",
            "staff embezzlement",
            "管理人员私自侵吞公共收益",
            "company",
            f"{plan('二（三）')}；{CRIMINAL_LAW_271}",
        ),
        _d(
            "D1",
            "common parts leased to third parties in collusion",
            "与业委会共同将共有部分擅自出租给第三方经营",
        ),
        _d("D2", "inflated repair projects", "虚增维修、更新和改造项目及费用套取公共收益"),
        _d("D3", "inflated management costs", "虚增公共收益经营管理费用"),
        _e("E1", "checks not done", "未按规定对住宅小区公共收益公示情况进行抽查检查"),
        _e("E2", "findings not acted on", "对发现的问题企业未及时查处、曝光、移送"),
        ViolationKind(
            "E3",
            "complaints stuck",
            "对业主投诉的侵占公共收益问题查处不及时、处理不到位",
            "agency",
            plan("二（三）、二（五）"),
        ),
    )
}

COMPANY_KINDS = tuple(code for code, kind in KINDS.items() if kind.party == "company")
SEVERITIES = ("minor", "general", "serious")
"""轻微, 一般, 严重 (信用修复管理办法's tiers; DOMAIN.md §6)."""
