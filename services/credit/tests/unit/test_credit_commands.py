"""Credit's commands and queries through the application on in-memory persistence: every
field error each of them raises, named by field and rule, with nothing written; retries
answered once; the one vocabulary's USCC check; the sweep, the feeds' operations and what
inspection tells credit. The last test lists every rule code in credit's source and checks
that some test asserts it."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from credit.application.app import CreditApplication
from credit.application.commands import (
    ClassifyPenalty,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    ImposePenalty,
    ObjectToDeduction,
    PenaltyRevoked,
    RepushFeedRecord,
    RevokePenalty,
    SweepDisplayPeriods,
)
from credit.application.queries import get_feed_status, get_ledger
from credit.application.sweeps import restore_due
from credit.domain.credit_ledger import CreditLedger
from credit.domain.spot_check_result import SpotCheckResult
from servicekit.errors import AlreadyExists, InvalidArgument, NotFound, RuleViolated
from servicekit.eventstore import CommandReceipt, DeliveryRef, fingerprint
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.credit.tests.support.scenario import (
    COMPANY,
    CREDIT_CHINA,
    MARKET,
    WHEN,
    FakeDesk,
    finding,
    noticed,
    penalty_command,
    popo_app,
)

OFFICER = Identity("property-bureau", "officer", "licheng")
CITY = Identity("property-bureau", "officer", "putian")
OPERATOR = Identity("operator", "operator", "putian")
NUMBER = penalty_command().decision_number
FLAGGED = "91350200776049653B"
"""COMPANY with a wrong check character: a registry code disclosure keeps, flagged."""
UNIT_TESTS = Path(__file__).parent
CREDIT_SRC = UNIT_TESTS.parents[1] / "src" / "credit"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CreditApplication:
    return popo_app(clock)


def impose(app: CreditApplication, cmd: ImposePenalty, who: Identity = OFFICER) -> Any:
    """The decision on a notice whose statement period is over (scenario.noticed)."""
    return app.handle(who, noticed(app, cmd, who))


def refused(app: CreditApplication, identity: Identity, command: Any) -> set[tuple[str, str]]:
    """The (field, rule) pairs of the InvalidArgument the command gets; it writes nothing."""
    written = app.recorder.max_notification_id()
    with pytest.raises(InvalidArgument) as caught:
        app.handle(identity, command)
    assert app.recorder.max_notification_id() == written
    return {(v.field, v.rule) for v in caught.value.violations}


# -- ImposePenalty: every field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"request_id": ""}, {("request_id", "required")}),
        ({"decision_number": ""}, {("decision_number", "required")}),
        ({"decision_number": "文" * 65}, {("decision_number", "too_long")}),
        ({"decision_number": "莆城管罚决\t12号"}, {("decision_number", "control_character")}),
        ({"party_name": " "}, {("party_name", "required")}),
        ({"party_name": "名" * 201}, {("party_name", "too_long")}),
        ({"facts": "事实\x00"}, {("facts", "control_character")}),
        ({"legal_basis": ""}, {("legal_basis", "required")}),
        ({"content": "容" * 2001}, {("content", "too_long")}),
        ({"authority_name": ""}, {("authority_name", "required")}),
        ({"remarks": "注" * 1001}, {("remarks", "too_long")}),
        ({"party_uscc": "91350200776049653B"}, {("party_uscc", "uscc_check")}),
        ({"party_uscc": "123"}, {("party_uscc", "uscc_check")}),
        ({"authority_uscc": "11350300MB1234567X"}, {("authority_uscc", "uscc_check")}),
        ({"violation_kind": "E1"}, {("violation_kind", "not_company_kind")}),
        ({"severity": ""}, {("severity", "required")}),
        ({"severity": "grave"}, {("severity", "unknown_tier")}),
        ({"penalty_types": ()}, {("penalty_types", "required"), ("fine_fen", "fine_mismatch")}),
        (
            {"penalty_types": ("fine", "caning")},
            {("penalty_types[1]", "unknown_type")},
        ),
        ({"fine_fen": -1}, {("fine_fen", "non_negative"), ("fine_fen", "fine_mismatch")}),
        ({"confiscated_fen": -1}, {("confiscated_fen", "non_negative")}),
        ({"fine_fen": 0}, {("fine_fen", "fine_mismatch")}),
        ({"decision_date": "2026-13-01"}, {("decision_date", "date_format")}),
        ({"decision_date": ""}, {("decision_date", "date_format")}),
        (
            {"decision_date": "2026-05-07", "valid_until": "2026-11-05"},
            {("decision_date", "in_future")},
        ),
        ({"valid_until": ""}, {("valid_until", "required")}),
        ({"valid_until": "tomorrow"}, {("valid_until", "date_format")}),
        ({"valid_until": "2026-05-05"}, {("valid_until", "before_decision")}),
        ({"valid_until": "2047-01-01"}, {("valid_until", "beyond_horizon")}),
        ({"unit": "atlantis"}, {("unit", "unknown_unit")}),
    ],
)
def test_impose_penalty_names_the_field_and_the_rule(
    app: CreditApplication, changes: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    assert refused(app, OFFICER, replace(penalty_command(), **changes)) == expected


def test_a_decision_recorded_already_is_not_recorded_twice(app: CreditApplication) -> None:
    first = impose(app, penalty_command())
    assert impose(app, penalty_command()) == first  # the same request, retried
    with pytest.raises(AlreadyExists, match="request_id 'p-"):  # its id, other content
        app.handle(OFFICER, replace(noticed(app, penalty_command()), facts="另一事实"))
    with pytest.raises(AlreadyExists, match="is recorded already") as again:
        impose(app, replace(penalty_command(), request_id="p-other"))
    assert "已录入" in again.value.message_zh


def test_the_city_decides_for_a_county_and_a_county_for_its_own_unit(
    app: CreditApplication,
) -> None:
    """An empty unit is the caller's own."""
    result = impose(app, replace(penalty_command(), unit=""), CITY)
    penalty_view = app.read_history(Identity("auditor", "auditor", "putian"), None, 0, 100)
    [imposed] = [e for e in penalty_view if e.type == "Penalty.Imposed"]
    assert (imposed.aggregate_id, imposed.payload["unit"]) == (result.penalty_id, "putian")


# -- ClassifyPenalty and RevokePenalty ---------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ClassifyPenalty("", "", "", "", ""),
            {
                ("request_id", "required"),
                ("decision_number", "required"),
                ("severity", "required"),
                ("reason", "required"),
                ("valid_until", "required"),
            },
        ),
        (
            ClassifyPenalty("c1", NUMBER, "grave", "2026-11-31", "复核"),
            {("severity", "unknown_tier"), ("valid_until", "date_format")},
        ),
        (
            ClassifyPenalty("c1", NUMBER, "serious", "2026-05-05", "复核"),
            {("valid_until", "before_decision")},
        ),
        (
            ClassifyPenalty("c1", NUMBER, "serious", "2050-05-05", "复核"),
            {("valid_until", "beyond_horizon")},
        ),
        (
            RevokePenalty("", "文" * 65, " "),
            {("request_id", "required"), ("decision_number", "too_long"), ("reason", "required")},
        ),
    ],
)
def test_classify_and_revoke_name_the_field_and_the_rule(
    app: CreditApplication, command: Any, expected: set[tuple[str, str]]
) -> None:
    impose(app, penalty_command())
    assert refused(app, OFFICER, command) == expected


def test_classify_and_revoke_need_a_recorded_decision(app: CreditApplication) -> None:
    for command in (
        ClassifyPenalty("c1", "无此文号", "minor", "2026-06-01", "复核"),
        RevokePenalty("r1", "无此文号", "复议撤销"),
    ):
        with pytest.raises(NotFound, match="is not recorded"):
            app.handle(OFFICER, command)


def test_a_revoked_decision_is_neither_classified_nor_revoked_again(
    app: CreditApplication,
) -> None:
    impose(app, penalty_command())
    revoked = app.handle(OFFICER, RevokePenalty("r1", NUMBER, "复议撤销"))
    # Wednesday 6 May 2026: Thursday, Friday and Saturday 9 May (a make-up working day).
    assert revoked == PenaltyRevoked(revoked.penalty_id, "2026-05-09")
    assert app.handle(OFFICER, RevokePenalty("r1", NUMBER, "复议撤销")) == revoked  # retried
    with pytest.raises(RuleViolated, match="revoked already"):
        app.handle(OFFICER, RevokePenalty("r2", NUMBER, "再次撤销"))
    with pytest.raises(RuleViolated, match="is revoked"):
        app.handle(OFFICER, ClassifyPenalty("c1", NUMBER, "serious", "2026-11-05", "复核"))


def test_a_revocation_answered_by_the_code_before_typed_commands_is_answered_again(
    app: CreditApplication,
) -> None:
    """That code fingerprinted a revocation over (decision_number, reason); a retry across
    the deployment gets the first answer, not ALREADY_EXISTS, and nothing is written."""
    imposed = impose(app, penalty_command())
    old = {"penalty_id": imposed.penalty_id, "withdraw_by": "2026-05-11"}
    app.save(CommandReceipt("RevokePenalty", "r-old", fingerprint((NUMBER, "复议撤销")), old))
    written = app.recorder.max_notification_id()
    again = app.handle(OFFICER, RevokePenalty("r-old", NUMBER, "复议撤销"))
    assert again == PenaltyRevoked(imposed.penalty_id, "2026-05-11")
    assert app.recorder.max_notification_id() == written
    with pytest.raises(AlreadyExists):  # the same request_id for another revocation
        app.handle(OFFICER, RevokePenalty("r-old", NUMBER, "另一理由"))


# -- GetLedger: the one USCC check, and a flagged registry code's ledger -----------------


def test_get_ledger_checks_the_code_as_disclosure_does(app: CreditApplication) -> None:
    finding(app, "f1")
    assert get_ledger(app, CITY, COMPANY).score == 98
    for code in ("X" * 5000, "91350200776049653B", "91350200776049653I"):
        with pytest.raises(InvalidArgument) as caught:
            get_ledger(app, CITY, code)
        [violation] = caught.value.violations
        assert (violation.field, violation.rule) == ("company_uscc", "uscc_check")
    with pytest.raises(NotFound, match="no credit record"):
        get_ledger(app, CITY, "91110000600037341L")


def test_a_company_inspection_names_by_a_flagged_code_still_reads_its_ledger(
    app: CreditApplication,
) -> None:
    """Companies named by other services' events are taken as their source stored them:
    the ledger exists under the flagged code, and its company reads it."""
    finding(app, "f1", company=FLAGGED)
    company = Identity("property-company", "filer", "licheng", FLAGGED)
    view = get_ledger(app, company, FLAGGED)
    assert (view.company_uscc, view.score, [e.type for e in view.entries]) == (
        FLAGGED,
        98,
        ["deducted"],
    )


def test_the_ledger_shows_every_kind_of_entry(app: CreditApplication, clock: FakeClock) -> None:
    office = Identity("credit-office", "officer", "licheng")
    company = Identity("property-company", "manager", "licheng", COMPANY)
    finding(app, "f1", "C1", "serious")
    finding(app, "f2", "C2", "serious")  # two serious findings: proposed
    assert get_ledger(app, CITY, COMPANY).dishonesty_proposed
    app.handle(office, DecideSeriousDishonesty("d1", COMPANY, False, "暂不列入"))
    finding(app, "f3", "A1", "general")
    app.handle(office, DecideSeriousDishonesty("d2", COMPANY, True, "列入"))
    app.handle(company, ObjectToDeduction("o1", COMPANY, "f3", "重复扣分"))
    app.handle(office, DecideDeductionObjection("od1", COMPANY, "f3", False, "不成立"))
    app.handle(company, ObjectToDeduction("o2", COMPANY, "f2", "证据不足"))
    app.handle(office, DecideDeductionObjection("od2", COMPANY, "f2", True, "证据不足"))
    clock.now = WHEN + timedelta(days=400)
    app.apply_rectification("f1", COMPANY, clock.now, DeliveryRef("credit.ledger", "f1", 3))
    view = get_ledger(app, CITY, COMPANY)
    assert [(e.type, e.finding_id, e.points, e.score_after) for e in view.entries] == [
        ("deducted", "f1", 12, 88),
        ("deducted", "f2", 12, 76),
        ("dishonesty_proposed", "", 0, 76),
        ("dishonesty_declined", "", 0, 0),
        ("deducted", "f3", 2, 74),
        ("dishonesty_proposed", "", 0, 74),
        ("dishonesty_listed", "", 0, 74),
        ("objected", "f3", 0, 0),
        ("objection_rejected", "f3", 0, 0),
        ("objected", "f2", 0, 0),
        ("annulled", "f2", 12, 86),
        ("restored", "f1", 12, 98),
    ]
    assert view.seriously_dishonest and not view.dishonesty_proposed
    assert (view.score, view.grade) == (98, "AAA")
    assert view.entries[-1].reason == "rectification_verified"
    assert view.entries[-2].reason == "objection_upheld: 证据不足"
    assert view.entries[0].table_version == "putian-credit-2023.1"


# -- the sweep ---------------------------------------------------------------------------


def test_the_sweep_restores_every_ledger_the_read_model_lists(
    app: CreditApplication, clock: FakeClock
) -> None:
    finding(app, "f1", "B1", "general")
    finding(app, "f2", "B1", "general", company="91110000600037341L")
    scheduler = Identity("operator", "scheduler", "putian")
    assert restore_due(app, "91430111MA4L41YT1U") == 0  # a company without a ledger
    assert app.handle(scheduler, SweepDisplayPeriods("s1")).restored == 0
    clock.now = WHEN + timedelta(days=400)
    assert app.handle(scheduler, SweepDisplayPeriods("s2")).restored == 2
    assert app.handle(scheduler, SweepDisplayPeriods("s2")).restored == 0  # nothing more due
    ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    assert ledger is not None and ledger.score == 100


def test_an_application_wired_without_read_model_or_feeds_has_neither() -> None:
    bare = CreditApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert bare.handle(OPERATOR, SweepDisplayPeriods("s1")).restored == 0
    assert get_feed_status(bare, OPERATOR, "", "").counts == []
    assert bare.feed_desk.counts(CREDIT_CHINA) == {}
    assert bare.feed_desk.status(CREDIT_CHINA, "x") is None
    assert not bare.feed_desk.repush(CREDIT_CHINA, "x")
    assert refused(bare, OPERATOR, RepushFeedRecord(CREDIT_CHINA, "x")) == {
        ("feed", "unknown_feed")
    }


# -- the feeds' operations -----------------------------------------------------------------


def test_feed_status_counts_every_feed_and_shows_one_records_attempts(
    app: CreditApplication,
) -> None:
    every = get_feed_status(app, OPERATOR, "", "")
    assert [(c.feed, c.delivered) for c in every.counts] == [(CREDIT_CHINA, 1), (MARKET, 0)]
    assert (every.status, every.attempts) == ("", [])
    one = get_feed_status(app, OPERATOR, CREDIT_CHINA, FakeDesk.RECORD_ID)
    assert [c.feed for c in one.counts] == [CREDIT_CHINA]
    assert one.status == "delivered"
    assert [(a.attempt, a.http_status, a.error) for a in one.attempts] == [(1, 200, "")]
    assert get_feed_status(app, OPERATOR, MARKET, "penalty:none").status == ""


@pytest.mark.parametrize(
    ("feed", "record_id", "expected"),
    [
        ("", "penalty:x", {("feed", "required")}),
        ("twitter", "", {("feed", "unknown_feed")}),
        (CREDIT_CHINA, "r" * 201, {("record_id", "too_long")}),
    ],
)
def test_feed_status_names_the_field_and_the_rule(
    app: CreditApplication, feed: str, record_id: str, expected: set[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        get_feed_status(app, OPERATOR, feed, record_id)
    assert {(v.field, v.rule) for v in caught.value.violations} == expected


@pytest.mark.parametrize(
    ("feed", "record_id", "expected"),
    [
        ("", "", {("feed", "required"), ("record_id", "required")}),
        ("twitter", "r" * 201, {("feed", "unknown_feed"), ("record_id", "too_long")}),
    ],
)
def test_repush_names_the_field_and_the_rule(
    app: CreditApplication, feed: str, record_id: str, expected: set[tuple[str, str]]
) -> None:
    assert refused(app, OPERATOR, RepushFeedRecord(feed, record_id)) == expected


def test_a_repush_of_a_record_the_feed_lacks_is_answered_not_found(
    app: CreditApplication,
) -> None:
    assert not app.handle(OPERATOR, RepushFeedRecord(MARKET, "penalty:none")).found
    assert app.handle(OPERATOR, RepushFeedRecord(CREDIT_CHINA, FakeDesk.RECORD_ID)).found


def test_a_command_without_a_handler_is_a_wiring_bug(app: CreditApplication) -> None:
    with pytest.raises(TypeError, match="no handler for str"):
        app.handle(OPERATOR, "SweepDisplayPeriods")


# -- what inspection tells credit ----------------------------------------------------------


def test_a_finding_or_rectification_of_no_company_charges_nobody(app: CreditApplication) -> None:
    delivery = DeliveryRef("credit.ledger", "f1", 1)
    assert not app.apply_finding("f1", "", "licheng", "A1", "general", WHEN, delivery)
    assert not app.apply_rectification("f1", "", WHEN, delivery)
    assert not app.note_spot_check("sc-1", "", "LC-0001", "licheng", WHEN, [], delivery)
    assert app.recorder.max_notification_id() is None


def test_a_spot_check_result_is_noted_once_whatever_the_delivery(app: CreditApplication) -> None:
    def note(consumer: str) -> bool:
        return app.note_spot_check(
            "sc-1", COMPANY, "LC-0001", "licheng", WHEN, ["A1"], DeliveryRef(consumer, "sc-1", 1)
        )

    assert note("credit.ledger")
    assert not note("credit.ledger")  # the same delivery raced: its tracking refuses it
    assert note("another")  # tracked, nothing noted again
    events = list(app.repository.event_store.get(SpotCheckResult.create_id("sc-1")))
    assert len(events) == 1


def test_a_rectification_of_an_unknown_finding_changes_nothing(app: CreditApplication) -> None:
    finding(app, "f1")
    app.apply_rectification("f9", COMPANY, WHEN, DeliveryRef("credit.ledger", "f9", 3))
    ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    assert ledger is not None and ledger.version == 2  # opened, deducted


def test_a_decision_dated_today_in_putian_uses_shanghais_date() -> None:
    app = popo_app(FakeClock(datetime(2026, 5, 31, 16, 30, tzinfo=UTC)))  # 00:30 in Putian
    assert app.today().isoformat() == "2026-06-01"


# -- every rule code raised is asserted -----------------------------------------------------


def _codes_in_source() -> set[str]:
    """The `rule` of every FieldViolation credit's source can raise: Validator.require's
    third argument, Validator.add's and FieldViolation's second, and those servicekit's
    Validator helpers and the vocabulary give (`require_text`, `require_request_id`,
    `USCC_RULE`)."""
    codes: set[str] = set()
    uses: set[str] = set()
    for path in CREDIT_SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            uses.add(name)
            position = {"require": 2, "add": 1, "FieldViolation": 1}.get(name)
            if position is not None and len(node.args) > position:
                rule = node.args[position]
                if isinstance(rule, ast.Constant) and isinstance(rule.value, str):
                    codes.add(rule.value)
    if "require_text" in uses:
        codes |= {"required", "too_long", "control_character"}
    if "require_uscc" in uses:
        codes.add("uscc_check")
    return codes


def test_every_rule_code_credit_raises_is_asserted_by_a_unit_test() -> None:
    codes = _codes_in_source()
    assert {"uscc_check", "in_future", "beyond_horizon", "unknown_feed"} <= codes
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in UNIT_TESTS.glob("test_*.py")
        if p.name != Path(__file__).name
    ) + re.sub(
        r"def _codes_in_source.*", "", Path(__file__).read_text(encoding="utf-8"), flags=re.S
    )
    unasserted = {code for code in codes if f'"{code}")' not in tests}
    assert not unasserted, f"rule codes no unit test asserts: {sorted(unasserted)}"
