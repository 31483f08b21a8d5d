"""Credit rules: deduction table, grade bands, display periods and the serious-dishonesty
threshold. No Fujian table was found (DOMAIN.md §6): every figure here is configuration,
versioned and with its basis, never a literal inside a rule. A basis cites the work plan
(pubrev_contracts.vocabulary.sources), DOMAIN.md or a law, or says it is local configuration
(pubrev_contracts.vocabulary.sources.local); never a title of its own making."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from pubrev_contracts.vocabulary.calendar import CHINA, SHANGHAI, WorkCalendar
from pubrev_contracts.vocabulary.sources import local, plan
from servicekit.errors import RuleViolated

INITIAL_SCORE = 100
"""Every ledger opens with it, and no restoration goes above it."""
Tier = Literal["minor", "general", "serious"]
TIERS: tuple[str, ...] = get_args(Tier)
"""轻微, 一般, 严重: the tiers of 信用修复管理办法 (DOMAIN.md §6)."""
CIVIL_CODE_ART_202 = "《民法典》第二百零二条"
"""A period in months or years ends on the corresponding day of its last month, or on that
month's last day when it has no such day."""


@dataclass(frozen=True)
class DeductionTable:
    version: str
    points: dict[str, dict[str, int]]
    """Points by violation category (the code's letter, A–E) and severity."""
    legal_basis: str

    def points_for(self, kind: str, severity: str) -> int:
        return self.points.get(kind[:1], {}).get(severity, 0)


@dataclass(frozen=True)
class GradeBands:
    version: str
    bands: tuple[tuple[str, int], ...]
    """(grade, lowest score) from the best; the last band takes everything below."""
    source: str = ""

    def grade(self, score: int) -> str:
        for name, floor in self.bands:
            if score >= floor:
                return name
        return self.bands[-1][0]


def add_months(start: date, months: int) -> date:
    """The day `months` calendar months after `start`: the corresponding day, or the last
    day of the month that has none (民法典 Art. 202; 31 Jan + 1 month = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_months_at(instant: datetime, months: int) -> datetime:
    """`add_months` on the Asia/Shanghai date of an instant, at the same local time."""
    local_time = instant.astimezone(SHANGHAI)
    day = add_months(local_time.date(), months)
    shifted = local_time.replace(year=day.year, month=day.month, day=day.day)
    return shifted.astimezone(instant.tzinfo)


class UnknownTier(RuleViolated):
    def __init__(self, tier: str) -> None:
        super().__init__(
            f"unknown tier {tier[:20]!r}: one of {', '.join(TIERS)}", "处罚等级须为轻微、一般或严重"
        )


@dataclass(frozen=True)
class TierPeriods:
    published: bool
    """Whether a record of this tier is published on 信用中国 at all."""
    minimum_months: int
    """Repair (信用修复) may be applied for after this."""
    maximum_months: int
    """Display ends after this at the latest (公示截止期)."""


@dataclass(frozen=True)
class DisplayPeriods:
    """How long a record stays published, by tier, in calendar months from its date (counted
    by 民法典 Art. 202): minor not published; general 3 months to 1 year; serious 1 to 3
    years; repair may be applied for after the minimum (DOMAIN.md §6, 信用修复管理办法 in
    force 2026-04-01). A display end is not a deadline for an act, so it does not move past
    rest days (民法典 Art. 203 does not apply)."""

    version: str
    tiers: dict[str, TierPeriods]
    source: str

    def tier(self, severity: str) -> TierPeriods:
        found = self.tiers.get(severity)
        if found is None:
            raise UnknownTier(severity)
        return found


@dataclass(frozen=True)
class DishonestyRule:
    score_below: int
    serious_findings: int
    within_days: int
    source: str = ""


def tier_rank(severity: str) -> int:
    """How heavy a tier is: minor 0, general 1, serious 2 (a heavier tier is displayed
    longer, DOMAIN.md §6)."""
    return TIERS.index(severity)


PENALTY_LAW_ART_44 = "《行政处罚法》第四十四条"
"""Before a decision the authority informs the party of the intended penalty, its facts,
reasons and basis, and of the rights to state, to defend and to ask for a hearing."""
PENALTY_LAW_ART_45 = "《行政处罚法》第四十五条"
"""The party may state and defend; the authority must hear it and review what it brings;
it may not give a heavier penalty because of the statement or defence."""
PENALTY_LAW_ART_62 = "《行政处罚法》第六十二条"
"""No decision without the notice of Art. 44 and hearing the statement of Art. 45, unless
the party expressly waived its right to state and defend."""


@dataclass(frozen=True)
class StatementPeriod:
    """How long a party has to state and defend (陈述、申辩) after the notice of an intended
    penalty, in working days on the holiday calendar. No source sets the length (Art. 44
    and 45 give the right, not a period; Art. 64's 5 days are for asking a hearing, which
    is not modelled here): local configuration. The bureau may give more, never less."""

    working_days: int
    source: str

    def deadline(self, notified_on: date, calendar: WorkCalendar = CHINA) -> date:
        """The last day a statement is received; CalendarNotConfigured for a year the
        calendar lacks (never guessed)."""
        return calendar.add_working_days(notified_on, self.working_days)


@dataclass(frozen=True)
class CreditRules:
    deductions: DeductionTable
    grades: GradeBands
    display: DisplayPeriods
    dishonesty: DishonestyRule
    statement: StatementPeriod = StatementPeriod(
        5, local("陈述、申辩期限为告知之日起5个工作日（行政机关可以给予更长期限）")
    )


DEFAULT_RULES = CreditRules(
    deductions=DeductionTable(
        version="putian-credit-2023.1",
        points={
            "A": {"minor": 1, "general": 2, "serious": 4},
            "B": {"minor": 2, "general": 4, "serious": 8},
            "C": {"minor": 4, "general": 8, "serious": 12},
            "D": {"minor": 4, "general": 8, "serious": 12},
            "E": {},  # supervision failures are the agencies', not the company's
        },
        # The plan orders the deduction (三: 对不良行为予以信用扣分; 附件1 #22: 信用减分) but
        # sets no points: the table is the bureau's, modelled on Beijing's (DOMAIN.md §6).
        legal_basis=f"{plan('三（责任分工）、附件1第22项')}；"
        + local("扣分分值（未找到福建省标准，参照北京市记分做法设置，DOMAIN.md §6）"),
    ),
    grades=GradeBands(
        version="putian-grades-2023.1",
        bands=(("AAA", 85), ("AA", 80), ("A", 70), ("B", 60), ("C", 0)),
        source=local("信用等级分档（参照山东省烟台市AAA至C分级，DOMAIN.md §6）"),
    ),
    display=DisplayPeriods(
        version="cn-credit-repair-2026.1",
        tiers={
            # A minor record is never published; the ledger still restores its points after
            # 3 months at the latest, a value no source gives (see `source`).
            "minor": TierPeriods(published=False, minimum_months=0, maximum_months=3),
            "general": TierPeriods(published=True, minimum_months=3, maximum_months=12),
            "serious": TierPeriods(published=True, minimum_months=12, maximum_months=36),
        },
        source="DOMAIN.md §6（信用修复管理办法，2026年4月1日施行）；"
        f"期间按{CIVIL_CODE_ART_202}计算；" + local("轻微失信扣分3个月后恢复"),
    ),
    # The plan has DRC push companies "依法列入严重失信惩戒对象名单" (三): the thresholds only
    # propose a listing, which the credit office decides; they are the bureau's own.
    dishonesty=DishonestyRule(
        score_below=60,
        serious_findings=2,
        within_days=365,
        source=f"{plan('三（责任分工）')}；" + local("提请列入严重失信主体名单的分数和次数条件"),
    ),
)
