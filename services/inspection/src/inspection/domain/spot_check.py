"""A spot check (抽查记录): the drawn team's checklist of one target of a plan.

`unit` is the community's (the jurisdiction, DOMAIN.md §2), whoever checked it: a city check
of a chengxiang community is chengxiang's to see and to close. The checking body
(`checking_unit`, `checking_kind`) is who checked (plan 四（三）、四（四）): the city (`city`,
putian), a county-level unit (`county`), or a cross-check team of one unit checking another's
communities (`cross`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from inspection.domain.checking_body import spot_check_id, v1_checking_body
from inspection.domain.finding import Finding
from inspection.domain.rules import InspectionRules
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.violations import CHECKLIST, KINDS
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter, quarter_label, quarter_of
from servicekit.attachments import AttachmentRef
from servicekit.errors import RuleViolated, excerpt

DEFAULT_SEVERITY = "general"
"""A failed item whose severity the inspectors left open."""


@dataclass(frozen=True)
class ChecklistResult:
    """One item of the checklist of DOMAIN.md §4 (violations.CHECKLIST), as checked."""

    item: str
    passed: bool
    note: str = ""
    evidence_refs: tuple[str, ...] = ()
    severity: str = ""
    attachments: tuple[AttachmentRef, ...] = ()
    """Files of the evidence (photos, ledgers) in the evidence store."""

    def recorded(self) -> dict[str, Any]:
        """The item as the check's event keeps it (its files: with its finding)."""
        return {
            "item": self.item,
            "passed": self.passed,
            "note": self.note,
            "evidence_refs": list(self.evidence_refs),
            "severity": self.severity or DEFAULT_SEVERITY,
        }


@dataclass(frozen=True)
class Substitution:
    """A drawn inspector who could not check a target, the one who did instead, and why."""

    absent: str
    substitute: str
    reason: str


class SpotCheck(Aggregate):
    class Done(Aggregate.Created):
        class_version = 3
        plan_id: uuid.UUID
        community_code: str
        unit: str
        checking_unit: str
        checking_kind: str
        company_uscc: str
        inspected_at: datetime
        inspectors: list[str]
        checklist: list[dict[str, Any]]
        finding_ids: list[str]
        substitutions: list[dict[str, str]]
        """Drawn inspectors replaced for this check: {absent, substitute, reason} (v3)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["checking_unit"], state["checking_kind"] = v1_checking_body(
                state["unit"], state["inspected_at"], lambda plan_id: plan_id == state["plan_id"]
            )

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before v3 the inspectors were not checked against the draw: none recorded.
            state["substitutions"] = []

    @event(Done)
    def __init__(
        self,
        plan_id: uuid.UUID,
        community_code: str,
        unit: str,
        checking_unit: str,
        checking_kind: str,
        company_uscc: str,
        inspected_at: datetime,
        inspectors: list[str],
        checklist: list[dict[str, Any]],
        finding_ids: list[str],
        substitutions: list[dict[str, str]],
    ) -> None:
        self.plan_id = plan_id
        self.community_code = community_code
        self.unit = unit
        self.checking_unit = checking_unit
        self.checking_kind = checking_kind
        self.company_uscc = company_uscc
        self.inspected_at = inspected_at
        self.inspectors = inspectors
        self.checklist = checklist
        self.finding_ids = finding_ids
        self.substitutions = substitutions

    @staticmethod
    def create_id(plan_id: uuid.UUID, community_code: str) -> uuid.UUID:
        return spot_check_id(plan_id, community_code)

    @classmethod
    def record(
        cls,
        plan: SpotCheckPlan,
        community_code: str,
        unit: str,
        company_uscc: str,
        inspected_at: datetime,
        inspectors: Sequence[str],
        checklist: Sequence[ChecklistResult],
        substitutions: Sequence[Substitution],
        conflicts: Mapping[str, Collection[str]],
        rules: InspectionRules,
        recorded_at: datetime | None = None,
    ) -> tuple[SpotCheck, list[Finding]]:
        """The check of a drawn target by its drawn team (but for substitutions), and a
        finding for each failed item with its rectification ordered (DOMAIN.md §4).

        `unit` and `company_uscc` are the community's as inspection knows them; `conflicts`
        the communities each inspector of the team has declared a conflict with by now;
        `recorded_at` when the check is recorded (the service's clock)."""
        drawn = plan.drawn_inspectors(community_code)
        _check_team(plan, community_code, drawn, inspectors, substitutions, conflicts)
        if plan.kind == "cross" and quarter_of(inspected_at.astimezone(SHANGHAI).date()) != (
            Quarter(plan.year, plan.quarter)
        ):
            raise RuleViolated(
                f"a cross check of {quarter_label(plan.year, plan.quarter)} is made within "
                "that quarter (plan 四（四）: one each quarter)",
                f"{quarter_label(plan.year, plan.quarter)}的交叉检查须在该季度内进行",
            )
        check_id = cls.create_id(plan.id, community_code)
        findings = [
            Finding.found(
                check_id,
                community_code,
                unit,
                plan.unit,
                plan.checking_kind,
                company_uscc,
                KINDS[CHECKLIST[item.item]],
                item.severity or DEFAULT_SEVERITY,
                item.note,
                list(item.evidence_refs),
                inspected_at,
                rules,
                item.attachments,
                recorded_at,
            )
            for item in checklist
            if not item.passed
        ]
        check = cls(
            plan.id,
            community_code,
            unit,
            plan.unit,
            plan.checking_kind,
            company_uscc,
            inspected_at,
            list(inspectors),
            [item.recorded() for item in checklist],
            [str(f.id) for f in findings],
            [
                {"absent": s.absent, "substitute": s.substitute, "reason": s.reason.strip()}
                for s in substitutions
            ],
        )
        return check, findings


def _check_team(
    plan: SpotCheckPlan,
    community: str,
    drawn: Sequence[str],
    inspectors: Sequence[str],
    substitutions: Sequence[Substitution],
    conflicts: Mapping[str, Collection[str]],
) -> None:
    """The inspectors of a check are those drawn for its target, but for substitutions
    (each with its reason): the substitute from the plan's roster, without a conflict with
    the community, not drawn for it already. Nobody of the team has declared a conflict
    with the community since the draw."""
    roster = plan.roster or {code: [] for code in plan.draw.get("inspector_pool", [])}
    for s in substitutions:
        if s.absent not in drawn:
            raise RuleViolated(
                f"{excerpt(s.absent)} was not drawn for this community",
                "被替换人员并非该小区的抽中检查人员",
            )
        if s.substitute in drawn or s.substitute not in roster:
            raise RuleViolated(
                f"the substitute {excerpt(s.substitute)} must be an inspector of the plan's "
                "roster not drawn for this community",
                "替换人员须为该计划名录内且未被抽中的检查人员",
            )
        if community in roster[s.substitute]:
            raise RuleViolated(
                f"the substitute {excerpt(s.substitute)} declared a conflict with this community",
                "替换人员与该小区存在利害关系",
            )
    team = (set(drawn) - {s.absent for s in substitutions}) | {s.substitute for s in substitutions}
    if set(inspectors) != team:
        raise RuleViolated(
            f"the inspectors are those drawn for this community ({', '.join(drawn)}); a "
            "drawn inspector who cannot check is substituted with a recorded reason",
            f"检查人员须为该小区的抽中人员（{'、'.join(drawn)}）；如需替换须说明理由",
        )
    for code in sorted(team):
        if community in conflicts.get(code, ()):
            raise RuleViolated(
                f"{code} has declared a conflict with this community since the draw: "
                "substitute them, with the reason",
                f"{code} 已申报与该小区存在利害关系，须替换",
            )


# Spot checks were stored under inspection.domain.check until issue 12 gave each aggregate
# its module: their stored topics keep resolving here (ADR 0014). Never remove a line while
# such events are stored.
register_topic("inspection.domain.check:SpotCheck", SpotCheck)
register_topic("inspection.domain.check:SpotCheck.Done", SpotCheck.Done)
