"""Events published by the inspection service on pubrev.inspection.events.v1."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from pubrev_contracts.events.base import ContractEvent, UtcDatetime, register
from pubrev_contracts.topics import INSPECTION_EVENTS

Severity = Literal["minor", "general", "serious"]


class PlannedTargetV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    community_code: str
    reason: Literal["handed_down", "major_petition", "typical_case", "complaint_lead",
                    "zero_revenue", "overdue", "random"]
    inspectors: list[str]


class DrawV1(BaseModel):
    """Enough to re-run the draw: VerifyDraw does, and so can anyone with the pool."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    seed: str
    algorithm: str
    pool_hash: str
    pool_size: int
    drawn: list[str]
    inspector_pool_hash: str


@register("pubrev.inspection.SpotCheckPlanned.v1", INSPECTION_EVENTS)
class SpotCheckPlannedV1(ContractEvent):
    """`unit` plans (the city, a county-level unit, or a cross check's checking unit)."""

    year: int
    kind: Literal["yearly", "cross"]
    quarter: int
    """0 for a yearly plan."""
    checked_unit: str
    communities: int
    quota: int
    rules_version: str
    targets: list[PlannedTargetV1]
    draw: DrawV1


class ChecklistResultV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    item: str
    passed: bool


@register("pubrev.inspection.SpotCheckDone.v1", INSPECTION_EVENTS)
class SpotCheckDoneV1(ContractEvent):
    plan_id: UUID
    community_code: str
    company_uscc: str
    inspected_at: UtcDatetime
    inspectors: list[str]
    checklist: list[ChecklistResultV1]
    findings: int


@register("pubrev.inspection.ViolationFound.v1", INSPECTION_EVENTS)
class ViolationFoundV1(ContractEvent):
    """Aggregate: the finding. `unit` is the community's."""

    spot_check_id: UUID
    community_code: str
    company_uscc: str
    kind: str
    """Code list of DOMAIN.md §4, e.g. A1 (no signboard), B6 (surplus not transferred)."""
    kind_name: str
    severity: Severity
    legal_basis: str
    found_at: UtcDatetime
    evidence_refs: list[str]


class _RectificationV1(ContractEvent):
    community_code: str
    company_uscc: str
    kind: str


@register("pubrev.inspection.RectificationOrdered.v1", INSPECTION_EVENTS)
class RectificationOrderedV1(_RectificationV1):
    deadline: UtcDatetime


@register("pubrev.inspection.RectificationVerified.v1", INSPECTION_EVENTS)
class RectificationVerifiedV1(_RectificationV1):
    verified_at: UtcDatetime
    late: bool


@register("pubrev.inspection.RectificationOverdue.v1", INSPECTION_EVENTS)
class RectificationOverdueV1(_RectificationV1):
    deadline: UtcDatetime


@register("pubrev.inspection.CrossCheckReported.v1", INSPECTION_EVENTS)
class CrossCheckReportedV1(ContractEvent):
    """`unit` is the checking unit."""

    checked_unit: str
    year: int
    quarter: int
    planned: int
    checked: int
    findings: int
    findings_by_kind: dict[str, int]
