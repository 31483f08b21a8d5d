"""Who may call credit's RPCs (issue 10, "Authorization by declared policy"): the leaks
found by callers, each with its own test, then the whole matrix — every RPC × every identity
the vocabulary allows × its relation to the record — against the declared policy
(credit.application.access.POLICY) and the independent must-deny oracle."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import grpc
import pytest

from credit.adapters.feeds import CREDIT_CHINA
from credit.application.access import POLICY
from credit.application.app import CreditApplication
from credit.application.commands import (
    ApplyForCreditRepair,
    ClassifyPenalty,
    DecideCreditRepair,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    ObjectToDeduction,
    RepushFeedRecord,
    RevokePenalty,
    SubmitStatement,
    SweepDisplayPeriods,
)
from credit.application.queries import get_feed_status, get_ledger, get_penalty_notice
from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty
from credit.domain.spot_check_result import SpotCheckResult
from credit.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev.common.v1 import audit_pb2
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev.credit.v1 import credit_pb2_grpc as pb_grpc
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from servicekit.evidence import EVIDENCE_RPCS, EvidenceDesk, InMemoryUploads
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer
from servicekit.identity import Identity, IdentityRules
from servicekit.policy import Resource
from servicekit.settings import ServiceSettings
from services.credit.tests.support.scenario import (
    AUTHZ_DECISION,
    AUTHZ_FINDING,
    AUTHZ_SPOT_CHECK,
    AUTHZ_UNIT,
    COMPANY,
    FakeDesk,
    authz_notice_id,
    authz_scenario,
    finding,
    notice_command,
    notice_request,
    penalty_command,
)
from tests.support.admin_authz import ADMIN_RPCS, admin_invokers
from tests.support.authz import (
    RECORD_HISTORY,
    WHOLE_LOG,
    Invokers,
    cells,
    expected,
    run_matrix,
)
from tests.support.must_deny import must_deny

OTHER_COMPANY = "91110000600037341L"
RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)


@pytest.fixture
def app() -> CreditApplication:
    return authz_scenario()


# -- the leaks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [
        Identity("property-company", "manager", AUTHZ_UNIT, OTHER_COMPANY),
        Identity("property-company", "filer", "putian", OTHER_COMPANY),
        Identity("public", "anonymous", "putian"),
        Identity("police", "investigator", AUTHZ_UNIT, "putian-psb-chengxiang"),
        Identity("owners-committee", "chair", AUTHZ_UNIT, "CX-0001"),
        Identity("township", "officer", AUTHZ_UNIT),
        Identity("operator", "operator", "putian"),
        Identity("console", "frontend", "putian", "console"),
        Identity("property-bureau", "officer", "licheng"),
        Identity("credit-office", "officer", "licheng"),
    ],
    ids=lambda i: i.render(),
)
def test_get_ledger_no_longer_answers_anyone(app: CreditApplication, caller: Identity) -> None:
    """Issue 10: "GetLedger answers anyone". A company's ledger (score, grade, every
    deduction) is read by the company itself, the property bureau and the credit office of
    a unit it has records in, the city and the auditor — not by another company, the
    public, police, owners, a township, an operator, a front end on its own, nor another
    unit's staff."""
    with pytest.raises((PermissionDenied, NotFound)):
        get_ledger(app, caller, COMPANY)


def test_get_ledger_still_answers_the_company_and_its_regulators(app: CreditApplication) -> None:
    for caller in (
        Identity("property-company", "filer", "licheng", COMPANY),
        Identity("property-bureau", "officer", AUTHZ_UNIT),
        Identity("property-bureau", "head", "putian"),
        Identity("credit-office", "officer", "putian"),
        Identity("auditor", "auditor", "putian"),
    ):
        view = get_ledger(app, caller, COMPANY)
        assert (view.company_uscc, view.score, [e.type for e in view.entries]) == (
            COMPANY,
            98,
            ["deducted"],
        ), caller.render()


@pytest.mark.parametrize(
    "caller",
    [
        Identity("property-company", "filer", "putian"),
        Identity("property-company", "manager", AUTHZ_UNIT),
        Identity("police", "officer", "putian"),
        Identity("owners", "representative", "putian"),
    ],
    ids=lambda i: i.render(),
)
def test_an_identity_without_subject_reads_no_ledger_and_no_history(
    app: CreditApplication, caller: Identity
) -> None:
    """Issue 10: "an identity without subject (police, company) lists everything of the
    city". The parser refuses such an identity (a company needs its USCC); built past the
    parser, the application still gives it nothing: no ledger, no record's history, not
    the whole log."""
    with pytest.raises(Unauthenticated):
        RULES.parse(caller.render())
    with pytest.raises((PermissionDenied, NotFound)):
        get_ledger(app, caller, COMPANY)
    with pytest.raises((PermissionDenied, NotFound)):
        app.read_history(caller, CreditLedger.create_id(COMPANY), 0, 100)
    with pytest.raises(PermissionDenied):
        app.read_history(caller, None, 0, 100)


def test_a_county_reads_only_its_own_units_entries_and_not_a_shared_history(
    app: CreditApplication,
) -> None:
    """A ledger holds entries of every unit that found against the company: a county-level
    reader is authorized on its own unit's part and sees only those entries (DOMAIN.md §2);
    the history shows everything, so once a second unit has entries only the city reads it."""
    finding(app, "finding-lc-1", "B3", "serious")
    chengxiang = Identity("property-bureau", "officer", AUTHZ_UNIT)
    licheng = Identity("credit-office", "officer", "licheng")
    hanjiang = Identity("property-bureau", "officer", "hanjiang")
    city = Identity("property-bureau", "officer", "putian")
    assert [e.finding_id for e in get_ledger(app, chengxiang, COMPANY).entries] == ["finding-cx-1"]
    assert [e.finding_id for e in get_ledger(app, licheng, COMPANY).entries] == ["finding-lc-1"]
    assert [e.finding_id for e in get_ledger(app, city, COMPANY).entries] == [
        "finding-cx-1",
        "finding-lc-1",
    ]
    with pytest.raises(NotFound):
        get_ledger(app, hanjiang, COMPANY)
    ledger_id = CreditLedger.create_id(COMPANY)
    with pytest.raises(PermissionDenied):
        app.read_history(chengxiang, ledger_id, 0, 100)
    assert len(app.read_history(city, ledger_id, 0, 100)) == 3


def test_bad_input_is_named_and_echoed_short(app: CreditApplication) -> None:
    """Bad input gets a specific error, writes nothing, and is echoed as a short prefix."""
    written = app.recorder.max_notification_id()
    city = Identity("property-bureau", "officer", "putian")
    with pytest.raises(InvalidArgument) as caught:
        get_ledger(app, city, "X" * 5000)
    [violation] = caught.value.violations
    assert (violation.field, violation.rule) == ("company_uscc", "uscc_check")
    with pytest.raises(InvalidArgument) as long_number:
        app.handle(city, RevokePenalty("r-x", "文" * 5000, "复议撤销"))
    assert [(v.field, v.rule) for v in long_number.value.violations] == [
        ("decision_number", "too_long")
    ]
    assert len(long_number.value.message) < 200
    with pytest.raises(NotFound) as missing:
        app.handle(city, RevokePenalty("r-y", "文" * 64, "复议撤销"))
    assert len(missing.value.message) < 80
    with pytest.raises(InvalidArgument) as unit:
        app.handle(city, replace(penalty_command("莆城管罚决〔2026〕40号"), unit="atlantis"))
    assert [(v.field, v.rule) for v in unit.value.violations] == [("unit", "unknown_unit")]
    operator = Identity("operator", "operator", "putian")
    with pytest.raises(InvalidArgument) as feed:
        app.handle(operator, RepushFeedRecord("twitter", "r" * 300))
    assert {(v.field, v.rule) for v in feed.value.violations} == {
        ("feed", "unknown_feed"),
        ("record_id", "too_long"),
    }
    assert app.recorder.max_notification_id() == written


# -- the matrix -----------------------------------------------------------------------------

RECORD = Resource(unit=AUTHZ_UNIT, company=COMPANY)
"""The scenario's record: every one of its facts (ledger, penalty, spot-check result) is of
chengxiang and of COMPANY."""
RECORD_ID = FakeDesk.RECORD_ID
SERVICE_RPCS = {m.name for m in pb.DESCRIPTOR.services_by_name["CreditService"].methods}
RPCS = SERVICE_RPCS | ADMIN_RPCS | set(EVIDENCE_RPCS)
"""credit's own RPCs, the operators' (pubrev.common.v1.AdminService) and the evidence
service's (pubrev.common.v1.EvidenceService), which it serves too."""


def invokers(app: CreditApplication, history_of: uuid.UUID) -> Invokers:
    """Every RPC of credit, called through the application with valid arguments on the
    scenario's record; `history_of`: the record whose history GetHistory(record) reads."""
    calls = itertools.count()

    def rid() -> str:
        return f"matrix-{next(calls)}"

    notice = authz_notice_id()
    return {
        "ImposePenalty": lambda i: app.handle(
            i, replace(penalty_command("莆城管罚决〔2026〕32号"), request_id=rid(), unit=AUTHZ_UNIT)
        ),
        "NotifyIntendedPenalty": lambda i: app.handle(
            i,
            notice_command(
                replace(penalty_command("莆城管罚决〔2026〕32号"), unit=AUTHZ_UNIT),
                request_id=rid(),
            ),
        ),
        "SubmitStatement": lambda i: app.handle(i, SubmitStatement(rid(), notice, "陈述意见")),
        "GetPenaltyNotice": lambda i: get_penalty_notice(app, i, notice),
        "ObjectToDeduction": lambda i: app.handle(
            i, ObjectToDeduction(rid(), COMPANY, AUTHZ_FINDING, "重复扣分")
        ),
        "DecideDeductionObjection": lambda i: app.handle(
            i, DecideDeductionObjection(rid(), COMPANY, AUTHZ_FINDING, False, "异议不成立")
        ),
        "ApplyForCreditRepair": lambda i: app.handle(
            i, ApplyForCreditRepair(rid(), AUTHZ_DECISION, "已整改")
        ),
        "DecideCreditRepair": lambda i: app.handle(
            i, DecideCreditRepair(rid(), AUTHZ_DECISION, True, "符合条件")
        ),
        "DecideSeriousDishonesty": lambda i: app.handle(
            i, DecideSeriousDishonesty(rid(), COMPANY, True, "经审定列入")
        ),
        "ClassifyPenalty": lambda i: app.handle(
            i, ClassifyPenalty(rid(), AUTHZ_DECISION, "serious", "2026-11-05", "复核认定为严重")
        ),
        "RevokePenalty": lambda i: app.handle(i, RevokePenalty(rid(), AUTHZ_DECISION, "复议撤销")),
        "GetLedger": lambda i: get_ledger(app, i, COMPANY),
        "SweepDisplayPeriods": lambda i: app.handle(i, SweepDisplayPeriods(rid())),
        "GetFeedStatus": lambda i: get_feed_status(app, i, CREDIT_CHINA, RECORD_ID),
        "RepushFeedRecord": lambda i: app.handle(i, RepushFeedRecord(CREDIT_CHINA, RECORD_ID)),
        WHOLE_LOG: lambda i: app.read_history(i, None, 0, 100),
        RECORD_HISTORY: lambda i: app.read_history(i, history_of, 0, 100),
        **admin_invokers(app, "credit"),
    }


PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
PDF = b"%PDF-1.7\n" + bytes(32)


def evidence_invokers(app: CreditApplication) -> Invokers:
    """The evidence service on the application's own store (the one its commands check
    references in): a photo the company uploaded for a statement on the scenario's unit's
    notice (read as that upload states: credit's records do not index their attachments),
    and an upload naming the scenario's unit and company."""
    calls = itertools.count()
    desk = EvidenceDesk(app.policy, app.attachments, InMemoryUploads(), RULES)
    company = Identity("property-company", "manager", "licheng", COMPANY)
    photo = desk.upload(company, "statement-photo", PNG, "image/png", "公示栏.png", AUTHZ_UNIT)
    return {
        "UploadAttachment": lambda i: desk.upload(
            i, f"upload-{next(calls)}", PDF, "application/pdf", "申辩书.pdf", AUTHZ_UNIT, COMPANY
        ),
        "GetAttachment": lambda i: desk.download(i, photo.sha256),
    }


def test_every_rpc_has_a_row_and_an_invoker() -> None:
    """Default deny: an RPC of the contract without a policy row fails here; and the matrix
    calls every one of them."""
    assert set(POLICY.by_rpc) == RPCS
    app = authz_scenario()
    assert set(invokers(app, CreditLedger.create_id(COMPANY))) | set(evidence_invokers(app)) == (
        RPCS | {RECORD_HISTORY}
    )


COMPANY_DUE_PROCESS = {
    "SubmitStatement",
    "GetPenaltyNotice",
    "ObjectToDeduction",
    "ApplyForCreditRepair",
}
"""The company's own due process (issue 13 item 6): it states and defends against a notice
it reads, objects to a deduction, applies for repair."""
CREDIT_OFFICE_DECISIONS = {
    "DecideDeductionObjection",
    "DecideCreditRepair",
    "DecideSeriousDishonesty",
}
"""What the credit office decides since issue 13 item 6 (work plan 三: it 归集 and publishes
credit information and pushes the seriously dishonest to the 联合奖惩系统)."""


def _due_process_must_deny(rpc: str, identity: Identity, relation: str) -> str | None:
    """Stricter than the shared oracle on due process: a company acts for itself only, the
    credit office decides for its unit (the city for any), market regulation decides none."""
    if rpc in COMPANY_DUE_PROCESS and identity.agency == "property-company":
        return None if "other uscc" not in relation else "a company acts for itself only"
    if rpc in CREDIT_OFFICE_DECISIONS and identity.agency == "market-regulation":
        return "market regulation records what is pushed to it; it decides none here"
    if rpc in CREDIT_OFFICE_DECISIONS and identity.agency == "credit-office":
        return None if "other unit" not in relation else "a unit's office decides its own"
    return None


def test_the_matrix_every_rpc_every_identity_every_relation() -> None:
    """Every RPC × every identity the vocabulary allows × its relation to a chengxiang
    record of COMPANY: the answer is what POLICY declares, and nothing the must-deny oracle
    lists gets through. GetHistory(record) here is the ledger's."""
    app = authz_scenario()
    count, mismatches = run_matrix(
        "credit", POLICY, RECORD, invokers(app, CreditLedger.create_id(COMPANY)), "GetLedger"
    )
    assert not mismatches, "\n".join(map(str, mismatches))
    assert count == len(cells(RECORD)) * (len(RPCS) - len(EVIDENCE_RPCS) + 1) == 23 * 57
    for cell in cells(RECORD):
        for rpc in COMPANY_DUE_PROCESS | CREDIT_OFFICE_DECISIONS:
            allowed = expected(POLICY, rpc, cell.identity, RECORD, "GetLedger")
            reason = _due_process_must_deny(rpc, cell.identity, cell.relation)
            assert not (allowed and reason), f"{rpc} by {cell.identity.render()}: {reason}"


def test_the_evidence_matrix() -> None:
    """Uploading and reading evidence × every identity × its relation to the scenario's
    record: the company for itself, the deciding bureau for its unit (the city: any) upload;
    they, the credit office of the unit and the auditor read; nobody else."""
    app = authz_scenario()
    count, mismatches = run_matrix("credit", POLICY, RECORD, evidence_invokers(app), "GetLedger")
    assert mismatches == []
    assert count == len(cells(RECORD)) * len(EVIDENCE_RPCS)
    readers = {
        c.identity.agency
        for c in cells(RECORD)
        if POLICY.decide("GetAttachment", c.identity, RECORD) is not None
    }
    uploaders = {
        (c.identity.agency, c.identity.role)
        for c in cells(RECORD)
        if POLICY.decide("UploadAttachment", c.identity, RECORD) is not None
    }
    assert readers == {"property-bureau", "credit-office", "property-company", "auditor"}
    assert {agency for agency, _ in uploaders} == {"property-bureau", "property-company"}
    assert ("property-bureau", "inspector") not in uploaders


def test_a_file_the_company_uploads_is_one_its_acts_may_cite() -> None:
    """Without the upload every attachment of a statement, objection or repair application
    was refused `not_stored`: a file uploaded through the evidence service lands in the store
    the commands check; the credit office of the unit, which decides the objection, reads
    it."""
    app = authz_scenario()
    company = Identity("property-company", "manager", "licheng", COMPANY)
    desk = EvidenceDesk(app.policy, app.attachments, InMemoryUploads(), RULES)
    ref = desk.upload(company, "u-1", PDF, "application/pdf", "异议说明.pdf", AUTHZ_UNIT)
    cited = (ref,)
    objected = app.handle(
        company, ObjectToDeduction("o-1", COMPANY, AUTHZ_FINDING, "重复扣分", attachments=cited)
    )
    assert objected.unit == AUTHZ_UNIT
    office = Identity("credit-office", "officer", AUTHZ_UNIT)
    assert desk.download(office, ref.sha256).content == PDF
    for outsider in (
        Identity("property-company", "manager", AUTHZ_UNIT, OTHER_COMPANY),
        Identity("credit-office", "officer", "licheng"),
        Identity("market-regulation", "officer", AUTHZ_UNIT),
    ):
        with pytest.raises(PermissionDenied):
            desk.download(outsider, ref.sha256)
    with pytest.raises(PermissionDenied):
        desk.upload(
            Identity("property-company", "manager", AUTHZ_UNIT, OTHER_COMPANY),
            "u-2",
            PDF,
            "application/pdf",
            "冒名.pdf",
            AUTHZ_UNIT,
            COMPANY,
        )


@pytest.mark.parametrize(
    ("history_of", "read_rpc"),
    [
        (Penalty.create_id(AUTHZ_DECISION), "GetLedger"),
        (SpotCheckResult.create_id(AUTHZ_SPOT_CHECK), "GetLedger"),
        (uuid.UUID(authz_notice_id()), "GetPenaltyNotice"),
    ],
    ids=["penalty", "spot-check result", "notice"],
)
def test_the_history_of_a_penalty_a_result_or_a_notice_follows_its_read(
    history_of: uuid.UUID, read_rpc: str
) -> None:
    """A penalty's and a spot-check result's history: the rule of GetLedger (they are part
    of the company's credit record), on their own unit and company; a notice's, the rule
    of GetPenaltyNotice (it shows the statements made against it)."""
    app = authz_scenario()
    one = {RECORD_HISTORY: invokers(app, history_of)[RECORD_HISTORY]}
    count, mismatches = run_matrix("credit", POLICY, RECORD, one, read_rpc)
    assert not mismatches, "\n".join(map(str, mismatches))
    assert count == len(cells(RECORD)) == 57


def test_the_matrix_allows_what_it_should() -> None:
    """The matrix above could pass with everything denied only if the policy allowed
    nothing: these callers do get through."""
    allowed = {
        (rpc, c.identity.render())
        for rpc in RPCS
        for c in cells(RECORD)
        if POLICY.decide(rpc, c.identity, RECORD) is not None
    }
    assert (
        "GetLedger",
        f"agency=property-company;role=filer;unit=licheng;subject={COMPANY}",
    ) in allowed
    assert ("RevokePenalty", f"agency=property-bureau;role=officer;unit={AUTHZ_UNIT}") in allowed
    assert ("RepushFeedRecord", "agency=operator;role=operator;unit=putian") in allowed
    assert ("SweepDisplayPeriods", "agency=operator;role=scheduler;unit=putian") in allowed
    assert ("GetHistory", "agency=auditor;role=auditor;unit=putian") in allowed
    assert (
        "SubmitStatement",
        f"agency=property-company;role=manager;unit={AUTHZ_UNIT};subject={COMPANY}",
    ) in allowed
    assert ("DecideCreditRepair", "agency=credit-office;role=officer;unit=putian") in allowed
    assert ("DecideSeriousDishonesty", f"agency=credit-office;role=officer;unit={AUTHZ_UNIT}") in (
        allowed
    )
    assert not any(rpc == "GetLedger" and "public" in who for rpc, who in allowed)


# -- a smaller matrix over real gRPC ---------------------------------------------------------

GRPC_ROLES = {
    ("property-bureau", "officer"),
    ("township", "officer"),
    ("discipline", "supervisor"),
    ("credit-office", "officer"),
    ("market-regulation", "officer"),
    ("police", "investigator"),
    ("property-company", "filer"),
    ("owners-committee", "chair"),
    ("owners", "representative"),
    ("auditor", "auditor"),
    ("operator", "operator"),
    ("operator", "scheduler"),
    ("provincial-system", "frontend"),
    ("console", "frontend"),
    ("public", "anonymous"),
}
"""One role of each agency (both of the operator's), in every relation to the record."""
DENIED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}


@contextlib.asynccontextmanager
async def credit_server(app: CreditApplication) -> AsyncIterator[Any]:
    """The real gRPC server of a service (servicekit's interceptor: the development header
    parsed strictly, errors to status codes) around credit's servicer and application; a
    stub of the aio channel (its generated type speaks of the sync one)."""
    settings = ServiceSettings(
        service="credit", environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    register(app)(server.server)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb_grpc.CreditServiceStub(channel)
    finally:
        await server.stop(0)


def replace_request(
    request: pb.NotifyIntendedPenaltyRequest, request_id: str
) -> pb.NotifyIntendedPenaltyRequest:
    copy = pb.NotifyIntendedPenaltyRequest()
    copy.CopyFrom(request)
    copy.request_id = request_id
    return copy


def grpc_calls(stub: Any) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """Every RPC with valid arguments on the scenario's record; each takes the metadata."""
    calls = itertools.count()
    cmd = replace(penalty_command("莆城管罚决〔2026〕33号"), unit=AUTHZ_UNIT)
    impose = {
        f: getattr(cmd, f)
        for f in (
            "decision_number",
            "party_name",
            "party_uscc",
            "violation_kind",
            "facts",
            "legal_basis",
            "content",
            "fine_fen",
            "confiscated_fen",
            "decision_date",
            "authority_name",
            "authority_uscc",
            "unit",
            "remarks",
            "severity",
            "valid_until",
        )
    }
    ledger = str(CreditLedger.create_id(COMPANY))

    def rid() -> str:
        return f"grpc-{next(calls)}"

    notice = authz_notice_id()
    return {
        "ImposePenalty": lambda md: stub.ImposePenalty(
            pb.ImposePenaltyRequest(
                request_id=rid(), penalty_types=list(cmd.penalty_types), **impose
            ),
            metadata=md,
        ),
        "NotifyIntendedPenalty": lambda md: stub.NotifyIntendedPenalty(
            replace_request(notice_request(cmd), rid()), metadata=md
        ),
        "SubmitStatement": lambda md: stub.SubmitStatement(
            pb.SubmitStatementRequest(request_id=rid(), notice_id=notice, text="陈述意见"),
            metadata=md,
        ),
        "GetPenaltyNotice": lambda md: stub.GetPenaltyNotice(
            pb.GetPenaltyNoticeRequest(notice_id=notice), metadata=md
        ),
        "ObjectToDeduction": lambda md: stub.ObjectToDeduction(
            pb.ObjectToDeductionRequest(
                request_id=rid(), company_uscc=COMPANY, finding_id=AUTHZ_FINDING, reason="重复扣分"
            ),
            metadata=md,
        ),
        "DecideDeductionObjection": lambda md: stub.DecideDeductionObjection(
            pb.DecideDeductionObjectionRequest(
                request_id=rid(),
                company_uscc=COMPANY,
                finding_id=AUTHZ_FINDING,
                upheld=False,
                reason="异议不成立",
            ),
            metadata=md,
        ),
        "ApplyForCreditRepair": lambda md: stub.ApplyForCreditRepair(
            pb.ApplyForCreditRepairRequest(
                request_id=rid(), decision_number=AUTHZ_DECISION, statement="已整改"
            ),
            metadata=md,
        ),
        "DecideCreditRepair": lambda md: stub.DecideCreditRepair(
            pb.DecideCreditRepairRequest(
                request_id=rid(), decision_number=AUTHZ_DECISION, approved=True, reason="符合条件"
            ),
            metadata=md,
        ),
        "DecideSeriousDishonesty": lambda md: stub.DecideSeriousDishonesty(
            pb.DecideSeriousDishonestyRequest(
                request_id=rid(), company_uscc=COMPANY, lists=True, reason="经审定列入"
            ),
            metadata=md,
        ),
        "ClassifyPenalty": lambda md: stub.ClassifyPenalty(
            pb.ClassifyPenaltyRequest(
                request_id=rid(),
                decision_number=AUTHZ_DECISION,
                severity="serious",
                valid_until="2026-11-05",
                reason="复核认定为严重",
            ),
            metadata=md,
        ),
        "RevokePenalty": lambda md: stub.RevokePenalty(
            pb.RevokePenaltyRequest(
                request_id=rid(), decision_number=AUTHZ_DECISION, reason="复议撤销"
            ),
            metadata=md,
        ),
        "GetLedger": lambda md: stub.GetLedger(
            pb.GetLedgerRequest(company_uscc=COMPANY), metadata=md
        ),
        "SweepDisplayPeriods": lambda md: stub.SweepDisplayPeriods(
            pb.SweepDisplayPeriodsRequest(request_id=rid()), metadata=md
        ),
        "GetFeedStatus": lambda md: stub.GetFeedStatus(
            pb.GetFeedStatusRequest(feed=CREDIT_CHINA, record_id=RECORD_ID), metadata=md
        ),
        "RepushFeedRecord": lambda md: stub.RepushFeedRecord(
            pb.RepushFeedRecordRequest(feed=CREDIT_CHINA, record_id=RECORD_ID), metadata=md
        ),
        WHOLE_LOG: lambda md: stub.GetHistory(
            pb.GetHistoryRequest(query=audit_pb2.HistoryQuery()), metadata=md
        ),
        RECORD_HISTORY: lambda md: stub.GetHistory(
            pb.GetHistoryRequest(query=audit_pb2.HistoryQuery(aggregate_id=ledger)), metadata=md
        ),
    }


async def test_the_matrix_over_real_grpc() -> None:
    """One role of every agency in every relation, every RPC, through the real server: the
    identity from the header, the status code of the answer; the same verdicts as the
    declared policy and the must-deny oracle."""
    app = authz_scenario()
    grpc_cells = [c for c in cells(RECORD) if (c.identity.agency, c.identity.role) in GRPC_ROLES]
    problems = []
    count = 0
    async with credit_server(app) as stub:
        for rpc, call in sorted(grpc_calls(stub).items()):
            for cell in grpc_cells:
                count += 1
                try:
                    await call(((IDENTITY_HEADER, cell.identity.render()),))
                    got = "allowed"
                except grpc.aio.AioRpcError as error:
                    got = "denied" if error.code() in DENIED else f"allowed ({error.code()})"
                    if error.code() is grpc.StatusCode.UNAUTHENTICATED:
                        problems.append(f"{cell.identity.render()} not recognised")
                allowed = got.startswith("allowed")
                if allowed != expected(POLICY, rpc, cell.identity, RECORD, "GetLedger"):
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}, not as declared")
                reason = must_deny("credit", rpc, cell.identity, cell.relation, RECORD)
                if allowed and reason:
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}: {reason}")
    assert not problems, "\n".join(problems)
    assert count == len(grpc_cells) * (len(SERVICE_RPCS) + 1) == 17 * 36


async def test_over_grpc_an_identity_without_subject_is_refused_at_the_door() -> None:
    """Issue 10: a company or police identity without `subject` is no identity: the
    server answers UNAUTHENTICATED before credit sees the call."""
    async with credit_server(authz_scenario()) as stub:
        for text in (
            "agency=property-company;role=filer;unit=putian",
            "agency=police;role=investigator;unit=putian",
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetLedger(
                    pb.GetLedgerRequest(company_uscc=COMPANY), metadata=((IDENTITY_HEADER, text),)
                )
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        ledger = await stub.GetLedger(
            pb.GetLedgerRequest(company_uscc=COMPANY),
            metadata=(
                (
                    IDENTITY_HEADER,
                    f"agency=property-company;role=filer;unit=putian;subject={COMPANY}",
                ),
            ),
        )
        assert (ledger.company_uscc, ledger.score) == (COMPANY, 98)


def test_the_policy_speaks_the_vocabulary() -> None:
    """Every agency and role the policy names exists, scopes fit their agencies, no front
    end is granted anything, every rule says why (servicekit.policy.Policy.problems)."""
    assert POLICY.problems(RULES) == []


def test_an_operators_actions_are_recorded_in_the_audit_trail(app: CreditApplication) -> None:
    """Issue 10 item 8: operators act under an operator identity and every action is
    recorded — a re-push and a sweep decide nothing of the campaign, so no domain event would
    say who ran them; an OperatorAction does, and the auditor reads it in the whole log."""
    operator = Identity("operator", "operator", "putian", "ops-zhang")
    before = len(app.read_history(Identity("auditor", "auditor", "putian"), None, 0, 1000))
    assert app.handle(operator, RepushFeedRecord(CREDIT_CHINA, RECORD_ID)).found
    assert app.handle(operator, SweepDisplayPeriods("sweep-1")).restored == 0
    log = app.read_history(Identity("auditor", "auditor", "putian"), None, 0, 1000)[before:]
    actions = [(e.type, e.payload["rpc"], e.payload["actor"]) for e in log]
    assert actions == [
        ("OperatorAction.Taken", "RepushFeedRecord", operator.render()),
        ("OperatorAction.Taken", "SweepDisplayPeriods", operator.render()),
    ]
    assert log[0].payload["details"] == {
        "feed": CREDIT_CHINA,
        "record_id": RECORD_ID,
        "queued": True,
    }
