"""Events published by the credit service on pubrev.credit.events.v1."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent, Fen, UtcDatetime, register
from pubrev_contracts.topics import CREDIT_EVENTS

Severity = Literal["minor", "general", "serious"]


@register("pubrev.credit.CreditDeducted.v1", CREDIT_EVENTS)
class CreditDeductedV1(ContractEvent):
    """Aggregate: the company's ledger. Carries the table version and legal basis used."""

    company_uscc: str
    finding_id: str
    kind: str
    severity: Severity
    points: int
    score_after: int
    grade_after: str
    table_version: str
    legal_basis: str
    published: bool
    repair_from: UtcDatetime
    display_until: UtcDatetime


@register("pubrev.credit.CreditRestored.v1", CREDIT_EVENTS)
class CreditRestoredV1(ContractEvent):
    company_uscc: str
    finding_id: str
    points: int
    score_after: int
    grade_after: str
    reason: Literal["display_period_ended", "rectification_verified"]


@register("pubrev.credit.PenaltyImposed.v1", CREDIT_EVENTS)
class PenaltyImposedV1(ContractEvent):
    decision_number: str
    party_name: str
    party_uscc: str
    violation_kind: str
    facts: str
    legal_basis: str
    penalty_types: list[str]
    content: str
    fine_fen: Fen
    confiscated_fen: Fen
    decision_date: dt.date
    display_until: dt.date
    """公示截止期 on 信用中国; the decision date itself when not published (`published`)."""
    authority_name: str
    authority_uscc: str
    severity: Severity | None = None
    """The tier (轻微/一般/严重); None for a decision recorded before tiers were entered,
    until the bureau classifies it (PenaltyClassified)."""
    valid_until: dt.date | None = None
    """处罚有效期, as the decision says."""
    repair_from: dt.date | None = None
    """From when repair (信用修复) may be applied for; None when not published."""
    published: bool = True
    """False: not published on 信用中国 (minor, DOMAIN.md §6)."""


@register("pubrev.credit.PenaltyClassified.v1", CREDIT_EVENTS)
class PenaltyClassifiedV1(ContractEvent):
    """The bureau stated or corrected a decision's tier and validity; the display periods
    follow from the tier."""

    decision_number: str
    severity: Severity
    valid_until: dt.date
    published: bool
    display_until: dt.date | None
    repair_from: dt.date | None
    reason: str
    classified_on: dt.date


@register("pubrev.credit.PenaltyRevoked.v1", CREDIT_EVENTS)
class PenaltyRevokedV1(ContractEvent):
    decision_number: str
    party_uscc: str
    reason: str
    revoked_on: dt.date
    withdraw_by: dt.date


@register("pubrev.credit.SeriousDishonestyListed.v1", CREDIT_EVENTS)
class SeriousDishonestyListedV1(ContractEvent):
    company_uscc: str
    score: int
    serious_findings: int
    reason: str


# -- due process (issue 13 item 6) ------------------------------------------------------------


@register("pubrev.credit.PenaltyNoticeIssued.v1", CREDIT_EVENTS)
class PenaltyNoticeIssuedV1(ContractEvent):
    """Aggregate: the notice of an intended penalty (行政处罚事先告知, 《行政处罚法》第四十四条).
    The company may state and defend until `statement_deadline`; no decision follows it
    before then unless the company stated (and was heard) or waived. The facts and the
    notice's text stay in credit (GetPenaltyNotice)."""

    party_name: str
    party_uscc: str
    violation_kind: str
    penalty_types: list[str]
    fine_fen: Fen
    confiscated_fen: Fen
    severity: Severity
    notified_on: dt.date
    statement_deadline: dt.date


@register("pubrev.credit.PenaltyStatementSubmitted.v1", CREDIT_EVENTS)
class PenaltyStatementSubmittedV1(ContractEvent):
    """Aggregate: the notice. The company stated and defended (陈述、申辩), or expressly
    waived the right (`waived`, 第六十二条). The statement's text stays in credit."""

    party_uscc: str
    waived: bool
    attachments: list[AttachmentRefV1]
    submitted_at: UtcDatetime


@register("pubrev.credit.PenaltyNoticeDecided.v1", CREDIT_EVENTS)
class PenaltyNoticeDecidedV1(ContractEvent):
    """Aggregate: the notice. The decision that concluded it (PenaltyImposed of
    `decision_number` follows) and how the statement was considered (empty when the
    company did not state)."""

    decision_number: str
    party_uscc: str
    statement_consideration: str
    decided_on: dt.date


@register("pubrev.credit.DeductionObjected.v1", CREDIT_EVENTS)
class DeductionObjectedV1(ContractEvent):
    """Aggregate: the company's ledger. The company objects to the deduction made for
    `finding_id`; the bureau or the credit office of `unit` decides."""

    company_uscc: str
    finding_id: str
    reason: str
    attachments: list[AttachmentRefV1]
    objected_at: UtcDatetime


@register("pubrev.credit.DeductionObjectionRejected.v1", CREDIT_EVENTS)
class DeductionObjectionRejectedV1(ContractEvent):
    """Aggregate: the company's ledger. The objection was rejected: the deduction stands."""

    company_uscc: str
    finding_id: str
    reason: str


@register("pubrev.credit.DeductionAnnulled.v1", CREDIT_EVENTS)
class DeductionAnnulledV1(ContractEvent):
    """Aggregate: the company's ledger. A deduction that should not have been made: the
    company's objection upheld, or inspection withdrew the finding. Its points come back
    (`points`, 0 when the display period had already restored them) and it never counts
    again. Not a CreditRestored: that event's `reason` is a closed list of the ways a
    rightful deduction ends."""

    company_uscc: str
    finding_id: str
    points: int
    score_after: int
    grade_after: str
    cause: Literal["objection_upheld", "finding_withdrawn"]
    reason: str


@register("pubrev.credit.CreditRepairApplied.v1", CREDIT_EVENTS)
class CreditRepairAppliedV1(ContractEvent):
    """Aggregate: the penalty. The company applied for credit repair (信用修复) of a published
    decision after its minimum display period (DOMAIN.md §6)."""

    decision_number: str
    party_uscc: str
    attachments: list[AttachmentRefV1]
    applied_on: dt.date


@register("pubrev.credit.CreditRepairDecided.v1", CREDIT_EVENTS)
class CreditRepairDecidedV1(ContractEvent):
    """Aggregate: the penalty. The credit office approved the application (the record is
    removed from 信用中国) or rejected it."""

    decision_number: str
    party_uscc: str
    approved: bool
    reason: str
    decided_on: dt.date


@register("pubrev.credit.SeriousDishonestyProposed.v1", CREDIT_EVENTS)
class SeriousDishonestyProposedV1(ContractEvent):
    """Aggregate: the company's ledger. The configured threshold was met: the company is
    proposed for the serious-dishonesty list, which the credit office decides
    (SeriousDishonestyListed, or SeriousDishonestyDeclined)."""

    company_uscc: str
    score: int
    serious_findings: int
    reason: str


@register("pubrev.credit.SeriousDishonestyDeclined.v1", CREDIT_EVENTS)
class SeriousDishonestyDeclinedV1(ContractEvent):
    """Aggregate: the company's ledger. The credit office declined to list the proposed
    company."""

    company_uscc: str
    reason: str
