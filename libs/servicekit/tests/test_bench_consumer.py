"""The consumer bench (bench.consumer_bench) at a tiny scale, on the real stack: it produces
every figure and ratio it reports (their values are the bench's business, never a test's),
and its consumers (inspection's, casework's on a prefix) applied every record once, each
tracked. Its records are disclosure's contract events as the relay publishes them."""

from __future__ import annotations

import pytest

from bench.consumer_bench import QUARTERS, consumer_events, consumer_section, disclosure_records
from bench.progress import NO_PROGRESS
from bench.scale import Scale
from pubrev_contracts.events.disclosure import DisclosureFiledV1
from servicekit.cloudevents import CloudEventAttributes


def test_the_records_are_disclosures_contract_events_quarter_after_quarter() -> None:
    records = disclosure_records(10)
    events = [DisclosureFiledV1.model_validate_json(r.value) for r in records]
    assert [e.quarter for e in events] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    assert len({e.community_code for e in events}) == -(-10 // QUARTERS)
    assert len({e.aggregate_id for e in events}) == 10
    attributes = CloudEventAttributes.from_headers(records[0].headers)
    assert (attributes.source, attributes.type) == ("/pubrev/disclosure", DisclosureFiledV1.ce_type)
    assert attributes.id == f"{events[0].aggregate_id}:1"
    assert [e.zero_revenue for e in events[:3]] == [True, False, False]  # one in 17
    assert consumer_events(Scale.of(1_000_000)) == 50_000
    assert consumer_events(Scale.of(2_000)) == 1_000


@pytest.mark.infra
async def test_the_consumer_section_reports_every_figure(infra: dict[str, str]) -> None:
    section = await consumer_section(Scale.of(20_000), NO_PROGRESS)

    keys = ["consume_apply", "consume", "insert", "casework_apply"]
    assert [f.key for f in section.figures] == keys
    assert all(f.count == 1_000 and f.seconds > 0 for f in section.figures)
    assert set(section.ratio_values()) == {
        "consumer ÷ raw consume",
        "consumer ÷ raw batch insert",
        "casework's consumer ÷ raw consume",
        "casework's consumer ÷ raw batch insert",
    }
    assert section.extra["tracked"] == 1_000
    assert section.extra["casework_events"] == 1_000
    assert any("a batch per transaction: 1,000 applied, 0 duplicates" in n for n in section.notes)
