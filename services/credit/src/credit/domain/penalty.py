"""Administrative penalties (行政处罚决定), their tier and their withdrawal."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event

from credit.domain.rules import DisplayPeriods
from pubrev_contracts.vocabulary.calendar import CHINA, PENALTY_LAW_ART_85, WorkCalendar
from pubrev_contracts.vocabulary.violations import COMPANY_KINDS
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
"""《行政处罚法》第四十八条: a revoked decision is withdrawn from publication within 3 days,
which are working days (第八十五条), counted on the holiday calendar."""
WITHDRAWAL_BASIS = f"《行政处罚法》第四十八条；{PENALTY_LAW_ART_85}"


def company_kind(code: str) -> bool:
    """A violation a company is penalised for: A–D of the code list (vocabulary.violations);
    E are the agencies' own failures (work plan 二（五）)."""
    return code in COMPANY_KINDS


class Penalty(Aggregate):
    class Imposed(Aggregate.Created):
        """v2 carries the tier and the decision's own 处罚有效期; `display_until` and
        `repair_from` follow from the tier (None: not published)."""

        class_version = 2

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
        display_until: date | None
        authority_name: str
        authority_uscc: str
        unit: str
        remarks: str
        severity: str | None
        valid_until: date | None
        repair_from: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Decisions stored before the tier was entered: the tier and the decision's
            # validity are unknown and are not guessed; the bureau states them with
            # ClassifyPenalty. display_until stays what was published (3 years).
            state.setdefault("severity", None)
            state.setdefault("valid_until", None)
            state.setdefault("repair_from", None)

    @classmethod
    def impose(
        cls,
        periods: DisplayPeriods,
        *,
        decision_number: str,
        party_name: str,
        party_uscc: str,
        violation_kind: str,
        facts: str,
        legal_basis: str,
        penalty_types: list[str],
        content: str,
        fine_fen: int,
        confiscated_fen: int,
        decision_date: date,
        valid_until: date,
        severity: str,
        authority_name: str,
        authority_uscc: str,
        unit: str,
        remarks: str,
    ) -> Penalty:
        """The decision with its display periods, by its tier (DOMAIN.md §6)."""
        if not company_kind(violation_kind):
            raise RuleViolated(
                f"{violation_kind[:8]} is not a company's violation",
                "违法行为类型须为物业服务企业的违法行为（问题清单A至D类）",
            )
        if valid_until < decision_date:
            raise RuleViolated(
                "the decision cannot lose effect before it is made",
                "处罚有效期不能早于处罚决定日期",
            )
        shown, until, repair = cls._periods(periods, severity, decision_date)
        return cls(
            decision_number=decision_number,
            party_name=party_name,
            party_uscc=party_uscc,
            violation_kind=violation_kind,
            facts=facts,
            legal_basis=legal_basis,
            penalty_types=penalty_types,
            content=content,
            fine_fen=fine_fen,
            confiscated_fen=confiscated_fen,
            decision_date=decision_date,
            display_until=until if shown else None,
            authority_name=authority_name,
            authority_uscc=authority_uscc,
            unit=unit,
            remarks=remarks,
            severity=severity,
            valid_until=valid_until,
            repair_from=repair if shown else None,
        )

    @staticmethod
    def _periods(periods: DisplayPeriods, severity: str, decided: date) -> tuple[bool, date, date]:
        return (
            periods.published(severity),
            periods.display_until(severity, decided),
            periods.repair_from(severity, decided),
        )

    @event(Imposed)
    def __init__(
        self,
        decision_number: str,
        party_name: str,
        party_uscc: str,
        violation_kind: str,
        facts: str,
        legal_basis: str,
        penalty_types: list[str],
        content: str,
        fine_fen: int,
        confiscated_fen: int,
        decision_date: date,
        display_until: date | None,
        authority_name: str,
        authority_uscc: str,
        unit: str,
        remarks: str,
        severity: str | None,
        valid_until: date | None,
        repair_from: date | None,
    ) -> None:
        self.decision_number = decision_number
        self.party_uscc = party_uscc
        self.unit = unit
        self.decision_date = decision_date
        self.severity = severity
        self.valid_until = valid_until
        self.display_until = display_until
        self.repair_from = repair_from
        self.revoked = False

    @staticmethod
    def create_id(decision_number: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"penalty:{decision_number}")

    class Classified(Aggregate.Event):
        """The bureau states (or corrects) the tier and the validity of a decision; the
        display periods follow from the tier as at imposition."""

        decision_number: str
        unit: str
        severity: str
        valid_until: date
        display_until: date | None
        repair_from: date | None
        reason: str
        classified_on: date

    def classify(
        self, periods: DisplayPeriods, severity: str, valid_until: date, reason: str, today: date
    ) -> None:
        if self.revoked:
            raise RuleViolated(
                f"penalty {self.decision_number} is revoked",
                f"处罚决定 {self.decision_number} 已撤销，不能再定级",
            )
        if valid_until < self.decision_date:
            raise RuleViolated(
                "the decision cannot lose effect before it is made",
                "处罚有效期不能早于处罚决定日期",
            )
        if (severity, valid_until) == (self.severity, self.valid_until):
            raise RuleViolated(
                "the penalty has this tier and validity already", "该处罚决定已是此等级和有效期"
            )
        shown, until, repair = self._periods(periods, severity, self.decision_date)
        self._classified(
            decision_number=self.decision_number,
            unit=self.unit,
            severity=severity,
            valid_until=valid_until,
            display_until=until if shown else None,
            repair_from=repair if shown else None,
            reason=reason,
            classified_on=today,
        )

    @event(Classified)
    def _classified(
        self,
        decision_number: str,
        unit: str,
        severity: str,
        valid_until: date,
        display_until: date | None,
        repair_from: date | None,
        reason: str,
        classified_on: date,
    ) -> None:
        self.severity = severity
        self.valid_until = valid_until
        self.display_until = display_until
        self.repair_from = repair_from

    class Revoked(Aggregate.Event):
        decision_number: str
        party_uscc: str
        unit: str
        reason: str
        revoked_on: date
        withdraw_by: date

    def revoke(self, reason: str, today: date, calendar: WorkCalendar = CHINA) -> date:
        """Revokes the decision; returns the day its publication must be withdrawn by."""
        if self.revoked:
            raise RuleViolated(
                f"penalty {self.decision_number} is revoked already",
                f"处罚决定 {self.decision_number} 已撤销",
            )
        withdraw_by = calendar.add_working_days(today, WITHDRAWAL_WORKING_DAYS)
        self._revoked(
            decision_number=self.decision_number,
            party_uscc=self.party_uscc,
            unit=self.unit,
            reason=reason,
            revoked_on=today,
            withdraw_by=withdraw_by,
        )
        return withdraw_by

    @event(Revoked)
    def _revoked(
        self,
        decision_number: str,
        party_uscc: str,
        unit: str,
        reason: str,
        revoked_on: date,
        withdraw_by: date,
    ) -> None:
        self.revoked = True
