"""InMemoryDisclosureReadModel: a fake of the PostgreSQL read model, for unit tests and
tools that run the application on in-memory persistence
(`DisclosureApplication(read_model=InMemoryDisclosureReadModel)`). It catches up with the
application's notification log on every call, so it is never stale; its `current` and
queries are coroutines, as the PostgreSQL one's are, but never leave the loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from disclosure.application.ports import (
    DisclosureQuery,
    DisclosureRow,
    SelfInspectionQuery,
    SelfInspectionRow,
    UnitCounts,
)
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent
from disclosure.domain.self_inspection_ledger import SelfInspectionLedger
from servicekit.eventstore import ServiceApplication


class InMemoryDisclosureReadModel:
    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self._position = 0
        self.communities: dict[str, tuple[str, datetime]] = {}
        self.disclosures: dict[str, DisclosureRow] = {}
        self.ledgers: dict[str, SelfInspectionRow] = {}

    def catch_up(self) -> int:
        for n in self.app.recorder.select_notifications(
            self._position, 10_000, inclusive_of_start=False
        ):
            self._apply(self.app.mapper.to_domain_event(n))
            self._position = n.id
        return self._position

    def position(self) -> int:
        return self.catch_up()

    async def current(self) -> int:
        return self.catch_up()

    def _apply(self, event: Any) -> None:
        if isinstance(event, Community.Registered):
            self.communities[event.code] = (event.unit, event.registered_at)
        elif isinstance(event, Disclosure.Filed):
            content = DisclosureContent.from_state(event.content)
            self.disclosures[str(event.originator_id)] = DisclosureRow(
                str(event.originator_id),
                event.originator_version,
                event.community_code,
                event.unit,
                event.company_uscc,
                event.year,
                event.quarter,
                content.income_total_fen,
                content.surplus_fen,
                event.late,
                content.zero_revenue,
                event.filed_at,
                0,
            )
        elif isinstance(event, Disclosure.AuditRequested | Disclosure.AuditResultRecorded):
            # As the PostgreSQL read model: the listed version is the disclosure's.
            audited = self.disclosures[str(event.originator_id)]
            self.disclosures[audited.disclosure_id] = replace(
                audited, version=event.originator_version
            )
        elif isinstance(event, SelfInspectionLedger.Filed):
            self.ledgers[str(event.originator_id)] = SelfInspectionRow(
                str(event.originator_id),
                event.originator_version,
                event.community_code,
                event.unit,
                event.company_uscc,
                event.year,
                len(event.items),
                0,
                event.posted_on,
                event.late,
                event.filed_at,
            )
        elif isinstance(event, SelfInspectionLedger.ItemRectified):
            row = self.ledgers[str(event.originator_id)]
            self.ledgers[row.ledger_id] = replace(
                row, version=event.originator_version, rectified=row.rectified + 1
            )
        elif isinstance(event, Disclosure.Amended):
            content = DisclosureContent.from_state(event.content)
            old = self.disclosures[str(event.originator_id)]
            self.disclosures[old.disclosure_id] = DisclosureRow(
                old.disclosure_id,
                event.originator_version,
                old.community_code,
                old.unit,
                old.company_uscc,
                old.year,
                old.quarter,
                content.income_total_fen,
                content.surplus_fen,
                old.late,
                content.zero_revenue,
                old.filed_at,
                event.revision,
            )

    async def list_disclosures(self, query: DisclosureQuery) -> tuple[list[DisclosureRow], str]:
        self.catch_up()

        def key(r: DisclosureRow) -> str:
            return f"{r.year:04d}{r.quarter}:{r.community_code}"

        rows = sorted(
            (
                r
                for r in self.disclosures.values()
                if r.unit in query.units
                and r.year == query.year
                and query.quarter in (0, r.quarter)
                and query.company_uscc in ("", r.company_uscc)
                and query.community_code in ("", r.community_code)
                and key(r) > query.after
            ),
            key=key,
        )
        page = rows[: query.limit]
        return page, key(page[-1]) if len(rows) > query.limit else ""

    async def unit_counts(
        self, units: Sequence[str], year: int, quarter: int, registered_before: datetime
    ) -> list[UnitCounts]:
        self.catch_up()
        filed = {
            (r.community_code): r
            for r in self.disclosures.values()
            if (r.year, r.quarter) == (year, quarter)
        }
        counts = []
        for unit in units:
            codes = [
                c for c, (u, at) in self.communities.items() if u == unit and at < registered_before
            ]
            rows = [filed[c] for c in codes if c in filed]
            counts.append(
                UnitCounts(
                    unit, len(codes), sum(not r.late for r in rows), sum(r.late for r in rows)
                )
            )
        return counts

    def community_codes(self, registered_before: datetime) -> list[str]:
        self.catch_up()
        return sorted(c for c, (_, at) in self.communities.items() if at < registered_before)

    async def list_self_inspections(
        self, query: SelfInspectionQuery
    ) -> tuple[list[SelfInspectionRow], str]:
        self.catch_up()
        rows = sorted(
            (
                r
                for r in self.ledgers.values()
                if r.unit in query.units and r.year == query.year and r.community_code > query.after
            ),
            key=lambda r: r.community_code,
        )
        page = rows[: query.limit]
        return page, page[-1].community_code if len(rows) > query.limit else ""
