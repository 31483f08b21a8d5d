"""The inspection leaks of issue 10 ("Authorization by declared policy"), each with its own
regression, called through the application as a caller would:
- VerifyDraw, plans, spot checks and findings answered any agency of the unit (and plan and
  finding ids are predictable uuid5s, so a company learnt which communities would be
  inspected);
- an identity without `subject` (police, company) listed everything of the city;
- the caller picked the 双随机 seed (and could try seeds until the draw suited it);
- RecordSpotCheck did not check the inspectors against the draw."""

from __future__ import annotations

import json

import pytest

from inspection.application import commands, queries
from inspection.domain import draw as draws
from inspection.domain.spot_check import SpotCheck, Substitution
from inspection.domain.spot_check_plan import SpotCheckPlan
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import InvalidArgument, PermissionDenied, RuleViolated, Unauthenticated
from servicekit.identity import Identity, IdentityRules
from services.inspection.tests.support.world import (
    COMPANY_A,
    COMPANY_B,
    CX_DISCIPLINE,
    CX_INSPECTOR,
    CX_OFFICER,
    USCC_A,
    USCC_B,
    build,
    communities,
    drawn_plan,
    new_app,
    record_check,
    rosters,
)

TOWNSHIP = Identity("township", "officer", "chengxiang", "township officer")
MARKET = Identity("market-regulation", "officer", "chengxiang", "market officer")
POLICE = Identity("police", "investigator", "chengxiang", "chengxiang-psb")


def log_size(app: object) -> int:
    return app.recorder.max_notification_id() or 0  # type: ignore[attr-defined]


# -- VerifyDraw, plans, spot checks and findings answered any agency of the unit -------------


@pytest.mark.parametrize("who", [COMPANY_A, TOWNSHIP, MARKET, POLICE], ids=lambda i: i.agency)
def test_leak_verify_draw_answers_no_other_agency_of_the_unit_before_the_checks_are_done(
    who: Identity,
) -> None:
    """A company re-running the draw of its unit's plan (its id is a predictable uuid5)
    learnt which of its communities would be inspected."""
    world = build()
    plan_id = str(SpotCheckPlan.create_id(2026, "yearly", "chengxiang"))
    assert plan_id == str(world.plan.id)
    with pytest.raises(PermissionDenied):
        queries.verify_draw(world.app, who, plan_id, None, 0)


async def test_leak_plans_are_read_by_no_other_agency_of_the_unit() -> None:
    """Plan progress and a plan's audit trail (its targets and inspectors) were the unit's
    for any agency, the company concerned included."""
    world = build()
    for who in (COMPANY_A, TOWNSHIP, MARKET, POLICE):
        with pytest.raises(PermissionDenied):
            await queries.plan_progress(world.app, who, 2026, "chengxiang")
        with pytest.raises(PermissionDenied):
            world.app.read_history(who, world.plan.id, 0, 100)
    # The planning bureau and the discipline office do read them.
    assert await queries.plan_progress(world.app, CX_DISCIPLINE, 2026, "chengxiang")
    assert world.app.read_history(CX_OFFICER, world.plan.id, 0, 100)


async def test_leak_spot_checks_are_listed_only_for_those_who_may_read_them() -> None:
    """ListSpotChecks answered any agency of the unit with every check of the unit."""
    world = build(published=True)
    # A company sees its own checks only, even when it names no company...
    rows = await queries.spot_checks(world.app, COMPANY_B, 2026, "chengxiang", "", "")
    assert rows == [] or {r.company_uscc for r in rows} == {USCC_B}
    own = await queries.spot_checks(world.app, COMPANY_A, 2026, "chengxiang", "", "")
    assert own and {r.company_uscc for r in own} == {USCC_A}
    # ...and never another company's.
    with pytest.raises(PermissionDenied):
        await queries.spot_checks(world.app, COMPANY_B, 2026, "chengxiang", "", USCC_A)
    with pytest.raises(PermissionDenied):
        await queries.spot_checks(world.app, POLICE, 2026, "chengxiang", "", "")


async def test_leak_findings_are_listed_only_for_those_who_may_read_them() -> None:
    """ListFindings gave any agency of the unit any company's findings."""
    world = build()
    with pytest.raises(PermissionDenied):
        await queries.findings(world.app, COMPANY_B, USCC_A)
    with pytest.raises(PermissionDenied):
        await queries.findings(world.app, POLICE, USCC_A)
    # The company concerned reads its own findings: it must rectify them.
    [mine] = await queries.findings(world.app, COMPANY_A, USCC_A)
    assert mine.finding_id == world.finding_id
    # A finding's id is predictable (uuid5 of the check's, itself of the plan's): its trail is
    # still the company's and its unit's only.
    with pytest.raises(PermissionDenied):
        world.app.read_history(COMPANY_B, world.app.finding(world.finding_id).id, 0, 100)


# -- an identity without subject listed everything of the city --------------------------------


@pytest.mark.parametrize(
    "who",
    [
        Identity("property-company", "manager", "putian"),
        Identity("police", "investigator", "putian"),
    ],
    ids=lambda i: i.agency,
)
async def test_leak_an_identity_without_subject_lists_nothing(who: Identity) -> None:
    """With no USCC (or police office) and unit=putian, a company or the police listed the
    whole city's checks and findings. The strict parser refuses such an identity outright;
    the application denies it even if one were made by hand."""
    world = build(published=True)
    with pytest.raises(PermissionDenied):
        await queries.spot_checks(world.app, who, 2026, "", "", "")
    with pytest.raises(PermissionDenied):
        await queries.findings(world.app, who, USCC_A)
    with pytest.raises(PermissionDenied):
        await queries.plan_progress(world.app, who, 2026, "")
    rules = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
    with pytest.raises(Unauthenticated):
        rules.parse(f"agency={who.agency};role={who.role};unit=putian")


# -- the caller picked the 双随机 seed ----------------------------------------------------------


def test_leak_the_caller_may_not_pick_the_seed_and_nothing_is_written() -> None:
    app = new_app()
    communities(app)
    rosters(app)
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        app.handle(
            CX_OFFICER,
            commands.PlanSpotChecks("p1", 2026, "chengxiang", "my lucky seed", 2, (), (), ()),
        )
    assert [v.field for v in caught.value.violations] == ["seed"]
    assert log_size(app) == before


def test_leak_the_draw_waits_for_the_discipline_office_and_reruns_from_what_was_recorded() -> None:
    """The service commits to a secret (only its hash recorded) when the plan and its pool are
    recorded; no target exists until the discipline office contributes; the seed is
    sha256 of [secret, contribution, plan id], and the secret is revealed with the draw."""
    app = new_app()
    communities(app)
    rosters(app)
    result = app.handle(
        CX_OFFICER, commands.PlanSpotChecks("p1", 2026, "chengxiang", "", 2, (), (), ())
    )
    plan = app.plan(result.plan_id)
    assert plan.targets == []  # nobody knows the targets yet, the service included
    commitment = plan.commitment
    assert len(commitment) == 64
    secret = app.read_model.secret(commitment)
    assert secret is not None and draws.commitment(secret) == commitment
    # The secret is in no event (nor in the plan's response) before it is revealed.
    trail = json.dumps(
        [e.payload for e in app.read_history(CX_OFFICER, plan.id, 0, 100)], default=str
    )
    assert secret not in trail and commitment in trail

    app.handle(
        CX_DISCIPLINE, commands.ContributeDrawEntropy("c1", str(plan.id), "discipline: 9d1e4c2a77")
    )
    plan = app.plan(str(plan.id))
    assert len(plan.targets) == plan.quota == 3
    assert plan.draw["secret"] == secret
    assert plan.draw["seed"] == draws.combined_seed(secret, "discipline: 9d1e4c2a77", str(plan.id))
    verified = queries.verify_draw(app, CX_DISCIPLINE, str(plan.id), None, 0)
    assert verified.matches, verified.explanation
    # A second contribution (a second try at the draw) is refused.
    with pytest.raises(RuleViolated):
        app.handle(
            CX_DISCIPLINE,
            commands.ContributeDrawEntropy("c2", str(plan.id), "another try 12345678"),
        )


def test_leak_the_bureau_cannot_try_again_without_a_recorded_reason() -> None:
    """One draw per unit and year: planning again is refused; a re-draw needs a reason, is
    recorded, starts a new commitment and needs the discipline office again."""
    app = new_app()
    communities(app)
    rosters(app)
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    with pytest.raises(RuleViolated):
        app.handle(CX_OFFICER, commands.PlanSpotChecks("p2", 2026, "chengxiang", "", 2, (), (), ()))
    head = Identity("property-bureau", "head", "chengxiang", "head one")
    with pytest.raises(InvalidArgument):
        app.handle(head, commands.RedrawSpotChecks("rd0", str(plan.id), "   "))
    with pytest.raises(PermissionDenied):
        app.handle(
            CX_OFFICER, commands.RedrawSpotChecks("rd1", str(plan.id), "名单有误")
        )  # the head answers for it
    app.handle(head, commands.RedrawSpotChecks("rd2", str(plan.id), "检查人员名录有误，重新抽取"))
    again = app.plan(str(plan.id))
    assert again.targets == [] and again.round == 2 and again.commitment != plan.commitment
    seen = queries.verify_draw(app, CX_DISCIPLINE, str(plan.id), None, 0)
    assert [(r["round"], r["reason"]) for r in seen.redraws] == [(1, "检查人员名录有误，重新抽取")]


# -- RecordSpotCheck did not check the inspectors against the draw ---------------------------


def test_leak_record_spot_check_requires_the_drawn_inspectors() -> None:
    app = new_app()
    communities(app)
    rosters(app)
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    code = plan.target_codes[0]
    drawn = next(t["inspectors"] for t in plan.targets if t["community_code"] == code)
    other = next(c for c in ("CX-I1", "CX-I2", "CX-I3") if c not in drawn)
    before = log_size(app)
    for wrong in ([drawn[0], other], [drawn[0]], [*drawn, other], ["PT-I1", "PT-I2"]):
        with pytest.raises(RuleViolated):
            record_check(app, CX_INSPECTOR, plan, code, inspectors=wrong)
    assert log_size(app) == before
    assert not app.exists(SpotCheck.create_id(plan.id, code))
    record_check(app, CX_INSPECTOR, plan, code, inspectors=list(reversed(drawn)))
    assert app.exists(SpotCheck.create_id(plan.id, code))


def test_leak_a_substitution_needs_a_reason_and_an_eligible_inspector_and_is_recorded() -> None:
    app = new_app()
    communities(app)
    rosters(app)
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    code = plan.target_codes[0]
    drawn = next(t["inspectors"] for t in plan.targets if t["community_code"] == code)
    spare = next(c for c in ("CX-I1", "CX-I2", "CX-I3") if c not in drawn)
    team = [drawn[0], spare]
    with pytest.raises(InvalidArgument):
        record_check(
            app,
            CX_INSPECTOR,
            plan,
            code,
            inspectors=team,
            substitutions=(Substitution(drawn[1], spare, ""),),
        )
    with pytest.raises(RuleViolated):  # not in the plan's roster
        record_check(
            app,
            CX_INSPECTOR,
            plan,
            code,
            inspectors=[drawn[0], "PT-I1"],
            substitutions=(Substitution(drawn[1], "PT-I1", "病假"),),
        )
    done = record_check(
        app,
        CX_INSPECTOR,
        plan,
        code,
        inspectors=team,
        substitutions=(Substitution(drawn[1], spare, "病假（附请假单）"),),
    )
    check = app.repository.get(SpotCheck.create_id(plan.id, code))
    assert str(check.id) == done.spot_check_id
    assert sorted(check.inspectors) == sorted(team)
    assert check.substitutions == [
        {"absent": drawn[1], "substitute": spare, "reason": "病假（附请假单）"}
    ]
