"""Cross checks (交叉检查, plan 四（四）): the city sends one unit's inspectors to check
another unit's communities for a quarter, and the checking unit reports what they found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspection.application.commands import (
    CrossCheckPlanned,
    CrossCheckReported,
    PlanCrossCheck,
    ReportCrossCheck,
)
from inspection.application.handlers.planning import communities, new_commitment, roster
from inspection.domain.spot_check_plan import SpotCheckPlan
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import RuleViolated
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def plan_cross_check(
    app: InspectionApplication, identity: Identity, cmd: PlanCrossCheck
) -> CrossCheckPlanned:
    app.policy.admit("PlanCrossCheck", identity)
    cmd.check().raise_if_any()
    app.policy.authorize("PlanCrossCheck", identity, Resource(unit=CITY))

    def execute() -> tuple[list[SpotCheckPlan], CrossCheckPlanned]:
        if app.exists(
            SpotCheckPlan.cross_id(cmd.year, cmd.quarter, cmd.checking_unit, cmd.checked_unit)
        ):
            raise RuleViolated("this cross check is planned already", "该交叉检查已部署")
        plan = SpotCheckPlan.cross(
            cmd.year,
            cmd.quarter,
            cmd.checking_unit,
            cmd.checked_unit,
            cmd.communities,
            communities(app, cmd.checked_unit),
            roster(app, cmd.checking_unit),
            cmd.per_target,
            new_commitment(app),
            app.rules,
            app.clock(),
        )
        return [plan], CrossCheckPlanned(str(plan.id))

    return app.run_command(cmd, CrossCheckPlanned, execute)


def report_cross_check(
    app: InspectionApplication, identity: Identity, cmd: ReportCrossCheck
) -> CrossCheckReported:
    app.policy.admit("ReportCrossCheck", identity)
    cmd.check().raise_if_any()
    plan = app.plan(cmd.cross_check_id)
    app.policy.authorize("ReportCrossCheck", identity, Resource(unit=plan.unit))

    def execute() -> tuple[list[SpotCheckPlan], CrossCheckReported]:
        current = app.plan(cmd.cross_check_id)
        app.read_model.catch_up()
        checked = [current.checked_unit]
        current.report(
            app.read_model.checks(current.year, checked, "", ""),
            app.read_model.findings("", checked),
            app.clock(),
        )
        result = CrossCheckReported(
            str(current.id),
            len(current.targets),
            current.checked,
            sum(current.findings_by_kind.values()),
            dict(current.findings_by_kind),
        )
        return [current], result

    return app.run_command(cmd, CrossCheckReported, execute)
