"""Handler of the publication of typical cases (通报曝光, issue 13 item 7; DOMAIN.md §7):
a closed case the bureau flagged typical goes into the year's public register, its title
and summary checked to give no complainant away (domain/typical_case.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casework.application.access import POLICY
from casework.application.commands import PublishTypicalCase, TypicalCasePublished
from casework.application.handlers.cases import may_act
from casework.application.handlers.interviews import day, today
from casework.application.handlers.personal_data import record_read
from casework.domain.case import Case
from casework.domain.typical_case import TypicalCases
from pubrev_contracts.vocabulary.identifiers import USCC_DESCRIPTION_ZH, uscc_problem
from servicekit.errors import Validator
from servicekit.identity import Identity

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

PUBLICATION_CHECK = "publication_check"
"""The purpose recorded when the complainant's name and phone are opened to be kept out of
a publication: nothing is shown, but the data was opened (ADR 0005)."""


def publish_typical_case(
    app: CaseworkApplication, identity: Identity, cmd: PublishTypicalCase
) -> TypicalCasePublished:
    POLICY.admit("PublishTypicalCase", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.require_text(cmd.title, "title", 100, "标题", required=True)
    v.require_text(cmd.summary, "summary", 2000, "案情摘要", required=True, multiline=True)
    v.require(
        not cmd.company_uscc or uscc_problem(cmd.company_uscc) is None,
        "company_uscc",
        "uscc_check",
        "the company's USCC (GB 32100, with its check character)",
        USCC_DESCRIPTION_ZH,
    )
    published_on = (
        day(v, cmd.published_on, "published_on", "通报日期") if cmd.published_on else None
    )
    v.raise_if_any()
    may_act(identity, "PublishTypicalCase", app.case(cmd.case_id))

    def execute() -> tuple[list[TypicalCases], TypicalCasePublished]:
        case = app.case(cmd.case_id)
        may_act(identity, "PublishTypicalCase", case)
        on = published_on or today(app)
        name, phone = _complainant(app, identity, case)
        register = app.find(TypicalCases.create_id(on.year), TypicalCases) or TypicalCases(on.year)
        register.publish(
            case, cmd.title, cmd.summary, cmd.company_uscc, on, today(app), name, phone
        )
        return [register], TypicalCasePublished(str(case.id), str(register.id), on.isoformat())

    return app.run_command(cmd, TypicalCasePublished, execute)


def _complainant(app: CaseworkApplication, identity: Identity, case: Case) -> tuple[str, str]:
    """The complainant's name and phone, to be kept out of the publication, when the case
    still holds them; the opening is recorded as a read (no one is shown them)."""
    if not case.sealed_personal_data or case.shredded:
        return "", ""
    data = app.vault.open(case.id, case.sealed_personal_data)
    if data is None:
        return "", ""
    record_read(
        app,
        identity,
        case,
        PUBLICATION_CHECK,
        "kept out of the typical case published",
        ("name", "phone"),
    )
    return data.get("name", ""), data.get("phone", "")
