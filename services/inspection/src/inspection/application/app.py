"""The inspection application: rosters, plans with 双随机 draws, checks, findings."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from campaign.pace import DEFAULT_PACE, PaceRules
from inspection.application.ports import CheckRow, FindingRow, InspectionReadModel
from inspection.domain import draw as draws
from inspection.domain.check import Finding, SpotCheck
from inspection.domain.plan import Candidate, SpotCheckPlan, assign_inspectors, choose_targets
from inspection.domain.roster import Inspector
from inspection.domain.rules import DEFAULT_RULES, InspectionRules
from inspection.domain.violations import CHECKLIST, KINDS, SEVERITIES
from inspection.domain.watch import CommunityWatch, NotedDisclosure
from pubrev_contracts.units import COUNTY_UNITS
from servicekit.errors import (
    NotFound,
    PermissionDenied,
    RuleViolated,
    Validator,
)
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import CITY_UNIT, Identity

Clock = Callable[[], datetime]
BUREAU = "property-bureau"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommunityDisclosureView:
    community_code: str
    unit: str
    disclosure_id: str
    year: int
    quarter: int
    income_total_fen: int
    surplus_fen: int
    late: bool
    zero_revenue: bool
    disclosures_noted: int


@dataclass(frozen=True)
class ChecklistResult:
    item: str
    passed: bool
    note: str
    evidence_refs: tuple[str, ...]
    severity: str


@dataclass(frozen=True)
class UnitProgress:
    """One unit's spot checks against its yearly quota (the city's row: unit putian)."""

    unit: str
    communities: int
    quota: int
    checked: int
    expected_by_now: int
    behind: bool
    tolerance_percent: int
    pace_rules_version: str
    pace_source: str
    """The campaign window's source (work plan 五 and 附件1, or the year marked local)."""
    tolerance_source: str
    checks_start: str
    checks_due: str
    quota_source: str


class InspectionApplication(ServiceApplication):
    name = "inspection"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = _utcnow,
                 rules: InspectionRules = DEFAULT_RULES, pace: PaceRules = DEFAULT_PACE) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules
        self.pace = pace
        self._read_model: InspectionReadModel | None = None

    @property
    def read_model(self) -> InspectionReadModel:
        if self._read_model is None:
            raise RuntimeError("no read model wired (see bootstrap)")
        return self._read_model

    @read_model.setter
    def read_model(self, read_model: InspectionReadModel) -> None:
        self._read_model = read_model

    # -- what other services tell us (consumers) ---------------------------------------------

    def _watch(self, code: str, unit: str) -> CommunityWatch:
        return self.find(CommunityWatch.create_id(code), CommunityWatch) or CommunityWatch(
            code, unit
        )

    def note_disclosure(self, noted: NotedDisclosure, delivery: DeliveryRef,
                        company_uscc: str = "") -> bool:
        """Applies a disclosure event once; False when it had been applied already."""
        if self.already_applied(delivery):
            return False
        watch = self._watch(noted.community_code, noted.unit)
        if company_uscc and not watch.company_uscc:
            watch.note_company(company_uscc)
        watch.note(noted)
        return self.record(watch, delivery=delivery)

    def note_registration(self, code: str, unit: str, company_uscc: str,
                          delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_registration(company_uscc)
        return self.record(watch, delivery=delivery)

    def note_company_change(self, code: str, unit: str, company_uscc: str,
                            delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_company(company_uscc)
        return self.record(watch, delivery=delivery)

    def note_lead(self, code: str, unit: str, channel: str, major: bool, category: str,
                  delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_lead(channel, major, category)
        return self.record(watch, delivery=delivery)

    def note_overdue(self, code: str, unit: str, year: int, quarter: int,
                     delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_overdue(year, quarter)
        return self.record(watch, delivery=delivery)

    # -- roster ------------------------------------------------------------------------------

    def register_inspector(self, identity: Identity, request_id: str, code: str, name: str,
                           unit: str) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(bool(code.strip()), "inspector_code", "required", "inspector code required",
                  "缺少检查人员编号")
        v.require(bool(name.strip()), "name", "required", "name required", "缺少姓名")
        v.require(unit in (CITY_UNIT, *COUNTY_UNITS), "unit", "unknown_unit",
                  "unit is putian or one of the 7 county-level units", "所属单位不正确")
        v.raise_if_any()
        _require_bureau(identity, unit)

        def execute() -> tuple[list[Inspector], dict[str, Any]]:
            if self.exists(Inspector.create_id(code)):
                raise RuleViolated(f"inspector {code} is registered already",
                                   f"检查人员 {code} 已登记")
            inspector = Inspector(code, name, unit)
            return [inspector], {"inspector_id": str(inspector.id)}

        return self.run_once("RegisterInspector", request_id, (code, name, unit), execute)

    def declare_conflict(self, identity: Identity, request_id: str, inspector_code: str,
                         community_code: str, reason: str) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(bool(community_code), "community_code", "required", "community required",
                  "缺少小区编码")
        v.raise_if_any()
        inspector = self._inspector(inspector_code)
        _require_bureau(identity, inspector.unit)

        def execute() -> tuple[list[Inspector], dict[str, Any]]:
            current = self._inspector(inspector_code)
            current.declare_conflict(community_code, reason)
            return [current], {"version": current.version}

        return self.run_once("DeclareConflict", request_id,
                             (inspector_code, community_code, reason), execute)

    # -- plans and draws -------------------------------------------------------------------

    def plan_spot_checks(
        self, identity: Identity, request_id: str, year: int, unit: str, seed: str,
        per_target: int, handed_down: list[str], major_petitions: list[str],
        typical_cases: list[str],
    ) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(2020 <= year <= 2100, "year", "year_range", "year must be 2020–2100",
                  "年度须在2020至2100之间")
        v.require(unit in (CITY_UNIT, *COUNTY_UNITS), "unit", "unknown_unit",
                  "unit is putian (the city) or one of the 7 county-level units",
                  "计划单位不正确")
        v.require(0 <= per_target <= 5, "inspectors_per_target", "range", "0–5 (default 2)",
                  "每个对象的检查人员数须在0至5之间")
        v.raise_if_any()
        _require_bureau(identity, unit)
        plan_id = SpotCheckPlan.create_id(year, "yearly", unit)
        known = self.find(plan_id, SpotCheckPlan)
        if known is not None:
            replay = self.find_receipt("PlanSpotChecks", request_id)
            if replay is None:
                raise RuleViolated(f"the {year} plan of {unit} exists already",
                                   f"{unit} {year} 年度抽查计划已制定")
        self.read_model.catch_up()
        city = unit == CITY_UNIT
        watches = self.read_model.communities(None if city else unit)
        quota = self.rules.quota(len(watches), city)
        requested = (year, unit, seed, per_target, sorted(handed_down), sorted(major_petitions),
                     sorted(typical_cases))
        seed = seed or secrets.token_hex(16)
        explicit = {"handed_down": set(handed_down), "major_petition": set(major_petitions),
                    "typical_case": set(typical_cases)}
        pool = [Candidate(w.code, frozenset(
            [r for r, codes in explicit.items() if w.code in codes]
            + (["handed_down"] if w.handed_down else [])
            + (["major_petition"] if w.major_petition else [])
            + (["complaint_lead"] if w.leads else [])
            + (["zero_revenue"] if w.zero_revenue else [])
            + (["overdue"] if w.overdue_count else [])
        )) for w in watches]
        targets, rest, drawn = choose_targets(seed, pool, quota)
        roster = self._roster(unit, exclude_unit=None)
        planned = assign_inspectors(seed, targets, roster, per_target or 2)
        draw_record = self._draw_record(seed, rest, drawn, roster)

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            plan = SpotCheckPlan(year, unit, "yearly", unit, len(watches), quota,
                                 self.rules.version, planned, draw_record)
            return [plan], {"plan_id": str(plan.id)}

        # The fingerprint is of the request as sent (a service-drawn seed is not in it).
        return self.run_once("PlanSpotChecks", request_id, requested, execute)

    def plan_cross_check(
        self, identity: Identity, request_id: str, year: int, quarter: int,
        checking_unit: str, checked_unit: str, count: int, seed: str, per_target: int,
    ) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(quarter in (1, 2, 3, 4), "quarter", "quarter_range", "quarter must be 1–4",
                  "季度须为1至4")
        v.require(checking_unit in COUNTY_UNITS, "checking_unit", "unknown_unit",
                  "a county-level unit", "检查单位须为县级单位")
        v.require(checked_unit in COUNTY_UNITS, "checked_unit", "unknown_unit",
                  "a county-level unit", "被检查单位须为县级单位")
        v.require(checking_unit != checked_unit, "checked_unit", "same_unit",
                  "a cross check checks another unit", "交叉检查须检查其他单位")
        v.require(1 <= count <= 200, "communities", "range", "1–200 communities",
                  "抽查小区数须在1至200之间")
        v.raise_if_any()
        if identity.agency != BUREAU or not identity.is_city:
            raise PermissionDenied("the city assigns cross checks", "交叉检查由市级部门统一部署")
        self.read_model.catch_up()
        watches = self.read_model.communities(checked_unit)
        requested = (year, quarter, checking_unit, checked_unit, count, seed, per_target)
        seed = seed or secrets.token_hex(16)
        pool = [Candidate(w.code, frozenset()) for w in watches]
        targets, rest, drawn = choose_targets(seed, pool, count)
        # Inspectors come from the checking unit only: never those of the checked unit.
        roster = self._roster(checking_unit, exclude_unit=checked_unit)
        planned = assign_inspectors(seed, targets, roster, per_target or 2)
        draw_record = self._draw_record(seed, rest, drawn, roster)
        draw_record |= {"quarter": quarter, "checked_unit": checked_unit}
        key = f"{quarter}:{checking_unit}>{checked_unit}"

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            if self.exists(SpotCheckPlan.create_id(year, "cross", key)):
                raise RuleViolated("this cross check is planned already", "该交叉检查已部署")
            plan = SpotCheckPlan(year, checking_unit, "cross", key, len(watches), count,
                                 self.rules.version, planned, draw_record)
            return [plan], {"cross_check_id": str(plan.id)}

        return self.run_once("PlanCrossCheck", request_id, requested, execute)

    def _roster(self, unit: str, exclude_unit: str | None) -> dict[str, list[str]]:
        return {i.code: list(i.conflicts) for i in self.read_model.inspectors(unit)
                if i.unit != exclude_unit}

    @staticmethod
    def _draw_record(seed: str, rest: list[str], drawn: list[str],
                     roster: dict[str, list[str]]) -> dict[str, Any]:
        return {
            "seed": seed, "algorithm": draws.ALGORITHM, "pool": rest,
            "pool_hash": draws.pool_hash(rest), "pool_size": len(rest), "drawn": drawn,
            "inspector_pool": sorted(roster),
            "inspector_pool_hash": draws.pool_hash(roster),
        }

    def plan(self, plan_id: str) -> SpotCheckPlan:
        try:
            plan = self.find(uuid.UUID(plan_id), SpotCheckPlan)
        except ValueError:
            plan = None
        if plan is None:
            raise NotFound(f"plan {plan_id} does not exist", "抽查计划不存在")
        return plan

    def verify_draw(self, identity: Identity, plan_id: str, given: dict[str, Any] | None,
                    count: int) -> tuple[bool, list[str], str]:
        if plan_id:
            plan = self.plan(plan_id)
            record = plan.draw
            count = len(record["drawn"])
        elif given is not None:
            record = given
        else:
            raise RuleViolated("name a plan or give a draw", "请指定抽查计划或完整抽取记录")
        pool = list(record["pool"])
        if draws.pool_hash(pool) != record["pool_hash"]:
            return False, [], "the pool does not match its recorded hash"
        if record["algorithm"] != draws.ALGORITHM:
            return False, [], f"unknown algorithm {record['algorithm']}"
        again = draws.draw(record["seed"], pool, count)
        if again != list(record["drawn"]):
            return False, again, "re-running the draw gives other communities"
        return True, again, "the draw re-runs to the recorded result"

    # -- checks, findings, rectification ----------------------------------------------------

    def record_spot_check(
        self, identity: Identity, request_id: str, plan_id: str, community_code: str,
        inspected_at: datetime | None, inspectors: list[str],
        checklist: list[ChecklistResult],
    ) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(inspected_at is not None, "inspected_at", "time_format",
                  "an RFC 3339 time with offset", "检查时间格式错误")
        v.require(bool(checklist), "checklist", "required", "the checklist is required",
                  "缺少检查清单")
        seen: set[str] = set()
        for n, item in enumerate(checklist):
            v.require(item.item in CHECKLIST, f"checklist[{n}].item", "unknown_item",
                      f"one of {', '.join(CHECKLIST)}", "检查项目不在清单内")
            v.require(item.item not in seen, f"checklist[{n}].item", "duplicate",
                      "each item once", "检查项目重复")
            seen.add(item.item)
            v.require(item.severity in ("", *SEVERITIES), f"checklist[{n}].severity",
                      "unknown_severity", "minor, general or serious", "严重程度不正确")
            if not item.passed:
                v.require(bool(item.evidence_refs), f"checklist[{n}].evidence_refs",
                          "evidence_missing", "a failed item needs evidence",
                          "不合格项须附证据材料")
        v.require(bool(inspectors), "inspector_codes", "required",
                  "who checked", "缺少检查人员")
        v.raise_if_any()
        assert inspected_at is not None
        plan = self.plan(plan_id)
        if community_code not in plan.target_codes:
            raise RuleViolated(f"{community_code} is not a target of this plan",
                               f"小区 {community_code} 不在该抽查计划内")
        # A unit records its own checks; a cross check is recorded by the checking unit.
        _require_bureau(identity, plan.unit)
        watch = self.find(CommunityWatch.create_id(community_code), CommunityWatch,
                          read_only=True)
        if watch is None:
            raise NotFound(f"community {community_code} has not reached inspection",
                           f"检查系统尚未收到小区 {community_code} 的登记")
        # The record belongs to the community's unit (DOMAIN.md §2), whoever checked it: a
        # city check of a chengxiang community is chengxiang's to see and to close.
        unit, company = watch.unit, watch.company_uscc
        check_id = SpotCheck.create_id(plan.id, community_code)

        def execute() -> tuple[list[Any], dict[str, Any]]:
            if self.exists(check_id):
                raise RuleViolated("this check is recorded already", "该检查已记录")
            findings = []
            for item in checklist:
                if item.passed:
                    continue
                kind = KINDS[CHECKLIST[item.item]]
                severity = item.severity or "general"
                # Raises CalendarNotConfigured (FAILED_PRECONDITION, nothing written) for a
                # deadline in a year the holiday calendar lacks: never a guessed deadline.
                deadline = self.rules.rectification_deadline(inspected_at, severity)
                finding = Finding(check_id, community_code, unit, plan.unit,
                                  plan.checking_kind, company, kind.code, kind.name, severity,
                                  kind.legal_basis, item.note, list(item.evidence_refs),
                                  inspected_at)
                finding.order_rectification(deadline,
                                            self.rules.deadline_basis(severity, deadline))
                findings.append(finding)
            check = SpotCheck(plan.id, community_code, unit, plan.unit, plan.checking_kind,
                              company, inspected_at, inspectors,
                              [vars_of(item) for item in checklist],
                              [str(f.id) for f in findings])
            return [check, *findings], {
                "spot_check_id": str(check.id), "finding_ids": [str(f.id) for f in findings],
            }

        return self.run_once("RecordSpotCheck", request_id,
                             (plan_id, community_code, inspected_at, inspectors, checklist),
                             execute)

    def finding(self, finding_id: str) -> Finding:
        try:
            finding = self.find(uuid.UUID(finding_id), Finding)
        except ValueError:
            finding = None
        if finding is None:
            raise NotFound(f"finding {finding_id} does not exist", "问题记录不存在")
        return finding

    def verify_rectification(self, identity: Identity, request_id: str, finding_id: str,
                             verified_at: datetime | None, evidence_refs: list[str],
                             note: str) -> Finding:
        v = Validator()
        v.require_request_id(request_id)
        v.require(verified_at is not None, "verified_at", "time_format",
                  "an RFC 3339 time with offset", "验收时间格式错误")
        v.raise_if_any()
        assert verified_at is not None
        finding = self.finding(finding_id)
        _require_bureau(identity, finding.unit)

        def execute() -> tuple[list[Finding], dict[str, Any]]:
            current = self.finding(finding_id)
            current.verify(verified_at, evidence_refs, note)
            return [current], {"finding_id": finding_id}

        self.run_once("VerifyRectification", request_id,
                      (finding_id, verified_at, evidence_refs, note), execute)
        return self.finding(finding_id)

    def sweep_rectification_deadlines(self) -> int:
        """RectificationOverdue, once, for each open finding past its deadline."""
        now = self.clock()
        self.read_model.catch_up()
        marked = 0
        for finding_id in self.read_model.open_findings_due(now):
            finding = self.finding(finding_id)
            if finding.mark_overdue(now):
                self.record(finding)
                marked += 1
        return marked

    def report_cross_check(self, identity: Identity, request_id: str,
                           cross_check_id: str) -> dict[str, Any]:
        plan = self.plan(cross_check_id)
        if plan.kind != "cross":
            raise RuleViolated("not a cross check", "不是交叉检查")
        _require_bureau(identity, plan.unit)
        self.read_model.catch_up()
        checks = [c for c in self.read_model.checks(plan.year, [plan.checked_unit], "", "")
                  if c.plan_id == str(plan.id)]
        by_kind: Counter[str] = Counter()
        checked_codes = {c.community_code for c in checks}
        for row in self.read_model.findings("", [plan.checked_unit]):
            # The same community may also be checked by the city or its own unit: only this
            # team's findings count ("" : a row stored before the checking body was kept).
            if row.community_code in checked_codes and row.checking_unit in (plan.unit, ""):
                by_kind[row.kind] += 1

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            current = self.plan(cross_check_id)
            current.report(len(checks), dict(by_kind))
            return [current], {
                "cross_check_id": cross_check_id, "planned": len(current.targets),
                "checked": len(checks), "findings": sum(by_kind.values()),
                "findings_by_kind": dict(by_kind),
            }

        return self.run_once("ReportCrossCheck", request_id, cross_check_id, execute)

    # -- queries ---------------------------------------------------------------------------

    def plan_progress(self, identity: Identity, year: int, unit: str) -> list[UnitProgress]:
        """Each unit's quota and pace (campaign.pace: checks due by the end of September,
        counted from the campaign's start). The city's row (putian) is its own 15% of all
        communities, counted over the checks of its own plans; a county's row counts the
        checks of its communities by itself or a cross-check team, not the city's."""
        units = _visible_units(identity, unit)
        window = self.pace.year(year)  # CampaignYearNotConfigured before anything is read
        self.read_model.catch_up()
        now = self.clock()
        progress = []
        for u in units:
            city = u == CITY_UNIT
            communities = len(self.read_model.communities(None if city else u))
            quota = self.rules.quota(communities, city=city)
            checked = self.read_model.checked_communities(year, u)
            pace = self.pace.judge(year, quota, checked, now)
            progress.append(UnitProgress(
                u, communities, quota, checked, pace.expected_by_now, pace.behind,
                pace.tolerance_percent, self.pace.version, window.source,
                self.pace.tolerance_source, window.checks_start.isoformat(),
                window.checks_due.isoformat(), self.rules.quota_source,
            ))
        return progress

    def spot_checks(self, identity: Identity, year: int, unit: str, community_code: str,
                    company_uscc: str) -> list[CheckRow]:
        units = _visible_units(identity, unit)
        self.read_model.catch_up()
        return self.read_model.checks(year, units, community_code, company_uscc)

    def findings(self, identity: Identity, company_uscc: str) -> list[FindingRow]:
        units = _visible_units(identity, "")
        self.read_model.catch_up()
        return self.read_model.findings(company_uscc, units)

    def community_disclosure(
        self, identity: Identity, community_code: str
    ) -> CommunityDisclosureView:
        watch = self.find(CommunityWatch.create_id(community_code), CommunityWatch)
        if watch is None or watch.latest is None:
            raise NotFound(
                f"no disclosure of community {community_code} has reached inspection",
                f"检查系统尚未收到小区 {community_code} 的公示",
            )
        if not identity.may_access_unit(watch.unit):
            raise PermissionDenied(
                f"{identity.unit} may not read community {community_code} of {watch.unit}",
                "无权查看其他辖区的小区",
            )
        latest = watch.latest
        return CommunityDisclosureView(
            community_code=watch.community_code, unit=watch.unit,
            disclosure_id=latest.disclosure_id, year=latest.year, quarter=latest.quarter,
            income_total_fen=latest.income_total_fen, surplus_fen=latest.surplus_fen,
            late=latest.late, zero_revenue=latest.zero_revenue,
            disclosures_noted=watch.disclosures_noted,
        )

    def _inspector(self, code: str) -> Inspector:
        inspector = self.find(Inspector.create_id(code), Inspector)
        if inspector is None:
            raise NotFound(f"inspector {code} is not registered", f"检查人员 {code} 未登记")
        return inspector


def vars_of(item: ChecklistResult) -> dict[str, Any]:
    return {"item": item.item, "passed": item.passed, "note": item.note,
            "evidence_refs": list(item.evidence_refs), "severity": item.severity or "general"}



def _require_bureau(identity: Identity, unit: str) -> None:
    if identity.agency != BUREAU or not identity.may_access_unit(unit):
        raise PermissionDenied(
            f"{identity.agency}/{identity.unit} may not act for unit {unit}",
            f"无权代表{unit}开展检查",
        )


def _visible_units(identity: Identity, unit: str) -> list[str]:
    """The units whose records the caller reads: the one asked for, or all it may see. The
    city's own unit is among them for the city (its plan's progress, and checks and findings
    stored under putian before they carried the community's unit)."""
    if unit:
        if not identity.may_access_unit(unit):
            raise PermissionDenied(f"{identity.unit} may not read unit {unit}",
                                   "无权查看其他辖区的数据")
        return [unit]
    if identity.is_city:
        return [CITY_UNIT, *COUNTY_UNITS]
    return [identity.unit]
