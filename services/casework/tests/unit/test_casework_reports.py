"""The monthly reports and the city's circular (issue 13 item 8) on in-memory persistence: a
unit's report by the 25th with its figures assembled from the ledgers, late reports warned
about (by the sweep, or on submission) and closed by the report, the city's briefing to the
province by the 30th, and the monthly circular ranking the seven units on the plan's
indicators, as a query and as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from datetime import date
from fractions import Fraction
from typing import Any, cast

import pytest
from openpyxl import load_workbook

from casework.adapters.contract_events import to_contract
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    FlagTypicalCase,
    GiveFeedback,
    PublishTypicalCase,
    RecordInterview,
    ResolveCase,
    StartInvestigation,
    SubmitMonthlyReport,
    SubmitProvinceBriefing,
)
from casework.application.sweeps import sweep_campaign, sweep_monthly_reports
from casework.domain.campaign.circular import (
    CHECK_RATE,
    DISCLOSURE_RATE,
    FEEDBACK_RATE,
    INDICATORS,
    RECTIFICATION_RATE,
    Rate,
    rank,
    standings,
)
from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.warnings.campaign_rules import (
    CLOSED_BY_PLATFORM,
    MONTHLY_REPORT_LATE,
    PROVINCE_BRIEFING_LATE,
)
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.entrypoints.grpc_api import CaseworkServicer
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev_contracts.events.casework import MonthlyReportSubmittedV1
from pubrev_contracts.vocabulary.campaign import (
    CAMPAIGN,
    PROVINCE_BRIEFING,
    UNIT_REPORT,
    NotACampaignMonth,
)
from pubrev_contracts.vocabulary.sources import LOCAL
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, RuleViolated
from servicekit.identity import Identity, bind_identity, reset_identity
from services.casework.tests.support.campaign import (
    BUREAU,
    CITY_BUREAU,
    CITY_DISCIPLINE,
    COMPANY,
    HEAD,
    OTHER,
    UNIT,
    YEAR,
    at,
    campaign_app,
    checked,
    deliver,
    filed,
    logged,
    ordered,
    plan,
    registered,
    self_inspection,
    township_inspection,
    verified,
    warnings_of,
)
from services.casework.tests.support.scenario import OFFICER, close_complaint, complaint

OTHER_BUREAU = Identity("property-bureau", "officer", OTHER)


def report(month: int = 7, request_id: str = "r", unit: str = UNIT) -> SubmitMonthlyReport:
    return SubmitMonthlyReport(request_id, unit, YEAR, month, "本月完成小区自查自纠全覆盖")


def a_month_of_work(app: CaseworkApplication) -> None:
    """July in licheng: a complaint received, closed, flagged and published as a typical
    case, a company interviewed, a rectification ordered (which opens a case), a company's
    self-inspection, a township's inspection, a check."""
    case_id = app.handle(OFFICER, replace(complaint("j1"), received_at=at(7, 2))).case_id
    close_complaint(app, case_id, "j")
    app.handle(HEAD, FlagTypicalCase("jt", case_id, "挪用停车收入"))
    app.handle(
        HEAD, PublishTypicalCase("jp", case_id, "某物业公司挪用停车收入案", "已责令退还。", "", "")
    )
    app.handle(
        HEAD,
        RecordInterview(
            "ji", "company", COMPANY, UNIT, "拒不公示", (), (), "2026-07-02", "承诺整改"
        ),
    )
    deliver(app, registered("LC-0001"), self_inspection("LC-0001", at(7, 15)))
    deliver(app, township_inspection("LC-0001", at(7, 16)))
    yearly = plan(UNIT, 2, at(7, 10))
    deliver(app, yearly, checked(yearly.aggregate_id, "LC-0001", at(7, 17)))
    deliver(app, ordered(uuid.uuid4(), at(7, 18)))


# -- a unit's monthly report ----------------------------------------------------------------


def test_a_unit_reports_its_month_from_its_ledgers(monkeypatch: pytest.MonkeyPatch) -> None:
    """July's report is due on Monday 27 July (the 25th is a Saturday: 民法典 Art. 203 as
    vocabulary.campaign decides); submitted on Sunday the 26th it is on time."""
    app, clock = campaign_app(at(7, 2), monkeypatch)
    a_month_of_work(app)
    clock.now = at(7, 26)
    submitted = app.handle(BUREAU, report())
    assert (submitted.due_on, submitted.late) == ("2026-07-27", False)
    stored = queries.monthly_report_view(app, BUREAU, UNIT_REPORT, UNIT, YEAR, 7)
    assert stored.figures == {
        "complaints_received": 1,
        "rectification_cases_opened": 1,
        "cases_closed": 1,
        "feedback_given": 1,
        "typical_cases": 1,
        "typical_cases_published": 1,
        "interviews": 1,
        "police_referrals": 0,
        "problem_ledger_rows": 2,
        "work_ledger_rows": stored.figures["work_ledger_rows"],
        "spot_checks": 1,
        "township_inspections": 1,
        "self_inspections": 1,
        "rectifications_ordered": 1,
        "rectifications_verified": 0,
        "warnings_raised": 0,
    }
    assert stored.figures["work_ledger_rows"] >= 5  # received … closed, and the case opened
    assert (
        stored.briefing == "本月完成小区自查自纠全覆盖" and stored.submitted_by == BUREAU.render()
    )
    assert LOCAL in stored.due_basis and "六（四）" in stored.due_basis  # 2023's day, carried
    assert "第二百零三条" in stored.due_basis  # moved past the weekend
    (event,) = [e for e in logged(app) if isinstance(e, MonthlyReport.Submitted)]
    contract = to_contract(event)
    assert isinstance(contract, MonthlyReportSubmittedV1)
    assert (contract.duty, contract.unit, contract.month, contract.late) == (
        UNIT_REPORT,
        UNIT,
        7,
        False,
    )
    assert contract.figures == stored.figures
    assert app.handle(BUREAU, report()) == submitted  # a retry, answered once
    with pytest.raises(RuleViolated) as caught:
        app.handle(BUREAU, report(request_id="again"))
    assert caught.value.message_zh == "本月报送已提交"
    (row,) = [r for r in queries.campaign_progress(app, BUREAU, YEAR, "").reports if r.month == 7]
    assert (row.status, row.due_on, row.report) == ("submitted", date(2026, 7, 27), stored)


def test_a_report_after_its_due_day_is_late_and_its_warning_closes_with_it() -> None:
    app, clock = campaign_app(at(7, 27, 23))
    assert sweep_monthly_reports(app) == 0
    clock.now = at(7, 28, 0)
    assert sweep_monthly_reports(app) == len(COUNTY_UNITS)
    assert sweep_monthly_reports(app) == 0
    warning_id = SupervisionWarning.create_id(MONTHLY_REPORT_LATE, UNIT, "2026-07")
    warning = app.warning(str(warning_id))
    assert warning.details["due_on"] == "2026-07-27" and warning.details["submitted_at"] == ""
    assert warning.details["duty"] == UNIT_REPORT
    (row,) = [r for r in queries.campaign_progress(app, BUREAU, YEAR, "").reports]
    assert row.status == "missing"
    clock.now = at(7, 29)
    submitted = app.handle(BUREAU, report())
    assert submitted.late
    closed = app.warning(str(warning_id))
    assert closed.closed and closed.closed_by == CLOSED_BY_PLATFORM
    assert closed.evidence_refs == [f"monthly-report:{submitted.report_id}"]
    (row,) = [r for r in queries.campaign_progress(app, BUREAU, YEAR, "").reports]
    assert row.status == "late"


def test_a_late_report_the_sweep_did_not_see_is_still_on_the_record() -> None:
    app, _ = campaign_app(at(8, 26, 9))
    app.handle(BUREAU, report(month=8))
    (warning,) = warnings_of(app, MONTHLY_REPORT_LATE)
    assert warning.closed and warning.period == "2026-08"
    assert warning.details["submitted_at"] == at(8, 26, 9).isoformat()
    kinds = [type(e).__name__ for e in logged(app) if isinstance(e, SupervisionWarning.Event)]
    assert kinds == ["Raised", "Closed"]


@pytest.mark.parametrize(
    ("when", "command", "error"),
    [
        (at(7, 20), report(month=8), "月度报送须在当月开始后提交"),
        (at(6, 20), report(month=6), NotACampaignMonth),
    ],
    ids=["before its month", "not a month of the campaign"],
)
def test_what_a_report_cannot_be(when: Any, command: SubmitMonthlyReport, error: Any) -> None:
    app, _ = campaign_app(when)
    if isinstance(error, str):
        with pytest.raises(RuleViolated) as caught:
            app.handle(BUREAU, command)
        assert caught.value.message_zh == error
    else:
        with pytest.raises(error):
            app.handle(BUREAU, command)
    assert not logged(app)


def test_a_report_names_its_bad_fields_at_once() -> None:
    app, _ = campaign_app(at(7, 20))
    with pytest.raises(InvalidArgument) as caught:
        app.handle(BUREAU, SubmitMonthlyReport("", CITY, 1999, 13, "x" * 20001))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("request_id", "required"),
        ("unit", "unknown_unit"),
        ("year", "year_range"),
        ("month", "month_range"),
        ("briefing", "too_long"),
    }
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CITY_BUREAU, SubmitProvinceBriefing("", YEAR, 0, ""))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("request_id", "required"),
        ("month", "month_range"),
    }


def test_only_the_unit_submits_its_report_and_only_the_city_briefs() -> None:
    app, _ = campaign_app(at(7, 20))
    for identity in (
        OTHER_BUREAU,
        CITY_BUREAU,
        Identity("property-bureau", "inspector", UNIT),
        Identity("discipline", "supervisor", UNIT),
    ):
        with pytest.raises(PermissionDenied):
            app.handle(identity, report())
    for identity in (BUREAU, CITY_DISCIPLINE, Identity("property-bureau", "inspector", CITY)):
        with pytest.raises(PermissionDenied):
            app.handle(identity, SubmitProvinceBriefing("b", YEAR, 7, ""))


def test_the_aggregate_keeps_each_report_with_its_reporter() -> None:
    """MonthlyReport.submit's own guards (the policy already keeps the wrong callers out)."""
    unit_report = CAMPAIGN.monthly(YEAR, UNIT_REPORT)
    briefing = CAMPAIGN.monthly(YEAR, PROVINCE_BRIEFING)
    with pytest.raises(RuleViolated) as caught:
        MonthlyReport.submit(unit_report, CITY, 7, "x", at(7, 20), {}, [], "")
    assert caught.value.message_zh == "月度报送由县（区、管委会）向市城市管理局报送"
    with pytest.raises(RuleViolated) as caught:
        MonthlyReport.submit(briefing, UNIT, 7, "x", at(7, 20), {}, [], "")
    assert caught.value.message_zh == "向省住建厅报送工作简报由市城市管理局负责"


def test_a_report_is_read_by_its_units_readers() -> None:
    app, _ = campaign_app(at(7, 20))
    app.handle(BUREAU, report())
    for reader in (BUREAU, CITY_BUREAU, CITY_DISCIPLINE, Identity("auditor", "auditor", CITY)):
        assert queries.monthly_report_view(app, reader, UNIT_REPORT, UNIT, YEAR, 7).unit == UNIT
    with pytest.raises(PermissionDenied):
        queries.monthly_report_view(app, OTHER_BUREAU, UNIT_REPORT, UNIT, YEAR, 7)
    with pytest.raises(NotFound):
        queries.monthly_report_view(app, BUREAU, UNIT_REPORT, UNIT, YEAR, 8)
    with pytest.raises(InvalidArgument) as caught:
        queries.monthly_report_view(app, BUREAU, "weekly", "nowhere", 1999, 13)
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("duty", "unknown_duty"),
        ("unit", "unknown_unit"),
        ("year", "year_range"),
        ("month", "month_range"),
    }


# -- the city's briefing to the province -----------------------------------------------------------


def test_the_city_briefs_the_province_with_the_units_reports() -> None:
    app, clock = campaign_app(at(7, 2))
    a_month_of_work(app)
    clock.now = at(7, 24)
    app.handle(BUREAU, report())
    app.handle(OTHER_BUREAU, report(unit=OTHER, request_id="r2"))
    clock.now = at(7, 29)
    briefed = app.handle(CITY_BUREAU, SubmitProvinceBriefing("b7", YEAR, 7, "全市7月整治进展"))
    assert (briefed.due_on, briefed.late) == ("2026-07-30", False)
    assert briefed.units_reported == sorted([UNIT, OTHER])
    stored = queries.monthly_report_view(app, CITY_BUREAU, PROVINCE_BRIEFING, CITY, YEAR, 7)
    assert stored.figures["complaints_received"] == 1 and stored.figures["spot_checks"] == 1
    assert stored.figures["typical_cases_published"] == 1 and stored.figures["interviews"] == 1
    progress = queries.campaign_progress(app, CITY_BUREAU, YEAR, CITY)
    assert [(r.duty, r.status) for r in progress.reports] == [(PROVINCE_BRIEFING, "submitted")]
    clock.now = at(9, 1)
    sweep_monthly_reports(app)
    (late,) = warnings_of(app, PROVINCE_BRIEFING_LATE)
    assert (late.unit, late.subject, late.period) == (CITY, CITY, "2026-08")
    assert "附件1第36项" in late.details["legal_basis"]
    app.handle(CITY_BUREAU, SubmitProvinceBriefing("b8", YEAR, 8, ""))
    assert app.warning(str(late.id)).closed


def test_decembers_briefing_due_in_january_is_judged_in_the_new_year() -> None:
    """2023: the 30th of December was a Saturday and 1 January a holiday: the briefing was
    due on Tuesday 2 January 2024."""
    assert CAMPAIGN.province_briefing_due(2023, 12) == date(2024, 1, 2)
    app, clock = campaign_app(at(1, 2, 23, year=2024))
    sweep_monthly_reports(app)
    assert not [w for w in warnings_of(app, PROVINCE_BRIEFING_LATE) if w.period == "2023-12"]
    clock.now = at(1, 3, 0, year=2024)
    sweep_monthly_reports(app)
    # In January all of last year's duties are judged: those the sweep met in their year too.
    assert "2023-12" in [w.period for w in warnings_of(app, PROVINCE_BRIEFING_LATE)]
    clock.now = at(2, 3, 0, year=2024)  # after January, last year is no longer judged
    assert sweep_campaign(app) == 0


# -- the monthly circular -------------------------------------------------------------------


def a_campaign_to_circulate(app: CaseworkApplication) -> None:
    """By the end of August: licheng 4 communities, 3 disclosed Q2 (one more in September),
    2 checked, 2 rectifications both verified, 2 complaints due of which 1 fed back (a third
    not due yet); hanjiang 2 communities both disclosed, none checked, 1 rectification not
    verified, no complaint. The others have nothing."""
    deliver(app, *(registered(f"LC-000{i}") for i in range(1, 5)))
    deliver(app, *(registered(f"HJ-000{i}", unit=OTHER) for i in range(1, 3)))
    deliver(app, *(filed(f"LC-000{i}", 2, at(7, 20)) for i in range(1, 4)))
    deliver(app, filed("LC-0004", 2, at(9, 5)))
    deliver(app, *(filed(f"HJ-000{i}", 2, at(7, 21), unit=OTHER) for i in range(1, 3)))
    yearly = plan(UNIT, 2, at(7, 10))
    deliver(app, yearly, checked(yearly.aggregate_id, "LC-0001", at(8, 10)))
    deliver(app, checked(yearly.aggregate_id, "LC-0002", at(8, 11)))
    deliver(app, checked(yearly.aggregate_id, "LC-0003", at(9, 2)))
    done = [uuid.uuid4(), uuid.uuid4()]
    deliver(app, *(ordered(f, at(8, 1)) for f in done), *(verified(f, at(8, 20)) for f in done))
    deliver(app, ordered(uuid.uuid4(), at(8, 1), unit=OTHER))


def complaints(app: CaseworkApplication, clock: Any) -> None:
    clock.now = at(7, 2)
    fed = app.handle(OFFICER, replace(complaint("c1"), received_at=at(7, 2))).case_id
    app.handle(OFFICER, replace(complaint("c2"), received_at=at(7, 2)))
    clock.now = at(7, 20)
    app.handle(OFFICER, StartInvestigation("fi", fed))
    app.handle(OFFICER, ResolveCase("fr", fed, "已责令公示"))
    app.handle(OFFICER, GiveFeedback("fb", fed, "phone", "已电话告知"))
    clock.now = at(8, 25)
    app.handle(OFFICER, replace(complaint("c3"), received_at=at(8, 25)))


async def test_the_circular_ranks_the_seven_units_on_the_plans_indicators(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock = campaign_app(at(7, 1), monkeypatch)
    a_campaign_to_circulate(app)
    complaints(app, clock)
    clock.now = at(8, 20)
    app.handle(BUREAU, report(month=8))
    clock.now = at(9, 15)
    circular = await queries.monthly_circular(app, CITY_BUREAU, YEAR, 8)
    assert circular.as_of == at(9, 1, 0)
    assert circular.disclosure_quarter == "2026Q2"
    by_unit = {s.unit: s for s in circular.standings}
    licheng, hanjiang = by_unit[UNIT], by_unit[OTHER]
    assert licheng.rates == {
        DISCLOSURE_RATE: Rate(3, 4),  # the September filing is after the circular's day
        CHECK_RATE: Rate(2, 4),
        RECTIFICATION_RATE: Rate(2, 2),
        FEEDBACK_RATE: Rate(1, 2),  # the complaint of 25 August is not due yet
    }
    assert hanjiang.rates == {
        DISCLOSURE_RATE: Rate(2, 2),
        CHECK_RATE: Rate(0, 2),
        RECTIFICATION_RATE: Rate(0, 1),
        FEEDBACK_RATE: Rate(0, 0),
    }
    assert licheng.ranks == {
        DISCLOSURE_RATE: 2,
        CHECK_RATE: 1,
        RECTIFICATION_RATE: 1,
        FEEDBACK_RATE: 1,
    }
    assert hanjiang.ranks == {
        DISCLOSURE_RATE: 1,
        CHECK_RATE: 2,
        RECTIFICATION_RATE: 2,
        FEEDBACK_RATE: 2,
    }
    assert [(s.unit, s.overall_rank, s.rank_sum) for s in circular.standings[:3]] == [
        (UNIT, 1, 5),
        (OTHER, 2, 7),
        ("chengxiang", 3, 11),
    ]
    assert {s.overall_rank for s in circular.standings[2:]} == {3}
    assert circular.report_status == {u: "missing" for u in COUNTY_UNITS} | {UNIT: "submitted"}


async def test_a_circular_of_the_running_month_is_judged_now() -> None:
    app, _ = campaign_app(at(9, 15))
    circular = await queries.monthly_circular(app, CITY_BUREAU, YEAR, 9)
    assert circular.as_of == at(9, 15)
    assert all(s.rates[CHECK_RATE] == Rate(0, 0) for s in circular.standings)
    assert circular.report_status[UNIT] == "pending"


async def test_what_cannot_be_circulated() -> None:
    app, _ = campaign_app(at(8, 15))
    with pytest.raises(RuleViolated) as caught:
        await queries.monthly_circular(app, CITY_BUREAU, YEAR, 9)
    assert caught.value.message_zh == "该月尚未开始，无法通报"
    with pytest.raises(NotACampaignMonth):
        await queries.monthly_circular(app, CITY_BUREAU, YEAR, 6)
    with pytest.raises(InvalidArgument) as caught:
        await queries.monthly_circular(app, CITY_BUREAU, 1999, 0)
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("year", "year_range"),
        ("month", "month_range"),
    }
    for identity in (BUREAU, Identity("discipline", "supervisor", UNIT)):
        with pytest.raises(PermissionDenied):
            await queries.monthly_circular(app, identity, YEAR, 8)


def test_ranks_tie_and_units_without_a_rate_come_last() -> None:
    assert rank({"a": Rate(1, 2), "b": Rate(2, 4), "c": Rate(0, 0), "d": Rate(3, 4)}) == {
        "d": 1,
        "a": 2,
        "b": 2,
        "c": 4,
    }
    assert Rate(1, 3).value == Fraction(1, 3) and Rate(1, 3).basis_points == 3333
    assert Rate(0, 0).value is None and Rate(0, 0).basis_points is None
    rates = {k.key: Rate(1, 1) for k in INDICATORS}
    assert [s.overall_rank for s in standings({"a": rates, "b": rates})] == [1, 1]
    assert all(LOCAL in i.basis for i in INDICATORS)
    assert [i.target_percent for i in INDICATORS] == [100, 50, 100, None]


async def test_the_circular_as_csv_and_xlsx() -> None:
    app, clock = campaign_app(at(7, 1))
    a_campaign_to_circulate(app)
    clock.now = at(9, 15)
    servicer = CaseworkServicer(app)
    token = bind_identity(CITY_BUREAU)
    try:
        answer = await servicer.GetMonthlyCircular(
            pb.GetMonthlyCircularRequest(year=YEAR, month=8), cast(Any, None)
        )
        first = answer.standings[0]
        assert (first.unit, first.overall_rank) == (UNIT, 1)
        values = {v.key: (v.numerator, v.denominator, v.basis_points, v.rank) for v in first.values}
        assert values[DISCLOSURE_RATE] == (3, 4, 7500, 2)
        assert values[FEEDBACK_RATE] == (0, 0, -1, 1)
        assert [i.target_percent for i in answer.indicators] == [100, 50, 100, 0]
        files = await servicer.ExportMonthlyCircular(
            pb.ExportMonthlyCircularRequest(year=YEAR, month=8, format="csv"), cast(Any, None)
        )
        table, basis = files.files
        assert table.name == "circular-2026-08.csv" and basis.name == "circular-2026-08-basis.csv"
        lines = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig"))))
        assert lines[0][:3] == ["综合名次", "单位", "公共收益季度公示率（分子）"]
        assert lines[1][:6] == ["1", "荔城区", "3", "4", "75.00", "2"]
        assert len(lines) == 1 + len(COUNTY_UNITS) and table.rows == len(COUNTY_UNITS)
        explained = basis.data.decode("utf-8-sig")
        assert "本地配置" in explained and "2026Q2" in explained
        files = await servicer.ExportMonthlyCircular(
            pb.ExportMonthlyCircularRequest(year=YEAR, month=8, format="xlsx"), cast(Any, None)
        )
        (book_file,) = files.files
        book = load_workbook(io.BytesIO(book_file.data))
        assert book.sheetnames == ["月度通报", "指标依据"]
        assert book["月度通报"]["B2"].value == "荔城区"
        with pytest.raises(InvalidArgument) as caught:
            await servicer.ExportMonthlyCircular(
                pb.ExportMonthlyCircularRequest(year=YEAR, month=8, format="pdf"), cast(Any, None)
            )
        assert [(v.field, v.rule) for v in caught.value.violations] == [
            ("format", "unknown_format")
        ]
    finally:
        reset_identity(token)


async def test_the_campaigns_rpcs_map_their_requests_and_answers() -> None:
    app, clock = campaign_app(at(7, 10))
    servicer = CaseworkServicer(app)
    token = bind_identity(BUREAU)
    try:
        done = await servicer.RecordStageDone(
            pb.RecordStageDoneRequest(
                request_id="s", unit=UNIT, year=YEAR, stage="mobilisation", note="动员"
            ),
            cast(Any, None),
        )
        assert (done.unit, done.stage, done.due_on, done.late) == (
            UNIT,
            "mobilisation",
            "2026-07-15",
            False,
        )
        clock.now = at(7, 21)
        sweep_campaign(app)
        progress = await servicer.GetCampaignProgress(
            pb.GetCampaignProgressRequest(year=YEAR), cast(Any, None)
        )
        stages = {s.stage: s for s in progress.stages}
        assert stages["mobilisation"].recorded_on == "2026-07-10"
        assert stages["mobilisation"].warning_id == ""
        assert stages["self_inspection_ledgers"].due_on == "2026-07-31"
        assert progress.current_stages == ["self_inspection_ledgers"]
        submitted = await servicer.SubmitMonthlyReport(
            pb.SubmitMonthlyReportRequest(request_id="m", unit=UNIT, year=YEAR, month=7),
            cast(Any, None),
        )
        assert (submitted.due_on, submitted.late) == ("2026-07-27", False)
        (status,) = (
            await servicer.GetCampaignProgress(
                pb.GetCampaignProgressRequest(year=YEAR), cast(Any, None)
            )
        ).reports
        assert (status.status, status.report_id) == ("submitted", submitted.report_id)
        got = await servicer.GetMonthlyReport(
            pb.GetMonthlyReportRequest(unit=UNIT, year=YEAR, month=7), cast(Any, None)
        )
        assert got.report_id == submitted.report_id and got.duty == UNIT_REPORT
        assert {f.key: f.name for f in got.figures}["spot_checks"] == "实地抽查小区（个）"
    finally:
        reset_identity(token)
    token = bind_identity(CITY_BUREAU)
    try:
        briefed = await servicer.SubmitProvinceBriefing(
            pb.SubmitProvinceBriefingRequest(request_id="b", year=YEAR, month=7, briefing="简报"),
            cast(Any, None),
        )
        assert list(briefed.units_reported) == [UNIT] and not briefed.late
    finally:
        reset_identity(token)
