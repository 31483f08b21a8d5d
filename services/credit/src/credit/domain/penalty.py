"""Administrative penalties (行政处罚决定): imposed with their tier, classified, revoked,
repaired.

The aggregate decides everything that follows from the decision: whether it is published on
信用中国 and for how long (its tier's display periods, DOMAIN.md §6, counted from the decision
date by 民法典 Art. 202), from when repair (信用修复) may be applied for and whether an
application can be decided, and by when a revoked decision must be withdrawn (行政处罚法
Art. 48 with 85, on the holiday calendar). Whether a decision may be made at all is the
notice's (domain/penalty_notice.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event

from credit.domain.rules import TIERS, DisplayPeriods, add_months
from pubrev_contracts.vocabulary.calendar import CHINA, PENALTY_LAW_ART_85, WorkCalendar
from pubrev_contracts.vocabulary.sources import local
from pubrev_contracts.vocabulary.violations import COMPANY_KINDS
from servicekit.attachments import AttachmentRef
from servicekit.errors import FieldViolation, InvalidArgument, RuleViolated

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

VALID_UNTIL_HORIZON_YEARS = 20
"""How far after its decision a 处罚有效期 may end: local configuration (no source sets a
limit; the longest display period of 信用修复管理办法 is 3 years), against typing errors such
as 9999-12-31 that would keep a record in every feed for ever."""
VALID_UNTIL_HORIZON_SOURCE = local("处罚有效期不超过决定日期后20年")

TIERS_ZH = "轻微（minor）、一般（general）或严重（serious）"


def company_kind(code: str) -> bool:
    """A violation a company is penalised for: A–D of the code list (vocabulary.violations);
    E are the agencies' own failures (work plan 二（五）)."""
    return code in COMPANY_KINDS


def tier_problems(severity: str) -> list[FieldViolation]:
    """The tier of a decision: required, one of the three of DOMAIN.md §6. Never guessed."""
    if not severity:
        return [
            FieldViolation(
                "severity",
                "required",
                f"the tier is required: one of {', '.join(TIERS)} (DOMAIN.md §6)",
                f"缺少处罚等级：须为{TIERS_ZH}",
            )
        ]
    if severity not in TIERS:
        return [
            FieldViolation(
                "severity",
                "unknown_tier",
                f"one of {', '.join(TIERS)} (信用修复管理办法, DOMAIN.md §6)",
                f"处罚等级须为{TIERS_ZH}",
            )
        ]
    return []


def validity_problems(decision_date: date, valid_until: date) -> list[FieldViolation]:
    """处罚有效期: never before the decision itself, and within VALID_UNTIL_HORIZON_YEARS
    after it."""
    if valid_until < decision_date:
        return [
            FieldViolation(
                "valid_until",
                "before_decision",
                "valid_until cannot be before the decision date",
                "处罚有效期不能早于处罚决定日期",
            )
        ]
    if valid_until.year - decision_date.year > VALID_UNTIL_HORIZON_YEARS:
        return [
            FieldViolation(
                "valid_until",
                "beyond_horizon",
                f"at most {VALID_UNTIL_HORIZON_YEARS} years after the decision date "
                f"({VALID_UNTIL_HORIZON_SOURCE})",
                f"处罚有效期不得晚于处罚决定日期后{VALID_UNTIL_HORIZON_YEARS}年",
            )
        ]
    return []


def decision_problems(
    *,
    violation_kind: str,
    penalty_types: list[str] | tuple[str, ...],
    fine_fen: int,
    confiscated_fen: int,
    severity: str,
    decision_date: date | None,
    valid_until: date | None,
) -> list[FieldViolation]:
    """Every rule a decision's facts break, by field (the dates when they are known): what
    `Penalty.impose` refuses, and what the application reports with the request's other
    problems, all at once."""
    problems = []
    if not company_kind(violation_kind):
        problems.append(
            FieldViolation(
                "violation_kind",
                "not_company_kind",
                f"a company's violation of the code list: one of {', '.join(COMPANY_KINDS)}"
                " (E1–E3 are the agencies' own failures, work plan 二（五）)",
                "违法行为类型须为专项整治问题清单中物业服务企业的违法行为（A至D类）",
            )
        )
    problems += tier_problems(severity)
    if not penalty_types:
        problems.append(
            FieldViolation(
                "penalty_types",
                "required",
                "at least one category of 行政处罚法 Art. 9",
                "缺少处罚类别",
            )
        )
    problems += [
        FieldViolation(
            f"penalty_types[{n}]",
            "unknown_type",
            f"one of {', '.join(PENALTY_TYPES)}",
            "处罚类别不在《行政处罚法》第九条所列之内",
        )
        for n, kind in enumerate(penalty_types)
        if kind not in PENALTY_TYPES
    ]
    if fine_fen < 0:
        problems.append(FieldViolation("fine_fen", "non_negative", ">= 0", "罚款金额不能为负"))
    if confiscated_fen < 0:
        problems.append(
            FieldViolation("confiscated_fen", "non_negative", ">= 0", "没收金额不能为负")
        )
    if ("fine" in penalty_types) != (fine_fen > 0):
        problems.append(
            FieldViolation(
                "fine_fen",
                "fine_mismatch",
                "a fine amount goes with the category fine, and only then",
                "罚款金额与处罚类别不一致",
            )
        )
    if decision_date is not None and valid_until is not None:
        problems += validity_problems(decision_date, valid_until)
    return problems


def _refuse(problems: list[FieldViolation]) -> None:
    if problems:
        raise InvalidArgument(problems)


class Penalty(Aggregate):
    """A 行政处罚决定 of the property bureau against a company, by its 文号."""

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
        """Records the decision with the display periods of its tier (DOMAIN.md §6).
        Refuses what `decision_problems` finds (InvalidArgument, by field)."""
        _refuse(
            decision_problems(
                violation_kind=violation_kind,
                penalty_types=penalty_types,
                fine_fen=fine_fen,
                confiscated_fen=confiscated_fen,
                severity=severity,
                decision_date=decision_date,
                valid_until=valid_until,
            )
        )
        display_until, repair_from = cls._periods(periods, severity, decision_date)
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
            display_until=display_until,
            authority_name=authority_name,
            authority_uscc=authority_uscc,
            unit=unit,
            remarks=remarks,
            severity=severity,
            valid_until=valid_until,
            repair_from=repair_from,
        )

    @staticmethod
    def _periods(
        periods: DisplayPeriods, severity: str, decided: date
    ) -> tuple[date | None, date | None]:
        """(公示截止期, repair from) of a decision of this tier, in calendar months from its
        date; (None, None) for a tier that is not published (minor)."""
        tier = periods.tier(severity)
        if not tier.published:
            return None, None
        return add_months(decided, tier.maximum_months), add_months(decided, tier.minimum_months)

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
        self.withdraw_by: date | None = None
        self.repair_pending = False
        self.repaired_on: date | None = None

    @staticmethod
    def create_id(decision_number: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"penalty:{decision_number}")

    @property
    def published(self) -> bool:
        """Shown on 信用中国 (a decision of a tier that is displayed)."""
        return self.display_until is not None

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
        """States the tier and validity; the periods follow from the tier. Refuses a revoked
        decision, a repaired one (its record left 信用中国 for good), a validity the decision
        cannot have, and a classification that changes nothing."""
        if self.revoked:
            raise RuleViolated(
                f"penalty {self.decision_number} is revoked",
                f"处罚决定 {self.decision_number} 已撤销，不能再定级",
            )
        if self.repaired_on is not None:
            raise RuleViolated(
                f"penalty {self.decision_number} was repaired on {self.repaired_on.isoformat()}",
                f"处罚决定 {self.decision_number} 已于{self.repaired_on.isoformat()}完成信用修复，"
                "不能再定级",
            )
        _refuse(tier_problems(severity) + validity_problems(self.decision_date, valid_until))
        if (severity, valid_until) == (self.severity, self.valid_until):
            raise RuleViolated(
                "the penalty has this tier and validity already", "该处罚决定已是此等级和有效期"
            )
        display_until, repair_from = self._periods(periods, severity, self.decision_date)
        self._classified(
            decision_number=self.decision_number,
            unit=self.unit,
            severity=severity,
            valid_until=valid_until,
            display_until=display_until,
            repair_from=repair_from,
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

    def revoke(self, reason: str, today: date, calendar: WorkCalendar = CHINA) -> None:
        """Revokes the decision; its publication must be withdrawn within
        WITHDRAWAL_WORKING_DAYS working days (`withdraw_by`). A year missing from the
        holiday calendar raises CalendarNotConfigured: the deadline is never guessed."""
        if self.revoked:
            raise RuleViolated(
                f"penalty {self.decision_number} is revoked already",
                f"处罚决定 {self.decision_number} 已撤销",
            )
        self._revoked(
            decision_number=self.decision_number,
            party_uscc=self.party_uscc,
            unit=self.unit,
            reason=reason,
            revoked_on=today,
            withdraw_by=calendar.add_working_days(today, WITHDRAWAL_WORKING_DAYS),
        )

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
        self.withdraw_by = withdraw_by

    # -- credit repair (信用修复, DOMAIN.md §6) ------------------------------------------------

    class RepairApplied(Aggregate.Event):
        """The company applies for credit repair of a published decision (信用修复申请)."""

        decision_number: str
        party_uscc: str
        unit: str
        statement: str
        attachments: list[dict[str, Any]]
        applied_on: date

    def apply_for_repair(
        self, statement: str, attachments: Sequence[AttachmentRef], today: date
    ) -> None:
        """Repair may be applied for after the tier's minimum display period (DOMAIN.md §6:
        `repair_from`), while the record is still displayed, once at a time; not for a
        decision that is not published (minor, or its tier not yet stated), revoked, or
        repaired already."""
        self._refuse_repair_if_closed()
        if self.repair_pending:
            raise RuleViolated(
                f"an application for repair of {self.decision_number} awaits its decision",
                f"处罚决定 {self.decision_number} 的信用修复申请尚待决定",
            )
        if self.display_until is None or self.repair_from is None or self.severity is None:
            raise RuleViolated(
                f"penalty {self.decision_number} is not published on 信用中国: nothing to repair "
                "(DOMAIN.md §6: minor penalties are not published; a decision without a tier "
                "waits for ClassifyPenalty)",
                f"处罚决定 {self.decision_number} 未在信用中国公示，无需信用修复",
            )
        if today < self.repair_from:
            raise RuleViolated(
                f"repair may be applied for from {self.repair_from.isoformat()}, after the "
                f"minimum display period of a {self.severity} penalty (DOMAIN.md §6)",
                f"最短公示期满后方可申请信用修复：{self.repair_from.isoformat()}起可申请",
            )
        if today >= self.display_until:
            raise RuleViolated(
                f"the display ended on {self.display_until.isoformat()}: nothing to repair",
                f"公示已于{self.display_until.isoformat()}届满，无需信用修复",
            )
        self._repair_applied(
            decision_number=self.decision_number,
            party_uscc=self.party_uscc,
            unit=self.unit,
            statement=statement,
            attachments=[a.as_dict() for a in attachments],
            applied_on=today,
        )

    def _refuse_repair_if_closed(self) -> None:
        if self.revoked:
            raise RuleViolated(
                f"penalty {self.decision_number} is revoked: its record is withdrawn",
                f"处罚决定 {self.decision_number} 已撤销，其公示已撤回",
            )
        if self.repaired_on is not None:
            raise RuleViolated(
                f"penalty {self.decision_number} was repaired on {self.repaired_on.isoformat()}",
                f"处罚决定 {self.decision_number} 已于{self.repaired_on.isoformat()}完成信用修复",
            )

    @event(RepairApplied)
    def _repair_applied(
        self,
        decision_number: str,
        party_uscc: str,
        unit: str,
        statement: str,
        attachments: list[dict[str, Any]],
        applied_on: date,
    ) -> None:
        self.repair_pending = True

    class RepairDecided(Aggregate.Event):
        """The credit office approves (the record leaves 信用中国) or rejects the application."""

        decision_number: str
        party_uscc: str
        unit: str
        approved: bool
        reason: str
        decided_on: date

    def decide_repair(self, approved: bool, reason: str, today: date) -> None:
        """Decides the pending application; a decision revoked meanwhile has nothing left to
        repair."""
        self._refuse_repair_if_closed()
        if not self.repair_pending:
            raise RuleViolated(
                f"no application for repair of {self.decision_number} awaits a decision",
                f"处罚决定 {self.decision_number} 没有待决定的信用修复申请",
            )
        self._repair_decided(
            decision_number=self.decision_number,
            party_uscc=self.party_uscc,
            unit=self.unit,
            approved=approved,
            reason=reason,
            decided_on=today,
        )

    @event(RepairDecided)
    def _repair_decided(
        self,
        decision_number: str,
        party_uscc: str,
        unit: str,
        approved: bool,
        reason: str,
        decided_on: date,
    ) -> None:
        self.repair_pending = False
        if approved:
            self.repaired_on = decided_on
