"""The inspection authorization matrix (tests/support/authz.py): every RPC × every identity
the vocabulary allows × its relation to the record, called through the application on the
world of services/inspection/tests/support/world.py, against the declared policy
(access.POLICY) and against the independent must-deny oracle (tests/support/must_deny.py).

The record is chengxiang's: its 2026 plan (drawn, one target checked), the check of CX-0001
and its finding against company A, CX-0001's file, the roster, the cross check of licheng by
chengxiang's team. Every call is one an allowed caller would make with valid arguments; the
writes are made on records whose state answers an allowed caller with a domain rule (planned
already, recorded already, verified already), so the matrix changes nothing it judges."""

from __future__ import annotations

import asyncio
import inspect
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inspection.application import commands, queries
from inspection.application.access import POLICY
from inspection.application.app import InspectionApplication
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.inspector import Inspector
from inspection.domain.spot_check import SpotCheck
from inspection.entrypoints import grpc_api
from servicekit.attachments import InMemoryAttachmentStore, NoScanner
from servicekit.evidence import EvidenceDesk, InMemoryUploads
from servicekit.identity import Identity
from servicekit.policy import Resource
from services.inspection.tests.support.world import CX_TOWNSHIP, USCC_A, World, build, stored
from tests.support.admin_authz import admin_invokers
from tests.support.authz import (
    RECORD_HISTORY,
    RULES,
    WHOLE_LOG,
    Invokers,
    Mismatch,
    cells,
    run_matrix,
)

RECORD = Resource(unit="chengxiang", company=USCC_A, community="CX-0001")
PLAN = Resource(unit="chengxiang")
PUBLISHED_PLAN = Resource(unit="chengxiang", published=True)


def rid() -> str:
    return f"m-{uuid.uuid4().hex[:12]}"


def invokers(world: World) -> Invokers:
    app: InspectionApplication = world.app
    plan_id, cross_id = str(world.plan.id), str(world.cross.id)
    target = next(t for t in world.plan.targets if t["community_code"] == "CX-0001")
    from services.inspection.tests.support.world import checklist

    # The evidence service: a photo the finding references (read by the finding's facts),
    # and an upload naming the finding's unit and company.
    store = InMemoryAttachmentStore(scanner=NoScanner())
    photo = store.put(b"\x89PNG\r\n\x1a\n" + bytes(32), "image/png", "现场.png").sha256
    evidence = EvidenceDesk(
        app.policy, store, InMemoryUploads(), RULES, lambda h: [RECORD] if h == photo else []
    )
    photo_ref = stored(app)
    calls: dict[str, Callable[[Identity], Any]] = {
        "RegisterInspector": lambda i: app.handle(
            i, commands.RegisterInspector(rid(), "CX-I1", "检查员1", "chengxiang")
        ),
        "DeclareConflict": lambda i: app.handle(
            i, commands.DeclareConflict(rid(), "CX-I2", "CX-0099", "亲属在该小区居住")
        ),
        "PlanSpotChecks": lambda i: app.handle(
            i, commands.PlanSpotChecks(rid(), 2026, "chengxiang", "", 2, (), (), ())
        ),
        "ContributeDrawEntropy": lambda i: app.handle(
            i, commands.ContributeDrawEntropy(rid(), plan_id, "another value of 24 chars")
        ),
        "RedrawSpotChecks": lambda i: app.handle(
            i, commands.RedrawSpotChecks(rid(), plan_id, "名录有误")
        ),
        "VerifyDraw": lambda i: queries.verify_draw(app, i, plan_id, None, 0),
        "PlanCrossCheck": lambda i: app.handle(
            i, commands.PlanCrossCheck(rid(), 2026, 2, "chengxiang", "licheng", 1, "", 2)
        ),
        "RecordSpotCheck": lambda i: app.handle(
            i,
            commands.RecordSpotCheck(
                rid(),
                plan_id,
                "CX-0001",
                datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
                tuple(target["inspectors"]),
                checklist(),
            ),
        ),
        "VerifyRectification": lambda i: app.handle(
            i,
            commands.VerifyRectification(
                rid(), world.finding_id, datetime(2026, 6, 1, 13, tzinfo=UTC), ("x.jpg",), ""
            ),
        ),
        "SweepRectificationDeadlines": lambda i: app.handle(
            i, commands.SweepRectificationDeadlines(rid())
        ),
        "ReportCrossCheck": lambda i: app.handle(i, commands.ReportCrossCheck(rid(), cross_id)),
        # The read model's queries are coroutines (the servicer awaits them): one loop each.
        "GetPlanProgress": lambda i: asyncio.run(queries.plan_progress(app, i, 2026, "chengxiang")),
        "ListSpotChecks": lambda i: asyncio.run(
            queries.spot_checks(app, i, 2026, "chengxiang", "", USCC_A)
        ),
        "ListFindings": lambda i: asyncio.run(queries.findings(app, i, USCC_A, "chengxiang")),
        "GetCommunityDisclosure": lambda i: queries.community_disclosure(app, i, "CX-0001"),
        "RecordFinding": lambda i: app.handle(
            i, commands.RecordFinding(rid(), "B4", "general", "虚列保洁费", (photo_ref,), "CX-0001")
        ),
        "SubmitRectificationEvidence": lambda i: app.handle(
            i,
            commands.SubmitRectificationEvidence(rid(), world.finding_id, "已整改", (photo_ref,)),
        ),
        "ObjectToFinding": lambda i: app.handle(
            i, commands.ObjectToFinding(rid(), world.finding_id, "公示牌已设置")
        ),
        "DecideObjection": lambda i: app.handle(
            i, commands.DecideObjection(rid(), world.finding_id, False, "异议不成立")
        ),
        "RecordTownshipInspection": lambda i: app.handle(
            i,
            commands.RecordTownshipInspection(
                rid(), "CX-0001", CX_TOWNSHIP, "2026-06-01", "巡查员甲", ("公示栏破损",)
            ),
        ),
        "ListTownshipInspections": lambda i: asyncio.run(
            queries.township_inspections(app, i, "chengxiang", "", "", "", "")
        ),
        "GetTownshipCoverage": lambda i: asyncio.run(
            queries.township_coverage(app, i, 2026, "chengxiang")
        ),
        "GetCrossCheckCompliance": lambda i: asyncio.run(
            queries.cross_check_compliance(app, i, 2026, "chengxiang")
        ),
        WHOLE_LOG: lambda i: app.read_history(i, None, 0, 10),
        RECORD_HISTORY: lambda i: app.read_history(i, uuid.UUID(world.finding_id), 0, 10),
        "UploadAttachment": lambda i: evidence.upload(
            i, rid(), b"%PDF-1.7\n" + bytes(32), "application/pdf", "整改.pdf", "chengxiang", USCC_A
        ),
        "GetAttachment": lambda i: evidence.download(i, photo),
        # The operators' service (pubrev.common.v1.AdminService), which inspection serves.
        **admin_invokers(app, "inspection"),
    }
    return calls


def history_of(world: World, aggregate_id: uuid.UUID) -> Invokers:
    return {RECORD_HISTORY: lambda i: world.app.read_history(i, aggregate_id, 0, 10)}


def _unexpected(mismatches: list[Mismatch]) -> list[str]:
    return [str(m) for m in mismatches]


def test_every_rpc_of_the_policy_is_in_the_matrix() -> None:
    assert set(invokers(build())) == {*POLICY.by_rpc, RECORD_HISTORY}


def test_the_matrix_over_every_rpc() -> None:
    world = build()
    count, mismatches = run_matrix(
        "inspection", POLICY, RECORD, invokers(world), history_rpc="ListFindings"
    )
    per_rpc = len(cells(RECORD))
    assert count == per_rpc * (len(POLICY.by_rpc) + 1)
    assert _unexpected(mismatches) == []
    print(
        f"inspection matrix: {count} cells ({per_rpc} identities × {len(POLICY.by_rpc) + 1} calls)"
    )


def test_a_draw_is_anyone_s_once_its_checks_are_done() -> None:
    """VerifyDraw on a plan every target of which is checked: the public (rate-limited), a
    township, the credit office, market regulation of the unit too; still never the police,
    a company, another unit's staff (they may ask as the public)."""
    world = build(published=True)
    assert queries.published(world.app, world.plan)
    count, mismatches = run_matrix(
        "inspection",
        POLICY,
        PUBLISHED_PLAN,
        invokers(world),
        history_rpc="VerifyDraw",
        rpcs=["VerifyDraw"],
    )
    assert count == len(cells(PUBLISHED_PLAN))
    assert [str(m) for m in mismatches] == []
    public = Identity("public", "anonymous", "putian", via="provincial-app")
    assert queries.verify_draw(world.app, public, str(world.plan.id), None, 0).matches


@pytest.mark.parametrize(
    ("what", "rpc", "record"),
    [
        ("plan", "VerifyDraw", PLAN),
        ("cross", "VerifyDraw", PLAN),
        ("check", "ListSpotChecks", RECORD),
        ("watch", "GetCommunityDisclosure", RECORD),
        ("inspector", "RegisterInspector", PLAN),
    ],
)
def test_each_record_s_history_follows_its_read_rule(what: str, rpc: str, record: Resource) -> None:
    world = build()
    ids = {
        "plan": world.plan.id,
        "cross": world.cross.id,
        "check": uuid.UUID(world.check_id),
        "watch": CommunityWatch.create_id("CX-0001"),
        "inspector": Inspector.create_id("CX-I1"),
    }
    count, mismatches = run_matrix(
        "inspection", POLICY, record, history_of(world, ids[what]), history_rpc=rpc
    )
    assert count == len(cells(record))
    assert [str(m) for m in mismatches] == []


def test_a_missing_record_s_history_looks_like_a_forbidden_one() -> None:
    """Plan and check ids are uuid5s anyone can compute: a company asking for the check of a
    community not (yet) checked gets the same answer as for one it may not read."""
    from servicekit.errors import PermissionDenied

    world = build()
    company = Identity("property-company", "manager", "chengxiang", USCC_A)
    unchecked = next(c for c in world.plan.target_codes if c != "CX-0001")
    with pytest.raises(PermissionDenied) as missing:
        world.app.read_history(company, SpotCheck.create_id(world.plan.id, unchecked), 0, 10)
    with pytest.raises(PermissionDenied) as forbidden:
        world.app.read_history(company, world.plan.id, 0, 10)
    assert missing.value.message == forbidden.value.message


def test_the_public_is_rate_limited_on_verify_draw() -> None:
    world = build(published=True)
    app = world.app
    app.policy = type(POLICY)(POLICY.service, POLICY.rules, public_per_minute=3, city=POLICY.city)
    public = Identity("public", "anonymous", "putian", via="rate-test-frontend")
    for _ in range(3):
        assert queries.verify_draw(app, public, str(world.plan.id), None, 0).matches
    from servicekit.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="too many"):
        queries.verify_draw(app, public, str(world.plan.id), None, 0)
    # Another front end's public has its own bucket; staff are not limited.
    other = Identity("public", "anonymous", "putian", via="another-frontend")
    assert queries.verify_draw(app, other, str(world.plan.id), None, 0).matches


def test_no_authorization_in_the_entrypoints() -> None:
    """grpc_api only passes the identity on: every decision is the application's."""
    source = inspect.getsource(grpc_api)
    for word in (r"PermissionDenied", r"\.agency\b", r"\.is_city", "may_access_unit", "policy"):
        assert re.search(word, source) is None, word
    assert Path(grpc_api.__file__).name == "grpc_api.py"
