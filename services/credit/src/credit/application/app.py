"""The credit application: ledgers fed by inspection's findings, penalties, restoration."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from credit.application.access import (
    CLASSIFY,
    FEED_STATUS,
    GET_LEDGER,
    HISTORY_READS,
    IMPOSE,
    POLICY,
    REPUSH,
    REVOKE,
    SWEEP,
    ledger_filter,
    penalty_facts,
)
from credit.application.ports import FeedDesk
from credit.domain.ledger import CreditLedger
from credit.domain.penalty import PENALTY_TYPES, Penalty, company_kind
from credit.domain.results import SpotCheckResult
from credit.domain.rules import DEFAULT_RULES, TIERS, CreditRules
from pubrev_contracts.vocabulary.sources import local
from pubrev_contracts.vocabulary.units import UNITS
from pubrev_contracts.vocabulary.violations import COMPANY_KINDS
from servicekit.errors import AlreadyExists, NotFound, Validator, excerpt
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import Identity
from servicekit.policy import Resource

SHANGHAI = ZoneInfo("Asia/Shanghai")
Clock = Callable[[], datetime]
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
TIERS_ZH = "轻微（minor）、一般（general）或严重（serious）"
MAX_RECORD_ID = 200
"""A feed record id (`penalty:<文号>#correction:<n>` and the like) is never longer."""


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
    severity: str
    """轻微 minor, 一般 general, 严重 serious (DOMAIN.md §6): decides the display periods."""
    valid_until: str
    """处罚有效期 (YYYY-MM-DD): until when the decision has effect, as the decision says."""


@dataclass(frozen=True)
class ClassifyPenalty:
    """The bureau states the tier and validity of a decision recorded without them (or
    corrects them); the feeds re-push the corrected record."""

    request_id: str
    decision_number: str
    severity: str
    valid_until: str
    reason: str


@dataclass(frozen=True)
class LedgerView:
    company_uscc: str
    score: int
    grade: str
    seriously_dishonest: bool
    entries: list[dict[str, Any]]
    """Every entry, or only the caller's unit's for a county-level reader."""
    bands_version: str


@dataclass(frozen=True)
class FeedAttemptView:
    attempt: int
    at: datetime
    http_status: int
    error: str


@dataclass(frozen=True)
class FeedStatusView:
    counts: dict[str, dict[str, int]]
    """Feed → pending / delivered / dead."""
    status: str
    """One record's: pending, delivered, dead; "" when none was asked or it is unknown."""
    attempts: list[FeedAttemptView]


class CreditApplication(ServiceApplication):
    name = "credit"
    policy = POLICY
    history_reads = HISTORY_READS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = _utcnow,
        rules: CreditRules = DEFAULT_RULES,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules

    def _ledger(self, uscc: str) -> CreditLedger:
        return self.find(CreditLedger.create_id(uscc), CreditLedger) or CreditLedger(uscc)

    # -- what inspection tells us (consumers) -------------------------------------------------

    def apply_finding(
        self,
        finding_id: str,
        company_uscc: str,
        unit: str,
        kind: str,
        severity: str,
        found_at: datetime,
        delivery: DeliveryRef,
    ) -> bool:
        """Deducts a finding's points exactly once (tracking, and the ledger's own memory
        of the findings it deducted)."""
        if self.already_applied(delivery) or not company_uscc:
            return False
        ledger = self._ledger(company_uscc)
        ledger.deduct(self.rules, unit, finding_id, kind, severity, found_at)
        ledger.check_dishonesty(self.rules, unit, self.clock())
        return self.record(ledger, delivery=delivery)

    def apply_rectification(
        self, finding_id: str, company_uscc: str, verified_at: datetime, delivery: DeliveryRef
    ) -> bool:
        if self.already_applied(delivery) or not company_uscc:
            return False
        ledger = self._ledger(company_uscc)
        ledger.note_rectified(self.rules, finding_id, verified_at)
        return self.record(ledger, delivery=delivery)

    def note_spot_check(
        self,
        spot_check_id: str,
        company_uscc: str,
        community_code: str,
        unit: str,
        inspected_at: datetime,
        finding_kinds: list[str],
        delivery: DeliveryRef,
    ) -> bool:
        if self.already_applied(delivery) or not company_uscc:
            return False
        if self.exists(SpotCheckResult.create_id(spot_check_id)):
            return self.record(delivery=delivery)
        result = SpotCheckResult(
            spot_check_id, company_uscc, community_code, unit, inspected_at, finding_kinds
        )
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
        POLICY.admit(IMPOSE, identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        # Each goes out on the feeds as it is: the decision number is part of the feed
        # record's id (a tab or ~200 characters in it once stopped every credit feed).
        _require_decision_number(v, cmd.decision_number)
        for field, zh, limit, lines in (
            ("party_name", "行政相对人名称", 200, False),
            ("facts", "违法事实", 2000, True),
            ("legal_basis", "处罚依据", 1000, True),
            ("content", "处罚内容", 2000, True),
            ("authority_name", "处罚机关", 200, False),
        ):
            v.require_text(getattr(cmd, field), field, limit, zh, required=True, multiline=lines)
        v.require_text(cmd.remarks, "remarks", 1000, "备注", multiline=True)
        for field in ("party_uscc", "authority_uscc"):
            v.require(
                bool(_USCC.fullmatch(getattr(cmd, field))),
                field,
                "uscc_format",
                "an 18-character USCC (GB 32100 character set)",
                "统一社会信用代码格式错误",
            )
        v.require(
            company_kind(cmd.violation_kind),
            "violation_kind",
            "not_company_kind",
            f"a company's violation of the code list: one of {', '.join(COMPANY_KINDS)}"
            " (E1–E3 are the agencies' own failures, work plan 二（五）)",
            "违法行为类型须为专项整治问题清单中物业服务企业的违法行为（A至D类）",
        )
        _require_tier(v, cmd.severity)
        v.require(
            bool(cmd.penalty_types),
            "penalty_types",
            "required",
            "at least one category of 行政处罚法 Art. 9",
            "缺少处罚类别",
        )
        for n, kind in enumerate(cmd.penalty_types):
            v.require(
                kind in PENALTY_TYPES,
                f"penalty_types[{n}]",
                "unknown_type",
                f"one of {', '.join(PENALTY_TYPES)}",
                "处罚类别不在《行政处罚法》第九条所列之内",
            )
        v.require(cmd.fine_fen >= 0, "fine_fen", "non_negative", ">= 0", "罚款金额不能为负")
        v.require(
            cmd.confiscated_fen >= 0, "confiscated_fen", "non_negative", ">= 0", "没收金额不能为负"
        )
        v.require(
            ("fine" in cmd.penalty_types) == (cmd.fine_fen > 0),
            "fine_fen",
            "fine_mismatch",
            "a fine amount goes with the category fine, and only then",
            "罚款金额与处罚类别不一致",
        )
        decided = _date(cmd.decision_date)
        v.require(
            decided is not None,
            "decision_date",
            "date_format",
            "YYYY-MM-DD",
            "处罚决定日期格式错误",
        )
        if decided is not None:
            # A calendar date of Asia/Shanghai, compared with Shanghai's today (the UTC date
            # is still yesterday until 08:00 there).
            v.require(
                decided <= self.clock().astimezone(SHANGHAI).date(),
                "decision_date",
                "in_future",
                "a decision cannot be dated in the future",
                "处罚决定日期不能晚于今天",
            )
        valid_until = _require_valid_until(v, cmd.valid_until, decided)
        v.require(
            not cmd.unit or cmd.unit in UNITS,
            "unit",
            "unknown_unit",
            f"the deciding unit: one of {', '.join(UNITS)} (empty: the caller's)",
            "作出决定的单位不存在",
        )
        v.raise_if_any()
        assert decided is not None and valid_until is not None
        unit = cmd.unit or identity.unit
        POLICY.authorize(IMPOSE, identity, Resource(unit=unit, company=cmd.party_uscc))

        def execute() -> tuple[list[Penalty], dict[str, Any]]:
            if self.exists(Penalty.create_id(cmd.decision_number)):
                number = _short(cmd.decision_number)
                raise AlreadyExists(
                    f"decision {number} is recorded already", f"处罚决定 {number} 已录入"
                )
            penalty = Penalty.impose(
                self.rules.display,
                decision_number=cmd.decision_number,
                party_name=cmd.party_name,
                party_uscc=cmd.party_uscc,
                violation_kind=cmd.violation_kind,
                facts=cmd.facts,
                legal_basis=cmd.legal_basis,
                penalty_types=list(cmd.penalty_types),
                content=cmd.content,
                fine_fen=cmd.fine_fen,
                confiscated_fen=cmd.confiscated_fen,
                decision_date=decided,
                valid_until=valid_until,
                severity=cmd.severity,
                authority_name=cmd.authority_name,
                authority_uscc=cmd.authority_uscc,
                unit=unit,
                remarks=cmd.remarks,
            )
            return [penalty], _periods(penalty)

        return self.run_once("ImposePenalty", cmd.request_id, cmd, execute)

    def classify_penalty(self, identity: Identity, cmd: ClassifyPenalty) -> dict[str, Any]:
        POLICY.admit(CLASSIFY, identity)
        v = Validator()
        v.require_request_id(cmd.request_id)
        _require_decision_number(v, cmd.decision_number)
        _require_tier(v, cmd.severity)
        v.require(
            bool(cmd.reason.strip()),
            "reason",
            "required",
            "the reason is required",
            "缺少定级或更正理由",
        )
        valid_until = _require_valid_until(v, cmd.valid_until, None)
        v.raise_if_any()
        assert valid_until is not None
        penalty = self._penalty(cmd.decision_number)
        POLICY.authorize(CLASSIFY, identity, penalty_facts(penalty))
        late = Validator()
        _require_valid_until(late, cmd.valid_until, penalty.decision_date)
        late.raise_if_any()

        def execute() -> tuple[list[Penalty], dict[str, Any]]:
            current = self.find(Penalty.create_id(cmd.decision_number), Penalty)
            assert current is not None
            today = self.clock().astimezone(SHANGHAI).date()
            current.classify(self.rules.display, cmd.severity, valid_until, cmd.reason, today)
            return [current], _periods(current)

        return self.run_once("ClassifyPenalty", cmd.request_id, cmd, execute)

    def revoke_penalty(
        self, identity: Identity, request_id: str, decision_number: str, reason: str
    ) -> dict[str, Any]:
        POLICY.admit(REVOKE, identity)
        v = Validator()
        v.require_request_id(request_id)
        _require_decision_number(v, decision_number)
        v.require(
            bool(reason.strip()), "reason", "required", "the reason is required", "缺少撤销理由"
        )
        v.raise_if_any()
        penalty = self._penalty(decision_number)
        POLICY.authorize(REVOKE, identity, penalty_facts(penalty))

        def execute() -> tuple[list[Penalty], dict[str, Any]]:
            current = self.find(Penalty.create_id(decision_number), Penalty)
            assert current is not None
            today = self.clock().astimezone(SHANGHAI).date()
            withdraw_by = current.revoke(reason, today)
            return [current], {
                "penalty_id": str(current.id),
                "withdraw_by": withdraw_by.isoformat(),
            }

        return self.run_once("RevokePenalty", request_id, (decision_number, reason), execute)

    # -- queries ---------------------------------------------------------------------------

    def _penalty(self, decision_number: str) -> Penalty:
        penalty = self.find(Penalty.create_id(decision_number), Penalty, read_only=True)
        if penalty is None:
            number = _short(decision_number)
            raise NotFound(f"decision {number} is not recorded", f"处罚决定 {number} 不存在")
        return penalty

    def ledger(self, identity: Identity, company_uscc: str) -> LedgerView:
        """The company's ledger as the caller may read it: whole, or a county-level
        reader's own unit's entries (application/access.py)."""
        POLICY.admit(GET_LEDGER, identity)
        v = Validator()
        v.require(
            bool(_USCC.fullmatch(company_uscc)),
            "company_uscc",
            "uscc_format",
            "an 18-character USCC (GB 32100 character set)",
            "统一社会信用代码格式错误",
        )
        v.raise_if_any()
        unit = ledger_filter(identity, company_uscc)
        ledger = self.find(CreditLedger.create_id(company_uscc), CreditLedger, read_only=True)
        if ledger is None or (unit and unit not in ledger.units):
            where = f" in {unit}" if unit else ""
            raise NotFound(
                f"no credit record of {excerpt(company_uscc)}{where}", "该企业无信用记录"
            )
        entries = []
        stored: list[Any] = list(self.repository.event_store.get(ledger.id))
        for e in stored:
            name = type(e).__name__
            if name in ("Deducted", "Restored", "SeriousDishonestyListed"):
                attrs = vars(e)
                if unit and attrs.get("unit") != unit:
                    continue
                entries.append(
                    {
                        "type": {
                            "Deducted": "deducted",
                            "Restored": "restored",
                            "SeriousDishonestyListed": "dishonesty_listed",
                        }[name],
                        "finding_id": attrs.get("finding_id", ""),
                        "kind": attrs.get("kind", ""),
                        "severity": attrs.get("severity", ""),
                        "points": attrs.get("points", 0),
                        "score_after": attrs.get("score_after", attrs.get("score", 0)),
                        "at": e.timestamp.isoformat(),
                        "table_version": attrs.get("table_version", ""),
                        "reason": attrs.get("reason", ""),
                    }
                )
        return LedgerView(
            company_uscc,
            ledger.score,
            self.rules.grades.grade(ledger.score),
            ledger.listed,
            entries,
            self.rules.grades.version,
        )

    # -- operations of the feeds --------------------------------------------------------------

    def sweep_display_periods(self, identity: Identity, sweep: Callable[[], int]) -> int:
        """Restores what the display periods release, for every company (`sweep`: the
        read model's list of ledgers, each through `restore_due`)."""
        POLICY.authorize(SWEEP, identity, Resource())
        restored = sweep()
        self.record_operation(identity, SWEEP, {"restored": restored})
        return restored

    def feed_status(
        self, identity: Identity, desk: FeedDesk, feeds: Sequence[str], feed: str, record_id: str
    ) -> FeedStatusView:
        POLICY.authorize(FEED_STATUS, identity, Resource())
        v = Validator()
        _require_feed(v, feeds, feed, required=bool(record_id))
        _require_record_id(v, record_id, required=False)
        v.raise_if_any()
        counts = {}
        for name in [feed] if feed else feeds:
            c = desk.counts(name)
            counts[name] = {s: c.get(s, 0) for s in ("pending", "delivered", "dead")}
        found = desk.status(feed, record_id) if record_id else None
        if found is None:
            return FeedStatusView(counts, "", [])
        return FeedStatusView(
            counts,
            str(found.status),
            [
                FeedAttemptView(r.attempt, r.at, r.http_status or 0, r.error or "")
                for r in found.receipts
            ],
        )

    def repush_feed_record(
        self, identity: Identity, desk: FeedDesk, feeds: Sequence[str], feed: str, record_id: str
    ) -> bool:
        """Queues a record again; False when the feed has no such record."""
        POLICY.authorize(REPUSH, identity, Resource())
        v = Validator()
        _require_feed(v, feeds, feed, required=True)
        _require_record_id(v, record_id, required=True)
        v.raise_if_any()
        queued = desk.repush(feed, record_id)
        self.record_operation(
            identity, REPUSH, {"feed": feed, "record_id": record_id, "queued": queued}
        )
        return queued


def _short(text: str, limit: int = 40) -> str:
    """An input echoed in an error: a short prefix, never more."""
    return text[:limit] + ("…" if len(text) > limit else "")


def _require_feed(v: Validator, feeds: Sequence[str], feed: str, *, required: bool) -> None:
    if not feed:
        v.require(
            not required,
            "feed",
            "required",
            "name the feed of the record",
            "请指定记录所属的推送通道",
        )
        return
    v.require(feed in feeds, "feed", "unknown_feed", f"one of {', '.join(feeds)}", "推送通道不存在")


def _require_record_id(v: Validator, record_id: str, *, required: bool) -> None:
    if required:
        v.require(
            bool(record_id),
            "record_id",
            "required",
            "the record id is required",
            "缺少推送记录编号",
        )
    v.require(
        len(record_id) <= MAX_RECORD_ID,
        "record_id",
        "too_long",
        f"at most {MAX_RECORD_ID} characters",
        f"推送记录编号不超过{MAX_RECORD_ID}个字符",
    )


def _periods(penalty: Penalty) -> dict[str, Any]:
    """The answer of ImposePenalty and ClassifyPenalty: empty dates when not published."""
    return {
        "penalty_id": str(penalty.id),
        "display_until": penalty.display_until.isoformat() if penalty.display_until else "",
        "repair_from": penalty.repair_from.isoformat() if penalty.repair_from else "",
        "published": penalty.display_until is not None,
    }


def _require_tier(v: Validator, severity: str) -> None:
    v.require(
        bool(severity),
        "severity",
        "required",
        f"the tier is required: one of {', '.join(TIERS)} (DOMAIN.md §6)",
        f"缺少处罚等级：须为{TIERS_ZH}",
    )
    if severity:
        v.require(
            severity in TIERS,
            "severity",
            "unknown_tier",
            f"one of {', '.join(TIERS)} (信用修复管理办法, DOMAIN.md §6)",
            f"处罚等级须为{TIERS_ZH}",
        )


DECISION_NUMBER_MAX = 64
"""Characters of a 行政处罚决定书文号 (e.g. 莆城管罚决〔2026〕12号, 15): the feed record's id
`penalty:<文号>#correction:<n>` must stay within push's 200 (servicekit.push)."""
VALID_UNTIL_HORIZON_YEARS = 20
"""How far after its decision a 处罚有效期 may end: local configuration (no source sets a
limit; the longest display period of 信用修复管理办法 is 3 years), against typing errors such
as 9999-12-31 that would keep a record in every feed for ever."""
VALID_UNTIL_HORIZON_SOURCE = local("处罚有效期不超过决定日期后20年")


def _require_decision_number(v: Validator, number: str) -> None:
    v.require_text(
        number, "decision_number", DECISION_NUMBER_MAX, "行政处罚决定书文号", required=True
    )


def _require_valid_until(v: Validator, text: str, decided: date | None) -> date | None:
    """处罚有效期: a date of the decision, never before the decision itself, and within
    VALID_UNTIL_HORIZON_YEARS after it."""
    if not text:
        v.add(
            "valid_until",
            "required",
            "valid_until (处罚有效期, YYYY-MM-DD) is required",
            "缺少处罚有效期",
        )
        return None
    valid_until = _date(text)
    if valid_until is None:
        v.add("valid_until", "date_format", "YYYY-MM-DD", "处罚有效期格式错误")
    elif decided is not None and valid_until < decided:
        v.add(
            "valid_until",
            "before_decision",
            "valid_until cannot be before the decision date",
            "处罚有效期不能早于处罚决定日期",
        )
    elif decided is not None and valid_until.year - decided.year > VALID_UNTIL_HORIZON_YEARS:
        v.add(
            "valid_until",
            "beyond_horizon",
            f"at most {VALID_UNTIL_HORIZON_YEARS} years after the decision date "
            f"({VALID_UNTIL_HORIZON_SOURCE})",
            f"处罚有效期不得晚于处罚决定日期后{VALID_UNTIL_HORIZON_YEARS}年",
        )
    return valid_until


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
