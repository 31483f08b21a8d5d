"""What inspection sends out names its source, and its deadlines follow the holiday calendar:
- findings cite the work plan's paragraph of 二 and the law (vocabulary.violations.KINDS), the
  quota cites plan 四（三）, and values no source gives are marked local configuration;
- a rectification period ends on a working day (民法典 Art. 201, 203; the State Council's
  notice of the year), and a year the calendar lacks is an explicit error;
- events stored before the checking body was recorded still load (upcast v1 → v2)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from inspection.application.app import InspectionApplication
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check import SpotCheck
from inspection.domain.spot_check_plan import SpotCheckPlan
from inspection.domain.violations import CHECKLIST, KINDS
from pubrev_contracts.vocabulary.calendar import CHINA, SHANGHAI, CalendarNotConfigured
from pubrev_contracts.vocabulary.sources import LOCAL, WORK_PLAN, plan
from pubrev_contracts.vocabulary.violations import KINDS as CAMPAIGN_KINDS
from services.inspection.tests.support import scenario as inspection_scenario

LAW = re.compile(r"《(民法典|物业管理条例|刑法)》第[零一二三四五六七八九十百]+条")
PARAGRAPH_OF_LETTER = {"A": "二（一）", "B": "二（二）", "C": "二（三）", "D": "二（四）"}


def cites_a_real_source(text: str) -> bool:
    """Each part (；-separated) is the work plan, a law's article, or marked local."""
    return bool(text) and all(
        part.startswith(WORK_PLAN) or LAW.fullmatch(part) or part.endswith(LOCAL)
        for part in text.split("；")
    )


def test_every_finding_cites_the_work_plan_paragraph_of_its_letter_and_the_law() -> None:
    """Plan 二（一）–（四）: the code list is the shared kernel's, one per letter."""
    assert KINDS is CAMPAIGN_KINDS
    for item, code in CHECKLIST.items():
        basis = KINDS[code].legal_basis
        assert basis.startswith(plan(PARAGRAPH_OF_LETTER[code[0]])), (item, basis)
        assert cites_a_real_source(basis), (item, basis)
        assert LAW.search(basis), (item, basis)


def test_every_legal_basis_inspection_emits_cites_the_work_plan_or_a_law() -> None:
    """No title of our own making (the plan is 《关于深化“整治物业公司侵占业主公共收益…”
    工作方案》, not "莆田市住宅小区公共收益专项整治工作方案")."""
    texts = [KINDS[code].legal_basis for code in CHECKLIST.values()]
    texts.append(DEFAULT_RULES.quota_source)
    for event in inspection_scenario.run_scenario():
        texts += [getattr(event, "legal_basis", "")] if hasattr(event, "legal_basis") else []
    for text in texts:
        assert cites_a_real_source(text), text
        assert "专项整治工作方案" not in text, text


def test_the_quota_rule_cites_plan_4_3() -> None:
    """Plan 四（三）: city ≥ 15% of all communities, each county-level unit ≥ 50%."""
    assert DEFAULT_RULES.quota_source.startswith(plan("四（三）"))
    assert (DEFAULT_RULES.city_percent, DEFAULT_RULES.unit_percent) == (15, 50)


def test_rectification_periods_are_marked_local_configuration() -> None:
    """No source gives 15/30/60 days: sources.local(), and the deadline's basis says so
    beside 民法典 Art. 201, 203 and the year's holiday notice."""
    assert DEFAULT_RULES.rectification_days == {"minor": 15, "general": 30, "serious": 60}
    assert DEFAULT_RULES.rectification_source.endswith(LOCAL)
    deadline = DEFAULT_RULES.rectification_deadline(datetime(2026, 5, 6, tzinfo=UTC), "general")
    basis = DEFAULT_RULES.deadline_basis("general", deadline)
    assert LOCAL in basis and "30日" in basis
    assert "《民法典》第二百零一条" in basis and "《民法典》第二百零三条" in basis
    assert CHINA.source(2026) in basis


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, SHANGHAI)


@pytest.mark.parametrize(
    ("found", "severity", "nominal", "deadline"),
    [
        # National Day 2026 (1–7 October): 1 September + 30 days = 1 October → 8 October.
        (
            datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI),
            "general",
            date(2026, 10, 1),
            date(2026, 10, 8),
        ),
        # Spring Festival 2026 (15–23 February): 16 January + 30 days = 15 February → 24th.
        (
            datetime(2026, 1, 16, 10, 0, tzinfo=SHANGHAI),
            "general",
            date(2026, 2, 15),
            date(2026, 2, 24),
        ),
        # Found at 01:00 on 1 September in Shanghai (still 31 August in UTC): the day counts
        # in Asia/Shanghai; 15 days = 16 September, a Wednesday, kept.
        (datetime(2026, 8, 31, 17, 0, tzinfo=UTC), "minor", date(2026, 9, 16), date(2026, 9, 16)),
        # A Saturday made a working day (10 October 2026, 调休上班) ends a period there.
        (
            datetime(2026, 8, 11, 9, 0, tzinfo=SHANGHAI),
            "serious",
            date(2026, 10, 10),
            date(2026, 10, 10),
        ),
    ],
)
def test_a_rectification_deadline_ends_on_a_working_day_by_the_holiday_calendar(
    found: datetime,
    severity: str,
    nominal: date,
    deadline: date,
) -> None:
    """民法典 Art. 201 (the found day not counted), Art. 203 (a last day that is a rest day
    moves to the next working day; the period ends at 24:00), the State Council's 2026
    notice (pubrev_contracts.vocabulary.calendar.CHINA)."""
    assert (nominal - found.astimezone(SHANGHAI).date()).days == DEFAULT_RULES.rectification_days[
        severity
    ]
    got = DEFAULT_RULES.rectification_deadline(found, severity)
    assert got == _end_of(deadline)
    assert got.astimezone(SHANGHAI).date() == deadline


def test_a_deadline_in_a_year_the_calendar_lacks_is_an_error_never_a_guess() -> None:
    """2027's holiday notice is not entered: a finding of 15 December 2026 whose 30 days end
    in January 2027 raises CalendarNotConfigured (FAILED_PRECONDITION on gRPC)."""
    with pytest.raises(CalendarNotConfigured) as caught:
        DEFAULT_RULES.rectification_deadline(datetime(2026, 12, 15, 10, tzinfo=SHANGHAI), "general")
    assert caught.value.year == 2027
    assert "2027" in caught.value.message and "2027" in caught.value.message_zh


# -- events stored before the checking body was recorded (class_version 1) ------------------


@pytest.fixture
def app() -> InspectionApplication:
    return InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def _as_v1(app: InspectionApplication, event: Any, *dropped: str) -> Any:
    """Stores `event` as version 1 stored it (without `dropped`), then loads it back."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    for name in (*dropped, "class_version"):
        state.pop(name)
    old = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        app.mapper.transcoder.encode(state),
    )
    return app.mapper.to_domain_event(old)


def _finding(plan_id: uuid.UUID, unit: str, code: str = "CX-0001") -> Finding:
    check_id = SpotCheck.create_id(plan_id, code)
    finding = Finding(
        check_id,
        code,
        unit,
        "ignored",
        "ignored",
        "91350200776049653A",
        "A1",
        "no signboard",
        "general",
        KINDS["A1"].legal_basis,
        "",
        ["photo.jpg"],
        datetime(2026, 5, 6, 2, 30, tzinfo=UTC),
        "company",
        "",
        "",
        [],
        datetime(2026, 5, 6, 2, 30, tzinfo=UTC),
    )
    finding.order_rectification(datetime(2026, 6, 5, 15, 59, tzinfo=UTC), "basis")
    return finding


@pytest.mark.parametrize(
    ("plan_id", "unit", "body"),
    [
        # v1 stored the city's findings under putian: the city checked them.
        (SpotCheckPlan.create_id(2026, "yearly", "putian"), "putian", ("putian", "city")),
        (SpotCheckPlan.create_id(2026, "yearly", "licheng"), "licheng", ("licheng", "county")),
        # A 2025 plan checked in 2026 is still the unit's own.
        (SpotCheckPlan.create_id(2025, "yearly", "licheng"), "licheng", ("licheng", "county")),
        # A cross check's team: v1 kept the checked unit only.
        (SpotCheckPlan.create_id(2026, "cross", "2:hanjiang>licheng"), "licheng", ("", "cross")),
    ],
)
def test_stored_v1_findings_and_orders_load_with_their_checking_body(
    app: InspectionApplication,
    plan_id: uuid.UUID,
    unit: str,
    body: tuple[str, str],
) -> None:
    """Stored events are data: v1 ViolationFound / RectificationOrdered / SpotCheckDone
    load (upcast_v1_v2) with the checking body their plan's id reveals; `unit` stays as
    stored."""
    found, ordered = _finding(plan_id, unit).collect_events()
    old_found = _as_v1(app, found, "checking_unit", "checking_kind")
    assert (old_found.unit, old_found.checking_unit, old_found.checking_kind) == (unit, *body)
    old_ordered = _as_v1(app, ordered, "checking_unit", "checking_kind", "deadline_basis")
    assert (old_ordered.checking_unit, old_ordered.checking_kind) == body
    assert old_ordered.deadline_basis == ""

    check = SpotCheck(
        plan_id,
        "CX-0001",
        unit,
        "ignored",
        "ignored",
        "91350200776049653A",
        datetime(2026, 5, 6, 2, 30, tzinfo=UTC),
        ["I1"],
        [],
        [],
        [],
    )
    [done] = check.collect_events()
    old_done = _as_v1(app, done, "checking_unit", "checking_kind", "substitutions")
    assert (old_done.checking_unit, old_done.checking_kind) == body
    assert old_done.substitutions == []  # v1 → v2 → v3

    # The aggregate rebuilt from the old events works as a new one.
    finding = old_ordered.mutate(old_found.mutate(None))
    assert isinstance(finding, Finding)
    assert (finding.checking_kind, finding.status, finding.unit) == (body[1], "open", unit)
