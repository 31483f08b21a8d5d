"""Due process (issue 13 item 6) on in-memory persistence: the notice of an intended penalty
and the company's statement and defence before ImposePenalty can decide (《行政处罚法》第四十四
条、第四十五条、第六十二条), objections to deductions and annulment when inspection withdraws a
finding, credit repair after the minimum display period and its removal from 信用中国, the
credit office deciding the serious-dishonesty list, and agencies' findings never touching a
company's credit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema
import pytest

from credit.adapters.contract_events import to_contract
from credit.adapters.feeds import repair_withdrawal
from credit.application.app import CreditApplication
from credit.application.commands import (
    ApplyForCreditRepair,
    ClassifyPenalty,
    DecideCreditRepair,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    ImposePenalty,
    ObjectToDeduction,
    PenaltyImposed,
    RevokePenalty,
    SubmitStatement,
    SweepDisplayPeriods,
)
from credit.application.queries import get_ledger, get_penalty_notice
from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty
from credit.domain.penalty_notice import PenaltyNotice
from credit.domain.rules import DEFAULT_RULES
from credit.entrypoints.consumers import subscriptions
from pubrev_contracts.events.inspection import FindingWithdrawnV1, ViolationFoundV1
from servicekit.attachments import AttachmentRef
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, RuleViolated
from servicekit.eventstore import CommandReceipt, DeliveryRef, fingerprint, to_jsonable
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.credit.tests.support.scenario import (
    COMPANY,
    WHEN,
    finding,
    notice_command,
    noticed,
    penalty_command,
    popo_app,
    stored_evidence,
)

OFFICER = Identity("property-bureau", "officer", "licheng")
OTHER_UNIT = Identity("property-bureau", "officer", "xianyou")
THE_COMPANY = Identity("property-company", "manager", "licheng", COMPANY)
OTHER_COMPANY = Identity("property-company", "manager", "licheng", "91110000600037341L")
OFFICE = Identity("credit-office", "officer", "licheng")
CITY_OFFICE = Identity("credit-office", "officer", "putian")
NUMBER = penalty_command().decision_number
ROOT = Path(__file__).resolve().parents[4]
SAMPLES = ROOT / "contracts" / "samples"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)  # Wednesday 6 May 2026, 10:30 in Putian


@pytest.fixture
def app(clock: FakeClock) -> CreditApplication:
    return popo_app(clock)


def refused(app: CreditApplication, identity: Identity, command: Any) -> set[tuple[str, str]]:
    written = app.recorder.max_notification_id()
    with pytest.raises(InvalidArgument) as caught:
        app.handle(identity, command)
    assert app.recorder.max_notification_id() == written
    return {(v.field, v.rule) for v in caught.value.violations}


def notify_today(app: CreditApplication, cmd: ImposePenalty | None = None, **changes: Any) -> str:
    """A notice served today for `cmd` (penalty_command() by default): its id."""
    notice = replace(notice_command(cmd or penalty_command(), notified_on=""), **changes)
    issued = app.handle(OFFICER, notice)
    return str(issued.notice_id)


def decide(app: CreditApplication, notice_id: str, **changes: Any) -> PenaltyImposed:
    result: PenaltyImposed = app.handle(
        OFFICER, replace(penalty_command(), notice_id=notice_id, **changes)
    )
    return result


# -- NotifyIntendedPenalty ---------------------------------------------------------------------


def test_a_notice_gives_the_configured_statement_period_by_default(app: CreditApplication) -> None:
    """5 working days (local configuration): Thursday 7, Friday 8, Saturday 9 May (a make-up
    working day), Monday 11 and Tuesday 12 May 2026."""
    issued = app.handle(OFFICER, notice_command(penalty_command(), notified_on=""))
    assert (issued.notified_on, issued.statement_deadline) == ("2026-05-06", "2026-05-12")
    assert "本地配置" in DEFAULT_RULES.statement.source
    longer = app.handle(
        OFFICER,
        replace(
            notice_command(penalty_command(), notified_on=""),
            request_id="n2",
            statement_deadline="2026-05-20",
        ),
    )
    assert longer.statement_deadline == "2026-05-20"
    assert app.handle(OFFICER, notice_command(penalty_command(), notified_on="")) == issued


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"request_id": ""}, {("request_id", "required")}),
        ({"party_name": " "}, {("party_name", "required")}),
        ({"facts": "事" * 2001}, {("facts", "too_long")}),
        ({"legal_basis": "依据\x00"}, {("legal_basis", "control_character")}),
        ({"content": ""}, {("content", "required")}),
        ({"party_uscc": "91350200776049653B"}, {("party_uscc", "uscc_check")}),
        ({"violation_kind": "E2"}, {("violation_kind", "not_company_kind")}),
        ({"severity": "grave"}, {("severity", "unknown_tier")}),
        ({"penalty_types": ("warning",)}, {("fine_fen", "fine_mismatch")}),
        ({"unit": "atlantis"}, {("unit", "unknown_unit")}),
        ({"notified_on": "6 May"}, {("notified_on", "date_format")}),
        ({"notified_on": "2026-05-07"}, {("notified_on", "in_future")}),
        ({"statement_deadline": "2026-02-30"}, {("statement_deadline", "date_format")}),
        ({"statement_deadline": "2026-05-11"}, {("statement_deadline", "too_short")}),
    ],
)
def test_notify_names_the_field_and_the_rule(
    app: CreditApplication, changes: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    notice = replace(notice_command(penalty_command(), notified_on=""), **changes)
    assert refused(app, OFFICER, notice) == expected


def test_attachments_are_references_to_stored_files(app: CreditApplication) -> None:
    good = stored_evidence(app)
    missing = replace(good, sha256="0" * 64)
    notice = notice_command(penalty_command(), notified_on="")
    assert refused(
        app,
        OFFICER,
        replace(
            notice,
            attachments=(
                replace(good, size=20 * 1024 * 1024 + 1),
                replace(good, media_type="application/x-msdownload"),
                replace(good, filename="申辩\x07.pdf"),
                missing,
            ),
        ),
    ) == {
        ("attachments[0].size", "size_range"),
        ("attachments[1].media_type", "attachment_type_not_allowed"),
        ("attachments[2].filename", "control_character"),
        ("attachments[3]", "not_stored"),
    }
    assert refused(app, OFFICER, replace(notice, attachments=(good,) * 21)) == {
        ("attachments", "too_many")
    }
    issued = app.handle(OFFICER, replace(notice, attachments=(good,)))
    view = get_penalty_notice(app, OFFICER, issued.notice_id)
    assert [a.sha256 for a in view.attachments] == [good.sha256]


def test_only_the_deciding_bureau_notifies(app: CreditApplication) -> None:
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_UNIT, notice_command(penalty_command(), notified_on=""))
    with pytest.raises(PermissionDenied):
        app.handle(THE_COMPANY, notice_command(penalty_command(), notified_on=""))


# -- SubmitStatement ---------------------------------------------------------------------------


def test_the_company_states_within_the_period_and_reads_its_notice(
    app: CreditApplication, clock: FakeClock
) -> None:
    notice = notify_today(app)
    evidence = stored_evidence(app)
    first = app.handle(
        THE_COMPANY, SubmitStatement("s1", notice, "系业主大会决定", attachments=(evidence,))
    )
    assert (first.statements, first.waived) == (1, False)
    assert (
        app.handle(
            THE_COMPANY, SubmitStatement("s1", notice, "系业主大会决定", attachments=(evidence,))
        )
        == first
    )
    clock.now = datetime(2026, 5, 12, 15, 59, tzinfo=UTC)  # 23:59 on the last day in Putian
    assert app.handle(THE_COMPANY, SubmitStatement("s2", notice, "补充证据")).statements == 2
    clock.now = datetime(2026, 5, 12, 16, 0, tzinfo=UTC)  # 00:00 on 13 May in Putian
    with pytest.raises(RuleViolated, match="statement period ended on 2026-05-12"):
        app.handle(THE_COMPANY, SubmitStatement("s3", notice, "逾期陈述"))
    view = get_penalty_notice(app, THE_COMPANY, notice)
    assert [(s.text, s.waives, len(s.attachments)) for s in view.statements] == [
        ("系业主大会决定", False, 1),
        ("补充证据", False, 0),
    ]
    assert (view.party_uscc, view.statement_deadline, view.decision_number) == (
        COMPANY,
        date(2026, 5, 12),
        "",
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            SubmitStatement("", "not-a-uuid", " "),
            {
                ("request_id", "required"),
                ("notice_id", "uuid_format"),
                ("text", "required"),
            },
        ),
        (SubmitStatement("s1", str(uuid4()), "意" * 5001), {("text", "too_long")}),
    ],
)
def test_submit_statement_names_the_field_and_the_rule(
    app: CreditApplication, command: SubmitStatement, expected: set[tuple[str, str]]
) -> None:
    assert refused(app, THE_COMPANY, command) == expected


def test_a_statement_is_the_named_companys_own(app: CreditApplication) -> None:
    notice = notify_today(app)
    with pytest.raises(NotFound, match="no notice"):
        app.handle(THE_COMPANY, SubmitStatement("s1", str(uuid4()), "陈述"))
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_COMPANY, SubmitStatement("s1", notice, "陈述"))
    with pytest.raises(PermissionDenied):
        get_penalty_notice(app, OTHER_COMPANY, notice)
    with pytest.raises(InvalidArgument) as bad:
        get_penalty_notice(app, THE_COMPANY, "x")
    assert [(v.field, v.rule) for v in bad.value.violations] == [("notice_id", "uuid_format")]
    with pytest.raises(NotFound):
        get_penalty_notice(app, THE_COMPANY, str(uuid4()))


def test_a_waiver_is_express_and_final(app: CreditApplication) -> None:
    """第六十二条: the party may expressly waive; then it states no more. A party that stated
    cannot waive the review of its statement."""
    waived = notify_today(app)
    assert app.handle(THE_COMPANY, SubmitStatement("w1", waived, "", waives=True)).waived
    with pytest.raises(RuleViolated, match="waived"):
        app.handle(THE_COMPANY, SubmitStatement("w2", waived, "改变主意"))
    stated = notify_today(app, request_id="n-2")
    app.handle(THE_COMPANY, SubmitStatement("s1", stated, "陈述"))
    with pytest.raises(RuleViolated, match="must be considered"):
        app.handle(THE_COMPANY, SubmitStatement("w3", stated, "", waives=True))


# -- ImposePenalty on its notice -----------------------------------------------------------------


def test_a_decision_without_a_notice_is_refused_naming_the_law(app: CreditApplication) -> None:
    with pytest.raises(RuleViolated) as caught:
        app.handle(OFFICER, penalty_command())
    assert "第六十二条" in caught.value.message and "第四十四条" in caught.value.message_zh
    with pytest.raises(NotFound, match="no notice"):
        app.handle(OFFICER, replace(penalty_command(), notice_id=str(uuid4())))
    assert refused(app, OFFICER, replace(penalty_command(), notice_id="12")) == {
        ("notice_id", "uuid_format")
    }
    assert refused(
        app, OFFICER, replace(penalty_command(), statement_consideration="考" * 2001)
    ) == {("statement_consideration", "too_long")}


def test_no_decision_within_the_statement_period_unless_the_company_was_heard(
    app: CreditApplication, clock: FakeClock
) -> None:
    notice = notify_today(app)
    with pytest.raises(RuleViolated, match="until 2026-05-12") as early:
        decide(app, notice)
    assert "第六十二条" in early.value.message
    clock.now = datetime(2026, 5, 13, 2, tzinfo=UTC)
    with pytest.raises(RuleViolated, match="until 2026-05-12"):  # dated within the period
        decide(app, notice, decision_date="2026-05-12")
    result = decide(app, notice, decision_date="2026-05-13")
    assert result.published
    view = get_penalty_notice(app, OFFICER, notice)
    assert (view.decision_number, view.statement_consideration) == (NUMBER, "")
    with pytest.raises(RuleViolated, match="concluded by decision"):
        decide(app, notice, request_id="p-2", decision_number="莆城管罚决〔2026〕99号")


def test_a_statement_must_be_considered_and_a_waiver_lets_the_decision_follow(
    app: CreditApplication,
) -> None:
    stated = notify_today(app)
    app.handle(THE_COMPANY, SubmitStatement("s1", stated, "架空层出租系业主大会决定"))
    with pytest.raises(RuleViolated, match="how its statement was considered") as caught:
        decide(app, stated)
    assert "第四十五条" in caught.value.message
    decide(app, stated, statement_consideration="未经依法表决，不予采纳")
    assert get_penalty_notice(app, OFFICER, stated).statement_consideration == (
        "未经依法表决，不予采纳"
    )
    waived = notify_today(app, request_id="n-2")
    app.handle(THE_COMPANY, SubmitStatement("w1", waived, "", waives=True))
    decide(app, waived, request_id="p-2", decision_number="莆城管罚决〔2026〕14号")


def test_a_decision_dated_before_the_notice_or_the_hearing_is_refused(
    app: CreditApplication, clock: FakeClock
) -> None:
    notice = notify_today(app)
    app.handle(THE_COMPANY, SubmitStatement("w1", notice, "", waives=True))
    with pytest.raises(RuleViolated, match="before the notice"):
        decide(app, notice, decision_date="2026-05-05")
    served = notify_today(
        app, request_id="n-2", notified_on="2026-05-01", statement_deadline="2026-06-30"
    )
    clock.now = WHEN + timedelta(days=1)
    app.handle(THE_COMPANY, SubmitStatement("s2", served, "陈述"))
    with pytest.raises(RuleViolated, match="before the party was heard"):
        decide(app, served, statement_consideration="不予采纳", decision_date="2026-05-06")


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"fine_fen": 6_000_000}, "fine 6000000 fen > 5000000"),
        ({"confiscated_fen": 2_000_000}, "confiscation 2000000 fen > 1234567"),
        ({"severity": "serious"}, "tier serious > general"),
        (
            {"penalty_types": ("warning", "fine", "business_suspension")},
            "category business_suspension not notified",
        ),
    ],
)
def test_nothing_heavier_than_notified_article_45(
    app: CreditApplication, changes: dict[str, Any], what: str
) -> None:
    """第四十五条: no heavier penalty because of the statement and defence; a heavier one
    needs a new notice (第四十四条)."""
    notice = notify_today(app)
    app.handle(THE_COMPANY, SubmitStatement("s1", notice, "陈述"))
    with pytest.raises(RuleViolated, match="heavier than notified") as caught:
        decide(app, notice, statement_consideration="不予采纳", **changes)
    assert what in caught.value.message and "第四十五条" in caught.value.message_zh


def test_a_lighter_decision_follows_the_statement(app: CreditApplication) -> None:
    notice = notify_today(app)
    app.handle(THE_COMPANY, SubmitStatement("s1", notice, "已主动退还收益"))
    lighter = decide(
        app,
        notice,
        statement_consideration="部分采纳，从轻处罚",
        penalty_types=("warning",),
        content="警告",
        fine_fen=0,
        confiscated_fen=0,
        severity="minor",
    )
    assert not lighter.published


@pytest.mark.parametrize(
    "changes",
    [{"party_uscc": "91110000600037341L"}, {"violation_kind": "B3"}, {"unit": "hanjiang"}],
)
def test_a_notice_decides_only_its_own_party_unit_and_violation(
    app: CreditApplication, changes: dict[str, Any]
) -> None:
    notice = notify_today(app)
    app.handle(THE_COMPANY, SubmitStatement("w1", notice, "", waives=True))
    city = Identity("property-bureau", "officer", "putian")
    with pytest.raises(RuleViolated, match="another party, unit or violation"):
        app.handle(city, replace(penalty_command(), notice_id=notice, **changes))


def test_a_decision_recorded_before_notices_existed_is_answered_on_its_retry(
    app: CreditApplication,
) -> None:
    """Its receipt's fingerprint is over the command without the two new fields: a retry
    across the deployment gets the first answer, not a refusal for its missing notice."""
    cmd = penalty_command()
    before = {
        k: v
        for k, v in to_jsonable(cmd).items()
        if k not in ("notice_id", "statement_consideration")
    }
    answer = {
        "penalty_id": "p1",
        "display_until": "2027-05-06",
        "repair_from": "2026-08-06",
        "published": True,
    }
    app.save(CommandReceipt("ImposePenalty", cmd.request_id, fingerprint(before), answer))
    assert app.handle(OFFICER, cmd) == PenaltyImposed("p1", "2027-05-06", "2026-08-06", True)
    with pytest.raises(RuleViolated, match="notified"):  # another request, no notice
        app.handle(OFFICER, replace(cmd, request_id="p-new"))


def test_the_notice_on_its_own() -> None:
    """The aggregate, without the application: the waiver, the deadline and the decision."""
    notice = PenaltyNotice.issue(
        DEFAULT_RULES.statement,
        request_id="n1",
        party_name="莆田市荔园物业服务有限公司",
        party_uscc=COMPANY,
        violation_kind="C1",
        facts="擅自利用架空层经营",
        legal_basis="《物业管理条例》第六十三条",
        penalty_types=["warning"],
        content="警告",
        fine_fen=0,
        confiscated_fen=0,
        severity="general",
        unit="licheng",
        notified_on=date(2026, 5, 6),
        statement_deadline=None,
        attachments=(),
        today=date(2026, 5, 6),
    )
    assert notice.id == PenaltyNotice.create_id("n1")
    assert not notice.heard and notice.statement_deadline == date(2026, 5, 12)
    notice.submit_statement("", (), True, WHEN)
    assert notice.heard and notice.waived
    notice.decide(
        decision_number="文1",
        party_uscc=COMPANY,
        unit="licheng",
        violation_kind="C1",
        penalty_types=["warning"],
        fine_fen=0,
        confiscated_fen=0,
        severity="general",
        decision_date=date(2026, 5, 6),
        statement_consideration="",
    )
    with pytest.raises(RuleViolated, match="decided already"):
        notice.submit_statement("迟到的陈述", (), False, WHEN)


# -- objections to deductions, and findings withdrawn -------------------------------------------


def test_an_upheld_objection_annuls_the_deduction(app: CreditApplication) -> None:
    finding(app, "f1", "B3", "general")
    evidence = stored_evidence(app, "入账凭证.pdf")
    filed = app.handle(
        THE_COMPANY, ObjectToDeduction("o1", COMPANY, "f1", "收入已入账", (evidence,))
    )
    assert (filed.finding_id, filed.unit) == ("f1", "licheng")
    with pytest.raises(RuleViolated, match="objected to already"):
        app.handle(THE_COMPANY, ObjectToDeduction("o2", COMPANY, "f1", "再次异议"))
    decided = app.handle(OFFICE, DecideDeductionObjection("d1", COMPANY, "f1", True, "凭证属实"))
    assert (decided.upheld, decided.points_restored, decided.score) == (True, 4, 100)
    with pytest.raises(RuleViolated, match="awaits a decision"):
        app.handle(OFFICE, DecideDeductionObjection("d2", COMPANY, "f1", False, "改判"))
    assert not finding(app, "f1", "B3", "general")  # redelivered: never deducted again
    view = get_ledger(app, OFFICE, COMPANY)
    assert [e.type for e in view.entries] == ["deducted", "objected", "annulled"]
    [annulled] = [
        to_contract(e)
        for e in app.repository.event_store.get(CreditLedger.create_id(COMPANY))
        if isinstance(e, CreditLedger.DeductionAnnulled)
    ]
    assert annulled is not None
    assert annulled.model_dump()["cause"] == "objection_upheld"


def test_a_rejected_objection_leaves_the_deduction(app: CreditApplication) -> None:
    finding(app, "f1", "B3", "general")
    app.handle(THE_COMPANY, ObjectToDeduction("o1", COMPANY, "f1", "收入已入账"))
    bureau = Identity("property-bureau", "head", "licheng")
    decided = app.handle(bureau, DecideDeductionObjection("d1", COMPANY, "f1", False, "不成立"))
    assert (decided.upheld, decided.points_restored, decided.score) == (False, 0, 96)
    with pytest.raises(RuleViolated, match="objected to already"):
        app.handle(THE_COMPANY, ObjectToDeduction("o2", COMPANY, "f1", "再次异议"))


def test_an_objection_upheld_after_the_display_restored_it_gives_nothing_twice(
    app: CreditApplication, clock: FakeClock
) -> None:
    finding(app, "f1", "A1", "minor")
    app.handle(THE_COMPANY, ObjectToDeduction("o1", COMPANY, "f1", "不应扣分"))
    clock.now = WHEN + timedelta(days=100)  # a minor record is restored after 3 months
    app.handle(Identity("operator", "scheduler", "putian"), SweepDisplayPeriods("sweep-1"))
    decided = app.handle(OFFICE, DecideDeductionObjection("d1", COMPANY, "f1", True, "不应扣分"))
    assert (decided.points_restored, decided.score) == (0, 100)


def test_objections_are_the_companys_and_decided_by_the_deductions_unit(
    app: CreditApplication,
) -> None:
    finding(app, "f1", "B3", "general")
    with pytest.raises(NotFound, match="no credit record"):
        app.handle(OTHER_COMPANY, ObjectToDeduction("o1", "91110000600037341L", "f1", "异议"))
    with pytest.raises(NotFound, match="no standing deduction"):
        app.handle(THE_COMPANY, ObjectToDeduction("o1", COMPANY, "f9", "异议"))
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_COMPANY, ObjectToDeduction("o1", COMPANY, "f1", "异议"))
    app.handle(THE_COMPANY, ObjectToDeduction("o1", COMPANY, "f1", "异议"))
    for outsider in (Identity("credit-office", "officer", "xianyou"), THE_COMPANY):
        with pytest.raises(PermissionDenied):
            app.handle(outsider, DecideDeductionObjection("d1", COMPANY, "f1", True, "成立"))
    assert refused(app, THE_COMPANY, ObjectToDeduction("", "123", "", " ")) == {
        ("request_id", "required"),
        ("company_uscc", "uscc_check"),
        ("finding_id", "required"),
        ("reason", "required"),
    }
    assert refused(app, OFFICE, DecideDeductionObjection("d1", COMPANY, "f" * 101, True, "")) == {
        ("finding_id", "too_long"),
        ("reason", "required"),
    }


def test_a_withdrawn_finding_annuls_its_deduction_once(app: CreditApplication) -> None:
    """inspection's FindingWithdrawn, through the consumer's own table: annulled once,
    tracked; a withdrawal with nothing to annul is tracked too."""
    finding(app, "f1", "C1", "serious")
    handlers = {t: h for s in subscriptions(app) for t, h in s.handlers.items()}
    finding_id = str(uuid4())
    finding(app, finding_id, "C1", "serious")
    withdrawn = FindingWithdrawnV1(
        aggregate_id=finding_id,
        aggregate_version=3,
        unit="licheng",
        occurred_at=WHEN,
        community_code="LC-0001",
        company_uscc=COMPANY,
        kind="C1",
        reason="企业异议成立，撤销该发现",
        withdrawn_at=WHEN,
    )
    delivery = DeliveryRef("credit.ledger", "inspection-0", 7)
    assert handlers[FindingWithdrawnV1](withdrawn, delivery)
    assert not handlers[FindingWithdrawnV1](withdrawn, delivery)  # redelivered: skipped
    ledger = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    assert ledger is not None and ledger.score == 88 and finding_id in ledger.annulled_ids
    again = DeliveryRef("credit.ledger", "inspection-0", 8)
    assert app.apply_withdrawal(finding_id, COMPANY, "重复", again)  # tracked, no change
    assert app.apply_withdrawal("f9", "91110000600037341L", "无", DeliveryRef("c", "p", 1))
    assert not app.apply_withdrawal("f1", "", "无企业", DeliveryRef("c", "p", 2))
    assert app.find(CreditLedger.create_id(COMPANY), CreditLedger).version == ledger.version  # type: ignore[union-attr]


def test_an_agencys_finding_never_touches_a_companys_credit(app: CreditApplication) -> None:
    """Issue 13 item 5: ViolationFound with party "agency" (E1–E3, plan 二（五）) goes to
    智慧监督; credit's consumer ignores it, even when a company is named."""
    handlers = {t: h for s in subscriptions(app) for t, h in s.handlers.items()}
    sample = json.loads(
        (SAMPLES / "pubrev.inspection.ViolationFound.v1.json").read_text(encoding="utf-8")
    )
    agency = ViolationFoundV1.model_validate(
        sample
        | {"party": "agency", "agency_unit": "licheng", "kind": "E1", "company_uscc": COMPANY}
    )
    assert not handlers[ViolationFoundV1](agency, DeliveryRef("credit.ledger", "x", 1))
    assert app.find(CreditLedger.create_id(COMPANY), CreditLedger) is None
    company = ViolationFoundV1.model_validate(sample | {"company_uscc": COMPANY})
    assert handlers[ViolationFoundV1](company, DeliveryRef("credit.ledger", "x", 2))
    assert app.find(CreditLedger.create_id(COMPANY), CreditLedger) is not None


# -- credit repair (信用修复) ---------------------------------------------------------------------


def test_repair_after_the_minimum_display_removes_the_record(
    app: CreditApplication, clock: FakeClock
) -> None:
    """DOMAIN.md §6: a general penalty (repair_from 2026-08-06) may be repaired after its
    3 months; the credit office approves; the record's withdrawal goes to 信用中国."""
    app.handle(OFFICER, noticed(app, penalty_command()))
    apply = ApplyForCreditRepair("a1", NUMBER, "已缴纳罚款并整改")
    clock.now = datetime(2026, 8, 5, 15, 59, tzinfo=UTC)  # 23:59 on 5 August in Putian
    with pytest.raises(RuleViolated, match="from 2026-08-06"):
        app.handle(THE_COMPANY, apply)
    clock.now = datetime(2026, 8, 5, 16, 0, tzinfo=UTC)
    applied = app.handle(THE_COMPANY, replace(apply, attachments=(stored_evidence(app),)))
    assert applied.applied_on == "2026-08-06"
    with pytest.raises(RuleViolated, match="awaits its decision"):
        app.handle(THE_COMPANY, replace(apply, request_id="a2"))
    with pytest.raises(PermissionDenied):
        app.handle(
            Identity("credit-office", "officer", "xianyou"),
            DecideCreditRepair("r1", NUMBER, True, "符合条件"),
        )
    rejected = app.handle(OFFICE, DecideCreditRepair("r1", NUMBER, False, "罚款未缴清"))
    assert not rejected.approved
    app.handle(THE_COMPANY, replace(apply, request_id="a3"))  # applies again
    approved = app.handle(CITY_OFFICE, DecideCreditRepair("r2", NUMBER, True, "符合修复条件"))
    assert (approved.approved, approved.decided_on) == (True, "2026-08-06")
    for again in (replace(apply, request_id="a4"), DecideCreditRepair("r3", NUMBER, True, "再")):
        who = THE_COMPANY if isinstance(again, ApplyForCreditRepair) else OFFICE
        with pytest.raises(RuleViolated, match="repaired on 2026-08-06"):
            app.handle(who, again)
    with pytest.raises(RuleViolated, match="repaired on 2026-08-06"):
        app.handle(OFFICER, ClassifyPenalty("c1", NUMBER, "serious", "2027-05-05", "复核"))
    [decided] = [
        e
        for e in app.repository.event_store.get(Penalty.create_id(NUMBER))
        if isinstance(e, Penalty.RepairDecided) and e.approved
    ]
    record = repair_withdrawal(decided)
    schema = json.loads((ROOT / "contracts" / "feeds" / "creditchina.schema.json").read_text())
    jsonschema.validate(record, schema)
    assert (record["withdraws"], record["cause"], record["withdrawn_on"]) == (
        f"penalty:{NUMBER}",
        "repaired",
        "2026-08-06",
    )
    jsonschema.validate(record | {"cause": "not_published"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in record.items() if k != "withdrawn_on"}, schema)


def test_nothing_to_repair_for_a_minor_revoked_or_ended_record(
    app: CreditApplication, clock: FakeClock
) -> None:
    minor = replace(penalty_command("莆城管罚决〔2026〕21号"), severity="minor")
    app.handle(OFFICER, noticed(app, minor))
    revoked = penalty_command("莆城管罚决〔2026〕22号")
    app.handle(OFFICER, noticed(app, revoked))
    app.handle(OFFICER, RevokePenalty("rv", revoked.decision_number, "复议撤销"))
    ended = penalty_command("莆城管罚决〔2026〕23号")
    app.handle(OFFICER, noticed(app, ended))
    clock.now = datetime(2027, 5, 6, 2, tzinfo=UTC)
    for number, why in (
        (minor.decision_number, "not published"),
        (revoked.decision_number, "is revoked"),
        (ended.decision_number, "display ended on 2027-05-06"),
    ):
        with pytest.raises(RuleViolated, match=why):
            app.handle(THE_COMPANY, ApplyForCreditRepair(f"a-{number}", number, "申请修复"))
    with pytest.raises(RuleViolated, match="no application"):
        app.handle(OFFICE, DecideCreditRepair("r1", ended.decision_number, True, "符合"))
    with pytest.raises(NotFound):
        app.handle(THE_COMPANY, ApplyForCreditRepair("a9", "无此文号", "申请修复"))
    with pytest.raises(PermissionDenied):
        app.handle(OTHER_COMPANY, ApplyForCreditRepair("a9", ended.decision_number, "申请"))
    assert refused(app, THE_COMPANY, ApplyForCreditRepair("", "", "")) == {
        ("request_id", "required"),
        ("decision_number", "required"),
        ("statement", "required"),
    }
    assert refused(app, OFFICE, DecideCreditRepair("r1", "文" * 65, True, " ")) == {
        ("decision_number", "too_long"),
        ("reason", "required"),
    }


# -- the serious-dishonesty list (联合奖惩) ------------------------------------------------


def test_the_credit_office_decides_a_proposal_of_its_unit(app: CreditApplication) -> None:
    finding(app, "f1", "C1", "serious")
    with pytest.raises(RuleViolated, match="no proposal"):
        app.handle(OFFICE, DecideSeriousDishonesty("d1", COMPANY, True, "列入"))
    finding(app, "f2", "C2", "serious")
    for outsider in (OFFICER, Identity("credit-office", "officer", "xianyou"), THE_COMPANY):
        with pytest.raises(PermissionDenied):
            app.handle(outsider, DecideSeriousDishonesty("d1", COMPANY, True, "列入"))
    assert refused(app, OFFICE, DecideSeriousDishonesty("", "X", True, "")) == {
        ("request_id", "required"),
        ("company_uscc", "uscc_check"),
        ("reason", "required"),
    }
    with pytest.raises(NotFound):
        app.handle(OFFICE, DecideSeriousDishonesty("d1", "91110000600037341L", True, "列入"))
    decided = app.handle(OFFICE, DecideSeriousDishonesty("d1", COMPANY, True, "经审定列入"))
    assert decided.listed and get_ledger(app, OFFICE, COMPANY).seriously_dishonest


def test_the_samples_of_credits_new_events_carry_their_evidence() -> None:
    statement = json.loads(
        (SAMPLES / "pubrev.credit.PenaltyStatementSubmitted.v1.json").read_text(encoding="utf-8")
    )
    [ref] = statement["attachments"]
    assert set(ref) == {"sha256", "size", "media_type", "filename"}
    assert "text" not in statement  # the statement itself stays in credit


def test_evidence_is_carried_as_a_plain_reference() -> None:
    e = AttachmentRef("a" * 64, 10, "application/pdf", "x.pdf")
    assert e.as_dict() == {
        "sha256": "a" * 64,
        "size": 10,
        "media_type": "application/pdf",
        "filename": "x.pdf",
    }
    assert AttachmentRef.from_dict(e.as_dict()) == e
