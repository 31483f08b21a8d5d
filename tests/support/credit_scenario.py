"""Every credit event from a scenario on in-memory persistence with a fixed clock: the
source of the golden samples and of the test that the producer emits their shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from credit.adapters.contract_events import to_contract
from credit.application.app import ClassifyPenalty, CreditApplication, ImposePenalty
from pubrev_contracts.events.base import ContractEvent
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock

COMPANY = "91350200776049653A"
WHEN = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)


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
        authority_uscc="11350300MB1234567X",
        unit="licheng",
        remarks="",
        severity="general",
        valid_until="2026-11-05",
    )


def run_scenario() -> list[ContractEvent]:
    clock = FakeClock(WHEN)
    app = CreditApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    for n, (kind, severity) in enumerate([("A1", "general"), ("C1", "serious"), ("C1", "serious")]):
        app.apply_finding(
            f"finding-{n}",
            COMPANY,
            "licheng",
            kind,
            severity,
            WHEN,
            DeliveryRef("credit.ledger", f"finding-{n}", 1),
        )
    clock.now = WHEN + timedelta(days=100)
    app.apply_rectification(
        "finding-0", COMPANY, clock.now, DeliveryRef("credit.ledger", "finding-0", 3)
    )
    officer = Identity("property-bureau", "officer", "licheng")
    app.impose_penalty(officer, penalty_command())
    app.classify_penalty(
        officer,
        ClassifyPenalty(
            "c-1", "莆城管罚决〔2026〕12号", "serious", "2027-05-05", "复核认定为严重失信行为"
        ),
    )
    app.revoke_penalty(officer, "r-1", "莆城管罚决〔2026〕12号", "复议撤销")
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced


# -- the record the authorization matrix judges every caller against ----------------------

AUTHZ_UNIT = "chengxiang"
"""The scenario's unit; the matrix's "other unit" is licheng (tests/support/authz.py)."""
AUTHZ_DECISION = "莆城管罚决〔2026〕31号"
AUTHZ_SPOT_CHECK = "spot-check-cx-1"


def authz_scenario() -> CreditApplication:
    """One company's credit record, all of it of one unit (chengxiang): a ledger with a
    deduction, a penalty decided by that unit's bureau, a spot-check result."""
    app = CreditApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock(WHEN))
    app.apply_finding(
        "finding-cx-1",
        COMPANY,
        AUTHZ_UNIT,
        "A1",
        "general",
        WHEN,
        DeliveryRef("credit.ledger", "finding-cx-1", 1),
    )
    app.note_spot_check(
        AUTHZ_SPOT_CHECK,
        COMPANY,
        "CX-0001",
        AUTHZ_UNIT,
        WHEN,
        ["A1"],
        DeliveryRef("credit.ledger", AUTHZ_SPOT_CHECK, 1),
    )
    app.impose_penalty(
        Identity("property-bureau", "officer", AUTHZ_UNIT),
        replace(penalty_command(AUTHZ_DECISION), unit=AUTHZ_UNIT),
    )
    return app
