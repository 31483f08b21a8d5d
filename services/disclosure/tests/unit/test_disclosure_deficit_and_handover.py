"""Deficit quarters and handovers through the application, on in-memory persistence.

- Deficit (DOMAIN.md §3 identity; 《民法典》第二百八十二条: the owners' income is what is left
  after reasonable cost): a quarter whose cost and expenditure exceed its income is filed
  with its negative surplus, nothing distributed or transferred, and shows as a deficit on
  the read side, in GetDisclosure and on the wire.
- Handover (《民法典》第九百四十三条; DOMAIN.md §3: one disclosure per community and quarter):
  the company in charge on the quarter's last day files that quarter, even after a later
  handover; the incoming company files the quarters it ends in charge of. An overdue
  quarter is charged to the company that owed it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AmendDisclosure,
    ChangePropertyCompany,
    CloseQuarter,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.application.queries import get_disclosure, list_disclosures
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent, ExpenditureItem, IncomeItem
from pubrev_contracts.events.disclosure import DisclosureFiledV1, DisclosureOverdueV1
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter
from servicekit.errors import InvalidArgument, PermissionDenied
from servicekit.identity import Identity
from servicekit.testing import FakeClock

OUTGOING = "91350200776049653A"
INCOMING = "91110000600037341L"
OFFICER = Identity("property-bureau", "officer", "chengxiang")
CITY = Identity("property-bureau", "officer", "putian")
OUTGOING_CO = Identity("property-company", "filer", "chengxiang", OUTGOING)
INCOMING_CO = Identity("property-company", "filer", "chengxiang", INCOMING)


def content(cost: int = 20_000, owners: int = 70_000) -> DisclosureContent:
    """Income 100 000 − cost − expenditure 10 000; by default a surplus of 70 000."""
    return DisclosureContent(
        (IncomeItem("parking", 100_000),),
        cost,
        (ExpenditureItem("维修", 10_000, "决议1"),),
        owners,
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


def deficit() -> DisclosureContent:
    """Income 100 000 − cost 130 000 − expenditure 10 000 = −40 000 fen."""
    return content(cost=130_000, owners=0)


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
    for uscc in (OUTGOING, INCOMING):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, "物业公司", ""))
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
                OUTGOING,
                "物业",
                True,
                2,
                1,
                False,
                100,
            ),
        )
    return app


def filed_events(app: DisclosureApplication) -> list[object]:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10_000)]


# -- deficit ---------------------------------------------------------------------------------


async def test_a_deficit_quarter_is_filed_with_its_negative_surplus(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """民法典 Art. 282 / DOMAIN.md §3: filed, not refused; surplus −40 000 fen in the stored
    event, on the wire (DisclosureFiledV1.figures.surplus_fen), in the listing and in
    GetDisclosure, each showing the deficit."""
    clock.now = datetime(2026, 4, 15, tzinfo=SHANGHAI)
    result = app.handle(OUTGOING_CO, FileDisclosure("f1", "C-1", 2026, 1, deficit()))
    assert (result.late, result.deficit) == (False, True)

    [stored] = [e for e in filed_events(app) if isinstance(e, Disclosure.Filed)]
    assert DisclosureContent.from_state(stored.content).surplus_fen == -40_000
    wire = to_contract(stored)
    assert isinstance(wire, DisclosureFiledV1)
    assert wire.figures.surplus_fen == -40_000
    assert (
        wire.figures.owners_share_fen,
        wire.figures.company_share_fen,
        wire.figures.transferred_to_maintenance_fund_fen,
    ) == (0, 0, 0)

    [row], _ = await list_disclosures(app, OFFICER, "", 2026, 1, "", 0, "")
    assert (row.surplus_fen, row.deficit) == (-40_000, True)
    view = get_disclosure(app, OUTGOING_CO, result.disclosure_id, 0)
    assert view.content.surplus_fen == -40_000 and view.content.deficit


def test_a_deficit_with_a_transfer_is_refused_by_name_and_writes_nothing(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 4, 15, tzinfo=SHANGHAI)
    before = app.recorder.max_notification_id()
    bad = replace(deficit(), transferred_to_maintenance_fund_fen=5_000)
    with pytest.raises(InvalidArgument) as refused:
        app.handle(OUTGOING_CO, FileDisclosure("f1", "C-1", 2026, 1, bad))
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("content.transferred_to_maintenance_fund_fen", "deficit_not_distributable")
    ]
    assert app.recorder.max_notification_id() == before


async def test_an_amendment_may_turn_a_surplus_into_a_deficit(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    clock.now = datetime(2026, 4, 15, tzinfo=SHANGHAI)
    filed = app.handle(OUTGOING_CO, FileDisclosure("f1", "C-1", 2026, 1, content()))
    app.handle(
        OUTGOING_CO, AmendDisclosure("a1", filed.disclosure_id, 1, "漏记电梯大修成本", deficit())
    )
    [row], _ = await list_disclosures(app, OFFICER, "", 2026, 1, "", 0, "")
    assert (row.surplus_fen, row.deficit, row.revision) == (-40_000, True, 1)


# -- handover --------------------------------------------------------------------------------


def hand_over(app: DisclosureApplication, effective: str) -> None:
    app.handle(
        OFFICER,
        ChangePropertyCompany("h1", "C-1", INCOMING, effective, "业主大会决定更换物业服务企业"),
    )


def test_the_outgoing_company_files_its_last_quarter_after_the_handover(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """民法典 Art. 943: the quarter's disclosure is the duty of the company that managed it.
    Handed over on 10 April 2026, the outgoing company still files Q1 2026 on 20 April, the
    disclosure is recorded under its USCC, and it may amend and read it."""
    clock.now = datetime(2026, 4, 10, 9, 0, tzinfo=SHANGHAI)
    hand_over(app, "2026-04-10")
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    filed = app.handle(OUTGOING_CO, FileDisclosure("f1", "C-1", 2026, 1, content()))
    disclosure = app.find(Disclosure.create_id("C-1", 2026, 1), Disclosure)
    assert disclosure is not None and disclosure.company_uscc == OUTGOING
    app.handle(
        OUTGOING_CO,
        AmendDisclosure("a1", filed.disclosure_id, 1, "更正", content(owners=60_000, cost=30_000)),
    )
    assert get_disclosure(app, OUTGOING_CO, filed.disclosure_id, 0).revision == 1


def test_the_incoming_company_may_not_file_the_outgoing_companys_quarter(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    hand_over(app, "2026-04-10")
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    with pytest.raises(PermissionDenied):
        app.handle(INCOMING_CO, FileDisclosure("f1", "C-1", 2026, 1, content()))


def test_the_incoming_company_files_the_quarters_it_managed(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """Handed over mid-quarter (15 May 2026): the incoming company is in charge on Q2's last
    day, so Q2 is its duty and the outgoing company may no longer file it."""
    clock.now = datetime(2026, 5, 15, tzinfo=SHANGHAI)
    hand_over(app, "2026-05-15")
    clock.now = datetime(2026, 7, 10, tzinfo=SHANGHAI)
    q2 = replace(content(), posting_start=date(2026, 7, 2), posting_end=date(2026, 8, 10))
    with pytest.raises(PermissionDenied):
        app.handle(OUTGOING_CO, FileDisclosure("f0", "C-1", 2026, 2, q2))
    app.handle(INCOMING_CO, FileDisclosure("f2", "C-1", 2026, 2, q2))
    disclosure = app.find(Disclosure.create_id("C-1", 2026, 2), Disclosure)
    assert disclosure is not None and disclosure.company_uscc == INCOMING


def test_a_handover_on_the_first_day_of_a_quarter_leaves_the_quarter_before_to_the_outgoing(
    app: DisclosureApplication,
) -> None:
    hand_over(app, "2026-04-01")
    community = app.find(Community.create_id("C-1"), Community)
    assert community is not None
    assert community.company_for(Quarter(2026, 1)) == OUTGOING
    assert community.company_for(Quarter(2026, 2)) == INCOMING
    hand_over_again = ChangePropertyCompany("h2", "C-1", OUTGOING, "2026-03-31", "更正交接日")
    app.handle(OFFICER, hand_over_again)
    community = app.find(Community.create_id("C-1"), Community)
    assert community is not None
    # The latest effective date in force on the quarter's last day decides.
    assert community.company_for(Quarter(2026, 1)) == OUTGOING
    assert community.company_for(Quarter(2026, 2)) == INCOMING


def test_an_overdue_quarter_is_charged_to_the_company_that_owed_it(
    app: DisclosureApplication,
    clock: FakeClock,
) -> None:
    """Handed over on 10 April 2026, nobody files Q1: the DisclosureOverdue names the outgoing
    company, which managed Q1, not the incoming one."""
    clock.now = datetime(2026, 4, 10, tzinfo=SHANGHAI)
    hand_over(app, "2026-04-10")
    clock.now = datetime(2026, 5, 1, tzinfo=SHANGHAI)
    app.handle(CITY, CloseQuarter("close", 2026, 1))
    overdue = [
        to_contract(e) for e in filed_events(app) if isinstance(e, Community.DisclosureOverdue)
    ]
    assert {
        (o.community_code, o.company_uscc) for o in overdue if isinstance(o, DisclosureOverdueV1)
    } == {("C-1", OUTGOING), ("C-2", OUTGOING)}
