"""servicekit.cloudevents: CloudEvents 1.0 Kafka binary-mode headers, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from servicekit.cloudevents import SPEC_VERSION, CloudEventAttributes, event_id

SHANGHAI_OFFSET = timezone(timedelta(hours=8))


def attributes() -> CloudEventAttributes:
    return CloudEventAttributes(
        id=event_id("0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31", 3),
        source="pubrev/disclosure",
        type="pubrev.disclosure.DisclosureFiled.v1",
        time=datetime(2026, 4, 15, 10, 0, 0, 123_000, tzinfo=SHANGHAI_OFFSET),
        subject="CX-001",
        unit="chengxiang",
    )


def test_event_id_joins_aggregate_and_version() -> None:
    assert event_id("abc", 7) == "abc:7"


def test_headers_are_bytes_and_time_is_utc() -> None:
    headers = dict(attributes().headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == b"0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31:3"
    assert headers["ce_time"] == b"2026-04-15T02:00:00.123000+00:00"
    assert headers["ce_unit"] == b"chengxiang"
    assert headers["content-type"] == b"application/json"
    assert all(isinstance(v, bytes) for v in headers.values())


def test_round_trip_from_header_list() -> None:
    original = attributes()
    parsed = CloudEventAttributes.from_headers(original.headers())
    assert parsed == original  # the same instant, although now expressed in UTC
    assert parsed.time.utcoffset() == timedelta(0)
    assert parsed.time == datetime(2026, 4, 15, 2, 0, 0, 123_000, tzinfo=UTC)


def test_round_trip_from_a_mapping_of_strings() -> None:
    original = attributes()
    as_text = {k: v.decode() for k, v in original.headers()}
    assert CloudEventAttributes.from_headers(as_text) == original


def test_subject_and_unit_are_optional() -> None:
    headers = [(k, v) for k, v in attributes().headers() if k not in ("ce_subject", "ce_unit")]
    parsed = CloudEventAttributes.from_headers(headers)
    assert (parsed.subject, parsed.unit) == ("", "")


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"])
def test_each_required_header_missing_is_refused(missing: str) -> None:
    headers = [(k, v) for k, v in attributes().headers() if k != missing]
    with pytest.raises(ValueError, match=f"missing headers {missing}$"):
        CloudEventAttributes.from_headers(headers)


def test_all_missing_headers_are_named() -> None:
    with pytest.raises(ValueError, match="ce_specversion, ce_id, ce_source, ce_type, ce_time"):
        CloudEventAttributes.from_headers({})


def test_wrong_specversion_is_refused() -> None:
    headers = dict(attributes().headers())
    headers["ce_specversion"] = b"0.3"
    assert SPEC_VERSION == "1.0"
    with pytest.raises(ValueError, match=r"unsupported CloudEvents specversion 0\.3$"):
        CloudEventAttributes.from_headers(headers)
