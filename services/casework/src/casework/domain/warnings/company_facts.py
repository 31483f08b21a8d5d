"""What the warnings remember of one property company (by USCC): its recent findings
(ViolationFound), counted for repeat_violations, less those withdrawn (FindingWithdrawn)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from casework.domain.warnings import NAMESPACE

FINDINGS_KEPT = 32
"""Findings remembered per company: more than any sane threshold."""


@dataclass(frozen=True)
class NotedFinding:
    finding_id: str
    unit: str
    community_code: str
    kind: str
    found_at: datetime


class CompanyFacts(Aggregate):
    """What the warnings remember of one property company: its last `FINDINGS_KEPT`
    findings, each once."""

    class Opened(Aggregate.Created):
        uscc: str

    @event(Opened)
    def __init__(self, uscc: str) -> None:
        self.uscc = uscc
        self.findings: list[NotedFinding] = []

    @staticmethod
    def create_id(uscc: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"company:{uscc}")

    class FindingNoted(Aggregate.Event):
        finding_id: str
        unit: str
        community_code: str
        kind: str
        found_at: datetime

    def note_finding(
        self, finding_id: str, unit: str, community_code: str, kind: str, found_at: datetime
    ) -> bool:
        """False (and no event) for a finding noted before: it counts once."""
        if any(f.finding_id == finding_id for f in self.findings):
            return False
        self._finding(
            finding_id=finding_id,
            unit=unit,
            community_code=community_code,
            kind=kind,
            found_at=found_at,
        )
        return True

    @event(FindingNoted)
    def _finding(
        self, finding_id: str, unit: str, community_code: str, kind: str, found_at: datetime
    ) -> None:
        noted = NotedFinding(finding_id, unit, community_code, kind, found_at)
        self.findings = sorted([*self.findings, noted], key=lambda f: (f.found_at, f.finding_id))[
            -FINDINGS_KEPT:
        ]

    class FindingWithdrawnNoted(Aggregate.Event):
        finding_id: str

    def withdraw_finding(self, finding_id: str) -> NotedFinding | None:
        """A finding withdrawn (the company's objection upheld) no longer counts: the finding
        as it was noted, or None (and no event) for one not noted."""
        for finding in self.findings:
            if finding.finding_id == finding_id:
                self._withdrawn(finding_id=finding_id)
                return finding
        return None

    @event(FindingWithdrawnNoted)
    def _withdrawn(self, finding_id: str) -> None:
        self.findings = [f for f in self.findings if f.finding_id != finding_id]


# Stored before issue 12 under the single module casework.domain.warnings (ADR 0014).
register_topic("casework.domain.warnings:CompanyFacts", CompanyFacts)
register_topic("casework.domain.warnings:CompanyFacts.Opened", CompanyFacts.Opened)
register_topic("casework.domain.warnings:CompanyFacts.FindingNoted", CompanyFacts.FindingNoted)
