"""Penalties on in-memory persistence: the tier decides the display periods (DOMAIN.md §6),
the decision's own 处罚有效期, company violation codes only and their text on the 信用中国
record, the withdrawal deadline on the holiday calendar (行政处罚法 Art. 48 and 85), citations
only of the work plan or a law, and decisions stored before the tier existed."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from credit.adapters.feeds import SourceUnit, corrected_v1, penalty_record
from credit.application.app import CreditApplication
from credit.application.commands import ClassifyPenalty, ImposePenalty, RevokePenalty
from credit.domain.penalty import Penalty
from credit.domain.rules import DEFAULT_RULES, add_months
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured
from pubrev_contracts.vocabulary.sources import WORK_PLAN
from pubrev_contracts.vocabulary.violations import KINDS
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, RuleViolated
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.credit.tests.support.scenario import (
    AUTHORITY_USCC,
    noticed,
    penalty_command,
    popo_app,
)

WHEN = datetime(2026, 5, 6, tzinfo=UTC)
OFFICER = Identity("property-bureau", "officer", "licheng")
SOURCE = SourceUnit("莆田市城市管理局", AUTHORITY_USCC)
CREDIT_SRC = Path(__file__).resolve().parents[2] / "src" / "credit"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CreditApplication:
    return popo_app(clock)


def impose(app: CreditApplication, cmd: ImposePenalty, who: Identity = OFFICER) -> Any:
    """The decision on a notice whose statement period is over (scenario.noticed)."""
    return app.handle(who, noticed(app, cmd, who))


def imposed(app: CreditApplication, decision_number: str) -> Any:
    [event, *_] = app.repository.event_store.get(Penalty.create_id(decision_number))
    return event


# -- 1. the tier decides the display periods (DOMAIN.md §6, 信用修复管理办法) ----------------


@pytest.mark.parametrize(
    ("severity", "display_until", "repair_from"),
    [
        ("general", "2027-05-06", "2026-08-06"),  # 3 months to 1 year
        ("serious", "2029-05-06", "2027-05-06"),
    ],  # 1 to 3 years
)
def test_display_periods_follow_the_tier_domain_6(
    app: CreditApplication, severity: str, display_until: str, repair_from: str
) -> None:
    """DOMAIN.md §6: general displayed 3 months to 1 year, serious 1 to 3 years, in calendar
    months from the decision date (民法典 Art. 202); not 3 years whatever the tier."""
    result = impose(app, replace(penalty_command(), severity=severity))
    assert (result.display_until, result.repair_from, result.published) == (
        display_until,
        repair_from,
        True,
    )
    record = penalty_record(imposed(app, penalty_command().decision_number), SOURCE)
    assert record["display_until"] == display_until


def test_a_minor_penalty_is_not_published_domain_6(app: CreditApplication) -> None:
    """DOMAIN.md §6: minor (轻微) not published: no display period, nothing to repair."""
    result = impose(app, replace(penalty_command(), severity="minor"))
    assert (result.display_until, result.repair_from, result.published) == ("", "", False)


def test_valid_until_is_the_decisions_own_not_the_display_end(app: CreditApplication) -> None:
    """处罚有效期 is a fact of the decision, entered by the bureau; 公示截止期 follows the tier
    (DOMAIN.md §6): two fields, two rules."""
    impose(app, replace(penalty_command(), valid_until="2026-06-30"))
    record = penalty_record(imposed(app, penalty_command().decision_number), SOURCE)
    assert (record["valid_until"], record["display_until"]) == ("2026-06-30", "2027-05-06")


def test_months_end_on_the_corresponding_day_or_the_months_last_civil_code_202() -> None:
    """民法典 Art. 202: no corresponding day → the last day of that month."""
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_tier_and_validity_are_required_and_checked(app: CreditApplication) -> None:
    """ImposePenalty names the field and the rule: severity required / one of the three
    tiers of DOMAIN.md §6; valid_until required, a date, not before the decision."""
    with pytest.raises(InvalidArgument) as missing:
        app.handle(OFFICER, replace(penalty_command(), severity="", valid_until=""))
    assert {(v.field, v.rule) for v in missing.value.violations} == {
        ("severity", "required"),
        ("valid_until", "required"),
    }
    with pytest.raises(InvalidArgument) as wrong:
        app.handle(OFFICER, replace(penalty_command(), severity="grave", valid_until="2026-05-05"))
    assert {(v.field, v.rule) for v in wrong.value.violations} == {
        ("severity", "unknown_tier"),
        ("valid_until", "before_decision"),
    }
    assert app.recorder.max_notification_id() is None  # nothing written


def test_penalty_validation_names_every_field(app: CreditApplication) -> None:
    bad = replace(
        penalty_command(),
        party_uscc="123",
        penalty_types=("fine", "caning"),
        fine_fen=0,
        decision_date="2026-13-01",
        violation_kind="Z9",
        facts=" ",
        valid_until="tomorrow",
    )
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, bad)
    fields = {(v.field, v.rule) for v in caught.value.violations}
    assert fields >= {
        ("party_uscc", "uscc_check"),
        ("penalty_types[1]", "unknown_type"),
        ("fine_fen", "fine_mismatch"),
        ("decision_date", "date_format"),
        ("violation_kind", "not_company_kind"),
        ("facts", "required"),
        ("valid_until", "date_format"),
    }
    assert app.recorder.max_notification_id() is None  # nothing written


def test_penalty_in_the_future_and_other_unit(app: CreditApplication) -> None:
    with pytest.raises(InvalidArgument):
        app.handle(OFFICER, replace(penalty_command(), decision_date="2026-05-07"))
    with pytest.raises(PermissionDenied):
        app.handle(Identity("property-bureau", "officer", "xianyou"), penalty_command())


# -- 2. 违法行为类型: company codes only, the text on the record ------------------------------


@pytest.mark.parametrize("code", ["A9", "E1", "E2", "E3", "E5", "C3"])
def test_only_a_companys_violation_codes_are_accepted(app: CreditApplication, code: str) -> None:
    """vocabulary.violations.COMPANY_KINDS (A–D; E are the agencies' failures, work plan
    二（五）): not any [A-E][1-9]."""
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, replace(penalty_command(), violation_kind=code))
    [violation] = caught.value.violations
    assert (violation.field, violation.rule) == ("violation_kind", "not_company_kind")


def test_violation_type_is_the_violations_text_with_its_code_beside(app: CreditApplication) -> None:
    """信用中国's 违法行为类型 (DOMAIN.md §6) is the violation's text
    (pubrev_contracts.vocabulary.violations.KINDS[code].name_zh), the code in violation_code."""
    impose(app, penalty_command())
    record = penalty_record(imposed(app, penalty_command().decision_number), SOURCE)
    assert record["violation_type"] == KINDS["C1"].name_zh == "擅自利用共有部分进行经营"
    assert record["violation_code"] == "C1"


def test_feed_schema_requires_the_code_and_refuses_a_code_as_text() -> None:
    schema = json.loads(
        (CREDIT_SRC.parents[3] / "contracts" / "feeds" / "creditchina.schema.json").read_text(
            encoding="utf-8"
        )
    )
    penalty = schema["$defs"]["penalty"]
    assert "violation_code" in penalty["required"]
    assert re.fullmatch(penalty["properties"]["violation_code"]["pattern"], "D3")
    assert not re.fullmatch(penalty["properties"]["violation_code"]["pattern"], "E1")


# -- 3. the withdrawal deadline: 3 working days on the holiday calendar ---------------------


@pytest.mark.parametrize(
    ("revoked", "withdraw_by"),
    [
        (date(2025, 1, 27), date(2025, 2, 7)),  # Spring Festival 28 Jan – 4 Feb 2025 skipped
        (date(2025, 2, 6), date(2025, 2, 10)),  # Saturday 8 Feb 2025 was worked (调休)
        (date(2026, 5, 8), date(2026, 5, 12)),  # Saturday 9 May 2026 was worked
        (date(2026, 3, 4), date(2026, 3, 9)),
    ],  # an ordinary week: Wednesday → Monday
)
def test_withdrawal_deadline_is_three_working_days_penalty_law_48_85(
    app: CreditApplication, clock: FakeClock, revoked: date, withdraw_by: date
) -> None:
    """《行政处罚法》第四十八条 (3 days) with 第八十五条 (working days, statutory holidays
    excluded): by vocabulary.calendar.CHINA, not weekends only. The aggregate hands the
    deadline back."""
    impose(app, replace(penalty_command(), decision_date="2025-01-02", valid_until="2025-12-31"))
    clock.now = datetime(revoked.year, revoked.month, revoked.day, 3, tzinfo=UTC)
    penalty = app.find(Penalty.create_id(penalty_command().decision_number), Penalty)
    assert penalty is not None
    penalty.revoke("复议撤销", revoked)
    assert penalty.withdraw_by == withdraw_by
    result = app.handle(OFFICER, RevokePenalty("r1", penalty_command().decision_number, "复议撤销"))
    assert result.withdraw_by == withdraw_by.isoformat()


def test_a_withdrawal_in_a_year_without_a_calendar_is_refused_not_guessed(
    app: CreditApplication, clock: FakeClock
) -> None:
    impose(app, penalty_command())
    clock.now = datetime(2026, 12, 30, 3, tzinfo=UTC)
    with pytest.raises(CalendarNotConfigured):
        app.handle(OFFICER, RevokePenalty("r1", penalty_command().decision_number, "复议撤销"))


# -- 4. citations: the work plan, DOMAIN.md or a law, else local configuration --------------

_LAW = re.compile(r"(法|条例|法典|规定)$")


def _titles(text: str) -> set[str]:
    return set(re.findall(r"《([^》]+)》", text))


def test_no_text_in_credit_cites_a_title_other_than_the_work_plan_or_a_law() -> None:
    """Standards: an invented source is a defect. Every 《title》 in credit's rules and in
    its source cites vocabulary.sources.WORK_PLAN or a law; the deduction table, which no
    source gives (DOMAIN.md §6), says it is local configuration."""
    texts = [
        DEFAULT_RULES.deductions.legal_basis,
        DEFAULT_RULES.display.source,
        DEFAULT_RULES.grades.source,
        DEFAULT_RULES.dishonesty.source,
    ]
    texts += [p.read_text(encoding="utf-8") for p in CREDIT_SRC.rglob("*.py")]
    plan_titles = _titles(WORK_PLAN)
    for title in set().union(*map(_titles, texts)):
        assert title in plan_titles or _LAW.search(title), title
    assert WORK_PLAN in DEFAULT_RULES.deductions.legal_basis
    assert "本地配置" in DEFAULT_RULES.deductions.legal_basis
    assert "专项整治工作方案》（2023）信用惩戒条款" not in DEFAULT_RULES.deductions.legal_basis


# -- 5. decisions stored before the tier: upcast, never guessed, classified by the bureau --


def _store_as_v1(app: CreditApplication, clock: FakeClock) -> str:
    """Stores a PenaltyImposed as the code before the tier wrote it (class_version 1)."""
    other = popo_app(clock)
    impose(other, penalty_command())
    [notification] = [
        n for n in other.recorder.select_notifications(1, 10) if n.topic.endswith("Penalty.Imposed")
    ]
    state = json.loads(notification.state)
    for added in ("severity", "valid_until", "repair_from", "class_version"):
        state.pop(added, None)
    state["display_until"] = {"_type_": "date_iso", "_data_": "2029-05-05"}  # 3 years
    stored = replace(notification, state=json.dumps(state).encode())
    app.recorder.insert_events([stored])
    return penalty_command().decision_number


def test_an_old_decision_loads_without_a_tier_and_the_bureau_states_it(
    app: CreditApplication, clock: FakeClock
) -> None:
    """Penalty.Imposed v1 (stored before this change) upcasts: no tier, no validity, not
    guessed; ClassifyPenalty states them and the periods follow the tier (DOMAIN.md §6)."""
    number = _store_as_v1(app, clock)
    old = imposed(app, number)
    assert (old.severity, old.valid_until, old.repair_from) == (None, None, None)
    assert old.display_until == date(2029, 5, 5)  # as it was published
    assert penalty_record(old, SOURCE)["display_until"] is None  # held: tier unknown
    with pytest.raises(PermissionDenied):
        app.handle(
            Identity("property-bureau", "officer", "xianyou"),
            ClassifyPenalty("c1", number, "general", "2026-12-31", "复核"),
        )
    result = app.handle(OFFICER, ClassifyPenalty("c1", number, "general", "2026-12-31", "复核定级"))
    assert (result.display_until, result.repair_from) == ("2027-05-06", "2026-08-06")
    again = app.handle(OFFICER, ClassifyPenalty("c1", number, "general", "2026-12-31", "复核定级"))
    assert again == result  # a retried request
    with pytest.raises(RuleViolated):
        app.handle(OFFICER, ClassifyPenalty("c2", number, "general", "2026-12-31", "重复"))


def test_classification_is_validated(app: CreditApplication) -> None:
    impose(app, penalty_command())
    number = penalty_command().decision_number
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, ClassifyPenalty("c1", number, "severe", "", " "))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("severity", "unknown_tier"),
        ("valid_until", "required"),
        ("reason", "required"),
    }
    with pytest.raises(InvalidArgument) as early:
        app.handle(OFFICER, ClassifyPenalty("c1", number, "minor", "2026-05-01", "复核"))
    assert [(v.field, v.rule) for v in early.value.violations] == [
        ("valid_until", "before_decision")
    ]
    with pytest.raises(NotFound):
        app.handle(OFFICER, ClassifyPenalty("c1", "无此文号", "minor", "2026-06-01", "复核"))


def test_a_builder_1_record_is_corrected_to_the_violations_text() -> None:
    """What goes out automatically for a record sent under the old rules: the text and the
    code; a code that is no company violation is left for the bureau."""
    old = {"record_id": "penalty:x", "violation_type": "B3", "valid_until": "2029-05-05"}
    assert corrected_v1(old) == old | {
        "violation_type": KINDS["B3"].name_zh,
        "violation_code": "B3",
    }
    assert corrected_v1(old | {"violation_type": "E1"}) is None


def test_a_decision_dated_today_in_putian_is_accepted_before_8am() -> None:
    """Calendar dates stay Asia/Shanghai dates (issue 11 item 1): at 07:30 on 1 June in
    Putian it is still 31 May in UTC, and a decision dated 1 June is today's, not the
    future's. The clock was read in UTC, and such decisions were refused until 08:00."""
    clock = FakeClock(datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    app = popo_app(clock)
    officer = Identity("property-bureau", "officer", "licheng")
    answer = impose(
        app,
        replace(
            penalty_command("莆城管罚决〔2026〕601号"),
            decision_date="2026-06-01",
            valid_until="2026-06-01",
        ),
        officer,
    )
    assert answer.display_until == "2027-06-01"
    with pytest.raises(InvalidArgument) as refused:
        app.handle(
            officer,
            replace(
                penalty_command("莆城管罚决〔2026〕602号"),
                decision_date="2026-06-02",
                valid_until="2026-06-02",
            ),
        )
    assert [v.rule for v in refused.value.violations] == ["in_future"]
