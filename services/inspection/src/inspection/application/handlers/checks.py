"""Spot checks (抽查): the drawn team records its checklist of a target; each failed item is
a finding with its rectification ordered (the aggregate decides: SpotCheck.record)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from inspection.application.commands import RecordSpotCheck, SpotCheckRecorded
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.inspector import Inspector
from inspection.domain.spot_check import SpotCheck
from servicekit.errors import NotFound, RuleViolated, excerpt
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def record_spot_check(
    app: InspectionApplication, identity: Identity, cmd: RecordSpotCheck
) -> SpotCheckRecorded:
    app.policy.admit("RecordSpotCheck", identity)
    v = cmd.check()
    # Stored in UTC, within the platform's window of the service's clock.
    inspected_at = v.require_instant(cmd.inspected_at, "inspected_at", app.clock(), "检查时间")
    v.raise_if_any()
    assert inspected_at is not None
    for n, item in enumerate(cmd.checklist):
        app.require_stored(item.attachments, f"checklist[{n}].attachments")
    plan = app.plan(cmd.plan_id)
    # A unit records its own checks; a cross check is recorded by the checking unit.
    app.policy.authorize("RecordSpotCheck", identity, Resource(unit=plan.unit))
    watch = community_watch(app, cmd.community_code)

    def execute() -> tuple[list[Aggregate], SpotCheckRecorded]:
        if app.exists(SpotCheck.create_id(plan.id, cmd.community_code)):
            raise RuleViolated("this check is recorded already", "该检查已记录")
        check, findings = SpotCheck.record(
            plan,
            cmd.community_code,
            # The record belongs to the community's unit (DOMAIN.md §2), whoever checked.
            watch.unit,
            watch.company_uscc,
            inspected_at,
            cmd.inspector_codes,
            cmd.checklist,
            cmd.substitutions,
            _conflicts(app, cmd.inspector_codes),
            app.rules,
            app.clock(),
        )
        return [check, *findings], SpotCheckRecorded(str(check.id), [str(f.id) for f in findings])

    return app.run_command(cmd, SpotCheckRecorded, execute)


def community_watch(app: InspectionApplication, community_code: str) -> CommunityWatch:
    """What inspection knows of the community (NotFound before its registration arrives)."""
    watch = app.find(CommunityWatch.create_id(community_code), CommunityWatch, read_only=True)
    if watch is None:
        raise NotFound(
            f"community {excerpt(community_code)} has not reached inspection",
            "检查系统尚未收到该小区的登记",
        )
    return watch


def _conflicts(app: InspectionApplication, codes: tuple[str, ...]) -> dict[str, list[str]]:
    """The communities each inspector of the team has declared a conflict with by now (an
    inspector not on the roster has none: the plan's roster decides who may check)."""
    found = {code: app.find(Inspector.create_id(code), Inspector, read_only=True) for code in codes}
    return {code: list(i.conflicts) for code, i in found.items() if i is not None}
