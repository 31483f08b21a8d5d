"""The inspection application's disclosure watch on in-memory persistence (POPO): each
upstream event applied once, the latest quarter shown, jurisdiction on reads."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.domain.community_watch import CommunityWatch, NotedDisclosure
from servicekit.errors import NotFound, PermissionDenied
from servicekit.eventstore import DeliveryRef
from servicekit.identity import Identity

CONSUMER = "inspection.disclosure-watch"
OFFICER = Identity("property-bureau", "officer", "chengxiang")
OTHER_UNIT = Identity("property-bureau", "officer", "xianyou")
CITY = Identity("property-bureau", "officer", "putian")

Q1_ID = "5b1c2a8e-0000-4000-8000-000000000001"
Q2_ID = "5b1c2a8e-0000-4000-8000-000000000002"


@pytest.fixture
def app() -> InspectionApplication:
    return InspectionApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def noted(
    disclosure_id: str = Q1_ID, quarter: int = 1, revision: int = 0, **changes: object
) -> NotedDisclosure:
    base = NotedDisclosure(
        disclosure_id=disclosure_id,
        community_code="CX-001",
        unit="chengxiang",
        year=2026,
        quarter=quarter,
        revision=revision,
        income_total_fen=150_000,
        surplus_fen=100_000,
        late=False,
        zero_revenue=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def delivery(disclosure_id: str = Q1_ID, version: int = 1) -> DeliveryRef:
    return DeliveryRef(CONSUMER, disclosure_id, version)


def log_size(app: InspectionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_disclosure_is_applied_once(app: InspectionApplication) -> None:
    assert app.note_disclosure(noted(), delivery()) is True
    size = log_size(app)
    assert size == 2  # CommunityWatch.Opened + DisclosureNoted
    assert app.already_applied(delivery())

    view = queries.community_disclosure(app, OFFICER, "CX-001")
    assert (view.disclosure_id, view.year, view.quarter) == (Q1_ID, 2026, 1)
    assert view.income_total_fen == 150_000 and view.surplus_fen == 100_000
    assert view.disclosures_noted == 1


def test_the_same_delivery_again_returns_false_and_writes_nothing(
    app: InspectionApplication,
) -> None:
    app.note_disclosure(noted(), delivery())
    size = log_size(app)
    assert app.note_disclosure(noted(), delivery()) is False
    assert log_size(app) == size
    assert queries.community_disclosure(app, OFFICER, "CX-001").disclosures_noted == 1


def test_an_older_version_of_the_same_disclosure_after_a_newer_one_is_noted_not_shown(
    app: InspectionApplication,
) -> None:
    """Issue 11: an older event re-driven after a newer one of its aggregate is applied (it
    was parked, not a duplicate), once; the newer revision stays what is shown."""
    app.note_disclosure(noted(revision=1, surplus_fen=90_000), delivery(version=2))
    size = log_size(app)
    assert app.note_disclosure(noted(revision=0), delivery(version=1)) is True
    assert log_size(app) == size + 1
    assert app.note_disclosure(noted(revision=0), delivery(version=1)) is False
    assert log_size(app) == size + 1
    view = queries.community_disclosure(app, OFFICER, "CX-001")
    assert (view.surplus_fen, view.disclosures_noted) == (90_000, 2)


def test_the_same_version_seen_by_another_consumer_is_a_separate_delivery(
    app: InspectionApplication,
) -> None:
    app.note_disclosure(noted(), delivery())
    other = DeliveryRef("inspection.other-projection", Q1_ID, 1)
    assert not app.already_applied(other)


def test_an_older_quarter_noted_after_a_newer_one_does_not_replace_latest(
    app: InspectionApplication,
) -> None:
    app.note_disclosure(noted(Q2_ID, quarter=2, late=True), delivery(Q2_ID))
    assert app.note_disclosure(noted(Q1_ID, quarter=1, zero_revenue=True), delivery(Q1_ID)) is True

    view = queries.community_disclosure(app, OFFICER, "CX-001")
    assert (view.disclosure_id, view.quarter, view.late, view.zero_revenue) == (
        Q2_ID,
        2,
        True,
        False,
    )
    assert view.disclosures_noted == 2  # the older quarter is kept in the history


def test_a_newer_quarter_replaces_latest(app: InspectionApplication) -> None:
    app.note_disclosure(noted(Q1_ID, quarter=1), delivery(Q1_ID))
    app.note_disclosure(
        noted(Q2_ID, quarter=2, zero_revenue=True, income_total_fen=0), delivery(Q2_ID)
    )
    view = queries.community_disclosure(app, OFFICER, "CX-001")
    assert (view.disclosure_id, view.quarter, view.zero_revenue) == (Q2_ID, 2, True)
    assert view.income_total_fen == 0


def test_a_new_year_beats_a_later_quarter_of_the_year_before(
    app: InspectionApplication,
) -> None:
    app.note_disclosure(noted(Q1_ID, quarter=1), delivery(Q1_ID))
    app.note_disclosure(noted(Q2_ID, quarter=4, year=2025), delivery(Q2_ID))
    assert queries.community_disclosure(app, OFFICER, "CX-001").disclosure_id == Q1_ID


def test_an_amendment_of_the_latest_replaces_it(app: InspectionApplication) -> None:
    app.note_disclosure(noted(), delivery(version=1))
    assert (
        app.note_disclosure(noted(revision=1, surplus_fen=95_000, late=True), delivery(version=2))
        is True
    )
    view = queries.community_disclosure(app, OFFICER, "CX-001")
    assert view.disclosure_id == Q1_ID
    assert view.surplus_fen == 95_000
    assert view.late is True
    assert view.disclosures_noted == 2

    watch: CommunityWatch = app.repository.get(CommunityWatch.create_id("CX-001"))
    assert isinstance(watch, CommunityWatch)
    assert watch.latest is not None and watch.latest.revision == 1


def test_unknown_community_is_not_found(app: InspectionApplication) -> None:
    with pytest.raises(NotFound) as caught:
        queries.community_disclosure(app, OFFICER, "NOPE-1")
    assert "NOPE-1" in caught.value.message


def test_another_unit_may_not_read_and_the_city_may(app: InspectionApplication) -> None:
    app.note_disclosure(noted(), delivery())
    with pytest.raises(PermissionDenied):
        queries.community_disclosure(app, OTHER_UNIT, "CX-001")
    assert queries.community_disclosure(app, CITY, "CX-001").unit == "chengxiang"
