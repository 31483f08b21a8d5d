"""Interviews (约谈): the ledger of one unit and year.

The plan has the bureaus interview (约谈) the property companies that refuse to disclose,
fake their self-inspection or rectify poorly (附件1 #22, 附件2 #22; 三: 及时约谈不规范物业服务
企业), the city the heads of county-level units whose work lags (五（三）: 约谈整治工作推进
较慢、不见实效的县（区、管委会）物业管理主管部门主要领导; 附件1 #16, #20, #25), and each county
the townships that lag (附件2 #16, #20, #25). Each interview is recorded once held, with
why, what came of it and its evidence, and may name the warnings (智慧监督) and findings
that led to it.

A ledger is the unit's the interview is about: the interviewed unit's own, the county of
an interviewed township, the unit whose jurisdiction an interviewed company was called in
by (the city's own for the city's). Who held it is recorded with it (`interviewer_unit`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from casework.domain.case import NAMESPACE
from pubrev_contracts.vocabulary.units import CITY
from servicekit.attachments import AttachmentRef
from servicekit.errors import RuleViolated

COMPANY = "company"
UNIT = "unit"
TOWNSHIP = "township"
SUBJECT_KINDS = (COMPANY, UNIT, TOWNSHIP)
"""Who is interviewed: a property company (by its USCC), a county-level unit (its bureau's
head), a township of a county (by its name)."""


class InterviewLedger(Aggregate):
    """约谈台账: the interviews about one unit in one year (by the day held, Shanghai)."""

    class Opened(Aggregate.Created):
        unit: str
        year: int

    @event(Opened)
    def __init__(self, unit: str, year: int) -> None:
        self.unit = unit
        self.year = year
        self.interviews: list[dict[str, Any]] = []

    @staticmethod
    def create_id(unit: str, year: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"interviews:{unit}:{year}")

    class Recorded(Aggregate.Event):
        interview_id: str
        unit: str
        interviewer_unit: str
        subject_kind: str
        subject: str
        reason: str
        warning_ids: list[str]
        finding_ids: list[str]
        held_on: date
        outcome: str
        evidence: list[dict[str, object]]
        recorded_at: datetime

    def record(
        self,
        interview_id: str,
        interviewer_unit: str,
        subject_kind: str,
        subject: str,
        reason: str,
        warnings: Sequence[tuple[str, str]],
        finding_ids: Sequence[str],
        held_on: date,
        outcome: str,
        evidence: Sequence[AttachmentRef],
        today: date,
        now: datetime,
    ) -> None:
        """Records an interview held. `warnings`: (warning id, its unit) of each warning
        that led to it, which must be this ledger's unit's."""
        if held_on > today:
            raise RuleViolated(
                "an interview is recorded once held, not before", "约谈尚未举行，不能登记"
            )
        if held_on.year != self.year:
            raise RuleViolated(
                "an interview goes into the ledger of the year it was held",
                "约谈须登记在举行日期所在年度的台账",
            )
        if subject_kind == UNIT:
            if subject != self.unit:
                raise RuleViolated(
                    "a unit's interview goes into that unit's ledger",
                    "约谈县（区、管委会）的记录须登记在被约谈单位名下",
                )
            if interviewer_unit != CITY:
                raise RuleViolated(
                    "a county-level unit is interviewed by the city",
                    "县（区、管委会）由市级物业管理主管部门约谈",
                )
        if any(unit != self.unit for _, unit in warnings):
            raise RuleViolated(
                "a linked warning is about another unit", "关联的预警不属于本台账所属单位"
            )
        self._recorded(
            interview_id=interview_id,
            unit=self.unit,
            interviewer_unit=interviewer_unit,
            subject_kind=subject_kind,
            subject=subject,
            reason=reason,
            warning_ids=[warning_id for warning_id, _ in warnings],
            finding_ids=list(finding_ids),
            held_on=held_on,
            outcome=outcome,
            evidence=[e.as_dict() for e in evidence],
            recorded_at=now,
        )

    @event(Recorded)
    def _recorded(
        self,
        interview_id: str,
        unit: str,
        interviewer_unit: str,
        subject_kind: str,
        subject: str,
        reason: str,
        warning_ids: list[str],
        finding_ids: list[str],
        held_on: date,
        outcome: str,
        evidence: list[dict[str, object]],
        recorded_at: datetime,
    ) -> None:
        self.interviews.append(
            {
                "interview_id": interview_id,
                "interviewer_unit": interviewer_unit,
                "subject_kind": subject_kind,
                "subject": subject,
                "reason": reason,
                "warning_ids": list(warning_ids),
                "finding_ids": list(finding_ids),
                "held_on": held_on,
                "outcome": outcome,
                "evidence": list(evidence),
                "recorded_at": recorded_at,
            }
        )
