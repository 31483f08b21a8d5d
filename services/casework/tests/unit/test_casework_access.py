"""Casework's declared authorization (application/access.py) on in-memory persistence: each
leak callers found (issue "Authorization by declared policy") has its own regression test
here, named `test_leak_*`, and so do the rules the policy adds (townships, the discipline
office, the public, owners, personal data)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AcknowledgeReferral,
    AcknowledgeWarning,
    AssignCase,
    CloseCase,
    CloseWarning,
    GiveFeedback,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    StartInvestigation,
)
from casework.domain.warnings.rules import (
    COMPLAINT_WITHOUT_FEEDBACK,
    DEFAULT_RULES,
    UNIT_BEHIND_QUOTA,
)
from casework.domain.warnings.supervision_warning import SupervisionWarning
from servicekit.errors import NotFound, PermissionDenied, RuleViolated
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import (
    OFFICER,
    POLICE,
    WHEN,
    app_with_vault,
    complaint,
)
from tests.support.authz import RULES

USCC = "91350200776049653A"
"""The company the scenario's complaint is against."""
COMPANY = RULES.check(Identity("property-company", "manager", "licheng", USCC))
COMPANY_AT_CITY = RULES.check(Identity("property-company", "manager", "putian", USCC))
OTHER_POLICE = RULES.check(Identity("police", "investigator", "licheng", "putian-psb-hanjiang"))
CITY = RULES.check(Identity("property-bureau", "officer", "putian"))
OTHER_UNIT = RULES.check(Identity("property-bureau", "officer", "xianyou"))
DENIED = (PermissionDenied, NotFound)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CaseworkApplication:
    return app_with_vault(clock)


def referred(app: CaseworkApplication) -> str:
    """A complaint against USCC, referred to POLICE's office with a summary."""
    case_id: str = app.handle(OFFICER, complaint()).case_id
    app.handle(OFFICER, StartInvestigation("i", case_id))
    app.handle(
        OFFICER,
        ReferToPolice(
            "p",
            case_id,
            POLICE.subject,
            "embezzlement_by_staff",
            ("ledger.pdf",),
            "疑似物业经理挪用停车收入",
        ),
    )
    return case_id


def log_size(app: CaseworkApplication) -> int:
    return app.recorder.max_notification_id() or 0


# -- the leaks -----------------------------------------------------------------------------


def test_leak_the_accused_company_does_not_read_the_complaint(app: CaseworkApplication) -> None:
    """GetCase answered the accused company with category, police office and referral
    status (DOMAIN.md §7: a company never reads complaints or cases)."""
    case_id = referred(app)
    for company in (COMPANY, COMPANY_AT_CITY):
        with pytest.raises(DENIED):
            queries.case_view(app, company, case_id)


async def test_leak_a_company_does_not_list_its_units_cases(app: CaseworkApplication) -> None:
    """ListCases{unit} listed every case of the unit to a company."""
    referred(app)
    for company in (COMPANY, COMPANY_AT_CITY):
        for unit in ("licheng", ""):
            with pytest.raises(PermissionDenied):
                await queries.list_cases(app, company, unit, "", False)


def test_leak_a_company_does_not_read_a_cases_history(app: CaseworkApplication) -> None:
    """GetHistory(case) showed the company the referral summary and suspected offence."""
    case_id = referred(app)
    for company in (COMPANY, COMPANY_AT_CITY):
        with pytest.raises(DENIED):
            app.read_history(company, uuid.UUID(case_id), 0, 100)
        with pytest.raises(PermissionDenied):
            app.read_history(company, None, 0, 100)


def test_leak_another_police_office_gets_no_history(app: CaseworkApplication) -> None:
    """An office other than the one the case was referred to got NOT_FOUND from GetCase
    but the full history from GetHistory; the office it was referred to reads both."""
    case_id = referred(app)
    with pytest.raises(NotFound):
        queries.case_view(app, OTHER_POLICE, case_id)
    with pytest.raises(DENIED):
        app.read_history(OTHER_POLICE, uuid.UUID(case_id), 0, 100)
    history = app.read_history(POLICE, uuid.UUID(case_id), 0, 100)
    assert [e.type for e in history][-1] == "Case.ReferredToPolice"
    assert queries.case_view(app, POLICE, case_id).case.police_office == POLICE.subject


def test_leak_a_county_does_not_move_a_case_to_another_unit(app: CaseworkApplication) -> None:
    """AssignCase to another unit: the case would leave the county's jurisdiction into
    another's (DOMAIN.md §2), so only the city reassigns across units; within its own unit
    a county assigns as before."""
    case_id: str = app.handle(OFFICER, complaint()).case_id
    before = log_size(app)
    with pytest.raises(PermissionDenied):
        app.handle(OFFICER, AssignCase("a1", case_id, "xianyou", "", "林某"))
    assert app.case(case_id).unit == "licheng" and log_size(app) == before
    app.handle(OFFICER, AssignCase("a2", case_id, "licheng", "镇海街道", "林某"))
    assert app.case(case_id).unit == "licheng"
    app.handle(CITY, AssignCase("a3", case_id, "xianyou", "", "陈某"))
    assert app.case(case_id).unit == "xianyou"
    with pytest.raises(DENIED):  # the case has left licheng: no longer licheng's
        app.handle(OFFICER, AssignCase("a4", case_id, "licheng", "", "林某"))
    app.handle(OTHER_UNIT, StartInvestigation("a5", case_id))
    assert app.case(case_id).status == "investigating"


def test_leak_police_do_not_change_an_outcome_after_the_case_is_closed(
    app: CaseworkApplication, clock: FakeClock
) -> None:
    case_id = referred(app)
    app.handle(POLICE, AcknowledgeReferral("k", case_id))
    app.handle(POLICE, ReportPoliceOutcome("o1", case_id, "filed", "已立案侦查"))
    app.handle(OFFICER, ResolveCase("r", case_id, "已移送公安并责令公示"))
    app.handle(OFFICER, GiveFeedback("f", case_id, "phone", "已告知"))
    clock.now = WHEN + timedelta(days=10)
    app.handle(OFFICER, CloseCase("c", case_id))
    assert app.case(case_id).status == "closed"
    before = log_size(app)
    with pytest.raises(RuleViolated):
        app.handle(POLICE, ReportPoliceOutcome("o2", case_id, "not_filed", "撤案"))
    assert app.case(case_id).police_status == "filed" and log_size(app) == before


def quota_warning(
    app: CaseworkApplication, unit: str = "licheng", rule: str = UNIT_BEHIND_QUOTA
) -> str:
    """A warning about the unit's own conduct, as the sweeps raise them."""
    subject_kind, subject = (
        ("unit", unit) if rule == UNIT_BEHIND_QUOTA else ("case", str(uuid.uuid4()))
    )
    warning = SupervisionWarning(
        rule, unit, subject_kind, subject, "2026-05", {"checked": 3}, DEFAULT_RULES.version, WHEN
    )
    app.record(warning)
    return str(warning.id)


@pytest.mark.parametrize("rule", [UNIT_BEHIND_QUOTA, COMPLAINT_WITHOUT_FEEDBACK])
def test_leak_a_unit_does_not_close_warnings_about_its_own_failures(
    app: CaseworkApplication, clock: FakeClock, rule: str
) -> None:
    """A unit behind its quota pace, or whose complaint went without feedback, is the
    subject of the warning (DOMAIN.md §4 E: supervision failures of agencies): its own
    bureau (and its own discipline office) may take it up, but closing it is for the
    city above it."""
    warning_id = quota_warning(app, rule=rule)
    own_discipline = RULES.check(Identity("discipline", "supervisor", "licheng"))
    app.handle(OFFICER, AcknowledgeWarning("k", warning_id, "已收到"))
    assert app.warning(warning_id).status == "acknowledged"
    before = log_size(app)
    for n, identity in enumerate((OFFICER, own_discipline)):
        close = CloseWarning(f"c{n}", warning_id, ("quota-plan.pdf",), "我们自己说已经好了")
        with pytest.raises(PermissionDenied):
            app.handle(identity, close)
    assert app.warning(warning_id).status == "acknowledged" and log_size(app) == before
    app.handle(CITY, CloseWarning("c", warning_id, ("city-review.pdf",), "市局核查后销号"))
    closed = app.warning(warning_id)
    assert closed.status == "closed"
    assert replace(CITY).render() == closed.closed_by
