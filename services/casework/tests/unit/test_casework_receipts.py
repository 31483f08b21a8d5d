"""A retried command is answered once (its receipt, named after the command's type), and so
is the retry of a request the untyped API answered before issue 12: its receipt was named
after the action (`assign`) or the RPC, over positional arguments. The complainant's name
and phone are never in a receipt's fingerprint."""

from __future__ import annotations

from dataclasses import replace

import pytest

from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AssignCase,
    CaseAssigned,
    CloseWarning,
    ComplaintReceived,
    RecordJointMeeting,
    ReferToPolice,
    StartInvestigation,
    WarningClosed,
)
from casework.application.handlers.warnings import on_disclosure_overdue
from casework.domain.warnings.rules import DISCLOSURE_OVERDUE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.errors import AlreadyExists
from servicekit.eventstore import CommandReceipt, DeliveryRef, fingerprint
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import (
    NAME,
    OFFICER,
    PHONE,
    WHEN,
    app_with_vault,
    complaint,
)


@pytest.fixture
def app() -> CaseworkApplication:
    return app_with_vault(FakeClock(WHEN))


def log_size(app: CaseworkApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_retried_command_is_answered_from_its_receipt(app: CaseworkApplication) -> None:
    case_id = app.handle(OFFICER, complaint()).case_id
    command = AssignCase("a1", case_id, "licheng", "镇海街道", "林某")
    first = app.handle(OFFICER, command)
    before = log_size(app)
    assert app.handle(OFFICER, command) == first == CaseAssigned(case_id, 2)
    assert log_size(app) == before
    assert app.find_receipt("AssignCase", "a1") is not None
    with pytest.raises(AlreadyExists):  # the same request_id for another assignment
        app.handle(OFFICER, replace(command, assignee="陈某"))


def test_a_complaint_is_fingerprinted_without_its_complainant(app: CaseworkApplication) -> None:
    """The receipt outlives a shredding: a hash of the name and phone in it could confirm a
    guessed complainant. A retry is compared on the rest (as the receipts already stored
    were)."""
    answer = app.handle(OFFICER, complaint("c1"))
    receipt = app.find_receipt("ReceiveComplaint", "c1")
    assert receipt is not None
    assert receipt.fingerprint == fingerprint(complaint("c1").fingerprinted())
    assert NAME not in str(receipt.result) and PHONE not in str(receipt.result)
    assert app.handle(OFFICER, replace(complaint("c1"), complainant_phone="13800000000")) == answer
    with pytest.raises(AlreadyExists):
        app.handle(OFFICER, replace(complaint("c1"), description="另一件事"))


def test_a_complaint_answered_before_the_commands_were_typed(app: CaseworkApplication) -> None:
    """ReceiveComplaint's receipts kept their name and payload: an old one answers a retry."""
    stored = CommandReceipt(
        "ReceiveComplaint",
        "old",
        fingerprint(complaint("old").fingerprinted()),
        {"case_id": "3f1b0c1e-0000-5000-8000-000000000001", "due_at": "2026-06-06T00:00:00+08:00"},
    )
    app.save(stored)
    assert app.handle(OFFICER, complaint("old")) == ComplaintReceived(
        "3f1b0c1e-0000-5000-8000-000000000001", "2026-06-06T00:00:00+08:00"
    )


@pytest.mark.parametrize(
    ("earlier", "payload", "command"),
    [
        (
            "assign",
            ("{case}", "licheng", "镇海街道", "林某"),
            AssignCase("r1", "{case}", "licheng", "镇海街道", "林某"),
        ),
        ("start_investigation", ("{case}",), StartInvestigation("r1", "{case}")),
        (
            "record_joint_meeting",
            ("{case}", "2026-06-01", "['住建', '公安']", "联合调查"),
            RecordJointMeeting("r1", "{case}", "2026-06-01", ("住建", "公安"), "联合调查"),
        ),
        (
            "refer_to_police",
            ("{case}", "putian-psb-licheng", "other", "['bank.pdf']", ""),
            ReferToPolice("r1", "{case}", "putian-psb-licheng", "other", ("bank.pdf",), ""),
        ),
    ],
)
def test_a_case_command_answered_by_the_untyped_api(
    app: CaseworkApplication, earlier: str, payload: tuple[str, ...], command: object
) -> None:
    """The untyped API (`act`) kept its receipts under the action's name, fingerprinted over
    (case_id, *map(str, args)): a retry spanning the deployment gets that answer, and
    nothing is done twice."""
    case_id = app.handle(OFFICER, complaint()).case_id
    stored = tuple(p.replace("{case}", case_id) for p in payload)
    app.save(CommandReceipt(earlier, "r1", fingerprint(stored), {"case_id": case_id, "version": 7}))
    before = log_size(app)
    typed = replace(command, case_id=case_id)
    answer = app.handle(OFFICER, typed)
    assert (answer.case_id, answer.version) == (case_id, 7)
    assert log_size(app) == before


def test_an_earlier_receipt_of_other_content_does_not_answer(app: CaseworkApplication) -> None:
    """The same request_id used before for another action's arguments: not a retry of this
    command, which is carried out (under its own name)."""
    case_id = app.handle(OFFICER, complaint()).case_id
    app.save(CommandReceipt("assign", "r1", fingerprint((case_id, "x", "y", "z")), {}))
    answer = app.handle(OFFICER, AssignCase("r1", case_id, "licheng", "镇海街道", "林某"))
    assert answer == CaseAssigned(case_id, 2)


def test_a_warning_closed_by_the_untyped_api(app: CaseworkApplication) -> None:
    """CloseWarning kept its name but fingerprinted (warning_id, refs, note)."""
    on_disclosure_overdue(
        app,
        DeliveryRef("casework.warnings.disclosure", "o", 1),
        community_code="LC-0001",
        unit="licheng",
        company="",
        year=2026,
        quarter=1,
    )
    warning_id = str(SupervisionWarning.create_id(DISCLOSURE_OVERDUE, "LC-0001", "2026Q1"))
    old = (warning_id, ["p.jpg"], "已公示")
    app.save(
        CommandReceipt(
            "CloseWarning", "w1", fingerprint(old), {"warning_id": warning_id, "version": 2}
        )
    )
    answer = app.handle(OFFICER, CloseWarning("w1", warning_id, ("p.jpg",), "已公示"))
    assert answer == WarningClosed(warning_id, 2)
    assert app.warning(warning_id).status == "raised"  # answered, not done again
