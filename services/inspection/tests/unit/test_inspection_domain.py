"""Quotas, pool order, draw determinism and the rectification timeline (no storage)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from inspection.domain import draw as draws
from inspection.domain.finding import Finding
from inspection.domain.rules import DEFAULT_RULES
from inspection.domain.spot_check_plan import Candidate, assign_inspectors, choose_targets
from servicekit.errors import RuleViolated

CODES = [f"C-{n:03d}" for n in range(1, 41)]


@pytest.mark.parametrize(
    ("communities", "city", "quota"),
    [
        (0, True, 0),
        (1, True, 1),
        (20, True, 3),
        (100, True, 15),
        (101, True, 16),
        (1, False, 1),
        (3, False, 2),
        (4, False, 2),
        (5, False, 3),
        (1500, False, 750),
    ],
)
def test_quota_is_the_share_rounded_up(communities: int, city: bool, quota: int) -> None:
    assert DEFAULT_RULES.quota(communities, city) == quota


def test_draw_is_deterministic_and_order_independent() -> None:
    first = draws.draw("seed-1", CODES, 5)
    assert first == draws.draw("seed-1", list(reversed(CODES)), 5)
    assert len(set(first)) == 5 and set(first) <= set(CODES)
    assert draws.draw("seed-2", CODES, 5) != first


def test_tampered_pool_changes_hash_and_result() -> None:
    tampered = [c for c in CODES if c != draws.draw("s", CODES, 1)[0]]
    assert draws.pool_hash(tampered) != draws.pool_hash(CODES)
    assert draws.draw("s", tampered, 5) != draws.draw("s", CODES, 5)


def test_pools_fill_in_priority_order_then_the_draw() -> None:
    def cand(code: str, *reasons: str) -> Candidate:
        return Candidate(code, frozenset(reasons))

    pool = [cand(c) for c in CODES[:30]]
    pool[3] = cand(CODES[3], "zero_revenue")
    pool[4] = cand(CODES[4], "complaint_lead", "zero_revenue")
    pool[5] = cand(CODES[5], "handed_down")
    pool[6] = cand(CODES[6], "overdue")
    targets, rest, drawn = choose_targets("s", pool, 6)
    assert targets[:4] == [
        (CODES[5], "handed_down"),
        (CODES[4], "complaint_lead"),
        (CODES[3], "zero_revenue"),
        (CODES[6], "overdue"),
    ]
    assert [reason for _, reason in targets[4:]] == ["random", "random"]
    assert [code for code, _ in targets[4:]] == drawn == draws.draw("s", rest, 2)
    assert not {CODES[3], CODES[4], CODES[5], CODES[6]} & set(rest)


def test_a_priority_pool_larger_than_the_quota_is_drawn_from() -> None:
    pool = [Candidate(c, frozenset({"zero_revenue"})) for c in CODES[:10]]
    targets, _, drawn = choose_targets("s", pool, 3)
    assert len(targets) == 3 and drawn == []
    assert {r for _, r in targets} == {"zero_revenue"}
    assert targets == choose_targets("s", list(reversed(pool)), 3)[0]


def test_inspectors_with_a_conflict_are_never_drawn_for_that_community() -> None:
    roster = {"I1": ["C-001"], "I2": [], "I3": [], "I4": ["C-001"]}
    for seed in ("a", "b", "c", "d", "e"):
        [target] = assign_inspectors(seed, [("C-001", "random")], roster, 2)
        assert set(target["inspectors"]) == {"I2", "I3"}
    with pytest.raises(RuleViolated):
        assign_inspectors("a", [("C-001", "random")], roster, 3)


def test_rectification_timeline() -> None:
    found = datetime(2026, 5, 1, tzinfo=UTC)
    finding = Finding(
        uuid.uuid4(),
        "C-001",
        "licheng",
        "licheng",
        "county",
        "U",
        "A1",
        "no signboard",
        "general",
        "basis",
        "",
        ["photo"],
        found,
        "company",
        "",
        "",
        [],
        found,
    )
    finding.order_rectification(found + timedelta(days=30), "basis")
    assert not finding.mark_overdue(found + timedelta(days=30))  # on the deadline: not yet
    assert finding.mark_overdue(found + timedelta(days=31))
    assert not finding.mark_overdue(found + timedelta(days=32))  # once
    with pytest.raises(RuleViolated):
        finding.verify(found + timedelta(days=40), [], "no evidence")
    finding.verify(found + timedelta(days=40), ["after.jpg"], "done late")
    assert finding.status == "verified"
    late_event = finding.collect_events()[-1]
    assert getattr(late_event, "late") is True  # noqa: B009
    with pytest.raises(RuleViolated):
        finding.verify(found + timedelta(days=41), ["again.jpg"], "twice")
