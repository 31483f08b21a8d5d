"""The credit service's command handlers: check the request's fields (every problem at
once), authorize (application/access.py), load, call the aggregate's verb, save once per
request_id (`run_command`: a retry is answered from its receipt). The rules are the
aggregates' (domain/penalty.py, domain/credit_ledger.py).

`HANDLERS` maps each command type to its handler; `CreditApplication.handle` dispatches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from credit.application.access import CLASSIFY, IMPOSE, POLICY, REPUSH, REVOKE, SWEEP, penalty_facts
from credit.application.commands import (
    ClassifyPenalty,
    DisplayPeriodsSwept,
    FeedRecordRepushed,
    ImposePenalty,
    PenaltyClassified,
    PenaltyImposed,
    PenaltyRevoked,
    RepushFeedRecord,
    RevokePenalty,
    SweepDisplayPeriods,
)
from credit.application.sweeps import sweep_display_periods as sweep_all
from credit.domain.penalty import Penalty, decision_problems, tier_problems
from pubrev_contracts.vocabulary.identifiers import USCC_DESCRIPTION_ZH, USCC_RULE, uscc_problem
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.errors import AlreadyExists, NotFound, Validator, excerpt
from servicekit.eventstore import fingerprint, rebuild
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from credit.application.app import CreditApplication

DECISION_NUMBER_MAX = 64
"""Characters of a 行政处罚决定书文号 (e.g. 莆城管罚决〔2026〕12号, 15): the feed record's id
`penalty:<文号>#correction:<n>` must stay within push's 200 (servicekit.push)."""
MAX_RECORD_ID = 200
"""A feed record id (`penalty:<文号>#correction:<n>` and the like) is never longer."""


# -- penalties ----------------------------------------------------------------------------


def impose_penalty(
    app: CreditApplication, identity: Identity, cmd: ImposePenalty
) -> PenaltyImposed:
    POLICY.admit(IMPOSE, identity)
    decided, valid_until = _check_imposition(cmd, app.today())
    unit = cmd.unit or identity.unit
    POLICY.authorize(IMPOSE, identity, Resource(unit=unit, company=cmd.party_uscc))

    def execute() -> tuple[list[Penalty], PenaltyImposed]:
        if app.exists(Penalty.create_id(cmd.decision_number)):
            number = excerpt(cmd.decision_number)
            raise AlreadyExists(
                f"decision {number} is recorded already", f"处罚决定 {number} 已录入"
            )
        penalty = Penalty.impose(
            app.rules.display,
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
        return [penalty], PenaltyImposed(str(penalty.id), *_periods(penalty))

    return app.run_command(cmd, PenaltyImposed, execute)


def classify_penalty(
    app: CreditApplication, identity: Identity, cmd: ClassifyPenalty
) -> PenaltyClassified:
    POLICY.admit(CLASSIFY, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_decision_number(v, cmd.decision_number)
    v.violations += tier_problems(cmd.severity)
    _require_reason(v, cmd.reason, "缺少定级或更正理由")
    valid_until = _require_date(v, cmd.valid_until, "valid_until", "处罚有效期", required=True)
    v.raise_if_any()
    assert valid_until is not None
    POLICY.authorize(CLASSIFY, identity, penalty_facts(_penalty(app, cmd.decision_number)))

    def execute() -> tuple[list[Penalty], PenaltyClassified]:
        penalty = _penalty(app, cmd.decision_number, for_change=True)
        penalty.classify(app.rules.display, cmd.severity, valid_until, cmd.reason, app.today())
        return [penalty], PenaltyClassified(str(penalty.id), *_periods(penalty))

    return app.run_command(cmd, PenaltyClassified, execute)


def revoke_penalty(
    app: CreditApplication, identity: Identity, cmd: RevokePenalty
) -> PenaltyRevoked:
    POLICY.admit(REVOKE, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_decision_number(v, cmd.decision_number)
    _require_reason(v, cmd.reason, "缺少撤销理由")
    v.raise_if_any()
    POLICY.authorize(REVOKE, identity, penalty_facts(_penalty(app, cmd.decision_number)))
    answered = _answered_before_typed_commands(app, cmd)
    if answered is not None:
        return answered

    def execute() -> tuple[list[Penalty], PenaltyRevoked]:
        penalty = _penalty(app, cmd.decision_number, for_change=True)
        penalty.revoke(cmd.reason, app.today())
        assert penalty.withdraw_by is not None
        return [penalty], PenaltyRevoked(str(penalty.id), penalty.withdraw_by.isoformat())

    return app.run_command(cmd, PenaltyRevoked, execute)


def _answered_before_typed_commands(
    app: CreditApplication, cmd: RevokePenalty
) -> PenaltyRevoked | None:
    """A revocation whose receipt the code before typed commands wrote: that code took its
    fingerprint over (decision_number, reason) alone, so a retry across the deployment is
    recognised by that fingerprint and answered from the receipt, not refused."""
    receipt = app.find_receipt(type(cmd).__name__, cmd.request_id)
    if receipt is None or receipt.fingerprint != fingerprint((cmd.decision_number, cmd.reason)):
        return None
    return rebuild(PenaltyRevoked, receipt.result)


def _penalty(app: CreditApplication, decision_number: str, *, for_change: bool = False) -> Penalty:
    penalty = app.find(Penalty.create_id(decision_number), Penalty, read_only=not for_change)
    if penalty is None:
        number = excerpt(decision_number)
        raise NotFound(f"decision {number} is not recorded", f"处罚决定 {number} 不存在")
    return penalty


def _periods(penalty: Penalty) -> tuple[str, str, bool]:
    """(display_until, repair_from, published): empty dates when not published."""
    return (
        penalty.display_until.isoformat() if penalty.display_until else "",
        penalty.repair_from.isoformat() if penalty.repair_from else "",
        penalty.published,
    )


def _check_imposition(cmd: ImposePenalty, today: date) -> tuple[date, date]:
    """The decision's dates, or InvalidArgument naming every broken field: the request's
    own and the decision's rules (domain.penalty.decision_problems)."""
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
    require_uscc(v, "party_uscc", cmd.party_uscc)
    require_uscc(v, "authority_uscc", cmd.authority_uscc)
    decided = _require_date(v, cmd.decision_date, "decision_date", "处罚决定日期")
    if decided is not None:
        v.require(
            decided <= today,
            "decision_date",
            "in_future",
            "a decision cannot be dated in the future",
            "处罚决定日期不能晚于今天",
        )
    valid_until = _require_date(v, cmd.valid_until, "valid_until", "处罚有效期", required=True)
    v.violations += decision_problems(
        violation_kind=cmd.violation_kind,
        penalty_types=cmd.penalty_types,
        fine_fen=cmd.fine_fen,
        confiscated_fen=cmd.confiscated_fen,
        severity=cmd.severity,
        decision_date=decided,
        valid_until=valid_until,
    )
    v.require(
        not cmd.unit or cmd.unit in UNITS,
        "unit",
        "unknown_unit",
        f"the deciding unit: one of {', '.join(UNITS)} (empty: the caller's)",
        "作出决定的单位不存在",
    )
    v.raise_if_any()
    assert decided is not None and valid_until is not None
    return decided, valid_until


# -- operations of the feeds and the display periods --------------------------------------


def sweep_display_periods(
    app: CreditApplication, identity: Identity, cmd: SweepDisplayPeriods
) -> DisplayPeriodsSwept:
    """Not once per request_id: the sweep decides nothing, and a repeat finds nothing more
    that is due. Recorded as the operator's action (who ran it, what it restored)."""
    POLICY.authorize(SWEEP, identity, Resource())
    restored = sweep_all(app)
    app.record_operation(identity, SWEEP, {"restored": restored})
    return DisplayPeriodsSwept(restored)


def repush_feed_record(
    app: CreditApplication, identity: Identity, cmd: RepushFeedRecord
) -> FeedRecordRepushed:
    POLICY.authorize(REPUSH, identity, Resource())
    v = Validator()
    require_feed(v, app.feed_desk.feeds, cmd.feed, required=True)
    require_record_id(v, cmd.record_id, required=True)
    v.raise_if_any()
    queued = app.feed_desk.repush(cmd.feed, cmd.record_id)
    app.record_operation(
        identity, REPUSH, {"feed": cmd.feed, "record_id": cmd.record_id, "queued": queued}
    )
    return FeedRecordRepushed(queued)


HANDLERS: Mapping[type, Callable[[CreditApplication, Identity, Any], Any]] = {
    ImposePenalty: impose_penalty,
    ClassifyPenalty: classify_penalty,
    RevokePenalty: revoke_penalty,
    SweepDisplayPeriods: sweep_display_periods,
    RepushFeedRecord: repush_feed_record,
}


# -- the request's fields -----------------------------------------------------------------


def require_uscc(v: Validator, field: str, code: str) -> bool:
    """A 统一社会信用代码 a caller sends: GB 32100-2015 with its check character, checked
    the one way the platform checks it (vocabulary.identifiers)."""
    problem = uscc_problem(code)
    return v.require(problem is None, field, USCC_RULE, f"USCC {problem}", USCC_DESCRIPTION_ZH)


def require_feed(v: Validator, feeds: Collection[str], feed: str, *, required: bool) -> None:
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


def require_record_id(v: Validator, record_id: str, *, required: bool) -> None:
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


def _require_decision_number(v: Validator, number: str) -> None:
    v.require_text(
        number, "decision_number", DECISION_NUMBER_MAX, "行政处罚决定书文号", required=True
    )


def _require_reason(v: Validator, reason: str, missing_zh: str) -> None:
    v.require(bool(reason.strip()), "reason", "required", "the reason is required", missing_zh)


def _require_date(
    v: Validator, text: str, field: str, zh: str, *, required: bool = False
) -> date | None:
    """A calendar date YYYY-MM-DD, or None (and a violation)."""
    if not text and required:
        v.add(field, "required", f"{field} (YYYY-MM-DD) is required", f"缺少{zh}")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        v.add(field, "date_format", "YYYY-MM-DD", f"{zh}格式错误")
        return None
