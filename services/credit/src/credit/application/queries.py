"""What credit answers without changing anything: a company's ledger (GetLedger), a
notice of an intended penalty with the statements against it (GetPenaltyNotice) and the
feeds' delivery state (GetFeedStatus)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from credit.application.access import (
    FEED_STATUS,
    GET_LEDGER,
    GET_NOTICE,
    POLICY,
    ledger_filter,
    notice_facts,
)
from credit.application.handlers import (
    require_feed,
    require_notice_id,
    require_record_id,
    require_uscc,
)
from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty_notice import PenaltyNotice
from pubrev_contracts.vocabulary.identifiers import USCC_PATTERN, is_uscc
from servicekit.attachments import AttachmentRef
from servicekit.errors import NotFound, Validator, excerpt
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from credit.application.app import CreditApplication

_USCC_SHAPE = re.compile(USCC_PATTERN)
"""18 characters of the GB 32100 set: the shape of every registry's code, valid or flagged."""


@dataclass(frozen=True)
class LedgerEntryView:
    type: str
    """deducted, restored, objected, objection_rejected, annulled, dishonesty_proposed,
    dishonesty_declined or dishonesty_listed."""
    finding_id: str
    kind: str
    severity: str
    points: int
    score_after: int
    at: datetime
    table_version: str
    reason: str


@dataclass(frozen=True)
class LedgerView:
    company_uscc: str
    score: int
    grade: str
    seriously_dishonest: bool
    entries: list[LedgerEntryView]
    """Every entry, or only the caller's unit's for a county-level reader."""
    bands_version: str
    dishonesty_proposed: bool = False
    """A proposal for the serious-dishonesty list awaits the credit office's decision."""


@dataclass(frozen=True)
class FeedCountsView:
    feed: str
    pending: int
    delivered: int
    dead: int


@dataclass(frozen=True)
class FeedAttemptView:
    attempt: int
    at: datetime
    http_status: int
    error: str


@dataclass(frozen=True)
class FeedStatusView:
    counts: list[FeedCountsView]
    status: str
    """One record's: pending, delivered, dead; "" when none was asked or it is unknown."""
    attempts: list[FeedAttemptView]


def get_ledger(app: CreditApplication, identity: Identity, company_uscc: str) -> LedgerView:
    """The company's ledger as the caller may read it: whole, or a county-level reader's
    own unit's entries (application/access.py).

    The code is checked as GB 32100 has it, with one exception: a ledger credit holds under
    a code that fails the check character (a registry code disclosure kept and flagged, as
    inspection named the company) is still the company's, and is answered."""
    POLICY.admit(GET_LEDGER, identity)
    if _USCC_SHAPE.fullmatch(company_uscc) is None:
        _refuse_code(company_uscc)  # no code of any registry: no ledger to look for
    unit = ledger_filter(identity, company_uscc)
    ledger = app.find(CreditLedger.create_id(company_uscc), CreditLedger, read_only=True)
    if ledger is None and not is_uscc(company_uscc):
        _refuse_code(company_uscc)
    if ledger is None or (unit and unit not in ledger.units):
        where = f" in {unit}" if unit else ""
        raise NotFound(f"no credit record of {excerpt(company_uscc)}{where}", "该企业无信用记录")
    entries = [
        entry
        for e in app.repository.event_store.get(ledger.id)
        if (entry := _entry(e)) is not None and not (unit and getattr(e, "unit", "") != unit)
    ]
    return LedgerView(
        company_uscc,
        ledger.score,
        app.rules.grades.grade(ledger.score),
        ledger.listed,
        entries,
        app.rules.grades.version,
        ledger.proposal is not None,
    )


def _refuse_code(code: str) -> None:
    v = Validator()
    require_uscc(v, "company_uscc", code)
    v.raise_if_any()


def _entry(e: Any) -> LedgerEntryView | None:
    if isinstance(e, CreditLedger.Deducted):
        return LedgerEntryView(
            "deducted",
            e.finding_id,
            e.kind,
            e.severity,
            e.points,
            e.score_after,
            e.timestamp,
            e.table_version,
            "",
        )
    if isinstance(e, CreditLedger.Restored):
        return LedgerEntryView(
            "restored", e.finding_id, "", "", e.points, e.score_after, e.timestamp, "", e.reason
        )
    if isinstance(e, CreditLedger.SeriousDishonestyListed):
        return LedgerEntryView(
            "dishonesty_listed", "", "", "", 0, e.score, e.timestamp, "", e.reason
        )
    if isinstance(e, CreditLedger.SeriousDishonestyProposed):
        return LedgerEntryView(
            "dishonesty_proposed", "", "", "", 0, e.score, e.timestamp, "", e.reason
        )
    if isinstance(e, CreditLedger.SeriousDishonestyDeclined):
        return LedgerEntryView("dishonesty_declined", "", "", "", 0, 0, e.timestamp, "", e.reason)
    if isinstance(e, CreditLedger.DeductionObjected):
        return LedgerEntryView("objected", e.finding_id, "", "", 0, 0, e.timestamp, "", e.reason)
    if isinstance(e, CreditLedger.DeductionObjectionRejected):
        return LedgerEntryView(
            "objection_rejected", e.finding_id, "", "", 0, 0, e.timestamp, "", e.reason
        )
    if isinstance(e, CreditLedger.DeductionAnnulled):
        return LedgerEntryView(
            "annulled",
            e.finding_id,
            "",
            "",
            e.points,
            e.score_after,
            e.timestamp,
            "",
            f"{e.cause}: {e.reason}",
        )
    return None


@dataclass(frozen=True)
class StatementView:
    text: str
    waives: bool
    submitted_at: datetime
    attachments: list[AttachmentRef]


@dataclass(frozen=True)
class PenaltyNoticeView:
    notice_id: str
    unit: str
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
    notified_on: date
    statement_deadline: date
    attachments: list[AttachmentRef]
    statements: list[StatementView]
    decision_number: str
    """The decision that concluded the notice; "" while none."""
    statement_consideration: str


def get_penalty_notice(
    app: CreditApplication, identity: Identity, notice_id: str
) -> PenaltyNoticeView:
    """The notice as served, every statement (or waiver) received against it, and the
    decision that concluded it."""
    POLICY.admit(GET_NOTICE, identity)
    v = Validator()
    require_notice_id(v, notice_id)
    v.raise_if_any()
    key = uuid.UUID(notice_id)
    notice = app.find(key, PenaltyNotice, read_only=True)
    if notice is None:
        raise NotFound(f"no notice {notice_id}", f"告知 {notice_id} 不存在")
    POLICY.authorize(GET_NOTICE, identity, notice_facts(notice))
    issued: Any = None
    statements: list[StatementView] = []
    decided: Any = None
    for e in app.repository.event_store.get(key):
        if isinstance(e, PenaltyNotice.Issued):
            issued = e
        elif isinstance(e, PenaltyNotice.StatementSubmitted):
            statements.append(
                StatementView(e.text, e.waives, e.submitted_at, _attachments(e.attachments))
            )
        elif isinstance(e, PenaltyNotice.Decided):
            decided = e
    return PenaltyNoticeView(
        notice_id=str(key),
        unit=issued.unit,
        party_name=issued.party_name,
        party_uscc=issued.party_uscc,
        violation_kind=issued.violation_kind,
        facts=issued.facts,
        legal_basis=issued.legal_basis,
        penalty_types=list(issued.penalty_types),
        content=issued.content,
        fine_fen=issued.fine_fen,
        confiscated_fen=issued.confiscated_fen,
        severity=issued.severity,
        notified_on=issued.notified_on,
        statement_deadline=issued.statement_deadline,
        attachments=_attachments(issued.attachments),
        statements=statements,
        decision_number=decided.decision_number if decided else "",
        statement_consideration=decided.statement_consideration if decided else "",
    )


def _attachments(items: list[dict[str, Any]]) -> list[AttachmentRef]:
    return [AttachmentRef.from_dict(a) for a in items]


def get_feed_status(
    app: CreditApplication, identity: Identity, feed: str, record_id: str
) -> FeedStatusView:
    """Pending, delivered and dead records per feed (or of the one named), and one record's
    state with every attempt when `record_id` is given."""
    POLICY.authorize(FEED_STATUS, identity, Resource())
    desk = app.feed_desk
    v = Validator()
    require_feed(v, desk.feeds, feed, required=bool(record_id))
    require_record_id(v, record_id, required=False)
    v.raise_if_any()
    counts = []
    for name in [feed] if feed else list(desk.feeds):
        c = desk.counts(name)
        counts.append(
            FeedCountsView(name, c.get("pending", 0), c.get("delivered", 0), c.get("dead", 0))
        )
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
