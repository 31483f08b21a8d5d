"""Quarter close, audits, handovers, listings and rates on in-memory persistence with the
InMemoryDisclosureReadModel fake."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    ChangePropertyCompany,
    CloseQuarter,
    FileDisclosure,
    QuarterClosed,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.application.queries import disclosure_rate, list_disclosures
from disclosure.application.sweeps import latest_due_quarter
from disclosure.domain.community import Community
from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter
from servicekit.errors import PermissionDenied, RuleViolated
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
SUCCESSOR = "91110000600037341L"
OFFICER = Identity("property-bureau", "officer", "chengxiang")
XIANYOU = Identity("property-bureau", "officer", "xianyou")
CITY = Identity("property-bureau", "officer", "putian")


def content(income: int = 100_000) -> DisclosureContent:
    surplus = income - 20_000 - 10_000
    return DisclosureContent(
        (IncomeItem("parking", income),),
        20_000,
        (ExpenditureItem("维修", 10_000, "决议1"),),
        surplus,
        0,
        0,
        False,
        "专户",
        "林经理",
        "13905941234",
        date(2026, 4, 2),
        date(2026, 5, 10),
        ("signboard",),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 10, tzinfo=SHANGHAI))


@pytest.fixture
def app(clock: FakeClock) -> DisclosureApplication:
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    for uscc in (USCC, SUCCESSOR):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, "物业公司", ""))
    for n, unit in enumerate(["chengxiang"] * 3 + ["xianyou"]):
        identity = OFFICER if unit == "chengxiang" else XIANYOU
        app.handle(
            identity,
            RegisterCommunity(
                f"r{n}",
                f"C-{n}",
                "小区",
                "地址",
                unit,
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


def test_close_marks_each_missing_community_once(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    app.handle(OFFICER, FileDisclosure("f0", "C-0", 2026, 1, content()))
    with pytest.raises(RuleViolated):
        app.handle(CITY, CloseQuarter("close", 2026, 1))  # deadline (30 April) not passed
    clock.now = datetime(2026, 5, 1, tzinfo=SHANGHAI)
    assert app.handle(OFFICER, CloseQuarter("close", 2026, 1)) == QuarterClosed(
        marked_overdue=2, already_overdue=0, filed=1
    )  # its own unit only
    assert app.handle(CITY, CloseQuarter("close", 2026, 1)) == QuarterClosed(
        marked_overdue=1, already_overdue=2, filed=1
    )
    before = app.recorder.max_notification_id()
    assert app.handle(CITY, CloseQuarter("close", 2026, 1)).marked_overdue == 0
    assert app.recorder.max_notification_id() == before
    overdue = app.find(Community.create_id("C-1"), Community)
    assert overdue is not None and overdue.is_overdue(Quarter(2026, 1))


def test_late_filing_after_overdue_is_accepted(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 5, 3, tzinfo=SHANGHAI)
    app.handle(CITY, CloseQuarter("close", 2026, 1))
    result = app.handle(OFFICER, FileDisclosure("f1", "C-1", 2026, 1, content()))
    assert result.late is True


async def test_rates_per_unit(app: DisclosureApplication, clock: FakeClock) -> None:
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    app.handle(OFFICER, FileDisclosure("f0", "C-0", 2026, 1, content()))
    pending, _ = await disclosure_rate(app, CITY, "", 2026, 1)
    by_unit = {r.unit: r for r in pending}
    assert (by_unit["chengxiang"].pending, by_unit["chengxiang"].overdue) == (2, 0)
    clock.now = datetime(2026, 5, 2, tzinfo=SHANGHAI)
    app.handle(OFFICER, FileDisclosure("f1", "C-1", 2026, 1, content()))
    rates, _ = await disclosure_rate(app, OFFICER, "", 2026, 1)
    [unit] = rates
    assert (unit.unit, unit.communities, unit.on_time, unit.late, unit.overdue) == (
        "chengxiang",
        3,
        1,
        1,
        1,
    )
    assert (unit.rate_percent, unit.on_time_rate_percent) == ("66.67", "33.33")
    with pytest.raises(PermissionDenied):
        await disclosure_rate(app, XIANYOU, "chengxiang", 2026, 1)


async def test_listing_is_limited_to_the_callers_units(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    app.handle(OFFICER, FileDisclosure("f0", "C-0", 2026, 1, content()))
    app.handle(XIANYOU, FileDisclosure("f3", "C-3", 2026, 1, content()))
    assert [
        r.community_code for r in (await list_disclosures(app, CITY, "", 2026, 1, "", 10, ""))[0]
    ] == [
        "C-0",
        "C-3",
    ]
    assert [
        r.community_code for r in (await list_disclosures(app, OFFICER, "", 2026, 0, "", 10, ""))[0]
    ] == ["C-0"]
    page, token = await list_disclosures(app, CITY, "", 2026, 1, "", 1, "")
    assert [r.community_code for r in page] == ["C-0"] and token
    rest, last = await list_disclosures(app, CITY, "", 2026, 1, "", 1, token)
    assert [r.community_code for r in rest] == ["C-3"] and last == ""


def test_audit_threshold_is_a_fifth_of_households(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    filed = app.handle(OFFICER, FileDisclosure("f0", "C-0", 2026, 1, content()))
    owners = Identity("owners", "representative", "chengxiang", "C-0")
    with pytest.raises(RuleViolated):
        app.handle(owners, RequestAudit("q1", filed.disclosure_id, "owners", 19, "x"))
    ok = app.handle(owners, RequestAudit("q2", filed.disclosure_id, "owners", 20, "x"))
    committee = app.handle(
        Identity("owners-committee", "chair", "chengxiang", "C-0"),
        RequestAudit("q3", filed.disclosure_id, "owners_committee", 0, "x"),
    )
    assert (ok.version, committee.version) == (2, 3)


def test_handover_keeps_history(app: DisclosureApplication) -> None:
    app.handle(OFFICER, ChangePropertyCompany("h1", "C-0", SUCCESSOR, "2026-02-01", "业主大会决定"))
    community = app.find(Community.create_id("C-0"), Community)
    assert community is not None
    assert community.company_uscc == SUCCESSOR
    assert [uscc for uscc, _ in community.companies] == [USCC, SUCCESSOR]
    with pytest.raises(RuleViolated):
        app.handle(OFFICER, ChangePropertyCompany("h2", "C-0", SUCCESSOR, "2026-03-01", "again"))
    with pytest.raises(PermissionDenied):
        app.handle(
            XIANYOU, ChangePropertyCompany("h3", "C-1", SUCCESSOR, "2026-03-01", "not my unit")
        )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 4, 30, 23, 59, tzinfo=SHANGHAI), Quarter(2025, 4)),
        (datetime(2026, 5, 1, 0, 0, tzinfo=SHANGHAI), Quarter(2026, 1)),
        # 2025Q4 is due 31 Jan 2026, a Saturday: the deadline moves to Monday 2 February
        # (民法典 Art. 203), so on Sunday 1 February 2025Q3 is still the latest due.
        (datetime(2026, 2, 1, 0, 0, tzinfo=SHANGHAI), Quarter(2025, 3)),
        (datetime(2026, 2, 2, 23, 59, tzinfo=SHANGHAI), Quarter(2025, 3)),
        (datetime(2026, 2, 3, 0, 0, tzinfo=SHANGHAI), Quarter(2025, 4)),
        (datetime(2026, 1, 31, 12, 0, tzinfo=SHANGHAI), Quarter(2025, 3)),
        # Q4 2024: due 31 Jan 2025, inside the Spring Festival holiday → 5 February.
        (datetime(2025, 2, 5, 23, 59, tzinfo=SHANGHAI), Quarter(2024, 3)),
        (datetime(2025, 2, 6, 0, 0, tzinfo=SHANGHAI), Quarter(2024, 4)),
    ],
)
def test_latest_due_quarter(now: datetime, expected: Quarter) -> None:
    assert latest_due_quarter(now) == expected
    assert latest_due_quarter(now.astimezone(UTC)) == expected
