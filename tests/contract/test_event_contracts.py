"""Contract tests: every event version has a golden sample; producers emit exactly that
shape; consumers accept it. Run without infrastructure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspection.adapters.disclosure_events import noted_from_amended, noted_from_filed
from pubrev_contracts.events import disclosure as disclosure_events
from pubrev_contracts.events.base import REGISTRY, ContractEvent
from services.casework.tests.support import scenario as casework_scenario
from services.credit.tests.support import scenario as credit_scenario
from services.disclosure.tests.support import scenario as disclosure_scenario
from services.inspection.tests.support import scenario as inspection_scenario

SAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "samples"


def sample(ce_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{ce_type}.json").read_text(encoding="utf-8"))
    return data


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what a consumer relies on."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_every_registered_event_has_a_sample_and_every_sample_an_event() -> None:
    assert disclosure_events  # importing the module registers its contracts
    names = {p.name.removesuffix(".json") for p in SAMPLES.glob("*.json")}
    assert names == set(REGISTRY)


@pytest.mark.parametrize("ce_type", sorted(REGISTRY))
def test_sample_validates_and_round_trips(ce_type: str) -> None:
    model = REGISTRY[ce_type]
    event = model.model_validate(sample(ce_type))
    again = json.loads(event.model_dump_json())
    assert shape(again) == shape(sample(ce_type))
    assert again["aggregate_id"] == sample(ce_type)["aggregate_id"]
    assert again["occurred_at"].endswith("Z")  # UTC on the wire


@pytest.mark.parametrize("ce_type", sorted(REGISTRY))
def test_consumers_ignore_fields_added_within_a_version(ce_type: str) -> None:
    data = sample(ce_type) | {"added_later": "an optional field of a newer producer"}
    assert REGISTRY[ce_type].model_validate(data).aggregate_version >= 1


@pytest.mark.parametrize(
    ("service", "scenario"),
    [
        ("disclosure", disclosure_scenario.run_scenario),
        ("inspection", inspection_scenario.run_scenario),
        ("credit", credit_scenario.run_scenario),
        ("casework", casework_scenario.run_scenario),
    ],
)
def test_producer_emits_every_sample_shape(service: str, scenario: Any) -> None:
    produced: dict[str, ContractEvent] = {}
    for event in scenario():
        produced.setdefault(event.ce_type, event)
    assert set(produced) == {t for t in REGISTRY if t.startswith(f"pubrev.{service}.")}
    for ce_type, event in produced.items():
        assert shape(json.loads(event.model_dump_json())) == shape(sample(ce_type)), ce_type


def test_no_personal_data_in_casework_events() -> None:
    text = "".join(e.model_dump_json() for e in casework_scenario.run_scenario())
    assert casework_scenario.NAME not in text and casework_scenario.PHONE not in text


def test_inspection_accepts_disclosure_samples() -> None:
    filed = disclosure_events.DisclosureFiledV1.model_validate(
        sample("pubrev.disclosure.DisclosureFiled.v1")
    )
    amended = disclosure_events.DisclosureAmendedV1.model_validate(
        sample("pubrev.disclosure.DisclosureAmended.v1")
    )
    noted = noted_from_filed(filed)
    assert (noted.community_code, noted.income_total_fen, noted.revision) == (
        "LC-0001",
        1_630_000,
        0,
    )
    assert noted_from_amended(amended).revision == 1
