"""Deduction table, grades, display periods, dishonesty, 万元 conversion, penalties and the
withdrawal deadline, on in-memory persistence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from credit.adapters.feeds import fen_to_wan_yuan
from credit.application.app import CreditApplication
from credit.application.commands import DecideSeriousDishonesty
from credit.application.sweeps import restore_due
from credit.domain.credit_ledger import CreditLedger
from credit.domain.rules import DEFAULT_RULES, DeductionTable
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.credit.tests.support.scenario import COMPANY, finding, popo_app

WHEN = datetime(2026, 5, 6, tzinfo=UTC)
OFFICER = Identity("property-bureau", "officer", "licheng")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WHEN)


@pytest.fixture
def app(clock: FakeClock) -> CreditApplication:
    return popo_app(clock)


def deliver(
    app: CreditApplication, n: int, kind: str = "A1", severity: str = "general", at: datetime = WHEN
) -> bool:
    return finding(app, f"f{n}", kind, severity, at)


def ledger(app: CreditApplication) -> CreditLedger:
    found = app.find(CreditLedger.create_id(COMPANY), CreditLedger)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("kind", "severity", "points"),
    [
        ("A1", "minor", 1),
        ("A7", "general", 2),
        ("B1", "serious", 8),
        ("C1", "serious", 12),
        ("D2", "general", 8),
        ("E1", "serious", 0),
    ],
)
def test_table_points(kind: str, severity: str, points: int) -> None:
    assert DEFAULT_RULES.deductions.points_for(kind, severity) == points


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "AAA"),
        (85, "AAA"),
        (84, "AA"),
        (80, "AA"),
        (79, "A"),
        (70, "A"),
        (69, "B"),
        (60, "B"),
        (59, "C"),
        (0, "C"),
    ],
)
def test_grade_bands(score: int, grade: str) -> None:
    assert DEFAULT_RULES.grades.grade(score) == grade


def test_a_finding_deducts_once_whatever_is_redelivered(app: CreditApplication) -> None:
    assert deliver(app, 1, "C1", "general")
    assert not deliver(app, 1, "C1", "general")  # same delivery: tracking
    # The same finding through another delivery path still deducts once (ledger memory).
    app.apply_finding(
        "f1", COMPANY, "licheng", "C1", "general", WHEN, DeliveryRef("another-consumer", "f1", 1)
    )
    assert ledger(app).score == 92


def test_every_deduction_records_table_version_and_basis(app: CreditApplication) -> None:
    deliver(app, 1)
    [deducted] = [
        e for e in app.repository.event_store.get(ledger(app).id) if type(e).__name__ == "Deducted"
    ]
    assert getattr(deducted, "table_version") == DEFAULT_RULES.deductions.version  # noqa: B009
    assert getattr(deducted, "legal_basis")  # noqa: B009


def test_a_new_table_version_applies_to_new_findings_only(clock: FakeClock) -> None:
    stricter = replace(
        DEFAULT_RULES,
        deductions=DeductionTable("putian-credit-2027.1", {"A": {"general": 5}}, "revised table"),
    )
    old = popo_app(clock)
    deliver(old, 1)
    assert ledger(old).score == 98
    old.rules = stricter
    deliver(old, 2)
    versions = [
        getattr(e, "table_version")  # noqa: B009
        for e in old.repository.event_store.get(ledger(old).id)
        if type(e).__name__ == "Deducted"
    ]
    assert versions == ["putian-credit-2023.1", "putian-credit-2027.1"]
    assert ledger(old).score == 93


def test_restoration_after_rectification_waits_for_the_minimum(
    app: CreditApplication, clock: FakeClock
) -> None:
    """General: repair after 3 calendar months (DOMAIN.md §6; 民法典 Art. 202): 6 May →
    6 August, 92 days."""
    deliver(app, 1, "B1", "general")  # minimum 3 months, maximum 12
    clock.now = WHEN + timedelta(days=10)
    app.apply_rectification("f1", COMPANY, clock.now, DeliveryRef("credit.ledger", "f1", 3))
    assert ledger(app).score == 96  # rectified, but the minimum period is not over
    clock.now = WHEN + timedelta(days=91)
    assert restore_due(app, COMPANY) == 0
    clock.now = WHEN + timedelta(days=92)
    assert restore_due(app, COMPANY) == 1
    assert ledger(app).score == 100
    assert restore_due(app, COMPANY) == 0


def test_unrectified_records_are_restored_when_display_ends(
    app: CreditApplication, clock: FakeClock
) -> None:
    """Serious: displayed 3 years, in calendar years (2026-05-06 → 2029-05-06, DOMAIN.md §6)."""
    deliver(app, 1, "C1", "serious")
    clock.now = datetime(2029, 5, 5, 23, 59, tzinfo=UTC)
    assert restore_due(app, COMPANY) == 0
    clock.now = datetime(2029, 5, 6, tzinfo=UTC)
    assert restore_due(app, COMPANY) == 1


def test_the_threshold_proposes_and_the_credit_office_lists_once(app: CreditApplication) -> None:
    """Issue 13: the 联合奖惩 listing is decided by the credit office, not listed
    automatically: the threshold proposes (once while pending), the office lists."""
    deliver(app, 1, "C1", "serious")
    assert ledger(app).proposal is None
    deliver(app, 2, "C2", "serious")
    assert not ledger(app).listed and ledger(app).proposal is not None
    deliver(app, 3, "C1", "serious")  # still the one proposal, pending
    office = Identity("credit-office", "officer", "licheng")
    assert app.handle(office, DecideSeriousDishonesty("d1", COMPANY, True, "经审定列入")).listed
    deliver(app, 4, "C1", "serious")  # listed: never proposed again
    kinds = [type(e).__name__ for e in app.repository.event_store.get(ledger(app).id)]
    assert (kinds.count("SeriousDishonestyProposed"), kinds.count("SeriousDishonestyListed")) == (
        1,
        1,
    )


@pytest.mark.parametrize(
    ("fen", "wan"),
    [
        (0, "0.000000"),
        (1, "0.000001"),
        (99, "0.000099"),
        (1_000_000, "1.000000"),
        (5_000_000, "5.000000"),
        (1_234_567, "1.234567"),
        (200_000_000_01, "20000.000001"),
    ],
)
def test_fen_to_wan_yuan_is_exact(fen: int, wan: str) -> None:
    assert fen_to_wan_yuan(fen) == wan


def test_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        fen_to_wan_yuan(-1)
