"""Issue 13 in inspection, on in-memory persistence: every code of the campaign's list can be
recorded (by the checklist or entered directly, with evidence), agencies' failures name no
company and order no rectification, the company submits its own evidence and objects to its
findings, the bureau verifies against that evidence and decides the objections, and what
was stored before loads as before."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from inspection.adapters.contract_events import to_contract
from inspection.application import commands as c
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.application.sweeps import sweep_rectification_deadlines
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.finding import Finding
from inspection.domain.spot_check import ChecklistResult
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.violations import (
    CHECKLIST,
    CHECKLIST_ITEMS,
    DIRECT_ONLY,
    KINDS,
    how_recorded,
)
from inspection.entrypoints.consumers import subscriptions
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.events.disclosure import CommunityRegisteredV1
from pubrev_contracts.events.inspection import (
    FindingObjectedV1,
    FindingWithdrawnV1,
    ObjectionRejectedV1,
    RectificationEvidenceSubmittedV1,
    RectificationOrderedV1,
    RectificationVerifiedV1,
    ViolationFoundV1,
)
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.sources import plan
from servicekit.attachments import AttachmentRef
from servicekit.errors import PermissionDenied, RuleViolated
from servicekit.eventstore import CommandReceipt, DeliveryRef, fingerprint
from servicekit.evidence import EvidenceDesk, InMemoryUploads
from servicekit.identity import Identity
from services.inspection.tests.support.world import (
    CITY_OFFICER,
    COMPANY_A,
    COMPANY_B,
    CX_INSPECTOR,
    CX_OFFICER,
    LC_OFFICER,
    NOW,
    USCC_A,
    World,
    build,
    stored,
)
from tests.support.authz import RULES

SECTION_OF_LETTER = {"A": "二（一）", "B": "二（二）", "C": "二（三）"}
CX_HEAD = Identity("property-bureau", "head", "chengxiang", "head one")
COMPANY_A_FILER = Identity("property-company", "filer", "chengxiang", USCC_A)


def rid() -> str:
    return f"f-{uuid.uuid4().hex[:12]}"


def published(app: InspectionApplication) -> list[ContractEvent]:
    """Every event the relay would publish, as the contract."""
    events = (
        app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(1, 100_000)
    )
    return [e for e in map(to_contract, events) if e is not None]


def of(app: InspectionApplication, kind: type[ContractEvent], aggregate: str) -> list[Any]:
    return [e for e in published(app) if isinstance(e, kind) and str(e.aggregate_id) == aggregate]


def direct(world: World, who: Identity = CX_OFFICER, **changes: Any) -> c.FindingRecorded:
    entry = c.RecordFinding(
        rid(), "D2", "serious", "虚增外墙维修工程量", (stored(world.app),), "CX-0002"
    )
    recorded: c.FindingRecorded = world.app.handle(who, replace(entry, **changes))
    return recorded


def clock(world: World, at: datetime) -> None:
    world.app.clock.now = at  # type: ignore[attr-defined]


# -- every code reachable ------------------------------------------------------------------------


def test_the_codes_no_checklist_item_leads_to_are_entered_directly() -> None:
    assert DIRECT_ONLY == ("C2", "D1", "D2", "D3", "E1", "E2", "E3")
    assert set(CHECKLIST.values()) | set(DIRECT_ONLY) == set(KINDS)
    assert how_recorded("A3") == ("checklist:disclosed_on_time", "direct")
    assert how_recorded("E2") == ("direct",)


def test_each_checklist_item_asks_the_plan_s_question_of_its_paragraph() -> None:
    assert len({i.key for i in CHECKLIST_ITEMS}) == len(CHECKLIST_ITEMS) == 15
    for item in CHECKLIST_ITEMS:
        assert item.source == plan(SECTION_OF_LETTER[item.code[0]]), item
        assert item.question_zh and KINDS[item.code].party == "company"


def test_every_code_of_the_list_can_be_recorded_and_by_which_path() -> None:
    """The checklist (one check failing every item) and direct entries (every code): each
    code of vocabulary.violations.KINDS reaches ViolationFound on the wire."""
    world = build()
    code = next(t for t in world.plan.target_codes if t != "CX-0001")
    target = next(t for t in world.plan.targets if t["community_code"] == code)
    photo = stored(world.app)
    checked = world.app.handle(
        CX_INSPECTOR,
        c.RecordSpotCheck(
            rid(),
            str(world.plan.id),
            code,
            datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
            tuple(target["inspectors"]),
            tuple(
                ChecklistResult(item.key, False, "不合格", (), "general", (photo,))
                for item in CHECKLIST_ITEMS
            ),
        ),
    )
    assert len(checked.finding_ids) == len(CHECKLIST_ITEMS)
    for kind in KINDS:
        if KINDS[kind].party == "company":
            direct(world, kind=kind)
        else:
            direct(world, CITY_OFFICER, kind=kind, community_code="", agency_unit="licheng")
    found = [e for e in published(world.app) if isinstance(e, ViolationFoundV1)]
    by_path: dict[str, set[str]] = {}
    for event in found:
        by_path.setdefault(event.kind, set()).add(
            "direct" if event.checking_kind == "direct" else "checklist"
        )
    assert set(by_path) == set(KINDS)
    for kind, paths in by_path.items():
        assert paths == {p.split(":")[0] for p in how_recorded(kind)}, kind
    # A checked item's files travel with its finding.
    checked_a3 = next(e for e in found if e.kind == "A3" and e.checking_kind == "county")
    assert [a.sha256 for a in checked_a3.attachments] == [photo.sha256]


async def test_an_agency_s_failure_names_the_agency_no_company_and_orders_no_rectification() -> (
    None
):
    world = build()
    warning = str(uuid.uuid4())
    recorded = direct(
        world,
        CITY_OFFICER,
        kind="E1",
        community_code="",
        agency_unit="licheng",
        warning_id=warning.upper(),
    )
    assert (recorded.party, recorded.deadline) == ("agency", "")
    [event] = of(world.app, ViolationFoundV1, recorded.finding_id)
    assert (event.party, event.company_uscc, event.unit, event.agency_unit) == (
        "agency",
        "",
        "licheng",
        "licheng",
    )
    assert (event.checking_unit, event.checking_kind, str(event.warning_id)) == (
        "putian",
        "direct",
        warning,
    )
    assert event.legal_basis == plan("二（五）")
    assert of(world.app, RectificationOrderedV1, recorded.finding_id) == []
    finding = world.app.finding(recorded.finding_id)
    assert finding.status == "found" and not finding.mark_overdue(NOW + timedelta(days=400))
    listed = await queries.findings(world.app, CITY_OFFICER, "", "licheng")
    assert [(f.kind, f.party, f.agency_unit) for f in listed] == [("E1", "agency", "licheng")]


def test_a_unit_records_its_township_s_failure_but_never_its_own() -> None:
    world = build()
    township = direct(
        world,
        CX_OFFICER,
        kind="E2",
        community_code="CX-0003",
        agency_unit="chengxiang",
        township="龙桥街道",
    )
    [event] = of(world.app, ViolationFoundV1, township.finding_id)
    assert (event.unit, event.agency_unit, event.community_code) == (
        "chengxiang",
        "龙桥街道",
        "CX-0003",
    )
    with pytest.raises(PermissionDenied):
        direct(world, CX_OFFICER, kind="E1", community_code="", agency_unit="chengxiang")
    with pytest.raises(PermissionDenied):
        direct(world, LC_OFFICER, kind="E1", community_code="", agency_unit="chengxiang")
    with pytest.raises(PermissionDenied):  # an inspector alone does not bypass the draw
        direct(world, CX_INSPECTOR)
    direct(world, CITY_OFFICER, kind="E1", community_code="", agency_unit="chengxiang")


def test_a_company_s_finding_entered_directly_orders_rectification_from_its_entry() -> None:
    world = build()
    recorded = direct(world)
    [found] = of(world.app, ViolationFoundV1, recorded.finding_id)
    assert (found.company_uscc, found.party, found.checking_unit) == (
        USCC_A,
        "company",
        "chengxiang",
    )
    assert found.found_at == NOW and len(found.attachments) == 1
    [ordered] = of(world.app, RectificationOrderedV1, recorded.finding_id)
    # Serious: 60 days from 1 June 2026 (Asia/Shanghai), 31 July a Friday.
    assert ordered.deadline.astimezone(SHANGHAI).date().isoformat() == "2026-07-31"
    assert recorded.deadline == ordered.deadline.astimezone(UTC).isoformat()
    # The same request answered once; the finding's id follows from the unit and request.
    entry = c.RecordFinding("same", "B4", "general", "虚列", (stored(world.app),), "CX-0002")
    first = world.app.handle(CX_OFFICER, entry)
    assert world.app.handle(CX_OFFICER, entry) == first


# -- the company's evidence, the bureau's verification -----------------------------------------


async def test_the_company_submits_its_evidence_and_the_bureau_verifies_citing_it() -> None:
    world = build()
    finding_id = direct(world).finding_id
    proof = stored(world.app, "退款凭证.png")
    clock(world, NOW + timedelta(days=20))
    submitted = world.app.handle(
        COMPANY_A_FILER,
        c.SubmitRectificationEvidence(rid(), finding_id, " 已退回维修款并公示 ", (proof,)),
    )
    assert submitted == c.EvidenceSubmitted(finding_id, 1)
    [event] = of(world.app, RectificationEvidenceSubmittedV1, finding_id)
    assert (event.note, [a.sha256 for a in event.attachments]) == (
        "已退回维修款并公示",
        [proof.sha256],
    )
    assert event.submitted_at == NOW + timedelta(days=20)
    # The bureau comes after the deadline; the company proved it in time: not late.
    late_visit = NOW + timedelta(days=70)
    clock(world, late_visit)
    world.app.handle(
        CX_OFFICER,
        c.VerifyRectification(rid(), finding_id, late_visit, (), "核实", True),
    )
    [verified] = of(world.app, RectificationVerifiedV1, finding_id)
    assert verified.late is False and verified.verified_at == late_visit
    [row] = [f for f in await queries.findings(world.app, CX_OFFICER, USCC_A) if f.kind == "D2"]
    assert (row.status, row.submissions) == ("verified", 1)


def test_without_the_company_s_evidence_a_verification_past_the_deadline_is_late() -> None:
    world = build()
    finding_id = direct(world).finding_id
    late_visit = NOW + timedelta(days=70)
    clock(world, late_visit)
    assert sweep_rectification_deadlines(world.app) == 1
    world.app.handle(
        COMPANY_A,
        c.SubmitRectificationEvidence(rid(), finding_id, "逾期整改", (stored(world.app),)),
    )  # an overdue order still takes evidence
    world.app.handle(
        CX_OFFICER, c.VerifyRectification(rid(), finding_id, late_visit, ("site.jpg",), "")
    )
    [verified] = of(world.app, RectificationVerifiedV1, finding_id)
    assert verified.late is True


def test_a_company_acts_on_its_own_findings_only_and_learns_nothing_of_others() -> None:
    world = build()
    finding_id = direct(world).finding_id
    evidence = c.SubmitRectificationEvidence(rid(), finding_id, "已整改", (stored(world.app),))
    with pytest.raises(PermissionDenied) as other:
        world.app.handle(COMPANY_B, evidence)
    missing = replace(evidence, finding_id=str(uuid.uuid4()))
    with pytest.raises(PermissionDenied) as absent:
        world.app.handle(COMPANY_A, missing)
    assert other.value.message == absent.value.message
    with pytest.raises(PermissionDenied):  # an objection is the manager's act
        world.app.handle(COMPANY_A_FILER, c.ObjectToFinding(rid(), finding_id, "不服"))


# -- objections ---------------------------------------------------------------------------------


def test_an_objection_rejected_leaves_the_finding_standing() -> None:
    world = build()
    finding_id = direct(world).finding_id
    raised = world.app.handle(
        COMPANY_A,
        c.ObjectToFinding(rid(), finding_id, "工程量经业委会确认", (stored(world.app),)),
    )
    # 15 days from 1 June 2026: 16 June, a Tuesday, to its end (Asia/Shanghai).
    assert raised.deadline.startswith("2026-06-16T15:59:59.999999+00:00")  # UTC
    [objected] = of(world.app, FindingObjectedV1, finding_id)
    assert (objected.reason, len(objected.attachments)) == ("工程量经业委会确认", 1)
    decided = world.app.handle(CX_HEAD, c.DecideObjection(rid(), finding_id, False, "理由不成立"))
    assert decided == c.ObjectionDecided(finding_id, "rejected", "open")
    [rejected] = of(world.app, ObjectionRejectedV1, finding_id)
    assert rejected.decision == "理由不成立"
    assert of(world.app, FindingWithdrawnV1, finding_id) == []


async def test_an_objection_upheld_withdraws_the_finding_and_cancels_its_rectification() -> None:
    world = build()
    finding_id = direct(world).finding_id
    world.app.handle(COMPANY_A, c.ObjectToFinding(rid(), finding_id, "维修真实发生"))
    decided = world.app.handle(
        CITY_OFFICER, c.DecideObjection(rid(), finding_id, True, "经复核，工程量属实")
    )
    assert decided == c.ObjectionDecided(finding_id, "upheld", "withdrawn")
    [withdrawn] = of(world.app, FindingWithdrawnV1, finding_id)
    assert (withdrawn.reason, withdrawn.company_uscc, withdrawn.kind) == (
        "经复核，工程量属实",
        USCC_A,
        "D2",
    )
    clock(world, NOW + timedelta(days=100))
    assert sweep_rectification_deadlines(world.app) == 0  # cancelled: never overdue
    [row] = [f for f in await queries.findings(world.app, CX_OFFICER, USCC_A) if f.kind == "D2"]
    assert (row.status, row.objection) == ("withdrawn", "upheld")
    with pytest.raises(RuleViolated):
        world.app.handle(
            CX_OFFICER, c.VerifyRectification(rid(), finding_id, NOW, ("site.jpg",), "")
        )


def test_the_objection_period_runs_from_when_the_company_could_know_the_finding() -> None:
    """A check recorded weeks after the visit: 15 days from its recording, not the visit."""
    world = build()
    code = next(t for t in world.plan.target_codes if t != "CX-0001")
    target = next(t for t in world.plan.targets if t["community_code"] == code)
    clock(world, datetime(2026, 6, 25, 2, tzinfo=UTC))
    done = world.app.handle(
        CX_INSPECTOR,
        c.RecordSpotCheck(
            rid(),
            str(world.plan.id),
            code,
            datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
            tuple(target["inspectors"]),
            (ChecklistResult("posting_30_days", False, "", ("a.jpg",), "minor"),),
        ),
    )
    clock(world, datetime(2026, 7, 8, 2, tzinfo=UTC))
    company = COMPANY_A if code <= "CX-0003" else COMPANY_B
    raised = world.app.handle(company, c.ObjectToFinding(rid(), done.finding_ids[0], "公示满30日"))
    assert raised.deadline.startswith("2026-07-10T15:59:59")  # 25 June + 15 days, a Friday


def test_the_bureau_that_found_it_decides_not_another_unit() -> None:
    world = build()
    finding_id = direct(world).finding_id
    world.app.handle(COMPANY_A, c.ObjectToFinding(rid(), finding_id, "不服"))
    with pytest.raises(PermissionDenied):
        world.app.handle(LC_OFFICER, c.DecideObjection(rid(), finding_id, True, "撤销"))
    with pytest.raises(PermissionDenied):
        world.app.handle(CX_INSPECTOR, c.DecideObjection(rid(), finding_id, True, "撤销"))


# -- retries across this deployment, and what was stored before ----------------------------------


def test_a_retry_of_a_request_made_before_attachments_gets_its_first_answer() -> None:
    app = InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    verify = c.VerifyRectification("v1", "f-1", NOW, ("after.jpg",), "已整改")
    check = c.RecordSpotCheck(
        "s1",
        "p-1",
        "CX-0002",
        NOW,
        ("CX-I1",),
        (ChecklistResult("signboard_present", False, "无", ("a.jpg",), "serious"),),
    )
    before = {
        verify: {
            "request_id": "v1",
            "finding_id": "f-1",
            "verified_at": NOW.isoformat(),
            "evidence_refs": ["after.jpg"],
            "note": "已整改",
        },
        check: {
            "request_id": "s1",
            "plan_id": "p-1",
            "community_code": "CX-0002",
            "inspected_at": NOW.isoformat(),
            "inspector_codes": ["CX-I1"],
            "checklist": [
                {
                    "item": "signboard_present",
                    "passed": False,
                    "note": "无",
                    "evidence_refs": ["a.jpg"],
                    "severity": "serious",
                }
            ],
            "substitutions": [],
        },
    }
    answers = {verify: c.RectificationVerified("f-1"), check: c.SpotCheckRecorded("s-1", [])}
    for command, payload in before.items():
        remembered = {k: v for k, v in vars(answers[command]).items()}
        app.save(
            CommandReceipt(
                type(command).__name__, command.request_id, fingerprint(payload), remembered
            )
        )
        assert app.run_command(command, type(answers[command]), _never) == answers[command]
    # Content that could not have been sent before is a reuse of the request_id.
    assert replace(verify, cite_company_evidence=True).earlier_payloads() == []
    photo = AttachmentRef("a" * 64, 1, "image/png", "a.png")
    with_files = replace(check.checklist[0], attachments=(photo,))
    assert replace(check, checklist=(with_files,)).earlier_payloads() == []


def _never() -> Any:
    raise AssertionError("a retry does not run the command again")


def _stored_as(app: InspectionApplication, event: Any, version: int, *dropped: str) -> Any:
    """The event as a producer of `version` stored it: without the fields added since."""
    stored_event = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored_event.state)
    for name in dropped:
        state.pop(name)
    state.pop("class_version", None)
    if version > 1:
        state["class_version"] = version
    old = StoredEvent(
        stored_event.originator_id,
        stored_event.originator_version,
        stored_event.topic,
        app.mapper.transcoder.encode(state),
    )
    return app.mapper.to_domain_event(old)


def test_events_stored_before_load_with_the_values_they_implied() -> None:
    world = build()
    app = world.app
    finding = app.finding(world.finding_id)
    events = [
        app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(1, 10_000)
    ]
    found = next(e for e in events if isinstance(e, Finding.ViolationFound))
    old_found = _stored_as(
        app, found, 2, "party", "agency_unit", "warning_id", "attachments", "recorded_at"
    )
    assert (old_found.party, old_found.agency_unit, old_found.warning_id) == ("company", "", "")
    assert old_found.attachments == [] and old_found.recorded_at == old_found.found_at
    verified = next(e for e in events if isinstance(e, Finding.RectificationVerified))
    old_verified = _stored_as(app, verified, 1, "company_evidence", "rectified_at")
    assert old_verified.company_evidence == [] and old_verified.rectified_at == verified.verified_at
    registered = next(e for e in events if isinstance(e, CommunityWatch.RegistrationNoted))
    assert _stored_as(app, registered, 1, "township").township == ""
    assert finding.status == "verified"
    # A cross check's report stored before its time was kept: the time it was stored.
    world.app.handle(CITY_OFFICER, c.ReportCrossCheck(rid(), str(world.cross.id)))
    events = [
        app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(1, 10_000)
    ]
    reported = next(e for e in events if isinstance(e, SpotCheckPlan.CrossCheckReported))
    old_report = _stored_as(app, reported, 1, "reported_at")
    assert old_report.reported_at == reported.timestamp


def test_the_register_s_township_reaches_the_community_s_file() -> None:
    world = build()
    [on_registered] = [
        handler
        for s in subscriptions(world.app)
        for model, handler in s.by_type.values()
        if model is CommunityRegisteredV1
    ]
    event = CommunityRegisteredV1(
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        unit="chengxiang",
        occurred_at=NOW,
        community_code="CX-0042",
        name="凤凰小区",
        address="城厢区凤凰山街道",
        division_code="350302",
        township="凤凰山街道",
        company_uscc=USCC_A,
        company_name="某物业",
        signboard_at_main_entrance=True,
        elevator_count=2,
        barrier_gate_count=1,
        has_leasable_space=False,
        household_count=300,
    )
    assert on_registered(event, DeliveryRef("inspection.disclosure-watch", "p-0", 1))
    watch = world.app.find(CommunityWatch.create_id("CX-0042"), CommunityWatch)
    assert watch is not None and watch.township == "凤凰山街道"


def test_whoever_may_read_a_finding_may_download_the_files_it_references() -> None:
    """The evidence service asks inspection which findings reference a file: the company
    concerned downloads the bureau's evidence against it (its upload named no company),
    another company does not."""
    world = build()
    photo = stored(world.app, "外墙.png")
    finding_id = direct(world, attachments=(photo,)).finding_id
    readers = queries.attachment_readers(world.app, photo.sha256)
    assert [(r.unit, r.company, r.community) for r in readers] == [
        ("chengxiang", USCC_A, "CX-0002")
    ]
    proof = stored(world.app, "凭证.png")
    world.app.handle(
        COMPANY_A, c.SubmitRectificationEvidence(rid(), finding_id, "已整改", (proof,))
    )
    assert len(queries.attachment_readers(world.app, proof.sha256)) == 1
    assert queries.attachment_readers(world.app, "b" * 64) == []
    desk = EvidenceDesk(
        world.app.policy,
        world.app.attachments,
        InMemoryUploads(),
        RULES,
        lambda sha256: queries.attachment_readers(world.app, sha256),
    )
    assert desk.download(COMPANY_A, photo.sha256).ref.sha256 == photo.sha256
    with pytest.raises(PermissionDenied):
        desk.download(COMPANY_B, photo.sha256)
