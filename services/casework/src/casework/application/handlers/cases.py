"""Handlers of the case commands (案件办理, DOMAIN.md §1, §7): complaints received, the
lifecycle to closure, police referrals; and the rectification case each finding opens (the
policy of the `casework.rectification` consumer).

Each handler admits the caller (access.POLICY), checks the command's fields (every bad field
at once), loads the case, authorizes on its facts, calls the case's verb (which holds the
rules: `domain/case.py`) and saves, once per request_id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from casework.application.access import POLICY, authorize, case_facts
from casework.application.commands import (
    AcknowledgeReferral,
    AssignCase,
    CaseAssigned,
    CaseChanged,
    CaseClosed,
    CaseFlaggedTypical,
    CaseReferredToPolice,
    CaseResolved,
    CloseCase,
    ComplaintReceived,
    FeedbackGiven,
    FlagTypicalCase,
    GiveFeedback,
    InvestigationStarted,
    JointMeetingRecorded,
    PoliceOutcomeReported,
    ReceiveComplaint,
    RecordJointMeeting,
    ReferralAcknowledged,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    StartInvestigation,
)
from casework.application.handlers.evidence import checked_evidence
from casework.domain.case import CHANNELS, FEEDBACK_CHANNELS, OFFENCES, POLICE_OUTCOMES, Case
from pubrev_contracts.vocabulary import identifiers as contact
from pubrev_contracts.vocabulary.agencies import SUBJECT_PATTERNS, SubjectKind
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.errors import NotFound, Validator
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from datetime import datetime

    from casework.application.app import CaseworkApplication

log = logging.getLogger(__name__)

POLICE_OFFICE = re.compile(SUBJECT_PATTERNS[SubjectKind.POLICE_OFFICE])
Changed = TypeVar("Changed", bound=CaseChanged)


class CaseCommand(Protocol):
    @property
    def request_id(self) -> str: ...

    @property
    def case_id(self) -> str: ...


def receive_complaint(
    app: CaseworkApplication, identity: Identity, cmd: ReceiveComplaint
) -> ComplaintReceived:
    POLICY.admit("ReceiveComplaint", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.require(
        cmd.channel in CHANNELS,
        "channel",
        "unknown_channel",
        f"one of {', '.join(CHANNELS)}",
        "投诉渠道不正确",
    )
    v.require(
        cmd.unit in COUNTY_UNITS,
        "unit",
        "unknown_unit",
        "the handling unit: one of the 7 county-level units",
        "承办单位不正确",
    )
    v.require(
        bool(cmd.category.strip()), "category", "required", "category required", "缺少投诉类别"
    )
    v.require(
        bool(cmd.community_code or cmd.company_uscc),
        "community_code",
        "subject_missing",
        "name a community or a company",
        "须注明被投诉的小区或物业服务企业",
    )
    # Complainants call from landlines too: the vocabulary's one contact-number rule.
    v.require(
        not cmd.complainant_phone or contact.is_contact_number(cmd.complainant_phone),
        "complainant_phone",
        contact.RULE,
        contact.DESCRIPTION,
        contact.DESCRIPTION_ZH,
    )
    # Stored in UTC, within the platform's window of the service's clock.
    received_at = v.require_instant(cmd.received_at, "received_at", app.clock(), "受理时间")
    v.raise_if_any()
    authorize(
        POLICY,
        "ReceiveComplaint",
        identity,
        Resource(unit=cmd.unit, company=cmd.company_uscc, community=cmd.community_code),
    )
    received = received_at or app.clock()

    def execute() -> tuple[list[Case], ComplaintReceived]:
        key = f"complaint:{app.random_id()}"
        sealed = app.vault.seal(
            Case.create_id(key), {"name": cmd.complainant_name, "phone": cmd.complainant_phone}
        )
        case = Case.receive_complaint(
            key,
            cmd.channel,
            cmd.major,
            cmd.unit,
            cmd.community_code,
            cmd.company_uscc,
            cmd.category,
            cmd.description,
            received,
            sealed,
            app.limits,
        )
        if case.due_provisional:
            log.warning(
                "complaint time limit ends in a year the holiday calendar lacks:"
                " the nominal day stands until the year is entered",
                extra={"case_key": key, "due_on": str(case.due_on)},
            )
        return [case], ComplaintReceived(str(case.id), case.due_at.isoformat())

    return app.run_command(cmd, ComplaintReceived, execute)


def assign_case(app: CaseworkApplication, identity: Identity, cmd: AssignCase) -> CaseAssigned:
    POLICY.admit("AssignCase", identity)
    v = _validator(cmd)
    v.require(
        cmd.unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit", "承办单位不正确"
    )
    v.raise_if_any()
    return run_on_case(
        app,
        identity,
        cmd,
        CaseAssigned,
        lambda case: case.assign(cmd.unit, cmd.township, cmd.assignee),
        moves_to=cmd.unit,
    )


def start_investigation(
    app: CaseworkApplication, identity: Identity, cmd: StartInvestigation
) -> InvestigationStarted:
    POLICY.admit("StartInvestigation", identity)
    _validator(cmd).raise_if_any()
    return run_on_case(app, identity, cmd, InvestigationStarted, Case.start_investigation)


def resolve_case(app: CaseworkApplication, identity: Identity, cmd: ResolveCase) -> CaseResolved:
    POLICY.admit("ResolveCase", identity)
    v = _validator(cmd)
    v.require(bool(cmd.result.strip()), "result", "required", "the result", "缺少处理结果")
    evidence = checked_evidence(app, v, cmd.attachments) if cmd.attachments else []
    v.raise_if_any()
    return run_on_case(
        app, identity, cmd, CaseResolved, lambda case: case.resolve(cmd.result, evidence)
    )


def give_feedback(app: CaseworkApplication, identity: Identity, cmd: GiveFeedback) -> FeedbackGiven:
    POLICY.admit("GiveFeedback", identity)
    v = _validator(cmd)
    v.require(
        cmd.channel in FEEDBACK_CHANNELS,
        "channel",
        "unknown_channel",
        f"one of {', '.join(FEEDBACK_CHANNELS)}",
        "反馈方式不正确",
    )
    v.require(bool(cmd.content.strip()), "content", "required", "what was said", "缺少反馈内容")
    v.raise_if_any()
    return run_on_case(
        app,
        identity,
        cmd,
        FeedbackGiven,
        lambda case: case.give_feedback(cmd.channel, cmd.content),
    )


def close_case(app: CaseworkApplication, identity: Identity, cmd: CloseCase) -> CaseClosed:
    POLICY.admit("CloseCase", identity)
    _validator(cmd).raise_if_any()
    return run_on_case(app, identity, cmd, CaseClosed, lambda case: case.close(app.clock()))


def record_joint_meeting(
    app: CaseworkApplication, identity: Identity, cmd: RecordJointMeeting
) -> JointMeetingRecorded:
    POLICY.admit("RecordJointMeeting", identity)
    v = _validator(cmd)
    v.require(bool(cmd.agencies), "agencies", "required", "who met", "缺少参会单位")
    v.require(
        bool(cmd.decision.strip()), "decision", "required", "what was decided", "缺少会议决定"
    )
    v.raise_if_any()
    return run_on_case(
        app,
        identity,
        cmd,
        JointMeetingRecorded,
        lambda case: case.record_joint_meeting(cmd.meeting_date, list(cmd.agencies), cmd.decision),
    )


def flag_typical_case(
    app: CaseworkApplication, identity: Identity, cmd: FlagTypicalCase
) -> CaseFlaggedTypical:
    POLICY.admit("FlagTypicalCase", identity)
    _validator(cmd).raise_if_any()
    return run_on_case(
        app, identity, cmd, CaseFlaggedTypical, lambda case: case.flag_typical(cmd.reason)
    )


def refer_to_police(
    app: CaseworkApplication, identity: Identity, cmd: ReferToPolice
) -> CaseReferredToPolice:
    POLICY.admit("ReferToPolice", identity)
    v = _validator(cmd)
    v.require(
        bool(cmd.police_office),
        "police_office",
        "required",
        "the police office",
        "缺少接收移送的公安机关",
    )
    v.require(
        cmd.suspected_offence in OFFENCES,
        "suspected_offence",
        "unknown_offence",
        f"one of {', '.join(OFFENCES)}",
        "涉嫌罪名不正确",
    )
    v.raise_if_any()
    return run_on_case(
        app,
        identity,
        cmd,
        CaseReferredToPolice,
        lambda case: case.refer_to_police(
            cmd.police_office, cmd.suspected_offence, list(cmd.evidence_refs), cmd.summary
        ),
    )


def acknowledge_referral(
    app: CaseworkApplication, identity: Identity, cmd: AcknowledgeReferral
) -> ReferralAcknowledged:
    POLICY.admit("AcknowledgeReferral", identity)
    _validator(cmd).raise_if_any()
    return run_on_case(app, identity, cmd, ReferralAcknowledged, Case.police_acknowledge)


def report_police_outcome(
    app: CaseworkApplication, identity: Identity, cmd: ReportPoliceOutcome
) -> PoliceOutcomeReported:
    POLICY.admit("ReportPoliceOutcome", identity)
    v = _validator(cmd)
    v.require(
        cmd.outcome in POLICE_OUTCOMES,
        "outcome",
        "unknown_outcome",
        f"one of {', '.join(POLICE_OUTCOMES)}",
        "处理结果不正确",
    )
    v.raise_if_any()
    return run_on_case(
        app,
        identity,
        cmd,
        PoliceOutcomeReported,
        lambda case: case.report_police_outcome(cmd.outcome, cmd.note),
    )


# -- the consumer's policy ---------------------------------------------------------------------


def on_rectification_ordered(
    app: CaseworkApplication,
    delivery: DeliveryRef,
    *,
    finding_id: str,
    unit: str,
    community_code: str,
    company_uscc: str,
    kind: str,
    deadline: datetime,
    found_at: datetime,
) -> bool:
    """Each finding's RectificationOrdered opens its rectification case, once (a finding
    ordered again finds its case: only the delivery is tracked)."""
    if app.exists(Case.rectification_id(finding_id)):
        return app.record(delivery=delivery)
    case = Case.open_rectification(
        finding_id, unit, community_code, company_uscc, kind, deadline, found_at
    )
    return app.record(case, delivery=delivery)


# -- shared by the handlers of a case's commands -------------------------------------------------


def run_on_case(
    app: CaseworkApplication,
    identity: Identity,
    cmd: CaseCommand,
    result: type[Changed],
    verb: Callable[[Case], None],
    moves_to: str = "",
) -> Changed:
    """Calls `verb` on the command's case and saves it, once per request_id. The caller's
    right is checked on the case before the command, and again on the case as the command
    finds it (it may have moved meanwhile) under the policy row of the command's RPC (its
    type's name)."""
    rpc = type(cmd).__name__
    may_act(identity, rpc, app.case(cmd.case_id), moves_to)

    def execute() -> tuple[list[Case], Changed]:
        case = app.case(cmd.case_id)
        may_act(identity, rpc, case, moves_to)
        verb(case)
        return [case], result(cmd.case_id, case.version)

    return app.run_command(cmd, result, execute)


def may_act(identity: Identity, rpc: str, case: Case, moves_to: str = "") -> None:
    """PermissionDenied unless the caller may act on the case under `rpc`; NotFound when it
    may not even read it (a case it may not read does not exist for it). Moving a case
    (`moves_to` another unit) puts it in that unit: the caller's jurisdiction must hold
    there too, so only the city moves a case across units (DOMAIN.md §2)."""
    facts = case_facts(case)
    if (
        POLICY.decide(rpc, identity, facts) is None
        and POLICY.decide("GetCase", identity, facts) is None
    ):
        raise NotFound(f"case {case.id} does not exist", "案件不存在")
    authorize(POLICY, rpc, identity, facts)
    if moves_to and moves_to != case.unit:
        authorize(POLICY, rpc, identity, replace(facts, unit=moves_to))


def _validator(cmd: CaseCommand) -> Validator:
    v = Validator()
    v.require_request_id(cmd.request_id)
    return v
