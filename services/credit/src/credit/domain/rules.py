"""Credit rules: deduction table, grade bands, display periods and the serious-dishonesty
threshold. No Fujian table was found (DOMAIN.md §6): every figure here is configuration,
versioned and with its basis, never a literal inside a rule."""

from __future__ import annotations

from dataclasses import dataclass, field

INITIAL_SCORE = 100


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

    def grade(self, score: int) -> str:
        for name, floor in self.bands:
            if score >= floor:
                return name
        return self.bands[-1][0]


@dataclass(frozen=True)
class DisplayPeriods:
    """Days a record stays published (信用修复管理办法, in force 2026-04-01): minor not
    published; general 3 months to 1 year; serious 1 to 3 years. Repair may be applied for
    after the minimum; the deduction is restored at the maximum at the latest."""

    minimum_days: dict[str, int] = field(default_factory=dict)
    maximum_days: dict[str, int] = field(default_factory=dict)
    published: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class DishonestyRule:
    score_below: int
    serious_findings: int
    within_days: int


@dataclass(frozen=True)
class CreditRules:
    deductions: DeductionTable
    grades: GradeBands
    display: DisplayPeriods
    dishonesty: DishonestyRule


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
        legal_basis="《莆田市住宅小区公共收益专项整治工作方案》（2023）信用惩戒条款；"
                    "扣分标准参照北京市物业服务企业信用管理办法（可配置）",
    ),
    grades=GradeBands(
        version="putian-grades-2023.1",
        bands=(("AAA", 85), ("AA", 80), ("A", 70), ("B", 60), ("C", 0)),
    ),
    display=DisplayPeriods(
        minimum_days={"minor": 0, "general": 91, "serious": 365},
        maximum_days={"minor": 91, "general": 365, "serious": 1095},
        published={"minor": False, "general": True, "serious": True},
    ),
    dishonesty=DishonestyRule(score_below=60, serious_findings=2, within_days=365),
)
