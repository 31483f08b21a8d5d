"""The inspection application: rosters, plans with 双随机 draws, checks, findings.

Every command and query is authorized here by the declared policy (access.POLICY): admitted
by agency and role before anything is read, then authorized on the record's facts (its unit,
company, community, whether it is published). Lists are authorized on the filter asked for
and return only what matches it (a company's, its own)."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inspection.application.access import COMPANY, HISTORY_READS, POLICY, plan_facts
from inspection.application.ports import CheckRow, FindingRow, InspectionReadModel
from inspection.domain import draw as draws
from inspection.domain.check import Finding, SpotCheck
from inspection.domain.plan import (
    Candidate,
    SpotCheckPlan,
    Verification,
    candidates_of,
    check_roster,
    verify_given,
)
from inspection.domain.roster import Inspector
from inspection.domain.rules import DEFAULT_RULES, InspectionRules
from inspection.domain.violations import CHECKLIST, KINDS, SEVERITIES
from inspection.domain.watch import CommunityWatch, NotedDisclosure
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE, PaceRules
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import NotFound, PermissionDenied, RuleViolated, Validator
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import CITY_UNIT, Identity
from servicekit.policy import Grant, Resource, Scope

Clock = Callable[[], datetime]
ALL_UNITS = (CITY_UNIT, *COUNTY_UNITS)
MAX_CODE = 64
"""Codes (communities, inspectors) longer than this are refused."""
MAX_LIST = 5000
MAX_TEXT = 500
"""Reasons and notes."""


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


@dataclass(frozen=True)
class Substitution:
    """A drawn inspector who could not check a target, the one who did instead, and why."""

    absent: str
    substitute: str
    reason: str


@dataclass(frozen=True)
class DrawVerification:
    matches: bool
    drawn: list[str]
    explanation: str
    status: str
    """committed (awaiting the discipline office), drawn, legacy (recorded before
    commit-reveal) or given (a draw given in full, no plan)."""
    plan: SpotCheckPlan | None = None
    published: bool = False
    """Every check of the draw is recorded: anyone may verify it."""
    redraws: list[dict[str, Any]] = field(default_factory=list)


def _echo(text: str, limit: int = 32) -> str:
    """An input named in an error: a short prefix, never more."""
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


class InspectionApplication(ServiceApplication):
    name = "inspection"
    policy = POLICY
    history_reads = HISTORY_READS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = _utcnow,
        rules: InspectionRules = DEFAULT_RULES,
        pace: PaceRules = DEFAULT_PACE,
    ) -> None:
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

    def note_disclosure(
        self, noted: NotedDisclosure, delivery: DeliveryRef, company_uscc: str = ""
    ) -> bool:
        """Applies a disclosure event once; False when it had been applied already."""
        if self.already_applied(delivery):
            return False
        watch = self._watch(noted.community_code, noted.unit)
        if company_uscc and not watch.company_uscc:
            watch.note_company(company_uscc)
        watch.note(noted)
        return self.record(watch, delivery=delivery)

    def note_registration(
        self, code: str, unit: str, company_uscc: str, delivery: DeliveryRef
    ) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_registration(company_uscc)
        return self.record(watch, delivery=delivery)

    def note_company_change(
        self, code: str, unit: str, company_uscc: str, delivery: DeliveryRef
    ) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_company(company_uscc)
        return self.record(watch, delivery=delivery)

    def note_lead(
        self, code: str, unit: str, channel: str, major: bool, category: str, delivery: DeliveryRef
    ) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_lead(channel, major, category)
        return self.record(watch, delivery=delivery)

    def note_overdue(
        self, code: str, unit: str, year: int, quarter: int, delivery: DeliveryRef
    ) -> bool:
        if self.already_applied(delivery):
            return False
        watch = self._watch(code, unit)
        watch.note_overdue(year, quarter)
        return self.record(watch, delivery=delivery)

    # -- authorization ----------------------------------------------------------------------

    def _admit(self, rpc: str, identity: Identity) -> None:
        """Before anything is read: does any grant of `rpc` name the caller's agency and
        role? (PermissionDenied otherwise.)"""
        self.policy.admit(rpc, identity)

    def _authorize(self, rpc: str, identity: Identity, resource: Resource) -> Grant:
        return self.policy.authorize(rpc, identity, resource)

    def _list_units(
        self, rpc: str, identity: Identity, unit: str, company: str = ""
    ) -> tuple[list[str], str]:
        """Authorizes a list on the filter asked for and returns the units (and company)
        the list is then limited to. A company's list is its own: with no company named,
        its own USCC is the filter."""
        self._admit(rpc, identity)
        v = Validator()
        v.require(
            unit in ("", *ALL_UNITS),
            "unit",
            "unknown_unit",
            "putian or one of the 7 county-level units",
            "单位不正确",
        )
        v.raise_if_any()
        if identity.agency == COMPANY and not company:
            company = identity.subject
        grant = self._authorize(
            rpc, identity, Resource(unit=unit or identity.unit, company=company)
        )
        if unit:
            return [unit], company
        if Scope.JURISDICTION in grant.scopes and not identity.is_city:
            return [identity.unit], company
        # The city, the auditor, or a company over its own records: every unit. The city's
        # own unit is among them (its plan's progress; checks and findings stored under
        # putian before they carried the community's unit).
        return list(ALL_UNITS), company

    # -- roster ------------------------------------------------------------------------------

    def register_inspector(
        self, identity: Identity, request_id: str, code: str, name: str, unit: str
    ) -> dict[str, Any]:
        self._admit("RegisterInspector", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            0 < len(code.strip()) <= MAX_CODE,
            "inspector_code",
            "required",
            f"an inspector code of 1–{MAX_CODE} characters",
            "缺少检查人员编号或过长",
        )
        v.require(
            0 < len(name.strip()) <= MAX_CODE,
            "name",
            "required",
            f"a name of 1–{MAX_CODE} characters",
            "缺少姓名或过长",
        )
        v.require(
            unit in ALL_UNITS,
            "unit",
            "unknown_unit",
            "unit is putian or one of the 7 county-level units",
            "所属单位不正确",
        )
        v.raise_if_any()
        self._authorize("RegisterInspector", identity, Resource(unit=unit))

        def execute() -> tuple[list[Inspector], dict[str, Any]]:
            if self.exists(Inspector.create_id(code)):
                raise RuleViolated(
                    f"inspector {_echo(code)} is registered already", "该检查人员已登记"
                )
            inspector = Inspector(code, name, unit)
            return [inspector], {"inspector_id": str(inspector.id)}

        return self.run_once("RegisterInspector", request_id, (code, name, unit), execute)

    def declare_conflict(
        self,
        identity: Identity,
        request_id: str,
        inspector_code: str,
        community_code: str,
        reason: str,
    ) -> dict[str, Any]:
        self._admit("DeclareConflict", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            0 < len(community_code) <= MAX_CODE,
            "community_code",
            "required",
            f"a community code of 1–{MAX_CODE} characters",
            "缺少小区编码或过长",
        )
        v.require(
            len(reason) <= MAX_TEXT,
            "reason",
            "too_long",
            f"at most {MAX_TEXT} characters",
            f"不超过{MAX_TEXT}个字符",
        )
        v.raise_if_any()
        inspector = self._inspector(inspector_code)
        self._authorize("DeclareConflict", identity, Resource(unit=inspector.unit))

        def execute() -> tuple[list[Inspector], dict[str, Any]]:
            current = self._inspector(inspector_code)
            current.declare_conflict(community_code, reason)
            return [current], {"version": current.version}

        return self.run_once(
            "DeclareConflict", request_id, (inspector_code, community_code, reason), execute
        )

    # -- plans and draws -------------------------------------------------------------------

    def plan_spot_checks(
        self,
        identity: Identity,
        request_id: str,
        year: int,
        unit: str,
        seed: str,
        per_target: int,
        handed_down: list[str],
        major_petitions: list[str],
        typical_cases: list[str],
    ) -> dict[str, Any]:
        """Records the year's plan of `unit`: its quota, its pool (every community with its
        priority reasons), its roster, and the service's commitment to a secret. The draw
        runs when the discipline office contributes (contribute_draw_entropy)."""
        self._admit("PlanSpotChecks", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            2020 <= year <= 2100,
            "year",
            "year_range",
            "year must be 2020–2100",
            "年度须在2020至2100之间",
        )
        v.require(
            unit in ALL_UNITS,
            "unit",
            "unknown_unit",
            "unit is putian (the city) or one of the 7 county-level units",
            "计划单位不正确",
        )
        v.require(
            0 <= per_target <= 5,
            "inspectors_per_target",
            "range",
            "0–5 (default 2)",
            "每个对象的检查人员数须在0至5之间",
        )
        _no_seed(v, seed)
        explicit = {
            "handed_down": handed_down,
            "major_petition": major_petitions,
            "typical_case": typical_cases,
        }
        for name, codes in explicit.items():
            v.require(
                len(codes) <= MAX_LIST and all(0 < len(c) <= MAX_CODE for c in codes),
                name,
                "codes",
                f"at most {MAX_LIST} community codes of 1–{MAX_CODE} characters",
                "小区编码数量或长度超出限制",
            )
        v.raise_if_any()
        self._authorize("PlanSpotChecks", identity, Resource(unit=unit))
        plan_id = SpotCheckPlan.create_id(year, "yearly", unit)
        if self.exists(plan_id) and self.find_receipt("PlanSpotChecks", request_id) is None:
            raise RuleViolated(
                f"the {year} plan of {unit} exists already (one draw per unit "
                "and year; a re-draw needs a reason: RedrawSpotChecks)",
                f"{unit} {year} 年度抽查计划已制定",
            )
        requested = (
            year,
            unit,
            per_target,
            sorted(handed_down),
            sorted(major_petitions),
            sorted(typical_cases),
        )
        kept = {name: sorted(set(codes)) for name, codes in explicit.items()}
        per = per_target or 2

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            communities, candidates = self._yearly_pool(unit, kept)
            roster = self._roster(unit, exclude_unit=None)
            check_roster(candidates, roster, per)
            plan = SpotCheckPlan(
                year,
                unit,
                "yearly",
                unit,
                communities,
                self.rules.quota(communities, unit == CITY_UNIT),
                self.rules.version,
                [],
                {},
                per,
                candidates,
                roster,
                self._commit(),
                kept,
            )
            return [plan], {"plan_id": str(plan.id)}

        return self.run_once("PlanSpotChecks", request_id, requested, execute)

    def _commit(self) -> str:
        """A new secret of the service's, kept outside the event store (and every response)
        until the draw reveals it; returns its commitment."""
        secret = secrets.token_hex(32)
        commitment = draws.commitment(secret)
        self.read_model.keep_secret(commitment, secret)
        return commitment

    def _yearly_pool(
        self,
        unit: str,
        explicit: dict[str, list[str]],
    ) -> tuple[int, list[dict[str, Any]]]:
        self.read_model.catch_up()
        watches = self.read_model.communities(None if unit == CITY_UNIT else unit)
        pool = [
            Candidate(
                w.code,
                frozenset(
                    [r for r, codes in explicit.items() if w.code in codes]
                    + (["handed_down"] if w.handed_down else [])
                    + (["major_petition"] if w.major_petition else [])
                    + (["complaint_lead"] if w.leads else [])
                    + (["zero_revenue"] if w.zero_revenue else [])
                    + (["overdue"] if w.overdue_count else [])
                ),
            )
            for w in watches
        ]
        return len(watches), candidates_of(pool)

    def _cross_pool(self, checked_unit: str) -> tuple[int, list[dict[str, Any]]]:
        self.read_model.catch_up()
        watches = self.read_model.communities(checked_unit)
        return len(watches), candidates_of([Candidate(w.code, frozenset()) for w in watches])

    def plan_cross_check(
        self,
        identity: Identity,
        request_id: str,
        year: int,
        quarter: int,
        checking_unit: str,
        checked_unit: str,
        count: int,
        seed: str,
        per_target: int,
    ) -> dict[str, Any]:
        self._admit("PlanCrossCheck", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            2020 <= year <= 2100,
            "year",
            "year_range",
            "year must be 2020–2100",
            "年度须在2020至2100之间",
        )
        v.require(
            quarter in (1, 2, 3, 4),
            "quarter",
            "quarter_range",
            "quarter must be 1–4",
            "季度须为1至4",
        )
        v.require(
            checking_unit in COUNTY_UNITS,
            "checking_unit",
            "unknown_unit",
            "a county-level unit",
            "检查单位须为县级单位",
        )
        v.require(
            checked_unit in COUNTY_UNITS,
            "checked_unit",
            "unknown_unit",
            "a county-level unit",
            "被检查单位须为县级单位",
        )
        v.require(
            checking_unit != checked_unit,
            "checked_unit",
            "same_unit",
            "a cross check checks another unit",
            "交叉检查须检查其他单位",
        )
        v.require(
            1 <= count <= 200,
            "communities",
            "range",
            "1–200 communities",
            "抽查小区数须在1至200之间",
        )
        v.require(
            0 <= per_target <= 5,
            "inspectors_per_target",
            "range",
            "0–5 (default 2)",
            "每个对象的检查人员数须在0至5之间",
        )
        _no_seed(v, seed)
        v.raise_if_any()
        self._authorize("PlanCrossCheck", identity, Resource(unit=CITY_UNIT))
        requested = (year, quarter, checking_unit, checked_unit, count, per_target)
        key = f"{quarter}:{checking_unit}>{checked_unit}"
        per = per_target or 2

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            if self.exists(SpotCheckPlan.create_id(year, "cross", key)):
                raise RuleViolated("this cross check is planned already", "该交叉检查已部署")
            communities, candidates = self._cross_pool(checked_unit)
            # Inspectors come from the checking unit only: never those of the checked unit.
            roster = self._roster(checking_unit, exclude_unit=checked_unit)
            check_roster(candidates, roster, per)
            plan = SpotCheckPlan(
                year,
                checking_unit,
                "cross",
                key,
                communities,
                count,
                self.rules.version,
                [],
                {"quarter": quarter, "checked_unit": checked_unit},
                per,
                candidates,
                roster,
                self._commit(),
                {},
            )
            return [plan], {"cross_check_id": str(plan.id)}

        return self.run_once("PlanCrossCheck", request_id, requested, execute)

    def contribute_draw_entropy(
        self, identity: Identity, request_id: str, plan_id: str, contribution: str
    ) -> dict[str, Any]:
        """The discipline office's value: the draw runs with the seed sha256([secret,
        contribution, plan id]) and reveals the service's secret."""
        self._admit("ContributeDrawEntropy", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            16 <= len(contribution) <= 128 and contribution.isprintable(),
            "contribution",
            "contribution_format",
            "16–128 printable characters, chosen afresh by the discipline office (e.g. "
            "from its own random generator) after the plan's commitment was recorded",
            "须为16至128个可打印字符，由纪委监委在计划承诺值记录后自行产生",
        )
        v.raise_if_any()
        plan = self.plan(plan_id)
        self._authorize("ContributeDrawEntropy", identity, Resource(unit=plan.planned_by))

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            current = self.plan(plan_id)
            current.require_undrawn()
            secret = self.read_model.secret(current.commitment)
            if secret is None:
                raise RuleViolated(
                    "the service's secret of this round is missing: the draw cannot run; the "
                    "planning bureau's head re-draws with a recorded reason",
                    "本轮服务端秘密值缺失，无法抽取；须由计划部门负责人说明理由重新抽取",
                )
            current.execute_draw(secret, contribution)
            return [current], {"plan_id": str(current.id), "round": current.round}

        return self.run_once("ContributeDrawEntropy", request_id, (plan_id, contribution), execute)

    def redraw(
        self, identity: Identity, request_id: str, plan_id: str, reason: str
    ) -> dict[str, Any]:
        """A re-draw of a plan none of whose checks is recorded: the round closes with its
        reason, a new commitment and a fresh pool and roster are recorded, and the
        discipline office must contribute again."""
        self._admit("RedrawSpotChecks", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            len(reason.strip()) > 0 and len(reason) <= MAX_TEXT,
            "reason",
            "required",
            f"why the draw is made again (1–{MAX_TEXT} characters): it is recorded and "
            "the discipline office sees it",
            f"须说明重新抽取的理由（1至{MAX_TEXT}个字符）",
        )
        v.raise_if_any()
        plan = self.plan(plan_id)
        self._authorize("RedrawSpotChecks", identity, Resource(unit=plan.planned_by))

        def execute() -> tuple[list[SpotCheckPlan], dict[str, Any]]:
            current = self.plan(plan_id)
            if any(
                self.exists(SpotCheck.create_id(current.id, code)) for code in current.target_codes
            ):
                raise RuleViolated(
                    "checks of this draw are recorded: it is not drawn again",
                    "该抽取结果已有检查记录，不得重新抽取",
                )
            if current.kind == "cross":
                communities, candidates = self._cross_pool(current.checked_unit)
                roster = self._roster(current.unit, exclude_unit=current.checked_unit)
            else:
                communities, candidates = self._yearly_pool(current.unit, current.explicit)
                roster = self._roster(current.unit, exclude_unit=None)
            check_roster(candidates, roster, current.per_target)
            current.reopen(reason.strip(), self._commit(), communities, candidates, roster)
            return [current], {
                "plan_id": str(current.id),
                "round": current.round,
                "commitment": current.commitment,
            }

        return self.run_once("RedrawSpotChecks", request_id, (plan_id, reason), execute)

    def _roster(self, unit: str, exclude_unit: str | None) -> dict[str, list[str]]:
        return {
            i.code: sorted(i.conflicts)
            for i in self.read_model.inspectors(unit)
            if i.unit != exclude_unit
        }

    def plan(self, plan_id: str) -> SpotCheckPlan:
        try:
            plan = self.find(uuid.UUID(plan_id[:64]), SpotCheckPlan)
        except (ValueError, TypeError):
            plan = None
        if plan is None:
            raise NotFound(f"plan {_echo(plan_id)} does not exist", "抽查计划不存在")
        return plan

    def published(self, plan: SpotCheckPlan) -> bool:
        """A draw is published once every one of its checks is recorded: from then on anyone
        may verify it (before, its targets would warn the companies to be checked)."""
        return plan.drawn and all(
            self.exists(SpotCheck.create_id(plan.id, code)) for code in plan.target_codes
        )

    def verify_draw(
        self, identity: Identity, plan_id: str, given: dict[str, Any] | None, count: int
    ) -> DrawVerification:
        self._admit("VerifyDraw", identity)
        if plan_id:
            try:
                plan = self.plan(plan_id)
            except NotFound:
                if all(
                    Scope.PUBLISHED in g.scopes for g in self.policy.grants("VerifyDraw", identity)
                ):
                    # Those who see only published draws are not told which plans exist.
                    raise PermissionDenied(
                        "no such published draw",
                        "无此已公开的抽取记录",
                    ) from None
                raise
            published = self.published(plan)
            self._authorize("VerifyDraw", identity, plan_facts(plan, published))
            recorded = plan.verify()
            status = (
                "committed"
                if not plan.drawn
                else "legacy"
                if plan.scheme == draws.LEGACY_SCHEME
                else "drawn"
            )
            return DrawVerification(
                recorded.matches,
                recorded.drawn,
                recorded.explanation,
                status,
                plan,
                published,
                list(plan.redraws),
            )
        if given is None:
            v = Validator()
            v.add(
                "plan_id",
                "required",
                "name a plan or give a draw in full",
                "请指定抽查计划或完整抽取记录",
            )
            v.raise_if_any()
        assert given is not None
        v = Validator()
        v.require(
            0 <= count <= MAX_LIST, "count", "range", f"0–{MAX_LIST}", f"数量须在0至{MAX_LIST}之间"
        )
        v.require(
            len(given.get("pool", [])) <= 10 * MAX_LIST,
            "draw.pool",
            "too_long",
            f"at most {10 * MAX_LIST} codes",
            "候选池过大",
        )
        v.raise_if_any()
        result: Verification = verify_given(given, count)
        return DrawVerification(result.matches, result.drawn, result.explanation, "given")

    # -- checks, findings, rectification ----------------------------------------------------

    def record_spot_check(
        self,
        identity: Identity,
        request_id: str,
        plan_id: str,
        community_code: str,
        inspected_at: datetime | None,
        inspectors: list[str],
        checklist: list[ChecklistResult],
        substitutions: Sequence[Substitution] = (),
    ) -> dict[str, Any]:
        self._admit("RecordSpotCheck", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            inspected_at is not None,
            "inspected_at",
            "time_format",
            "an RFC 3339 time with offset",
            "检查时间格式错误",
        )
        # Stored in UTC, within the platform's window of the service's clock.
        inspected_at = v.require_instant(inspected_at, "inspected_at", self.clock(), "检查时间")
        v.require(
            bool(checklist), "checklist", "required", "the checklist is required", "缺少检查清单"
        )
        seen: set[str] = set()
        for n, item in enumerate(checklist):
            v.require(
                item.item in CHECKLIST,
                f"checklist[{n}].item",
                "unknown_item",
                f"one of {', '.join(CHECKLIST)}",
                "检查项目不在清单内",
            )
            v.require(
                item.item not in seen,
                f"checklist[{n}].item",
                "duplicate",
                "each item once",
                "检查项目重复",
            )
            seen.add(item.item)
            v.require(
                item.severity in ("", *SEVERITIES),
                f"checklist[{n}].severity",
                "unknown_severity",
                "minor, general or serious",
                "严重程度不正确",
            )
            if not item.passed:
                v.require(
                    bool(item.evidence_refs),
                    f"checklist[{n}].evidence_refs",
                    "evidence_missing",
                    "a failed item needs evidence",
                    "不合格项须附证据材料",
                )
        v.require(bool(inspectors), "inspector_codes", "required", "who checked", "缺少检查人员")
        v.require(
            len(set(inspectors)) == len(inspectors),
            "inspector_codes",
            "duplicate",
            "each inspector once",
            "检查人员重复",
        )
        v.require(
            len(inspectors) <= 10 and len(substitutions) <= 10,
            "inspector_codes",
            "too_many",
            "at most 10 inspectors and 10 substitutions",
            "检查人员及替换人员均不超过10名",
        )
        for n, s in enumerate(substitutions):
            v.require(
                len(s.reason.strip()) > 0 and len(s.reason) <= MAX_TEXT,
                f"substitutions[{n}].reason",
                "required",
                f"why the drawn inspector did not check (1–{MAX_TEXT} characters)",
                f"须说明替换抽中检查人员的理由（1至{MAX_TEXT}个字符）",
            )
            v.require(
                bool(s.absent) and bool(s.substitute),
                f"substitutions[{n}]",
                "required",
                "the absent drawn inspector and the substitute",
                "须注明被替换人员和替换人员",
            )
        v.require(
            len({s.absent for s in substitutions}) == len(substitutions),
            "substitutions",
            "duplicate",
            "each absent inspector once",
            "被替换人员重复",
        )
        v.raise_if_any()
        assert inspected_at is not None
        plan = self.plan(plan_id)
        # A unit records its own checks; a cross check is recorded by the checking unit.
        self._authorize("RecordSpotCheck", identity, Resource(unit=plan.unit))
        if not plan.drawn:
            raise RuleViolated(
                "this plan is not drawn yet: the discipline office has not contributed",
                "该计划尚未抽取（纪委监委尚未提交随机值）",
            )
        target = next((t for t in plan.targets if t["community_code"] == community_code), None)
        if target is None:
            raise RuleViolated(
                f"{_echo(community_code)} is not a target of this plan", "该小区不在该抽查计划内"
            )
        self._check_team(
            plan, community_code, list(target["inspectors"]), inspectors, substitutions
        )
        watch = self.find(CommunityWatch.create_id(community_code), CommunityWatch, read_only=True)
        if watch is None:
            raise NotFound(
                f"community {_echo(community_code)} has not reached inspection",
                "检查系统尚未收到该小区的登记",
            )
        # The record belongs to the community's unit (DOMAIN.md §2), whoever checked it: a
        # city check of a chengxiang community is chengxiang's to see and to close.
        unit, company = watch.unit, watch.company_uscc
        check_id = SpotCheck.create_id(plan.id, community_code)
        replaced = [
            {"absent": s.absent, "substitute": s.substitute, "reason": s.reason.strip()}
            for s in substitutions
        ]

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
                finding = Finding(
                    check_id,
                    community_code,
                    unit,
                    plan.unit,
                    plan.checking_kind,
                    company,
                    kind.code,
                    kind.name,
                    severity,
                    kind.legal_basis,
                    item.note,
                    list(item.evidence_refs),
                    inspected_at,
                )
                finding.order_rectification(deadline, self.rules.deadline_basis(severity, deadline))
                findings.append(finding)
            check = SpotCheck(
                plan.id,
                community_code,
                unit,
                plan.unit,
                plan.checking_kind,
                company,
                inspected_at,
                inspectors,
                [vars_of(item) for item in checklist],
                [str(f.id) for f in findings],
                replaced,
            )
            return [check, *findings], {
                "spot_check_id": str(check.id),
                "finding_ids": [str(f.id) for f in findings],
            }

        return self.run_once(
            "RecordSpotCheck",
            request_id,
            (plan_id, community_code, inspected_at, inspectors, checklist, replaced),
            execute,
        )

    def _check_team(
        self,
        plan: SpotCheckPlan,
        community: str,
        drawn: list[str],
        inspectors: list[str],
        substitutions: Sequence[Substitution],
    ) -> None:
        """The inspectors of a check are those drawn for its target, but for substitutions
        (each with its reason): the substitute from the plan's roster, without a conflict
        with the community, not drawn for it already."""
        roster = plan.roster or {code: [] for code in plan.draw.get("inspector_pool", [])}
        for s in substitutions:
            if s.absent not in drawn:
                raise RuleViolated(
                    f"{_echo(s.absent)} was not drawn for this community",
                    "被替换人员并非该小区的抽中检查人员",
                )
            if s.substitute in drawn or s.substitute not in roster:
                raise RuleViolated(
                    f"the substitute {_echo(s.substitute)} must be an inspector of the plan's "
                    "roster not drawn for this community",
                    "替换人员须为该计划名录内且未被抽中的检查人员",
                )
            if community in roster[s.substitute]:
                raise RuleViolated(
                    f"the substitute {_echo(s.substitute)} declared a conflict with this community",
                    "替换人员与该小区存在利害关系",
                )
        team = (set(drawn) - {s.absent for s in substitutions}) | {
            s.substitute for s in substitutions
        }
        if set(inspectors) != team:
            raise RuleViolated(
                f"the inspectors are those drawn for this community ({', '.join(drawn)}); a "
                "drawn inspector who cannot check is substituted with a recorded reason",
                f"检查人员须为该小区的抽中人员（{'、'.join(drawn)}）；如需替换须说明理由",
            )
        for code in sorted(team):
            inspector = self.find(Inspector.create_id(code), Inspector, read_only=True)
            if inspector is not None and community in inspector.conflicts:
                raise RuleViolated(
                    f"{code} has declared a conflict with this community since the draw: "
                    "substitute them, with the reason",
                    f"{code} 已申报与该小区存在利害关系，须替换",
                )

    def finding(self, finding_id: str) -> Finding:
        try:
            finding = self.find(uuid.UUID(finding_id[:64]), Finding)
        except (ValueError, TypeError):
            finding = None
        if finding is None:
            raise NotFound(f"finding {_echo(finding_id)} does not exist", "问题记录不存在")
        return finding

    def verify_rectification(
        self,
        identity: Identity,
        request_id: str,
        finding_id: str,
        verified_at: datetime | None,
        evidence_refs: list[str],
        note: str,
    ) -> Finding:
        self._admit("VerifyRectification", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.require(
            verified_at is not None,
            "verified_at",
            "time_format",
            "an RFC 3339 time with offset",
            "验收时间格式错误",
        )
        # Stored in UTC, within the platform's window of the service's clock.
        verified_at = v.require_instant(verified_at, "verified_at", self.clock(), "验收时间")
        v.raise_if_any()
        assert verified_at is not None
        finding = self.finding(finding_id)
        self._authorize(
            "VerifyRectification",
            identity,
            Resource(
                unit=finding.unit, company=finding.company_uscc, community=finding.community_code
            ),
        )

        def execute() -> tuple[list[Finding], dict[str, Any]]:
            current = self.finding(finding_id)
            current.verify(verified_at, evidence_refs, note)
            return [current], {"finding_id": finding_id}

        self.run_once(
            "VerifyRectification",
            request_id,
            (finding_id, verified_at, evidence_refs, note),
            execute,
        )
        return self.finding(finding_id)

    def sweep(self, identity: Identity, request_id: str) -> int:
        """SweepRectificationDeadlines called by someone (the periodic job of the projector
        role calls sweep_rectification_deadlines itself)."""
        self._admit("SweepRectificationDeadlines", identity)
        self._authorize("SweepRectificationDeadlines", identity, Resource(unit=CITY_UNIT))
        marked = self.sweep_rectification_deadlines()
        self.record_operation(identity, "SweepRectificationDeadlines", {"marked": marked})
        return marked

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

    def report_cross_check(
        self, identity: Identity, request_id: str, cross_check_id: str
    ) -> dict[str, Any]:
        self._admit("ReportCrossCheck", identity)
        v = Validator()
        v.require_request_id(request_id)
        v.raise_if_any()
        plan = self.plan(cross_check_id)
        self._authorize("ReportCrossCheck", identity, Resource(unit=plan.unit))
        if plan.kind != "cross":
            raise RuleViolated("not a cross check", "不是交叉检查")
        self.read_model.catch_up()
        checks = [
            c
            for c in self.read_model.checks(plan.year, [plan.checked_unit], "", "")
            if c.plan_id == str(plan.id)
        ]
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
                "cross_check_id": cross_check_id,
                "planned": len(current.targets),
                "checked": len(checks),
                "findings": sum(by_kind.values()),
                "findings_by_kind": dict(by_kind),
            }

        return self.run_once("ReportCrossCheck", request_id, cross_check_id, execute)

    # -- queries ---------------------------------------------------------------------------

    def plan_progress(self, identity: Identity, year: int, unit: str) -> list[UnitProgress]:
        """Each unit's quota and pace (vocabulary.pace: checks due by the end of September,
        counted from the campaign's start). The city's row (putian) is its own 15% of all
        communities, counted over the checks of its own plans; a county's row counts the
        checks of its communities by itself or a cross-check team, not the city's."""
        units, _ = self._list_units("GetPlanProgress", identity, unit)
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
            progress.append(
                UnitProgress(
                    u,
                    communities,
                    quota,
                    checked,
                    pace.expected_by_now,
                    pace.behind,
                    pace.tolerance_percent,
                    self.pace.version,
                    window.source,
                    self.pace.tolerance_source,
                    window.checks_start.isoformat(),
                    window.checks_due.isoformat(),
                    self.rules.quota_source,
                )
            )
        return progress

    def spot_checks(
        self, identity: Identity, year: int, unit: str, community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        self._admit("ListSpotChecks", identity)
        v = Validator()
        v.require(
            len(community_code) <= MAX_CODE,
            "community_code",
            "too_long",
            f"at most {MAX_CODE} characters",
            f"小区编码不超过{MAX_CODE}个字符",
        )
        v.require(
            len(company_uscc) in (0, 18),
            "company_uscc",
            "uscc_length",
            "empty or an 18-character USCC",
            "统一社会信用代码须为18位",
        )
        v.raise_if_any()
        units, company = self._list_units("ListSpotChecks", identity, unit, company_uscc)
        self.read_model.catch_up()
        return self.read_model.checks(year, units, community_code, company)

    def findings(
        self,
        identity: Identity,
        company_uscc: str,
        unit: str = "",
    ) -> list[FindingRow]:
        self._admit("ListFindings", identity)
        v = Validator()
        v.require(
            len(company_uscc) == 18,
            "company_uscc",
            "uscc_length",
            "an 18-character USCC",
            "统一社会信用代码须为18位",
        )
        v.raise_if_any()
        units, company = self._list_units("ListFindings", identity, unit, company_uscc)
        self.read_model.catch_up()
        return self.read_model.findings(company, units)

    def community_disclosure(
        self, identity: Identity, community_code: str
    ) -> CommunityDisclosureView:
        self._admit("GetCommunityDisclosure", identity)
        v = Validator()
        v.require(
            0 < len(community_code) <= MAX_CODE,
            "community_code",
            "required",
            f"a community code of 1–{MAX_CODE} characters",
            "缺少小区编码或过长",
        )
        v.raise_if_any()
        watch = self.find(CommunityWatch.create_id(community_code), CommunityWatch)
        if watch is None or watch.latest is None:
            raise NotFound(
                f"no disclosure of community {_echo(community_code)} has reached inspection",
                "检查系统尚未收到该小区的公示",
            )
        self._authorize(
            "GetCommunityDisclosure",
            identity,
            Resource(unit=watch.unit, company=watch.company_uscc, community=watch.community_code),
        )
        latest = watch.latest
        return CommunityDisclosureView(
            community_code=watch.community_code,
            unit=watch.unit,
            disclosure_id=latest.disclosure_id,
            year=latest.year,
            quarter=latest.quarter,
            income_total_fen=latest.income_total_fen,
            surplus_fen=latest.surplus_fen,
            late=latest.late,
            zero_revenue=latest.zero_revenue,
            disclosures_noted=watch.disclosures_noted,
        )

    def _inspector(self, code: str) -> Inspector:
        inspector = self.find(Inspector.create_id(code[: MAX_CODE + 1]), Inspector)
        if inspector is None:
            raise NotFound(f"inspector {_echo(code)} is not registered", "检查人员未登记")
        return inspector


def vars_of(item: ChecklistResult) -> dict[str, Any]:
    return {
        "item": item.item,
        "passed": item.passed,
        "note": item.note,
        "evidence_refs": list(item.evidence_refs),
        "severity": item.severity or "general",
    }


def _no_seed(v: Validator, seed: str) -> None:
    """The caller never picks the seed: it could try seeds until the draw suits it."""
    v.require(
        not seed,
        "seed",
        "seed_refused",
        "the seed is not the caller's: the service commits to a secret when the plan is "
        "recorded, the discipline office contributes a value, and the seed combines both "
        "(ContributeDrawEntropy)",
        "随机种子不由调用方指定：计划记录时服务端承诺秘密值，纪委监委提交随机值后合成种子",
    )
