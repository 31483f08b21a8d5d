"""InMemoryInspectionReadModel: a fake of the PostgreSQL read model (read_model.py), for unit
tests and tools that run the application on in-memory persistence. It catches up with the
application's notification log on every call, so it is never stale; its async methods (those
the gRPC path's queries call) answer from the same state without a thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from inspection.application.ports import (
    AttachmentUse,
    CheckRow,
    CrossCheckRow,
    FindingRow,
    InspectorRow,
    TownshipInspectionRow,
    WatchRow,
)
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.finding import EVIDENCE_EVENTS, Finding
from inspection.domain.inspector import Inspector
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from pubrev_contracts.vocabulary.calendar import SHANGHAI, quarter_label
from pubrev_contracts.vocabulary.units import CITY
from servicekit.eventstore import ServiceApplication


class InMemoryInspectionReadModel:
    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self._position = 0
        self._watches: dict[str, dict[str, Any]] = {}
        self._inspectors: dict[str, InspectorRow] = {}
        self._checks: dict[str, CheckRow] = {}
        self._findings: dict[str, FindingRow] = {}
        self._secrets: dict[str, str] = {}
        self._ledger: list[TownshipInspectionRow] = []
        self._cross: dict[str, CrossCheckRow] = {}
        self._uses: set[AttachmentUse] = set()

    def catch_up(self) -> int:
        for n in self.app.process_recorder.select_notifications(
            self._position, 10_000, inclusive_of_start=False
        ):
            self._apply(self.app.mapper.to_domain_event(n))
            self._position = n.id
        return self._position

    async def current(self) -> int:
        return self.catch_up()

    def _apply(self, event: Any) -> None:
        if isinstance(event, EVIDENCE_EVENTS):
            self._uses |= {
                AttachmentUse(
                    a["sha256"],
                    str(event.originator_id),
                    event.unit,
                    event.company_uscc,
                    event.community_code,
                )
                for a in event.attachments
            }
        watch = self._watches.get(str(event.originator_id))
        if isinstance(event, CommunityWatch.Opened):
            self._watches[str(event.originator_id)] = {
                "code": event.community_code,
                "unit": event.unit,
                "company_uscc": "",
                "registered": False,
                "zero_revenue": False,
                "latest_period": "",
                "overdue_count": 0,
                "leads": 0,
                "handed_down": False,
                "major_petition": False,
                "township": "",
            }
        elif isinstance(event, CommunityWatch.RegistrationNoted) and watch is not None:
            watch.update(registered=True, company_uscc=event.company_uscc, township=event.township)
        elif isinstance(event, CommunityWatch.CompanyNoted) and watch is not None:
            watch["company_uscc"] = event.company_uscc
        elif isinstance(event, CommunityWatch.OverdueNoted) and watch is not None:
            watch["overdue_count"] += 1
        elif isinstance(event, CommunityWatch.DisclosureNoted) and watch is not None:
            period = quarter_label(event.year, event.quarter)
            if watch["latest_period"] <= period:
                watch.update(zero_revenue=event.zero_revenue, latest_period=period)
        elif isinstance(event, CommunityWatch.LeadNoted) and watch is not None:
            watch["leads"] += 1
            watch["handed_down"] = watch["handed_down"] or event.channel == "handed_down"
            watch["major_petition"] = watch["major_petition"] or event.major
        elif isinstance(event, Inspector.Registered):
            self._inspectors[str(event.originator_id)] = InspectorRow(event.code, event.unit, ())
        elif isinstance(event, Inspector.ConflictDeclared):
            inspector = self._inspectors[str(event.originator_id)]
            self._inspectors[str(event.originator_id)] = replace(
                inspector, conflicts=(*inspector.conflicts, event.community_code)
            )
        elif isinstance(event, SpotCheck.Done):
            self._checks[str(event.originator_id)] = CheckRow(
                str(event.originator_id),
                str(event.plan_id),
                event.community_code,
                event.unit,
                event.company_uscc,
                event.inspected_at,
                len(event.finding_ids),
                event.checking_unit,
                event.checking_kind,
            )
        elif isinstance(event, Finding.ViolationFound):
            self._findings[str(event.originator_id)] = FindingRow(
                str(event.originator_id),
                event.community_code,
                event.unit,
                event.company_uscc,
                event.kind,
                event.kind_name,
                event.severity,
                event.legal_basis,
                None,
                "found",
                event.checking_unit,
                event.checking_kind,
                "",
                event.party,
                event.agency_unit,
                event.warning_id,
            )
        elif isinstance(event, Finding.RectificationOrdered):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(
                row, deadline=event.deadline, deadline_basis=event.deadline_basis, status="open"
            )
        elif isinstance(event, Finding.RectificationVerified):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, status="verified")
        elif isinstance(event, Finding.RectificationOverdue):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, status="overdue")
        elif isinstance(event, Finding.RectificationEvidenceSubmitted):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, submissions=row.submissions + 1)
        elif isinstance(event, Finding.Objected):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, objection="pending")
        elif isinstance(event, Finding.ObjectionRejected):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, objection="rejected")
        elif isinstance(event, Finding.Withdrawn):
            row = self._findings[str(event.originator_id)]
            self._findings[row.finding_id] = replace(row, objection="upheld", status="withdrawn")
        elif isinstance(event, TownshipInspectionLedger.InspectionRecorded):
            self._ledger.append(
                TownshipInspectionRow(
                    str(event.originator_id),
                    event.community_code,
                    event.unit,
                    event.township,
                    date.fromisoformat(event.inspected_on),
                    event.inspector,
                    tuple(event.problems),
                    event.note,
                )
            )
        elif isinstance(event, SpotCheckPlan.Planned) and event.kind == "cross":
            self._cross[str(event.originator_id)] = CrossCheckRow(
                str(event.originator_id),
                event.year,
                int(event.draw.get("quarter", 0)),
                event.unit,
                str(event.draw.get("checked_unit", "")),
                None,
            )
        elif isinstance(event, SpotCheckPlan.CrossCheckReported):
            cross = self._cross[str(event.originator_id)]
            if cross.reported_at is None:
                self._cross[cross.plan_id] = replace(cross, reported_at=event.reported_at)

    def communities(self, unit: str | None) -> list[WatchRow]:
        self.catch_up()
        return [
            WatchRow(
                w["code"],
                w["unit"],
                w["company_uscc"],
                w["zero_revenue"],
                w["overdue_count"],
                w["leads"],
                w["handed_down"],
                w["major_petition"],
                w["township"],
            )
            for w in sorted(self._watches.values(), key=lambda w: str(w["code"]))
            if w["registered"] and (unit is None or w["unit"] == unit)
        ]

    async def query_communities(self, unit: str | None) -> list[WatchRow]:
        return self.communities(unit)

    def inspectors(self, unit: str) -> list[InspectorRow]:
        self.catch_up()
        return sorted(
            (i for i in self._inspectors.values() if i.unit == unit), key=lambda i: i.code
        )

    def checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        self.catch_up()
        return sorted(
            (
                c
                for c in self._checks.values()
                if c.unit in units
                and c.inspected_at.astimezone(SHANGHAI).year == year
                and community_code in ("", c.community_code)
                and company_uscc in ("", c.company_uscc)
            ),
            key=lambda c: (c.inspected_at, c.community_code),
        )

    async def query_checks(
        self, year: int, units: list[str], community_code: str, company_uscc: str
    ) -> list[CheckRow]:
        return self.checks(year, units, community_code, company_uscc)

    def findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]:
        self.catch_up()
        return sorted(
            (
                f
                for f in self._findings.values()
                if f.unit in units and company_uscc in ("", f.company_uscc)
            ),
            key=lambda f: (f.community_code, f.kind),
        )

    async def query_findings(self, company_uscc: str, units: list[str]) -> list[FindingRow]:
        return self.findings(company_uscc, units)

    def open_findings_due(self, now: datetime) -> list[str]:
        self.catch_up()
        due = [
            f
            for f in self._findings.values()
            if f.status == "open" and f.deadline is not None and f.deadline < now
        ]
        return [f.finding_id for f in sorted(due, key=lambda f: f.deadline or now)]

    async def township_inspections(
        self, units: list[str], township: str, community_code: str, since: date, until: date
    ) -> list[TownshipInspectionRow]:
        self.catch_up()
        return sorted(
            (
                r
                for r in self._ledger
                if r.unit in units
                and township in ("", r.township)
                and community_code in ("", r.community_code)
                and since <= r.inspected_on <= until
            ),
            key=lambda r: (r.inspected_on, r.community_code),
        )

    async def cross_checks(self, year: int) -> list[CrossCheckRow]:
        self.catch_up()
        return sorted(
            (r for r in self._cross.values() if r.year == year),
            key=lambda r: (r.quarter, r.checking_unit, r.checked_unit),
        )

    def attachment_uses(self, sha256: str) -> list[AttachmentUse]:
        self.catch_up()
        return sorted((u for u in self._uses if u.sha256 == sha256), key=lambda u: u.record_id)

    async def checked_communities(self, year: int, unit: str) -> int:
        self.catch_up()
        return len(
            {
                c.community_code
                for c in self._checks.values()
                if c.inspected_at.astimezone(SHANGHAI).year == year
                and (
                    c.checking_kind == "city"
                    if unit == CITY
                    else c.unit == unit and c.checking_kind != "city"
                )
            }
        )

    def keep_secret(self, commitment: str, secret: str) -> None:
        self._secrets.setdefault(commitment, secret)

    def secret(self, commitment: str) -> str | None:
        return self._secrets.get(commitment)
