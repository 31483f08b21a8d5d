"""Spot-check plans (年度抽查计划) and cross checks (交叉检查), with their recorded draws."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, event

from inspection.domain import draw as draws
from pubrev_contracts.units import CITY
from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("3a6f1e0d-2b4c-4d8e-9f10-11a2b3c4d5e6")

PRIORITY_ORDER = (
    "handed_down", "major_petition", "typical_case", "complaint_lead", "zero_revenue",
    "overdue",
)
"""DOMAIN.md §5: superiors' cases, major petitions, typical cases, complaint leads,
zero-revenue (and overdue) communities; then the random draw fills the quota."""


@dataclass(frozen=True)
class Candidate:
    code: str
    reasons: frozenset[str]


def choose_targets(
    seed: str, pool: list[Candidate], quota: int
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Targets (code, reason) in priority order, then drawn; and the random pool and the
    drawn codes, for the draw record. A priority pool larger than the room left is itself
    drawn from, with the same seed."""
    chosen: list[tuple[str, str]] = []
    taken: set[str] = set()
    for reason in PRIORITY_ORDER:
        room = quota - len(chosen)
        if room <= 0:
            break
        group = [c.code for c in pool if reason in c.reasons and c.code not in taken]
        picked = draws.draw(seed, group, room, salt=f"priority:{reason}")
        chosen += [(code, reason) for code in sorted(picked)]
        taken.update(picked)
    rest = sorted(c.code for c in pool if c.code not in taken)
    drawn = draws.draw(seed, rest, quota - len(chosen))
    chosen += [(code, "random") for code in drawn]
    return chosen, rest, drawn


def assign_inspectors(
    seed: str, targets: list[tuple[str, str]], inspectors: dict[str, list[str]],
    per_target: int,
) -> list[dict[str, Any]]:
    """Each target's inspectors, drawn from those without a declared conflict with it.
    `inspectors` maps inspector code → the communities it declared conflicts with."""
    planned = []
    for code, reason in targets:
        eligible = sorted(i for i, conflicts in inspectors.items() if code not in conflicts)
        if len(eligible) < per_target:
            raise RuleViolated(
                f"only {len(eligible)} inspectors without a conflict for {code}; "
                f"{per_target} needed",
                f"小区 {code} 无利害关系的检查人员仅 {len(eligible)} 名，不足 {per_target} 名",
            )
        planned.append({"community_code": code, "reason": reason,
                        "inspectors": draws.draw_inspectors(seed, code, eligible, per_target)})
    return planned


class SpotCheckPlan(Aggregate):
    """A unit's (or the city's) spot-check plan for a year."""

    class Planned(Aggregate.Created):
        year: int
        unit: str
        kind: str
        key: str
        communities: int
        quota: int
        rules_version: str
        targets: list[dict[str, Any]]
        draw: dict[str, Any]

    @event(Planned)
    def __init__(self, year: int, unit: str, kind: str, key: str, communities: int,
                 quota: int, rules_version: str, targets: list[dict[str, Any]],
                 draw: dict[str, Any]) -> None:
        self.year = year
        self.unit = unit
        self.kind = kind
        self.key = key
        self.communities = communities
        self.quota = quota
        self.rules_version = rules_version
        self.targets = targets
        self.draw = draw
        self.reported = False

    @staticmethod
    def create_id(year: int, kind: str, key: str) -> uuid.UUID:
        """yearly: key = the planning unit; cross: key = "<quarter>:<checking>><checked>"."""
        return uuid.uuid5(NAMESPACE, f"plan:{kind}:{year}:{key}")

    @property
    def target_codes(self) -> list[str]:
        return [t["community_code"] for t in self.targets]

    @property
    def checking_kind(self) -> str:
        """Who checks (plan 四（三）、四（四）): the city's own plan, a county-level unit's own
        plan, or a cross-check team of `unit` checking another unit's communities."""
        if self.kind == "cross":
            return "cross"
        return "city" if self.unit == CITY else "county"

    @property
    def checked_unit(self) -> str:
        """Whose communities are checked: the plan's own unit, or a cross check's target."""
        return str(self.draw.get("checked_unit", self.unit))

    class CrossCheckReported(Aggregate.Event):
        unit: str
        checked_unit: str
        year: int
        quarter: int
        planned: int
        checked: int
        findings: int
        findings_by_kind: dict[str, int]

    def report(self, checked: int, findings_by_kind: dict[str, int]) -> None:
        if self.kind != "cross":
            raise RuleViolated("only a cross check is reported", "仅交叉检查需要形成报告")
        self._reported(
            unit=self.unit, checked_unit=self.checked_unit, year=self.year,
            quarter=int(self.draw["quarter"]), planned=len(self.targets), checked=checked,
            findings=sum(findings_by_kind.values()), findings_by_kind=findings_by_kind,
        )

    @event(CrossCheckReported)
    def _reported(self, unit: str, checked_unit: str, year: int, quarter: int, planned: int,
                  checked: int, findings: int, findings_by_kind: dict[str, int]) -> None:
        self.reported = True
