"""The campaign's RPCs of pubrev.casework.v1.CaseworkService (issue 13 items 3 and 8): the
progress in the calendar's stages, a unit's own stage records, the monthly reports and the
city's monthly circular. pb request → command or query explicitly, result → pb explicitly;
`CaseworkServicer` (grpc_api.py) takes these methods from `CampaignRpcs`."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import grpc

from casework.adapters.ledger_files import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from casework.application import campaign as queries
from casework.application import commands as c
from casework.application.app import CaseworkApplication
from casework.domain.campaign.circular import INDICATORS, RANKING_BASIS
from casework.domain.campaign.monthly_report import MonthlyReport
from pubrev.casework.v1 import casework_pb2 as pb
from servicekit.errors import Validator
from servicekit.identity import current_identity

Context = grpc.aio.ServicerContext[Any, Any]
_FIGURE_NAMES = dict(queries.FIGURES)


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def stage_to_pb(row: queries.StageRow) -> pb.StageProgress:
    return pb.StageProgress(
        stage=row.stage.key,
        stage_name=row.stage.name,
        unit=row.unit,
        due_on=row.stage.due.isoformat(),
        basis=row.stage.basis,
        counted=row.counted,
        done=row.done,
        expected=row.expected,
        expected_by_now=row.expected_by_now,
        tolerance_percent=row.tolerance_percent,
        behind=row.behind,
        by_pace=row.by_pace,
        recorded_on=_day(row.recorded_on),
        warning_id=str(row.warning.id) if row.warning is not None else "",
        warning_status=row.warning.status if row.warning is not None else "",
    )


def report_status_to_pb(row: queries.ReportRow) -> pb.MonthlyReportStatus:
    return pb.MonthlyReportStatus(
        duty=row.duty,
        unit=row.unit,
        month=row.month,
        due_on=_day(row.due_on),
        status=row.status,
        submitted_at=_utc(row.report.submitted_at) if row.report is not None else "",
        report_id=str(row.report.id) if row.report is not None else "",
    )


def report_to_pb(report: MonthlyReport) -> pb.GetMonthlyReportResponse:
    return pb.GetMonthlyReportResponse(
        report_id=str(report.id),
        duty=report.duty,
        unit=report.unit,
        year=report.year,
        month=report.month,
        due_on=report.due_on.isoformat(),
        due_basis=report.due_basis,
        late=report.late,
        submitted_by=report.submitted_by,
        submitted_at=_utc(report.submitted_at),
        figures=[
            pb.ReportFigure(key=key, name=_FIGURE_NAMES.get(key, key), value=value)
            for key, value in report.figures.items()
        ],
        units_reported=list(report.units_reported),
        briefing=report.briefing,
    )


def circular_to_pb(circular: queries.MonthlyCircular) -> pb.GetMonthlyCircularResponse:
    return pb.GetMonthlyCircularResponse(
        year=circular.year,
        month=circular.month,
        as_of=_utc(circular.as_of),
        disclosure_quarter=circular.disclosure_quarter,
        indicators=[
            pb.Indicator(
                key=i.key,
                name=i.name,
                target_percent=i.target_percent or 0,
                basis=i.basis,
            )
            for i in INDICATORS
        ],
        ranking_basis=RANKING_BASIS,
        standings=[
            pb.UnitStanding(
                unit=s.unit,
                overall_rank=s.overall_rank,
                rank_sum=s.rank_sum,
                values=[
                    pb.IndicatorValue(
                        key=i.key,
                        numerator=s.rates[i.key].numerator,
                        denominator=s.rates[i.key].denominator,
                        basis_points=_bp(s.rates[i.key].basis_points),
                        rank=s.ranks[i.key],
                    )
                    for i in INDICATORS
                ],
                report_status=circular.report_status[s.unit],
            )
            for s in circular.standings
        ],
    )


def _bp(value: int | None) -> int:
    return -1 if value is None else value


class CampaignRpcs:
    app: CaseworkApplication

    async def GetCampaignProgress(
        self, request: pb.GetCampaignProgressRequest, context: Context
    ) -> pb.GetCampaignProgressResponse:
        progress = await asyncio.to_thread(
            queries.campaign_progress, self.app, current_identity(), request.year, request.unit
        )
        return pb.GetCampaignProgressResponse(
            year=progress.year,
            calendar_version=progress.version,
            as_of=_utc(progress.as_of),
            current_stages=progress.current_stages,
            stages=[stage_to_pb(r) for r in progress.stages],
            reports=[report_status_to_pb(r) for r in progress.reports],
        )

    async def RecordStageDone(
        self, request: pb.RecordStageDoneRequest, context: Context
    ) -> pb.RecordStageDoneResponse:
        command = c.RecordStageDone(
            request_id=request.request_id,
            unit=request.unit,
            year=request.year,
            stage=request.stage,
            note=request.note,
        )
        done: c.StageDoneRecorded = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.RecordStageDoneResponse(
            record_id=done.record_id,
            unit=done.unit,
            year=done.year,
            stage=done.stage,
            due_on=done.due_on,
            late=done.late,
        )

    async def SubmitMonthlyReport(
        self, request: pb.SubmitMonthlyReportRequest, context: Context
    ) -> pb.SubmitMonthlyReportResponse:
        command = c.SubmitMonthlyReport(
            request_id=request.request_id,
            unit=request.unit,
            year=request.year,
            month=request.month,
            briefing=request.briefing,
        )
        submitted: c.MonthlyReportSubmitted = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.SubmitMonthlyReportResponse(
            report_id=submitted.report_id,
            unit=submitted.unit,
            year=submitted.year,
            month=submitted.month,
            due_on=submitted.due_on,
            late=submitted.late,
        )

    async def SubmitProvinceBriefing(
        self, request: pb.SubmitProvinceBriefingRequest, context: Context
    ) -> pb.SubmitProvinceBriefingResponse:
        command = c.SubmitProvinceBriefing(
            request_id=request.request_id,
            year=request.year,
            month=request.month,
            briefing=request.briefing,
        )
        submitted: c.ProvinceBriefingSubmitted = await asyncio.to_thread(
            self.app.handle, current_identity(), command
        )
        return pb.SubmitProvinceBriefingResponse(
            report_id=submitted.report_id,
            year=submitted.year,
            month=submitted.month,
            due_on=submitted.due_on,
            late=submitted.late,
            units_reported=submitted.units_reported,
        )

    async def GetMonthlyReport(
        self, request: pb.GetMonthlyReportRequest, context: Context
    ) -> pb.GetMonthlyReportResponse:
        report = await asyncio.to_thread(
            queries.monthly_report_view,
            self.app,
            current_identity(),
            request.duty or "unit_report",
            request.unit,
            request.year,
            request.month,
        )
        return report_to_pb(report)

    async def GetMonthlyCircular(
        self, request: pb.GetMonthlyCircularRequest, context: Context
    ) -> pb.GetMonthlyCircularResponse:
        circular = await asyncio.to_thread(
            queries.monthly_circular, self.app, current_identity(), request.year, request.month
        )
        return circular_to_pb(circular)

    async def ExportMonthlyCircular(
        self, request: pb.ExportMonthlyCircularRequest, context: Context
    ) -> pb.ExportMonthlyCircularResponse:
        v = Validator()
        v.require(
            request.format in ("csv", "xlsx"),
            "format",
            "unknown_format",
            "csv or xlsx",
            "导出格式须为csv或xlsx",
        )
        v.raise_if_any()
        circular = await asyncio.to_thread(
            queries.monthly_circular, self.app, current_identity(), request.year, request.month
        )
        rows, basis = queries.circular_rows(circular), queries.basis_rows(circular)
        stem = f"circular-{request.year:04d}-{request.month:02d}"
        if request.format == "csv":
            files = [
                pb.LedgerFile(
                    name=f"{stem}.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.CIRCULAR_COLUMNS, rows),
                    rows=len(rows),
                ),
                pb.LedgerFile(
                    name=f"{stem}-basis.csv",
                    content_type=CSV_TYPE,
                    data=to_csv(queries.BASIS_COLUMNS, basis),
                    rows=len(basis),
                ),
            ]
        else:
            data = to_xlsx(
                [
                    ("月度通报", queries.CIRCULAR_COLUMNS, rows),
                    ("指标依据", queries.BASIS_COLUMNS, basis),
                ]
            )
            files = [
                pb.LedgerFile(
                    name=f"{stem}.xlsx", content_type=XLSX_TYPE, data=data, rows=len(rows)
                )
            ]
        return pb.ExportMonthlyCircularResponse(files=files)
