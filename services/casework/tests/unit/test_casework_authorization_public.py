"""The authorization matrix of issue 13's part A in casework: LodgeComplaint,
GetComplaintStatus, PublishTypicalCase, ListTypicalCases, RecordInterview, ListInterviews
and the history of the typical-case register and the interview ledgers, every identity the
vocabulary allows in every relation to the record, through the application on in-memory
persistence, against the declared policy and the must-deny oracle.

The oracle (tests/support/must_deny.py) knows the owners' side (the public and owners lodge
and follow their own complaints), the public records, and that only the property bureau
publishes typical cases and holds interviews, never a unit about itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from casework.application import queries
from casework.application.access import POLICY
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    CloseCase,
    FlagTypicalCase,
    GetComplaintStatus,
    GiveFeedback,
    LodgeComplaint,
    PublishTypicalCase,
    RecordInterview,
    ResolveCase,
    StartInvestigation,
)
from casework.domain.case import Case
from casework.domain.interview import InterviewLedger
from casework.domain.typical_case import TypicalCases
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.errors import NotFound, PermissionDenied
from servicekit.identity import Identity
from servicekit.policy import RateLimiter, Resource
from servicekit.testing import FakeClock
from services.casework.tests.support.answers import run
from services.casework.tests.support.lodging import register_community
from services.casework.tests.support.scenario import NAME, PHONE, WHEN, app_with_vault
from tests.support.authz import RECORD_HISTORY, RULES, Invokers, cells, run_matrix

UNIT = "hanjiang"
USCC = "91350200776049653A"
COMMUNITY = "HJ-0001"
BUREAU = RULES.check(Identity(Agency.PROPERTY_BUREAU, "head", UNIT))
CITY = RULES.check(Identity(Agency.PROPERTY_BUREAU, "head", "putian"))

COMPLAINT = Resource(unit=UNIT, company=USCC, community=COMMUNITY)
"""A complaint lodged about HJ-0001 (hanjiang's, managed by USCC)."""
PUBLISHED = Resource(unit=UNIT, published=True)
"""hanjiang's typical cases published: a public record."""
COMPANY_INTERVIEW = Resource(unit=UNIT, company=USCC)
UNIT_INTERVIEW = Resource(unit=UNIT, concerns_unit=UNIT)
LEDGER = Resource(unit=UNIT)

OWNERS_SIDE = {"LodgeComplaint", "GetComplaintStatus"}
OWNERS_ONLY = {"ListCommunityComplaints"}
PUBLIC_RECORDS = {"ListTypicalCases"}
BUREAU_DECISIONS = {"PublishTypicalCase", "RecordInterview"}
RPCS = OWNERS_SIDE | OWNERS_ONLY | PUBLIC_RECORDS | BUREAU_DECISIONS | {"ListInterviews"}
"""This part's RPCs (test_casework_authorization checks every RPC has an invoker)."""


@pytest.fixture(autouse=True)
def generous_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(POLICY, "limiter", RateLimiter(100_000))


def fresh() -> CaseworkApplication:
    app = app_with_vault(FakeClock(WHEN))
    register_community(app, COMMUNITY, UNIT, USCC)
    return app


def lodging(request_id: str = "m") -> LodgeComplaint:
    return LodgeComplaint(
        request_id, COMMUNITY, "revenue_embezzled", "停车收入去向不明", NAME, PHONE
    )


def lodged(app: CaseworkApplication) -> str:
    """A complaint lodged by HJ-0001's committee: its tracking number."""
    chair = RULES.check(Identity(Agency.OWNERS_COMMITTEE, "chair", UNIT, COMMUNITY))
    tracking: str = app.handle(chair, lodging("w")).tracking_number
    return tracking


def typical(app: CaseworkApplication) -> str:
    """A complaint about HJ-0001 closed and flagged typical by hanjiang's bureau: its id."""
    case_id = str(Case.public_id(lodged(app)))
    for command in (
        StartInvestigation("w-i", case_id),
        ResolveCase("w-r", case_id, "已责令退还"),
        GiveFeedback("w-f", case_id, "phone", "已电话告知"),
        CloseCase("w-c", case_id),
        FlagTypicalCase("w-t", case_id, "群众反映强烈"),
    ):
        app.handle(BUREAU, command)
    return case_id


def interview(kind: str) -> RecordInterview:
    subject = {"company": USCC, "unit": UNIT}[kind]
    return RecordInterview(
        f"m-{uuid.uuid4().hex[:8]}",
        kind,
        subject,
        UNIT,
        "推进较慢",
        (),
        (),
        "2026-05-05",
        "限期整改",
    )


def on(
    setup: Callable[[CaseworkApplication], Any],
    call: Callable[[CaseworkApplication, Any, Identity], object],
) -> Callable[[Identity], object]:
    def invoke(identity: Identity) -> object:
        app = fresh()
        return call(app, setup(app), identity)

    return invoke


def status_call(app: CaseworkApplication, tracking: str, identity: Identity) -> object:
    return app.handle(identity, GetComplaintStatus(tracking, PHONE))


def owners_side_invokers() -> Invokers:
    return {
        "LodgeComplaint": on(lambda app: None, lambda a, _, i: a.handle(i, lodging())),
        "GetComplaintStatus": on(lodged, status_call),
        "ListCommunityComplaints": on(
            lodged, lambda a, _, i: run(queries.list_community_complaints(a, i, COMMUNITY))
        ),
    }


def publication_invokers() -> Invokers:
    def publish(app: CaseworkApplication, case_id: str, identity: Identity) -> object:
        return app.handle(
            identity, PublishTypicalCase("m", case_id, "某公司挪用停车收入案", "已退还", "", "")
        )

    def published(app: CaseworkApplication) -> str:
        app.handle(
            CITY, PublishTypicalCase("w-p", typical(app), "某公司挪用停车收入案", "已退还", "", "")
        )
        return str(TypicalCases.create_id(WHEN.year))

    return {
        "PublishTypicalCase": on(typical, publish),
        "ListTypicalCases": on(
            lambda app: None, lambda a, _, i: queries.list_typical_cases(a, i, WHEN.year, UNIT)
        ),
        RECORD_HISTORY: on(published, lambda a, r, i: a.read_history(i, uuid.UUID(r), 0, 100)),
    }


def interview_invokers(kind: str) -> Invokers:
    def recorded(app: CaseworkApplication) -> str:
        app.handle(CITY, interview(kind))
        return str(InterviewLedger.create_id(UNIT, 2026))

    return {
        "RecordInterview": on(lambda app: None, lambda a, _, i: a.handle(i, interview(kind))),
        "ListInterviews": on(recorded, lambda a, _, i: queries.list_interviews(a, i, UNIT, 2026)),
        RECORD_HISTORY: on(recorded, lambda a, r, i: a.read_history(i, uuid.UUID(r), 0, 100)),
    }


def invokers() -> Invokers:
    """One invoker per RPC of this part (the matrix test of casework collects them)."""
    return {**owners_side_invokers(), **publication_invokers(), **interview_invokers("company")}


def strict(calls: Invokers, errors: list[str]) -> Invokers:
    """An allowed call must succeed: anything but a denial is recorded as a problem."""

    def wrap(rpc: str, call: Callable[[Identity], object]) -> Callable[[Identity], object]:
        def checked(identity: Identity) -> object:
            try:
                return call(identity)
            except (PermissionDenied, NotFound):
                raise
            except Exception as error:
                errors.append(f"{rpc} by {identity.render()}: {type(error).__name__}: {error}")
                raise

        return checked

    return {rpc: wrap(rpc, call) for rpc, call in calls.items()}


MATRICES = [
    ("owners' side", owners_side_invokers, COMPLAINT, "GetCase"),
    ("a public record", publication_invokers, PUBLISHED, "GetHistory"),
    (
        "a company interview",
        lambda: interview_invokers("company"),
        COMPANY_INTERVIEW,
        "ListInterviews",
    ),
    ("a unit's interview", lambda: interview_invokers("unit"), UNIT_INTERVIEW, "ListInterviews"),
]


@pytest.mark.parametrize(
    ("calls", "record", "history_rpc"),
    [(c, r, h) for _, c, r, h in MATRICES],
    ids=[name for name, *_ in MATRICES],
)
def test_the_matrix(calls: Callable[[], Invokers], record: Resource, history_rpc: str) -> None:
    """Every RPC of this part × every identity × its relation to the record."""
    errors: list[str] = []
    table = calls()
    if "PublishTypicalCase" in table:
        # The publication's record is the case (its unit, company, community).
        publish = {"PublishTypicalCase": table.pop("PublishTypicalCase")}
        count, mismatches = run_matrix(
            "casework", POLICY, COMPLAINT, strict(publish, errors), "GetCase"
        )
        assert not mismatches, "\n".join(map(str, mismatches))
    count, mismatches = run_matrix("casework", POLICY, record, strict(table, errors), history_rpc)
    assert not mismatches, "\n".join(map(str, mismatches))
    assert not errors, "\n".join(errors)
    assert count == len(cells(record)) * len(table)


def allowed(rpc: str, record: Resource) -> set[str]:
    return {
        c.identity.render()
        for c in cells(record)
        if POLICY.decide(rpc, c.identity, record) is not None
    }


def test_the_matrix_allows_exactly_these() -> None:
    """The declared decisions, spelt out (a policy passes its own matrix however wrong)."""
    community = {
        *(
            f"agency=owners-committee;role={r};unit={u};subject={COMMUNITY}"
            for r in ("chair", "member")
            for u in (UNIT, "licheng", "putian")
        ),
        *(
            f"agency=owners;role=representative;unit={u};subject={COMMUNITY}"
            for u in (UNIT, "licheng", "putian")
        ),
        "agency=public;role=anonymous;unit=putian",
    }
    assert (
        allowed("LodgeComplaint", COMPLAINT)
        == allowed("GetComplaintStatus", COMPLAINT)
        == community
    )
    assert allowed("ListCommunityComplaints", COMPLAINT) == community - {
        "agency=public;role=anonymous;unit=putian"
    }
    deciders = {
        f"agency=property-bureau;role={r};unit={u}"
        for r in ("officer", "head")
        for u in (UNIT, "putian")
    }
    assert allowed("PublishTypicalCase", COMPLAINT) == deciders
    assert allowed("RecordInterview", COMPANY_INTERVIEW) == deciders
    assert allowed("RecordInterview", UNIT_INTERVIEW) == {d for d in deciders if "putian" in d}
    staff = {
        *(
            f"agency=property-bureau;role={r};unit={u}"
            for r in ("officer", "inspector", "head")
            for u in (UNIT, "putian")
        ),
        *(f"agency=discipline;role=supervisor;unit={u}" for u in (UNIT, "putian")),
        "agency=auditor;role=auditor;unit=putian",
    }
    townships = {f"agency=township;role={r};unit={UNIT}" for r in ("officer", "inspector")}
    public = {"agency=public;role=anonymous;unit=putian"}
    assert allowed("ListTypicalCases", PUBLISHED) == staff | townships | public
    assert allowed("ListInterviews", LEDGER) == staff
    assert POLICY.by_rpc["LodgeComplaint"].limited and POLICY.by_rpc["GetComplaintStatus"].limited
