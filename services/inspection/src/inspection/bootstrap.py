"""The one place that wires the inspection service together."""

from __future__ import annotations

from inspection.adapters.contract_events import to_contract
from inspection.application.app import InspectionApplication
from inspection.entrypoints.consumers import subscriptions
from inspection.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import INSPECTION_EVENTS
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceParts:
    app = InspectionApplication(env=eventsourcing_env(settings.service_database_url))
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app),
        topic=INSPECTION_EVENTS,
        translate=contract_translator(
            "/pubrev/inspection", app.mapper.to_domain_event, to_contract
        ),
        subscriptions=subscriptions(app),
    )
