"""PostgreSQL plumbing: one database per service, created on first start."""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from servicekit.settings import with_database

log = logging.getLogger(__name__)


def ensure_database(url: str) -> None:
    """Creates the database named in `url` when the server lacks it (idempotent)."""
    dbname = unquote(urlsplit(url).path.lstrip("/"))
    admin_url = with_database(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            log.info("created database", extra={"database": dbname})
        except psycopg.errors.DuplicateDatabase:
            pass  # another process created it between our check and our create


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
