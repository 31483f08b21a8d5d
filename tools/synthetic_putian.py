"""A synthetic but realistic Putian (莆田市) dataset for the disclosure service.

    python tools/synthetic_putian.py --seed 2023 --summary        # counts, as JSON
    python tools/synthetic_putian.py --seed 2023 --out data.jsonl  # every message, one a line

`generate()` is deterministic: the same arguments give the same messages, byte for byte
(one `random.Random(seed)`, consumed in a fixed order; no set or hash order is ever used).
What it gives is a list of protobuf *requests* of `pubrev.disclosure.v1.DisclosureService`,
ready for a loader to send over gRPC or to apply to the application:

1. `companies` (RegisterCompanyRequest), then `communities` (RegisterCommunityRequest);
2. in time order (`Dataset.timeline()`): `handovers` (ChangePropertyCompanyRequest, effective
   00:00 Asia/Shanghai of their `effective_date`), `filings` and `amendments`. A filing is
   made by the company in charge on the quarter's last day (民法典 Art. 943), even when it
   is filed after a handover; an amendment needs the disclosure id and version the loader
   got back (`Amendment.to_request`).

Realism (DOMAIN.md §2, §3, §10): the seven county-level units of `pubrev_contracts.units`
with real township names, communities weighted towards the urban districts, valid
统一社会信用代码 (a few bad ones from the official registry), facilities by building era,
income in integer fen sized by the facilities, and the campaign's mix of on-time, late,
missing, zero-revenue and broken (identity) filings. Every content but the "inconsistent"
ones passes every rule of the disclosure domain exactly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time as timer
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev_contracts.vocabulary.calendar import CHINA
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_QUARTERS: tuple[tuple[int, int], ...] = tuple(
    (year, quarter) for year in (2024, 2025) for quarter in (1, 2, 3, 4)
)

# -- the campaign's mix (shares of community-quarters, "slots") ----------------------------
P_MISSING = 0.05  # never filed: overdue
P_LATE = 0.07  # filed after the deadline, up to 60 days
P_CHRONIC_ZERO = 0.032  # communities with nothing to earn from: no_income every quarter
P_SPORADIC_ZERO = 0.015  # a zero quarter in a community that has facilities (a warning case)
P_INCONSISTENT = 0.0166  # of filed non-zero slots: a rejected attempt before the real filing
P_AMENDMENT = 0.03  # of filed disclosures
P_HANDOVER = 0.03  # of communities
P_BAD_USCC = 0.01  # of companies: bad check character, from the official registry
MAX_COMMUNITIES_PER_COMPANY = 20

# -- identifiers (GB 32100-2015, GB 11714) -------------------------------------------------
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 whose first 17 are `first17`."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    return (
        len(code) == 18
        and all(c in USCC_CHARSET for c in code)
        and code[17] == uscc_check_char(code[:17])
    )


def _org_code(body8: str) -> str:
    """组织机构代码 (GB 11714): 8 characters and their check character (positions 9–17)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return body8 + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


# -- geography -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _UnitPlan:
    prefix: str  # community code prefix
    weight: float  # share of the city's residential communities
    townships: tuple[tuple[str, int], ...]  # (name, weight); 街道 are urban
    roads: tuple[str, ...]
    bank_branch: str


_UNIT_PLANS: dict[str, _UnitPlan] = {
    "chengxiang": _UnitPlan(
        "CX",
        0.26,
        (
            ("龙桥街道", 5),
            ("凤凰山街道", 5),
            ("霞林街道", 4),
            ("东海镇", 2),
            ("华亭镇", 2),
            ("灵川镇", 1),
            ("常太镇", 1),
        ),
        (
            "荔华东大道",
            "学园南街",
            "龙桥路",
            "凤凰山路",
            "霞林路",
            "东园西路",
            "文献西路",
            "华亭路",
            "延寿南街",
        ),
        "城厢",
    ),
    "licheng": _UnitPlan(
        "LC",
        0.26,
        (
            ("镇海街道", 6),
            ("拱辰街道", 5),
            ("西天尾镇", 3),
            ("黄石镇", 3),
            ("新度镇", 2),
            ("北高镇", 1),
        ),
        (
            "荔园路",
            "镇海路",
            "拱辰路",
            "梅园东路",
            "胜利南街",
            "西天尾大道",
            "黄石大道",
            "新度路",
            "八二一北街",
        ),
        "荔城",
    ),
    "hanjiang": _UnitPlan(
        "HJ",
        0.16,
        (
            ("涵东街道", 5),
            ("涵西街道", 5),
            ("江口镇", 3),
            ("三江口镇", 2),
            ("白塘镇", 2),
            ("国欢镇", 1),
        ),
        ("涵华路", "涵中路", "宫口路", "江口大道", "延宁路", "白塘路", "国欢路"),
        "涵江",
    ),
    "xianyou": _UnitPlan(
        "XN",
        0.15,
        (
            ("鲤城街道", 6),
            ("鲤南镇", 3),
            ("榜头镇", 3),
            ("枫亭镇", 2),
            ("度尾镇", 1),
            ("赖店镇", 1),
        ),
        ("鲤城大街", "八二五大街", "鲤南大道", "榜头路", "枫亭路", "东门路"),
        "仙游",
    ),
    "xiuyu": _UnitPlan(
        "XY",
        0.10,
        (("笏石镇", 5), ("东庄镇", 2), ("月塘镇", 2), ("埭头镇", 1), ("平海镇", 1)),
        ("笏石大街", "东庄路", "月塘大道", "埭头路", "平海路", "秀屿大道"),
        "秀屿",
    ),
    "beian": _UnitPlan(
        "BA",
        0.05,
        (("山亭镇", 2), ("东埔镇", 2), ("忠门镇", 3)),
        ("山亭大道", "东埔路", "忠门大道", "港城大道"),
        "北岸",
    ),
    "meizhoudao": _UnitPlan(
        "MZ", 0.02, (("湄洲镇", 1),), ("湄洲大道", "环岛路", "宫下路"), "湄洲岛"
    ),
}
assert set(_UNIT_PLANS) == set(COUNTY_UNITS), "one plan for each county-level unit"

# The district an address is in, by division code (湄洲岛 and 北岸 are inside 秀屿区).
_DISTRICT = {
    "350302": "城厢区",
    "350303": "涵江区",
    "350304": "荔城区",
    "350305": "秀屿区",
    "350322": "仙游县",
}

# -- names ---------------------------------------------------------------------------------
_STEMS = (
    "凤凰",
    "龙桥",
    "荔园",
    "木兰",
    "壶山",
    "兰溪",
    "绶溪",
    "东圳",
    "九华",
    "锦江",
    "玉湖",
    "天妃",
    "紫霄",
    "霞林",
    "梅峰",
    "延寿",
    "镇海",
    "拱辰",
    "学园",
    "华林",
    "碧溪",
    "金域",
    "阳光",
    "锦绣",
    "翠湖",
    "江山",
    "海滨",
    "星河",
    "东方",
    "世纪",
    "御景",
    "滨江",
    "香榭",
    "瑞丰",
    "万福",
    "荔香",
    "书峰",
    "宁海",
    "白塘",
    "天九",
    "鲤城",
    "仙溪",
    "枫亭",
    "湄屿",
    "南山",
    "北辰",
    "正荣",
    "联发",
    "建发",
    "三信",
    "泰和",
    "嘉禾",
    "文献",
    "莆阳",
    "兴化",
)
_SUFFIX_BY_ERA = {
    "old": ("新村", "小区", "宿舍", "花园", "公寓", "小区"),
    "mid": ("花园", "小区", "家园", "苑", "雅居", "广场", "大厦", "花园"),
    "new": ("公馆", "名城", "华府", "御府", "豪庭", "世家", "壹号", "苑", "花园", "天境"),
}
_QUALIFIERS_BY_ERA = {
    "old": ("东", "西", "南", "北", "中", "新", "一", "二"),
    "mid": ("新", "东方", "金色", "阳光", "滨河", "学府", "书香", "锦绣", "江南", "和谐"),
    "new": ("国际", "上城", "公园", "滨江", "学府", "天悦", "华庭", "翡翠", "云璟", "星辰"),
}
_ZIHAO_CHARS = (
    "鑫荣华盛嘉兴恒泰瑞祥福安康宏达信诚德美佳润丰弘正明东海城联发隆昌宁新万金阳光源远通顺和鸿"
    "博锦绣永益邦晟誉宸亿创辉腾"
)
_SURNAMES = (
    "林",
    "陈",
    "黄",
    "吴",
    "郑",
    "李",
    "蔡",
    "许",
    "方",
    "翁",
    "余",
    "朱",
    "刘",
    "王",
    "张",
    "徐",
    "谢",
    "杨",
    "柯",
    "卓",
    "阮",
    "宋",
)
_GIVEN = "志强明华丽娟秀英建国文杰少峰金凤玉兰春梅海燕国平鸿斌伟东亚芳雪琴振宇晓敏丽萍"
_MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    *(f"18{d}" for d in range(10)),
)
_BANKS = (
    "中国农业银行",
    "中国工商银行",
    "中国建设银行",
    "中国银行",
    "兴业银行",
    "莆田农村商业银行",
    "福建海峡银行",
    "中国邮政储蓄银行",
)
_EXPENSE_PURPOSES = (
    "小区公共照明维修",
    "门禁系统更换",
    "监控设备维修更换",
    "绿化补植",
    "消防器材更换",
    "化粪池清掏",
    "屋面防水维修",
    "公共区域道路修补",
    "雨污管道疏通",
    "电梯轿厢装饰更新",
    "业主大会会议费用",
    "公共部位外墙修补",
)
_OTHER_INCOME = (
    ("充电桩场地使用费", 300, 3000),
    ("可回收物处置收入", 100, 800),
    ("通信基站场地费", 2000, 6000),
)
_LEASE_NOTES = ("架空层出租", "会所出租", "底层商铺（共有部分）出租", "物业用房（共有）出租")
_HANDOVER_REASONS = (
    "原物业服务合同期满，业主大会选聘新物业服务企业",
    "业主大会决定解聘原物业服务企业，经公开招标选聘新企业",
    "原物业服务企业退出，街道（镇）指导业委会选聘新企业",
)

_QUARTER_FACTOR = {1: 1.08, 2: 0.97, 3: 0.95, 4: 1.0}  # Spring Festival parking, summer dip


# -- public data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Filing:
    """One quarterly filing to make."""

    request: pb.FileDisclosureRequest
    filed_at: datetime  # aware, UTC; Asia/Shanghai rules decide whether it is late
    kind: str  # "on_time" | "late" | "zero_revenue" | "inconsistent" (to be rejected)


@dataclass(frozen=True)
class Amendment:
    """A correction of the filed disclosure of (community_code, year, quarter)."""

    community_code: str
    year: int
    quarter: int
    reason: str
    content: pb.DisclosureContent
    amended_at: datetime  # aware, UTC
    request_id: str = ""

    def to_request(self, disclosure_id: str, expected_version: int) -> pb.AmendDisclosureRequest:
        return pb.AmendDisclosureRequest(
            request_id=self.request_id,
            disclosure_id=disclosure_id,
            expected_version=expected_version,
            reason=self.reason,
            content=self.content,
        )


TimelineItem = pb.ChangePropertyCompanyRequest | Filing | Amendment
FILING_KINDS = ("on_time", "late", "zero_revenue", "inconsistent")


@dataclass(frozen=True)
class Dataset:
    companies: list[pb.RegisterCompanyRequest]
    communities: list[pb.RegisterCommunityRequest]
    filings: list[Filing]  # sorted by filed_at
    amendments: list[Amendment]  # sorted by amended_at
    missing: list[tuple[str, int, int]]  # (community_code, year, quarter) never filed
    handovers: list[pb.ChangePropertyCompanyRequest] = field(default_factory=list)
    quarters: tuple[tuple[int, int], ...] = DEFAULT_QUARTERS

    @property
    def registered_at(self) -> datetime:
        """A clock for registering the companies and communities: a month before the first
        quarter (the service counts a community overdue only for deadlines after it was
        registered)."""
        return _local_midnight(_quarter_first_day(*self.quarters[0]) - timedelta(days=31))

    def timeline(self) -> list[tuple[datetime, TimelineItem]]:
        """Handovers, filings and amendments in the order they happen (after registration)."""
        items: list[tuple[datetime, int, str, TimelineItem]] = []
        for h in self.handovers:
            items.append(
                (_local_midnight(date.fromisoformat(h.effective_date)), 0, h.request_id, h)
            )
        items.extend((f.filed_at, 1, f.request.request_id, f) for f in self.filings)
        items.extend((a.amended_at, 2, a.request_id, a) for a in self.amendments)
        items.sort(key=lambda t: (t[0], t[1], t[2]))
        return [(when, item) for when, _, _, item in items]

    def summary(self) -> dict[str, int]:
        kinds = Counter(f.kind for f in self.filings)
        unit_of = {c.community_code: c.unit for c in self.communities}
        facilities = {
            c.community_code: c.elevator_count + c.barrier_gate_count > 0 for c in self.communities
        }
        managed = Counter(c.company_uscc for c in self.communities)
        valid = [f for f in self.filings if f.kind != "inconsistent"]
        out: dict[str, int] = {
            "companies": len(self.companies),
            "companies_flagged_official": sum(
                1 for c in self.companies if not uscc_is_valid(c.uscc)
            ),
            "companies_managing": len(managed),
            "max_communities_per_company": max(managed.values(), default=0),
            "communities": len(self.communities),
            "handovers": len(self.handovers),
            "quarters": len(self.quarters),
            "slots": len(self.communities) * len(self.quarters),
            "filings": len(self.filings),
            "filed": len(valid),
        }
        for kind in FILING_KINDS:
            out[f"kind_{kind}"] = kinds[kind]
        out["missing"] = len(self.missing)
        out["filed_after_deadline"] = sum(
            1 for f in valid if f.filed_at >= _deadline(f.request.year, f.request.quarter)
        )
        out["zero_revenue_with_elevators_or_gates"] = sum(
            1 for f in valid if f.kind == "zero_revenue" and facilities[f.request.community_code]
        )
        out["amendments"] = len(self.amendments)
        out["income_total_yuan"] = (
            sum(i.amount_fen for f in valid for i in f.request.content.income) // 100
        )
        out["elevators"] = sum(c.elevator_count for c in self.communities)
        out["barrier_gates"] = sum(c.barrier_gate_count for c in self.communities)
        out["households"] = sum(c.household_count for c in self.communities)
        per_unit = Counter(c.unit for c in self.communities)
        filed_unit = Counter(unit_of[f.request.community_code] for f in valid)
        missing_unit = Counter(unit_of[code] for code, _, _ in self.missing)
        for unit in COUNTY_UNITS:
            out[f"communities_{unit}"] = per_unit[unit]
            out[f"filed_{unit}"] = filed_unit[unit]
            out[f"missing_{unit}"] = missing_unit[unit]
        return out


# -- time ----------------------------------------------------------------------------------
def _next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _quarter_first_day(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def _deadline_day(year: int, quarter: int) -> date:
    """Last day of the first month of the next quarter (Q1→30 Apr … Q4→31 Jan; DOMAIN.md §3,
    plan 二（一）), moved to the next working day when it is a rest day (民法典 Art. 203) by
    the shared kernel's holiday calendar: Q4 2024 is due 5 Feb 2025 (Spring Festival)."""
    ny, nq = _next_quarter(year, quarter)
    return CHINA.period_end(date(ny, 3 * nq - 1, 1) - timedelta(days=1))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def _deadline(year: int, quarter: int) -> datetime:
    """The first late instant: 00:00 Asia/Shanghai after the deadline day, in UTC."""
    return _local_midnight(_deadline_day(year, quarter) + timedelta(days=1))


def _office_time(rng: Random, day: date) -> datetime:
    """Some moment of an office day (08:00–21:59 Asia/Shanghai), in UTC."""
    seconds = rng.randrange(8 * 3600, 22 * 3600)
    local = datetime.combine(day, time(0), SHANGHAI) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


# -- internal model ------------------------------------------------------------------------
@dataclass
class _Company:
    uscc: str
    name: str
    flagged: bool
    diligence: float  # multiplies the chance of a late or missing filing (mean 1)


@dataclass
class _Community:
    code: str
    name: str
    unit: str
    township: str
    era: str
    households: int
    elevators: int
    gates: int
    leasable: bool
    lockers: int
    chronic_zero: bool
    company: int  # index into the companies
    ad_rate: int = 0  # yuan per elevator per quarter
    gate_ad_rate: int = 0  # yuan per barrier gate per quarter; 0: no gate ads
    parking_rate: float = 0.0  # yuan per household per gate per quarter
    lease_month: int = 0  # yuan a month
    lease_note: str = ""
    locker_rate: int = 0  # yuan per locker per quarter
    owners_percent: int = 0  # part of the surplus paid to the owners
    handover_day: date | None = None
    new_company: int = -1
    decisions: int = 0  # owners' decisions numbered so far
    accounts: dict[int, str] = field(default_factory=dict)  # company → 专户
    contacts: dict[int, tuple[str, str]] = field(default_factory=dict)

    def company_at(self, when: datetime) -> int:
        if self.handover_day is not None and when >= _local_midnight(self.handover_day):
            return self.new_company
        return self.company


class _Generator:
    def __init__(
        self, seed: int, n_communities: int, n_companies: int, quarters: tuple[tuple[int, int], ...]
    ) -> None:
        self.seed = seed
        self.rng = Random(seed)  # noqa: S311 - synthetic data, reproducible by design
        self.n_communities = n_communities
        self.n_companies = n_companies
        self.quarters = quarters
        self.companies: list[_Company] = []
        self.communities: list[_Community] = []
        self.used_names: dict[str, int] = {}
        self.used_phones: dict[str, int] = {}

    # -- small draws --------------------------------------------------------------------
    def log_uniform(self, low: int, high: int) -> int:
        return round(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def pick_weighted(self, options: tuple[tuple[str, int], ...]) -> str:
        names = [o[0] for o in options]
        weights = [o[1] for o in options]
        return self.rng.choices(names, weights=weights)[0]

    def phone(self) -> str:
        while True:
            number = self.rng.choice(_MOBILE_PREFIXES) + "".join(
                self.rng.choice("0123456789") for _ in range(8)
            )
            if number not in self.used_phones:
                self.used_phones[number] = 1
                return number

    def person(self) -> str:
        given = self.rng.choice(_GIVEN) + (
            self.rng.choice(_GIVEN) if self.rng.random() < 0.7 else ""
        )
        return self.rng.choice(_SURNAMES) + given

    # -- companies ----------------------------------------------------------------------
    def allocate(self, total: int, n: int) -> list[int]:
        """How many communities each of `n` companies manages: 1–20, heavily skewed."""
        if total > n * MAX_COMMUNITIES_PER_COMPANY:
            raise ValueError(
                f"{n} companies cannot manage {total} communities "
                f"(at most {MAX_COMMUNITIES_PER_COMPANY} each)"
            )
        counts = [1 if i < total else 0 for i in range(n)]
        weights = [self.rng.lognormvariate(0.0, 1.0) for _ in range(n)]
        for _ in range(total - sum(counts)):
            open_ = [i for i in range(n) if counts[i] < MAX_COMMUNITIES_PER_COMPANY]
            chosen = self.rng.choices(open_, weights=[weights[i] for i in open_])[0]
            counts[chosen] += 1
        return counts

    def make_company(self, division: str, flagged: bool) -> _Company:
        while True:
            zihao = "".join(self.rng.sample(_ZIHAO_CHARS, 2))
            style = self.rng.random()
            if division == "350322" and style < 0.5:
                name = f"仙游县{zihao}物业服务有限公司"
            elif style < 0.7:
                name = f"莆田市{zihao}物业服务有限公司"
            elif style < 0.9:
                name = f"莆田{zihao}物业管理有限公司"
            else:
                name = f"福建{zihao}物业服务有限公司"
            if name not in self.used_names:
                self.used_names[name] = 1
                break
        while True:
            if self.rng.random() < 0.4:  # registered before 2015: an old 8-digit org code
                body = str(self.rng.choice((0, 5, 6, 7))) + "".join(
                    self.rng.choice("0123456789") for _ in range(7)
                )
            else:  # since 2015: MA…
                body = (
                    "MA"
                    + self.rng.choice("2345")
                    + "".join(self.rng.choice(_ORG_BODY) for _ in range(5))
                )
            first17 = "91" + division + _org_code(body)
            check = uscc_check_char(first17)
            if flagged:
                check = self.rng.choice([c for c in USCC_CHARSET if c != check])
            uscc = first17 + check
            if uscc not in self.used_names:
                self.used_names[uscc] = 1
                break
        return _Company(uscc=uscc, name=name, flagged=flagged, diligence=self.rng.uniform(0.6, 1.4))

    # -- communities --------------------------------------------------------------------
    def community_name(self, era: str, township: str) -> str:
        local = township.removesuffix("街道").removesuffix("镇")
        qualifiers = _QUALIFIERS_BY_ERA[era]
        for attempt in range(60):
            stem = local if self.rng.random() < 0.15 else self.rng.choice(_STEMS)
            qualifier = self.rng.choice(qualifiers) if self.rng.random() < 0.35 else ""
            name = (
                stem
                + ("" if qualifier == stem else qualifier)
                + self.rng.choice(_SUFFIX_BY_ERA[era])
            )
            if attempt >= 30:
                name += self.rng.choice(("二期", "三期", "东区", "西区", "南区", "北区"))
            if name not in self.used_names:
                self.used_names[name] = 1
                return name
        n = 1
        while f"{name}{n}区" in self.used_names:
            n += 1
        self.used_names[f"{name}{n}区"] = 1
        return f"{name}{n}区"

    def make_community(self, unit: str, number: int, chronic_zero: bool) -> _Community:
        rng = self.rng
        plan = _UNIT_PLANS[unit]
        township = self.pick_weighted(plan.townships)
        urban = township.endswith("街道") or (unit == "xiuyu" and township == "笏石镇")
        if chronic_zero:
            era = "old"
        elif unit == "meizhoudao":
            era = rng.choices(("old", "mid", "new"), weights=(50, 45, 5))[0]
        elif urban:
            era = rng.choices(("old", "mid", "new"), weights=(25, 35, 40))[0]
        else:
            era = rng.choices(("old", "mid", "new"), weights=(45, 40, 15))[0]
        if chronic_zero:
            households, elevators, gates, leasable, lockers = (
                self.log_uniform(40, 300),
                0,
                0,
                False,
                0,
            )
        else:
            households, elevators, gates, leasable = self.facilities(era)
            lockers = 0
            if households >= 200 and rng.random() < 0.6:
                lockers = rng.randint(1, min(6, households // 200 + 1))
            if elevators + gates + lockers == 0 and not leasable:
                lockers = 1  # a community with facilities earns something
        c = _Community(
            code=f"{plan.prefix}-{number:04d}",
            name=self.community_name(era, township),
            unit=unit,
            township=township,
            era=era,
            households=households,
            elevators=elevators,
            gates=gates,
            leasable=leasable,
            lockers=lockers,
            chronic_zero=chronic_zero,
            company=-1,
        )
        c.ad_rate = rng.randrange(300, 1501, 50)
        c.gate_ad_rate = rng.randrange(150, 601, 50) if gates and rng.random() < 0.5 else 0
        c.parking_rate = rng.uniform(1.2, 5.0)
        c.lease_month = rng.randrange(800, 8001, 100)
        c.lease_note = rng.choice(_LEASE_NOTES)
        c.locker_rate = rng.randrange(150, 601, 50)
        c.owners_percent = rng.choice((0, 0, 0, 0, 0, 0, 0, 30, 50, 20))
        return c

    def facilities(self, era: str) -> tuple[int, int, int, bool]:
        rng = self.rng
        if era == "old":  # low-rise, before 2000; a few retrofitted lifts (加装电梯)
            households = self.log_uniform(40, 400)
            elevators = rng.randint(1, 3) if rng.random() < 0.15 else 0
            gates = 0 if rng.random() < 0.45 else 1
            leasable = rng.random() < 0.10
        elif era == "mid":  # multi-storey and small high-rise, 2000–2012
            households = self.log_uniform(150, 1200)
            elevators = (
                min(12, max(1, round(households / rng.uniform(60, 120))))
                if rng.random() < 0.5
                else 0
            )
            gates = rng.randint(1, 2)
            leasable = rng.random() < 0.40
        else:  # high-rise, since 2012
            households = self.log_uniform(300, 3000)
            elevators = min(30, max(2, round(households / rng.uniform(50, 100))))
            gates = rng.randint(2, 4)
            leasable = rng.random() < 0.65
        return households, elevators, gates, leasable

    def address(self, c: _Community) -> str:
        district = _DISTRICT[UNITS[c.unit][1]]
        if c.township.endswith("街道") or self.rng.random() < 0.3:
            road = self.rng.choice(_UNIT_PLANS[c.unit].roads)
        else:  # a town's own streets
            road = c.township[:-1] + self.rng.choice(("大道", "路", "街", "中路", "东路"))
        return f"福建省莆田市{district}{c.township}{road}{self.rng.randint(1, 1299)}号"

    def account(self, c: _Community, company: int) -> str:
        if company not in c.accounts:
            bank = self.rng.choice(_BANKS)
            digits = "".join(
                self.rng.choice("0123456789") for _ in range(self.rng.choice((16, 17, 19, 21)))
            )
            c.accounts[company] = (
                f"{bank}莆田{_UNIT_PLANS[c.unit].bank_branch}支行 {c.name}公共收益专户 账号{digits}"
            )
        return c.accounts[company]

    def contact(self, c: _Community, company: int) -> tuple[str, str]:
        if company not in c.contacts:
            c.contacts[company] = (self.person(), self.phone())
        return c.contacts[company]

    def decision_ref(self, c: _Community, year: int) -> str:
        c.decisions += 1
        return f"{c.name}业主大会决定〔{year}〕{c.decisions}号"

    # -- contents -----------------------------------------------------------------------
    def posting(
        self,
        content: pb.DisclosureContent,
        year: int,
        quarter: int,
        from_day: date,
        signboard: bool = True,
    ) -> None:
        first = _quarter_first_day(*_next_quarter(year, quarter))
        start = max(first, from_day - timedelta(days=self.rng.randint(0, 5)))
        end = start + timedelta(days=self.rng.randint(29, 45))  # 30–46 days, inclusive
        content.posting_start = start.isoformat()
        content.posting_end = end.isoformat()
        channels = []
        if signboard or self.rng.random() < 0.95:
            channels.append("signboard")
        if self.rng.random() < 0.9:
            channels.append("provincial_system")
        if self.rng.random() < 0.6 or not channels:
            channels.append("wechat_group")
        del content.posting_channels[:]
        content.posting_channels.extend(channels)

    def content(
        self, c: _Community, year: int, quarter: int, company: int, filed_day: date, zero: bool
    ) -> pb.DisclosureContent:
        rng = self.rng
        name, phone = self.contact(c, company)
        content = pb.DisclosureContent(
            separate_account=self.account(c, company),
            contact_name=name,
            contact_phone=phone,
            company_share_fen=0,
        )
        self.posting(content, year, quarter, filed_day)
        if zero:
            content.no_income = True
            content.operating_cost_fen = 0
            content.owners_share_fen = 0
            content.transferred_to_maintenance_fund_fen = 0
            return content
        factor = _QUARTER_FACTOR[quarter] * (1.03 ** (year - 2024))
        lines: list[pb.IncomeItem] = []
        if c.elevators:
            yuan = c.elevators * c.ad_rate * rng.uniform(0.8, 1.0)
            lines.append(
                pb.IncomeItem(
                    source="advertising",
                    amount_fen=int(yuan) * 100,
                    note=f"电梯广告（{c.elevators}部）",
                )
            )
        if c.gates and c.gate_ad_rate:
            lines.append(
                pb.IncomeItem(
                    source="advertising",
                    amount_fen=c.gates * c.gate_ad_rate * 100,
                    note=f"道闸广告（{c.gates}个）",
                )
            )
        if c.gates:
            yuan = c.households * c.gates * c.parking_rate * factor * rng.uniform(0.85, 1.15)
            fen = int(yuan) * 100 + (50 if rng.random() < 0.3 else 0)
            lines.append(
                pb.IncomeItem(source="parking", amount_fen=fen, note="共有道路、场地临时停车费")
            )
        if c.leasable and rng.random() < 0.95:  # now and then a quarter without a tenant
            lines.append(
                pb.IncomeItem(source="leasing", amount_fen=c.lease_month * 300, note=c.lease_note)
            )
        if c.lockers:
            lines.append(
                pb.IncomeItem(
                    source="vending",
                    amount_fen=c.lockers * c.locker_rate * 100,
                    note=f"快递柜、售货机场地费（{c.lockers}台）",
                )
            )
        if rng.random() < 0.12 or not lines:
            note, low, high = rng.choice(_OTHER_INCOME)
            lines.append(
                pb.IncomeItem(
                    source="other", amount_fen=rng.randint(low * 100, high * 100), note=note
                )
            )
        content.income.extend(lines)
        income = sum(i.amount_fen for i in lines)
        cost = 0 if rng.random() < 0.1 else round(income * rng.uniform(0.08, 0.30))
        content.operating_cost_fen = cost
        before_spending = income - cost
        if before_spending > 50_000 and rng.random() < 0.35:
            budget = before_spending * rng.uniform(0.2, 0.6)
            for _ in range(rng.randint(1, 2)):
                amount = round(budget * rng.uniform(0.3, 0.5))
                content.expenditure.append(
                    pb.ExpenditureItem(
                        purpose=rng.choice(_EXPENSE_PURPOSES),
                        amount_fen=amount,
                        owners_decision_ref=self.decision_ref(c, year),
                    )
                )
        surplus = before_spending - sum(e.amount_fen for e in content.expenditure)
        owners = surplus * c.owners_percent // 100
        content.owners_share_fen = owners
        content.transferred_to_maintenance_fund_fen = surplus - owners
        return content

    def amend(
        self, c: _Community, original: pb.DisclosureContent, year: int, quarter: int, day: date
    ) -> tuple[str, pb.DisclosureContent]:
        """A corrected content (still valid) and the reason for it."""
        rng = self.rng
        content = pb.DisclosureContent()
        content.CopyFrom(original)
        parking = [i for i in content.income if i.source == "parking"]
        choices = ["missed_income", "cost", "channel"]
        if parking:
            choices.append("parking")
        if content.expenditure:
            choices.append("decision")
        choice = rng.choice(choices)
        if choice == "missed_income" or (choice == "cost" and content.operating_cost_fen == 0):
            note, low, high = rng.choice(_OTHER_INCOME)
            amount = rng.randint(low * 100, high * 100)
            content.no_income = False
            content.income.append(pb.IncomeItem(source="other", amount_fen=amount, note=note))
            content.transferred_to_maintenance_fund_fen += amount
            reason = f"补录漏报的{note}{amount // 100}元，结余相应转存维修资金专户"
        elif choice == "cost":
            delta = rng.randint(1, content.operating_cost_fen)
            content.operating_cost_fen -= delta
            content.transferred_to_maintenance_fund_fen += delta
            reason = "更正经营成本：误将物业服务费支出计入公共收益经营成本"
        elif choice == "parking":
            item = parking[0]
            delta = rng.randint(
                -min(item.amount_fen, content.transferred_to_maintenance_fund_fen),
                max(1, item.amount_fen // 5),
            )
            delta = delta or 100
            item.amount_fen += delta
            content.transferred_to_maintenance_fund_fen += delta
            reason = "更正停车收入金额：" + (
                "漏计部分临时停车费" if delta > 0 else "误将月租车位费计入本季度"
            )
        elif choice == "decision":
            spent = content.expenditure[0]
            spent.owners_decision_ref = self.decision_ref(c, year) + "（补正）"
            reason = f"补正“{spent.purpose}”支出所依据的业主大会决定文号"
        else:
            reason = "补充公示渠道并重新公示（原公示未在业主微信群同步）"
        self.posting(content, year, quarter, day)
        if "wechat_group" not in content.posting_channels:
            content.posting_channels.append("wechat_group")
        return reason, content

    def inconsistent(self, valid: pb.DisclosureContent) -> pb.DisclosureContent:
        """The same content with the transfer off by some fen: identity broken, only that."""
        content = pb.DisclosureContent()
        content.CopyFrom(valid)
        delta = self.rng.choice((1, 2, 10, 100, self.rng.randint(1, 500_000)))
        if self.rng.random() < 0.5 and content.transferred_to_maintenance_fund_fen >= delta:
            delta = -delta
        content.transferred_to_maintenance_fund_fen += delta
        return content

    # -- the whole dataset --------------------------------------------------------------
    def run(self) -> Dataset:
        rng = self.rng
        seed = self.seed
        # Communities by unit (largest remainder), numbered per unit.
        total_weight = sum(p.weight for p in _UNIT_PLANS.values())
        exact = {u: self.n_communities * p.weight / total_weight for u, p in _UNIT_PLANS.items()}
        per_unit = {u: int(x) for u, x in exact.items()}
        by_remainder = sorted(exact, key=lambda u: (per_unit[u] - exact[u], u))
        for u in by_remainder[: self.n_communities - sum(per_unit.values())]:
            per_unit[u] += 1
        chronic = [False] * self.n_communities
        for index in rng.sample(
            range(self.n_communities), round(self.n_communities * P_CHRONIC_ZERO)
        ):
            chronic[index] = True
        for unit in COUNTY_UNITS:
            for number in range(1, per_unit[unit] + 1):
                index = len(self.communities)
                self.communities.append(self.make_community(unit, number, chronic[index]))

        # Companies manage 1–20 communities each, mostly in one unit. About 1% carry a bad
        # check character: they come from the official registry, which the service keeps
        # (and flags); their communities are registered like any other.
        n_flagged = round(self.n_companies * P_BAD_USCC)
        if self.n_companies - n_flagged < 2:
            raise ValueError("need at least two companies with a valid USCC")
        counts = self.allocate(self.n_communities, self.n_companies)
        order: list[int] = []  # community indices, grouped by unit, shuffled within
        for unit in COUNTY_UNITS:
            members = [i for i, c in enumerate(self.communities) if c.unit == unit]
            rng.shuffle(members)
            order.extend(members)
        flagged = [False] * self.n_companies
        for index in rng.sample(range(self.n_companies), n_flagged):
            flagged[index] = True
        position = 0
        for index in range(self.n_companies):
            block = order[position : position + counts[index]]
            position += counts[index]
            units = Counter(self.communities[i].unit for i in block)
            home = units.most_common(1)[0][0] if units else rng.choice(COUNTY_UNITS)
            division = UNITS[home][1] if rng.random() < 0.6 else "350300"
            for i in block:
                self.communities[i].company = index
            self.companies.append(self.make_company(division, flagged=flagged[index]))

        # Handovers (~3%): to another company working in the same unit, inside the period.
        first_day = _quarter_first_day(*self.quarters[0]) + timedelta(days=30)
        last_day = _quarter_first_day(*_next_quarter(*self.quarters[-1])) - timedelta(days=30)
        span = max(1, (last_day - first_day).days)
        handovers: list[pb.ChangePropertyCompanyRequest] = []
        n_handovers = round(self.n_communities * P_HANDOVER)
        for i in sorted(rng.sample(range(self.n_communities), n_handovers)):
            c = self.communities[i]
            nearby = sorted(
                {
                    o.company
                    for o in self.communities
                    if o.unit == c.unit
                    and o.company != c.company
                    and not self.companies[o.company].flagged
                }
            )
            if not nearby:
                nearby = [
                    k for k, co in enumerate(self.companies) if not co.flagged and k != c.company
                ]
            c.new_company = rng.choice(nearby)
            c.handover_day = first_day + timedelta(days=rng.randrange(span))
            handovers.append(
                pb.ChangePropertyCompanyRequest(
                    request_id=f"syn-{seed}-handover-{c.code}",
                    community_code=c.code,
                    new_company_uscc=self.companies[c.new_company].uscc,
                    effective_date=c.handover_day.isoformat(),
                    reason=rng.choice(_HANDOVER_REASONS),
                )
            )

        companies = [
            pb.RegisterCompanyRequest(
                request_id=f"syn-{seed}-company-{co.uscc}",
                uscc=co.uscc,
                name=co.name,
                source="official_registry" if co.flagged else "application",
            )
            for co in self.companies
        ]
        communities = [
            pb.RegisterCommunityRequest(
                request_id=f"syn-{seed}-community-{c.code}",
                community_code=c.code,
                name=c.name,
                address=self.address(c),
                unit=c.unit,
                division_code=UNITS[c.unit][1],
                township=c.township,
                company_uscc=self.companies[c.company].uscc,
                company_name=self.companies[c.company].name,
                signboard_at_main_entrance=rng.random() < 0.92,
                elevator_count=c.elevators,
                barrier_gate_count=c.gates,
                has_leasable_space=c.leasable,
                household_count=c.households,
            )
            for c in self.communities
        ]

        filings: list[Filing] = []
        amendments: list[Amendment] = []
        missing: list[tuple[str, int, int]] = []
        for c in self.communities:
            for year, quarter in self.quarters:
                filing_id = f"syn-{seed}-file-{c.code}-{year}Q{quarter}"
                diligence = self.companies[c.company].diligence
                draw = rng.random()
                if draw < P_MISSING * diligence:
                    missing.append((c.code, year, quarter))
                    continue
                late = draw < (P_MISSING + P_LATE) * diligence
                next_first = _quarter_first_day(*_next_quarter(year, quarter))
                deadline_day = _deadline_day(year, quarter)
                if late:
                    day = deadline_day + timedelta(days=rng.randint(1, 60))
                else:  # most file in the last ten days before the deadline
                    window = (deadline_day - next_first).days
                    day = next_first + timedelta(days=round(window * rng.betavariate(2.5, 1.0)))
                filed_at = _office_time(rng, day)
                zero = c.chronic_zero or rng.random() < P_SPORADIC_ZERO
                # The quarter's company files it, even after a later handover.
                company = c.company_at(_local_midnight(next_first - timedelta(days=1)))
                content = self.content(c, year, quarter, company, day, zero)
                if not zero and rng.random() < P_INCONSISTENT:
                    earlier = filed_at - timedelta(seconds=rng.randrange(3600, 6 * 86400))
                    lowest = _local_midnight(next_first) + timedelta(hours=2)
                    attempt_at = max(earlier, lowest)
                    filings.append(
                        Filing(
                            request=pb.FileDisclosureRequest(
                                request_id=f"{filing_id}-rejected",
                                community_code=c.code,
                                year=year,
                                quarter=quarter,
                                content=self.inconsistent(content),
                            ),
                            filed_at=attempt_at,
                            kind="inconsistent",
                        )
                    )
                kind = "zero_revenue" if zero else "late" if late else "on_time"
                filings.append(
                    Filing(
                        request=pb.FileDisclosureRequest(
                            request_id=filing_id,
                            community_code=c.code,
                            year=year,
                            quarter=quarter,
                            content=content,
                        ),
                        filed_at=filed_at,
                        kind=kind,
                    )
                )
                if rng.random() < P_AMENDMENT:
                    amended_at = _office_time(rng, day + timedelta(days=rng.randint(5, 40)))
                    amended_day = amended_at.astimezone(SHANGHAI).date()
                    reason, corrected = self.amend(c, content, year, quarter, amended_day)
                    amendments.append(
                        Amendment(
                            community_code=c.code,
                            year=year,
                            quarter=quarter,
                            reason=reason,
                            content=corrected,
                            amended_at=amended_at,
                            request_id=f"syn-{seed}-amend-{c.code}-{year}Q{quarter}",
                        )
                    )
        filings.sort(key=lambda f: (f.filed_at, f.request.request_id))
        amendments.sort(key=lambda a: (a.amended_at, a.request_id))
        return Dataset(
            companies=companies,
            communities=communities,
            filings=filings,
            amendments=amendments,
            missing=missing,
            handovers=handovers,
            quarters=self.quarters,
        )


def generate(
    seed: int = 2023,
    communities: int = 1500,
    companies: int = 300,
    quarters: tuple[tuple[int, int], ...] = DEFAULT_QUARTERS,
) -> Dataset:
    """The synthetic Putian dataset for `seed` (same arguments → the same messages)."""
    if communities < 1:
        raise ValueError("communities must be at least 1")
    if not quarters or any(q not in (1, 2, 3, 4) for _, q in quarters):
        raise ValueError("quarters must be (year, 1..4) pairs")
    return _Generator(seed, communities, companies, tuple(quarters)).run()


# -- output --------------------------------------------------------------------------------
def _as_dict(message: Message) -> dict[str, object]:
    return MessageToDict(message, preserving_proto_field_name=True)


def iter_jsonl(dataset: Dataset) -> Iterator[str]:
    """The dataset as JSON lines: registrations, then everything else in time order."""

    def line(record: dict[str, object]) -> str:
        return json.dumps(record, ensure_ascii=False, sort_keys=True)

    for company in dataset.companies:
        yield line({"type": "RegisterCompanyRequest", "message": _as_dict(company)})
    for community in dataset.communities:
        yield line({"type": "RegisterCommunityRequest", "message": _as_dict(community)})
    for when, item in dataset.timeline():
        at = when.isoformat()
        if isinstance(item, Filing):
            yield line(
                {
                    "type": "FileDisclosureRequest",
                    "at": at,
                    "kind": item.kind,
                    "message": _as_dict(item.request),
                }
            )
        elif isinstance(item, Amendment):
            yield line(
                {
                    "type": "AmendDisclosure",
                    "at": at,
                    "request_id": item.request_id,
                    "community_code": item.community_code,
                    "year": item.year,
                    "quarter": item.quarter,
                    "reason": item.reason,
                    "content": _as_dict(item.content),
                }
            )
        else:
            yield line(
                {"type": "ChangePropertyCompanyRequest", "at": at, "message": _as_dict(item)}
            )
    for code, year, quarter in dataset.missing:
        yield line({"type": "Missing", "community_code": code, "year": year, "quarter": quarter})


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--communities", type=int, default=1500)
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--summary", action="store_true", help="print the counts as JSON")
    parser.add_argument("--out", type=Path, help="write the dataset as JSON lines")
    args = parser.parse_args()
    started = timer.perf_counter()
    dataset = generate(args.seed, args.communities, args.companies)
    elapsed = timer.perf_counter() - started
    print(f"generated in {elapsed:.2f} s", file=sys.stderr)
    if args.out:
        with args.out.open("w", encoding="utf-8") as out:
            for text in iter_jsonl(dataset):
                out.write(text + "\n")
    if args.summary or not args.out:
        print(json.dumps(dataset.summary(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
