"""Every error inspection answers, asserted on in-memory persistence: each field error code
(INVALID_ARGUMENT, the `rule` of a FieldViolation) and each rule of the domain
(RuleViolated, FAILED_PRECONDITION), with nothing written. Two further tests read the
source: every code and every rule raised there must be met by a case here, so a new one
cannot go untested."""

from __future__ import annotations

import ast
import inspect
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check import ChecklistResult, Substitution
from inspection.domain.spot_check_plan import SpotCheckPlan
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured
from pubrev_contracts.vocabulary.pace import CampaignYearNotConfigured
from pubrev_contracts.vocabulary.violations import KINDS
from servicekit.attachments import AttachmentRef
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, RuleViolated
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from services.inspection.tests.support.world import (
    CITY_DISCIPLINE,
    CITY_OFFICER,
    COMPANY_A,
    CX_CODES,
    CX_DISCIPLINE,
    CX_HEAD,
    CX_INSPECTOR,
    CX_OFFICER,
    LC_OFFICER,
    PUBLIC,
    USCC_A,
    World,
    build,
    checklist,
    communities,
    drawn_plan,
    new_app,
    record_check,
    rosters,
    stored,
)

SOURCE = Path(__file__).resolve().parents[2] / "src" / "inspection"
AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
NO_PLAN = "00000000-0000-4000-8000-000000000000"


def log_size(app: InspectionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def rid() -> str:
    return f"e-{uuid.uuid4().hex[:12]}"


def spot_check(**changes: Any) -> c.RecordSpotCheck:
    base = c.RecordSpotCheck(
        "r1", NO_PLAN, "CX-0002", AT, ("CX-I1", "CX-I2"), checklist(("signboard_present",))
    )
    return replace(base, **changes)


FAILED = ChecklistResult("signboard_present", False, "", ("a.jpg",), "general")

# -- field errors (INVALID_ARGUMENT) ---------------------------------------------------------


@dataclass(frozen=True)
class FieldCase:
    name: str
    who: Identity
    call: Callable[[InspectionApplication, Identity], object]
    field: str
    rule: str


def command(cmd: object) -> Callable[[InspectionApplication, Identity], object]:
    return lambda app, who: app.handle(who, cmd)


FIELD_CASES = [
    FieldCase(
        "request id",
        CX_OFFICER,
        command(c.RegisterInspector("", "CX-I9", "检查员", "chengxiang")),
        "request_id",
        "required",
    ),
    FieldCase(
        "inspector code",
        CX_OFFICER,
        command(c.RegisterInspector("r", " ", "检查员", "chengxiang")),
        "inspector_code",
        "required",
    ),
    FieldCase(
        "inspector name",
        CX_OFFICER,
        command(c.RegisterInspector("r", "CX-I9", "x" * 65, "chengxiang")),
        "name",
        "required",
    ),
    FieldCase(
        "inspector unit",
        CX_OFFICER,
        command(c.RegisterInspector("r", "CX-I9", "检查员", "fuzhou")),
        "unit",
        "unknown_unit",
    ),
    FieldCase(
        "conflict community",
        CX_OFFICER,
        command(c.DeclareConflict("r", "CX-I1", "", "亲属")),
        "community_code",
        "required",
    ),
    FieldCase(
        "conflict reason",
        CX_OFFICER,
        command(c.DeclareConflict("r", "CX-I1", "CX-0001", "x" * 501)),
        "reason",
        "too_long",
    ),
    FieldCase(
        "plan year",
        CX_OFFICER,
        command(c.PlanSpotChecks("r", 2019, "chengxiang")),
        "year",
        "year_range",
    ),
    FieldCase(
        "plan unit",
        CX_OFFICER,
        command(c.PlanSpotChecks("r", 2026, "nowhere")),
        "unit",
        "unknown_unit",
    ),
    FieldCase(
        "inspectors per target",
        CX_OFFICER,
        command(c.PlanSpotChecks("r", 2026, "chengxiang", inspectors_per_target=6)),
        "inspectors_per_target",
        "range",
    ),
    FieldCase(
        "the caller's seed",
        CX_OFFICER,
        command(c.PlanSpotChecks("r", 2026, "chengxiang", seed="lucky")),
        "seed",
        "seed_refused",
    ),
    FieldCase(
        "priority codes",
        CX_OFFICER,
        command(c.PlanSpotChecks("r", 2026, "chengxiang", typical_cases=("",))),
        "typical_case",
        "codes",
    ),
    FieldCase(
        "contribution",
        CX_DISCIPLINE,
        command(c.ContributeDrawEntropy("r", NO_PLAN, "too short")),
        "contribution",
        "contribution_format",
    ),
    FieldCase(
        "redraw reason",
        CX_HEAD,
        command(c.RedrawSpotChecks("r", NO_PLAN, "  ")),
        "reason",
        "required",
    ),
    FieldCase(
        "cross-check quarter",
        CITY_OFFICER,
        command(c.PlanCrossCheck("r", 2026, 5, "licheng", "chengxiang", 3)),
        "quarter",
        "quarter_range",
    ),
    FieldCase(
        "checking unit",
        CITY_OFFICER,
        command(c.PlanCrossCheck("r", 2026, 2, "putian", "chengxiang", 3)),
        "checking_unit",
        "unknown_unit",
    ),
    FieldCase(
        "checked unit",
        CITY_OFFICER,
        command(c.PlanCrossCheck("r", 2026, 2, "licheng", "putian", 3)),
        "checked_unit",
        "unknown_unit",
    ),
    FieldCase(
        "a cross check of its own unit",
        CITY_OFFICER,
        command(c.PlanCrossCheck("r", 2026, 2, "licheng", "licheng", 3)),
        "checked_unit",
        "same_unit",
    ),
    FieldCase(
        "cross-check size",
        CITY_OFFICER,
        command(c.PlanCrossCheck("r", 2026, 2, "licheng", "chengxiang", 0)),
        "communities",
        "range",
    ),
    FieldCase(
        "report request id",
        CX_OFFICER,
        command(c.ReportCrossCheck("", NO_PLAN)),
        "request_id",
        "required",
    ),
    FieldCase(
        "inspection time unreadable",
        CX_INSPECTOR,
        command(spot_check(inspected_at=None)),
        "inspected_at",
        "time_format",
    ),
    FieldCase(
        "inspection time out of the window",
        CX_INSPECTOR,
        command(spot_check(inspected_at=datetime(1999, 12, 31, tzinfo=UTC))),
        "inspected_at",
        "time_range",
    ),
    FieldCase(
        "no checklist",
        CX_INSPECTOR,
        command(spot_check(checklist=())),
        "checklist",
        "required",
    ),
    FieldCase(
        "unknown item",
        CX_INSPECTOR,
        command(spot_check(checklist=(ChecklistResult("garden_tidy", True),))),
        "checklist[0].item",
        "unknown_item",
    ),
    FieldCase(
        "an item twice",
        CX_INSPECTOR,
        command(spot_check(checklist=(FAILED, FAILED))),
        "checklist[1].item",
        "duplicate",
    ),
    FieldCase(
        "unknown severity",
        CX_INSPECTOR,
        command(spot_check(checklist=(replace(FAILED, severity="grave"),))),
        "checklist[0].severity",
        "unknown_severity",
    ),
    FieldCase(
        "a failed item without evidence",
        CX_INSPECTOR,
        command(spot_check(checklist=(replace(FAILED, evidence_refs=()),))),
        "checklist[0].evidence_refs",
        "evidence_missing",
    ),
    FieldCase(
        "no inspectors",
        CX_INSPECTOR,
        command(spot_check(inspector_codes=())),
        "inspector_codes",
        "required",
    ),
    FieldCase(
        "an inspector twice",
        CX_INSPECTOR,
        command(spot_check(inspector_codes=("CX-I1", "CX-I1"))),
        "inspector_codes",
        "duplicate",
    ),
    FieldCase(
        "too many inspectors",
        CX_INSPECTOR,
        command(spot_check(inspector_codes=tuple(f"CX-I{n}" for n in range(11)))),
        "inspector_codes",
        "too_many",
    ),
    FieldCase(
        "a substitution without reason",
        CX_INSPECTOR,
        command(spot_check(substitutions=(Substitution("CX-I1", "CX-I3", " "),))),
        "substitutions[0].reason",
        "required",
    ),
    FieldCase(
        "a substitution without the absent inspector",
        CX_INSPECTOR,
        command(spot_check(substitutions=(Substitution("", "CX-I3", "病假"),))),
        "substitutions[0]",
        "required",
    ),
    FieldCase(
        "the same inspector substituted twice",
        CX_INSPECTOR,
        command(
            spot_check(
                substitutions=(
                    Substitution("CX-I1", "CX-I3", "病假"),
                    Substitution("CX-I1", "CX-I4", "事假"),
                )
            )
        ),
        "substitutions",
        "duplicate",
    ),
    FieldCase(
        "verification time unreadable",
        CX_OFFICER,
        command(c.VerifyRectification("r", NO_PLAN, None, ("after.jpg",))),
        "verified_at",
        "time_format",
    ),
    FieldCase(
        "listed community code",
        CX_OFFICER,
        lambda app, who: queries.spot_checks(app, who, 2026, "", "x" * 65, ""),
        "community_code",
        "too_long",
    ),
    FieldCase(
        "listed company",
        CX_OFFICER,
        lambda app, who: queries.spot_checks(app, who, 2026, "", "", "9135"),
        "company_uscc",
        "uscc_length",
    ),
    FieldCase(
        "findings' company",
        CX_OFFICER,
        lambda app, who: queries.findings(app, who, "9135"),
        "company_uscc",
        "uscc_length",
    ),
    FieldCase(
        "listed unit",
        CX_OFFICER,
        lambda app, who: queries.plan_progress(app, who, 2026, "fuzhou"),
        "unit",
        "unknown_unit",
    ),
    FieldCase(
        "community of a disclosure",
        CX_OFFICER,
        lambda app, who: queries.community_disclosure(app, who, ""),
        "community_code",
        "required",
    ),
    FieldCase(
        "a draw to verify",
        CX_OFFICER,
        lambda app, who: queries.verify_draw(app, who, "", None, 0),
        "plan_id",
        "required",
    ),
    FieldCase(
        "a given draw's count",
        CX_OFFICER,
        lambda app, who: queries.verify_draw(app, who, "", {"pool": []}, -1),
        "count",
        "range",
    ),
    FieldCase(
        "a given draw's pool",
        CX_OFFICER,
        lambda app, who: queries.verify_draw(app, who, "", {"pool": ["C"] * 50_001}, 1),
        "draw.pool",
        "too_long",
    ),
]

# Issue 13: findings entered directly, the company's evidence and objections, townships.
PHOTO = AttachmentRef("a" * 64, 1024, "image/jpeg", "现场.jpg")
"""Well formed, but stored nowhere (a fresh application's evidence store is empty)."""
CX_TOWNSHIP_INSPECTOR = Identity("township", "inspector", "chengxiang", "巡查员甲")


def finding_entry(**changes: Any) -> c.RecordFinding:
    base = c.RecordFinding("r", "D2", "serious", "虚增维修项目", (PHOTO,), "CX-0001")
    return replace(base, **changes)


def township_entry(**changes: Any) -> c.RecordTownshipInspection:
    base = c.RecordTownshipInspection("r", "CX-0001", "龙桥街道", "2026-06-01", "巡查员甲")
    return replace(base, **changes)


FIELD_CASES += [
    FieldCase(
        "finding kind", CX_OFFICER, command(finding_entry(kind="F9")), "kind", "unknown_kind"
    ),
    FieldCase(
        "finding severity",
        CX_OFFICER,
        command(finding_entry(severity="grave")),
        "severity",
        "unknown_severity",
    ),
    FieldCase("finding facts", CX_OFFICER, command(finding_entry(note=" ")), "note", "required"),
    FieldCase(
        "finding facts' length",
        CX_OFFICER,
        command(finding_entry(note="x" * 2001)),
        "note",
        "too_long",
    ),
    FieldCase(
        "a control character",
        CX_OFFICER,
        command(finding_entry(note="虚增\x07")),
        "note",
        "control_character",
    ),
    FieldCase(
        "a finding without evidence",
        CX_OFFICER,
        command(finding_entry(attachments=())),
        "attachments",
        "evidence_missing",
    ),
    FieldCase(
        "too many attachments",
        CX_OFFICER,
        command(finding_entry(attachments=(PHOTO,) * 21)),
        "attachments",
        "too_many",
    ),
    FieldCase(
        "an attachment not as the store gives it",
        CX_OFFICER,
        command(finding_entry(attachments=(replace(PHOTO, media_type="text/html"),))),
        "attachments[0]",
        "attachment_ref",
    ),
    FieldCase(
        "an attachment never uploaded",
        CX_OFFICER,
        command(finding_entry()),
        "attachments[0]",
        "attachment_not_stored",
    ),
    FieldCase(
        "a company's finding without its community",
        CX_OFFICER,
        command(finding_entry(community_code="")),
        "community_code",
        "required",
    ),
    FieldCase(
        "a company's finding naming an agency",
        CX_OFFICER,
        command(finding_entry(agency_unit="chengxiang")),
        "agency_unit",
        "company_finding",
    ),
    FieldCase(
        "an agency's finding without its unit",
        CITY_OFFICER,
        command(finding_entry(kind="E1", community_code="", agency_unit="")),
        "agency_unit",
        "unknown_unit",
    ),
    FieldCase(
        "an agency's finding's community",
        CITY_OFFICER,
        command(finding_entry(kind="E3", community_code="x" * 65, agency_unit="chengxiang")),
        "community_code",
        "too_long",
    ),
    FieldCase(
        "the warning escalated",
        CITY_OFFICER,
        command(finding_entry(kind="E1", community_code="", agency_unit="licheng", warning_id="w")),
        "warning_id",
        "uuid_format",
    ),
    FieldCase(
        "evidence's finding",
        COMPANY_A,
        command(c.SubmitRectificationEvidence("r", "", "已整改", (PHOTO,))),
        "finding_id",
        "required",
    ),
    FieldCase(
        "evidence's note",
        COMPANY_A,
        command(c.SubmitRectificationEvidence("r", NO_PLAN, "", (PHOTO,))),
        "note",
        "required",
    ),
    FieldCase(
        "evidence without files",
        COMPANY_A,
        command(c.SubmitRectificationEvidence("r", NO_PLAN, "已整改", ())),
        "attachments",
        "evidence_missing",
    ),
    FieldCase(
        "an objection's reason",
        COMPANY_A,
        command(c.ObjectToFinding("r", NO_PLAN, "")),
        "reason",
        "required",
    ),
    FieldCase(
        "a decision's reasons",
        CX_OFFICER,
        command(c.DecideObjection("r", NO_PLAN, True, " ")),
        "decision",
        "required",
    ),
    FieldCase(
        "a township's community",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(community_code="")),
        "community_code",
        "required",
    ),
    FieldCase(
        "the township",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(township="")),
        "township",
        "required",
    ),
    FieldCase(
        "the day inspected",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(inspected_on="20260601")),
        "inspected_on",
        "date_format",
    ),
    FieldCase(
        "the township's inspector",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(inspector="")),
        "inspector",
        "required",
    ),
    FieldCase(
        "too many problems",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(problems=("公示栏破损",) * 21)),
        "problems",
        "too_many",
    ),
    FieldCase(
        "an empty problem",
        CX_TOWNSHIP_INSPECTOR,
        command(township_entry(problems=(" ",))),
        "problems[0]",
        "required",
    ),
    FieldCase(
        "a ledger's period",
        CX_OFFICER,
        lambda app, who: queries.township_inspections(
            app, who, "", "", "", "2026-01-01", "2027-06-01"
        ),
        "until",
        "date_range",
    ),
    FieldCase(
        "a ledger's start",
        CX_OFFICER,
        lambda app, who: queries.township_inspections(app, who, "", "", "", "2026-1-1", ""),
        "since",
        "date_format",
    ),
    FieldCase(
        "a ledger's community",
        CX_OFFICER,
        lambda app, who: queries.township_inspections(app, who, "", "", "x" * 65, "", ""),
        "community_code",
        "too_long",
    ),
    FieldCase(
        "a checklist item's attachment",
        CX_INSPECTOR,
        command(
            spot_check(
                checklist=(replace(FAILED, attachments=(replace(PHOTO, filename="现场\x00.jpg"),)),)
            )
        ),
        "checklist[0].attachments[0]",
        "attachment_ref",
    ),
]


async def _called(case: FieldCase, app: InspectionApplication) -> object:
    called = case.call(app, case.who)
    # A query over the read model is a coroutine (the servicer awaits it).
    return await called if inspect.isawaitable(called) else called


@pytest.mark.parametrize("case", FIELD_CASES, ids=lambda case: case.name)
async def test_a_bad_field_is_named_with_its_rule_and_nothing_is_written(
    case: FieldCase,
) -> None:
    app = new_app()
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        await _called(case, app)
    assert (case.field, case.rule) in [(v.field, v.rule) for v in caught.value.violations]
    assert all(v.description and v.description_zh for v in caught.value.violations)
    assert log_size(app) == before


def _rules_in_source() -> set[str]:
    """The `rule` of every field violation the source can raise: Validator.require(ok,
    field, rule, ...) and .add(field, rule, ...), plus the Validator's own helpers used."""
    rules: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                position = {"require": 2, "add": 1}.get(node.func.attr)
                if position is not None and len(node.args) > position:
                    rule = node.args[position]
                    if isinstance(rule, ast.Constant) and isinstance(rule.value, str):
                        rules.add(rule.value)
                if node.func.attr == "require_instant":
                    rules |= {"time_format", "time_range"}
                if node.func.attr == "require_request_id":
                    rules.add("required")
                if node.func.attr == "require_text":
                    rules |= {"required", "too_long", "control_character"}
    return rules


def test_every_field_rule_the_source_raises_is_asserted_above() -> None:
    in_source = _rules_in_source()
    assert {"evidence_missing", "unknown_item", "unknown_severity", "same_unit"} <= in_source
    assert in_source <= {case.rule for case in FIELD_CASES}


# -- rules of the domain (RuleViolated) --------------------------------------------------------


def _world() -> World:
    return build()


def _target(world: World, n: int) -> str:
    """A target of chengxiang's drawn plan other than CX-0001 (checked by the world)."""
    return [code for code in world.plan.target_codes if code != "CX-0001"][n]


def _drawn(world: World, code: str) -> list[str]:
    return next(t["inspectors"] for t in world.plan.targets if t["community_code"] == code)


def _spare(world: World, code: str) -> str:
    return next(i for i in ("CX-I1", "CX-I2", "CX-I3") if i not in _drawn(world, code))


def _second_draw(world: World) -> None:
    world.app.handle(
        CX_DISCIPLINE, c.ContributeDrawEntropy(rid(), str(world.plan.id), "a second try 123456")
    )


def _lost_secret(world: World) -> None:
    world.app.handle(CITY_OFFICER, c.PlanSpotChecks(rid(), 2026, "putian"))
    plan_id = str(SpotCheckPlan.yearly_id(2026, "putian"))
    world.app.read_model._secrets.clear()  # type: ignore[attr-defined]  # a restored database
    world.app.handle(CITY_DISCIPLINE, c.ContributeDrawEntropy(rid(), plan_id, "x" * 20))


def _wrong_secret(world: World) -> None:
    world.app.handle(CITY_OFFICER, c.PlanSpotChecks(rid(), 2026, "putian"))
    plan = world.app.plan(str(SpotCheckPlan.yearly_id(2026, "putian")))
    world.app.read_model._secrets[plan.commitment] = "not it"  # type: ignore[attr-defined]
    world.app.handle(CITY_DISCIPLINE, c.ContributeDrawEntropy(rid(), str(plan.id), "x" * 20))


def _substitute_not_drawn(world: World) -> None:
    code = _target(world, 0)
    spare = _spare(world, code)
    record_check(
        world.app,
        CX_INSPECTOR,
        world.plan,
        code,
        inspectors=[*_drawn(world, code), spare],
        substitutions=(Substitution(spare, "CX-I1", "病假"),),
    )


def _substitute_off_the_roster(world: World) -> None:
    code = _target(world, 0)
    drawn = _drawn(world, code)
    record_check(
        world.app,
        CX_INSPECTOR,
        world.plan,
        code,
        inspectors=[drawn[0], "PT-I1"],
        substitutions=(Substitution(drawn[1], "PT-I1", "病假"),),
    )


def _conflicted_substitute(world: World) -> None:
    """A unit of its own whose CX-I3 declared a conflict with every community before the
    plan: the roster records it, the draw never picks CX-I3, and it may not substitute."""
    app = new_app()
    communities(app)
    rosters(app)
    for code in CX_CODES:
        app.handle(CX_OFFICER, c.DeclareConflict(rid(), "CX-I3", code, "本人在该物业公司兼职"))
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    code = plan.target_codes[0]
    record_check(
        app,
        CX_INSPECTOR,
        plan,
        code,
        inspectors=["CX-I1", "CX-I3"],
        substitutions=(Substitution("CX-I2", "CX-I3", "病假"),),
    )


def _not_the_drawn_team(world: World) -> None:
    code = _target(world, 0)
    record_check(world.app, CX_INSPECTOR, world.plan, code, inspectors=[_drawn(world, code)[0]])


def _conflict_since_the_draw(world: World) -> None:
    code = _target(world, 0)
    world.app.handle(
        CX_OFFICER, c.DeclareConflict(rid(), _drawn(world, code)[0], code, "其配偶受聘于该物业")
    )
    record_check(world.app, CX_INSPECTOR, world.plan, code)


def _not_a_target(world: World) -> None:
    code = next(code for code in CX_CODES if code not in world.plan.target_codes)
    world.app.handle(
        CX_INSPECTOR,
        c.RecordSpotCheck(rid(), str(world.plan.id), code, AT, ("CX-I1",), checklist()),
    )


def _not_drawn_yet(world: World) -> None:
    world.app.handle(CITY_OFFICER, c.PlanSpotChecks(rid(), 2026, "putian"))
    plan_id = str(SpotCheckPlan.yearly_id(2026, "putian"))
    who = Identity("property-bureau", "inspector", "putian", "PT-I1")
    world.app.handle(who, c.RecordSpotCheck(rid(), plan_id, "CX-0001", AT, ("PT-I1",), checklist()))


def _checked_twice(world: World) -> None:
    record_check(world.app, CX_INSPECTOR, world.plan, "CX-0001")


def _too_few_inspectors(world: World) -> None:
    world.app.handle(LC_OFFICER, c.PlanSpotChecks(rid(), 2026, "licheng", inspectors_per_target=4))


def _report_of_a_yearly_plan(world: World) -> None:
    world.app.handle(CX_OFFICER, c.ReportCrossCheck(rid(), str(world.plan.id)))


RULE_CASES: list[tuple[str, Callable[[World], object], str]] = [
    (
        "an inspector registered twice",
        lambda w: w.app.handle(
            CX_OFFICER, c.RegisterInspector(rid(), "CX-I1", "又一位", "chengxiang")
        ),
        "该检查人员已登记",
    ),
    (
        "a unit's second plan of the year",
        lambda w: w.app.handle(CX_OFFICER, c.PlanSpotChecks(rid(), 2026, "chengxiang")),
        "年度抽查计划已制定",
    ),
    ("a plan its roster cannot staff", _too_few_inspectors, "无利害关系的检查人员仅"),
    ("a second contribution", _second_draw, "该计划已完成抽取"),
    ("a lost secret", _lost_secret, "本轮服务端秘密值缺失"),
    ("a secret that is not the committed one", _wrong_secret, "服务端秘密值与承诺值不符"),
    (
        "a redraw once a check is recorded",
        lambda w: w.app.handle(CX_HEAD, c.RedrawSpotChecks(rid(), str(w.plan.id), "换一批")),
        "该抽取结果已有检查记录",
    ),
    (
        "a cross check planned twice",
        lambda w: w.app.handle(
            CITY_OFFICER, c.PlanCrossCheck(rid(), 2026, 2, "chengxiang", "licheng", 1)
        ),
        "该交叉检查已部署",
    ),
    ("a report of a yearly plan", _report_of_a_yearly_plan, "仅交叉检查需要形成报告"),
    ("a check of a plan not drawn yet", _not_drawn_yet, "该计划尚未抽取"),
    ("a check of no target of the plan", _not_a_target, "该小区不在该抽查计划内"),
    ("a check recorded twice", _checked_twice, "该检查已记录"),
    ("an absent inspector not drawn", _substitute_not_drawn, "被替换人员并非该小区的抽中检查人员"),
    ("a substitute off the roster", _substitute_off_the_roster, "替换人员须为该计划名录内"),
    ("a substitute with a conflict", _conflicted_substitute, "替换人员与该小区存在利害关系"),
    ("not the drawn team", _not_the_drawn_team, "检查人员须为该小区的抽中人员"),
    ("a conflict declared since the draw", _conflict_since_the_draw, "已申报与该小区存在利害关系"),
    (
        "a rectification verified twice",
        lambda w: w.app.handle(
            CX_OFFICER, c.VerifyRectification(rid(), w.finding_id, AT, ("again.jpg",))
        ),
        "该问题整改已验收",
    ),
]


def _unproven_rectification(world: World) -> None:
    """A finding of its own (the world's is verified already), verified without evidence."""
    code = _target(world, 0)
    done = record_check(world.app, CX_INSPECTOR, world.plan, code, failed=("posting_30_days",))
    world.app.handle(
        CX_OFFICER, c.VerifyRectification(rid(), done.finding_ids[0], AT, (), "无材料")
    )


RULE_CASES.append(
    (
        "a rectification verified without evidence",
        _unproven_rectification,
        "整改验收须附整改佐证材料",
    )
)


# Issue 13: findings entered directly, the company's evidence and objections, townships and
# the quarters of cross checks.

TOWNSHIP_OFFICER = Identity("township", "officer", "chengxiang", "巡查员甲")


def _direct(world: World, who: Identity = CX_OFFICER, **changes: Any) -> c.FindingRecorded:
    entry = c.RecordFinding(rid(), "D2", "serious", "虚增维修项目", (stored(world.app),), "CX-0002")
    recorded: c.FindingRecorded = world.app.handle(who, replace(entry, **changes))
    return recorded


def _agency_finding(world: World) -> c.FindingRecorded:
    return _direct(world, CITY_OFFICER, kind="E1", community_code="", agency_unit="licheng")


def _domain_entry(
    kind: str, attachments: tuple[AttachmentRef, ...] = (PHOTO,), agency_unit: str = ""
) -> Finding:
    """Finding.entered on its own: guards the application's checks never let reach it."""
    return Finding.entered(
        uuid.uuid4(),
        KINDS[kind],
        "general",
        "事实",
        attachments,
        AT,
        "chengxiang",
        DEFAULT_RULES,
        unit="chengxiang",
        community_code="CX-0002",
        community_unit="chengxiang",
        company_uscc=USCC_A,
        agency_unit=agency_unit,
    )


def _objected(world: World) -> str:
    finding_id = _direct(world).finding_id
    world.app.handle(COMPANY_A, c.ObjectToFinding(rid(), finding_id, "该维修项目真实发生"))
    return finding_id


def _withdrawn(world: World) -> str:
    finding_id = _objected(world)
    world.app.handle(CX_OFFICER, c.DecideObjection(rid(), finding_id, True, "经复核，项目属实"))
    return finding_id


def _entered_twice(world: World) -> None:
    entry = township_entry()
    world.app.handle(TOWNSHIP_OFFICER, replace(entry, request_id=rid()))
    world.app.handle(TOWNSHIP_OFFICER, replace(entry, request_id=rid()))


def _cross_check_after_its_quarter(world: World) -> None:
    world.app.clock.now = datetime(2026, 7, 2, 2, tzinfo=UTC)  # type: ignore[attr-defined]
    [target] = world.cross.targets
    world.app.handle(
        CX_INSPECTOR,
        c.RecordSpotCheck(
            rid(),
            str(world.cross.id),
            target["community_code"],
            datetime(2026, 7, 2, 1, tzinfo=UTC),
            tuple(target["inspectors"]),
            checklist(),
        ),
    )


def _objection_too_late(world: World) -> None:
    world.app.clock.now = datetime(2026, 6, 21, 2, tzinfo=UTC)  # type: ignore[attr-defined]
    world.app.handle(COMPANY_A, c.ObjectToFinding(rid(), world.finding_id, "公示牌早已设置"))


def _no_company_yet(world: World) -> None:
    world.app.note_registration("CX-0099", "chengxiang", "", DeliveryRef("t", "reg-99", 1))
    _direct(world, community_code="CX-0099")


RULE_CASES += [
    (
        "an agency's failure about another unit's community",
        lambda w: _direct(
            w, CITY_OFFICER, kind="E3", community_code="CX-0001", agency_unit="licheng"
        ),
        "该小区不属于licheng",
    ),
    (
        "a finding entered without evidence (the aggregate's own guard)",
        lambda w: _domain_entry("D2", ()),
        "直接录入的问题须附证据材料",
    ),
    (
        "a company's finding before its company is known",
        _no_company_yet,
        "该小区尚无物业服务企业登记",
    ),
    (
        "an agency's finding naming no agency (the aggregate's own guard)",
        lambda w: _domain_entry("E1"),
        "E1 属监管部门履职问题，须注明责任单位",
    ),
    (
        "a rectification of an agency's finding",
        lambda w: w.app.handle(
            CITY_OFFICER,
            c.VerifyRectification(rid(), _agency_finding(w).finding_id, AT, ("a.jpg",)),
        ),
        "监管部门履职问题不向企业下达整改",
    ),
    (
        "evidence for a withdrawn finding",
        lambda w: w.app.handle(
            COMPANY_A,
            c.SubmitRectificationEvidence(rid(), _withdrawn(w), "已整改", (stored(w.app),)),
        ),
        "该问题已撤销，整改随之取消",
    ),
    (
        "evidence without files (the aggregate's own guard)",
        lambda w: _domain_entry("D2").submit_evidence("已整改", (), AT),
        "整改佐证须附材料",
    ),
    (
        "a verification citing evidence never submitted",
        lambda w: w.app.handle(
            CX_OFFICER,
            c.VerifyRectification(rid(), _direct(w).finding_id, AT, (), cite_company_evidence=True),
        ),
        "企业尚未提交整改佐证材料，无从引用",
    ),
    (
        "an objection to an agency's finding (the aggregate's own guard)",
        lambda w: _domain_entry("E1", agency_unit="chengxiang").raise_objection(
            "不服", (), AT, DEFAULT_RULES
        ),
        "监管部门履职问题不适用企业异议",
    ),
    (
        "an objection to a withdrawn finding",
        lambda w: w.app.handle(COMPANY_A, c.ObjectToFinding(rid(), _withdrawn(w), "再次异议")),
        "该问题已撤销",
    ),
    (
        "a second objection",
        lambda w: w.app.handle(COMPANY_A, c.ObjectToFinding(rid(), _objected(w), "补充理由")),
        "已对该问题提出过异议",
    ),
    (
        "an objection after its period",
        _objection_too_late,
        "异议期限已届满（自发现问题之日起15日）",
    ),
    (
        "a decision on no objection",
        lambda w: w.app.handle(CX_OFFICER, c.DecideObjection(rid(), w.finding_id, False, "维持")),
        "该问题没有待处理的异议",
    ),
    (
        "a cross check's check after its quarter",
        _cross_check_after_its_quarter,
        "2026Q2的交叉检查须在该季度内进行",
    ),
    (
        "a cross check of a quarter that is over",
        lambda w: w.app.handle(
            CITY_OFFICER, c.PlanCrossCheck(rid(), 2026, 1, "licheng", "chengxiang", 1)
        ),
        "2026Q1已结束，不能补做该季度的交叉检查",
    ),
    (
        "a township's inspection of another township's community",
        lambda w: w.app.handle(TOWNSHIP_OFFICER, township_entry(township="凤凰山街道")),
        "该小区属龙桥街道，不属所填镇（街道）",
    ),
    (
        "a township's inspection of tomorrow",
        lambda w: w.app.handle(TOWNSHIP_OFFICER, township_entry(inspected_on="2026-06-02")),
        "检查日期不得晚于当日",
    ),
    (
        "a township's inspection entered weeks later",
        lambda w: w.app.handle(TOWNSHIP_OFFICER, township_entry(inspected_on="2026-05-20")),
        "检查须在7日内录入台账",
    ),
    ("a township's inspection entered twice", _entered_twice, "该小区当日检查已录入台账"),
]


def refusal(act: Callable[[World], object]) -> RuleViolated:
    """The refusal of `act` on a fresh world, checking that the refused command wrote
    nothing (what a case sets up first, a second plan or a conflict, is its own doing)."""
    world = _world()
    app = world.app
    handle = app.handle
    sizes: list[int] = []

    def handle_counted(identity: Identity, command: Any) -> Any:
        sizes.append(log_size(app))
        return handle(identity, command)

    app.handle = handle_counted  # type: ignore[method-assign]
    with pytest.raises(RuleViolated) as caught:
        act(world)
    if sizes:  # (a case on an application of its own is not counted here)
        assert log_size(app) == sizes[-1]
    return caught.value


@pytest.mark.parametrize(("name", "act", "zh"), RULE_CASES, ids=[n for n, _, _ in RULE_CASES])
def test_a_broken_rule_is_refused_in_both_languages(
    name: str, act: Callable[[World], object], zh: str
) -> None:
    refused = refusal(act)
    assert zh in refused.message_zh
    assert refused.message and refused.message != refused.message_zh


def _zh_patterns_in_source() -> list[re.Pattern[str]]:
    """The zh message of every RuleViolated the source raises, as a pattern (an f-string's
    values match anything)."""
    patterns = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "RuleViolated"
                and len(node.args) == 2
            ):
                zh = node.args[1]
                if isinstance(zh, ast.Constant):
                    patterns.append(re.compile(re.escape(zh.value)))
                elif isinstance(zh, ast.JoinedStr):
                    parts = [
                        re.escape(v.value) if isinstance(v, ast.Constant) else ".*"
                        for v in zh.values
                    ]
                    patterns.append(re.compile("".join(parts)))
    return patterns


def test_every_rule_the_source_raises_is_asserted_above() -> None:
    raised = [refusal(act).message_zh for _, act, _ in RULE_CASES]
    patterns = _zh_patterns_in_source()
    assert len(patterns) >= 15  # the scan finds them (19 when written)
    missing = [p.pattern for p in patterns if not any(p.fullmatch(m) for m in raised)]
    assert not missing, missing


# -- what is not a rule of inspection's own, and what is not there -----------------------------


def test_a_deadline_the_holiday_calendar_cannot_give_refuses_the_check() -> None:
    """A check of 20 December 2026 with a serious finding: its 60 days end in 2027, whose
    holidays are not entered. FAILED_PRECONDITION (a vocabulary NotConfigured), nothing
    written: record it again once the year is entered."""
    world = _world()
    world.app.clock.now = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    code = _target(world, 0)
    before = log_size(world.app)
    with pytest.raises(CalendarNotConfigured):
        world.app.handle(
            CX_INSPECTOR,
            c.RecordSpotCheck(
                rid(),
                str(world.plan.id),
                code,
                datetime(2026, 12, 20, 1, 0, tzinfo=UTC),
                tuple(_drawn(world, code)),
                (replace(FAILED, severity="serious"),),
            ),
        )
    assert log_size(world.app) == before


async def test_progress_of_a_year_the_campaign_calendar_lacks_is_refused() -> None:
    with pytest.raises(CampaignYearNotConfigured):
        await queries.plan_progress(new_app(), CX_OFFICER, 2031, "chengxiang")


@pytest.mark.parametrize(
    ("name", "call"),
    [
        (
            "an inspector not registered",
            lambda w: w.app.handle(CX_OFFICER, c.DeclareConflict(rid(), "CX-I9", "CX-0001", "")),
        ),
        (
            "a plan that does not exist",
            lambda w: w.app.handle(
                CX_DISCIPLINE, c.ContributeDrawEntropy(rid(), NO_PLAN, "x" * 20)
            ),
        ),
        (
            "a plan id that is no id",
            lambda w: w.app.handle(CX_HEAD, c.RedrawSpotChecks(rid(), "plan-7", "理由")),
        ),
        (
            "a finding that does not exist",
            lambda w: w.app.handle(
                CX_OFFICER, c.VerifyRectification(rid(), NO_PLAN, AT, ("after.jpg",))
            ),
        ),
        (
            "a community that has not reached inspection",
            lambda w: w.app.handle(
                CX_INSPECTOR,
                c.RecordSpotCheck(rid(), str(w.plan.id), "CX-9999", AT, ("CX-I1",), checklist()),
            ),
        ),
        (
            "a community without a disclosure",
            lambda w: queries.community_disclosure(w.app, CX_OFFICER, "CX-0002"),
        ),
    ],
)
def test_what_does_not_exist_is_not_found(name: str, call: Callable[[World], object]) -> None:
    world = _world()
    before = log_size(world.app)
    with pytest.raises(NotFound) as caught:
        call(world)
    assert caught.value.message_zh != caught.value.message
    assert log_size(world.app) == before


def test_the_public_is_not_told_which_plans_exist() -> None:
    world = _world()
    with pytest.raises(PermissionDenied, match="no such published draw"):
        queries.verify_draw(world.app, PUBLIC, NO_PLAN, None, 0)
    with pytest.raises(NotFound):
        queries.verify_draw(world.app, CX_OFFICER, NO_PLAN, None, 0)


async def test_the_company_lists_its_own_findings() -> None:
    world = _world()
    company = Identity("property-company", "manager", "chengxiang", USCC_A)
    [row] = await queries.findings(world.app, company, USCC_A)
    assert (row.finding_id, row.status) == (world.finding_id, "verified")
