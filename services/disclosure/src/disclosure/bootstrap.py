"""The one place that wires the disclosure service together."""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model import PostgresDisclosureReadModel, make_projector
from disclosure.application.app import Clock, DisclosureApplication, _utcnow
from disclosure.domain.calendar import Quarter
from disclosure.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.group_commit import GroupCommitter
from servicekit.identity import CITY_UNIT, Identity
from servicekit.postgres import eventsourcing_env
from servicekit.relay import contract_translator
from servicekit.runtime import PeriodicJob, ServiceParts
from servicekit.settings import ServiceSettings

SCHEDULER = Identity("property-bureau", "scheduler", CITY_UNIT, "disclosure quarter close")


def latest_due_quarter(app: DisclosureApplication) -> Quarter:
    """The most recent quarter whose deadline has passed."""
    now = app.clock()
    period = Quarter(now.year, (now.month - 1) // 3 + 1)
    while period.deadline > now:
        period = Quarter(period.year - 1, 4) if period.quarter == 1 else Quarter(
            period.year, period.quarter - 1
        )
    return period


def build(settings: ServiceSettings, clock: Clock = _utcnow) -> ServiceParts:
    app = DisclosureApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    projector = make_projector(app.process_recorder, app.mapper.to_domain_event, pool)
    app.read_model = PostgresDisclosureReadModel(projector, pool)

    def close_latest_quarter() -> dict[str, int]:
        # Idempotent: communities already marked are counted, not marked again.
        period = latest_due_quarter(app)
        return app.close_quarter(SCHEDULER, period.year, period.quarter)

    committer = GroupCommitter(app)
    return ServiceParts(
        settings=settings,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app, committer),
        on_stop=[committer.close],
        topic=DISCLOSURE_EVENTS,
        translate=contract_translator(
            "/pubrev/disclosure", app.mapper.to_domain_event, to_contract
        ),
        projector=projector,
        periodic=[PeriodicJob("close-latest-quarter", timedelta(hours=1).total_seconds(),
                              close_latest_quarter)],
        closers=[pool.close],
    )
