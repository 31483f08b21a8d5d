"""pytest plugin: records every event the services store during a test run, in stored form.

Used once, on the code as it was before the reshaping of issue 12, to write
`tests/contract/stored_events/<service>.json`; `tests/contract/test_stored_events_load.py`
loads those files with the code as it is now. Run:
    PUBREV_CAPTURE_EVENTS=/tmp/captured.json pytest -p tests.support.capture_stored_events \
        -m "not infra" services
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from servicekit.eventstore import ServiceApplication

_captured: dict[str, dict[str, list[dict[str, Any]]]] = {}


def _install() -> None:
    original = ServiceApplication._record

    def capturing(self: ServiceApplication, processing_event: Any) -> Any:
        result = original(self, processing_event)
        streams = _captured.setdefault(self.name, {})
        for domain_event in processing_event.events:
            stored = self.mapper.to_stored_event(domain_event)
            streams.setdefault(str(stored.originator_id), []).append(
                {
                    "originator_version": stored.originator_version,
                    "topic": stored.topic,
                    "state": base64.b64encode(stored.state).decode(),
                }
            )
        return result

    ServiceApplication._record = capturing  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PUBREV_CAPTURE_EVENTS"):
        _install()


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("PUBREV_CAPTURE_EVENTS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(_captured, out)
