"""A log touching every table of the disclosure read model, written through the commands:
registrations, filings (on time and late), amendments, audit requests and results, a
handover, a quarter closed, self-inspection ledgers and a rectification. For the tests
holding the read model's two ways of writing (per event, in batches) equal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from disclosure.application.commands import (
    AmendDisclosure,
    ChangePropertyCompany,
    CloseQuarter,
    DisclosureFiled,
    FileDisclosure,
    FileSelfInspection,
    RecordAuditResult,
    RecordSelfInspectionRectification,
    RegisterCommunity,
    RegisterCompany,
    RequestAudit,
)
from disclosure.domain.self_inspection_ledger import SelfInspectionItem
from disclosure.entrypoints.grpc_api import content_from_pb
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.disclosure.tests.support.requests import content
from services.disclosure.tests.support.scenario import COMPANY, SUCCESSOR

UNIT = "licheng"
CODES = ("LC-0001", "LC-0002", "LC-0003", "LC-0004")
OFFICER = Identity("property-bureau", "officer", UNIT)
CITY = Identity("property-bureau", "officer", "putian")


def write_log(app: Any, clock: FakeClock) -> None:
    """`app`: a DisclosureApplication (any persistence) whose clock is `clock`."""
    clock.now = datetime(2026, 1, 6, 2, 30, tzinfo=UTC)
    app.handle(CITY, RegisterCompany("c1", COMPANY, "莆田市荔园物业服务有限公司", ""))
    app.handle(CITY, RegisterCompany("c2", SUCCESSOR, "福建某物业管理有限公司", ""))
    for number, code in enumerate(CODES, 1):
        app.handle(
            OFFICER,
            RegisterCommunity(
                f"r-{code}",
                code,
                "荔园小区",
                "荔城区镇海街道荔园路8号",
                UNIT,
                "350304",
                "镇海街道",
                COMPANY,
                "莆田市荔园物业服务有限公司",
                True,
                number,
                1,
                True,
                100 * number,
            ),
        )
    clock.now = datetime(2026, 4, 20, 2, 30, tzinfo=UTC)
    filed: list[DisclosureFiled] = [
        app.handle(
            OFFICER,
            FileDisclosure(f"f-{code}", code, 2026, 1, content_from_pb(content(income))),
        )
        for code, income in zip(CODES[:3], (1_000_000, 2_500_000, 730_000), strict=True)
    ]
    first, second = filed[0].disclosure_id, filed[1].disclosure_id
    for revision, income in enumerate((1_200_000, 1_350_000), 1):
        app.handle(
            OFFICER,
            AmendDisclosure(
                f"a-{revision}",
                first,
                revision,
                "广告收入漏记一笔",
                content_from_pb(content(income)),
            ),
        )
    app.handle(
        Identity("owners-committee", "chair", UNIT, CODES[1]),
        RequestAudit("q1", second, "owners_committee", 0, "停车收入与车位数不符"),
    )
    clock.now = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)
    app.handle(CITY, CloseQuarter("close-q1", 2026, 1))  # LC-0004 filed nothing: overdue
    app.handle(
        OFFICER,
        ChangePropertyCompany(
            "h1", CODES[2], SUCCESSOR, "2026-06-01", "业主大会决定更换物业服务企业"
        ),
    )
    clock.now = datetime(2026, 6, 22, 2, 30, tzinfo=UTC)
    app.handle(
        OFFICER,
        RecordAuditResult(
            "ar1",
            second,
            "福建某会计师事务所",
            "discrepancies",
            120_000,
            "停车收入少计1,200元",
            date(2026, 6, 20),
        ),
    )
    # An amendment after the audit: its version moves past the audit's.
    app.handle(
        OFFICER,
        AmendDisclosure("a-3", second, 3, "审计后更正", content_from_pb(content(2_380_000))),
    )
    clock.now = datetime(2026, 7, 18, 2, 30, tzinfo=UTC)
    for code in CODES[:2]:
        app.handle(
            OFFICER,
            FileSelfInspection(
                f"si-{code}",
                code,
                2026,
                (
                    SelfInspectionItem(
                        "公示牌未设在主要出入口", "移至小区南门", date(2026, 8, 15), "林经理"
                    ),
                    SelfInspectionItem(
                        "广告收入未入专户", "补记入专户", date(2026, 7, 31), "陈会计"
                    ),
                ),
                date(2026, 7, 17),
                ("wechat_group", "sms"),
            ),
        )
    clock.now = datetime(2026, 8, 5, 2, 30, tzinfo=UTC)  # Q2 was due 31 July: late
    for code in CODES[2:]:
        app.handle(
            OFFICER,
            FileDisclosure(f"f2-{code}", code, 2026, 2, content_from_pb(content(400_000))),
        )
    clock.now = datetime(2026, 8, 16, 2, 30, tzinfo=UTC)
    app.handle(
        OFFICER,
        RecordSelfInspectionRectification(
            "sr1", CODES[0], 2026, 2, date(2026, 8, 10), "已补记并公示"
        ),
    )
