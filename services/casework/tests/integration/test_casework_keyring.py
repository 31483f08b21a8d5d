"""Regression test of issue 10's "per-case PII keys sit in clear in the same database as
the ciphertext", on the real PostgreSQL. Written before the fix and seen failing on it.

It knows nothing of how keys are kept: it receives a complaint through the service as
bootstrap builds it, then tries every value of every bytea column (and every text value
that is base64 of 32 bytes) of the service's database as the AES-256-GCM key of the sealed
name and phone. Any value that opens them is a data key in clear."""

from __future__ import annotations

import base64
import binascii
import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql
from psycopg_pool import ConnectionPool

from casework.adapters.kek import LocalKek, NoKek
from casework.adapters.personal_data import (
    DEV_KEK_FILE,
    KEYRING_ROLE,
    SHREDDER_ROLE,
    EnvelopeVault,
    KeyringNotAvailable,
    PersonalDataSettings,
    PostgresKeyring,
    _seal,
    personal_data,
)
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import ReadComplainant
from casework.application.ports import WrappedKey
from casework.application.sweeps import shred_expired_personal_data
from casework.bootstrap import build
from servicekit.identity import Identity
from servicekit.runtime import close
from servicekit.settings import Environment, ServiceSettings
from servicekit.testing import FakeClock
from services.casework.tests.support.fake_vault import FakeVaultTransit
from services.casework.tests.support.scenario import (
    NAME,
    OFFICER,
    PHONE,
    WHEN,
    close_complaint,
    complaint,
)

pytestmark = pytest.mark.infra


def candidate_keys(url: str) -> Iterator[tuple[str, bytes]]:
    """(where, value) for every 32-byte value stored in the database, in any schema."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type"
            " FROM information_schema.columns WHERE data_type IN ('bytea', 'text')"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table, column, kind in columns:
            query = sql.SQL("SELECT {} FROM {}.{}").format(
                sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table)
            )
            for (value,) in conn.execute(query):
                where = f"{schema}.{table}.{column}"
                if kind == "bytea" and value is not None and len(value) == 32:
                    yield where, bytes(value)
                elif kind == "text" and value is not None and len(value) == 44:
                    try:
                        raw = base64.b64decode(value, validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    if len(raw) == 32:
                        yield where, raw


def opens(key: bytes, case_id: uuid.UUID, sealed: str) -> bool:
    raw = base64.b64decode(sealed.partition(":")[2])
    try:
        AESGCM(key).decrypt(raw[:12], raw[12:], case_id.bytes)
    except InvalidTag:
        return False
    return True


def test_no_data_key_is_in_clear_in_the_database(service_settings) -> None:
    settings = service_settings("casework")
    parts = build(settings)
    try:
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        case_id = app.handle(OFFICER, complaint()).case_id
        case = app.case(case_id)
        assert case.sealed_personal_data
        found = [
            where
            for where, key in candidate_keys(settings.service_database_url)
            if opens(key, case.id, case.sealed_personal_data)
        ]
        assert found == [], f"a clear data key of the case is stored in {found}"
    finally:
        close(parts)


# -- the keyring's schema and roles, on the real PostgreSQL -----------------------------------


@contextlib.contextmanager
def login(admin_url: str, *member_of: str) -> Iterator[str]:
    """A throwaway login role, member of `member_of`; its URL on the database of
    `admin_url`. Dropped afterwards."""
    name = f"t_login_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        for role in member_of:
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(name))
            )
    parts = urlsplit(admin_url)
    url = urlunsplit(parts._replace(netloc=f"{name}@{parts.hostname}:{parts.port}"))
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def casework(settings: ServiceSettings, **kwargs: Any) -> Iterator[CaseworkApplication]:
    parts = build(settings, **kwargs)
    try:
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        yield app
    finally:
        close(parts)


def test_only_the_keyrings_members_read_wrapped_keys(service_settings) -> None:
    """The relay's and consumer's login (no grant) is refused the schema and the role; the
    projector's (the shredder role) lists and destroys keys but never reads one; the api's
    (the keyring role) keeps them."""
    settings = service_settings("casework")
    url = settings.service_database_url
    with casework(settings) as app:
        case_id = uuid.UUID(app.handle(OFFICER, complaint()).case_id)
        sealed = app.case(str(case_id)).sealed_personal_data
    with login(url) as worker, psycopg.connect(worker) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT wrapped FROM pd_keyring.data_keys")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SET ROLE {KEYRING_ROLE}")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SET ROLE {SHREDDER_ROLE}")
    with login(url, SHREDDER_ROLE) as projector:
        with psycopg.connect(projector) as conn:
            conn.execute(f"SET ROLE {SHREDDER_ROLE}")
            assert conn.execute("SELECT case_id FROM pd_keyring.data_keys").fetchall() == [
                (case_id,)
            ]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT wrapped FROM pd_keyring.data_keys")
        with ConnectionPool(projector, min_size=1, max_size=2) as pool:
            keyring = PostgresKeyring(pool)
            assert keyring.setup() is False  # not the keyring's login
            assert [h.case_id for h in keyring.held()] == [case_id]
            with pytest.raises(KeyringNotAvailable):
                keyring.get(case_id)
            with pytest.raises(KeyringNotAvailable):
                keyring.put(uuid.uuid4(), WrappedKey("local:x", 1, b"y" * 60))
    with login(url, KEYRING_ROLE) as api, ConnectionPool(api, min_size=1, max_size=2) as pool:
        keyring = PostgresKeyring(pool)
        assert keyring.setup() is True
        vault = EnvelopeVault(keyring, LocalKek.create_file(DEV_KEK_FILE))
        assert vault.open(case_id, sealed) == {"name": NAME, "phone": PHONE}
        vault.shred(case_id)
        assert vault.open(case_id, sealed) is None
    with login(url) as worker, ConnectionPool(worker, min_size=1, max_size=2) as pool:
        keyring = PostgresKeyring(pool)
        assert keyring.setup() is False
        with pytest.raises(KeyringNotAvailable):
            keyring.held()


def test_clear_keys_of_earlier_versions_are_wrapped_at_start_and_destroyed(
    service_settings,
) -> None:
    """A database as the version before envelope encryption left it (`pd_keys`, keys in
    clear beside the events): the first start wraps them and drops the table; the name and
    phone still open; a second start finds nothing to do; no clear key is left anywhere."""
    settings = service_settings("casework")
    url = settings.service_database_url
    cases = {uuid.uuid4(): AESGCM.generate_key(bit_length=256) for _ in range(3)}
    sealed = {
        c: _seal(k, c, {"name": f"{NAME}{n}", "phone": PHONE})
        for n, (c, k) in enumerate(cases.items())
    }
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE pd_keys (case_id uuid PRIMARY KEY, key bytea NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO pd_keys VALUES (%s, %s)", list(cases.items()))
    with casework(settings) as app:
        for n, (case_id, text) in enumerate(sealed.items()):
            assert app.vault.open(case_id, text) == {"name": f"{NAME}{n}", "phone": PHONE}
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('public.pd_keys')").fetchone() == (None,)
        stored = conn.execute(
            "SELECT case_id, kek_version, wrapped FROM pd_keyring.data_keys"
        ).fetchall()
    assert {r[0] for r in stored} == set(cases) and {r[1] for r in stored} == {1}
    assert not any(bytes(r[2]) in cases.values() or cases[r[0]] in bytes(r[2]) for r in stored)
    clear = [where for where, key in candidate_keys(url) if key in cases.values()]
    assert clear == []
    with casework(settings) as app:  # idempotent
        assert all(app.vault.open(c, s) is not None for c, s in sealed.items())


def test_a_rotated_kek_rewraps_every_key_at_the_next_start(
    service_settings, tmp_path: Path
) -> None:
    settings = service_settings("casework")
    pd = PersonalDataSettings(kek_file=tmp_path / "kek.json")
    with casework(settings, pd=pd) as app:
        ids = [app.handle(OFFICER, complaint(f"c{n}")).case_id for n in range(2)]
    LocalKek.rotate_file(tmp_path / "kek.json")
    with casework(settings, pd=pd) as app:
        assert [
            app.handle(OFFICER, ReadComplainant(i, "feedback")).complainant_name for i in ids
        ] == [NAME] * 2
    with psycopg.connect(settings.service_database_url) as conn:
        versions = conn.execute(
            "SELECT DISTINCT kek_version FROM pd_keyring.data_keys WHERE rewrapped_at IS NOT NULL"
        ).fetchall()
    assert versions == [(2,)]


def test_reads_are_recorded_durably_and_never_changed(service_settings) -> None:
    settings = service_settings("casework")
    city = Identity("property-bureau", "head", "putian")
    with casework(settings) as app:
        case_id = app.handle(OFFICER, complaint()).case_id
        read = app.handle(OFFICER, ReadComplainant(case_id, "investigation", "核实"))
        assert (read.complainant_name, read.read_id > 0) == (NAME, True)
    with psycopg.connect(settings.service_database_url) as conn:
        row = conn.execute(
            "SELECT case_id, unit, reader, via, purpose, note, fields FROM pd_reads"
        ).fetchone()
        assert row == (
            uuid.UUID(case_id),
            "licheng",
            OFFICER.render(),
            "",
            "investigation",
            "核实",
            ["name", "phone"],
        )
        for statement in (
            "UPDATE pd_reads SET reader = 'someone else'",
            "DELETE FROM pd_reads",
            "TRUNCATE pd_reads",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
            conn.rollback()
    with casework(settings) as app:  # another process: the record is there
        [listed] = queries.list_personal_data_reads(
            app, city, "licheng", case_id, None, None, 0, 10
        )
        assert (listed.reader, listed.purpose) == (OFFICER.render(), "investigation")


def test_retention_on_postgres_with_an_injected_clock(service_settings) -> None:
    """The projector's periodic job archives a complaint closed 365 days ago: the shredding
    is an event of the case, the wrapped key is gone from the database."""
    settings = service_settings("casework")
    clock = FakeClock(WHEN)
    parts = build(settings, clock=clock)
    try:
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        case_id = app.handle(OFFICER, complaint()).case_id
        close_complaint(app, case_id)
        [job] = [j for j in parts.periodic if j.name == "personal-data-retention"]
        assert job.run() == 0
        clock.now = WHEN + timedelta(days=365)
        assert job.run() == 1
        assert job.run() == 0
        case = app.case(case_id)
        assert case.archived and case.status == "closed"
        with psycopg.connect(settings.service_database_url) as conn:
            assert conn.execute(
                "SELECT count(*) FROM pd_keyring.data_keys WHERE case_id = %s", (case.id,)
            ).fetchone() == (0,)
        assert app.vault.open(case.id, case.sealed_personal_data) is None
    finally:
        close(parts)


def test_vault_transit_end_to_end_through_the_settings(service_settings, tmp_path: Path) -> None:
    """The service as bootstrap builds it with PUBREV_KEK_PROVIDER=vault, against the fake
    transit server: the database holds Vault's ciphertext, and the name and phone read
    back through Vault."""
    with FakeVaultTransit() as fake:
        fake.create_key("casework-pii")
        token = tmp_path / "token"
        token.write_text(fake.issue_token())
        pd = PersonalDataSettings(kek_provider="vault", vault_addr=fake.url, vault_token_file=token)
        settings = service_settings("casework")
        with casework(settings, pd=pd) as app:
            case_id = app.handle(OFFICER, complaint()).case_id
            assert (
                app.handle(OFFICER, ReadComplainant(case_id, "feedback")).complainant_phone == PHONE
            )
        with psycopg.connect(settings.service_database_url) as conn:
            [(kek_id, wrapped)] = conn.execute(
                "SELECT kek_id, wrapped FROM pd_keyring.data_keys"
            ).fetchall()
        assert kek_id == "vault:transit/casework-pii"
        assert bytes(wrapped).startswith(b"vault:v1:")
        assert "POST /v1/transit/decrypt/casework-pii" in fake.calls


def test_each_role_reaches_the_keyring_with_its_own_login(service_settings) -> None:
    """As deployed: the service's own login (here the server's superuser) for events and
    read models, PUBREV_KEYRING_DATABASE_URL for the keys. The api's login (a member of
    the keyring role) seals and reads; the projector's (the shredder role) gets no KEK at
    all, yet its retention job destroys keys; a login of neither reaches no key."""
    settings = service_settings("casework")
    url = settings.service_database_url
    clock = FakeClock(WHEN)
    with login(url, KEYRING_ROLE) as api_login, login(url, SHREDDER_ROLE) as projector_login:
        api = PersonalDataSettings(keyring_database_url=api_login)
        with pytest.raises(KeyringNotAvailable, match="CREATE SCHEMA pd_keyring AUTHORIZATION"):
            build(settings, pd=api)  # the api's login may not create schemas
        with psycopg.connect(url, autocommit=True) as conn:  # what the DBA does, once
            conn.execute(f"CREATE SCHEMA pd_keyring AUTHORIZATION {KEYRING_ROLE}")
        with casework(settings, pd=api, clock=clock) as app:
            case_id = app.handle(OFFICER, complaint()).case_id
            close_complaint(app, case_id)
            assert (
                app.handle(OFFICER, ReadComplainant(case_id, "feedback")).complainant_name == NAME
            )
        projector = PersonalDataSettings(keyring_database_url=projector_login)
        with casework(settings, pd=projector, clock=clock) as app:
            assert isinstance(app.vault, EnvelopeVault) and isinstance(app.vault.kek, NoKek)
            with pytest.raises(KeyringNotAvailable):
                app.handle(OFFICER, ReadComplainant(case_id, "feedback"))
            clock.now = WHEN + timedelta(days=365)
            assert shred_expired_personal_data(app) == 1
            assert app.vault.held() == []
    with (
        login(url) as worker,
        casework(settings, pd=PersonalDataSettings(keyring_database_url=worker)) as app,
        pytest.raises(KeyringNotAvailable),
    ):
        app.vault.held()


def test_production_refuses_a_service_login_that_keeps_the_keyring(service_settings) -> None:
    """Were the service's own login (every role's) the keyring's, the relay and consumer
    could read wrapped keys: production refuses to start so."""
    settings = service_settings("casework")
    with (
        ConnectionPool(settings.service_database_url, min_size=1, max_size=2) as pool,
        pytest.raises(ValueError, match="only the api's PUBREV_KEYRING_DATABASE_URL"),
    ):
        personal_data(
            pool, PersonalDataSettings(), settings.service_database_url, Environment.production
        )
