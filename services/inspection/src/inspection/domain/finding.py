"""A finding (问题): one violation found, by a spot check or entered directly, and what follows
it — its rectification (整改), the company's evidence, its objection (异议) and withdrawal.

`unit` is the jurisdiction that sees the record (DOMAIN.md §2): the community's for a
company's finding (the county that closes its rectification), the failing agency's for an
agency's (E1–E3). `checking_unit` and `checking_kind` name who found it (checking_body):
a spot check's plan (city, county, cross) or a unit that entered it directly (`direct`).

A company's finding (A–D) orders rectification at once; an agency's (E1–E3, plan 二（五）)
orders none and names no company: it goes to 智慧监督 and never costs a company credit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from inspection.domain.checking_body import finding_id, spot_check_id, v1_checking_body
from inspection.domain.rules import InspectionRules
from pubrev_contracts.vocabulary.violations import ViolationKind
from servicekit.attachments import AttachmentRef
from servicekit.errors import RuleViolated, excerpt

DIRECT = "direct"
"""The checking kind of a finding entered directly (an investigation, an audit, a case)."""


class Finding(Aggregate):
    """One violation found (ViolationFound) and what follows it."""

    class ViolationFound(Aggregate.Created):
        class_version = 3
        spot_check_id: uuid.UUID
        """The check that found it; for a finding entered directly, the id of that entry."""
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
        party: str
        """company (A–D) or agency (E1–E3), from the code list (v3)."""
        agency_unit: str
        """An agency's finding: the unit, or the township (镇（街道）) of `unit`, that failed."""
        warning_id: str
        """The 智慧监督 warning the finding escalates ("" : none)."""
        attachments: list[dict[str, Any]]
        recorded_at: datetime
        """When the finding was recorded, by the service's clock: from then the company knows
        it (its objection period runs from then, or from `found_at` if later)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["checking_unit"], state["checking_kind"] = v1_checking_body(
                state["unit"],
                state["found_at"],
                lambda plan_id: (
                    spot_check_id(plan_id, state["community_code"]) == state["spot_check_id"]
                ),
            )

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Before v3 every finding came from a checklist: a company's, without files.
            state["party"] = "company"
            state["agency_unit"] = ""
            state["warning_id"] = ""
            state["attachments"] = []
            state["recorded_at"] = state["found_at"]

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
        party: str,
        agency_unit: str,
        warning_id: str,
        attachments: list[dict[str, Any]],
        recorded_at: datetime,
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
        self.note = note
        self.found_at = found_at
        self.party = party
        self.agency_unit = agency_unit
        self.warning_id = warning_id
        self.attachments = attachments
        self.recorded_at = recorded_at
        self.deadline: datetime | None = None
        self.deadline_basis = ""
        self.status = "found"
        """found (an agency's: no rectification), open, verified, overdue, withdrawn."""
        self.submissions: list[dict[str, Any]] = []
        """The company's rectification evidence, oldest first."""
        self.objection = ""
        """"" (none), pending, upheld or rejected."""
        self.objection_deadline: datetime | None = None

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
        attachments: tuple[AttachmentRef, ...] = (),
        recorded_at: datetime | None = None,
    ) -> Finding:
        """A violation a check found (ViolationFound), its rectification ordered at once
        (RectificationOrdered) with the rules' deadline for its severity. A deadline in a
        year the holiday calendar lacks raises CalendarNotConfigured before anything is
        recorded: a deadline is never guessed. `recorded_at`: when the check is recorded
        (its inspection's time when not given)."""
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
            "company",
            "",
            "",
            [a.as_dict() for a in attachments],
            recorded_at or found_at,
        )
        finding.order_rectification(deadline, rules.deadline_basis(severity, deadline))
        return finding

    @classmethod
    def entered(
        cls,
        entry_id: uuid.UUID,
        kind: ViolationKind,
        severity: str,
        note: str,
        attachments: tuple[AttachmentRef, ...],
        found_at: datetime,
        checking_unit: str,
        rules: InspectionRules,
        *,
        unit: str,
        community_code: str = "",
        community_unit: str = "",
        company_uscc: str = "",
        agency_unit: str = "",
        warning_id: str = "",
    ) -> Finding:
        """A finding entered directly (`direct`), with its evidence: what an investigation,
        an audit or a case established (collusion D1–D3 and embezzlement C2 are not seen by
        a checklist; the agencies' failures E1–E3 are nobody's checklist item).

        A company's (A–D) names the community's company and orders rectification from the
        moment it is entered; an agency's (E1–E3) names the failing unit or township
        (`agency_unit`), never a company, and orders none: 智慧监督 tracks it to closure.
        `warning_id` links the 智慧监督 warning the finding escalates. `community_unit` is
        the named community's unit: an agency's failure about a community is its unit's."""
        if community_code and community_unit != unit:
            raise RuleViolated(
                f"community {excerpt(community_code)} is not of {unit}",
                f"该小区不属于{unit}",
            )
        if not attachments:
            raise RuleViolated(
                "a finding entered directly needs its evidence attached",
                "直接录入的问题须附证据材料",
            )
        if kind.party == "company":
            if not company_uscc:
                raise RuleViolated(
                    f"community {excerpt(community_code)} has no property company on record: "
                    "a company's violation is recorded once its company is known",
                    "该小区尚无物业服务企业登记，无法记录企业问题",
                )
            agency_unit = ""
        else:
            if not agency_unit:
                raise RuleViolated(
                    f"{kind.code} is an agency's failure: name the unit or township that failed",
                    f"{kind.code} 属监管部门履职问题，须注明责任单位",
                )
            company_uscc = ""
        finding = cls(
            entry_id,
            community_code,
            unit,
            checking_unit,
            DIRECT,
            company_uscc,
            kind.code,
            kind.name,
            severity,
            kind.legal_basis,
            note,
            [],
            found_at,
            kind.party,
            agency_unit,
            warning_id,
            [a.as_dict() for a in attachments],
            found_at,
        )
        if kind.party == "company":
            deadline = rules.rectification_deadline(found_at, severity)
            finding.order_rectification(deadline, rules.deadline_basis(severity, deadline))
        return finding

    # -- rectification -------------------------------------------------------------------

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

    def _require_rectification(self) -> None:
        """Only a company's finding that stands has a rectification to work on."""
        if self.party != "company":
            raise RuleViolated(
                "an agency's finding orders no rectification of a company: 智慧监督 tracks it",
                "监管部门履职问题不向企业下达整改，由智慧监督平台跟踪处置",
            )
        if self.status == "withdrawn":
            raise RuleViolated(
                "the finding was withdrawn: its rectification is cancelled",
                "该问题已撤销，整改随之取消",
            )
        if self.status == "verified":
            raise RuleViolated("the rectification is verified already", "该问题整改已验收")

    class RectificationEvidenceSubmitted(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        note: str
        attachments: list[dict[str, Any]]
        submitted_at: datetime

    def submit_evidence(
        self, note: str, attachments: tuple[AttachmentRef, ...], submitted_at: datetime
    ) -> None:
        """The company's own evidence that it rectified (整改佐证材料), for the bureau to
        verify; it may submit again (the bureau verifies against the latest). An order past
        its deadline still takes evidence: the rectification is late, not void."""
        self._require_rectification()
        if not attachments:
            raise RuleViolated(
                "rectification evidence needs its files attached", "整改佐证须附材料"
            )
        self._evidence_submitted(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            note=note,
            attachments=[a.as_dict() for a in attachments],
            submitted_at=submitted_at,
        )

    @event(RectificationEvidenceSubmitted)
    def _evidence_submitted(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        note: str,
        attachments: list[dict[str, Any]],
        submitted_at: datetime,
    ) -> None:
        self.submissions.append(
            {"note": note, "attachments": attachments, "submitted_at": submitted_at}
        )

    class RectificationVerified(Aggregate.Event):
        class_version = 2
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        verified_at: datetime
        late: bool
        evidence_refs: list[str]
        note: str
        company_evidence: list[dict[str, Any]]
        """The company's submission the verification relied on (its files; v2)."""
        rectified_at: datetime
        """When the rectification was shown done: the cited submission's time, or the
        verification's (v2; before: the verification's)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["company_evidence"] = []
            state["rectified_at"] = state["verified_at"]

    def verify(
        self,
        verified_at: datetime,
        evidence_refs: list[str],
        note: str,
        cite_company_evidence: bool = False,
    ) -> None:
        """Closes the rectification (整改验收). Its evidence is the bureau's own references,
        or the company's latest submission when the bureau cites it: then the rectification
        counts as done when the company submitted, so a company that proved it in time is
        not late for the bureau's later visit. Late when done after the deadline."""
        self._require_rectification()
        cited = self.submissions[-1] if cite_company_evidence and self.submissions else None
        if cite_company_evidence and cited is None:
            raise RuleViolated(
                "the company has submitted no rectification evidence to cite",
                "企业尚未提交整改佐证材料，无从引用",
            )
        if not evidence_refs and cited is None:
            raise RuleViolated(
                "verification needs evidence of the rectification", "整改验收须附整改佐证材料"
            )
        assert self.deadline is not None
        rectified_at: datetime = cited["submitted_at"] if cited is not None else verified_at
        self._verified(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            verified_at=verified_at,
            late=rectified_at > self.deadline,
            evidence_refs=evidence_refs,
            note=note,
            company_evidence=list(cited["attachments"]) if cited is not None else [],
            rectified_at=rectified_at,
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
        company_evidence: list[dict[str, Any]],
        rectified_at: datetime,
    ) -> None:
        self.status = "verified"

    class RectificationOverdue(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        deadline: datetime

    def mark_overdue(self, now: datetime) -> bool:
        """Once, when the deadline has passed and the rectification is not verified (nor
        the finding withdrawn)."""
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

    # -- objection (异议) ------------------------------------------------------------------

    class Objected(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        reason: str
        attachments: list[dict[str, Any]]
        objected_at: datetime
        deadline: datetime
        """The last instant an objection could be made (rules.objection_deadline)."""

    def raise_objection(
        self,
        reason: str,
        attachments: tuple[AttachmentRef, ...],
        objected_at: datetime,
        rules: InspectionRules,
    ) -> None:
        """The company's objection to its finding (异议), once, within the objection period
        from the finding, counted from when it was recorded if that was later (a check
        recorded days after the visit: the company knows it from then; rules: local
        configuration). The finding and its rectification order stand until the objection is
        decided (DecideObjection)."""
        if self.party != "company":
            raise RuleViolated(
                "an agency's finding names no company to object to it",
                "监管部门履职问题不适用企业异议",
            )
        if self.status == "withdrawn":
            raise RuleViolated("the finding was withdrawn already", "该问题已撤销")
        if self.objection:
            raise RuleViolated(
                "an objection to this finding was made already", "已对该问题提出过异议"
            )
        deadline = rules.objection_deadline(max(self.found_at, self.recorded_at))
        if objected_at > deadline:
            raise RuleViolated(
                f"the objection period ended {deadline.isoformat()} "
                f"({rules.objection_days} days from the finding)",
                f"异议期限已届满（自发现问题之日起{rules.objection_days}日）",
            )
        self._objected(
            unit=self.unit,
            community_code=self.community_code,
            company_uscc=self.company_uscc,
            kind=self.kind,
            reason=reason,
            attachments=[a.as_dict() for a in attachments],
            objected_at=objected_at,
            deadline=deadline,
        )

    @event(Objected)
    def _objected(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        reason: str,
        attachments: list[dict[str, Any]],
        objected_at: datetime,
        deadline: datetime,
    ) -> None:
        self.objection = "pending"
        self.objection_deadline = deadline

    class ObjectionRejected(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        decision: str
        decided_at: datetime

    class Withdrawn(Aggregate.Event):
        unit: str
        community_code: str
        company_uscc: str
        kind: str
        reason: str
        withdrawn_at: datetime

    def decide_objection(self, upheld: bool, decision: str, decided_at: datetime) -> None:
        """The bureau's decision on the pending objection: upheld withdraws the finding
        (FindingWithdrawn: its rectification is cancelled, and what it cost is undone by
        those who charged it); rejected, the finding stands."""
        if self.objection != "pending":
            raise RuleViolated(
                "no objection to this finding awaits a decision", "该问题没有待处理的异议"
            )
        facts = {
            "unit": self.unit,
            "community_code": self.community_code,
            "company_uscc": self.company_uscc,
            "kind": self.kind,
        }
        if upheld:
            self._withdrawn(**facts, reason=decision, withdrawn_at=decided_at)
        else:
            self._rejected(**facts, decision=decision, decided_at=decided_at)

    @event(ObjectionRejected)
    def _rejected(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        decision: str,
        decided_at: datetime,
    ) -> None:
        self.objection = "rejected"

    @event(Withdrawn)
    def _withdrawn(
        self,
        unit: str,
        community_code: str,
        company_uscc: str,
        kind: str,
        reason: str,
        withdrawn_at: datetime,
    ) -> None:
        self.objection = "upheld"
        self.status = "withdrawn"


EVIDENCE_EVENTS = (Finding.ViolationFound, Finding.RectificationEvidenceSubmitted, Finding.Objected)
"""The events of a finding that reference files (`attachments`): whoever may read the finding
may download them."""

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
