"""Credit on in-memory persistence with a fixed clock: the application as unit tests build
it, every credit event from one scenario (the source of the golden samples and of the test
that the producer emits their shapes), and the record the authorization matrix judges every
caller against."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from credit.adapters.contract_events import to_contract
from credit.adapters.read_model_memory import InMemoryCreditReadModel
from credit.application.app import CreditApplication
from credit.application.commands import ClassifyPenalty, ImposePenalty, RevokePenalty
from credit.domain.rules import DEFAULT_RULES, CreditRules
from pubrev_contracts.events.base import ContractEvent
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
) -> CreditApplication:
    """The application on in-memory persistence with its in-memory read model (which reads
    the application's log when asked) and a fake feed desk."""
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
    )
    return app


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


def run_scenario() -> list[ContractEvent]:
    clock = FakeClock(WHEN)
    app = popo_app(clock)
    for n, (kind, severity) in enumerate([("A1", "general"), ("C1", "serious"), ("C1", "serious")]):
        finding(app, f"finding-{n}", kind, severity)
    clock.now = WHEN + timedelta(days=100)
    app.apply_rectification(
        "finding-0", COMPANY, clock.now, DeliveryRef("credit.ledger", "finding-0", 3)
    )
    officer = Identity("property-bureau", "officer", "licheng")
    app.handle(officer, penalty_command())
    app.handle(
        officer,
        ClassifyPenalty(
            "c-1", "莆城管罚决〔2026〕12号", "serious", "2027-05-05", "复核认定为严重失信行为"
        ),
    )
    app.handle(officer, RevokePenalty("r-1", "莆城管罚决〔2026〕12号", "复议撤销"))
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


def authz_scenario() -> CreditApplication:
    """One company's credit record, all of it of one unit (chengxiang): a ledger with a
    deduction, a penalty decided by that unit's bureau, a spot-check result."""
    app = popo_app()
    finding(app, "finding-cx-1", unit=AUTHZ_UNIT)
    app.note_spot_check(
        AUTHZ_SPOT_CHECK,
        COMPANY,
        "CX-0001",
        AUTHZ_UNIT,
        WHEN,
        ["A1"],
        DeliveryRef("credit.ledger", AUTHZ_SPOT_CHECK, 1),
    )
    app.handle(
        Identity("property-bureau", "officer", AUTHZ_UNIT),
        replace(penalty_command(AUTHZ_DECISION), unit=AUTHZ_UNIT),
    )
    return app
