"""Case lifecycle, police isolation and crypto-shredding on in-memory persistence."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AcknowledgeReferral,
    AssignCase,
    CloseCase,
    FlagTypicalCase,
    GiveFeedback,
    ReadComplainant,
    RecordJointMeeting,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    ShredPersonalData,
    StartInvestigation,
)
from casework.domain import reporting
from casework.domain.case import Case
from casework.domain.reporting import monthly_report_due
from casework.entrypoints.consumers import subscriptions
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.calendar import SHANGHAI, CalendarNotConfigured
from pubrev_contracts.vocabulary.sources import WORK_PLAN
from servicekit.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
    as_service_error,
)
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import (
    NAME,
    OFFICER,
    PHONE,
    POLICE,
    WHEN,
    app_with_vault,
    complaint,
)

OTHER_POLICE = Identity("police", "investigator", "hanjiang", "putian-psb-hanjiang")
OTHER_UNIT = Identity("property-bureau", "officer", "xianyou")
CITY = Identity("property-bureau", "officer", "putian")
SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CaseworkApplication:
    return app_with_vault(clock)


def resolved(app: CaseworkApplication) -> str:
    case_id: str = app.handle(OFFICER, complaint()).case_id
    app.handle(OFFICER, StartInvestigation("i", case_id))
    app.handle(OFFICER, ResolveCase("r", case_id, "已责令整改"))
    return case_id


def test_no_close_without_feedback(app: CaseworkApplication) -> None:
    case_id = resolved(app)
    with pytest.raises(RuleViolated):
        app.handle(OFFICER, CloseCase("c1", case_id))
    app.handle(OFFICER, GiveFeedback("f", case_id, "phone", "已告知"))
    app.handle(OFFICER, CloseCase("c2", case_id))
    assert app.case(case_id).status == "closed"


def test_nothing_happens_to_a_closed_case(app: CaseworkApplication) -> None:
    case_id = resolved(app)
    app.handle(OFFICER, GiveFeedback("f", case_id, "phone", "已告知"))
    app.handle(OFFICER, CloseCase("c", case_id))
    for command in (
        AssignCase("after-assign", case_id, "licheng", "t", "a"),
        ResolveCase("after-resolve", case_id, "x"),
        RecordJointMeeting("after-meeting", case_id, "2026-06-01", ("公安",), "继续"),
    ):
        with pytest.raises(RuleViolated) as caught:
            app.handle(OFFICER, command)
        assert caught.value.message_zh == "案件已办结，不能再进行操作"


def test_feedback_needs_a_result_first(app: CaseworkApplication) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    with pytest.raises(RuleViolated):
        app.handle(OFFICER, GiveFeedback("f", case_id, "phone", "x"))


def test_overdue_after_the_time_limit(app: CaseworkApplication, clock: FakeClock) -> None:
    # 30 days from 6 May 2026 (the receiving day not counted): the last day is Friday
    # 5 June, which lasts until 24:00 in Putian (民法典 Art. 201).
    case_id = app.handle(OFFICER, complaint()).case_id
    clock.now = datetime(2026, 6, 5, 23, 59, 59, tzinfo=SHANGHAI)
    assert not queries.case_view(app, OFFICER, case_id).overdue
    clock.now = datetime(2026, 6, 6, 0, 0, 1, tzinfo=SHANGHAI)
    assert queries.case_view(app, OFFICER, case_id).overdue
    handed = app.handle(OFFICER, complaint("c2", "handed_down"))
    assert handed.due_at < app.handle(OFFICER, complaint("c3")).due_at


def test_complaint_time_limit_ends_on_a_working_day_civil_code_201_203(
    app: CaseworkApplication,
    clock: FakeClock,
) -> None:
    # Received 5 September 2026: 30 days end on Monday 5 October, inside the National Day
    # holiday (1–7 October, 国务院办公厅关于2026年部分节假日安排的通知): the limit runs to
    # the end of Thursday 8 October (民法典 Art. 203).
    received = datetime(2026, 9, 5, 10, 0, tzinfo=SHANGHAI)
    clock.now = received
    answer = app.handle(OFFICER, replace(complaint(), received_at=received))
    assert datetime.fromisoformat(answer.due_at) == datetime(2026, 10, 9, tzinfo=SHANGHAI)
    clock.now = datetime(2026, 10, 8, 23, 59, tzinfo=SHANGHAI)
    assert not queries.case_view(app, OFFICER, answer.case_id).overdue
    clock.now = datetime(2026, 10, 9, 0, 1, tzinfo=SHANGHAI)
    assert queries.case_view(app, OFFICER, answer.case_id).overdue


def test_a_time_limit_ending_in_an_unknown_year_is_provisional_then_explicit(
    app: CaseworkApplication,
    clock: FakeClock,
) -> None:
    # 30 days from 15 December 2026 end on 14 January 2027, a year the holiday calendar
    # does not have. The complaint is received (never refused for want of a calendar), with
    # the nominal day's end as a provisional deadline; past it the calendar must decide,
    # and an unknown year is an explicit error, not a guess.
    received = datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI)
    clock.now = received
    answer = app.handle(OFFICER, replace(complaint(), received_at=received))
    case = app.case(answer.case_id)
    assert case.due_provisional
    assert case.due_at == datetime(2027, 1, 15, tzinfo=SHANGHAI)
    clock.now = datetime(2027, 1, 14, 12, 0, tzinfo=SHANGHAI)
    assert not queries.case_view(app, OFFICER, answer.case_id).overdue
    clock.now = datetime(2027, 1, 15, 12, 0, tzinfo=SHANGHAI)
    with pytest.raises(CalendarNotConfigured):
        queries.case_view(app, OFFICER, answer.case_id)


def test_personal_data_only_for_the_handling_unit(app: CaseworkApplication) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    read = app.handle(OFFICER, ReadComplainant(case_id, "investigation"))
    assert (read.complainant_name, read.complainant_phone) == (NAME, PHONE)
    queries.case_view(app, CITY, case_id)  # the city reads the case, not the complainant
    with pytest.raises(PermissionDenied):
        app.handle(CITY, ReadComplainant(case_id, "investigation"))
    with pytest.raises(NotFound):  # another unit's case does not exist for it
        queries.case_view(app, OTHER_UNIT, case_id)
    with pytest.raises(NotFound):
        app.handle(OTHER_UNIT, ReadComplainant(case_id, "investigation"))
    sealed = app.case(case_id).sealed_personal_data
    assert NAME not in sealed and PHONE not in sealed


def test_shredding_makes_personal_data_unreadable_events_intact(
    app: CaseworkApplication,
) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    events_before = len(list(app.repository.event_store.get(app.case(case_id).id)))
    app.handle(OFFICER, ShredPersonalData("s", case_id))
    view = queries.case_view(app, OFFICER, case_id)
    read = app.handle(OFFICER, ReadComplainant(case_id, "feedback"))
    assert read.shredded and (read.complainant_name, read.complainant_phone, read.read_id) == (
        "",
        "",
        0,
    )
    assert view.case.shredded and not view.case.archived
    assert view.case.sealed_personal_data  # the ciphertext is still in the events
    assert len(list(app.repository.event_store.get(view.case.id))) == events_before + 1


def test_police_see_only_cases_referred_to_them(app: CaseworkApplication) -> None:
    referred = app.handle(OFFICER, complaint("c1")).case_id
    other = app.handle(OFFICER, complaint("c2")).case_id
    with pytest.raises(RuleViolated):
        app.handle(
            OFFICER,
            ReferToPolice(
                "p0", referred, "putian-psb-licheng", "embezzlement_by_staff", (), "no evidence"
            ),
        )
    app.handle(
        OFFICER,
        ReferToPolice(
            "p",
            referred,
            "putian-psb-licheng",
            "embezzlement_by_staff",
            ("ledger.pdf",),
            "疑似职务侵占",
        ),
    )
    queries.case_view(app, POLICE, referred)
    with pytest.raises(PermissionDenied):
        app.handle(POLICE, ReadComplainant(referred, "investigation"))
    with pytest.raises(NotFound):
        queries.case_view(app, POLICE, other)
    with pytest.raises(NotFound):
        queries.case_view(app, OTHER_POLICE, referred)
    with pytest.raises(NotFound):  # a case it may not read does not exist for it
        app.handle(OTHER_POLICE, AcknowledgeReferral("k0", referred))
    with pytest.raises(PermissionDenied):
        app.handle(OFFICER, AcknowledgeReferral("k1", referred))  # the bureau cannot
    with pytest.raises(PermissionDenied):
        app.handle(POLICE, ResolveCase("x", referred, "the police do not resolve cases"))
    app.handle(POLICE, AcknowledgeReferral("k", referred))
    app.handle(POLICE, ReportPoliceOutcome("o", referred, "filed", "立案"))
    assert app.case(referred).police_status == "filed"


def test_referred_case_waits_for_the_police_outcome(app: CaseworkApplication) -> None:
    case_id = resolved(app)
    app.handle(
        OFFICER,
        ReferToPolice("p", case_id, "putian-psb-licheng", "misappropriation", ("bank.pdf",), ""),
    )
    app.handle(OFFICER, GiveFeedback("f", case_id, "letter", "已告知"))
    with pytest.raises(RuleViolated):
        app.handle(OFFICER, CloseCase("c", case_id))
    app.handle(POLICE, AcknowledgeReferral("k", case_id))
    app.handle(POLICE, ReportPoliceOutcome("o", case_id, "not_filed", "不予立案"))
    app.handle(OFFICER, CloseCase("c2", case_id))
    assert app.case(case_id).status == "closed"


def test_joint_meeting_keeps_the_case_open(app: CaseworkApplication) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    meeting = RecordJointMeeting(
        "m", case_id, "2026-06-01", ("住建", "公安", "市场监管"), "联合调查"
    )
    app.handle(OFFICER, meeting)
    case = app.case(case_id)
    assert case.joint_meetings and case.status != "closed"
    app.handle(OFFICER, FlagTypicalCase("t", case_id, "典型案例通报"))
    assert app.case(case_id).typical


def test_complainant_landline_is_a_contact_number(app: CaseworkApplication) -> None:
    """Contact number rule (vocabulary.identifiers, DOMAIN.md §10, plan 四（二）联系电话): a
    landline
    with its area code is a phone number as much as a mobile; bad numbers are refused by
    field and rule, and nothing is written."""
    landline = replace(complaint("land"), complainant_phone="0594-2345678")
    case_id = app.handle(OFFICER, landline).case_id
    assert (
        app.handle(OFFICER, ReadComplainant(case_id, "feedback")).complainant_phone
        == "0594-2345678"
    )
    before = app.recorder.max_notification_id()
    for bad in ("2345678", "0594-0345678", "１３８００１３８０００", "1380013800"):
        with pytest.raises(InvalidArgument) as caught:
            app.handle(OFFICER, replace(complaint(f"bad-{bad}"), complainant_phone=bad))
        (violation,) = caught.value.violations
        assert (violation.field, violation.rule) == ("complainant_phone", contact.RULE)
        assert violation.description_zh == contact.DESCRIPTION_ZH
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("year", "month", "due_on"),
    [
        # 25 January 2025 is a Saturday; Sunday 26 January is a make-up working day before the
        # Spring Festival holiday (国务院办公厅2025年节假日安排): due that Sunday.
        (2025, 1, date(2025, 1, 26)),
        # 25–27 September 2026 are the Mid-Autumn holiday: due Monday 28 September.
        (2026, 9, date(2026, 9, 28)),
        # 25 October 2026 is a Sunday, after the National Day holiday: due Monday 26 October.
        (2026, 10, date(2026, 10, 26)),
        (2026, 11, date(2026, 11, 25)),  # a Wednesday: the 25th itself
    ],
)
def test_monthly_report_due_on_a_working_day(year: int, month: int, due_on: date) -> None:
    """Units report to the city by the 25th (plan 六（四）: 每月25日前; 附件2 #7, #36); on a
    rest day the deadline moves to the next working day (民法典 Art. 203, CHINA.period_end)."""
    assert monthly_report_due(year, month) == due_on
    assert WORK_PLAN in reporting.LEGAL_BASIS and "六（四）" in reporting.LEGAL_BASIS


async def test_a_2027_monthly_report_is_an_explicit_error(app: CaseworkApplication) -> None:
    """2027's holidays are not entered: the ledgers of a 2027 month are refused with
    CalendarNotConfigured (a RuleViolated: FAILED_PRECONDITION), before anything is read."""
    with pytest.raises(CalendarNotConfigured) as caught:
        await queries.monthly_ledgers(app, OFFICER, "licheng", 2027, 1)
    assert isinstance(as_service_error(caught.value), RuleViolated) and caught.value.year == 2027


def test_a_case_stored_before_the_calendar_loads_with_its_stored_deadline(
    app: CaseworkApplication,
) -> None:
    """Stored events are data: a Case.Received of v1 (received_at + N days, no nominal day)
    upcasts with its deadline as stored, and is overdue after it as before."""
    case_id = app.handle(OFFICER, complaint()).case_id
    (stored,) = app.repository.event_store.recorder.select_events(app.case(case_id).id)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 3
    del state["due_on"]
    del state["evidence"]  # v3 (issue 13): the complainant's files
    v1_due = WHEN + timedelta(days=30)
    state["due_at"] = {"_type_": "datetime_iso", "_data_": v1_due.isoformat()}
    upcast = app.mapper.to_domain_event(
        dataclasses.replace(stored, state=json.dumps(state).encode())
    )
    assert isinstance(upcast, Case.Received)
    case = upcast.mutate(None)
    assert isinstance(case, Case)
    assert case.due_on is None and not case.due_provisional
    assert case.deadline() == v1_due
    assert not case.is_overdue(v1_due) and case.is_overdue(v1_due + timedelta(seconds=1))


# -- rectification cases (consumer casework.rectification) ------------------------------------


def test_each_finding_opens_its_rectification_case_once(app: CaseworkApplication) -> None:
    """RectificationOrdered (inspection's topic) opens the finding's case with the deadline
    it orders, under the community's unit; the runner skips a delivery applied before, and
    a finding ordered again (another event) finds its case and is only tracked."""
    [subscription] = [s for s in subscriptions(app) if s.consumer == "casework.rectification"]
    model, handler = subscription.by_type["pubrev.inspection.RectificationOrdered.v1"]
    body = json.loads((SAMPLES / "pubrev.inspection.RectificationOrdered.v1.json").read_text())
    event: Any = model.model_validate(body)
    ref = DeliveryRef(subscription.consumer, str(event.aggregate_id), event.aggregate_version)
    assert handler(event, ref)
    assert not handler(event, ref)  # redelivered: skipped before the policy
    again = DeliveryRef(subscription.consumer, str(event.aggregate_id), 99)
    assert handler(event, again) and app.already_applied(again)
    case = app.case(str(Case.rectification_id(str(event.aggregate_id))))
    assert (case.kind, case.finding_id, case.unit, case.due_at) == (
        "rectification",
        str(event.aggregate_id),
        event.unit,
        event.deadline,
    )
    assert case.version == 1 and not case.sealed_personal_data


def test_an_application_without_its_ports_says_so() -> None:
    """Wiring mistakes are named: the bootstrap gives the vault, read log and read model."""
    bare = CaseworkApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for port in ("vault", "read_log", "read_model"):
        with pytest.raises(RuntimeError, match="see bootstrap"):
            getattr(bare, port)
