"""Administrative penalties (行政处罚决定) and their withdrawal."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from eventsourcing.domain import Aggregate, event

from servicekit.errors import RuleViolated

NAMESPACE = uuid.UUID("e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8")

PENALTY_TYPES = {
    "warning": "警告",
    "circulated_criticism": "通报批评",
    "fine": "罚款",
    "confiscation_of_illegal_gains": "没收违法所得",
    "confiscation_of_property": "没收非法财物",
    "permit_suspension": "暂扣许可证件",
    "qualification_downgrade": "降低资质等级",
    "license_revocation": "吊销许可证件",
    "activity_restriction": "限制开展生产经营活动",
    "business_suspension": "责令停产停业",
    "closure": "责令关闭",
    "employment_restriction": "限制从业",
    "detention": "行政拘留",
}
"""行政处罚法 (2021) Art. 9."""

WITHDRAWAL_WORKING_DAYS = 3
"""行政处罚法 Art. 48: a revoked decision is withdrawn from publication within 3 working days."""


def add_working_days(start: date, days: int) -> date:
    """Weekends skipped; public holidays are not modelled (a stricter deadline, not a laxer one)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


class Penalty(Aggregate):
    class Imposed(Aggregate.Created):
        decision_number: str
        party_name: str
        party_uscc: str
        violation_kind: str
        facts: str
        legal_basis: str
        penalty_types: list[str]
        content: str
        fine_fen: int
        confiscated_fen: int
        decision_date: date
        display_until: date
        authority_name: str
        authority_uscc: str
        unit: str
        remarks: str

    @event(Imposed)
    def __init__(self, decision_number: str, party_name: str, party_uscc: str,
                 violation_kind: str, facts: str, legal_basis: str, penalty_types: list[str],
                 content: str, fine_fen: int, confiscated_fen: int, decision_date: date,
                 display_until: date, authority_name: str, authority_uscc: str, unit: str,
                 remarks: str) -> None:
        self.decision_number = decision_number
        self.party_uscc = party_uscc
        self.unit = unit
        self.revoked = False

    @staticmethod
    def create_id(decision_number: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"penalty:{decision_number}")

    class Revoked(Aggregate.Event):
        decision_number: str
        party_uscc: str
        unit: str
        reason: str
        revoked_on: date
        withdraw_by: date

    def revoke(self, reason: str, today: date) -> None:
        if self.revoked:
            raise RuleViolated(f"penalty {self.decision_number} is revoked already",
                               f"处罚决定 {self.decision_number} 已撤销")
        self._revoked(decision_number=self.decision_number, party_uscc=self.party_uscc,
                      unit=self.unit, reason=reason, revoked_on=today,
                      withdraw_by=add_working_days(today, WITHDRAWAL_WORKING_DAYS))

    @event(Revoked)
    def _revoked(self, decision_number: str, party_uscc: str, unit: str, reason: str,
                 revoked_on: date, withdraw_by: date) -> None:
        self.revoked = True
