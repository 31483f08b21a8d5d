"""The checklist of a spot check (DOMAIN.md §4) and the violation each failed item reveals.

The code list itself, with its texts, the party it is charged to and its legal basis, is the
shared kernel's (`vocabulary.violations.KINDS`): one list for every service, citing the work
plan's paragraph of 二 and the law, so what inspection emits is what credit and casework read.
"""

from __future__ import annotations

from pubrev_contracts.vocabulary.violations import KINDS, SEVERITIES, ViolationKind

CHECKLIST = {
    "signboard_present": "A1",
    "signboard_at_main_entrance": "A2",
    "posting_30_days": "A4",
    "five_items_present": "A5",
    "separate_account": "B1",
    "figures_match_books": "A7",
    "spending_approved_by_owners": "B2",
    "revenue_fully_booked": "B3",
    "surplus_transferred": "B6",
    "common_parts_authorised": "C1",
}
"""Checklist item → the violation its failure reveals (all charged to the company)."""

__all__ = ["CHECKLIST", "KINDS", "SEVERITIES", "ViolationKind"]
