"""The synthetic Putian dataset (tools/synthetic_putian.py) is deterministic, realistic and
obeys the disclosure domain's own rules. No infrastructure."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from disclosure.domain.disclosure import POSTING_CHANNELS
from disclosure.entrypoints.grpc_api import content_from_pb
from pubrev_contracts.vocabulary.calendar import SHANGHAI, Quarter
from pubrev_contracts.vocabulary.identifiers import uscc_problem
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS
from tools.synthetic_putian import DEFAULT_QUARTERS, Dataset, generate, iter_jsonl

SLOTS = 1500 * len(DEFAULT_QUARTERS)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate()


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    # A smaller city keeps it fast; `tools/synthetic_putian.py --out` is as deterministic.
    first = list(iter_jsonl(generate(seed=7, communities=200, companies=40)))
    assert first == list(iter_jsonl(generate(seed=7, communities=200, companies=40)))
    assert first != list(iter_jsonl(generate(seed=8, communities=200, companies=40)))


def test_sizes_are_the_requested_ones(dataset: Dataset) -> None:
    assert len(dataset.companies) == 300
    assert len(dataset.communities) == 1500
    filed = [f for f in dataset.filings if f.kind != "inconsistent"]
    assert len(filed) + len(dataset.missing) == SLOTS
    slots = Counter((f.request.community_code, f.request.year, f.request.quarter) for f in filed)
    assert max(slots.values()) == 1, "one accepted filing per community and quarter"
    assert not set(slots) & set(dataset.missing)
    summary = dataset.summary()
    assert summary["communities"] == 1500 and summary["slots"] == SLOTS
    assert (
        summary["kind_on_time"]
        + summary["kind_late"]
        + summary["kind_zero_revenue"]
        + summary["missing"]
        == SLOTS
    )


def test_request_ids_are_unique(dataset: Dataset) -> None:
    ids = [c.request_id for c in dataset.companies]
    ids += [c.request_id for c in dataset.communities]
    ids += [h.request_id for h in dataset.handovers]
    ids += [f.request.request_id for f in dataset.filings]
    ids += [a.request_id for a in dataset.amendments]
    assert all(ids) and len(ids) == len(set(ids))


def test_companies_have_valid_uscc_except_the_flagged_official_ones(dataset: Dataset) -> None:
    flagged = [c for c in dataset.companies if uscc_problem(c.uscc) is not None]
    assert all(c.source == "official_registry" for c in flagged)
    assert all(c.source == "application" for c in dataset.companies if c not in flagged)
    assert 1 <= len(flagged) <= 6
    assert all(c.uscc.startswith("913503") and c.name for c in dataset.companies)
    assert len({c.uscc for c in dataset.companies}) == len(dataset.companies)
    known = {c.uscc for c in dataset.companies}
    assert all(c.company_uscc in known for c in dataset.communities)
    for handover in dataset.handovers:
        assert handover.new_company_uscc in known
        assert uscc_problem(handover.new_company_uscc) is None
    managed = Counter(c.company_uscc for c in dataset.communities)
    assert min(managed.values()) >= 1 and max(managed.values()) <= 20
    assert len(managed) == len(dataset.companies), "every company manages communities"


def test_communities_follow_the_units_and_population(dataset: Dataset) -> None:
    per_unit = Counter(c.unit for c in dataset.communities)
    assert set(per_unit) == set(COUNTY_UNITS)
    for c in dataset.communities:
        assert c.division_code == UNITS[c.unit][1]
        assert c.name and c.address.startswith("福建省莆田市") and c.township
        assert 40 <= c.household_count <= 3000
        assert 0 <= c.elevator_count <= 30 and 0 <= c.barrier_gate_count <= 4
    ranked = [unit for unit, _ in per_unit.most_common()]
    assert set(ranked[:2]) == {"licheng", "chengxiang"}
    assert ranked[-1] == "meizhoudao"
    assert {c.township for c in dataset.communities if c.unit == "meizhoudao"} == {"湄洲镇"}
    assert {c.township for c in dataset.communities if c.unit == "beian"} <= {
        "山亭镇",
        "东埔镇",
        "忠门镇",
    }
    assert sum(1 for c in dataset.communities if c.elevator_count == 0) > 100


def test_every_valid_content_passes_the_domain_rules(dataset: Dataset) -> None:
    for filing in dataset.filings:
        content = content_from_pb(filing.request.content)
        rules = [v.rule for v in content.check()]
        if filing.kind == "inconsistent":
            assert rules == ["identity_broken"], filing.request.request_id
        else:
            assert rules == [], (filing.request.request_id, rules)
            assert content.company_share_fen == 0
            assert content.posting_start is not None
            quarter = Quarter(filing.request.year, filing.request.quarter)
            assert content.posting_start >= quarter.next().first_day
            assert set(content.posting_channels) <= set(POSTING_CHANNELS)
            assert content.contact_phone[:2] in ("13", "15", "18")


def test_amendments_are_valid_and_follow_their_filing(dataset: Dataset) -> None:
    filed = {
        (f.request.community_code, f.request.year, f.request.quarter): f
        for f in dataset.filings
        if f.kind != "inconsistent"
    }
    for a in dataset.amendments:
        assert content_from_pb(a.content).check() == [], a.request_id
        assert a.reason.strip()
        filing = filed[(a.community_code, a.year, a.quarter)]
        assert timedelta(days=4) < a.amended_at - filing.filed_at < timedelta(days=41)
        request = a.to_request("d-1", 1)
        assert request.expected_version == 1 and request.content == a.content


def test_filing_times_follow_the_shanghai_deadlines(dataset: Dataset) -> None:
    assert [f.filed_at for f in dataset.filings] == sorted(f.filed_at for f in dataset.filings)
    for filing in dataset.filings:
        quarter = Quarter(filing.request.year, filing.request.quarter)
        assert filing.filed_at.utcoffset() == timedelta(0)
        assert filing.filed_at >= quarter.end, "a quarter is filed only once it is over"
        if filing.kind == "on_time":
            assert filing.filed_at < quarter.deadline
        elif filing.kind == "late":
            assert quarter.deadline <= filing.filed_at < quarter.deadline + timedelta(days=61)
    # Q4 2024 was due 31 Jan 2025, inside the Spring Festival holiday: the deadline moved to
    # 5 Feb (民法典 Art. 203), so the first late instant is 6 Feb 00:00 in Shanghai.
    q4 = Quarter(2024, 4)
    assert q4.deadline.astimezone(SHANGHAI).date() == date(2025, 2, 6)


def test_zero_revenue_filings_declare_it(dataset: Dataset) -> None:
    facilities = {
        c.community_code: c.elevator_count + c.barrier_gate_count > 0 for c in dataset.communities
    }
    zero = [f for f in dataset.filings if f.kind == "zero_revenue"]
    for filing in zero:
        c = filing.request.content
        assert c.no_income and not c.income and not c.expenditure
        assert c.operating_cost_fen == c.owners_share_fen == c.company_share_fen == 0
        assert c.transferred_to_maintenance_fund_fen == 0
    assert any(facilities[f.request.community_code] for f in zero), "the warning case"
    assert all(f.request.content.income for f in dataset.filings if f.kind != "zero_revenue")


def test_shares_are_near_the_targets(dataset: Dataset) -> None:
    kinds = Counter(f.kind for f in dataset.filings)

    def share(n: int, of: int = SLOTS) -> float:
        return 100 * n / of

    assert share(kinds["on_time"]) == pytest.approx(85, abs=3)
    assert share(kinds["late"]) == pytest.approx(7, abs=3)
    assert share(len(dataset.missing)) == pytest.approx(5, abs=3)
    assert share(kinds["zero_revenue"]) == pytest.approx(5, abs=3)
    assert share(kinds["inconsistent"]) == pytest.approx(1.5, abs=1)
    filed = SLOTS - len(dataset.missing)
    assert share(len(dataset.amendments), filed) == pytest.approx(3, abs=1)
    assert share(len(dataset.handovers), 1500) == pytest.approx(3, abs=1)
    start = Quarter(*DEFAULT_QUARTERS[0]).first_day
    end = Quarter(*DEFAULT_QUARTERS[-1]).next().first_day
    assert all(start < date.fromisoformat(h.effective_date) < end for h in dataset.handovers)
