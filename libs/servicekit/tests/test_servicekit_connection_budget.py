"""servicekit.runtime's connection budget (docs/adr/0020): a role's pools start empty, stay
within their settings' maxima, and give back what they no longer use; the parked events
share the service's pool. On the real PostgreSQL where connections are counted (infra)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg
import pytest

from servicekit.eventstore import ServiceApplication
from servicekit.runtime import event_store_env, service_pool, trim_when_idle
from servicekit.settings import ServiceSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PUBREV_") or name in ("DATABASE_URL", "KAFKA_BOOTSTRAP"):
            monkeypatch.delenv(name)


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBREV_DB_POOL_MAX", "3")
    monkeypatch.setenv("PUBREV_EVENT_STORE_POOL_MAX", "5")
    monkeypatch.setenv("PUBREV_DB_POOL_MAX_IDLE_SECONDS", "2.5")
    settings = ServiceSettings(service="disclosure")
    assert (settings.db_pool_max, settings.event_store_pool_max) == (3, 5)
    assert settings.db_pool_max_idle_seconds == 2.5
    env = event_store_env(settings)
    # eventsourcing's POOL_SIZE is its pool's minimum: none held open.
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("0", "5")


@pytest.mark.parametrize("name", ["PUBREV_DB_POOL_MAX", "PUBREV_EVENT_STORE_POOL_MAX"])
def test_a_pool_of_no_connection_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ValueError, match=name.removeprefix("PUBREV_").lower()):
        ServiceSettings(service="disclosure")


def backends(url: str) -> int:
    dbname = url.rsplit("/", 1)[-1]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def settings(fresh_database: str) -> ServiceSettings:
    return ServiceSettings(
        service="budget",
        database_url=fresh_database,
        database_is_service_db=True,
        db_pool_max=2,
        event_store_pool_max=3,
        db_pool_max_idle_seconds=0.5,
    )


@pytest.fixture
def app(settings: ServiceSettings) -> Iterator[ServiceApplication]:
    application = ServiceApplication(env=event_store_env(settings))
    try:
        yield application
    finally:
        application.close()


@pytest.mark.infra
def test_the_service_pool_starts_empty_and_gives_back_idle_connections(
    settings: ServiceSettings, fresh_database: str
) -> None:
    pool = service_pool(settings)
    try:
        assert backends(fresh_database) == 0
        assert pool.max_size == 2
        with pool.connection() as first, pool.connection() as second:
            first.execute("SELECT 1")
            second.execute("SELECT 1")
            assert backends(fresh_database) == 2
        # psycopg_pool closes one unused connection per idle period.
        assert wait_for(lambda: backends(fresh_database) == 0, 10.0)
    finally:
        pool.close()


@pytest.mark.infra
def test_the_event_store_pool_gives_back_what_building_the_application_opened(
    app: ServiceApplication, settings: ServiceSettings, fresh_database: str
) -> None:
    # Creating the tables opened a connection, which eventsourcing's pool would keep for
    # ten minutes.
    assert backends(fresh_database) >= 1
    trim_when_idle(app, settings.db_pool_max_idle_seconds)
    assert wait_for(lambda: backends(fresh_database) == 0, 10.0)
    # Still a working pool: a new connection when needed, within its maximum.
    assert app.recorder.max_notification_id() in (None, 0)
    pool = app.recorder.datastore.pool  # type: ignore[attr-defined]
    assert (pool.min_size, pool.max_size) == (0, 3)


def test_trimming_leaves_other_recorders_alone() -> None:
    application = ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    trim_when_idle(application, 0.5)  # no PostgreSQL pool: nothing to do, no error
