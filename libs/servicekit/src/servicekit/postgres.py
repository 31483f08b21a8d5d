"""PostgreSQL plumbing: one database per service, created on first start."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from servicekit.settings import with_database

log = logging.getLogger(__name__)


SCHEMA_LOCK = "servicekit.schema"
SCHEMA_LOCK_TIMEOUT_SECONDS = 120


def ensure_database(url: str) -> None:
    """Creates the database named in `url` when the server lacks it (idempotent)."""
    dbname = unquote(urlsplit(url).path.lstrip("/"))
    admin_url = with_database(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return
        # Processes creating one database together: the losers' CREATE DATABASE fails with
        # a unique violation on pg_database (not DuplicateDatabase), so they take turns and
        # look again. Released with the session.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"{SCHEMA_LOCK}:{dbname}",))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            log.info("created database", extra={"database": dbname})
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # created by a process that does not take the lock


@contextlib.contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Holds the database's schema lock while the body creates or alters its tables.

    Processes of one service (its roles, api workers, `prepare`) starting together would
    otherwise race on their DDL: PostgreSQL fails concurrent CREATE TYPE, CREATE TABLE IF
    NOT EXISTS or CREATE OR REPLACE FUNCTION of one object with a unique violation on
    pg_type or `tuple concurrently updated`, and the role dies. A session advisory lock on
    a connection of its own: the body's statements run on their own connections and must
    not take this lock themselves (they would wait for it for ever)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        # A process stuck holding it (waiting on a key service, say) fails the others
        # visibly after this long instead of hanging them.
        conn.execute(
            sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{SCHEMA_LOCK_TIMEOUT_SECONDS}s"))
        )
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (SCHEMA_LOCK,))


def drop_database(url: str) -> None:
    """Drops the database named in `url` (tests only)."""
    dbname = unquote(urlsplit(url).path.lstrip("/"))
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def eventsourcing_env(url: str, pool_size: int = 10) -> dict[str, str]:
    """The environment eventsourcing's PostgreSQL module reads, from a database URL."""
    parts = urlsplit(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONN_MAX_AGE": "600",
        # No ping before each use (4 round trips a command, ~17% of its time): eventsourcing
        # retries on a dead connection anyway, and CONN_MAX_AGE recycles old ones.
        "POSTGRES_PRE_PING": "n",
        # Aggregates are cached and fast-forwarded: one cheap query for new events instead
        # of replaying them all, still correct when other replicas write the same aggregate.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        # Without a lock timeout a writer waiting on the notification table lock could wait
        # for ever behind a stuck transaction; 5 s then fails the command visibly.
        "POSTGRES_LOCK_TIMEOUT": "5",
        "CREATE_TABLE": "y",
    }
    return env
