"""The disclosure deadline moved past rest days, through the application: filings, quarter
close, rates and the hourly sweep all use the same deadline.

Rule: due by the last day of the first month of the next quarter (DOMAIN.md §3; work plan
二（一）: 每季度第一个月的月底前), and a period whose last day is a rest day ends on the next
working day (《民法典》第二百零三条), by vocabulary.calendar.CHINA. A year the calendar has not
entered (2027) is CalendarNotConfigured (FAILED_PRECONDITION), never a guess.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    CloseQuarter,
    DisclosureFiled,
    FileDisclosure,
    QuarterClosed,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.application.queries import disclosure_rate
from disclosure.application.sweeps import close_latest_quarter, latest_due_quarter
from disclosure.domain.community import Community
from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from pubrev_contracts.vocabulary.calendar import SHANGHAI, CalendarNotConfigured, Quarter
from servicekit.errors import RuleViolated, as_service_error
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
OFFICER = Identity("property-bureau", "officer", "chengxiang")
CITY = Identity("property-bureau", "officer", "putian")
COMPANY = Identity("property-company", "filer", "chengxiang", USCC)


def content(posting_start: date) -> DisclosureContent:
    return DisclosureContent(
        (IncomeItem("parking", 100_000),),
        20_000,
        (ExpenditureItem("维修", 10_000, "决议1"),),
        70_000,
        0,
        0,
        False,
        "专户",
        "林经理",
        "0594-2345678",
        posting_start,
        date(posting_start.year, posting_start.month + 1, 28),
        ("signboard",),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 12, 1, tzinfo=SHANGHAI))


@pytest.fixture
def app(clock: FakeClock) -> DisclosureApplication:
    """Two communities of one unit registered on 1 December 2024."""
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    app.handle(CITY, RegisterCompany("co", USCC, "物业公司", ""))
    for code in ("C-1", "C-2"):
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "小区",
                "地址",
                "chengxiang",
                "350302",
                "街道",
                USCC,
                "物业",
                True,
                2,
                1,
                False,
                100,
            ),
        )
    return app


def file(
    app: DisclosureApplication, year: int, quarter: int, code: str = "C-1", request_id: str = "f1"
) -> DisclosureFiled:
    start = Quarter(year, quarter).next().first_day
    return app.handle(COMPANY, FileDisclosure(request_id, code, year, quarter, content(start)))


def overdue_events(app: DisclosureApplication) -> list[Community.DisclosureOverdue]:
    events = (app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10_000))
    return [e for e in events if isinstance(e, Community.DisclosureOverdue)]


async def test_q4_2024_filed_on_5_february_2025_is_on_time_and_never_overdue(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """THE case: Q4 2024 was due 31 January 2025, inside the Spring Festival holiday
    (28 Jan – 4 Feb 2025, 国务院办公厅关于2025年部分节假日安排的通知), so the deadline is
    5 February (民法典 Art. 203; DOMAIN.md §3; plan 二（一）). A filing on 5 February is on time,
    the quarter cannot be closed that day, and closing it after leaves no DisclosureOverdue
    for the community that filed."""
    clock.now = datetime(2025, 2, 5, 16, 30, tzinfo=SHANGHAI)
    result = file(app, 2024, 4)
    assert result.late is False

    with pytest.raises(RuleViolated) as early:
        app.handle(CITY, CloseQuarter("close", 2024, 4))
    assert "2025-02-05" in early.value.message

    [rate] = (await disclosure_rate(app, CITY, "chengxiang", 2024, 4))[0]
    assert (rate.on_time, rate.late, rate.overdue, rate.pending) == (1, 0, 0, 1)

    clock.now = datetime(2025, 2, 6, 0, 0, tzinfo=SHANGHAI)
    assert app.handle(CITY, CloseQuarter("close", 2024, 4)) == QuarterClosed(
        marked_overdue=1, already_overdue=0, filed=1
    )
    assert [(e.code, e.year, e.quarter) for e in overdue_events(app)] == [("C-2", 2024, 4)]
    [rate] = (await disclosure_rate(app, CITY, "chengxiang", 2024, 4))[0]
    assert (rate.on_time, rate.late, rate.overdue, rate.pending) == (1, 0, 1, 0)


def test_q4_2024_filed_on_6_february_2025_is_late(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2025, 2, 6, 0, 0, tzinfo=SHANGHAI)
    assert file(app, 2024, 4).late is True


def test_the_sweep_closes_q4_2024_only_after_5_february(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2025, 2, 5, 23, 0, tzinfo=SHANGHAI)
    assert latest_due_quarter(clock()) == Quarter(2024, 3)
    clock.now = datetime(2025, 2, 6, 1, 0, tzinfo=SHANGHAI)
    closed = close_latest_quarter(app)
    assert closed is not None and closed.marked_overdue == 2
    assert {(e.year, e.quarter) for e in overdue_events(app)} == {(2024, 4)}


# -- a deadline in a year the calendar lacks (2027) -----------------------------------------


def test_q4_2026_filed_in_january_2027_is_on_time_without_the_2027_calendar(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """A deadline only moves later (民法典 Art. 203): on or before the nominal 31 January the
    filing is on time whatever the 2027 holidays are, so it needs no guess."""
    clock.now = datetime(2027, 1, 31, 20, 0, tzinfo=SHANGHAI)
    assert file(app, 2026, 4).late is False


def test_q4_2026_filed_after_31_january_2027_is_refused_until_the_calendar_has_2027(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """Whether 1 February 2027 is late depends on the 2027 holidays, not yet entered: an
    explicit CalendarNotConfigured (a RuleViolated → FAILED_PRECONDITION), nothing written."""
    clock.now = datetime(2027, 2, 1, 9, 0, tzinfo=SHANGHAI)
    before = app.recorder.max_notification_id()
    with pytest.raises(CalendarNotConfigured) as refused:
        file(app, 2026, 4)
    assert isinstance(as_service_error(refused.value), RuleViolated)
    assert refused.value.year == 2027
    assert "2027" in refused.value.message and "2027" in refused.value.message_zh
    assert app.recorder.max_notification_id() == before


async def test_closing_q4_2026_before_31_january_2027_says_not_yet_without_guessing(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2027, 1, 20, tzinfo=SHANGHAI)
    with pytest.raises(RuleViolated) as early:
        app.handle(CITY, CloseQuarter("close", 2026, 4))
    assert not isinstance(early.value, CalendarNotConfigured)
    assert "2027-01-31, or the next working day" in early.value.message
    [rate] = (await disclosure_rate(app, CITY, "chengxiang", 2026, 4))[0]
    assert (rate.communities, rate.overdue, rate.pending) == (2, 0, 2)


async def test_closing_q4_2026_after_31_january_2027_is_calendar_not_configured(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2027, 2, 10, tzinfo=SHANGHAI)
    with pytest.raises(CalendarNotConfigured):
        app.handle(CITY, CloseQuarter("close", 2026, 4))
    with pytest.raises(CalendarNotConfigured):
        await disclosure_rate(app, CITY, "chengxiang", 2026, 4)
    assert overdue_events(app) == []


def test_the_sweep_logs_and_moves_on_when_the_year_is_not_entered(
    app: DisclosureApplication,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock.now = datetime(2027, 2, 10, tzinfo=SHANGHAI)
    assert close_latest_quarter(app) is None
    assert "2027" in caplog.text
    assert overdue_events(app) == []


def test_earlier_quarters_still_close_in_2027(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2027, 2, 10, tzinfo=SHANGHAI)
    counts = app.handle(CITY, CloseQuarter("close", 2026, 3))
    assert counts.marked_overdue == 2


def test_a_filing_in_an_entered_year_is_unaffected(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 11, 2, 23, 0, tzinfo=SHANGHAI)  # Q3 2026: 31 Oct Sat → 2 Nov
    assert file(app, 2026, 3).late is False
    clock.now = datetime(2026, 11, 3, 0, 0, tzinfo=SHANGHAI)
    assert file(app, 2026, 3, code="C-2", request_id="f2").late is True
