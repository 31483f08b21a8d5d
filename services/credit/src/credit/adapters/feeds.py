"""The outbound feeds as a projection of the credit service's own events.

Each record is built from an event, validated against its feed's JSON Schema
(contracts/feeds/) and enqueued in the push outbox in the same transaction as the
projector's position: a record is enqueued exactly once, and pushed (signed, retried,
dead-lettered, re-pushable) by servicekit.push. Record ids are stable, so the receiver can
dedupe.

Corrections. The outbox keeps a record id once (a repeat is a no-op), so a corrected
version of a penalty record already sent goes out under a delivery id of its own,
`penalty:<文号>#correction:<n>`, and says what it corrects: the body's `record_id` is the
record's (`penalty:<文号>`), with `"correction": true` and `"corrects": "penalty:<文号>"`; the
receiver replaces the record it holds under that id. The last 信用中国 record of each
penalty and the version of the builder that made it are kept in `rm_penalty_feed`:
- records built by builder 1 (before the tier: violation code as 违法行为类型, 3 years'
  display, 处罚有效期 = 公示截止期) are corrected when the projector starts: the violation's
  text and code go out at once; the periods only the bureau can correct, by stating the
  tier and the validity (ClassifyPenalty → Penalty.Classified), which sends them;
- a penalty classified minor is withdrawn from 信用中国 (not published, DOMAIN.md §6);
- a penalty whose credit repair (信用修复) the credit office approved is withdrawn from
  信用中国 (cause `repaired`, DOMAIN.md §6: repair after the minimum display period). Market
  regulation is not told: it records administrative penalties under the company's name
  (work plan 三), and neither DOMAIN.md nor the plan ends that record with a repair on
  信用中国; its own repair is its own procedure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from credit.domain.credit_ledger import CreditLedger
from credit.domain.penalty import PENALTY_TYPES, Penalty
from credit.domain.spot_check_result import SpotCheckResult
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.violations import KINDS
from servicekit.feed_settings import FeedSpec
from servicekit.push import PushOutbox

CREDIT_CHINA = "creditchina"
MARKET = "market"
FEED_SPECS = (
    FeedSpec(
        CREDIT_CHINA,
        "PUBREV_FEED_CREDITCHINA_",
        "http://127.0.0.1:18080/feeds/creditchina",
        "PUBREV_FEED_MAX_ATTEMPTS",
    ),
    FeedSpec(
        MARKET,
        "PUBREV_FEED_MARKET_",
        "http://127.0.0.1:18080/feeds/market",
        "PUBREV_FEED_MAX_ATTEMPTS",
    ),
)
"""Where each feed goes and the key it is signed with (servicekit.feed_settings.load_feeds):
PUBREV_FEED_CREDITCHINA_URL, _KEY_ID, _SECRET and PUBREV_FEED_MARKET_URL, _KEY_ID, _SECRET
(the receivers of 信用中国(福建) and of market regulation; tools/feed_receiver.py locally,
which accepts the development keys), PUBREV_FEED_MAX_ATTEMPTS for both. Each feed has its
own key; to rotate one, the receiver first accepts the new key id, then its _KEY_ID and
_SECRET change together."""
RETIRED = {
    "PUBREV_FEED_SECRET": "one key per feed: PUBREV_FEED_CREDITCHINA_KEY_ID/_SECRET and "
    "PUBREV_FEED_MARKET_KEY_ID/_SECRET"
}
"""The one key both feeds once shared: refused, never read."""
FEN_PER_WAN_YUAN = 1_000_000
RECORD_BUILDER = 2
"""Version of `penalty_record`. 1: violation code as 违法行为类型, 处罚有效期 = 公示截止期 =
decision + 3 years whatever the tier. 2: the violation's text and its code, 处罚有效期 from
the decision, 公示截止期 by the tier."""

log = logging.getLogger(__name__)
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SourceUnit:
        """PUBREV_FEED_SOURCE_UNIT_NAME and _USCC; by default the city's bureau."""
        return cls(
            env.get("PUBREV_FEED_SOURCE_UNIT_NAME", "莆田市城市管理局"),
            env.get("PUBREV_FEED_SOURCE_UNIT_USCC", "11350300MB12345671"),
        )


def penalty_id(decision_number: str) -> str:
    return f"penalty:{decision_number}"


def violation_fields(code: str) -> dict[str, str] | None:
    """违法行为类型 as the violation's text (vocabulary.violations), its code beside it; None for
    a code that is not a company's violation of the list."""
    kind = KINDS.get(code)
    if kind is None or kind.party != "company":
        return None
    return {"violation_type": kind.name_zh, "violation_code": code}


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def penalty_record(e: Any, source: SourceUnit) -> dict[str, Any]:
    """The 信用中国(福建) 双公示 record of a decision (DOMAIN.md §6). 处罚有效期 is the
    decision's own (entered by the bureau); 公示截止期 follows from the tier
    (Penalty.impose). Either is None while the tier of a decision stored before it was
    entered is unknown: such a record is not sent until the bureau classifies it."""
    violation = violation_fields(e.violation_kind) or {
        "violation_type": e.violation_kind,
        "violation_code": e.violation_kind,
    }
    return {
        "record_type": "administrative_penalty",
        "record_id": penalty_id(e.decision_number),
        "party_name": e.party_name,
        "party_uscc": e.party_uscc,
        "decision_number": e.decision_number,
        **violation,
        "facts": e.facts,
        "legal_basis": e.legal_basis,
        "penalty_categories": [PENALTY_TYPES[t] for t in e.penalty_types],
        "content": e.content,
        "fine_wan_yuan": fen_to_wan_yuan(e.fine_fen),
        "confiscated_wan_yuan": fen_to_wan_yuan(e.confiscated_fen),
        "decision_date": e.decision_date.isoformat(),
        "valid_until": _iso(e.valid_until),
        "display_until": _iso(e.display_until) if e.severity is not None else None,
        "authority_name": e.authority_name,
        "authority_uscc": e.authority_uscc,
        "source_unit_name": source.name,
        "source_unit_uscc": source.uscc,
        "remarks": e.remarks,
    }


def repair_withdrawal(e: Any) -> dict[str, Any]:
    """The 信用中国 withdrawal of a penalty record whose credit repair was approved (cause
    `repaired`): the receiver removes the record held under `withdraws`."""
    record_id = f"withdrawal:{e.decision_number}:repaired"
    return {
        "record_type": "withdrawal",
        "record_id": record_id,
        "withdraws": penalty_id(e.decision_number),
        "cause": "repaired",
        "decision_number": e.decision_number,
        "party_uscc": e.party_uscc,
        "reason": e.reason,
        "withdrawn_on": e.decided_on.isoformat(),
    }


def corrected_v1(record: dict[str, Any]) -> dict[str, Any] | None:
    """What can be corrected in a builder-1 record without the bureau: the violation's
    text and code. None when its code is none of a company's violations."""
    violation = violation_fields(str(record.get("violation_type", "")))
    return None if violation is None else record | violation


RM_DDL = """
    CREATE TABLE IF NOT EXISTS rm_penalty_feed (
        decision_number text PRIMARY KEY,
        record jsonb NOT NULL,
        builder int NOT NULL,
        published bool NOT NULL,
        sends int NOT NULL
    )
"""
"""The last 信用中国 record of each penalty (sent or held), the builder that made it,
whether it is published there now, and how many versions went out under its id."""


class FeedProjection:
    name = "credit.feeds"

    def __init__(self, outbox: PushOutbox, source: SourceUnit) -> None:
        self.outbox = outbox
        self.source = source

    def create_tables(self, cur: Cursor[Any]) -> None:
        # Runs when every process starts, under the outbox's DDL lock (held to the end of
        # this transaction): the backfill and the corrections below happen once.
        self.outbox.create_tables(cur)
        cur.execute(RM_DDL)
        self._adopt_sent_records(cur)
        self.correct_outdated(cur)

    def _adopt_sent_records(self, cur: Cursor[Any]) -> None:
        """Penalty records queued before rm_penalty_feed existed: builder 1 (they lack
        violation_code), published unless their withdrawal was queued."""
        cur.execute(
            "INSERT INTO rm_penalty_feed (decision_number, record, builder, published, sends)"
            " SELECT p.payload->>'decision_number', p.payload,"
            " CASE WHEN p.payload ? 'violation_code' THEN %s ELSE 1 END,"
            " NOT EXISTS (SELECT 1 FROM push_records w WHERE w.feed = p.feed"
            "  AND w.payload->>'withdraws' = p.record_id), 1"
            " FROM push_records p WHERE p.feed = %s"
            " AND p.payload->>'record_type' = 'administrative_penalty'"
            " AND p.payload->>'record_id' = p.record_id"
            " ON CONFLICT (decision_number) DO NOTHING",
            (RECORD_BUILDER, CREDIT_CHINA),
        )

    def correct_outdated(self, cur: Cursor[Any]) -> int:
        """Re-pushes every builder-1 record with the violation's text and code; returns how
        many. A withdrawn record is corrected in the table only (not published again)."""
        cur.execute(
            "SELECT decision_number, record, published, sends FROM rm_penalty_feed"
            " WHERE builder < %s ORDER BY decision_number FOR UPDATE",
            (RECORD_BUILDER,),
        )
        corrected = 0
        for decision_number, record, published, sends in cur.fetchall():
            fixed = corrected_v1(record)
            if fixed is None:
                log.warning(
                    "penalty record with a code that is no company violation: left for the bureau",
                    extra={
                        "decision_number": decision_number,
                        "code": record.get("violation_type"),
                    },
                )
                continue
            if published:
                self._send(cur, decision_number, fixed, sends)
                sends += 1
                corrected += 1
            cur.execute(
                "UPDATE rm_penalty_feed SET record = %s, builder = %s, sends = %s"
                " WHERE decision_number = %s",
                (Jsonb(fixed), RECORD_BUILDER, sends, decision_number),
            )
        return corrected

    def _send(
        self, cur: Cursor[Any], decision_number: str, record: dict[str, Any], sends: int
    ) -> None:
        """The first version under the record's own id; later ones as corrections of it."""
        record_id = penalty_id(decision_number)
        body = {k: v for k, v in record.items() if k not in ("correction", "corrects")}
        if sends == 0:
            self.outbox.enqueue(cur, CREDIT_CHINA, record_id, body)
        else:
            self.outbox.enqueue(
                cur,
                CREDIT_CHINA,
                f"{record_id}#correction:{sends}",
                body | {"correction": True, "corrects": record_id},
            )

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, Penalty.Imposed):
            self._imposed(cur, event)
        elif isinstance(event, Penalty.Classified):
            self._classified(cur, event)
        elif isinstance(event, Penalty.Revoked):
            self._revoked(cur, event)
        elif isinstance(event, Penalty.RepairDecided) and event.approved:
            self._repaired(cur, event)
        elif isinstance(event, CreditLedger.SeriousDishonestyListed):
            record_id = f"dishonesty:{event.company_uscc}:{event.originator_version}"
            self.outbox.enqueue(
                cur,
                CREDIT_CHINA,
                record_id,
                {
                    "record_type": "serious_dishonesty",
                    "record_id": record_id,
                    "party_uscc": event.company_uscc,
                    "listed_on": event.timestamp.astimezone(SHANGHAI).date().isoformat(),
                    "reason": event.reason,
                    "score": event.score,
                },
            )
        elif isinstance(event, SpotCheckResult.Noted):
            record_id = f"spot-check:{event.spot_check_id}"
            self.outbox.enqueue(
                cur,
                MARKET,
                record_id,
                {
                    "record_type": "spot_check_result",
                    "record_id": record_id,
                    "uscc": event.company_uscc,
                    "community_code": event.community_code,
                    "inspected_on": event.inspected_at.astimezone(SHANGHAI).date().isoformat(),
                    "result": "problems_found" if event.finding_kinds else "no_problem",
                    "findings": sorted(event.finding_kinds),
                },
            )

    def _imposed(self, cur: Cursor[Any], event: Any) -> None:
        record = penalty_record(event, self.source)
        # Published on 信用中国 by its tier (DOMAIN.md §6: minor never); a decision stored
        # before the tier existed waits for the bureau's classification.
        published = event.severity is not None and event.display_until is not None
        cur.execute(
            "INSERT INTO rm_penalty_feed (decision_number, record, builder, published, sends)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (decision_number) DO NOTHING"
            " RETURNING 1",
            (event.decision_number, Jsonb(record), RECORD_BUILDER, published, int(published)),
        )
        if cur.fetchone() is not None and published:
            self._send(cur, event.decision_number, record, 0)
        # Market regulation records every administrative penalty under the company's name
        # (work plan 三: 行政处罚……记于相对应市场主体名下并依法公示), minor ones too: the
        # tiers of DOMAIN.md §6 govern display on 信用中国 only.
        record_id = penalty_id(event.decision_number)
        self.outbox.enqueue(
            cur,
            MARKET,
            record_id,
            {
                "record_type": "administrative_penalty",
                "record_id": record_id,
                "uscc": event.party_uscc,
                "company_name": event.party_name,
                "decision_number": event.decision_number,
                "penalty_categories": [PENALTY_TYPES[t] for t in event.penalty_types],
                "fine_wan_yuan": fen_to_wan_yuan(event.fine_fen),
                "confiscated_wan_yuan": fen_to_wan_yuan(event.confiscated_fen),
                "decision_date": event.decision_date.isoformat(),
                "authority_name": event.authority_name,
            },
        )

    def _classified(self, cur: Cursor[Any], event: Any) -> None:
        cur.execute(
            "SELECT record, published, sends FROM rm_penalty_feed"
            " WHERE decision_number = %s FOR UPDATE",
            (event.decision_number,),
        )
        row = cur.fetchone()
        if row is None:
            raise LookupError(f"no feed record of penalty {event.decision_number}")
        record, published, sends = row
        record = (corrected_v1(record) or record) | {
            "valid_until": event.valid_until.isoformat(),
            "display_until": _iso(event.display_until),
        }
        if event.display_until is not None:
            self._send(cur, event.decision_number, record, sends)
            sends, published = sends + 1, True
        elif published:
            # Classified minor: no longer published on 信用中国 (DOMAIN.md §6).
            withdrawal = (
                f"withdrawal:{event.decision_number}:not-published:v{event.originator_version}"
            )
            self.outbox.enqueue(
                cur,
                CREDIT_CHINA,
                withdrawal,
                {
                    "record_type": "withdrawal",
                    "record_id": withdrawal,
                    "withdraws": penalty_id(event.decision_number),
                    "cause": "not_published",
                    "decision_number": event.decision_number,
                    "party_uscc": record["party_uscc"],
                    "reason": event.reason,
                    "withdrawn_on": event.classified_on.isoformat(),
                },
            )
            published = False
        cur.execute(
            "UPDATE rm_penalty_feed SET record = %s, builder = %s, published = %s,"
            " sends = %s WHERE decision_number = %s",
            (Jsonb(record), RECORD_BUILDER, published, sends, event.decision_number),
        )

    def _repaired(self, cur: Cursor[Any], event: Any) -> None:
        """The record leaves 信用中国 once its repair is approved; one never published there
        (sent to market regulation only) has nothing to withdraw."""
        cur.execute(
            "UPDATE rm_penalty_feed SET published = false"
            " WHERE decision_number = %s AND published RETURNING 1",
            (event.decision_number,),
        )
        if cur.fetchone() is None:
            return
        record = repair_withdrawal(event)
        self.outbox.enqueue(cur, CREDIT_CHINA, record["record_id"], record)

    def _revoked(self, cur: Cursor[Any], event: Any) -> None:
        withdrawn = penalty_id(event.decision_number)
        cur.execute(
            "SELECT published FROM rm_penalty_feed WHERE decision_number = %s FOR UPDATE",
            (event.decision_number,),
        )
        row = cur.fetchone()
        cur.execute(
            "UPDATE rm_penalty_feed SET published = false WHERE decision_number = %s",
            (event.decision_number,),
        )
        # A record never published on 信用中国 (minor, or waiting for its tier) has nothing
        # there to withdraw.
        if row is None or row[0]:
            self.outbox.enqueue(
                cur,
                CREDIT_CHINA,
                f"withdrawal:{event.decision_number}",
                {
                    "record_type": "withdrawal",
                    "record_id": f"withdrawal:{event.decision_number}",
                    "withdraws": withdrawn,
                    "cause": "revoked",
                    "decision_number": event.decision_number,
                    "party_uscc": event.party_uscc,
                    "reason": event.reason,
                    "revoked_on": event.revoked_on.isoformat(),
                    "withdraw_by": event.withdraw_by.isoformat(),
                },
            )
        self.outbox.enqueue(
            cur,
            MARKET,
            f"withdrawal:{event.decision_number}",
            {
                "record_type": "withdrawal",
                "record_id": f"withdrawal:{event.decision_number}",
                "withdraws": withdrawn,
                "uscc": event.party_uscc,
                "revoked_on": event.revoked_on.isoformat(),
            },
        )
