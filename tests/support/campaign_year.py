"""The cast and the reading glasses of the campaign-year walk (tests/e2e/test_campaign_year.py):
one county-level unit (licheng) with six communities of two companies, the unit its
cross-check team checks (hanjiang, two communities), the people who act, the files they
attach, and what the walk reads back from the four services, turned into plain values the
walk's assertions compare exactly.

Ids the services derive (findings, warnings, cases) are named back by `Walk.name`: an
assertion reads `finding:A4` or `rectification:D3`, and a failure says which record it was.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from casework.application import queries as casework_queries
from casework.domain.case import Case
from credit.application import queries as credit_queries
from disclosure.application import queries as disclosure_queries
from disclosure.domain.disclosure import DisclosureContent, ExpenditureItem, IncomeItem
from inspection.application import queries as inspection_queries
from inspection.domain.finding import Finding
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter
from servicekit.attachments import AttachmentRef
from servicekit.identity import Identity
from tests.support.platform import InProcessPlatform

YEAR = 2026
UNIT = "licheng"
PEER = "hanjiang"
"""The unit whose communities licheng's cross-check team checks each quarter."""
CITY = "putian"
OTHER_COUNTIES = ("chengxiang", "hanjiang", "xiuyu", "xianyou", "meizhoudao", "beian")
"""The county-level units other than licheng, in vocabulary.units' order: none of them records
its own stages or reports in the walk, so the calendar warns about each of them alike."""

USCC_A = "91350200776049653A"
"""莆田市荔园物业服务有限公司: LC-0001..LC-0004."""
USCC_B = "91110000600037341L"
"""福建某物业管理有限公司: LC-0005, LC-0006 and hanjiang's two communities."""
AUTHORITY = ("莆田市城市管理局", "11350300MB12345671")
"""The authority deciding penalties, as credit's own scenario has it (GB 32100 check
character 1)."""


@dataclass(frozen=True)
class Site:
    code: str
    unit: str
    township: str
    company: str


SITES = (
    Site("LC-0001", UNIT, "镇海街道", USCC_A),
    Site("LC-0002", UNIT, "镇海街道", USCC_A),
    Site("LC-0003", UNIT, "镇海街道", USCC_A),
    Site("LC-0004", UNIT, "黄石镇", USCC_A),
    Site("LC-0005", UNIT, "黄石镇", USCC_B),
    Site("LC-0006", UNIT, "黄石镇", USCC_B),
    Site("HJ-0001", PEER, "涵东街道", USCC_B),
    Site("HJ-0002", PEER, "涵东街道", USCC_B),
)
LICHENG = tuple(s for s in SITES if s.unit == UNIT)
COMPANY_NAMES = {USCC_A: "莆田市荔园物业服务有限公司", USCC_B: "福建某物业管理有限公司"}

# -- who acts -----------------------------------------------------------------------------------

CITY_OFFICER = Identity(Agency.PROPERTY_BUREAU, "officer", CITY, "市局经办")
CITY_HEAD = Identity(Agency.PROPERTY_BUREAU, "head", CITY, "市局负责人")
CITY_DISCIPLINE = Identity(Agency.DISCIPLINE, "supervisor", CITY, "市纪委监委")
OFFICER = Identity(Agency.PROPERTY_BUREAU, "officer", UNIT, "林科长")
HEAD = Identity(Agency.PROPERTY_BUREAU, "head", UNIT, "陈局长")
INSPECTOR = Identity(Agency.PROPERTY_BUREAU, "inspector", UNIT, "LC-I1")
DISCIPLINE = Identity(Agency.DISCIPLINE, "supervisor", UNIT, "区纪委监委")
CREDIT_OFFICE = Identity(Agency.CREDIT_OFFICE, "officer", UNIT, "区发改委")
PEER_OFFICER = Identity(Agency.PROPERTY_BUREAU, "officer", PEER, "涵江经办")
TOWNSHIP = Identity(Agency.TOWNSHIP, "officer", UNIT, "镇（街道）巡查员")
PUBLIC = Identity(Agency.PUBLIC, "anonymous", CITY, via="putian-app")
COMMITTEE = Identity(Agency.OWNERS_COMMITTEE, "chair", UNIT, "LC-0002")


def filer(uscc: str, unit: str = UNIT) -> Identity:
    return Identity(Agency.PROPERTY_COMPANY, "filer", unit, uscc)


def manager(uscc: str, unit: str = UNIT) -> Identity:
    return Identity(Agency.PROPERTY_COMPANY, "manager", unit, uscc)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = YEAR) -> datetime:
    """An instant of the campaign year (or another) in Putian (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def content(quarter: int) -> DisclosureContent:
    """A filing of the quarter that breaks no rule and raises no warning (income, a modest
    cost, part of the surplus to the maintenance fund), posted for 41 days from the 5th day
    after the quarter."""
    posted = Quarter(YEAR, quarter).last_day + timedelta(days=5)
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
        posting_start=posted,
        posting_end=posted + timedelta(days=40),
        posting_channels=("signboard", "wechat_group"),
    )


# -- the walk --------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-1.7\n"


@dataclass
class Walk:
    """The platform and what the walk has learnt on the way (the services' ids by name)."""

    platform: InProcessPlatform
    findings: dict[str, str] = field(default_factory=dict)
    """Violation code → finding id (each code is found once in the walk)."""
    warnings: dict[str, str] = field(default_factory=dict)
    """A name the walk gives a warning → its id."""
    ids: dict[str, str] = field(default_factory=dict)
    """Anything else the walk refers back to by name (plans, checks, the complaint's case)."""

    def on(self, month: int, day: int, hour: int = 9, minute: int = 0, year: int = YEAR) -> None:
        """Moves the walk's clock on (never back: the services' records follow it)."""
        when = at(month, day, hour, minute, year)
        assert when >= self.platform.clock.now, f"the walk does not go back to {when}"
        self.platform.clock.now = when

    @property
    def now(self) -> datetime:
        return self.platform.clock.now

    def do(self, service: str, identity: Identity, command: Any) -> Any:
        return self.platform.handle(service, identity, command)

    def sweep(self) -> None:
        self.platform.sweep()

    def app(self, service: str) -> Any:
        return self.platform.app(service)

    # -- files ------------------------------------------------------------------------------

    def photo(self, name: str) -> AttachmentRef:
        """A photo put in inspection's evidence store, as UploadAttachment stores it."""
        ref: AttachmentRef = self.app("inspection").attachments.put(
            PNG + name.encode(), "image/png", name
        )
        return ref

    def document(self, name: str) -> AttachmentRef:
        """A PDF put in credit's evidence store."""
        ref: AttachmentRef = self.app("credit").attachments.put(
            PDF + name.encode(), "application/pdf", name
        )
        return ref

    def case_file(self, name: str) -> AttachmentRef:
        """A photo put in casework's evidence store."""
        ref: AttachmentRef = self.app("casework").attachments.put(
            PNG + name.encode(), "image/png", name
        )
        return ref

    # -- naming the services' ids back ------------------------------------------------------

    def name(self, text: str) -> str:
        """`finding:<code>`, `rectification:<code>`, `warning:<name>`, `case:<name>`, or the
        text itself (a unit, a community, a company)."""
        for code, finding_id in self.findings.items():
            if text == finding_id:
                return f"finding:{code}"
            if text == str(Case.rectification_id(finding_id)):
                return f"rectification:{code}"
        for label, warning_id in self.warnings.items():
            if text == warning_id:
                return f"warning:{label}"
        for label, some_id in self.ids.items():
            if text == some_id:
                return f"{label}"
        return text

    # -- reading back -----------------------------------------------------------------------

    def progress(self, unit: str = UNIT) -> dict[str, tuple[int, int, int, bool]]:
        """GetCampaignProgress of `unit` today: stage → (done, expected, expected by now,
        behind)."""
        who = OFFICER if unit == UNIT else CITY_OFFICER
        found = casework_queries.campaign_progress(self.app("casework"), who, YEAR, unit)
        return {
            row.stage.key: (row.done, row.expected, row.expected_by_now, row.behind)
            for row in found.stages
        }

    def current_stages(self) -> list[str]:
        found = casework_queries.campaign_progress(self.app("casework"), OFFICER, YEAR, UNIT)
        return found.current_stages

    def stage_warnings(self, unit: str = UNIT) -> dict[str, str]:
        """GetCampaignProgress: stage → the name of its open warning about the unit."""
        who = OFFICER if unit == UNIT else CITY_OFFICER
        found = casework_queries.campaign_progress(self.app("casework"), who, YEAR, unit)
        return {
            row.stage.key: f"{row.warning.rule}:{row.warning.period}"
            for row in found.stages
            if row.warning is not None and not row.warning.closed
        }

    def reports(self, unit: str = UNIT) -> dict[int, str]:
        """GetCampaignProgress: month → the status of the unit's monthly duty (the city's:
        its briefing)."""
        who = OFFICER if unit == UNIT else CITY_OFFICER
        found = casework_queries.campaign_progress(self.app("casework"), who, YEAR, unit)
        return {row.month: row.status for row in found.reports}

    def warning_list(self, unit: str = UNIT) -> list[tuple[str, str, str, str]]:
        """ListWarnings of `unit`, closed ones included: (rule, subject, period, status),
        subjects named back, sorted."""
        who = OFFICER if unit == UNIT else CITY_OFFICER
        rows = self.platform.ask(
            casework_queries.list_warnings(self.app("casework"), who, unit, "", True)
        )
        return sorted((r.rule, self.name(r.subject), r.period, r.status) for r in rows)

    def warning_id(self, rule: str, subject: str, period: str, unit: str = UNIT) -> str:
        who = OFFICER if unit == UNIT else CITY_OFFICER
        rows = self.platform.ask(
            casework_queries.list_warnings(self.app("casework"), who, unit, rule, True)
        )
        [row] = [r for r in rows if r.subject == subject and r.period == period]
        return row.warning_id

    def escalations(self, rule: str, subject: str, period: str) -> tuple[str, ...]:
        """ListWarnings: the findings (named back) that escalated a warning of licheng."""
        rows = self.platform.ask(
            casework_queries.list_warnings(self.app("casework"), OFFICER, UNIT, rule, True)
        )
        [row] = [r for r in rows if r.subject == subject and r.period == period]
        return tuple(self.name(f) for f in row.escalated_finding_ids)

    def rectification_case(self, code: str) -> str:
        """casework's rectification case of a finding (a warning's subject)."""
        return str(Case.rectification_id(self.findings[code]))

    def report_figures(self, month: int, unit: str = UNIT) -> dict[str, int]:
        """GetMonthlyReport: the figures of licheng's report of `month` (the city's: its
        briefing), as assembled when it was submitted."""
        who, duty = (
            (OFFICER, "unit_report") if unit == UNIT else (CITY_OFFICER, "province_briefing")
        )
        report = casework_queries.monthly_report_view(
            self.app("casework"), who, duty, unit, YEAR, month
        )
        return dict(report.figures)

    def verification(self, code: str) -> tuple[bool, str]:
        """How inspection verified a finding's rectification: late, and the day it counts as
        rectified (Asia/Shanghai)."""
        events = self.app("inspection").repository.event_store.get(uuid.UUID(self.findings[code]))
        [verified] = [e for e in events if isinstance(e, Finding.RectificationVerified)]
        return verified.late, verified.rectified_at.astimezone(SHANGHAI).date().isoformat()

    def zhihui(self, unit: str = UNIT) -> list[tuple[str, str, str]]:
        """The 智慧监督 records queued about `unit`: (record type, rule, subject), subjects
        named back, in the order queued."""
        return [
            (r.payload["record_type"], r.payload["rule"], self.name(r.payload["subject"]))
            for r in self.platform.feed_records("casework", "zhihui")
            if r.payload["unit"] == unit
        ]

    def zhihui_by_unit(self) -> dict[str, Counter[str]]:
        """Per unit, how many 智慧监督 records of each type were queued."""
        counted: dict[str, Counter[str]] = {}
        for r in self.platform.feed_records("casework", "zhihui"):
            counted.setdefault(r.payload["unit"], Counter())[r.payload["record_type"]] += 1
        return counted

    def credit_feed(self, feed: str) -> list[str]:
        """The record ids credit queued for `feed` (creditchina, market), in the order queued,
        ids named back (`spot-check:check:LC-0001`)."""
        return [
            ":".join(self.name(part) for part in r.record_id.split(":"))
            for r in self.platform.feed_records("credit", feed)
        ]

    def credit_record(self, feed: str, record_id: str) -> dict[str, Any]:
        [record] = [
            r for r in self.platform.feed_records("credit", feed) if r.record_id == record_id
        ]
        return record.payload

    def ledger(self, uscc: str) -> tuple[int, str, bool, bool]:
        """GetLedger (the city's bureau): score, grade, listed, a proposal pending."""
        view = credit_queries.get_ledger(self.app("credit"), CITY_OFFICER, uscc)
        return view.score, view.grade, view.seriously_dishonest, view.dishonesty_proposed

    def ledger_entries(self, uscc: str) -> list[tuple[str, str, int, int]]:
        """GetLedger's entries: (type, finding named back, points, score after)."""
        view = credit_queries.get_ledger(self.app("credit"), CITY_OFFICER, uscc)
        return [(e.type, self.name(e.finding_id), e.points, e.score_after) for e in view.entries]

    def disclosure_rate(self, quarter: int, unit: str = UNIT) -> tuple[int, int, int, int, int]:
        """GetDisclosureRate: communities, on time, late, overdue, pending."""
        who = OFFICER if unit == UNIT else CITY_OFFICER
        rates, _ = self.platform.ask(
            disclosure_queries.disclosure_rate(self.app("disclosure"), who, unit, YEAR, quarter)
        )
        [r] = rates
        return r.communities, r.on_time, r.late, r.overdue, r.pending

    def self_inspections(self) -> list[tuple[str, int, int, bool]]:
        """ListSelfInspections of licheng: (community, problems, rectified, late)."""
        rows, _ = self.platform.ask(
            disclosure_queries.list_self_inspections(
                self.app("disclosure"), OFFICER, UNIT, YEAR, 0, ""
            )
        )
        return [(r.community_code, r.problems, r.rectified, r.late) for r in rows]

    def findings_list(self) -> dict[str, tuple[str, str, int]]:
        """ListFindings of licheng: code → (status, objection, company submissions)."""
        rows = self.platform.ask(
            inspection_queries.findings(self.app("inspection"), OFFICER, "", UNIT)
        )
        return {r.kind: (r.status, r.objection, r.submissions) for r in rows}

    def plan_progress(self) -> tuple[int, int, int, int, bool]:
        """GetPlanProgress of licheng: communities, quota, checked, expected by now, behind."""
        [p] = self.platform.ask(
            inspection_queries.plan_progress(self.app("inspection"), OFFICER, YEAR, UNIT)
        )
        return p.communities, p.quota, p.checked, p.expected_by_now, p.behind

    def township_coverage(self) -> tuple[int, int, int, bool, dict[str, tuple[int, int]]]:
        """GetTownshipCoverage of licheng: communities, inspected, percent, behind, and each
        township's (communities, inspected)."""
        [c] = self.platform.ask(
            inspection_queries.township_coverage(self.app("inspection"), OFFICER, YEAR, UNIT)
        )
        townships = {t.township: (t.communities, t.inspected) for t in c.townships}
        return c.communities, c.inspected, c.percent, c.behind, townships

    def township_ledger(self) -> list[tuple[str, str, str, int]]:
        """ListTownshipInspections of licheng this year: (community, township, day, problems)."""
        rows = self.platform.ask(
            inspection_queries.township_inspections(
                self.app("inspection"), OFFICER, UNIT, "", "", f"{YEAR}-01-01", f"{YEAR}-12-31"
            )
        )
        return sorted(
            (r.community_code, r.township, r.inspected_on.isoformat(), len(r.problems))
            for r in rows
        )

    def cross_checks(self) -> dict[str, str]:
        """GetCrossCheckCompliance of licheng: quarter → status."""
        found = self.platform.ask(
            inspection_queries.cross_check_compliance(self.app("inspection"), OFFICER, YEAR, UNIT)
        )
        return {f"{d.year}Q{d.quarter}": d.status for d in found.duties}

    def interviews(self) -> list[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]]:
        """ListInterviews of licheng: (day, interviewer, subject kind, subject, warnings,
        findings), ids named back."""
        rows = casework_queries.list_interviews(self.app("casework"), OFFICER, UNIT, YEAR)
        return [
            (
                r.held_on.isoformat(),
                r.interviewer_unit,
                r.subject_kind,
                r.subject,
                tuple(self.name(w) for w in r.warning_ids),
                tuple(self.name(f) for f in r.finding_ids),
            )
            for r in rows
        ]

    def typical_cases(self) -> list[tuple[str, str, str, str]]:
        """ListTypicalCases (the public's view): (case, unit, company, day published)."""
        rows = casework_queries.list_typical_cases(self.app("casework"), PUBLIC, YEAR)
        return [
            (self.name(r.case_id), r.unit, r.company_uscc, r.published_on.isoformat()) for r in rows
        ]
