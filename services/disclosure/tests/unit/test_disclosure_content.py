"""DisclosureContent.check(): every rule of DOMAIN.md §3, each at its boundary, and all
broken rules reported at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from disclosure.domain.rules import DEFAULT_RULES
from pubrev_contracts.vocabulary import identifiers as contact


def valid_content() -> DisclosureContent:
    """Income 150 000 − cost 20 000 − expenditure 30 000 = surplus 100 000 fen,
    distributed 70 000 (owners) + 0 (company) and transferred 30 000."""
    return DisclosureContent(
        income=(
            IncomeItem("advertising", 100_000, "elevator screens"),
            IncomeItem("parking", 50_000),
        ),
        operating_cost_fen=20_000,
        expenditure=(ExpenditureItem("repair of the barrier gate", 30_000, "业主大会决议2026-03"),),
        owners_share_fen=70_000,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=30_000,
        no_income=False,
        separate_account="莆田农商银行 9070 1234 5678",
        contact_name="林小姐",
        contact_phone="13800138000",
        posting_start=date(2026, 4, 1),
        posting_end=date(2026, 4, 30),
        posting_channels=("signboard", "wechat_group"),
    )


def rules(content: DisclosureContent) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in content.check()}


def test_valid_content_has_no_violations() -> None:
    content = valid_content()
    assert content.check() == []
    assert content.surplus_fen == 100_000
    assert content.income_total_fen == 150_000
    assert content.expenditure_total_fen == 30_000
    assert not content.zero_revenue


def test_violation_paths_carry_the_prefix_and_both_languages() -> None:
    content = replace(valid_content(), contact_name=" ")
    [violation] = content.check(prefix="amendment.content")
    assert violation.field == "amendment.content.contact_name"
    assert violation.rule == "required"
    assert violation.description
    assert violation.description_zh == "缺少联系人"


# -- income -----------------------------------------------------------------------------


def test_missing_income_without_no_income_is_item_missing() -> None:
    content = replace(
        valid_content(),
        income=(),
        owners_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
        operating_cost_fen=0,
        expenditure=(),
    )
    assert rules(content) == {("content.income", "item_missing")}


def test_no_income_declared_makes_empty_income_legal_and_zero_revenue() -> None:
    content = replace(
        valid_content(),
        income=(),
        no_income=True,
        operating_cost_fen=0,
        expenditure=(),
        owners_share_fen=0,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )
    assert content.check() == []
    assert content.zero_revenue
    assert content.surplus_fen == 0


def test_no_income_with_income_lines_is_a_contradiction() -> None:
    content = replace(valid_content(), no_income=True)
    assert rules(content) == {("content.no_income", "contradiction")}


def test_unknown_income_source_is_named_by_index() -> None:
    content = replace(
        valid_content(), income=(IncomeItem("advertising", 100_000), IncomeItem("lottery", 50_000))
    )
    assert rules(content) == {("content.income[1].source", "unknown_source")}


@pytest.mark.parametrize("source", ["advertising", "parking", "leasing", "vending", "other"])
def test_every_listed_income_source_is_accepted(source: str) -> None:
    content = replace(valid_content(), income=(IncomeItem(source, 150_000),))
    assert content.check() == []


def test_negative_income_amount_is_refused_and_zero_is_allowed() -> None:
    negative = replace(
        valid_content(), income=(IncomeItem("advertising", 150_001), IncomeItem("parking", -1))
    )
    assert ("content.income[1].amount_fen", "non_negative") in rules(negative)
    zero = replace(
        valid_content(), income=(IncomeItem("advertising", 150_000), IncomeItem("parking", 0))
    )
    assert zero.check() == []


# -- the four optional-looking items: None is missing, 0 is an answer -------------------

FOUR_ITEMS = (
    "operating_cost_fen",
    "owners_share_fen",
    "company_share_fen",
    "transferred_to_maintenance_fund_fen",
)


@pytest.mark.parametrize("field", FOUR_ITEMS)
def test_each_item_missing_is_item_missing(field: str) -> None:
    content = replace(valid_content(), **{field: None})  # type: ignore[arg-type]
    found = rules(content)
    assert (f"content.{field}", "item_missing") in found
    # With an item missing the identity cannot be computed, so it is not reported.
    assert found == {(f"content.{field}", "item_missing")}


def test_explicit_zeros_are_allowed() -> None:
    content = replace(
        valid_content(),
        income=(IncomeItem("parking", 50_000),),
        operating_cost_fen=0,
        expenditure=(),
        owners_share_fen=0,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=50_000,
    )
    assert content.check() == []


@pytest.mark.parametrize("field", FOUR_ITEMS)
def test_each_item_negative_is_non_negative(field: str) -> None:
    content = replace(valid_content(), **{field: -1})  # type: ignore[arg-type]
    assert (f"content.{field}", "non_negative") in rules(content)


# -- expenditure -------------------------------------------------------------------------


def test_expenditure_needs_purpose_and_owners_decision() -> None:
    content = replace(
        valid_content(),
        expenditure=(
            ExpenditureItem("repair", 10_000, "决议1"),
            ExpenditureItem("  ", 20_000, ""),
        ),
    )
    assert rules(content) == {
        ("content.expenditure[1].purpose", "required"),
        ("content.expenditure[1].owners_decision_ref", "owners_decision_missing"),
    }


def test_negative_expenditure_amount_is_refused() -> None:
    content = replace(valid_content(), expenditure=(ExpenditureItem("repair", -1, "决议1"),))
    assert ("content.expenditure[0].amount_fen", "non_negative") in rules(content)


# -- the identity: distributed + transferred == income − cost − expenditure ------------


def test_identity_exact_to_the_fen_passes() -> None:
    content = replace(
        valid_content(), owners_share_fen=60_001, transferred_to_maintenance_fund_fen=39_999
    )
    assert content.check() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owners_share_fen", 70_001),
        ("owners_share_fen", 69_999),
        ("transferred_to_maintenance_fund_fen", 29_999),
        ("operating_cost_fen", 20_001),
    ],
)
def test_identity_off_by_one_fen_fails(field: str, value: int) -> None:
    content = replace(valid_content(), **{field: value})  # type: ignore[arg-type]
    violations = content.check()
    assert [(v.field, v.rule) for v in violations] == [
        ("content.transferred_to_maintenance_fund_fen", "identity_broken")
    ]
    assert "fen" in violations[0].description


def test_company_share_counts_as_distributed() -> None:
    # One fen granted to the company on top of an exact allocation breaks the identity
    # (other rules about a company share may fire as well).
    content = replace(valid_content(), company_share_fen=1)
    assert ("content.transferred_to_maintenance_fund_fen", "identity_broken") in rules(content)


def test_identity_counts_every_income_and_expenditure_line() -> None:
    content = replace(
        valid_content(),
        expenditure=(
            ExpenditureItem("repair", 20_000, "决议1"),
            ExpenditureItem("cleaning", 10_001, "决议2"),
        ),
    )
    assert rules(content) == {("content.transferred_to_maintenance_fund_fen", "identity_broken")}


# -- the company's share and the ceilings -------------------------------------------------


def test_a_company_share_within_the_cap_with_the_owners_decision_passes() -> None:
    """30% of the surplus of 100 000 fen (DEFAULT_RULES.max_company_share) is 30 000."""
    content = replace(
        valid_content(),
        owners_share_fen=40_000,
        company_share_fen=30_000,
        company_share_decision_ref="业主大会决议2026-02",
    )
    assert content.check() == []


def test_a_company_share_above_the_cap_is_too_high() -> None:
    content = replace(
        valid_content(),
        owners_share_fen=39_999,
        company_share_fen=30_001,
        company_share_decision_ref="业主大会决议2026-02",
    )
    [violation] = content.check()
    assert (violation.field, violation.rule) == (
        "content.company_share_fen",
        "company_share_too_high",
    )
    assert DEFAULT_RULES.version in violation.description
    assert "30%" in violation.description_zh


def test_a_company_share_needs_the_owners_decision() -> None:
    content = replace(valid_content(), owners_share_fen=40_000, company_share_fen=30_000)
    assert rules(content) == {("content.company_share_decision_ref", "owners_decision_missing")}


def test_a_stricter_cap_is_a_rules_change_not_a_code_change() -> None:
    content = replace(
        valid_content(),
        owners_share_fen=60_000,
        company_share_fen=10_000,
        company_share_decision_ref="业主大会决议2026-02",
    )
    stricter = replace(DEFAULT_RULES, version="test-0.05", max_company_share=Decimal("0.05"))
    assert content.check() == []
    assert {(v.field, v.rule) for v in content.check(rules=stricter)} == {
        ("content.company_share_fen", "company_share_too_high")
    }


def test_one_amount_above_its_ceiling_is_refused_by_name() -> None:
    cap = DEFAULT_RULES.max_item_fen
    at_cap = replace(
        valid_content(),
        income=(IncomeItem("parking", cap),),
        operating_cost_fen=cap - 100_000,
        expenditure=(),
        owners_share_fen=100_000,
        transferred_to_maintenance_fund_fen=0,
    )
    assert at_cap.check() == []
    above = replace(
        at_cap, income=(IncomeItem("parking", cap + 1),), operating_cost_fen=cap - 99_999
    )
    assert rules(above) == {("content.income[0].amount_fen", "amount_cap")}


def test_a_filing_total_above_its_ceiling_is_refused_by_name() -> None:
    each = DEFAULT_RULES.max_item_fen
    lines = DEFAULT_RULES.max_filing_fen // each + 1
    content = replace(
        valid_content(),
        income=tuple(IncomeItem("parking", each) for _ in range(lines)),
        operating_cost_fen=0,
        expenditure=tuple(ExpenditureItem("维修", each, "决议") for _ in range(lines)),
        owners_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )
    assert rules(content) == {
        ("content.income", "filing_cap"),
        ("content.expenditure", "filing_cap"),
    }


# -- deficit quarters: income − cost − expenditure < 0 ------------------------------------


def deficit_content() -> DisclosureContent:
    """Income 150 000 − cost 120 001 − expenditure 30 000 = −1 fen: a deficit of one fen."""
    return replace(
        valid_content(),
        operating_cost_fen=120_001,
        owners_share_fen=0,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )


def test_a_deficit_quarter_with_nothing_distributed_is_accepted() -> None:
    """DOMAIN.md §3 identity; 民法典 Art. 282 (owners' income is what is left after reasonable
    cost): a deficit is filed as it is, with its negative surplus, nothing shared out."""
    content = deficit_content()
    assert content.check() == []
    assert content.surplus_fen == -1
    assert content.deficit
    assert not valid_content().deficit


def test_a_large_deficit_is_filed_to_the_fen() -> None:
    content = replace(
        valid_content(),
        operating_cost_fen=400_000,
        expenditure=(ExpenditureItem("电梯大修", 123_456, "业主大会决议2026-02"),),
        owners_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )
    assert content.check() == []
    assert content.surplus_fen == 150_000 - 400_000 - 123_456


@pytest.mark.parametrize(
    "field", ["owners_share_fen", "company_share_fen", "transferred_to_maintenance_fund_fen"]
)
def test_a_deficit_distributes_and_transfers_nothing(field: str) -> None:
    """民法典 Art. 282, DOMAIN.md §3: with a negative surplus there is nothing to distribute
    or transfer; any share or transfer is the named error deficit_not_distributable."""
    content = replace(deficit_content(), **{field: 1})  # type: ignore[arg-type]
    if field == "company_share_fen":
        content = replace(content, company_share_decision_ref="业主大会决议2026-01")
    violations = content.check()
    assert [(v.field, v.rule) for v in violations] == [
        (f"content.{field}", "deficit_not_distributable")
    ]
    assert "-1 fen" in violations[0].description
    assert "亏损" in violations[0].description_zh


def test_negative_surplus_matched_by_a_negative_share_is_still_refused() -> None:
    content = replace(deficit_content(), owners_share_fen=-1)
    assert rules(content) == {("content.owners_share_fen", "non_negative")}


def test_a_zero_surplus_is_no_deficit_and_keeps_the_identity() -> None:
    content = replace(
        valid_content(),
        operating_cost_fen=120_000,
        owners_share_fen=0,
        transferred_to_maintenance_fund_fen=0,
    )
    assert content.surplus_fen == 0 and not content.deficit
    assert content.check() == []
    assert rules(replace(content, owners_share_fen=1)) == {
        ("content.transferred_to_maintenance_fund_fen", "identity_broken")
    }


# -- account, contact, phone ------------------------------------------------------------


@pytest.mark.parametrize("field", ["separate_account", "contact_name"])
@pytest.mark.parametrize("value", ["", "   "])
def test_account_and_contact_are_required(field: str, value: str) -> None:
    content = replace(valid_content(), **{field: value})  # type: ignore[arg-type]
    assert rules(content) == {(f"content.{field}", "required")}


@pytest.mark.parametrize("phone", ["0594-2345678", "05942345678", "010-62345678", "13800138000"])
def test_a_landline_or_a_mobile_is_a_contact_number(phone: str) -> None:
    """Plan 四（二）: 公开物业服务企业联系人及联系电话 — a 联系电话, not only a mobile
    (pubrev_contracts.vocabulary.identifiers.is_contact_number)."""
    assert replace(valid_content(), contact_phone=phone).check() == []


@pytest.mark.parametrize(
    "phone",
    [
        "1380013800",
        "138001380000",
        "",
        "1380013800x",
        "13800138000\n",
        "1" + "３" * 10,
        "0594 2345678",
        "+8613800138000",
    ],
)
def test_contact_phone_must_be_a_contact_number(phone: str) -> None:
    content = replace(valid_content(), contact_phone=phone)
    [violation] = content.check()
    assert (violation.field, violation.rule) == ("content.contact_phone", contact.RULE)
    assert violation.description_zh == contact.DESCRIPTION_ZH


# -- posting dates ------------------------------------------------------------------------


def test_posting_of_29_days_is_too_short() -> None:
    content = replace(valid_content(), posting_end=date(2026, 4, 29))
    assert content.posting_days == 29
    violations = content.check()
    assert [(v.field, v.rule) for v in violations] == [("content.posting_end", "posting_too_short")]
    assert "29 days" in violations[0].description


def test_posting_of_30_days_counted_inclusively_passes() -> None:
    content = replace(
        valid_content(), posting_start=date(2026, 4, 1), posting_end=date(2026, 4, 30)
    )
    assert content.posting_days == 30
    assert content.check() == []


def test_posting_across_a_month_end_counts_calendar_days() -> None:
    content = replace(
        valid_content(), posting_start=date(2026, 2, 1), posting_end=date(2026, 3, 2)
    )  # 28 + 2 days
    assert content.posting_days == 30
    assert content.check() == []


def test_posting_end_before_start() -> None:
    content = replace(
        valid_content(), posting_start=date(2026, 4, 30), posting_end=date(2026, 4, 29)
    )
    assert rules(content) == {("content.posting_end", "before_start")}


def test_posting_of_one_day_is_too_short() -> None:
    content = replace(
        valid_content(), posting_start=date(2026, 4, 30), posting_end=date(2026, 4, 30)
    )
    assert rules(content) == {("content.posting_end", "posting_too_short")}


def test_missing_posting_dates() -> None:
    content = replace(valid_content(), posting_start=None, posting_end=None)
    assert content.posting_days == 0
    assert rules(content) == {
        ("content.posting_start", "date_format"),
        ("content.posting_end", "date_format"),
    }


# -- channels --------------------------------------------------------------------------


def test_channels_are_required() -> None:
    content = replace(valid_content(), posting_channels=())
    assert rules(content) == {("content.posting_channels", "required")}


def test_unknown_channel_is_named_by_index() -> None:
    content = replace(valid_content(), posting_channels=("signboard", "newspaper"))
    assert rules(content) == {("content.posting_channels[1]", "unknown_channel")}


def test_all_three_channels_are_accepted() -> None:
    content = replace(
        valid_content(), posting_channels=("signboard", "provincial_system", "wechat_group")
    )
    assert content.check() == []


# -- everything at once ---------------------------------------------------------------------


def test_every_broken_rule_comes_back_at_once() -> None:
    content = DisclosureContent(
        income=(IncomeItem("lottery", -5),),
        operating_cost_fen=None,
        expenditure=(ExpenditureItem("", -1, " "),),
        owners_share_fen=-2,
        company_share_fen=None,
        transferred_to_maintenance_fund_fen=None,
        no_income=True,
        separate_account="",
        contact_name="",
        contact_phone="0594-234",
        posting_start=date(2026, 4, 10),
        posting_end=date(2026, 4, 1),
        posting_channels=("newspaper",),
    )
    violations = content.check()
    assert [(v.field, v.rule) for v in violations] == [
        ("content.no_income", "contradiction"),
        ("content.income[0].source", "unknown_source"),
        ("content.income[0].amount_fen", "non_negative"),
        ("content.operating_cost_fen", "item_missing"),
        ("content.owners_share_fen", "non_negative"),
        ("content.company_share_fen", "item_missing"),
        ("content.transferred_to_maintenance_fund_fen", "item_missing"),
        ("content.expenditure[0].purpose", "required"),
        ("content.expenditure[0].amount_fen", "non_negative"),
        ("content.expenditure[0].owners_decision_ref", "owners_decision_missing"),
        ("content.separate_account", "required"),
        ("content.contact_name", "required"),
        ("content.contact_phone", "contact_number_format"),
        ("content.posting_end", "before_start"),
        ("content.posting_channels[0]", "unknown_channel"),
    ]
    assert all(v.description and v.description_zh for v in violations)


def test_identity_and_posting_and_phone_broken_together() -> None:
    content = replace(
        valid_content(),
        owners_share_fen=70_001,
        contact_phone="0594-234",
        posting_end=date(2026, 4, 29),
        posting_channels=(),
    )
    assert rules(content) == {
        ("content.transferred_to_maintenance_fund_fen", "identity_broken"),
        ("content.contact_phone", "contact_number_format"),
        ("content.posting_end", "posting_too_short"),
        ("content.posting_channels", "required"),
    }


def test_state_round_trip_keeps_content() -> None:
    content = valid_content()
    assert DisclosureContent.from_state(content.to_state()) == content
    missing = replace(content, operating_cost_fen=None, posting_start=None)
    assert DisclosureContent.from_state(missing.to_state()) == missing
