"""The credit service's commands, each named exactly after its RPC, and beside each the
result it answers with (flat, JSON values: a command's receipt remembers it).

Field names are part of the stored data: a retried request is recognised by a fingerprint
over them (servicekit.eventstore), so a renamed field would turn a retry across a
deployment into a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.attachments import AttachmentRef


@dataclass(frozen=True)
class ImposePenalty:
    """The bureau records a 行政处罚决定 (DOMAIN.md §6)."""

    request_id: str
    decision_number: str
    """行政处罚决定书文号, e.g. 莆城管罚决〔2026〕12号: the penalty's identity."""
    party_name: str
    party_uscc: str
    violation_kind: str
    """A company's violation of the code list (A–D, vocabulary.violations)."""
    facts: str
    legal_basis: str
    penalty_types: tuple[str, ...]
    """Categories of 行政处罚法 Art. 9 (domain.penalty.PENALTY_TYPES)."""
    content: str
    fine_fen: int
    confiscated_fen: int
    decision_date: str
    """YYYY-MM-DD, an Asia/Shanghai date."""
    authority_name: str
    authority_uscc: str
    unit: str
    """The deciding unit; empty: the caller's."""
    remarks: str
    severity: str
    """轻微 minor, 一般 general, 严重 serious (DOMAIN.md §6): decides the display periods."""
    valid_until: str
    """处罚有效期 (YYYY-MM-DD): until when the decision has effect, as the decision says."""
    notice_id: str = ""
    """The notice of this intended penalty (NotifyIntendedPenalty), which must allow a
    decision now (《行政处罚法》第四十四条、第四十五条、第六十二条). Empty: refused. The
    two fields came after the receipts of earlier requests were written: those retries are
    recognised by a fingerprint without them (handlers.impose_penalty)."""
    statement_consideration: str = ""
    """How the party's statement and defence were reviewed and considered (采纳与否及理由),
    required when it stated (第四十五条)."""


@dataclass(frozen=True)
class PenaltyImposed:
    penalty_id: str
    display_until: str
    """公示截止期 (YYYY-MM-DD); empty when the tier is not published."""
    repair_from: str
    """From when repair may be applied for; empty when not published."""
    published: bool


@dataclass(frozen=True)
class NotifyIntendedPenalty:
    """The bureau notifies a company of the penalty it intends (行政处罚事先告知, 《行政处罚法》
    第四十四条): the intended decision's facts, basis and content, and the statement period."""

    request_id: str
    party_name: str
    party_uscc: str
    violation_kind: str
    facts: str
    legal_basis: str
    penalty_types: tuple[str, ...]
    content: str
    fine_fen: int
    confiscated_fen: int
    severity: str
    unit: str
    """The deciding unit; empty: the caller's."""
    notified_on: str
    """The day the notice was served (YYYY-MM-DD, Asia/Shanghai); empty: today."""
    statement_deadline: str
    """The last day of the statement period (YYYY-MM-DD); empty: the configured period."""
    attachments: tuple[AttachmentRef, ...] = ()
    """The notice as served (a scan), and any other document."""


@dataclass(frozen=True)
class PenaltyNoticeIssued:
    notice_id: str
    notified_on: str
    statement_deadline: str


@dataclass(frozen=True)
class SubmitStatement:
    """The company states and defends (陈述、申辩) against an intended penalty, or expressly
    waives the right (《行政处罚法》第六十二条)."""

    request_id: str
    notice_id: str
    text: str
    waives: bool = False
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class StatementReceived:
    notice_id: str
    statements: int
    """How many statements the notice has received."""
    waived: bool


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
class PenaltyClassified:
    penalty_id: str
    display_until: str
    repair_from: str
    published: bool


@dataclass(frozen=True)
class RevokePenalty:
    """The bureau revokes a decision; its publication is withdrawn within 3 working days."""

    request_id: str
    decision_number: str
    reason: str


@dataclass(frozen=True)
class PenaltyRevoked:
    penalty_id: str
    withdraw_by: str
    """The day the withdrawal must reach 信用中国 by (YYYY-MM-DD)."""


@dataclass(frozen=True)
class SweepDisplayPeriods:
    """Restores what the display periods release, for every company (an operation: it
    decides nothing, so a repeat finds nothing more to restore)."""

    request_id: str


@dataclass(frozen=True)
class DisplayPeriodsSwept:
    restored: int


@dataclass(frozen=True)
class RepushFeedRecord:
    """An operator sends a feed record again (after the receiver was fixed)."""

    feed: str
    record_id: str


@dataclass(frozen=True)
class FeedRecordRepushed:
    found: bool
    """False when the feed has no such record."""


@dataclass(frozen=True)
class ObjectToDeduction:
    """The company objects to a deduction of its credit (对信用扣分提出异议)."""

    request_id: str
    company_uscc: str
    finding_id: str
    """The finding the deduction was made for (GetLedger's entries name it)."""
    reason: str
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class DeductionObjectionFiled:
    finding_id: str
    unit: str
    """The unit whose bureau or credit office decides the objection."""


@dataclass(frozen=True)
class DecideDeductionObjection:
    """The bureau or the credit office of the deduction's unit upholds the objection (the
    deduction is annulled, its points come back) or rejects it."""

    request_id: str
    company_uscc: str
    finding_id: str
    upheld: bool
    reason: str


@dataclass(frozen=True)
class DeductionObjectionDecided:
    finding_id: str
    upheld: bool
    points_restored: int
    score: int


@dataclass(frozen=True)
class ApplyForCreditRepair:
    """The company applies for credit repair (信用修复) of a published penalty, after its
    tier's minimum display period (DOMAIN.md §6)."""

    request_id: str
    decision_number: str
    statement: str
    """What the company did (the penalty performed, the violation corrected), and its
    commitment."""
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class CreditRepairAppliedFor:
    penalty_id: str
    applied_on: str


@dataclass(frozen=True)
class DecideCreditRepair:
    """The credit office approves the application (the record is removed from 信用中国) or
    rejects it."""

    request_id: str
    decision_number: str
    approved: bool
    reason: str


@dataclass(frozen=True)
class CreditRepairDecided:
    penalty_id: str
    approved: bool
    decided_on: str


@dataclass(frozen=True)
class DecideSeriousDishonesty:
    """The credit office lists a company proposed for the serious-dishonesty list (严重失信
    主体名单, pushed to the joint reward and punishment system) or declines the proposal."""

    request_id: str
    company_uscc: str
    lists: bool
    reason: str


@dataclass(frozen=True)
class SeriousDishonestyDecided:
    company_uscc: str
    listed: bool
