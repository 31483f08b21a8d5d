"""The disclosure read model with `apply_batch`: what the replay bench rebuilds.

`FoldingDisclosureProjection` is disclosure's own `DisclosureProjection` (same name, same
tables, same effects; read from `disclosure.adapters.read_model`, never changed here) plus
the optional `apply_batch` of servicekit's Projection protocol, as the service's projection
would implement it (issue 14, goal 2):
- each aggregate's events of a batch are folded into what its row ends up holding: a
  community's registration, a disclosure's filing, its last amendment's figures and its
  last version;
- each table then gets at most one INSERT and one UPDATE per batch, their rows sent as
  arrays and spread server-side by `unnest` (no statement per event, no round trip per
  row);
- events of the tables it does not fold (self-inspection ledgers) go through the
  per-event `apply`, in log order.
Its effect on a batch is that of `apply` on each event in turn (the projector falls back to
`apply` to find a poison event): inserts of first registrations and filings that conflict
do nothing, updates set what the last event says.

`partial_decoder` decodes the stored events this projection folds straight from their
JSON into small msgspec structs holding only the fields it reads (the rest of the JSON is
skipped, never turned into Python objects: the filing's content, its text, its income
lines' notes), and every other event with the application's mapper. Only stored events
of the class version the struct was written for are decoded so; any other (an older one,
which the mapper would upcast) goes through the mapper, as does a log with a cipher or a
compressor.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from eventsourcing.persistence import Mapper, Notification
from psycopg import Cursor

from disclosure.adapters.read_model import DisclosureProjection
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent
from servicekit.stored_fields import StoredFields, Transcoded, stored_fields_decoder

# -- the fields it reads ---------------------------------------------------------------------


class _Line(msgspec.Struct, array_like=True, gc=False):
    """An income or expenditure line as stored ([source or purpose, amount, text]): only
    its amount is read; the texts stay raw JSON."""

    label: msgspec.Raw
    amount_fen: int
    text: msgspec.Raw


class _Content(msgspec.Struct, gc=False):
    income: list[_Line]
    operating_cost_fen: int | None
    expenditure: list[_Line]


class CommunityRegistered(StoredFields, kw_only=True):
    code: str
    unit: str
    company_uscc: str
    household_count: int
    registered_at: Transcoded


class DisclosureFiled(StoredFields, kw_only=True):
    community_code: str
    unit: str
    company_uscc: str
    year: int
    quarter: int
    content: _Content
    late: bool
    filed_at: Transcoded


class DisclosureAmended(StoredFields, kw_only=True):
    content: _Content
    revision: int


VIEWS: dict[type[Any], type[StoredFields]] = {
    Community.Registered: CommunityRegistered,
    Disclosure.Filed: DisclosureFiled,
    Disclosure.Amended: DisclosureAmended,
}


def partial_decoder(mapper: Mapper[uuid.UUID]) -> Callable[[Notification], Any]:
    """The views of the events it folds; the mapper's domain events for the rest."""
    return stored_fields_decoder(mapper, VIEWS)


# -- what each folded event says ------------------------------------------------------------


_AMOUNT = operator.attrgetter("amount_fen")


def _sum(lines: Sequence[_Line]) -> int:
    return sum(map(_AMOUNT, lines))


def _figures(content: Any) -> tuple[int, int, bool]:
    """(income total, surplus, zero revenue) of a stored content: a struct or the state
    dict of a domain event (which the read model computes with DisclosureContent)."""
    if isinstance(content, _Content):
        income = _sum(content.income)
        surplus = income - (content.operating_cost_fen or 0) - _sum(content.expenditure)
        return income, surplus, income == 0
    figures = DisclosureContent.from_state(content)
    return figures.income_total_fen, figures.surplus_fen, figures.zero_revenue


def _moment(value: Transcoded | datetime) -> datetime:
    return value.datetime() if isinstance(value, Transcoded) else value


COMMUNITY_COPY = "COPY rm_communities FROM STDIN (FORMAT BINARY)"
COMMUNITY_TYPES = ["text", "uuid", "text", "text", "int4", "timestamptz"]
COMMUNITY_UPDATE = (
    "UPDATE rm_communities c SET company_uscc = u.company_uscc"
    " FROM unnest(%b::text[], %b::text[]) AS u(code, company_uscc) WHERE c.code = u.code"
)
DISCLOSURE_COPY = "COPY rm_disclosures FROM STDIN (FORMAT BINARY)"
DISCLOSURE_TYPES = [
    "uuid",
    "int4",
    "text",
    "text",
    "text",
    "int4",
    "int4",
    "int8",
    "int8",
    "bool",
    "bool",
    "timestamptz",
    "int4",
]
DISCLOSURE_UPDATE = (
    "UPDATE rm_disclosures d SET version = u.version,"
    " revision = COALESCE(u.revision, d.revision),"
    " income_total_fen = COALESCE(u.income_total_fen, d.income_total_fen),"
    " surplus_fen = COALESCE(u.surplus_fen, d.surplus_fen),"
    " zero_revenue = COALESCE(u.zero_revenue, d.zero_revenue)"
    " FROM unnest(%b::uuid[], %b::int[], %b::int[], %b::bigint[], %b::bigint[], %b::bool[])"
    " AS u(disclosure_id, version, revision, income_total_fen, surplus_fen, zero_revenue)"
    " WHERE d.disclosure_id = u.disclosure_id"
)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def _copy(cur: Cursor[Any], statement: str, types: list[str], rows: Any) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


class FoldingDisclosureProjection:
    """disclosure's read-model projection, with `apply_batch` (see the module)."""

    name = DisclosureProjection.name

    def __init__(self) -> None:
        self.per_event = DisclosureProjection()

    def create_tables(self, cur: Cursor[Any]) -> None:
        self.per_event.create_tables(cur)

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if isinstance(event, StoredFields):
            self.apply_batch(cur, [(event, position)])
        else:
            self.per_event.apply(cur, event, position)

    def apply_batch(self, cur: Cursor[Any], events: Sequence[tuple[Any, int]]) -> None:
        communities: dict[str, tuple[Any, ...]] = {}
        handovers: dict[str, str] = {}
        filed: dict[Any, tuple[Any, ...]] = {}
        changed: dict[Any, list[Any]] = {}
        """disclosure id → [version, revision, income, surplus, zero revenue]; None where
        the batch leaves a figure as it is."""
        for event, position in events:
            if isinstance(event, CommunityRegistered | Community.Registered):
                communities.setdefault(
                    event.code,
                    (
                        event.code,
                        event.originator_id,
                        event.unit,
                        event.company_uscc,
                        event.household_count,
                        _moment(event.registered_at),
                    ),
                )
            elif isinstance(event, Community.CompanyChanged):
                handovers[event.code] = event.new_uscc
            elif isinstance(event, DisclosureFiled | Disclosure.Filed):
                income, surplus, zero = _figures(event.content)
                filed.setdefault(
                    event.originator_id,
                    (
                        event.originator_id,
                        event.originator_version,
                        event.community_code,
                        event.unit,
                        event.company_uscc,
                        event.year,
                        event.quarter,
                        income,
                        surplus,
                        event.late,
                        zero,
                        _moment(event.filed_at),
                        0,
                    ),
                )
            elif isinstance(event, DisclosureAmended | Disclosure.Amended):
                income, surplus, zero = _figures(event.content)
                changed[event.originator_id] = [
                    event.originator_version,
                    event.revision,
                    income,
                    surplus,
                    zero,
                ]
            elif isinstance(event, Disclosure.AuditRequested | Disclosure.AuditResultRecorded):
                row = changed.setdefault(event.originator_id, [0, None, None, None, None])
                row[0] = event.originator_version
            else:  # the tables it does not fold, in log order
                self.per_event.apply(cur, event, position)
        # New rows by COPY: a row already there (which `apply` would leave as it is) fails
        # the batch, and the projector applies it again event by event.
        if communities:
            _copy(cur, COMMUNITY_COPY, COMMUNITY_TYPES, communities.values())
        if handovers:
            cur.execute(COMMUNITY_UPDATE, [list(handovers), list(handovers.values())])
        if filed:
            _copy(cur, DISCLOSURE_COPY, DISCLOSURE_TYPES, filed.values())
        if changed:
            rows = [[key, *values] for key, values in changed.items()]
            cur.execute(DISCLOSURE_UPDATE, _columns(rows, 6))
