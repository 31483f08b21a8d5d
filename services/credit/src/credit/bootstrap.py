"""The one place that wires the credit service together (wiring only: the rules are the
domain's, the feeds' settings servicekit's `load_feeds`, the sweep the application's)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path

from credit.adapters.contract_events import to_contract
from credit.adapters.feeds import FEED_SPECS, RETIRED, FeedProjection, SourceUnit
from credit.adapters.read_model import PostgresCreditReadModel, make_projector
from credit.application.app import CreditApplication
from credit.application.sweeps import sweep_display_periods
from credit.entrypoints.consumers import subscriptions
from credit.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CREDIT_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit import evidence
from servicekit.attachments import load_scanner
from servicekit.attachments_postgres import PostgresAttachmentStore
from servicekit.clock import Clock, utc_now
from servicekit.feed_settings import load_feeds
from servicekit.identity import IdentityRules
from servicekit.publishable import publish_check
from servicekit.push import Pusher, PushOutbox
from servicekit.relay import contract_translator
from servicekit.runtime import PeriodicJob, ServiceParts, event_store_env, service_pool
from servicekit.settings import ServiceSettings

SCHEMAS = Path(__file__).resolve().parents[4] / "contracts" / "feeds"
"""The feeds' JSON Schemas, which every record is validated against before it is queued."""


def build(
    settings: ServiceSettings,
    clock: Clock = utc_now,
    feeds: Mapping[str, str] | None = None,
) -> ServiceParts:
    """`feeds`: the feeds' variables (PUBREV_FEED_*) instead of the process environment's
    (tests)."""
    env = os.environ if feeds is None else feeds
    configs = load_feeds(FEED_SPECS, settings.environment, SCHEMAS, env, retired=RETIRED)
    pool = service_pool(settings)  # the process's one pool: servicekit.runtime
    pusher = Pusher(pool, configs, clock=clock)
    attachments = PostgresAttachmentStore(pool, scanner=load_scanner(settings.environment))
    attachments.ensure_tables()
    app = CreditApplication(
        env=event_store_env(settings),
        clock=clock,
        read_model=PostgresCreditReadModel(pool),
        feed_desk=pusher,
        attachments=attachments,
    )
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/credit", lambda event: event, to_contract)
    )
    identity_rules = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
    # The files the commands cite are uploaded here, beside credit's own service (the same
    # store the application checks them in): read as their uploads state.
    evidence_desk = evidence.postgres_desk(app.policy, attachments, pool, identity_rules)
    projection = FeedProjection(PushOutbox(configs, clock=clock), SourceUnit.from_env(env))
    projector = make_projector(projection, app.process_recorder, app.mapper.to_domain_event, pool)
    return ServiceParts(
        settings=settings,
        identity_rules=identity_rules,
        app=app,
        grpc_service_names=[SERVICE_NAME, evidence.SERVICE_NAME],
        register_grpc=evidence.serve_beside(register(app), evidence_desk),
        topic=CREDIT_EVENTS,
        translate=contract_translator("/pubrev/credit", app.mapper.to_domain_event, to_contract),
        subscriptions=subscriptions(app),
        projector=projector,
        periodic=[
            PeriodicJob(
                "display-periods",
                timedelta(hours=6).total_seconds(),
                partial(sweep_display_periods, app),
            )
        ],
        background=[pusher.run],
        pushers=[pusher],
        pool=pool,
        closers=[pusher.close, pool.close],
    )
