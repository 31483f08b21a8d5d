"""The credit application: ledgers fed by inspection's findings, penalties, restoration."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from credit.domain.ledger import CreditLedger
from credit.domain.penalty import PENALTY_TYPES, Penalty
from credit.domain.results import SpotCheckResult
from credit.domain.rules import DEFAULT_RULES, CreditRules
from servicekit.errors import AlreadyExists, NotFound, PermissionDenied, Validator
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import Identity

SHANGHAI = ZoneInfo("Asia/Shanghai")
Clock = Callable[[], datetime]
BUREAU = "property-bureau"
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
PENALTY_DISPLAY_DAYS = 365 * 3
"""A penalty with a fine stays published up to 3 years (信用修复管理办法, serious)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ImposePenalty:
    request_id: str
    decision_number: str
    party_name: str
    party_uscc: str
    violation_kind: str
    facts: str
    legal_basis: str
    penalty_types: tuple[str, ...]
    content: str
    fine_fen: int
    confiscated_fen: int
    decision_date: str
    authority_name: str
    authority_uscc: str
    unit: str
    remarks: str


@dataclass(frozen=True)
class LedgerView:
    company_uscc: str
    score: int
    grade: str
    seriously_dishonest: bool
    entries: list[dict[str, Any]]
    bands_version: str


class CreditApplication(ServiceApplication):
    name = "credit"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = _utcnow,
                 rules: CreditRules = DEFAULT_RULES) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules

    def _ledger(self, uscc: str) -> CreditLedger:
        return self.find(CreditLedger.create_id(uscc), CreditLedger) or CreditLedger(uscc)

    # -- what inspection tells us (consumers) -------------------------------------------------

    def apply_finding(self, finding_id: str, company_uscc: str, unit: str, kind: str,
                      severity: str, found_at: datetime, delivery: DeliveryRef) -> bool:
        """Deducts a finding's points exactly once (tracking, and the ledger's own memory
        of the findings it deducted)."""
        if self.already_applied(delivery) or not company_uscc:
            return False
        ledger = self._ledger(company_uscc)
        ledger.deduct(self.rules, unit, finding_id, kind, severity, found_at)
        ledger.check_dishonesty(self.rules, unit, self.clock())
        return self.record(ledger, delivery=delivery)

    def apply_rectification(self, finding_id: str, company_uscc: str, verified_at: datetime,
                            delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery) or not company_uscc:
            return False
        ledger = self._ledger(company_uscc)
        ledger.note_rectified(self.rules, finding_id, verified_at)
        return self.record(ledger, delivery=delivery)

    def note_spot_check(self, spot_check_id: str, company_uscc: str, community_code: str,
                        unit: str, inspected_at: datetime, finding_kinds: list[str],
                        delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery) or not company_uscc:
            return False
        if self.exists(SpotCheckResult.create_id(spot_check_id)):
            return self.record(delivery=delivery)
        result = SpotCheckResult(spot_check_id, company_uscc, community_code, unit,
                                 inspected_at, finding_kinds)
        return self.record(result, delivery=delivery)

    def restore_due(self, company_uscc: str) -> int:
        ledger = self.find(CreditLedger.create_id(company_uscc), CreditLedger)
        if ledger is None:
            return 0
        restored = ledger.restore_due(self.rules, self.clock())
        if restored:
            self.record(ledger)
        return len(restored)

    # -- penalties ---------------------------------------------------------------------------

    def impose_penalty(self, identity: Identity, cmd: ImposePenalty) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(cmd.request_id)
        for field, zh in (("decision_number", "行政处罚决定书文号"),
                          ("party_name", "行政相对人名称"), ("facts", "违法事实"),
                          ("legal_basis", "处罚依据"), ("content", "处罚内容"),
                          ("authority_name", "处罚机关")):
            v.require(bool(getattr(cmd, field).strip()), field, "required",
                      f"{field} is required", f"缺少{zh}")
        for field in ("party_uscc", "authority_uscc"):
            v.require(bool(_USCC.fullmatch(getattr(cmd, field))), field, "uscc_format",
                      "an 18-character USCC (GB 32100 character set)", "统一社会信用代码格式错误")
        v.require(bool(re.fullmatch(r"[A-E][1-9]", cmd.violation_kind)), "violation_kind",
                  "unknown_kind", "a kind of the campaign's code list, e.g. C1",
                  "违法行为类型须为专项整治问题清单中的类别")
        v.require(bool(cmd.penalty_types), "penalty_types", "required",
                  "at least one category of 行政处罚法 Art. 9", "缺少处罚类别")
        for n, kind in enumerate(cmd.penalty_types):
            v.require(kind in PENALTY_TYPES, f"penalty_types[{n}]", "unknown_type",
                      f"one of {', '.join(PENALTY_TYPES)}",
                      "处罚类别不在《行政处罚法》第九条所列之内")
        v.require(cmd.fine_fen >= 0, "fine_fen", "non_negative", ">= 0", "罚款金额不能为负")
        v.require(cmd.confiscated_fen >= 0, "confiscated_fen", "non_negative", ">= 0",
                  "没收金额不能为负")
        v.require(("fine" in cmd.penalty_types) == (cmd.fine_fen > 0), "fine_fen",
                  "fine_mismatch", "a fine amount goes with the category fine, and only then",
                  "罚款金额与处罚类别不一致")
        decided = _date(cmd.decision_date)
        v.require(decided is not None, "decision_date", "date_format", "YYYY-MM-DD",
                  "处罚决定日期格式错误")
        if decided is not None:
            v.require(decided <= self.clock().date(), "decision_date", "in_future",
                      "a decision cannot be dated in the future", "处罚决定日期不能晚于今天")
        v.raise_if_any()
        assert decided is not None
        if identity.agency != BUREAU or not identity.may_access_unit(cmd.unit or identity.unit):
            raise PermissionDenied("only the property bureau of the unit imposes penalties",
                                   "仅物业管理主管部门可录入行政处罚")
        unit = cmd.unit or identity.unit

        def execute() -> tuple[list[Penalty], dict[str, Any]]:
            if self.exists(Penalty.create_id(cmd.decision_number)):
                raise AlreadyExists(f"decision {cmd.decision_number} is recorded already",
                                    f"处罚决定 {cmd.decision_number} 已录入")
            display_until = decided + timedelta(days=PENALTY_DISPLAY_DAYS)
            penalty = Penalty(
                cmd.decision_number, cmd.party_name, cmd.party_uscc, cmd.violation_kind,
                cmd.facts, cmd.legal_basis, list(cmd.penalty_types), cmd.content, cmd.fine_fen,
                cmd.confiscated_fen, decided, display_until, cmd.authority_name,
                cmd.authority_uscc, unit, cmd.remarks,
            )
            return [penalty], {"penalty_id": str(penalty.id),
                               "display_until": display_until.isoformat()}

        return self.run_once("ImposePenalty", cmd.request_id, cmd, execute)

    def revoke_penalty(self, identity: Identity, request_id: str, decision_number: str,
                       reason: str) -> dict[str, Any]:
        v = Validator()
        v.require_request_id(request_id)
        v.require(bool(reason.strip()), "reason", "required", "the reason is required",
                  "缺少撤销理由")
        v.raise_if_any()
        penalty = self.find(Penalty.create_id(decision_number), Penalty)
        if penalty is None:
            raise NotFound(f"decision {decision_number} is not recorded",
                           f"处罚决定 {decision_number} 不存在")
        if identity.agency != BUREAU or not identity.may_access_unit(penalty.unit):
            raise PermissionDenied("only the deciding unit's bureau revokes",
                                   "仅作出决定的单位可撤销")

        def execute() -> tuple[list[Penalty], dict[str, Any]]:
            current = self.find(Penalty.create_id(decision_number), Penalty)
            assert current is not None
            today = self.clock().astimezone(SHANGHAI).date()
            current.revoke(reason, today)
            events = current.pending_events
            withdraw_by = getattr(events[-1], "withdraw_by")  # noqa: B009
            return [current], {"penalty_id": str(current.id),
                               "withdraw_by": withdraw_by.isoformat()}

        return self.run_once("RevokePenalty", request_id, (decision_number, reason), execute)

    # -- queries ---------------------------------------------------------------------------

    def ledger(self, identity: Identity, company_uscc: str) -> LedgerView:
        ledger = self.find(CreditLedger.create_id(company_uscc), CreditLedger)
        if ledger is None:
            raise NotFound(f"no credit record of {company_uscc}", "该企业无信用记录")
        entries = []
        stored: list[Any] = list(self.repository.event_store.get(ledger.id))
        for e in stored:
            name = type(e).__name__
            if name in ("Deducted", "Restored", "SeriousDishonestyListed"):
                attrs = vars(e)
                entries.append({
                    "type": {"Deducted": "deducted", "Restored": "restored",
                             "SeriousDishonestyListed": "dishonesty_listed"}[name],
                    "finding_id": attrs.get("finding_id", ""), "kind": attrs.get("kind", ""),
                    "severity": attrs.get("severity", ""), "points": attrs.get("points", 0),
                    "score_after": attrs.get("score_after", attrs.get("score", 0)),
                    "at": e.timestamp.isoformat(),
                    "table_version": attrs.get("table_version", ""),
                    "reason": attrs.get("reason", ""),
                })
        return LedgerView(company_uscc, ledger.score, self.rules.grades.grade(ledger.score),
                          ledger.listed, entries, self.rules.grades.version)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None

