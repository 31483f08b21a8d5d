"""The one place that wires the credit service together."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from psycopg_pool import ConnectionPool
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from credit.adapters.contract_events import to_contract
from credit.adapters.feeds import CREDIT_CHINA, MARKET, FeedProjection, SourceUnit
from credit.application.app import Clock, CreditApplication, _utcnow
from credit.entrypoints.consumers import subscriptions
from credit.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.identities import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.topics import CREDIT_EVENTS
from pubrev_contracts.units import UNITS
from servicekit.identity import IdentityRules
from servicekit.postgres import eventsourcing_env
from servicekit.projector import Projector
from servicekit.push import FeedConfig, Pusher, PushOutbox
from servicekit.relay import contract_translator
from servicekit.runtime import PeriodicJob, ServiceParts
from servicekit.settings import Environment, ServiceSettings

SCHEMAS = Path(__file__).resolve().parents[4] / "contracts" / "feeds"
DEV_SECRET = "pubrev-dev-feed-secret"  # noqa: S105 (development only; refused in production)


class FeedSettings(BaseSettings):
    """Where the feeds go: PUBREV_FEED_* (the receivers of 信用中国(福建) and of market
    regulation; tools/feed_receiver.py locally)."""

    model_config = SettingsConfigDict(env_prefix="PUBREV_FEED_", extra="ignore")

    creditchina_url: str = "http://127.0.0.1:18080/feeds/creditchina"
    market_url: str = "http://127.0.0.1:18080/feeds/market"
    secret: str = DEV_SECRET
    max_attempts: int = 8
    source_unit_name: str = "莆田市城市管理局"
    source_unit_uscc: str = "11350300MB1234567X"
    environment: Environment = Environment.development

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> FeedSettings:
        if self.environment is Environment.production and self.secret == DEV_SECRET:
            raise ValueError("set PUBREV_FEED_SECRET: the development secret is refused in "
                             "production")
        return self


def feed_configs(feeds: FeedSettings) -> dict[str, FeedConfig]:
    def schema(name: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(
            (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
        )
        return loaded

    secret = feeds.secret.encode()
    return {
        CREDIT_CHINA: FeedConfig(CREDIT_CHINA, feeds.creditchina_url, secret,
                                 schema(CREDIT_CHINA), max_attempts=feeds.max_attempts),
        MARKET: FeedConfig(MARKET, feeds.market_url, secret, schema(MARKET),
                           max_attempts=feeds.max_attempts),
    }


def build(settings: ServiceSettings, clock: Clock = _utcnow,
          feeds: FeedSettings | None = None) -> ServiceParts:
    feeds = feeds or FeedSettings(environment=settings.environment)
    app = CreditApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    configs = feed_configs(feeds)
    outbox = PushOutbox(configs, clock=clock)
    projection = FeedProjection(outbox, SourceUnit(feeds.source_unit_name,
                                                   feeds.source_unit_uscc))
    projector = Projector(projection, app.process_recorder, app.mapper.to_domain_event, pool)
    pusher = Pusher(pool, configs, clock=clock)

    def sweep_display_periods() -> int:
        with pool.connection() as conn:
            companies = [r[0] for r in conn.execute(
                "SELECT company_uscc FROM rm_ledgers ORDER BY 1").fetchall()]
        return sum(app.restore_due(uscc) for uscc in companies)

    return ServiceParts(
        settings=settings,
        identity_rules=IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS),
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app, pusher, sweep_display_periods),
        topic=CREDIT_EVENTS,
        translate=contract_translator("/pubrev/credit", app.mapper.to_domain_event, to_contract),
        subscriptions=subscriptions(app),
        projector=projector,
        periodic=[PeriodicJob("display-periods", timedelta(hours=6).total_seconds(),
                              sweep_display_periods)],
        background=[pusher.run],
        closers=[pusher.close, pool.close],
    )
