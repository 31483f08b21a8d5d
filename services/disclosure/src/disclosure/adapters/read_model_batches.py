"""The disclosure read model in bulk: what `DisclosureProjection.apply_batch` writes, and the
decoder of only the stored fields it reads (issue 14, goal 2; ADR 0017).

`fold` turns a batch of events into what each row ends up holding, then writes:
- each aggregate's events of the batch are folded into its row: a community's registration
  and its last handover, a disclosure's filing, its last amendment's figures and its last
  version;
- each table gets at most one COPY of new rows and one UPDATE of changed ones per batch,
  the changed rows sent as arrays and spread server-side by `unnest` (no statement per
  event, no round trip per row);
- events of the tables it does not fold (self-inspection ledgers) go through the
  per-event `apply`, in log order.
Its effect on a batch is that of `apply` on each event in turn (the projector falls back to
`apply` to find a poison event): a first registration or filing whose row is there already
(which `apply` would leave alone) fails the COPY, hence the batch, and the projector applies
it again event by event; updates set what the last event says.

`partial_decoder` decodes the stored events folded here straight from their JSON into small
msgspec structs holding only the fields read (the rest of the JSON is skipped, never turned
into Python objects: the filing's content, its texts, its income lines' notes), and every
other event with the application's mapper (servicekit.stored_fields). A stored event of
another class version than the view was written for (one the mapper would upcast), of an
old topic, in a log with a cipher or a compressor, or one whose JSON the view cannot read,
goes through the mapper. So the projection meets views and domain events alike, and
`apply` and `fold` read both.
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

from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent
from servicekit.stored_fields import StoredFields, Transcoded, stored_fields_decoder

# -- the fields it reads ---------------------------------------------------------------------


class _Line(msgspec.Struct, array_like=True, gc=False):
    """An income or expenditure line as stored ([source or purpose, amount, text]): only
    its amount is read. Trailing elements are skipped, so a line stored without its
    optional note reads too."""

    label: msgspec.Raw
    amount_fen: int


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
    """The views of the events folded here; the mapper's domain events for the rest."""
    views = stored_fields_decoder(mapper, VIEWS)
    to_domain_event = mapper.to_domain_event

    def decode(notification: Notification) -> Any:
        try:
            return views(notification)
        except msgspec.ValidationError:
            # JSON of a shape the view was not written for, stored under the current topic
            # and class version: the mapper reads whatever the domain class accepts.
            return to_domain_event(notification)

    return decode


# -- what each event says --------------------------------------------------------------------


_AMOUNT = operator.attrgetter("amount_fen")


def _sum(lines: Sequence[_Line]) -> int:
    return sum(map(_AMOUNT, lines))


def figures(content: Any) -> tuple[int, int, bool]:
    """(income total, surplus, zero revenue) of a stored content: a view's struct, or the
    state dict of a domain event (computed by DisclosureContent, the rule's own code)."""
    if isinstance(content, _Content):
        income = _sum(content.income)
        surplus = income - (content.operating_cost_fen or 0) - _sum(content.expenditure)
        return income, surplus, income == 0
    figured = DisclosureContent.from_state(content)
    return figured.income_total_fen, figured.surplus_fen, figured.zero_revenue


def moment(value: Transcoded | datetime) -> datetime:
    return value.datetime() if isinstance(value, Transcoded) else value


def community_row(event: CommunityRegistered | Community.Registered) -> tuple[Any, ...]:
    """rm_communities' columns, in order."""
    return (
        event.code,
        event.originator_id,
        event.unit,
        event.company_uscc,
        event.household_count,
        moment(event.registered_at),
    )


def disclosure_row(event: DisclosureFiled | Disclosure.Filed) -> tuple[Any, ...]:
    """rm_disclosures' columns, in order (revision 0)."""
    income, surplus, zero = figures(event.content)
    return (
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
        moment(event.filed_at),
        0,
    )


# -- the batch's writes ----------------------------------------------------------------------


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


Apply = Callable[[Cursor[Any], Any, int], None]


def fold(cur: Cursor[Any], events: Sequence[tuple[Any, int]], apply: Apply) -> None:
    """Writes the batch `events` ((event, position) in log order) as `apply` on each in
    turn would, `apply` being the projection's per-event one (for what is not folded)."""
    communities: dict[str, tuple[Any, ...]] = {}
    handovers: dict[str, str] = {}
    filed: dict[Any, tuple[Any, ...]] = {}
    changed: dict[Any, list[Any]] = {}
    """disclosure id → [version, revision, income, surplus, zero revenue]; None where the
    batch leaves a figure as it is."""
    for event, position in events:
        if isinstance(event, CommunityRegistered | Community.Registered):
            communities.setdefault(event.code, community_row(event))
        elif isinstance(event, Community.CompanyChanged):
            handovers[event.code] = event.new_uscc
        elif isinstance(event, DisclosureFiled | Disclosure.Filed):
            filed.setdefault(event.originator_id, disclosure_row(event))
        elif isinstance(event, DisclosureAmended | Disclosure.Amended):
            income, surplus, zero = figures(event.content)
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
        else:
            # Tables it does not fold; none of them reads the folded ones, so writing them
            # first, in log order, ends where `apply` on each event in turn ends.
            apply(cur, event, position)
    # New rows by COPY: a row already there (which `apply` would leave as it is) fails the
    # batch, and the projector applies it again event by event.
    if communities:
        _copy(cur, COMMUNITY_COPY, COMMUNITY_TYPES, communities.values())
    if handovers:
        cur.execute(COMMUNITY_UPDATE, [list(handovers), list(handovers.values())])
    if filed:
        _copy(cur, DISCLOSURE_COPY, DISCLOSURE_TYPES, filed.values())
    if changed:
        rows = [[key, *values] for key, values in changed.items()]
        cur.execute(DISCLOSURE_UPDATE, _columns(rows, 6))
