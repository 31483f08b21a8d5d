"""The leaks callers found in the disclosure service (issue 10, "Authorization by declared
policy"), one regression test each, on in-memory persistence. GetHistory goes through
servicekit.audit.history_events, the same path as the gRPC method."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime

import pytest

from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    DisclosureFiled,
    FileDisclosure,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.application.queries import get_disclosure, list_disclosures
from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from pubrev.common.v1 import audit_pb2
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.audit import history_events
from servicekit.errors import PermissionDenied
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
OTHER_USCC = "9144030071526726XG"
CODE = "CX-0001"
OTHER_CODE = "CX-0002"
PHONE = "13905941234"

CITY = Identity("property-bureau", "officer", "putian", "city-officer")
OFFICER = Identity("property-bureau", "officer", "chengxiang", "officer-1")
COMPANY = Identity("property-company", "filer", "chengxiang", USCC)
OTHER_COMPANY = Identity("property-company", "filer", "chengxiang", OTHER_USCC)


def content() -> DisclosureContent:
    return DisclosureContent(
        (IncomeItem("parking", 100_000),),
        20_000,
        (ExpenditureItem("维修", 10_000, "决议1"),),
        70_000,
        0,
        0,
        False,
        "专户",
        "林经理",
        PHONE,
        date(2026, 4, 2),
        date(2026, 5, 10),
        ("signboard",),
    )


@pytest.fixture
def app() -> DisclosureApplication:
    clock = FakeClock(datetime(2026, 1, 10, tzinfo=SHANGHAI))
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    for uscc in (USCC, OTHER_USCC):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, "物业公司", ""))
    for code, uscc in ((CODE, USCC), (OTHER_CODE, OTHER_USCC)):
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "小区",
                "地址",
                "chengxiang",
                "350302",
                "街道",
                uscc,
                "物业",
                True,
                2,
                1,
                False,
                100,
            ),
        )
    clock.now = datetime(2026, 4, 20, tzinfo=SHANGHAI)
    return app


@pytest.fixture
def filed(app: DisclosureApplication) -> str:
    filed: DisclosureFiled = app.handle(COMPANY, FileDisclosure("f1", CODE, 2026, 1, content()))
    return filed.disclosure_id


def history(
    app: DisclosureApplication, identity: Identity, aggregate_id: str = ""
) -> list[audit_pb2.HistoryEvent]:
    query = audit_pb2.HistoryQuery(aggregate_id=aggregate_id)
    return asyncio.run(history_events(app, identity, query))


def log_size(app: DisclosureApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_company_refused_a_filing_is_refused_its_history_too(
    app: DisclosureApplication,
    filed: str,
) -> None:
    """Leak: GetDisclosure refused another company's filing, GetHistory of the same
    aggregate returned it with the contact phone."""
    with pytest.raises(PermissionDenied):
        get_disclosure(app, OTHER_COMPANY, filed, 0)
    with pytest.raises(PermissionDenied):
        history(app, OTHER_COMPANY, filed)
    # The filing company itself reads its history, phone and all: the rule is the read rule.
    own = history(app, COMPANY, filed)
    assert [e.type for e in own] == ["Disclosure.Filed"]
    assert PHONE in own[0].payload_json


@pytest.mark.parametrize(
    "identity",
    [
        Identity("property-company", "filer", "putian", USCC),
        Identity("property-company", "manager", "putian", OTHER_USCC),
        CITY,
        Identity("property-bureau", "head", "putian", "city-head"),
    ],
)
def test_unit_putian_does_not_open_the_whole_log(
    app: DisclosureApplication,
    filed: str,
    identity: Identity,
) -> None:
    """Leak: a company with unit=putian in its identity read the whole log. The whole log
    is the auditor's alone, whatever the caller's unit."""
    with pytest.raises(PermissionDenied):
        history(app, identity)
    auditor = Identity("auditor", "auditor", "putian", "auditor-1")
    assert len(history(app, auditor)) == log_size(app)


@pytest.mark.parametrize(
    "identity",
    [
        Identity("property-company", "filer", "putian"),
        Identity("property-company", "filer", "chengxiang"),
        Identity("police", "investigator", "putian"),
        Identity("police", "investigator", "chengxiang", "putian-psb-chengxiang"),
    ],
)
async def test_an_identity_without_a_subject_lists_nothing_of_the_city(
    app: DisclosureApplication,
    filed: str,
    identity: Identity,
) -> None:
    """Leak: an identity without subject (police, company) listed everything of the city.
    A company's list is its own USCC's; police see no disclosure business at all."""
    with pytest.raises(PermissionDenied):
        await list_disclosures(app, identity, "", 2026, 1, "", 50, "")
    with pytest.raises(PermissionDenied):
        await list_disclosures(app, identity, "chengxiang", 2026, 1, "", 50, "")


async def test_a_company_lists_only_its_own_filings(app: DisclosureApplication, filed: str) -> None:
    app.handle(OTHER_COMPANY, FileDisclosure("f2", OTHER_CODE, 2026, 1, content()))
    rows, _ = await list_disclosures(app, COMPANY, "", 2026, 1, "", 50, "")
    assert [(r.community_code, r.company_uscc) for r in rows] == [(CODE, USCC)]
    with pytest.raises(PermissionDenied):
        await list_disclosures(app, COMPANY, "", 2026, 1, OTHER_USCC, 50, "")


@pytest.mark.parametrize(
    "identity",
    [
        Identity("owners", "representative", "chengxiang", OTHER_CODE),
        Identity("owners-committee", "chair", "chengxiang", OTHER_CODE),
        Identity("owners", "representative", "chengxiang"),
        Identity("owners-committee", "member", "putian"),
    ],
)
def test_owners_request_audits_only_of_their_own_community(
    app: DisclosureApplication,
    filed: str,
    identity: Identity,
) -> None:
    """Leak: owners' identities could request audits of any community."""
    requester = "owners" if identity.agency == "owners" else "owners_committee"
    before = log_size(app)
    with pytest.raises(PermissionDenied):
        app.handle(
            identity, RequestAudit(f"q-{uuid.uuid4()}", filed, requester, 100, "停车收入偏低")
        )
    assert log_size(app) == before


def test_owners_may_not_claim_to_be_the_owners_committee(
    app: DisclosureApplication,
    filed: str,
) -> None:
    """Leak: owners' representatives could request an audit as the owners' committee (which
    needs no 20% of households). Each requests only as what it is."""
    owners = Identity("owners", "representative", "chengxiang", CODE)
    committee = Identity("owners-committee", "chair", "chengxiang", CODE)
    before = log_size(app)
    with pytest.raises(PermissionDenied):
        app.handle(owners, RequestAudit("q1", filed, "owners_committee", 0, "x"))
    with pytest.raises(PermissionDenied):
        app.handle(committee, RequestAudit("q2", filed, "owners", 100, "x"))
    assert log_size(app) == before
    # As what they are, both may.
    app.handle(owners, RequestAudit("q3", filed, "owners", 20, "x"))
    app.handle(committee, RequestAudit("q4", filed, "owners_committee", 0, "x"))
    assert log_size(app) == before + 4  # two AuditRequested, two receipts
