"""The one place that wires the credit service together."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from psycopg_pool import ConnectionPool
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from credit.adapters.contract_events import to_contract
from credit.adapters.feeds import CREDIT_CHINA, MARKET, FeedProjection, SourceUnit
from credit.application.app import Clock, CreditApplication, _utcnow
from credit.entrypoints.consumers import subscriptions
from credit.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev_contracts.topics import CREDIT_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import UNITS
from servicekit.identity import IdentityRules
from servicekit.postgres import eventsourcing_env
from servicekit.projector import Projector
from servicekit.publishable import publish_check
from servicekit.push import (
    DEV_KEY_ID,
    FeedConfig,
    FeedKey,
    Pusher,
    PushOutbox,
    dev_secret,
    production_refusals,
)
from servicekit.relay import contract_translator
from servicekit.runtime import PeriodicJob, ServiceParts
from servicekit.settings import Environment, ServiceSettings

SCHEMAS = Path(__file__).resolve().parents[4] / "contracts" / "feeds"


class FeedSettings(BaseSettings):
    """Where the feeds go and the key each is signed with: PUBREV_FEED_* (the receivers of
    信用中国(福建) and of market regulation; tools/feed_receiver.py locally, which accepts
    the development keys). Each feed has its own key; to rotate one, the receiver first
    accepts the new key id, then its _KEY_ID and _SECRET here change together. Production
    refuses http:// URLs and development or short secrets (servicekit.push)."""

    # Errors never show the inputs: they hold the secrets.
    model_config = SettingsConfigDict(
        env_prefix="PUBREV_FEED_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    creditchina_url: str = "http://127.0.0.1:18080/feeds/creditchina"
    creditchina_key_id: str = DEV_KEY_ID
    creditchina_secret: SecretStr = SecretStr(dev_secret(CREDIT_CHINA))
    market_url: str = "http://127.0.0.1:18080/feeds/market"
    market_key_id: str = DEV_KEY_ID
    market_secret: SecretStr = SecretStr(dev_secret(MARKET))
    secret: SecretStr | None = None
    """PUBREV_FEED_SECRET, the one key both feeds once shared: refused, never read."""
    max_attempts: int = 8
    source_unit_name: str = "莆田市城市管理局"
    source_unit_uscc: str = "11350300MB1234567X"
    environment: Environment = Field(Environment.development, validation_alias="PUBREV_ENVIRONMENT")

    @model_validator(mode="after")
    def _safe(self) -> FeedSettings:
        if self.secret is not None:
            raise ValueError(
                "PUBREV_FEED_SECRET signed both feeds with one key and is no "
                "longer read: set PUBREV_FEED_CREDITCHINA_KEY_ID/_SECRET and "
                "PUBREV_FEED_MARKET_KEY_ID/_SECRET, one key per feed"
            )
        self.check(self.environment)
        return self

    def check(self, environment: Environment) -> None:
        """Raises ValueError with every reason these settings may not serve `environment`."""
        if environment is not Environment.production:
            return
        problems = [
            *production_refusals(
                "PUBREV_FEED_CREDITCHINA_URL",
                self.creditchina_url,
                "PUBREV_FEED_CREDITCHINA_SECRET",
                self.creditchina_secret.get_secret_value(),
            ),
            *production_refusals(
                "PUBREV_FEED_MARKET_URL",
                self.market_url,
                "PUBREV_FEED_MARKET_SECRET",
                self.market_secret.get_secret_value(),
            ),
        ]
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))


def feed_configs(feeds: FeedSettings) -> dict[str, FeedConfig]:
    def schema(name: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(
            (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
        )
        return loaded

    def key(key_id: str, secret: SecretStr) -> FeedKey:
        return FeedKey(key_id, secret.get_secret_value().encode())

    return {
        CREDIT_CHINA: FeedConfig(
            CREDIT_CHINA,
            feeds.creditchina_url,
            key(feeds.creditchina_key_id, feeds.creditchina_secret),
            schema(CREDIT_CHINA),
            max_attempts=feeds.max_attempts,
        ),
        MARKET: FeedConfig(
            MARKET,
            feeds.market_url,
            key(feeds.market_key_id, feeds.market_secret),
            schema(MARKET),
            max_attempts=feeds.max_attempts,
        ),
    }


def build(
    settings: ServiceSettings, clock: Clock = _utcnow, feeds: FeedSettings | None = None
) -> ServiceParts:
    feeds = feeds or FeedSettings(environment=settings.environment)
    feeds.check(settings.environment)  # also feed settings made for another environment
    app = CreditApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/credit", lambda event: event, to_contract)
    )
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    configs = feed_configs(feeds)
    outbox = PushOutbox(configs, clock=clock)
    projection = FeedProjection(outbox, SourceUnit(feeds.source_unit_name, feeds.source_unit_uscc))
    projector = Projector(projection, app.process_recorder, app.mapper.to_domain_event, pool)
    pusher = Pusher(pool, configs, clock=clock)

    def sweep_display_periods() -> int:
        with pool.connection() as conn:
            companies = [
                r[0]
                for r in conn.execute("SELECT company_uscc FROM rm_ledgers ORDER BY 1").fetchall()
            ]
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
        periodic=[
            PeriodicJob(
                "display-periods", timedelta(hours=6).total_seconds(), sweep_display_periods
            )
        ],
        background=[pusher.run],
        pushers=[pusher],
        closers=[pusher.close, pool.close],
    )
