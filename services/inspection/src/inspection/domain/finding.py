"""A finding (问题): one violation a spot check found, and its rectification (整改).

`unit` is the community's (the jurisdiction, DOMAIN.md §2: the county that sees the record
and closes its rectification); `checking_unit` and `checking_kind` name who checked
(checking_body)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from inspection.domain.checking_body import finding_id, spot_check_id, v1_checking_body
from inspection.domain.rules import InspectionRules
from pubrev_contracts.vocabulary.violations import ViolationKind
from servicekit.errors import RuleViolated


class Finding(Aggregate):
    """One violation found (ViolationFound) and its rectification."""

    class ViolationFound(Aggregate.Created):
        class_version = 2
        spot_check_id: uuid.UUID
        community_code: str
        unit: str
        checking_unit: str
        checking_kind: str
        company_uscc: str
        kind: str
        kind_name: str
        severity: str
        legal_basis: str
        note: str
        evidence_refs: list[str]
        found_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["checking_unit"], state["checking_kind"] = v1_checking_body(
                state["unit"],
                state["found_at"],
                lambda plan_id: (
                    spot_check_id(plan_id, state["community_code"]) == state["spot_check_id"]
                ),
            )

    @event(ViolationFound)
    def __init__(
        self,
        spot_check_id: uuid.UUID,
        community_code: str,
        unit: str,
        checking_unit: str,
        checking_kind: str,
        company_uscc: str,
        kind: str,
        kind_name: str,
        severity: str,
        legal_basis: str,
        note: str,
        evidence_refs: list[str],
        found_at: datetime,
    ) -> None:
        self.spot_check_id = spot_check_id
        self.community_code = community_code
        self.unit = unit
        self.checking_unit = checking_unit
        self.checking_kind = checking_kind
        self.company_uscc = company_uscc
        self.kind = kind
        self.kind_name = kind_name
        self.severity = severity
        self.legal_basis = legal_basis
        self.found_at = found_at
        self.deadline: datetime | None = None
        self.deadline_basis = ""
        self.status = "found"

    @staticmethod
    def create_id(spot_check_id: uuid.UUID, kind: str) -> uuid.UUID:
        return finding_id(spot_check_id, kind)

    @classmethod
    def found(
        cls,
        spot_check_id: uuid.UUID,
        community_code: str,
        unit: str,
        checking_unit: str,
        checking_kind: str,
        company_uscc: str,
        kind: ViolationKind,
        severity: str,
        note: str,
        evidence_refs: list[str],
        found_at: datetime,
        rules: InspectionRules,
    ) -> Finding:
        """A violation a check found (ViolationFound), its rectification ordered at once
        (RectificationOrdered) with the rules' deadline for its severity. A deadline in a
        year the holiday calendar lacks raises CalendarNotConfigured before anything is
        recorded: a deadline is never guessed."""
        deadline = rules.rectification_deadline(found_at, severity)
        finding = cls(
            spot_check_id,
            community_code,
            unit,
            checking_unit,
            checking_kind,
            company_uscc,
            kind.code,
            kind.name,
            severity,
            kind.legal_basis,
            note,
            evidence_refs,
            found_at,
        )
        finding.order_rectification(deadline, rules.deadline_basis(severity, deadline))
        return finding

    class RectificationOrdered(Aggregate.Event):
        class_version = 2
        unit: str
        checking_unit: str
        checking_kind: str
        community_code: str
        company_uscc: str
        kind: str
        deadline: datetime
        deadline_basis: str
        """Where the period and its end come from (rules.InspectionRules.deadline_basis)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # The finding's id is derived from its check's, and that from its plan's: a
            # yearly plan of `unit` in the deadline's year or the one before made it, or a
            # cross check did. v1 deadlines were plain days added in UTC, with no basis.
            state["checking_unit"], state["checking_kind"] = v1_checking_body(
                state["unit"],
                state["deadline"],
                lambda plan_id: (
                    finding_id(spot_check_id(plan_id, state["community_code"]), state["kind"])
                    == state["originator_id"]
                ),
            )
            state["deadline_basis"] = ""

    def order_rectification(self, deadline: datetime, deadline_basis: str) -> None:
        self._ordered(
            unit=self.unit,
            checking_unit=self.checking_unit,
            checking_kind=self.checking_kind,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            deadline=deadline,
            deadline_basis=deadline_basis,
        )

    @event(RectificationOrdered)
    def _ordered(
        self,
        unit: str,
        checking_unit: str,
        checking_kind: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        deadline: datetime,
        deadline_basis: str,
    ) -> None:
        self.deadline = deadline
        self.deadline_basis = deadline_basis
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
        """Closes the rectification with its evidence; late when after the deadline."""
        if self.status == "verified":
            raise RuleViolated("the rectification is verified already", "该问题整改已验收")
        if not evidence_refs:
            raise RuleViolated(
                "verification needs evidence of the rectification", "整改验收须附整改佐证材料"
            )
        assert self.deadline is not None
        self._verified(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            verified_at=verified_at,
            late=verified_at > self.deadline,
            evidence_refs=evidence_refs,
            note=note,
        )

    @event(RectificationVerified)
    def _verified(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        verified_at: datetime,
        late: bool,
        evidence_refs: list[str],
        note: str,
    ) -> None:
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
        self._overdue(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            deadline=self.deadline,
        )
        return True

    @event(RectificationOverdue)
    def _overdue(
        self, unit: str, community_code: str, company_uscc: str, kind: str, deadline: datetime
    ) -> None:
        self.status = "overdue"


# Findings were stored under inspection.domain.check until issue 12 gave each aggregate its
# module: their stored topics keep resolving here (ADR 0014). Never remove a line while such
# events are stored.
register_topic("inspection.domain.check:Finding", Finding)
register_topic("inspection.domain.check:Finding.ViolationFound", Finding.ViolationFound)
register_topic("inspection.domain.check:Finding.RectificationOrdered", Finding.RectificationOrdered)
register_topic(
    "inspection.domain.check:Finding.RectificationVerified", Finding.RectificationVerified
)
register_topic("inspection.domain.check:Finding.RectificationOverdue", Finding.RectificationOverdue)
