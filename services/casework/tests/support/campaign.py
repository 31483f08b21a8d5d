"""The campaign calendar's test helpers: casework on in-memory persistence with a clock set in
the 2026 campaign, contract events of the other services delivered through the
subscriptions table as the runner delivers them (each consumer once), and builders of those
events."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.domain import CanCreateTimestamp

from casework.application.app import CaseworkApplication
from casework.application.commands import RecordStageDone, SubmitMonthlyReport
from casework.application.handlers.warnings import on_violation_found
from casework.application.sweeps import sweep_campaign_stages
from casework.domain.warnings.campaign_rules import UNIT_BEHIND_STAGE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from casework.entrypoints.consumers import subscriptions
from pubrev_contracts.events.base import ContractEvent
from pubrev_contracts.events.disclosure import (
    CommunityRegisteredV1,
    DisclosureFiguresV1,
    DisclosureFiledV1,
    IncomeLineV1,
    SelfInspectionFiledV1,
)
from pubrev_contracts.events.inspection import (
    CrossCheckReportedV1,
    DrawV1,
    FindingWithdrawnV1,
    RectificationOrderedV1,
    RectificationVerifiedV1,
    SpotCheckDoneV1,
    SpotCheckPlannedV1,
    TownshipInspectionRecordedV1,
    ViolationFoundV1,
)
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.scenario import app_with_vault

YEAR = 2026
UNIT = "licheng"
OTHER = "hanjiang"
COMPANY = "91350200776049653A"
BUREAU = Identity(Agency.PROPERTY_BUREAU, "officer", UNIT, "lin")
HEAD = Identity(Agency.PROPERTY_BUREAU, "head", UNIT, "chen")
CITY_BUREAU = Identity(Agency.PROPERTY_BUREAU, "head", "putian", "wang")
CITY_DISCIPLINE = Identity(Agency.DISCIPLINE, "supervisor", "putian")
_ids = itertools.count(1)


def at(month: int, day: int, hour: int = 10, year: int = YEAR) -> datetime:
    """An instant in Putian (Asia/Shanghai), as UTC."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def campaign_app(
    now: datetime, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[CaseworkApplication, FakeClock]:
    """Casework at `now` on a clock the test moves. With `monkeypatch`, the events also
    record the clock's time as their own (eventsourcing stamps an event with the wall clock,
    which the fake clock does not move: the ledgers date the actions that carry no time of
    their own, such as FeedbackGiven, by it)."""
    clock = FakeClock(now)
    if monkeypatch is not None:
        monkeypatch.setattr(CanCreateTimestamp, "create_timestamp", staticmethod(clock))
    return app_with_vault(clock), clock


def deliver(app: CaseworkApplication, *events: ContractEvent) -> list[bool]:
    """Each event to every subscription that takes its type, as the runner does (the
    delivery named by the consumer, the event's aggregate and version)."""
    applied = []
    for event in events:
        for subscription in subscriptions(app):
            entry = subscription.by_type.get(type(event).ce_type)
            if entry is None:
                continue
            _, handler = entry
            delivery = DeliveryRef(
                subscription.consumer, str(event.aggregate_id), event.aggregate_version
            )
            applied.append(handler(event, delivery))
    return applied


def _base(unit: str, when: datetime, aggregate: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "aggregate_id": aggregate or uuid.uuid4(),
        "aggregate_version": 1,
        "unit": unit,
        "occurred_at": when,
    }


def registered(code: str, unit: str = UNIT, when: datetime | None = None) -> CommunityRegisteredV1:
    return CommunityRegisteredV1(
        **_base(unit, when or at(7, 1)),
        community_code=code,
        name=f"{code}小区",
        address="莆田市",
        division_code="350304",
        township="镇海街道",
        company_uscc=COMPANY,
        company_name="某物业公司",
        signboard_at_main_entrance=True,
        elevator_count=0,
        barrier_gate_count=0,
        has_leasable_space=False,
        household_count=300,
    )


def self_inspection(code: str, when: datetime, unit: str = UNIT) -> SelfInspectionFiledV1:
    return SelfInspectionFiledV1(
        **_base(unit, when),
        community_code=code,
        company_uscc=COMPANY,
        year=when.astimezone(SHANGHAI).year,
        problems=1,
        posted_on=when.astimezone(SHANGHAI).date().isoformat(),
        filed_at=when,
    )


def township_inspection(
    code: str, when: datetime, unit: str = UNIT
) -> TownshipInspectionRecordedV1:
    """One inspection, the next version of the community's township-inspection ledger."""
    return TownshipInspectionRecordedV1(
        aggregate_id=uuid.uuid5(uuid.NAMESPACE_URL, f"township-ledger:{code}"),
        aggregate_version=next(_ids),
        unit=unit,
        occurred_at=when,
        community_code=code,
        township="镇海街道",
        inspected_on=when.astimezone(SHANGHAI).date().isoformat(),
        problems=0,
        inspector="黄某",
    )


def filed(code: str, quarter: int, when: datetime, unit: str = UNIT) -> DisclosureFiledV1:
    return DisclosureFiledV1(
        **_base(unit, when),
        community_id=uuid.uuid4(),
        community_code=code,
        company_uscc=COMPANY,
        year=YEAR,
        quarter=quarter,
        figures=DisclosureFiguresV1(
            income=[IncomeLineV1(source="parking", amount_fen=100_00)],
            income_total_fen=100_00,
            operating_cost_fen=10_00,
            expenditure_total_fen=0,
            surplus_fen=90_00,
            owners_share_fen=90_00,
            company_share_fen=0,
            transferred_to_maintenance_fund_fen=90_00,
            posting_days=30,
            posting_channels=["signboard"],
        ),
        late=False,
        zero_revenue=False,
    )


def plan(
    unit: str,
    quota: int,
    when: datetime,
    kind: str = "yearly",
    checked_unit: str = "",
    quarter: int = 0,
) -> SpotCheckPlannedV1:
    return SpotCheckPlannedV1(
        **_base(unit, when),
        year=YEAR,
        kind=kind,
        quarter=quarter,
        checked_unit=checked_unit or unit,
        communities=10,
        quota=quota,
        rules_version="r1",
        targets=[],
        draw=DrawV1(
            seed="", algorithm="a", pool_hash="h", pool_size=10, drawn=[], inspector_pool_hash="i"
        ),
    )


def checked(plan_id: uuid.UUID, code: str, when: datetime, unit: str = UNIT) -> SpotCheckDoneV1:
    return SpotCheckDoneV1(
        **_base(unit, when),
        plan_id=plan_id,
        community_code=code,
        company_uscc=COMPANY,
        inspected_at=when,
        inspectors=["i1", "i2"],
        checklist=[],
        findings=0,
        checking_unit=unit,
        checking_kind="county",
    )


def violation(
    finding: uuid.UUID,
    when: datetime,
    *,
    kind: str = "B6",
    party: str = "company",
    agency_unit: str = "",
    warning_id: uuid.UUID | None = None,
    unit: str = UNIT,
    company: str = COMPANY,
) -> ViolationFoundV1:
    return ViolationFoundV1(
        **_base(unit, when, finding),
        spot_check_id=uuid.uuid4(),
        community_code="LC-0001",
        company_uscc=company,
        kind=kind,
        kind_name="未按规定履行监管职责" if party == "agency" else "结余未存入维修资金专户",
        severity="general",
        legal_basis="工作方案二（五）",
        found_at=when,
        evidence_refs=[],
        party=party,
        agency_unit=agency_unit,
        warning_id=warning_id,
    )


def ordered(finding: uuid.UUID, when: datetime, unit: str = UNIT) -> RectificationOrderedV1:
    return RectificationOrderedV1(
        **{**_base(unit, when, finding), "aggregate_version": 2},
        community_code="LC-0001",
        company_uscc=COMPANY,
        kind="B6",
        deadline=when + timedelta(days=30),
    )


def verified(finding: uuid.UUID, when: datetime, unit: str = UNIT) -> RectificationVerifiedV1:
    return RectificationVerifiedV1(
        **{**_base(unit, when, finding), "aggregate_version": 3},
        community_code="LC-0001",
        company_uscc=COMPANY,
        kind="B6",
        verified_at=when,
        late=False,
    )


def withdrawn(finding: uuid.UUID, when: datetime, unit: str = UNIT) -> FindingWithdrawnV1:
    return FindingWithdrawnV1(
        **{**_base(unit, when, finding), "aggregate_version": 4},
        community_code="LC-0001",
        company_uscc=COMPANY,
        kind="B6",
        reason="企业异议成立",
        withdrawn_at=when,
    )


def cross_reported(
    unit: str, checked_unit: str, quarter: int, when: datetime
) -> CrossCheckReportedV1:
    return CrossCheckReportedV1(
        **{**_base(unit, when), "aggregate_version": 3},
        checked_unit=checked_unit,
        year=YEAR,
        quarter=quarter,
        planned=2,
        checked=2,
        findings=0,
        findings_by_kind={},
    )


def logged(app: CaseworkApplication) -> list[Any]:
    """Every domain event of the application's log, in order."""
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100_000)]


def warnings_of(app: CaseworkApplication, rule: str) -> list[SupervisionWarning]:
    """The warnings of a rule, as they now stand."""
    ids = [e.originator_id for e in logged(app) if isinstance(e, SupervisionWarning.Raised)]
    found = [app.find(i, SupervisionWarning) for i in ids]
    return [w for w in found if w is not None and w.rule == rule]


ASSERTED_FIELD_RULES = frozenset({"unknown_stage", "unknown_duty"})
"""The field rules the campaign's handlers and queries add to casework's, asserted in
test_casework_campaign.py and test_casework_reports.py (test_casework_errors.py counts them
among the asserted)."""
ASSERTED_RULES_ZH = frozenset(
    {
        "该阶段进度由相关业务数据自动统计，无需填报",
        "该单位不承担此阶段任务",
        "该年度专项整治尚未开始",
        "该阶段已记录完成",
        "月度报送由县（区、管委会）向市城市管理局报送",
        "向省住建厅报送工作简报由市城市管理局负责",
        "月度报送须在当月开始后提交",
        "本月报送已提交",
        "该月尚未开始，无法通报",
    }
)
"""The campaign's RuleViolated messages (zh-CN), asserted in the same two test modules."""


def run_campaign_scenario(app: CaseworkApplication, clock: FakeClock) -> None:
    """The campaign's own events for the golden samples (scenario.run_scenario): a stage a
    unit recorded, July's monthly report, a warning escalated into an agency's finding."""
    before = clock.now
    clock.now = at(7, 16)
    app.handle(BUREAU, RecordStageDone("cs", UNIT, YEAR, "mobilisation", "全区动员部署会议"))
    sweep_campaign_stages(app)
    behind = SupervisionWarning.create_id(UNIT_BEHIND_STAGE, OTHER, f"{YEAR}:mobilisation")
    on_violation_found(
        app,
        DeliveryRef("casework.warnings.inspection", "finding-e1", 1),
        company="",
        unit=OTHER,
        finding_id="0b0f6a4e-3c1d-4f7e-9a2b-5c6d7e8f9a0b",
        found_at=at(7, 18),
        community_code="HJ-0001",
        kind="E1",
        party="agency",
        agency_unit=OTHER,
        warning_id=str(behind),
        kind_name="未按规定开展检查",
        severity="general",
        legal_basis="工作方案二（五）",
    )
    clock.now = at(7, 26)
    app.handle(BUREAU, SubmitMonthlyReport("mr", UNIT, YEAR, 7, "本月完成动员部署和自查自纠"))
    clock.now = before
