"""The owners' side of casework, typical cases published, interviews and evidence on cases
(issue 13 part A), on in-memory persistence: complaints lodged by the complainant with a
tracking number, their status for the complainant (by phone, compared in constant time and
recorded) and their community's owners, the public limited per person, a closed typical
case published without the complainant, the interview ledgers, files on complaints,
resolutions and interviews checked against the evidence store."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casework.adapters.contract_events import to_contract
from casework.application import queries
from casework.application.access import POLICY
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    CloseCase,
    ComplaintStatus,
    GetComplaintStatus,
    GiveFeedback,
    PublishTypicalCase,
    ReadComplainant,
    RecordInterview,
    ResolveCase,
    ShredPersonalData,
    StartInvestigation,
)
from casework.application.handlers.public import STATUS_CHECK
from casework.application.handlers.publication import PUBLICATION_CHECK
from casework.application.public_limits import Allowance, PublicLimits
from casework.domain.case import (
    CSPRNG,
    PUBLIC_CHANNEL,
    TRACKING_ALPHABET,
    TRACKING_LENGTH,
    Case,
    CaseTimeLimits,
    is_tracking_number,
    new_tracking_number,
    phones_match,
)
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases, names_complainant, personal_numbers_in
from casework.domain.warnings.rules import UNIT_BEHIND_QUOTA
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.entrypoints.grpc_api import case_to_pb
from pubrev_contracts.events.casework import (
    ComplaintReceivedV1,
    InterviewRecordedV1,
    TypicalCasePublishedV1,
)
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.sources import LOCAL
from servicekit.attachments import AttachmentRef
from servicekit.errors import AlreadyExists, NotFound, PermissionDenied, RuleViolated
from servicekit.eventstore import fingerprint
from servicekit.identity import Identity
from servicekit.policy import RateLimiter
from servicekit.testing import FakeClock
from services.casework.tests.support.lodging import (
    COMMITTEE,
    COMMUNITY,
    PUBLIC,
    USCC,
    closed_typical,
    lodge,
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
    evidence,
    run_scenario,
)

CITY_HEAD = Identity(Agency.PROPERTY_BUREAU, "head", "putian")
OTHER_COMMITTEE = Identity(Agency.OWNERS_COMMITTEE, "chair", "licheng", "LC-0002")
DISCIPLINE = Identity(Agency.DISCIPLINE, "supervisor", "licheng")


@pytest.fixture(autouse=True)
def fresh_front_end_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """servicekit's per-front-end bucket is the module's: each test starts with a full one."""
    monkeypatch.setattr(POLICY, "limiter", RateLimiter(10_000))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CaseworkApplication:
    app = app_with_vault(clock)
    register_community(app)
    return app


def events_of(app: CaseworkApplication, aggregate_id: str) -> list[Any]:
    return list(app.repository.event_store.get(uuid.UUID(aggregate_id)))


# -- lodging a complaint -----------------------------------------------------------------------


def test_a_lodged_complaint_is_a_case_of_the_communitys_unit(app: CaseworkApplication) -> None:
    """The public names the community only: the case is the community's unit's and company's
    (as disclosure registered them), on the public channel, with the complaint's time limit
    and the name and phone sealed, and it travels as any complaint does, without them."""
    lodged = lodge(app)
    assert is_tracking_number(lodged.tracking_number)
    assert lodged.unit == "licheng"
    case = app.case(lodged.case_id)
    assert case.id == Case.public_id(lodged.tracking_number)
    assert (case.kind, case.channel, case.unit, case.community_code, case.company_uscc) == (
        "complaint",
        PUBLIC_CHANNEL,
        "licheng",
        COMMUNITY,
        USCC,
    )
    assert lodged.due_at == case.due_at.isoformat()
    assert case.due_on == date(2026, 6, 5)  # 30 days from the day after receipt (5/6 Beijing)
    assert NAME not in case.sealed_personal_data and PHONE not in case.sealed_personal_data
    read = app.handle(OFFICER, ReadComplainant(lodged.case_id, "investigation"))
    assert (read.complainant_name, read.complainant_phone) == (NAME, PHONE)
    received = to_contract(events_of(app, lodged.case_id)[0])
    assert isinstance(received, ComplaintReceivedV1)
    assert (received.channel, received.community_code, received.company_uscc) == (
        "public",
        COMMUNITY,
        USCC,
    )
    assert NAME not in received.model_dump_json() and PHONE not in received.model_dump_json()


def test_the_draws_come_from_the_tokens_the_application_is_given(clock: FakeClock) -> None:
    """Tracking numbers and random ids are drawn from `tokens` (the CSPRNG by default): two
    applications given the same seeded source draw the same, which is what keeps the golden
    samples (tools/gen_samples.py) from changing on every run."""
    assert CaseworkApplication().tokens is CSPRNG

    def lodged_and_received(seed: int) -> tuple[str, str, str]:
        app = app_with_vault(FakeClock(clock.now), tokens=random.Random(seed))
        register_community(app)
        lodged = lodge(app)
        return lodged.tracking_number, lodged.case_id, app.handle(OFFICER, complaint()).case_id

    first = lodged_and_received(7)
    assert lodged_and_received(7) == first
    assert lodged_and_received(8) != first
    assert [e.model_dump(exclude={"occurred_at"}) for e in run_scenario()] == [
        e.model_dump(exclude={"occurred_at"}) for e in run_scenario()
    ]


def test_the_tracking_number_is_drawn_anew_and_not_kept_with_the_case(
    app: CaseworkApplication,
) -> None:
    """A CSPRNG draw over 30 characters that are not misread, 12 of them; the case is found
    by the number's digest, so none of its events (nor its history) holds the number. A
    retry is answered with the same number (from its receipt) and adds nothing."""
    numbers = {new_tracking_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(len(n) == TRACKING_LENGTH and set(n) <= set(TRACKING_ALPHABET) for n in numbers)
    assert not set("01ILOU") & set(TRACKING_ALPHABET)
    lodged = lodge(app)
    written = app.recorder.max_notification_id()
    assert lodge(app) == lodged
    assert app.recorder.max_notification_id() == written
    for event in events_of(app, lodged.case_id):
        assert lodged.tracking_number not in json.dumps(event.__dict__, default=str)
    auditor = Identity(Agency.AUDITOR, "auditor", "putian")
    history = app.read_history(auditor, uuid.UUID(lodged.case_id), 0, 1000)
    assert history and lodged.tracking_number not in json.dumps(
        [h.payload for h in history], default=str
    )
    assert lodge(app, request_id="l2").tracking_number != lodged.tracking_number


def test_files_lodged_with_a_complaint_are_its_evidence(app: CaseworkApplication) -> None:
    photo = evidence(app, "../../停车场照片")
    lodged = lodge(app, attachments=(photo, replace(photo, filename="again.png")))
    case = app.case(lodged.case_id)
    assert [AttachmentRef.from_dict(e) for e in case.evidence] == [
        AttachmentRef(photo.sha256, photo.size, "image/png", "停车场照片.png")
    ]
    [shown] = case_to_pb(queries.case_view(app, OFFICER, lodged.case_id)).evidence
    assert (shown.sha256, shown.filename) == (photo.sha256, "停车场照片.png")


def test_owners_and_committees_lodge_about_their_own_community(app: CaseworkApplication) -> None:
    assert lodge(app, COMMITTEE).unit == "licheng"
    owners = Identity(Agency.OWNERS, "representative", "putian", COMMUNITY)
    assert lodge(app, owners, "l2").unit == "licheng"
    register_community(app, "LC-0002")
    with pytest.raises(PermissionDenied):
        lodge(app, COMMITTEE, "l3", community_code="LC-0002")


def test_officials_record_complaints_the_complainants_lodge_theirs(
    app: CaseworkApplication,
) -> None:
    """ReceiveComplaint lets its caller choose the channel (a handed-down complaint has 15
    days and comes first in the spot checks' selection), the unit and `major`: it is for
    the bureau and townships; owners and the public lodge (LodgeComplaint)."""
    for identity in (PUBLIC, COMMITTEE):
        with pytest.raises(PermissionDenied):
            app.handle(identity, replace(complaint("x"), channel="handed_down", major=True))
    assert not POLICY.by_rpc["ReceiveComplaint"].limited


# -- the public, per person ----------------------------------------------------------------


def test_each_person_of_the_public_is_limited(app: CaseworkApplication, clock: FakeClock) -> None:
    """A person the front end names has 5 complaints an hour (local configuration); the next
    is refused before anything is read or written, another person of the same front end is
    not held up, and the hour refills the allowance."""
    alice = replace(PUBLIC, subject="alice-7f3a")
    for n in range(5):
        lodge(app, alice, f"a{n}", complainant_phone=f"1390594000{n}")
    written = app.recorder.max_notification_id()
    with pytest.raises(PermissionDenied) as refused:
        lodge(app, alice, "a5", complainant_phone="13905940009")
    assert refused.value.message_zh == "您的请求过于频繁，请稍后再试"
    assert app.recorder.max_notification_id() == written
    lodge(app, replace(PUBLIC, subject="bob-22c1"), "b0")
    lodge(app, replace(alice, via="another-app"), "a6")  # another front end, another person
    clock.now = WHEN + timedelta(minutes=12)  # one complaint's worth of the hour
    lodge(app, alice, "a7")
    with pytest.raises(PermissionDenied):
        lodge(app, alice, "a8")


def test_without_a_person_the_public_is_limited_by_the_phone_given(
    app: CaseworkApplication,
) -> None:
    for n in range(5):
        lodge(app, PUBLIC, f"p{n}")
    with pytest.raises(PermissionDenied):
        lodge(app, PUBLIC, "p5", complainant_phone="139-0594-0000")  # the same number
    lodge(app, PUBLIC, "q0", complainant_phone="13905940001")
    # Owners and committees are known by their community: not limited per person here.
    for n in range(7):
        lodge(app, COMMITTEE, f"c{n}")


def test_the_limits_are_configured_and_their_basis_is_local() -> None:
    limits = PublicLimits()
    assert (limits.lodge, limits.status) == (Allowance(5, 3600), Allowance(30, 3600))
    assert LOCAL in limits.legal_basis and limits.version in limits.legal_basis


def test_the_buckets_stay_bounded(clock: FakeClock) -> None:
    """However many phones a caller makes up, the buckets kept stay bounded (the least
    recently used go), and no phone is kept in clear."""
    app = CaseworkApplication(clock=clock, public_limits=PublicLimits(max_buckets=3))
    for n in range(10):
        app.public_limiter.take("LodgeComplaint", Allowance(1, 60), PUBLIC, f"1390594000{n}")
    buckets = app.public_limiter._buckets
    assert len(buckets) == 3
    assert not any("13905940" in key for key in buckets)


# -- the status of a lodged complaint ------------------------------------------------------


def status(app: CaseworkApplication, tracking: str, phone: str = PHONE) -> ComplaintStatus:
    answer: ComplaintStatus = app.handle(PUBLIC, GetComplaintStatus(tracking, phone))
    return answer


def test_the_complainant_sees_the_status_with_their_phone(
    app: CaseworkApplication, clock: FakeClock
) -> None:
    """With the phone lodged with (however its digits are grouped) the complainant reads the
    status, and the result only once they were told it; every comparison of the phone is
    recorded as a read of their data, matched or not."""
    lodged = lodge(app)
    first = status(app, lodged.tracking_number)
    assert (first.status, first.community_code, first.result, first.closed_at) == (
        "received",
        COMMUNITY,
        "",
        "",
    )
    assert datetime.fromisoformat(first.received_at) == WHEN
    assert status(app, lodged.tracking_number, "139-0594-0000").status == "received"
    app.handle(OFFICER, StartInvestigation("i", lodged.case_id))
    app.handle(OFFICER, ResolveCase("r", lodged.case_id, "已责令公示电梯广告收入"))
    resolved = status(app, lodged.tracking_number)
    assert (resolved.status, resolved.result, resolved.feedback_given) == ("resolved", "", False)
    app.handle(OFFICER, GiveFeedback("f", lodged.case_id, "sms", "已短信告知"))
    clock.now = WHEN + timedelta(days=3)
    app.handle(OFFICER, CloseCase("c", lodged.case_id))
    closed = status(app, lodged.tracking_number)
    assert (closed.status, closed.result, closed.feedback_given) == (
        "closed",
        "已责令公示电梯广告收入",
        True,
    )
    assert datetime.fromisoformat(closed.closed_at) == clock.now.astimezone(UTC)
    with pytest.raises(NotFound):
        status(app, lodged.tracking_number, "13905940001")
    reads = app.read_log.reads(["licheng"], lodged.case_id, None, None, 0, 100)
    assert [(r.purpose, r.note, r.fields, r.via) for r in reads][-2:] == [
        (STATUS_CHECK, "matched", ("phone",), "putian-app"),
        (STATUS_CHECK, "not matched", ("phone",), "putian-app"),
    ]
    assert len(reads) == 5


def test_a_wrong_phone_and_an_unknown_number_are_alike(app: CaseworkApplication) -> None:
    lodged = lodge(app)
    with pytest.raises(NotFound) as wrong:
        status(app, lodged.tracking_number, "0594-2345678")
    with pytest.raises(NotFound) as unknown:
        status(app, new_tracking_number())
    assert (wrong.value.message, wrong.value.message_zh) == (
        unknown.value.message,
        unknown.value.message_zh,
    )


def test_owners_see_their_communitys_complaints_without_a_phone(
    app: CaseworkApplication,
) -> None:
    lodged = lodge(app)
    seen = app.handle(COMMITTEE, GetComplaintStatus(lodged.tracking_number))
    assert seen.status == "received" and seen.tracking_number == lodged.tracking_number
    with pytest.raises(NotFound):
        app.handle(OTHER_COMMITTEE, GetComplaintStatus(lodged.tracking_number))
    assert app.read_log.reads(["licheng"], lodged.case_id, None, None, 0, 100) == []


def test_a_shredded_complaint_has_no_status_for_the_public(app: CaseworkApplication) -> None:
    lodged = lodge(app)
    app.handle(HEAD, ShredPersonalData("s", lodged.case_id))
    with pytest.raises(NotFound):
        status(app, lodged.tracking_number)
    assert app.handle(COMMITTEE, GetComplaintStatus(lodged.tracking_number)).status == "received"


def test_phones_are_compared_by_their_digits() -> None:
    assert phones_match("0594-2345678", "05942345678")
    assert phones_match("13905940000", "139 0594 0000")
    assert not phones_match("13905940000", "1390594000")
    assert not phones_match("", "")


# -- typical cases published ---------------------------------------------------------------


def publication(case_id: str, **changes: Any) -> PublishTypicalCase:
    return replace(
        PublishTypicalCase(
            "pub",
            case_id,
            "某物业公司未公示电梯广告收入案",
            "经查，该公司两年未公示电梯广告收入，已责令公示并退还业主。",
            USCC,
            "",
        ),
        **changes,
    )


def test_a_closed_typical_case_is_published_for_anyone(
    app: CaseworkApplication, clock: FakeClock
) -> None:
    """Published once, dated today by default (Shanghai), into the year's register, read by
    the public; the complainant's data opened to keep it out is recorded as a read."""
    case_id = lodge(app).case_id
    closed_typical(app, case_id)
    clock.now = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 2027 in Putian
    done = app.handle(HEAD, publication(case_id))
    assert done.published_on == "2027-01-01"
    assert done.register_id == str(TypicalCases.create_id(2027))
    [published] = queries.list_typical_cases(app, PUBLIC, 2027)
    assert (published.case_id, published.unit, published.company_uscc, published.category) == (
        case_id,
        "licheng",
        USCC,
        "revenue_not_disclosed",
    )
    assert queries.list_typical_cases(app, PUBLIC, 2027, "xianyou") == []
    assert queries.list_typical_cases(app, PUBLIC, 2026) == []
    event = events_of(app, done.register_id)[-1]
    contract = to_contract(event)
    assert isinstance(contract, TypicalCasePublishedV1)
    assert (contract.case_id, contract.published_on, contract.unit) == (
        case_id,
        date(2027, 1, 1),
        "licheng",
    )
    [read] = app.read_log.reads(["licheng"], case_id, None, None, 0, 100)[-1:]
    assert (read.purpose, read.fields) == (PUBLICATION_CHECK, ("name", "phone"))


def test_a_publication_checks_the_text_even_without_the_complainant(
    app: CaseworkApplication,
) -> None:
    """A shredded case holds no name or phone to compare: any phone number is still kept
    out, and what is left is published."""
    case_id = lodge(app).case_id
    closed_typical(app, case_id)
    app.handle(HEAD, ShredPersonalData("s", case_id))
    with pytest.raises(RuleViolated):
        app.handle(HEAD, publication(case_id, summary="投诉人电话 0594 2345678"))
    app.handle(HEAD, publication(case_id, summary=f"投诉人{NAME}反映的问题已整改"))
    assert queries.list_typical_cases(app, PUBLIC, 2026)[0].summary.endswith("已整改")


def test_personal_numbers_and_the_complainant_are_found_however_written() -> None:
    for text in (
        "电话13905940000。",
        "2023 13905940000",
        "0594-2345678",
        "139 0594 0000",
        "身份证35030219900101123X",
    ):
        assert personal_numbers_in(text), text
    for text in ("2023-07-15 罚款50000元", "金额1630000元", "2023年7月15日", "91350200776049653A"):
        assert not personal_numbers_in(text), text
    assert names_complainant("投诉人王 某某反映", "王某某", "")
    assert names_complainant("电话139-0594-0000", "", "13905940000")
    assert not names_complainant("王先生反映", "王", "")


# -- interviews ----------------------------------------------------------------------------


def interview(**changes: Any) -> RecordInterview:
    return replace(
        RecordInterview(
            "iv",
            "company",
            USCC,
            "licheng",
            "拒不公示公共收益收支情况",
            (),
            (),
            "2026-05-05",
            "企业承诺十日内补正公示",
            (),
        ),
        **changes,
    )


def test_a_company_interview_goes_into_its_units_ledger(app: CaseworkApplication) -> None:
    minutes = evidence(app, "约谈记录.pdf.png")
    warning = SupervisionWarning(
        "repeat_violations", "licheng", "company", USCC, "2026", {}, "v", WHEN
    )
    app.record(warning)
    finding = str(uuid.uuid4())
    done = app.handle(
        HEAD,
        interview(warning_ids=(str(warning.id),), finding_ids=(finding,), attachments=(minutes,)),
    )
    assert done.unit == "licheng" and done.ledger_id == str(
        InterviewLedger.create_id("licheng", 2026)
    )
    [entry] = queries.list_interviews(app, DISCIPLINE, "", 2026)
    assert (entry.interview_id, entry.interviewer_unit, entry.subject, entry.held_on) == (
        done.interview_id,
        "licheng",
        USCC,
        date(2026, 5, 5),
    )
    assert (entry.warning_ids, entry.finding_ids) == ((str(warning.id),), (finding,))
    assert [e.sha256 for e in entry.evidence] == [minutes.sha256]
    contract = to_contract(events_of(app, done.ledger_id)[-1])
    assert isinstance(contract, InterviewRecordedV1)
    assert contract.attachments[0].sha256 == minutes.sha256
    assert contract.subject_kind == "company" and contract.interviewer_unit == "licheng"
    assert queries.list_interviews(app, CITY_HEAD, "", 2026) == [entry]
    assert queries.list_interviews(app, DISCIPLINE, "licheng", 2025) == []


def test_a_lagging_unit_is_interviewed_by_the_city_only(app: CaseworkApplication) -> None:
    """The city calls a county's head in (plan 五（三）): the record is in the county's
    ledger, which the county reads; the county never records an interview of itself."""
    behind = SupervisionWarning(
        UNIT_BEHIND_QUOTA, "licheng", "unit", "licheng", "2026-09", {}, "v", WHEN
    )
    app.record(behind)
    done = app.handle(
        CITY_HEAD,
        interview(subject_kind="unit", subject="licheng", unit="", warning_ids=(str(behind.id),)),
    )
    assert done.unit == "licheng"
    [entry] = queries.list_interviews(app, OFFICER, "", 2026)
    assert (entry.subject_kind, entry.interviewer_unit) == ("unit", "putian")
    with pytest.raises(PermissionDenied):
        app.handle(HEAD, interview(request_id="own", subject_kind="unit", subject="licheng"))


def test_a_county_interviews_its_townships(app: CaseworkApplication) -> None:
    done = app.handle(HEAD, interview(subject_kind="township", subject="镇海街道"))
    [entry] = queries.list_interviews(app, HEAD, "licheng", 2026)
    assert (entry.interview_id, entry.subject_kind, entry.subject) == (
        done.interview_id,
        "township",
        "镇海街道",
    )
    with pytest.raises(PermissionDenied):
        app.handle(HEAD, interview(request_id="x", subject_kind="township", unit="xianyou"))


def test_the_city_keeps_its_own_company_interviews(app: CaseworkApplication) -> None:
    done = app.handle(CITY_HEAD, interview(unit="putian"))
    assert [e.interview_id for e in queries.list_interviews(app, CITY_HEAD, "putian", 2026)] == [
        done.interview_id
    ]
    with pytest.raises(PermissionDenied):
        queries.list_interviews(app, OFFICER, "putian", 2026)


# -- evidence on a resolution --------------------------------------------------------------


def test_a_result_carries_its_evidence(app: CaseworkApplication) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    app.handle(OFFICER, StartInvestigation("i", case_id))
    receipt = evidence(app, "退还凭证.png", b"receipt")
    answer = app.handle(OFFICER, ResolveCase("r", case_id, "已退还", (receipt,)))
    assert app.handle(OFFICER, ResolveCase("r", case_id, "已退还", (receipt,))) == answer
    with pytest.raises(AlreadyExists):
        app.handle(OFFICER, ResolveCase("r", case_id, "已退还"))
    assert [e["sha256"] for e in app.case(case_id).evidence] == [receipt.sha256]
    resolved = events_of(app, case_id)[-1]
    assert isinstance(resolved, Case.Resolved) and resolved.evidence == [
        AttachmentRef(receipt.sha256, receipt.size, "image/png", "退还凭证.png").as_dict()
    ]


def test_a_retry_without_files_is_compared_as_before_files_were_taken() -> None:
    """Receipts written before ResolveCase took files fingerprinted its three fields: a
    retry without files is compared on exactly those, so it is answered, not refused."""
    command = ResolveCase("r", "c", "已退还")
    before = {"request_id": "r", "case_id": "c", "result": "已退还"}
    assert fingerprint(command.fingerprinted()) == fingerprint(before)
    with_files = replace(command, attachments=(AttachmentRef("a" * 64, 1, "image/png", "a.png"),))
    assert fingerprint(with_files.fingerprinted()) != fingerprint(before)


# -- the domain on its own -----------------------------------------------------------------


def test_old_events_read_as_without_files() -> None:
    received: dict[str, Any] = {}
    Case.Received.upcast_v2_v3(received)
    resolved: dict[str, Any] = {}
    Case.Resolved.upcast_v1_v2(resolved)
    assert received == resolved == {"evidence": []}


def test_evidence_is_stored_as_a_plain_mapping() -> None:
    a = AttachmentRef("a" * 64, 3, "image/png", "a.png")
    assert a.as_dict() == {
        "sha256": "a" * 64,
        "size": 3,
        "media_type": "image/png",
        "filename": "a.png",
    }
    assert AttachmentRef.from_dict(a.as_dict()) == a


def test_the_ledgers_and_registers_keep_their_year_and_unit() -> None:
    """What the handlers make impossible (they pick the ledger by the day held and the
    register by the day published) the aggregates refuse too."""
    ledger = InterviewLedger("licheng", 2026)
    on = date(2026, 5, 5)
    with pytest.raises(RuleViolated, match="year"):
        ledger.record(
            "i", "licheng", "company", USCC, "r", (), (), date(2025, 5, 5), "o", (), on, WHEN
        )
    with pytest.raises(RuleViolated, match="city"):
        ledger.record("i", "licheng", "unit", "licheng", "r", (), (), on, "o", (), on, WHEN)
    with pytest.raises(RuleViolated, match="that unit's ledger"):
        ledger.record("i", "putian", "unit", "xianyou", "r", (), (), on, "o", (), on, WHEN)
    register = TypicalCases(2026)
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
    with pytest.raises(RuleViolated, match="own year"):
        register.publish(case, "t", "s", "", date(2027, 1, 1), date(2027, 1, 1))


def test_a_countys_staff_read_their_own_units_typical_cases(app: CaseworkApplication) -> None:
    case_id = lodge(app).case_id
    closed_typical(app, case_id)
    app.handle(HEAD, publication(case_id))
    xianyou = Identity(Agency.PROPERTY_BUREAU, "officer", "xianyou")
    assert queries.list_typical_cases(app, xianyou, 2026) == []
    assert [p.case_id for p in queries.list_typical_cases(app, OFFICER, 2026)] == [case_id]
    assert [p.case_id for p in queries.list_typical_cases(app, CITY_HEAD, 2026)] == [case_id]
    with pytest.raises(PermissionDenied):
        queries.list_typical_cases(app, xianyou, 2026, "licheng")


# -- over gRPC: the requests and answers as the servicer maps them -----------------------------


async def test_the_owners_side_and_the_records_over_grpc(app: CaseworkApplication) -> None:
    """Lodged by the public, seen by its phone, resolved with a file, published, an
    interview recorded: each request mapped to its command and each answer from the result."""
    from casework.application.commands import FlagTypicalCase
    from pubrev.casework.v1 import casework_pb2 as pb
    from pubrev.common.v1 import evidence_pb2
    from servicekit.grpc_kit import IDENTITY_HEADER
    from services.casework.tests.unit.test_casework_authorization import casework_server

    def who(identity: Identity) -> tuple[tuple[str, str]]:
        return ((IDENTITY_HEADER, identity.render()),)

    photo = evidence(app, "停车场.png")
    ref = evidence_pb2.AttachmentRef(
        sha256=photo.sha256, size=photo.size, media_type=photo.media_type, filename="停车场.png"
    )
    public = Identity(Agency.PUBLIC, "anonymous", "putian")
    async with casework_server(app) as stub:
        lodged = await stub.LodgeComplaint(
            pb.LodgeComplaintRequest(
                request_id="g1",
                community_code=COMMUNITY,
                category="revenue_embezzled",
                description="停车收入去向不明",
                complainant_name=NAME,
                complainant_phone=PHONE,
                attachments=[ref],
            ),
            metadata=who(public),
        )
        assert (lodged.unit, len(lodged.tracking_number)) == ("licheng", TRACKING_LENGTH)
        seen = await stub.GetComplaintStatus(
            pb.GetComplaintStatusRequest(tracking_number=lodged.tracking_number, phone=PHONE),
            metadata=who(public),
        )
        assert (seen.status, seen.community_code, seen.result) == ("received", COMMUNITY, "")
        await stub.StartInvestigation(
            pb.StartInvestigationRequest(request_id="g2", case_id=lodged.case_id),
            metadata=who(OFFICER),
        )
        resolved = await stub.ResolveCase(
            pb.ResolveCaseRequest(
                request_id="g3", case_id=lodged.case_id, result="已退还", attachments=[ref]
            ),
            metadata=who(OFFICER),
        )
        assert [e.sha256 for e in resolved.case.evidence] == [photo.sha256]
        for command in (
            GiveFeedback("g4", lodged.case_id, "sms", "已短信告知"),
            CloseCase("g5", lodged.case_id),
            FlagTypicalCase("g6", lodged.case_id, "群众反映强烈"),
        ):
            app.handle(HEAD, command)
        published = await stub.PublishTypicalCase(
            pb.PublishTypicalCaseRequest(
                request_id="g7",
                case_id=lodged.case_id,
                title="某公司挪用停车收入案",
                summary="已责令退还",
                company_uscc=USCC,
                published_on="2026-05-06",
            ),
            metadata=who(HEAD),
        )
        assert (published.typical_case.case_id, published.typical_case.published_on) == (
            lodged.case_id,
            "2026-05-06",
        )
        listed = await stub.ListTypicalCases(
            pb.ListTypicalCasesRequest(year=2026), metadata=who(public)
        )
        assert [t.title for t in listed.typical_cases] == ["某公司挪用停车收入案"]
        recorded = await stub.RecordInterview(
            pb.RecordInterviewRequest(
                request_id="g8",
                subject_kind="company",
                subject=USCC,
                unit="licheng",
                reason="拒不公示",
                held_on="2026-05-06",
                outcome="承诺整改",
                attachments=[ref],
            ),
            metadata=who(HEAD),
        )
        assert (recorded.interview.subject, recorded.interview.held_on) == (USCC, "2026-05-06")
        assert [a.filename for a in recorded.interview.attachments] == ["停车场.png"]
        ledger = await stub.ListInterviews(
            pb.ListInterviewsRequest(unit="licheng", year=2026), metadata=who(DISCIPLINE)
        )
        assert [i.interview_id for i in ledger.interviews] == [recorded.interview.interview_id]


async def test_owners_see_the_course_of_their_communitys_complaints(
    app: CaseworkApplication, clock: FakeClock
) -> None:
    """Every complaint about the community, however it came in, latest due first: its
    course and, once the complainant was told, its result; never who complained or what
    they wrote. Another community's committee and the public are refused."""
    lodged = lodge(app)
    clock.now = WHEN + timedelta(days=1)
    # About LC-0001 too, received a day later (so due a day later: listed first).
    hotline = app.handle(OFFICER, replace(complaint("h1"), received_at=None)).case_id
    close_complaint(app, hotline, "h")
    listed = await queries.list_community_complaints(app, COMMITTEE, COMMUNITY)
    assert [(c.channel, c.status, c.result) for c in listed] == [
        ("hotline_12345", "closed", "已责令公示"),
        ("public", "received", ""),
    ]
    assert listed[1].received_at == WHEN and listed[1].closed_at is None
    assert listed[0].due_at == app.case(hotline).deadline()
    assert lodged.case_id not in repr(listed) and NAME not in repr(listed)
    for identity in (OTHER_COMMITTEE, PUBLIC):
        with pytest.raises(PermissionDenied):
            await queries.list_community_complaints(app, identity, COMMUNITY)
    assert await queries.list_community_complaints(app, OTHER_COMMITTEE, "LC-0002") == []
