"""Handlers of the warnings (智慧监督 预警, DOMAIN.md §8; the rules: domain/warnings/rules.py).

Commands: AcknowledgeWarning (签收) and CloseWarning (办结销号, with evidence).

The consumers' policies (`on_*`, bound to contract events in entrypoints/consumers.py, one
consumer per topic): each updates what the warnings remember of the other services' events
(`CommunityFacts`, `CompanyFacts`, `UnitInspections`, `PlanChecks`), asks the rules which
warnings are due, and saves the facts, the warnings not raised before and the delivery's
tracking row in ONE `record`. A redelivered event therefore changes nothing (the consumer
runner skips one applied before; a racing repeat is caught by its tracking row), and a
warning that exists already is not raised again (its id is derived from rule, subject and
period; a race of two raisers ends in a Conflict, and the consumer's retry then finds it).
The policies take plain values: this layer does not import the wire contracts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from casework.application.access import POLICY, authorize, warning_facts
from casework.application.commands import (
    AcknowledgeWarning,
    CloseWarning,
    WarningAcknowledged,
    WarningClosed,
)
from casework.application.handlers.campaign import finding_effects, note_cross_check_planned
from casework.domain.campaign.unit_campaign import UnitCampaign
from casework.domain.campaign.unit_communities import UnitCommunities
from casework.domain.warnings.community_facts import CommunityFacts, QuarterFigures
from casework.domain.warnings.company_facts import CompanyFacts
from casework.domain.warnings.plan_checks import PlanChecks
from casework.domain.warnings.rules import (
    PACED_UNITS,
    WarningRules,
    disclosure_overdue,
    disclosure_warnings,
    rectification_overdue,
    repeat_complaints,
    repeat_violations,
)
from casework.domain.warnings.supervision_warning import Due, SupervisionWarning
from casework.domain.warnings.unit_inspections import UnitInspections
from pubrev_contracts.vocabulary.campaign import shanghai_date
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import Validator
from servicekit.eventstore import BatchStep, DeliveryRef, StepEvents, batch_aggregate
from servicekit.identity import Identity

if TYPE_CHECKING:
    from datetime import datetime

    from casework.application.app import CaseworkApplication

NOTE_MAX = 2000
EVIDENCE_MAX = 50


# -- commands ------------------------------------------------------------------------------------


def acknowledge_warning(
    app: CaseworkApplication, identity: Identity, cmd: AcknowledgeWarning
) -> WarningAcknowledged:
    """签收: the bureau or discipline office of the warning's unit (or the city's)."""
    POLICY.admit("AcknowledgeWarning", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_note(v, cmd.note)
    v.raise_if_any()
    authorize(POLICY, "AcknowledgeWarning", identity, warning_facts(app.warning(cmd.warning_id)))

    def execute() -> tuple[list[SupervisionWarning], WarningAcknowledged]:
        warning = app.warning(cmd.warning_id)
        warning.acknowledge(identity.render(), app.clock(), cmd.note.strip())
        return [warning], WarningAcknowledged(cmd.warning_id, warning.version)

    return app.run_command(cmd, WarningAcknowledged, execute)


def close_warning(app: CaseworkApplication, identity: Identity, cmd: CloseWarning) -> WarningClosed:
    """办结销号 with the evidence that the problem is dealt with (RuleViolated without), by
    the bureau or discipline office of the warning's unit (or the city's), never by the unit
    the warning is about (access.POLICY)."""
    POLICY.admit("CloseWarning", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _require_note(v, cmd.note)
    v.require(
        len(cmd.evidence_refs) <= EVIDENCE_MAX,
        "evidence_refs",
        "too_many",
        f"at most {EVIDENCE_MAX} references",
        f"佐证材料不能超过{EVIDENCE_MAX}项",
    )
    v.raise_if_any()
    authorize(POLICY, "CloseWarning", identity, warning_facts(app.warning(cmd.warning_id)))

    def execute() -> tuple[list[SupervisionWarning], WarningClosed]:
        warning = app.warning(cmd.warning_id)
        warning.close(identity.render(), app.clock(), cmd.evidence_refs, cmd.note.strip())
        return [warning], WarningClosed(cmd.warning_id, warning.version)

    return app.run_command(cmd, WarningClosed, execute)


def _require_note(v: Validator, note: str) -> None:
    v.require(
        len(note) <= NOTE_MAX,
        "note",
        "too_long",
        f"at most {NOTE_MAX} characters",
        f"备注不能超过{NOTE_MAX}字",
    )


# -- the consumers' policies -----------------------------------------------------------------------


def on_community_registered(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    company: str,
    elevators: int,
    barrier_gates: int,
    leasable_space: bool,
    registered_at: datetime | None = None,
) -> bool:
    """CommunityRegistered: the facilities. Re-checks the remembered quarters, since a
    zero-revenue filing may have arrived before the registration. The community counts
    among its unit's (the campaign's stages and rates, from the day it was registered,
    `registered_at`) and leaves the unit it was registered under before, if another."""
    facts = _community(app, community_code, unit)
    previous = facts.unit
    facts.register(unit, company, elevators, barrier_gates, leasable_space)
    counted: list[Aggregate] = []
    if registered_at is not None:
        if previous != unit:
            before = app.find(UnitCommunities.create_id(previous), UnitCommunities)
            if before is not None and before.drop(community_code):
                counted.append(before)
        members = app.find(UnitCommunities.create_id(unit), UnitCommunities) or UnitCommunities(
            unit
        )
        members.note(community_code, shanghai_date(registered_at))
        counted.append(members)
    return _commit(app, [facts, *counted], disclosure_warnings(facts, app.warning_rules), delivery)


@dataclass(frozen=True)
class DisclosureNote:
    """DisclosureFiled (revision 0) or DisclosureAmended (its revision) as the warnings note
    it: the event by event policy (`on_disclosure`) and the batch's (`on_disclosures`)
    apply it the same way (`onto`)."""

    community_code: str
    unit: str
    company: str
    figures: QuarterFigures
    filed_at: datetime | None = None
    """A filing's time (an amendment's is None): it counts for its unit's disclosure rate."""

    @property
    def facts_id(self) -> uuid.UUID:
        return CommunityFacts.create_id(self.community_code)

    @property
    def campaign_id(self) -> uuid.UUID | None:
        if self.filed_at is None:
            return None
        return UnitCampaign.create_id(self.unit, self.figures.year)

    def onto(
        self, facts: CommunityFacts | None, year: UnitCampaign | None, rules: WarningRules
    ) -> tuple[list[Aggregate], list[Due]]:
        """Noted on the community's facts and (a filing) its unit's year, either opened
        when it has none: the aggregates changed and the warnings due."""
        facts = facts or CommunityFacts(self.community_code, self.unit)
        changed = facts.note_disclosure(self.unit, self.company, self.figures)
        due = disclosure_warnings(facts, rules) if changed else []
        counted: list[Aggregate] = []
        if self.filed_at is not None:
            year = year or UnitCampaign(self.unit, self.figures.year)
            year.note_disclosure(
                self.figures.quarter, self.community_code, shanghai_date(self.filed_at)
            )
            counted.append(year)
        return [facts, *counted], due


def on_disclosure(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    company: str,
    figures: QuarterFigures,
    filed_at: datetime | None = None,
) -> bool:
    """DisclosureFiled (revision 0) or DisclosureAmended (its revision): the quarter's
    figures replace those remembered, and the disclosure rules run again. A deficit quarter
    (surplus < 0) is a filing like any other here: `deficit_quarter` judges it. A filing
    (`filed_at`) counts for its unit's disclosure rate in the quarter's year."""
    note = DisclosureNote(community_code, unit, company, figures, filed_at)
    campaign = note.campaign_id
    changed, due = note.onto(
        app.find(note.facts_id, CommunityFacts),
        app.find(campaign, UnitCampaign) if campaign is not None else None,
        app.warning_rules,
    )
    return _commit(app, changed, due, delivery)


def on_disclosures(
    app: CaseworkApplication, notes: Sequence[tuple[DisclosureNote, DeliveryRef]]
) -> int:
    """A consumer's fetched run of filings and amendments in one transaction (ADR 0018),
    with the effects `on_disclosure` has event by event: each community's facts and each
    unit's year loaded once for the run, the notes applied in order, a warning raised by
    the first that finds it due unless it exists, every delivery tracked (servicekit's
    `apply_steps`). Returns how many were new; raises, having written nothing, when one of
    them cannot be applied (the consumer then goes one by one)."""
    rules = app.warning_rules
    found: list[Sequence[Due]] = []
    """The warnings each applied step found due, in the steps' order."""

    def step(note: DisclosureNote, delivery: DeliveryRef) -> BatchStep:
        campaign = note.campaign_id

        def apply(aggregates: Mapping[uuid.UUID, Aggregate]) -> list[Aggregate]:
            touched, due = note.onto(
                batch_aggregate(aggregates, note.facts_id, CommunityFacts),
                batch_aggregate(aggregates, campaign, UnitCampaign) if campaign else None,
                rules,
            )
            found.append(due)
            return touched

        changes = [note.facts_id] if campaign is None else [note.facts_id, campaign]
        return BatchStep(delivery, changes, apply)

    def raise_warnings(changed: Sequence[StepEvents]) -> None:
        # As `new_warnings` decides event by event: raised by the first step that finds
        # it due, unless it exists (one query for the whole batch).
        existing = app.existing(d.warning_id for due in found for d in due)
        for events, due in zip(changed, found, strict=True):
            for d in due:
                if d.warning_id in existing:
                    continue
                existing.add(d.warning_id)
                warning = SupervisionWarning.raise_due(
                    d, rules.version, rules.basis(d.rule), app.clock()
                )
                events.extend(warning.collect_events())

    return app.apply_steps([step(note, delivery) for note, delivery in notes], raise_warnings)


def on_disclosure_overdue(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    company: str,
    year: int,
    quarter: int,
) -> bool:
    """DisclosureOverdue: warns at once; nothing to remember."""
    due = disclosure_overdue(community_code, unit, company, year, quarter)
    return _commit(app, [], [due], delivery)


def on_complaint_received(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    community_code: str,
    unit: str,
    received_at: datetime,
) -> bool:
    """ComplaintReceived: counts towards repeat complaints on the community. A complaint
    naming no community counts for no community (the delivery is still tracked)."""
    if not community_code:
        return app.record(delivery=delivery)
    facts = _community(app, community_code, unit)
    facts.note_complaint(received_at)
    due = repeat_complaints(community_code, facts.unit, facts.complaints, app.warning_rules)
    return _commit(app, [facts], due, delivery)


def on_violation_found(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    company: str,
    unit: str,
    finding_id: str,
    found_at: datetime,
    community_code: str,
    kind: str,
    party: str = "company",
    agency_unit: str = "",
    warning_id: str = "",
    kind_name: str = "",
    severity: str = "",
    legal_basis: str = "",
) -> bool:
    """ViolationFound: a company's finding counts towards repeat violations of the company
    (a finding with no company known to inspection cannot count for one). An agency's
    finding (E1–E3) never touches a company: it is raised for the 智慧监督 platform, or, when
    it cites a warning, linked to that warning, as a company's finding citing one is
    (handlers/campaign.finding_effects)."""
    linked, due = finding_effects(
        app,
        finding_id=finding_id,
        unit=unit,
        party=party,
        agency_unit=agency_unit,
        warning_id=warning_id,
        community_code=community_code,
        kind=kind,
        kind_name=kind_name,
        severity=severity,
        legal_basis=legal_basis,
        found_at=found_at,
    )
    if party != "company" or not company:
        return _commit(app, linked, due, delivery)
    facts = app.find(CompanyFacts.create_id(company), CompanyFacts) or CompanyFacts(company)
    if facts.note_finding(finding_id, unit, community_code, kind, found_at):
        due += repeat_violations(company, facts.findings, app.warning_rules)
    return _commit(app, [facts, *linked], due, delivery)


def on_rectification_overdue(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    finding_id: str,
    unit: str,
    community_code: str,
    company: str,
    kind: str,
    deadline: datetime,
) -> bool:
    """RectificationOverdue: warns at once; nothing to remember."""
    due = rectification_overdue(finding_id, unit, community_code, company, kind, deadline)
    return _commit(app, [], [due], delivery)


def on_spot_check_planned(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    plan_id: str,
    kind: str,
    unit: str,
    checked_unit: str,
    year: int,
    quota: int,
    quarter: int = 0,
) -> bool:
    """A yearly plan sets its unit's pace: a county-level unit's 50% or the city's 15% (plan
    四（三）), and its checks count for that unit. A cross check (交叉检查, 四（四）) of a
    county-level unit by another's team carries no quota, but its checks verify the checked
    unit's communities and count toward that unit's pace, as inspection's progress counts
    them; the checking unit's year remembers the quarter's cross check planned. Other plans
    set no pace (False: nothing applied)."""
    planned: list[Aggregate] = []
    if kind == "cross" and checked_unit in COUNTY_UNITS:
        facts = _unit(app, checked_unit, year)
        if unit in COUNTY_UNITS and quarter:
            planned.append(note_cross_check_planned(app, unit, year, quarter, checked_unit))
    elif kind == "yearly" and unit in PACED_UNITS:
        facts = _unit(app, unit, year)
        facts.note_quota(quota)
    else:
        return False
    facts.note_plan(plan_id)
    return app.record(facts, *planned, delivery=delivery)


def on_spot_check_done(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    plan_id: str,
    community_code: str,
    inspected_at: datetime | None = None,
) -> bool:
    """A community checked under a plan (by plan, not by the community's unit: a city check
    counts for the city), whether or not the plan has arrived yet; counted once however
    often it is checked, from the day it was first checked."""
    checks = app.find(PlanChecks.create_id(plan_id), PlanChecks) or PlanChecks(plan_id)
    checks.note_check(
        community_code, shanghai_date(inspected_at) if inspected_at is not None else None
    )
    return app.record(checks, delivery=delivery)


# -- raising -------------------------------------------------------------------------------------


def new_warnings(app: CaseworkApplication, due: Iterable[Due]) -> list[SupervisionWarning]:
    """The warnings due that were not raised before, raised now under the app's rules."""
    rules = app.warning_rules
    raised: dict[uuid.UUID, SupervisionWarning] = {}
    for d in due:
        warning_id = d.warning_id
        if warning_id in raised or app.exists(warning_id):
            continue
        raised[warning_id] = SupervisionWarning.raise_due(
            d, rules.version, rules.basis(d.rule), app.clock()
        )
    return list(raised.values())


def _commit(
    app: CaseworkApplication,
    facts: Sequence[Aggregate],
    due: Iterable[Due],
    delivery: DeliveryRef,
) -> bool:
    return app.record(*facts, *new_warnings(app, due), delivery=delivery)


def _community(app: CaseworkApplication, code: str, unit: str) -> CommunityFacts:
    return app.find(CommunityFacts.create_id(code), CommunityFacts) or CommunityFacts(code, unit)


def _unit(app: CaseworkApplication, unit: str, year: int) -> UnitInspections:
    return app.find(UnitInspections.create_id(unit, year), UnitInspections) or UnitInspections(
        unit, year
    )
