"""A property company's credit ledger (信用档案), by 统一社会信用代码.

The ledger decides what a finding costs (the deduction table), when the points come back
(the display periods of the finding's tier, repair after a verified rectification), and
when the company is proposed for the serious-dishonesty list. The company's USCC is taken
as inspection stated it: a registry code disclosure kept and flagged keeps its ledger.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from credit.domain.rules import INITIAL_SCORE, CreditRules, add_months_at

NAMESPACE = uuid.UUID("9b1d5e3c-4a2f-4e7b-8c6d-2f1e0a9b8c7d")


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
        if finding_id in self.records or finding_id in self.restored_ids:
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

    def list_if_dishonest(self, rules: CreditRules, unit: str, now: datetime) -> bool:
        """Lists the company (严重失信主体名单) once, when the configured threshold is met:
        a score below it, or enough serious findings within its window."""
        if self.listed:
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
        self._listed(
            unit=unit,
            company_uscc=self.company_uscc,
            score=self.score,
            serious_findings=serious,
            reason="; ".join(reasons),
        )
        return True

    @event(SeriousDishonestyListed)
    def _listed(
        self, unit: str, company_uscc: str, score: int, serious_findings: int, reason: str
    ) -> None:
        self.listed = True


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
