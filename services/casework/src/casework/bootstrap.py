"""The one place that wires the casework service together."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from psycopg_pool import ConnectionPool
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casework.adapters.contract_events import to_contract
from casework.adapters.kek import (
    KubernetesLogin,
    LocalKek,
    NoKek,
    TokenFile,
    TokenSource,
    VaultTransit,
)
from casework.adapters.personal_data import (
    KEYRING_ROLE,
    SHREDDER_ROLE,
    EnvelopeVault,
    PostgresKeyring,
    PostgresReadLog,
)
from casework.adapters.read_model import ZHIHUI, PostgresCaseReadModel, make_projector
from casework.application.app import (
    CaseworkApplication,
    Clock,
    PersonalDataRetention,
    _utcnow,
)
from casework.application.ports import KeyEncryptionKey, KeyProviderError
from casework.application.warnings import OpenComplaint, WarningsPolicy
from casework.entrypoints.consumers import subscriptions
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from casework.entrypoints.warning_consumers import PACED_UNITS, warning_subscriptions
from pubrev_contracts.topics import CASEWORK_EVENTS
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import COUNTY_UNITS, UNITS
from servicekit.identity import IdentityRules
from servicekit.postgres import eventsourcing_env
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
from servicekit.settings import Environment, ServiceSettings, with_database

ROOT = Path(__file__).resolve().parents[4]
SCHEMAS = ROOT / "contracts" / "feeds"
DEV_KEK_FILE = ROOT / ".local" / "dev-keys" / "casework-kek.json"
ROLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"

log = logging.getLogger(__name__)


class KekProvider(StrEnum):
    local = "local"
    vault = "vault"


class PersonalDataSettings(BaseSettings):
    """Where the key-encryption key is and how long personal data is kept.

    - `PUBREV_KEK_PROVIDER=local` (development, test): the KEK in `PUBREV_KEK_FILE`
      (default `.local/dev-keys/casework-kek.json`, made on first start). Refused in
      production.
    - `PUBREV_KEK_PROVIDER=vault` (production): Vault's transit engine at
      `PUBREV_VAULT_ADDR` (https in production), key `PUBREV_VAULT_TRANSIT_KEY` on mount
      `PUBREV_VAULT_TRANSIT_MOUNT`; the token from `PUBREV_VAULT_TOKEN_FILE` (kept fresh by
      Vault Agent) or by Kubernetes auth (`PUBREV_VAULT_AUTH_ROLE`, the projected
      service-account token in `PUBREV_VAULT_JWT_FILE`). Only the api uses it; the other
      roles never call Vault, so they need no token.
    - `PUBREV_PII_RETENTION_DAYS`: days a closed complaint's name and phone are kept
      (local configuration; application.app.PersonalDataRetention says why 365).
    - `PUBREV_KEYRING_DATABASE_URL`: the login the wrapped keys are reached with (the
      api's: a member of `PUBREV_KEYRING_ROLE`; the projector's: of
      `PUBREV_SHREDDER_ROLE`); its database is always the service's. Unset: the service's
      own login (development, where it is a superuser).
    - `PUBREV_KEYRING_ROLE`, `PUBREV_SHREDDER_ROLE`: the database group roles that keep the
      wrapped keys and that destroy them (adapters.personal_data)."""

    model_config = SettingsConfigDict(
        env_prefix="PUBREV_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    kek_provider: KekProvider = KekProvider.local
    kek_file: Path | None = None
    vault_addr: str = ""
    vault_transit_mount: str = Field("transit", pattern=r"^[a-z0-9][a-z0-9_/-]{0,63}$")
    vault_transit_key: str = Field("casework-pii", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    vault_namespace: str = ""
    vault_token_file: Path | None = None
    vault_auth_role: str = ""
    vault_auth_mount: str = Field("kubernetes", pattern=r"^[a-z0-9][a-z0-9_/-]{0,63}$")
    vault_jwt_file: Path = Path("/var/run/secrets/vault/token")
    vault_ca_file: Path | None = None
    pii_retention_days: int = Field(365, ge=1, le=3650)
    keyring_database_url: SecretStr | None = None
    keyring_role: str = Field(KEYRING_ROLE, pattern=ROLE_NAME)
    shredder_role: str = Field(SHREDDER_ROLE, pattern=ROLE_NAME)
    environment: Environment = Field(Environment.development, validation_alias="PUBREV_ENVIRONMENT")

    @model_validator(mode="after")
    def _safe(self) -> PersonalDataSettings:
        self.check(self.environment)
        return self

    def check(self, environment: Environment) -> None:
        """Raises ValueError with every reason these settings may not serve `environment`."""
        problems = []
        if self.kek_provider is KekProvider.vault:
            if not self.vault_addr.startswith(("https://", "http://")):
                problems.append("PUBREV_VAULT_ADDR must be Vault's URL")
            if not self.vault_token_file and not self.vault_auth_role:
                problems.append("Vault needs PUBREV_VAULT_TOKEN_FILE or PUBREV_VAULT_AUTH_ROLE")
        if environment is Environment.production:
            if self.kek_provider is KekProvider.local:
                problems.append(
                    "PUBREV_KEK_PROVIDER=local is refused in production: a key "
                    "file beside the database protects nothing; use vault"
                )
            elif not self.vault_addr.startswith("https://"):
                problems.append("PUBREV_VAULT_ADDR must be an https:// URL in production")
        if problems:
            raise ValueError("personal-data keys: " + "; ".join(problems))

    def retention(self) -> PersonalDataRetention:
        return PersonalDataRetention(days_after_closure=self.pii_retention_days)

    def kek(self) -> KeyEncryptionKey:
        """The configured provider; nothing is contacted yet."""
        if self.kek_provider is KekProvider.local:
            return LocalKek.create_file(self.kek_file or DEV_KEK_FILE)
        tokens: TokenSource = (
            TokenFile(self.vault_token_file)
            if self.vault_token_file
            else KubernetesLogin(self.vault_auth_role, self.vault_jwt_file, self.vault_auth_mount)
        )
        return VaultTransit(
            self.vault_addr,
            self.vault_transit_key,
            tokens,
            mount=self.vault_transit_mount,
            namespace=self.vault_namespace,
            verify=str(self.vault_ca_file) if self.vault_ca_file else True,
        )


class WarningFeedSettings(BaseSettings):
    """Where warnings go and the key they are signed with: the 智慧监督 platform
    (PUBREV_ZHIHUI_*; tools/feed_receiver.py locally, which accepts the development key).
    To rotate the key, the receiver first accepts the new key id, then PUBREV_ZHIHUI_KEY_ID
    and PUBREV_ZHIHUI_SECRET change together. Production refuses an http:// URL and a
    development or short secret (servicekit.push)."""

    # Errors never show the inputs: they hold the secret.
    model_config = SettingsConfigDict(
        env_prefix="PUBREV_ZHIHUI_",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    url: str = "http://127.0.0.1:18080/feeds/zhihui"
    key_id: str = DEV_KEY_ID
    secret: SecretStr = SecretStr(dev_secret(ZHIHUI))
    max_attempts: int = 8
    environment: Environment = Field(Environment.development, validation_alias="PUBREV_ENVIRONMENT")

    @model_validator(mode="after")
    def _safe(self) -> WarningFeedSettings:
        self.check(self.environment)
        return self

    def check(self, environment: Environment) -> None:
        """Raises ValueError with every reason these settings may not serve `environment`."""
        if environment is not Environment.production:
            return
        problems = production_refusals(
            "PUBREV_ZHIHUI_URL", self.url, "PUBREV_ZHIHUI_SECRET", self.secret.get_secret_value()
        )
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))

    def config(self, schema: dict[str, object]) -> FeedConfig:
        return FeedConfig(
            ZHIHUI,
            self.url,
            FeedKey(self.key_id, self.secret.get_secret_value().encode()),
            schema,
            max_attempts=self.max_attempts,
        )


def open_complaints(app: CaseworkApplication) -> Iterator[OpenComplaint]:
    """The open complaint cases whose complainant has not been told the result yet."""
    for row in app.read_model.cases(list(COUNTY_UNITS), "", None, ""):
        if row.kind != "complaint" or row.status == "closed":
            continue
        case = app.case(row.case_id)
        if not case.feedback_given:
            yield OpenComplaint(row.case_id, case.unit, case.community_code, case.received_at)


def personal_data(
    pool: ConnectionPool,
    settings: PersonalDataSettings,
    database_url: str,
    environment: Environment,
) -> tuple[EnvelopeVault, PostgresReadLog, list[ConnectionPool]]:
    """The envelope vault and the read log, and the keyring's own pool (to close). Only
    the login that keeps the keyring (the api's; in development the one login of every
    role) gets the key-encryption key: it sets the keyring up, wraps keys that earlier
    versions kept in clear and re-wraps keys of an older KEK version. The projector's login
    only destroys keys; the relay's and consumer's reach none."""
    pools = []
    keyring_pool = pool
    if settings.keyring_database_url is not None:
        dbname = urlsplit(database_url).path.lstrip("/")
        keyring_pool = ConnectionPool(
            with_database(settings.keyring_database_url.get_secret_value(), dbname),
            min_size=1,
            max_size=4,
            open=True,
        )
        pools.append(keyring_pool)
    keyring = PostgresKeyring(keyring_pool, settings.keyring_role, settings.shredder_role)
    reads = PostgresReadLog(pool)
    if not keyring.setup():
        return EnvelopeVault(keyring, NoKek()), reads, pools
    if keyring_pool is pool and environment is Environment.production:
        # Then every role, relay and consumer included, could read the wrapped keys.
        raise ValueError(
            "personal-data keys: the service's own database login belongs to "
            f"{settings.keyring_role}; in production only the api's "
            "PUBREV_KEYRING_DATABASE_URL login may"
        )
    kek = settings.kek()
    vault = EnvelopeVault(keyring, kek)
    reads.setup()
    keyring.adopt_clear_keys(kek, pool)  # must succeed: those keys open nothing until wrapped
    try:
        vault.rewrap_stale()
    except KeyProviderError:
        # Keys under an older version still unwrap: retried at the next start.
        log.exception("re-wrapping data keys under the current KEK version failed")
    return vault, reads, pools


def build(
    settings: ServiceSettings,
    clock: Clock = _utcnow,
    feed: WarningFeedSettings | None = None,
    pd: PersonalDataSettings | None = None,
) -> ServiceParts:
    feed = feed or WarningFeedSettings(environment=settings.environment)
    feed.check(settings.environment)  # also feed settings made for another environment
    pd = pd or PersonalDataSettings(environment=settings.environment)
    pd.check(settings.environment)
    app = CaseworkApplication(
        env=eventsourcing_env(settings.service_database_url), clock=clock, retention=pd.retention()
    )
    # Stored means publishable: each new event goes through the relay's own translation
    # (from the domain event, not yet stored) and is held to the topic's size first.
    app.publish_check = publish_check(
        contract_translator("/pubrev/casework", lambda event: event, to_contract)
    )
    policy = WarningsPolicy(app, clock)
    pool = ConnectionPool(settings.service_database_url, min_size=1, max_size=8, open=True)
    schema = json.loads((SCHEMAS / f"{ZHIHUI}.schema.json").read_text(encoding="utf-8"))
    configs = {ZHIHUI: feed.config(schema)}
    outbox = PushOutbox(configs, clock=clock)
    projector = make_projector(app.process_recorder, app.mapper.to_domain_event, pool, outbox)
    vault, reads, keyring_pools = personal_data(
        pool, pd, settings.service_database_url, settings.environment
    )
    app.wire(vault, PostgresCaseReadModel(projector, pool), reads)
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
        translate=contract_translator("/pubrev/casework", app.mapper.to_domain_event, to_contract),
        subscriptions=[*subscriptions(app), *warning_subscriptions(policy)],
        projector=projector,
        periodic=[
            PeriodicJob("complaint-feedback", timedelta(hours=1).total_seconds(), feedback_sweep),
            PeriodicJob(
                "quota-pace",
                timedelta(hours=6).total_seconds(),
                lambda: policy.sweep_quota_pace(PACED_UNITS),
            ),
            PeriodicJob(
                "personal-data-retention",
                timedelta(hours=6).total_seconds(),
                app.shred_expired_personal_data,
            ),
        ],
        background=[pusher.run],
        pushers=[pusher],
        closers=[
            pusher.close,
            pool.close,
            *(p.close for p in keyring_pools),
            *([vault.kek.close] if isinstance(vault.kek, VaultTransit) else []),
        ],
    )
