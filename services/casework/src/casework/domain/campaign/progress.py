"""What each stage of the campaign counts and expects of a unit (阶段进度), from the facts
casework keeps (DOMAIN.md §5b; the calendar: vocabulary.campaign).

- mobilisation, self_inspection_ledgers, unit_summaries, review: recorded by the unit
  itself (RecordStageDone), 1 expected. These are its own bureau's acts (a work plan, its
  guidance to the townships, its summary, its review), which no other service sees.
- self_inspection: communities whose company filed the year's self-inspection ledger
  (disclosure's SelfInspectionFiled) / the unit's communities registered by the due date.
- spot_checks: communities checked under the unit's yearly plan and the cross checks of its
  communities / its quota (inspection's SpotCheckPlanned and SpotCheckDone), as the pace
  counts them (unit_behind_quota warns on it).
- township_inspections: communities a township inspected at least once since the campaign
  began (vocabulary.campaign `counted_from`, as inspection's coverage counts)
  (inspection's TownshipInspectionRecorded) / communities registered by the due date.
- supervised_rectification: rectifications verified / ordered by the due date (inspection's
  RectificationOrdered, RectificationVerified; a withdrawn finding, FindingWithdrawn,
  leaves both).

Who takes part in which stage (`STAGE_UNITS`): the seven county-level units in every stage;
the city also in its own mobilisation (附件1 #1–3), its 15% of spot checks (四（三）) and the
review (五（四）: 各级物业管理主管部门). The townships' inspections, the companies'
self-inspections, the supervised rectification and the summaries to the city are the
county-level units' (四（三）, 五（二）, 五（三）, 六（四）).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from casework.domain.campaign.unit_campaign import UnitCampaign
from pubrev_contracts.vocabulary.campaign import (
    MOBILISATION,
    REVIEW,
    SELF_INSPECTION,
    SELF_INSPECTION_LEDGERS,
    SPOT_CHECKS,
    SUPERVISED_RECTIFICATION,
    TOWNSHIP_INSPECTIONS,
    UNIT_SUMMARIES,
    Stage,
)
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS

RECORDED_STAGES = frozenset({MOBILISATION, SELF_INSPECTION_LEDGERS, UNIT_SUMMARIES, REVIEW})
"""Stages a unit records as done itself (RecordStageDone): acts of its own bureau."""

WITH_CITY = (*COUNTY_UNITS, CITY)
STAGE_UNITS: Mapping[str, tuple[str, ...]] = {
    MOBILISATION: WITH_CITY,
    SELF_INSPECTION: COUNTY_UNITS,
    SELF_INSPECTION_LEDGERS: COUNTY_UNITS,
    SPOT_CHECKS: WITH_CITY,
    TOWNSHIP_INSPECTIONS: COUNTY_UNITS,
    SUPERVISED_RECTIFICATION: COUNTY_UNITS,
    UNIT_SUMMARIES: COUNTY_UNITS,
    REVIEW: WITH_CITY,
}
"""The units that take part in each stage (see the module's docstring for the sources)."""

COUNTED: Mapping[str, str] = {
    MOBILISATION: "本单位记录已完成（RecordStageDone）",
    SELF_INSPECTION: "已报自查自纠台账的小区数／截止日前登记的小区数（SelfInspectionFiled）",
    SELF_INSPECTION_LEDGERS: "本单位记录已完成（RecordStageDone）",
    SPOT_CHECKS: (
        "本单位年度计划及交叉检查已抽查的小区数／抽查指标（SpotCheckPlanned、SpotCheckDone）"
    ),
    TOWNSHIP_INSPECTIONS: (
        "镇（街道）本年至少检查一次的小区数／截止日前登记的小区数（TownshipInspectionRecorded）"
    ),
    SUPERVISED_RECTIFICATION: (
        "已验收的整改数／截止日前责令整改数（RectificationOrdered、RectificationVerified）"
    ),
    UNIT_SUMMARIES: "本单位记录已完成（RecordStageDone）",
    REVIEW: "本单位记录已完成（RecordStageDone）",
}
"""What `done` and `expected` count, for the reader of GetCampaignProgress."""


@dataclass(frozen=True)
class UnitFacts:
    """Everything a unit's progress is judged on in one year (loaded by the application)."""

    unit: str
    communities: Mapping[str, date] = field(default_factory=dict)
    """Community → the day it was registered in the unit."""
    campaign: UnitCampaign | None = None
    recorded: Mapping[str, date] = field(default_factory=dict)
    """Stage → the day the unit recorded it done."""
    spot_checks: tuple[int, int] = (0, 0)
    """(checked, quota) as the pace counts them."""
    counted_from: date | None = None
    """The calendar's first day of the campaign (vocabulary.campaign `counted_from`):
    township inspections before it are not the campaign's."""


def takes_part(stage_key: str, unit: str) -> bool:
    return unit in STAGE_UNITS.get(stage_key, ())


def counts(stage: Stage, facts: UnitFacts) -> tuple[int, int]:
    """(done, expected) of a unit in a stage (see the module's table)."""
    key = stage.key
    if key in RECORDED_STAGES:
        return (1 if key in facts.recorded else 0), 1
    if key == SPOT_CHECKS:
        return facts.spot_checks
    campaign = facts.campaign
    if key == SUPERVISED_RECTIFICATION:
        if campaign is None:
            return 0, 0
        ordered = {f for f, on in campaign.rectifications_ordered.items() if on <= stage.due}
        return len(ordered & set(campaign.rectifications_verified)), len(ordered)
    covered = {code for code, on in facts.communities.items() if on <= stage.due}
    if key == SELF_INSPECTION:
        done = set(campaign.self_inspections) if campaign else set()
    elif key == TOWNSHIP_INSPECTIONS:
        since = facts.counted_from or date.min
        inspections = campaign.township_inspections.items() if campaign else ()
        done = {code for code, last in inspections if last >= since}
    else:  # pragma: no cover - STAGE_KEYS is the vocabulary's and every key is above
        raise KeyError(key)
    return len(covered & done), len(covered)
