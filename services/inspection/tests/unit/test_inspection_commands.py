"""Inspection's commands and their aggregates on in-memory persistence: a check decides its
findings, a retried command is answered once (also from a receipt the code before issue 12
wrote), the sweep, a cross check's report, the pace read in Asia/Shanghai, and the
consumers skipping what they applied before."""

from __future__ import annotations

import json
import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from inspection.adapters.read_model_memory import InMemoryInspectionReadModel
from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.application.sweeps import sweep_rectification_deadlines
from inspection.domain.community_watch import CommunityWatch, NotedDisclosure
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check import ChecklistResult, SpotCheck, Substitution
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.entrypoints.consumers import subscriptions
from pubrev_contracts.events.casework import ComplaintReceivedV1
from pubrev_contracts.events.disclosure import CommunityRegisteredV1
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.errors import AlreadyExists
from servicekit.eventstore import CommandReceipt, DeliveryRef, fingerprint
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.inspection.tests.support.world import (
    CITY_OFFICER,
    CX_INSPECTOR,
    CX_OFFICER,
    LC_OFFICER,
    World,
    build,
    checklist,
    record_check,
)

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def log_size(app: InspectionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def rid() -> str:
    return f"k-{uuid.uuid4().hex[:12]}"


def other_target(world: World) -> str:
    return next(code for code in world.plan.target_codes if code != "CX-0001")


# -- the check decides its findings --------------------------------------------------------


def test_each_failed_item_is_a_finding_with_its_deadline_by_severity() -> None:
    world = build()
    code = other_target(world)
    drawn = next(t["inspectors"] for t in world.plan.targets if t["community_code"] == code)
    items = (
        ChecklistResult("signboard_present", True),
        ChecklistResult("posting_30_days", False, "只贴了两周", ("p.jpg",), "minor"),
        ChecklistResult("surplus_transferred", False, "", ("ledger.pdf",), "serious"),
        ChecklistResult("separate_account", False, "", ("bank.pdf",)),  # left open: general
    )
    done = world.app.handle(
        CX_INSPECTOR,
        c.RecordSpotCheck(rid(), str(world.plan.id), code, AT, tuple(drawn), items),
    )
    findings = [world.app.finding(f) for f in done.finding_ids]
    assert [(f.kind, f.severity, f.status) for f in findings] == [
        ("A4", "minor", "open"),
        ("B6", "serious", "open"),
        ("B1", "general", "open"),
    ]
    for f in findings:
        assert f.deadline == DEFAULT_RULES.rectification_deadline(AT, f.severity)
        assert f.deadline_basis.startswith(
            {"minor": "轻微", "general": "一般", "serious": "严重"}[f.severity]
        )
        # The check's community unit and the checking body (chengxiang's own plan).
        assert (f.unit, f.checking_unit, f.checking_kind) == ("chengxiang",) * 2 + ("county",)
    check = world.app.repository.get(uuid.UUID(done.spot_check_id))
    assert isinstance(check, SpotCheck)
    assert check.finding_ids == done.finding_ids
    assert [i["severity"] for i in check.checklist] == ["general", "minor", "serious", "general"]


def test_a_check_with_every_item_passed_has_no_finding() -> None:
    world = build()
    code = other_target(world)
    done = record_check(world.app, CX_INSPECTOR, world.plan, code)
    assert done.finding_ids == []


def test_the_aggregate_records_the_check_without_the_application() -> None:
    """SpotCheck.record is the rule: drawn plan, drawn team, findings with deadlines."""
    world = build()
    code = other_target(world)
    drawn = next(t["inspectors"] for t in world.plan.targets if t["community_code"] == code)
    check, findings = SpotCheck.record(
        world.plan,
        code,
        "chengxiang",
        "U" * 18,
        AT,
        drawn,
        checklist(("signboard_present", "posting_30_days")),
        (),
        {},
        DEFAULT_RULES,
    )
    assert [f.kind for f in findings] == ["A1", "A4"]
    assert all(isinstance(f, Finding) and f.status == "open" for f in findings)
    assert check.id == SpotCheck.create_id(world.plan.id, code)
    assert check.finding_ids == [str(f.id) for f in findings]


# -- retries ---------------------------------------------------------------------------------


def test_a_retried_command_is_answered_once_and_its_request_id_is_not_reused() -> None:
    world = build()
    code = other_target(world)
    drawn = next(t["inspectors"] for t in world.plan.targets if t["community_code"] == code)
    command = c.RecordSpotCheck(
        "same-request",
        str(world.plan.id),
        code,
        AT,
        tuple(drawn),
        checklist(("signboard_present",)),
    )
    first = world.app.handle(CX_INSPECTOR, command)
    size = log_size(world.app)
    assert world.app.handle(CX_INSPECTOR, command) == first
    assert log_size(world.app) == size
    with pytest.raises(AlreadyExists):
        world.app.handle(CX_INSPECTOR, replace(command, inspector_codes=tuple(reversed(drawn))))
    assert log_size(world.app) == size


SHANGHAI_MORNING = datetime.fromisoformat("2026-06-01T17:30:00+08:00")
BEFORE_TYPING: list[tuple[Any, Any, dict[str, Any], Any]] = [
    # (command, the payload the code before typed commands fingerprinted, as it built it,
    #  the result its receipt remembered, the typed result a retry gets back)
    (
        c.RegisterInspector("b1", "CX-I1", "检查员1", "chengxiang"),
        ("CX-I1", "检查员1", "chengxiang"),
        {"inspector_id": "i-1"},
        c.InspectorRegistered("i-1"),
    ),
    (
        c.DeclareConflict("b2", "CX-I1", "CX-0002", "亲属"),
        ("CX-I1", "CX-0002", "亲属"),
        {"version": 2},
        c.ConflictDeclared(2),
    ),
    (
        c.PlanSpotChecks("b3", 2026, "chengxiang", "", 2, ("CX-0003", "CX-0002"), (), ()),
        (2026, "chengxiang", 2, ["CX-0002", "CX-0003"], [], []),
        {"plan_id": "p-1"},
        c.SpotChecksPlanned("p-1"),
    ),
    (
        c.PlanCrossCheck("b4", 2026, 3, "licheng", "chengxiang", 2),
        (2026, 3, "licheng", "chengxiang", 2, 0),
        {"cross_check_id": "x-1"},
        c.CrossCheckPlanned("x-1"),
    ),
    (
        c.ContributeDrawEntropy("b5", "p-1", "a value of sixteen+"),
        ("p-1", "a value of sixteen+"),
        {"plan_id": "p-1", "round": 1},
        c.SpotChecksDrawn("p-1", 1),
    ),
    (
        c.RedrawSpotChecks("b6", "p-1", "名录有误"),
        ("p-1", "名录有误"),
        {"plan_id": "p-1", "round": 2, "commitment": "ab"},
        c.SpotChecksRedrawn("p-1", 2, "ab"),
    ),
    (
        c.RecordSpotCheck(
            "b7",
            "p-1",
            "CX-0002",
            SHANGHAI_MORNING,
            ("CX-I1", "CX-I3"),
            (ChecklistResult("signboard_present", False, "无", ("a.jpg",), "serious"),),
            (Substitution("CX-I2", "CX-I3", " 病假 "),),
        ),
        (
            "p-1",
            "CX-0002",
            datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
            ["CX-I1", "CX-I3"],
            [
                {
                    "item": "signboard_present",
                    "passed": False,
                    "note": "无",
                    "evidence_refs": ["a.jpg"],
                    "severity": "serious",
                }
            ],
            [{"absent": "CX-I2", "substitute": "CX-I3", "reason": "病假"}],
        ),
        {"spot_check_id": "s-1", "finding_ids": ["f-1"]},
        c.SpotCheckRecorded("s-1", ["f-1"]),
    ),
    (
        c.VerifyRectification("b8", "f-1", SHANGHAI_MORNING, ("after.jpg",), "已整改"),
        ("f-1", datetime(2026, 6, 1, 9, 30, tzinfo=UTC), ["after.jpg"], "已整改"),
        {"finding_id": "f-1"},
        c.RectificationVerified("f-1"),
    ),
    (
        c.ReportCrossCheck("b9", "x-1"),
        "x-1",
        {"cross_check_id": "x-1", "planned": 2, "checked": 1, "findings": 1,
         "findings_by_kind": {"A1": 1}},
        c.CrossCheckReported("x-1", 2, 1, 1, {"A1": 1}),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "payload", "remembered", "answer"),
    BEFORE_TYPING,
    ids=[type(case[0]).__name__ for case in BEFORE_TYPING],
)
def test_a_retry_across_the_deployment_of_typed_commands_is_answered_from_its_receipt(
    command: Any, payload: Any, remembered: dict[str, Any], answer: Any
) -> None:
    """The code before issue 12 named its receipts after the RPC, as now, but fingerprinted
    the request's values in a tuple of its own: a client retrying across the deployment gets
    its first answer, nothing is written, and the handler's rules are not run again."""
    app = InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(
        CommandReceipt(type(command).__name__, command.request_id, fingerprint(payload), remembered)
    )
    size = log_size(app)
    assert app.run_command(command, type(answer), _never) == answer
    assert log_size(app) == size
    # Other content under the same request_id is still a client's mistake.
    name = next(
        f.name
        for f in fields(command)
        if f.name != "request_id" and isinstance(getattr(command, f.name), str)
    )
    other = replace(command, **{name: getattr(command, name) + "-other"})
    with pytest.raises(AlreadyExists):
        app.run_command(other, type(answer), _never)


def _never() -> Any:
    raise AssertionError("a retry does not run the command again")


def test_a_typed_retry_is_answered_like_any_other() -> None:
    world = build()
    command = c.PlanCrossCheck("after-12", 2026, 3, "licheng", "chengxiang", 2)
    first = world.app.handle(CITY_OFFICER, command)
    size = log_size(world.app)
    assert world.app.handle(CITY_OFFICER, command) == first
    assert log_size(world.app) == size


def test_a_command_without_handler_is_a_wiring_bug() -> None:
    with pytest.raises(TypeError):
        build().app.handle(CX_OFFICER, object())


# -- rectification deadlines -----------------------------------------------------------------


def test_the_sweep_marks_each_finding_past_its_deadline_overdue_once() -> None:
    world = build()
    code = other_target(world)
    done = record_check(world.app, CX_INSPECTOR, world.plan, code, failed=("posting_30_days",))
    [finding_id] = done.finding_ids
    deadline = world.app.finding(finding_id).deadline
    assert deadline is not None
    clock = world.app.clock
    assert isinstance(clock, FakeClock)
    clock.now = deadline  # on the deadline: not yet
    assert sweep_rectification_deadlines(world.app) == 0
    clock.now = deadline + timedelta(seconds=1)
    swept = world.app.handle(CITY_OFFICER, c.SweepRectificationDeadlines(rid()))
    assert swept == c.DeadlinesSwept(1)
    assert world.app.finding(finding_id).status == "overdue"
    assert sweep_rectification_deadlines(world.app) == 0  # once
    # Verified late, it is closed all the same, and the event says late.
    world.app.handle(
        CX_OFFICER,
        c.VerifyRectification(rid(), finding_id, clock.now, ("after.jpg",), "逾期整改完毕"),
    )
    finding = world.app.finding(finding_id)
    assert finding.status == "verified"
    last = world.app.mapper.to_domain_event(world.app.recorder.select_events(finding.id)[-1])
    assert isinstance(last, Finding.RectificationVerified) and last.late


# -- cross checks ----------------------------------------------------------------------------


class _Check(NamedTuple):
    plan_id: str
    community_code: str


class _Found(NamedTuple):
    community_code: str
    checking_unit: str
    kind: str


def test_a_cross_check_reports_only_its_team_s_checks_and_findings() -> None:
    world = build()
    cross = world.cross
    [code] = cross.target_codes
    lc_inspector = Identity("property-bureau", "inspector", "chengxiang", "CX-I1")
    done = record_check(
        world.app, lc_inspector, cross, code, failed=("signboard_present", "posting_30_days")
    )
    assert len(done.finding_ids) == 2
    report = world.app.handle(CX_OFFICER, c.ReportCrossCheck(rid(), str(cross.id)))
    assert report == c.CrossCheckReported(str(cross.id), 1, 1, 2, {"A1": 1, "A4": 1})
    # The tally itself: another plan's checks and another body's findings do not count.
    plan = world.app.plan(str(cross.id))
    plan.report(
        [_Check(str(cross.id), code), _Check(str(world.plan.id), "LC-0009")],
        [
            _Found(code, "chengxiang", "A1"),
            _Found(code, "licheng", "B1"),  # the unit's own check of the same community
            _Found(code, "", "C1"),  # stored before the checking body was kept
            _Found("LC-0009", "chengxiang", "A1"),  # not a community this team checked
        ],
        world.app.clock(),
    )
    assert (plan.checked, plan.findings_by_kind) == (1, {"A1": 1, "C1": 1})


def test_a_cross_check_s_team_never_has_the_checked_unit_s_inspectors() -> None:
    world = build()
    assert set(world.cross.roster) == {"CX-I1", "CX-I2", "CX-I3"}
    assert world.cross.checking_kind == "cross" and world.cross.checked_unit == "licheng"
    assert world.cross.pool_unit == "licheng"


# -- the pace: one definition (vocabulary.pace), in Asia/Shanghai ----------------------------


async def test_the_pace_counts_from_the_campaign_s_start_in_asia_shanghai() -> None:
    """15 July 00:00 in Putian is 14 July 16:00 UTC: an hour later the pace expects its
    first check (UTC would still say none)."""
    world = build()
    clock = world.app.clock
    assert isinstance(clock, FakeClock)
    clock.now = datetime(2026, 7, 14, 17, 0, tzinfo=UTC)
    [row] = await queries.plan_progress(world.app, CX_OFFICER, 2026, "chengxiang")
    assert (row.unit, row.communities, row.quota, row.checked) == ("chengxiang", 6, 3, 1)
    assert row.expected_by_now == 1 and not row.behind
    assert row.pace_rules_version == world.app.pace.version
    assert (row.checks_start, row.checks_due) == ("2026-07-15", "2026-09-30")
    clock.now = datetime(2026, 7, 14, 15, 0, tzinfo=UTC)
    [before] = await queries.plan_progress(world.app, CX_OFFICER, 2026, "chengxiang")
    assert before.expected_by_now == 0


async def test_the_city_s_progress_covers_every_unit_and_its_own_row() -> None:
    world = build()
    rows = await queries.plan_progress(world.app, CITY_OFFICER, 2026, "")
    assert [r.unit for r in rows] == list(UNITS)  # the city first
    city = rows[0]
    assert (city.communities, city.quota, city.checked) == (10, 2, 0)
    licheng = next(r for r in rows if r.unit == "licheng")
    assert (licheng.communities, licheng.quota) == (4, 2)
    assert (await queries.plan_progress(world.app, LC_OFFICER, 2026, ""))[0].unit == "licheng"


# -- consumers: the runner skips what was applied before -------------------------------------


def _sample(ce_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{ce_type}.json").read_text(encoding="utf-8"))
    return data


def test_the_consumers_skip_a_delivery_applied_before() -> None:
    app = InspectionApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=FakeClock(AT),
        read_model=InMemoryInspectionReadModel,
    )
    subs = {s.consumer: s for s in subscriptions(app)}
    assert all(s.already_applied == app.already_applied for s in subs.values())
    registered = CommunityRegisteredV1.model_validate(
        _sample("pubrev.disclosure.CommunityRegistered.v1")
    )
    _, on_registered = subs["inspection.disclosure-watch"].by_type[registered.ce_type]
    delivery = DeliveryRef("inspection.disclosure-watch", str(registered.aggregate_id), 1)
    assert on_registered(registered, delivery) is True
    size = log_size(app)
    assert on_registered(registered, delivery) is False
    assert log_size(app) == size
    # A repeat racing its first delivery (past the runner's check) writes nothing either.
    assert app.note_registration("LC-0001", "licheng", "U" * 18, delivery) is False
    assert log_size(app) == size

    complaint = ComplaintReceivedV1.model_validate(_sample("pubrev.casework.ComplaintReceived.v1"))
    _, on_complaint = subs["inspection.leads"].by_type[complaint.ce_type]
    lead = DeliveryRef("inspection.leads", str(complaint.aggregate_id), 1)
    assert on_complaint(complaint.model_copy(update={"community_code": ""}), lead) is False
    assert on_complaint(complaint, lead) is True
    [row] = app.read_model.communities(None)
    assert row.leads == 1


def test_a_disclosure_names_the_company_when_inspection_knew_none() -> None:
    """A filing reached inspection before the register did: its company is noted with it,
    once; a later filing does not note it again."""
    app = InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    noted = NotedDisclosure("d-1", "CX-0100", "chengxiang", 2026, 1, 0, 0, 0, False, True)
    app.note_disclosure(noted, DeliveryRef("t", "d-1", 1), "U" * 18)
    app.note_disclosure(replace(noted, quarter=2), DeliveryRef("t", "d-1", 2), "V" * 18)
    watch = app.find(CommunityWatch.create_id("CX-0100"), CommunityWatch)
    assert watch is not None
    assert (watch.company_uscc, watch.disclosures_noted, watch.zero_revenue) == ("U" * 18, 2, True)
    names = [
        type(app.mapper.to_domain_event(e)).__name__ for e in app.recorder.select_events(watch.id)
    ]
    assert names == ["Opened", "CompanyNoted", "DisclosureNoted", "DisclosureNoted"]
    app.note_overdue("CX-0100", "chengxiang", 2026, 3, DeliveryRef("t", "o-1", 1))
    app.note_company_change("CX-0100", "chengxiang", "W" * 18, DeliveryRef("t", "c-1", 1))
    watch = app.find(CommunityWatch.create_id("CX-0100"), CommunityWatch)
    assert watch is not None
    assert (watch.overdue_quarters, watch.company_uscc) == (["2026Q3"], "W" * 18)


def test_an_application_without_a_read_model_says_so() -> None:
    app = InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(RuntimeError, match="read model"):
        app.read_model.catch_up()


def test_yearly_plan_pools_name_their_priorities() -> None:
    world = build()
    reasons = {c["community_code"]: c["reasons"] for c in world.plan.candidates}
    assert reasons["CX-0001"] == ["handed_down"]
    assert SpotCheckPlan.yearly_id(2026, "chengxiang") == world.plan.id
