"""The PostgreSQL read model of credit: `rm_ledgers`, every company with a ledger (what
the display-period sweep visits), kept by the service's one projection beside the
outbound feeds (adapters/feeds.py), in the same transaction as the projector's position."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Notification, ProcessRecorder
from psycopg import Cursor
from psycopg_pool import ConnectionPool

from credit.adapters.feeds import FeedProjection
from credit.domain.credit_ledger import CreditLedger
from servicekit.projector import Projector

LEDGERS_DDL = "CREATE TABLE IF NOT EXISTS rm_ledgers (company_uscc text PRIMARY KEY)"


class PostgresCreditReadModel:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def companies_with_ledgers(self) -> list[str]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT company_uscc FROM rm_ledgers ORDER BY 1").fetchall()
        return [row[0] for row in rows]


class CreditProjection:
    """rm_ledgers and the feeds, one projection. It keeps the feeds' name: its position
    and parked events are recorded under it since the feeds were all it did."""

    name = FeedProjection.name

    def __init__(self, feeds: FeedProjection) -> None:
        self.feeds = feeds

    def create_tables(self, cur: Cursor[Any]) -> None:
        # The feeds' first: they take the outbox's DDL lock, which every process starting
        # at once waits for (two concurrent CREATE TABLE IF NOT EXISTS can collide).
        self.feeds.create_tables(cur)
        cur.execute(LEDGERS_DDL)

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, CreditLedger.Opened):
            cur.execute(
                "INSERT INTO rm_ledgers VALUES (%s) ON CONFLICT DO NOTHING", (event.company_uscc,)
            )
        self.feeds.apply(cur, event, position)


def make_projector(
    feeds: FeedProjection,
    recorder: ProcessRecorder,
    decode: Callable[[Notification], Any],
    pool: ConnectionPool,
) -> Projector:
    return Projector(CreditProjection(feeds), recorder, decode, pool)
