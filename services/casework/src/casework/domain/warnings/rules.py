"""The warning rules (预警规则) and their thresholds (DOMAIN.md §8): pure functions over what
the warnings remember (`CommunityFacts`, `CompanyFacts`, `UnitInspections`, casework's own
cases), each returning the warnings it finds due (`Due`). The thresholds are versioned
configuration (`WarningRules`) because no official text fixes them.

Rules raised from events (rule id: trigger):
- `disclosure_overdue`: DisclosureOverdue (no disclosure by the deadline).
- `zero_revenue_with_facilities`: a zero-revenue filing of a community that has elevators,
  barrier gates or leasable space (things that usually earn advertising or rent).
- `revenue_drop`: income below `revenue_drop_percent` of the average of the previous
  quarters (up to `revenue_history_quarters`, at least `revenue_min_history` of them).
- `cost_ratio`: operating cost above `cost_ratio_percent` of income (income > 0).
- `surplus_not_transferred`: a surplus, and nothing transferred to the maintenance fund.
- `deficit_quarter`: a quarter whose cost and expenditure exceed its income (surplus < 0).
  The disclosure service accepts such a filing (the identity holds, the surplus is negative);
  income spent beyond itself is what 虚增项目列支 and 虚增费用 (plan 二（二）、二（四）) look
  like from the figures, so it is warned about rather than refused.
- `repeat_complaints`: `repeat_complaints` complaints on one community within
  `repeat_complaints_days`; one warning per community and quarter (Asia/Shanghai).
- `rectification_overdue`: RectificationOverdue of a finding (subject: its rectification
  case).
- `repeat_violations`: `repeat_violations` findings against one company within
  `repeat_violations_days`; one warning per company and year (Asia/Shanghai).

Rules raised by the application's sweeps (application/sweeps.py):
- `complaint_without_feedback`: no feedback to the complainant by the end of the feedback
  period (`feedback_days`, counted by the civil code on the holiday calendar); casework's
  own cases know this, not the bus (hourly).
- `unit_behind_quota`: a unit (county-level, or the city) behind the campaign's spot-check
  pace (vocabulary.pace), from what SpotCheckPlanned and SpotCheckDone told (6-hourly, one
  warning per unit and month).

The campaign calendar's rules (unit_behind_stage, monthly_report_late,
province_briefing_late, cross_check_missing, agency_finding) are in `campaign_rules`; their
bases are given through `WarningRules.basis` like these.

Rules of §8 that are not here, and why:
- missing items, posting under 30 days, broken identity (income − cost − expenditure ≠
  surplus): the disclosure service refuses such a filing, so no stored disclosure breaks
  them and no event can carry one. Inventing a warning for them would only ever fire on
  corrupt data. (A deficit keeps the identity: `deficit_quarter` above.)

Sources: every raised warning carries `legal_basis` in its details (`WarningRules.basis`):
the work plan's paragraph by its real title (vocabulary.sources), the law where one applies,
and each threshold that no text sets marked as local configuration (sources.local).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework.domain.case import Case, end_of
from casework.domain.warnings.campaign_rules import CAMPAIGN_RULES, campaign_basis
from casework.domain.warnings.community_facts import (
    COMPLAINTS_KEPT,
    QUARTERS_KEPT,
    CommunityFacts,
    Facilities,
    QuarterFigures,
)
from casework.domain.warnings.company_facts import FINDINGS_KEPT, NotedFinding
from casework.domain.warnings.periods import (
    date_label,
    month_label,
    previous_quarters,
    quarter_at,
    year_label,
)
from casework.domain.warnings.supervision_warning import Due
from pubrev_contracts.vocabulary.calendar import (
    CHINA,
    CIVIL_CODE_ART_201,
    CIVIL_CODE_ART_203,
    SHANGHAI,
    Quarter,
    WorkCalendar,
    quarter_label,
)
from pubrev_contracts.vocabulary.campaign import CAMPAIGN, CampaignCalendar
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE, PaceRules
from pubrev_contracts.vocabulary.sources import local, plan
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from pubrev_contracts.vocabulary.violations import CIVIL_CODE_282, CIVIL_CODE_943, REGULATION_54

DISCLOSURE_OVERDUE = "disclosure_overdue"
ZERO_REVENUE_WITH_FACILITIES = "zero_revenue_with_facilities"
REVENUE_DROP = "revenue_drop"
COST_RATIO = "cost_ratio"
SURPLUS_NOT_TRANSFERRED = "surplus_not_transferred"
REPEAT_COMPLAINTS = "repeat_complaints"
COMPLAINT_WITHOUT_FEEDBACK = "complaint_without_feedback"
RECTIFICATION_OVERDUE = "rectification_overdue"
REPEAT_VIOLATIONS = "repeat_violations"
DEFICIT_QUARTER = "deficit_quarter"
UNIT_BEHIND_QUOTA = "unit_behind_quota"

PACED_UNITS = (*COUNTY_UNITS, CITY)
"""Units with a yearly spot-check quota, judged by unit_behind_quota: the seven
county-level units and the city (plan 四（三）: 50% of a county's communities, 15% for the
city)."""


# -- configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class WarningRules:
    """Thresholds of the warning rules, versioned with their legal basis (configurable:
    DOMAIN.md §8 names the rules, no official text gives the numbers: each is cited as
    local configuration by `basis`)."""

    version: str
    legal_basis: str
    revenue_drop_percent: int = 50
    """Income below this share of the average of the previous quarters is a drop."""
    revenue_history_quarters: int = 4
    revenue_min_history: int = 2
    """Fewer previous quarters than this: no history to compare with, no warning."""
    cost_ratio_percent: int = 80
    """Operating cost above this share of income."""
    repeat_complaints: int = 3
    repeat_complaints_days: int = 90
    feedback_days: int = 15
    """A complaint without feedback to the complainant after this many days."""
    repeat_violations: int = 2
    repeat_violations_days: int = 365
    pace: PaceRules = DEFAULT_PACE
    """The one spot-check pace of the campaign (vocabulary.pace), shared with inspection."""
    calendar: WorkCalendar = CHINA
    """Working days for the deadlines (pubrev_contracts.vocabulary.calendar)."""
    campaign: CampaignCalendar = CAMPAIGN
    """The campaign calendar (vocabulary.campaign): stages, monthly duties; the campaign's
    warnings (campaign_rules) judge units on it."""

    def __post_init__(self) -> None:
        problems = [
            name
            for name, ok in (
                ("version", bool(self.version.strip())),
                ("revenue_drop_percent", 0 < self.revenue_drop_percent <= 100),
                ("revenue_history_quarters", 1 <= self.revenue_history_quarters < QUARTERS_KEPT),
                (
                    "revenue_min_history",
                    1 <= self.revenue_min_history <= self.revenue_history_quarters,
                ),
                ("cost_ratio_percent", self.cost_ratio_percent > 0),
                ("repeat_complaints", 2 <= self.repeat_complaints <= COMPLAINTS_KEPT),
                ("repeat_complaints_days", self.repeat_complaints_days > 0),
                ("feedback_days", self.feedback_days > 0),
                ("repeat_violations", 2 <= self.repeat_violations <= FINDINGS_KEPT),
                ("repeat_violations_days", self.repeat_violations_days > 0),
            )
            if not ok
        ]
        if problems:
            raise ValueError(f"warning rules {self.version!r}: bad {', '.join(problems)}")

    def basis(self, rule: str) -> str:
        """The source of one rule, with this version's thresholds: the plan's paragraph
        that names the problem, the law where one applies, and the numbers no text sets
        marked as local configuration. Every raised warning carries it."""
        if rule == DISCLOSURE_OVERDUE:
            # 二（一）: 未按规定在每季度第一个月的月底前…公示.
            return f"{plan('二（一）')}；{CIVIL_CODE_943}"
        if rule == ZERO_REVENUE_WITH_FACILITIES:
            # 四（三）: 公共收益为零的小区 are a check priority; which facilities usually earn
            # revenue is the bureau's own judgement.
            return f"{plan('四（三）')}；" + local(
                "有电梯、道闸或可出租共有部分而公共收益为零即预警"
            )
        if rule == REVENUE_DROP:
            return f"{plan('二（二）')}；" + local(
                f"收入低于前{self.revenue_history_quarters}个季度平均值的"
                f"{self.revenue_drop_percent}%（至少{self.revenue_min_history}个季度可比）即预警"
            )
        if rule == COST_RATIO:
            # 民法典 282: the owners' income is what remains after *reasonable* cost.
            return f"{plan('二（四）')}；{CIVIL_CODE_282}；" + local(
                f"经营成本高于经营收入的{self.cost_ratio_percent}%即预警"
            )
        if rule == SURPLUS_NOT_TRANSFERRED:
            return f"{plan('二（二）')}；{REGULATION_54}"
        if rule == DEFICIT_QUARTER:
            return f"{plan('二（二）、二（四）')}；{CIVIL_CODE_282}；" + local(
                "经营成本与经营支出之和超过经营收入（结余为负）即预警"
            )
        if rule == REPEAT_COMPLAINTS:
            return f"{plan('五（三）')}；" + local(
                f"同一小区{self.repeat_complaints_days}日内投诉{self.repeat_complaints}次即预警"
            )
        if rule == COMPLAINT_WITHOUT_FEEDBACK:
            # The duty is the plan's; the number of days is not in it. The period is counted
            # by the civil code (start day excluded, a rest day at the end moves it).
            return (
                f"{plan('五（三）')}（处理结果应同步反馈投诉人）；"
                + local(f"受理后{self.feedback_days}日内反馈投诉人")
                + "；"
                + f"{CIVIL_CODE_ART_201}、{CIVIL_CODE_ART_203}"
            )
        if rule == RECTIFICATION_OVERDUE:
            return f"{plan('四（五）')}（跟踪督促问题整改到位）"
        if rule == REPEAT_VIOLATIONS:
            return f"{plan('四（五）')}；" + local(
                f"同一企业{self.repeat_violations_days}日内被查实{self.repeat_violations}"
                "次违规即预警"
            )
        if rule == UNIT_BEHIND_QUOTA:
            # The quota and the window are the pace's (vocabulary.pace), with their sources;
            # the monthly circulation of lagging units is 五（三）.
            return f"{plan('四（三）、五（三）')}；{self.pace.tolerance_source}"
        if rule in CAMPAIGN_RULES:
            return campaign_basis(rule)
        raise ValueError(f"unknown warning rule {rule!r}")


DEFAULT_RULES = WarningRules(
    version="putian-warnings-2026.1",
    legal_basis=(
        f"{plan('四（五）')}（通过平台智能分析，产生问题预警，跟踪督促问题整改到位，"
        "形成闭环管理）；" + local("各预警规则的阈值")
    ),
)


# -- the rules (pure) --------------------------------------------------------------------


def disclosure_overdue(
    community_code: str, unit: str, company: str, year: int, quarter: int
) -> Due:
    """DisclosureOverdue: no disclosure of the quarter by its deadline."""
    return Due(
        DISCLOSURE_OVERDUE,
        unit,
        "community",
        community_code,
        quarter_label(year, quarter),
        {"company_uscc": company},
    )


def zero_revenue_with_facilities(
    community_code: str, unit: str, figures: QuarterFigures, facilities: Facilities | None
) -> Due | None:
    """A zero-revenue filing where the community has what usually earns revenue. Unknown
    facilities (registration not seen yet) decide nothing: the registration re-checks."""
    if not figures.zero_revenue or facilities is None or not facilities.any:
        return None
    return Due(
        ZERO_REVENUE_WITH_FACILITIES,
        unit,
        "community",
        community_code,
        figures.period,
        {
            "elevators": facilities.elevators,
            "barrier_gates": facilities.barrier_gates,
            "leasable_space": facilities.leasable_space,
            "revision": figures.revision,
        },
    )


def revenue_drop(
    community_code: str,
    unit: str,
    figures: QuarterFigures,
    history: Mapping[Quarter, QuarterFigures],
    rules: WarningRules,
) -> Due | None:
    """Income strictly below `revenue_drop_percent` of the average income of the previous
    `revenue_history_quarters` calendar quarters, of which at least `revenue_min_history`
    are known. Integer arithmetic: exact at the boundary."""
    previous = [
        history[p]
        for p in previous_quarters(figures.of, rules.revenue_history_quarters)
        if p in history
    ]
    if len(previous) < rules.revenue_min_history:
        return None
    total = sum(p.income_fen for p in previous)
    # income < percent/100 × total/n  ⇔  income × 100 × n < percent × total
    if figures.income_fen * 100 * len(previous) >= rules.revenue_drop_percent * total:
        return None
    return Due(
        REVENUE_DROP,
        unit,
        "community",
        community_code,
        figures.period,
        {
            "income_fen": figures.income_fen,
            "average_fen": total // len(previous),
            "compared_quarters": [p.period for p in previous],
            "threshold_percent": rules.revenue_drop_percent,
            "revision": figures.revision,
        },
    )


def cost_ratio(
    community_code: str, unit: str, figures: QuarterFigures, rules: WarningRules
) -> Due | None:
    """Operating cost strictly above `cost_ratio_percent` of income; no income, no ratio."""
    if figures.income_fen <= 0:
        return None
    if figures.cost_fen * 100 <= rules.cost_ratio_percent * figures.income_fen:
        return None
    return Due(
        COST_RATIO,
        unit,
        "community",
        community_code,
        figures.period,
        {
            "income_fen": figures.income_fen,
            "cost_fen": figures.cost_fen,
            "ratio_basis_points": figures.cost_fen * 10000 // figures.income_fen,
            "threshold_percent": rules.cost_ratio_percent,
            "revision": figures.revision,
        },
    )


def surplus_not_transferred(community_code: str, unit: str, figures: QuarterFigures) -> Due | None:
    """A surplus, and nothing of it transferred to the maintenance fund (维修资金专户)."""
    if figures.surplus_fen <= 0 or figures.transferred_fen != 0:
        return None
    return Due(
        SURPLUS_NOT_TRANSFERRED,
        unit,
        "community",
        community_code,
        figures.period,
        {
            "surplus_fen": figures.surplus_fen,
            "transferred_fen": figures.transferred_fen,
            "revision": figures.revision,
        },
    )


def deficit_quarter(community_code: str, unit: str, figures: QuarterFigures) -> Due | None:
    """Cost and expenditure above income: a negative surplus (结余为负). One warning per
    community and quarter, whatever amendments follow."""
    if figures.surplus_fen >= 0:
        return None
    return Due(
        DEFICIT_QUARTER,
        unit,
        "community",
        community_code,
        figures.period,
        {
            "income_fen": figures.income_fen,
            "cost_fen": figures.cost_fen,
            "expenditure_fen": figures.expenditure_fen,
            "deficit_fen": -figures.surplus_fen,
            "revision": figures.revision,
        },
    )


def disclosure_warnings(facts: CommunityFacts, rules: WarningRules) -> list[Due]:
    """Every disclosure rule over every remembered quarter. Re-checking old quarters is
    what makes late arrivals count (a registration after the filing, an earlier quarter
    after a later one); the deterministic ids keep each warning single."""
    due: list[Due] = []
    code, unit = facts.community_code, facts.unit
    for key in sorted(facts.quarters):
        figures = facts.quarters[key]
        for found in (
            zero_revenue_with_facilities(code, unit, figures, facts.facilities),
            revenue_drop(code, unit, figures, facts.quarters, rules),
            cost_ratio(code, unit, figures, rules),
            surplus_not_transferred(code, unit, figures),
            deficit_quarter(code, unit, figures),
        ):
            if found is not None:
                due.append(found)
    return due


def repeat_complaints(
    community_code: str, unit: str, complaints: list[datetime], rules: WarningRules
) -> list[Due]:
    """`repeat_complaints` complaints within `repeat_complaints_days` (inclusive), judged
    at each complaint; one warning per community and quarter of the complaint that made
    the count."""
    window = timedelta(days=rules.repeat_complaints_days)
    times = sorted(complaints)
    due: dict[str, Due] = {}
    for n, last in enumerate(times):
        first = n - rules.repeat_complaints + 1
        if first < 0 or last - times[first] > window:
            continue
        period = str(quarter_at(last))
        due.setdefault(
            period,
            Due(
                REPEAT_COMPLAINTS,
                unit,
                "community",
                community_code,
                period,
                {
                    "complaints": rules.repeat_complaints,
                    "window_days": rules.repeat_complaints_days,
                    "first_received_at": times[first].isoformat(),
                    "last_received_at": last.isoformat(),
                },
            ),
        )
    return list(due.values())


def repeat_violations(uscc: str, findings: list[NotedFinding], rules: WarningRules) -> list[Due]:
    """`repeat_violations` findings against one company within `repeat_violations_days`
    (inclusive); one warning per company and year of the finding that made the count.
    The warning belongs to the findings' unit, or to the city when they
    lie in several units, since no county-level unit may act on another's findings."""
    window = timedelta(days=rules.repeat_violations_days)
    ordered = sorted(findings, key=lambda f: (f.found_at, f.finding_id))
    due: dict[str, Due] = {}
    for n, last in enumerate(ordered):
        first = n - rules.repeat_violations + 1
        if first < 0 or last.found_at - ordered[first].found_at > window:
            continue
        counted = ordered[first : n + 1]
        units = sorted({f.unit for f in counted})
        period = year_label(last.found_at)
        due.setdefault(
            period,
            Due(
                REPEAT_VIOLATIONS,
                units[0] if len(units) == 1 else CITY,
                "company",
                uscc,
                period,
                {
                    "finding_ids": [f.finding_id for f in counted],
                    "kinds": [f.kind for f in counted],
                    "communities": sorted({f.community_code for f in counted if f.community_code}),
                    "units": units,
                    "window_days": rules.repeat_violations_days,
                },
            ),
        )
    return list(due.values())


def rectification_overdue(
    finding_id: str, unit: str, community_code: str, company: str, kind: str, deadline: datetime
) -> Due:
    """RectificationOverdue: a finding not rectified by its deadline.

    The subject is casework's rectification case of the finding (each RectificationOrdered
    opens one, `rectification:<finding id>`), where the 闭环 is tracked; the finding is in
    the details. The period is the deadline's date, so missing a later, extended deadline
    warns again."""
    case_id = str(Case.rectification_id(finding_id))
    return Due(
        RECTIFICATION_OVERDUE,
        unit,
        "case",
        case_id,
        date_label(deadline),
        {
            "finding_id": finding_id,
            "community_code": community_code,
            "company_uscc": company,
            "kind": kind,
            "deadline": deadline.isoformat(),
        },
    )


def feedback_due_on(received_at: datetime, rules: WarningRules) -> date:
    """The last day (Asia/Shanghai) to tell the complainant the result: `feedback_days` from
    the day of receipt, that day not counted (民法典 Art. 201), moved past rest days to the
    next working day (Art. 203). CalendarNotConfigured when it falls in a year the holiday
    calendar lacks: never guessed."""
    received = received_at.astimezone(SHANGHAI).date()
    return rules.calendar.add_days(received, rules.feedback_days)


def complaint_without_feedback(
    case_id: str,
    unit: str,
    community_code: str,
    received_at: datetime,
    feedback_at: datetime | None,
    now: datetime,
    rules: WarningRules,
) -> Due | None:
    """A complaint case whose complainant was not told the result by the end of the
    feedback period (`feedback_due_on`): no feedback and that day is over by `now`, or
    feedback given later than that (it was overdue all the same; the warning keeps the
    record). One warning per case (its period: the day of receipt)."""
    reached = feedback_at if feedback_at is not None else now
    nominal = received_at.astimezone(SHANGHAI).date() + timedelta(days=rules.feedback_days)
    # Rest days only move the end later: before the nominal end nothing can be due, and
    # the calendar (which may lack next year) is not consulted.
    if reached < end_of(nominal):
        return None
    due_on = feedback_due_on(received_at, rules)
    if reached < end_of(due_on):
        return None
    return Due(
        COMPLAINT_WITHOUT_FEEDBACK,
        unit,
        "case",
        case_id,
        date_label(received_at),
        {
            "received_at": received_at.isoformat(),
            "feedback_due_on": due_on.isoformat(),
            "feedback_due_at": end_of(due_on).isoformat(),
            "feedback_at": feedback_at.isoformat() if feedback_at is not None else "",
            "feedback_days": rules.feedback_days,
            "calendar_version": rules.calendar.version,
            "community_code": community_code,
        },
    )


def unit_behind_quota(
    unit: str, year: int, quota: int, checked: int, now: datetime, rules: WarningRules
) -> Due | None:
    """Behind the campaign's one spot-check pace (vocabulary.pace: the quota spread from the
    campaign's start to the checks deadline, 30 September, Asia/Shanghai; the shared
    tolerance while the window runs, none after it). Once per unit and month of `year`.
    CampaignYearNotConfigured for a year the pace does not know."""
    if quota <= 0 or now.astimezone(SHANGHAI).year != year:
        return None
    pace = rules.pace.judge(year, quota, checked, now)
    if not pace.behind:
        return None
    window = rules.pace.year(year)
    return Due(
        UNIT_BEHIND_QUOTA,
        unit,
        "unit",
        unit,
        month_label(now),
        {
            "quota": pace.quota,
            "checked": pace.checked,
            "expected_by_now": pace.expected_by_now,
            "tolerance_percent": pace.tolerance_percent,
            "checks_due_on": window.checks_due.isoformat(),
            "pace_version": rules.pace.version,
            "pace_source": window.source,
        },
    )
