"""The spot-check pace (抽查进度): how many checks a quota expects by now, one definition for
every service that asks.

The work plan wants the yearly spot-check quotas (city ≥ 15% of all communities, each county-level
unit ≥ 50% of its own: 四（三）) met by the end of September (五 and 附件1 #11, #13: 9月底前),
counted from the campaign's start (五（一）: mobilisation by 15 July 2023). The quota is spread
evenly over that window, in Asia/Shanghai days: nothing is expected before the start, the whole
quota from the day after the checks deadline. While the window runs a unit is behind when it
has checked fewer than the expected number less a tolerance (local configuration: no source
gives one); after it, when it has checked fewer than its quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pubrev_contracts.vocabulary.calendar import SHANGHAI
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.sources import local, plan


@dataclass(frozen=True)
class CampaignYear:
    """One year's campaign window for spot checks."""

    year: int
    checks_start: date
    """The first day checks count toward the pace (the campaign's start)."""
    checks_due: date
    """The last day by which the quotas must be met."""
    source: str

    def __post_init__(self) -> None:
        if not (
            self.checks_start.year == self.checks_due.year == self.year
            and self.checks_start <= self.checks_due
        ):
            raise ValueError(
                f"campaign year {self.year}: bad window {self.checks_start}..{self.checks_due}"
            )

    @property
    def checks_over(self) -> datetime:
        """The first instant after the checks deadline (00:00 Shanghai, the next day)."""
        return datetime.combine(self.checks_due + timedelta(days=1), time(0), SHANGHAI)


class CampaignYearNotConfigured(NotConfigured):
    def __init__(self, year: int, version: str) -> None:
        super().__init__(
            f"the campaign calendar ({version}) has no {year}: configure its start and its "
            "checks deadline first",
            f"专项整治日程（{version}）尚未配置{year}年的开始日期和抽查完成期限",
        )
        self.year = year


@dataclass(frozen=True)
class Pace:
    quota: int
    checked: int
    expected_by_now: int
    tolerance_percent: int
    behind: bool


@dataclass(frozen=True)
class PaceRules:
    version: str
    tolerance_percent: int
    tolerance_source: str
    years: dict[int, CampaignYear]

    def __post_init__(self) -> None:
        if not 0 <= self.tolerance_percent < 100:
            raise ValueError(f"pace rules {self.version}: tolerance must be 0–99 %")

    def year(self, year: int) -> CampaignYear:
        entry = self.years.get(year)
        if entry is None:
            raise CampaignYearNotConfigured(year, self.version)
        return entry

    def expected_by(self, year: int, quota: int, now: datetime) -> int:
        """Checks the quota expects by `now` (an aware instant): a ceiling, in integers."""
        window = self.year(year)
        start = datetime.combine(window.checks_start, time(0), SHANGHAI)
        end = window.checks_over
        local_now = now.astimezone(SHANGHAI)
        if quota <= 0 or local_now <= start:
            return 0
        if local_now >= end:
            return quota
        elapsed = int((local_now - start).total_seconds())
        total = int((end - start).total_seconds())
        return -(-quota * elapsed // total)

    def judge(self, year: int, quota: int, checked: int, now: datetime) -> Pace:
        """Behind the pace, with the tolerance while the window runs; once the checks
        deadline has passed the quota is a floor ("不少于", 四（三）), without tolerance."""
        expected = self.expected_by(year, quota, now)
        # The deadline's passing ends the tolerance, not the rounded-up expectation reaching
        # the quota (with a quota of 100 that happened at 05:17 on 30 September).
        if now.astimezone(SHANGHAI) >= self.year(year).checks_over:
            return Pace(quota, checked, quota, 0, checked < quota)
        behind = checked * 100 < expected * (100 - self.tolerance_percent)
        return Pace(quota, checked, expected, self.tolerance_percent, behind)


_CARRIED = local("2023年工作方案的日期沿用至本年（本年无新的工作方案）")

DEFAULT_PACE = PaceRules(
    version="putian-pace-2023.1",
    tolerance_percent=10,
    tolerance_source=local("抽查进度容差10%"),
    years={
        2023: CampaignYear(
            2023,
            date(2023, 7, 15),
            date(2023, 9, 30),
            plan("五（一）全面动员部署（7月15日前）；附件1第11、13项（9月底前）"),
        ),
        **{
            y: CampaignYear(y, date(y, 7, 15), date(y, 9, 30), _CARRIED)
            for y in (2024, 2025, 2026, 2027)
        },
    },
)
