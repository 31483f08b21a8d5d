"""The read model's batches on the real PostgreSQL: the service's projector, as bootstrap.py
builds it (`apply_batch`, folded, COPY and `unnest`; the decoder of stored fields), writes
exactly the rows `apply` on each event in turn writes — same tables, same values — live and
rebuilding, in big batches and in small ones (an aggregate's events split across them), on
a log of registrations, filings, amendments, audits, a handover, an overdue quarter,
self-inspections and a rectification, plus events the decoder hands to the mapper (old
topics, another class version)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from psycopg_pool import ConnectionPool

from disclosure.adapters.read_model import DisclosureProjection, PostgresDisclosureReadModel
from disclosure.adapters.read_model_batches import VIEWS, partial_decoder
from disclosure.bootstrap import build
from servicekit.projector import Projector
from servicekit.runtime import close
from servicekit.stored_fields import StoredFields
from servicekit.testing import FakeClock
from services.disclosure.tests.support.read_model_log import write_log

pytestmark = pytest.mark.infra

STORED = Path(__file__).parents[4] / "tests" / "contract" / "stored_events" / "disclosure.json"
TABLES = ("rm_communities", "rm_disclosures", "rm_self_inspections")
PROJECTED = ("Community", "Disclosure")


def rows(pool: ConnectionPool) -> dict[str, list[tuple[Any, ...]]]:
    with pool.connection() as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            for table in TABLES
        }


def older_events() -> list[StoredEvent]:
    """Communities' and disclosures' streams as stored before issue 12 (old topics:
    tests/contract/test_stored_events_load.py), and the same streams again under their
    classes' topics now but another class version, their ids and codes their own: none of
    them can be read as a view."""
    streams = json.loads(STORED.read_text(encoding="utf-8"))["streams"]
    events = []
    for stream_id, entries in streams.items():
        for entry in entries:
            topic = entry["topic"]
            if topic.split(":")[-1].split(".")[0] not in PROJECTED:
                continue
            state = base64.b64decode(entry["state"])
            events.append(
                StoredEvent(uuid.UUID(stream_id), entry["originator_version"], topic, state)
            )
            moved = json.loads(state)
            for key in ("code", "community_code"):
                if key in moved:
                    moved[key] = f"V{moved[key]}"
            moved["class_version"] = 2
            events.append(
                StoredEvent(
                    uuid.uuid5(uuid.NAMESPACE_URL, stream_id),
                    entry["originator_version"],
                    get_topic(resolve_topic(topic)),
                    json.dumps(moved).encode(),
                )
            )
    return events


def test_the_service_projector_writes_the_rows_apply_writes_event_by_event(
    service_settings: Any,
) -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    parts = build(service_settings("disclosure"), clock=clock)
    app = parts.app
    read_model = app.read_model
    assert isinstance(read_model, PostgresDisclosureReadModel)
    service = read_model.projector
    pool = read_model.pool
    try:
        write_log(app, clock)
        read_model.catch_up()
        app.process_recorder.insert_events(older_events())
        log = app.process_recorder.select_notifications(1, 10_000)
        decode = partial_decoder(app.mapper)
        views = {type(decode(n)) for n in log} & set(VIEWS.values())
        assert views == set(VIEWS.values())  # the log has every view, and mapper events
        assert any(n.topic.startswith("disclosure.domain.model:") for n in log)

        # The service's projector as built: batches, views; then the rest of the log live.
        assert service.apply_batch is not None
        assert service.decode is not app.mapper.to_domain_event
        read_model.catch_up()
        live = rows(pool)

        per_event = Projector(
            DisclosureProjection(), app.process_recorder, app.mapper.to_domain_event, pool
        )
        per_event.apply_batch = None  # `apply` on each event in turn: the reference
        assert per_event.rebuild().parked == 0
        expected = rows(pool)
        assert live == expected

        assert service.rebuild().parked == 0
        assert rows(pool) == expected
        for decoder in (decode, app.mapper.to_domain_event):
            small = Projector(
                DisclosureProjection(),
                app.process_recorder,
                decoder,
                pool,
                rebuild_batch_size=4,  # an aggregate's events across batches
            )
            assert small.rebuild().parked == 0
            assert rows(pool) == expected
    finally:
        close(parts)

    communities = {r[0]: r for r in expected["rm_communities"]}
    assert communities["LC-0003"][3] != communities["LC-0001"][3]  # the handover
    mine = sorted((r[2], r[6], r[12], r[9]) for r in expected["rm_disclosures"] if r[2][:2] == "LC")
    assert mine == [  # (community, quarter, revision, late)
        ("LC-0001", 1, 2, False),
        ("LC-0002", 1, 1, False),
        ("LC-0003", 1, 0, False),
        ("LC-0003", 2, 0, True),
        ("LC-0004", 2, 0, True),
    ]
    assert sorted(r[7] for r in expected["rm_self_inspections"] if r[2].startswith("LC")) == [
        0,
        1,
    ]
    assert any(isinstance(decode(n), StoredFields) for n in log)
