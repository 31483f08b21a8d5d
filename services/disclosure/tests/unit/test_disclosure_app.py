"""The disclosure application on in-memory persistence (eventsourcing POPO): validation,
jurisdiction, deadlines, idempotent commands, amendments and optimistic concurrency."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AmendDisclosure,
    DisclosureAmended,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.application.queries import get_disclosure, list_disclosures
from disclosure.domain.disclosure import Disclosure, DisclosureContent, ExpenditureItem, IncomeItem
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
)
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
OTHER_USCC = "91110000600037341L"

OFFICER = Identity("property-bureau", "officer", "chengxiang", "officer-1")
OTHER_UNIT = Identity("property-bureau", "officer", "xianyou", "officer-2")
CITY = Identity("property-bureau", "officer", "putian", "city-1")
COMPANY = Identity("property-company", "filer", "chengxiang", USCC)
OTHER_COMPANY = Identity("property-company", "filer", "chengxiang", OTHER_USCC)

# 2026Q1 is over at 2026-04-01 00:00 Shanghai; its deadline day is 30 April.
IN_TIME = datetime(2026, 4, 15, 10, 0, tzinfo=SHANGHAI)
LAST_ON_TIME = datetime.combine(date(2026, 4, 30), time(23, 59, 59, 999_999), SHANGHAI)
FIRST_LATE = datetime(2026, 5, 1, 0, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(IN_TIME)


@pytest.fixture
def app(clock: FakeClock) -> DisclosureApplication:
    """A fresh application in which both companies are registered (a community names a
    registered company)."""
    app = DisclosureApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for uscc in (USCC, OTHER_USCC):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, f"物业公司{uscc[-4:]}", "application"))
    return app


def register_cmd(code: str = "CX-001", **changes: object) -> RegisterCommunity:
    cmd = RegisterCommunity(
        request_id=f"reg-{code}",
        community_code=code,
        name="荔园小区",
        address="城厢区龙桥街道",
        unit="chengxiang",
        division_code="350302",
        township="龙桥街道",
        company_uscc=USCC,
        company_name="莆田市某物业服务有限公司",
        signboard_at_main_entrance=True,
        elevator_count=4,
        barrier_gate_count=2,
        has_leasable_space=True,
        household_count=320,
    )
    return replace(cmd, **changes)  # type: ignore[arg-type]


def content(owners_share_fen: int = 70_000) -> DisclosureContent:
    return DisclosureContent(
        income=(IncomeItem("advertising", 100_000), IncomeItem("parking", 50_000)),
        operating_cost_fen=20_000,
        expenditure=(ExpenditureItem("repair", 30_000, "业主大会决议2026-03"),),
        owners_share_fen=owners_share_fen,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=100_000 - owners_share_fen,
        no_income=False,
        separate_account="莆田农商银行 9070 1234 5678",
        contact_name="林小姐",
        contact_phone="13800138000",
        posting_start=date(2026, 4, 1),
        posting_end=date(2026, 4, 30),
        posting_channels=("signboard",),
    )


def zero_content() -> DisclosureContent:
    return replace(
        content(),
        income=(),
        no_income=True,
        operating_cost_fen=0,
        expenditure=(),
        owners_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )


def file_cmd(
    request_id: str = "file-1",
    code: str = "CX-001",
    year: int = 2026,
    quarter: int = 1,
    body: DisclosureContent | None = None,
) -> FileDisclosure:
    return FileDisclosure(
        request_id=request_id,
        community_code=code,
        year=year,
        quarter=quarter,
        content=body or content(),
    )


def log_size(app: DisclosureApplication) -> int:
    return app.recorder.max_notification_id() or 0


def violations(error: InvalidArgument) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in error.violations}


@pytest.fixture
def registered(app: DisclosureApplication) -> DisclosureApplication:
    app.handle(OFFICER, register_cmd())
    return app


@pytest.fixture
def filed(registered: DisclosureApplication) -> tuple[DisclosureApplication, str]:
    result = registered.handle(OFFICER, file_cmd())
    return registered, result.disclosure_id


# -- register community -------------------------------------------------------------------


def test_register_community_writes_the_community_and_its_receipt(
    app: DisclosureApplication,
) -> None:
    before = log_size(app)
    result = app.handle(OFFICER, register_cmd())
    assert result.version == 1
    assert uuid.UUID(result.community_id)
    assert log_size(app) == before + 2  # Community.Registered + CommandReceipt.Issued


def test_bad_uscc_of_a_new_company_is_invalid_argument_naming_uscc_check(
    app: DisclosureApplication,
) -> None:
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CITY, RegisterCompany("co-bad", "91350203M0001QAY9B", "某物业", "application"))
    assert violations(caught.value) == {("uscc", "uscc_check")}
    assert "check character" in caught.value.message
    assert log_size(app) == before


def test_bad_uscc_from_an_official_source_is_kept_and_flagged(
    app: DisclosureApplication,
) -> None:
    result = app.handle(
        CITY, RegisterCompany("co-bad", "91350203M0001QAY9B", "某物业", "official_registry")
    )
    assert result.uscc_flagged is True
    # A community may then name it.
    app.handle(OFFICER, register_cmd(company_uscc="91350203M0001QAY9B"))


@pytest.mark.parametrize("uscc", ["9135020077604965", "91350200776049653AA"])
def test_community_with_a_uscc_of_wrong_length_names_company_uscc(
    app: DisclosureApplication, uscc: str
) -> None:
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, register_cmd(company_uscc=uscc))
    assert violations(caught.value) == {("company_uscc", "uscc_length")}
    assert log_size(app) == before


def test_unknown_unit_is_refused(app: DisclosureApplication) -> None:
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CITY, register_cmd(unit="fuzhou"))
    assert violations(caught.value) == {("unit", "unknown_unit")}


def test_the_city_itself_is_not_a_unit_a_community_belongs_to(
    app: DisclosureApplication,
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CITY, register_cmd(unit="putian"))
    assert violations(caught.value) == {("unit", "unknown_unit")}


@pytest.mark.parametrize("division", ["35030", "3503021", "440302", "35A302", ""])
def test_division_code_must_be_six_digit_fujian(app: DisclosureApplication, division: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, register_cmd(division_code=division))
    assert violations(caught.value) == {("division_code", "division_format")}


def test_division_code_with_trailing_newline_is_refused(app: DisclosureApplication) -> None:
    # BUG: `_DIVISION.match` with `$` accepts "350302\n".
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, register_cmd(division_code="350302\n"))
    assert violations(caught.value) == {("division_code", "division_format")}


def test_community_code_with_trailing_newline_is_refused(app: DisclosureApplication) -> None:
    # BUG: `_CODE.match` with `$` accepts "CX-001\n", a second community id for "CX-001".
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, register_cmd(community_code="CX-001\n"))
    assert violations(caught.value) == {("community_code", "code_format")}


def test_registration_reports_every_bad_field_at_once(app: DisclosureApplication) -> None:
    bad = register_cmd(
        request_id="",
        community_code="x",
        name=" ",
        unit="fuzhou",
        division_code="1",
        company_uscc="123",
        company_name="",
        elevator_count=-1,
        barrier_gate_count=-1,
        household_count=0,
    )
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, bad)
    assert violations(caught.value) == {
        ("request_id", "required"),
        ("community_code", "code_format"),
        ("name", "required"),
        ("unit", "unknown_unit"),
        ("division_code", "division_format"),
        ("company_uscc", "uscc_length"),
        ("company_name", "required"),
        ("elevator_count", "non_negative"),
        ("barrier_gate_count", "non_negative"),
        ("household_count", "positive"),
    }


def test_texts_are_bounded_and_single_line(app: DisclosureApplication) -> None:
    """Every text goes into an event the relay publishes (a 1 MB name once stopped it)."""
    bad = register_cmd(name="荔" * 201, address="龙桥街道\n1号", township="\t", company_name="x")
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, bad)
    assert violations(caught.value) == {
        ("name", "too_long"),
        ("address", "control_character"),
        ("township", "control_character"),
    }


def test_county_user_of_another_unit_may_not_register(app: DisclosureApplication) -> None:
    before = log_size(app)
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_UNIT, register_cmd())
    assert log_size(app) == before


def test_city_may_register_in_any_unit(app: DisclosureApplication) -> None:
    before = log_size(app)
    app.handle(CITY, register_cmd(unit="xianyou", division_code="350322"))
    assert log_size(app) == before + 2


@pytest.mark.parametrize(
    "identity",
    [
        COMPANY,
        Identity("police", "officer", "chengxiang", "putian-psb-chengxiang"),
    ],
)
def test_only_the_property_bureau_registers(app: DisclosureApplication, identity: Identity) -> None:
    with pytest.raises(PermissionDenied):
        app.handle(identity, register_cmd())


def test_a_community_of_an_unregistered_company_is_refused(app: DisclosureApplication) -> None:
    before = log_size(app)
    with pytest.raises(RuleViolated) as caught:
        app.handle(OFFICER, register_cmd(company_uscc="9144030071526726XG"))
    assert "is not registered; register it first" in caught.value.message
    assert caught.value.message_zh == "物业服务企业 '9144030071526726XG' 未登记，请先登记企业"
    assert log_size(app) == before


def test_registering_the_same_code_twice_is_already_exists(
    registered: DisclosureApplication,
) -> None:
    with pytest.raises(AlreadyExists):
        registered.handle(OFFICER, register_cmd(request_id="another"))


# -- file disclosure: jurisdiction ---------------------------------------------------------


def test_filing_for_an_unregistered_community_is_not_found(app: DisclosureApplication) -> None:
    with pytest.raises(NotFound):
        app.handle(OFFICER, file_cmd(code="NOPE-1"))


def test_county_user_of_another_unit_may_not_file(registered: DisclosureApplication) -> None:
    before = log_size(registered)
    with pytest.raises(PermissionDenied):
        registered.handle(OTHER_UNIT, file_cmd())
    assert log_size(registered) == before


def test_city_may_file(registered: DisclosureApplication) -> None:
    result = registered.handle(CITY, file_cmd())
    assert result.version == 1


def test_the_managing_company_may_file(registered: DisclosureApplication) -> None:
    result = registered.handle(COMPANY, file_cmd())
    assert result.version == 1


def test_another_company_may_not_file(registered: DisclosureApplication) -> None:
    with pytest.raises(PermissionDenied):
        registered.handle(OTHER_COMPANY, file_cmd())


# -- file disclosure: calendar --------------------------------------------------------------


def test_filing_before_the_quarter_is_over_is_refused(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime.combine(date(2026, 3, 31), time(23, 59, 59, 999_999), SHANGHAI)
    with pytest.raises(InvalidArgument) as caught:
        registered.handle(OFFICER, file_cmd())
    assert violations(caught.value) == {("quarter", "quarter_not_over")}


def test_filing_at_the_first_instant_after_the_quarter_is_accepted(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)  # 2026-04-01 00:00 Shanghai
    result = registered.handle(OFFICER, file_cmd())
    assert result.late is False


def test_filing_on_the_last_instant_of_the_deadline_day_is_on_time(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = LAST_ON_TIME
    assert registered.handle(OFFICER, file_cmd()).late is False


def test_filing_at_midnight_after_the_deadline_is_accepted_as_late(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    clock.now = FIRST_LATE
    result = registered.handle(OFFICER, file_cmd())
    assert result.late is True
    view = get_disclosure(registered, OFFICER, result.disclosure_id, 0)
    assert view.late is True


def test_late_flag_with_a_utc_clock(registered: DisclosureApplication, clock: FakeClock) -> None:
    clock.now = datetime(2026, 4, 30, 16, 0, tzinfo=UTC)  # 1 May 00:00 in Shanghai
    assert registered.handle(OFFICER, file_cmd()).late is True


def test_bad_quarter_and_content_come_back_together(registered: DisclosureApplication) -> None:
    bad = file_cmd(quarter=5, body=replace(content(), contact_phone="0594-234"))
    with pytest.raises(InvalidArgument) as caught:
        registered.handle(OFFICER, bad)
    assert violations(caught.value) == {
        ("quarter", "quarter_range"),
        ("content.contact_phone", "contact_number_format"),
    }


def test_zero_revenue_filing_is_flagged(registered: DisclosureApplication) -> None:
    result = registered.handle(OFFICER, file_cmd(body=zero_content()))
    assert result.zero_revenue is True
    assert result.late is False


def test_filing_with_revenue_is_not_zero_revenue(registered: DisclosureApplication) -> None:
    assert registered.handle(OFFICER, file_cmd()).zero_revenue is False


# -- file disclosure: idempotency ---------------------------------------------------------


def test_replay_of_request_id_returns_the_same_result_and_writes_nothing(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    first = registered.handle(OFFICER, file_cmd())
    size = log_size(registered)
    clock.now = FIRST_LATE  # a retry after the deadline still answers with the first result
    again = registered.handle(OFFICER, file_cmd())
    assert again == first
    assert again.late is False
    assert log_size(registered) == size


def test_same_request_id_with_different_content_is_already_exists(
    registered: DisclosureApplication,
) -> None:
    registered.handle(OFFICER, file_cmd())
    size = log_size(registered)
    with pytest.raises(AlreadyExists) as caught:
        registered.handle(OFFICER, file_cmd(body=content(owners_share_fen=60_000)))
    assert "file-1" in caught.value.message
    assert log_size(registered) == size


def test_second_filing_for_the_same_quarter_is_already_exists(
    registered: DisclosureApplication,
) -> None:
    registered.handle(OFFICER, file_cmd())
    size = log_size(registered)
    with pytest.raises(AlreadyExists) as caught:
        registered.handle(OFFICER, file_cmd(request_id="file-2"))
    assert "amend" in caught.value.message
    assert log_size(registered) == size


def test_another_quarter_is_a_separate_disclosure(
    registered: DisclosureApplication, clock: FakeClock
) -> None:
    first = registered.handle(OFFICER, file_cmd())
    clock.now = datetime(2026, 7, 2, tzinfo=SHANGHAI)
    second = registered.handle(OFFICER, file_cmd(request_id="file-2", quarter=2))
    assert second.disclosure_id != first.disclosure_id
    assert second.disclosure_id == str(Disclosure.create_id("CX-001", 2026, 2))


# -- amendments -------------------------------------------------------------------------------


def amend_cmd(
    disclosure_id: str,
    expected_version: int,
    request_id: str = "amend-1",
    owners_share_fen: int = 60_000,
) -> AmendDisclosure:
    return AmendDisclosure(
        request_id=request_id,
        disclosure_id=disclosure_id,
        expected_version=expected_version,
        reason="业主分配金额填错",
        content=content(owners_share_fen=owners_share_fen),
    )


def test_amendment_keeps_both_versions_readable(
    filed: tuple[DisclosureApplication, str],
) -> None:
    app, disclosure_id = filed
    result = app.handle(OFFICER, amend_cmd(disclosure_id, 1))
    assert result == DisclosureAmended(disclosure_id=disclosure_id, version=2)

    v1 = get_disclosure(app, OFFICER, disclosure_id, 1)
    v2 = get_disclosure(app, OFFICER, disclosure_id, 2)
    latest = get_disclosure(app, OFFICER, disclosure_id, 0)
    assert (v1.version, v1.revision, v1.amendment_reason) == (1, 0, "")
    assert v1.content == content()
    assert v1.content.owners_share_fen == 70_000
    assert (v2.version, v2.revision, v2.amendment_reason) == (2, 1, "业主分配金额填错")
    assert v2.content.owners_share_fen == 60_000
    assert latest == v2
    assert v1.filed_at == v2.filed_at == IN_TIME.astimezone(UTC).isoformat()

    with pytest.raises(NotFound):
        get_disclosure(app, OFFICER, disclosure_id, 3)


def test_amendment_with_stale_expected_version_is_conflict(
    filed: tuple[DisclosureApplication, str],
) -> None:
    app, disclosure_id = filed
    app.handle(OFFICER, amend_cmd(disclosure_id, 1))
    size = log_size(app)
    with pytest.raises(Conflict):
        app.handle(
            OFFICER, amend_cmd(disclosure_id, 1, request_id="amend-2", owners_share_fen=50_000)
        )
    assert log_size(app) == size
    assert get_disclosure(app, OFFICER, disclosure_id, 0).content.owners_share_fen == 60_000


def test_amendment_replay_returns_first_result(filed: tuple[DisclosureApplication, str]) -> None:
    app, disclosure_id = filed
    first = app.handle(OFFICER, amend_cmd(disclosure_id, 1))
    size = log_size(app)
    assert app.handle(OFFICER, amend_cmd(disclosure_id, 1)) == first
    assert log_size(app) == size


def test_amendment_content_is_checked_and_needs_a_reason(
    filed: tuple[DisclosureApplication, str],
) -> None:
    app, disclosure_id = filed
    bad = replace(
        amend_cmd(disclosure_id, 0), reason=" ", content=replace(content(), owners_share_fen=70_001)
    )
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, bad)
    assert violations(caught.value) == {
        ("expected_version", "positive"),
        ("reason", "required"),
        ("content.transferred_to_maintenance_fund_fen", "identity_broken"),
    }


def test_amendment_by_another_unit_is_refused(filed: tuple[DisclosureApplication, str]) -> None:
    app, disclosure_id = filed
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_UNIT, amend_cmd(disclosure_id, 1))
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_COMPANY, amend_cmd(disclosure_id, 1))


def test_amendment_of_unknown_disclosure_is_not_found(registered: DisclosureApplication) -> None:
    with pytest.raises(NotFound):
        registered.handle(OFFICER, amend_cmd(str(uuid.uuid4()), 1))


def test_concurrent_amendments_of_two_loaded_copies_conflict(
    filed: tuple[DisclosureApplication, str],
) -> None:
    app, disclosure_id = filed
    copy1: Disclosure = app.repository.get(uuid.UUID(disclosure_id))
    copy2: Disclosure = app.repository.get(uuid.UUID(disclosure_id))
    assert isinstance(copy1, Disclosure) and isinstance(copy2, Disclosure)
    copy1.amend("first writer", content(owners_share_fen=60_000))
    copy2.amend("second writer", content(owners_share_fen=50_000))

    assert app.record(copy1) is True
    size = log_size(app)
    with pytest.raises(Conflict):
        app.record(copy2)
    assert log_size(app) == size
    latest = get_disclosure(app, OFFICER, disclosure_id, 0)
    assert latest.amendment_reason == "first writer"
    assert latest.content.owners_share_fen == 60_000


# -- reading -----------------------------------------------------------------------------------


def test_reading_respects_jurisdiction(filed: tuple[DisclosureApplication, str]) -> None:
    app, disclosure_id = filed
    assert get_disclosure(app, CITY, disclosure_id, 0).unit == "chengxiang"
    assert get_disclosure(app, COMPANY, disclosure_id, 0).community_code == "CX-001"
    for outsider in (OTHER_UNIT, OTHER_COMPANY):
        with pytest.raises(PermissionDenied):
            get_disclosure(app, outsider, disclosure_id, 0)


def test_reading_with_bad_id_or_version_is_invalid(app: DisclosureApplication) -> None:
    with pytest.raises(InvalidArgument) as caught:
        get_disclosure(app, OFFICER, "not-a-uuid", -1)
    assert violations(caught.value) == {
        ("disclosure_id", "uuid_format"),
        ("version", "non_negative"),
    }


def test_reading_an_unknown_disclosure_is_not_found(app: DisclosureApplication) -> None:
    with pytest.raises(NotFound):
        get_disclosure(app, OFFICER, str(uuid.uuid4()), 0)


async def test_lists_need_the_read_model_the_application_was_given(
    app: DisclosureApplication,
) -> None:
    """Commands need no read model; a list asked of an application built without one is a
    wiring bug, said as such (bootstrap.py gives it the PostgreSQL one)."""
    with pytest.raises(RuntimeError, match="no read model"):
        await list_disclosures(app, CITY, "", 2026, 1, "", 10, "")
