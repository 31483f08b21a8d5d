"""Credit's domain events → contract events on pubrev.credit.events.v1."""

from __future__ import annotations

from typing import Any

from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import Penalty
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.events.credit import (
    CreditDeductedV1,
    CreditRestoredV1,
    PenaltyClassifiedV1,
    PenaltyImposedV1,
    PenaltyRevokedV1,
    SeriousDishonestyListedV1,
)


def to_contract(event: Any) -> ContractEvent | None:
    base = {
        "aggregate_id": event.originator_id,
        "aggregate_version": event.originator_version,
        "occurred_at": event.timestamp,
    }
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
