"""The outbound feeds as a projection of the credit service's own events.

Each record is built from an event, validated against its feed's JSON Schema
(contracts/feeds/) and enqueued in the push outbox in the same transaction as the
projector's position: a record is enqueued exactly once, and pushed (signed, retried,
dead-lettered, re-pushable) by servicekit.push. Record ids are stable, so the receiver can
dedupe.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any

from psycopg import Cursor

from credit.domain.ledger import CreditLedger
from credit.domain.penalty import PENALTY_TYPES, Penalty
from credit.domain.results import SpotCheckResult
from servicekit.push import PushOutbox

CREDIT_CHINA = "creditchina"
MARKET = "market"
FEN_PER_WAN_YUAN = 1_000_000
_EXACT = Context(prec=50, traps=[Inexact, Rounded])
"""Any rounding raises: a conversion that is not exact is a bug, never a silent cent."""


def fen_to_wan_yuan(fen: int) -> str:
    """Fen → 万元 with six decimals, exactly (1 万元 = 1,000,000 fen: no rounding ever)."""
    if fen < 0:
        raise ValueError("amounts are never negative")
    value = _EXACT.divide(Decimal(fen), Decimal(FEN_PER_WAN_YUAN))
    return f"{value.quantize(Decimal('0.000001'), context=_EXACT):f}"


@dataclass(frozen=True)
class SourceUnit:
    """数据来源单位: who sends the records."""

    name: str
    uscc: str


def penalty_record(e: Any, source: SourceUnit) -> dict[str, Any]:
    return {
        "record_type": "administrative_penalty",
        "record_id": f"penalty:{e.decision_number}",
        "party_name": e.party_name,
        "party_uscc": e.party_uscc,
        "decision_number": e.decision_number,
        "violation_type": e.violation_kind,
        "facts": e.facts,
        "legal_basis": e.legal_basis,
        "penalty_categories": [PENALTY_TYPES[t] for t in e.penalty_types],
        "content": e.content,
        "fine_wan_yuan": fen_to_wan_yuan(e.fine_fen),
        "confiscated_wan_yuan": fen_to_wan_yuan(e.confiscated_fen),
        "decision_date": e.decision_date.isoformat(),
        "valid_until": e.display_until.isoformat(),
        "display_until": e.display_until.isoformat(),
        "authority_name": e.authority_name,
        "authority_uscc": e.authority_uscc,
        "source_unit_name": source.name,
        "source_unit_uscc": source.uscc,
        "remarks": e.remarks,
    }


class FeedProjection:
    name = "credit.feeds"

    def __init__(self, outbox: PushOutbox, source: SourceUnit) -> None:
        self.outbox = outbox
        self.source = source

    def create_tables(self, cur: Cursor[Any]) -> None:
        self.outbox.create_tables(cur)
        cur.execute("CREATE TABLE IF NOT EXISTS rm_ledgers (company_uscc text PRIMARY KEY)")

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, CreditLedger.Opened):
            cur.execute("INSERT INTO rm_ledgers VALUES (%s) ON CONFLICT DO NOTHING",
                        (event.company_uscc,))
        elif isinstance(event, Penalty.Imposed):
            self.outbox.enqueue(cur, CREDIT_CHINA, f"penalty:{event.decision_number}",
                                penalty_record(event, self.source))
            self.outbox.enqueue(cur, MARKET, f"penalty:{event.decision_number}", {
                "record_type": "administrative_penalty",
                "record_id": f"penalty:{event.decision_number}",
                "uscc": event.party_uscc, "company_name": event.party_name,
                "decision_number": event.decision_number,
                "penalty_categories": [PENALTY_TYPES[t] for t in event.penalty_types],
                "fine_wan_yuan": fen_to_wan_yuan(event.fine_fen),
                "confiscated_wan_yuan": fen_to_wan_yuan(event.confiscated_fen),
                "decision_date": event.decision_date.isoformat(),
                "authority_name": event.authority_name,
            })
        elif isinstance(event, Penalty.Revoked):
            withdrawn = f"penalty:{event.decision_number}"
            self.outbox.enqueue(cur, CREDIT_CHINA, f"withdrawal:{event.decision_number}", {
                "record_type": "withdrawal",
                "record_id": f"withdrawal:{event.decision_number}", "withdraws": withdrawn,
                "decision_number": event.decision_number, "party_uscc": event.party_uscc,
                "reason": event.reason, "revoked_on": event.revoked_on.isoformat(),
                "withdraw_by": event.withdraw_by.isoformat(),
            })
            self.outbox.enqueue(cur, MARKET, f"withdrawal:{event.decision_number}", {
                "record_type": "withdrawal",
                "record_id": f"withdrawal:{event.decision_number}", "withdraws": withdrawn,
                "uscc": event.party_uscc, "revoked_on": event.revoked_on.isoformat(),
            })
        elif isinstance(event, CreditLedger.SeriousDishonestyListed):
            record_id = f"dishonesty:{event.company_uscc}:{event.originator_version}"
            self.outbox.enqueue(cur, CREDIT_CHINA, record_id, {
                "record_type": "serious_dishonesty", "record_id": record_id,
                "party_uscc": event.company_uscc,
                "listed_on": event.timestamp.date().isoformat(), "reason": event.reason,
                "score": event.score,
            })
        elif isinstance(event, SpotCheckResult.Noted):
            record_id = f"spot-check:{event.spot_check_id}"
            self.outbox.enqueue(cur, MARKET, record_id, {
                "record_type": "spot_check_result", "record_id": record_id,
                "uscc": event.company_uscc, "community_code": event.community_code,
                "inspected_on": event.inspected_at.date().isoformat(),
                "result": "problems_found" if event.finding_kinds else "no_problem",
                "findings": sorted(event.finding_kinds),
            })
