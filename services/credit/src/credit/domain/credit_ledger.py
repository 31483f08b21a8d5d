"""A property company's credit ledger (信用档案), by 统一社会信用代码.

The ledger decides what a finding costs (the deduction table), when the points come back
(the display periods of the finding's tier, repair after a verified rectification), when a
deduction is annulled (the company's objection upheld, or the finding withdrawn), and when
the company is proposed for the serious-dishonesty list, which the credit office decides
(work plan 三: 发改部门 pushes those 依法列入严重失信惩戒对象名单). The company's USCC is taken
as inspection stated it: a registry code disclosure kept and flagged keeps its ledger.
Only a company's findings reach it: an agency's (E1–E3) never touch a company's credit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from credit.domain.rules import INITIAL_SCORE, CreditRules, add_months_at
from servicekit.attachments import AttachmentRef
from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("9b1d5e3c-4a2f-4e7b-8c6d-2f1e0a9b8c7d")

OBJECTION_UPHELD = "objection_upheld"
FINDING_WITHDRAWN = "finding_withdrawn"


def charges_company(party: str) -> bool:
    """Whether a finding is a company's failure, to be charged to its credit: an agency's
    (E1–E3, work plan 二（五）) goes to 智慧监督 and never touches a company's credit."""
    return party == "company"


class CreditLedger(Aggregate):
    """信用档案: a score from INITIAL_SCORE, its deductions and restorations."""

    class Opened(Aggregate.Created):
        company_uscc: str

    @event(Opened)
    def __init__(self, company_uscc: str) -> None:
        self.company_uscc = company_uscc
        self.score = INITIAL_SCORE
        self.records: dict[str, dict[str, Any]] = {}
        """Open deductions by finding id."""
        self.restored_ids: list[str] = []
        self.listed = False
        self.units: list[str] = []
        """The units whose findings it holds entries of, in the order they came."""
        self.annulled_ids: list[str] = []
        self.objections: dict[str, dict[str, str]] = {}
        """finding id → its objection: `status` open, rejected or closed (upheld, or the
        finding withdrawn), and the `unit` of the deduction, which decides it."""
        self.proposal: dict[str, Any] | None = None
        """The pending proposal for the serious-dishonesty list, until the office decides."""

    @staticmethod
    def create_id(company_uscc: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"ledger:{company_uscc}")

    class Deducted(Aggregate.Event):
        unit: str
        company_uscc: str
        finding_id: str
        kind: str
        severity: str
        points: int
        score_after: int
        grade_after: str
        table_version: str
        legal_basis: str
        found_at: datetime
        published: bool
        repair_from: datetime
        display_until: datetime

    def deduct(
        self,
        rules: CreditRules,
        unit: str,
        finding_id: str,
        kind: str,
        severity: str,
        found_at: datetime,
    ) -> bool:
        """Deducts the table's points for a finding, once; False if it was deducted before.
        Its display periods (when it may be repaired, when it is restored at the latest)
        are its tier's, counted from the finding's date in Asia/Shanghai."""
        if (
            finding_id in self.records
            or finding_id in self.restored_ids
            or finding_id in self.annulled_ids
        ):
            return False
        points = rules.deductions.points_for(kind, severity)
        score = max(self.score - points, 0)
        tier = rules.display.tier(severity)
        self._deducted(
            unit=unit,
            company_uscc=self.company_uscc,
            finding_id=finding_id,
            kind=kind,
            severity=severity,
            points=points,
            score_after=score,
            grade_after=rules.grades.grade(score),
            table_version=rules.deductions.version,
            legal_basis=rules.deductions.legal_basis,
            found_at=found_at,
            published=tier.published,
            repair_from=add_months_at(found_at, tier.minimum_months),
            display_until=add_months_at(found_at, tier.maximum_months),
        )
        return True

    @event(Deducted)
    def _deducted(
        self,
        unit: str,
        company_uscc: str,
        finding_id: str,
        kind: str,
        severity: str,
        points: int,
        score_after: int,
        grade_after: str,
        table_version: str,
        legal_basis: str,
        found_at: datetime,
        published: bool,
        repair_from: datetime,
        display_until: datetime,
    ) -> None:
        self.score = score_after
        if unit not in self.units:
            self.units.append(unit)
        self.records[finding_id] = {
            "unit": unit,
            "kind": kind,
            "severity": severity,
            "points": points,
            "found_at": found_at,
            "repair_from": repair_from,
            "display_until": display_until,
            "rectified": False,
        }

    class Restored(Aggregate.Event):
        unit: str
        company_uscc: str
        finding_id: str
        points: int
        score_after: int
        grade_after: str
        reason: str

    def note_rectified(self, rules: CreditRules, finding_id: str, now: datetime) -> bool:
        """A verified rectification: restores at once if the minimum display period has
        passed (信用修复), otherwise when it passes (see `restore_due`)."""
        record = self.records.get(finding_id)
        if record is None:
            return False
        if now >= record["repair_from"]:
            self._restore(rules, finding_id, "rectification_verified")
            return True
        self._rectified(finding_id=finding_id)
        return False

    class RectificationNoted(Aggregate.Event):
        finding_id: str

    @event(RectificationNoted)
    def _rectified(self, finding_id: str) -> None:
        self.records[finding_id]["rectified"] = True

    def restore_due(self, rules: CreditRules, now: datetime) -> list[str]:
        """Restores what is due: rectified records past their minimum period, every record
        past its maximum display period."""
        restored = []
        for finding_id, record in sorted(self.records.items()):
            if now >= record["display_until"]:
                self._restore(rules, finding_id, "display_period_ended")
                restored.append(finding_id)
            elif record["rectified"] and now >= record["repair_from"]:
                self._restore(rules, finding_id, "rectification_verified")
                restored.append(finding_id)
        return restored

    def _restore(self, rules: CreditRules, finding_id: str, reason: str) -> None:
        record = self.records[finding_id]
        score = min(self.score + record["points"], INITIAL_SCORE)
        self._restored(
            unit=record["unit"],
            company_uscc=self.company_uscc,
            finding_id=finding_id,
            points=record["points"],
            score_after=score,
            grade_after=rules.grades.grade(score),
            reason=reason,
        )

    @event(Restored)
    def _restored(
        self,
        unit: str,
        company_uscc: str,
        finding_id: str,
        points: int,
        score_after: int,
        grade_after: str,
        reason: str,
    ) -> None:
        self.score = score_after
        self.records.pop(finding_id, None)
        self.restored_ids.append(finding_id)

    class SeriousDishonestyListed(Aggregate.Event):
        unit: str
        company_uscc: str
        score: int
        serious_findings: int
        reason: str

    class SeriousDishonestyProposed(Aggregate.Event):
        """The configured threshold is met: the company is proposed for the list, which the
        credit office decides (DecideSeriousDishonesty)."""

        unit: str
        company_uscc: str
        score: int
        serious_findings: int
        reason: str

    def propose_if_dishonest(self, rules: CreditRules, unit: str, now: datetime) -> bool:
        """Proposes the company for the list (严重失信主体名单) when the configured threshold
        is met: a score below it, or enough serious findings within its window. Never while
        a proposal awaits its decision nor once listed; after a declined proposal, again on
        the next finding that meets it."""
        if self.listed or self.proposal is not None:
            return False
        rule = rules.dishonesty
        since = now - timedelta(days=rule.within_days)
        serious = sum(
            1
            for r in self.records.values()
            if r["severity"] == "serious" and r["found_at"] >= since
        )
        reasons = []
        if self.score < rule.score_below:
            reasons.append(f"score {self.score} below {rule.score_below}")
        if serious >= rule.serious_findings:
            reasons.append(f"{serious} serious findings within {rule.within_days} days")
        if not reasons:
            return False
        self._proposed(
            unit=unit,
            company_uscc=self.company_uscc,
            score=self.score,
            serious_findings=serious,
            reason="; ".join(reasons),
        )
        return True

    @event(SeriousDishonestyProposed)
    def _proposed(
        self, unit: str, company_uscc: str, score: int, serious_findings: int, reason: str
    ) -> None:
        self.proposal = {
            "unit": unit,
            "score": score,
            "serious_findings": serious_findings,
            "reason": reason,
        }

    def decide_dishonesty(self, lists: bool, reason: str) -> None:
        """The credit office lists the proposed company (SeriousDishonestyListed, pushed to
        the joint reward and punishment system) or declines the proposal."""
        if self.proposal is None:
            raise RuleViolated(
                f"no proposal to list {self.company_uscc} awaits a decision",
                "该企业没有待决定的严重失信主体名单提请",
            )
        proposal = self.proposal
        if lists:
            self._listed(
                unit=proposal["unit"],
                company_uscc=self.company_uscc,
                score=self.score,
                serious_findings=proposal["serious_findings"],
                reason=reason,
            )
        else:
            self._declined(unit=proposal["unit"], company_uscc=self.company_uscc, reason=reason)

    class SeriousDishonestyDeclined(Aggregate.Event):
        unit: str
        company_uscc: str
        reason: str

    @event(SeriousDishonestyDeclined)
    def _declined(self, unit: str, company_uscc: str, reason: str) -> None:
        self.proposal = None

    @event(SeriousDishonestyListed)
    def _listed(
        self, unit: str, company_uscc: str, score: int, serious_findings: int, reason: str
    ) -> None:
        self.listed = True
        self.proposal = None

    # -- the company's objection to a deduction, and annulment ------------------------------

    class DeductionObjected(Aggregate.Event):
        """The company objects to a deduction (对信用扣分提出异议), with its reasons and
        evidence."""

        unit: str
        company_uscc: str
        finding_id: str
        reason: str
        attachments: list[dict[str, Any]]
        objected_at: datetime

    def object_to(
        self, finding_id: str, reason: str, attachments: Sequence[AttachmentRef], now: datetime
    ) -> None:
        """One objection per deduction, while the deduction stands."""
        if finding_id in self.objections:
            raise RuleViolated(
                f"the deduction of finding {finding_id} was objected to already",
                "该扣分已提出过异议",
            )
        record = self.records.get(finding_id)
        if record is None:
            raise RuleViolated(
                f"no standing deduction of finding {finding_id}: it was restored or annulled, "
                "or never made",
                "该发现没有尚未恢复的扣分，无需提出异议",
            )
        self._objected(
            unit=record["unit"],
            company_uscc=self.company_uscc,
            finding_id=finding_id,
            reason=reason,
            attachments=[a.as_dict() for a in attachments],
            objected_at=now,
        )

    @event(DeductionObjected)
    def _objected(
        self,
        unit: str,
        company_uscc: str,
        finding_id: str,
        reason: str,
        attachments: list[dict[str, Any]],
        objected_at: datetime,
    ) -> None:
        self.objections[finding_id] = {"status": "open", "unit": unit}

    def objection_unit(self, finding_id: str) -> str | None:
        """The unit of the deduction an objection is about (whose office decides it), or
        None when there is no objection to it."""
        objection = self.objections.get(finding_id)
        return None if objection is None else objection["unit"]

    def decide_objection(
        self, rules: CreditRules, finding_id: str, upheld: bool, reason: str
    ) -> None:
        """Upheld: the deduction is annulled and its points come back (DeductionAnnulled);
        rejected: it stands (DeductionObjectionRejected)."""
        if self.objections.get(finding_id, {}).get("status") != "open":
            raise RuleViolated(
                f"no objection to the deduction of finding {finding_id} awaits a decision",
                "该扣分没有待决定的异议",
            )
        if upheld:
            self._annul(rules, finding_id, OBJECTION_UPHELD, reason)
        else:
            self._rejected(
                unit=self.objections[finding_id]["unit"],
                company_uscc=self.company_uscc,
                finding_id=finding_id,
                reason=reason,
            )

    class DeductionObjectionRejected(Aggregate.Event):
        unit: str
        company_uscc: str
        finding_id: str
        reason: str

    @event(DeductionObjectionRejected)
    def _rejected(self, unit: str, company_uscc: str, finding_id: str, reason: str) -> None:
        self.objections[finding_id]["status"] = "rejected"

    def annul_withdrawn(self, rules: CreditRules, finding_id: str, reason: str) -> bool:
        """Inspection withdrew the finding: its standing deduction is annulled, once; False
        when there is none (never deducted, restored or annulled already)."""
        if finding_id not in self.records:
            return False
        self._annul(rules, finding_id, FINDING_WITHDRAWN, reason)
        return True

    class DeductionAnnulled(Aggregate.Event):
        """A deduction that should not have been made: the company's objection upheld, or
        the finding withdrawn. Its points come back at once; it never counts again."""

        unit: str
        company_uscc: str
        finding_id: str
        points: int
        score_after: int
        grade_after: str
        cause: str
        reason: str

    def _annul(self, rules: CreditRules, finding_id: str, cause: str, reason: str) -> None:
        record = self.records.get(finding_id)
        # An objection upheld after the display period already restored the points: the
        # deduction is still annulled, for the record, and gives nothing back twice.
        points = record["points"] if record is not None else 0
        unit = record["unit"] if record is not None else self.objections[finding_id]["unit"]
        score = min(self.score + points, INITIAL_SCORE)
        self._annulled(
            unit=unit,
            company_uscc=self.company_uscc,
            finding_id=finding_id,
            points=points,
            score_after=score,
            grade_after=rules.grades.grade(score),
            cause=cause,
            reason=reason,
        )

    @event(DeductionAnnulled)
    def _annulled(
        self,
        unit: str,
        company_uscc: str,
        finding_id: str,
        points: int,
        score_after: int,
        grade_after: str,
        cause: str,
        reason: str,
    ) -> None:
        self.score = score_after
        self.records.pop(finding_id, None)
        self.annulled_ids.append(finding_id)
        if finding_id in self.objections:
            self.objections[finding_id]["status"] = "closed"


# Stored events name the module this class lived in until issue 12 (credit.domain.ledger):
# those topics must keep resolving, here, for as long as such events are stored (ADR 0014).
register_topic("credit.domain.ledger:CreditLedger", CreditLedger)
register_topic("credit.domain.ledger:CreditLedger.Opened", CreditLedger.Opened)
register_topic("credit.domain.ledger:CreditLedger.Deducted", CreditLedger.Deducted)
register_topic(
    "credit.domain.ledger:CreditLedger.RectificationNoted", CreditLedger.RectificationNoted
)
register_topic("credit.domain.ledger:CreditLedger.Restored", CreditLedger.Restored)
register_topic(
    "credit.domain.ledger:CreditLedger.SeriousDishonestyListed",
    CreditLedger.SeriousDishonestyListed,
)
