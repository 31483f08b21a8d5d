"""Personal data under envelope encryption, and the record of every read of it.

Each case's name and phone are sealed with a data key of its own (AES-256-GCM, the case id
authenticated with them); the event store holds only that ciphertext. The data key itself
is stored only wrapped by the key-encryption key (application.ports.KeyEncryptionKey: a
local key file in development, Vault transit in production), in a PostgreSQL schema of
its own, `pd_keyring`:

- owned by the group role `pubrev_casework_keyring` (NOLOGIN): the api's login is its
  member and alone reads and writes wrapped keys;
- `pubrev_casework_shredder` (NOLOGIN), the projector's, sees which cases hold a key and
  since when (columns `case_id`, `created_at`) and destroys keys, but never reads one;
- every other role (the relay's, the consumer's) is refused the schema.

Every statement on the keyring runs under `SET LOCAL ROLE` of one of the two, so the grants
decide even for a superuser in development. The keyring is reached through its own pool,
whose login (PUBREV_KEYRING_DATABASE_URL: the api's a member of the keyring role, the
projector's of the shredder role) is not the one the service uses for its events and read
models; in development both are the one login. Shredding deletes the wrapped key: the
ciphertext in the events can never be opened again. Keys kept in clear by earlier versions
(`public.pd_keys`) are wrapped at the api's start, and that table dropped.

Every disclosure of personal data is recorded in `pd_reads` (append-only: a trigger refuses
UPDATE, DELETE and TRUNCATE) before the data is handed out.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql
from psycopg_pool import ConnectionPool
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casework.adapters.kek import (
    KubernetesLogin,
    LocalKek,
    NoKek,
    TokenFile,
    TokenSource,
    VaultTransit,
)
from casework.application.ports import (
    HeldKey,
    KeyEncryptionKey,
    KeyProviderError,
    PersonalDataRead,
    WrappedKey,
)
from casework.domain.case import PersonalDataRetention
from servicekit.clock import Clock, utc_now
from servicekit.settings import Environment, with_database

log = logging.getLogger(__name__)

VERSION = "v1"
"""The sealing of the name and phone (unchanged by envelope encryption: only where the
data key is kept changed)."""
SCHEMA = "pd_keyring"
KEYRING_ROLE = "pubrev_casework_keyring"
SHREDDER_ROLE = "pubrev_casework_shredder"
_LOCK = 0x70645F6B6579  # pg advisory lock of the keyring's setup and migrations ("pd_key")
DEV_KEK_FILE = Path(__file__).resolve().parents[5] / ".local" / "dev-keys" / "casework-kek.json"
ROLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"


def _seal(key: bytes, case_id: uuid.UUID, data: dict[str, str]) -> str:
    nonce = os.urandom(12)
    # The case id is authenticated with the data: a ciphertext moved to another case fails.
    sealed = AESGCM(key).encrypt(nonce, json.dumps(data).encode(), case_id.bytes)
    return f"{VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def _open(key: bytes, case_id: uuid.UUID, sealed: str) -> dict[str, str]:
    version, _, text = sealed.partition(":")
    if version != VERSION:
        raise ValueError(f"unknown sealing {version[:8]}")
    raw = base64.b64decode(text)
    data: dict[str, str] = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], case_id.bytes))
    return data


class Keyring(Protocol):
    """Where the wrapped data keys are kept."""

    def put(self, case_id: uuid.UUID, wrapped: WrappedKey) -> None: ...
    def get(self, case_id: uuid.UUID) -> WrappedKey | None: ...
    def destroy(self, case_id: uuid.UUID) -> None: ...
    def held(self) -> list[HeldKey]: ...
    def stale(self, kek_id: str, version: int) -> list[tuple[uuid.UUID, WrappedKey]]: ...
    def replace(self, case_id: uuid.UUID, old: WrappedKey, new: WrappedKey) -> bool: ...


class EnvelopeVault:
    """application.ports.PersonalDataVault: a data key per case, stored wrapped."""

    def __init__(self, keyring: Keyring, kek: KeyEncryptionKey) -> None:
        self.keyring = keyring
        self.kek = kek

    def seal(self, case_id: uuid.UUID, data: dict[str, str]) -> str:
        key = AESGCM.generate_key(bit_length=256)
        self.keyring.put(case_id, self.kek.wrap(key, case_id.bytes))
        return _seal(key, case_id, data)

    def open(self, case_id: uuid.UUID, sealed: str) -> dict[str, str] | None:
        wrapped = self.keyring.get(case_id)
        if wrapped is None:
            return None
        return _open(self.kek.unwrap(wrapped, case_id.bytes), case_id, sealed)

    def shred(self, case_id: uuid.UUID) -> None:
        self.keyring.destroy(case_id)

    def held(self) -> list[HeldKey]:
        return self.keyring.held()

    def rewrap_stale(self) -> int:
        """Re-wraps every key wrapped by an older version of the KEK under the current one
        (after a rotation); how many. Keys of another KEK cannot be re-wrapped here: they
        are logged, and stay readable only while that KEK is the one configured."""
        current = self.kek.current_version()
        done = foreign = 0
        for case_id, wrapped in self.keyring.stale(self.kek.kek_id, current):
            if wrapped.kek_id != self.kek.kek_id:
                foreign += 1
                continue
            if self.keyring.replace(case_id, wrapped, self.kek.rewrap(wrapped, case_id.bytes)):
                done += 1
        if foreign:
            log.error(
                "data keys wrapped by another key-encryption key than the one "
                "configured: they do not open until it is configured again",
                extra={"keys": foreign, "kek_id": self.kek.kek_id},
            )
        if done:
            log.info(
                "data keys re-wrapped under the current KEK version",
                extra={"keys": done, "kek_id": self.kek.kek_id, "version": current},
            )
        return done


class InMemoryKeyring:
    """A fake for unit tests: wrapped keys in a dict."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.keys: dict[uuid.UUID, tuple[WrappedKey, datetime]] = {}

    def put(self, case_id: uuid.UUID, wrapped: WrappedKey) -> None:
        self.keys[case_id] = (wrapped, self.clock())

    def get(self, case_id: uuid.UUID) -> WrappedKey | None:
        entry = self.keys.get(case_id)
        return entry[0] if entry else None

    def destroy(self, case_id: uuid.UUID) -> None:
        self.keys.pop(case_id, None)

    def held(self) -> list[HeldKey]:
        return [HeldKey(case_id, at) for case_id, (_, at) in self.keys.items()]

    def stale(self, kek_id: str, version: int) -> list[tuple[uuid.UUID, WrappedKey]]:
        return [
            (c, w)
            for c, (w, _) in self.keys.items()
            if w.kek_id != kek_id or w.kek_version < version
        ]

    def replace(self, case_id: uuid.UUID, old: WrappedKey, new: WrappedKey) -> bool:
        entry = self.keys.get(case_id)
        if entry is None or entry[0] != old:
            return False
        self.keys[case_id] = (new, entry[1])
        return True


class KeyringNotAvailable(RuntimeError):
    """This database login may not do that on the keyring (it is not the api's)."""


class PostgresKeyring:
    """The wrapped keys in schema `pd_keyring` (see the module's docstring)."""

    def __init__(
        self,
        pool: ConnectionPool,
        keyring_role: str = KEYRING_ROLE,
        shredder_role: str = SHREDDER_ROLE,
    ) -> None:
        self.pool = pool
        self.keyring_role = keyring_role
        self.shredder_role = shredder_role
        self._keeper = False
        self._shredder = False

    # -- setup (at start) --------------------------------------------------------------------

    def setup(self) -> bool:
        """Creates the group roles when missing (if this login may create roles), then, when
        this login belongs to the keyring role (the api's; a superuser in development), the
        schema and table and the shredder's grants. Whether this login keeps the keyring."""
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            may_create = conn.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            for role in (self.keyring_role, self.shredder_role):
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
                ).fetchone()
                if not exists and may_create and may_create[0]:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            self._keeper = self._member(conn, self.keyring_role)
            self._shredder = self._keeper or self._member(conn, self.shredder_role)
            if not self._keeper:
                return False
            schema, keeper = sql.Identifier(SCHEMA), sql.Identifier(self.keyring_role)
            if not conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)
            ).fetchone():
                # Needs CREATE on the database; once made, the keyring role owns it.
                try:
                    conn.execute(
                        sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(schema, keeper)
                    )
                except psycopg.errors.InsufficientPrivilege:
                    raise KeyringNotAvailable(
                        f"schema {SCHEMA} does not exist and this login may not create it: "
                        f"CREATE SCHEMA {SCHEMA} AUTHORIZATION {self.keyring_role} (as the "
                        "database's owner)"
                    ) from None
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(keeper))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.data_keys ("
                    " case_id uuid PRIMARY KEY, kek_id text NOT NULL,"
                    " kek_version integer NOT NULL CHECK (kek_version > 0),"
                    # A wrapped key is always longer than a bare 256-bit key.
                    " wrapped bytea NOT NULL CHECK (octet_length(wrapped) > 32),"
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " rewrapped_at timestamptz)"
                ).format(schema)
            )
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
            conn.execute(sql.SQL("REVOKE ALL ON {}.data_keys FROM PUBLIC").format(schema))
            shredder = sql.Identifier(self.shredder_role)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, shredder))
            conn.execute(
                sql.SQL("GRANT SELECT (case_id, created_at), DELETE ON {}.data_keys TO {}").format(
                    schema, shredder
                )
            )
        return True

    def _member(self, conn: psycopg.Connection[Any], role: str) -> bool:
        # The session user: SET ROLE is allowed by its memberships, whatever role the
        # session runs as by default.
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)"
            " AND pg_has_role(session_user, (SELECT oid FROM pg_roles WHERE rolname = %s),"
            " 'MEMBER')",
            (role, role),
        ).fetchone()
        return bool(row and row[0])

    def adopt_clear_keys(self, kek: KeyEncryptionKey, source: ConnectionPool) -> int:
        """Wraps the keys an earlier version kept in clear (`public.pd_keys`, read through
        `source`, the service's own login that made that table), then drops that table;
        how many. Idempotent and safe to stop anywhere: a key wrapped before is kept as it
        is, and the table goes only once every key of it is wrapped."""
        if not self._keeper:
            raise KeyringNotAvailable("only the keyring's login adopts clear keys")
        with source.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            found = conn.execute("SELECT to_regclass('public.pd_keys')").fetchone()
            if not found or found[0] is None:
                return 0
            rows = conn.execute("SELECT case_id, key FROM public.pd_keys").fetchall()
            wrapped = [(case_id, kek.wrap(bytes(key), case_id.bytes)) for case_id, key in rows]
            with self.pool.connection() as keys:
                self._as(keys, keeper=True)
                with keys.cursor() as cur:
                    cur.executemany(
                        sql.SQL(
                            "INSERT INTO {} (case_id, kek_id, kek_version, wrapped)"
                            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
                        ).format(self._table()),
                        [(c, w.kek_id, w.kek_version, w.ciphertext) for c, w in wrapped],
                    )
            # Dropped, not emptied: deleted rows would linger in the table's file until a
            # vacuum; a dropped table's file is unlinked.
            try:
                conn.execute("DROP TABLE public.pd_keys")
            except psycopg.errors.InsufficientPrivilege:
                raise KeyringNotAvailable(
                    "public.pd_keys (data keys in clear from before envelope encryption) is "
                    "wrapped but may not be dropped by this login: drop it as its owner"
                ) from None
        log.warning(
            "data keys kept in clear were wrapped and their table dropped; backups "
            "taken before now still hold them in clear",
            extra={"keys": len(wrapped), "kek_id": kek.kek_id},
        )
        return len(wrapped)

    # -- use ---------------------------------------------------------------------------------

    def _as(self, conn: psycopg.Connection[Any], keeper: bool) -> None:
        if keeper and not self._keeper:
            raise KeyringNotAvailable(
                "this database login does not keep the keyring (the api's login does)"
            )
        if not keeper and not self._shredder:
            raise KeyringNotAvailable("this database login may not destroy data keys")
        role = self.keyring_role if self._keeper else self.shredder_role
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))

    def _table(self) -> sql.Composed:
        return sql.SQL("{}.data_keys").format(sql.Identifier(SCHEMA))

    def put(self, case_id: uuid.UUID, wrapped: WrappedKey) -> None:
        with self.pool.connection() as conn:
            self._as(conn, keeper=True)
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (case_id, kek_id, kek_version, wrapped) VALUES (%s, %s, %s, %s)"
                ).format(self._table()),
                (case_id, wrapped.kek_id, wrapped.kek_version, wrapped.ciphertext),
            )

    def get(self, case_id: uuid.UUID) -> WrappedKey | None:
        with self.pool.connection() as conn:
            self._as(conn, keeper=True)
            row = conn.execute(
                sql.SQL("SELECT kek_id, kek_version, wrapped FROM {} WHERE case_id = %s").format(
                    self._table()
                ),
                (case_id,),
            ).fetchone()
        return WrappedKey(row[0], row[1], bytes(row[2])) if row else None

    def destroy(self, case_id: uuid.UUID) -> None:
        with self.pool.connection() as conn:
            self._as(conn, keeper=False)
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE case_id = %s").format(self._table()), (case_id,)
            )

    def held(self) -> list[HeldKey]:
        with self.pool.connection() as conn:
            self._as(conn, keeper=False)
            rows = conn.execute(
                sql.SQL("SELECT case_id, created_at FROM {} ORDER BY created_at").format(
                    self._table()
                )
            ).fetchall()
        return [HeldKey(r[0], r[1]) for r in rows]

    def stale(self, kek_id: str, version: int) -> list[tuple[uuid.UUID, WrappedKey]]:
        with self.pool.connection() as conn:
            self._as(conn, keeper=True)
            rows = conn.execute(
                sql.SQL(
                    "SELECT case_id, kek_id, kek_version, wrapped FROM {}"
                    " WHERE kek_id <> %s OR kek_version < %s"
                ).format(self._table()),
                (kek_id, version),
            ).fetchall()
        return [(r[0], WrappedKey(r[1], r[2], bytes(r[3]))) for r in rows]

    def replace(self, case_id: uuid.UUID, old: WrappedKey, new: WrappedKey) -> bool:
        """Swaps a wrapped key for its re-wrapped self, unless it changed meanwhile."""
        with self.pool.connection() as conn:
            self._as(conn, keeper=True)
            done = conn.execute(
                sql.SQL(
                    "UPDATE {} SET kek_id = %s, kek_version = %s, wrapped = %s,"
                    " rewrapped_at = now() WHERE case_id = %s AND kek_id = %s"
                    " AND kek_version = %s AND wrapped = %s"
                ).format(self._table()),
                (
                    new.kek_id,
                    new.kek_version,
                    new.ciphertext,
                    case_id,
                    old.kek_id,
                    old.kek_version,
                    old.ciphertext,
                ),
            )
            return done.rowcount == 1


# -- the record of reads ---------------------------------------------------------------------

READS_DDL = [
    """CREATE TABLE IF NOT EXISTS pd_reads (
    read_id bigserial PRIMARY KEY, read_at timestamptz NOT NULL, case_id uuid NOT NULL,
    unit text NOT NULL, reader text NOT NULL, via text NOT NULL, purpose text NOT NULL,
    note text NOT NULL, fields text[] NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS pd_reads_by_unit ON pd_reads (unit, read_id)",
    "CREATE INDEX IF NOT EXISTS pd_reads_by_case ON pd_reads (case_id, read_id)",
    """CREATE OR REPLACE FUNCTION pd_reads_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
    RAISE EXCEPTION 'pd_reads is append-only: a recorded read is never changed or removed';
    END $$""",
    """CREATE OR REPLACE TRIGGER pd_reads_no_change BEFORE UPDATE OR DELETE ON pd_reads
    FOR EACH ROW EXECUTE FUNCTION pd_reads_append_only()""",
    """CREATE OR REPLACE TRIGGER pd_reads_no_truncate BEFORE TRUNCATE ON pd_reads
    FOR EACH STATEMENT EXECUTE FUNCTION pd_reads_append_only()""",
]


class PostgresReadLog:
    """application.ports.PersonalDataReadLog in table `pd_reads`: a read is committed
    before `record` returns, so before the data is handed out."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def setup(self) -> None:
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK + 1,))
            for statement in READS_DDL:
                conn.execute(statement)

    def record(self, read: PersonalDataRead) -> PersonalDataRead:
        with self.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO pd_reads (read_at, case_id, unit, reader, via, purpose, note,"
                " fields) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING read_id",
                (
                    read.read_at,
                    uuid.UUID(read.case_id),
                    read.unit,
                    read.reader,
                    read.via,
                    read.purpose,
                    read.note,
                    list(read.fields),
                ),
            ).fetchone()
        assert row is not None
        return PersonalDataRead(
            read.read_at,
            read.case_id,
            read.unit,
            read.reader,
            read.via,
            read.purpose,
            read.note,
            read.fields,
            row[0],
        )

    def reads(
        self,
        units: list[str],
        case_id: str,
        since: datetime | None,
        until: datetime | None,
        after_id: int,
        limit: int,
    ) -> list[PersonalDataRead]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT read_at, case_id, unit, reader, via, purpose, note, fields, read_id"
                " FROM pd_reads WHERE unit = ANY(%s) AND read_id > %s"
                " AND (%s::uuid IS NULL OR case_id = %s::uuid)"
                " AND (%s::timestamptz IS NULL OR read_at >= %s)"
                " AND (%s::timestamptz IS NULL OR read_at < %s)"
                " ORDER BY read_id LIMIT %s",
                (
                    units,
                    after_id,
                    case_id or None,
                    case_id or None,
                    since,
                    since,
                    until,
                    until,
                    limit,
                ),
            ).fetchall()
        return [
            PersonalDataRead(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], tuple(r[7]), r[8])
            for r in rows
        ]


class InMemoryReadLog:
    """A fake for unit tests: the same filters, in a list."""

    def __init__(self) -> None:
        self.entries: list[PersonalDataRead] = []

    def record(self, read: PersonalDataRead) -> PersonalDataRead:
        recorded = PersonalDataRead(
            read.read_at,
            read.case_id,
            read.unit,
            read.reader,
            read.via,
            read.purpose,
            read.note,
            read.fields,
            len(self.entries) + 1,
        )
        self.entries.append(recorded)
        return recorded

    def reads(
        self,
        units: list[str],
        case_id: str,
        since: datetime | None,
        until: datetime | None,
        after_id: int,
        limit: int,
    ) -> list[PersonalDataRead]:
        return [
            r
            for r in self.entries
            if r.unit in units
            and r.read_id > after_id
            and (not case_id or r.case_id == case_id)
            and (since is None or r.read_at >= since)
            and (until is None or r.read_at < until)
        ][:limit]


def in_memory_vault(kek: KeyEncryptionKey | None = None, clock: Clock = utc_now) -> EnvelopeVault:
    """The envelope vault on an in-memory keyring (unit tests): the same encryption and
    wrapping as in production."""
    return EnvelopeVault(InMemoryKeyring(clock), kek or LocalKek.ephemeral())


# -- the settings, and the vault and read log they open ------------------------------------------


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
      (local configuration; domain.case.PersonalDataRetention says why 365).
    - `PUBREV_KEYRING_DATABASE_URL`: the login the wrapped keys are reached with (the
      api's: a member of `PUBREV_KEYRING_ROLE`; the projector's: of
      `PUBREV_SHREDDER_ROLE`); its database is always the service's. Unset: the service's
      own login (development, where it is a superuser).
    - `PUBREV_KEYRING_ROLE`, `PUBREV_SHREDDER_ROLE`: the database group roles that keep the
      wrapped keys and that destroy them."""

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
