"""Disclosure's contract events → what inspection notes of them."""

from __future__ import annotations

from inspection.domain.community_watch import NotedDisclosure
from pubrev_contracts.events.disclosure import DisclosureAmendedV1, DisclosureFiledV1


def noted_from_filed(e: DisclosureFiledV1) -> NotedDisclosure:
    return NotedDisclosure(
        disclosure_id=str(e.aggregate_id),
        community_code=e.community_code,
        unit=e.unit,
        year=e.year,
        quarter=e.quarter,
        revision=0,
        income_total_fen=e.figures.income_total_fen,
        surplus_fen=e.figures.surplus_fen,
        late=e.late,
        zero_revenue=e.zero_revenue,
    )


def noted_from_amended(e: DisclosureAmendedV1) -> NotedDisclosure:
    return NotedDisclosure(
        disclosure_id=str(e.aggregate_id),
        community_code=e.community_code,
        unit=e.unit,
        year=e.year,
        quarter=e.quarter,
        revision=e.revision,
        income_total_fen=e.figures.income_total_fen,
        surplus_fen=e.figures.surplus_fen,
        late=e.late,
        zero_revenue=e.zero_revenue,
    )
