"""The 双随机 draw nobody steers (issue 10, item 4), on in-memory persistence: the service's
commitment, the discipline office's contribution, the revealed secret, re-draws with their
reasons, the drawn inspectors at the check, and plans recorded before (v1) still loading and
verifying, said to have had a chosen seed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from inspection.adapters.contract_events import to_contract
from inspection.application import commands, queries
from inspection.application.app import InspectionApplication
from inspection.domain import draw as draws
from inspection.domain.spot_check import Substitution
from inspection.domain.spot_check_plan import (
    Candidate,
    SpotCheckPlan,
    assign_inspectors,
    choose_targets,
    draw_record,
)
from pubrev_contracts.events.inspection import SpotCheckDrawnV1, SpotCheckPlannedV1
from servicekit.errors import InvalidArgument, PermissionDenied, RuleViolated
from servicekit.identity import Identity
from servicekit.policy import Resource
from services.inspection.tests.support.world import (
    CITY_DISCIPLINE,
    CITY_OFFICER,
    CX_DISCIPLINE,
    CX_HEAD,
    CX_INSPECTOR,
    CX_OFFICER,
    LC_OFFICER,
    build,
    checklist,
    communities,
    drawn_plan,
    new_app,
    record_check,
    rosters,
)
from tests.support.authz import cells
from tests.support.must_deny import must_deny


def world() -> InspectionApplication:
    app = new_app()
    communities(app)
    rosters(app)
    return app


def log_size(app: InspectionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def committed(app: InspectionApplication) -> SpotCheckPlan:
    result = app.handle(
        CX_OFFICER, commands.PlanSpotChecks("p", 2026, "chengxiang", "", 2, ("CX-0002",), (), ())
    )
    return app.plan(result.plan_id)


# -- the commitment and the contribution --------------------------------------------------


def test_the_plan_records_pool_roster_and_commitment_and_publishes_no_target() -> None:
    app = world()
    plan = committed(app)
    assert (plan.communities, plan.quota, plan.round, plan.drawn) == (6, 3, 1, False)
    assert [c["community_code"] for c in plan.candidates] == [f"CX-{n:04d}" for n in range(1, 7)]
    assert next(c for c in plan.candidates if c["community_code"] == "CX-0002")["reasons"] == [
        "handed_down"
    ]
    assert sorted(plan.roster) == ["CX-I1", "CX-I2", "CX-I3"]
    stored = app.recorder.select_events(plan.id)
    event = to_contract(app.mapper.to_domain_event(stored[0]))
    assert isinstance(event, SpotCheckPlannedV1)
    assert event.targets == [] and event.draw.seed == "" and event.draw.pool_size == 6
    assert event.draw.drawn == [] and event.quota == 3


@pytest.mark.parametrize("contribution", ["", "short", "x" * 129, "has\na newline in it ok?"])
def test_a_contribution_must_be_16_to_128_printable_characters_and_writes_nothing(
    contribution: str,
) -> None:
    app = world()
    plan = committed(app)
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CX_DISCIPLINE, commands.ContributeDrawEntropy("c", str(plan.id), contribution))
    assert [v.field for v in caught.value.violations] == ["contribution"]
    assert log_size(app) == before


@pytest.mark.parametrize(
    "who",
    [
        CX_OFFICER,
        CX_HEAD,
        LC_OFFICER,
        CITY_DISCIPLINE,
        Identity("discipline", "supervisor", "licheng", "s"),
    ],
    ids=lambda i: f"{i.agency}-{i.unit}-{i.role}",
)
def test_only_the_discipline_office_of_the_planning_level_contributes(who: Identity) -> None:
    """Not the bureau that planned (it would choose the seed alone), not another level's."""
    app = world()
    plan = committed(app)
    with pytest.raises(PermissionDenied):
        app.handle(who, commands.ContributeDrawEntropy("c", str(plan.id), "a value of sixteen+"))
    assert not app.plan(str(plan.id)).drawn


def test_a_cross_check_is_contributed_to_by_the_city_s_discipline_office() -> None:
    app = world()
    result = app.handle(
        CITY_OFFICER, commands.PlanCrossCheck("x", 2026, 3, "licheng", "chengxiang", 2, "", 2)
    )
    cross_id = result.cross_check_id
    with pytest.raises(PermissionDenied):
        app.handle(
            Identity("discipline", "supervisor", "licheng", "s"),
            commands.ContributeDrawEntropy("c1", cross_id, "a value of sixteen+"),
        )
    app.handle(
        CITY_DISCIPLINE, commands.ContributeDrawEntropy("c2", cross_id, "a value of sixteen+")
    )
    cross = app.plan(cross_id)
    assert len(cross.targets) == 2
    assert all(i.startswith("LC-") for t in cross.targets for i in t["inspectors"])
    assert queries.verify_draw(app, LC_OFFICER, cross_id, None, 0).matches
    # The checked unit learns nothing before the checks are done.
    with pytest.raises(PermissionDenied):
        queries.verify_draw(app, CX_OFFICER, cross_id, None, 0)


def test_a_missing_secret_stops_the_draw_and_a_redraw_starts_a_new_commitment() -> None:
    app = world()
    plan = committed(app)
    app.read_model._secrets.clear()  # type: ignore[attr-defined]  # lost (a restored database)
    with pytest.raises(RuleViolated, match="secret"):
        app.handle(
            CX_DISCIPLINE, commands.ContributeDrawEntropy("c", str(plan.id), "a value of sixteen+")
        )
    app.handle(CX_HEAD, commands.RedrawSpotChecks("rd", str(plan.id), "服务端秘密值丢失"))
    app.handle(
        CX_DISCIPLINE, commands.ContributeDrawEntropy("c2", str(plan.id), "a value of sixteen+")
    )
    again = app.plan(str(plan.id))
    assert again.round == 2 and len(again.targets) == 3
    verified = queries.verify_draw(app, CX_DISCIPLINE, str(plan.id), None, 0)
    assert verified.matches and [r["reason"] for r in verified.redraws] == ["服务端秘密值丢失"]
    drawn = [
        e
        for e in map(app.mapper.to_domain_event, app.recorder.select_events(plan.id))
        if isinstance(e, SpotCheckPlan.DrawExecuted)
    ]
    contract = to_contract(drawn[-1])
    assert isinstance(contract, SpotCheckDrawnV1)
    assert (contract.round, contract.redraw_reasons) == (2, ["服务端秘密值丢失"])
    assert draws.commitment(contract.secret) == contract.commitment
    assert contract.seed == draws.combined_seed(
        contract.secret, contract.contribution, str(plan.id)
    )


def test_no_redraw_once_a_check_of_the_draw_is_recorded() -> None:
    app = world()
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    record_check(app, CX_INSPECTOR, plan, plan.target_codes[0])
    before = log_size(app)
    with pytest.raises(RuleViolated):
        app.handle(CX_HEAD, commands.RedrawSpotChecks("rd", str(plan.id), "换一批"))
    assert log_size(app) == before


def test_a_tampered_recorded_draw_does_not_verify() -> None:
    app = world()
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    assert plan.verify().matches
    for key, value in (
        ("secret", "0" * 64),
        ("contribution", "another value 1234"),
        ("seed", "f" * 64),
    ):
        forged = app.plan(str(plan.id))
        forged.draw[key] = value
        assert not forged.verify().matches, key
    swapped = app.plan(str(plan.id))
    swapped.targets[0]["inspectors"] = list(reversed(swapped.targets[0]["inspectors"]))[:1]
    assert not swapped.verify().matches


def test_the_record_check_refuses_a_plan_not_drawn_yet() -> None:
    app = world()
    plan = committed(app)
    before = log_size(app)
    with pytest.raises(RuleViolated, match="not drawn"):
        app.handle(
            CX_INSPECTOR,
            commands.RecordSpotCheck(
                "r",
                str(plan.id),
                "CX-0002",
                datetime(2026, 6, 1, tzinfo=UTC),
                ("CX-I1", "CX-I2"),
                checklist(),
            ),
        )
    assert log_size(app) == before


# -- the drawn inspectors --------------------------------------------------------------------


def test_an_inspector_who_declared_a_conflict_after_the_draw_is_substituted() -> None:
    app = world()
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    code = plan.target_codes[0]
    drawn = next(t["inspectors"] for t in plan.targets if t["community_code"] == code)
    app.handle(CX_OFFICER, commands.DeclareConflict("dc", drawn[0], code, "其配偶受聘于该小区物业"))
    with pytest.raises(RuleViolated, match="conflict"):
        record_check(app, CX_INSPECTOR, plan, code)
    spare = next(c for c in ("CX-I1", "CX-I2", "CX-I3") if c not in drawn)
    record_check(
        app,
        CX_INSPECTOR,
        plan,
        code,
        inspectors=[spare, drawn[1]],
        substitutions=(Substitution(drawn[0], spare, "申报利害关系后回避"),),
    )


def test_a_substitute_with_a_declared_conflict_is_refused() -> None:
    app = world()
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    code = plan.target_codes[0]
    drawn = next(t["inspectors"] for t in plan.targets if t["community_code"] == code)
    spare = next(c for c in ("CX-I1", "CX-I2", "CX-I3") if c not in drawn)
    app.handle(CX_OFFICER, commands.DeclareConflict("dc", spare, code, "本人居住在该小区"))
    before = log_size(app)
    with pytest.raises(RuleViolated, match="conflict"):
        record_check(
            app,
            CX_INSPECTOR,
            plan,
            code,
            inspectors=[drawn[0], spare],
            substitutions=(Substitution(drawn[1], spare, "病假"),),
        )
    assert log_size(app) == before


def test_the_roster_of_a_plan_excludes_conflicted_inspectors_from_the_draw() -> None:
    """CX-I3 declared a conflict with CX-0005 before the plan (tests/support world): the
    recorded roster says so, and whatever the draw, CX-I3 is never drawn for CX-0005."""
    plan = build().plan
    assert plan.roster["CX-I3"] == ["CX-0005"]
    for target in plan.targets:
        if target["community_code"] == "CX-0005":
            assert "CX-I3" not in target["inspectors"]


# -- plans recorded before commit-reveal ------------------------------------------------------


def _v1_plan(app: InspectionApplication, seed: str) -> SpotCheckPlan:
    """Stores a plan as v1 recorded it: drawn at once from the caller's seed."""
    pool = [
        Candidate(f"CX-{n:04d}", frozenset({"zero_revenue"} if n == 4 else set()))
        for n in range(1, 7)
    ]
    chosen, rest, drawn = choose_targets(seed, pool, 3)
    roster: dict[str, list[str]] = {"CX-I1": [], "CX-I2": [], "CX-I3": []}
    targets = assign_inspectors(seed, chosen, roster, 2)
    plan = SpotCheckPlan(
        2025,
        "chengxiang",
        "yearly",
        "chengxiang",
        6,
        3,
        "putian-2023.1",
        targets,
        draw_record(seed, rest, drawn, roster),
        2,
        [],
        {},
        "",
        {},
    )
    [created] = plan.collect_events()
    stored = app.mapper.to_stored_event(created)
    state: dict[str, Any] = app.mapper.transcoder.decode(stored.state)
    for name in ("per_target", "candidates", "roster", "commitment", "explicit", "class_version"):
        state.pop(name)
    app.recorder.insert_events(
        [
            StoredEvent(
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                app.mapper.transcoder.encode(state),
            )
        ]
    )
    return app.plan(str(plan.id))


def test_a_v1_plan_loads_verifies_and_says_its_seed_was_chosen() -> None:
    app = world()
    plan = _v1_plan(app, "the caller's favourite seed")
    assert plan.drawn and plan.scheme == draws.LEGACY_SCHEME and plan.per_target == 2
    result = queries.verify_draw(app, CX_OFFICER, str(plan.id), None, 0)
    assert result.matches and result.status == "legacy"
    assert "chosen by the caller" in result.explanation
    # Its checks still need the drawn inspectors.
    code = plan.target_codes[0]
    with pytest.raises(RuleViolated):
        record_check(app, CX_INSPECTOR, plan, code, inspectors=["CX-I1", "CX-I2", "CX-I3"])
    record_check(app, CX_INSPECTOR, plan, code)
    contract = to_contract(app.mapper.to_domain_event(app.recorder.select_events(plan.id)[0]))
    assert isinstance(contract, SpotCheckPlannedV1)
    assert contract.draw.seed == "the caller's favourite seed" and len(contract.targets) == 3


def test_a_given_commit_reveal_draw_is_checked_against_its_commitment() -> None:
    app = world()
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE)
    record = dict(plan.draw) | {"plan_id": str(plan.id)}
    count = len(record["drawn"])
    assert queries.verify_draw(app, CX_OFFICER, "", record, count).matches
    for key, value in (
        ("secret", "1" * 64),
        ("contribution", "x" * 20),
        ("plan_id", "00000000-0000-0000-0000-000000000000"),
    ):
        result = queries.verify_draw(app, CX_OFFICER, "", record | {key: value}, count)
        assert not result.matches, key
    json.dumps(record)  # what a caller sends is plain data


# -- the oracle's inspection rules bite --------------------------------------------------------


def test_the_oracle_denies_what_issue_10_says_about_inspection() -> None:
    record = Resource(unit="chengxiang")
    market = Identity("market-regulation", "officer", "chengxiang", "m")
    assert must_deny("inspection", "VerifyDraw", market, "same unit", record)
    assert (
        must_deny(
            "inspection",
            "VerifyDraw",
            market,
            "same unit",
            Resource(unit="chengxiang", published=True),
        )
        is None
    )
    assert must_deny("inspection", "ContributeDrawEntropy", CX_OFFICER, "same unit", record)
    assert must_deny(
        "inspection",
        "RedrawSpotChecks",
        Identity("township", "officer", "chengxiang", "t"),
        "same unit",
        record,
    )
    assert len(cells(record)) > 0
