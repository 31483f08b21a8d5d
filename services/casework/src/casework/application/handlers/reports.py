"""Handlers of the monthly reports (月度报送, issue 13 item 8; the aggregate:
domain/campaign/monthly_report.py).

- SubmitMonthlyReport: a county-level unit's report of a month to the city, its figures
  assembled from the ledgers casework keeps (application/queries.month_figures).
- SubmitProvinceBriefing: the city's briefing of a month to the province, its figures the
  units' summed, with the units whose reports were in.

A report submitted after its due day is late: its `monthly_report_late` (or
`province_briefing_late`) warning is raised if the sweep has not raised it yet, so a late
report is always on the 智慧监督 record, and closed by the platform with the report as its
evidence, in the same commit as the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from casework.application.access import POLICY, authorize
from casework.application.commands import (
    MonthlyReportSubmitted,
    ProvinceBriefingSubmitted,
    SubmitMonthlyReport,
    SubmitProvinceBriefing,
)
from casework.application.handlers.campaign import close_by_platform
from casework.application.handlers.warnings import new_warnings
from casework.application.queries import (
    YEARS,
    briefing_figures,
    month_figures,
    reported_units,
)
from casework.domain.campaign.monthly_report import MonthlyReport
from casework.domain.warnings.campaign_rules import report_late
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.vocabulary.campaign import PROVINCE_BRIEFING, UNIT_REPORT, MonthlyDuty
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from servicekit.errors import Validator
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

BRIEFING_MAX = 20000
"""A briefing's text (工作简报: progress, experience): local configuration, a few pages."""


def submit_monthly_report(
    app: CaseworkApplication, identity: Identity, cmd: SubmitMonthlyReport
) -> MonthlyReportSubmitted:
    """By the unit's own bureau (officers and heads)."""
    POLICY.admit("SubmitMonthlyReport", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.require(cmd.unit in COUNTY_UNITS, "unit", "unknown_unit", "a county-level unit", "单位不正确")
    _check_month(v, cmd.year, cmd.month, cmd.briefing)
    v.raise_if_any()
    authorize(POLICY, "SubmitMonthlyReport", identity, Resource(unit=cmd.unit))
    duty = app.warning_rules.campaign.monthly(cmd.year, UNIT_REPORT)

    def execute() -> tuple[list[MonthlyReport | SupervisionWarning], MonthlyReportSubmitted]:
        report, warnings = _submit(
            app,
            duty,
            cmd.unit,
            cmd.month,
            identity,
            month_figures(app, cmd.unit, cmd.year, cmd.month),
            [],
            cmd.briefing,
        )
        return [report, *warnings], MonthlyReportSubmitted(
            str(report.id),
            report.unit,
            report.year,
            report.month,
            report.due_on.isoformat(),
            report.late,
        )

    return app.run_command(cmd, MonthlyReportSubmitted, execute)


def submit_province_briefing(
    app: CaseworkApplication, identity: Identity, cmd: SubmitProvinceBriefing
) -> ProvinceBriefingSubmitted:
    """By the city's bureau (officers and heads)."""
    POLICY.admit("SubmitProvinceBriefing", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    _check_month(v, cmd.year, cmd.month, cmd.briefing)
    v.raise_if_any()
    authorize(POLICY, "SubmitProvinceBriefing", identity, Resource(unit=CITY))
    duty = app.warning_rules.campaign.monthly(cmd.year, PROVINCE_BRIEFING)

    def execute() -> tuple[list[MonthlyReport | SupervisionWarning], ProvinceBriefingSubmitted]:
        report, warnings = _submit(
            app,
            duty,
            CITY,
            cmd.month,
            identity,
            briefing_figures(app, cmd.year, cmd.month),
            reported_units(app, cmd.year, cmd.month),
            cmd.briefing,
        )
        return [report, *warnings], ProvinceBriefingSubmitted(
            str(report.id),
            report.year,
            report.month,
            report.due_on.isoformat(),
            report.late,
            list(report.units_reported),
        )

    return app.run_command(cmd, ProvinceBriefingSubmitted, execute)


def _check_month(v: Validator, year: int, month: int, briefing: str) -> None:
    v.require(YEARS[0] <= year <= YEARS[1], "year", "year_range", "2020–2100", "年度不正确")
    v.require(1 <= month <= 12, "month", "month_range", "1–12", "月份不正确")
    v.require(
        len(briefing) <= BRIEFING_MAX,
        "briefing",
        "too_long",
        f"at most {BRIEFING_MAX} characters",
        f"工作简报不能超过{BRIEFING_MAX}字",
    )


def _submit(
    app: CaseworkApplication,
    duty: MonthlyDuty,
    unit: str,
    month: int,
    identity: Identity,
    figures: dict[str, int],
    units_reported: list[str],
    briefing: str,
) -> tuple[MonthlyReport, list[SupervisionWarning]]:
    existing = app.find(MonthlyReport.create_id(duty.key, unit, duty.year, month), MonthlyReport)
    if existing is not None:
        existing.submit_again()
    now = app.clock()
    report = MonthlyReport.submit(
        duty, unit, month, identity.render(), now, figures, units_reported, briefing.strip()
    )
    return report, _late(app, duty, unit, month, now, report)


def _late(
    app: CaseworkApplication,
    duty: MonthlyDuty,
    unit: str,
    month: int,
    now: datetime,
    report: MonthlyReport,
) -> list[SupervisionWarning]:
    """The late report's warning, raised now if the sweep has not, and closed by the
    platform with the report as evidence."""
    due = report_late(duty, unit, month, now, now if report.late else None)
    if due is None:
        return []
    warning = app.find(due.warning_id, SupervisionWarning) or next(
        iter(new_warnings(app, [due])), None
    )
    return close_by_platform(
        warning, now, [f"monthly-report:{report.id}"], f"{report.period}报送已提交（逾期）"
    )
