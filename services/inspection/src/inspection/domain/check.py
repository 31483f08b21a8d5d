"""A spot check (抽查记录) and its findings (问题), each with a rectification timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("5c2e9a1b-7d3f-4e6a-8b0c-1d2e3f4a5b6c")


class SpotCheck(Aggregate):
    class Done(Aggregate.Created):
        plan_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        inspected_at: datetime
        inspectors: list[str]
        checklist: list[dict[str, Any]]
        finding_ids: list[str]

    @event(Done)
    def __init__(self, plan_id: uuid.UUID, community_code: str, unit: str, company_uscc: str,
                 inspected_at: datetime, inspectors: list[str],
                 checklist: list[dict[str, Any]], finding_ids: list[str]) -> None:
        self.plan_id = plan_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.inspected_at = inspected_at
        self.inspectors = inspectors
        self.checklist = checklist
        self.finding_ids = finding_ids

    @staticmethod
    def create_id(plan_id: uuid.UUID, community_code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"check:{plan_id}:{community_code}")


class Finding(Aggregate):
    """One violation found (ViolationFound) and its rectification."""

    class ViolationFound(Aggregate.Created):
        spot_check_id: uuid.UUID
        community_code: str
        unit: str
        company_uscc: str
        kind: str
        kind_name: str
        severity: str
        legal_basis: str
        note: str
        evidence_refs: list[str]
        found_at: datetime

    @event(ViolationFound)
    def __init__(self, spot_check_id: uuid.UUID, community_code: str, unit: str,
                 company_uscc: str, kind: str, kind_name: str, severity: str,
                 legal_basis: str, note: str, evidence_refs: list[str],
                 found_at: datetime) -> None:
        self.spot_check_id = spot_check_id
        self.community_code = community_code
        self.unit = unit
        self.company_uscc = company_uscc
        self.kind = kind
        self.kind_name = kind_name
        self.severity = severity
        self.legal_basis = legal_basis
        self.found_at = found_at
        self.deadline: datetime | None = None
        self.status = "found"

    @staticmethod
    def create_id(spot_check_id: uuid.UUID, kind: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"finding:{spot_check_id}:{kind}")

    class RectificationOrdered(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        deadline: datetime

    def order_rectification(self, deadline: datetime) -> None:
        self._ordered(unit=self.unit, community_code=self.community_code,
                      company_uscc=self.company_uscc, kind=self.kind, deadline=deadline)

    @event(RectificationOrdered)
    def _ordered(self, unit: str, community_code: str, company_uscc: str, kind: str,
                 deadline: datetime) -> None:
        self.deadline = deadline
        self.status = "open"

    class RectificationVerified(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        verified_at: datetime
        late: bool
        evidence_refs: list[str]
        note: str

    def verify(self, verified_at: datetime, evidence_refs: list[str], note: str) -> None:
        if self.status == "verified":
            raise RuleViolated("the rectification is verified already", "该问题整改已验收")
        if not evidence_refs:
            raise RuleViolated("verification needs evidence of the rectification",
                               "整改验收须附整改佐证材料")
        assert self.deadline is not None
        self._verified(unit=self.unit, community_code=self.community_code,
                       company_uscc=self.company_uscc, kind=self.kind, verified_at=verified_at,
                       late=verified_at > self.deadline, evidence_refs=evidence_refs,
                       note=note)

    @event(RectificationVerified)
    def _verified(self, unit: str, community_code: str, company_uscc: str, kind: str,
                  verified_at: datetime, late: bool, evidence_refs: list[str],
                  note: str) -> None:
        self.status = "verified"

    class RectificationOverdue(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        deadline: datetime

    def mark_overdue(self, now: datetime) -> bool:
        """Once, when the deadline has passed and the rectification is not verified."""
        if self.status != "open" or self.deadline is None or now <= self.deadline:
            return False
        self._overdue(unit=self.unit, community_code=self.community_code,
                      company_uscc=self.company_uscc, kind=self.kind, deadline=self.deadline)
        return True

    @event(RectificationOverdue)
    def _overdue(self, unit: str, community_code: str, company_uscc: str, kind: str,
                 deadline: datetime) -> None:
        self.status = "overdue"
