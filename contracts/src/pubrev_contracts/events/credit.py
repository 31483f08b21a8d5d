"""Events published by the credit service on pubrev.credit.events.v1."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pubrev_contracts.events.base import ContractEvent, Fen, UtcDatetime, register
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
