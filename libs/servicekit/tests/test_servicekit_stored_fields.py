"""Partial decoding of stored events (servicekit.stored_fields): a projection's view of an
event holds what the mapper's domain event holds for the fields it names; any event the
view was not written for (another class, an older class version the mapper would upcast,
a log that is compressed or encrypted) comes as the mapper's domain event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification, StoredEvent

from servicekit.stored_fields import StoredFields, Transcoded, stored_fields_decoder

FILED_AT = datetime(2025, 4, 18, 10, 44, 34, tzinfo=UTC)


class Ledger(Aggregate):
    class Opened(Aggregate.Created):
        code: str
        opened_at: datetime
        content: dict[str, Any]
        amount: Decimal

    class Noted(Aggregate.Event):
        text: str

    @event(Opened)
    def __init__(
        self, code: str, opened_at: datetime, content: dict[str, Any], amount: Decimal
    ) -> None:
        self.code = code

    @event(Noted)
    def note(self, text: str) -> None:
        self.text = text


class _Line(msgspec.Struct, array_like=True):
    label: msgspec.Raw
    amount: int


class _Content(msgspec.Struct):
    lines: list[_Line]


class LedgerOpened(StoredFields, kw_only=True):
    code: str
    opened_at: Transcoded
    content: _Content
    amount: Transcoded


def stored(app: Application[uuid.UUID], ledger: Ledger) -> list[Notification]:
    app.save(ledger)
    return list(app.recorder.select_notifications(1, 10))  # type: ignore[attr-defined]


def opened() -> Ledger:
    content = {"lines": [["参数说明", 120], ["other", 5]], "note": "不读"}
    ledger = Ledger("LC-0044", FILED_AT, content, Decimal("12.50"))
    ledger.note("hello")
    return ledger


def test_a_view_holds_the_fields_it_names_as_the_domain_event_holds_them() -> None:
    app: Application[uuid.UUID] = Application()
    ledger = opened()
    first, second = stored(app, ledger)
    decode = stored_fields_decoder(app.mapper, {Ledger.Opened: LedgerOpened})

    view = decode(first)
    domain: Any = app.mapper.to_domain_event(first)

    assert isinstance(view, LedgerOpened)
    assert (view.originator_id, view.originator_version) == (ledger.id, 1)
    assert view.code == domain.code == "LC-0044"
    assert view.opened_at.datetime() == domain.opened_at == FILED_AT
    assert view.amount.decimal() == domain.amount == Decimal("12.50")
    assert [line.amount for line in view.content.lines] == [120, 5]
    # An event it has no view for: the mapper's domain event.
    noted = decode(second)
    assert isinstance(noted, Ledger.Noted) and noted.text == "hello"


def test_an_event_stored_in_another_class_version_goes_through_the_mapper() -> None:
    app: Application[uuid.UUID] = Application()
    [first, _] = stored(app, opened())
    older = StoredEvent(
        originator_id=first.originator_id,
        originator_version=first.originator_version,
        topic=first.topic,
        state=first.state.replace(b"{", b'{"class_version":7,', 1),
    )
    decode = stored_fields_decoder(app.mapper, {Ledger.Opened: LedgerOpened})

    assert not isinstance(decode(older), LedgerOpened)  # type: ignore[arg-type]


def test_a_compressed_log_is_decoded_by_the_mapper_only() -> None:
    app: Application[uuid.UUID] = Application(
        env={"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
    )
    [first, _] = stored(app, opened())
    decode = stored_fields_decoder(app.mapper, {Ledger.Opened: LedgerOpened})

    decoded = decode(first)
    assert isinstance(decoded, Ledger.Opened) and decoded.code == "LC-0044"
