"""What inspection answers (read side): the plans' progress against their quotas, the lists
of checks and findings, what inspection learnt of a community's disclosures, and the
verification of a draw. Each is authorized by the declared policy: admitted before anything
is read, then authorized on the record's facts; a list on the filter asked for, returning
only what matches it (a company's: its own).

The queries over the read model are async: the gRPC servicer awaits them on its loop and
they read through the read model's async methods (asyncpg; `current` first, for
read-your-writes), with no thread hop when the projection is current. Those that load
aggregates from the event store (community_disclosure, verify_draw) stay sync and run in a
thread; so does attachment_readers, called by the evidence service's download (in a
thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from inspection.application.access import plan_facts
from inspection.application.commands import MAX_CODE, MAX_LIST, parse_date
from inspection.application.ports import CheckRow, FindingRow, TownshipInspectionRow
from inspection.domain import cross_check_duty
from inspection.domain import draw as draws
from inspection.domain.community_watch import CommunityWatch
from inspection.domain.cross_check_duty import QuarterDuty
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan, verify_given
from pubrev_contracts.vocabulary import campaign
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS, UNITS
from servicekit.errors import NotFound, PermissionDenied, Validator, excerpt
from servicekit.identity import Identity
from servicekit.policy import Resource, Scope

if TYPE_CHECKING:
    from inspection.application.app import InspectionApplication


@dataclass(frozen=True)
class UnitProgress:
    """One unit's spot checks against its yearly quota (the city's row: unit putian)."""

    unit: str
    communities: int
    quota: int
    checked: int
    expected_by_now: int
    behind: bool
    tolerance_percent: int
    pace_rules_version: str
    pace_source: str
    """The campaign window's source (work plan 五 and 附件1, or the year marked local)."""
    tolerance_source: str
    checks_start: str
    checks_due: str
    quota_source: str


@dataclass(frozen=True)
class CommunityDisclosureView:
    community_code: str
    unit: str
    disclosure_id: str
    year: int
    quarter: int
    income_total_fen: int
    surplus_fen: int
    late: bool
    zero_revenue: bool
    disclosures_noted: int


@dataclass(frozen=True)
class DrawVerification:
    matches: bool
    drawn: list[str]
    explanation: str
    status: str
    """committed (awaiting the discipline office), drawn, legacy (recorded before
    commit-reveal) or given (a draw given in full, no plan)."""
    plan: SpotCheckPlan | None = None
    published: bool = False
    """Every check of the draw is recorded: anyone may verify it."""
    redraws: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TownshipCount:
    """One township's communities and how many it inspected in the window."""

    township: str
    """As the communities were registered ("" : registered without one)."""
    communities: int
    inspected: int


@dataclass(frozen=True)
class TownshipCoverage:
    """A unit's coverage by its townships' inspections (plan 四（三）: 全面检查) in the
    campaign window: communities inspected at least once from the campaign's start
    (mobilisation) to the stage's due date."""

    unit: str
    communities: int
    inspected: int
    percent: int
    """inspected / communities, rounded down (100 only when every one was inspected)."""
    expected_by_now: int
    behind: bool
    window_start: str
    window_due: str
    stage_name: str
    stage_basis: str
    townships: list[TownshipCount]


@dataclass(frozen=True)
class CrossCheckCompliance:
    duties: list[QuarterDuty]
    duty_source: str
    report_due_source: str
    quarters: list[str]
    """The campaign's quarters judged (e.g. 2026Q3)."""


MAX_LEDGER_DAYS = 366
"""The longest period one ledger query spans."""


async def township_inspections(
    app: InspectionApplication,
    identity: Identity,
    unit: str,
    township: str,
    community_code: str,
    since: str,
    until: str,
) -> list[TownshipInspectionRow]:
    """The township ledgers of the units the caller may see (or the one asked for), from
    `since` to `until` (YYYY-MM-DD; "" : the year to date, Asia/Shanghai), of one township
    or community when given."""
    app.policy.admit("ListTownshipInspections", identity)
    today = app.clock().astimezone(SHANGHAI).date()
    v = Validator()
    v.require_text(township, "township", MAX_CODE, "镇（街道）")
    v.require(
        len(community_code) <= MAX_CODE,
        "community_code",
        "too_long",
        f"at most {MAX_CODE} characters",
        f"小区编码不超过{MAX_CODE}个字符",
    )
    last = parse_date(until) if until else today
    v.require(last is not None, "until", "date_format", "YYYY-MM-DD", "日期格式须为YYYY-MM-DD")
    first = parse_date(since) if since else date((last or today).year, 1, 1)
    v.require(first is not None, "since", "date_format", "YYYY-MM-DD", "日期格式须为YYYY-MM-DD")
    v.raise_if_any()
    assert first is not None and last is not None
    v.require(
        first <= last <= first + timedelta(days=MAX_LEDGER_DAYS),
        "until",
        "date_range",
        f"from `since` to at most {MAX_LEDGER_DAYS} days after it",
        f"查询期间须在{MAX_LEDGER_DAYS}日之内且起止有序",
    )
    v.raise_if_any()
    units, _ = _list_units(app, "ListTownshipInspections", identity, unit)
    await app.read_model.current()
    return await app.read_model.township_inspections(
        [u for u in units if u != CITY], township.strip(), community_code, first, last
    )


async def township_coverage(
    app: InspectionApplication, identity: Identity, year: int, unit: str
) -> list[TownshipCoverage]:
    """Each county-level unit's coverage by its townships since the year's campaign began
    (vocabulary.campaign's `counted_from`: late inspections complete the stage too), judged
    as the campaign judges the stage (behind once its due date passed with any community
    not inspected), with each township's count."""
    units, _ = _list_units(app, "GetTownshipCoverage", identity, unit)
    year_calendar = app.campaign.year(year)  # CampaignCalendarNotConfigured: nothing read
    stage = year_calendar.stage(campaign.TOWNSHIP_INSPECTIONS)
    start = year_calendar.counted_from
    now = app.clock()
    # Late inspections complete the stage too (the unit was behind until then).
    until = max(now.astimezone(SHANGHAI).date(), stage.due)
    await app.read_model.current()
    coverage = []
    for u in units:
        if u == CITY:
            continue
        registered = await app.read_model.query_communities(u)
        inspected = {
            row.community_code
            for row in await app.read_model.township_inspections([u], "", "", start, until)
        }
        counted = [c for c in registered if c.code in inspected]
        [judged] = campaign.progress(stage, now, {u: (len(counted), len(registered))})
        townships = sorted({c.township for c in registered})
        coverage.append(
            TownshipCoverage(
                u,
                len(registered),
                len(counted),
                len(counted) * 100 // len(registered) if registered else 0,
                judged.expected_by_now,
                judged.behind,
                start.isoformat(),
                stage.due.isoformat(),
                stage.name,
                stage.basis,
                [
                    TownshipCount(
                        t,
                        sum(1 for c in registered if c.township == t),
                        sum(1 for c in counted if c.township == t),
                    )
                    for t in townships
                ],
            )
        )
    return coverage


async def cross_check_compliance(
    app: InspectionApplication, identity: Identity, year: int, unit: str
) -> CrossCheckCompliance:
    """Which campaign quarters each county-level unit has carried out and reported its cross
    check in (plan 四（四）), which it missed, and which still run (cross_check_duty)."""
    units, _ = _list_units(app, "GetCrossCheckCompliance", identity, unit)
    quarters = cross_check_duty.campaign_quarters(app.campaign, year)
    await app.read_model.current()
    duties = cross_check_duty.judge(
        [u for u in units if u in COUNTY_UNITS],
        quarters,
        await app.read_model.cross_checks(year),
        app.clock(),
    )
    return CrossCheckCompliance(
        duties,
        cross_check_duty.DUTY_SOURCE,
        cross_check_duty.REPORT_DUE_SOURCE,
        [str(q) for q in quarters],
    )


def attachment_readers(app: InspectionApplication, sha256: str) -> list[Resource]:
    """The facts of every finding that references a stored file (its evidence, the company's
    rectification evidence, an objection's): whoever may read the finding under the
    evidence service's GetAttachment grants may download the file — the company concerned
    sees the evidence against it. Called by the evidence service (servicekit.evidence)."""
    app.read_model.catch_up()
    return [
        Resource(unit=u.unit, company=u.company_uscc, community=u.community_code)
        for u in app.read_model.attachment_uses(sha256)
    ]


async def plan_progress(
    app: InspectionApplication, identity: Identity, year: int, unit: str
) -> list[UnitProgress]:
    """Each unit's quota and pace (the one pace, vocabulary.pace: the quota spread over the
    campaign window in Asia/Shanghai, with its tolerance while the window runs). The city's
    row (putian) is its own 15% of all communities, counted over the checks of its own
    plans; a county's row counts the checks of its communities by itself or a cross-check
    team, not the city's."""
    units, _ = _list_units(app, "GetPlanProgress", identity, unit)
    window = app.pace.year(year)  # CampaignYearNotConfigured before anything is read
    await app.read_model.current()
    now = app.clock()
    progress = []
    for u in units:
        city = u == CITY
        communities = len(await app.read_model.query_communities(None if city else u))
        quota = app.rules.quota(communities, city=city)
        checked = await app.read_model.checked_communities(year, u)
        pace = app.pace.judge(year, quota, checked, now)
        progress.append(
            UnitProgress(
                u,
                communities,
                quota,
                checked,
                pace.expected_by_now,
                pace.behind,
                pace.tolerance_percent,
                app.pace.version,
                window.source,
                app.pace.tolerance_source,
                window.checks_start.isoformat(),
                window.checks_due.isoformat(),
                app.rules.quota_source,
            )
        )
    return progress


async def spot_checks(
    app: InspectionApplication,
    identity: Identity,
    year: int,
    unit: str,
    community_code: str,
    company_uscc: str,
) -> list[CheckRow]:
    app.policy.admit("ListSpotChecks", identity)
    v = Validator()
    v.require(
        len(community_code) <= MAX_CODE,
        "community_code",
        "too_long",
        f"at most {MAX_CODE} characters",
        f"小区编码不超过{MAX_CODE}个字符",
    )
    _company_filter(v, company_uscc)
    v.raise_if_any()
    units, company = _list_units(app, "ListSpotChecks", identity, unit, company_uscc)
    await app.read_model.current()
    return await app.read_model.query_checks(year, units, community_code, company)


async def findings(
    app: InspectionApplication, identity: Identity, company_uscc: str, unit: str = ""
) -> list[FindingRow]:
    """A company's findings, or ("" ) every finding of the units asked for, the agencies'
    (E1–E3) among them; a company's own always."""
    app.policy.admit("ListFindings", identity)
    v = Validator()
    _company_filter(v, company_uscc)
    v.raise_if_any()
    units, company = _list_units(app, "ListFindings", identity, unit, company_uscc)
    await app.read_model.current()
    return await app.read_model.query_findings(company, units)


def _company_filter(v: Validator, company_uscc: str) -> None:
    """A list's company filter: none, or a USCC's 18 characters (a list filters on what it
    is given: an unknown company simply lists nothing)."""
    v.require(
        len(company_uscc) in (0, 18),
        "company_uscc",
        "uscc_length",
        "empty or an 18-character USCC",
        "统一社会信用代码须为18位",
    )


def community_disclosure(
    app: InspectionApplication, identity: Identity, community_code: str
) -> CommunityDisclosureView:
    app.policy.admit("GetCommunityDisclosure", identity)
    v = Validator()
    v.require(
        0 < len(community_code) <= MAX_CODE,
        "community_code",
        "required",
        f"a community code of 1–{MAX_CODE} characters",
        "缺少小区编码或过长",
    )
    v.raise_if_any()
    watch = app.find(CommunityWatch.create_id(community_code), CommunityWatch)
    if watch is None or watch.latest is None:
        raise NotFound(
            f"no disclosure of community {excerpt(community_code)} has reached inspection",
            "检查系统尚未收到该小区的公示",
        )
    app.policy.authorize(
        "GetCommunityDisclosure",
        identity,
        Resource(unit=watch.unit, company=watch.company_uscc, community=watch.community_code),
    )
    latest = watch.latest
    return CommunityDisclosureView(
        community_code=watch.community_code,
        unit=watch.unit,
        disclosure_id=latest.disclosure_id,
        year=latest.year,
        quarter=latest.quarter,
        income_total_fen=latest.income_total_fen,
        surplus_fen=latest.surplus_fen,
        late=latest.late,
        zero_revenue=latest.zero_revenue,
        disclosures_noted=watch.disclosures_noted,
    )


def published(app: InspectionApplication, plan: SpotCheckPlan) -> bool:
    """A draw is published once every one of its checks is recorded: from then on anyone
    may verify it (before, its targets would warn the companies to be checked)."""
    return plan.drawn and all(
        app.exists(SpotCheck.create_id(plan.id, code)) for code in plan.target_codes
    )


def verify_draw(
    app: InspectionApplication,
    identity: Identity,
    plan_id: str,
    given: dict[str, Any] | None,
    count: int,
) -> DrawVerification:
    """Re-runs a recorded draw (by plan id), or a draw given in full."""
    app.policy.admit("VerifyDraw", identity)
    if plan_id:
        return _verify_recorded(app, identity, plan_id)
    v = Validator()
    if given is None:
        v.add(
            "plan_id",
            "required",
            "name a plan or give a draw in full",
            "请指定抽查计划或完整抽取记录",
        )
        v.raise_if_any()
    assert given is not None
    v.require(
        0 <= count <= MAX_LIST, "count", "range", f"0–{MAX_LIST}", f"数量须在0至{MAX_LIST}之间"
    )
    v.require(
        len(given.get("pool", [])) <= 10 * MAX_LIST,
        "draw.pool",
        "too_long",
        f"at most {10 * MAX_LIST} codes",
        "候选池过大",
    )
    v.raise_if_any()
    result = verify_given(given, count)
    return DrawVerification(result.matches, result.drawn, result.explanation, "given")


def _verify_recorded(
    app: InspectionApplication, identity: Identity, plan_id: str
) -> DrawVerification:
    try:
        plan = app.plan(plan_id)
    except NotFound:
        if all(Scope.PUBLISHED in g.scopes for g in app.policy.grants("VerifyDraw", identity)):
            # Those who see only published draws are not told which plans exist.
            raise PermissionDenied("no such published draw", "无此已公开的抽取记录") from None
        raise
    is_published = published(app, plan)
    app.policy.authorize("VerifyDraw", identity, plan_facts(plan, is_published))
    recorded = plan.verify()
    if not plan.drawn:
        status = "committed"
    elif plan.scheme == draws.LEGACY_SCHEME:
        status = "legacy"
    else:
        status = "drawn"
    return DrawVerification(
        recorded.matches,
        recorded.drawn,
        recorded.explanation,
        status,
        plan,
        is_published,
        list(plan.redraws),
    )


def _list_units(
    app: InspectionApplication, rpc: str, identity: Identity, unit: str, company: str = ""
) -> tuple[list[str], str]:
    """Authorizes a list on the filter asked for and returns the units (and company) the
    list is then limited to. A company's list is its own: with no company named, its own
    USCC is the filter."""
    app.policy.admit(rpc, identity)
    v = Validator()
    v.require(
        unit in ("", *UNITS),
        "unit",
        "unknown_unit",
        "putian or one of the 7 county-level units",
        "单位不正确",
    )
    v.raise_if_any()
    if identity.agency == Agency.PROPERTY_COMPANY and not company:
        company = identity.subject
    grant = app.policy.authorize(
        rpc, identity, Resource(unit=unit or identity.unit, company=company)
    )
    if unit:
        return [unit], company
    if Scope.JURISDICTION in grant.scopes and identity.unit != CITY:
        return [identity.unit], company
    # The city, the auditor, or a company over its own records: every unit. The city's own
    # unit is among them (its plan's progress; checks and findings stored under putian
    # before they carried the community's unit).
    return list(UNITS), company
