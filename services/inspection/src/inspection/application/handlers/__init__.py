"""The command handlers, by subdomain: the roster, plans and their draws, cross checks,
spot checks, findings entered directly, rectification (the company's evidence too),
objections, township inspections. `HANDLERS` maps each command type to its handler
(`ServiceApplication.handle` dispatches by it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from inspection.application import commands as c
from inspection.application.handlers import (
    checks,
    cross_checks,
    findings,
    objections,
    planning,
    rectification,
    roster,
    township,
)

HANDLERS: Mapping[type, Callable[..., Any]] = {
    c.RegisterInspector: roster.register_inspector,
    c.DeclareConflict: roster.declare_conflict,
    c.PlanSpotChecks: planning.plan_spot_checks,
    c.ContributeDrawEntropy: planning.contribute_draw_entropy,
    c.RedrawSpotChecks: planning.redraw_spot_checks,
    c.PlanCrossCheck: cross_checks.plan_cross_check,
    c.ReportCrossCheck: cross_checks.report_cross_check,
    c.RecordSpotCheck: checks.record_spot_check,
    c.VerifyRectification: rectification.verify_rectification,
    c.SweepRectificationDeadlines: rectification.sweep_deadlines,
    c.RecordFinding: findings.record_finding,
    c.SubmitRectificationEvidence: rectification.submit_rectification_evidence,
    c.ObjectToFinding: objections.object_to_finding,
    c.DecideObjection: objections.decide_objection,
    c.RecordTownshipInspection: township.record_township_inspection,
}
