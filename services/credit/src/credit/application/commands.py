"""The credit service's commands, each named exactly after its RPC, and beside each the
result it answers with (flat, JSON values: a command's receipt remembers it).

Field names are part of the stored data: a retried request is recognised by a fingerprint
over them (servicekit.eventstore), so a renamed field would turn a retry across a
deployment into a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class PenaltyImposed:
    penalty_id: str
    display_until: str
    """公示截止期 (YYYY-MM-DD); empty when the tier is not published."""
    repair_from: str
    """From when repair may be applied for; empty when not published."""
    published: bool


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
