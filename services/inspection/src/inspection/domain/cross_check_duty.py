"""The quarterly cross check (交叉检查) each county-level unit owes: plan 四（四） (由县（区、
管委会）物业行业管理主管部门每季度开展交叉检查，形成交叉检查报告) and 附件2 #17 (每季度开展一次
交叉检查，形成交叉检查报告和工作台账).

Every county-level unit, as a checking unit, is to carry out one cross check in each quarter
of the campaign and report it. The campaign's quarters are those from its mobilisation stage
to its review stage (vocabulary.campaign: 2023's 7/15 to 12/31, Q3 and Q4). The plan names
no day for the report: the quarter's last day is taken (local configuration). A quarter is
judged once it is over, in Asia/Shanghai time: a unit with no cross check of it planned
missed it; one planned but not reported by then missed its report (a later report is late).

A cross check of a quarter that is over can no longer be planned (SpotCheckPlan.cross), and
the checks of a cross check are made within its quarter (SpotCheck.record): a missed
quarter stays missed, and this judgement is what 智慧监督's warning (casework's) rests on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter, quarter_of
from pubrev_contracts.vocabulary.campaign import MOBILISATION, REVIEW, CampaignCalendar
from pubrev_contracts.vocabulary.sources import local, plan

DUTY_SOURCE = plan("四（四）开展交叉检查（每季度开展交叉检查，形成交叉检查报告）；附件2第17项")
REPORT_DUE_SOURCE = local("工作方案未规定交叉检查报告的报送日，以季度最后一日为限")


class PlannedCrossCheck(Protocol):
    """A cross check as the read model lists it."""

    @property
    def plan_id(self) -> str: ...

    @property
    def quarter(self) -> int: ...

    @property
    def checking_unit(self) -> str: ...

    @property
    def checked_unit(self) -> str: ...

    @property
    def reported_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class QuarterDuty:
    """One unit's cross check of one campaign quarter, as it stands."""

    unit: str
    year: int
    quarter: int
    due: str
    """The quarter's last day (YYYY-MM-DD, Asia/Shanghai)."""
    over: bool
    """The quarter has ended."""
    plan_ids: tuple[str, ...]
    """The unit's cross checks of the quarter (as the checking unit)."""
    reported: int
    """How many of them are reported."""
    reported_in_time: bool
    """One of them was reported by the quarter's end."""
    checked_by: tuple[str, ...]
    """The units whose teams checked this unit's communities that quarter."""
    status: str
    """done (reported in time), reported_late, pending (the quarter runs), missing_plan,
    missing_report."""


def campaign_quarters(calendar: CampaignCalendar, year: int) -> tuple[Quarter, ...]:
    """The quarters of the year's campaign: from its mobilisation stage to its review.
    CampaignCalendarNotConfigured for a year the calendar lacks."""
    entry = calendar.year(year)
    first = quarter_of(entry.stage(MOBILISATION).due)
    last = quarter_of(entry.stage(REVIEW).due)
    quarters = [first]
    while quarters[-1] < last:
        quarters.append(quarters[-1].next())
    return tuple(quarters)


def quarter_over(year: int, quarter: int, now: datetime) -> bool:
    return now.astimezone(SHANGHAI) >= Quarter(year, quarter).end


def judge(
    units: Sequence[str],
    quarters: Sequence[Quarter],
    cross_checks: Iterable[PlannedCrossCheck],
    now: datetime,
) -> list[QuarterDuty]:
    """Each unit's duty in each quarter (units in the order given, then quarters)."""
    checks = list(cross_checks)
    duties = []
    for unit in units:
        for q in quarters:
            own = [c for c in checks if c.checking_unit == unit and c.quarter == q.quarter]
            reports = [c.reported_at for c in own if c.reported_at is not None]
            in_time = any(at < q.end for at in reports)
            over = now.astimezone(SHANGHAI) >= q.end
            if in_time:
                status = "done"
            elif reports:
                status = "reported_late"
            elif not over:
                status = "pending"
            elif not own:
                status = "missing_plan"
            else:
                status = "missing_report"
            duties.append(
                QuarterDuty(
                    unit,
                    q.year,
                    q.quarter,
                    q.last_day.isoformat(),
                    over,
                    tuple(sorted(c.plan_id for c in own)),
                    len(reports),
                    in_time,
                    tuple(
                        sorted(
                            c.checking_unit
                            for c in checks
                            if c.checked_unit == unit and c.quarter == q.quarter
                        )
                    ),
                    status,
                )
            )
    return duties
