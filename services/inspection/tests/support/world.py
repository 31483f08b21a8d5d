"""A small inspection world on in-memory persistence, for the authorization matrix and the
leak regressions: chengxiang's communities (two companies), licheng's, rosters of three
units, chengxiang's 2026 plan drawn with the discipline office's contribution, one check of
it with a finding whose rectification is verified, and a cross check (chengxiang's team in
licheng)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inspection.adapters.read_model_memory import InMemoryInspectionReadModel
from inspection.application import commands as c
from inspection.application.app import InspectionApplication
from inspection.domain.community_watch import NotedDisclosure
from inspection.domain.spot_check import ChecklistResult, Substitution
from inspection.domain.spot_check_plan import SpotCheckPlan
from servicekit.attachments import AttachmentRef, InMemoryAttachmentStore, NoScanner
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock

USCC_A = "91350200776049653A"
"""The company of CX-0001..CX-0003 (the record's company in the matrix)."""
USCC_B = "9144030071526726XG"
"""The company of CX-0004..CX-0006."""
USCC_C = "91430111MA4L41YT1U"
"""The company of licheng's communities."""
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

CX_OFFICER = Identity("property-bureau", "officer", "chengxiang", "officer one")
CX_HEAD = Identity("property-bureau", "head", "chengxiang", "head one")
CX_INSPECTOR = Identity("property-bureau", "inspector", "chengxiang", "CX-I1")
LC_OFFICER = Identity("property-bureau", "officer", "licheng", "officer two")
CITY_OFFICER = Identity("property-bureau", "officer", "putian", "city officer")
CX_DISCIPLINE = Identity("discipline", "supervisor", "chengxiang", "supervisor one")
CITY_DISCIPLINE = Identity("discipline", "supervisor", "putian", "city supervisor")
COMPANY_A = Identity("property-company", "manager", "chengxiang", USCC_A)
COMPANY_B = Identity("property-company", "manager", "chengxiang", USCC_B)
PUBLIC = Identity("public", "anonymous", "putian", via="provincial-app")
AUDITOR = Identity("auditor", "auditor", "putian", "auditor one")

CX_TOWNSHIP = "龙桥街道"
"""The township of CX-0001..CX-0003 (CX-0004..CX-0006: 凤凰山街道; licheng's: 镇海街道)."""
CX_TOWNSHIP_OFFICER = Identity("township", "officer", "chengxiang", "township officer")
CX_CODES = [f"CX-{n:04d}" for n in range(1, 7)]
LC_CODES = [f"LC-{n:04d}" for n in range(1, 5)]
ITEMS = ["signboard_present", "signboard_at_main_entrance", "posting_30_days"]


def checklist(failed: tuple[str, ...] = ()) -> tuple[ChecklistResult, ...]:
    return tuple(
        ChecklistResult(
            item,
            item not in failed,
            "",
            (f"{item}.jpg",) if item in failed else (),
            "general" if item in failed else "",
        )
        for item in ITEMS
    )


def new_app(now: datetime = NOW) -> InspectionApplication:
    return InspectionApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=FakeClock(now),
        read_model=InMemoryInspectionReadModel,
        attachments=InMemoryAttachmentStore(scanner=NoScanner()),
    )


def stored(app: InspectionApplication, name: str = "现场照片.png") -> AttachmentRef:
    """A small PNG put in the application's evidence store (distinct per name), as the
    evidence service would have stored it, and its reference."""
    content = b"\x89PNG\r\n\x1a\n" + name.encode()
    return app.attachments.put(content, "image/png", name)


def _rid() -> str:
    return f"r-{uuid.uuid4().hex[:12]}"


def drawn_plan(
    app: InspectionApplication,
    planner: Identity,
    unit: str,
    contributor: Identity,
    handed_down: tuple[str, ...] = (),
    contribution: str = "a fresh value of the discipline office 7f3a",
) -> SpotCheckPlan:
    """A yearly plan whose draw is executed: planned by the bureau, then drawn with the
    discipline office's contribution."""
    planned = app.handle(
        planner,
        c.PlanSpotChecks(_rid(), 2026, unit, inspectors_per_target=2, handed_down=handed_down),
    )
    app.handle(contributor, c.ContributeDrawEntropy(_rid(), planned.plan_id, contribution))
    return app.plan(planned.plan_id)


def record_check(
    app: InspectionApplication,
    who: Identity,
    plan: SpotCheckPlan,
    code: str,
    failed: tuple[str, ...] = (),
    inspectors: list[str] | None = None,
    substitutions: tuple[Substitution, ...] = (),
) -> c.SpotCheckRecorded:
    target = next(t for t in plan.targets if t["community_code"] == code)
    recorded: c.SpotCheckRecorded = app.handle(
        who,
        c.RecordSpotCheck(
            _rid(),
            str(plan.id),
            code,
            datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
            tuple(target["inspectors"] if inspectors is None else inspectors),
            checklist(failed),
            substitutions,
        ),
    )
    return recorded


@dataclass
class World:
    app: InspectionApplication
    plan: SpotCheckPlan
    cross: SpotCheckPlan
    check_id: str
    finding_id: str
    ids: dict[str, str] = field(default_factory=dict)


def communities(app: InspectionApplication) -> None:
    for n, code in enumerate(CX_CODES):
        company, township = (USCC_A, CX_TOWNSHIP) if n < 3 else (USCC_B, "凤凰山街道")
        app.note_registration(
            code, "chengxiang", company, DeliveryRef("t", f"reg-{code}", 1), township
        )
    for code in LC_CODES:
        app.note_registration(
            code, "licheng", USCC_C, DeliveryRef("t", f"reg-{code}", 1), "镇海街道"
        )
    app.note_disclosure(
        NotedDisclosure(
            "5b1c2a8e-0000-4000-8000-000000000001",
            "CX-0001",
            "chengxiang",
            2026,
            1,
            0,
            150_000,
            100_000,
            False,
            False,
        ),
        DeliveryRef("t", "disc-CX-0001", 1),
    )


def rosters(app: InspectionApplication) -> None:
    for who, unit, prefix in (
        (CX_OFFICER, "chengxiang", "CX"),
        (LC_OFFICER, "licheng", "LC"),
        (CITY_OFFICER, "putian", "PT"),
    ):
        for n in range(1, 4):
            app.handle(who, c.RegisterInspector(_rid(), f"{prefix}-I{n}", f"检查员{n}", unit))


def build(published: bool = False) -> World:
    """The world of the matrix; `published`: every target of chengxiang's plan checked (its
    draw then verifiable by anyone)."""
    app = new_app()
    communities(app)
    rosters(app)
    app.handle(CX_OFFICER, c.DeclareConflict(_rid(), "CX-I3", "CX-0005", "亲属在该小区物业任职"))
    plan = drawn_plan(app, CX_OFFICER, "chengxiang", CX_DISCIPLINE, handed_down=("CX-0001",))
    done = record_check(app, CX_INSPECTOR, plan, "CX-0001", failed=("signboard_present",))
    [finding_id] = done.finding_ids
    # Verified the same day (a stated instant lies at most a day past the service's clock).
    app.handle(
        CX_OFFICER,
        c.VerifyRectification(
            _rid(), finding_id, datetime(2026, 6, 1, 12, 0, tzinfo=UTC), ("after.jpg",), "已设置"
        ),
    )
    if published:
        for code in plan.target_codes:
            if code != "CX-0001":
                record_check(app, CX_INSPECTOR, plan, code)
    planned = app.handle(
        CITY_OFFICER,
        c.PlanCrossCheck(_rid(), 2026, 2, "chengxiang", "licheng", 1, inspectors_per_target=2),
    )
    app.handle(
        CITY_DISCIPLINE,
        c.ContributeDrawEntropy(
            _rid(), planned.cross_check_id, "the city's discipline office: 51c0ffee2026"
        ),
    )
    cross = app.plan(planned.cross_check_id)
    return World(app, plan, cross, done.spot_check_id, finding_id)
