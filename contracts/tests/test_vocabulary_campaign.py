"""The campaign calendar (DOMAIN.md §5b; work plan 五, 六（四）, 附件1, 附件2): every stage with
its date and basis, campaign.toml refused when it is wrong, the stage current on a date in
Shanghai time, the monthly due days moved past rest days (民法典 Art. 203), and who is behind."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pubrev_contracts.vocabulary import campaign
from pubrev_contracts.vocabulary.calendar import (
    CIVIL_CODE_ART_203,
    SHANGHAI,
    CalendarNotConfigured,
)
from pubrev_contracts.vocabulary.campaign import (
    CAMPAIGN,
    LAWS,
    MONTHLY_KEYS,
    SPOT_CHECKS,
    STAGE_KEYS,
    CampaignCalendar,
    CampaignCalendarNotConfigured,
    NotACampaignMonth,
    behind_units,
    load,
    progress,
)
from pubrev_contracts.vocabulary.errors import NotConfigured
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE
from pubrev_contracts.vocabulary.sources import LOCAL, WORK_PLAN, plan

TOML = Path(campaign.__file__).with_name("campaign.toml").read_text(encoding="utf-8")

# key, Chinese name, due date, the plan's section: the 2023 stages as the plan gives them.
PLAN_2023 = [
    (
        "mobilisation",
        "全面动员部署",
        date(2023, 7, 15),
        "五（一）全面动员部署（2023年7月15日前）；附件1、附件2第1、2、3项（7月15日前）",
    ),
    (
        "self_inspection",
        "自查自纠",
        date(2023, 7, 20),
        "五（二）自查自纠阶段（2023年7月20日前）；附件1、附件2第8项（7月20日前）",
    ),
    (
        "self_inspection_ledgers",
        "建立物业服务企业自查自纠台账",
        date(2023, 7, 31),
        "附件1、附件2第9项（7月底前）",
    ),
    (
        "spot_checks",
        "实地抽查核实",
        date(2023, 9, 30),
        "四（三）实地抽查核实（市不少于15%，县（区、管委会）不少于50%）；"
        "附件1第11、13项，附件2第11项（9月底前）",
    ),
    (
        "township_inspections",
        "镇（街道）、村（居）全面检查",
        date(2023, 9, 30),
        "四（三）（镇（街道）、村（居）应对辖区进行全面检查）；附件1第15项，附件2第13项（9月底前）",
    ),
    (
        "supervised_rectification",
        "组织督导整改",
        date(2023, 11, 30),
        "五（三）组织督导整改（2023年11月底前）",
    ),
    (
        "unit_summaries",
        "报送整治工作总结",
        date(2023, 12, 15),
        "六（四）及时报送情况（12月15日前，报送整治工作总结）",
    ),
    ("review", "总结经验提升", date(2023, 12, 31), "五（四）总结经验提升（2023年12月底前）"),
]


def _load(tmp_path: Path, text: str) -> CampaignCalendar:
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def _every_basis(calendar: CampaignCalendar) -> list[str]:
    bases: list[str] = []
    for entry in calendar.years.values():
        bases += [s.basis for s in entry.stages]
        for duty in entry.monthly.values():
            bases += [duty.basis, duty.months_basis, duty.rules.rest_day_basis]
            bases.append(duty.rules.short_month_basis)
    return bases


# --- the stages and their basis -----------------------------------------------------------


@pytest.mark.parametrize(("key", "name", "due", "section"), PLAN_2023)
def test_each_2023_stage_has_the_plans_date_and_cites_its_section(
    key: str, name: str, due: date, section: str
) -> None:
    stage = CAMPAIGN.stage(2023, key)
    assert (stage.name, stage.due, stage.basis) == (name, due, plan(section))


def test_2023_has_every_stage_in_order_of_its_due_date() -> None:
    stages = CAMPAIGN.stages(2023)
    assert tuple(s.key for s in stages) == STAGE_KEYS == tuple(p[0] for p in PLAN_2023)
    assert [s.due for s in stages] == sorted(s.due for s in stages)
    assert CAMPAIGN.year(2023).carried_from is None


def test_the_monthly_duties_of_2023_cite_the_plan() -> None:
    report = CAMPAIGN.monthly(2023, "unit_report")
    briefing = CAMPAIGN.monthly(2023, "province_briefing")
    assert (report.day, report.months) == (25, range(7, 13))
    assert report.basis == plan("六（四）及时报送情况（每月25日前）；附件2第7、36、45项")
    assert (briefing.day, briefing.months) == (30, range(7, 13))
    assert briefing.basis == plan("附件1第36项（每月30日前）、第48项")
    assert "省住建厅" in briefing.name and "市城市管理局" in report.name


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_later_years_carry_2023s_dates_as_local_configuration(year: int) -> None:
    entry = CAMPAIGN.year(year)
    assert entry.carried_from == 2023
    for stage, original in zip(entry.stages, CAMPAIGN.stages(2023), strict=True):
        assert stage.key == original.key and stage.name == original.name
        assert stage.due == original.due.replace(year=year)
        assert stage.basis.endswith(LOCAL) and WORK_PLAN not in stage.basis
    for duty in entry.monthly.values():
        assert duty.basis.endswith(LOCAL) and duty.months_basis.endswith(LOCAL)


def test_the_campaign_and_the_pace_enter_the_same_years_with_the_same_window() -> None:
    assert set(CAMPAIGN.years) == set(DEFAULT_PACE.years)
    for year, window in DEFAULT_PACE.years.items():
        assert CAMPAIGN.stage(year, "mobilisation").due == window.checks_start
        assert CAMPAIGN.stage(year, SPOT_CHECKS).due == window.checks_due


def test_every_basis_cites_the_work_plan_a_law_or_local_configuration() -> None:
    bases = _every_basis(CAMPAIGN)
    assert bases
    for basis in bases:
        assert WORK_PLAN in basis or any(law in basis for law in LAWS) or LOCAL in basis, basis


def test_no_basis_names_a_title_of_its_own() -> None:
    # Every 《title》 in a basis is the work plan's or a law the vocabulary names.
    known = [WORK_PLAN, *LAWS]
    for basis in _every_basis(CAMPAIGN):
        rest = basis
        for text in known:
            rest = rest.replace(text, "")
        assert not re.search("《[^》]*》", rest), basis


def test_a_year_not_entered_is_not_guessed() -> None:
    with pytest.raises(CampaignCalendarNotConfigured) as raised:
        CAMPAIGN.stages(2022)
    assert raised.value.year == 2022 and isinstance(raised.value, NotConfigured)
    with pytest.raises(CampaignCalendarNotConfigured):
        CAMPAIGN.current_stages(date(2028, 8, 1))
    with pytest.raises(CampaignCalendarNotConfigured):
        CAMPAIGN.unit_report_due(2028, 8)


# --- campaign.toml refused when wrong -------------------------------------------------------


def test_the_shipped_file_loads() -> None:
    assert load() == CAMPAIGN
    assert CAMPAIGN.version == "putian-campaign-2026.1"
    assert CAMPAIGN.year(2023).version == "2023.1"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a due date that is text, a date-time, or in another year
        (
            "due = 2023-11-30",
            'due = "2023-11-30"',
            r"\[\[year\]\] 2023 \[\[year\.stage\]\] supervised_rectification: due must be",
        ),
        (
            "due = 2023-11-30",
            "due = 2023-11-30T00:00:00",
            r"supervised_rectification: due must be a date",
        ),
        (
            "due = 2023-11-30",
            "due = 2022-11-30",
            r"supervised_rectification: due 2022-11-30 is not in 2023",
        ),
        # a date the calendar lacks fails in the TOML parser, named by file and line
        ("due = 2023-11-30", "due = 2023-11-31", r"^campaign\.toml: "),
        # stages out of order
        (
            "due = 2023-07-20",
            "due = 2023-07-10",
            r"2023 \[\[year\.stage\]\] self_inspection: stages out of order: due 2023-07-10",
        ),
        (
            'key = "review"',
            'key = "unit_summaries"',
            r"\[\[year\.stage\]\] unit_summaries: entered twice",
        ),
        (
            'key = "review"',
            'key = "retrospective"',
            r"\[\[year\.stage\]\] retrospective: unknown stage",
        ),
        (
            'key = "province_briefing"',
            'key = "unit_report"',
            r"\[\[year\.monthly\]\] unit_report: entered twice",
        ),
        ("day = 30", "day = 32", r"\[\[year\.monthly\]\] province_briefing: day 32"),
        (
            "day = 30\nmonths = [7, 12]",
            "day = 30\nmonths = [12, 7]",
            r"province_briefing: months must be",
        ),
        (
            'basis.plan = "五（三）组织督导整改（2023年11月底前）"',
            'basis.law = "《某某条例》第一条"',  # a title of one's own making
            r"supervised_rectification: basis: 《某某条例》第一条 is not a known law",
        ),
        (
            'basis.plan = "五（三）组织督导整改（2023年11月底前）"',
            "basis = {}",
            r"supervised_rectification: basis needs a plan section",
        ),
        (
            'basis.plan = "五（三）组织督导整改（2023年11月底前）"',
            'basis.source = "五（三）"',
            r"supervised_rectification: basis: unknown field",
        ),
        (
            'year = 2026\nversion = "2026.1"\ncarried_from = 2023',
            'year = 2025\nversion = "2026.1"\ncarried_from = 2023',
            r"\[\[year\]\] 2025: entered twice",
        ),
        (
            'year = 2024\nversion = "2024.1"\ncarried_from = 2023',
            'year = 2024\nversion = "2024.1"\ncarried_from = 2025',
            r"\[\[year\]\] 2024: carried_from 2025 is no earlier year",
        ),
        (
            'rest_day = "next_working_day"',
            'rest_day = "previous_working_day"',
            r"\[due_day_rules\]: rest_day must be",
        ),
    ],
)
def test_a_wrong_table_is_refused_by_name(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in TOML
    with pytest.raises(ValueError, match=message):
        _load(tmp_path, TOML.replace(old, new, 1))


def test_a_missing_stage_is_refused(tmp_path: Path) -> None:
    start = TOML.index('[[year.stage]]\nkey = "review"')
    end = TOML.index("[[year.monthly]]\nkey")
    with pytest.raises(ValueError, match=r"\[\[year\]\] 2023: missing stage\(s\) review"):
        _load(tmp_path, TOML[:start] + TOML[end:])


def test_a_year_the_pace_does_not_know_is_refused(tmp_path: Path) -> None:
    text = TOML + '\n[[year]]\nyear = 2031\nversion = "2031.1"\ncarried_from = 2023\n'
    with pytest.raises(ValueError, match=r"\[\[year\]\] 2031: vocabulary\.pace .* has no 2031"):
        _load(tmp_path, text)


def test_spot_checks_that_disagree_with_the_pace_are_refused(tmp_path: Path) -> None:
    # The first 2023-09-30 is the spot_checks stage; the pace counts to 30 September.
    text = TOML.replace("due = 2023-09-30", "due = 2023-09-29", 1)
    with pytest.raises(ValueError, match=r"\[\[year\]\] 2023: .* disagree with the pace"):
        _load(tmp_path, text)


# --- the stage current on a date ----------------------------------------------------------


def _keys(on: date | datetime) -> tuple[str, ...]:
    return tuple(s.key for s in CAMPAIGN.current_stages(on))


@pytest.mark.parametrize(
    ("day", "keys"),
    [
        (date(2023, 1, 1), ("mobilisation",)),
        (date(2023, 7, 15), ("mobilisation",)),
        (date(2023, 7, 16), ("self_inspection",)),
        (date(2023, 7, 20), ("self_inspection",)),
        (date(2023, 7, 21), ("self_inspection_ledgers",)),
        (date(2023, 7, 31), ("self_inspection_ledgers",)),
        (date(2023, 8, 1), ("spot_checks", "township_inspections")),
        (date(2023, 9, 30), ("spot_checks", "township_inspections")),
        (date(2023, 10, 1), ("supervised_rectification",)),
        (date(2023, 11, 30), ("supervised_rectification",)),
        (date(2023, 12, 1), ("unit_summaries",)),
        (date(2023, 12, 15), ("unit_summaries",)),
        (date(2023, 12, 16), ("review",)),
        (date(2023, 12, 31), ("review",)),
        (date(2024, 1, 1), ("mobilisation",)),  # 2024's stage, carried
    ],
)
def test_the_current_stage_is_the_one_due_next(day: date, keys: tuple[str, ...]) -> None:
    assert _keys(day) == keys
    assert all(s.year == day.year for s in CAMPAIGN.current_stages(day))


@pytest.mark.parametrize(("key", "name", "due", "section"), PLAN_2023)
def test_a_due_date_passes_at_shanghai_midnight_not_utc(
    key: str, name: str, due: date, section: str
) -> None:
    stage = CAMPAIGN.stage(2023, key)
    assert not stage.due_passed(due - timedelta(days=1))
    assert not stage.due_passed(due)
    assert stage.due_passed(due + timedelta(days=1))
    # 00:00 Shanghai time the next day is 16:00 UTC on the due date.
    midnight = datetime(due.year, due.month, due.day, 16, tzinfo=UTC)
    assert stage.deadline == midnight
    assert not stage.due_passed(midnight - timedelta(seconds=1))
    assert stage.due_passed(midnight)


def test_the_current_stage_at_an_instant_is_that_of_its_shanghai_date() -> None:
    # 15:59:59 UTC on 15 July is still 15 July in Putian; 16:00 UTC is 16 July.
    assert _keys(datetime(2023, 7, 15, 15, 59, 59, tzinfo=UTC)) == ("mobilisation",)
    assert _keys(datetime(2023, 7, 15, 16, 0, tzinfo=UTC)) == ("self_inspection",)
    assert _keys(datetime(2023, 7, 16, 0, 0, tzinfo=SHANGHAI)) == ("self_inspection",)
    # New Year in Putian comes eight hours before it does in UTC.
    assert CAMPAIGN.current_stages(datetime(2023, 12, 31, 16, tzinfo=UTC))[0].year == 2024
    with pytest.raises(ValueError, match="naive"):
        CAMPAIGN.current_stages(datetime(2023, 7, 16))  # noqa: DTZ001 - the point of the test


def test_stage_due_passed_by_key() -> None:
    assert not CAMPAIGN.stage_due_passed(2023, "review", date(2023, 12, 31))
    assert CAMPAIGN.stage_due_passed(2023, "review", date(2024, 1, 1))


# --- monthly due days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "report", "briefing"),
    [
        # 30 July 2023 was a Sunday: the briefing is due Monday 31 July.
        (7, date(2023, 7, 25), date(2023, 7, 31)),
        (8, date(2023, 8, 25), date(2023, 8, 30)),
        # 30 September 2023 fell in the Mid-Autumn and National Day holiday (29 Sept – 6 Oct);
        # Saturday 7 October was a make-up working day.
        (9, date(2023, 9, 25), date(2023, 10, 7)),
        (10, date(2023, 10, 25), date(2023, 10, 30)),
        # 25 November 2023 was a Saturday.
        (11, date(2023, 11, 27), date(2023, 11, 30)),
        # 30, 31 December 2023 a weekend, 1 January 2024 New Year's Day.
        (12, date(2023, 12, 25), date(2024, 1, 2)),
    ],
)
def test_the_monthly_due_days_of_2023(month: int, report: date, briefing: date) -> None:
    assert CAMPAIGN.unit_report_due(2023, month) == report
    assert CAMPAIGN.province_briefing_due(2023, month) == briefing


def test_a_due_day_moved_past_a_holiday_cites_the_civil_code() -> None:
    briefing = CAMPAIGN.monthly(2023, "province_briefing")
    assert briefing.nominal_due_day(9) == date(2023, 9, 30)
    assert CIVIL_CODE_ART_203 in briefing.due_basis(9) and LOCAL in briefing.due_basis(9)
    assert briefing.due_basis(8) == briefing.basis  # 30 August: a working day, not moved
    assert briefing.deadline(9) == datetime(2023, 10, 8, tzinfo=SHANGHAI)
    assert not briefing.due_passed(9, date(2023, 10, 1))
    assert not briefing.due_passed(9, datetime(2023, 10, 7, 15, 59, tzinfo=UTC))
    assert briefing.due_passed(9, datetime(2023, 10, 7, 16, 0, tzinfo=UTC))


def test_a_month_in_a_year_the_holiday_calendar_lacks_is_refused() -> None:
    # 2027 is in the campaign calendar (carried) but the State Council's 2027 notice is not
    # entered in holidays.toml: the due day cannot be known, and is not guessed.
    with pytest.raises(CalendarNotConfigured):
        CAMPAIGN.unit_report_due(2027, 7)
    report = CAMPAIGN.monthly(2027, "unit_report")
    # Up to the nominal day nothing is overdue, so the holiday calendar need not be asked.
    assert not report.due_passed(7, date(2027, 7, 25))
    with pytest.raises(CalendarNotConfigured):
        report.due_passed(7, date(2027, 7, 26))


def test_a_month_outside_the_campaign_has_no_report() -> None:
    with pytest.raises(NotACampaignMonth) as raised:
        CAMPAIGN.unit_report_due(2023, 3)
    assert (raised.value.year, raised.value.month) == (2023, 3)
    assert isinstance(raised.value, NotConfigured)


def test_the_30th_of_a_short_month_is_its_last_day(tmp_path: Path) -> None:
    calendar = _load(
        tmp_path, TOML.replace("day = 30\nmonths = [7, 12]", "day = 30\nmonths = [1, 12]")
    )
    briefing = calendar.monthly(2024, "province_briefing")
    assert briefing.nominal_due_day(2) == date(2024, 2, 29)  # Thursday, a working day
    assert briefing.due_day(2) == date(2024, 2, 29)
    assert briefing.rules.short_month_basis in briefing.due_basis(2)
    assert calendar.monthly(2023, "province_briefing").due_day(2) == date(2023, 2, 28)


def test_a_due_day_that_stays_on_a_rest_day(tmp_path: Path) -> None:
    text = TOML.replace('rest_day = "next_working_day"', 'rest_day = "stays"')
    calendar = _load(tmp_path, text)
    assert calendar.province_briefing_due(2023, 9) == date(2023, 9, 30)
    assert calendar.unit_report_due(2027, 7) == date(2027, 7, 25)  # no calendar asked


def test_every_monthly_key_is_entered_each_year() -> None:
    for entry in CAMPAIGN.years.values():
        assert tuple(entry.monthly) == MONTHLY_KEYS


# --- behind a stage -----------------------------------------------------------------------


def test_a_stage_without_a_pace_is_behind_only_after_its_due_date() -> None:
    stage = CAMPAIGN.stage(2023, "self_inspection")
    counts = {"licheng": (40, 50), "hanjiang": (50, 50), "xianyou": (0, 0)}
    assert behind_units(stage, date(2023, 7, 20), counts) == ()
    assert behind_units(stage, date(2023, 7, 21), counts) == ("licheng",)
    # 16:00 UTC on 20 July is midnight in Putian.
    assert behind_units(stage, datetime(2023, 7, 20, 15, 59, tzinfo=UTC), counts) == ()
    assert behind_units(stage, datetime(2023, 7, 20, 16, 0, tzinfo=UTC), counts) == ("licheng",)
    before, after = (
        {p.unit: p for p in progress(stage, day, counts)}
        for day in (date(2023, 7, 20), date(2023, 7, 21))
    )
    assert before["licheng"].expected_by_now == 0 and after["licheng"].expected_by_now == 50
    assert not after["licheng"].by_pace and after["licheng"].tolerance_percent == 0


def test_spot_checks_are_judged_by_the_pace() -> None:
    stage = CAMPAIGN.stage(2023, SPOT_CHECKS)
    mid = datetime(2023, 8, 22, 12, tzinfo=SHANGHAI)
    expected = DEFAULT_PACE.expected_by(2023, 100, mid)
    inside = -(-expected * (100 - DEFAULT_PACE.tolerance_percent) // 100)
    counts = {"licheng": (inside, 100), "hanjiang": (inside - 1, 100)}
    (ok, late) = progress(stage, mid, counts)
    assert ok.by_pace and ok.expected_by_now == expected and not ok.behind
    assert late.behind and late.tolerance_percent == DEFAULT_PACE.tolerance_percent
    # Before the due date has passed, a unit can already be behind the pace.
    assert not stage.due_passed(mid)
    assert behind_units(stage, mid, counts) == ("hanjiang",)


def test_spot_checks_at_the_due_date_boundary() -> None:
    stage = CAMPAIGN.stage(2023, SPOT_CHECKS)
    counts = {"licheng": (99, 100), "hanjiang": (100, 100)}
    # A date is judged as of its 00:00 in Putian: on 30 September the quota is not yet all
    # due, 99 of 100 is within the tolerance; from 1 October the quota is a floor.
    assert behind_units(stage, date(2023, 9, 30), counts) == ()
    assert behind_units(stage, date(2023, 10, 1), counts) == ("licheng",)
    # 16:30 UTC on 29 September is 00:30 on 30 September in Putian, inside the window;
    # 16:00 UTC on 30 September is 1 October there.
    assert behind_units(stage, datetime(2023, 9, 29, 16, 30, tzinfo=UTC), counts) == ()
    assert behind_units(stage, datetime(2023, 9, 30, 16, 0, tzinfo=UTC), counts) == ("licheng",)
    for judged in progress(stage, date(2023, 10, 1), counts):
        pace = DEFAULT_PACE.judge(2023, 100, judged.done, datetime(2023, 10, 1, tzinfo=SHANGHAI))
        assert (judged.expected_by_now, judged.behind) == (pace.expected_by_now, pace.behind)


def test_nothing_expected_is_never_behind_and_counts_are_not_negative() -> None:
    stage = CAMPAIGN.stage(2023, "review")
    assert behind_units(stage, date(2024, 3, 1), {"putian": (0, 0)}) == ()
    with pytest.raises(ValueError, match="negative"):
        progress(stage, date(2024, 3, 1), {"putian": (-1, 1)})


def test_work_counts_from_the_campaigns_mobilisation() -> None:
    """One definition for inspection's township coverage and casework's progress: the
    year's work counts from mobilisation (五（一）) on, late work included."""
    from pubrev_contracts.vocabulary.campaign import CAMPAIGN, MOBILISATION

    year = CAMPAIGN.year(2026)
    assert year.counted_from == year.stage(MOBILISATION).due == date(2026, 7, 15)
