"""The periodic sweeps of casework (the projector role runs them as PeriodicJobs): the
complaints without feedback (hourly), the units behind their spot-check pace (6-hourly),
the retention of complainants' personal data (6-hourly) and the campaign calendar (hourly:
units behind a stage, monthly reports late, quarters without a cross check). Each returns
how many it raised, closed or archived.

What a sweep cannot judge because the vocabulary lacks a year (the holiday calendar, the
campaign's pace) is logged and skipped, never guessed; the sweep goes on with the others
and judges it again on its next run, once the year is entered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from casework.application.handlers.warnings import new_warnings
from casework.application.queries import (
    campaign_of,
    checked_communities,
    monthly_report,
    unit_facts,
)
from casework.domain.campaign.progress import STAGE_UNITS, UnitFacts, counts
from casework.domain.case import Case
from casework.domain.warnings.campaign_rules import (
    CLOSED_BY_PLATFORM,
    UNIT_BEHIND_STAGE,
    campaign_quarters,
    cross_check_missing,
    report_late,
    stage_period,
    unit_behind_stage,
)
from casework.domain.warnings.rules import (
    PACED_UNITS,
    complaint_without_feedback,
    unit_behind_quota,
)
from casework.domain.warnings.supervision_warning import Due, SupervisionWarning
from casework.domain.warnings.unit_inspections import UnitInspections
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.campaign import (
    PROVINCE_BRIEFING,
    SPOT_CHECKS,
    YearCalendar,
    progress,
    shanghai_date,
)
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
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
                unit, year, facts.quota, checked_communities(app, facts), now, app.warning_rules
            )
        except NotConfigured as error:  # the campaign's schedule lacks the year
            log.warning("unit_behind_quota not judged for %s %s: %s", unit, year, error.message)
            continue
        if due is not None and _raise(app, due):
            raised += 1
    return raised


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


# -- the campaign calendar (vocabulary.campaign; warnings: domain/warnings/campaign_rules.py) --


def sweep_campaign(app: CaseworkApplication) -> int:
    """The campaign calendar's warnings, raised and closed by what the facts show."""
    return sweep_campaign_stages(app) + sweep_monthly_reports(app) + sweep_cross_checks(app)


LAST_YEAR_UNTIL_MONTH = 1
"""Last year's calendar is judged through January (local configuration): its last stage
(31 December), its fourth quarter and December's briefing (30 December, moved past rest days
into January) fall due after the year; anything earlier of it was judged in its year."""


def _calendars(app: CaseworkApplication) -> Iterator[YearCalendar]:
    """This year's calendar, and last year's through January; a year not configured is
    logged and skipped."""
    today = shanghai_date(app.clock())
    years = [today.year - 1] if today.month <= LAST_YEAR_UNTIL_MONTH else []
    for y in (*years, today.year):
        try:
            yield app.warning_rules.campaign.year(y)
        except NotConfigured as error:
            log.info("campaign calendar: %s", error.message)


def sweep_campaign_stages(app: CaseworkApplication) -> int:
    """unit_behind_stage for each unit behind a stage whose due date has passed (spot checks
    excepted: unit_behind_quota is theirs), once per (year, stage, unit); an open one whose
    unit has caught up is closed by the platform."""
    now = app.clock()
    changed = 0
    for calendar in _calendars(app):
        facts: dict[str, UnitFacts] = {}
        for stage in calendar.stages:
            if stage.key == SPOT_CHECKS or not stage.due_passed(now):
                continue
            for unit in STAGE_UNITS[stage.key]:
                if unit not in facts:
                    facts[unit] = unit_facts(app, unit, calendar.year)
                done, expected = counts(stage, facts[unit])
                (judged,) = progress(
                    stage, now, {unit: (done, expected)}, pace=app.warning_rules.pace
                )
                due = unit_behind_stage(stage, judged, calendar.version)
                if due is not None:
                    changed += _raise(app, due)
                    continue
                warning_id = SupervisionWarning.create_id(
                    UNIT_BEHIND_STAGE, unit, stage_period(stage)
                )
                changed += _close_caught_up(
                    app,
                    warning_id,
                    [f"progress:{stage_period(stage)}:{unit}:{done}/{expected}"],
                    f"{stage.name}已完成（{done}/{expected}）",
                )
    return changed


def sweep_monthly_reports(app: CaseworkApplication) -> int:
    """monthly_report_late (and province_briefing_late) for each report not in by the end of
    its due day, once per unit and month. A due day in a year the holiday calendar lacks is
    logged and skipped."""
    now = app.clock()
    raised = 0
    for calendar in _calendars(app):
        for duty in calendar.monthly.values():
            units = (CITY,) if duty.key == PROVINCE_BRIEFING else COUNTY_UNITS
            for month in duty.months:
                try:
                    over = duty.due_passed(month, now)
                except NotConfigured as error:
                    log.warning(
                        "%s %s-%02d not judged: %s", duty.key, duty.year, month, error.message
                    )
                    continue
                if not over:
                    continue
                for unit in units:
                    if monthly_report(app, duty.key, unit, duty.year, month) is not None:
                        continue
                    due = report_late(duty, unit, month, now, None)
                    if due is not None and _raise(app, due):
                        raised += 1
    return raised


def sweep_cross_checks(app: CaseworkApplication) -> int:
    """cross_check_missing for each county-level unit whose team made no cross-check report
    in a quarter of the campaign that is over, once per unit and quarter."""
    now = app.clock()
    raised = 0
    for calendar in _calendars(app):
        for quarter in campaign_quarters(calendar):
            for unit in COUNTY_UNITS:
                facts = campaign_of(app, unit, calendar.year)
                planned = facts.cross_checks_planned.get(quarter.quarter, []) if facts else []
                reported = facts.cross_checks_reported.get(quarter.quarter, {}) if facts else {}
                due = cross_check_missing(unit, quarter, planned, reported, now)
                if due is not None and _raise(app, due):
                    raised += 1
    return raised


def _close_caught_up(
    app: CaseworkApplication, warning_id: uuid.UUID, evidence: list[str], note: str
) -> bool:
    """Closes an open warning the facts show resolved (by the platform); a concurrent change
    is left to the next run."""
    warning = app.find(warning_id, SupervisionWarning)
    if warning is None or warning.closed:
        return False
    warning.close(CLOSED_BY_PLATFORM, app.clock(), evidence, note)
    try:
        return app.record(warning)
    except Conflict:
        return False


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
