"""Every field error and every rule of issue 13's part A in casework (LodgeComplaint,
GetComplaintStatus, PublishTypicalCase, ListTypicalCases, RecordInterview, ListInterviews,
the files of a resolution), asserted on in-memory persistence: each `(field, rule)`
reported at once with nothing written, each RuleViolated by its zh-CN message with nothing
written. test_casework_errors reads the source and finds each of them asserted here
(`FIELD_ERRORS`, `RULE_MESSAGES`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from casework.application import queries
from casework.application.access import POLICY
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    GetComplaintStatus,
    PublishTypicalCase,
    RecordInterview,
    ResolveCase,
    StartInvestigation,
)
from casework.domain.case import Case, CaseTimeLimits
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.attachments import MAX_ATTACHMENTS, AttachmentRef
from servicekit.errors import InvalidArgument, RuleViolated
from servicekit.identity import Identity
from servicekit.policy import RateLimiter
from servicekit.testing import FakeClock
from services.casework.tests.support.answers import answer
from services.casework.tests.support.lodging import (
    COMMITTEE,
    COMMUNITY,
    PUBLIC,
    USCC,
    closed_typical,
    lodge,
    lodging,
    register_community,
)
from services.casework.tests.support.scenario import (
    HEAD,
    NAME,
    OFFICER,
    PHONE,
    WHEN,
    app_with_vault,
    close_complaint,
    complaint,
)

CITY_HEAD = Identity(Agency.PROPERTY_BUREAU, "head", "putian")
App = CaseworkApplication
Call = Callable[[App, str], object]
"""Calls the application; the case given is a complaint of licheng under investigation."""
GOOD_HASH = "0" * 64


@pytest.fixture(autouse=True)
def fresh_front_end_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(POLICY, "limiter", RateLimiter(10_000))


@pytest.fixture
def app() -> CaseworkApplication:
    app = app_with_vault(FakeClock(WHEN))
    register_community(app)
    return app


def log_size(app: CaseworkApplication) -> int:
    return app.recorder.max_notification_id() or 0


def interview(**changes: Any) -> RecordInterview:
    return replace(
        RecordInterview("iv", "company", USCC, "licheng", "事由", (), (), "2026-05-05", "结果", ()),
        **changes,
    )


def publication(case_id: str, **changes: Any) -> PublishTypicalCase:
    return replace(
        PublishTypicalCase("pub", case_id, "某公司案", "已整改", "", ""),
        **changes,
    )


FIELD_ERRORS: list[tuple[str, Call, set[tuple[str, str]]]] = [
    (
        "LodgeComplaint",
        lambda app, case: app.handle(
            PUBLIC,
            replace(
                lodging(""),
                community_code="小区",
                category=" ",
                description=" ",
                complainant_name="王\t某",
                complainant_phone="12345",
            ),
        ),
        {
            ("request_id", "required"),
            ("community_code", "code_format"),
            ("category", "required"),
            ("description", "required"),
            ("complainant_name", "control_character"),
            ("complainant_phone", contact.RULE),
        },
    ),
    (
        "LodgeComplaint (texts too long, a community not registered)",
        lambda app, case: app.handle(
            PUBLIC,
            replace(
                lodging(),
                community_code="LC-9999",
                complainant_name="王" * 51,
                description="多" * 2001,
            ),
        ),
        {
            ("community_code", "unknown_community"),
            ("complainant_name", "too_long"),
            ("description", "too_long"),
        },
    ),
    (
        "LodgeComplaint (without a name)",
        lambda app, case: app.handle(PUBLIC, replace(lodging(), complainant_name="")),
        {("complainant_name", "required")},
    ),
    (
        "LodgeComplaint (files: too large and of a kind never stored, not stored, too many)",
        lambda app, case: app.handle(
            PUBLIC,
            lodging(
                attachments=(
                    AttachmentRef(GOOD_HASH, 20 * 1024 * 1024 + 1, "application/zip", "x.zip"),
                    AttachmentRef(GOOD_HASH, 10, "image/png", "p.png"),
                    *[AttachmentRef(GOOD_HASH, 10, "image/png", "p.png")] * MAX_ATTACHMENTS,
                )
            ),
        ),
        {
            ("attachments", "too_many"),
            ("attachments[0].size", "attachment_size"),
            ("attachments[0].media_type", "attachment_type_not_allowed"),
            *((f"attachments[{n}]", "attachment_not_stored") for n in range(1, MAX_ATTACHMENTS)),
        },
    ),
    (
        "GetComplaintStatus",
        lambda app, case: app.handle(PUBLIC, GetComplaintStatus("abc", "")),
        {("tracking_number", "tracking_number_format"), ("phone", contact.RULE)},
    ),
    (
        "PublishTypicalCase",
        lambda app, case: app.handle(
            HEAD,
            publication(
                case,
                request_id="",
                title="",
                summary="\x00",
                company_uscc="91350200776049653B",
                published_on="20260601",
            ),
        ),
        {
            ("request_id", "required"),
            ("title", "required"),
            ("summary", "control_character"),
            ("company_uscc", "uscc_check"),
            ("published_on", "date_format"),
        },
    ),
    (
        "PublishTypicalCase (too long, a day that does not exist)",
        lambda app, case: app.handle(
            HEAD,
            publication(
                case,
                title="题" * 101,
                summary="要" * 2001,
                published_on="2026-02-30",
            ),
        ),
        {("title", "too_long"), ("summary", "too_long"), ("published_on", "date_format")},
    ),
    (
        "RecordInterview (a company)",
        lambda app, case: app.handle(
            HEAD,
            interview(
                request_id="",
                subject="91350200776049653B",
                unit="atlantis",
                reason="",
                outcome=" ",
                warning_ids=("b1d5e3c2-0000-4000-8000-000000000000",),
                finding_ids=("not-a-uuid",),
                held_on="5/5/2026",
                attachments=(AttachmentRef(GOOD_HASH, 10, "image/png", "p.png"),),
            ),
        ),
        {
            ("request_id", "required"),
            ("subject", "uscc_check"),
            ("unit", "unknown_unit"),
            ("reason", "required"),
            ("outcome", "required"),
            ("warning_ids[0]", "unknown_warning"),
            ("finding_ids[0]", "finding_id_format"),
            ("held_on", "date_format"),
            ("attachments[0]", "attachment_not_stored"),
        },
    ),
    (
        "RecordInterview (a kind, a unit, a township)",
        lambda app, case: app.handle(
            HEAD, interview(subject_kind="person", subject="张三", unit="putian")
        ),
        {("subject_kind", "unknown_subject_kind"), ("unit", "unknown_unit")},
    ),
    (
        "RecordInterview (a unit that is not a county)",
        lambda app, case: app.handle(
            CITY_HEAD, interview(subject_kind="unit", subject="putian", unit="")
        ),
        {("subject", "unknown_unit"), ("unit", "unknown_unit")},
    ),
    (
        "RecordInterview (a township without its name)",
        lambda app, case: app.handle(HEAD, interview(subject_kind="township", subject="")),
        {("subject", "required")},
    ),
    (
        "ListCommunityComplaints",
        lambda app, case: queries.list_community_complaints(app, COMMITTEE, "社区"),
        {("community_code", "code_format")},
    ),
    (
        "ListTypicalCases",
        lambda app, case: queries.list_typical_cases(app, PUBLIC, 1999, "atlantis"),
        {("year", "year_range"), ("unit", "unknown_unit")},
    ),
    (
        "ListInterviews",
        lambda app, case: queries.list_interviews(app, HEAD, "atlantis", 2101),
        {("year", "year_range"), ("unit", "unknown_unit")},
    ),
    (
        "ResolveCase (a file not stored)",
        lambda app, case: app.handle(
            OFFICER,
            ResolveCase(
                "r", case, "已退还", (AttachmentRef(GOOD_HASH, 10, "application/pdf", "a.pdf"),)
            ),
        ),
        {("attachments[0]", "attachment_not_stored")},
    ),
]


@pytest.mark.parametrize(
    ("call", "expected"),
    [(c, e) for _, c, e in FIELD_ERRORS],
    ids=[n for n, _, _ in FIELD_ERRORS],
)
async def test_every_field_error(app: CaseworkApplication, call: Call, expected: set[Any]) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    app.handle(OFFICER, StartInvestigation("i", case_id))
    before = log_size(app)
    with pytest.raises(InvalidArgument) as caught:
        await answer(call(app, case_id))
    assert {(v.field, v.rule) for v in caught.value.violations} == expected
    assert all(v.description_zh for v in caught.value.violations)
    assert log_size(app) == before


# -- rules -------------------------------------------------------------------------------------


def typical_case(app: CaseworkApplication) -> str:
    case_id = lodge(app).case_id
    closed_typical(app, case_id)
    return case_id


def refused(app: CaseworkApplication, identity: Identity, command: object) -> str:
    before = log_size(app)
    with pytest.raises(RuleViolated) as caught:
        app.handle(identity, command)
    assert log_size(app) == before
    return caught.value.message_zh


def test_only_a_closed_typical_case_is_published_once(app: CaseworkApplication) -> None:
    open_case = lodge(app).case_id
    assert refused(app, HEAD, publication(open_case)) == "仅已办结的案件可作为典型案例通报曝光"
    closed = lodge(app, request_id="l2").case_id
    closed_typical(app, closed, "x")
    plain = app.handle(OFFICER, complaint("c2")).case_id
    close_complaint(app, plain, "y")
    assert refused(app, HEAD, publication(plain)) == "案件未列为典型案例，不能通报曝光"
    app.handle(HEAD, publication(closed))
    assert refused(app, HEAD, publication(closed, request_id="again")) == "该典型案例已通报曝光"


def test_a_publication_is_dated_from_closure_to_today(app: CaseworkApplication) -> None:
    case_id = typical_case(app)
    tomorrow = (WHEN + timedelta(days=1)).date().isoformat()
    assert refused(app, HEAD, publication(case_id, published_on=tomorrow)) == "通报日期不能晚于今天"
    assert (
        refused(app, HEAD, publication(case_id, published_on="2026-05-01"))
        == "通报日期不能早于案件办结日期"
    )


def test_a_publication_names_the_cases_company_and_no_complainant(
    app: CaseworkApplication,
) -> None:
    case_id = typical_case(app)
    other = "91110000600037341L"
    assert (
        refused(app, HEAD, publication(case_id, company_uscc=other))
        == "通报的物业服务企业须为本案涉及的企业"
    )
    for text in (f"投诉人{NAME}反映", f"联系电话{PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}"):
        assert (
            refused(app, HEAD, publication(case_id, summary=text))
            == "典型案例不得公开投诉人的姓名或电话"
        )
    for text in ("物业经理电话13812345678", "身份证号350302199001011234"):
        assert (
            refused(app, HEAD, publication(case_id, title=text[:40]))
            == "典型案例不得包含电话号码或身份证号码"
        )


def test_an_interview_is_recorded_once_held_with_its_units_warnings(
    app: CaseworkApplication,
) -> None:
    assert refused(app, HEAD, interview(held_on="2026-05-07")) == "约谈尚未举行，不能登记"
    elsewhere = SupervisionWarning(
        "repeat_violations", "xianyou", "company", USCC, "2026", {}, "v", WHEN
    )
    app.record(elsewhere)
    assert (
        refused(app, CITY_HEAD, interview(warning_ids=(str(elsewhere.id),)))
        == "关联的预警不属于本台账所属单位"
    )
    # licheng's bureau does not read xianyou's warnings: to it, the warning does not exist.
    with pytest.raises(InvalidArgument) as unknown:
        app.handle(HEAD, interview(warning_ids=(str(elsewhere.id),)))
    assert [(v.field, v.rule) for v in unknown.value.violations] == [
        ("warning_ids[0]", "unknown_warning")
    ]
    assert (
        refused(app, CITY_HEAD, interview(subject_kind="unit", subject="licheng", unit="xianyou"))
        == "约谈县（区、管委会）的记录须登记在被约谈单位名下"
    )


def test_the_domain_refuses_what_the_handlers_never_ask() -> None:
    """Guards the handlers cannot reach (they pick the ledger and register by the day, and
    the policy keeps a county from recording its own interview), by their messages."""
    on = date(2026, 5, 5)
    ledger = InterviewLedger("licheng", 2026)
    messages = []
    for call in (
        lambda: ledger.record(
            "i", "licheng", "company", USCC, "r", (), (), date(2025, 5, 5), "o", (), on, WHEN
        ),
        lambda: ledger.record(
            "i", "licheng", "unit", "licheng", "r", (), (), on, "o", (), on, WHEN
        ),
        lambda: Case.lodge_complaint(
            "T", "licheng", COMMUNITY, USCC, "c", "d", WHEN, "", CaseTimeLimits()
        ),
    ):
        with pytest.raises(RuleViolated) as caught:
            call()
        messages.append(caught.value.message_zh)
    case = Case.receive_complaint(
        "complaint:x",
        "phone",
        False,
        "licheng",
        COMMUNITY,
        USCC,
        "c",
        "d",
        WHEN,
        "s",
        CaseTimeLimits(),
    )
    case.status, case.typical = "closed", True
    with pytest.raises(RuleViolated) as caught:
        TypicalCases(2026).publish(case, "t", "s", "", date(2027, 1, 1), date(2027, 1, 1))
    messages.append(caught.value.message_zh)
    assert messages == [
        "约谈须登记在举行日期所在年度的台账",
        "县（区、管委会）由市级物业管理主管部门约谈",
        "公众投诉须留有投诉人信息，以便反馈处理结果和查询办理进度",
        "通报须登记在通报日期所在年度",
    ]


RULE_MESSAGES = {
    "仅已办结的案件可作为典型案例通报曝光",
    "案件未列为典型案例，不能通报曝光",
    "该典型案例已通报曝光",
    "通报日期不能晚于今天",
    "通报日期不能早于案件办结日期",
    "通报的物业服务企业须为本案涉及的企业",
    "典型案例不得公开投诉人的姓名或电话",
    "典型案例不得包含电话号码或身份证号码",
    "约谈尚未举行，不能登记",
    "关联的预警不属于本台账所属单位",
    "约谈县（区、管委会）的记录须登记在被约谈单位名下",
    "约谈须登记在举行日期所在年度的台账",
    "县（区、管委会）由市级物业管理主管部门约谈",
    "公众投诉须留有投诉人信息，以便反馈处理结果和查询办理进度",
    "通报须登记在通报日期所在年度",
}
"""The zh-CN messages the tests above assert (test_casework_errors checks that every
RuleViolated of the source is asserted somewhere)."""
