"""Events published by the inspection service on pubrev.inspection.events.v1."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent, UtcDatetime, register
from pubrev_contracts.topics import INSPECTION_EVENTS

Severity = Literal["minor", "general", "serious"]
CheckingKind = Literal["city", "county", "cross", "direct", ""]
"""Who checked (plan 四（三）、四（四））: the city's own spot check, a county-level unit's, or a
cross-check team's; "" from a producer that did not yet say."""


class PlannedTargetV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    community_code: str
    reason: Literal[
        "handed_down",
        "major_petition",
        "typical_case",
        "complaint_lead",
        "zero_revenue",
        "overdue",
        "random",
    ]
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
    """`unit` plans (the city, a county-level unit, or a cross check's checking unit).

    Since the commit-reveal draw, a plan is published before it is drawn: `targets` is empty,
    `draw.seed` and `draw.drawn` are empty, `draw.pool_hash`/`pool_size` describe the whole
    candidate pool (`<code>:<reasons>` lines) and `draw.inspector_pool_hash` the roster; the
    targets follow in SpotCheckDrawn."""

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


@register("pubrev.inspection.SpotCheckDrawn.v1", INSPECTION_EVENTS)
class SpotCheckDrawnV1(ContractEvent):
    """Aggregate: the plan. Its 双随机 draw was executed: the service's secret (committed to
    when the plan was recorded) is revealed, and with the discipline office's contribution
    makes the seed = sha256 of the JSON array [secret, contribution, plan id] (scheme
    `commit-reveal-sha256-v1`). `round` > 1: the plan was re-drawn, for `redraw_reasons`."""

    year: int
    kind: Literal["yearly", "cross"]
    checked_unit: str
    round: int
    seed_scheme: str
    commitment: str
    secret: str
    contribution: str
    seed: str
    algorithm: str
    candidates_hash: str
    """sha256 of the candidate lines `<code>:<reason>,<reason>`, sorted."""
    candidates: int
    roster_hash: str
    """sha256 of the roster lines `<inspector>:<conflicting community>,…`, sorted."""
    targets: list[PlannedTargetV1]
    redraw_reasons: list[str]
    """Why each earlier round was discarded (oldest first); empty for a first draw."""


class ChecklistResultV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    item: str
    passed: bool


@register("pubrev.inspection.SpotCheckDone.v1", INSPECTION_EVENTS)
class SpotCheckDoneV1(ContractEvent):
    """`unit` is the community's (its jurisdiction); `checking_unit` and `checking_kind` say
    who checked it."""

    plan_id: UUID
    community_code: str
    company_uscc: str
    inspected_at: UtcDatetime
    inspectors: list[str]
    checklist: list[ChecklistResultV1]
    findings: int
    checking_unit: str = ""
    """The unit whose plan the check belongs to (putian for the city; a cross check's
    checking unit); "" when unknown (records made before it was kept)."""
    checking_kind: CheckingKind = ""


@register("pubrev.inspection.ViolationFound.v1", INSPECTION_EVENTS)
class ViolationFoundV1(ContractEvent):
    """Aggregate: the finding. `unit` is the community's (the jurisdiction that sees it and
    closes its rectification); `checking_unit` and `checking_kind` say who found it."""

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
    checking_unit: str = ""
    checking_kind: CheckingKind = ""
    party: Literal["company", "agency"] = "company"
    """Whose failure: a property company's (codes A–D: its credit, its rectification) or an
    agency's (E1–E3, plan 二（五）: reported to 智慧监督, never a company's credit)."""
    agency_unit: str = ""
    """For an agency's finding: the unit (or township) whose failure it records."""
    warning_id: UUID | None = None
    """The 智慧监督 warning this finding escalates, when it does (casework links the two)."""
    attachments: list[AttachmentRefV1] = Field(default_factory=list)


class _RectificationV1(ContractEvent):
    community_code: str
    company_uscc: str
    kind: str


@register("pubrev.inspection.RectificationOrdered.v1", INSPECTION_EVENTS)
class RectificationOrderedV1(_RectificationV1):
    """`unit` is the community's; the deadline is the last instant of the period's last day
    (Asia/Shanghai), moved past rest days by the holiday calendar."""

    deadline: UtcDatetime
    checking_unit: str = ""
    checking_kind: CheckingKind = ""
    deadline_basis: str = ""
    """The period's source and the calendar's (e.g. 本地配置…；《民法典》第二百零三条…)."""


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


@register("pubrev.inspection.FindingWithdrawn.v1", INSPECTION_EVENTS)
class FindingWithdrawnV1(ContractEvent):
    """Aggregate: the finding. The company's objection to it was upheld (or the bureau
    withdrew it): whatever it cost (credit points, a rectification, a warning) is undone."""

    community_code: str
    company_uscc: str
    kind: str
    reason: str
    withdrawn_at: UtcDatetime


@register("pubrev.inspection.RectificationEvidenceSubmitted.v1", INSPECTION_EVENTS)
class RectificationEvidenceSubmittedV1(_RectificationV1):
    """Aggregate: the finding. The company submitted its own evidence of rectification, for
    the bureau to verify (RectificationVerified follows, or the order stands)."""

    note: str
    attachments: list[AttachmentRefV1]
    submitted_at: UtcDatetime


@register("pubrev.inspection.TownshipInspectionRecorded.v1", INSPECTION_EVENTS)
class TownshipInspectionRecordedV1(ContractEvent):
    """Aggregate: the community's township-inspection ledger. A township's (镇（街道）) daily
    inspection of one community (plan 四（三）: townships inspect every community); `unit`
    is the community's."""

    community_code: str
    township: str
    inspected_on: str
    """The Asia/Shanghai date, YYYY-MM-DD."""
    problems: int
    inspector: str


@register("pubrev.inspection.FindingObjected.v1", INSPECTION_EVENTS)
class FindingObjectedV1(ContractEvent):
    """Aggregate: the finding. Its company objected (异议) within the objection period: the
    bureau that found it decides (FindingWithdrawn when upheld, ObjectionRejected when not);
    the finding and its rectification order stand meanwhile."""

    community_code: str
    company_uscc: str
    kind: str
    reason: str
    objected_at: UtcDatetime
    deadline: UtcDatetime
    """The end of the objection period (local configuration, counted as 民法典 Art. 201, 203)."""
    attachments: list[AttachmentRefV1] = Field(default_factory=list)


@register("pubrev.inspection.ObjectionRejected.v1", INSPECTION_EVENTS)
class ObjectionRejectedV1(ContractEvent):
    """Aggregate: the finding. The company's objection was rejected: the finding stands."""

    community_code: str
    company_uscc: str
    kind: str
    decision: str
    decided_at: UtcDatetime
