"""The campaign calendar's edges on in-memory persistence: a year the holiday calendar or the
campaign calendar lacks (never guessed), facts remembered once, findings citing what is no
warning, complaints of another year, and the aggregates' own answers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from casework.application import queries
from casework.application.handlers.campaign import finding_effects
from casework.application.sweeps import sweep_campaign, sweep_monthly_reports
from casework.domain.campaign.circular import FEEDBACK_RATE, Rate
from casework.domain.campaign.unit_campaign import UnitCampaign
from casework.domain.campaign.unit_communities import UnitCommunities
from casework.domain.warnings.campaign_rules import campaign_basis
from pubrev_contracts.vocabulary.calendar import CHINA
from pubrev_contracts.vocabulary.campaign import CAMPAIGN
from services.casework.tests.support.campaign import (
    BUREAU,
    CITY_BUREAU,
    UNIT,
    YEAR,
    at,
    campaign_app,
    deliver,
    ordered,
    verified,
)
from services.casework.tests.support.scenario import OFFICER, complaint

DAY = date(2026, 7, 1)


def test_a_due_day_the_holiday_calendar_lacks_is_shown_unknown_and_not_judged() -> None:
    """2027's campaign is configured (carried from 2023), its holidays are not: the reports
    of 2027 show no due day and the sweep judges none of them."""
    assert 2027 in CAMPAIGN.years and 2027 not in CHINA.years
    app, _ = campaign_app(at(7, 28, year=2027))
    (row,) = queries.campaign_progress(app, BUREAU, 2027, "").reports
    assert (row.month, row.due_on, row.status) == (7, None, "pending")
    assert sweep_monthly_reports(app) == 0


def test_a_year_the_campaign_calendar_lacks_is_skipped_by_the_sweep() -> None:
    app, _ = campaign_app(at(8, 1, year=2030))
    assert sweep_campaign(app) == 0


def test_a_verification_whose_order_was_not_seen_counts_in_its_own_year() -> None:
    app, _ = campaign_app(at(9, 1))
    finding = uuid.uuid4()
    deliver(app, verified(finding, at(9, 1)))
    facts = queries.campaign_of(app, UNIT, YEAR)
    assert facts is not None and str(finding) in facts.rectifications_verified
    assert not facts.rectifications_ordered


def test_a_finding_citing_what_is_no_warning_links_nothing() -> None:
    app, _ = campaign_app(at(9, 1))
    case_id = app.handle(OFFICER, replace(complaint("x"), received_at=at(8, 30))).case_id
    for cited in ("not-an-id", case_id):
        linked, due = finding_effects(
            app,
            finding_id="f",
            unit=UNIT,
            party="company",
            agency_unit="",
            warning_id=cited,
            community_code="LC-0001",
            kind="B6",
            kind_name="",
            severity="general",
            legal_basis="",
            found_at=at(9, 1),
        )
        assert (list(linked), due) == ([], [])


async def test_a_complaint_of_last_year_is_not_this_years_feedback() -> None:
    app, clock = campaign_app(at(12, 20, year=2025))
    app.handle(OFFICER, replace(complaint("old"), received_at=at(12, 20, year=2025)))
    clock.now = at(9, 15)
    circular = await queries.monthly_circular(app, CITY_BUREAU, YEAR, 8)
    (licheng,) = [s for s in circular.standings if s.unit == UNIT]
    assert licheng.rates[FEEDBACK_RATE] == Rate(0, 0)


def test_the_facts_are_remembered_once() -> None:
    facts = UnitCampaign(UNIT, YEAR)
    assert facts.note_self_inspection("LC-0001", DAY)
    assert not facts.note_self_inspection("LC-0001", date(2026, 7, 2))
    assert facts.note_township_inspection("LC-0001", date(2026, 8, 2))
    assert not facts.note_township_inspection("LC-0001", date(2026, 8, 3))
    assert facts.note_township_inspection("LC-0001", date(2026, 7, 9))  # arrived later
    # the last inspection is kept: what counts is one since the campaign began
    assert facts.township_inspections == {"LC-0001": date(2026, 8, 2)}
    assert facts.note_rectification_ordered("f1", DAY)
    assert not facts.note_rectification_ordered("f1", DAY)
    assert facts.note_rectification_verified("f1", DAY)
    assert not facts.note_rectification_verified("f1", DAY)
    assert facts.note_disclosure(2, "LC-0001", DAY)
    assert not facts.note_disclosure(2, "LC-0001", date(2026, 7, 3))
    assert facts.note_cross_check_planned(3, "hanjiang")
    assert not facts.note_cross_check_planned(3, "hanjiang")
    assert facts.note_cross_check_reported(3, "hanjiang", DAY)
    assert not facts.note_cross_check_reported(3, "hanjiang", DAY)
    members = UnitCommunities(UNIT)
    assert members.note("LC-0001", DAY) and not members.note("LC-0001", date(2026, 8, 1))
    members.note("LC-0002", date(2026, 8, 1))
    assert members.registered_by(date(2026, 7, 31)) == {"LC-0001"}


def test_every_campaign_rule_names_its_basis() -> None:
    with pytest.raises(ValueError, match="unknown campaign warning rule"):
        campaign_basis("no_such_rule")


def test_a_rectification_ordered_last_december_is_verified_into_last_year() -> None:
    app, _ = campaign_app(at(12, 1, year=2025))
    finding = uuid.uuid4()
    deliver(app, ordered(finding, at(12, 20, year=2025)), verified(finding, at(1, 10)))
    last = queries.campaign_of(app, UNIT, 2025)
    assert last is not None and str(finding) in last.rectifications_verified
