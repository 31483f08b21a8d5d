"""The warnings engine of the 智慧监督 platform (DOMAIN.md §8) on in-memory persistence: each
rule at its boundary, each warning once, acknowledgement and evidenced closure, jurisdiction,
and the consumers over the golden samples."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from casework.adapters.feeds import feed_record
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AcknowledgeWarning,
    CloseWarning,
    GiveFeedback,
    ResolveCase,
    StartInvestigation,
    WarningClosed,
)
from casework.application.handlers.cases import on_rectification_ordered
from casework.application.handlers.warnings import (
    on_community_registered,
    on_complaint_received,
    on_disclosure,
    on_disclosure_overdue,
    on_rectification_overdue,
    on_spot_check_done,
    on_spot_check_planned,
    on_violation_found,
)
from casework.application.sweeps import sweep_complaint_feedback, sweep_quota_pace
from casework.domain.case import Case
from casework.domain.warnings.community_facts import CommunityFacts, QuarterFigures
from casework.domain.warnings.periods import previous_quarters
from casework.domain.warnings.rules import (
    COMPLAINT_WITHOUT_FEEDBACK,
    COST_RATIO,
    DEFAULT_RULES,
    DEFICIT_QUARTER,
    DISCLOSURE_OVERDUE,
    RECTIFICATION_OVERDUE,
    REPEAT_COMPLAINTS,
    REPEAT_VIOLATIONS,
    REVENUE_DROP,
    SURPLUS_NOT_TRANSFERRED,
    UNIT_BEHIND_QUOTA,
    ZERO_REVENUE_WITH_FACILITIES,
    WarningRules,
    complaint_without_feedback,
    feedback_due_on,
    unit_behind_quota,
)
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.domain.warnings.unit_inspections import UnitInspections
from casework.entrypoints.consumers import WARNINGS, subscriptions
from pubrev_contracts.topics import CASEWORK_EVENTS, DISCLOSURE_EVENTS, INSPECTION_EVENTS
from pubrev_contracts.vocabulary.calendar import CHINA, SHANGHAI, CalendarNotConfigured, Quarter
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE
from pubrev_contracts.vocabulary.sources import LOCAL, WORK_PLAN
from servicekit.errors import Conflict, NotFound, PermissionDenied, RuleViolated
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import (
    IN_MEMORY,
    OFFICER,
    app_with_vault,
    close_complaint,
    complaint,
)

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
WHEN = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)
CODE = "LC-0001"
COMPANY = "91350200776049653A"
BUREAU = Identity("property-bureau", "officer", "licheng", "lin")
_deliveries = itertools.count(1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CaseworkApplication:
    return app_with_vault(clock)


_ids = itertools.count(1)


def acknowledge(
    app: CaseworkApplication, identity: Identity, warning_id: str, note: str
) -> SupervisionWarning:
    app.handle(identity, AcknowledgeWarning(f"k{next(_ids)}", warning_id, note))
    return app.warning(warning_id)


def close(
    app: CaseworkApplication, identity: Identity, warning_id: str, evidence: list[str], note: str
) -> SupervisionWarning:
    app.handle(identity, CloseWarning(f"c{next(_ids)}", warning_id, tuple(evidence), note))
    return app.warning(warning_id)


def delivery(aggregate: str = "", version: int = 1) -> DeliveryRef:
    return DeliveryRef(WARNINGS, aggregate or f"upstream-{next(_deliveries)}", version)


def raised(app: CaseworkApplication, rule: str | None = None) -> list[SupervisionWarning.Raised]:
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100_000)]
    return [
        e
        for e in events
        if isinstance(e, SupervisionWarning.Raised) and (rule is None or e.rule == rule)
    ]


def file(
    app: CaseworkApplication,
    year: int,
    quarter: int,
    income: int,
    cost: int = 0,
    surplus: int | None = None,
    transferred: int | None = None,
    zero: bool = False,
    code: str = CODE,
    ref: DeliveryRef | None = None,
    revision: int = 0,
    expenditure: int = 0,
) -> bool:
    surplus = income - cost - expenditure if surplus is None else surplus
    transferred = surplus if transferred is None else transferred
    figures = QuarterFigures(
        year, quarter, revision, income, cost, surplus, transferred, expenditure, zero, False
    )
    return on_disclosure(
        app,
        ref or delivery(),
        community_code=code,
        unit="licheng",
        company=COMPANY,
        figures=figures,
    )


def register(
    app: CaseworkApplication,
    elevators: int = 0,
    gates: int = 0,
    leasable: bool = False,
    code: str = CODE,
) -> bool:
    return on_community_registered(
        app,
        delivery(),
        community_code=code,
        unit="licheng",
        company=COMPANY,
        elevators=elevators,
        barrier_gates=gates,
        leasable_space=leasable,
    )


def only(app: CaseworkApplication, rule: str) -> SupervisionWarning:
    events = raised(app, rule)
    assert len(events) == 1, events
    warning = app.find(events[0].originator_id, SupervisionWarning)
    assert warning is not None
    return warning


# -- disclosure rules ----------------------------------------------------------------------


def test_overdue_disclosure_warns_once(app: CaseworkApplication) -> None:
    ref = delivery("community-1", 2)
    assert on_disclosure_overdue(
        app, ref, community_code=CODE, unit="licheng", company=COMPANY, year=2026, quarter=1
    )
    assert not on_disclosure_overdue(
        app, ref, community_code=CODE, unit="licheng", company=COMPANY, year=2026, quarter=1
    )  # redelivered
    # The same overdue quarter reported again (another event): still one warning.
    assert on_disclosure_overdue(
        app,
        delivery("community-1", 3),
        community_code=CODE,
        unit="licheng",
        company=COMPANY,
        year=2026,
        quarter=1,
    )
    warning = only(app, DISCLOSURE_OVERDUE)
    assert (warning.unit, warning.subject_kind, warning.subject, warning.period) == (
        "licheng",
        "community",
        CODE,
        "2026Q1",
    )
    assert warning.id == SupervisionWarning.create_id(DISCLOSURE_OVERDUE, CODE, "2026Q1")
    assert warning.raised_at == WHEN and warning.status == "raised"
    on_disclosure_overdue(
        app, delivery(), community_code=CODE, unit="licheng", company=COMPANY, year=2026, quarter=2
    )
    assert len(raised(app, DISCLOSURE_OVERDUE)) == 2  # another period, another warning


@pytest.mark.parametrize(
    ("elevators", "gates", "leasable", "warns"),
    [
        (0, 0, False, False),
        (1, 0, False, True),
        (0, 1, False, True),
        (0, 0, True, True),
    ],
)
def test_zero_revenue_with_facilities(
    app: CaseworkApplication,
    elevators: int,
    gates: int,
    leasable: bool,
    warns: bool,
) -> None:
    register(app, elevators, gates, leasable)
    file(app, 2026, 1, 0, zero=True)
    assert len(raised(app, ZERO_REVENUE_WITH_FACILITIES)) == int(warns)
    assert raised(app, ZERO_REVENUE_WITH_FACILITIES) == raised(app)  # nothing else


def test_revenue_with_facilities_is_no_warning(app: CaseworkApplication) -> None:
    register(app, elevators=6, gates=2, leasable=True)
    file(app, 2026, 1, 1)
    assert raised(app) == []


def test_registration_after_a_zero_revenue_filing_still_warns(app: CaseworkApplication) -> None:
    # Different aggregates, different partitions: the filing may arrive first.
    file(app, 2026, 1, 0, zero=True)
    assert raised(app) == []
    register(app, elevators=2)
    assert only(app, ZERO_REVENUE_WITH_FACILITIES).period == "2026Q1"
    file(app, 2026, 1, 0, zero=True, revision=1)  # amended, still zero: same warning
    assert len(raised(app)) == 1


@pytest.mark.parametrize(("income", "warns"), [(4_999, True), (5_000, False), (5_001, False)])
def test_revenue_drop_at_half_the_average(
    app: CaseworkApplication, income: int, warns: bool
) -> None:
    file(app, 2025, 3, 8_000)
    file(app, 2025, 4, 12_000)  # average 10,000
    file(app, 2026, 1, income)
    assert len(raised(app, REVENUE_DROP)) == int(warns)
    if warns:
        details = only(app, REVENUE_DROP).details
        assert details["average_fen"] == 10_000
        assert details["compared_quarters"] == ["2025Q4", "2025Q3"]


def test_revenue_drop_needs_two_previous_quarters(app: CaseworkApplication) -> None:
    file(app, 2025, 4, 10_000)
    file(app, 2026, 1, 0)
    assert raised(app, REVENUE_DROP) == []


def test_revenue_drop_averages_the_four_previous_quarters(app: CaseworkApplication) -> None:
    file(app, 2024, 4, 1_000_000)  # 2025's quarters drop against it, 2026's do not
    for quarter, income in zip((1, 2, 3, 4), (4_000, 16_000, 10_000, 10_000), strict=True):
        file(app, 2025, quarter, income)
    file(app, 2026, 1, 5_000)  # exactly half of 10,000 (2025Q1–Q4): no drop
    assert [e.period for e in raised(app, REVENUE_DROP)] == ["2025Q2", "2025Q3", "2025Q4"]
    file(app, 2026, 2, 4_999)  # vs 2025Q2–2026Q1: 41,000 / 4 = 10,250
    (event,) = [e for e in raised(app, REVENUE_DROP) if e.period == "2026Q2"]
    assert event.details["average_fen"] == 10_250


def test_previous_quarters_cross_the_year() -> None:
    assert previous_quarters(Quarter(2026, 2), 4) == [
        Quarter(2026, 1),
        Quarter(2025, 4),
        Quarter(2025, 3),
        Quarter(2025, 2),
    ]


@pytest.mark.parametrize(("cost", "warns"), [(7_999, False), (8_000, False), (8_001, True)])
def test_cost_ratio_above_eighty_percent(app: CaseworkApplication, cost: int, warns: bool) -> None:
    file(app, 2026, 1, 10_000, cost)
    assert len(raised(app, COST_RATIO)) == int(warns)
    assert len(raised(app)) == int(warns)


def test_cost_ratio_needs_income(app: CaseworkApplication) -> None:
    file(app, 2026, 1, 0, cost=500, transferred=0, zero=True)
    assert raised(app, COST_RATIO) == []


@pytest.mark.parametrize(
    ("surplus", "transferred", "warns"),
    [
        (1, 0, True),
        (0, 0, False),
        (100, 1, False),
    ],
)
def test_surplus_not_transferred(
    app: CaseworkApplication, surplus: int, transferred: int, warns: bool
) -> None:
    file(app, 2026, 1, surplus, 0, surplus, transferred)
    assert len(raised(app, SURPLUS_NOT_TRANSFERRED)) == int(warns)


def test_a_disclosure_warning_is_raised_once(app: CaseworkApplication) -> None:
    ref = delivery("disclosure-1", 1)
    assert file(app, 2026, 1, 10_000, 9_000, ref=ref)
    assert not file(app, 2026, 1, 10_000, 9_000, ref=ref)  # redelivered: nothing
    # An amendment with the condition still holding: the facts change, the warning stays.
    assert file(app, 2026, 1, 10_000, 9_500, ref=delivery("disclosure-1", 2), revision=1)
    warning = only(app, COST_RATIO)
    assert warning.version == 1 and warning.details["cost_fen"] == 9_000
    file(app, 2026, 2, 10_000, 9_000)  # the next quarter warns on its own
    assert len(raised(app, COST_RATIO)) == 2


def test_an_older_revision_arriving_late_changes_nothing(app: CaseworkApplication) -> None:
    file(app, 2026, 1, 10_000, 1_000, revision=2)
    file(app, 2026, 1, 10_000, 9_000, revision=1)
    assert raised(app) == []


# -- complaints ----------------------------------------------------------------------------

T0 = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # 1 April, 10:00 Shanghai (2026Q2)


def complain(
    app: CaseworkApplication, at: datetime, ref: DeliveryRef | None = None, code: str = CODE
) -> bool:
    return on_complaint_received(
        app, ref or delivery(), community_code=code, unit="licheng", received_at=at
    )


@pytest.mark.parametrize(
    ("third", "warns"),
    [
        (timedelta(days=89), True),
        (timedelta(days=90), True),
        (timedelta(days=90, seconds=1), False),
    ],
)
def test_three_complaints_within_ninety_days(
    app: CaseworkApplication, third: timedelta, warns: bool
) -> None:
    complain(app, T0)
    complain(app, T0 + timedelta(days=10))
    assert raised(app) == []  # two are not a pattern
    complain(app, T0 + third)
    assert len(raised(app, REPEAT_COMPLAINTS)) == int(warns)
    if warns:
        assert only(app, REPEAT_COMPLAINTS).period == "2026Q2"


def test_repeat_complaints_once_per_quarter(app: CaseworkApplication) -> None:
    ref = delivery("case-3")
    complain(app, T0)
    complain(app, T0 + timedelta(days=10))
    assert complain(app, T0 + timedelta(days=20), ref)
    assert not complain(app, T0 + timedelta(days=20), ref)  # redelivered
    complain(app, T0 + timedelta(days=50))  # the condition again, same quarter
    assert len(raised(app, REPEAT_COMPLAINTS)) == 1
    facts = app.find(CommunityFacts.create_id(CODE), CommunityFacts)
    assert facts is not None and len(facts.complaints) == 4  # the redelivery was not noted
    complain(app, T0 + timedelta(days=95))  # 1 July Shanghai: 2026Q3
    assert [e.period for e in raised(app, REPEAT_COMPLAINTS)] == ["2026Q2", "2026Q3"]


def test_a_complaint_about_no_community_counts_for_none(app: CaseworkApplication) -> None:
    ref = delivery()
    assert complain(app, T0, ref, code="")
    assert not complain(app, T0, ref, code="")
    assert raised(app) == [] and app.already_applied(ref)


# T0 is 1 April 2026 10:00 Shanghai: 15 days end with 16 April (a Thursday), at 24:00.
END_OF_16_APRIL = timedelta(days=15, hours=14)


@pytest.mark.parametrize(
    ("feedback_after", "now_after", "due"),
    [
        (None, END_OF_16_APRIL - timedelta(seconds=1), False),
        (None, END_OF_16_APRIL, True),
        (timedelta(days=14), timedelta(days=100), False),
        (END_OF_16_APRIL - timedelta(seconds=1), timedelta(days=100), False),
        (END_OF_16_APRIL, timedelta(days=100), True),
    ],
)
def test_complaint_without_feedback(
    feedback_after: timedelta | None, now_after: timedelta, due: bool
) -> None:
    """complaint_without_feedback (plan 五（三）: 处理结果应同步反馈投诉人; 15 days local
    configuration): the period's last day lasts until 24:00 Shanghai (民法典 Art. 201, 203)."""
    feedback_at = None if feedback_after is None else T0 + feedback_after
    details = complaint_without_feedback(
        "c", "licheng", CODE, T0, feedback_at, T0 + now_after, DEFAULT_RULES
    )
    assert (details is not None) == due
    if details is not None:
        assert details.details["feedback_due_on"] == "2026-04-16"


@pytest.mark.parametrize(
    ("received", "due_on"),
    [
        # 15 days from 16 September 2026 end on 1 October, inside the National Day holiday
        # (1–7 October 2026): the feedback is due on Thursday 8 October.
        (datetime(2026, 9, 16, 10, 0, tzinfo=SHANGHAI), date(2026, 10, 8)),
        # 15 days from 13 January 2025 end on 28 January, the first day of the Spring Festival
        # holiday (28 January – 4 February 2025): due on Wednesday 5 February.
        (datetime(2025, 1, 13, 9, 0, tzinfo=SHANGHAI), date(2025, 2, 5)),
    ],
)
def test_feedback_deadline_ends_on_a_working_day(received: datetime, due_on: date) -> None:
    """The complaint feedback period ends on a working day by the State Council's holiday
    calendar (pubrev_contracts.vocabulary.calendar.CHINA.add_days; 民法典 Art. 201, 203)."""
    assert feedback_due_on(received, DEFAULT_RULES) == due_on
    last_moment = datetime.combine(due_on, time(23, 59, 59), SHANGHAI)
    assert (
        complaint_without_feedback("c", "licheng", CODE, received, None, last_moment, DEFAULT_RULES)
        is None
    )
    details = complaint_without_feedback(
        "c", "licheng", CODE, received, None, last_moment + timedelta(seconds=1), DEFAULT_RULES
    )
    assert details is not None and details.details["feedback_due_on"] == due_on.isoformat()
    assert details.details["calendar_version"] == CHINA.version


def received(app: CaseworkApplication, clock: FakeClock, at: datetime, request_id: str) -> str:
    """A complaint case received at `at` (the service's clock set to it)."""
    clock.now = at
    case_id: str = app.handle(OFFICER, replace(complaint(request_id), received_at=at)).case_id
    return case_id


def test_a_feedback_deadline_in_2027_is_an_explicit_error_the_sweep_moves_on(
    app: CaseworkApplication,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """2027's holidays are not entered (its State Council notice is not available): a feedback
    deadline in 2027 raises CalendarNotConfigured rather than being guessed, and the hourly
    sweep logs that complaint and judges the others."""
    late_december = datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI)  # 15 days: 4 Jan 2027
    with pytest.raises(CalendarNotConfigured):
        complaint_without_feedback(
            "c",
            "licheng",
            CODE,
            late_december,
            None,
            datetime(2027, 1, 6, tzinfo=SHANGHAI),
            DEFAULT_RULES,
        )
    overdue = received(app, clock, datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI), "c1")
    stuck = received(app, clock, late_december, "c2")
    clock.now = datetime(2027, 1, 6, 9, 0, tzinfo=SHANGHAI)
    with caplog.at_level("WARNING"):
        assert sweep_complaint_feedback(app) == 1
    assert [e.subject for e in raised(app, COMPLAINT_WITHOUT_FEEDBACK)] == [overdue]
    assert stuck in caplog.text and "2027" in caplog.text


def test_complaint_without_feedback_raised_once_by_the_sweep(
    app: CaseworkApplication, clock: FakeClock
) -> None:
    """Each open complaint whose complainant was not told the result in time is warned about
    once; one told in time is not, nor one closed, nor a rectification case (nobody
    complained)."""
    case_id = received(app, clock, T0, "c1")
    told = received(app, clock, T0, "c2")
    for command in (
        StartInvestigation("i", told),
        ResolveCase("r", told, "已责令公示"),
        GiveFeedback("f", told, "phone", "已电话告知"),
    ):
        app.handle(OFFICER, command)
    close_complaint(app, received(app, clock, T0, "c3"), "c3-")
    on_rectification_ordered(
        app,
        delivery(),
        finding_id="finding-1",
        unit="licheng",
        community_code=CODE,
        company_uscc=COMPANY,
        kind="B6",
        deadline=T0 + timedelta(days=3),
        found_at=T0,
    )
    clock.now = T0 + END_OF_16_APRIL - timedelta(seconds=1)
    assert sweep_complaint_feedback(app) == 0
    clock.now = T0 + timedelta(days=16)
    assert sweep_complaint_feedback(app) == 1
    assert sweep_complaint_feedback(app) == 0
    warning = only(app, "complaint_without_feedback")
    assert (warning.subject_kind, warning.subject, warning.unit) == ("case", case_id, "licheng")
    assert warning.details["community_code"] == "LC-0001"
    assert warning.period == "2026-04-01" and warning.details["feedback_at"] == ""


# -- inspection ----------------------------------------------------------------------------


def find(
    app: CaseworkApplication,
    at: datetime,
    finding: str = "",
    unit: str = "licheng",
    ref: DeliveryRef | None = None,
) -> bool:
    finding = finding or f"finding-{next(_deliveries)}"
    return on_violation_found(
        app,
        ref or delivery(finding),
        community_code=CODE,
        kind="B6",
        company=COMPANY,
        unit=unit,
        finding_id=finding,
        found_at=at,
    )


@pytest.mark.parametrize(
    ("second", "warns"),
    [
        (timedelta(days=364), True),
        (timedelta(days=365), True),
        (timedelta(days=365, seconds=1), False),
    ],
)
def test_two_findings_within_a_year(
    app: CaseworkApplication, second: timedelta, warns: bool
) -> None:
    find(app, WHEN)
    assert raised(app) == []
    find(app, WHEN + second)
    assert len(raised(app, REPEAT_VIOLATIONS)) == int(warns)
    if warns:
        warning = only(app, REPEAT_VIOLATIONS)
        assert (warning.subject_kind, warning.subject, warning.unit) == (
            "company",
            COMPANY,
            "licheng",
        )
        assert warning.period == str((WHEN + second).year)
        assert len(warning.details["finding_ids"]) == 2


def test_one_finding_delivered_twice_counts_once(app: CaseworkApplication) -> None:
    ref = delivery("finding-x")
    assert find(app, WHEN, "finding-x", ref=ref)
    assert not find(app, WHEN, "finding-x", ref=ref)  # the same delivery
    assert find(app, WHEN, "finding-x", ref=delivery("finding-x", 2))  # a re-send
    assert raised(app) == []
    find(app, WHEN + timedelta(days=1))
    find(app, WHEN + timedelta(days=2))  # three now, same year: still one warning
    assert len(raised(app, REPEAT_VIOLATIONS)) == 1


def test_findings_in_two_units_are_the_citys_warning(app: CaseworkApplication) -> None:
    find(app, WHEN, unit="licheng")
    find(app, WHEN + timedelta(days=1), unit="xianyou")
    warning = only(app, REPEAT_VIOLATIONS)
    assert warning.unit == "putian"
    with pytest.raises(PermissionDenied):
        acknowledge(app, BUREAU, str(warning.id), "")
    city = Identity("property-bureau", "officer", "putian")
    assert acknowledge(app, city, str(warning.id), "").status == "acknowledged"


def test_rectification_overdue_warns_once(app: CaseworkApplication) -> None:
    deadline = datetime(2026, 7, 5, 18, 0, tzinfo=UTC)  # 6 July, 02:00 Shanghai
    ref = delivery("finding-1", 3)
    assert on_rectification_overdue(
        app,
        ref,
        finding_id="finding-1",
        unit="licheng",
        community_code=CODE,
        company=COMPANY,
        kind="B6",
        deadline=deadline,
    )
    assert not on_rectification_overdue(
        app,
        ref,
        finding_id="finding-1",
        unit="licheng",
        community_code=CODE,
        company=COMPANY,
        kind="B6",
        deadline=deadline,
    )
    warning = only(app, RECTIFICATION_OVERDUE)
    case_id = str(Case.create_id("rectification:finding-1"))  # the case the finding opened
    assert (warning.subject_kind, warning.subject, warning.period) == (
        "case",
        case_id,
        "2026-07-06",
    )
    assert warning.details["finding_id"] == "finding-1"


# -- acknowledge and close -----------------------------------------------------------------


@pytest.fixture
def warning_id(app: CaseworkApplication) -> str:
    on_disclosure_overdue(
        app, delivery(), community_code=CODE, unit="licheng", company=COMPANY, year=2026, quarter=1
    )
    return str(only(app, DISCLOSURE_OVERDUE).id)


def test_close_needs_evidence(app: CaseworkApplication, warning_id: str) -> None:
    for evidence in ([], ["", "  "]):
        with pytest.raises(RuleViolated):
            close(app, BUREAU, warning_id, evidence, "已公示")
    assert app.warning(warning_id).status == "raised"


def test_acknowledge_then_close_with_evidence(
    app: CaseworkApplication, clock: FakeClock, warning_id: str
) -> None:
    acknowledged = acknowledge(app, BUREAU, warning_id, "已督促企业补报")
    assert acknowledged.status == "acknowledged" and acknowledged.acknowledged_at == WHEN
    assert acknowledged.acknowledged_by == BUREAU.render()
    with pytest.raises(RuleViolated):
        acknowledge(app, BUREAU, warning_id, "again")
    clock.now = WHEN + timedelta(days=3)
    closed = close(
        app, BUREAU, warning_id, [" photo-1.jpg ", "disclosure-2026Q1.pdf"], "已补报并张贴公示"
    )
    assert closed.status == "closed" and closed.closed_at == WHEN + timedelta(days=3)
    assert closed.evidence_refs == ["photo-1.jpg", "disclosure-2026Q1.pdf"]
    with pytest.raises(RuleViolated):
        close(app, BUREAU, warning_id, ["more.jpg"], "")
    with pytest.raises(RuleViolated):
        acknowledge(app, BUREAU, warning_id, "")


def test_close_without_acknowledging_first(app: CaseworkApplication, warning_id: str) -> None:
    assert close(app, BUREAU, warning_id, ["p.jpg"], "").status == "closed"


def test_a_retried_close_returns_the_first_result(
    app: CaseworkApplication, warning_id: str
) -> None:
    command = CloseWarning("r1", warning_id, ("p.jpg",), "ok")
    first = app.handle(BUREAU, command)
    assert app.handle(BUREAU, command) == first == WarningClosed(warning_id, 2)
    assert app.warning(warning_id).version == 2


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        (BUREAU, True),
        (Identity("property-bureau", "officer", "putian"), True),
        (Identity("discipline", "supervisor", "licheng"), True),
        (Identity("discipline", "supervisor", "putian"), True),
        (Identity("property-bureau", "officer", "xianyou"), False),
        (Identity("discipline", "supervisor", "xianyou"), False),
        (Identity("township", "officer", "licheng"), False),
        (Identity("police", "investigator", "licheng", "putian-psb-licheng"), False),
        (Identity("credit-office", "officer", "putian"), False),
        (Identity("property-company", "manager", "licheng", COMPANY), False),
    ],
)
def test_who_may_act_on_a_warning(
    app: CaseworkApplication, warning_id: str, identity: Identity, allowed: bool
) -> None:
    if allowed:
        assert queries.warning_view(app, identity, warning_id).id == uuid.UUID(warning_id)
        acknowledge(app, identity, warning_id, "")
        assert close(app, identity, warning_id, ["e.pdf"], "").status == "closed"
        return
    with pytest.raises(PermissionDenied):
        queries.warning_view(app, identity, warning_id)
    with pytest.raises(PermissionDenied):
        acknowledge(app, identity, warning_id, "")
    with pytest.raises(PermissionDenied):
        close(app, identity, warning_id, ["e.pdf"], "")
    assert app.warning(warning_id).status == "raised"


def test_unknown_warning(app: CaseworkApplication) -> None:
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(NotFound):
            app.warning(bad)


# -- versioned rules -----------------------------------------------------------------------


def test_the_rules_version_is_on_the_raised_event(clock: FakeClock) -> None:
    rules = WarningRules(version="test-2026.9", legal_basis="测试", cost_ratio_percent=50)
    app = CaseworkApplication(env=IN_MEMORY, clock=clock, warning_rules=rules)
    file(app, 2026, 1, 10_000, 5_001)  # above 50%, below the default 80%
    (event,) = raised(app, COST_RATIO)
    assert event.rules_version == "test-2026.9"
    assert event.details["threshold_percent"] == 50
    history = app.history(event.originator_id, 0, 10)
    assert history[0].payload["rules_version"] == "test-2026.9"


def test_default_rules_are_versioned_with_a_legal_basis() -> None:
    assert DEFAULT_RULES.version and DEFAULT_RULES.legal_basis
    assert (
        DEFAULT_RULES.revenue_drop_percent,
        DEFAULT_RULES.cost_ratio_percent,
        DEFAULT_RULES.repeat_complaints,
        DEFAULT_RULES.repeat_complaints_days,
        DEFAULT_RULES.feedback_days,
        DEFAULT_RULES.repeat_violations,
        DEFAULT_RULES.repeat_violations_days,
    ) == (50, 80, 3, 90, 15, 2, 365)


@pytest.mark.parametrize(
    "change",
    [
        {"version": " "},
        {"revenue_drop_percent": 0},
        {"repeat_complaints": 1},
        {"repeat_complaints": 33},
        {"revenue_min_history": 5},
        {"feedback_days": 0},
    ],
)
def test_bad_rules_are_refused(change: dict[str, Any]) -> None:
    values: dict[str, Any] = {"version": "v", "legal_basis": "x", **change}
    with pytest.raises(ValueError, match="bad"):
        WarningRules(**values)


# -- consumers over the golden samples -------------------------------------------------------


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return loaded


def test_subscriptions_map_the_contract_events(app: CaseworkApplication) -> None:
    warning_subscriptions = [s for s in subscriptions(app) if s.consumer.startswith(WARNINGS)]
    # One Kafka group per topic (one group over three topics rebalances needlessly).
    assert {s.consumer for s in warning_subscriptions} == {
        f"{WARNINGS}.disclosure",
        f"{WARNINGS}.inspection",
        f"{WARNINGS}.casework",
    }
    by_topic = {s.topic: s for s in warning_subscriptions}
    assert set(by_topic) == {DISCLOSURE_EVENTS, INSPECTION_EVENTS, CASEWORK_EVENTS}

    def deliver(topic: str, ce_type: str, **changes: Any) -> bool:
        model, handler = by_topic[topic].by_type[ce_type]
        body = {**sample(ce_type), **changes}
        event: Any = model.model_validate(body)
        ref = DeliveryRef(WARNINGS, str(event.aggregate_id), event.aggregate_version)
        return handler(event, ref)

    registered = "pubrev.disclosure.CommunityRegistered.v1"
    assert deliver(DISCLOSURE_EVENTS, registered)
    assert not deliver(DISCLOSURE_EVENTS, registered)  # redelivered
    filed = sample("pubrev.disclosure.DisclosureFiled.v1")
    zero = {
        **filed["figures"],
        "income": [],
        "income_total_fen": 0,
        "operating_cost_fen": 0,
        "expenditure_total_fen": 0,
        "surplus_fen": 0,
        "owners_share_fen": 0,
        "transferred_to_maintenance_fund_fen": 0,
    }
    assert deliver(
        DISCLOSURE_EVENTS, "pubrev.disclosure.DisclosureFiled.v1", figures=zero, zero_revenue=True
    )
    amended = sample("pubrev.disclosure.DisclosureAmended.v1")
    assert deliver(
        DISCLOSURE_EVENTS,
        "pubrev.disclosure.DisclosureAmended.v1",
        figures={
            **amended["figures"],
            "transferred_to_maintenance_fund_fen": 0,
            "owners_share_fen": amended["figures"]["surplus_fen"],
        },
    )
    assert deliver(DISCLOSURE_EVENTS, "pubrev.disclosure.DisclosureOverdue.v1")
    assert deliver(INSPECTION_EVENTS, "pubrev.inspection.ViolationFound.v1")
    assert deliver(
        INSPECTION_EVENTS, "pubrev.inspection.ViolationFound.v1", aggregate_id=str(uuid.uuid4())
    )
    assert deliver(INSPECTION_EVENTS, "pubrev.inspection.RectificationOverdue.v1")
    assert deliver(CASEWORK_EVENTS, "pubrev.casework.ComplaintReceived.v1")
    rules = sorted(e.rule for e in raised(app))
    assert rules == sorted(
        [
            ZERO_REVENUE_WITH_FACILITIES,
            SURPLUS_NOT_TRANSFERRED,
            DISCLOSURE_OVERDUE,
            REPEAT_VIOLATIONS,
            RECTIFICATION_OVERDUE,
        ]
    )
    overdue = only(app, RECTIFICATION_OVERDUE)
    finding = sample("pubrev.inspection.RectificationOverdue.v1")["aggregate_id"]
    assert overdue.details["finding_id"] == finding
    # The subject kinds are those the 智慧监督 feed accepts.
    feed = json.loads((SAMPLES.parent / "feeds" / "zhihui.schema.json").read_text())
    kinds = set(feed["properties"]["subject_kind"]["enum"])
    assert {e.subject_kind for e in raised(app)} <= kinds


# -- what the policy remembers -------------------------------------------------------------


def test_the_facts_keep_the_last_eight_quarters(app: CaseworkApplication) -> None:
    for n in range(10):
        file(app, 2024 + n // 4, n % 4 + 1, 10_000)
    facts = app.find(CommunityFacts.create_id(CODE), CommunityFacts)
    assert facts is not None
    assert sorted(facts.quarters) == [Quarter(2024 + n // 4, n % 4 + 1) for n in range(2, 10)]
    version = facts.version
    file(app, 2023, 4, 10_000)  # older than all kept: not noted
    facts = app.find(CommunityFacts.create_id(CODE), CommunityFacts)
    assert facts is not None and facts.version == version


def test_a_finding_of_no_known_company_is_only_tracked(app: CaseworkApplication) -> None:
    ref = delivery()
    assert on_violation_found(
        app,
        ref,
        community_code="",
        kind="",
        company="",
        unit="licheng",
        finding_id="finding-9",
        found_at=WHEN,
    )
    assert app.already_applied(ref) and raised(app) == []


def test_later_events_carry_unit_rule_and_subject(
    app: CaseworkApplication, warning_id: str
) -> None:
    # What a projection or the contract translation (WarningClosedV1) needs, in the event.
    acknowledge(app, BUREAU, warning_id, "收到")
    close(app, BUREAU, warning_id, ["p.jpg"], "已办结")
    entries = app.history(uuid.UUID(warning_id), 0, 10)
    assert [e.type for e in entries] == [
        "SupervisionWarning.Raised",
        "SupervisionWarning.Acknowledged",
        "SupervisionWarning.Closed",
    ]
    assert entries[1].payload["unit"] == "licheng"
    assert {k: entries[2].payload[k] for k in ("unit", "rule", "subject", "evidence_refs")} == {
        "unit": "licheng",
        "rule": DISCLOSURE_OVERDUE,
        "subject": CODE,
        "evidence_refs": ["p.jpg"],
    }


@pytest.mark.parametrize(
    ("checked", "raised"),
    # 23 August 2026 00:00 Shanghai: 39 of the 78 days from 15 July (the campaign's start)
    # to the end of 30 September; quota 100 → 50 expected by now, less the shared 10%
    # tolerance → 45 checked is on pace, 44 is behind.
    [(44, True), (45, False), (50, False)],
)
def test_unit_behind_quota_at_its_boundary(checked: int, raised: bool) -> None:
    """unit_behind_quota by vocabulary.pace.DEFAULT_PACE (plan 五（一）, 附件1 #11/#13)."""
    now = datetime(2026, 8, 23, tzinfo=SHANGHAI)
    due = unit_behind_quota("licheng", 2026, 100, checked, now, DEFAULT_RULES)
    assert (due is not None) is raised
    if due is not None:
        assert (due.period, due.details["expected_by_now"]) == ("2026-08", 50)
        assert due.details["tolerance_percent"] == DEFAULT_PACE.tolerance_percent
        assert due.details["pace_version"] == DEFAULT_PACE.version


def paced(clock: FakeClock) -> CaseworkApplication:
    return CaseworkApplication(env=IN_MEMORY, clock=clock)


def plan_with_checks(
    app: CaseworkApplication, unit: str, quota: int, checked: int, plan_id: str = ""
) -> str:
    plan_id = plan_id or f"plan-{unit}"
    assert on_spot_check_planned(
        app,
        DeliveryRef("w", plan_id, 1),
        kind="yearly",
        checked_unit="",
        plan_id=plan_id,
        unit=unit,
        year=2026,
        quota=quota,
    )
    for n in range(checked):
        assert on_spot_check_done(
            app,
            DeliveryRef("w", f"{plan_id}-c{n}", 1),
            plan_id=plan_id,
            community_code=f"{unit}-{n}",
        )
    return plan_id


def test_a_county_at_45_percent_at_year_end_is_behind() -> None:
    """The quota (≥ 50% of the county's communities, plan 四（三）) is a floor once the checks
    deadline (30 September, plan 五 and 附件1 #11/#13) has passed: 45 of 100 communities on
    31 December is behind, with no tolerance (pubrev_contracts.vocabulary.pace)."""
    clock = FakeClock(datetime(2026, 12, 31, 12, 0, tzinfo=SHANGHAI))
    app = paced(clock)
    plan_with_checks(app, "licheng", 50, 45)
    assert sweep_quota_pace(app, ["licheng"]) == 1
    warning = only(app, UNIT_BEHIND_QUOTA)
    assert (warning.unit, warning.subject_kind, warning.subject, warning.period) == (
        "licheng",
        "unit",
        "licheng",
        "2026-12",
    )
    assert {
        k: warning.details[k]
        for k in ("quota", "checked", "expected_by_now", "tolerance_percent", "pace_version")
    } == {
        "quota": 50,
        "checked": 45,
        "expected_by_now": 50,
        "tolerance_percent": 0,
        "pace_version": DEFAULT_PACE.version,
    }
    assert WORK_PLAN in warning.details["legal_basis"]


def test_a_county_on_pace_in_august_raises_nothing() -> None:
    """15 August 2026: 31 of 78 days → 20 of a quota of 50 expected; 20 checked is on pace."""
    clock = FakeClock(datetime(2026, 8, 15, tzinfo=SHANGHAI))
    app = paced(clock)
    plan_with_checks(app, "licheng", 50, 20)
    assert sweep_quota_pace(app, ["licheng"]) == 0
    assert raised(app) == []


def test_the_city_is_judged_on_its_own_checks() -> None:
    """The city checks ≥ 15% of all communities (DOMAIN.md §5, plan 四（三）): its yearly plan
    (unit putian) sets its pace, and its checks count for it, not for the county whose
    communities it checked; a check that arrives before its plan still counts."""
    clock = FakeClock(datetime(2026, 10, 15, tzinfo=SHANGHAI))
    app = paced(clock)
    early = DeliveryRef("w", "city-early-check", 1)
    assert on_spot_check_done(
        app, early, plan_id="plan-putian", community_code="CX-0099"
    )  # before the plan arrives
    plan_with_checks(app, "putian", 30, 28)
    plan_with_checks(app, "chengxiang", 10, 10)
    assert sweep_quota_pace(app, ["putian", "chengxiang"]) == 1
    warning = only(app, UNIT_BEHIND_QUOTA)
    assert (warning.unit, warning.subject) == ("putian", "putian")
    assert (warning.details["quota"], warning.details["checked"]) == (30, 29)


def test_quota_pace_sweep_raises_once_a_month(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(datetime(2026, 8, 23, tzinfo=SHANGHAI))
    app = paced(clock)
    plan_id = plan_with_checks(app, "licheng", 100, 10)
    on_spot_check_done(
        app, DeliveryRef("w", "check-again", 1), plan_id=plan_id, community_code="licheng-0"
    )  # same place
    assert sweep_quota_pace(app, ["licheng", "xianyou"]) == 1
    assert sweep_quota_pace(app, ["licheng"]) == 0  # once a month
    clock.now = datetime(2026, 9, 3, tzinfo=SHANGHAI)
    assert sweep_quota_pace(app, ["licheng"]) == 1
    assert only_period(app, UNIT_BEHIND_QUOTA, "2026-09").details["checked"] == 10
    # A year the pace does not know is logged, never guessed, and stops nothing.
    clock.now = datetime(2028, 8, 23, tzinfo=SHANGHAI)
    assert on_spot_check_planned(
        app,
        DeliveryRef("w", "p28", 1),
        kind="yearly",
        checked_unit="",
        plan_id="plan-2028",
        unit="licheng",
        year=2028,
        quota=100,
    )
    with caplog.at_level("WARNING"):
        assert sweep_quota_pace(app, ["licheng"]) == 0
    assert "2028" in caplog.text


def test_pace_follows_the_inspection_events(app: CaseworkApplication, clock: FakeClock) -> None:
    """SpotCheckPlanned of the city (unit putian) and of a county set their paces; a
    SpotCheckDone counts for the plan it names (plan_id), whatever its community's unit."""
    by_type = {t: h for s in subscriptions(app) for t, h in s.by_type.items()}
    plan_model, on_planned = by_type["pubrev.inspection.SpotCheckPlanned.v1"]
    done_model, on_done = by_type["pubrev.inspection.SpotCheckDone.v1"]
    city_plan = str(uuid.uuid4())
    planned: Any = plan_model.model_validate(
        {
            **sample("pubrev.inspection.SpotCheckPlanned.v1"),
            "aggregate_id": city_plan,
            "unit": "putian",
            "checked_unit": "putian",
            "communities": 200,
            "quota": 30,
        }
    )
    assert on_planned(planned, DeliveryRef(WARNINGS, city_plan, 1))
    done: Any = done_model.model_validate(
        {
            **sample("pubrev.inspection.SpotCheckDone.v1"),
            "plan_id": city_plan,
            "unit": "chengxiang",
            "community_code": "CX-0001",
        }
    )
    assert on_done(done, DeliveryRef(WARNINGS, str(done.aggregate_id), 1))
    # A cross check of chengxiang by licheng's team counts for chengxiang (plan 四（四）).
    county_plan, cross_plan = str(uuid.uuid4()), str(uuid.uuid4())
    assert on_planned(
        plan_model.model_validate(
            {
                **sample("pubrev.inspection.SpotCheckPlanned.v1"),
                "aggregate_id": county_plan,
                "unit": "chengxiang",
                "checked_unit": "chengxiang",
                "quota": 2,
            }
        ),
        DeliveryRef(WARNINGS, county_plan, 1),
    )
    assert on_planned(
        plan_model.model_validate(
            {
                **sample("pubrev.inspection.SpotCheckPlanned.v1"),
                "aggregate_id": cross_plan,
                "kind": "cross",
                "quarter": 3,
                "unit": "licheng",
                "checked_unit": "chengxiang",
                "quota": 5,
            }
        ),
        DeliveryRef(WARNINGS, cross_plan, 1),
    )
    for plan_id, code in ((county_plan, "CX-0002"), (cross_plan, "CX-0003")):
        checked: Any = done_model.model_validate(
            {
                **sample("pubrev.inspection.SpotCheckDone.v1"),
                "aggregate_id": str(uuid.uuid4()),
                "plan_id": plan_id,
                "unit": "chengxiang",
                "community_code": code,
            }
        )
        assert on_done(checked, DeliveryRef(WARNINGS, str(checked.aggregate_id), 1))
    clock.now = datetime(2026, 10, 2, tzinfo=SHANGHAI)
    assert sweep_quota_pace(app, ["putian", "chengxiang", "licheng"]) == 1
    warning = only(app, UNIT_BEHIND_QUOTA)  # chengxiang: 2 of 2 (own + cross), on pace
    assert (warning.unit, warning.details["checked"]) == ("putian", 1)


# -- deficit quarters ------------------------------------------------------------------------


def deficit_figures(income: int, cost: int, expenditure: int) -> dict[str, Any]:
    """DisclosureFiled figures of a deficit quarter: nothing left to distribute or transfer."""
    filed = sample("pubrev.disclosure.DisclosureFiled.v1")["figures"]
    lines = [{**filed["income"][0], "amount_fen": income}] if income else []
    return {
        **filed,
        "income": lines,
        "income_total_fen": income,
        "operating_cost_fen": cost,
        "expenditure_total_fen": expenditure,
        "surplus_fen": income - cost - expenditure,
        "owners_share_fen": 0,
        "transferred_to_maintenance_fund_fen": 0,
    }


def test_deficit_quarter_warns_once_per_community_and_quarter_through_the_consumer(
    app: CaseworkApplication,
) -> None:
    """deficit_quarter (DOMAIN.md §8 "identity broken, cost ratio far off"; plan 二（二）、二（四）:
    虚增项目列支, 虚增费用): cost and expenditure above income is warned about, once per
    community and quarter, with the figures; cost_ratio (80%, not exceeded here) and
    surplus_not_transferred (no surplus) stay silent."""
    by_type = {t: h for s in subscriptions(app) for t, h in s.by_type.items()}
    model, handler = by_type["pubrev.disclosure.DisclosureFiled.v1"]
    body = sample("pubrev.disclosure.DisclosureFiled.v1")
    event: Any = model.model_validate({**body, "figures": deficit_figures(10_000, 8_000, 5_000)})
    ref = DeliveryRef(WARNINGS, str(event.aggregate_id), 1)
    assert handler(event, ref)
    assert not handler(event, ref)  # redelivered
    amended_model, on_amended = by_type["pubrev.disclosure.DisclosureAmended.v1"]
    amended: Any = amended_model.model_validate(
        {
            **sample("pubrev.disclosure.DisclosureAmended.v1"),
            "community_code": body["community_code"],
            "year": body["year"],
            "quarter": body["quarter"],
            "figures": deficit_figures(10_000, 8_000, 6_000),
        }
    )
    assert on_amended(amended, DeliveryRef(WARNINGS, str(amended.aggregate_id), 2))
    warning = only(app, DEFICIT_QUARTER)  # the amendment, still a deficit: the same warning
    assert [e.rule for e in raised(app)] == [DEFICIT_QUARTER]
    assert (warning.unit, warning.subject_kind, warning.subject, warning.period) == (
        body["unit"],
        "community",
        body["community_code"],
        f"{body['year']}Q{body['quarter']}",
    )
    assert {
        k: warning.details[k] for k in ("income_fen", "cost_fen", "expenditure_fen", "deficit_fen")
    } == {"income_fen": 10_000, "cost_fen": 8_000, "expenditure_fen": 5_000, "deficit_fen": 3_000}
    assert WORK_PLAN in warning.details["legal_basis"]


def test_a_deficit_without_income_divides_by_nothing(app: CaseworkApplication) -> None:
    """cost_ratio needs income (no division by zero), surplus_not_transferred needs a surplus:
    on a zero-income deficit only deficit_quarter speaks (DOMAIN.md §8)."""
    file(app, 2026, 1, 0, cost=500, expenditure=200, transferred=0, zero=True)
    file(app, 2026, 2, 0, cost=500, expenditure=0, transferred=0, zero=True)
    assert [(e.rule, e.period) for e in raised(app)] == [
        (DEFICIT_QUARTER, "2026Q1"),
        (DEFICIT_QUARTER, "2026Q2"),
    ]
    assert only_period(app, DEFICIT_QUARTER, "2026Q1").details["deficit_fen"] == 700


def only_period(app: CaseworkApplication, rule: str, period: str) -> SupervisionWarning:
    (event,) = [e for e in raised(app, rule) if e.period == period]
    warning = app.find(event.originator_id, SupervisionWarning)
    assert warning is not None
    return warning


def test_a_deficit_warning_is_accepted_by_the_zhihui_feed() -> None:
    """The 智慧监督 feed schema (contracts/feeds/zhihui.schema.json) takes the new rule and its
    signed figures as the projector sends them."""
    schema = json.loads((SAMPLES.parent / "feeds" / "zhihui.schema.json").read_text())
    app = CaseworkApplication(env=IN_MEMORY, clock=FakeClock(WHEN))
    file(app, 2026, 1, 1_000, cost=900, expenditure=300, transferred=0)
    (event,) = raised(app, DEFICIT_QUARTER)
    record = feed_record(event)
    jsonschema.validate(record, schema)
    assert record["rule"] == DEFICIT_QUARTER and record["details"]["deficit_fen"] == 200


def test_a_stored_disclosure_note_without_expenditure_still_loads() -> None:
    """Stored events are data: a CommunityFacts.DisclosureNoted stored before expenditure was
    remembered upcasts, its expenditure derived from the identity every stored filing kept
    (income − cost − expenditure = surplus, DOMAIN.md §3)."""
    app = CaseworkApplication(env=IN_MEMORY)
    facts = CommunityFacts(CODE, "licheng")
    facts.note_disclosure(
        "licheng",
        COMPANY,
        QuarterFigures(2025, 4, 0, 10_000, 3_000, 5_000, 5_000, 2_000, False, False),
    )
    app.save(facts)
    (_, stored) = app.repository.event_store.recorder.select_events(facts.id)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["expenditure_fen"]
    old = replace(stored, state=json.dumps(state).encode())
    upcast = app.mapper.to_domain_event(old)
    assert isinstance(upcast, CommunityFacts.DisclosureNoted)
    assert upcast.expenditure_fen == 2_000


def test_every_rule_names_its_source() -> None:
    """Every warning rule cites the work plan by its real title (vocabulary.sources.WORK_PLAN)
    and marks the thresholds no text sets as local configuration (sources.LOCAL)."""
    assert DEFAULT_RULES.legal_basis.startswith(WORK_PLAN)
    assert "（2023）" not in DEFAULT_RULES.legal_basis  # the paraphrased title is gone
    for rule in (
        DISCLOSURE_OVERDUE,
        ZERO_REVENUE_WITH_FACILITIES,
        REVENUE_DROP,
        COST_RATIO,
        SURPLUS_NOT_TRANSFERRED,
        DEFICIT_QUARTER,
        REPEAT_COMPLAINTS,
        COMPLAINT_WITHOUT_FEEDBACK,
        RECTIFICATION_OVERDUE,
        REPEAT_VIOLATIONS,
        UNIT_BEHIND_QUOTA,
    ):
        basis = DEFAULT_RULES.basis(rule)
        assert basis.startswith(WORK_PLAN), rule
    for rule in (
        REVENUE_DROP,
        COST_RATIO,
        REPEAT_COMPLAINTS,
        REPEAT_VIOLATIONS,
        COMPLAINT_WITHOUT_FEEDBACK,
        ZERO_REVENUE_WITH_FACILITIES,
        DEFICIT_QUARTER,
    ):
        assert LOCAL in DEFAULT_RULES.basis(rule), rule
    assert "80%" in DEFAULT_RULES.basis(COST_RATIO)


# -- the sweeps' edges ---------------------------------------------------------------------------


def test_a_concurrent_sweep_that_raised_it_first_is_the_outcome_wanted(
    app: CaseworkApplication, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two projector replicas sweep at once: the second's commit conflicts on the warning's
    version 1; the warning exists, which is all that was wanted. A conflict on anything else
    is not swallowed."""
    received(app, clock, T0, "c1")
    clock.now = T0 + timedelta(days=16)
    record = app.record

    def raced(*objs: Any, **kwargs: Any) -> bool:
        record(*objs, **kwargs)  # the other replica's commit
        raise Conflict("raced", "并发")

    monkeypatch.setattr(app, "record", raced)
    assert sweep_complaint_feedback(app) == 0
    assert len(raised(app, COMPLAINT_WITHOUT_FEEDBACK)) == 1

    def refused(*objs: Any, **kwargs: Any) -> bool:
        raise Conflict("raced", "并发")

    received(app, clock, T0 + timedelta(days=2), "c2")
    clock.now = T0 + timedelta(days=30)
    monkeypatch.setattr(app, "record", refused)
    with pytest.raises(Conflict):
        sweep_complaint_feedback(app)


def test_a_cross_check_of_no_county_sets_no_pace(app: CaseworkApplication) -> None:
    ref = delivery("plan-x")
    assert not on_spot_check_planned(
        app,
        ref,
        plan_id="plan-x",
        kind="cross",
        unit="licheng",
        checked_unit="",
        year=2026,
        quota=3,
    )
    assert not app.already_applied(ref)


def test_no_quota_or_another_year_is_never_behind() -> None:
    august = datetime(2026, 8, 23, tzinfo=SHANGHAI)
    assert unit_behind_quota("licheng", 2026, 0, 0, august, DEFAULT_RULES) is None
    assert unit_behind_quota("licheng", 2025, 100, 0, august, DEFAULT_RULES) is None


def test_an_unknown_rule_has_no_basis() -> None:
    with pytest.raises(ValueError, match="unknown warning rule"):
        DEFAULT_RULES.basis("vibes")


def test_checks_noted_by_unit_before_plans_still_count(clock: FakeClock) -> None:
    """Stores written before checks were counted by plan hold CheckNoted events of the unit
    itself: replayed, they count with the plans' (each community once)."""
    clock.now = datetime(2026, 10, 2, tzinfo=SHANGHAI)
    app = paced(clock)
    plan_id = plan_with_checks(app, "licheng", 4, 1)  # licheng-0
    facts = app.find(UnitInspections.create_id("licheng", 2026), UnitInspections)
    assert facts is not None
    for code in ("licheng-0", "licheng-old"):
        facts.trigger_event(UnitInspections.CheckNoted, community_code=code)
    app.save(facts)
    assert plan_id in facts.plans and facts.checked == ["licheng-0", "licheng-old"]
    assert sweep_quota_pace(app, ["licheng"]) == 1
    assert only(app, UNIT_BEHIND_QUOTA).details["checked"] == 2
