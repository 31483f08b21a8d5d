"""The city's monthly circular (月度通报) ranking the seven county-level units (plan 五（三）:
市城市管理局每月对县（区、管委会）…工作开展情况进行通报; 附件1 #25) on the plan's indicators
(DOMAIN.md §9): disclosure rate, check rate, rectification rate and feedback rate.

Each indicator is a fraction of counts (`Rate`, never a float), with its source and, where no
source defines how it is counted, the counting marked as local configuration. A circular of a
month shows the standing at the end of the month (00:00 Shanghai time of the next month's first
day), or now while the month runs.

Ranking (local configuration: the plan ranks nothing itself): on each indicator the higher
rate ranks first, equal rates share a rank (1, 2, 2, 4), and a unit with nothing to count
(a zero denominator) ranks after every unit with a rate. The overall rank orders the units by
the sum of their four ranks (equal weights), lower first, equal sums sharing a rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from fractions import Fraction

from pubrev_contracts.vocabulary.calendar import (
    CIVIL_CODE_ART_203,
    SHANGHAI,
    Quarter,
    quarter_of,
)
from pubrev_contracts.vocabulary.sources import local, plan

DISCLOSURE_RATE = "disclosure_rate"
CHECK_RATE = "check_rate"
RECTIFICATION_RATE = "rectification_rate"
FEEDBACK_RATE = "feedback_rate"


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    target_percent: int | None
    """The plan's target (None: the plan sets none)."""
    basis: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        DISCLOSURE_RATE,
        "公共收益季度公示率",
        100,
        f"{plan('一（季度公示率达到100%）、二（一）')}；DOMAIN.md §3、§9；{CIVIL_CODE_ART_203}；"
        + local(
            "以通报时点前公示期限已届满的最近一个季度为准：已公示（含逾期公示）的小区数"
            "÷截至通报时点辖区登记的小区数"
        ),
    ),
    Indicator(
        CHECK_RATE,
        "公共收益年度抽查核实率",
        50,
        f"{plan('一（年度抽查核实率达到50%）、四（三）、四（四）')}；"
        + local("本单位年度抽查计划及对本辖区交叉检查已抽查的小区数÷截至通报时点辖区登记的小区数"),
    ),
    Indicator(
        RECTIFICATION_RATE,
        "问题整改率",
        100,
        f"{plan('一、五（三）')}；DOMAIN.md §9（整改率目标100%）；"
        + local("截至通报时点已验收的整改数÷本年责令整改数（撤销的认定不计）"),
    ),
    Indicator(
        FEEDBACK_RATE,
        "投诉处理结果反馈率",
        None,
        f"{plan('四（一）、五（三）（处理结果应同步反馈投诉人）')}；DOMAIN.md §9；"
        + local("本年受理的投诉中，截至通报时点已反馈投诉人的件数÷已反馈或办理时限已届满的件数"),
    ),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)
RANKING_BASIS = local(
    "各项指标比率高者在前，比率相同者名次并列，无可统计数据者列后；综合名次按四项名次之和"
    "（权重相同）由小到大排列，和相同者并列"
)


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def basis_points(self) -> int | None:
        """The rate in 1/10000, rounded down (display only: ranks compare exact fractions)."""
        return self.numerator * 10000 // self.denominator if self.denominator else None


@dataclass(frozen=True)
class Standing:
    unit: str
    rates: Mapping[str, Rate]
    ranks: Mapping[str, int]
    rank_sum: int
    overall_rank: int


def as_of(year: int, month: int, now: datetime) -> datetime:
    """The instant a circular of (year, month) is judged at: the month's end, or `now` while
    the month runs."""
    end = datetime.combine(date(year + month // 12, month % 12 + 1, 1), time(0), SHANGHAI)
    return min(end, now)


def disclosure_quarter(at: datetime) -> Quarter:
    """The latest quarter whose disclosure deadline (moved past rest days) is over at `at`.
    CalendarNotConfigured when the holiday calendar lacks the year of a deadline."""
    quarter = quarter_of(at.astimezone(SHANGHAI).date()).previous()
    while quarter.deadline > at:
        quarter = quarter.previous()
    return quarter


def _competition(order: Sequence[tuple[str, Fraction | int | None]]) -> dict[str, int]:
    """Ranks 1, 2, 2, 4 over (unit, key) already sorted best first; equal keys tie."""
    ranks: dict[str, int] = {}
    previous: Fraction | int | None = None
    for position, (unit, key) in enumerate(order, start=1):
        if position == 1 or key != previous:
            rank = position
        ranks[unit] = rank
        previous = key
    return ranks


def rank(rates: Mapping[str, Rate]) -> dict[str, int]:
    """Ranks on one indicator: higher first, ties share, no rate last (sharing)."""
    keyed = [(unit, r.value) for unit, r in rates.items()]
    # A unit without a rate sorts after all rates, as -1 (every rate is >= 0).
    order = sorted(keyed, key=lambda k: -(k[1] if k[1] is not None else Fraction(-1)))
    return _competition(order)


def standings(rates_by_unit: Mapping[str, Mapping[str, Rate]]) -> list[Standing]:
    """Each unit's rates, its rank on each indicator and overall, best first (then in the
    order given)."""
    by_indicator = {
        key: rank({unit: rates[key] for unit, rates in rates_by_unit.items()})
        for key in INDICATOR_KEYS
    }
    sums = {unit: sum(by_indicator[k][unit] for k in INDICATOR_KEYS) for unit in rates_by_unit}
    by_sum = sorted(sums.items(), key=lambda item: item[1])
    overall = _competition([(unit, total) for unit, total in by_sum])
    units = list(rates_by_unit)
    result = [
        Standing(
            unit,
            dict(rates_by_unit[unit]),
            {k: by_indicator[k][unit] for k in INDICATOR_KEYS},
            sums[unit],
            overall[unit],
        )
        for unit in units
    ]
    return sorted(result, key=lambda s: (s.overall_rank, units.index(s.unit)))
