"""The credit service's command handlers: check the request's fields (every problem at
once), authorize (application/access.py), load, call the aggregate's verb, save once per
request_id (`run_command`: a retry is answered from its receipt). The rules are the
aggregates' (domain/penalty.py, domain/penalty_notice.py, domain/credit_ledger.py).

`HANDLERS` maps each command type to its handler; `CreditApplication.handle` dispatches.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from credit.application.access import (
    APPLY_REPAIR,
    CLASSIFY,
    DECIDE_DISHONESTY,
    DECIDE_OBJECTION,
    DECIDE_REPAIR,
    IMPOSE,
    NOTIFY,
    OBJECT,
    POLICY,
    REPUSH,
    REVOKE,
    STATE,
    SWEEP,
    ledger_facts,
    notice_facts,
    penalty_facts,
)
from credit.application.commands import (
    ApplyForCreditRepair,
    ClassifyPenalty,
    CreditRepairAppliedFor,
    CreditRepairDecided,
    DecideCreditRepair,
    DecideDeductionObjection,
    DecideSeriousDishonesty,
    DeductionObjectionDecided,
    DeductionObjectionFiled,
    DisplayPeriodsSwept,
    FeedRecordRepushed,
    ImposePenalty,
    NotifyIntendedPenalty,
    ObjectToDeduction,
    PenaltyClassified,
    PenaltyImposed,
    PenaltyNoticeIssued,
    PenaltyRevoked,
    RepushFeedRecord,
    RevokePenalty,
    SeriousDishonestyDecided,
    StatementReceived,
    SubmitStatement,
    SweepDisplayPeriods,
)
from credit.application.sweeps import sweep_display_periods as sweep_all
from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty, decision_problems, tier_problems
from credit.domain.penalty_notice import PenaltyNotice
from credit.domain.rules import PENALTY_LAW_ART_44, PENALTY_LAW_ART_62
from pubrev_contracts.vocabulary.identifiers import USCC_DESCRIPTION_ZH, USCC_RULE, uscc_problem
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.attachments import MAX_ATTACHMENTS, AttachmentLimits, AttachmentRef
from servicekit.errors import AlreadyExists, NotFound, RuleViolated, Validator, excerpt
from servicekit.eventstore import fingerprint, rebuild, to_jsonable
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from credit.application.app import CreditApplication

DECISION_NUMBER_MAX = 64
"""Characters of a 行政处罚决定书文号 (e.g. 莆城管罚决〔2026〕12号, 15): the feed record's id
`penalty:<文号>#correction:<n>` must stay within push's 200 (servicekit.push)."""
MAX_RECORD_ID = 200
"""A feed record id (`penalty:<文号>#correction:<n>` and the like) is never longer."""
MAX_FINDING_ID = 100
"""A finding id as inspection names it (a UUID today)."""
ATTACHMENT_LIMITS = AttachmentLimits()
"""What the evidence store accepts (servicekit.attachments): a reference naming anything
else cannot be of a stored file."""


# -- penalties ----------------------------------------------------------------------------


def impose_penalty(
    app: CreditApplication, identity: Identity, cmd: ImposePenalty
) -> PenaltyImposed:
    POLICY.admit(IMPOSE, identity)
    decided, valid_until = _check_imposition(cmd, app.today())
    unit = cmd.unit or identity.unit
    POLICY.authorize(IMPOSE, identity, Resource(unit=unit, company=cmd.party_uscc))
    answered = _answered_before_notices(app, cmd)
    if answered is not None:
        return answered

    def execute() -> tuple[list[Any], PenaltyImposed]:
        if app.exists(Penalty.create_id(cmd.decision_number)):
            number = excerpt(cmd.decision_number)
            raise AlreadyExists(
                f"decision {number} is recorded already", f"处罚决定 {number} 已录入"
            )
        notice = _notice_for_decision(app, cmd.notice_id)
        notice.decide(
            decision_number=cmd.decision_number,
            party_uscc=cmd.party_uscc,
            unit=unit,
            violation_kind=cmd.violation_kind,
            penalty_types=cmd.penalty_types,
            fine_fen=cmd.fine_fen,
            confiscated_fen=cmd.confiscated_fen,
            severity=cmd.severity,
            decision_date=decided,
            statement_consideration=cmd.statement_consideration,
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
        return [notice, penalty], PenaltyImposed(str(penalty.id), *_periods(penalty))

    return app.run_command(cmd, PenaltyImposed, execute)


def _answered_before_notices(app: CreditApplication, cmd: ImposePenalty) -> PenaltyImposed | None:
    """A decision recorded before notices existed: its receipt's fingerprint is over the
    command without `notice_id` and `statement_consideration`, so a retry of it across the
    deployment is recognised by that fingerprint and answered from the receipt, not
    refused for its missing notice."""
    if cmd.notice_id or cmd.statement_consideration:
        return None
    receipt = app.find_receipt(type(cmd).__name__, cmd.request_id)
    before = {
        k: v
        for k, v in to_jsonable(cmd).items()
        if k not in ("notice_id", "statement_consideration")
    }
    if receipt is None or receipt.fingerprint != fingerprint(before):
        return None
    return rebuild(PenaltyImposed, receipt.result)


def _notice_for_decision(app: CreditApplication, notice_id: str) -> PenaltyNotice:
    if not notice_id:
        raise RuleViolated(
            "a penalty is decided only after the party was notified of it and could state "
            f"and defend ({PENALTY_LAW_ART_44}, {PENALTY_LAW_ART_62}): name its notice "
            "(NotifyIntendedPenalty)",
            f"作出行政处罚决定之前应当告知当事人并听取其陈述、申辩（{PENALTY_LAW_ART_44}、"
            f"{PENALTY_LAW_ART_62}），请先告知（NotifyIntendedPenalty）并填写告知编号",
        )
    return _notice(app, notice_id, for_change=True)


def _notice(app: CreditApplication, notice_id: str, *, for_change: bool = False) -> PenaltyNotice:
    found = app.find(uuid.UUID(notice_id), PenaltyNotice, read_only=not for_change)
    if found is None:
        raise NotFound(f"no notice {notice_id}", f"告知 {notice_id} 不存在")
    return found


# -- due process: notice, statement and defence --------------------------------------------


def notify_intended_penalty(
    app: CreditApplication, identity: Identity, cmd: NotifyIntendedPenalty
) -> PenaltyNoticeIssued:
    POLICY.admit(NOTIFY, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_intended_penalty(v, cmd)
    notified_on = (
        _require_date(v, cmd.notified_on, "notified_on", "告知日期") if cmd.notified_on else None
    )
    deadline = (
        _require_date(v, cmd.statement_deadline, "statement_deadline", "陈述、申辩期限")
        if cmd.statement_deadline
        else None
    )
    require_attachments(v, app, cmd.attachments)
    v.raise_if_any()
    unit = cmd.unit or identity.unit
    POLICY.authorize(NOTIFY, identity, Resource(unit=unit, company=cmd.party_uscc))

    def execute() -> tuple[list[PenaltyNotice], PenaltyNoticeIssued]:
        today = app.today()
        notice = PenaltyNotice.issue(
            app.rules.statement,
            request_id=cmd.request_id,
            party_name=cmd.party_name,
            party_uscc=cmd.party_uscc,
            violation_kind=cmd.violation_kind,
            facts=cmd.facts,
            legal_basis=cmd.legal_basis,
            penalty_types=list(cmd.penalty_types),
            content=cmd.content,
            fine_fen=cmd.fine_fen,
            confiscated_fen=cmd.confiscated_fen,
            severity=cmd.severity,
            unit=unit,
            notified_on=notified_on or today,
            statement_deadline=deadline,
            attachments=cmd.attachments,
            today=today,
        )
        return [notice], PenaltyNoticeIssued(
            str(notice.id),
            notice.notified_on.isoformat(),
            notice.statement_deadline.isoformat(),
        )

    return app.run_command(cmd, PenaltyNoticeIssued, execute)


def submit_statement(
    app: CreditApplication, identity: Identity, cmd: SubmitStatement
) -> StatementReceived:
    POLICY.admit(STATE, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    require_notice_id(v, cmd.notice_id)
    v.require_text(
        cmd.text, "text", 5000, "陈述、申辩意见", required=not cmd.waives, multiline=True
    )
    require_attachments(v, app, cmd.attachments)
    v.raise_if_any()
    POLICY.authorize(STATE, identity, notice_facts(_notice(app, cmd.notice_id)))

    def execute() -> tuple[list[PenaltyNotice], StatementReceived]:
        notice = _notice(app, cmd.notice_id, for_change=True)
        notice.submit_statement(cmd.text, cmd.attachments, cmd.waives, app.clock())
        return [notice], StatementReceived(str(notice.id), notice.statements, notice.waived)

    return app.run_command(cmd, StatementReceived, execute)


def require_notice_id(v: Validator, notice_id: str) -> None:
    """A notice's id as NotifyIntendedPenalty answered it."""
    try:
        uuid.UUID(notice_id)
    except ValueError:
        v.add(
            "notice_id",
            "uuid_format",
            "the notice's id, as NotifyIntendedPenalty answered it (a UUID)",
            "告知编号格式错误",
        )


def _require_intended_penalty(v: Validator, cmd: NotifyIntendedPenalty) -> None:
    for field, zh, limit, lines in (
        ("party_name", "行政相对人名称", 200, False),
        ("facts", "违法事实", 2000, True),
        ("legal_basis", "处罚依据", 1000, True),
        ("content", "拟处罚内容", 2000, True),
    ):
        v.require_text(getattr(cmd, field), field, limit, zh, required=True, multiline=lines)
    require_uscc(v, "party_uscc", cmd.party_uscc)
    v.violations += decision_problems(
        violation_kind=cmd.violation_kind,
        penalty_types=cmd.penalty_types,
        fine_fen=cmd.fine_fen,
        confiscated_fen=cmd.confiscated_fen,
        severity=cmd.severity,
        decision_date=None,
        valid_until=None,
    )
    _require_unit(v, cmd.unit)


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
    _require_unit(v, cmd.unit)
    if cmd.notice_id:
        require_notice_id(v, cmd.notice_id)
    v.require_text(
        cmd.statement_consideration,
        "statement_consideration",
        2000,
        "陈述、申辩的复核及采纳情况",
        multiline=True,
    )
    v.raise_if_any()
    assert decided is not None and valid_until is not None
    return decided, valid_until


def _require_unit(v: Validator, unit: str) -> None:
    v.require(
        not unit or unit in UNITS,
        "unit",
        "unknown_unit",
        f"the deciding unit: one of {', '.join(UNITS)} (empty: the caller's)",
        "作出决定的单位不存在",
    )


# -- objections to deductions ---------------------------------------------------------------


def object_to_deduction(
    app: CreditApplication, identity: Identity, cmd: ObjectToDeduction
) -> DeductionObjectionFiled:
    POLICY.admit(OBJECT, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    require_uscc(v, "company_uscc", cmd.company_uscc)
    _require_finding_id(v, cmd.finding_id)
    v.require_text(cmd.reason, "reason", 5000, "异议理由", required=True, multiline=True)
    require_attachments(v, app, cmd.attachments)
    v.raise_if_any()
    ledger = _ledger(app, cmd.company_uscc)
    POLICY.authorize(OBJECT, identity, _deduction_facts(ledger, cmd.finding_id))

    def execute() -> tuple[list[CreditLedger], DeductionObjectionFiled]:
        ledger = _ledger(app, cmd.company_uscc, for_change=True)
        ledger.object_to(cmd.finding_id, cmd.reason, cmd.attachments, app.clock())
        unit = ledger.objection_unit(cmd.finding_id) or ""
        return [ledger], DeductionObjectionFiled(cmd.finding_id, unit)

    return app.run_command(cmd, DeductionObjectionFiled, execute)


def decide_deduction_objection(
    app: CreditApplication, identity: Identity, cmd: DecideDeductionObjection
) -> DeductionObjectionDecided:
    POLICY.admit(DECIDE_OBJECTION, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    require_uscc(v, "company_uscc", cmd.company_uscc)
    _require_finding_id(v, cmd.finding_id)
    v.require_text(cmd.reason, "reason", 2000, "异议处理理由", required=True, multiline=True)
    v.raise_if_any()
    ledger = _ledger(app, cmd.company_uscc)
    POLICY.authorize(DECIDE_OBJECTION, identity, _deduction_facts(ledger, cmd.finding_id))

    def execute() -> tuple[list[CreditLedger], DeductionObjectionDecided]:
        ledger = _ledger(app, cmd.company_uscc, for_change=True)
        before = ledger.score
        ledger.decide_objection(app.rules, cmd.finding_id, cmd.upheld, cmd.reason)
        return [ledger], DeductionObjectionDecided(
            cmd.finding_id, cmd.upheld, ledger.score - before, ledger.score
        )

    return app.run_command(cmd, DeductionObjectionDecided, execute)


def _ledger(app: CreditApplication, company_uscc: str, *, for_change: bool = False) -> CreditLedger:
    ledger = app.find(CreditLedger.create_id(company_uscc), CreditLedger, read_only=not for_change)
    if ledger is None:
        raise NotFound(f"no credit record of {excerpt(company_uscc)}", "该企业无信用记录")
    return ledger


def _deduction_facts(ledger: CreditLedger, finding_id: str) -> Resource:
    """A deduction is judged on its own unit (the finding's), and its objection on the
    same; NotFound when the ledger holds no such deduction."""
    unit = ledger.objection_unit(finding_id) or ledger.records.get(finding_id, {}).get("unit")
    if unit is None:
        found = excerpt(finding_id)
        raise NotFound(
            f"no standing deduction of finding {found} in the credit record",
            f"信用记录中没有发现 {found} 的扣分",
        )
    return Resource(unit=str(unit), company=ledger.company_uscc)


def _require_finding_id(v: Validator, finding_id: str) -> None:
    v.require_text(finding_id, "finding_id", MAX_FINDING_ID, "发现编号", required=True)


# -- credit repair (信用修复) ------------------------------------------------------------------


def apply_for_credit_repair(
    app: CreditApplication, identity: Identity, cmd: ApplyForCreditRepair
) -> CreditRepairAppliedFor:
    POLICY.admit(APPLY_REPAIR, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_decision_number(v, cmd.decision_number)
    v.require_text(
        cmd.statement, "statement", 5000, "信用修复申请说明", required=True, multiline=True
    )
    require_attachments(v, app, cmd.attachments)
    v.raise_if_any()
    POLICY.authorize(APPLY_REPAIR, identity, penalty_facts(_penalty(app, cmd.decision_number)))

    def execute() -> tuple[list[Penalty], CreditRepairAppliedFor]:
        penalty = _penalty(app, cmd.decision_number, for_change=True)
        today = app.today()
        penalty.apply_for_repair(cmd.statement, cmd.attachments, today)
        return [penalty], CreditRepairAppliedFor(str(penalty.id), today.isoformat())

    return app.run_command(cmd, CreditRepairAppliedFor, execute)


def decide_credit_repair(
    app: CreditApplication, identity: Identity, cmd: DecideCreditRepair
) -> CreditRepairDecided:
    POLICY.admit(DECIDE_REPAIR, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_decision_number(v, cmd.decision_number)
    v.require_text(cmd.reason, "reason", 2000, "信用修复决定理由", required=True, multiline=True)
    v.raise_if_any()
    POLICY.authorize(DECIDE_REPAIR, identity, penalty_facts(_penalty(app, cmd.decision_number)))

    def execute() -> tuple[list[Penalty], CreditRepairDecided]:
        penalty = _penalty(app, cmd.decision_number, for_change=True)
        today = app.today()
        penalty.decide_repair(cmd.approved, cmd.reason, today)
        return [penalty], CreditRepairDecided(str(penalty.id), cmd.approved, today.isoformat())

    return app.run_command(cmd, CreditRepairDecided, execute)


# -- serious dishonesty (联合奖惩) --------------------------------------------------------------


def decide_serious_dishonesty(
    app: CreditApplication, identity: Identity, cmd: DecideSeriousDishonesty
) -> SeriousDishonestyDecided:
    POLICY.admit(DECIDE_DISHONESTY, identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    require_uscc(v, "company_uscc", cmd.company_uscc)
    v.require_text(cmd.reason, "reason", 2000, "决定理由", required=True, multiline=True)
    v.raise_if_any()
    POLICY.authorize(DECIDE_DISHONESTY, identity, _proposal_facts(_ledger(app, cmd.company_uscc)))

    def execute() -> tuple[list[CreditLedger], SeriousDishonestyDecided]:
        ledger = _ledger(app, cmd.company_uscc, for_change=True)
        ledger.decide_dishonesty(cmd.lists, cmd.reason)
        return [ledger], SeriousDishonestyDecided(cmd.company_uscc, ledger.listed)

    return app.run_command(cmd, SeriousDishonestyDecided, execute)


def _proposal_facts(ledger: CreditLedger) -> Resource:
    """A proposal is judged on the unit of the finding that met the threshold; without
    one, on the ledger's (the decision is then refused as a rule, not hidden)."""
    if ledger.proposal is None:
        return ledger_facts(ledger)
    return Resource(unit=ledger.proposal["unit"], company=ledger.company_uscc)


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
    NotifyIntendedPenalty: notify_intended_penalty,
    SubmitStatement: submit_statement,
    ImposePenalty: impose_penalty,
    ClassifyPenalty: classify_penalty,
    RevokePenalty: revoke_penalty,
    SweepDisplayPeriods: sweep_display_periods,
    RepushFeedRecord: repush_feed_record,
    ObjectToDeduction: object_to_deduction,
    DecideDeductionObjection: decide_deduction_objection,
    ApplyForCreditRepair: apply_for_credit_repair,
    DecideCreditRepair: decide_credit_repair,
    DecideSeriousDishonesty: decide_serious_dishonesty,
}


# -- the request's fields -----------------------------------------------------------------


def require_uscc(v: Validator, field: str, code: str) -> bool:
    """A 统一社会信用代码 a caller sends: GB 32100-2015 with its check character, checked
    the one way the platform checks it (vocabulary.identifiers)."""
    problem = uscc_problem(code)
    return v.require(problem is None, field, USCC_RULE, f"USCC {problem}", USCC_DESCRIPTION_ZH)


def require_attachments(
    v: Validator, app: CreditApplication, attachments: Sequence[AttachmentRef]
) -> None:
    """References to files in the evidence store, as its upload answered them: each of a
    kind the store accepts, and stored (`not_stored`: upload it first). A ref's hash is well
    formed by construction (AttachmentRef; the wire's bounds refuse a malformed one)."""
    v.require(
        len(attachments) <= MAX_ATTACHMENTS,
        "attachments",
        "too_many",
        f"at most {MAX_ATTACHMENTS} attachments",
        f"附件不超过{MAX_ATTACHMENTS}个",
    )
    for n, a in enumerate(attachments[:MAX_ATTACHMENTS]):
        field = f"attachments[{n}]"
        ok = v.require(
            a.size <= ATTACHMENT_LIMITS.max_bytes,
            f"{field}.size",
            "size_range",
            f"1 to {ATTACHMENT_LIMITS.max_bytes} bytes",
            "附件大小超出范围",
        )
        ok &= v.require(
            a.media_type in ATTACHMENT_LIMITS.media_types,
            f"{field}.media_type",
            "attachment_type_not_allowed",
            f"one of {', '.join(sorted(ATTACHMENT_LIMITS.media_types))}",
            "附件类型不在允许范围内",
        )
        ok &= v.require_text(
            a.filename,
            f"{field}.filename",
            ATTACHMENT_LIMITS.filename_max_chars,
            "附件文件名",
            required=True,
        )
        if ok:
            v.require(
                app.attachments.exists(a.sha256),
                field,
                "not_stored",
                "no such file in the evidence store: upload it first",
                "证据库中没有该附件，请先上传",
            )


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
