"""Valid requests of every command the chaos workload sends, and who sends them.

Each caller is an identity the service's declared policy admits for that command
(services/*/src/*/application/access.py): a unit's property bureau registers, files,
plans, records checks, imposes penalties and handles complaints of its unit; the city's
bureau keeps the register of companies and plans the city's checks; the discipline office of
the planning level contributes to a draw; the operator reads the parked events and the lag.
Every value is inside the contract's bounds and the domain's rules (the synthetic Putian for
communities and filings; dates that keep every deadline inside the holiday calendar's years).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from pubrev.casework.v1 import casework_pb2 as cpb
from pubrev.credit.v1 import credit_pb2 as kpb
from pubrev.disclosure.v1 import disclosure_pb2 as dpb
from pubrev.inspection.v1 import inspection_pb2 as ipb
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS

Metadata = tuple[tuple[str, str], ...]
IDENTITY_HEADER = "x-pubrev-identity"
"""The development identity header (make run's mode: PUBREV_DEV_IDENTITY_HEADER=true)."""

CHECKLIST = (
    "signboard_present",
    "signboard_at_main_entrance",
    "posting_30_days",
    "five_items_present",
    "separate_account",
    "figures_match_books",
    "spending_approved_by_owners",
    "revenue_fully_booked",
    "surplus_transferred",
    "common_parts_authorised",
)
"""inspection's checklist (DOMAIN.md §4; inspection/domain/violations.py)."""
SEVERITIES = ("minor", "general", "serious")
COMPANY_KINDS = ("A1", "A2", "A4", "A5", "A7", "B1", "B2", "B3", "B6", "C1")
"""Violation kinds charged to a company (pubrev_contracts.vocabulary.violations: A–D)."""
COMPLAINT_CHANNELS = ("hotline_12345", "phone", "email", "letters_visits", "handed_down")
COMPLAINT_CATEGORIES = (
    "revenue_not_disclosed",
    "revenue_embezzled",
    "common_parts_leased",
    "accounts_unclear",
    "other",
)
OFFENCES = ("embezzlement_by_staff", "misappropriation", "other")
AUTHORITY_USCC = "11350300MB12345671"
LATEST_CHECK_DAY = {2025: date(2025, 10, 15), 2026: date(2026, 9, 15)}
"""The last day a check of the year is dated: its rectification deadline (at most 60 days,
moved past rest days) must fall in a year the holiday calendar has (2027 is not entered)."""


def identity(agency: str, role: str, unit: str, subject: str = "") -> Metadata:
    text = f"agency={agency};role={role};unit={unit}" + (f";subject={subject}" if subject else "")
    return ((IDENTITY_HEADER, text),)


def officer(unit: str) -> Metadata:
    """The property bureau's officer of `unit` (the city's: putian)."""
    return identity("property-bureau", "officer", unit, "chaos")


def discipline(unit: str) -> Metadata:
    return identity("discipline", "supervisor", unit, "chaos")


OPERATOR = identity("operator", "operator", CITY)
PLAN_UNITS = (*COUNTY_UNITS, CITY)


@dataclass(frozen=True)
class Penalty:
    request: kpb.ImposePenaltyRequest
    published: bool
    """What the model expects: a minor penalty is not published on 信用中国."""
    notice: kpb.NotifyIntendedPenaltyRequest
    """The notice the decision follows (《行政处罚法》第四十四条): served NOTICE_BEFORE the
    decision, so its statement period is over by then and ImposePenalty may decide on it."""

    def on_notice(self, notice_id: str) -> kpb.ImposePenaltyRequest:
        """The decision on its notice, as NotifyIntendedPenalty answered it."""
        request = kpb.ImposePenaltyRequest()
        request.CopyFrom(self.request)
        request.notice_id = notice_id
        return request


NOTICE_BEFORE = timedelta(days=30)


def penalty(rng: Random, n: int, company_uscc: str, company_name: str) -> Penalty:
    unit = rng.choice(COUNTY_UNITS)
    severity = rng.choices(SEVERITIES, weights=(3, 5, 2))[0]
    decided = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
    fine = rng.choice((0, 500_000, 5_000_000, 20_000_000))
    types = ["warning"] + (["fine"] if fine else [])
    number = f"莆{unit[:2]}罚决〔2026〕{n}号"
    kind = rng.choice(COMPANY_KINDS)
    return Penalty(
        kpb.ImposePenaltyRequest(
            request_id=f"chaos-penalty-{n}",
            decision_number=number,
            party_name=company_name,
            party_uscc=company_uscc,
            violation_kind=kind,
            facts="未按规定公示公共收益，擅自利用共有部分经营",
            legal_basis="《物业管理条例》第六十三条",
            penalty_types=types,
            content="警告" + ("，罚款" if fine else ""),
            fine_fen=fine,
            confiscated_fen=0,
            decision_date=decided.isoformat(),
            authority_name="莆田市城市管理局",
            authority_uscc=AUTHORITY_USCC,
            unit=unit,
            severity=severity,
            valid_until=(decided + timedelta(days=180)).isoformat(),
        ),
        severity != "minor",
        kpb.NotifyIntendedPenaltyRequest(
            request_id=f"chaos-notice-{n}",
            party_name=company_name,
            party_uscc=company_uscc,
            violation_kind=kind,
            facts="未按规定公示公共收益，擅自利用共有部分经营",
            legal_basis="《物业管理条例》第六十三条",
            penalty_types=types,
            content="警告" + ("，罚款" if fine else ""),
            fine_fen=fine,
            confiscated_fen=0,
            severity=severity,
            unit=unit,
            notified_on=(decided - NOTICE_BEFORE).isoformat(),
        ),
    )


def complaint(
    rng: Random,
    n: int,
    community: dpb.RegisterCommunityRequest | None,
    unit: str,
    company_uscc: str,
) -> cpb.ReceiveComplaintRequest:
    """About a community (and its company), or about a company alone."""
    received = date(2026, 3, 1) + timedelta(days=rng.randrange(200))
    return cpb.ReceiveComplaintRequest(
        request_id=f"chaos-complaint-{n}",
        channel=rng.choice(COMPLAINT_CHANNELS),
        major=rng.random() < 0.1,
        community_code=community.community_code if community else "",
        company_uscc=community.company_uscc if community else company_uscc,
        category=rng.choice(COMPLAINT_CATEGORIES),
        description="小区停车收入从未公示，怀疑被挪用",
        unit=unit,
        complainant_name="王某某",
        complainant_phone=f"139{rng.randrange(10**8):08d}",
        received_at=f"{received.isoformat()}T10:{rng.randrange(60):02d}:00+08:00",
    )


def start_investigation(n: int, case_id: str) -> cpb.StartInvestigationRequest:
    return cpb.StartInvestigationRequest(request_id=f"chaos-investigate-{n}", case_id=case_id)


def referral(rng: Random, n: int, case_id: str, unit: str) -> cpb.ReferToPoliceRequest:
    return cpb.ReferToPoliceRequest(
        request_id=f"chaos-refer-{n}",
        case_id=case_id,
        police_office=f"putian-psb-{unit}",
        suspected_offence=rng.choice(OFFENCES),
        evidence_refs=[f"ledger-{n}.pdf"],
        summary="疑似挪用停车收入",
    )


def inspector(unit: str, n: int) -> ipb.RegisterInspectorRequest:
    return ipb.RegisterInspectorRequest(
        request_id=f"chaos-inspector-{unit}-{n}",
        inspector_code=f"CH-{unit}-{n}",
        name=f"检查员{n}",
        unit=unit,
    )


def plan(unit: str, year: int) -> ipb.PlanSpotChecksRequest:
    return ipb.PlanSpotChecksRequest(
        request_id=f"chaos-plan-{unit}-{year}", year=year, unit=unit, inspectors_per_target=2
    )


def contribution(
    rng: Random, unit: str, year: int, plan_id: str
) -> ipb.ContributeDrawEntropyRequest:
    return ipb.ContributeDrawEntropyRequest(
        request_id=f"chaos-entropy-{unit}-{year}",
        plan_id=plan_id,
        contribution=f"{unit} discipline office {rng.getrandbits(64):016x}",
    )


def spot_check(
    rng: Random, plan_id: str, year: int, target: ipb.PlannedTarget
) -> tuple[ipb.RecordSpotCheckRequest, int]:
    """A check of a drawn target by its drawn inspectors: 0–3 failed items (so 0–3
    findings), each with evidence and a severity."""
    failed = rng.sample(CHECKLIST, rng.choices((0, 1, 2, 3), weights=(3, 3, 2, 2))[0])
    latest = LATEST_CHECK_DAY[year]
    day = latest - timedelta(days=rng.randrange(120))
    items = [
        ipb.ChecklistItem(
            item=item,
            passed=item not in failed,
            severity=rng.choice(SEVERITIES) if item in failed else "",
            note="现场核查发现问题" if item in failed else "",
            evidence_refs=[f"{item}-{rng.randrange(10**6)}.jpg"] if item in failed else [],
        )
        for item in CHECKLIST
    ]
    return ipb.RecordSpotCheckRequest(
        request_id=f"chaos-check-{plan_id}-{target.community_code}",
        plan_id=plan_id,
        community_code=target.community_code,
        inspected_at=f"{day.isoformat()}T10:{rng.randrange(60):02d}:00+08:00",
        inspector_codes=list(target.inspector_codes),
        checklist=items,
    ), len(failed)


def amendment(
    filing: dpb.FileDisclosureRequest, disclosure_id: str, version: int, n: int
) -> dpb.AmendDisclosureRequest | None:
    """A correction that keeps both identities (DOMAIN.md §3): income found later on the
    first item, its whole amount transferred to the maintenance fund. None for a filing with
    no income or a deficit (nothing to transfer there)."""
    content = dpb.DisclosureContent()
    content.CopyFrom(filing.content)
    surplus = (
        sum(i.amount_fen for i in content.income)
        - content.operating_cost_fen
        - sum(e.amount_fen for e in content.expenditure)
    )
    if content.no_income or not content.income or surplus < 0:
        return None
    found = 1_000 * (n % 50 + 1)
    content.income[0].amount_fen += found
    content.transferred_to_maintenance_fund_fen += found
    return dpb.AmendDisclosureRequest(
        request_id=f"chaos-amend-{disclosure_id}-{version}",
        disclosure_id=disclosure_id,
        expected_version=version,
        reason="补记漏报的收入",
        content=content,
    )
