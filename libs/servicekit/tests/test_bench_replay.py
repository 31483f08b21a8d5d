"""The replay bench (bench.replay_bench) at a tiny scale, on the real PostgreSQL: it produces
every figure and ratio it reports (their values are the bench's business, never a test's).
`BENCH_SCALE` is read as the bench documents it. That the projection it rebuilds, the
disclosure service's own, writes with `apply_batch` exactly what `apply` writes event by
event is the service's test (services/disclosure/tests/integration/
test_disclosure_read_model_batches.py)."""

from __future__ import annotations

import pytest

from bench.progress import NO_PROGRESS
from bench.replay_bench import replay_section
from bench.scale import NAMED, Scale, bench_scale

EVENTS = 3_000


def test_bench_scale_takes_a_name_or_a_number_of_events() -> None:
    assert bench_scale("").replay_events == NAMED["default"] == 1_000_000
    assert bench_scale("small").name == "small"
    assert bench_scale("250_000").replay_events == 250_000
    assert bench_scale("2000").relay_events == 400
    with pytest.raises(ValueError, match="BENCH_SCALE"):
        bench_scale("huge")
    with pytest.raises(ValueError, match="at least 1"):
        bench_scale("0")


@pytest.mark.infra
async def test_the_replay_section_reports_every_figure_and_ratio(
    infra: dict[str, str],
) -> None:
    section = await replay_section(Scale.of(EVENTS), NO_PROGRESS)

    figures = {f.key: f for f in section.figures}
    assert set(figures) == {"rebuild", "rebuild_mapper", "per_event", "read", "read_rebuild"}
    assert figures["read"].count == figures["rebuild"].count == EVENTS
    assert all(f.count > 0 and f.seconds > 0 for f in figures.values())
    ratios = section.ratio_values()
    assert "rebuild ÷ raw notification-log read" in ratios
    assert all(value > 0 for value in ratios.values())
    assert set(section.extra) >= {"rows_written", "extrapolated_10m_rebuild_s"}
    assert section.key == "replay"
