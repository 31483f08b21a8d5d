"""Who checked (the checking body, plan 四（三）、四（四）) and the ids that tie a check's
records to their plan.

A check's id derives from its plan's and a finding's from its check's. That chain is how
events stored before the checking body was recorded (class_version 1) find it again: their
`unit` was the plan's checked unit, and a yearly plan's id is deterministic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from inspection.domain.spot_check_plan import SpotCheckPlan
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.units import CITY

NAMESPACE = uuid.UUID("5c2e9a1b-7d3f-4e6a-8b0c-1d2e3f4a5b6c")


def spot_check_id(plan_id: uuid.UUID, community_code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"check:{plan_id}:{community_code}")


def finding_id(check_id: uuid.UUID, kind: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"finding:{check_id}:{kind}")


def direct_entry_id(unit: str, request_id: str) -> uuid.UUID:
    """The id standing for the check of a finding entered directly (no spot check exists):
    from the entering unit and its request, so the finding's id is decided before it is
    stored, as a checked finding's is."""
    return uuid.uuid5(NAMESPACE, f"direct:{unit}:{request_id}")


def v1_checking_body(
    unit: str, when: datetime, made_by: Callable[[uuid.UUID], bool]
) -> tuple[str, str]:
    """The checking body of an event stored before it was recorded (class_version 1). Its
    `unit` was the plan's checked unit: the planning unit itself for a yearly plan (putian
    for the city), the checked unit for a cross check. `made_by(plan_id)` tells whether the
    record came from `unit`'s own yearly plan of that year or the year before; otherwise it
    came from a cross check, whose checking unit v1 did not keep ("")."""
    year = when.astimezone(SHANGHAI).year
    for plan_year in (year, year - 1):
        if made_by(SpotCheckPlan.yearly_id(plan_year, unit)):
            return unit, "city" if unit == CITY else "county"
    return "", "cross"
