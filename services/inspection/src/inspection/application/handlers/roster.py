"""The roster (检查人员名录): inspectors of each unit and their declared conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspection.application.commands import (
    MAX_CODE,
    ConflictDeclared,
    DeclareConflict,
    InspectorRegistered,
    RegisterInspector,
)
from inspection.domain.inspector import Inspector
from servicekit.errors import NotFound, RuleViolated, excerpt
from servicekit.identity import Identity
from servicekit.policy import Resource

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


def register_inspector(
    app: InspectionApplication, identity: Identity, cmd: RegisterInspector
) -> InspectorRegistered:
    app.policy.admit("RegisterInspector", identity)
    cmd.check().raise_if_any()
    app.policy.authorize("RegisterInspector", identity, Resource(unit=cmd.unit))

    def execute() -> tuple[list[Inspector], InspectorRegistered]:
        if app.exists(Inspector.create_id(cmd.inspector_code)):
            raise RuleViolated(
                f"inspector {excerpt(cmd.inspector_code)} is registered already",
                "该检查人员已登记",
            )
        inspector = Inspector(cmd.inspector_code, cmd.name, cmd.unit)
        return [inspector], InspectorRegistered(str(inspector.id))

    return app.run_command(cmd, InspectorRegistered, execute)


def declare_conflict(
    app: InspectionApplication, identity: Identity, cmd: DeclareConflict
) -> ConflictDeclared:
    app.policy.admit("DeclareConflict", identity)
    cmd.check().raise_if_any()
    inspector = _inspector(app, cmd.inspector_code)
    app.policy.authorize("DeclareConflict", identity, Resource(unit=inspector.unit))

    def execute() -> tuple[list[Inspector], ConflictDeclared]:
        current = _inspector(app, cmd.inspector_code)
        current.declare_conflict(cmd.community_code, cmd.reason)
        return [current], ConflictDeclared(current.version)

    return app.run_command(cmd, ConflictDeclared, execute)


def _inspector(app: InspectionApplication, code: str) -> Inspector:
    inspector = app.find(Inspector.create_id(code[: MAX_CODE + 1]), Inspector)
    if inspector is None:
        raise NotFound(f"inspector {excerpt(code)} is not registered", "检查人员未登记")
    return inspector
