"""One warning (问题预警) of the 智慧监督 platform: raised by a rule about a subject for a
period, taken up (签收) and closed with evidence (闭环销号).

Subject kinds: community (code), company (USCC), case (casework case id), unit (a unit's
own conduct: unit_behind_quota, unit_behind_stage, ...) and finding (an inspection finding
against an agency: agency_finding), the kinds of the 智慧监督 feed (contracts/feeds).

A warning escalated into an inspection finding (the finding cites the warning: ViolationFound
`warning_id`) records the link (`Escalated`), so the two stay linked (issue 13 item 2).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from casework.domain.warnings import NAMESPACE
from servicekit.errors import RuleViolated


@dataclass(frozen=True)
class Due:
    """A warning a rule says is due (raised unless it exists already)."""

    rule: str
    unit: str
    subject_kind: str
    subject: str
    period: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def warning_id(self) -> uuid.UUID:
        return SupervisionWarning.create_id(self.rule, self.subject, self.period)


class SupervisionWarning(Aggregate):
    """One warning (预警) of one rule about one subject for one period.

    Its id is derived from rule, subject and period, so the same warning cannot be raised
    twice: a second raise would be a second version 1 of the same aggregate.
    """

    class Raised(Aggregate.Created):
        rule: str
        unit: str
        subject_kind: str
        subject: str
        period: str
        details: dict[str, Any]
        rules_version: str
        raised_at: datetime

    @event(Raised)
    def __init__(
        self,
        rule: str,
        unit: str,
        subject_kind: str,
        subject: str,
        period: str,
        details: dict[str, Any],
        rules_version: str,
        raised_at: datetime,
    ) -> None:
        self.rule = rule
        self.unit = unit
        self.subject_kind = subject_kind
        self.subject = subject
        self.period = period
        self.details = dict(details)
        self.rules_version = rules_version
        self.raised_at = raised_at
        self.status = "raised"
        self.acknowledged_by = ""
        self.acknowledged_at: datetime | None = None
        self.closed_by = ""
        self.closed_at: datetime | None = None
        self.evidence_refs: list[str] = []
        self.notes: list[str] = []
        self.escalated_to: list[str] = []
        """The inspection findings this warning was escalated into."""

    @classmethod
    def raise_due(
        cls, due: Due, rules_version: str, legal_basis: str, at: datetime
    ) -> SupervisionWarning:
        """Raises what a rule found due. What leaves the platform names its source: the
        details carry the rule's legal basis with the thresholds of `rules_version`."""
        return cls(
            due.rule,
            due.unit,
            due.subject_kind,
            due.subject,
            due.period,
            {**due.details, "legal_basis": legal_basis},
            rules_version,
            at,
        )

    @staticmethod
    def create_id(rule: str, subject: str, period: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{rule}:{subject}:{period}")

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    # `unit`, `rule` and `subject` ride on the later events too, so that a projection or
    # the contract translation needs no other event to place them.

    class Acknowledged(Aggregate.Event):
        unit: str
        by: str
        at: datetime
        note: str

    def acknowledge(self, by: str, at: datetime, note: str) -> None:
        """Someone responsible has taken the warning up (已签收)."""
        if self.closed:
            raise RuleViolated(
                "the warning is closed: it cannot be acknowledged", "预警已办结，不能再签收"
            )
        if self.status == "acknowledged":
            raise RuleViolated(
                f"the warning was acknowledged already by {self.acknowledged_by}", "预警已签收"
            )
        self._acknowledged(unit=self.unit, by=by, at=at, note=note)

    @event(Acknowledged)
    def _acknowledged(self, unit: str, by: str, at: datetime, note: str) -> None:
        self.status = "acknowledged"
        self.acknowledged_by = by
        self.acknowledged_at = at
        if note:
            self.notes.append(note)

    class Closed(Aggregate.Event):
        unit: str
        rule: str
        subject: str
        by: str
        at: datetime
        evidence_refs: list[str]
        note: str

    def close(self, by: str, at: datetime, evidence_refs: Iterable[str], note: str) -> None:
        """The problem is dealt with, and the evidence shows it (闭环销号)."""
        if self.closed:
            raise RuleViolated("the warning is closed already", "预警已办结")
        refs = [r.strip() for r in evidence_refs if r.strip()]
        if not refs:
            raise RuleViolated(
                "closing a warning needs the evidence that the problem is dealt with",
                "预警办结须附整改佐证材料",
            )
        self._closed(
            unit=self.unit,
            rule=self.rule,
            subject=self.subject,
            by=by,
            at=at,
            evidence_refs=refs,
            note=note,
        )

    @event(Closed)
    def _closed(
        self,
        unit: str,
        rule: str,
        subject: str,
        by: str,
        at: datetime,
        evidence_refs: list[str],
        note: str,
    ) -> None:
        self.status = "closed"
        self.closed_by = by
        self.closed_at = at
        self.evidence_refs = list(evidence_refs)
        if note:
            self.notes.append(note)

    class Escalated(Aggregate.Event):
        unit: str
        rule: str
        subject: str
        finding_id: str
        kind: str
        at: datetime

    def escalate(self, finding_id: str, kind: str, at: datetime) -> bool:
        """Inspection recorded a finding (`kind`: E1–E3 against an agency, or a company's
        code) that cites this warning: the warning keeps the link, whatever its status (a
        closed warning found to hide a failure is linked too). False (no event) for a
        finding linked before."""
        if finding_id in self.escalated_to:
            return False
        self._escalated(
            unit=self.unit,
            rule=self.rule,
            subject=self.subject,
            finding_id=finding_id,
            kind=kind,
            at=at,
        )
        return True

    @event(Escalated)
    def _escalated(
        self, unit: str, rule: str, subject: str, finding_id: str, kind: str, at: datetime
    ) -> None:
        self.escalated_to.append(finding_id)


# Events stored before issue 12 name the class `Warning` (it shadowed Python's builtin) in the
# single module casework.domain.warnings: those topics resolve to this class (ADR 0014).
register_topic("casework.domain.warnings:Warning", SupervisionWarning)
register_topic("casework.domain.warnings:Warning.Raised", SupervisionWarning.Raised)
register_topic("casework.domain.warnings:Warning.Acknowledged", SupervisionWarning.Acknowledged)
register_topic("casework.domain.warnings:Warning.Closed", SupervisionWarning.Closed)
