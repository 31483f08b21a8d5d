"""The authorization matrix of casework (issue 10, "Authorization by declared policy"): every
RPC × every identity the vocabulary allows × its relation to the record, called through the
application on in-memory persistence and compared with the declared policy
(casework.application.access.POLICY) and the independent must-deny oracle; then a matrix
of the reads, a complaint, a referral and a warning's closure over real gRPC.

Each call of the in-memory matrix runs on a fresh copy of the scenario in the state its RPC
needs (a case to close is resolved, fed back and has its police outcome), so an allowed
call must *succeed*: any error other than a denial is reported, not counted as "allowed"."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import grpc
import pytest

from casework.application import queries
from casework.application.access import (
    POLICY,
    UNIT_CONDUCT_RULES,
    case_facts,
    warning_facts,
)
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
    ReceiveComplaint,
    RecordJointMeeting,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    ShredPersonalData,
    StartInvestigation,
)
from casework.domain.warnings.rules import (
    DEFAULT_RULES,
    DISCLOSURE_OVERDUE,
    REPEAT_VIOLATIONS,
    UNIT_BEHIND_QUOTA,
)
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.entrypoints.grpc_api import SERVICE_NAME, case_to_pb, register
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev.common.v1 import audit_pb2, evidence_pb2
from servicekit.attachments import InMemoryAttachmentStore, NoScanner
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied
from servicekit.evidence import EvidenceDesk, InMemoryUploads
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer
from servicekit.identity import Identity
from servicekit.policy import RateLimiter, Resource
from servicekit.settings import ServiceSettings
from servicekit.testing import FakeClock
from services.casework.tests.support.answers import run
from services.casework.tests.support.campaign_authz import campaign_invokers
from services.casework.tests.support.lodging import register_community
from services.casework.tests.support.scenario import WHEN, app_with_vault
from services.casework.tests.unit import (
    test_casework_authorization_public as owners_side_and_records,
)
from services.casework.tests.unit.test_casework_authorization_public import lodging
from tests.support.admin_authz import ADMIN_RPCS, admin_invokers
from tests.support.authz import (
    RECORD_HISTORY,
    RULES,
    WHOLE_LOG,
    Invokers,
    cells,
    expected,
    run_matrix,
)
from tests.support.must_deny import must_deny

UNIT = "hanjiang"
"""The scenario's unit (the matrix's "other unit" is licheng)."""
USCC = "91350200776049653A"
COMMUNITY = "HJ-0001"
OFFICE = "putian-psb-hanjiang"
BUREAU = RULES.check(Identity("property-bureau", "officer", UNIT))
POLICE = RULES.check(Identity("police", "investigator", UNIT, OFFICE))
CITY = RULES.check(Identity("property-bureau", "head", "putian"))

CASE = Resource(unit=UNIT, company=USCC, community=COMMUNITY, office=OFFICE)
"""The scenario's case: a complaint of hanjiang against USCC about HJ-0001, referred to
OFFICE. Written out here, not taken from access.case_facts (which is checked against it)."""
WARNING = Resource(unit=UNIT, community=COMMUNITY)
"""A disclosure_overdue warning about HJ-0001: about a community, not the unit's conduct."""
UNIT_WARNING = Resource(unit=UNIT, concerns_unit=UNIT)
"""A unit_behind_quota warning of hanjiang: about the unit's own conduct."""

EVIDENCE_RPCS = {
    m.name for m in evidence_pb2.DESCRIPTOR.services_by_name["EvidenceService"].methods
}
RPCS = (
    {m.name for m in pb.DESCRIPTOR.services_by_name["CaseworkService"].methods}
    | ADMIN_RPCS
    | EVIDENCE_RPCS
)
"""casework's own RPCs, the operators' (pubrev.common.v1.AdminService) and the evidence
service (pubrev.common.v1.EvidenceService), which it serves too."""
CASE_RPCS = {
    "ReceiveComplaint",
    "AssignCase",
    "StartInvestigation",
    "ResolveCase",
    "GiveFeedback",
    "CloseCase",
    "RecordJointMeeting",
    "FlagTypicalCase",
    "ReferToPolice",
    "AcknowledgeReferral",
    "ReportPoliceOutcome",
    "ShredPersonalData",
    "GetCase",
    "ListCases",
    "ExportMonthlyLedgers",
    "ReadComplainant",
    "ListPersonalDataReads",
    WHOLE_LOG,
    RECORD_HISTORY,
}
WARNING_RPCS = {"ListWarnings", "AcknowledgeWarning", "CloseWarning", RECORD_HISTORY}
CASE_COMMANDS = CASE_RPCS - {
    "ReceiveComplaint",
    "GetCase",
    "ListCases",
    "ExportMonthlyLedgers",
    "ReadComplainant",
    "ListPersonalDataReads",
    WHOLE_LOG,
    RECORD_HISTORY,
}


def complaint(request_id: str = "c1") -> ReceiveComplaint:
    return ReceiveComplaint(
        request_id,
        "hotline_12345",
        False,
        COMMUNITY,
        USCC,
        "revenue_not_disclosed",
        "电梯广告收入从未公示",
        UNIT,
        "郑某某",
        "13905940001",
        WHEN,
    )


# -- the scenario, fresh for every call ------------------------------------------------------

STEPS: dict[str, Callable[[CaseworkApplication, str], object]] = {
    "refer": lambda app, case: app.handle(
        BUREAU,
        ReferToPolice(
            "s-refer", case, OFFICE, "misappropriation", ("bank.pdf",), "疑似挪用公共收益"
        ),
    ),
    "investigate": lambda app, case: app.handle(BUREAU, StartInvestigation("s-inv", case)),
    "acknowledge": lambda app, case: app.handle(POLICE, AcknowledgeReferral("s-ack", case)),
    "outcome": lambda app, case: app.handle(
        POLICE, ReportPoliceOutcome("s-out", case, "filed", "已立案")
    ),
    "resolve": lambda app, case: app.handle(BUREAU, ResolveCase("s-res", case, "已责令公示")),
    "feedback": lambda app, case: app.handle(
        BUREAU, GiveFeedback("s-fb", case, "phone", "已电话告知")
    ),
}


def world(*steps: str) -> tuple[CaseworkApplication, str]:
    app = app_with_vault(FakeClock(WHEN))
    case_id: str = app.handle(BUREAU, complaint()).case_id
    for step in steps:
        STEPS[step](app, case_id)
    return app, case_id


REFERRED = ("refer",)
RESOLVED = ("refer", "investigate", "resolve")
CLOSABLE = ("refer", "investigate", "acknowledge", "outcome", "resolve", "feedback")


def on(
    steps: tuple[str, ...],
    call: Callable[[CaseworkApplication, str, Identity], object],
) -> Callable[[Identity], object]:
    def invoke(identity: Identity) -> object:
        app, case_id = world(*steps)
        return call(app, case_id, identity)

    return invoke


def case_invokers() -> Invokers:
    """Every case RPC with valid arguments, each on the scenario in the state it needs."""
    return {
        "ReceiveComplaint": lambda i: app_with_vault(FakeClock(WHEN)).handle(i, complaint("m")),
        "AssignCase": on(
            REFERRED, lambda a, c, i: a.handle(i, AssignCase("m", c, UNIT, "国欢镇", "黄某"))
        ),
        "StartInvestigation": on(REFERRED, lambda a, c, i: a.handle(i, StartInvestigation("m", c))),
        "ResolveCase": on(
            ("refer", "investigate"),
            lambda a, c, i: a.handle(i, ResolveCase("m", c, "已责令补正公示")),
        ),
        "GiveFeedback": on(
            RESOLVED, lambda a, c, i: a.handle(i, GiveFeedback("m", c, "sms", "已短信告知"))
        ),
        "CloseCase": on(CLOSABLE, lambda a, c, i: a.handle(i, CloseCase("m", c))),
        "RecordJointMeeting": on(
            REFERRED,
            lambda a, c, i: a.handle(
                i, RecordJointMeeting("m", c, "2026-05-20", ("住建", "镇政府"), "联合督促公示")
            ),
        ),
        "FlagTypicalCase": on(
            REFERRED, lambda a, c, i: a.handle(i, FlagTypicalCase("m", c, "典型案例"))
        ),
        "ReferToPolice": on(
            (),
            lambda a, c, i: a.handle(
                i, ReferToPolice("m", c, OFFICE, "misappropriation", ("bank.pdf",), "移送")
            ),
        ),
        "AcknowledgeReferral": on(
            REFERRED, lambda a, c, i: a.handle(i, AcknowledgeReferral("m", c))
        ),
        "ReportPoliceOutcome": on(
            ("refer", "acknowledge"),
            lambda a, c, i: a.handle(i, ReportPoliceOutcome("m", c, "not_filed", "不予立案")),
        ),
        "ShredPersonalData": on(REFERRED, lambda a, c, i: a.handle(i, ShredPersonalData("m", c))),
        "GetCase": on(REFERRED, lambda a, c, i: queries.case_view(a, i, c)),
        "ReadComplainant": on(
            REFERRED, lambda a, c, i: a.handle(i, ReadComplainant(c, "feedback"))
        ),
        "ListPersonalDataReads": on(
            REFERRED,
            lambda a, c, i: queries.list_personal_data_reads(a, i, UNIT, "", None, None, 0, 100),
        ),
        "ListCases": on(
            REFERRED, lambda a, c, i: run(queries.list_cases(a, i, UNIT, "", False, OFFICE))
        ),
        "ExportMonthlyLedgers": on(
            REFERRED,
            lambda a, c, i: run(queries.monthly_ledgers(a, i, UNIT, WHEN.year, WHEN.month)),
        ),
        WHOLE_LOG: on(REFERRED, lambda a, c, i: a.read_history(i, None, 0, 100)),
        RECORD_HISTORY: on(REFERRED, lambda a, c, i: a.read_history(i, uuid.UUID(c), 0, 100)),
    }


def raise_warning(app: CaseworkApplication, rule: str, unit: str = UNIT) -> str:
    subject_kind, subject = {
        DISCLOSURE_OVERDUE: ("community", COMMUNITY),
        UNIT_BEHIND_QUOTA: ("unit", unit),
        REPEAT_VIOLATIONS: ("company", USCC),
    }[rule]
    warning = SupervisionWarning(
        rule, unit, subject_kind, subject, "2026-05", {}, DEFAULT_RULES.version, WHEN
    )
    app.record(warning)
    return str(warning.id)


def warning_invokers(rule: str) -> Invokers:
    def on_warning(
        call: Callable[[CaseworkApplication, str, Identity], object],
    ) -> Callable[[Identity], object]:
        def invoke(identity: Identity) -> object:
            app = app_with_vault(FakeClock(WHEN))
            warning_id = raise_warning(app, rule)
            return call(app, warning_id, identity)

        return invoke

    return {
        "ListWarnings": on_warning(
            lambda a, w, i: run(queries.list_warnings(a, i, UNIT, "", True))
        ),
        "AcknowledgeWarning": on_warning(
            lambda a, w, i: a.handle(i, AcknowledgeWarning("m", w, "已签收"))
        ),
        "CloseWarning": on_warning(
            lambda a, w, i: a.handle(i, CloseWarning("m", w, ("整改照片.jpg",), ""))
        ),
        RECORD_HISTORY: on_warning(lambda a, w, i: a.read_history(i, uuid.UUID(w), 0, 100)),
    }


def evidence_invokers() -> Invokers:
    """The evidence service: a photo the case references (read by the case's facts), and an
    upload naming the case's unit and company."""
    store = InMemoryAttachmentStore(scanner=NoScanner())
    photo = store.put(b"\x89PNG\r\n\x1a\n" + bytes(32), "image/png", "现场.png").sha256
    desk = EvidenceDesk(
        POLICY, store, InMemoryUploads(), RULES, lambda h: [CASE] if h == photo else []
    )
    pdf = b"%PDF-1.7\n" + bytes(32)
    return {
        "UploadAttachment": lambda i: desk.upload(
            i, f"m-{uuid.uuid4().hex[:12]}", pdf, "application/pdf", "a.pdf", UNIT, USCC
        ),
        "GetAttachment": lambda i: desk.download(i, photo),
    }


def strict(invokers: Invokers, errors: list[str]) -> Invokers:
    """Every call either succeeds or is denied; anything else is recorded as a problem (and
    re-raised, so the matrix counts it as "allowed" against a denial it should have been)."""

    def wrap(rpc: str, call: Callable[[Identity], object]) -> Callable[[Identity], object]:
        def checked(identity: Identity) -> object:
            try:
                return call(identity)
            except (PermissionDenied, NotFound):
                raise
            except Exception as error:
                errors.append(f"{rpc} by {identity.render()}: {type(error).__name__}: {error}")
                raise

        return checked

    return {rpc: wrap(rpc, call) for rpc, call in invokers.items()}


# -- default deny, and the facts the scopes are judged on -----------------------------------


def test_every_rpc_has_a_row_and_an_invoker() -> None:
    """Default deny: an RPC of the contract without a policy row fails here (and no row
    names an RPC the contract lacks); every RPC is called by the matrix."""
    assert set(POLICY.by_rpc) == RPCS
    assert set(case_invokers()) | set(warning_invokers(DISCLOSURE_OVERDUE)) | set(
        admin_invokers(world(*REFERRED)[0], "casework")
    ) | set(evidence_invokers()) | set(owners_side_and_records.invokers()) | set(
        campaign_invokers()
    ) == RPCS | {RECORD_HISTORY}
    assert all(rule.what.strip() for rule in POLICY.rules)


def test_the_facts_the_application_judges_are_the_scenarios() -> None:
    app, case_id = world(*REFERRED)
    assert case_facts(app.case(case_id)) == CASE
    for rule, record in ((DISCLOSURE_OVERDUE, WARNING), (UNIT_BEHIND_QUOTA, UNIT_WARNING)):
        warning = app.find(uuid.UUID(raise_warning(app, rule)), SupervisionWarning)
        assert warning is not None and warning_facts(warning) == record
    assert {
        UNIT_BEHIND_QUOTA,
        "complaint_without_feedback",
        "unit_behind_stage",
        "monthly_report_late",
        "province_briefing_late",
        "cross_check_missing",
        "agency_finding",
    } == UNIT_CONDUCT_RULES


# -- the matrix ------------------------------------------------------------------------------


def test_the_case_matrix() -> None:
    """Every case RPC and GetHistory × every identity × its relation to a hanjiang case
    against USCC about HJ-0001 referred to OFFICE."""
    errors: list[str] = []
    count, mismatches = run_matrix(
        "casework", POLICY, CASE, strict(case_invokers(), errors), "GetCase"
    )
    assert not mismatches, "\n".join(map(str, mismatches))
    assert not errors, "\n".join(errors)
    assert count == len(cells(CASE)) * len(CASE_RPCS) == 72 * 19


def test_the_operators_matrix() -> None:
    """The operators' RPCs × every identity × its relation to a case: the platform's
    operators only, whatever the record."""
    app, _ = world(*REFERRED)
    count, mismatches = run_matrix(
        "casework", POLICY, CASE, admin_invokers(app, "casework"), "GetCase"
    )
    assert not mismatches, "\n".join(map(str, mismatches))
    assert count == len(cells(CASE)) * len(ADMIN_RPCS) == 72 * 6


def test_the_evidence_matrix() -> None:
    """Uploading and reading evidence × every identity × its relation to the case."""
    errors: list[str] = []
    count, mismatches = run_matrix(
        "casework", POLICY, CASE, strict(evidence_invokers(), errors), "GetCase"
    )
    assert not mismatches, "\n".join(map(str, mismatches))
    assert not errors, "\n".join(errors)
    assert count == len(cells(CASE)) * len(EVIDENCE_RPCS)


@pytest.mark.parametrize(
    ("rule", "record"),
    [(DISCLOSURE_OVERDUE, WARNING), (UNIT_BEHIND_QUOTA, UNIT_WARNING)],
    ids=["about a community", "about the unit itself"],
)
def test_the_warning_matrix(rule: str, record: Resource) -> None:
    """The warning RPCs and a warning's history (ListWarnings' rule) × every identity ×
    its relation to the warning; closing one about the unit itself is not for that unit."""
    errors: list[str] = []
    count, mismatches = run_matrix(
        "casework", POLICY, record, strict(warning_invokers(rule), errors), "ListWarnings"
    )
    assert not mismatches, "\n".join(map(str, mismatches))
    assert not errors, "\n".join(errors)
    assert count == len(cells(record)) * len(WARNING_RPCS)


def allowed(rpc: str, record: Resource = CASE) -> set[str]:
    return {
        c.identity.render()
        for c in cells(record)
        if POLICY.decide(rpc, c.identity, record) is not None
    }


def who(*texts: str) -> set[str]:
    return {RULES.parse(t).render() for t in texts}


BUREAU_ALL = who(
    *(
        f"agency=property-bureau;role={r};unit={u}"
        for r in ("officer", "inspector", "head")
        for u in (UNIT, "putian")
    )
)
TOWNSHIP_OWN = who(
    f"agency=township;role=officer;unit={UNIT}", f"agency=township;role=inspector;unit={UNIT}"
)
DISCIPLINE_OWN = who(*(f"agency=discipline;role=supervisor;unit={u}" for u in (UNIT, "putian")))
POLICE_OWN = who(
    *(
        f"agency=police;role={r};unit={u};subject={OFFICE}"
        for r in ("investigator", "officer")
        for u in (UNIT, "licheng", "putian")
    )
)
AUDITOR = who("agency=auditor;role=auditor;unit=putian")


def test_the_matrix_allows_exactly_these() -> None:
    """The declared decisions, spelt out (a policy passes its own matrix however wrong): who
    gets through on the scenario's case and warnings."""
    handling = {
        "AssignCase",
        "StartInvestigation",
        "ResolveCase",
        "GiveFeedback",
        "CloseCase",
        "ReferToPolice",
    }
    for rpc in handling:
        assert allowed(rpc) == BUREAU_ALL, rpc
    assert allowed("RecordJointMeeting") == BUREAU_ALL | TOWNSHIP_OWN
    deciders = {t for t in BUREAU_ALL if "role=inspector" not in t}
    assert allowed("FlagTypicalCase") == deciders
    assert allowed("ShredPersonalData") == {t for t in deciders if f"unit={UNIT}" in t}
    for rpc in ("AcknowledgeReferral", "ReportPoliceOutcome"):
        assert allowed(rpc) == POLICE_OWN, rpc
    readers = BUREAU_ALL | TOWNSHIP_OWN | DISCIPLINE_OWN | POLICE_OWN | AUDITOR
    assert allowed("GetCase") == allowed("ListCases") == readers
    assert allowed("ExportMonthlyLedgers") == BUREAU_ALL | DISCIPLINE_OWN | AUDITOR
    # The complainants lodge theirs (LodgeComplaint: test_casework_authorization_public).
    assert allowed("ReceiveComplaint") == BUREAU_ALL | TOWNSHIP_OWN
    assert allowed("GetHistory") == AUDITOR
    assert allowed("ReadComplainant") == {t for t in BUREAU_ALL if f"unit={UNIT}" in t}
    assert (
        allowed("ListPersonalDataReads")
        == who(
            "agency=property-bureau;role=head;unit=putian",
            "agency=discipline;role=supervisor;unit=putian",
        )
        | AUDITOR
    )
    assert allowed("ListWarnings", WARNING) == BUREAU_ALL | DISCIPLINE_OWN | AUDITOR
    assert allowed("AcknowledgeWarning", WARNING) == BUREAU_ALL | DISCIPLINE_OWN
    assert allowed("CloseWarning", WARNING) == BUREAU_ALL | DISCIPLINE_OWN
    assert allowed("AcknowledgeWarning", UNIT_WARNING) == BUREAU_ALL | DISCIPLINE_OWN
    assert allowed("CloseWarning", UNIT_WARNING) == {
        t for t in BUREAU_ALL | DISCIPLINE_OWN if "unit=putian" in t
    }
    assert not POLICY.by_rpc["ReceiveComplaint"].limited


def test_whoever_may_act_on_a_case_may_read_it() -> None:
    """A command answers with the case: every caller a case command allows reads the case
    too (else it would change a case and be told it does not exist)."""
    for rpc in CASE_COMMANDS:
        assert allowed(rpc) <= allowed("GetCase"), rpc


def test_personal_data_only_for_the_handling_units_bureau() -> None:
    """DOMAIN.md §7: the complainant's name and phone only to the handling unit. Of every
    caller who may read the case, only its own unit's bureau gets them from
    ReadComplainant; the others are refused (the city, a township, its discipline office,
    the police it was referred to, the auditor) and no read is recorded for them; GetCase
    gives them to nobody."""
    app, case_id = world(*REFERRED)
    seen = set()
    for cell in cells(CASE):
        if POLICY.decide("GetCase", cell.identity, CASE) is None:
            continue
        assert not case_to_pb(queries.case_view(app, cell.identity, case_id)).complainant_name
        try:
            read = app.handle(cell.identity, ReadComplainant(case_id, "investigation"))
        except PermissionDenied:
            continue
        if read.complainant_name:
            seen.add(cell.identity.render())
    handling = {t for t in BUREAU_ALL if f"unit={UNIT}" in t}
    assert seen == handling
    read = app.handle(BUREAU, ReadComplainant(case_id, "feedback"))
    assert (read.complainant_name, read.complainant_phone) == ("郑某某", "13905940001")
    readers = [
        r.reader for r in queries.list_personal_data_reads(app, CITY, "", "", None, None, 0, 1000)
    ]
    assert sorted(set(readers)) == sorted(handling)
    assert len(readers) == len(handling) + 1


# -- lists: the filter asked, forced from the grant ------------------------------------------


async def test_lists_are_forced_to_the_callers_scope() -> None:
    """A list is answered on the filter asked for, what is left open forced from the grant:
    a county's is its unit's, the police's their own office's referrals; asking for more is
    PERMISSION_DENIED, not a silently wider answer."""
    app, referred = world(*REFERRED)
    other: str = app.handle(BUREAU, complaint("c2")).case_id
    elsewhere: str = app.handle(
        CITY, replace(complaint("c3"), unit="licheng", community_code="LC-0002")
    ).case_id

    async def ids(identity: Identity, unit: str = "", office: str = "") -> set[str]:
        return {r.case_id for r in await queries.list_cases(app, identity, unit, "", False, office)}

    assert await ids(BUREAU) == await ids(BUREAU, UNIT) == {referred, other}
    assert await ids(CITY) == {referred, other, elsewhere}
    assert (
        await ids(POLICE) == await ids(POLICE, UNIT) == await ids(POLICE, "", OFFICE) == {referred}
    )
    other_office = RULES.check(Identity("police", "officer", "licheng", "putian-psb-licheng"))
    assert await ids(other_office) == set()
    township = RULES.check(Identity("township", "officer", UNIT))
    assert await ids(township) == {referred, other}
    for identity, unit, office in (
        (BUREAU, "licheng", ""),
        (POLICE, "", "putian-psb-licheng"),
        (township, "licheng", ""),
        (RULES.check(Identity("township", "officer", "putian")), "", ""),
    ):
        with pytest.raises(PermissionDenied):
            await queries.list_cases(app, identity, unit, "", False, office)


async def test_city_warnings_are_the_citys() -> None:
    """A warning of the city itself (repeat violations across units) is listed and handled
    at the city, not by a county."""
    app = app_with_vault(FakeClock(WHEN))
    county_id = raise_warning(app, DISCLOSURE_OVERDUE)
    city_id = raise_warning(app, REPEAT_VIOLATIONS, unit="putian")
    assert {w.warning_id for w in await queries.list_warnings(app, BUREAU, "", "", True)} == {
        county_id
    }
    assert {w.warning_id for w in await queries.list_warnings(app, CITY, "", "", True)} == {
        county_id,
        city_id,
    }
    with pytest.raises(PermissionDenied):
        await queries.list_warnings(app, BUREAU, "putian", "", True)
    with pytest.raises(PermissionDenied):
        app.handle(BUREAU, AcknowledgeWarning("k", city_id, ""))
    app.handle(CITY, CloseWarning("c", city_id, ("约谈记录.pdf",), ""))
    assert app.warning(city_id).status == "closed"


def test_the_public_is_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public lodges complaints through a front end, at most public_per_minute a minute
    per front end (whoever it serves; each person is limited besides: test_casework_public);
    nothing is written for a refused one."""
    now = [0.0]
    monkeypatch.setattr(
        POLICY, "limiter", RateLimiter(POLICY.public_per_minute, clock=lambda: now[0])
    )
    app = app_with_vault(FakeClock(WHEN))
    register_community(app, COMMUNITY, UNIT, USCC)
    public = replace(RULES.check(Identity("public", "anonymous", "putian")), via="gov-app")
    for n in range(POLICY.public_per_minute):
        app.handle(public, replace(lodging(f"p{n}"), complainant_phone=f"139059{n:05d}"))
    written = app.recorder.max_notification_id()
    with pytest.raises(PermissionDenied):
        app.handle(public, lodging("one-too-many"))
    assert app.recorder.max_notification_id() == written
    app.handle(replace(public, via="other-app"), lodging("elsewhere"))
    now[0] += 60
    app.handle(public, lodging("a-minute-later"))


def test_owners_complain_only_about_their_own_community() -> None:
    app = app_with_vault(FakeClock(WHEN))
    register_community(app, COMMUNITY, UNIT, USCC)
    register_community(app, "HJ-0002", UNIT, USCC)
    chair = RULES.check(Identity("owners-committee", "chair", UNIT, COMMUNITY))
    assert app.handle(chair, lodging("o1")).case_id
    with pytest.raises(PermissionDenied):
        app.handle(chair, replace(lodging("o2"), community_code="HJ-0002"))
    with pytest.raises(PermissionDenied):
        app.handle(chair, complaint("o3"))  # officials record complaints, owners lodge them


def test_a_denied_caller_learns_nothing_of_the_input() -> None:
    """Admission comes first: a company's call is refused before its input is judged, and a
    case id is echoed as a short prefix at most."""
    app = app_with_vault(FakeClock(WHEN))
    company = RULES.check(Identity("property-company", "manager", UNIT, USCC))
    with pytest.raises(PermissionDenied):
        app.handle(company, replace(complaint(""), channel="x" * 5000))
    with pytest.raises(PermissionDenied):
        app.handle(company, CloseCase("", "x" * 5000))
    with pytest.raises(NotFound) as caught:
        queries.case_view(app, BUREAU, "y" * 5000)
    assert len(caught.value.message) < 80


async def test_bad_list_filters_are_named() -> None:
    app = app_with_vault(FakeClock(WHEN))
    with pytest.raises(InvalidArgument) as caught:
        await queries.list_cases(app, CITY, "atlantis", "", False, "Not An Office;" * 100)
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("unit", "unknown_unit"),
        ("police_office", "police_office_format"),
    }
    assert "Not An Office" not in str(caught.value.violations)
    with pytest.raises(InvalidArgument):
        await queries.list_warnings(app, CITY, "atlantis", "", True)
    assert await queries.list_warnings(app, CITY, "putian", "", True) == []


# -- a smaller matrix over real gRPC ---------------------------------------------------------

DENIED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}
GRPC_RPCS = (
    "ReceiveComplaint",
    "GetCase",
    "ReadComplainant",
    "ListCases",
    "ExportMonthlyLedgers",
    "AcknowledgeReferral",
    WHOLE_LOG,
    RECORD_HISTORY,
    "ListWarnings",
    "CloseWarning",
)


@contextlib.asynccontextmanager
async def casework_server(app: CaseworkApplication) -> AsyncIterator[Any]:
    """casework's servicer and application behind servicekit's real server (the
    development header parsed strictly, errors mapped to status codes)."""
    settings = ServiceSettings(
        service="casework", environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    register(app)(server.server)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb_grpc.CaseworkServiceStub(channel)
    finally:
        await server.stop(0)


def grpc_calls(
    stub: Any, case_id: str, warning_id: str
) -> dict[str, tuple[Resource, str, Callable[[Any], Awaitable[Any]]]]:
    """RPC → (its record, the read RPC of that record, the call taking the metadata)."""
    calls = itertools.count()

    def rid() -> str:
        return f"grpc-{next(calls)}"

    c = complaint()
    return {
        "ReceiveComplaint": (
            CASE,
            "GetCase",
            lambda md: stub.ReceiveComplaint(
                pb.ReceiveComplaintRequest(
                    request_id=rid(),
                    channel=c.channel,
                    community_code=c.community_code,
                    company_uscc=c.company_uscc,
                    category=c.category,
                    description=c.description,
                    unit=c.unit,
                    complainant_name=c.complainant_name,
                    complainant_phone=c.complainant_phone,
                ),
                metadata=md,
            ),
        ),
        "GetCase": (
            CASE,
            "GetCase",
            lambda md: stub.GetCase(pb.GetCaseRequest(case_id=case_id), metadata=md),
        ),
        "ReadComplainant": (
            CASE,
            "GetCase",
            lambda md: stub.ReadComplainant(
                pb.ReadComplainantRequest(case_id=case_id, purpose="investigation"), metadata=md
            ),
        ),
        "ListCases": (
            CASE,
            "GetCase",
            lambda md: stub.ListCases(
                pb.ListCasesRequest(unit=UNIT, police_office=OFFICE), metadata=md
            ),
        ),
        "ExportMonthlyLedgers": (
            CASE,
            "GetCase",
            lambda md: stub.ExportMonthlyLedgers(
                pb.ExportMonthlyLedgersRequest(
                    unit=UNIT, year=WHEN.year, month=WHEN.month, format="xlsx"
                ),
                metadata=md,
            ),
        ),
        "AcknowledgeReferral": (
            CASE,
            "GetCase",
            lambda md: stub.AcknowledgeReferral(
                pb.AcknowledgeReferralRequest(request_id=rid(), case_id=case_id), metadata=md
            ),
        ),
        WHOLE_LOG: (
            CASE,
            "GetCase",
            lambda md: stub.GetHistory(
                pb.GetHistoryRequest(query=audit_pb2.HistoryQuery()), metadata=md
            ),
        ),
        RECORD_HISTORY: (
            CASE,
            "GetCase",
            lambda md: stub.GetHistory(
                pb.GetHistoryRequest(query=audit_pb2.HistoryQuery(aggregate_id=case_id)),
                metadata=md,
            ),
        ),
        "ListWarnings": (
            UNIT_WARNING,
            "ListWarnings",
            lambda md: stub.ListWarnings(pb.ListWarningsRequest(unit=UNIT, all=True), metadata=md),
        ),
        "CloseWarning": (
            UNIT_WARNING,
            "ListWarnings",
            lambda md: stub.CloseWarning(
                pb.CloseWarningRequest(
                    request_id=rid(), warning_id=warning_id, evidence_refs=["市局核查.pdf"]
                ),
                metadata=md,
            ),
        ),
    }


async def test_the_matrix_over_real_grpc() -> None:
    """Every identity in every relation, through the real server, on ten RPCs: the reads,
    a complaint, a referral's acknowledgement, both histories and the closure of a warning
    about the unit itself. The status code of each answer against the declared policy and
    the must-deny oracle; the complainant's name in no GetCase, and in ReadComplainant's
    answer only for the handling unit's bureau."""
    app, case_id = world(*REFERRED)
    warning_id = raise_warning(app, UNIT_BEHIND_QUOTA)
    problems = []
    count = 0
    async with casework_server(app) as stub:
        table = grpc_calls(stub, case_id, warning_id)
        assert set(table) == set(GRPC_RPCS)
        for rpc, (record, history_rpc, call) in sorted(table.items()):
            for cell in cells(record):
                count += 1
                try:
                    answer = await call(((IDENTITY_HEADER, cell.identity.render()),))
                    got = "allowed"
                except grpc.aio.AioRpcError as error:
                    answer = None
                    got = "denied" if error.code() in DENIED else f"allowed ({error.code()})"
                    if error.code() not in DENIED | {grpc.StatusCode.FAILED_PRECONDITION}:
                        problems.append(
                            f"{rpc} by {cell.identity.render()}: {error.code()} {error.details()}"
                        )
                is_allowed = got.startswith("allowed")
                if is_allowed != expected(POLICY, rpc, cell.identity, record, history_rpc):
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}, not as declared")
                reason = must_deny("casework", rpc, cell.identity, cell.relation, record)
                if is_allowed and reason:
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}: {reason}")
                if rpc == "GetCase" and answer is not None and answer.case.complainant_name:
                    problems.append(f"GetCase by {cell.identity.render()}: personal data shown")
                if rpc == "ReadComplainant" and answer is not None:
                    sees = bool(answer.complainant_name)
                    if sees != (
                        cell.identity.agency == "property-bureau" and cell.identity.unit == UNIT
                    ):
                        problems.append(
                            f"ReadComplainant by {cell.identity.render()}: personal"
                            f" data {'shown' if sees else 'withheld'}"
                        )
    assert not problems, "\n".join(problems)
    assert count == 8 * len(cells(CASE)) + 2 * len(cells(UNIT_WARNING)) == 8 * 72 + 2 * 51
