"""The one place that wires the casework service together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import cast

from casework.adapters.contract_events import to_contract
from casework.adapters.feeds import ZHIHUI_FEED
from casework.adapters.kek import VaultTransit
from casework.adapters.personal_data import PersonalDataSettings, personal_data
from casework.adapters.read_model import PostgresCaseReadModel
from casework.application.app import CaseworkApplication
from casework.application.sweeps import (
    shred_expired_personal_data,
    sweep_campaign,
    sweep_complaint_feedback,
    sweep_quota_pace,
)
from casework.entrypoints.consumers import subscriptions
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CASEWORK_EVENTS
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
from servicekit.runtime import (
    PeriodicJob,
    ServiceParts,
    event_store_env,
    read_pool,
    service_pool,
)
from servicekit.settings import ServiceSettings

SCHEMAS = Path(__file__).resolve().parents[4] / "contracts" / "feeds"


def build(
    settings: ServiceSettings,
    clock: Clock = utc_now,
    feed: Mapping[str, str] | None = None,
    pd: PersonalDataSettings | None = None,
) -> ServiceParts:
    """`feed`: the 智慧监督 feed's variables (PUBREV_ZHIHUI_*) instead of the process
    environment's (tests); `pd`: the personal-data settings instead of the environment's."""
    feeds = load_feeds([ZHIHUI_FEED], settings.environment, SCHEMAS, env=feed)
    pd = pd or PersonalDataSettings(environment=settings.environment)
    pd.check(settings.environment)  # also settings made for another environment
    scanner = load_scanner(settings.environment)  # refused before anything is connected
    pool = service_pool(settings)  # the process's one pool: servicekit.runtime
    attachments = PostgresAttachmentStore(pool, scanner=scanner)
    attachments.ensure_tables()
    outbox = PushOutbox(feeds, clock=clock)
    # The queries' reads (asyncpg, on the servicer's loop); opened by the first query.
    queries_reads = read_pool(settings)
    try:
        vault, reads, keyring_pools = personal_data(
            pool, pd, settings.service_database_url, settings.environment
        )
    except BaseException:
        pool.close()  # a refused start leaves no connections behind
        raise
    app = CaseworkApplication(
        env=event_store_env(settings),
        clock=clock,
        retention=pd.retention(),
        vault=vault,
        # A projection of the application's own log, so built over it.
        read_model=lambda app: PostgresCaseReadModel(app, pool, queries_reads, outbox),
        read_log=reads,
        attachments=attachments,
    )
    read_model = cast(PostgresCaseReadModel, app.read_model)  # the one built just above
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/casework", lambda event: event, to_contract)
    )
    pusher = Pusher(pool, feeds, clock=clock)
    identity_rules = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
    evidence_desk = evidence.postgres_desk(app.policy, attachments, pool, identity_rules)
    return ServiceParts(
        settings=settings,
        identity_rules=identity_rules,
        app=app,
        grpc_service_names=[SERVICE_NAME, evidence.SERVICE_NAME],
        register_grpc=evidence.serve_beside(register(app), evidence_desk),
        topic=CASEWORK_EVENTS,
        translate=contract_translator("/pubrev/casework", app.mapper.to_domain_event, to_contract),
        subscriptions=subscriptions(app),
        projector=read_model.projector,
        periodic=[
            PeriodicJob(
                "complaint-feedback",
                timedelta(hours=1).total_seconds(),
                lambda: sweep_complaint_feedback(app),
            ),
            PeriodicJob(
                "quota-pace", timedelta(hours=6).total_seconds(), lambda: sweep_quota_pace(app)
            ),
            PeriodicJob(
                "campaign-calendar",
                timedelta(hours=1).total_seconds(),
                lambda: sweep_campaign(app),
            ),
            PeriodicJob(
                "personal-data-retention",
                timedelta(hours=6).total_seconds(),
                lambda: shred_expired_personal_data(app),
            ),
        ],
        background=[pusher.run],
        pushers=[pusher],
        pool=pool,
        on_stop=[queries_reads.close],
        closers=[
            pusher.close,
            pool.close,
            *(p.close for p in keyring_pools),
            *([vault.kek.close] if isinstance(vault.kek, VaultTransit) else []),
        ],
    )
