"""The read model in memory (rm_cases and rm_warnings as adapters/read_model.py projects
them), kept from the application's own log: for unit tests on in-memory persistence and
for tools that need no database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.application.ports import CaseRow, WarningRow
from casework.domain.case import Case
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.eventstore import ServiceApplication


class InMemoryCaseReadModel:
    """rm_cases and rm_warnings, caught up from the application's notification log."""

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

    async def current(self) -> int:
        self.catch_up()
        return self.position

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
                    "community_code": event.community_code,
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
                    "escalated": [],
                },
            )
        elif isinstance(event, SupervisionWarning.Escalated):
            escalated = self.warning_rows[key]["escalated"]
            if event.finding_id not in escalated:
                escalated.append(event.finding_id)
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

    async def query_cases(
        self, units: list[str], status: str, overdue_before: datetime | None, police_office: str
    ) -> list[CaseRow]:
        return self.cases(units, status, overdue_before, police_office)

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
                tuple(r["escalated"]),
            )
            for key, r in self.warning_rows.items()
            if r["unit"] in units
            and (not rule or r["rule"] == rule)
            and (include_closed or r["status"] != "closed")
        ]
        return sorted(rows, key=lambda r: (r.raised_at, r.warning_id))

    async def query_warnings(
        self, units: list[str], rule: str, include_closed: bool
    ) -> list[WarningRow]:
        return self.warnings(units, rule, include_closed)

    async def complaints_about(self, community_code: str, limit: int) -> list[str]:
        rows = sorted(
            (
                (r["due_at"], key)
                for key, r in self.case_rows.items()
                if r["community_code"] == community_code and r["kind"] == "complaint"
            ),
            key=lambda row: (-row[0].timestamp(), row[1]),
        )
        return [key for _, key in rows[:limit]]
