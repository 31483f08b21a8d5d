"""The one place that wires the credit service together."""

from __future__ import annotations

from credit.adapters.contract_events import to_contract
from credit.application.app import CreditApplication
from credit.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CREDIT_EVENTS
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceParts:
    app = CreditApplication(env=eventsourcing_env(settings.service_database_url))
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app),
        topic=CREDIT_EVENTS,
        translate=contract_translator("/pubrev/credit", app.mapper.to_domain_event, to_contract),
    )
