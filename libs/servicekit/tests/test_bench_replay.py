"""The replay bench (bench.replay_bench) at a tiny scale, on the real PostgreSQL: it produces
every figure and ratio it reports (their values are the bench's business, never a test's),
and the projection it rebuilds with `apply_batch` leaves exactly the read model the
disclosure service's own per-event projection leaves, from the same events. `BENCH_SCALE`
is read as the bench documents it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from bench.infra import disclosure_settings
from bench.progress import NO_PROGRESS
from bench.replay_bench import replay_section
from bench.replay_projection import FoldingDisclosureProjection, partial_decoder
from bench.replay_store import fill
from bench.scale import NAMED, Scale, bench_scale
from disclosure.adapters.read_model import DisclosureProjection
from disclosure.bootstrap import build
from disclosure.domain.disclosure import Disclosure
from servicekit.projector import Projector
from servicekit.runtime import ServiceParts, close

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


@pytest.fixture
def parts(fresh_database: str) -> Iterator[ServiceParts]:
    built = build(disclosure_settings(fresh_database))
    try:
        yield built
    finally:
        close(built)


def rows(pool: ConnectionPool) -> dict[str, list[tuple[Any, ...]]]:
    with pool.connection() as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            for table in ("rm_communities", "rm_disclosures")
        }


@pytest.mark.infra
def test_folding_leaves_the_read_model_the_per_event_projection_leaves(
    parts: ServiceParts, fresh_database: str
) -> None:
    app = parts.app
    shape = fill(app, fresh_database, EVENTS)
    assert shape.kinds.get("Disclosure.Amended", 0) > 0  # something to fold
    # An audit request too: a version moved without figures.
    first = app.process_recorder.select_notifications(0, 1000)
    filed = next(n for n in first if n.topic.endswith("Disclosure.Filed"))
    disclosure = app.repository.get(uuid.UUID(str(filed.originator_id)))
    assert isinstance(disclosure, Disclosure)
    disclosure.request_audit("owners_committee", 0, 100, "the figures look low")
    app.save(disclosure)
    pool = ConnectionPool(fresh_database, min_size=1, max_size=4, open=True)
    try:
        Projector(
            DisclosureProjection(), app.process_recorder, app.mapper.to_domain_event, pool
        ).rebuild()
        per_event = rows(pool)
        for decode in (partial_decoder(app.mapper), app.mapper.to_domain_event):
            Projector(
                FoldingDisclosureProjection(),
                app.process_recorder,
                decode,
                pool,
                rebuild_batch_size=700,  # amendments and their filings in other batches
            ).rebuild()
            assert rows(pool) == per_event
    finally:
        pool.close()
    assert len(per_event["rm_disclosures"]) > 0
