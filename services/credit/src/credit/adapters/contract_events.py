"""Credit's domain events → contract events on pubrev.credit.events.v1."""

from __future__ import annotations

from typing import Any

from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty
from credit.domain.penalty_notice import PenaltyNotice
from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent
from pubrev_contracts.events.credit import (
    CreditDeductedV1,
    CreditRepairAppliedV1,
    CreditRepairDecidedV1,
    CreditRestoredV1,
    DeductionAnnulledV1,
    DeductionObjectedV1,
    DeductionObjectionRejectedV1,
    PenaltyClassifiedV1,
    PenaltyImposedV1,
    PenaltyNoticeDecidedV1,
    PenaltyNoticeIssuedV1,
    PenaltyRevokedV1,
    PenaltyStatementSubmittedV1,
    SeriousDishonestyDeclinedV1,
    SeriousDishonestyListedV1,
    SeriousDishonestyProposedV1,
)


def to_contract(event: Any) -> ContractEvent | None:
    base = {
        "aggregate_id": event.originator_id,
        "aggregate_version": event.originator_version,
        "occurred_at": event.timestamp,
    }
    due_process = _due_process(event, base)
    if due_process is not None:
        return due_process
    if isinstance(event, CreditLedger.Deducted):
        return CreditDeductedV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            finding_id=event.finding_id,
            kind=event.kind,
            severity=event.severity,
            points=event.points,
            score_after=event.score_after,
            grade_after=event.grade_after,
            table_version=event.table_version,
            legal_basis=event.legal_basis,
            published=event.published,
            repair_from=event.repair_from,
            display_until=event.display_until,
        )
    if isinstance(event, CreditLedger.Restored):
        return CreditRestoredV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            finding_id=event.finding_id,
            points=event.points,
            score_after=event.score_after,
            grade_after=event.grade_after,
            reason=event.reason,
        )
    if isinstance(event, CreditLedger.SeriousDishonestyListed):
        return SeriousDishonestyListedV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            score=event.score,
            serious_findings=event.serious_findings,
            reason=event.reason,
        )
    if isinstance(event, Penalty.Imposed):
        return PenaltyImposedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            party_name=event.party_name,
            party_uscc=event.party_uscc,
            violation_kind=event.violation_kind,
            facts=event.facts,
            legal_basis=event.legal_basis,
            penalty_types=event.penalty_types,
            content=event.content,
            fine_fen=event.fine_fen,
            confiscated_fen=event.confiscated_fen,
            decision_date=event.decision_date,
            # V1 has always carried a date: an unpublished decision's display ends at once.
            display_until=event.display_until or event.decision_date,
            authority_name=event.authority_name,
            authority_uscc=event.authority_uscc,
            severity=event.severity,
            valid_until=event.valid_until,
            repair_from=event.repair_from,
            published=event.severity is None or event.display_until is not None,
        )
    if isinstance(event, Penalty.Classified):
        return PenaltyClassifiedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            severity=event.severity,
            valid_until=event.valid_until,
            published=event.display_until is not None,
            display_until=event.display_until,
            repair_from=event.repair_from,
            reason=event.reason,
            classified_on=event.classified_on,
        )
    if isinstance(event, Penalty.Revoked):
        return PenaltyRevokedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            party_uscc=event.party_uscc,
            reason=event.reason,
            revoked_on=event.revoked_on,
            withdraw_by=event.withdraw_by,
        )
    return None


def _attachments(items: list[dict[str, Any]]) -> list[AttachmentRefV1]:
    return [
        AttachmentRefV1(
            sha256=a["sha256"], size=a["size"], media_type=a["media_type"], filename=a["filename"]
        )
        for a in items
    ]


def _due_process(event: Any, base: dict[str, Any]) -> ContractEvent | None:
    """Issue 13's events: the notice and the statement, objections and annulments, credit
    repair, the proposal for the serious-dishonesty list and its decline."""
    if isinstance(event, PenaltyNotice.Issued):
        return PenaltyNoticeIssuedV1(
            **base,
            unit=event.unit,
            party_name=event.party_name,
            party_uscc=event.party_uscc,
            violation_kind=event.violation_kind,
            penalty_types=event.penalty_types,
            fine_fen=event.fine_fen,
            confiscated_fen=event.confiscated_fen,
            severity=event.severity,
            notified_on=event.notified_on,
            statement_deadline=event.statement_deadline,
        )
    if isinstance(event, PenaltyNotice.StatementSubmitted):
        return PenaltyStatementSubmittedV1(
            **base,
            unit=event.unit,
            party_uscc=event.party_uscc,
            waived=event.waives,
            attachments=_attachments(event.attachments),
            submitted_at=event.submitted_at,
        )
    if isinstance(event, PenaltyNotice.Decided):
        return PenaltyNoticeDecidedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            party_uscc=event.party_uscc,
            statement_consideration=event.statement_consideration,
            decided_on=event.decided_on,
        )
    if isinstance(event, CreditLedger.DeductionObjected):
        return DeductionObjectedV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            finding_id=event.finding_id,
            reason=event.reason,
            attachments=_attachments(event.attachments),
            objected_at=event.objected_at,
        )
    if isinstance(event, CreditLedger.DeductionObjectionRejected):
        return DeductionObjectionRejectedV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            finding_id=event.finding_id,
            reason=event.reason,
        )
    if isinstance(event, CreditLedger.DeductionAnnulled):
        return DeductionAnnulledV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            finding_id=event.finding_id,
            points=event.points,
            score_after=event.score_after,
            grade_after=event.grade_after,
            cause=event.cause,
            reason=event.reason,
        )
    if isinstance(event, Penalty.RepairApplied):
        return CreditRepairAppliedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            party_uscc=event.party_uscc,
            attachments=_attachments(event.attachments),
            applied_on=event.applied_on,
        )
    if isinstance(event, Penalty.RepairDecided):
        return CreditRepairDecidedV1(
            **base,
            unit=event.unit,
            decision_number=event.decision_number,
            party_uscc=event.party_uscc,
            approved=event.approved,
            reason=event.reason,
            decided_on=event.decided_on,
        )
    if isinstance(event, CreditLedger.SeriousDishonestyProposed):
        return SeriousDishonestyProposedV1(
            **base,
            unit=event.unit,
            company_uscc=event.company_uscc,
            score=event.score,
            serious_findings=event.serious_findings,
            reason=event.reason,
        )
    if isinstance(event, CreditLedger.SeriousDishonestyDeclined):
        return SeriousDishonestyDeclinedV1(
            **base, unit=event.unit, company_uscc=event.company_uscc, reason=event.reason
        )
    return None
