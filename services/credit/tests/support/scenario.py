"""Credit on in-memory persistence with a fixed clock: the application as unit tests build
it, every credit event from one scenario (the source of the golden samples and of the test
that the producer emits their shapes), and the record the authorization matrix judges every
caller against."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from credit.adapters.contract_events import to_contract
from credit.adapters.read_model_memory import InMemoryCreditReadModel
from credit.application.app import CreditApplication
from credit.application.commands import (
    ApplyForCreditRepair,
    ClassifyPenalty,
    DecideCreditRepair,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    ImposePenalty,
    NotifyIntendedPenalty,
    ObjectToDeduction,
    RevokePenalty,
    SubmitStatement,
)
from credit.domain.penalty_notice import PenaltyNotice
from credit.domain.rules import DEFAULT_RULES, CreditRules
from pubrev.common.v1 import evidence_pb2
from pubrev.credit.v1 import credit_pb2 as pb
from pubrev_contracts.events.base import ContractEvent
from servicekit.attachments import (
    AttachmentRef,
    AttachmentStore,
    InMemoryAttachmentStore,
    NoScanner,
)
from servicekit.clock import Clock
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock

COMPANY = "91350200776049653A"
AUTHORITY_USCC = "11350300MB12345671"
"""莆田市城市管理局's code as these tests have it (GB 32100 check character 1)."""
WHEN = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
CREDIT_CHINA, MARKET = "creditchina", "market"


def popo_app(
    clock: Clock | None = None,
    rules: CreditRules = DEFAULT_RULES,
    desk: FakeDesk | None = None,
    attachments: AttachmentStore | None = None,
) -> CreditApplication:
    """The application on in-memory persistence with its in-memory read model (which reads
    the application's log when asked), a fake feed desk and an in-memory evidence store."""
    app: CreditApplication | None = None

    def log() -> CreditApplication:
        assert app is not None
        return app

    app = CreditApplication(
        env=POPO,
        clock=clock or FakeClock(WHEN),
        rules=rules,
        read_model=InMemoryCreditReadModel(log),
        feed_desk=desk or FakeDesk(),
        attachments=attachments or InMemoryAttachmentStore(scanner=NoScanner()),
    )
    return app


PDF = b"%PDF-1.7\n% a statement and defence, signed and sealed\n%%EOF\n"
"""The bytes of a small PDF, as the evidence store checks them (by their magic bytes)."""


def stored_evidence(app: CreditApplication, name: str = "陈述申辩书.pdf") -> AttachmentRef:
    """A file put in the application's evidence store (as an upload would), by its ref."""
    return app.attachments.put(PDF, "application/pdf", name)


def penalty_command(decision_number: str = "莆城管罚决〔2026〕12号") -> ImposePenalty:
    return ImposePenalty(
        request_id=f"p-{decision_number}",
        decision_number=decision_number,
        party_name="莆田市荔园物业服务有限公司",
        party_uscc=COMPANY,
        violation_kind="C1",
        facts="擅自利用小区架空层对外出租经营",
        legal_basis="《物业管理条例》第六十三条",
        penalty_types=("warning", "fine", "confiscation_of_illegal_gains"),
        content="警告，罚款人民币伍万元，没收违法所得",
        fine_fen=5_000_000,
        confiscated_fen=1_234_567,
        decision_date="2026-05-06",
        authority_name="莆田市城市管理局",
        authority_uscc=AUTHORITY_USCC,
        unit="licheng",
        remarks="",
        severity="general",
        valid_until="2026-11-05",
    )


NOTICE_BEFORE = timedelta(days=30)
"""How long before its decision the helpers' notice was served: its statement period (5
working days) is over by the decision's date."""


def notice_command(
    cmd: ImposePenalty, notified_on: str | None = None, request_id: str = ""
) -> NotifyIntendedPenalty:
    """The notice of the penalty `cmd` decides, served NOTICE_BEFORE its decision date
    unless `notified_on` says when ("" for today)."""
    served = (
        (date.fromisoformat(cmd.decision_date) - NOTICE_BEFORE).isoformat()
        if notified_on is None
        else notified_on
    )
    return NotifyIntendedPenalty(
        request_id=request_id or f"n-{cmd.request_id}",
        party_name=cmd.party_name,
        party_uscc=cmd.party_uscc,
        violation_kind=cmd.violation_kind,
        facts=cmd.facts,
        legal_basis=cmd.legal_basis,
        penalty_types=cmd.penalty_types,
        content=cmd.content,
        fine_fen=cmd.fine_fen,
        confiscated_fen=cmd.confiscated_fen,
        severity=cmd.severity,
        unit=cmd.unit,
        notified_on=served,
        statement_deadline="",
    )


def noticed(
    app: CreditApplication, cmd: ImposePenalty, identity: Identity | None = None
) -> ImposePenalty:
    """`cmd` on a notice served NOTICE_BEFORE its decision (the statement period over by
    then), issued by `identity` (the bureau's officer of the deciding unit by default)."""
    who = identity or Identity("property-bureau", "officer", cmd.unit or "putian")
    issued = app.handle(who, notice_command(cmd))
    return replace(cmd, notice_id=issued.notice_id)


def notice_request(cmd: ImposePenalty) -> pb.NotifyIntendedPenaltyRequest:
    """NotifyIntendedPenalty over gRPC for the penalty `cmd` decides (notice_command's)."""
    n = notice_command(cmd)
    return pb.NotifyIntendedPenaltyRequest(
        request_id=n.request_id,
        party_name=n.party_name,
        party_uscc=n.party_uscc,
        violation_kind=n.violation_kind,
        facts=n.facts,
        legal_basis=n.legal_basis,
        penalty_types=list(n.penalty_types),
        content=n.content,
        fine_fen=n.fine_fen,
        confiscated_fen=n.confiscated_fen,
        severity=n.severity,
        unit=n.unit,
        notified_on=n.notified_on,
    )


def penalty_request(cmd: ImposePenalty, notice_id: str = "") -> pb.ImposePenaltyRequest:
    """ImposePenalty over gRPC, field by field, on the notice `notice_id`."""
    return pb.ImposePenaltyRequest(
        request_id=cmd.request_id,
        decision_number=cmd.decision_number,
        party_name=cmd.party_name,
        party_uscc=cmd.party_uscc,
        violation_kind=cmd.violation_kind,
        facts=cmd.facts,
        legal_basis=cmd.legal_basis,
        penalty_types=list(cmd.penalty_types),
        content=cmd.content,
        fine_fen=cmd.fine_fen,
        confiscated_fen=cmd.confiscated_fen,
        decision_date=cmd.decision_date,
        authority_name=cmd.authority_name,
        authority_uscc=cmd.authority_uscc,
        unit=cmd.unit,
        remarks=cmd.remarks,
        severity=cmd.severity,
        valid_until=cmd.valid_until,
        notice_id=notice_id or cmd.notice_id,
        statement_consideration=cmd.statement_consideration,
    )


def evidence_pb(e: AttachmentRef) -> evidence_pb2.AttachmentRef:
    return evidence_pb2.AttachmentRef(
        sha256=e.sha256, size=e.size, media_type=e.media_type, filename=e.filename
    )


def finding(
    app: CreditApplication,
    finding_id: str,
    kind: str = "A1",
    severity: str = "general",
    at: datetime = WHEN,
    unit: str = "licheng",
    company: str = COMPANY,
) -> bool:
    """Inspection's ViolationFound, as the consumer hands it over."""
    return app.apply_finding(
        finding_id,
        company,
        unit,
        kind,
        severity,
        at,
        DeliveryRef("credit.ledger", finding_id, 1),
    )


OFFICER = Identity("property-bureau", "officer", "licheng")
CREDIT_OFFICE = Identity("credit-office", "officer", "licheng")
THE_COMPANY = Identity("property-company", "manager", "licheng", COMPANY)


def run_scenario() -> list[ContractEvent]:
    """Every event credit publishes, each type at least once (the golden samples are the
    first of each type)."""
    clock = FakeClock(WHEN)
    app = popo_app(clock)
    evidence = (stored_evidence(app),)
    for n, (kind, severity) in enumerate([("A1", "general"), ("C1", "serious"), ("C1", "serious")]):
        finding(app, f"finding-{n}", kind, severity)  # the third: proposed for the list
    app.handle(
        CREDIT_OFFICE, DecideSeriousDishonesty("d-1", COMPANY, False, "已约谈整改，暂不列入")
    )
    finding(app, "finding-3", "C2", "serious")  # proposed again
    app.handle(
        CREDIT_OFFICE,
        DecideSeriousDishonesty(
            "d-2", COMPANY, True, "一年内多次严重违法，经审定列入严重失信主体名单"
        ),
    )
    app.handle(
        THE_COMPANY,
        ObjectToDeduction("o-1", COMPANY, "finding-1", "该收入已入账，附凭证", evidence),
    )
    app.handle(
        OFFICER, DecideDeductionObjection("od-1", COMPANY, "finding-1", False, "凭证与账目不符")
    )
    app.handle(THE_COMPANY, ObjectToDeduction("o-2", COMPANY, "finding-2", "同一问题重复扣分"))
    app.handle(
        CREDIT_OFFICE,
        DecideDeductionObjection("od-2", COMPANY, "finding-2", True, "重复扣分，予以撤销"),
    )
    app.apply_withdrawal(
        "finding-3", COMPANY, "复核认定不构成违规", DeliveryRef("credit.ledger", "finding-3", 9)
    )
    # Due process: notified today, the company states, the decision considers it.
    cmd = penalty_command()
    issued = app.handle(OFFICER, notice_command(cmd, notified_on=""))
    app.handle(
        THE_COMPANY,
        SubmitStatement("s-1", issued.notice_id, "架空层出租系业主大会决定", attachments=evidence),
    )
    app.handle(
        OFFICER,
        replace(
            cmd,
            notice_id=issued.notice_id,
            statement_consideration="所称业主大会决定未经依法表决，陈述理由不成立，不予采纳",
        ),
    )
    clock.now = WHEN + timedelta(days=100)
    app.apply_rectification(
        "finding-0", COMPANY, clock.now, DeliveryRef("credit.ledger", "finding-0", 3)
    )
    app.handle(
        OFFICER,
        ClassifyPenalty(
            "c-1", "莆城管罚决〔2026〕12号", "serious", "2027-05-05", "复核认定为严重失信行为"
        ),
    )
    app.handle(OFFICER, RevokePenalty("r-1", "莆城管罚决〔2026〕12号", "复议撤销"))
    # Credit repair of a general penalty after its 3 months' minimum display.
    repaired = penalty_command("莆城管罚决〔2026〕13号")
    app.handle(OFFICER, noticed(app, repaired))
    app.handle(
        THE_COMPANY,
        ApplyForCreditRepair("a-1", repaired.decision_number, "已缴纳罚款并整改完毕", evidence),
    )
    app.handle(
        CREDIT_OFFICE, DecideCreditRepair("ar-1", repaired.decision_number, True, "符合修复条件")
    )
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced


# -- the feeds, as the operations RPCs see them -------------------------------------------


@dataclass(frozen=True)
class FakeAttempt:
    attempt: int
    at: datetime
    http_status: int | None
    error: str | None


@dataclass(frozen=True)
class FakeRecord:
    status: str
    receipts: tuple[FakeAttempt, ...]


@dataclass
class FakeDesk:
    """The push outbox of credit's two feeds, holding one delivered record
    (`FakeDesk.RECORD_ID` on 信用中国)."""

    RECORD_ID = "penalty:莆城管罚决〔2026〕31号"
    feeds: dict[str, object] = field(default_factory=lambda: {CREDIT_CHINA: {}, MARKET: {}})
    repushed: list[tuple[str, str]] = field(default_factory=list)

    def counts(self, feed: str) -> dict[str, int]:
        return {"delivered": 1} if feed == CREDIT_CHINA else {}

    def status(self, feed: str, record_id: str) -> FakeRecord | None:
        if (feed, record_id) != (CREDIT_CHINA, self.RECORD_ID):
            return None
        return FakeRecord("delivered", (FakeAttempt(1, WHEN, 200, None),))

    def repush(self, feed: str, record_id: str) -> bool:
        self.repushed.append((feed, record_id))
        return (feed, record_id) == (CREDIT_CHINA, self.RECORD_ID)


# -- the record the authorization matrix judges every caller against ----------------------

AUTHZ_UNIT = "chengxiang"
"""The scenario's unit; the matrix's "other unit" is licheng (tests/support/authz.py)."""
AUTHZ_DECISION = "莆城管罚决〔2026〕31号"
AUTHZ_SPOT_CHECK = "spot-check-cx-1"
AUTHZ_FINDING = "finding-cx-1"


def authz_scenario() -> CreditApplication:
    """One company's credit record, all of it of one unit (chengxiang): a ledger with a
    deduction, a penalty decided by that unit's bureau on its notice, a spot-check result."""
    app = popo_app()
    finding(app, AUTHZ_FINDING, unit=AUTHZ_UNIT)
    app.note_spot_check(
        AUTHZ_SPOT_CHECK,
        COMPANY,
        "CX-0001",
        AUTHZ_UNIT,
        WHEN,
        ["A1"],
        DeliveryRef("credit.ledger", AUTHZ_SPOT_CHECK, 1),
    )
    bureau = Identity("property-bureau", "officer", AUTHZ_UNIT)
    app.handle(bureau, noticed(app, replace(penalty_command(AUTHZ_DECISION), unit=AUTHZ_UNIT)))
    return app


def authz_notice_id() -> str:
    """The notice of the scenario's penalty (noticed's request id)."""
    return str(PenaltyNotice.create_id(f"n-p-{AUTHZ_DECISION}"))
