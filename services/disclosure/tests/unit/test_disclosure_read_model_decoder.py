"""The read model's decoder of stored fields (adapters/read_model_batches), on in-memory
persistence: the events the projection folds come as views holding what their domain
events hold (the figures computed the rule's way), everything else, and every stored event
a view was not written for, as the mapper's domain events. Equal rows on PostgreSQL:
tests/integration/test_disclosure_read_model_batches.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import Notification

from disclosure.adapters.read_model_batches import (
    CommunityRegistered,
    DisclosureAmended,
    DisclosureFiled,
    community_row,
    disclosure_row,
    figures,
    partial_decoder,
)
from disclosure.adapters.read_model_memory import InMemoryDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure
from servicekit.stored_fields import StoredFields
from servicekit.testing import FakeClock
from services.disclosure.tests.support.read_model_log import write_log

VIEWED = {"Community.Registered", "Disclosure.Filed", "Disclosure.Amended"}


@pytest.fixture(scope="module")
def app() -> DisclosureApplication:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    application = DisclosureApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        read_model=InMemoryDisclosureReadModel,
    )
    write_log(application, clock)
    return application


def notifications(app: DisclosureApplication) -> list[Notification]:
    return list(app.recorder.select_notifications(1, 1000))


def restored(notification: Notification, **changes: object) -> Notification:
    """The notification with its stored JSON changed."""
    state = json.loads(notification.state)
    state.update(changes)
    return replace(notification, state=json.dumps(state).encode())


def test_folded_events_decode_as_views_holding_what_their_domain_events_hold(
    app: DisclosureApplication,
) -> None:
    decode = partial_decoder(app.mapper)
    seen = set()
    for notification in notifications(app):
        view = decode(notification)
        event = app.mapper.to_domain_event(notification)
        kind = notification.topic.split(":")[-1]
        if kind not in VIEWED:
            assert not isinstance(view, StoredFields)
            assert type(view) is type(event)
            continue
        seen.add(kind)
        assert isinstance(view, StoredFields)
        assert (view.originator_id, view.originator_version) == (
            event.originator_id,
            event.originator_version,
        )
        if isinstance(view, CommunityRegistered):
            assert isinstance(event, Community.Registered)
            assert community_row(view) == community_row(event)
        elif isinstance(view, DisclosureFiled):
            assert isinstance(event, Disclosure.Filed)
            assert disclosure_row(view) == disclosure_row(event)
        else:
            assert isinstance(view, DisclosureAmended)
            assert isinstance(event, Disclosure.Amended)
            assert view.revision == event.revision
            assert figures(view.content) == figures(event.content)
    assert seen == VIEWED


def test_stored_events_a_view_was_not_written_for_go_through_the_mapper(
    app: DisclosureApplication,
) -> None:
    decode = partial_decoder(app.mapper)
    filed = next(n for n in notifications(app) if n.topic.endswith(":Disclosure.Filed"))
    assert isinstance(decode(filed), DisclosureFiled)

    # Another class version (one the mapper would upcast): the mapper's event.
    other_version = restored(filed, class_version=2)
    assert isinstance(decode(other_version), Disclosure.Filed)
    # The old topic of the class before it moved (issue 12): the mapper resolves it.
    old_topic = replace(filed, topic="disclosure.domain.model:Disclosure.Filed")
    assert isinstance(decode(old_topic), Disclosure.Filed)
    # JSON of a shape the view cannot read (an amount that is no integer), which the
    # domain class takes as it is: the mapper's event, not a failure to park.
    content = json.loads(filed.state)["content"]
    content["income"][0][1] = "1000"
    odd = restored(filed, content=content)
    event = decode(odd)
    assert isinstance(event, Disclosure.Filed)
    assert event.content["income"][0][1] == "1000"


def test_a_line_stored_without_its_note_reads_its_amount(app: DisclosureApplication) -> None:
    decode = partial_decoder(app.mapper)
    filed = next(n for n in notifications(app) if n.topic.endswith(":Disclosure.Filed"))
    content = json.loads(filed.state)["content"]
    content["income"] = [line[:2] for line in content["income"]]
    short = restored(filed, content=content)
    view = decode(short)
    assert isinstance(view, DisclosureFiled)
    assert figures(view.content) == figures(app.mapper.to_domain_event(short).content)
