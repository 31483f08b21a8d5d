"""The aggregates decide, without the application: each verb refuses what breaks its rules
(whoever calls it) and records one event; its `check_*` twin returns the same refusals as
field violations; the topics events were stored under before the aggregates moved still
resolve (ADR 0014)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from eventsourcing.utils import resolve_topic

from disclosure.domain.community import Community, require_deadline_passed
from disclosure.domain.disclosure import (
    Disclosure,
    DisclosureContent,
    ExpenditureItem,
    IncomeItem,
)
from disclosure.domain.property_company import PropertyCompany
from disclosure.domain.self_inspection_ledger import SelfInspectionItem, SelfInspectionLedger
from pubrev_contracts.vocabulary.calendar import SHANGHAI, CalendarNotConfigured, Quarter
from servicekit.errors import InvalidArgument, RuleViolated

USCC = "91350200776049653A"
SUCCESSOR = "91110000600037341L"
BAD_CHECK_CHARACTER = "91350203M0001QAY9B"
Q1 = Quarter(2026, 1)
IN_TIME = datetime(2026, 4, 15, 10, 0, tzinfo=SHANGHAI)
FIRST_LATE = datetime(2026, 5, 1, 0, 0, tzinfo=SHANGHAI)


def rules_of(error: InvalidArgument) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in error.violations}


def company(uscc: str = USCC) -> PropertyCompany:
    return PropertyCompany.register(uscc, "物业公司", "application")


def community(**changes: object) -> Community:
    fields: dict[str, object] = {
        "code": "CX-001",
        "name": "荔园小区",
        "address": "城厢区龙桥街道",
        "unit": "chengxiang",
        "division_code": "350302",
        "township": "龙桥街道",
        "company": company(),
        "company_name": "莆田市某物业服务有限公司",
        "signboard_at_main_entrance": True,
        "elevator_count": 4,
        "barrier_gate_count": 2,
        "has_leasable_space": True,
        "household_count": 320,
        "registered_at": datetime(2026, 1, 10, tzinfo=SHANGHAI),
    }
    return Community.register(**(fields | changes))  # type: ignore[arg-type]


def content() -> DisclosureContent:
    return DisclosureContent(
        income=(IncomeItem("parking", 100_000),),
        operating_cost_fen=20_000,
        expenditure=(ExpenditureItem("维修", 10_000, "决议1"),),
        owners_share_fen=70_000,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
        no_income=False,
        separate_account="专户",
        contact_name="林经理",
        contact_phone="13905941234",
        posting_start=date(2026, 4, 2),
        posting_end=date(2026, 5, 10),
        posting_channels=("signboard",),
    )


# -- PropertyCompany -------------------------------------------------------------------------


def test_a_company_registering_itself_needs_a_valid_uscc() -> None:
    with pytest.raises(InvalidArgument) as caught:
        PropertyCompany.register(BAD_CHECK_CHARACTER, "某物业", "application")
    assert rules_of(caught.value) == {("uscc", "uscc_check")}
    registered = company()
    assert (registered.uscc, registered.uscc_flagged, registered.version) == (USCC, False, 1)


def test_an_official_registrys_failing_code_is_kept_and_flagged() -> None:
    kept = PropertyCompany.register(BAD_CHECK_CHARACTER, "某物业", "official_registry")
    assert kept.uscc_flagged is True
    assert kept.id == PropertyCompany.create_id(BAD_CHECK_CHARACTER)


def test_an_official_registrys_code_still_has_18_characters() -> None:
    with pytest.raises(InvalidArgument) as caught:
        PropertyCompany.register("9135020077604965", "某物业", "official_registry")
    assert rules_of(caught.value) == {("uscc", "uscc_length")}


def test_a_company_from_an_unknown_source_is_refused() -> None:
    assert {(v.field, v.rule) for v in PropertyCompany.check_registration(USCC, "rumour")} == {
        ("source", "unknown_source")
    }
    with pytest.raises(InvalidArgument):
        PropertyCompany.register(USCC, "某物业", "rumour")


# -- Community -------------------------------------------------------------------------------


def test_a_community_refuses_every_broken_rule_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        community(
            unit="putian",
            division_code="350302\n",
            elevator_count=-1,
            barrier_gate_count=-1,
            household_count=0,
        )
    assert rules_of(caught.value) == {
        ("unit", "unknown_unit"),
        ("division_code", "division_format"),
        ("elevator_count", "non_negative"),
        ("barrier_gate_count", "non_negative"),
        ("household_count", "positive"),
    }


def test_a_registered_community_is_managed_by_its_company() -> None:
    registered = community()
    assert (registered.company_uscc, registered.companies) == (USCC, [(USCC, "")])
    assert registered.company_for(Q1) == USCC


def test_a_handover_to_the_company_in_charge_is_refused() -> None:
    registered = community()
    with pytest.raises(RuleViolated) as caught:
        registered.change_company(company(), "2026-06-01", "业主大会决定")
    assert "already managed" in caught.value.message
    assert caught.value.message_zh == "小区 CX-001 已由该企业服务"
    assert registered.version == 1


@pytest.mark.parametrize("day", ["2026-6-1", "20260601", "2026-W22-1", "2026-02-30", ""])
def test_a_handover_date_is_yyyy_mm_dd(day: str) -> None:
    """company_for orders handovers by their dates' text: only YYYY-MM-DD orders right
    (Python also reads 20260601 as a date, which sorts before 2026-03-31)."""
    with pytest.raises(InvalidArgument) as caught:
        community().change_company(company(SUCCESSOR), day, "业主大会决定")
    assert rules_of(caught.value) == {("effective_date", "date_format")}


def test_a_handover_takes_effect_on_its_date() -> None:
    registered = community()
    registered.change_company(company(SUCCESSOR), "2026-04-01", "业主大会决定")
    assert registered.company_uscc == SUCCESSOR
    assert registered.company_for(Q1) == USCC
    assert registered.company_for(Q1.next()) == SUCCESSOR
    [*_, changed] = registered.collect_events()
    assert isinstance(changed, Community.CompanyChanged)
    assert (changed.previous_uscc, changed.new_uscc) == (USCC, SUCCESSOR)


def test_a_quarter_is_overdue_only_after_its_deadline_and_only_once() -> None:
    registered = community()
    with pytest.raises(RuleViolated) as caught:
        registered.mark_overdue(Q1, datetime(2026, 4, 30, 23, 59, tzinfo=SHANGHAI))
    assert "2026-04-30" in caught.value.message and "尚未届满" in caught.value.message_zh
    assert registered.mark_overdue(Q1, FIRST_LATE) is True
    assert registered.mark_overdue(Q1, FIRST_LATE) is False
    assert registered.is_overdue(Q1) and registered.version == 2


def test_a_deadline_the_calendar_cannot_tell_is_not_guessed() -> None:
    """Q4 2026 is due 31 January 2027, or later if that is a rest day: before that day's end
    the answer is "not yet" whatever the 2027 holidays; after it, nobody knows until the
    year is entered."""
    q4 = Quarter(2026, 4)
    with pytest.raises(RuleViolated) as caught:
        require_deadline_passed(q4, datetime(2027, 1, 20, tzinfo=SHANGHAI))
    assert "2027-01-31, or the next working day" in caught.value.message
    with pytest.raises(CalendarNotConfigured):
        require_deadline_passed(q4, datetime(2027, 2, 10, tzinfo=SHANGHAI))


# -- Disclosure ------------------------------------------------------------------------------


def test_a_quarter_is_filed_once_it_is_over() -> None:
    with pytest.raises(InvalidArgument) as caught:
        Disclosure.file(community(), Q1, content(), datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI))
    assert rules_of(caught.value) == {("quarter", "quarter_not_over")}
    filed = Disclosure.file(community(), Q1, content(), datetime(2026, 3, 31, 16, 0, tzinfo=UTC))
    assert filed.late is False


def test_the_aggregate_refuses_a_content_breaking_the_rules() -> None:
    bad = replace(content(), contact_phone="0594-234", posting_channels=())
    with pytest.raises(InvalidArgument) as caught:
        Disclosure.file(community(), Q1, bad, IN_TIME)
    assert rules_of(caught.value) == {
        ("content.contact_phone", "contact_number_format"),
        ("content.posting_channels", "required"),
    }


def test_filing_decides_lateness_and_the_company_that_owes_the_quarter() -> None:
    handed_over = community()
    handed_over.change_company(company(SUCCESSOR), "2026-04-10", "业主大会决定")
    on_time = Disclosure.file(handed_over, Q1, content(), IN_TIME)
    late = Disclosure.file(handed_over, Q1, content(), FIRST_LATE)
    assert (on_time.late, late.late) == (False, True)
    assert on_time.company_uscc == USCC  # managed Q1 to its end (民法典 Art. 943)
    assert on_time.id == Disclosure.create_id("CX-001", 2026, 1)
    assert (on_time.unit, on_time.period, on_time.content) == ("chengxiang", Q1, content())
    assert on_time.filed_at == IN_TIME


def test_lateness_in_a_year_the_calendar_lacks_is_refused_not_guessed() -> None:
    q4 = Quarter(2026, 4)
    posted = replace(content(), posting_start=date(2027, 1, 2), posting_end=date(2027, 2, 10))
    in_time = Disclosure.file(community(), q4, posted, datetime(2027, 1, 31, 20, tzinfo=SHANGHAI))
    assert in_time.late is False
    with pytest.raises(CalendarNotConfigured):
        Disclosure.file(community(), q4, posted, datetime(2027, 2, 1, 9, tzinfo=SHANGHAI))


def test_an_amendment_needs_its_reason_and_a_valid_content() -> None:
    filed = Disclosure.file(community(), Q1, content(), IN_TIME)
    with pytest.raises(InvalidArgument) as caught:
        filed.amend(" ", replace(content(), owners_share_fen=70_001))
    assert rules_of(caught.value) == {
        ("reason", "required"),
        ("content.transferred_to_maintenance_fund_fen", "identity_broken"),
    }
    filed.amend(
        "更正",
        replace(
            content(),
            owners_share_fen=60_000,
            company_share_fen=0,
            transferred_to_maintenance_fund_fen=10_000,
        ),
    )
    assert (filed.version, filed.revision, filed.amendment_reason) == (2, 1, "更正")


def test_an_audit_request_names_who_asks_and_why() -> None:
    filed = Disclosure.file(community(), Q1, content(), IN_TIME)
    with pytest.raises(InvalidArgument) as caught:
        filed.request_audit("neighbours", 0, 320, " ")
    assert rules_of(caught.value) == {("requester", "unknown_requester"), ("reason", "required")}
    with pytest.raises(InvalidArgument) as caught:
        filed.request_audit("owners", 0, 320, "停车收入偏低")
    assert rules_of(caught.value) == {("owners_count", "positive")}


def test_owners_need_a_fifth_of_the_households_and_the_committee_none() -> None:
    filed = Disclosure.file(community(), Q1, content(), IN_TIME)
    with pytest.raises(RuleViolated) as caught:
        filed.request_audit("owners", 63, 320, "停车收入偏低")
    assert "63 of 320 households is under 20%" in caught.value.message
    assert "不足总户数 320 户的20%" in caught.value.message_zh
    filed.request_audit("owners", 64, 320, "停车收入偏低")
    filed.request_audit("owners_committee", 0, 320, "停车收入偏低")
    assert filed.audits == ["owners", "owners_committee"] and filed.version == 3


# -- stored topics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "cls"),
    [
        ("PropertyCompany", PropertyCompany),
        ("PropertyCompany.Registered", PropertyCompany.Registered),
        ("Community", Community),
        ("Community.Registered", Community.Registered),
        ("Community.CompanyChanged", Community.CompanyChanged),
        ("Community.DisclosureOverdue", Community.DisclosureOverdue),
        ("Disclosure", Disclosure),
        ("Disclosure.Filed", Disclosure.Filed),
        ("Disclosure.Amended", Disclosure.Amended),
        ("Disclosure.AuditRequested", Disclosure.AuditRequested),
    ],
)
def test_the_topics_stored_before_the_split_resolve_to_the_moved_classes(
    topic: str, cls: type
) -> None:
    """Events written while the aggregates lived in disclosure.domain.model name them so
    (tests/contract/stored_events/disclosure.json holds such streams)."""
    assert resolve_topic(f"disclosure.domain.model:{topic}") is cls


# -- the self-inspection ledger and audit results, on their own ------------------------------


def test_a_ledger_is_late_by_its_years_stage_and_names_the_company_in_charge() -> None:
    handed = community()
    handed.change_company(company(SUCCESSOR), "2023-07-01", "业主大会决定更换")
    items = (SelfInspectionItem("问题", "措施", date(2023, 8, 31), "林经理"),)
    on_time = SelfInspectionLedger.file(
        handed,
        2023,
        items,
        date(2023, 7, 20),
        ("phone",),
        datetime(2023, 7, 20, 15, 59, tzinfo=UTC),
    )
    late = SelfInspectionLedger.file(
        handed, 2023, items, date(2023, 7, 20), ("phone",), datetime(2023, 7, 20, 16, tzinfo=UTC)
    )
    assert (on_time.late, late.late) == (False, True)
    assert on_time.company_uscc == SUCCESSOR
    assert on_time.id == SelfInspectionLedger.create_id("CX-001", 2023)
    assert SelfInspectionLedger.stage(2023).due == date(2023, 7, 20)
    with pytest.raises(InvalidArgument) as caught:
        SelfInspectionLedger.file(handed, 2023, items, None, (), IN_TIME)
    assert rules_of(caught.value) == {
        ("posted_on", "date_format"),
        ("owners_notified_via", "owners_not_notified"),
    }
    on_time.record_rectification(1, date(2023, 9, 1), "", datetime(2023, 9, 2, tzinfo=SHANGHAI))
    assert on_time.rectifications[1].past_deadline
    with pytest.raises(RuleViolated):
        on_time.record_rectification(1, date(2023, 9, 1), "", datetime(2023, 9, 2, tzinfo=SHANGHAI))


def test_an_audit_result_answers_a_request_of_the_disclosure() -> None:
    disclosure = Disclosure.file(community(), Q1, content(), IN_TIME)
    now = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    with pytest.raises(RuleViolated):
        disclosure.record_audit_result("事务所", "consistent", 0, "相符", date(2026, 5, 30), now)
    disclosure.request_audit("owners_committee", 0, 320, "停车收入偏低")
    number = disclosure.record_audit_result(
        "事务所", "consistent", 0, "相符", date(2026, 5, 30), now
    )
    [request] = disclosure.audit_requests
    assert number == request.number == 1
    assert request.result is not None and request.result.posted_on == date(2026, 5, 30)
    with pytest.raises(RuleViolated):
        disclosure.record_audit_result("事务所", "consistent", 0, "相符", date(2026, 5, 30), now)
