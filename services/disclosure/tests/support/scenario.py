"""One scenario touching every disclosure event, on in-memory persistence, with a fixed
clock: the source of the golden samples (tools/gen_samples.py) and of the contract test
that the producer still emits exactly their shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
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
from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from disclosure.domain.self_inspection_ledger import SelfInspectionItem
from pubrev_contracts.events.base import ContractEvent
from servicekit.identity import Identity

COMPANY = "91350200776049653A"
SUCCESSOR = "91110000600037341L"


def content() -> DisclosureContent:
    return DisclosureContent(
        income=(IncomeItem("parking", 1_250_000), IncomeItem("advertising", 380_000)),
        operating_cost_fen=240_000,
        expenditure=(ExpenditureItem("电梯维修", 150_000, "业主大会决议〔2026〕3号"),),
        owners_share_fen=840_000,
        company_share_fen=0,
        transferred_to_maintenance_fund_fen=400_000,
        no_income=False,
        separate_account="兴业银行莆田分行 3501 0000 1234",
        contact_name="林经理",
        contact_phone="13905941234",
        posting_start=date(2026, 4, 8),
        posting_end=date(2026, 5, 15),
        posting_channels=("signboard", "wechat_group"),
    )


def run_scenario() -> list[ContractEvent]:
    now = datetime(2026, 1, 6, 2, 30, tzinfo=UTC)

    def clock() -> datetime:
        return now

    app = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    officer = Identity("property-bureau", "officer", "licheng")
    city = Identity("property-bureau", "officer", "putian")
    app.handle(city, RegisterCompany("c1", COMPANY, "莆田市荔园物业服务有限公司", ""))
    app.handle(city, RegisterCompany("c2", SUCCESSOR, "福建某物业管理有限公司", ""))
    for code in ("LC-0001", "LC-0002"):
        app.handle(
            officer,
            RegisterCommunity(
                f"r-{code}",
                code,
                "荔园小区",
                "荔城区镇海街道荔园路8号",
                "licheng",
                "350304",
                "镇海街道",
                COMPANY,
                "莆田市荔园物业服务有限公司",
                True,
                6,
                2,
                True,
                480,
            ),
        )
    now = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)
    filed: DisclosureFiled = app.handle(
        officer, FileDisclosure("f1", "LC-0001", 2026, 1, content())
    )
    app.handle(
        officer, AmendDisclosure("a1", filed.disclosure_id, 1, "广告收入漏记一笔", content())
    )
    app.handle(
        Identity("owners-committee", "chair", "licheng", "LC-0001"),
        RequestAudit(
            "q1",
            filed.disclosure_id,
            "owners_committee",
            0,
            "停车收入与车位数不符",
        ),
    )
    app.handle(city, CloseQuarter("c1", 2026, 1))  # LC-0002 filed nothing: overdue
    app.handle(
        officer,
        ChangePropertyCompany(
            "h1", "LC-0002", SUCCESSOR, "2026-06-01", "业主大会决定更换物业服务企业"
        ),
    )
    now = datetime(2026, 6, 22, 2, 30, tzinfo=UTC)
    app.handle(
        officer,
        RecordAuditResult(
            "ar1",
            filed.disclosure_id,
            "福建某会计师事务所",
            "discrepancies",
            120_000,
            "停车收入少计1,200元",
            date(2026, 6, 20),
        ),
    )
    now = datetime(2026, 7, 18, 2, 30, tzinfo=UTC)
    app.handle(
        Identity("property-company", "filer", "licheng", COMPANY),
        FileSelfInspection(
            "si1",
            "LC-0001",
            2026,
            (
                SelfInspectionItem(
                    "公示牌未设在主要出入口", "移至小区南门", date(2026, 8, 15), "林经理"
                ),
                SelfInspectionItem("广告收入未入专户", "补记入专户", date(2026, 7, 31), "陈会计"),
            ),
            date(2026, 7, 17),
            ("wechat_group", "sms"),
        ),
    )
    now = datetime(2026, 8, 16, 2, 30, tzinfo=UTC)
    app.handle(
        officer,
        RecordSelfInspectionRectification(
            "sr1", "LC-0001", 2026, 2, date(2026, 8, 10), "已补记并公示"
        ),
    )
    produced = []
    for notification in app.recorder.select_notifications(1, 1000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            produced.append(contract)
    return produced
