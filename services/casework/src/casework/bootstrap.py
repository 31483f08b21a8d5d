"""The one place that wires the casework service together."""

from __future__ import annotations

from casework.adapters.contract_events import to_contract
from casework.application.app import CaseworkApplication
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CASEWORK_EVENTS
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceParts:
    app = CaseworkApplication(env=eventsourcing_env(settings.service_database_url))
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app),
        topic=CASEWORK_EVENTS,
        translate=contract_translator("/pubrev/casework", app.mapper.to_domain_event, to_contract),
    )
