"""The campaign's RPCs in casework's authorization matrix (issue 13 items 3 and 8): every RPC
× every identity × its relation to a hanjiang record, through the application, against the
declared policy and the must-deny oracle; and the decisions spelt out."""

from __future__ import annotations

import uuid

import pytest

from casework.application.access import POLICY
from casework.application.commands import RecordStageDone
from casework.domain.campaign.monthly_report import MonthlyReport
from pubrev_contracts.vocabulary.campaign import UNIT_REPORT
from servicekit.errors import NotFound, PermissionDenied
from servicekit.identity import Identity
from servicekit.policy import Resource
from services.casework.tests.support.campaign_authz import (
    CAMPAIGN_RPCS,
    REPORTER,
    UNIT,
    campaign_invokers,
    reported,
)
from tests.support.authz import RULES, cells, run_matrix

RECORD = Resource(unit=UNIT)


def test_every_campaign_rpc_has_a_row_and_an_invoker() -> None:
    assert set(campaign_invokers()) == CAMPAIGN_RPCS
    assert set(POLICY.by_rpc) >= CAMPAIGN_RPCS


def test_the_campaign_matrix() -> None:
    count, mismatches = run_matrix("casework", POLICY, RECORD, campaign_invokers(), "ListWarnings")
    assert not mismatches, "\n".join(map(str, mismatches))
    assert count == len(cells(RECORD)) * len(CAMPAIGN_RPCS)


def allowed(rpc: str) -> set[str]:
    return {
        c.identity.render()
        for c in cells(RECORD)
        if POLICY.decide(rpc, c.identity, RECORD) is not None
    }


def who(*texts: str) -> set[str]:
    return {RULES.parse(t).render() for t in texts}


def test_the_campaign_matrix_allows_exactly_these() -> None:
    bureau = who(
        *(
            f"agency=property-bureau;role={r};unit={u}"
            for r in ("officer", "inspector", "head")
            for u in (UNIT, "putian")
        )
    )
    discipline = who(*(f"agency=discipline;role=supervisor;unit={u}" for u in (UNIT, "putian")))
    auditor = who("agency=auditor;role=auditor;unit=putian")
    for rpc in ("GetCampaignProgress", "GetMonthlyReport"):
        assert allowed(rpc) == bureau | discipline | auditor, rpc
    deciders = {t for t in bureau if "role=inspector" not in t}
    assert allowed("RecordStageDone") == {t for t in deciders if f"unit={UNIT}" in t}
    assert allowed("SubmitMonthlyReport") == {t for t in deciders if f"unit={UNIT}" in t}
    assert allowed("SubmitProvinceBriefing") == {t for t in deciders if "unit=putian" in t}
    city = {t for t in bureau | discipline if "unit=putian" in t} | auditor
    for rpc in ("GetMonthlyCircular", "ExportMonthlyCircular"):
        assert allowed(rpc) == city, rpc


def test_a_reports_and_a_stage_records_history_follow_their_read_rules() -> None:
    """GetHistory of one record: a monthly report by GetMonthlyReport's rule, a stage record
    by GetCampaignProgress' (the unit's bureau and discipline office, the city, the auditor)."""
    app = reported()
    done = app.handle(REPORTER, RecordStageDone("st", UNIT, 2026, "mobilisation", ""))
    report_id = MonthlyReport.create_id(UNIT_REPORT, UNIT, 2026, 7)
    for record in (report_id, uuid.UUID(done.record_id)):
        for reader in (REPORTER, Identity("discipline", "supervisor", "putian")):
            assert app.read_history(reader, record, 0, 10)
        with pytest.raises((PermissionDenied, NotFound)):
            app.read_history(Identity("property-bureau", "officer", "licheng"), record, 0, 10)
