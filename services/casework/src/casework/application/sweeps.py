"""The periodic sweeps of casework (the projector role runs them as PeriodicJobs): the
complaints without feedback (hourly), the units behind their spot-check pace (6-hourly)
and the retention of complainants' personal data (6-hourly). Each returns how many it
raised or archived.

What a sweep cannot judge because the vocabulary lacks a year (the holiday calendar, the
campaign's pace) is logged and skipped, never guessed; the sweep goes on with the others
and judges it again on its next run, once the year is entered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from casework.application.handlers.warnings import new_warnings
from casework.domain.case import Case
from casework.domain.warnings.plan_checks import PlanChecks
from casework.domain.warnings.rules import (
    PACED_UNITS,
    complaint_without_feedback,
    unit_behind_quota,
)
from casework.domain.warnings.supervision_warning import Due
from casework.domain.warnings.unit_inspections import UnitInspections
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import Conflict

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

log = logging.getLogger(__name__)

ORPHAN_KEY_GRACE = timedelta(days=1)
"""A data key whose case never came to be (the complaint's commit failed after its key was
stored) is destroyed once this old: a complaint being received right now is younger."""


def sweep_complaint_feedback(app: CaseworkApplication) -> int:
    """complaint_without_feedback (DOMAIN.md §8) over the open complaints whose complainant
    has not been told the result, once per case."""
    now = app.clock()
    raised = 0
    for case in open_complaints(app):
        try:
            due = complaint_without_feedback(
                str(case.id),
                case.unit,
                case.community_code,
                case.received_at,
                None,
                now,
                app.warning_rules,
            )
        except NotConfigured as error:  # the holiday calendar lacks the year
            log.warning(
                "complaint_without_feedback not judged for case %s: %s", case.id, error.message
            )
            continue
        if due is not None and _raise(app, due):
            raised += 1
    return raised


def open_complaints(app: CaseworkApplication) -> Iterator[Case]:
    """The open complaint cases whose complainant has not been told the result yet."""
    app.read_model.catch_up()
    for row in app.read_model.cases(list(COUNTY_UNITS), "", None, ""):
        if row.kind != "complaint" or row.status == "closed":
            continue
        case = app.case(row.case_id)
        if not case.feedback_given:
            yield case


def sweep_quota_pace(app: CaseworkApplication, units: Iterable[str] = PACED_UNITS) -> int:
    """unit_behind_quota for each unit (the county-level units and the city) behind this
    year's pace, once a month."""
    now = app.clock()
    year = now.astimezone(SHANGHAI).year
    raised = 0
    for unit in units:
        facts = app.find(UnitInspections.create_id(unit, year), UnitInspections, read_only=True)
        if facts is None:
            continue
        try:
            due = unit_behind_quota(
                unit, year, facts.quota, checked(app, facts), now, app.warning_rules
            )
        except NotConfigured as error:  # the campaign's schedule lacks the year
            log.warning("unit_behind_quota not judged for %s %s: %s", unit, year, error.message)
            continue
        if due is not None and _raise(app, due):
            raised += 1
    return raised


def checked(app: CaseworkApplication, facts: UnitInspections) -> int:
    """The distinct communities checked this year under the unit's yearly plan and the cross
    checks of its communities."""
    communities = set(facts.checked)
    for plan_id in facts.plans:
        checks = app.find(PlanChecks.create_id(plan_id), PlanChecks, read_only=True)
        if checks is not None:
            communities.update(checks.checked)
    return len(communities)


def shred_expired_personal_data(app: CaseworkApplication) -> int:
    """Every closed complaint whose personal data has been kept its retention period after
    closure is archived (the shredding recorded as an event of the case) and its key
    destroyed. Also destroys what a crash left: the key of a case already shredded, and
    keys whose case never came to be."""
    now = app.clock()
    archived = 0
    for held in app.vault.held():
        case = app.find(held.case_id, Case)
        if case is None:
            if held.created_at <= now - ORPHAN_KEY_GRACE:
                app.vault.shred(held.case_id)
                log.info(
                    "data key of a case that never came to be destroyed",
                    extra={"case_id": str(held.case_id)},
                )
            continue
        if not case.shredded:
            ends = case.retention_ends(app.retention)
            if ends is None or now < ends:
                continue
            case.archive(now, app.retention)
            try:
                app.record(case)
            except Conflict:
                continue  # changed meanwhile: the next run sees it again
            archived += 1
        app.vault.shred(case.id)
    return archived


def _raise(app: CaseworkApplication, due: Due) -> bool:
    """Raises one warning unless it exists; whether it was raised now."""
    warnings = new_warnings(app, [due])
    if not warnings:
        return False
    try:
        return app.record(*warnings)
    except Conflict:
        # A concurrent sweep raised it first: that is the outcome wanted.
        if app.exists(due.warning_id):
            return False
        raise
