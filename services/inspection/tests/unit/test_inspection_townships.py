"""Townships' daily inspections (plan 四（三）、二（五）) and the quarterly cross check (四（四）),
on in-memory persistence and the injected clock: the ledger, its coverage of each unit's
communities in the campaign window, and which quarters each unit owes its cross check."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from inspection.adapters.contract_events import to_contract
from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.domain.cross_check_duty import campaign_quarters
from inspection.domain.spot_check import ChecklistResult
from pubrev_contracts.events.inspection import TownshipInspectionRecordedV1
from pubrev_contracts.vocabulary.calendar import Quarter
from pubrev_contracts.vocabulary.campaign import CAMPAIGN, CampaignCalendarNotConfigured
from pubrev_contracts.vocabulary.sources import LOCAL, plan
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import PermissionDenied, RuleViolated
from servicekit.identity import Identity
from services.inspection.tests.support.world import (
    AUDITOR,
    CITY_DISCIPLINE,
    CITY_OFFICER,
    CX_OFFICER,
    CX_TOWNSHIP,
    LC_OFFICER,
    World,
    build,
)

CX_TOWNSHIP_INSPECTOR = Identity("township", "inspector", "chengxiang", "巡查员甲")
LC_TOWNSHIP = Identity("township", "officer", "licheng", "巡查员乙")
CX_DISCIPLINE = Identity("discipline", "supervisor", "chengxiang", "supervisor one")


def rid() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def at(day: str, hour: int = 2) -> datetime:
    """10:00 in Asia/Shanghai on the day (02:00 UTC)."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").astimezone(UTC)


def clock(world: World, when: datetime) -> None:
    world.app.clock.now = when  # type: ignore[attr-defined]


def inspect(world: World, code: str, day: str, township: str = CX_TOWNSHIP, **more: Any) -> Any:
    clock(world, at(day))
    return world.app.handle(
        CX_TOWNSHIP_INSPECTOR,
        c.RecordTownshipInspection(rid(), code, township, day, "巡查员甲", **more),
    )


def published(app: InspectionApplication) -> list[Any]:
    events = (
        app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(1, 100_000)
    )
    return [e for e in map(to_contract, events) if e is not None]


# -- the ledger ----------------------------------------------------------------------------------


async def test_a_township_enters_its_day_s_inspection_in_the_community_s_ledger() -> None:
    world = build()
    entered = inspect(world, "CX-0001", "2026-07-20", problems=(" 公示栏破损 ", "未公示联系电话"))
    assert (entered.community_code, entered.inspected_on, entered.problems) == (
        "CX-0001",
        "2026-07-20",
        2,
    )
    [event] = [e for e in published(world.app) if isinstance(e, TownshipInspectionRecordedV1)]
    assert str(event.aggregate_id) == entered.ledger_id
    assert (event.unit, event.township, event.inspected_on, event.problems, event.inspector) == (
        "chengxiang",
        CX_TOWNSHIP,
        "2026-07-20",
        2,
        "巡查员甲",
    )
    # The next day's inspection goes into the same ledger.
    again = inspect(world, "CX-0001", "2026-07-21")
    assert again.ledger_id == entered.ledger_id
    [row, _] = await queries.township_inspections(
        world.app, CX_OFFICER, "", "", "CX-0001", "2026-07-01", "2026-07-31"
    )
    assert (row.inspected_on, row.problems) == (date(2026, 7, 20), ("公示栏破损", "未公示联系电话"))


def test_a_township_inspects_its_own_unit_s_communities_only() -> None:
    world = build()
    clock(world, at("2026-07-20"))
    with pytest.raises(PermissionDenied):
        world.app.handle(
            LC_TOWNSHIP,
            c.RecordTownshipInspection(rid(), "CX-0001", CX_TOWNSHIP, "2026-07-20", "乙"),
        )
    with pytest.raises(PermissionDenied):  # the bureau checks by its plans, not the ledger
        world.app.handle(
            CX_OFFICER,
            c.RecordTownshipInspection(rid(), "CX-0001", CX_TOWNSHIP, "2026-07-20", "甲"),
        )


async def test_the_ledger_is_read_by_township_by_period_and_by_unit() -> None:
    world = build()
    inspect(world, "CX-0001", "2026-07-20")
    inspect(world, "CX-0004", "2026-07-21", township="凤凰山街道")
    inspect(world, "CX-0002", "2026-08-03")
    everything = await queries.township_inspections(world.app, CITY_OFFICER, "", "", "", "", "")
    assert [r.community_code for r in everything] == ["CX-0001", "CX-0004", "CX-0002"]
    one_township = await queries.township_inspections(
        world.app, CX_OFFICER, "chengxiang", CX_TOWNSHIP, "", "", ""
    )
    assert [r.community_code for r in one_township] == ["CX-0001", "CX-0002"]
    july = await queries.township_inspections(
        world.app, AUDITOR, "", "", "", "2026-07-01", "2026-07-31"
    )
    assert len(july) == 2
    assert await queries.township_inspections(world.app, LC_OFFICER, "", "", "", "", "") == []
    with pytest.raises(PermissionDenied):
        await queries.township_inspections(world.app, LC_OFFICER, "chengxiang", "", "", "", "")


# -- coverage in the campaign window -------------------------------------------------------------


async def test_coverage_counts_each_community_once_since_the_campaign_began_by_township() -> None:
    world = build()
    inspect(world, "CX-0001", "2026-07-10")  # before the campaign's start: not counted
    inspect(world, "CX-0001", "2026-07-20")
    inspect(world, "CX-0001", "2026-07-21")
    inspect(world, "CX-0002", "2026-08-01")
    inspect(world, "CX-0004", "2026-09-30", township="凤凰山街道")
    clock(world, at("2026-09-30"))
    [cx] = await queries.township_coverage(world.app, CX_OFFICER, 2026, "")
    assert (cx.unit, cx.communities, cx.inspected, cx.percent) == ("chengxiang", 6, 3, 50)
    assert (cx.window_start, cx.window_due) == ("2026-07-15", "2026-09-30")
    assert (cx.expected_by_now, cx.behind) == (0, False)  # the stage is due at the day's end
    assert {(t.township, t.communities, t.inspected) for t in cx.townships} == {
        (CX_TOWNSHIP, 3, 2),
        ("凤凰山街道", 3, 1),
    }
    assert cx.stage_basis.endswith(LOCAL)  # 2026 carries the 2023 plan's dates
    clock(world, at("2026-10-01"))
    [after] = await queries.township_coverage(world.app, CX_OFFICER, 2026, "chengxiang")
    assert (after.expected_by_now, after.behind) == (6, True)
    inspect(world, "CX-0003", "2026-10-01")  # late, but it completes the stage (late)
    [still] = await queries.township_coverage(world.app, CX_OFFICER, 2026, "chengxiang")
    assert (still.inspected, still.behind) == (4, True)


async def test_the_city_sees_every_county_unit_s_coverage_and_a_year_not_entered_is_refused() -> (
    None
):
    world = build()
    units = await queries.township_coverage(world.app, CITY_DISCIPLINE, 2026, "")
    assert [u.unit for u in units] == list(COUNTY_UNITS)
    assert [u.communities for u in units if u.unit == "licheng"] == [4]
    with pytest.raises(CampaignCalendarNotConfigured):
        await queries.township_coverage(world.app, CITY_OFFICER, 2031, "")


# -- the quarterly cross check -------------------------------------------------------------------


def test_the_campaign_s_quarters_run_from_mobilisation_to_review() -> None:
    assert campaign_quarters(CAMPAIGN, 2026) == (Quarter(2026, 3), Quarter(2026, 4))
    assert campaign_quarters(CAMPAIGN, 2023) == (Quarter(2023, 3), Quarter(2023, 4))


def _cross(world: World, checking: str, checked: str) -> str:
    planned = world.app.handle(
        CITY_OFFICER,
        c.PlanCrossCheck(rid(), 2026, 3, checking, checked, 1, inspectors_per_target=2),
    )
    world.app.handle(
        CITY_DISCIPLINE,
        c.ContributeDrawEntropy(rid(), planned.cross_check_id, "the city's value 0123456789"),
    )
    cross_check_id: str = planned.cross_check_id
    return cross_check_id


async def test_each_unit_owes_a_reported_cross_check_each_campaign_quarter() -> None:
    world = build()
    clock(world, at("2026-07-20"))
    done = _cross(world, "chengxiang", "licheng")
    unreported = _cross(world, "licheng", "chengxiang")
    # chengxiang's team checks its target in the quarter and reports it in time.
    [target] = world.app.plan(done).targets
    team = Identity("property-bureau", "inspector", "chengxiang", target["inspectors"][0])
    world.app.handle(
        team,
        c.RecordSpotCheck(
            rid(),
            done,
            target["community_code"],
            at("2026-07-20", 1),
            tuple(target["inspectors"]),
            (ChecklistResult("signboard_present", True),),
        ),
    )
    world.app.handle(CX_OFFICER, c.ReportCrossCheck(rid(), done))
    running = await queries.cross_check_compliance(world.app, CITY_OFFICER, 2026, "")
    assert running.quarters == ["2026Q3", "2026Q4"]
    assert running.duty_source.startswith(plan_source())
    assert running.report_due_source.endswith(LOCAL)
    status = {(d.unit, d.quarter): d.status for d in running.duties}
    assert status[("chengxiang", 3)] == "done"
    assert status[("licheng", 3)] == "pending"
    assert status[("xiuyu", 3)] == "pending"
    # The quarter is over: licheng never reported, xiuyu never planned; a late report is late.
    clock(world, at("2026-10-02"))
    over = await queries.cross_check_compliance(world.app, CITY_OFFICER, 2026, "")
    status = {(d.unit, d.quarter): d.status for d in over.duties}
    assert status[("licheng", 3)] == "missing_report"
    assert status[("xiuyu", 3)] == "missing_plan"
    assert status[("chengxiang", 4)] == "pending"
    world.app.handle(LC_OFFICER, c.ReportCrossCheck(rid(), unreported))
    [licheng] = [
        d
        for d in (await queries.cross_check_compliance(world.app, LC_OFFICER, 2026, "")).duties
        if d.quarter == 3
    ]
    assert (licheng.status, licheng.reported, licheng.reported_in_time) == (
        "reported_late",
        1,
        False,
    )
    assert licheng.checked_by == ("chengxiang",) and licheng.plan_ids == (unreported,)
    # A quarter that is over can no longer be planned: the missed one stays missed.
    with pytest.raises(RuleViolated, match="2026Q3"):
        _cross(world, "xiuyu", "licheng")


def plan_source() -> str:
    return plan("四（四）")


async def test_a_unit_sees_its_own_quarters_and_the_discipline_office_its_unit_s() -> None:
    world = build()
    own = await queries.cross_check_compliance(world.app, CX_DISCIPLINE, 2026, "")
    assert {d.unit for d in own.duties} == {"chengxiang"}
    with pytest.raises(PermissionDenied):
        await queries.cross_check_compliance(world.app, CX_OFFICER, 2026, "licheng")
    with pytest.raises(PermissionDenied):
        await queries.cross_check_compliance(world.app, CX_TOWNSHIP_INSPECTOR, 2026, "")
