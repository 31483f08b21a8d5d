"""Handlers of the complainant's personal data (DOMAIN.md §7; 个人信息保护法 Art. 6, 19, 54):
shredding on request, and the recorded read of the name and phone by the handling unit's
bureau, with a purpose."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import TYPE_CHECKING

from casework.application.access import POLICY
from casework.application.commands import (
    ComplainantRead,
    PersonalDataShredded,
    ReadComplainant,
    ShredPersonalData,
)
from casework.application.handlers.cases import may_act, run_on_case
from casework.application.ports import PersonalDataRead
from casework.domain.case import Case
from servicekit.errors import Validator
from servicekit.identity import Identity

if TYPE_CHECKING:
    from casework.application.app import CaseworkApplication

PURPOSES = {
    "investigation": "调查核实",
    "feedback": "反馈处理结果",
    "follow_up": "回访投诉人",
    "mediation": "组织调解",
    "complainant_request": "投诉人查询办理情况",
}
"""Why the handling bureau reads a complainant's name and phone (个人信息保护法 Art. 6: a
clear purpose, the least needed): each read names one, and it is recorded with the read."""
NOTE_MAX = 200


def shred_personal_data(
    app: CaseworkApplication, identity: Identity, cmd: ShredPersonalData
) -> PersonalDataShredded:
    POLICY.admit("ShredPersonalData", identity)
    v = Validator()
    v.require_request_id(cmd.request_id)
    v.raise_if_any()
    shredded = run_on_case(
        app,
        identity,
        cmd,
        PersonalDataShredded,
        lambda case: case.shred_personal_data(app.clock()),
    )
    # The shredding is recorded first, then the key destroyed (a retry destroys it too):
    # should this stop in between, the case says shredded (nothing is disclosed) and the
    # retention sweep destroys the key it finds left.
    app.vault.shred(uuid.UUID(cmd.case_id))
    return shredded


def read_complainant(
    app: CaseworkApplication, identity: Identity, cmd: ReadComplainant
) -> ComplainantRead:
    """The complainant's name and phone, for the handling unit's bureau, with the purpose of
    the read. The read is recorded (who, through which front end, when, which case, why)
    before the data is returned: a read that cannot be recorded discloses nothing."""
    POLICY.admit("ReadComplainant", identity)
    v = Validator()
    v.require(
        cmd.purpose in PURPOSES,
        "purpose",
        "unknown_purpose",
        f"why the personal data is read: one of {', '.join(PURPOSES)}",
        "须说明查看投诉人个人信息的目的：" + "、".join(PURPOSES.values()),
    )
    v.require(
        len(cmd.note) <= NOTE_MAX,
        "note",
        "too_long",
        f"at most {NOTE_MAX} characters",
        f"备注不超过{NOTE_MAX}字",
    )
    v.raise_if_any()
    case = app.case(cmd.case_id)
    may_act(identity, "ReadComplainant", case)
    if not case.sealed_personal_data:  # a rectification case: nobody complained
        return ComplainantRead(str(case.id), "", "", False, 0, "")
    data = None if case.shredded else app.vault.open(case.id, case.sealed_personal_data)
    if data is None:
        return ComplainantRead(str(case.id), "", "", True, 0, "")
    read = record_read(app, identity, case, cmd.purpose, cmd.note, ("name", "phone"))
    return ComplainantRead(
        str(case.id),
        data.get("name", ""),
        data.get("phone", ""),
        False,
        read.read_id,
        read.read_at.astimezone(UTC).isoformat(),
    )


def record_read(
    app: CaseworkApplication,
    identity: Identity,
    case: Case,
    purpose: str,
    note: str,
    fields: tuple[str, ...],
) -> PersonalDataRead:
    """Records that `identity` opened the case's sealed personal data (`fields` of it), for
    `purpose`: who, through which front end, when, which case, why (ADR 0005). Every
    opening is recorded before its caller answers anyone, whether it shows the data
    (ReadComplainant), compares it (a status query's phone) or keeps it out (a typical case
    published)."""
    return app.read_log.record(
        PersonalDataRead(
            app.clock(),
            str(case.id),
            case.unit,
            identity.render(),
            identity.via,
            purpose,
            note,
            fields,
        )
    )
