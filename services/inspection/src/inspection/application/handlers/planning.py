"""Yearly plans and their draws (双随机): the plan records its pool, roster and the
service's commitment; the discipline office's contribution runs the draw; the head of the
planning bureau may draw again, with a recorded reason, until a check is recorded."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from inspection.application.commands import (
    ContributeDrawEntropy,
    PlanSpotChecks,
    RedrawSpotChecks,
    SpotChecksDrawn,
    SpotChecksPlanned,
    SpotChecksRedrawn,
)
from inspection.application.ports import InspectorRow, WatchRow
from inspection.domain import draw as draws
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan, pool_unit
from servicekit.errors import RuleViolated
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def plan_spot_checks(
    app: InspectionApplication, identity: Identity, cmd: PlanSpotChecks
) -> SpotChecksPlanned:
    """Records the year's plan of the unit; the draw runs when the discipline office
    contributes (ContributeDrawEntropy)."""
    app.policy.admit("PlanSpotChecks", identity)
    cmd.check().raise_if_any()
    app.policy.authorize("PlanSpotChecks", identity, Resource(unit=cmd.unit))

    def execute() -> tuple[list[SpotCheckPlan], SpotChecksPlanned]:
        if app.exists(SpotCheckPlan.yearly_id(cmd.year, cmd.unit)):
            raise RuleViolated(
                f"the {cmd.year} plan of {cmd.unit} exists already (one draw per unit "
                "and year; a re-draw needs a reason: RedrawSpotChecks)",
                f"{cmd.unit} {cmd.year} 年度抽查计划已制定",
            )
        plan = SpotCheckPlan.yearly(
            cmd.year,
            cmd.unit,
            communities(app, pool_unit(cmd.unit)),
            cmd.explicit,
            roster(app, cmd.unit),
            cmd.per_target,
            new_commitment(app),
            app.rules,
        )
        return [plan], SpotChecksPlanned(str(plan.id))

    return app.run_command(cmd, SpotChecksPlanned, execute)


def contribute_draw_entropy(
    app: InspectionApplication, identity: Identity, cmd: ContributeDrawEntropy
) -> SpotChecksDrawn:
    """The discipline office's value: the draw runs with the seed sha256([secret,
    contribution, plan id]) and reveals the service's secret."""
    app.policy.admit("ContributeDrawEntropy", identity)
    cmd.check().raise_if_any()
    plan = app.plan(cmd.plan_id)
    app.policy.authorize("ContributeDrawEntropy", identity, Resource(unit=plan.planned_by))

    def execute() -> tuple[list[SpotCheckPlan], SpotChecksDrawn]:
        current = app.plan(cmd.plan_id)
        current.execute_draw(app.read_model.secret(current.commitment), cmd.contribution)
        return [current], SpotChecksDrawn(str(current.id), current.round)

    return app.run_command(cmd, SpotChecksDrawn, execute)


def redraw_spot_checks(
    app: InspectionApplication, identity: Identity, cmd: RedrawSpotChecks
) -> SpotChecksRedrawn:
    app.policy.admit("RedrawSpotChecks", identity)
    cmd.check().raise_if_any()
    plan = app.plan(cmd.plan_id)
    app.policy.authorize("RedrawSpotChecks", identity, Resource(unit=plan.planned_by))

    def execute() -> tuple[list[SpotCheckPlan], SpotChecksRedrawn]:
        current = app.plan(cmd.plan_id)
        current.reopen(
            cmd.reason,
            new_commitment(app),
            communities(app, current.pool_unit),
            roster(app, current.unit),
            checks_recorded=any(
                app.exists(SpotCheck.create_id(current.id, code)) for code in current.target_codes
            ),
        )
        return [current], SpotChecksRedrawn(str(current.id), current.round, current.commitment)

    return app.run_command(cmd, SpotChecksRedrawn, execute)


def new_commitment(app: InspectionApplication) -> str:
    """A new secret of the service's, kept outside the event store (and every response)
    until the draw reveals it; returns its commitment."""
    secret = secrets.token_hex(32)
    commitment = draws.commitment(secret)
    app.read_model.keep_secret(commitment, secret)
    return commitment


def communities(app: InspectionApplication, unit: str | None) -> list[WatchRow]:
    """The registered communities of a pool, as of now (None: all)."""
    app.read_model.catch_up()
    return app.read_model.communities(unit)


def roster(app: InspectionApplication, unit: str) -> list[InspectorRow]:
    """The unit's inspectors with their declared conflicts, as of now."""
    app.read_model.catch_up()
    return app.read_model.inspectors(unit)
