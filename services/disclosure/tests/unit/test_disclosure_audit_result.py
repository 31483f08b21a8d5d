"""Audit results (plan 四（六）, DOMAIN.md §3) on in-memory persistence: a result answers an
audit the owners asked for (RequestAudit), one result per request, recorded by the unit's
bureau; the owners who asked, the company audited and the unit's supervisors read it, the
public does not."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.access import audit_facts
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AuditResultRecorded,
    FileDisclosure,
    RecordAuditResult,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.application.queries import get_audit_result, list_disclosures
from disclosure.domain.disclosure import Disclosure, DisclosureContent, ExpenditureItem, IncomeItem
from pubrev_contracts.events.disclosure import AuditResultRecordedV1
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied, RuleViolated
from servicekit.identity import Identity
from servicekit.policy import Resource
from servicekit.testing import FakeClock

USCC = "91350200776049653A"
CODE = "CX-001"
UNIT = "chengxiang"
HOUSEHOLDS = 320

CITY = Identity("property-bureau", "officer", "putian", "city-1")
OFFICER = Identity("property-bureau", "officer", UNIT, "officer-1")
COMMITTEE = Identity("owners-committee", "chair", UNIT, CODE)
OWNERS = Identity("owners", "representative", UNIT, CODE)
COMPANY = Identity("property-company", "filer", UNIT, USCC)


def rules_of(error: InvalidArgument) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in error.violations}


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
        "13905941234",
        date(2026, 4, 2),
        date(2026, 5, 10),
        ("signboard",),
    )


def result_cmd(
    disclosure_id: str, request_id: str = "ar-1", **changes: object
) -> RecordAuditResult:
    fields: dict[str, object] = {
        "request_id": request_id,
        "disclosure_id": disclosure_id,
        "auditor": "福建某会计师事务所",
        "conclusion": "discrepancies",
        "discrepancy_fen": 120_000,
        "summary": "停车收入少计1,200元",
        "posted_on": date(2026, 6, 20),
    }
    return RecordAuditResult(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, tzinfo=SHANGHAI))


@pytest.fixture
def app(clock: FakeClock) -> DisclosureApplication:
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    app.handle(CITY, RegisterCompany("co", USCC, "物业公司", ""))
    app.handle(
        CITY,
        RegisterCommunity(
            "r1",
            CODE,
            "阳光花园",
            "地址",
            UNIT,
            "350302",
            "街道",
            USCC,
            "物业",
            True,
            4,
            2,
            True,
            HOUSEHOLDS,
        ),
    )
    clock.now = datetime(2026, 4, 20, 10, tzinfo=SHANGHAI)
    return app


@pytest.fixture
def disclosure_id(app: DisclosureApplication, clock: FakeClock) -> str:
    """CX-001's 2026Q1 disclosure, filed on 20 April; the clock on 22 June."""
    filed = app.handle(COMPANY, FileDisclosure("f1", CODE, 2026, 1, content()))
    clock.now = datetime(2026, 6, 22, 10, tzinfo=SHANGHAI)
    return str(filed.disclosure_id)


def test_no_result_without_a_request(app: DisclosureApplication, disclosure_id: str) -> None:
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolated, match="no audit was requested of this disclosure"):
        app.handle(OFFICER, result_cmd(disclosure_id))
    assert app.recorder.max_notification_id() == before


async def test_one_result_per_request_in_the_order_asked(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    first = app.handle(OFFICER, result_cmd(disclosure_id))
    assert first == AuditResultRecorded(disclosure_id, 3, audit=1)
    assert app.handle(OFFICER, result_cmd(disclosure_id)) == first  # a retry
    with pytest.raises(RuleViolated, match="has its result already"):
        app.handle(
            CITY, result_cmd(disclosure_id, "ar-2", conclusion="consistent", discrepancy_fen=0)
        )
    app.handle(OWNERS, RequestAudit("q2", disclosure_id, "owners", 70, "广告收入去向不明"))
    second = app.handle(
        CITY, result_cmd(disclosure_id, "ar-2", conclusion="consistent", discrepancy_fen=0)
    )
    assert second == AuditResultRecorded(disclosure_id, 5, audit=2)
    view = get_audit_result(app, COMMITTEE, disclosure_id)
    assert (view.community_code, view.unit, view.year, view.quarter) == (CODE, UNIT, 2026, 1)
    assert [
        (a.number, a.requester, a.owners_count, a.result and a.result.conclusion)
        for a in view.audits
    ] == [(1, "owners_committee", 0, "discrepancies"), (2, "owners", 70, "consistent")]
    one = view.audits[0].result
    assert one is not None
    assert (one.auditor, one.discrepancy_fen, one.summary, one.posted_on) == (
        "福建某会计师事务所",
        120_000,
        "停车收入少计1,200元",
        date(2026, 6, 20),
    )
    # The read model's version follows the disclosure (an amendment names it).
    [row], _ = await list_disclosures(app, CITY, UNIT, 2026, 1, "", 50, "")
    assert row.version == 5


def test_a_request_without_its_result_reads_as_open(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    [audit] = get_audit_result(app, OWNERS, disclosure_id).audits
    assert (audit.number, audit.household_count, audit.reason, audit.result) == (
        1,
        HOUSEHOLDS,
        "停车收入偏低",
        None,
    )


def test_every_bad_field_of_a_result_comes_back_at_once(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    with pytest.raises(InvalidArgument) as caught:
        app.handle(
            OFFICER,
            result_cmd(
                "not-a-uuid",
                request_id="",
                auditor=" ",
                conclusion="fine",
                discrepancy_fen=-1,
                summary="",
                posted_on=None,
            ),
        )
    assert rules_of(caught.value) == {
        ("request_id", "required"),
        ("disclosure_id", "uuid_format"),
        ("auditor", "required"),
        ("conclusion", "unknown_conclusion"),
        ("discrepancy_fen", "non_negative"),
        ("summary", "required"),
        ("posted_on", "date_format"),
    }
    with pytest.raises(InvalidArgument) as caught:
        app.handle(
            OFFICER,
            result_cmd(
                disclosure_id,
                auditor="所" * 201,
                conclusion="consistent",
                summary="意见\x00",
                posted_on=date(2026, 6, 23),
            ),
        )
    assert rules_of(caught.value) == {
        ("auditor", "too_long"),
        ("discrepancy_fen", "consistent_with_discrepancy"),
        ("summary", "control_character"),
        ("posted_on", "posted_in_future"),
    }
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, result_cmd(disclosure_id, posted_on=date(2026, 4, 19)))
    assert rules_of(caught.value) == {("posted_on", "posted_before_filing")}
    # A discrepancy need not be money (items mislabelled, accounts confused: DOMAIN.md §4 A).
    assert app.handle(OFFICER, result_cmd(disclosure_id, discrepancy_fen=0)).audit == 1


def test_the_units_bureau_records_a_result_and_nobody_else(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    for caller in (
        COMMITTEE,
        OWNERS,
        COMPANY,
        Identity("property-bureau", "inspector", UNIT),
        Identity("property-bureau", "officer", "xianyou"),
        Identity("township", "officer", UNIT),
        Identity("auditor", "auditor", "putian"),
    ):
        with pytest.raises(PermissionDenied):
            app.handle(caller, result_cmd(disclosure_id))
    with pytest.raises(NotFound):
        app.handle(OFFICER, result_cmd("00000000-0000-0000-0000-000000000000"))


def test_the_owners_who_asked_the_company_and_the_supervisors_read_the_result(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    app.handle(OFFICER, result_cmd(disclosure_id))
    for reader in (
        COMMITTEE,
        OWNERS,
        COMPANY,
        CITY,
        Identity("township", "officer", UNIT),
        Identity("discipline", "supervisor", UNIT),
        Identity("market-regulation", "officer", UNIT),
    ):
        [audit] = get_audit_result(app, reader, disclosure_id).audits
        assert audit.result is not None and audit.result.conclusion == "discrepancies", reader
    for stranger in (
        Identity("public", "anonymous", "putian"),
        Identity("owners-committee", "chair", UNIT, "CX-002"),
        Identity("property-company", "filer", UNIT, "91110000600037341L"),
        Identity("property-bureau", "officer", "xianyou"),
        Identity("police", "officer", UNIT, "putian-psb"),
    ):
        with pytest.raises(PermissionDenied):
            get_audit_result(app, stranger, disclosure_id)
    with pytest.raises(InvalidArgument) as caught:
        get_audit_result(app, OWNERS, "nope")
    assert rules_of(caught.value) == {("disclosure_id", "uuid_format")}
    disclosure = app.find(uuid.UUID(disclosure_id), Disclosure)
    assert disclosure is not None
    assert audit_facts(disclosure) == Resource(unit=UNIT, company=USCC, community=CODE)


def test_the_result_translates_to_its_contract(
    app: DisclosureApplication, disclosure_id: str
) -> None:
    app.handle(COMMITTEE, RequestAudit("q1", disclosure_id, "owners_committee", 0, "停车收入偏低"))
    app.handle(OFFICER, result_cmd(disclosure_id))
    [recorded] = [
        c
        for n in app.recorder.select_notifications(1, 100)
        if isinstance(c := to_contract(app.mapper.to_domain_event(n)), AuditResultRecordedV1)
    ]
    assert (
        recorded.community_code,
        recorded.year,
        recorded.quarter,
        recorded.conclusion,
        recorded.discrepancy_fen,
        recorded.posted_on,
        recorded.aggregate_version,
    ) == (CODE, 2026, 1, "discrepancies", 120_000, "2026-06-20", 3)
