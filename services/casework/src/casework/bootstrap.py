"""The one place that wires the casework service together."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from psycopg_pool import ConnectionPool
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casework.adapters.contract_events import to_contract
from casework.adapters.personal_data import PostgresPersonalDataVault
from casework.adapters.read_model import ZHIHUI, PostgresCaseReadModel, make_projector
from casework.application.app import CaseworkApplication, Clock, _utcnow
from casework.application.warnings import OpenComplaint, WarningsPolicy
from casework.entrypoints.consumers import subscriptions
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from casework.entrypoints.warning_consumers import PACED_UNITS, warning_subscriptions
from pubrev_contracts.identities import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.topics import CASEWORK_EVENTS
from pubrev_contracts.units import COUNTY_UNITS, UNITS
from servicekit.identity import IdentityRules
from servicekit.postgres import eventsourcing_env
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


class WarningFeedSettings(BaseSettings):
    """Where warnings go and the key they are signed with: the 智慧监督 platform
    (PUBREV_ZHIHUI_*; tools/feed_receiver.py locally, which accepts the development key).
    To rotate the key, the receiver first accepts the new key id, then PUBREV_ZHIHUI_KEY_ID
    and PUBREV_ZHIHUI_SECRET change together. Production refuses an http:// URL and a
    development or short secret (servicekit.push)."""

    # Errors never show the inputs: they hold the secret.
    model_config = SettingsConfigDict(env_prefix="PUBREV_ZHIHUI_", extra="ignore",
                                      populate_by_name=True, hide_input_in_errors=True)

    url: str = "http://127.0.0.1:18080/feeds/zhihui"
    key_id: str = DEV_KEY_ID
    secret: SecretStr = SecretStr(dev_secret(ZHIHUI))
    max_attempts: int = 8
    environment: Environment = Field(Environment.development,
                                     validation_alias="PUBREV_ENVIRONMENT")

    @model_validator(mode="after")
    def _safe(self) -> WarningFeedSettings:
        self.check(self.environment)
        return self

    def check(self, environment: Environment) -> None:
        """Raises ValueError with every reason these settings may not serve `environment`."""
        if environment is not Environment.production:
            return
        problems = production_refusals("PUBREV_ZHIHUI_URL", self.url, "PUBREV_ZHIHUI_SECRET",
                                       self.secret.get_secret_value())
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))

    def config(self, schema: dict[str, object]) -> FeedConfig:
        return FeedConfig(ZHIHUI, self.url,
                          FeedKey(self.key_id, self.secret.get_secret_value().encode()),
                          schema, max_attempts=self.max_attempts)


def open_complaints(app: CaseworkApplication) -> Iterator[OpenComplaint]:
    """The open complaint cases whose complainant has not been told the result yet."""
    for row in app.read_model.cases(list(COUNTY_UNITS), "", None, ""):
        if row.kind != "complaint" or row.status == "closed":
            continue
        case = app.case(row.case_id)
        if not case.feedback_given:
            yield OpenComplaint(row.case_id, case.unit, case.community_code, case.received_at)


def build(settings: ServiceSettings, clock: Clock = _utcnow,
          feed: WarningFeedSettings | None = None) -> ServiceParts:
    feed = feed or WarningFeedSettings(environment=settings.environment)
    feed.check(settings.environment)  # also feed settings made for another environment
    app = CaseworkApplication(env=eventsourcing_env(settings.service_database_url), clock=clock)
    policy = WarningsPolicy(app, clock)
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    schema = json.loads((SCHEMAS / f"{ZHIHUI}.schema.json").read_text(encoding="utf-8"))
    configs = {ZHIHUI: feed.config(schema)}
    outbox = PushOutbox(configs, clock=clock)
    projector = make_projector(app.process_recorder, app.mapper.to_domain_event, pool, outbox)
    app.wire(PostgresPersonalDataVault(pool), PostgresCaseReadModel(projector, pool))
    pusher = Pusher(pool, configs, clock=clock)

    def feedback_sweep() -> int:
        app.read_model.catch_up()
        return policy.sweep_complaint_feedback(open_complaints(app))

    return ServiceParts(
        settings=settings,
        identity_rules=IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS),
        app=app,
        grpc_service_names=[SERVICE_NAME],
        register_grpc=register(app, policy),
        topic=CASEWORK_EVENTS,
        translate=contract_translator("/pubrev/casework", app.mapper.to_domain_event,
                                      to_contract),
        subscriptions=[*subscriptions(app), *warning_subscriptions(policy)],
        projector=projector,
        periodic=[
            PeriodicJob("complaint-feedback", timedelta(hours=1).total_seconds(),
                        feedback_sweep),
            PeriodicJob("quota-pace", timedelta(hours=6).total_seconds(),
                        lambda: policy.sweep_quota_pace(PACED_UNITS)),
        ],
        background=[pusher.run],
        closers=[pusher.close, pool.close],
    )
