"""A spot check (抽查记录) and its findings (问题), each with a rectification timeline.

Two units matter for each: `unit` is the community's (the jurisdiction, DOMAIN.md §2: the
county that sees the record and closes its rectification), and the checking body
(`checking_unit`, `checking_kind`) is who checked (plan 四（三）、四（四）): the city
(`city`, putian), a county-level unit (`county`), or a cross-check team of one unit
checking another's communities (`cross`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from inspection.domain.plan import SpotCheckPlan
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("5c2e9a1b-7d3f-4e6a-8b0c-1d2e3f4a5b6c")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _v1_checking_body(
    unit: str, when: datetime, made_by: Callable[[uuid.UUID], bool]
) -> tuple[str, str]:
    """The checking body of an event stored before it was recorded (class_version 1). Its
    `unit` was the plan's checked unit: the planning unit itself for a yearly plan (putian
    for the city), the checked unit for a cross check. A yearly plan's id is deterministic, so
    `made_by(plan_id)` tells whether the record came from `unit`'s own yearly plan of that
    year or the year before; otherwise it came from a cross check, whose checking unit v1
    did not keep ("")."""
    year = when.astimezone(SHANGHAI).year
    for plan_year in (year, year - 1):
        if made_by(SpotCheckPlan.create_id(plan_year, "yearly", unit)):
            return unit, "city" if unit == CITY else "county"
    return "", "cross"


class SpotCheck(Aggregate):
    class Done(Aggregate.Created):
        class_version = 3
        plan_id: uuid.UUID
        community_code: str
        unit: str
        checking_unit: str
        checking_kind: str
        company_uscc: str
        inspected_at: datetime
        inspectors: list[str]
        checklist: list[dict[str, Any]]
        finding_ids: list[str]
        substitutions: list[dict[str, str]]
        """Drawn inspectors replaced for this check: {absent, substitute, reason} (v3)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["checking_unit"], state["checking_kind"] = _v1_checking_body(
                state["unit"], state["inspected_at"], lambda plan_id: plan_id == state["plan_id"]
            )

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before v3 the inspectors were not checked against the draw: none recorded.
            state["substitutions"] = []

    @event(Done)
    def __init__(
        self,
        plan_id: uuid.UUID,
        community_code: str,
        unit: str,
        checking_unit: str,
        checking_kind: str,
        company_uscc: str,
        inspected_at: datetime,
        inspectors: list[str],
        checklist: list[dict[str, Any]],
        finding_ids: list[str],
        substitutions: list[dict[str, str]],
    ) -> None:
        self.plan_id = plan_id
        self.community_code = community_code
        self.unit = unit
        self.checking_unit = checking_unit
        self.checking_kind = checking_kind
        self.company_uscc = company_uscc
        self.inspected_at = inspected_at
        self.inspectors = inspectors
        self.checklist = checklist
        self.finding_ids = finding_ids
        self.substitutions = substitutions

    @staticmethod
    def create_id(plan_id: uuid.UUID, community_code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"check:{plan_id}:{community_code}")


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
            state["checking_unit"], state["checking_kind"] = _v1_checking_body(
                state["unit"],
                state["found_at"],
                lambda plan_id: (
                    SpotCheck.create_id(plan_id, state["community_code"]) == state["spot_check_id"]
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
        return uuid.uuid5(NAMESPACE, f"finding:{spot_check_id}:{kind}")

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
            state["checking_unit"], state["checking_kind"] = _v1_checking_body(
                state["unit"],
                state["deadline"],
                lambda plan_id: (
                    Finding.create_id(
                        SpotCheck.create_id(plan_id, state["community_code"]), state["kind"]
                    )
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
