"""The one place that wires the inspection service together."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from inspection.adapters.contract_events import to_contract
from inspection.adapters.read_model import PostgresInspectionReadModel
from inspection.application import queries
from inspection.application.app import InspectionApplication
from inspection.application.sweeps import sweep_rectification_deadlines
from inspection.entrypoints.consumers import subscriptions
from inspection.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import INSPECTION_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit import evidence
from servicekit.attachments import load_scanner
from servicekit.attachments_postgres import PostgresAttachmentStore
from servicekit.clock import Clock, utc_now
from servicekit.identity import IdentityRules
from servicekit.publishable import publish_check
from servicekit.relay import contract_translator
from servicekit.runtime import (
    PeriodicJob,
    ServiceParts,
    event_store_env,
    read_pool,
    service_pool,
)
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings, clock: Clock = utc_now) -> ServiceParts:
    scanner = load_scanner(settings.environment)  # refused before anything is connected
    pool = service_pool(settings)  # the process's one pool: servicekit.runtime
    reads = read_pool(settings)  # the gRPC path's queries, on asyncpg: servicekit.readside
    attachments = PostgresAttachmentStore(pool, scanner=scanner)
    attachments.ensure_tables()
    app = InspectionApplication(
        env=event_store_env(settings),
        clock=clock,
        # A projection of the application's own log, so built over it.
        read_model=lambda app: PostgresInspectionReadModel(app, pool, reads),
        attachments=attachments,
    )
    read_model = cast(PostgresInspectionReadModel, app.read_model)  # the one built just above
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/inspection", lambda event: event, to_contract)
    )
    identity_rules = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
    # Whoever may read a finding may download the files it references (the company concerned
    # the evidence against it), beside those the uploads themselves open.
    evidence_desk = evidence.postgres_desk(
        app.policy,
        attachments,
        pool,
        identity_rules,
        who_may_read=lambda sha256: queries.attachment_readers(app, sha256),
    )
    return ServiceParts(
        settings=settings,
        identity_rules=identity_rules,
        app=app,
        grpc_service_names=[SERVICE_NAME, evidence.SERVICE_NAME],
        register_grpc=evidence.serve_beside(register(app), evidence_desk),
        topic=INSPECTION_EVENTS,
        translate=contract_translator(
            "/pubrev/inspection", app.mapper.to_domain_event, to_contract
        ),
        subscriptions=subscriptions(app),
        projector=read_model.projector,
        periodic=[
            PeriodicJob(
                "rectification-deadlines",
                timedelta(hours=1).total_seconds(),
                lambda: sweep_rectification_deadlines(app),
            )
        ],
        pool=pool,
        on_stop=[reads.close],
        closers=[pool.close],
    )
