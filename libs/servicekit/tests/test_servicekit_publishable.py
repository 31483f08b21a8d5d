"""Stored means publishable (issue 11 item 2): the bootstrap's check runs on every write
before its transaction, so an event the relay could not translate or send is refused in the
command that makes it, and nothing is written. On in-memory persistence, with a toy
translation that stands in for a service's contract translation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event

from servicekit.errors import InvalidArgument
from servicekit.eventstore import Prepared, ServiceApplication, Unpublishable
from servicekit.publishable import MAX_RECORD_BYTES, publish_check, record_size


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class Secret(Aggregate):
    """An internal event: the translation gives None (nothing published)."""

    @event("Kept")
    def __init__(self, text: str) -> None:
        self.text = text


@dataclass(frozen=True)
class Message:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def translate(domain_event: Any) -> Message | None:
    if type(domain_event).__qualname__ == "Secret.Kept":
        return None
    if domain_event.text == "untranslatable":
        raise ValueError("year 1 has no UTC form")
    return Message(
        str(domain_event.originator_id).encode(),
        domain_event.text.encode(),
        (("ce_type", b"test.Note.v1"),),
    )


class ToyApplication(ServiceApplication):
    name = "toy"


@pytest.fixture
def app() -> ToyApplication:
    toy = ToyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    toy.publish_check = publish_check(translate, max_bytes=1_000)
    return toy


def stored(app: ToyApplication) -> int:
    return len(app.process_recorder.select_notifications(start=1, limit=1_000))


def test_a_publishable_event_is_stored(app: ToyApplication) -> None:
    app.save(Note("a community name"))
    assert stored(app) == 1


def test_an_event_over_the_topic_limit_is_refused_by_name_and_nothing_is_written(
    app: ToyApplication,
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        app.save(Note("x" * 2_000))
    (violation,) = refused.value.violations
    assert violation.rule == "event_too_large"
    assert "1000" in violation.description  # the limit, not the input
    assert "xxxxxxxxxx" not in refused.value.message
    assert stored(app) == 0


def test_an_untranslatable_event_is_an_internal_error_and_nothing_is_written(
    app: ToyApplication,
) -> None:
    with pytest.raises(Unpublishable) as refused:
        app.save(Note("untranslatable"))
    assert "incident" in refused.value.message
    assert stored(app) == 0


def test_internal_events_pass_whatever_their_size(app: ToyApplication) -> None:
    app.save(Secret("y" * 5_000))
    assert stored(app) == 1


def test_in_a_group_commit_only_the_unpublishable_command_fails(app: ToyApplication) -> None:
    def prepared(text: str) -> Prepared:
        note = Note(text)
        return Prepared(
            "WriteNote",
            uuid.uuid4().hex,
            "digest",
            note.collect_events(),
            {"note_id": str(note.id)},
        )

    group = [prepared("first"), prepared("z" * 2_000), prepared("third")]
    outcomes = app.commit_group(group)
    assert isinstance(outcomes[1], InvalidArgument)
    assert outcomes[0] == group[0].result and outcomes[2] == group[2].result
    assert stored(app) == 2


def test_the_size_counts_key_value_and_headers() -> None:
    message = Message(b"k" * 10, b"v" * 100, (("ce_id", b"i" * 5), ("ce_type", b"t" * 7)))
    assert record_size(message) == 10 + 100 + len("ce_id") + 5 + len("ce_type") + 7
    assert MAX_RECORD_BYTES < 1_048_576  # headroom below Kafka's default record limit
