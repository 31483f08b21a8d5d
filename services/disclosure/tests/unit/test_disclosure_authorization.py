"""The disclosure service's authorization matrix (tests/support/authz.py): every RPC, plus
GetHistory of the whole log and of one record, × every identity the vocabulary allows × its
relation to the scenario's record, called through the application on in-memory
persistence, compared with the declared policy (application/access.py) and with the
independent must-deny oracle (tests/support/must_deny.py)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest

from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.access import HISTORY_READS, POLICY
from disclosure.application.app import DisclosureApplication
from disclosure.application.commands import (
    AmendDisclosure,
    ChangePropertyCompany,
    CloseQuarter,
    FileDisclosure,
    FileSelfInspection,
    QuarterClosed,
    RecordAuditResult,
    RecordSelfInspectionRectification,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.application.queries import (
    disclosure_rate,
    get_audit_result,
    get_disclosure,
    get_self_inspection,
    list_disclosures,
    list_self_inspections,
)
from disclosure.application.sweeps import SCHEDULER, close_latest_quarter
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure, DisclosureContent, ExpenditureItem, IncomeItem
from disclosure.domain.self_inspection_ledger import SelfInspectionItem, SelfInspectionLedger
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied
from servicekit.identity import Identity
from servicekit.policy import Resource
from servicekit.testing import FakeClock
from tests.support.admin_authz import ADMIN_RPCS, admin_invokers
from tests.support.authz import RECORD_HISTORY, RULES, WHOLE_LOG, Invokers, cells, run_matrix

USCC = "91350200776049653A"
"""The scenario's company (not the matrix's `other uscc`, 91110000600037341L)."""
SUCCESSOR = "9144030071526726XG"
NEWCOMER = "91430111MA4L41YT1U"
CODE = "CX-0001"
LEDGER_CODE = "CX-0003"
"""The community whose self-inspection ledger the matrix files: the matrix hands CODE over to
another company (ChangePropertyCompany), and a ledger is filed by the company in charge."""
UNIT = "chengxiang"
HOUSEHOLDS = 320
PHONE = "13905941234"
CITY = Identity("property-bureau", "officer", "putian", "city-officer")
COMPANY = Identity("property-company", "filer", UNIT, USCC)

RPCS = {m.name for m in pb.DESCRIPTOR.services_by_name["DisclosureService"].methods} | ADMIN_RPCS
"""disclosure's own RPCs and the operators' (pubrev.common.v1.AdminService), which it serves
too."""
PAST_AUTHORIZATION = {"AlreadyExists", "RuleViolated"}
"""The only refusals an admitted caller meets with the matrix's valid arguments: a repeat
of a registration or filing, a handover to the company already in charge, a second result
of one audit request or rectification of one problem."""
LEDGER_RPCS = {
    "FileSelfInspection",
    "RecordSelfInspectionRectification",
    "GetSelfInspection",
    "ListSelfInspections",
}
"""Judged on the ledger of LEDGER_CODE (its own matrix)."""


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


def ledger_items() -> tuple[SelfInspectionItem, ...]:
    return (SelfInspectionItem("公示牌位置不当", "移至南门", date(2026, 6, 30), "林经理"),)


@dataclass
class Scenario:
    app: DisclosureApplication
    disclosure_id: str
    community_id: uuid.UUID
    record: Resource
    ledger_record: Resource


@pytest.fixture
def scenario() -> Scenario:
    """A community of chengxiang, its company, its filed 2026Q1 disclosure; the clock after
    the quarter's deadline (so the quarter may be closed)."""
    clock = FakeClock(datetime(2026, 1, 10, tzinfo=SHANGHAI))
    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    for uscc in (USCC, SUCCESSOR):
        app.handle(CITY, RegisterCompany(f"co-{uscc}", uscc, "物业公司", ""))
    app.handle(
        CITY,
        RegisterCommunity(
            "r1",
            CODE,
            "阳光花园",
            "城厢区龙桥街道1号",
            UNIT,
            "350302",
            "龙桥街道",
            USCC,
            "物业",
            True,
            4,
            2,
            True,
            HOUSEHOLDS,
        ),
    )
    clock.now = datetime(2026, 5, 6, 10, tzinfo=SHANGHAI)
    filed = app.handle(COMPANY, FileDisclosure("f1", CODE, 2026, 1, content()))
    record = Resource(unit=UNIT, company=USCC, community=CODE, published=True)
    ledger_record = Resource(unit=UNIT, company=USCC, community=LEDGER_CODE, published=True)
    return Scenario(app, filed.disclosure_id, Community.create_id(CODE), record, ledger_record)


def invokers(s: Scenario, seen: Counter[tuple[str, str]]) -> Invokers:
    """Every RPC with valid arguments on the scenario's record; `seen` counts the refusals
    of admitted callers by type, so that a bad argument cannot pass for an allowed call."""
    app, did = s.app, s.disclosure_id
    ids = (f"m-{n}" for n in itertools.count())

    def version() -> int:
        disclosure = app.find(uuid.UUID(did), Disclosure)
        assert disclosure is not None
        return int(disclosure.version)

    def audit(i: Identity) -> object:
        requester = "owners" if i.agency == "owners" else "owners_committee"
        return app.handle(i, RequestAudit(next(ids), did, requester, HOUSEHOLDS, "停车收入偏低"))

    calls: dict[str, Callable[[Identity], object]] = {
        "RegisterCompany": lambda i: app.handle(
            i, RegisterCompany(next(ids), NEWCOMER, "新物业公司", "")
        ),
        "RegisterCommunity": lambda i: app.handle(
            i,
            RegisterCommunity(
                next(ids),
                "CX-0002",
                "新小区",
                "地址",
                UNIT,
                "350302",
                "街道",
                USCC,
                "物业",
                True,
                0,
                0,
                False,
                100,
            ),
        ),
        "ChangePropertyCompany": lambda i: app.handle(
            i, ChangePropertyCompany(next(ids), CODE, SUCCESSOR, "2026-06-01", "业主大会决定更换")
        ),
        "FileDisclosure": lambda i: app.handle(
            i, FileDisclosure(next(ids), CODE, 2026, 1, content())
        ),
        "AmendDisclosure": lambda i: app.handle(
            i, AmendDisclosure(next(ids), did, version(), "广告收入漏记", content())
        ),
        "RequestAudit": audit,
        "CloseQuarter": lambda i: app.handle(i, CloseQuarter("close", 2026, 1, UNIT)),
        "GetDisclosure": lambda i: get_disclosure(app, i, did, 0),
        # The read model's queries are coroutines (the servicer awaits them): one loop each.
        "ListDisclosures": lambda i: asyncio.run(
            list_disclosures(app, i, UNIT, 2026, 1, USCC, 50, "", CODE)
        ),
        "GetDisclosureRate": lambda i: asyncio.run(disclosure_rate(app, i, UNIT, 2026, 1)),
        "RecordAuditResult": lambda i: app.handle(
            i,
            RecordAuditResult(
                next(ids), did, "会计师事务所", "consistent", 0, "账实相符", date(2026, 5, 6)
            ),
        ),
        "GetAuditResult": lambda i: get_audit_result(app, i, did),
        "FileSelfInspection": lambda i: app.handle(
            i,
            FileSelfInspection(
                next(ids), LEDGER_CODE, 2026, ledger_items(), date(2026, 5, 6), ("wechat_group",)
            ),
        ),
        "RecordSelfInspectionRectification": lambda i: app.handle(
            i,
            RecordSelfInspectionRectification(
                next(ids), LEDGER_CODE, 2026, 1, date(2026, 5, 5), "已移至南门"
            ),
        ),
        "GetSelfInspection": lambda i: get_self_inspection(app, i, LEDGER_CODE, 2026),
        "ListSelfInspections": lambda i: asyncio.run(
            list_self_inspections(app, i, UNIT, 2026, 50, "")
        ),
        WHOLE_LOG: lambda i: app.read_history(i, None, 0, 100),
        RECORD_HISTORY: lambda i: app.read_history(i, uuid.UUID(did), 0, 100),
    }

    def watched(rpc: str, call: Callable[[Identity], object]) -> Callable[[Identity], object]:
        def run(identity: Identity) -> object:
            try:
                return call(identity)
            except (PermissionDenied, NotFound):
                raise
            except Exception as error:
                seen[(rpc, type(error).__name__)] += 1
                raise

        return run

    # The operators' RPCs answer a service without feeds or such a projection with a bad
    # argument: past authorization, and not watched as the domain's refusals are.
    return {
        **{rpc: watched(rpc, call) for rpc, call in calls.items()},
        **admin_invokers(app, "disclosure"),
    }


def test_every_rpc_has_a_row_and_an_invoker(scenario: Scenario) -> None:
    assert set(POLICY.by_rpc) == RPCS
    assert set(invokers(scenario, Counter())) == RPCS | {RECORD_HISTORY}
    # One grant per agency and role and RPC: a list's filter is narrowed by that grant.
    for rule in POLICY.rules:
        for cell in cells(scenario.record):
            assert len(POLICY.grants(rule.rpc, cell.identity)) <= 1, (rule.rpc, cell)


def test_the_matrix_matches_the_policy_and_the_oracle(scenario: Scenario) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    calls = invokers(scenario, seen)
    scenario.app.handle(
        CITY,
        RegisterCommunity(
            "r3",
            LEDGER_CODE,
            "南山小区",
            "城厢区龙桥街道3号",
            UNIT,
            "350302",
            "龙桥街道",
            USCC,
            "物业",
            True,
            2,
            1,
            False,
            120,
        ),
    )
    # An audit asked for, so that the matrix's RecordAuditResult has one to answer (it runs
    # before RequestAudit: sorted by name).
    scenario.app.handle(
        Identity("owners-committee", "chair", UNIT, CODE),
        RequestAudit("q0", scenario.disclosure_id, "owners_committee", 0, "停车收入偏低"),
    )
    count, mismatches = run_matrix(
        "disclosure",
        POLICY,
        scenario.record,
        calls,
        "GetDisclosure",
        rpcs=sorted(RPCS - LEDGER_RPCS),
    )
    # The self-inspection ledger's RPCs, on the ledger's facts (filed first: sorted by name).
    ledgers, ledger_mismatches = run_matrix(
        "disclosure",
        POLICY,
        scenario.ledger_record,
        calls,
        "GetSelfInspection",
        rpcs=sorted(LEDGER_RPCS),
    )
    ledger = scenario.app.find(
        SelfInspectionLedger.create_id(LEDGER_CODE, 2026), SelfInspectionLedger
    )
    assert ledger is not None and ledger.rectifications  # filed and rectified by the matrix
    count += ledgers
    mismatches += ledger_mismatches
    # A record's history is judged on the facts history_reads declares: the same read rule
    # (GetDisclosure), but the trail is never published.
    disclosure = scenario.app.find(uuid.UUID(scenario.disclosure_id), Disclosure)
    rule, facts = HISTORY_READS[Disclosure]
    history_record = facts(disclosure)
    assert rule == "GetDisclosure"
    assert history_record == Resource(unit=UNIT, company=USCC, community=CODE, published=False)
    more, history_mismatches = run_matrix(
        "disclosure", POLICY, history_record, calls, "GetDisclosure", rpcs=[RECORD_HISTORY]
    )
    per_rpc = len(cells(scenario.record))
    print(
        f"disclosure authorization matrix: {count + more} cells "
        f"({len(RPCS) + 1} RPCs × {per_rpc} identities and relations)"
    )
    assert count + more == (len(RPCS) + 1) * per_rpc
    assert per_rpc >= 60
    assert [str(m) for m in mismatches + history_mismatches] == []
    assert {kind for _, kind in seen} <= PAST_AUTHORIZATION, seen
    # The admitted callers really acted: every write RPC was carried out at least once.
    assert scenario.app.find(Community.create_id("CX-0002"), Community) is not None
    community = scenario.app.find(scenario.community_id, Community)
    assert community is not None and community.company_uscc == SUCCESSOR
    assert disclosure is not None and disclosure.audits and disclosure.revision >= 1
    assert disclosure.audit_requests[0].result is not None


def test_a_communitys_history_is_for_who_keeps_the_register(scenario: Scenario) -> None:
    community = scenario.app.find(scenario.community_id, Community)
    assert community is not None
    rule, facts = HISTORY_READS[Community]
    calls = {RECORD_HISTORY: lambda i: scenario.app.read_history(i, scenario.community_id, 0, 100)}
    count, mismatches = run_matrix(
        "disclosure", POLICY, facts(community), calls, rule, rpcs=[RECORD_HISTORY]
    )
    assert count == len(cells(facts(community)))
    assert [str(m) for m in mismatches] == []
    allowed = [
        c.identity
        for c in cells(facts(community))
        if POLICY.decide(rule, c.identity, facts(community))
    ]
    assert {(i.agency, i.role) for i in allowed} == {
        ("property-bureau", "officer"),
        ("property-bureau", "head"),
    }


async def test_admitted_readers_see_the_record_and_the_public_no_contact(
    scenario: Scenario,
) -> None:
    app, did = scenario.app, scenario.disclosure_id
    owners = Identity("owners", "representative", UNIT, CODE)
    public = Identity("public", "anonymous", "putian")
    assert get_disclosure(app, owners, did, 0).content.contact_phone == PHONE
    seen_by_public = get_disclosure(app, public, did, 0).content
    assert (seen_by_public.contact_name, seen_by_public.contact_phone) == ("", "")
    assert seen_by_public.income_total_fen == 100_000
    # Lists return the record to whoever may list it, filtered to the caller's scope.
    for identity in (
        owners,
        public,
        COMPANY,
        CITY,
        Identity("township", "officer", UNIT),
        Identity("owners-committee", "chair", "putian", CODE),
    ):
        rows, _ = await list_disclosures(app, identity, "", 2026, 1, "", 50, "")
        assert [r.disclosure_id for r in rows] == [did], identity
    # An earlier version is the audit trail, not the posting: the public reads the current.
    app.handle(COMPANY, AmendDisclosure("a1", did, 1, "更正", content()))
    assert get_disclosure(app, owners, did, 1).version == 1
    with pytest.raises(PermissionDenied):
        get_disclosure(app, public, did, 1)
    assert get_disclosure(app, public, did, 0).version == 2


async def test_lists_refuse_a_filter_outside_the_callers_scope(scenario: Scenario) -> None:
    app = scenario.app
    owners = Identity("owners", "representative", UNIT, CODE)
    licheng = Identity("property-bureau", "officer", "licheng")
    with pytest.raises(PermissionDenied):
        await list_disclosures(app, owners, "", 2026, 1, "", 50, "", "CX-0002")
    with pytest.raises(PermissionDenied):
        await list_disclosures(app, licheng, UNIT, 2026, 1, "", 50, "")
    with pytest.raises(PermissionDenied):
        await disclosure_rate(app, licheng, UNIT, 2026, 1)
    with pytest.raises(PermissionDenied):
        app.handle(licheng, CloseQuarter("close", 2026, 1, UNIT))
    assert (await list_disclosures(app, licheng, "", 2026, 1, "", 50, ""))[0] == []
    [rate], _ = await disclosure_rate(app, licheng, "", 2026, 1)
    assert rate.unit == "licheng"


def test_the_quarter_sweep_runs_as_the_operators_scheduler(scenario: Scenario) -> None:
    assert RULES.check(SCHEDULER) == SCHEDULER
    assert (SCHEDULER.agency, SCHEDULER.role, SCHEDULER.unit) == ("operator", "scheduler", "putian")
    app = scenario.app
    app.handle(
        CITY,
        RegisterCommunity(
            "r2",
            "XY-0001",
            "仙游小区",
            "地址",
            "xianyou",
            "350322",
            "街道",
            USCC,
            "物业",
            True,
            0,
            0,
            False,
            50,
        ),
    )
    # XY-0001 was registered after the 2026Q1 deadline: the sweep closes Q1 (all units).
    assert close_latest_quarter(app) == QuarterClosed(marked_overdue=0, already_overdue=0, filed=1)
    operator = Identity("operator", "operator", "putian", "ops-1")
    with pytest.raises(PermissionDenied):
        app.handle(operator, CloseQuarter("close", 2026, 1))


async def test_a_bad_filter_is_named_with_the_rest(scenario: Scenario) -> None:
    app = scenario.app
    with pytest.raises(InvalidArgument) as caught:
        await list_disclosures(app, CITY, "fuzhou", 1999, 5, "123", 501, "x" * 65, "CX 1")
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("unit", "unknown_unit"),
        ("year", "year_range"),
        ("quarter", "quarter_range"),
        ("page_size", "page_size_range"),
        ("company_uscc", "uscc_length"),
        ("page_token", "page_token_length"),
        ("community_code", "code_format"),
    }
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidArgument) as caught:
        app.handle(CITY, CloseQuarter("close", 2026, 5, "fuzhou"))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("unit", "unknown_unit"),
        ("quarter", "quarter_range"),
    }
    assert app.recorder.max_notification_id() == before
    # Who may not call at all learns nothing about its input.
    with pytest.raises(PermissionDenied):
        app.handle(COMPANY, CloseQuarter("close", 2026, 5, "fuzhou"))
