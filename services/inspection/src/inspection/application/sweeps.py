"""Periodic sweeps of the inspection service (the projector role schedules them hourly)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def sweep_rectification_deadlines(app: InspectionApplication) -> int:
    """RectificationOverdue, once, for each open finding past its deadline. It compares
    stored deadlines and never consults the holiday calendar, so a year missing from the
    calendar cannot stop it. Returns how many findings it marked."""
    now = app.clock()
    app.read_model.catch_up()
    marked = 0
    for finding_id in app.read_model.open_findings_due(now):
        finding = app.finding(finding_id)
        if finding.mark_overdue(now):
            app.record(finding)
            marked += 1
    return marked
