"""The replay's store: `events` stored events of the disclosure service, written by COPY.

Province-sized (≈20,000 communities over years of quarters, as the issue puts it). The
synthetic generator of `tools/synthetic_putian.py` covers eight quarters (2024Q1–2025Q4) of
`events ÷ 50` communities (at most 20,000, at least 10); the store repeats those eight
quarters two years earlier each time ("eras": … 2020–21, 2022–23, 2024–25), oldest era
first, until it holds `events`:
- one `Community.Registered` per community, first (registered before the oldest era);
- per era, in the generator's time order, each valid filing as a `Disclosure.Filed` (the
  generator's content, filing time and lateness, dates shifted by the era's years) and
  each generated amendment as that disclosure's `Disclosure.Amended` (version 2, 3, ...).
No command receipts (a store written through the API holds one per command) and no
handovers.

Each stored event is what the service itself would store: made by the aggregates'
constructor and verb, turned into a `StoredEvent` by the disclosure application's own
mapper (the projection decodes it exactly as it decodes events written by commands), and
written by a binary COPY into the application's events table in log order (the table's
`notification_id` sequence numbers them; nothing is notified). Two worker processes make
the eras' events (forked: they share the parent's mapper) while this one copies them in.
Not timed.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper
from psycopg import sql

from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent
from disclosure.entrypoints.grpc_api import content_from_pb
from pubrev_contracts.vocabulary.calendar import Quarter
from servicekit.eventstore import ServiceApplication
from tools.synthetic_putian import Amendment, Dataset, Filing, generate

SEED = 2023
EVENTS_PER_COMMUNITY = 50
"""Communities = events ÷ this, within [MIN, MAX]: a million events are the province's
20,000 communities over ~14 years."""
MIN_COMMUNITIES = 10
MAX_COMMUNITIES = 20_000
ERA_YEARS = 2
NEWEST_ERA = 2024
COPY_CHUNK = 20_000
"""Rows per COPY statement (each committed): progress is reported between them."""
WORKERS = 2

Row = tuple[bytes, int, str, bytes]
"""A stored event as the events table holds it (notification_id apart), its originator id
as its 16 bytes (they cross from the workers pickled, where a UUID costs more)."""
Progress = Callable[[int], None]
"""Called with the number of events written so far."""


@dataclass(frozen=True)
class StoreShape:
    events: int
    communities: int
    eras: int
    kinds: dict[str, int]

    def note(self) -> str:
        first = NEWEST_ERA - ERA_YEARS * (self.eras - 1)
        counts = ", ".join(f"{count:,} {kind}" for kind, count in self.kinds.items())
        return (
            f"stored events: {self.events:,} written by COPY (untimed): {counts}; "
            f"{self.communities:,} communities of the synthetic generator (seed {SEED}), its 8 "
            f"quarters repeated {self.eras} times {ERA_YEARS} years apart ({first}–2025), "
            "oldest first; no command receipts"
        )


def communities_for(events: int) -> int:
    return max(MIN_COMMUNITIES, min(MAX_COMMUNITIES, events // EVENTS_PER_COMMUNITY))


def _shift(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, in a year without one
        return moment.replace(year=moment.year - years, day=28)


def _shift_day(day: date | None, years: int) -> date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _shifted(content: DisclosureContent, years: int) -> DisclosureContent:
    return dataclasses.replace(
        content,
        posting_start=_shift_day(content.posting_start, years),
        posting_end=_shift_day(content.posting_end, years),
    )


@dataclass(frozen=True)
class _Filed:
    filing: Filing
    content: DisclosureContent
    late: bool


@dataclass(frozen=True)
class _Amended:
    amendment: Amendment
    content: DisclosureContent


class Workload:
    """The generated quarters, decoded once, replayed era after era."""

    def __init__(self, events: int) -> None:
        self.events = events
        communities = communities_for(events)
        self.dataset: Dataset = generate(
            seed=SEED, communities=communities, companies=max(2, communities // 5)
        )
        self.unit_of = {c.community_code: c.unit for c in self.dataset.communities}
        self.company_of = {c.community_code: c.company_uscc for c in self.dataset.communities}
        self.items: list[_Filed | _Amended] = []
        for _, item in self.dataset.timeline():
            if isinstance(item, Filing) and item.kind != "inconsistent":
                request = item.request
                # Lateness as generated, on the generated year (the calendar knows it).
                late = Quarter(request.year, request.quarter).is_late(item.filed_at)
                self.items.append(_Filed(item, content_from_pb(request.content), late))
            elif isinstance(item, Amendment):
                self.items.append(_Amended(item, content_from_pb(item.content)))
        rest = max(0, events - len(self.dataset.communities))
        self.eras = max(1, -(-rest // max(len(self.items), 1)))

    @property
    def registered_at(self) -> datetime:
        return _shift(self.dataset.registered_at, ERA_YEARS * (self.eras - 1))

    def registrations(self) -> Iterator[DomainEventProtocol[uuid.UUID]]:
        for c in self.dataset.communities:
            community = Community(
                code=c.community_code,
                name=c.name,
                address=c.address,
                unit=c.unit,
                division_code=c.division_code,
                township=c.township,
                company_uscc=c.company_uscc,
                company_name=c.company_name,
                signboard_at_main_entrance=c.signboard_at_main_entrance,
                elevator_count=c.elevator_count,
                barrier_gate_count=c.barrier_gate_count,
                has_leasable_space=c.has_leasable_space,
                household_count=c.household_count,
                registered_at=self.registered_at,
            )
            yield from community.collect_events()

    def era(self, number: int) -> Iterator[DomainEventProtocol[uuid.UUID]]:
        """Era `number` (0 the oldest): the generated filings and amendments, moved back."""
        years = ERA_YEARS * (self.eras - 1 - number)
        filed: dict[tuple[str, int, int], Disclosure] = {}
        for item in self.items:
            if isinstance(item, _Filed):
                request = item.filing.request
                code = request.community_code
                disclosure = Disclosure(
                    community_id=Community.create_id(code),
                    community_code=code,
                    unit=self.unit_of[code],
                    company_uscc=self.company_of[code],
                    year=request.year - years,
                    quarter=request.quarter,
                    content=_shifted(item.content, years).to_state(),
                    late=item.late,
                    filed_at=_shift(item.filing.filed_at, years),
                )
                filed[(code, request.year, request.quarter)] = disclosure
            else:
                a = item.amendment
                found = filed.get((a.community_code, a.year, a.quarter))
                if found is None:  # a quarter filed only by an inconsistent attempt
                    continue
                disclosure = found
                disclosure.amend(a.reason, _shifted(item.content, years))
            yield from disclosure.collect_events()


# The workers' share of the parent (forked): set just before the pool starts.
_WORKLOAD: Workload | None = None
_MAPPER: Mapper[uuid.UUID] | None = None


def _rows(events: Iterator[DomainEventProtocol[uuid.UUID]], mapper: Mapper[uuid.UUID]) -> list[Row]:
    rows: list[Row] = []
    for event in events:
        stored = mapper.to_stored_event(event)
        rows.append(
            (
                uuid.UUID(str(stored.originator_id)).bytes,
                stored.originator_version,
                stored.topic,
                stored.state,
            )
        )
    return rows


def _era_rows(number: int) -> list[Row]:
    assert _WORKLOAD is not None and _MAPPER is not None
    return _rows(_WORKLOAD.era(number), _MAPPER)


def fill(
    app: ServiceApplication, url: str, events: int, progress: Progress | None = None
) -> StoreShape:
    """Writes `events` stored events into `app`'s (empty) events table, in log order."""
    global _WORKLOAD, _MAPPER  # what the forked workers inherit
    workload = Workload(events)
    _WORKLOAD, _MAPPER = workload, app.mapper
    table = sql.Identifier(app.process_recorder.events_table_name)  # type: ignore[attr-defined]
    statement = sql.SQL(
        "COPY {} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
    ).format(table)
    kinds: Counter[str] = Counter()
    written = 0
    with psycopg.connect(url) as conn:

        def write(rows: Sequence[Row]) -> bool:
            nonlocal written
            for start in range(0, len(rows), COPY_CHUNK):
                chunk = rows[start : start + min(COPY_CHUNK, events - written)]
                if not chunk:
                    return False
                _copy(conn, statement, chunk)
                kinds.update(topic.rsplit(":", 1)[-1] for _, _, topic, _ in chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written)
            return written < events

        more = write(_rows(workload.registrations(), app.mapper))
        if more:
            context = multiprocessing.get_context("fork")
            with context.Pool(WORKERS) as pool:
                for rows in pool.imap(_era_rows, range(workload.eras)):
                    if not write(rows):
                        pool.terminate()
                        break
        conn.execute(sql.SQL("ANALYZE {}").format(table))
        conn.commit()
    _WORKLOAD = _MAPPER = None
    return StoreShape(written, len(workload.dataset.communities), workload.eras, dict(kinds))


def _copy(conn: psycopg.Connection[Any], statement: sql.Composed, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        # A uuid's binary COPY form is its 16 bytes, as a bytea's is its bytes.
        copy.set_types(["bytea", "int8", "text", "bytea"])
        for row in rows:
            copy.write_row(row)
    conn.commit()
