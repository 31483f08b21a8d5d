"""Events of the casework service on pubrev.casework.events.v1.

Defined ahead of the service (its issue builds it) because inspection's spot-check pools
take complaint leads and cases handed down from them. The complainant's name and phone are
personal data: they never travel on the bus (DOMAIN.md §7), not even encrypted.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from pubrev_contracts.events.base import AttachmentRefV1, ContractEvent, UtcDatetime, register
from pubrev_contracts.topics import CASEWORK_EVENTS
from pubrev_contracts.vocabulary.units import Unit

Channel = Literal["hotline_12345", "phone", "email", "letters_visits", "handed_down", "public"]
"""public: lodged by an owner through a public front end (a provincial app, a web page)."""


@register("pubrev.casework.ComplaintReceived.v1", CASEWORK_EVENTS)
class ComplaintReceivedV1(ContractEvent):
    """A complaint or lead (aggregate: the case). `unit` is the handling unit."""

    channel: Channel
    """handed_down: handed down by a superior (上级交办)."""
    major: bool
    """A major petition (重大信访)."""
    community_code: str
    """Empty when the complaint names no community."""
    company_uscc: str
    category: str
    received_at: UtcDatetime


@register("pubrev.casework.CaseOpened.v1", CASEWORK_EVENTS)
class CaseOpenedV1(ContractEvent):
    """A rectification case opened by an inspection finding."""

    finding_id: str
    community_code: str
    company_uscc: str
    category: str
    due_at: UtcDatetime


@register("pubrev.casework.CaseAssigned.v1", CASEWORK_EVENTS)
class CaseAssignedV1(ContractEvent):
    township: str
    assignee: str


@register("pubrev.casework.FeedbackGiven.v1", CASEWORK_EVENTS)
class FeedbackGivenV1(ContractEvent):
    """The complainant was told the result (the content stays in casework)."""

    channel: str


@register("pubrev.casework.CaseClosed.v1", CASEWORK_EVENTS)
class CaseClosedV1(ContractEvent):
    closed_at: UtcDatetime
    overdue: bool


@register("pubrev.casework.CaseReferredToPolice.v1", CASEWORK_EVENTS)
class CaseReferredToPoliceV1(ContractEvent):
    police_office: str
    suspected_offence: str
    evidence_count: int


@register("pubrev.casework.PoliceAcknowledged.v1", CASEWORK_EVENTS)
class PoliceAcknowledgedV1(ContractEvent):
    police_office: str


@register("pubrev.casework.WarningRaised.v1", CASEWORK_EVENTS)
class WarningRaisedV1(ContractEvent):
    """A warning of the 智慧监督 rules (DOMAIN.md §8), raised once per rule, subject and period."""

    rule: str
    subject_kind: str
    subject: str
    period: str
    details: dict[str, object]
    rules_version: str


@register("pubrev.casework.WarningEscalated.v1", CASEWORK_EVENTS)
class WarningEscalatedV1(ContractEvent):
    """Aggregate: the warning. Inspection recorded a finding citing the warning (an E finding
    against an agency, or a company's finding): the two stay linked (issue 13 item 2)."""

    rule: str
    subject: str
    finding_id: str
    kind: str
    escalated_at: UtcDatetime


@register("pubrev.casework.CampaignStageRecorded.v1", CASEWORK_EVENTS)
class CampaignStageRecordedV1(ContractEvent):
    """A unit recorded a stage of the campaign calendar it did itself (its mobilisation, its
    guidance on the self-inspection ledgers, its summary, its review). `unit` is the unit."""

    year: int
    stage: str
    due_on: str
    """The stage's last day (Asia/Shanghai), YYYY-MM-DD."""
    late: bool
    recorded_at: UtcDatetime


@register("pubrev.casework.MonthlyReportSubmitted.v1", CASEWORK_EVENTS)
class MonthlyReportSubmittedV1(ContractEvent):
    """A monthly report: a county-level unit's to the city (duty unit_report, by the 25th) or
    the city's briefing to the province (province_briefing, by the 30th), with the figures
    assembled from casework's ledgers. `unit` is the reporting unit."""

    duty: Literal["unit_report", "province_briefing"]
    year: int
    month: int
    due_on: str
    """The day it was due (Asia/Shanghai, moved past rest days), YYYY-MM-DD."""
    late: bool
    submitted_at: UtcDatetime
    figures: dict[str, int]
    units_reported: list[str]
    """For the briefing: the county-level units whose reports of the month were in."""


@register("pubrev.casework.WarningClosed.v1", CASEWORK_EVENTS)
class WarningClosedV1(ContractEvent):
    rule: str
    subject: str
    evidence_count: int


# -- issue 13: typical cases published, interviews ------------------------------------------


@register("pubrev.casework.TypicalCasePublished.v1", CASEWORK_EVENTS)
class TypicalCasePublishedV1(ContractEvent):
    """A closed case published as a typical case (通报曝光, DOMAIN.md §7): a public record.
    Aggregate: the year's register of typical cases; `unit` is the case's. The title and
    summary name no complainant and hold no phone or identity-card number."""

    case_id: str
    title: str
    summary: str
    company_uscc: str
    """The company the publication names; empty when it names none."""
    published_on: dt.date
    """Asia/Shanghai."""
    category: str


@register("pubrev.casework.InterviewRecorded.v1", CASEWORK_EVENTS)
class InterviewRecordedV1(ContractEvent):
    """An interview (约谈) held and recorded. Aggregate: the interview ledger of `unit` (the
    unit it is about) and the year it was held."""

    interview_id: str
    interviewer_unit: Unit
    """The unit whose bureau held it (the city for a county-level unit's)."""
    subject_kind: Literal["company", "unit", "township"]
    subject: str
    """The company's USCC, the unit, or the township's name."""
    reason: str
    warning_ids: list[str]
    """The 智慧监督 warnings that led to it (casework's)."""
    finding_ids: list[str]
    """The findings that led to it (inspection's)."""
    held_on: dt.date
    """Asia/Shanghai."""
    outcome: str
    attachments: list[AttachmentRefV1] = Field(default_factory=list)
