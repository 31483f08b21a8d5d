"""The shared pace (work plan 四（三）, 五; 附件1 #11, #13), contact numbers (work plan
四（二）: 联系人及联系电话), and the violation code list (DOMAIN.md §4, work plan 二)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pubrev_contracts.vocabulary.identifiers import (
    is_contact_number,
    is_landline,
    is_mainland_mobile,
)
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE, SHANGHAI, CampaignYearNotConfigured
from pubrev_contracts.vocabulary.sources import LOCAL, WORK_PLAN
from pubrev_contracts.vocabulary.violations import COMPANY_KINDS, KINDS


def test_nothing_is_expected_before_the_campaign_starts() -> None:
    now = datetime(2026, 7, 14, 23, 0, tzinfo=SHANGHAI)
    assert DEFAULT_PACE.expected_by(2026, 100, now) == 0


def test_the_whole_quota_is_due_by_the_end_of_september() -> None:
    # Work plan 附件1 #13: the quotas met 9月底前. From 1 October nothing less will do.
    assert DEFAULT_PACE.expected_by(2026, 100, datetime(2026, 10, 1, tzinfo=SHANGHAI)) == 100
    assert DEFAULT_PACE.expected_by(2026, 1000, datetime(2026, 9, 30, tzinfo=SHANGHAI)) < 1000


def test_a_county_at_45_percent_at_year_end_is_behind() -> None:
    # 200 communities, quota 50% = 100; 90 checked (45% of communities) at year end.
    pace = DEFAULT_PACE.judge(2026, 100, 90, datetime(2026, 12, 31, tzinfo=SHANGHAI))
    assert pace.expected_by_now == 100 and pace.behind
    # After the deadline the quota is a floor: no tolerance; meeting it exactly is enough.
    assert pace.tolerance_percent == 0
    assert not DEFAULT_PACE.judge(2026, 100, 100, datetime(2026, 12, 31, tzinfo=SHANGHAI)).behind


def test_the_pace_is_counted_in_shanghai_days() -> None:
    # 16:30 UTC on 14 July is 00:30 on 15 July in Putian: the campaign has started.
    assert DEFAULT_PACE.expected_by(2026, 1000, datetime(2026, 7, 14, 16, 30, tzinfo=UTC)) > 0
    assert DEFAULT_PACE.expected_by(2026, 1000, datetime(2026, 7, 14, 15, 30, tzinfo=UTC)) == 0


def test_the_tolerance_is_the_same_for_every_caller() -> None:
    now = datetime(2026, 8, 22, 12, tzinfo=SHANGHAI)  # about half way through the window
    expected = DEFAULT_PACE.expected_by(2026, 100, now)
    just_inside = -(-expected * (100 - DEFAULT_PACE.tolerance_percent) // 100)
    assert not DEFAULT_PACE.judge(2026, 100, just_inside, now).behind
    assert DEFAULT_PACE.judge(2026, 100, just_inside - 1, now).behind


def test_only_2023_has_the_plans_dates_the_rest_is_local_configuration() -> None:
    assert WORK_PLAN in DEFAULT_PACE.year(2023).source
    assert LOCAL in DEFAULT_PACE.year(2026).source
    assert LOCAL in DEFAULT_PACE.tolerance_source
    with pytest.raises(CampaignYearNotConfigured):
        DEFAULT_PACE.year(2031)


@pytest.mark.parametrize(
    "number",
    [
        "13812345678",
        "0594-2345678",
        "05942345678",
        "010-12345678".replace("1234", "2345"),
        "021-62345678",
    ],
)
def test_mobile_or_landline_is_a_contact_number(number: str) -> None:
    assert is_contact_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1381234567",
        "138123456789",
        "23812345678",
        "0594-1234567",
        "594-2345678",
        "0594 2345678",
        "０５９４-2345678",
        "0594-2345678\n",
        "0594--2345678",
        "0594-234567890",
    ],
)
def test_other_strings_are_not(number: str) -> None:
    assert not is_contact_number(number)


def test_mobile_and_landline_are_told_apart() -> None:
    assert is_mainland_mobile("13812345678") and not is_landline("13812345678")
    assert is_landline("0594-2345678") and not is_mainland_mobile("0594-2345678")


def test_the_code_list_has_22_kinds_and_only_a_to_d_are_companies() -> None:
    assert len(KINDS) == 22
    assert set(COMPANY_KINDS) == {k for k in KINDS if k[0] in "ABCD"}
    assert all(KINDS[k].party == "agency" for k in ("E1", "E2", "E3"))


def test_every_kind_has_a_chinese_text_and_cites_the_plans_paragraph() -> None:
    paragraph = {"A": "二（一）", "B": "二（二）", "C": "二（三）", "D": "二（四）", "E": "二（"}
    for code, kind in KINDS.items():
        assert kind.name_zh and not kind.name_zh.isascii()
        assert WORK_PLAN + paragraph[code[0]] in kind.legal_basis, code


def test_the_tolerance_holds_until_the_checks_deadline_has_passed() -> None:
    """On 30 September the whole quota is nearly expected (rounded up: 100), yet the day is
    still inside the window, so the tolerance applies; from 1 October it does not."""
    from datetime import datetime

    from pubrev_contracts.vocabulary.calendar import SHANGHAI
    from pubrev_contracts.vocabulary.pace import DEFAULT_PACE

    last_day = DEFAULT_PACE.judge(2026, 100, 95, datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI))
    assert last_day.expected_by_now == 100
    assert last_day.tolerance_percent == 10
    assert not last_day.behind
    after = DEFAULT_PACE.judge(2026, 100, 95, datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI))
    assert after.tolerance_percent == 0
    assert after.behind
