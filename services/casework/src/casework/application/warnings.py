"""The warnings policy (预警) of the 智慧监督 platform: casework's policy over the events of
disclosure, inspection and casework itself (DOMAIN.md §8; the rules: casework.domain.warnings).

Each `on_*` method applies one consumed event: it updates what the policy remembers
(`CommunityFacts`, `CompanyFacts`), asks the rules which warnings are due, and saves the facts,
the warnings not raised before and the delivery's tracking row in ONE `record` call. A
redelivered event therefore changes nothing, and a warning that exists already is not raised
again (its id is derived from rule, subject and period; a race of two raisers ends in a
Conflict, and the consumer's retry then finds the warning).

The methods take plain values, not contract models: this layer does not import the wire
contracts (import-linter `pure-core`); `casework.entrypoints.warning_consumers` translates.

Queries: `warning(id)` and `view(identity, id)` read one warning from the event store.
Listing (open warnings by unit or rule) cannot be answered from the event store, which has
no index by unit or status: that needs a read model projected from Warning.Raised /
Acknowledged / Closed (like rm_cases), which the owner of the service wires.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from casework.application.access import POLICY, authorize, warning_facts
from casework.domain.warnings.community_facts import CommunityFacts, QuarterFigures
from casework.domain.warnings.company_facts import CompanyFacts
from casework.domain.warnings.plan_checks import PlanChecks
from casework.domain.warnings.rules import (
    DEFAULT_RULES,
    WarningRules,
    complaint_without_feedback,
    disclosure_overdue,
    disclosure_warnings,
    rectification_overdue,
    repeat_complaints,
    repeat_violations,
    unit_behind_quota,
)
from casework.domain.warnings.supervision_warning import Due
from casework.domain.warnings.supervision_warning import SupervisionWarning as Warning
from casework.domain.warnings.unit_inspections import UnitInspections
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.errors import NotConfigured
from servicekit.errors import Conflict, NotFound, Validator
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import CITY_UNIT, Identity

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
NOTE_MAX = 2000
EVIDENCE_MAX = 50


@dataclass(frozen=True)
class OpenComplaint:
    """A complaint case without feedback yet, as the sweep finds it."""

    case_id: str
    unit: str
    community_code: str
    received_at: datetime


class WarningsPolicy:
    def __init__(
        self, app: ServiceApplication, clock: Clock, rules: WarningRules = DEFAULT_RULES
    ) -> None:
        self.app = app
        self.clock = clock
        self.rules = rules

    # -- events of other services (consumers) ----------------------------------------------

    def on_community_registered(
        self,
        code: str,
        unit: str,
        company: str,
        elevators: int,
        gates: int,
        leasable: bool,
        delivery: DeliveryRef,
    ) -> bool:
        """CommunityRegistered: the facilities. Re-checks the remembered quarters, since a
        zero-revenue filing may have arrived before the registration."""
        if self.app.already_applied(delivery):
            return False
        facts = self._community(code, unit)
        facts.register(unit, company, elevators, gates, leasable)
        return self._commit([facts], disclosure_warnings(facts, self.rules), delivery)

    def on_disclosure(
        self,
        code: str,
        unit: str,
        company: str,
        year: int,
        quarter: int,
        income_fen: int,
        cost_fen: int,
        surplus_fen: int,
        transferred_fen: int,
        zero_revenue: bool,
        late: bool,
        delivery: DeliveryRef,
        *,
        expenditure_fen: int,
        revision: int = 0,
    ) -> bool:
        """DisclosureFiled (revision 0) or DisclosureAmended (its revision): the quarter's
        figures replace those remembered, and the disclosure rules run again. A deficit
        quarter (surplus < 0) is a filing like any other here: `deficit_quarter` judges it."""
        if self.app.already_applied(delivery):
            return False
        facts = self._community(code, unit)
        figures = QuarterFigures(
            year,
            quarter,
            revision,
            income_fen,
            cost_fen,
            surplus_fen,
            transferred_fen,
            expenditure_fen,
            zero_revenue,
            late,
        )
        changed = facts.note_disclosure(unit, company, figures)
        due = disclosure_warnings(facts, self.rules) if changed else []
        return self._commit([facts], due, delivery)

    def on_overdue(
        self, code: str, unit: str, company: str, year: int, quarter: int, delivery: DeliveryRef
    ) -> bool:
        """DisclosureOverdue: warns at once; nothing to remember."""
        if self.app.already_applied(delivery):
            return False
        return self._commit([], [disclosure_overdue(code, unit, company, year, quarter)], delivery)

    def on_complaint(
        self, code: str, unit: str, company: str, received_at: datetime, delivery: DeliveryRef
    ) -> bool:
        """ComplaintReceived: counts towards repeat complaints on the community. A complaint
        naming no community counts for no community (the delivery is still tracked)."""
        if self.app.already_applied(delivery):
            return False
        if not code:
            return self.app.record(delivery=delivery)
        facts = self._community(code, unit)
        facts.note_complaint(received_at)
        due = repeat_complaints(code, facts.unit, facts.complaints, self.rules)
        return self._commit([facts], due, delivery)

    def on_violation(
        self,
        company: str,
        unit: str,
        finding_id: str,
        found_at: datetime,
        delivery: DeliveryRef,
        *,
        community_code: str = "",
        kind: str = "",
    ) -> bool:
        """ViolationFound: counts towards repeat violations of the company. A finding with
        no company known to inspection cannot count for one (the delivery is tracked)."""
        if self.app.already_applied(delivery):
            return False
        if not company:
            return self.app.record(delivery=delivery)
        facts = self.app.find(CompanyFacts.create_id(company), CompanyFacts) or CompanyFacts(
            company
        )
        if not facts.note_finding(finding_id, unit, community_code, kind, found_at):
            return self.app.record(facts, delivery=delivery)
        due = repeat_violations(company, facts.findings, self.rules, CITY_UNIT)
        return self._commit([facts], due, delivery)

    def on_rectification_overdue(
        self,
        finding_id: str,
        unit: str,
        community_code: str,
        company: str,
        kind: str,
        deadline: datetime,
        delivery: DeliveryRef,
    ) -> bool:
        """RectificationOverdue: warns at once; nothing to remember."""
        if self.app.already_applied(delivery):
            return False
        due = rectification_overdue(finding_id, unit, community_code, company, kind, deadline)
        return self._commit([], [due], delivery)

    # -- casework's own cases (for the owner's sweep) --------------------------------------

    def check_complaint_feedback(
        self,
        case_id: str,
        unit: str,
        community_code: str,
        received_at: datetime,
        feedback_at: datetime | None,
    ) -> bool:
        """Raises `complaint_without_feedback` for a complaint case when it is due (see
        `casework.domain.warnings.complaint_without_feedback`), once per case. Returns
        whether a warning was raised now. Meant for a periodic sweep over open complaint
        cases, and for FeedbackGiven (late feedback)."""
        due = complaint_without_feedback(
            case_id, unit, community_code, received_at, feedback_at, self.clock(), self.rules
        )
        if due is None:
            return False
        warnings = self._new_warnings([due])
        if not warnings:
            return False
        try:
            return self.app.record(*warnings)
        except Conflict:
            # A concurrent sweep raised it first: that is the outcome wanted.
            if self.app.find(due.warning_id, Warning, read_only=True) is not None:
                return False
            raise

    def sweep_complaint_feedback(self, complaints: Iterable[OpenComplaint]) -> int:
        """complaint_without_feedback over the open complaints without feedback; returns
        how many were raised. A complaint whose feedback deadline falls in a year the
        holiday calendar lacks cannot be judged: it is logged and skipped (the sweep runs
        again hourly, and judges it once the year is entered), the others go on."""
        raised = 0
        for c in complaints:
            try:
                if self.check_complaint_feedback(
                    c.case_id, c.unit, c.community_code, c.received_at, None
                ):
                    raised += 1
            except NotConfigured as error:  # the holiday calendar lacks the year
                log.warning(
                    "complaint_without_feedback not judged for case %s: %s",
                    c.case_id,
                    error.message,
                )
        return raised

    def on_plan(
        self, plan_id: str, unit: str, year: int, quota: int, delivery: DeliveryRef
    ) -> bool:
        """A yearly plan of a county-level unit or of the city: its quota sets the unit's
        pace, and its checks count for that unit."""
        if self.app.already_applied(delivery):
            return False
        facts = self._unit(unit, year)
        facts.note_quota(quota)
        facts.note_plan(plan_id)
        return self.app.record(facts, delivery=delivery)

    def on_cross_plan(
        self, plan_id: str, checked_unit: str, year: int, delivery: DeliveryRef
    ) -> bool:
        """A cross check (交叉检查, plan 四（四）) of a county-level unit by another's team: no
        quota of its own, but its checks verify the checked unit's communities and count
        toward that unit's pace, as inspection's progress counts them."""
        if self.app.already_applied(delivery):
            return False
        facts = self._unit(checked_unit, year)
        facts.note_plan(plan_id)
        return self.app.record(facts, delivery=delivery)

    def on_check(self, plan_id: str, community_code: str, delivery: DeliveryRef) -> bool:
        """A community checked under a plan (SpotCheckDone), whether or not the plan has
        arrived yet; counted once however often it is checked."""
        if self.app.already_applied(delivery):
            return False
        checks = self.app.find(PlanChecks.create_id(plan_id), PlanChecks) or PlanChecks(plan_id)
        checks.note_check(community_code)
        return self.app.record(checks, delivery=delivery)

    def checked(self, facts: UnitInspections) -> int:
        """The distinct communities checked this year under the unit's yearly plan and the
        cross checks of its communities."""
        communities = set(facts.checked)
        for plan_id in facts.plans:
            checks = self.app.find(PlanChecks.create_id(plan_id), PlanChecks, read_only=True)
            if checks is not None:
                communities.update(checks.checked)
        return len(communities)

    def sweep_quota_pace(self, units: Iterable[str]) -> int:
        """unit_behind_quota for each unit (the county-level units and the city) behind this
        year's pace, once a month. A year the pace does not know is logged, not guessed."""
        now = self.clock()
        year = now.astimezone(SHANGHAI).year
        raised = 0
        for unit in units:
            facts = self.app.find(UnitInspections.create_id(unit, year), UnitInspections)
            if facts is None:
                continue
            try:
                due = unit_behind_quota(
                    unit, year, facts.quota, self.checked(facts), now, self.rules
                )
            except NotConfigured as error:  # the campaign's schedule lacks the year
                log.warning("unit_behind_quota not judged for %s %s: %s", unit, year, error.message)
                continue
            warnings = self._new_warnings([due] if due else [])
            if warnings:
                self.app.record(*warnings)
                raised += 1
        return raised

    def _unit(self, unit: str, year: int) -> UnitInspections:
        return self.app.find(
            UnitInspections.create_id(unit, year), UnitInspections
        ) or UnitInspections(unit, year)

    # -- commands --------------------------------------------------------------------------

    def acknowledge(
        self, identity: Identity, warning_id: str, note: str, request_id: str = ""
    ) -> Warning:
        """签收: the bureau of the warning's unit (or the city), or the discipline commission
        of that unit (or the city's), takes the warning up (access.POLICY)."""
        POLICY.admit("AcknowledgeWarning", identity)
        v = Validator()
        v.require(
            len(note) <= NOTE_MAX,
            "note",
            "too_long",
            f"at most {NOTE_MAX} characters",
            f"备注不能超过{NOTE_MAX}字",
        )
        v.raise_if_any()
        self._authorise("AcknowledgeWarning", identity, self.warning(warning_id))

        def execute() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self.warning(warning_id)
            current.acknowledge(identity.render(), self.clock(), note.strip())
            return [current], {"warning_id": warning_id, "version": current.version}

        self._run("AcknowledgeWarning", request_id, (warning_id, note), execute)
        return self.warning(warning_id)

    def close(
        self,
        identity: Identity,
        warning_id: str,
        evidence_refs: Iterable[str],
        note: str,
        request_id: str = "",
    ) -> Warning:
        """办结销号 with the evidence that the problem is dealt with (RuleViolated without), by
        the bureau or discipline office of the warning's unit (or the city's), never by the
        unit the warning is about (access.POLICY)."""
        POLICY.admit("CloseWarning", identity)
        refs = list(evidence_refs)
        v = Validator()
        v.require(
            len(note) <= NOTE_MAX,
            "note",
            "too_long",
            f"at most {NOTE_MAX} characters",
            f"备注不能超过{NOTE_MAX}字",
        )
        v.require(
            len(refs) <= EVIDENCE_MAX,
            "evidence_refs",
            "too_many",
            f"at most {EVIDENCE_MAX} references",
            f"佐证材料不能超过{EVIDENCE_MAX}项",
        )
        v.raise_if_any()
        self._authorise("CloseWarning", identity, self.warning(warning_id))

        def execute() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self.warning(warning_id)
            current.close(identity.render(), self.clock(), refs, note.strip())
            return [current], {"warning_id": warning_id, "version": current.version}

        self._run("CloseWarning", request_id, (warning_id, refs, note), execute)
        return self.warning(warning_id)

    # -- queries ---------------------------------------------------------------------------

    def warning(self, warning_id: str) -> Warning:
        """One warning, without a jurisdiction check (for the service itself)."""
        try:
            warning = self.app.find(uuid.UUID(warning_id), Warning)
        except (ValueError, TypeError):
            warning = None
        if warning is None:
            raise NotFound(f"warning {warning_id[:40]} does not exist", "预警不存在")
        return warning

    def view(self, identity: Identity, warning_id: str) -> Warning:
        """One warning, for those who may read it (ListWarnings' rule)."""
        POLICY.admit("ListWarnings", identity)
        warning = self.warning(warning_id)
        self._authorise("ListWarnings", identity, warning)
        return warning

    @staticmethod
    def warning_id(rule: str, subject: str, period: str) -> str:
        return str(Warning.create_id(rule, subject, period))

    # -- internals -------------------------------------------------------------------------

    def _community(self, code: str, unit: str) -> CommunityFacts:
        return self.app.find(CommunityFacts.create_id(code), CommunityFacts) or CommunityFacts(
            code, unit
        )

    def _new_warnings(self, due: Iterable[Due]) -> list[Warning]:
        now = self.clock()
        raised: dict[uuid.UUID, Warning] = {}
        for d in due:
            warning_id = d.warning_id
            if (
                warning_id in raised
                or self.app.find(warning_id, Warning, read_only=True) is not None
            ):
                continue
            # What leaves the platform names its source: the rule's, with these thresholds.
            details = {**d.details, "legal_basis": self.rules.basis(d.rule)}
            raised[warning_id] = Warning(
                d.rule,
                d.unit,
                d.subject_kind,
                d.subject,
                d.period,
                details,
                self.rules.version,
                now,
            )
        return list(raised.values())

    def _commit(
        self, facts: Sequence[Aggregate], due: Iterable[Due], delivery: DeliveryRef
    ) -> bool:
        return self.app.record(*facts, *self._new_warnings(due), delivery=delivery)

    def _run(
        self,
        command: str,
        request_id: str,
        payload: Any,
        execute: Callable[[], tuple[Sequence[Aggregate], dict[str, Any]]],
    ) -> None:
        if request_id:
            self.app.run_once(command, request_id, payload, execute)
            return
        aggregates, _ = execute()
        self.app.record(*aggregates)

    @staticmethod
    def _authorise(rpc: str, identity: Identity, warning: Warning) -> None:
        # County-level discipline commissions exist (县纪委监委) and are bound to their unit
        # like everyone else (DOMAIN.md §2); the city's see every unit.
        authorize(POLICY, rpc, identity, warning_facts(warning))
