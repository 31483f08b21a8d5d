"""Township inspections (镇（街道）日常检查): a township enters each day's inspection of a
community of its area in the community's ledger (plan 四（三）、二（五））."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspection.application.commands import (
    RecordTownshipInspection,
    TownshipInspectionEntered,
    parse_date,
)
from inspection.application.handlers.checks import community_watch
from inspection.domain.township_inspection_ledger import TownshipInspectionLedger
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def record_township_inspection(
    app: InspectionApplication, identity: Identity, cmd: RecordTownshipInspection
) -> TownshipInspectionEntered:
    app.policy.admit("RecordTownshipInspection", identity)
    cmd.check().raise_if_any()
    inspected_on = parse_date(cmd.inspected_on)
    assert inspected_on is not None  # cmd.check
    watch = community_watch(app, cmd.community_code)
    app.policy.authorize(
        "RecordTownshipInspection",
        identity,
        Resource(unit=watch.unit, company=watch.company_uscc, community=watch.community_code),
    )
    today = app.clock().astimezone(SHANGHAI).date()

    def execute() -> tuple[list[TownshipInspectionLedger], TownshipInspectionEntered]:
        ledger = app.find(
            TownshipInspectionLedger.create_id(cmd.community_code), TownshipInspectionLedger
        ) or TownshipInspectionLedger(watch.community_code, watch.unit)
        ledger.record(
            cmd.township.strip(),
            watch.township,
            inspected_on,
            today,
            cmd.inspector.strip(),
            [p.strip() for p in cmd.problems],
            cmd.note.strip(),
            app.rules,
        )
        return [ledger], TownshipInspectionEntered(
            str(ledger.id), ledger.community_code, inspected_on.isoformat(), len(cmd.problems)
        )

    return app.run_command(cmd, TownshipInspectionEntered, execute)
