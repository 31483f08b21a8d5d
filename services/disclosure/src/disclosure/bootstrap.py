"""The one place that wires the disclosure service together."""

from __future__ import annotations

import logging
from datetime import timedelta

from psycopg_pool import ConnectionPool

from disclosure.adapters.contract_events import to_contract
from disclosure.adapters.read_model import PostgresDisclosureReadModel, make_projector
from disclosure.application.app import Clock, DisclosureApplication, _utcnow
from disclosure.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.calendar import CalendarNotConfigured, Quarter
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.group_commit import GroupCommitter
from servicekit.identity import CITY_UNIT, Identity, IdentityRules
from servicekit.postgres import eventsourcing_env
from servicekit.publishable import publish_check
from servicekit.relay import contract_translator
from servicekit.runtime import PeriodicJob, ServiceParts
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)
IDENTITY_RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS)
SCHEDULER = IDENTITY_RULES.check(
    Identity("operator", "scheduler", CITY_UNIT, "disclosure quarter close")
)
"""The hourly sweep acts as the platform's scheduler, which the policy lets close quarters
at the city level (application/access.py), and nothing else."""


def latest_due_quarter(app: DisclosureApplication) -> Quarter:
    """The most recent quarter whose deadline (moved past rest days) has passed. Raises
    CalendarNotConfigured when that depends on a year the holiday calendar lacks."""
    now = app.clock()
    period = Quarter(now.year, (now.month - 1) // 3 + 1)
    while not period.deadline_passed(now):
        period = period.previous()
    return period


def close_latest_quarter(app: DisclosureApplication) -> dict[str, int]:
    """The hourly sweep. Idempotent: communities already marked are counted, not marked
    again."""
    try:
        period = latest_due_quarter(app)
    except CalendarNotConfigured as error:
        # Until the year's holidays are entered nobody knows whether that deadline has
        # passed: mark nothing, say why, and try again on the next run (the role lives on).
        log.warning("quarter close skipped: %s", error.message, extra={"calendar_year": error.year})
        return {"skipped_calendar_not_configured": error.year}
    return app.close_quarter(SCHEDULER, period.year, period.quarter)


def build(settings: ServiceSettings, clock: Clock = _utcnow) -> ServiceParts:
    app = DisclosureApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/disclosure", lambda event: event, to_contract)
    )
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    projector = make_projector(app.process_recorder, app.mapper.to_domain_event, pool)
    app.read_model = PostgresDisclosureReadModel(projector, pool)

    committer = GroupCommitter(app)
    return ServiceParts(
        settings=settings,
        identity_rules=IDENTITY_RULES,
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app, committer),
        on_stop=[committer.close],
        topic=DISCLOSURE_EVENTS,
        translate=contract_translator(
            "/pubrev/disclosure", app.mapper.to_domain_event, to_contract
        ),
        projector=projector,
        periodic=[
            PeriodicJob(
                "close-latest-quarter",
                timedelta(hours=1).total_seconds(),
                lambda: close_latest_quarter(app),
            )
        ],
        closers=[pool.close],
    )
