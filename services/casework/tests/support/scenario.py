"""Casework on in-memory persistence, and every casework event from one scenario: the source
of the golden samples and of the test that the producer emits their shapes (and no
personal data)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from casework.adapters.contract_events import to_contract
from casework.adapters.personal_data import InMemoryReadLog, in_memory_vault
from casework.adapters.read_model_memory import InMemoryCaseReadModel
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    AcknowledgeReferral,
    AssignCase,
    CloseCase,
    CloseWarning,
    FlagTypicalCase,
    GiveFeedback,
    PublishTypicalCase,
    ReceiveComplaint,
    RecordInterview,
    ReferToPolice,
    ReportPoliceOutcome,
    ResolveCase,
    StartInvestigation,
)
from casework.application.handlers.cases import on_rectification_ordered
from casework.application.handlers.warnings import on_disclosure_overdue
from casework.domain.case import CSPRNG
from casework.domain.warnings.rules import DISCLOSURE_OVERDUE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.vocabulary.agencies import Agency
from servicekit.attachments import AttachmentRef, InMemoryAttachmentStore, NoScanner
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock

WHEN = datetime(2026, 5, 6, 1, 15, tzinfo=UTC)
OFFICER = Identity(Agency.PROPERTY_BUREAU, "officer", "licheng")
HEAD = Identity(Agency.PROPERTY_BUREAU, "head", "licheng")
POLICE = Identity(Agency.POLICE, "investigator", "licheng", "putian-psb-licheng")
NAME, PHONE = "王某某", "13905940000"
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def complaint(request_id: str = "c1", channel: str = "hotline_12345") -> ReceiveComplaint:
    return ReceiveComplaint(
        request_id=request_id,
        channel=channel,
        major=False,
        community_code="LC-0001",
        company_uscc="91350200776049653A",
        category="revenue_not_disclosed",
        description="小区停车收入从未公示",
        unit="licheng",
        complainant_name=NAME,
        complainant_phone=PHONE,
        received_at=WHEN,
    )


def zhihui_feed(url: str) -> dict[str, str]:
    """The 智慧监督 feed's variables for `bootstrap.build(feed=...)`: to a test receiver at
    `url`, with the development key (tools/feed_receiver.py accepts it)."""
    return {"PUBREV_ZHIHUI_URL": url}


def close_complaint(app: CaseworkApplication, case_id: str, prefix: str = "") -> None:
    """Takes a received complaint to its closure: investigated, resolved, fed back, closed
    (by the handling unit's bureau, OFFICER)."""
    for command in (
        StartInvestigation(f"{prefix}i", case_id),
        ResolveCase(f"{prefix}r", case_id, "已责令公示"),
        GiveFeedback(f"{prefix}f", case_id, "phone", "已电话告知"),
        CloseCase(f"{prefix}c", case_id),
    ):
        app.handle(OFFICER, command)


def app_with_vault(clock: FakeClock, tokens: random.Random = CSPRNG) -> CaseworkApplication:
    """Casework on in-memory persistence, with the envelope vault (an in-memory keyring, an
    ephemeral local KEK), the in-memory read model and record of personal-data reads, and
    an evidence store in memory (`evidence(app, ...)` puts a file in it). `tokens`: where its
    tracking numbers and random ids are drawn (the CSPRNG unless a test seeds its own)."""
    return CaseworkApplication(
        env=IN_MEMORY,
        clock=clock,
        vault=in_memory_vault(clock=clock),
        read_model=InMemoryCaseReadModel,
        read_log=InMemoryReadLog(),
        attachments=InMemoryAttachmentStore(scanner=NoScanner()),
        tokens=tokens,
    )


def evidence(
    app: CaseworkApplication, name: str = "公示照片.png", salt: bytes = b""
) -> AttachmentRef:
    """A PNG put in the application's evidence store (as UploadAttachment would), named."""
    store = app.attachments
    assert isinstance(store, InMemoryAttachmentStore)
    return store.put(b"\x89PNG\r\n\x1a\n" + salt.ljust(32, b"\0"), "image/png", name)


SAMPLE_SEED = 20260506
"""The golden samples' draws (case keys, interview ids, tracking numbers) come from a
`random.Random` seeded with this, so `tools/gen_samples.py` writes the same files each run."""


def run_scenario() -> list[ContractEvent]:
    clock = FakeClock(WHEN)
    app = app_with_vault(clock, tokens=random.Random(SAMPLE_SEED))
    case_id = app.handle(OFFICER, complaint()).case_id
    app.handle(OFFICER, AssignCase("a", case_id, "licheng", "镇海街道", "林某"))
    app.handle(OFFICER, StartInvestigation("i", case_id))
    app.handle(
        OFFICER,
        ReferToPolice(
            "p",
            case_id,
            "putian-psb-licheng",
            "embezzlement_by_staff",
            ("ledger.pdf",),
            "疑似挪用停车收入",
        ),
    )
    app.handle(POLICE, AcknowledgeReferral("k", case_id))
    app.handle(POLICE, ReportPoliceOutcome("o", case_id, "filed", "已立案侦查"))
    app.handle(OFFICER, ResolveCase("r", case_id, "已责令公示并移送公安"))
    app.handle(OFFICER, GiveFeedback("f", case_id, "phone", "已电话告知处理结果"))
    clock.now = WHEN + timedelta(days=20)
    app.handle(OFFICER, CloseCase("c", case_id))
    app.handle(HEAD, FlagTypicalCase("t", case_id, "挪用停车收入，群众反映强烈"))
    app.handle(
        HEAD,
        PublishTypicalCase(
            "pub",
            case_id,
            "某物业公司挪用小区停车收入案",
            "经查，该公司未公示停车收入并挪用，已责令退还并移送公安机关。",
            "91350200776049653A",
            "",
        ),
    )
    on_rectification_ordered(
        app,
        DeliveryRef("casework.rectification", "finding-1", 2),
        finding_id="finding-1",
        unit="licheng",
        community_code="LC-0001",
        company_uscc="91350200776049653A",
        kind="A1",
        deadline=WHEN + timedelta(days=30),
        found_at=WHEN,
    )
    on_disclosure_overdue(
        app,
        DeliveryRef("casework.warnings", "overdue-1", 1),
        community_code="LC-0001",
        unit="licheng",
        company="91350200776049653A",
        year=2026,
        quarter=1,
    )
    warning_id = str(SupervisionWarning.create_id(DISCLOSURE_OVERDUE, "LC-0001", "2026Q1"))
    app.handle(
        OFFICER, CloseWarning("w", warning_id, ("公示照片-2026-05-20.jpg",), "已督促补正公示")
    )
    app.handle(
        HEAD,
        RecordInterview(
            "iv",
            "company",
            "91350200776049653A",
            "licheng",
            "拒不公示公共收益收支情况",
            (warning_id,),
            ("6f1c1a52-8d4b-4a8e-9d3f-2b7c0e5a9c11",),
            "2026-05-26",
            "企业承诺十日内补正公示并退还停车收入",
            (evidence(app, "约谈记录.png"),),
        ),
    )
    # The campaign's helpers build on this module's: imported here, not at the top.
    from services.casework.tests.support.campaign import run_campaign_scenario

    run_campaign_scenario(app, clock)
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced
