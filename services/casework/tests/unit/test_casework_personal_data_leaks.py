"""Regression tests of issue 10's personal-data leak in casework: "nobody records who read a
complainant's name and phone". Written before the fix and seen failing on it.

- GetCase (and every command's answer, which is GetCase's view) handed the complainant's
  name and phone to the handling bureau without a word of why, and nothing kept the read.
- Now personal data comes only from ReadComplainant, with a purpose, and every read is
  recorded before the data leaves; the city lists those reads.
"""

from __future__ import annotations

from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import ReadComplainant, StartInvestigation
from casework.entrypoints.grpc_api import case_to_pb
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import (
    NAME,
    OFFICER,
    PHONE,
    WHEN,
    app_with_vault,
    complaint,
)

CITY_HEAD = Identity("property-bureau", "head", "putian")


def received(app: CaseworkApplication) -> str:
    case_id: str = app.handle(OFFICER, complaint()).case_id
    return case_id


def test_get_case_discloses_no_personal_data_even_to_the_handling_bureau() -> None:
    """A case read (GetCase, and the answer of every command) carries no name or phone: a
    read of personal data must say why and be recorded (ReadComplainant)."""
    app = app_with_vault(FakeClock(WHEN))
    case_id = received(app)
    answer = case_to_pb(queries.case_view(app, OFFICER, case_id))
    assert (answer.complainant_name, answer.complainant_phone) == ("", "")
    app.handle(OFFICER, StartInvestigation("i", case_id))
    acted = case_to_pb(queries.case_view(app, OFFICER, case_id))
    assert NAME not in str(acted) and PHONE not in str(acted)


def test_every_read_of_personal_data_is_recorded_and_the_city_lists_it() -> None:
    """Who (the identity rendered, and the front end it came through), when (the service's
    clock), which case and why: recorded before the name and phone are handed out."""
    clock = FakeClock(WHEN)
    app = app_with_vault(clock)
    case_id = received(app)
    read = app.handle(OFFICER, ReadComplainant(case_id, "feedback", "回访投诉人"))
    assert (read.complainant_name, read.complainant_phone) == (NAME, PHONE)
    [entry] = queries.list_personal_data_reads(app, CITY_HEAD, "", "", None, None, 0, 100)
    assert (
        entry.case_id,
        entry.reader,
        entry.via,
        entry.purpose,
        entry.note,
        entry.read_at,
        entry.unit,
    ) == (case_id, OFFICER.render(), "", "feedback", "回访投诉人", WHEN, "licheng")
