"""Every casework event from a scenario on in-memory persistence: the source of the golden
samples and of the test that the producer emits their shapes (and no personal data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from casework.adapters.contract_events import to_contract
from casework.adapters.personal_data import InMemoryReadLog, in_memory_vault
from casework.application.app import CaseworkApplication, Complaint
from casework.application.ports import CaseRow, WarningRow
from casework.application.warnings import WarningsPolicy
from casework.domain.case import Case
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.events.base import ContractEvent
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import Identity
from servicekit.testing import FakeClock

WHEN = datetime(2026, 5, 6, 1, 15, tzinfo=UTC)
OFFICER = Identity("property-bureau", "officer", "licheng")
POLICE = Identity("police", "investigator", "licheng", "putian-psb-licheng")
NAME, PHONE = "王某某", "13905940000"


def complaint(request_id: str = "c1", channel: str = "hotline_12345") -> Complaint:
    return Complaint(
        request_id,
        channel,
        False,
        "LC-0001",
        "91350200776049653A",
        "revenue_not_disclosed",
        "小区停车收入从未公示",
        "licheng",
        NAME,
        PHONE,
        WHEN,
    )


class InMemoryCaseReadModel:
    """rm_cases and rm_warnings as casework.adapters.read_model projects them, kept in
    memory from the application's notification log (for tests on popo persistence)."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self.position = 0
        self.case_rows: dict[str, dict[str, Any]] = {}
        self.warning_rows: dict[str, dict[str, Any]] = {}

    def catch_up(self) -> int:
        notifications = self.app.process_recorder.select_notifications(
            start=self.position, limit=100_000, inclusive_of_start=False
        )
        for notification in notifications:
            self._apply(self.app.mapper.to_domain_event(notification))
            self.position = notification.id
        return len(notifications)

    def _apply(self, event: Any) -> None:
        key = str(event.originator_id)
        if isinstance(event, Case.Received):
            self.case_rows.setdefault(
                key,
                {
                    "kind": event.kind,
                    "unit": event.unit,
                    "status": "received",
                    "due_at": event.due_at,
                    "police_office": "",
                },
            )
        elif isinstance(event, Case.Assigned):
            row = self.case_rows[key]
            row["unit"] = event.unit
            row["status"] = "assigned" if row["status"] == "received" else row["status"]
        elif isinstance(event, Case.InvestigationStarted | Case.Resolved | Case.Closed):
            self.case_rows[key]["status"] = {
                Case.InvestigationStarted: "investigating",
                Case.Resolved: "resolved",
                Case.Closed: "closed",
            }[type(event)]
        elif isinstance(event, Case.ReferredToPolice):
            self.case_rows[key]["police_office"] = event.police_office
        elif isinstance(event, SupervisionWarning.Raised):
            self.warning_rows.setdefault(
                key,
                {
                    "rule": event.rule,
                    "unit": event.unit,
                    "subject_kind": event.subject_kind,
                    "subject": event.subject,
                    "period": event.period,
                    "status": "raised",
                    "raised_at": event.raised_at,
                    "details": dict(event.details),
                    "rules_version": event.rules_version,
                },
            )
        elif isinstance(event, SupervisionWarning.Acknowledged | SupervisionWarning.Closed):
            self.warning_rows[key]["status"] = (
                "closed" if isinstance(event, SupervisionWarning.Closed) else "acknowledged"
            )

    def cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]:
        rows = [
            CaseRow(key, r["kind"], r["unit"], r["status"], r["due_at"], r["police_office"])
            for key, r in self.case_rows.items()
            if r["unit"] in units
            and (not status or r["status"] == status)
            and (
                overdue_before is None or (r["status"] != "closed" and r["due_at"] < overdue_before)
            )
            and (not police_office or r["police_office"] == police_office)
        ]
        return sorted(rows, key=lambda r: r.due_at)

    def warnings(self, units: list[str], rule: str, include_closed: bool) -> list[WarningRow]:
        rows = [
            WarningRow(
                key,
                r["rule"],
                r["unit"],
                r["subject_kind"],
                r["subject"],
                r["period"],
                r["status"],
                r["raised_at"],
                r["details"],
                r["rules_version"],
            )
            for key, r in self.warning_rows.items()
            if r["unit"] in units
            and (not rule or r["rule"] == rule)
            and (include_closed or r["status"] != "closed")
        ]
        return sorted(rows, key=lambda r: (r.raised_at, r.warning_id))


def app_with_vault(clock: FakeClock) -> CaseworkApplication:
    """Casework on in-memory persistence, with the envelope vault (an in-memory keyring, an
    ephemeral local KEK) and an in-memory record of personal-data reads."""
    app = CaseworkApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    app.wire(in_memory_vault(clock=clock), InMemoryCaseReadModel(app), InMemoryReadLog())
    return app


def run_scenario() -> list[ContractEvent]:
    clock = FakeClock(WHEN)
    app = app_with_vault(clock)
    case_id = app.receive_complaint(OFFICER, complaint())["case_id"]
    app.act(OFFICER, "a", case_id, "assign", "licheng", "镇海街道", "林某")
    app.act(OFFICER, "i", case_id, "start_investigation")
    app.act(
        OFFICER,
        "p",
        case_id,
        "refer_to_police",
        "putian-psb-licheng",
        "embezzlement_by_staff",
        ["ledger.pdf"],
        "疑似挪用停车收入",
    )
    app.act(POLICE, "k", case_id, "police_acknowledge")
    app.act(POLICE, "o", case_id, "report_police_outcome", "filed", "已立案侦查")
    app.act(OFFICER, "r", case_id, "resolve", "已责令公示并移送公安")
    app.act(OFFICER, "f", case_id, "give_feedback", "phone", "已电话告知处理结果")
    clock.now = WHEN + timedelta(days=20)
    app.act(OFFICER, "c", case_id, "close")
    app.open_rectification_case(
        "finding-1",
        "licheng",
        "LC-0001",
        "91350200776049653A",
        "A1",
        WHEN + timedelta(days=30),
        WHEN,
        DeliveryRef("casework.rectification", "finding-1", 2),
    )
    policy = WarningsPolicy(app, clock)
    policy.on_overdue(
        "LC-0001",
        "licheng",
        "91350200776049653A",
        2026,
        1,
        DeliveryRef("casework.warnings", "overdue-1", 1),
    )
    warning_id = policy.warning_id("disclosure_overdue", "LC-0001", "2026Q1")
    policy.close(OFFICER, warning_id, ["公示照片-2026-05-20.jpg"], "已督促补正公示")
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced
