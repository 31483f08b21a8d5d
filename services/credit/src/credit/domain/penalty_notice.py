"""The notice of an intended penalty (行政处罚事先告知) and the party's statement and defence
(陈述、申辩), before the bureau decides.

《行政处罚法》第四十四条: before deciding, the authority informs the party of the intended
penalty, its facts, reasons and basis, and of its right to state and defend. 第四十五条: the
party may state and defend; the authority must hear it and review what it brings, and may
not give a heavier penalty because of it. 第六十二条: without that notice, or refusing to
hear the party, no decision may be made, unless the party expressly waived the right.

So the notice decides when a decision may follow it: once the statement period has ended,
or once the party has stated (and the decision says how its statement was considered) or
waived; and never a heavier penalty than the one notified, nor a second decision on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from credit.domain.penalty import decision_problems
from credit.domain.rules import (
    PENALTY_LAW_ART_44,
    PENALTY_LAW_ART_45,
    PENALTY_LAW_ART_62,
    StatementPeriod,
    tier_rank,
)
from pubrev_contracts.vocabulary.calendar import CHINA, SHANGHAI, WorkCalendar
from servicekit.attachments import AttachmentRef
from servicekit.errors import FieldViolation, InvalidArgument, RuleViolated

NAMESPACE = uuid.UUID("5d7c3b1e-2f4a-4c6b-9e8d-7a6b5c4d3e2f")


class PenaltyNotice(Aggregate):
    """行政处罚事先告知书: the penalty the bureau intends against a company, the period in
    which the company may state and defend, what it stated, and the decision that
    concluded it."""

    class Issued(Aggregate.Created):
        party_name: str
        party_uscc: str
        violation_kind: str
        facts: str
        legal_basis: str
        penalty_types: list[str]
        content: str
        fine_fen: int
        confiscated_fen: int
        severity: str
        unit: str
        notified_on: date
        statement_deadline: date
        attachments: list[dict[str, Any]]

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        """A notice is named by the request that issued it (a request_id is used once per
        command: servicekit's receipts), so its id is known again on a retry."""
        return uuid.uuid5(NAMESPACE, f"notice:{request_id}")

    @classmethod
    def issue(
        cls,
        period: StatementPeriod,
        *,
        request_id: str,
        party_name: str,
        party_uscc: str,
        violation_kind: str,
        facts: str,
        legal_basis: str,
        penalty_types: list[str],
        content: str,
        fine_fen: int,
        confiscated_fen: int,
        severity: str,
        unit: str,
        notified_on: date,
        statement_deadline: date | None,
        attachments: Sequence[AttachmentRef],
        today: date,
        calendar: WorkCalendar = CHINA,
    ) -> PenaltyNotice:
        """Notifies the intended penalty (第四十四条). The statement period ends on
        `statement_deadline`, or by default after the configured working days; a shorter one
        is refused. A notice served before it is recorded here keeps its date; one dated
        after today is refused. The intended penalty must be one the bureau could decide
        (`decision_problems`)."""
        problems = decision_problems(
            violation_kind=violation_kind,
            penalty_types=penalty_types,
            fine_fen=fine_fen,
            confiscated_fen=confiscated_fen,
            severity=severity,
            decision_date=None,
            valid_until=None,
        )
        if notified_on > today:
            problems.append(
                FieldViolation(
                    "notified_on",
                    "in_future",
                    "a notice cannot be dated after today",
                    "告知日期不能晚于今天",
                )
            )
        earliest = period.deadline(notified_on, calendar)
        if statement_deadline is not None and statement_deadline < earliest:
            problems.append(
                FieldViolation(
                    "statement_deadline",
                    "too_short",
                    f"not before {earliest.isoformat()}: the statement period is at least "
                    f"{period.working_days} working days ({period.source})",
                    f"陈述、申辩期限不得早于{earliest.isoformat()}",
                )
            )
        if problems:
            raise InvalidArgument(problems)
        return cls(
            id=cls.create_id(request_id),
            party_name=party_name,
            party_uscc=party_uscc,
            violation_kind=violation_kind,
            facts=facts,
            legal_basis=legal_basis,
            penalty_types=penalty_types,
            content=content,
            fine_fen=fine_fen,
            confiscated_fen=confiscated_fen,
            severity=severity,
            unit=unit,
            notified_on=notified_on,
            statement_deadline=statement_deadline or earliest,
            attachments=[a.as_dict() for a in attachments],
        )

    @event(Issued)
    def __init__(
        self,
        id: uuid.UUID,  # noqa: A002 (eventsourcing takes a given id by this name)
        party_name: str,
        party_uscc: str,
        violation_kind: str,
        facts: str,
        legal_basis: str,
        penalty_types: list[str],
        content: str,
        fine_fen: int,
        confiscated_fen: int,
        severity: str,
        unit: str,
        notified_on: date,
        statement_deadline: date,
        attachments: list[dict[str, Any]],
    ) -> None:
        self.party_uscc = party_uscc
        self.violation_kind = violation_kind
        self.penalty_types = list(penalty_types)
        self.fine_fen = fine_fen
        self.confiscated_fen = confiscated_fen
        self.severity = severity
        self.unit = unit
        self.notified_on = notified_on
        self.statement_deadline = statement_deadline
        self.statements = 0
        self.last_heard_on: date | None = None
        self.waived = False
        self.decision_number: str | None = None

    @property
    def heard(self) -> bool:
        """The party stated, or expressly waived its right (第六十二条)."""
        return self.statements > 0 or self.waived

    class StatementSubmitted(Aggregate.Event):
        """The party's statement and defence (陈述、申辩), or its express waiver of them."""

        party_uscc: str
        unit: str
        text: str
        attachments: list[dict[str, Any]]
        waives: bool
        submitted_at: datetime

    def submit_statement(
        self, text: str, attachments: Sequence[AttachmentRef], waives: bool, now: datetime
    ) -> None:
        """Receives a statement within the period, before the decision; a waiver only from
        a party that has not stated (it then may state no more)."""
        today = now.astimezone(SHANGHAI).date()
        if self.decision_number is not None:
            raise RuleViolated(
                f"the penalty was decided already ({self.decision_number})",
                f"该告知已作出处罚决定（{self.decision_number}），不再接受陈述、申辩",
            )
        if today > self.statement_deadline:
            raise RuleViolated(
                f"the statement period ended on {self.statement_deadline.isoformat()}",
                f"陈述、申辩期限已于{self.statement_deadline.isoformat()}届满",
            )
        if self.waived:
            raise RuleViolated(
                "the party waived its right to state and defend",
                "当事人已明确放弃陈述、申辩权利",
            )
        if waives and self.statements:
            raise RuleViolated(
                "the party has stated already: its statement must be considered",
                "当事人已提出陈述、申辩，应当予以复核",
            )
        self._submitted(
            party_uscc=self.party_uscc,
            unit=self.unit,
            text=text,
            attachments=[a.as_dict() for a in attachments],
            waives=waives,
            submitted_at=now,
        )

    @event(StatementSubmitted)
    def _submitted(
        self,
        party_uscc: str,
        unit: str,
        text: str,
        attachments: list[dict[str, Any]],
        waives: bool,
        submitted_at: datetime,
    ) -> None:
        if waives:
            self.waived = True
        else:
            self.statements += 1
        self.last_heard_on = submitted_at.astimezone(SHANGHAI).date()

    class Decided(Aggregate.Event):
        """The decision that concluded the notice, and how the statement was considered."""

        decision_number: str
        party_uscc: str
        unit: str
        statement_consideration: str
        decided_on: date

    def decide(
        self,
        *,
        decision_number: str,
        party_uscc: str,
        unit: str,
        violation_kind: str,
        penalty_types: Sequence[str],
        fine_fen: int,
        confiscated_fen: int,
        severity: str,
        decision_date: date,
        statement_consideration: str,
    ) -> None:
        """Concludes the notice with a decision, if the law lets one follow it now: the
        party heard (stated, its statement considered; or waived), or the period over by
        the decision's date; the same party, unit and violation; nothing heavier than
        notified."""
        if self.decision_number is not None:
            raise RuleViolated(
                f"the notice was concluded by decision {self.decision_number}",
                f"该告知已由处罚决定 {self.decision_number} 终结",
            )
        if (party_uscc, unit, violation_kind) != (self.party_uscc, self.unit, self.violation_kind):
            raise RuleViolated(
                "the notice was of another party, unit or violation: notify this one "
                f"first ({PENALTY_LAW_ART_44})",
                f"告知书的当事人、单位或违法行为与本决定不一致，应当依照{PENALTY_LAW_ART_44}另行告知",
            )
        self._check_heard(decision_date, statement_consideration)
        heavier = self._heavier(penalty_types, fine_fen, confiscated_fen, severity)
        if heavier:
            raise RuleViolated(
                f"heavier than notified ({', '.join(heavier)}): a penalty heavier than the "
                f"notice is not decided on it ({PENALTY_LAW_ART_44}, {PENALTY_LAW_ART_45})",
                f"处罚重于告知的内容（{'、'.join(heavier)}）；不得因当事人陈述、申辩而给予更重的"
                f"处罚（{PENALTY_LAW_ART_45}），加重须依照{PENALTY_LAW_ART_44}重新告知",
            )
        self._decided(
            decision_number=decision_number,
            party_uscc=self.party_uscc,
            unit=self.unit,
            statement_consideration=statement_consideration,
            decided_on=decision_date,
        )

    def _check_heard(self, decision_date: date, statement_consideration: str) -> None:
        if decision_date < self.notified_on:
            raise RuleViolated(
                f"the decision is dated before the notice ({self.notified_on.isoformat()}): "
                f"{PENALTY_LAW_ART_44}",
                f"处罚决定日期早于告知日期（{self.notified_on.isoformat()}），不符合"
                f"{PENALTY_LAW_ART_44}",
            )
        if self.statements and not statement_consideration.strip():
            raise RuleViolated(
                "the party stated and defended: say how its statement was considered "
                f"(statement_consideration; {PENALTY_LAW_ART_45})",
                f"当事人已提出陈述、申辩，应当说明复核及采纳情况（{PENALTY_LAW_ART_45}）",
            )
        if self.heard:
            assert self.last_heard_on is not None
            if decision_date < self.last_heard_on:
                raise RuleViolated(
                    f"the decision is dated before the party was heard "
                    f"({self.last_heard_on.isoformat()})",
                    f"处罚决定日期早于当事人陈述、申辩（{self.last_heard_on.isoformat()}）",
                )
            return
        if decision_date <= self.statement_deadline:
            raise RuleViolated(
                f"the party may state and defend until {self.statement_deadline.isoformat()}: "
                f"no decision before that ({PENALTY_LAW_ART_62})",
                f"陈述、申辩期限至{self.statement_deadline.isoformat()}，期限届满前不得作出处罚决定"
                f"（{PENALTY_LAW_ART_62}）",
            )

    def _heavier(
        self, penalty_types: Sequence[str], fine_fen: int, confiscated_fen: int, severity: str
    ) -> list[str]:
        """What the decision has that the notice had not, or more of it."""
        heavier = [
            f"category {t} not notified" for t in penalty_types if t not in self.penalty_types
        ]
        if fine_fen > self.fine_fen:
            heavier.append(f"fine {fine_fen} fen > {self.fine_fen}")
        if confiscated_fen > self.confiscated_fen:
            heavier.append(f"confiscation {confiscated_fen} fen > {self.confiscated_fen}")
        if tier_rank(severity) > tier_rank(self.severity):
            heavier.append(f"tier {severity} > {self.severity}")
        return heavier

    @event(Decided)
    def _decided(
        self,
        decision_number: str,
        party_uscc: str,
        unit: str,
        statement_consideration: str,
        decided_on: date,
    ) -> None:
        self.decision_number = decision_number
