"""Every field error and every rule of casework, asserted on in-memory persistence: each
`(field, rule)` a handler or query reports (INVALID_ARGUMENT, every bad field at once, and
nothing written) and each RuleViolated the aggregates raise (FAILED_PRECONDITION, with its
zh-CN message). The last tests read the source and check that no code or message raised
there goes unasserted here."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AcknowledgeReferral,
    AcknowledgeWarning,
    AssignCase,
    CloseCase,
    CloseWarning,
    FlagTypicalCase,
    GiveFeedback,
    ReadComplainant,
    RecordJointMeeting,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    ShredPersonalData,
    StartInvestigation,
)
from casework.application.handlers.warnings import on_disclosure_overdue
from casework.domain.case import PersonalDataRetention
from casework.domain.warnings.rules import DISCLOSURE_OVERDUE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.entrypoints.grpc_api import CaseworkServicer
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.errors import InvalidArgument, RuleViolated
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.answers import answer
from services.casework.tests.support.campaign import ASSERTED_FIELD_RULES, ASSERTED_RULES_ZH
from services.casework.tests.support.scenario import (
    OFFICER,
    POLICE,
    WHEN,
    app_with_vault,
    close_complaint,
    complaint,
)
from services.casework.tests.unit import test_casework_public_errors as part_a

FORMAT_RULE = "unknown_format"
"""The servicer's own field rule (ExportMonthlyLedgers' format), asserted at the end."""
SOURCE = Path(__file__).resolve().parents[2] / "src" / "casework"
AUDITOR = Identity(Agency.AUDITOR, "auditor", "putian")
OFFICE = "putian-psb-licheng"

App = CaseworkApplication
Call = Callable[[App, str], object]
"""Calls the application on the scenario's case (a complaint of licheng, received)."""


@pytest.fixture
def app() -> CaseworkApplication:
    return app_with_vault(FakeClock(WHEN))


def received(app: CaseworkApplication) -> str:
    case_id: str = app.handle(OFFICER, complaint()).case_id
    return case_id


def log_size(app: CaseworkApplication) -> int:
    return app.recorder.max_notification_id() or 0


# -- field errors ------------------------------------------------------------------------------

FIELD_ERRORS: list[tuple[str, Call, set[tuple[str, str]]]] = [
    (
        "ReceiveComplaint",
        lambda app, _: app.handle(
            OFFICER,
            replace(
                complaint(""),
                channel="fax",
                unit="putian",
                category=" ",
                community_code="",
                company_uscc="",
                complainant_phone="12345",
                received_at=datetime(2026, 5, 6, 9, 15),  # noqa: DTZ001 (no offset: refused)
            ),
        ),
        {
            ("request_id", "required"),
            ("channel", "unknown_channel"),
            ("unit", "unknown_unit"),
            ("category", "required"),
            ("community_code", "subject_missing"),
            ("complainant_phone", contact.RULE),
            ("received_at", "time_format"),
        },
    ),
    (
        "ReceiveComplaint (a time outside the window)",
        lambda app, _: app.handle(
            OFFICER, replace(complaint(), received_at=WHEN + timedelta(days=2))
        ),
        {("received_at", "time_range")},
    ),
    (
        "AssignCase",
        lambda app, case: app.handle(OFFICER, AssignCase("", case, "putian", "", "")),
        {("request_id", "required"), ("unit", "unknown_unit")},
    ),
    (
        "StartInvestigation",
        lambda app, case: app.handle(OFFICER, StartInvestigation("", case)),
        {("request_id", "required")},
    ),
    (
        "ResolveCase",
        lambda app, case: app.handle(OFFICER, ResolveCase("r", case, " ")),
        {("result", "required")},
    ),
    (
        "GiveFeedback",
        lambda app, case: app.handle(OFFICER, GiveFeedback("f", case, "pigeon", "")),
        {("channel", "unknown_channel"), ("content", "required")},
    ),
    (
        "CloseCase",
        lambda app, case: app.handle(OFFICER, CloseCase("", case)),
        {("request_id", "required")},
    ),
    (
        "RecordJointMeeting",
        lambda app, case: app.handle(OFFICER, RecordJointMeeting("m", case, "2026-06-01", (), " ")),
        {("agencies", "required"), ("decision", "required")},
    ),
    (
        "FlagTypicalCase",
        lambda app, case: app.handle(OFFICER, FlagTypicalCase("", case, "典型")),
        {("request_id", "required")},
    ),
    (
        "ReferToPolice",
        lambda app, case: app.handle(
            OFFICER, ReferToPolice("p", case, "", "fraud", ("bank.pdf",), "")
        ),
        {("police_office", "required"), ("suspected_offence", "unknown_offence")},
    ),
    (
        "AcknowledgeReferral",
        lambda app, case: app.handle(POLICE, AcknowledgeReferral("", case)),
        {("request_id", "required")},
    ),
    (
        "ReportPoliceOutcome",
        lambda app, case: app.handle(POLICE, ReportPoliceOutcome("o", case, "solved", "")),
        {("outcome", "unknown_outcome")},
    ),
    (
        "ShredPersonalData",
        lambda app, case: app.handle(OFFICER, ShredPersonalData("", case)),
        {("request_id", "required")},
    ),
    (
        "ReadComplainant",
        lambda app, case: app.handle(OFFICER, ReadComplainant(case, "curiosity", "x" * 201)),
        {("purpose", "unknown_purpose"), ("note", "too_long")},
    ),
    (
        "AcknowledgeWarning",
        lambda app, _: app.handle(OFFICER, AcknowledgeWarning("", warning(app), "x" * 2001)),
        {("request_id", "required"), ("note", "too_long")},
    ),
    (
        "CloseWarning",
        lambda app, _: app.handle(
            OFFICER, CloseWarning("c", warning(app), ("p.jpg",) * 51, "x" * 2001)
        ),
        {("evidence_refs", "too_many"), ("note", "too_long")},
    ),
    (
        "ListCases",
        lambda app, _: queries.list_cases(app, OFFICER, "nowhere", "", False, "Putian PSB"),
        {("unit", "unknown_unit"), ("police_office", "police_office_format")},
    ),
    (
        "ListWarnings",
        lambda app, _: queries.list_warnings(app, OFFICER, "nowhere", "", False),
        {("unit", "unknown_unit")},
    ),
    (
        "ExportMonthlyLedgers",
        lambda app, _: queries.monthly_ledgers(app, OFFICER, "putian", 2019, 13),
        {("unit", "unknown_unit"), ("year", "year_range"), ("month", "month_range")},
    ),
    (
        "ListPersonalDataReads",
        lambda app, _: queries.list_personal_data_reads(
            app,
            AUDITOR,
            "putian",
            "not-a-case",
            datetime(2026, 5, 1),  # noqa: DTZ001 (no offset: refused)
            datetime(2026, 4, 1),  # noqa: DTZ001
            -1,
            1001,
        ),
        {
            ("unit", "unknown_unit"),
            ("case_id", "case_id_format"),
            ("since", "time_format"),
            ("until", "time_format"),
            ("after_read_id", "non_negative"),
            ("limit", "limit_range"),
        },
    ),
    (
        "ListPersonalDataReads (a period the wrong way round)",
        lambda app, _: queries.list_personal_data_reads(
            app, AUDITOR, "", "", WHEN, WHEN - timedelta(days=1), 0, 10
        ),
        {("until", "before_since")},
    ),
]


def warning(app: CaseworkApplication) -> str:
    """A disclosure_overdue warning of licheng (raised once, however often it is asked for)."""
    on_disclosure_overdue(
        app,
        DeliveryRef("casework.warnings.disclosure", "overdue", 1),
        community_code="LC-0001",
        unit="licheng",
        company="",
        year=2026,
        quarter=1,
    )
    return str(SupervisionWarning.create_id(DISCLOSURE_OVERDUE, "LC-0001", "2026Q1"))


@pytest.mark.parametrize(
    ("call", "expected"), [(c, e) for _, c, e in FIELD_ERRORS], ids=[n for n, _, _ in FIELD_ERRORS]
)
async def test_every_bad_field_is_named_at_once_and_nothing_is_written(
    app: CaseworkApplication, call: Call, expected: set[tuple[str, str]]
) -> None:
    case_id = received(app)
    warning(app)
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        await answer(call(app, case_id))
    assert {(v.field, v.rule) for v in caught.value.violations} == expected
    assert all(v.description and v.description_zh for v in caught.value.violations)
    assert log_size(app) == before


# -- rules of the domain -------------------------------------------------------------------------


def step(identity: Identity, command: Any) -> Callable[[App, str], object]:
    return lambda app, case: app.handle(identity, replace(command, case_id=case))


INVESTIGATE = step(OFFICER, StartInvestigation("s-i", ""))
RESOLVE = step(OFFICER, ResolveCase("s-r", "", "已责令公示"))
FEEDBACK = step(OFFICER, GiveFeedback("s-f", "", "phone", "已告知"))
REFER = step(OFFICER, ReferToPolice("s-p", "", OFFICE, "misappropriation", ("bank.pdf",), ""))
ACKNOWLEDGE = step(POLICE, AcknowledgeReferral("s-k", ""))
CLOSE = step(OFFICER, CloseCase("s-c", ""))

CASE_RULES: list[tuple[str, list[Call], Call, str]] = [
    (
        "nothing happens to a closed case",
        [INVESTIGATE, RESOLVE, FEEDBACK, CLOSE],
        step(OFFICER, AssignCase("a", "", "licheng", "", "林某")),
        "案件已办结，不能再进行操作",
    ),
    (
        "an investigation starts once",
        [INVESTIGATE],
        step(OFFICER, StartInvestigation("i", "")),
        "当前状态不能开始调查",
    ),
    (
        "a result needs an investigation",
        [],
        step(OFFICER, ResolveCase("r", "", "已责令公示")),
        "案件须在调查后才能形成处理结果",
    ),
    (
        "feedback tells the result",
        [INVESTIGATE],
        step(OFFICER, GiveFeedback("f", "", "phone", "已告知")),
        "须先形成处理结果再反馈投诉人",
    ),
    (
        "a case closes once resolved",
        [INVESTIGATE],
        step(OFFICER, CloseCase("c", "")),
        "案件须形成处理结果后方可办结",
    ),
    (
        "no closure without feedback",
        [INVESTIGATE, RESOLVE],
        step(OFFICER, CloseCase("c", "")),
        "未向投诉人反馈处理结果，不能办结",
    ),
    (
        "no closure while the police have not answered",
        [REFER, INVESTIGATE, RESOLVE, FEEDBACK, ACKNOWLEDGE],
        step(OFFICER, CloseCase("c", "")),
        "移送公安的案件尚未收到处理结果，不能办结",
    ),
    (
        "a case is referred once",
        [REFER],
        step(OFFICER, ReferToPolice("p", "", OFFICE, "other", ("more.pdf",), "")),
        "案件已移送公安",
    ),
    (
        "a referral carries its evidence",
        [],
        step(OFFICER, ReferToPolice("p", "", OFFICE, "other", (), "")),
        "移送须附证据材料",
    ),
    (
        "a referral is acknowledged once",
        [REFER, ACKNOWLEDGE],
        step(POLICE, AcknowledgeReferral("k", "")),
        "无待签收的移送",
    ),
    (
        "an outcome follows the acknowledgement",
        [REFER],
        step(POLICE, ReportPoliceOutcome("o", "", "filed", "立案")),
        "须先签收移送再反馈处理结果",
    ),
]


@pytest.mark.parametrize(
    ("steps", "call", "message_zh"),
    [(s, c, m) for _, s, c, m in CASE_RULES],
    ids=[n for n, _, _, _ in CASE_RULES],
)
def test_every_rule_of_a_case(
    app: CaseworkApplication, steps: list[Call], call: Call, message_zh: str
) -> None:
    case_id = received(app)
    for done in steps:
        done(app, case_id)
    before = log_size(app)
    with pytest.raises(RuleViolated) as caught:
        call(app, case_id)
    assert caught.value.message_zh == message_zh
    assert log_size(app) == before


def test_archiving_needs_a_closed_complaint_past_its_retention(app: CaseworkApplication) -> None:
    retention = PersonalDataRetention(days_after_closure=365)
    open_case = app.case(received(app))
    with pytest.raises(RuleViolated) as caught:
        open_case.archive(WHEN + timedelta(days=400), retention)
    assert caught.value.message_zh == "仅已办结的投诉案件可以归档"
    case_id = app.handle(OFFICER, complaint("c2")).case_id
    close_complaint(app, case_id)
    closed = app.case(case_id)
    with pytest.raises(RuleViolated) as caught:
        closed.archive(WHEN + timedelta(days=364), retention)
    assert caught.value.message_zh == "办结后的个人信息保存期限尚未届满"
    closed.archive(WHEN + timedelta(days=365), retention)
    assert closed.archived and closed.shredded


WARNING_RULES: list[tuple[str, list[Any], Any, str]] = [
    (
        "a closed warning is not acknowledged",
        [CloseWarning("c", "", ("p.jpg",), "")],
        AcknowledgeWarning("k", "", ""),
        "预警已办结，不能再签收",
    ),
    (
        "a warning is acknowledged once",
        [AcknowledgeWarning("k", "", "")],
        AcknowledgeWarning("k2", "", ""),
        "预警已签收",
    ),
    (
        "a warning is closed once",
        [CloseWarning("c", "", ("p.jpg",), "")],
        CloseWarning("c2", "", ("q.jpg",), ""),
        "预警已办结",
    ),
    (
        "a closure carries its evidence",
        [],
        CloseWarning("c", "", (" ",), ""),
        "预警办结须附整改佐证材料",
    ),
]


@pytest.mark.parametrize(
    ("steps", "command", "message_zh"),
    [(s, c, m) for _, s, c, m in WARNING_RULES],
    ids=[n for n, _, _, _ in WARNING_RULES],
)
def test_every_rule_of_a_warning(
    app: CaseworkApplication, steps: list[Any], command: Any, message_zh: str
) -> None:
    warning_id = warning(app)
    for done in steps:
        app.handle(OFFICER, replace(done, warning_id=warning_id))
    before = log_size(app)
    with pytest.raises(RuleViolated) as caught:
        app.handle(OFFICER, replace(command, warning_id=warning_id))
    assert caught.value.message_zh == message_zh
    assert log_size(app) == before


# -- nothing raised goes unasserted ---------------------------------------------------------------


def _sources() -> list[ast.AST]:
    return [ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SOURCE.rglob("*.py"))]


def test_every_field_rule_raised_in_the_source_is_asserted_here() -> None:
    """The rule codes of `Validator.require(ok, field, rule, …)` and `add(field, rule, …)` in
    casework's source, and those of servicekit's helpers it calls (request_id, instants),
    against the codes the table above asserts."""
    raised: set[str] = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            position = {"require": 2, "add": 1}.get(name)
            if position is not None and len(node.args) > position:
                rule = node.args[position]
                if isinstance(rule, ast.Constant) and isinstance(rule.value, str):
                    raised.add(rule.value)
                elif ast.unparse(rule) == "contact.RULE":
                    raised.add(contact.RULE)
            elif name == "require_request_id":
                raised.add("required")
            elif name == "require_instant":
                raised |= {"time_format", "time_range"}
            elif name == "require_text":
                raised |= {"required", "too_long", "control_character"}
    asserted = {rule for _, _, expected in FIELD_ERRORS for _, rule in expected}
    asserted |= ASSERTED_FIELD_RULES  # the campaign's (test_casework_campaign, _reports)
    asserted |= {rule for _, _, expected in part_a.FIELD_ERRORS for _, rule in expected}
    assert raised == asserted | {FORMAT_RULE}


def test_every_rule_violated_in_the_source_is_asserted_here() -> None:
    """Every RuleViolated(english, zh) the domain raises, by its zh-CN message."""
    raised = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "RuleViolated"
            ):
                zh = node.args[1]
                assert isinstance(zh, ast.Constant), ast.unparse(node)
                raised.add(zh.value)
    asserted = {m for *_, m in CASE_RULES} | {m for *_, m in WARNING_RULES}
    asserted |= ASSERTED_RULES_ZH  # the campaign's (test_casework_campaign, _reports)
    asserted |= {"仅已办结的投诉案件可以归档", "办结后的个人信息保存期限尚未届满"}
    asserted |= part_a.RULE_MESSAGES
    assert raised == asserted


def test_a_case_received_without_a_stated_time_is_received_now(
    app: CaseworkApplication,
) -> None:
    answer = app.handle(OFFICER, replace(complaint(), received_at=None))
    assert app.case(answer.case_id).received_at == WHEN
    assert datetime.fromisoformat(answer.due_at).astimezone(UTC) > WHEN


async def test_a_ledger_export_names_its_format(app: CaseworkApplication) -> None:
    """The servicer's own field: the files' format (csv or xlsx), refused before anything
    is read."""
    servicer = CaseworkServicer(app)
    request = pb.ExportMonthlyLedgersRequest(unit="licheng", year=2026, month=5, format="pdf")
    with pytest.raises(InvalidArgument) as caught:
        await servicer.ExportMonthlyLedgers(request, cast(Any, None))
    assert [(v.field, v.rule) for v in caught.value.violations] == [("format", FORMAT_RULE)]
