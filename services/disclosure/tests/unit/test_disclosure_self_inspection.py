"""The self-inspection ledger (自查自纠台账, plan 五（二）) on in-memory persistence: who files
it, what it must hold, lateness by the campaign calendar's `self_inspection` stage, its
problems' rectifications, and who reads it (published; the public without the persons
responsible)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    ChangePropertyCompany,
    FileSelfInspection,
    RecordSelfInspectionRectification,
    RegisterCommunity,
    RegisterCompany,
    SelfInspectionFiled,
    SelfInspectionItemRectified,
)
from disclosure.application.queries import get_self_inspection, list_self_inspections
from disclosure.domain.rules import SELF_INSPECTION_MAX_ITEMS
from disclosure.domain.self_inspection_ledger import (
    SelfInspectionItem,
    SelfInspectionLedger,
)
from pubrev_contracts.events.disclosure import (
    SelfInspectionFiledV1,
    SelfInspectionItemRectifiedV1,
)
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.campaign import (
    CAMPAIGN,
    CampaignCalendar,
    CampaignCalendarNotConfigured,
)
from pubrev_contracts.vocabulary.errors import NotConfigured
from servicekit.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
)
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
SUCCESSOR = "91110000600037341L"
CODE = "CX-001"
UNIT = "chengxiang"

CITY = Identity("property-bureau", "officer", "putian", "city-1")
OFFICER = Identity("property-bureau", "officer", UNIT, "officer-1")
OTHER_UNIT = Identity("property-bureau", "officer", "xianyou", "officer-2")
COMPANY = Identity("property-company", "filer", UNIT, USCC)
SUCCESSOR_COMPANY = Identity("property-company", "filer", UNIT, SUCCESSOR)
OWNERS = Identity("owners", "representative", UNIT, CODE)
PUBLIC = Identity("public", "anonymous", "putian")
TOWNSHIP = Identity("township", "officer", UNIT)

# The 2026 self_inspection stage is due 20 July (the 2023 plan's date, carried over).
BEFORE_DUE = datetime(2026, 7, 18, 10, 0, tzinfo=SHANGHAI)
LAST_ON_TIME = datetime.combine(date(2026, 7, 20), time(23, 59, 59, 999_999), SHANGHAI)
FIRST_LATE = datetime(2026, 7, 21, 0, 0, tzinfo=SHANGHAI)


def rules_of(error: InvalidArgument) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in error.violations}


def items() -> tuple[SelfInspectionItem, ...]:
    return (
        SelfInspectionItem("公示牌未设在主要出入口", "移至小区南门", date(2026, 8, 15), "林经理"),
        SelfInspectionItem("广告收入未入专户", "补记入专户", date(2026, 7, 31), "陈会计"),
    )


def file_cmd(request_id: str = "si-1", **changes: object) -> FileSelfInspection:
    cmd = FileSelfInspection(
        request_id=request_id,
        community_code=CODE,
        year=2026,
        items=items(),
        posted_on=date(2026, 7, 17),
        owners_notified_via=("wechat_group", "sms"),
    )
    return replace(cmd, **changes)  # type: ignore[arg-type]


def rectify_cmd(
    request_id: str = "sr-1", item: int = 1, on: date | None = date(2026, 7, 18)
) -> RecordSelfInspectionRectification:
    return RecordSelfInspectionRectification(request_id, CODE, 2026, item, on, "已整改")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, tzinfo=SHANGHAI))


@pytest.fixture
def app(clock: FakeClock) -> DisclosureApplication:
    """Two registered companies and CX-001 of chengxiang, managed by USCC; the clock two
    days before the 2026 self-inspection is due."""
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    for uscc in (USCC, SUCCESSOR):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, "物业公司", ""))
    app.handle(CITY, register(CODE))
    clock.now = BEFORE_DUE
    return app


def register(code: str, unit: str = UNIT) -> RegisterCommunity:
    return RegisterCommunity(
        f"reg-{code}",
        code,
        "阳光花园",
        "地址",
        unit,
        "350302" if unit == UNIT else "350322",
        "龙桥街道",
        USCC,
        "物业",
        True,
        4,
        2,
        True,
        320,
    )


# -- filing ------------------------------------------------------------------------------


def test_the_company_files_its_ledger_on_time_and_a_retry_is_answered(
    app: DisclosureApplication,
) -> None:
    filed = app.handle(COMPANY, file_cmd())
    assert filed == SelfInspectionFiled(
        str(SelfInspectionLedger.create_id(CODE, 2026)), 1, late=False, problems=2
    )
    assert app.handle(COMPANY, file_cmd()) == filed
    with pytest.raises(AlreadyExists):
        app.handle(COMPANY, file_cmd("si-2"))  # one ledger per community and year
    with pytest.raises(AlreadyExists):
        app.handle(COMPANY, file_cmd(posted_on=date(2026, 7, 16)))  # same id, other content


@pytest.mark.parametrize(
    ("now", "late"),
    [(LAST_ON_TIME, False), (FIRST_LATE, True), (datetime(2026, 7, 20, 16, tzinfo=UTC), True)],
)
def test_a_ledger_filed_after_the_stage_is_late(
    app: DisclosureApplication, clock: FakeClock, now: datetime, late: bool
) -> None:
    clock.now = now
    assert app.handle(OFFICER, file_cmd()).late is late
    ledger = app.find(SelfInspectionLedger.create_id(CODE, 2026), SelfInspectionLedger)
    assert ledger is not None and ledger.late is late


def test_an_empty_ledger_says_the_company_found_no_problem(app: DisclosureApplication) -> None:
    filed = app.handle(COMPANY, file_cmd(items=()))
    assert (filed.problems, filed.late) == (0, False)
    assert get_self_inspection(app, OWNERS, CODE, 2026).items == []


def test_the_company_in_charge_files_and_no_other(app: DisclosureApplication) -> None:
    with pytest.raises(PermissionDenied):
        app.handle(SUCCESSOR_COMPANY, file_cmd())
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_UNIT, file_cmd())
    with pytest.raises(PermissionDenied):
        app.handle(OWNERS, file_cmd())
    app.handle(
        OFFICER, ChangePropertyCompany("h1", CODE, SUCCESSOR, "2026-07-01", "业主大会决定更换")
    )
    # The company in charge when the ledger is filed posts it in the community.
    with pytest.raises(PermissionDenied):
        app.handle(COMPANY, file_cmd())
    app.handle(SUCCESSOR_COMPANY, file_cmd())
    assert get_self_inspection(app, CITY, CODE, 2026).company_uscc == SUCCESSOR


def test_an_unregistered_community_is_not_found(app: DisclosureApplication) -> None:
    with pytest.raises(NotFound):
        app.handle(OFFICER, file_cmd(community_code="CX-404"))


def test_every_bad_field_of_a_ledger_comes_back_at_once(app: DisclosureApplication) -> None:
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidArgument) as caught:
        app.handle(
            COMPANY,
            file_cmd(
                request_id="",
                community_code="CX 1",
                year=1999,
                items=(
                    SelfInspectionItem(" ", "", None, ""),
                    SelfInspectionItem("问题" * 251, "措施\n", date(2026, 8, 1), "人" * 51),
                ),
                posted_on=None,
                owners_notified_via=("loudspeaker",),
            ),
        )
    assert rules_of(caught.value) == {
        ("request_id", "required"),
        ("community_code", "code_format"),
        ("year", "year_range"),
        ("items[0].problem", "required"),
        ("items[0].measure", "required"),
        ("items[0].responsible", "required"),
        ("items[0].deadline", "date_format"),
        ("items[1].problem", "too_long"),
        ("items[1].measure", "control_character"),
        ("items[1].responsible", "too_long"),
        ("posted_on", "date_format"),
        ("owners_notified_via[0]", "unknown_channel"),
    }
    assert app.recorder.max_notification_id() == before


def test_the_posting_is_a_day_that_has_come_in_the_ledgers_year(
    app: DisclosureApplication,
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        app.handle(COMPANY, file_cmd(posted_on=date(2026, 7, 19), owners_notified_via=()))
    assert rules_of(caught.value) == {
        ("posted_on", "posted_in_future"),
        ("owners_notified_via", "owners_not_notified"),
    }
    with pytest.raises(InvalidArgument) as caught:
        app.handle(COMPANY, file_cmd(posted_on=date(2025, 12, 31)))
    assert rules_of(caught.value) == {("posted_on", "posted_before_year")}


def test_a_ledger_holds_a_bounded_number_of_problems() -> None:
    many = items()[0:1] * (SELF_INSPECTION_MAX_ITEMS + 1)
    found = SelfInspectionLedger.check_filing(2026, many, date(2026, 7, 17), ("phone",), BEFORE_DUE)
    assert {(v.field, v.rule) for v in found} == {("items", "too_many_items")}
    assert (
        SelfInspectionLedger.check_filing(2026, many[1:], date(2026, 7, 17), ("phone",), BEFORE_DUE)
        == []
    )


def test_a_year_the_campaign_calendar_lacks_is_never_guessed(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2028, 7, 1, tzinfo=SHANGHAI)
    with pytest.raises(CampaignCalendarNotConfigured) as caught:
        app.handle(COMPANY, file_cmd(year=2028, posted_on=date(2028, 6, 30)))
    assert isinstance(caught.value, NotConfigured)  # FAILED_PRECONDITION on the wire
    # The application judges by the calendar it is given.
    empty = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=FakeClock(BEFORE_DUE),
        campaign=CampaignCalendar("test", {}),
    )
    empty.handle(CITY, RegisterCompany("co", USCC, "物业公司", ""))
    empty.handle(CITY, register(CODE))
    with pytest.raises(CampaignCalendarNotConfigured):
        empty.handle(COMPANY, file_cmd())


# -- rectification -----------------------------------------------------------------------


def test_a_problem_rectified_is_recorded_once_with_whether_it_kept_its_deadline(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    app.handle(COMPANY, file_cmd())
    first = app.handle(COMPANY, rectify_cmd())
    assert first == SelfInspectionItemRectified(
        str(SelfInspectionLedger.create_id(CODE, 2026)), 2, past_deadline=False
    )
    assert app.handle(COMPANY, rectify_cmd()) == first  # a retry
    with pytest.raises(RuleViolated, match="recorded rectified on 2026-07-18 already"):
        app.handle(OFFICER, rectify_cmd("sr-2"))
    clock.now = datetime(2026, 8, 12, tzinfo=SHANGHAI)
    late = app.handle(OFFICER, rectify_cmd("sr-3", item=2, on=date(2026, 8, 10)))
    assert late.past_deadline  # item 2 was due 31 July
    view = get_self_inspection(app, OWNERS, CODE, 2026)
    assert (view.problems, view.rectified, view.version) == (2, 2, 3)
    assert [(i.number, i.rectification is not None, i.past_deadline) for i in view.items] == [
        (1, True, False),
        (2, True, True),
    ]


def test_a_rectification_names_a_problem_of_the_ledger_on_a_day_that_has_come(
    app: DisclosureApplication,
) -> None:
    app.handle(COMPANY, file_cmd())
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidArgument) as caught:
        app.handle(COMPANY, rectify_cmd(item=3))
    assert rules_of(caught.value) == {("item", "unknown_item")}
    with pytest.raises(InvalidArgument) as caught:
        app.handle(COMPANY, rectify_cmd("sr-2", item=0, on=date(2026, 7, 30)))
    assert rules_of(caught.value) == {
        ("rectified_on", "rectified_in_future"),
        ("item", "positive"),
    }
    with pytest.raises(InvalidArgument) as caught:
        app.handle(COMPANY, rectify_cmd("sr-3", on=date(2025, 12, 1)))
    assert rules_of(caught.value) == {("rectified_on", "rectified_before_year")}
    with pytest.raises(InvalidArgument) as caught:
        app.handle(
            COMPANY,
            RecordSelfInspectionRectification("", "CX 1", 1999, 1, None, "说明\x00"),
        )
    assert rules_of(caught.value) == {
        ("request_id", "required"),
        ("community_code", "code_format"),
        ("year", "year_range"),
        ("note", "control_character"),
        ("rectified_on", "date_format"),
    }
    assert app.recorder.max_notification_id() == before


def test_a_rectification_needs_the_ledger_and_its_company_or_bureau(
    app: DisclosureApplication,
) -> None:
    with pytest.raises(NotFound):
        app.handle(COMPANY, rectify_cmd())
    app.handle(COMPANY, file_cmd())
    for stranger in (SUCCESSOR_COMPANY, OTHER_UNIT, OWNERS, TOWNSHIP):
        with pytest.raises(PermissionDenied):
            app.handle(stranger, rectify_cmd())


def test_an_open_problem_is_past_its_deadline_once_that_day_is_over(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    app.handle(COMPANY, file_cmd())
    clock.now = datetime(2026, 7, 31, 23, 59, tzinfo=SHANGHAI)
    assert [i.past_deadline for i in get_self_inspection(app, OWNERS, CODE, 2026).items] == [
        False,
        False,
    ]
    clock.now = datetime(2026, 8, 1, 0, 0, tzinfo=SHANGHAI)
    assert [i.past_deadline for i in get_self_inspection(app, OWNERS, CODE, 2026).items] == [
        False,
        True,
    ]


# -- reading -----------------------------------------------------------------------------


def test_the_ledger_is_published_without_the_persons_responsible(
    app: DisclosureApplication,
) -> None:
    app.handle(COMPANY, file_cmd())
    seen = get_self_inspection(app, OWNERS, CODE, 2026)
    assert [i.item.responsible for i in seen.items] == ["林经理", "陈会计"]
    assert (seen.posted_on, seen.owners_notified_via, seen.late) == (
        "2026-07-17",
        ["wechat_group", "sms"],
        False,
    )
    stage = CAMPAIGN.stage(2026, "self_inspection")
    assert (seen.due, seen.due_basis) == ("2026-07-20", stage.basis)
    public = get_self_inspection(app, PUBLIC, CODE, 2026)
    assert [i.item.responsible for i in public.items] == ["", ""]
    assert [i.item.problem for i in public.items] == ["公示牌未设在主要出入口", "广告收入未入专户"]
    for reader in (COMPANY, CITY, TOWNSHIP, Identity("credit-office", "officer", UNIT)):
        assert get_self_inspection(app, reader, CODE, 2026).problems == 2
    for stranger in (
        SUCCESSOR_COMPANY,
        OTHER_UNIT,
        Identity("owners", "representative", UNIT, "CX-002"),
        Identity("police", "officer", UNIT, "putian-psb"),
    ):
        with pytest.raises(PermissionDenied):
            get_self_inspection(app, stranger, CODE, 2026)
    with pytest.raises(NotFound):
        get_self_inspection(app, OWNERS, CODE, 2025)
    with pytest.raises(InvalidArgument) as caught:
        get_self_inspection(app, OWNERS, "CX 1", 1999)
    assert rules_of(caught.value) == {("community_code", "code_format"), ("year", "year_range")}


async def test_a_units_ledgers_are_listed_for_its_supervisors_a_page_at_a_time(
    app: DisclosureApplication, clock: FakeClock
) -> None:
    for code in ("CX-002", "CX-003"):
        app.handle(CITY, register(code))
    app.handle(CITY, register("XY-001", "xianyou"))
    for code in ("CX-003", CODE, "XY-001"):
        app.handle(CITY, file_cmd(f"si-{code}", community_code=code))
    clock.now = FIRST_LATE
    app.handle(CITY, file_cmd("si-late", community_code="CX-002", items=()))
    app.handle(OFFICER, rectify_cmd())
    rows, token = await list_self_inspections(app, OFFICER, "", 2026, 2, "")
    assert [(r.community_code, r.problems, r.rectified, r.late) for r in rows] == [
        (CODE, 2, 1, False),
        ("CX-002", 0, 0, True),
    ]
    assert token == "CX-002"
    rows, token = await list_self_inspections(app, OFFICER, UNIT, 2026, 2, token)
    assert ([r.community_code for r in rows], token) == (["CX-003"], "")
    everything, _ = await list_self_inspections(app, CITY, "", 2026, 0, "")
    assert [r.unit for r in everything] == [UNIT, UNIT, UNIT, "xianyou"]
    assert await list_self_inspections(app, TOWNSHIP, UNIT, 2025, 50, "") == ([], "")
    with pytest.raises(PermissionDenied):
        await list_self_inspections(app, OFFICER, "xianyou", 2026, 50, "")
    for caller in (COMPANY, OWNERS, PUBLIC):
        with pytest.raises(PermissionDenied):
            await list_self_inspections(app, caller, UNIT, 2026, 50, "")
    with pytest.raises(InvalidArgument) as caught:
        await list_self_inspections(app, CITY, "fuzhou", 1999, 501, "x" * 65)
    assert rules_of(caught.value) == {
        ("unit", "unknown_unit"),
        ("year", "year_range"),
        ("page_size", "page_size_range"),
        ("page_token", "page_token_length"),
    }


def test_the_ledgers_events_translate_to_their_contracts(app: DisclosureApplication) -> None:
    app.handle(COMPANY, file_cmd())
    app.handle(COMPANY, rectify_cmd())
    contracts = [
        to_contract(app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(1, 100)
    ]
    filed = [c for c in contracts if isinstance(c, SelfInspectionFiledV1)]
    rectified = [c for c in contracts if isinstance(c, SelfInspectionItemRectifiedV1)]
    assert [(f.community_code, f.company_uscc, f.year, f.problems, f.posted_on) for f in filed] == [
        (CODE, USCC, 2026, 2, "2026-07-17")
    ]
    assert [(r.item, r.rectified_on, r.past_deadline, r.unit) for r in rectified] == [
        (1, "2026-07-18", False, UNIT)
    ]
