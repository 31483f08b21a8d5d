"""Two small services on servicekit, for the isolation tests on the real stack.

`notes` is event-sourced on PostgreSQL like the four services: a Note aggregate, a relay
to `pubrev.notes.events.v1`, a projection into `iso_notes` (amounts in a bigint column).
`tally` consumes that topic and counts each note's events in a Tally aggregate, with a
tracking record per event. Both are built by servicekit's runtime (the api role serves the
operators' AdminService), and `python -m tests.support.isolation_service tally consumer`
runs the consumer as a process of its own.

Poison, on purpose, decided by a note's text (and by the switches below, which a test turns
off to stand for "the fix was deployed"): "untranslatable…" fails the relay's translation,
"poison…" fails tally's handler, "crash…" kills the consumer process (when
PUBREV_TEST_CRASH is set); an amount beyond bigint fails the projection.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification
from psycopg import Cursor
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from pubrev_contracts.vocabulary.units import CITY
from servicekit.cloudevents import CloudEventAttributes, event_id
from servicekit.consumer import Subscription
from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.identity import IdentityRules
from servicekit.operations import admin_rules
from servicekit.policy import Policy
from servicekit.postgres import eventsourcing_env
from servicekit.projector import Projector
from servicekit.relay import OutboundMessage
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings

TOPIC = "pubrev.notes.events.v1"
SOURCE = "/pubrev/notes"
CE_TYPE = "pubrev.notes.NoteWritten.v1"
BIGINT_MAX = 2**63 - 1
TALLY_NAMESPACE = uuid.UUID("0b1c4c53-4ad6-4d0e-9d49-6f0c1b7b8a11")


class Switches:
    """What is still broken (a test turns one off: the fix is deployed)."""

    translation_broken = True
    projection_broken = True
    handler_broken = True


class Note(Aggregate):
    class Written(Aggregate.Created):
        text: str
        amount: int

    class Amended(Aggregate.Event):
        text: str
        amount: int

    @event(Written)
    def __init__(self, text: str, amount: int) -> None:
        self.text = text
        self.amount = amount

    @event(Amended)
    def amend(self, text: str, amount: int) -> None:
        self.text = text
        self.amount = amount


class Tally(Aggregate):
    """How many events of one note the consumer applied, and their versions in order."""

    @event("Opened")
    def __init__(self, note_id: str) -> None:
        self.note_id = note_id
        self.versions: list[int] = []

    @event("Counted")
    def count(self, version: int, text: str) -> None:
        self.versions.append(version)

    @staticmethod
    def create_id(note_id: str) -> uuid.UUID:
        return uuid.uuid5(TALLY_NAMESPACE, note_id)


POLICY = Policy("notes", admin_rules(), city=CITY)
TALLY_POLICY = Policy("tally", admin_rules(), city=CITY)


class NotesApp(ServiceApplication):
    policy = POLICY

    def write(self, text: str, amount: int = 1) -> Note:
        note = Note(text, amount)
        self.save(note)
        return note

    def amend(self, note_id: uuid.UUID, text: str, amount: int = 1) -> None:
        note: Note = self.repository.get(note_id)
        note.amend(text, amount)
        self.save(note)


class NoteV1(BaseModel):
    ce_type: ClassVar[str] = CE_TYPE
    aggregate_id: UUID
    aggregate_version: int
    text: str
    amount: int


class TallyApp(ServiceApplication):
    policy = TALLY_POLICY

    def apply_note(self, note: NoteV1, delivery: DeliveryRef) -> bool:
        if self.already_applied(delivery):
            return False
        if note.text.startswith("poison") and Switches.handler_broken:
            raise ValueError(f"cannot count {note.text[:20]!r}")
        if note.text.startswith("crash") and os.environ.get("PUBREV_TEST_CRASH"):
            sys.stderr.write("tally: this note kills the process\n")
            sys.stderr.flush()
            os._exit(86)
        tally = self.find(Tally.create_id(delivery.aggregate_id), Tally) or Tally(
            delivery.aggregate_id
        )
        tally.count(delivery.version, note.text)
        return self.record(tally, delivery=delivery)

    def versions(self, note_id: str) -> list[int]:
        tally = self.find(Tally.create_id(note_id), Tally)
        return list(tally.versions) if tally else []


def translator(app: NotesApp) -> Any:
    def translate(notification: Notification) -> OutboundMessage | None:
        domain_event: Any = app.mapper.to_domain_event(notification)
        if not isinstance(domain_event, Note.Written | Note.Amended):
            return None  # internal (an operator's action): no contract, not published
        if domain_event.text.startswith("untranslatable") and Switches.translation_broken:
            raise ValueError("no contract renders this note")
        aggregate_id = str(domain_event.originator_id)
        body = {
            "aggregate_id": aggregate_id,
            "aggregate_version": domain_event.originator_version,
            "text": domain_event.text,
            "amount": domain_event.amount,
        }
        attributes = CloudEventAttributes(
            id=event_id(aggregate_id, domain_event.originator_version),
            source=SOURCE,
            type=CE_TYPE,
            time=domain_event.timestamp,
            subject=aggregate_id,
            unit="putian",
        )
        return OutboundMessage(
            TOPIC, aggregate_id.encode(), json.dumps(body).encode(), attributes.headers()
        )

    return translate


class NotesProjection:
    name = "notes.read-model"

    def create_tables(self, cur: Cursor[Any]) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS iso_notes (note_id uuid PRIMARY KEY,"
            " amount bigint NOT NULL, text text NOT NULL, version int NOT NULL)"
        )

    def apply(self, cur: Cursor[Any], event: Any, position: int) -> None:
        if not isinstance(event, Note.Written | Note.Amended):
            return
        amount = event.amount
        if not Switches.projection_broken:
            amount = min(amount, BIGINT_MAX)  # the fix: capped, as the contract now says
        if isinstance(event, Note.Written):
            cur.execute(
                "INSERT INTO iso_notes VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (event.originator_id, amount, event.text[:100], event.originator_version),
            )
        elif isinstance(event, Note.Amended):
            cur.execute(
                "UPDATE iso_notes SET amount = %s, text = %s, version = %s WHERE note_id = %s",
                (amount, event.text[:100], event.originator_version, event.originator_id),
            )


def rules() -> IdentityRules:
    from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
    from pubrev_contracts.vocabulary.units import CITY, UNITS

    return IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)


def build_notes(settings: ServiceSettings) -> ServiceParts:
    app = NotesApp(env=eventsourcing_env(settings.service_database_url))
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=4, open=True)
    projector = Projector(
        NotesProjection(),
        app.process_recorder,
        app.mapper.to_domain_event,
        pool,
        max_attempts=settings.consumer_max_attempts,
    )
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[],
        register_grpc=lambda _: None,
        topic=TOPIC,
        translate=translator(app),
        identity_rules=rules(),
        projector=projector,
        closers=[pool.close],
    )


def build_tally(settings: ServiceSettings) -> ServiceParts:
    app = TallyApp(env=eventsourcing_env(settings.service_database_url))
    subscription = Subscription("tally.notes", TOPIC, {NoteV1: app.apply_note})
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[],
        register_grpc=lambda _: None,
        topic="pubrev.tally.events.v1",
        translate=lambda _: None,
        identity_rules=rules(),
        subscriptions=[subscription],
    )


if __name__ == "__main__":
    # Through the module's own name: stored events name their classes by module, and
    # "__main__:Tally.Opened" would be no class in the test process.
    from servicekit.runtime import main
    from tests.support import isolation_service as this

    service, role = sys.argv[1], sys.argv[2]
    main(service, this.build_tally if service == "tally" else this.build_notes, [role])
