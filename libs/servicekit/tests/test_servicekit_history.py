"""ServiceApplication.read_history (GetHistory): one record's history under that record's
own read rule, the whole log under the GetHistory rule only (the auditor's); in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from eventsourcing.domain import Aggregate, event

from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import NotFound, PermissionDenied
from servicekit.eventstore import HistoryReads, ServiceApplication
from servicekit.identity import Identity
from servicekit.policy import Grant, Policy, Resource, Rule, Scope

USCC = "91350302MA2XN1KQ7B"
OTHER_USCC = "91110000600037341L"


class Thing(Aggregate):
    @event("Registered")
    def __init__(self, unit: str, company: str, phone: str) -> None:
        self.unit = unit
        self.company = company
        self.phone = phone
        self.published = False

    @event("Published")
    def publish(self) -> None:
        self.published = True


class Note(Aggregate):
    """A record type nobody declared a read rule for."""

    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


POLICY = Policy(
    "test",
    [
        Rule(
            "GetThing",
            (
                Grant("property-bureau"),
                Grant("property-company", scopes=(Scope.OWN_COMPANY,)),
                Grant("public", scopes=(Scope.PUBLISHED,)),
            ),
            "reads a thing",
            limited=True,
        ),
        Rule("ListThings", (Grant("owners", scopes=(Scope.OWN_COMMUNITY,)),), "lists things"),
        Rule("GetHistory", (Grant("auditor", scopes=(Scope.CITY,)),), "the whole log"),
    ],
    city=CITY,
)


def thing_facts(thing: Thing) -> Resource:
    return Resource(unit=thing.unit, company=thing.company, published=thing.published)


class App(ServiceApplication):
    policy = POLICY
    history_reads: ClassVar[HistoryReads] = {Thing: ("GetThing", thing_facts)}


OFFICER = Identity("property-bureau", "officer", "chengxiang")
OTHER_OFFICER = Identity("property-bureau", "officer", "licheng")
CITY_OFFICER = Identity("property-bureau", "officer", "putian")
COMPANY = Identity("property-company", "filer", "chengxiang", USCC)
OTHER_COMPANY = Identity("property-company", "filer", "chengxiang", OTHER_USCC)
CITY_COMPANY = Identity("property-company", "filer", "putian", OTHER_USCC)
AUDITOR = Identity("auditor", "auditor", "putian")
PUBLIC = Identity("public", "anonymous", "putian", via="putian-app")
POLICE = Identity("police", "investigator", "putian", "putian-psb")
OWNERS = Identity("owners", "representative", "chengxiang", "CX-0001")


@pytest.fixture
def app() -> Iterator[App]:
    application = App(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


@pytest.fixture
def thing(app: App) -> Thing:
    made = Thing("chengxiang", USCC, "13800000000")
    made.publish()
    app.save(made)
    return made


def history(app: App, identity: Identity, aggregate_id: uuid.UUID | None) -> list[Any]:
    return app.read_history(identity, aggregate_id, 0, 100)


def test_the_auditor_reads_the_whole_log_and_every_record(app: App, thing: Thing) -> None:
    note = Note("x")
    app.save(note)
    assert [e.type for e in history(app, AUDITOR, None)] == [
        "Thing.Registered",
        "Thing.Published",
        "Note.Written",
    ]
    assert len(history(app, AUDITOR, thing.id)) == 2
    assert len(history(app, AUDITOR, note.id)) == 1


@pytest.mark.parametrize("identity", [CITY_OFFICER, CITY_COMPANY, OFFICER, POLICE, PUBLIC, OWNERS])
def test_nobody_but_the_auditor_reads_the_whole_log(
    app: App, thing: Thing, identity: Identity
) -> None:
    """Leak: a company with unit=putian in its identity read the whole log of any service."""
    with pytest.raises(PermissionDenied):
        history(app, identity, None)


def test_a_company_reads_its_own_record_s_history_not_another_s(app: App, thing: Thing) -> None:
    """Leak: refused by GetDisclosure, a company read another company's filing (with its
    contact phone) through GetHistory."""
    events = history(app, COMPANY, thing.id)
    assert events[0].payload["phone"] == "13800000000"
    for other in (OTHER_COMPANY, CITY_COMPANY):
        with pytest.raises(PermissionDenied):
            history(app, other, thing.id)


def test_the_record_s_read_rule_decides_for_staff(app: App, thing: Thing) -> None:
    assert len(history(app, OFFICER, thing.id)) == 2
    assert len(history(app, CITY_OFFICER, thing.id)) == 2
    with pytest.raises(PermissionDenied):
        history(app, OTHER_OFFICER, thing.id)


def test_the_public_reads_no_audit_trail_even_of_a_published_record(app: App, thing: Thing) -> None:
    """What is published is the record as published, not its trail (earlier versions,
    contact details, who did what)."""
    assert POLICY.decide("GetThing", PUBLIC, thing_facts(thing)) is not None
    with pytest.raises(PermissionDenied):
        history(app, PUBLIC, thing.id)


def test_a_record_type_without_a_read_rule_is_the_auditor_s_only(app: App) -> None:
    note = Note("x")
    app.save(note)
    for identity in (OFFICER, CITY_OFFICER, COMPANY):
        with pytest.raises(PermissionDenied):
            history(app, identity, note.id)


def test_a_missing_record_and_a_forbidden_one_look_the_same(app: App, thing: Thing) -> None:
    """Record ids can be predictable (uuid5 of the community and quarter): a caller outside
    the record's scope must not learn whether it exists."""
    with pytest.raises(PermissionDenied) as forbidden:
        history(app, OTHER_COMPANY, thing.id)
    with pytest.raises(PermissionDenied) as missing:
        history(app, OTHER_COMPANY, uuid.uuid4())
    assert forbidden.value.message == missing.value.message
    assert forbidden.value.message_zh == missing.value.message_zh


def test_the_auditor_is_told_a_record_does_not_exist(app: App) -> None:
    with pytest.raises(NotFound):
        history(app, AUDITOR, uuid.uuid4())


@pytest.mark.parametrize("identity", [POLICE, OWNERS])
def test_a_caller_who_may_read_no_record_is_denied_before_anything_is_read(
    app: App, thing: Thing, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the record was read for a caller with no read grant")

    monkeypatch.setattr(app.repository, "get", no_read)
    with pytest.raises(PermissionDenied):
        history(app, identity, thing.id)
