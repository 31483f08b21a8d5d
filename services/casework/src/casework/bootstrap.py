"""The one place that wires the casework service together."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from casework.adapters.contract_events import to_contract
from casework.adapters.personal_data import PostgresPersonalDataVault
from casework.adapters.read_model import PostgresCaseReadModel, make_projector
from casework.application.app import CaseworkApplication, Clock, _utcnow
from casework.entrypoints.consumers import subscriptions
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CASEWORK_EVENTS
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings, clock: Clock = _utcnow) -> ServiceParts:
    app = CaseworkApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    projector = make_projector(app.process_recorder, app.mapper.to_domain_event, pool)
    app.wire(PostgresPersonalDataVault(pool), PostgresCaseReadModel(projector, pool))
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app),
        topic=CASEWORK_EVENTS,
        translate=contract_translator("/pubrev/casework", app.mapper.to_domain_event,
                                      to_contract),
        subscriptions=subscriptions(app),
        projector=projector,
        closers=[pool.close],
    )
