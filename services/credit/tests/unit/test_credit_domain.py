"""The aggregates decide, without the application: Penalty's verbs own its periods and
refuse what the decision cannot be, CreditLedger's verbs own the table, the repair and the
listing; events stored under the modules before issue 12 still resolve."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.utils import resolve_topic

from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty, decision_problems
from credit.domain.rules import DEFAULT_RULES, INITIAL_SCORE, DishonestyRule, GradeBands
from credit.domain.spot_check_result import SpotCheckResult
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured
from servicekit.errors import InvalidArgument, RuleViolated

DECIDED = date(2026, 5, 6)
FOUND = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)


def decision(**changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "decision_number": "莆城管罚决〔2026〕12号",
        "party_name": "莆田市荔园物业服务有限公司",
        "party_uscc": "91350200776049653A",
        "violation_kind": "C1",
        "facts": "擅自利用小区架空层对外出租经营",
        "legal_basis": "《物业管理条例》第六十三条",
        "penalty_types": ["warning", "fine"],
        "content": "警告，罚款人民币伍万元",
        "fine_fen": 5_000_000,
        "confiscated_fen": 0,
        "decision_date": DECIDED,
        "valid_until": date(2026, 11, 5),
        "severity": "general",
        "authority_name": "莆田市城市管理局",
        "authority_uscc": "11350300MB12345671",
        "unit": "licheng",
        "remarks": "",
    }
    return facts | changes


def impose(**changes: Any) -> Penalty:
    return Penalty.impose(DEFAULT_RULES.display, **decision(**changes))


def rules_of(caught: pytest.ExceptionInfo[InvalidArgument]) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in caught.value.violations}


# -- Penalty: its periods ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "display_until", "repair_from"),
    [
        ("minor", None, None),
        ("general", date(2027, 5, 6), date(2026, 8, 6)),
        ("serious", date(2029, 5, 6), date(2027, 5, 6)),
    ],
)
def test_imposing_decides_the_periods_by_tier(
    severity: str, display_until: date | None, repair_from: date | None
) -> None:
    penalty = impose(severity=severity)
    assert (penalty.display_until, penalty.repair_from) == (display_until, repair_from)
    assert penalty.published is (display_until is not None)
    [imposed] = penalty.collect_events()
    assert isinstance(imposed, Penalty.Imposed)


def test_imposing_refuses_every_broken_rule_of_the_decision_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        impose(
            violation_kind="E1",
            severity="grave",
            penalty_types=["warning", "caning"],
            fine_fen=-1,
            confiscated_fen=-1,
            valid_until=date(2026, 5, 5),
        )
    assert rules_of(caught) == {
        ("violation_kind", "not_company_kind"),
        ("severity", "unknown_tier"),
        ("penalty_types[1]", "unknown_type"),
        ("fine_fen", "non_negative"),
        ("confiscated_fen", "non_negative"),
        ("valid_until", "before_decision"),
    }


def test_a_decision_names_a_category_and_its_fine_goes_with_the_category() -> None:
    with pytest.raises(InvalidArgument) as none:
        impose(penalty_types=[], fine_fen=0, severity="")
    assert rules_of(none) == {("penalty_types", "required"), ("severity", "required")}
    with pytest.raises(InvalidArgument) as unfined:
        impose(penalty_types=["warning"])
    assert rules_of(unfined) == {("fine_fen", "fine_mismatch")}


def test_a_validity_beyond_twenty_years_is_a_typing_error() -> None:
    with pytest.raises(InvalidArgument) as caught:
        impose(valid_until=date(9999, 12, 31))
    assert rules_of(caught) == {("valid_until", "beyond_horizon")}
    assert impose(valid_until=date(2046, 12, 31)).valid_until == date(2046, 12, 31)


def test_the_decision_dates_are_judged_only_when_known() -> None:
    assert (
        decision_problems(
            violation_kind="A1",
            penalty_types=("warning",),
            fine_fen=0,
            confiscated_fen=0,
            severity="minor",
            decision_date=None,
            valid_until=date(1900, 1, 1),
        )
        == []
    )


def test_a_tier_missing_from_the_rules_is_refused_not_guessed() -> None:
    """UnknownTier: the table of display periods lacks the tier (a configuration without
    `serious`): the rule is violated, no period is made up."""
    lacking = replace(
        DEFAULT_RULES.display,
        tiers={k: v for k, v in DEFAULT_RULES.display.tiers.items() if k != "serious"},
    )
    with pytest.raises(RuleViolated, match="unknown tier 'serious'") as caught:
        Penalty.impose(lacking, **decision(severity="serious"))
    assert caught.value.message_zh == "处罚等级须为轻微、一般或严重"


# -- Penalty: classification and revocation ----------------------------------------------


def test_classifying_recomputes_the_periods_from_the_decision_date() -> None:
    penalty = impose(severity="minor")
    penalty.classify(DEFAULT_RULES.display, "serious", date(2027, 5, 5), "复核", date(2026, 6, 1))
    assert (penalty.display_until, penalty.repair_from) == (date(2029, 5, 6), date(2027, 5, 6))
    penalty.classify(DEFAULT_RULES.display, "minor", date(2027, 5, 5), "再复核", date(2026, 7, 1))
    assert (penalty.display_until, penalty.repair_from, penalty.published) == (None, None, False)
    assert [type(e).__name__ for e in penalty.collect_events()] == [
        "Imposed",
        "Classified",
        "Classified",
    ]


def test_classifying_refuses_what_changes_nothing_a_revoked_decision_and_a_bad_validity() -> None:
    penalty = impose()
    with pytest.raises(RuleViolated, match="has this tier and validity already"):
        penalty.classify(DEFAULT_RULES.display, "general", date(2026, 11, 5), "同", DECIDED)
    with pytest.raises(InvalidArgument) as early:
        penalty.classify(DEFAULT_RULES.display, "general", date(2026, 5, 1), "早", DECIDED)
    assert rules_of(early) == {("valid_until", "before_decision")}
    with pytest.raises(InvalidArgument) as tier:
        penalty.classify(DEFAULT_RULES.display, "grave", date(2026, 11, 5), "错", DECIDED)
    assert rules_of(tier) == {("severity", "unknown_tier")}
    penalty.revoke("复议撤销", date(2026, 5, 8))
    with pytest.raises(RuleViolated, match="is revoked") as revoked:
        penalty.classify(DEFAULT_RULES.display, "serious", date(2026, 11, 5), "迟", DECIDED)
    assert "已撤销" in revoked.value.message_zh


def test_revoking_sets_the_withdrawal_deadline_once() -> None:
    penalty = impose()
    assert penalty.withdraw_by is None
    penalty.revoke("复议撤销", date(2026, 5, 8))  # Friday; Saturday 9 May 2026 is worked
    assert (penalty.revoked, penalty.withdraw_by) == (True, date(2026, 5, 12))
    with pytest.raises(RuleViolated, match="revoked already"):
        penalty.revoke("再次撤销", date(2026, 5, 9))


def test_a_withdrawal_in_a_year_the_calendar_lacks_is_refused() -> None:
    penalty = impose()
    with pytest.raises(CalendarNotConfigured):
        penalty.revoke("复议撤销", date(2026, 12, 30))
    assert not penalty.revoked


# -- CreditLedger -------------------------------------------------------------------------


def test_a_deduction_is_the_tables_and_happens_once() -> None:
    ledger = CreditLedger("91350200776049653A")
    assert ledger.deduct(DEFAULT_RULES, "licheng", "f1", "C1", "general", FOUND)
    assert not ledger.deduct(DEFAULT_RULES, "licheng", "f1", "C1", "general", FOUND)
    assert ledger.score == INITIAL_SCORE - 8
    assert ledger.units == ["licheng"]
    ledger.restore_due(DEFAULT_RULES, FOUND + timedelta(days=366))
    assert ledger.score == INITIAL_SCORE
    # Restored: the finding is never deducted again.
    assert not ledger.deduct(DEFAULT_RULES, "licheng", "f1", "C1", "general", FOUND)


def test_a_rectification_restores_once_the_minimum_has_passed() -> None:
    ledger = CreditLedger("91350200776049653A")
    ledger.deduct(DEFAULT_RULES, "licheng", "f1", "B1", "general", FOUND)
    assert not ledger.note_rectified(DEFAULT_RULES, "unknown", FOUND)
    assert not ledger.note_rectified(DEFAULT_RULES, "f1", FOUND + timedelta(days=10))
    assert ledger.records["f1"]["rectified"]
    assert ledger.restore_due(DEFAULT_RULES, FOUND + timedelta(days=91)) == []
    assert ledger.restore_due(DEFAULT_RULES, FOUND + timedelta(days=92)) == ["f1"]
    other = CreditLedger("91350200776049653A")
    other.deduct(DEFAULT_RULES, "licheng", "f2", "B1", "general", FOUND)
    assert other.note_rectified(DEFAULT_RULES, "f2", FOUND + timedelta(days=92))
    assert other.score == INITIAL_SCORE
    restored = [e for e in other.collect_events() if isinstance(e, CreditLedger.Restored)]
    assert [e.reason for e in restored] == ["rectification_verified"]


def test_a_score_below_the_threshold_proposes_the_company_and_the_office_decides() -> None:
    strict = replace(DEFAULT_RULES, dishonesty=DishonestyRule(100, 10, 365))
    ledger = CreditLedger("91350200776049653A")
    now = FOUND
    assert not ledger.propose_if_dishonest(strict, "licheng", now)
    with pytest.raises(RuleViolated, match="no proposal"):
        ledger.decide_dishonesty(True, "列入")
    ledger.deduct(strict, "licheng", "f1", "A1", "minor", FOUND)
    assert ledger.propose_if_dishonest(strict, "licheng", now)
    assert not ledger.propose_if_dishonest(strict, "licheng", now)  # pending
    ledger.decide_dishonesty(False, "暂不列入")
    assert not ledger.listed and ledger.proposal is None
    assert ledger.propose_if_dishonest(strict, "licheng", now)  # proposed again
    ledger.decide_dishonesty(True, "经审定列入")
    assert ledger.listed and not ledger.propose_if_dishonest(strict, "licheng", now)
    events = ledger.collect_events()
    [proposed, *_] = [e for e in events if isinstance(e, CreditLedger.SeriousDishonestyProposed)]
    assert (proposed.score, proposed.reason) == (99, "score 99 below 100")
    [listed] = [e for e in events if isinstance(e, CreditLedger.SeriousDishonestyListed)]
    assert (listed.unit, listed.score, listed.reason) == ("licheng", 99, "经审定列入")


def test_the_last_band_takes_every_score_below_it() -> None:
    bands = GradeBands("test", (("A", 80), ("B", 60)))
    assert (bands.grade(90), bands.grade(70), bands.grade(10)) == ("A", "B", "B")


def test_a_spot_check_result_is_noted_under_its_check() -> None:
    result = SpotCheckResult("sc-1", "91350200776049653A", "LC-0001", "licheng", FOUND, ["A1"])
    assert result.id == SpotCheckResult.create_id("sc-1")
    assert (result.company_uscc, result.unit) == ("91350200776049653A", "licheng")


# -- stored events of the modules before issue 12 -----------------------------------------


@pytest.mark.parametrize(
    ("topic", "cls"),
    [
        ("credit.domain.ledger:CreditLedger", CreditLedger),
        ("credit.domain.ledger:CreditLedger.Opened", CreditLedger.Opened),
        ("credit.domain.ledger:CreditLedger.Deducted", CreditLedger.Deducted),
        ("credit.domain.ledger:CreditLedger.RectificationNoted", CreditLedger.RectificationNoted),
        ("credit.domain.ledger:CreditLedger.Restored", CreditLedger.Restored),
        (
            "credit.domain.ledger:CreditLedger.SeriousDishonestyListed",
            CreditLedger.SeriousDishonestyListed,
        ),
        ("credit.domain.results:SpotCheckResult", SpotCheckResult),
        ("credit.domain.results:SpotCheckResult.Noted", SpotCheckResult.Noted),
    ],
)
def test_the_old_topics_resolve_to_the_moved_classes(topic: str, cls: type) -> None:
    assert resolve_topic(topic) is cls
