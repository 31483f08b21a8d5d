"""servicekit.eventstore: JSON rendering of domain values and command fingerprints."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from servicekit.eventstore import DeliveryRef, fingerprint, to_jsonable


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Line:
    source: str
    amount: Decimal


@dataclass(frozen=True)
class FakeCommand:
    request_id: str
    lines: tuple[Line, ...]
    on: date


class Opaque:
    pass


def test_to_jsonable_renders_domain_values() -> None:
    ident = uuid.UUID("0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31")
    assert to_jsonable(ident) == "0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31"
    assert to_jsonable(Decimal("1.10")) == "1.10"  # exact, trailing zero kept
    assert to_jsonable(datetime(2026, 4, 30, 16, 0, tzinfo=UTC)) == "2026-04-30T16:00:00+00:00"
    shanghai = timezone(timedelta(hours=8))
    assert to_jsonable(datetime(2026, 5, 1, tzinfo=shanghai)) == "2026-05-01T00:00:00+08:00"
    assert to_jsonable(date(2026, 4, 30)) == "2026-04-30"
    assert to_jsonable(Colour.RED) == "red"
    assert to_jsonable((1, "a", None, True)) == [1, "a", None, True]
    assert to_jsonable({1: ident}) == {"1": "0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31"}


def test_to_jsonable_renders_nested_dataclasses() -> None:
    cmd = FakeCommand("r-1", (Line("parking", Decimal("12.30")),), date(2026, 4, 1))
    assert to_jsonable(cmd) == {
        "request_id": "r-1",
        "lines": [{"source": "parking", "amount": "12.30"}],
        "on": "2026-04-01",
    }


def test_to_jsonable_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError, match="cannot render Opaque as JSON"):
        to_jsonable(Opaque())
    with pytest.raises(TypeError):
        to_jsonable({"nested": [Opaque()]})
    with pytest.raises(TypeError):
        to_jsonable(Line)  # a dataclass type, not an instance


def test_fingerprint_is_stable() -> None:
    a = FakeCommand("r-1", (Line("parking", Decimal("12.30")),), date(2026, 4, 1))
    b = FakeCommand("r-1", (Line("parking", Decimal("12.30")),), date(2026, 4, 1))
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})


def test_fingerprint_is_content_sensitive() -> None:
    base = FakeCommand("r-1", (Line("parking", Decimal("12.30")),), date(2026, 4, 1))
    variants = [
        FakeCommand("r-2", base.lines, base.on),
        FakeCommand("r-1", (Line("parking", Decimal("12.31")),), base.on),
        FakeCommand("r-1", (Line("leasing", Decimal("12.30")),), base.on),
        FakeCommand("r-1", base.lines, date(2026, 4, 2)),
        FakeCommand("r-1", (), base.on),
    ]
    digests = {fingerprint(base), *(fingerprint(v) for v in variants)}
    assert len(digests) == 1 + len(variants)


def test_fingerprint_of_equal_sets_is_equal() -> None:
    # BUG: to_jsonable renders a set in iteration order, which depends on insertion
    # history (and, for strings, on PYTHONHASHSEED): equal sets get different fingerprints,
    # so a retry of a command holding a set could be refused as a reused request_id.
    a = frozenset([8, 16])
    b = frozenset([16, 8])
    assert a == b
    assert fingerprint(a) == fingerprint(b)


def test_delivery_tracking_is_keyed_by_consumer_aggregate_and_version() -> None:
    """One row per applied event, not one per aggregate holding its highest version: an
    older event re-driven after a newer one must still be applied (issue 11)."""
    tracking = DeliveryRef("inspection.disclosure-watch", "agg-1", 3).tracking()
    assert tracking.application_name == "inspection.disclosure-watch|agg-1|3"
    assert tracking.notification_id == 1
    older = DeliveryRef("inspection.disclosure-watch", "agg-1", 2).tracking()
    assert older.application_name != tracking.application_name
