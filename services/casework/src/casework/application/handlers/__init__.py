"""The command handlers of casework by subdomain, and `HANDLERS`: command type → handler
`(app, identity, command) -> result`, which `CaseworkApplication.handle` dispatches on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casework.application import commands as c
from casework.application.handlers import (
    cases,
    interviews,
    personal_data,
    public,
    publication,
    warnings,
)
from casework.application.handlers.campaign import record_stage_done
from casework.application.handlers.reports import submit_monthly_report, submit_province_briefing

HANDLERS: dict[type, Callable[..., Any]] = {
    c.ReceiveComplaint: cases.receive_complaint,
    c.AssignCase: cases.assign_case,
    c.StartInvestigation: cases.start_investigation,
    c.ResolveCase: cases.resolve_case,
    c.GiveFeedback: cases.give_feedback,
    c.CloseCase: cases.close_case,
    c.RecordJointMeeting: cases.record_joint_meeting,
    c.FlagTypicalCase: cases.flag_typical_case,
    c.ReferToPolice: cases.refer_to_police,
    c.AcknowledgeReferral: cases.acknowledge_referral,
    c.ReportPoliceOutcome: cases.report_police_outcome,
    c.ShredPersonalData: personal_data.shred_personal_data,
    c.ReadComplainant: personal_data.read_complainant,
    # issue 13, part B: the campaign calendar and the monthly reports
    c.RecordStageDone: record_stage_done,
    c.SubmitMonthlyReport: submit_monthly_report,
    c.SubmitProvinceBriefing: submit_province_briefing,
    c.AcknowledgeWarning: warnings.acknowledge_warning,
    c.CloseWarning: warnings.close_warning,
    # issue 13, part A: the public's complaints, typical cases published, interviews
    c.LodgeComplaint: public.lodge_complaint,
    c.GetComplaintStatus: public.get_complaint_status,
    c.PublishTypicalCase: publication.publish_typical_case,
    c.RecordInterview: interviews.record_interview,
}
