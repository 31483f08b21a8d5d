"""Every casework event from a scenario on in-memory persistence: the source of the golden
samples and of the test that the producer emits their shapes (and no personal data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casework.adapters.contract_events import to_contract
from casework.adapters.personal_data import InMemoryPersonalDataVault
from casework.application.app import CaseworkApplication, Complaint
from casework.application.warnings import WarningsPolicy
from pubrev_contracts.events.base import ContractEvent
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock

WHEN = datetime(2026, 5, 6, 1, 15, tzinfo=UTC)
OFFICER = Identity("property-bureau", "officer", "licheng")
POLICE = Identity("police", "investigator", "licheng", "putian-psb-licheng")
NAME, PHONE = "王某某", "13905940000"


def complaint(request_id: str = "c1", channel: str = "hotline_12345") -> Complaint:
    return Complaint(request_id, channel, False, "LC-0001", "91350200776049653A",
                     "revenue_not_disclosed", "小区停车收入从未公示", "licheng", NAME, PHONE,
                     WHEN)


def app_with_vault(clock: FakeClock) -> CaseworkApplication:
    app = CaseworkApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    app.wire(InMemoryPersonalDataVault(), None)
    return app


def run_scenario() -> list[ContractEvent]:
    clock = FakeClock(WHEN)
    app = app_with_vault(clock)
    case_id = app.receive_complaint(OFFICER, complaint())["case_id"]
    app.act(OFFICER, "a", case_id, "assign", "licheng", "镇海街道", "林某")
    app.act(OFFICER, "i", case_id, "start_investigation")
    app.act(OFFICER, "p", case_id, "refer_to_police", "putian-psb-licheng",
            "embezzlement_by_staff", ["ledger.pdf"], "疑似挪用停车收入")
    app.act(POLICE, "k", case_id, "police_acknowledge")
    app.act(POLICE, "o", case_id, "report_police_outcome", "filed", "已立案侦查")
    app.act(OFFICER, "r", case_id, "resolve", "已责令公示并移送公安")
    app.act(OFFICER, "f", case_id, "give_feedback", "phone", "已电话告知处理结果")
    clock.now = WHEN + timedelta(days=20)
    app.act(OFFICER, "c", case_id, "close")
    app.open_rectification_case("finding-1", "licheng", "LC-0001", "91350200776049653A", "A1",
                                WHEN + timedelta(days=30), WHEN,
                                DeliveryRef("casework.rectification", "finding-1", 2))
    policy = WarningsPolicy(app, clock)
    policy.on_overdue("LC-0001", "licheng", "91350200776049653A", 2026, 1,
                      DeliveryRef("casework.warnings", "overdue-1", 1))
    warning_id = policy.warning_id("disclosure_overdue", "LC-0001", "2026Q1")
    policy.close(OFFICER, warning_id, ["公示照片-2026-05-20.jpg"], "已督促补正公示")
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced
