"""CloudEvents 1.0 Kafka protocol binding, binary content mode.

The event's JSON is the Kafka value; its attributes travel as `ce_*` headers. `ce_id` is
derived from aggregate id and version, so a re-sent event carries the same id and consumers
can recognise it. `ce_source` is the publishing service, `/pubrev/<service>`, and a topic
`pubrev.<service>.events.v<n>` carries only that service's events: consumers check it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


_OWNED_TOPIC = re.compile(r"(?:^|\.)pubrev\.([a-z][a-z0-9-]*)\.events\.v[0-9]+$")


def event_id(aggregate_id: str, version: int) -> str:
    return f"{aggregate_id}:{version}"


def service_source(service: str) -> str:
    """The `ce_source` of every event a service publishes (its relay's)."""
    return f"/pubrev/{service}"


def topic_source(topic: str) -> str:
    """The only `ce_source` a topic `pubrev.<service>.events.v<n>` may carry (also under a
    namespace prefix such as a test session's): its owner's."""
    match = _OWNED_TOPIC.search(topic)
    if match is None:
        raise ValueError(
            f"topic {topic[:120]!r} does not name its owner (pubrev.<service>.events.v<n>)"
        )
    return service_source(match.group(1))


@dataclass(frozen=True)
class CloudEventAttributes:
    id: str
    source: str
    type: str
    time: datetime
    subject: str
    unit: str
    """Extension attribute: the supervising unit (jurisdiction) of the record."""

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", self.time.astimezone(UTC).isoformat().encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_unit", self.unit.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]
    ) -> CloudEventAttributes:
        items = headers.items() if isinstance(headers, Mapping) else headers
        values = {k: v.decode() if isinstance(v, bytes) else v for k, v in items}
        missing = [
            name
            for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")
            if name not in values
        ]
        if missing:
            raise ValueError(f"not a CloudEvent: missing headers {', '.join(missing)}")
        if values["ce_specversion"] != SPEC_VERSION:
            raise ValueError(f"unsupported CloudEvents specversion {values['ce_specversion']}")
        return cls(
            id=values["ce_id"],
            source=values["ce_source"],
            type=values["ce_type"],
            time=datetime.fromisoformat(values["ce_time"]),
            subject=values.get("ce_subject", ""),
            unit=values.get("ce_unit", ""),
        )
