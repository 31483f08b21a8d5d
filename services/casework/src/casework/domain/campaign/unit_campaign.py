"""One unit's campaign year as the other services report it (单位年度整治进展): the
self-inspections filed in its communities (disclosure's SelfInspectionFiled), its
townships' inspections (inspection's TownshipInspectionRecorded), the rectifications
ordered and verified in its communities, the quarterly disclosures filed, and the cross
checks it led (SpotCheckPlanned kind=cross, CrossCheckReported). Each fact is dated (Asia/
Shanghai) so that a stage counts what was done by a day and a month's report what was done
in the month."""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import Aggregate, event

from casework.domain.campaign import NAMESPACE


class UnitCampaign(Aggregate):
    """What the campaign's progress remembers of one unit (county-level, or the city) in
    one year; each fact once."""

    class Opened(Aggregate.Created):
        unit: str
        year: int

    @event(Opened)
    def __init__(self, unit: str, year: int) -> None:
        self.unit = unit
        self.year = year
        self.self_inspections: dict[str, date] = {}
        """Community → the day its company filed the year's self-inspection ledger."""
        self.township_inspections: dict[str, date] = {}
        """Community → the last day a township inspected it this year."""
        self.township_months: dict[int, set[str]] = {}
        """Month → the communities a township inspected in it."""
        self.rectifications_ordered: dict[str, date] = {}
        """Finding → the day its rectification was ordered (withdrawn ones leave)."""
        self.rectifications_verified: dict[str, date] = {}
        self.disclosures: dict[int, dict[str, date]] = {}
        """Quarter of the year → community → the day its disclosure was filed."""
        self.cross_checks_planned: dict[int, list[str]] = {}
        """Quarter → the units this unit's cross-check team was planned to check."""
        self.cross_checks_reported: dict[int, dict[str, date]] = {}
        """Quarter → checked unit → the day the cross check's report was made."""

    @staticmethod
    def create_id(unit: str, year: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"unit-campaign:{unit}:{year}")

    # -- the company's self-inspection (自查自纠) ------------------------------------------

    class SelfInspectionNoted(Aggregate.Event):
        community_code: str
        filed_on: date

    def note_self_inspection(self, community_code: str, filed_on: date) -> bool:
        """The first filing counts (a later one changes nothing here)."""
        if community_code in self.self_inspections:
            return False
        self._self_inspection(community_code=community_code, filed_on=filed_on)
        return True

    @event(SelfInspectionNoted)
    def _self_inspection(self, community_code: str, filed_on: date) -> None:
        self.self_inspections[community_code] = filed_on

    # -- the townships' inspections (镇（街道）全面检查) ---------------------------------------

    class TownshipInspectionNoted(Aggregate.Event):
        community_code: str
        inspected_on: date

    def note_township_inspection(self, community_code: str, inspected_on: date) -> bool:
        """Remembered once per community and month (the stage wants every community at
        least once; a month's report counts the communities inspected in the month)."""
        if community_code in self.township_months.get(inspected_on.month, set()):
            return False
        self._township(community_code=community_code, inspected_on=inspected_on)
        return True

    @event(TownshipInspectionNoted)
    def _township(self, community_code: str, inspected_on: date) -> None:
        latest = self.township_inspections.get(community_code)
        if latest is None or inspected_on > latest:
            self.township_inspections[community_code] = inspected_on
        self.township_months.setdefault(inspected_on.month, set()).add(community_code)

    # -- rectifications (督导整改) ------------------------------------------------------------

    class RectificationOrderedNoted(Aggregate.Event):
        finding_id: str
        ordered_on: date

    def note_rectification_ordered(self, finding_id: str, ordered_on: date) -> bool:
        if finding_id in self.rectifications_ordered:
            return False
        self._ordered(finding_id=finding_id, ordered_on=ordered_on)
        return True

    @event(RectificationOrderedNoted)
    def _ordered(self, finding_id: str, ordered_on: date) -> None:
        self.rectifications_ordered[finding_id] = ordered_on

    class RectificationVerifiedNoted(Aggregate.Event):
        finding_id: str
        verified_on: date

    def note_rectification_verified(self, finding_id: str, verified_on: date) -> bool:
        if finding_id in self.rectifications_verified:
            return False
        self._verified(finding_id=finding_id, verified_on=verified_on)
        return True

    @event(RectificationVerifiedNoted)
    def _verified(self, finding_id: str, verified_on: date) -> None:
        self.rectifications_verified[finding_id] = verified_on

    class FindingWithdrawnNoted(Aggregate.Event):
        finding_id: str

    def note_finding_withdrawn(self, finding_id: str) -> bool:
        """A withdrawn finding (the company's objection upheld) is no rectification to
        supervise: it leaves the counts."""
        if (
            finding_id not in self.rectifications_ordered
            and finding_id not in self.rectifications_verified
        ):
            return False
        self._withdrawn(finding_id=finding_id)
        return True

    @event(FindingWithdrawnNoted)
    def _withdrawn(self, finding_id: str) -> None:
        self.rectifications_ordered.pop(finding_id, None)
        self.rectifications_verified.pop(finding_id, None)

    # -- quarterly disclosures (季度公示) --------------------------------------------------

    class DisclosureNoted(Aggregate.Event):
        quarter: int
        community_code: str
        filed_on: date

    def note_disclosure(self, quarter: int, community_code: str, filed_on: date) -> bool:
        """The first filing of the quarter counts (an amendment is no new disclosure)."""
        if community_code in self.disclosures.get(quarter, {}):
            return False
        self._disclosure(quarter=quarter, community_code=community_code, filed_on=filed_on)
        return True

    @event(DisclosureNoted)
    def _disclosure(self, quarter: int, community_code: str, filed_on: date) -> None:
        self.disclosures.setdefault(quarter, {})[community_code] = filed_on

    # -- cross checks led by this unit (交叉检查, plan 四（四）) --------------------------------

    class CrossCheckPlannedNoted(Aggregate.Event):
        quarter: int
        checked_unit: str

    def note_cross_check_planned(self, quarter: int, checked_unit: str) -> bool:
        if checked_unit in self.cross_checks_planned.get(quarter, []):
            return False
        self._cross_planned(quarter=quarter, checked_unit=checked_unit)
        return True

    @event(CrossCheckPlannedNoted)
    def _cross_planned(self, quarter: int, checked_unit: str) -> None:
        self.cross_checks_planned.setdefault(quarter, []).append(checked_unit)

    class CrossCheckReportedNoted(Aggregate.Event):
        quarter: int
        checked_unit: str
        reported_on: date

    def note_cross_check_reported(self, quarter: int, checked_unit: str, reported_on: date) -> bool:
        if checked_unit in self.cross_checks_reported.get(quarter, {}):
            return False
        self._cross_reported(quarter=quarter, checked_unit=checked_unit, reported_on=reported_on)
        return True

    @event(CrossCheckReportedNoted)
    def _cross_reported(self, quarter: int, checked_unit: str, reported_on: date) -> None:
        self.cross_checks_reported.setdefault(quarter, {})[checked_unit] = reported_on
