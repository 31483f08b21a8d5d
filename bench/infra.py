"""Where the broker and the database server are, and scratch databases on that server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from servicekit.postgres import drop_database, ensure_database
from servicekit.settings import ServiceSettings, with_database

LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_DATABASE = "postgresql://postgres@127.0.0.1:15432/postgres"


def kafka_bootstrap() -> str:
    """The broker `tools/devinfra.py` starts, unless KAFKA_BOOTSTRAP names another."""
    return os.environ.get("KAFKA_BOOTSTRAP", LOCAL_KAFKA)


def server_url() -> str:
    """The PostgreSQL server `tools/devinfra.py` starts, unless DATABASE_URL names another."""
    return os.environ.get("DATABASE_URL", LOCAL_DATABASE)


@contextlib.contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    """A new database `bench_<purpose>_<random>` on the server, dropped on the way out."""
    url = with_database(server_url(), f"bench_{purpose}_{uuid.uuid4().hex[:10]}")
    ensure_database(url)
    try:
        yield url
    finally:
        drop_database(url)


def disclosure_settings(database_url: str) -> ServiceSettings:
    return ServiceSettings(
        service="disclosure",
        environment="test",
        kafka_bootstrap=kafka_bootstrap(),
        database_url=database_url,
        database_is_service_db=True,
        grpc_port=0,
        dev_identity_header=True,
        shutdown_grace_seconds=2.0,
    )
