"""An import-linter contract type that lists what a package MAY import (an allowlist).

import-linter's own `forbidden` contract lists what may not be imported, so a new
dependency passes until someone thinks of forbidding it. The domain layers must take only
the standard library, `eventsourcing.domain` and `.utils`, servicekit's errors and
attachment reference, and the platform's vocabulary; this contract names exactly those
and refuses anything else a source module imports directly (registered in `.importlinter`
as `contract_types`).
"""

from __future__ import annotations

import sys
from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AllowlistContract(Contract):
    """Options:
    - source_modules: packages whose every module is checked;
    - allowed_modules: modules (and their submodules) a source module may import;
    - allow_standard_library: whether the standard library is allowed too (default yes).
    A source package may always import its own modules."""

    type_name = "allowlist"

    source_modules = fields.SetField(subfield=fields.ModuleField())
    allowed_modules = fields.SetField(subfield=fields.ModuleField())
    allow_standard_library = fields.BooleanField(required=False, default=True)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        allowed = sorted(m.name for m in self.allowed_modules)  # type: ignore[attr-defined]
        stdlib = sys.stdlib_module_names if self.allow_standard_library else frozenset()
        refused: list[dict[str, Any]] = []
        for source in sorted(m.name for m in self.source_modules):  # type: ignore[attr-defined]
            if source not in graph.modules:
                raise ValueError(f"{source} is not in the import graph")
            for module in sorted({source} | graph.find_descendants(source)):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    if (
                        _within(imported, source)
                        or imported.split(".")[0] in stdlib
                        or any(_within(imported, a) for a in allowed)
                    ):
                        continue
                    details = graph.get_import_details(importer=module, imported=imported)
                    refused.append(
                        {
                            "importer": module,
                            "imported": imported,
                            "lines": [d["line_number"] for d in details],
                        }
                    )
        return ContractCheck(kept=not refused, metadata={"refused": refused})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for entry in check.metadata["refused"]:
            lines = ", ".join(f"l.{n}" for n in entry["lines"]) or "?"
            output.print_error(
                f"{entry['importer']} imports {entry['imported']} ({lines}): not on the allowlist",
                bold=False,
            )
            output.new_line()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
