"""The campaign calendar (专项整治日程, DOMAIN.md §5b): each year's stages with their due dates,
the monthly reports, and who is behind a stage. One definition for every service that asks.

The calendar is configuration (`campaign.toml` beside this module): one table a campaign year
with its version, each stage and monthly duty with its basis (`sources`). 2023 is entered from
the work plan (五 进度安排, 六（四）, 附件1 and 附件2); later years carry the 2023 dates over as
local configuration, the same years and dates as `pace.DEFAULT_PACE`. A year that is not entered
raises `CampaignCalendarNotConfigured`: it is never guessed.

Rules, and why:

- "X日前" and "X月底前" are read as "by the end of that day", Asia/Shanghai (as `pace` reads
  9月底前). A stage's due date has passed from 00:00 Shanghai time the day after it; an instant
  is first converted to its Shanghai date (`calendar.SHANGHAI`).
- A stage's due date is the plan's own calendar date and does not move past rest days: the plan
  names each date for its year (7月15日, a Saturday in 2023, is the day after it was issued;
  9月底 is also the end of `pace`'s window, which counts in calendar days).
- A monthly report's due day ("每月25日前", "每月30日前") falls on a rest day by the accident
  of the month. The plan does not say what happens then; the platform applies
  《民法典》第二百零三条 (a period whose last day is a statutory holiday ends on the next day
  after it; `calendar.CHINA` counts weekly rest days and make-up working days as the rest of
  the platform does), so that a unit is never warned for not reporting on a holiday and one
  rule governs every deadline the platform keeps (the disclosure deadline moves the same way).
  Applying a Civil Code period to reports between agencies is the bureau's choice, so the rule
  is configuration (`due_day_rules.rest_day`) and its basis cites the law and local
  configuration. A due day in a year the holiday calendar lacks raises
  `calendar.CalendarNotConfigured`. A day past the month's end (the 30th in February) is the
  month's last day (local configuration).
- The stage current on a date is the one due next: the first stage whose due date is that day
  or later. Two stages share 30 September (spot checks and the townships' inspections), so the
  current stages are a tuple.
- Behind a stage: for `spot_checks`, behind `pace.DEFAULT_PACE` (the quota spread over 15 July
  to 30 September, with its tolerance; the loader checks that both agree on those dates). For
  every other stage the plan gives no intermediate target (the monthly circulars and the
  interviews of lagging units, 五（三）, name no number), so a unit is behind once the stage's
  due date has passed with fewer done than expected. A date is judged as of its 00:00 Shanghai
  time (what was due by the end of the day before), an aware instant as it is.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from pubrev_contracts.vocabulary.calendar import (
    CHINA,
    CIVIL_CODE_ART_203,
    PENALTY_LAW_ART_85,
    SHANGHAI,
    WorkCalendar,
)
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE, PaceRules
from pubrev_contracts.vocabulary.sources import local, plan

_DATA = Path(__file__).with_name("campaign.toml")

MOBILISATION = "mobilisation"
SELF_INSPECTION = "self_inspection"
SELF_INSPECTION_LEDGERS = "self_inspection_ledgers"
SPOT_CHECKS = "spot_checks"
TOWNSHIP_INSPECTIONS = "township_inspections"
SUPERVISED_RECTIFICATION = "supervised_rectification"
UNIT_SUMMARIES = "unit_summaries"
REVIEW = "review"

STAGE_KEYS = (
    MOBILISATION,
    SELF_INSPECTION,
    SELF_INSPECTION_LEDGERS,
    SPOT_CHECKS,
    TOWNSHIP_INSPECTIONS,
    SUPERVISED_RECTIFICATION,
    UNIT_SUMMARIES,
    REVIEW,
)
"""Every year enters each of these stages once (the work plan's 五, 六（四） and annexes)."""

UNIT_REPORT = "unit_report"
PROVINCE_BRIEFING = "province_briefing"
MONTHLY_KEYS = (UNIT_REPORT, PROVINCE_BRIEFING)
"""The monthly duties: the units' reports to the city (25th), the city's briefing (30th)."""

LAWS = frozenset({CIVIL_CODE_ART_203, PENALTY_LAW_ART_85})
"""The provisions a basis in campaign.toml may cite (the vocabulary's own constants)."""

_BASIS_PARTS = ("plan", "law", "local")

K = TypeVar("K", bound=Hashable)


class CampaignCalendarNotConfigured(NotConfigured):
    """The campaign calendar has no entry for the year asked about."""

    def __init__(self, year: int, version: str) -> None:
        super().__init__(
            f"the campaign calendar ({version}) has no {year}: enter its stages and monthly "
            "reports in campaign.toml first",
            f"专项整治日程（{version}）尚未配置{year}年的阶段和月度报送要求",
        )
        self.year = year


class NotACampaignMonth(NotConfigured):
    """A monthly duty is asked for a month its year's campaign does not report in."""

    def __init__(self, duty: MonthlyDuty, month: int) -> None:
        super().__init__(
            f"{duty.key}: no report is due for {duty.year}-{month:02d} (the {duty.year} "
            f"campaign reports in months {duty.first_month}–{duty.last_month})",
            f"{duty.year}年{month}月不在专项整治月度报送期间"
            f"（{duty.first_month}月至{duty.last_month}月）",
        )
        self.year = duty.year
        self.month = month


def shanghai_date(on: date | datetime) -> date:
    """The Asia/Shanghai date of an aware instant; a date is taken as a Shanghai date."""
    if isinstance(on, datetime):
        if on.utcoffset() is None:
            raise ValueError(f"{on}: a naive datetime is no instant; pass an aware one or a date")
        return on.astimezone(SHANGHAI).date()
    return on


def _start_of(on: date | datetime) -> datetime:
    """An aware instant as it is; a date as 00:00 Shanghai time that day."""
    if isinstance(on, datetime):
        shanghai_date(on)  # refuses a naive datetime
        return on
    return datetime.combine(on, time(0), SHANGHAI)


@dataclass(frozen=True)
class Stage:
    year: int
    key: str
    name: str
    due: date
    """The last day of the stage (Asia/Shanghai), as the plan names it: not moved."""
    basis: str

    @property
    def deadline(self) -> datetime:
        """The first instant the stage is overdue: 00:00 Shanghai time after its due date."""
        return datetime.combine(self.due + timedelta(days=1), time(0), SHANGHAI)

    def due_passed(self, on: date | datetime) -> bool:
        """Whether the due date is over on a (Shanghai) date or at an aware instant."""
        return shanghai_date(on) > self.due


@dataclass(frozen=True)
class DueDayRules:
    """How a monthly duty's day becomes its due day (campaign.toml `[due_day_rules]`)."""

    moves_past_rest_days: bool
    rest_day_basis: str
    short_month_basis: str


@dataclass(frozen=True)
class MonthlyDuty:
    """A report due every month of a campaign year, on a day of the month."""

    year: int
    key: str
    name: str
    day: int
    first_month: int
    last_month: int
    basis: str
    months_basis: str
    rules: DueDayRules
    holidays: WorkCalendar = field(default=CHINA, repr=False, compare=False)

    @property
    def months(self) -> range:
        return range(self.first_month, self.last_month + 1)

    def nominal_due_day(self, month: int) -> date:
        """The day the plan names (the month's last day if it is shorter), before any move."""
        if month not in self.months:
            raise NotACampaignMonth(self, month)
        next_first = date(self.year + month // 12, month % 12 + 1, 1)
        last_day = (next_first - timedelta(days=1)).day
        return date(self.year, month, min(self.day, last_day))

    def due_day(self, month: int) -> date:
        """The day the month's report is due: the nominal day, or the first working day after
        it when it is a rest day (《民法典》第二百零三条, as configured). Raises
        CalendarNotConfigured for a year the holiday calendar has not entered."""
        nominal = self.nominal_due_day(month)
        if not self.rules.moves_past_rest_days:
            return nominal
        return self.holidays.period_end(nominal)

    def due_basis(self, month: int) -> str:
        """Where the month's due day comes from: the duty, and the rules that moved it."""
        nominal = self.nominal_due_day(month)
        parts = [self.basis]
        if nominal.day != self.day:
            parts.append(self.rules.short_month_basis)
        if self.due_day(month) != nominal:
            parts.append(self.rules.rest_day_basis)
        return "；".join(parts)

    def deadline(self, month: int) -> datetime:
        """The first instant the month's report is late (00:00 after its due day)."""
        return datetime.combine(self.due_day(month) + timedelta(days=1), time(0), SHANGHAI)

    def due_passed(self, month: int, on: date | datetime) -> bool:
        """Whether the month's report is overdue on a date or at an instant. Up to the end of
        the nominal day nothing is overdue and the holiday calendar is not asked."""
        day = shanghai_date(on)
        if day <= self.nominal_due_day(month):
            return False
        return day > self.due_day(month)


@dataclass(frozen=True)
class YearCalendar:
    year: int
    version: str
    stages: tuple[Stage, ...]
    """In due-date order."""
    monthly: Mapping[str, MonthlyDuty]
    carried_from: int | None
    """The entered year whose dates this one carries over (local configuration), if any."""

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(f"{key!r} is no campaign stage (known: {', '.join(STAGE_KEYS)})")

    @property
    def counted_from(self) -> date:
        """The first day whose work counts toward the year's stages: the campaign starts
        with its mobilisation (五（一）). Work done later than a stage's due date still
        completes it (late: the unit was behind meanwhile); work before this day does not
        count (it is not the campaign's). One definition for every service that counts."""
        return self.stage(MOBILISATION).due

    def current_stages(self, day: date) -> tuple[Stage, ...]:
        """The stages due next on `day`: the first due date that day or later, and every
        stage due then; empty once the year's last stage is over."""
        upcoming = [s for s in self.stages if s.due >= day]
        if not upcoming:
            return ()
        return tuple(s for s in upcoming if s.due == upcoming[0].due)


@dataclass(frozen=True)
class CampaignCalendar:
    version: str
    years: Mapping[int, YearCalendar]

    def year(self, year: int) -> YearCalendar:
        entry = self.years.get(year)
        if entry is None:
            raise CampaignCalendarNotConfigured(year, self.version)
        return entry

    def stages(self, year: int) -> tuple[Stage, ...]:
        return self.year(year).stages

    def stage(self, year: int, key: str) -> Stage:
        return self.year(year).stage(key)

    def current_stages(self, on: date | datetime) -> tuple[Stage, ...]:
        """The stages current (due next) on a Shanghai date or at an aware instant."""
        day = shanghai_date(on)
        return self.year(day.year).current_stages(day)

    def stage_due_passed(self, year: int, key: str, on: date | datetime) -> bool:
        return self.stage(year, key).due_passed(on)

    def monthly(self, year: int, key: str) -> MonthlyDuty:
        duties = self.year(year).monthly
        if key not in duties:
            raise KeyError(f"{key!r} is no monthly duty (known: {', '.join(MONTHLY_KEYS)})")
        return duties[key]

    def unit_report_due(self, year: int, month: int) -> date:
        """The day the county-level units' report of (year, month) is due to the city."""
        return self.monthly(year, UNIT_REPORT).due_day(month)

    def province_briefing_due(self, year: int, month: int) -> date:
        """The day the city's briefing of (year, month) is due to the province (省住建厅)."""
        return self.monthly(year, PROVINCE_BRIEFING).due_day(month)


@dataclass(frozen=True)
class UnitProgress(Generic[K]):
    """One unit's standing in one stage on one day."""

    unit: K
    done: int
    expected: int
    expected_by_now: int
    """What the stage expects by now: the pace's count for spot checks; for other stages
    nothing before the due date and everything after it."""
    tolerance_percent: int
    behind: bool
    by_pace: bool
    """Judged by `pace` (spot checks) rather than by the stage's due date."""


def progress(
    stage: Stage,
    on: date | datetime,
    counts: Mapping[K, tuple[int, int]],
    *,
    pace: PaceRules = DEFAULT_PACE,
) -> tuple[UnitProgress[K], ...]:
    """Each unit's progress in `stage` on a date (its 00:00 Shanghai time) or at an aware
    instant, from its counts (done, expected), in the order of `counts`. Spot checks are
    judged by the pace (expected = the unit's quota); any other stage is behind once its due
    date has passed with fewer done than expected."""
    result: list[UnitProgress[K]] = []
    for unit, (done, expected) in counts.items():
        if done < 0 or expected < 0:
            raise ValueError(f"{unit}: counts must not be negative ({done}, {expected})")
        if stage.key == SPOT_CHECKS:
            judged = pace.judge(stage.year, expected, done, _start_of(on))
            result.append(
                UnitProgress(
                    unit,
                    done,
                    expected,
                    judged.expected_by_now,
                    judged.tolerance_percent,
                    judged.behind,
                    by_pace=True,
                )
            )
        else:
            over = stage.due_passed(on)
            by_now = expected if over else 0
            result.append(UnitProgress(unit, done, expected, by_now, 0, done < by_now, False))
    return tuple(result)


def behind_units(
    stage: Stage,
    on: date | datetime,
    counts: Mapping[K, tuple[int, int]],
    *,
    pace: PaceRules = DEFAULT_PACE,
) -> tuple[K, ...]:
    """The units behind `stage` on `on`, in the order of `counts` (see `progress`)."""
    return tuple(p.unit for p in progress(stage, on, counts, pace=pace) if p.behind)


# --- loading campaign.toml ---------------------------------------------------------------


def _fields(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty text")
    return value


def _int(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{where}: {key} must be an integer")
    return value


def _raw_basis(table: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    raw = table.get(key)
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{where}: {key} needs a plan section, a law or a local reason")
    _fields(raw, set(_BASIS_PARTS), f"{where}: {key}")
    for part in raw:
        _text(raw, part, f"{where}: {key}")
    if "law" in raw and raw["law"] not in LAWS:
        raise ValueError(
            f"{where}: {key}: {raw['law']} is not a known law (campaign.LAWS): cite a "
            "provision the vocabulary names, never a title of your own"
        )
    return dict(raw)


def _render(raw: Mapping[str, str]) -> str:
    rendered: dict[str, Callable[[str], str]] = {"plan": plan, "law": str, "local": local}
    return "；".join(rendered[part](raw[part]) for part in _BASIS_PARTS if part in raw)


def _carried(raw: Mapping[str, str], year: int, source_year: int) -> str:
    described = "；".join(
        f"工作方案{raw[p]}" if p == "plan" else raw[p] for p in _BASIS_PARTS if p in raw
    )
    return local(
        f"{year}年的工作方案未录入，沿用{source_year}年的月日（{source_year}年依据：{described}）"
    )


def _date(value: object, year: int, where: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{where}: due must be a date (YYYY-MM-DD), not {value!r}")
    if value.year != year:
        raise ValueError(f"{where}: due {value} is not in {year}")
    return value


@dataclass(frozen=True)
class _StageEntry:
    key: str
    name: str
    due: date
    basis: dict[str, str]


@dataclass(frozen=True)
class _DutyEntry:
    key: str
    name: str
    day: int
    first_month: int
    last_month: int
    basis: dict[str, str]
    months_basis: dict[str, str]


@dataclass(frozen=True)
class _Entered:
    """A year entered in full, as written (kept to carry it over to later years)."""

    stages: tuple[_StageEntry, ...]
    monthly: tuple[_DutyEntry, ...]


def _stages(tables: object, year: int, where: str) -> tuple[_StageEntry, ...]:
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{where}: no [[year.stage]] tables (or carried_from)")
    entered: list[_StageEntry] = []
    for table in tables:
        key = table.get("key") if isinstance(table, dict) else None
        at = f"{where} [[year.stage]] {key}"
        if key not in STAGE_KEYS:
            raise ValueError(f"{at}: unknown stage (known: {', '.join(STAGE_KEYS)})")
        _fields(table, {"key", "name", "due", "basis"}, at)
        if any(e.key == key for e in entered):
            raise ValueError(f"{at}: entered twice")
        due = _date(table.get("due"), year, at)
        if entered and due < entered[-1].due:
            above = entered[-1]
            raise ValueError(
                f"{at}: stages out of order: due {due} is before {above.key} ({above.due}) above it"
            )
        entered.append(
            _StageEntry(key, _text(table, "name", at), due, _raw_basis(table, "basis", at))
        )
    missing = [k for k in STAGE_KEYS if all(e.key != k for e in entered)]
    if missing:
        raise ValueError(f"{where}: missing stage(s) {', '.join(missing)}")
    return tuple(entered)


def _monthly(tables: object, where: str) -> tuple[_DutyEntry, ...]:
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{where}: no [[year.monthly]] tables (or carried_from)")
    entered: list[_DutyEntry] = []
    for table in tables:
        key = table.get("key") if isinstance(table, dict) else None
        at = f"{where} [[year.monthly]] {key}"
        if key not in MONTHLY_KEYS:
            raise ValueError(f"{at}: unknown monthly duty (known: {', '.join(MONTHLY_KEYS)})")
        _fields(table, {"key", "name", "day", "months", "basis", "months_basis"}, at)
        if any(e.key == key for e in entered):
            raise ValueError(f"{at}: entered twice")
        day = _int(table, "day", at)
        if not 1 <= day <= 31:
            raise ValueError(f"{at}: day {day} is no day of a month")
        months = table.get("months")
        if not (
            isinstance(months, list)
            and len(months) == 2
            and all(isinstance(m, int) and not isinstance(m, bool) for m in months)
            and 1 <= months[0] <= months[1] <= 12
        ):
            raise ValueError(f"{at}: months must be [first, last], 1 ≤ first ≤ last ≤ 12")
        entered.append(
            _DutyEntry(
                key,
                _text(table, "name", at),
                day,
                months[0],
                months[1],
                _raw_basis(table, "basis", at),
                _raw_basis(table, "months_basis", at),
            )
        )
    missing = [k for k in MONTHLY_KEYS if all(e.key != k for e in entered)]
    if missing:
        raise ValueError(f"{where}: missing monthly duty(ies) {', '.join(missing)}")
    return tuple(entered)


def _year_calendar(
    year: int,
    version: str,
    written: _Entered,
    carried_from: int | None,
    rules: DueDayRules,
    holidays: WorkCalendar,
) -> YearCalendar:
    """A year's calendar from its entries, or from the entries of the year it carries."""

    def cite(raw: Mapping[str, str]) -> str:
        return _render(raw) if carried_from is None else _carried(raw, year, carried_from)

    stages = tuple(
        Stage(year, e.key, e.name, e.due.replace(year=year), cite(e.basis)) for e in written.stages
    )
    monthly = {
        e.key: MonthlyDuty(
            year,
            e.key,
            e.name,
            e.day,
            e.first_month,
            e.last_month,
            cite(e.basis),
            cite(e.months_basis),
            rules,
            holidays,
        )
        for e in written.monthly
    }
    return YearCalendar(year, version, stages, monthly, carried_from)


def _rules(data: Mapping[str, Any], name: str) -> DueDayRules:
    where = f"{name}: [due_day_rules]"
    table = data.get("due_day_rules")
    if not isinstance(table, dict):
        raise ValueError(f"{where}: missing")
    _fields(table, {"rest_day", "rest_day_basis", "short_month", "short_month_basis"}, where)
    rest_day = table.get("rest_day")
    if rest_day not in ("next_working_day", "stays"):
        raise ValueError(f"{where}: rest_day must be next_working_day or stays")
    if table.get("short_month") != "last_day":
        raise ValueError(f"{where}: short_month must be last_day")
    return DueDayRules(
        rest_day == "next_working_day",
        _render(_raw_basis(table, "rest_day_basis", where)),
        _render(_raw_basis(table, "short_month_basis", where)),
    )


def _agrees_with_pace(entry: YearCalendar, pace: PaceRules, where: str) -> None:
    window = pace.years.get(entry.year)
    if window is None:
        raise ValueError(
            f"{where}: vocabulary.pace ({pace.version}) has no {entry.year}: the spot-check "
            "stage is judged by the pace, so both must enter the year"
        )
    start, due = entry.stage(MOBILISATION).due, entry.stage(SPOT_CHECKS).due
    if (start, due) != (window.checks_start, window.checks_due):
        raise ValueError(
            f"{where}: mobilisation {start} and spot_checks {due} disagree with the pace's "
            f"window {window.checks_start}..{window.checks_due} ({pace.version})"
        )


def parse(
    data: Mapping[str, Any],
    name: str = "campaign.toml",
    *,
    pace: PaceRules = DEFAULT_PACE,
    holidays: WorkCalendar = CHINA,
) -> CampaignCalendar:
    """The calendar from campaign.toml's parsed tables; ValueError naming the bad table."""
    _fields(data, {"version", "due_day_rules", "year"}, name)
    version = _text(data, "version", name)
    rules = _rules(data, name)
    tables = data.get("year")
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{name}: no [[year]] tables")
    entered: dict[int, _Entered] = {}
    years: dict[int, YearCalendar] = {}
    for table in tables:
        year = table.get("year") if isinstance(table, dict) else None
        where = f"{name}: [[year]] {year}"
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            raise ValueError(f"{where}: year must be a year from 2000 to 2100")
        _fields(table, {"year", "version", "carried_from", "stage", "monthly"}, where)
        if year in years:
            raise ValueError(f"{where}: entered twice")
        year_version = _text(table, "version", where)
        carried_from: int | None = None
        if "carried_from" in table:
            carried_from = _int(table, "carried_from", where)
            if "stage" in table or "monthly" in table:
                raise ValueError(f"{where}: either carried_from or its own stages, not both")
            if carried_from not in entered or carried_from >= year:
                raise ValueError(
                    f"{where}: carried_from {carried_from} is no earlier year entered in full above"
                )
            written = entered[carried_from]
        else:
            written = _Entered(
                _stages(table.get("stage"), year, where), _monthly(table.get("monthly"), where)
            )
            entered[year] = written
        try:
            entry = _year_calendar(year, year_version, written, carried_from, rules, holidays)
        except ValueError as error:  # 29 February carried to a common year
            raise ValueError(f"{where}: {error}") from error
        _agrees_with_pace(entry, pace, where)
        years[year] = entry
    return CampaignCalendar(version, years)


def load(
    path: Path = _DATA, *, pace: PaceRules = DEFAULT_PACE, holidays: WorkCalendar = CHINA
) -> CampaignCalendar:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:  # e.g. a date like 2023-02-30
        raise ValueError(f"{path.name}: {error}") from error
    return parse(data, path.name, pace=pace, holidays=holidays)


CAMPAIGN = load()
"""The campaign calendar in force (campaign.toml)."""
