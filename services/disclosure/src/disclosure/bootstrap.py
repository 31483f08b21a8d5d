"""The one place that wires the disclosure service together."""

from __future__ import annotations

from disclosure.adapters.contract_events import to_contract
from disclosure.application.app import Clock, DisclosureApplication, _utcnow
from disclosure.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import ServiceParts
from servicekit.settings import ServiceSettings


def build(settings: ServiceSettings, clock: Clock = _utcnow) -> ServiceParts:
    app = DisclosureApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app),
        topic=DISCLOSURE_EVENTS,
        translate=contract_translator(
            "/pubrev/disclosure", app.mapper.to_domain_event, to_contract
        ),
    )
