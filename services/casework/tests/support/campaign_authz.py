"""The campaign's RPCs in casework's authorization matrix: each called with valid arguments on
a fresh application in the state it needs (a July of 2026 in hanjiang, the matrix's unit),
so that an allowed call succeeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    RecordStageDone,
    SubmitMonthlyReport,
    SubmitProvinceBriefing,
)
from casework.entrypoints.grpc_api import CaseworkServicer
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.campaign import UNIT_REPORT
from servicekit.identity import Identity, bind_identity, reset_identity
from servicekit.testing import FakeClock
from services.casework.tests.support.answers import run
from services.casework.tests.support.scenario import app_with_vault
from tests.support.authz import Invokers

UNIT = "hanjiang"
YEAR = 2026
JULY = datetime(2026, 7, 20, 10, tzinfo=SHANGHAI).astimezone(UTC)
REPORTER = Identity("property-bureau", "officer", UNIT)

CAMPAIGN_READS = frozenset(
    {"GetCampaignProgress", "GetMonthlyReport", "GetMonthlyCircular", "ExportMonthlyCircular"}
)
"""The campaign's read RPCs (tests/support/must_deny.READS["casework"] should name them)."""
CAMPAIGN_RPCS = CAMPAIGN_READS | {
    "RecordStageDone",
    "SubmitMonthlyReport",
    "SubmitProvinceBriefing",
}


def july() -> CaseworkApplication:
    return app_with_vault(FakeClock(JULY))


def reported() -> CaseworkApplication:
    app = july()
    app.handle(REPORTER, SubmitMonthlyReport("s", UNIT, YEAR, 7, "简报"))
    return app


def export(identity: Identity) -> object:
    servicer = CaseworkServicer(july())
    request = pb.ExportMonthlyCircularRequest(year=YEAR, month=7, format="csv")

    async def call() -> object:
        token = bind_identity(identity)
        try:
            return await servicer.ExportMonthlyCircular(request, cast(Any, None))
        finally:
            reset_identity(token)

    return asyncio.run(call())


def campaign_invokers() -> Invokers:
    return {
        "GetCampaignProgress": lambda i: queries.campaign_progress(july(), i, YEAR, UNIT),
        "RecordStageDone": lambda i: july().handle(
            i, RecordStageDone("m", UNIT, YEAR, "mobilisation", "")
        ),
        "SubmitMonthlyReport": lambda i: july().handle(
            i, SubmitMonthlyReport("m", UNIT, YEAR, 7, "")
        ),
        "SubmitProvinceBriefing": lambda i: july().handle(
            i, SubmitProvinceBriefing("m", YEAR, 7, "")
        ),
        "GetMonthlyReport": lambda i: queries.monthly_report_view(
            reported(), i, UNIT_REPORT, UNIT, YEAR, 7
        ),
        "GetMonthlyCircular": lambda i: run(queries.monthly_circular(july(), i, YEAR, 7)),
        "ExportMonthlyCircular": export,
    }
