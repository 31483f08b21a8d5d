"""The one place that wires the disclosure service together: it builds the application,
its read model (with the queries' asyncpg pool), the group committer and the hourly quarter
close, and connects them to servicekit's roles. It decides nothing."""

from __future__ import annotations

from datetime import timedelta

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model import PostgresDisclosureReadModel
from disclosure.application.app import DisclosureApplication
from disclosure.application.sweeps import close_latest_quarter
from disclosure.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.clock import Clock, utc_now
from servicekit.group_commit import GroupCommitter
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

IDENTITY_RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)


def build(settings: ServiceSettings, clock: Clock = utc_now) -> ServiceParts:
    pool = service_pool(settings)  # the process's one pool: servicekit.runtime
    reads = read_pool(settings)  # the queries' asyncpg pool, opened by the first one
    app = DisclosureApplication(
        env=event_store_env(settings),
        clock=clock,
        # The read model follows the application's own log, so it is built on it.
        read_model=lambda app: PostgresDisclosureReadModel(app, pool, reads),
    )
    read_model = app.read_model
    assert isinstance(read_model, PostgresDisclosureReadModel)  # the one built just above
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/disclosure", lambda event: event, to_contract)
    )
    committer = GroupCommitter(app)
    return ServiceParts(
        settings=settings,
        identity_rules=IDENTITY_RULES,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app, committer),
        on_stop=[committer.close, reads.close],
        topic=DISCLOSURE_EVENTS,
        translate=contract_translator(
            "/pubrev/disclosure", app.mapper.to_domain_event, to_contract
        ),
        projector=read_model.projector,
        periodic=[
            PeriodicJob(
                "close-latest-quarter",
                timedelta(hours=1).total_seconds(),
                lambda: close_latest_quarter(app),
            )
        ],
        pool=pool,
        closers=[pool.close],
    )
