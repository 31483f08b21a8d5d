"""The campaign calendar in casework (issue 13 items 2, 3 and 7) on in-memory persistence, the
other services' events delivered through the subscriptions table: each stage's progress from
its facts, the units' own stage records, the stage warnings (once, closed when the unit
catches up; none for spot checks beside the pace's), the quarterly cross checks, and the
findings against agencies and the warnings escalated into findings."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from casework.adapters.contract_events import to_contract
from casework.adapters.feeds import feed_record
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import CloseWarning, RecordStageDone
from casework.application.handlers.warnings import on_disclosure_overdue, on_rectification_overdue
from casework.application.ports import WarningRow
from casework.application.sweeps import (
    sweep_campaign,
    sweep_campaign_stages,
    sweep_cross_checks,
    sweep_quota_pace,
)
from casework.domain.campaign.progress import STAGE_UNITS
from casework.domain.campaign.stage_record import StageRecord
from casework.domain.campaign.unit_communities import UnitCommunities
from casework.domain.warnings.campaign_rules import (
    AGENCY_FINDING,
    CLOSED_BY_PLATFORM,
    CROSS_CHECK_MISSING,
    UNIT_BEHIND_STAGE,
    campaign_basis,
    campaign_quarters,
)
from casework.domain.warnings.company_facts import CompanyFacts
from casework.domain.warnings.plan_checks import PlanChecks
from casework.domain.warnings.rules import (
    DEFAULT_RULES,
    DISCLOSURE_OVERDUE,
    RECTIFICATION_OVERDUE,
    REPEAT_VIOLATIONS,
    UNIT_BEHIND_QUOTA,
)
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.events.casework import (
    CampaignStageRecordedV1,
    WarningClosedV1,
    WarningEscalatedV1,
)
from pubrev_contracts.vocabulary.calendar import Quarter
from pubrev_contracts.vocabulary.campaign import CAMPAIGN, CampaignCalendarNotConfigured
from pubrev_contracts.vocabulary.sources import LOCAL
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from pubrev_contracts.vocabulary.violations import KINDS
from servicekit.errors import InvalidArgument, PermissionDenied, RuleViolated
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from services.casework.tests.support.campaign import (
    ASSERTED_FIELD_RULES,
    ASSERTED_RULES_ZH,
    BUREAU,
    CITY_BUREAU,
    COMPANY,
    HEAD,
    OTHER,
    UNIT,
    YEAR,
    at,
    campaign_app,
    checked,
    cross_reported,
    deliver,
    logged,
    ordered,
    plan,
    registered,
    self_inspection,
    township_inspection,
    verified,
    violation,
    warnings_of,
    withdrawn,
)

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[4] / "contracts" / "feeds" / "zhihui.schema.json").read_text()
)
CODES = ("LC-0001", "LC-0002", "LC-0003", "LC-0004")


def rows(progress: queries.CampaignProgress, unit: str = UNIT) -> dict[str, queries.StageRow]:
    return {r.stage.key: r for r in progress.stages if r.unit == unit}


def a_year_of_facts(app: CaseworkApplication) -> uuid.UUID:
    """Four communities of licheng from 1 July and one from 1 August; three self-inspected by
    18 July and the late one; two inspected by their township; a yearly plan of two checks
    with one done; rectifications: two ordered by 30 November, one verified, one ordered in
    December; mobilisation recorded. Returns the plan's id."""
    deliver(app, *(registered(code) for code in CODES), registered("LC-0005", when=at(8, 1)))
    deliver(app, *(self_inspection(code, at(7, 18)) for code in CODES[:3]))
    deliver(app, self_inspection("LC-0005", at(8, 2)))
    deliver(app, township_inspection("LC-0001", at(8, 3)), township_inspection("LC-0002", at(9, 3)))
    deliver(app, township_inspection("LC-0001", at(8, 20)))
    yearly = plan(UNIT, 2, at(7, 10))
    deliver(app, yearly, checked(yearly.aggregate_id, "LC-0001", at(8, 10)))
    first, second, december = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    deliver(app, ordered(first, at(9, 1)), ordered(second, at(11, 2)), ordered(december, at(12, 5)))
    deliver(app, verified(first, at(10, 1)))
    app.handle(BUREAU, RecordStageDone("m", UNIT, YEAR, "mobilisation", "全区动员部署会议"))
    return yearly.aggregate_id


# -- progress ------------------------------------------------------------------------------------


def test_each_stage_counts_its_own_facts() -> None:
    """On 12 December: every stage of licheng with its due date, its basis, what it counts,
    done/expected and whether the unit is behind."""
    app, clock = campaign_app(at(7, 1))
    clock.now = at(7, 14)
    a_year_of_facts(app)
    clock.now = at(12, 12)
    stages = rows(queries.campaign_progress(app, BUREAU, YEAR, ""))
    seen = {k: (r.done, r.expected, r.behind) for k, r in stages.items()}
    assert seen == {
        "mobilisation": (1, 1, False),
        "self_inspection": (3, 4, True),  # LC-0005 came after 20 July: not expected then
        "self_inspection_ledgers": (0, 1, True),
        "spot_checks": (1, 2, True),  # the pace, no tolerance after 30 September
        "township_inspections": (2, 5, True),  # LC-0005 is expected by 30 September
        "supervised_rectification": (1, 2, True),  # December's order is not expected by 30/11
        "unit_summaries": (0, 1, False),  # due 15 December
        "review": (0, 1, False),
    }
    spot = stages["spot_checks"]
    assert spot.by_pace and spot.expected_by_now == 2
    rectification = stages["supervised_rectification"]
    assert rectification.stage.due == date(2026, 11, 30)
    assert LOCAL in rectification.stage.basis and "五（三）" in rectification.stage.basis
    assert "RectificationVerified" in rectification.counted
    assert stages["mobilisation"].recorded_on == date(2026, 7, 14)
    assert stages["unit_summaries"].expected_by_now == 0


def test_the_progress_is_of_the_callers_unit_unless_the_city_asks() -> None:
    app, _ = campaign_app(at(8, 1))
    progress = queries.campaign_progress(app, BUREAU, YEAR, "")
    assert {r.unit for r in progress.stages} == {UNIT}
    assert progress.current_stages == ["spot_checks", "township_inspections"]
    assert progress.version == CAMPAIGN.year(YEAR).version
    everyone = queries.campaign_progress(app, CITY_BUREAU, YEAR, "")
    assert {r.unit for r in everyone.stages} == {*COUNTY_UNITS, CITY}
    city_stages = {r.stage.key for r in everyone.stages if r.unit == CITY}
    assert city_stages == {"mobilisation", "spot_checks", "review"}
    with pytest.raises(PermissionDenied):
        queries.campaign_progress(app, BUREAU, YEAR, OTHER)
    with pytest.raises(InvalidArgument) as caught:
        queries.campaign_progress(app, BUREAU, 1999, "nowhere")
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("year", "year_range"),
        ("unit", "unknown_unit"),
    }
    with pytest.raises(CampaignCalendarNotConfigured):
        queries.campaign_progress(app, BUREAU, 2030, "")


def test_every_stage_names_who_takes_part() -> None:
    assert set(STAGE_UNITS) == {s.key for s in CAMPAIGN.stages(YEAR)}
    assert all(set(COUNTY_UNITS) <= set(units) for units in STAGE_UNITS.values())


# -- the units' own records ---------------------------------------------------------------------


def test_a_unit_records_its_own_stages_once() -> None:
    app, clock = campaign_app(at(7, 10))
    done = app.handle(HEAD, RecordStageDone("r1", UNIT, YEAR, "mobilisation", "动员会"))
    assert (done.unit, done.stage, done.due_on, done.late) == (
        UNIT,
        "mobilisation",
        "2026-07-15",
        False,
    )
    assert app.handle(HEAD, RecordStageDone("r1", UNIT, YEAR, "mobilisation", "动员会")) == done
    (event,) = [e for e in logged(app) if isinstance(e, StageRecord.Recorded)]
    contract = to_contract(event)
    assert isinstance(contract, CampaignStageRecordedV1)
    assert (contract.unit, contract.stage, contract.year, contract.late) == (
        UNIT,
        "mobilisation",
        YEAR,
        False,
    )
    clock.now = at(12, 20)
    late = app.handle(HEAD, RecordStageDone("r2", UNIT, YEAR, "unit_summaries", ""))
    assert late.late
    city = app.handle(CITY_BUREAU, RecordStageDone("r3", CITY, YEAR, "review", "全市总结"))
    assert city.unit == CITY


@pytest.mark.parametrize(
    ("identity", "command", "message_zh"),
    [
        (
            BUREAU,
            RecordStageDone("x", UNIT, YEAR, "self_inspection", ""),
            "该阶段进度由相关业务数据自动统计，无需填报",
        ),
        (
            CITY_BUREAU,
            RecordStageDone("x", CITY, YEAR, "unit_summaries", ""),
            "该单位不承担此阶段任务",
        ),
        (BUREAU, RecordStageDone("x", UNIT, 2027, "mobilisation", ""), "该年度专项整治尚未开始"),
    ],
    ids=["counted from the facts", "no part in it", "before its year"],
)
def test_what_a_unit_cannot_record(
    identity: Identity, command: RecordStageDone, message_zh: str
) -> None:
    app, _ = campaign_app(at(7, 10))
    with pytest.raises(RuleViolated) as caught:
        app.handle(identity, command)
    assert caught.value.message_zh == message_zh


def test_a_stage_is_recorded_once() -> None:
    app, _ = campaign_app(at(7, 10))
    app.handle(BUREAU, RecordStageDone("a", UNIT, YEAR, "mobilisation", ""))
    with pytest.raises(RuleViolated) as caught:
        app.handle(HEAD, RecordStageDone("b", UNIT, YEAR, "mobilisation", "again"))
    assert caught.value.message_zh == "该阶段已记录完成"


def test_only_the_units_own_deciders_record_its_stages() -> None:
    app, _ = campaign_app(at(7, 10))
    for identity in (
        Identity("property-bureau", "inspector", UNIT),
        Identity("property-bureau", "officer", OTHER),
        Identity("property-bureau", "head", "putian"),
        Identity("discipline", "supervisor", UNIT),
    ):
        with pytest.raises(PermissionDenied):
            app.handle(identity, RecordStageDone("d", UNIT, YEAR, "mobilisation", ""))


def test_a_stage_record_names_its_bad_fields_at_once() -> None:
    app, _ = campaign_app(at(7, 10))
    with pytest.raises(InvalidArgument) as caught:
        app.handle(BUREAU, RecordStageDone("", "nowhere", 1999, "party", "x" * 2001))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("request_id", "required"),
        ("unit", "unknown_unit"),
        ("year", "year_range"),
        ("stage", "unknown_stage"),
        ("note", "too_long"),
    }


# -- the stage warnings --------------------------------------------------------------------------


def test_a_unit_behind_a_stage_is_warned_once_and_the_warning_closes_when_it_catches_up() -> None:
    app, clock = campaign_app(at(7, 1))
    deliver(app, *(registered(code) for code in CODES))
    deliver(app, *(self_inspection(code, at(7, 18)) for code in CODES[:3]))
    clock.now = at(7, 20, 23)
    assert sweep_campaign_stages(app) == 8  # mobilisation: nobody recorded it (7 units, city)
    assert not [
        w for w in warnings_of(app, UNIT_BEHIND_STAGE) if w.details["stage"] == "self_inspection"
    ]
    clock.now = at(7, 21, 0)
    assert sweep_campaign_stages(app) == 1
    (warning,) = [
        w for w in warnings_of(app, UNIT_BEHIND_STAGE) if w.details["stage"] == "self_inspection"
    ]
    assert (warning.unit, warning.subject_kind, warning.subject, warning.period) == (
        UNIT,
        "unit",
        UNIT,
        "2026:self_inspection",
    )
    assert warning.details | {"stage_basis": ""} == {
        "stage": "self_inspection",
        "stage_name": "自查自纠",
        "year": YEAR,
        "due_on": "2026-07-20",
        "done": 3,
        "expected": 4,
        "stage_basis": "",
        "calendar_version": "2026.1",
        "legal_basis": DEFAULT_RULES.basis(UNIT_BEHIND_STAGE),
    }
    assert LOCAL in warning.details["stage_basis"]  # 2026 carries 2023's dates
    assert "五（三）" in warning.details["legal_basis"]
    assert sweep_campaign_stages(app) == 0  # once per (year, stage, unit)
    deliver(app, self_inspection("LC-0004", at(7, 22)))
    clock.now = at(7, 22, 12)
    assert sweep_campaign_stages(app) == 1  # closed
    closed = app.warning(str(warning.id))
    assert closed.closed and closed.closed_by == CLOSED_BY_PLATFORM
    assert closed.evidence_refs == ["progress:2026:self_inspection:licheng:4/4"]
    (closure,) = [e for e in logged(app) if isinstance(e, SupervisionWarning.Closed)]
    assert isinstance(to_contract(closure), WarningClosedV1)
    jsonschema.validate(feed_record(closure, _row(closed)), SCHEMA)
    assert sweep_campaign_stages(app) == 0


def test_recording_a_stage_closes_its_warning_at_once() -> None:
    app, _ = campaign_app(at(7, 16))
    sweep_campaign_stages(app)
    warning_id = SupervisionWarning.create_id(UNIT_BEHIND_STAGE, UNIT, "2026:mobilisation")
    assert not app.warning(str(warning_id)).closed
    record = app.handle(BUREAU, RecordStageDone("late", UNIT, YEAR, "mobilisation", "补开动员会"))
    assert record.late
    warning = app.warning(str(warning_id))
    assert warning.closed and warning.evidence_refs == [f"stage-record:{record.record_id}"]


def test_the_spot_checks_stage_has_the_paces_warning_only() -> None:
    """Spot checks are judged by the pace, and its unit_behind_quota is their warning: the
    calendar's sweep raises no second one, and the progress shows the pace's."""
    app, clock = campaign_app(at(7, 10))
    deliver(app, plan(UNIT, 10, at(7, 10)))
    clock.now = at(10, 2)
    sweep_campaign(app)
    assert not [
        w for w in warnings_of(app, UNIT_BEHIND_STAGE) if w.details["stage"] == "spot_checks"
    ]
    assert sweep_quota_pace(app) == 1
    spot = rows(queries.campaign_progress(app, BUREAU, YEAR, ""))["spot_checks"]
    assert spot.behind and spot.warning is not None and spot.warning.rule == UNIT_BEHIND_QUOTA


def test_last_years_stages_are_judged_in_the_new_year() -> None:
    """The review is due on 31 December: it is behind from 1 January, in the next year."""
    app, _ = campaign_app(at(1, 1, 9, year=2027))
    sweep_campaign_stages(app)
    reviews = [w for w in warnings_of(app, UNIT_BEHIND_STAGE) if w.details["stage"] == "review"]
    assert {w.unit for w in reviews} == {*COUNTY_UNITS, CITY}
    assert {w.period for w in reviews} == {"2026:review"}


# -- the facts, as the events bring them -------------------------------------------------------


def test_a_redelivered_event_changes_nothing() -> None:
    app, _ = campaign_app(at(7, 1))
    event = self_inspection("LC-0001", at(7, 18))
    assert deliver(app, event) == [True]
    assert deliver(app, event) == [False]


def test_a_community_registered_anew_under_another_unit_moves() -> None:
    app, _ = campaign_app(at(7, 1))
    deliver(app, registered("LC-0001"))
    moved = registered("LC-0001", unit=OTHER, when=at(7, 5))
    deliver(app, moved)
    assert not queries.communities_of(app, UNIT)
    assert queries.communities_of(app, OTHER) == {"LC-0001": date(2026, 7, 5)}
    members = app.find(UnitCommunities.create_id(OTHER), UnitCommunities)
    assert members is not None and not members.drop("LC-0099")


def test_a_rectification_ordered_in_december_is_verified_in_its_year() -> None:
    app, _ = campaign_app(at(12, 1))
    finding = uuid.uuid4()
    deliver(app, ordered(finding, at(12, 10)), verified(finding, at(1, 5, year=2027)))
    last = queries.campaign_of(app, UNIT, YEAR)
    assert last is not None and finding.hex in {
        uuid.UUID(f).hex for f in last.rectifications_verified
    }
    assert queries.campaign_of(app, UNIT, 2027) is None


def test_a_withdrawn_finding_leaves_the_rectifications_counted() -> None:
    app, clock = campaign_app(at(9, 1))
    kept, gone = uuid.uuid4(), uuid.uuid4()
    deliver(app, ordered(kept, at(9, 1)), ordered(gone, at(9, 2)), verified(kept, at(9, 20)))
    deliver(app, withdrawn(gone, at(10, 1)))
    clock.now = at(12, 1)
    assert (
        rows(queries.campaign_progress(app, BUREAU, YEAR, ""))["supervised_rectification"].done == 1
    )
    stage = rows(queries.campaign_progress(app, BUREAU, YEAR, ""))["supervised_rectification"]
    assert (stage.done, stage.expected, stage.behind) == (1, 1, False)
    assert deliver(app, withdrawn(uuid.uuid4(), at(10, 2))) == [True]  # nothing to withdraw


def test_a_check_remembers_its_day_and_an_old_one_counts_on_any_day() -> None:
    """PlanChecks.CheckNoted v1 (before the day was kept) upcasts with no day: the check
    counts by every day."""
    app, _ = campaign_app(at(8, 1))
    yearly = plan(UNIT, 2, at(7, 10))
    deliver(app, yearly, checked(yearly.aggregate_id, "LC-0001", at(8, 10)))
    checks = app.find(PlanChecks.create_id(str(yearly.aggregate_id)), PlanChecks)
    assert checks is not None and checks.checked_on == {"LC-0001": date(2026, 8, 10)}
    assert checks.checked_by(date(2026, 8, 9)) == set()
    (stored,) = [
        s
        for s in app.repository.event_store.recorder.select_events(checks.id)
        if s.topic.endswith("CheckNoted")
    ]
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["checked_on"]
    old = app.mapper.to_domain_event(dataclasses.replace(stored, state=json.dumps(state).encode()))
    assert old.checked_on is None
    legacy = PlanChecks("p")
    legacy._check(community_code="LC-0009", checked_on=None)
    assert legacy.checked_by(date(2020, 1, 1)) == {"LC-0009"}


# -- cross checks each quarter ---------------------------------------------------------------------


def test_a_quarter_without_a_cross_check_report_is_warned_and_closed_by_the_report() -> None:
    """Plan 四（四）: each county-level unit's team cross-checks every quarter and reports. The
    campaign's quarters are Q3 and Q4 (from the mobilisation to the review)."""
    assert campaign_quarters(CAMPAIGN.year(YEAR)) == [Quarter(YEAR, 3), Quarter(YEAR, 4)]
    app, clock = campaign_app(at(7, 20))
    deliver(app, plan(UNIT, 0, at(7, 20), kind="cross", checked_unit=OTHER, quarter=3))
    deliver(app, cross_reported(OTHER, UNIT, 3, at(9, 20)))
    clock.now = at(9, 30, 23)
    assert sweep_cross_checks(app) == 0
    clock.now = at(10, 1, 8)
    assert sweep_cross_checks(app) == len(COUNTY_UNITS) - 1  # hanjiang reported
    assert sweep_cross_checks(app) == 0
    mine = app.warning(str(SupervisionWarning.create_id(CROSS_CHECK_MISSING, UNIT, "2026Q3")))
    assert mine.details["planned_checked_units"] == [OTHER]
    assert mine.details["quarter_ends_on"] == "2026-09-30"
    assert "四（四）" in mine.details["legal_basis"]
    deliver(app, cross_reported(UNIT, OTHER, 3, at(10, 3)))
    closed = app.warning(str(mine.id))
    assert closed.closed and closed.closed_by == CLOSED_BY_PLATFORM
    assert closed.evidence_refs == [f"cross-check-report:2026Q3:{UNIT}>{OTHER}"]
    assert not [w for w in warnings_of(app, CROSS_CHECK_MISSING) if w.period == "2026Q4"]


# -- agencies' failures and escalation (issue 13 item 2) ---------------------------------------


def test_a_finding_against_an_agency_goes_to_zhihui_never_to_a_company() -> None:
    app, _ = campaign_app(at(9, 1))
    finding = uuid.uuid4()
    deliver(app, violation(finding, at(9, 1), kind="E1", party="agency", agency_unit=UNIT))
    (warning,) = warnings_of(app, AGENCY_FINDING)
    assert (warning.unit, warning.subject_kind, warning.subject, warning.period) == (
        UNIT,
        "finding",
        str(finding),
        "",
    )
    assert warning.details["kind"] == "E1" and warning.details["agency_unit"] == UNIT
    assert warning.details["legal_basis"] == campaign_basis(AGENCY_FINDING)
    assert app.find(CompanyFacts.create_id(COMPANY), CompanyFacts) is None
    (raise_,) = [e for e in logged(app) if isinstance(e, SupervisionWarning.Raised)]
    jsonschema.validate(feed_record(raise_), SCHEMA)
    with pytest.raises(PermissionDenied):  # about the unit's own conduct
        app.handle(BUREAU, CloseWarning("c", str(warning.id), ("整改报告.pdf",), ""))
    deliver(app, withdrawn(finding, at(9, 20)))
    closed = app.warning(str(warning.id))
    assert closed.closed and closed.evidence_refs == [f"finding-withdrawn:{finding}"]


def test_a_townships_failure_belongs_to_the_communitys_unit() -> None:
    app, _ = campaign_app(at(9, 1))
    deliver(
        app, violation(uuid.uuid4(), at(9, 1), kind="E3", party="agency", agency_unit="镇海街道")
    )
    (warning,) = warnings_of(app, AGENCY_FINDING)
    assert warning.unit == UNIT and warning.details["agency_unit"] == "镇海街道"


async def test_a_warning_escalated_into_a_finding_stays_linked() -> None:
    """The bureau records an E finding in inspection citing the warning: casework links the
    two (Escalated on the warning, on the bus and to 智慧监督) and raises no second record."""
    app, _ = campaign_app(at(10, 5))
    deliver(app, plan(UNIT, 10, at(7, 10)))
    sweep_quota_pace(app)
    (behind,) = warnings_of(app, UNIT_BEHIND_QUOTA)
    finding = uuid.uuid4()
    cited = violation(
        finding, at(10, 8), kind="E1", party="agency", agency_unit=UNIT, warning_id=behind.id
    )
    assert deliver(app, cited) == [True]
    linked = app.warning(str(behind.id))
    assert linked.escalated_to == [str(finding)] and linked.status == "raised"
    assert not warnings_of(app, AGENCY_FINDING)
    (escalated,) = [e for e in logged(app) if isinstance(e, SupervisionWarning.Escalated)]
    contract = to_contract(escalated)
    assert isinstance(contract, WarningEscalatedV1)
    assert (contract.finding_id, contract.kind, contract.rule) == (
        str(finding),
        "E1",
        UNIT_BEHIND_QUOTA,
    )
    record = feed_record(escalated, _row(linked))
    jsonschema.validate(record, SCHEMA)
    assert record["record_type"] == "warning_escalated" and record["finding_id"] == str(finding)
    assert record["record_id"].endswith(f":warning_escalated:{finding!s}")
    again = violation(finding, at(10, 8), kind="E1", party="agency", warning_id=behind.id)
    deliver(app, again.model_copy(update={"aggregate_version": 2}))
    assert app.warning(str(behind.id)).escalated_to == [str(finding)]
    row = await queries_row(app, behind.id)
    assert row.escalated_finding_ids == (str(finding),)


def test_a_companys_finding_citing_a_warning_is_linked_and_counts_for_the_company() -> None:
    app, _ = campaign_app(at(5, 6))
    on_disclosure_overdue(
        app,
        DeliveryRef("t", "o", 1),
        community_code="LC-0001",
        unit=UNIT,
        company=COMPANY,
        year=YEAR,
        quarter=1,
    )
    (overdue,) = warnings_of(app, DISCLOSURE_OVERDUE)
    finding = uuid.uuid4()
    deliver(app, violation(finding, at(5, 20), kind="A3", warning_id=overdue.id))
    assert app.warning(str(overdue.id)).escalated_to == [str(finding)]
    facts = app.find(CompanyFacts.create_id(COMPANY), CompanyFacts)
    assert facts is not None and [f.finding_id for f in facts.findings] == [str(finding)]


def test_an_agency_finding_citing_an_unknown_warning_is_still_recorded() -> None:
    app, _ = campaign_app(at(9, 1))
    deliver(
        app, violation(uuid.uuid4(), at(9, 1), kind="E2", party="agency", warning_id=uuid.uuid4())
    )
    assert len(warnings_of(app, AGENCY_FINDING)) == 1
    deliver(app, violation(uuid.uuid4(), at(9, 1), kind="B6", warning_id=uuid.uuid4()))
    assert len(warnings_of(app, AGENCY_FINDING)) == 1


def test_an_agency_findings_record_names_the_violation_in_chinese() -> None:
    """智慧监督 reads the code list's Chinese text (vocabulary.violations, as the credit
    feeds carry it), whatever name the producer gave the finding."""
    app, _ = campaign_app(at(9, 1))
    deliver(app, violation(uuid.uuid4(), at(9, 1), kind="E2", party="agency", agency_unit=UNIT))
    (warning,) = warnings_of(app, AGENCY_FINDING)
    assert warning.details["kind_name"] == KINDS["E2"].name_zh != KINDS["E2"].name


def test_a_city_closes_an_agency_finding_with_evidence() -> None:
    app, _ = campaign_app(at(9, 1))
    deliver(app, violation(uuid.uuid4(), at(9, 1), kind="E2", party="agency", agency_unit=UNIT))
    (warning,) = warnings_of(app, AGENCY_FINDING)
    app.handle(CITY_BUREAU, CloseWarning("c", str(warning.id), ("约谈记录.pdf",), "已约谈"))
    assert app.warning(str(warning.id)).closed


# -- helpers ---------------------------------------------------------------------------------


async def queries_row(app: CaseworkApplication, warning_id: uuid.UUID) -> WarningRow:
    (row,) = [
        r
        for r in await queries.list_warnings(app, CITY_BUREAU, "", "", True)
        if r.warning_id == str(warning_id)
    ]
    return row


def _row(warning: SupervisionWarning) -> tuple[object, ...]:
    return (
        warning.rule,
        warning.unit,
        warning.subject_kind,
        warning.subject,
        warning.period,
        warning.details,
        warning.rules_version,
    )


def test_the_campaigns_codes_counted_as_asserted_are_asserted_in_its_tests() -> None:
    """test_casework_errors.py counts these as asserted: they are, here or in the reports'."""
    here = Path(__file__).parent
    text = "".join(
        (here / name).read_text(encoding="utf-8")
        for name in ("test_casework_campaign.py", "test_casework_reports.py")
    )
    for code in ASSERTED_FIELD_RULES:
        assert f'"{code}")' in text, code
    for message in ASSERTED_RULES_ZH:
        assert f'"{message}"' in text, message


def test_a_withdrawn_finding_undoes_its_warnings() -> None:
    """The company's objection upheld: the finding no longer counts for repeat_violations
    (whose warning closes when the rest no longer make it due), and its rectification's
    overdue warning closes, the withdrawal the evidence."""
    app, _ = campaign_app(at(9, 1))
    first, second = uuid.uuid4(), uuid.uuid4()
    deliver(app, violation(first, at(9, 1)), violation(second, at(9, 2)))
    (repeat,) = warnings_of(app, REPEAT_VIOLATIONS)
    on_rectification_overdue(
        app,
        DeliveryRef("t", str(second), 5),
        finding_id=str(second),
        unit=UNIT,
        community_code="LC-0001",
        company=COMPANY,
        kind="B6",
        deadline=at(10, 1),
    )
    (overdue,) = warnings_of(app, RECTIFICATION_OVERDUE)
    deliver(app, withdrawn(second, at(10, 5)))
    for warning in (repeat, overdue):
        closed = app.warning(str(warning.id))
        assert closed.closed and closed.evidence_refs == [f"finding-withdrawn:{second}"]
    facts = app.find(CompanyFacts.create_id(COMPANY), CompanyFacts)
    assert facts is not None and [f.finding_id for f in facts.findings] == [str(first)]
    assert facts.withdraw_finding(str(second)) is None  # once


def test_a_withdrawal_leaves_a_repeat_warning_the_rest_still_make_due() -> None:
    app, _ = campaign_app(at(9, 1))
    findings = [uuid.uuid4() for _ in range(3)]
    deliver(app, *(violation(f, at(9, 1 + n)) for n, f in enumerate(findings)))
    (repeat,) = warnings_of(app, REPEAT_VIOLATIONS)
    assert str(findings[1]) in repeat.details["finding_ids"]
    deliver(app, withdrawn(findings[1], at(10, 5)))
    assert not app.warning(str(repeat.id)).closed  # the first and third still make it due
