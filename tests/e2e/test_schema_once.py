"""Roles of one service starting together on a fresh database: no DDL race (issue 11 item 5).

Before, each role created its tables as it started: concurrent CREATE TYPE / CREATE TABLE IF
NOT EXISTS / CREATE OR REPLACE FUNCTION in eventsourcing's recorder (and the read models,
push tables and keyring) failed all but one of them with a unique violation on pg_type or
`tuple concurrently updated`, and two roles of `make run` died at start. So did concurrent
CREATE DATABASE (a unique violation on pg_database, which ensure_database did not expect).
Now every process builds its parts under the database's schema lock (runtime.build_parts),
and `make run` runs `python -m <service> prepare` once before any role starts.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from servicekit.postgres import drop_database
from servicekit.runtime import ServiceParts, build_parts, close
from servicekit.settings import ServiceSettings, with_database

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("disclosure", "inspection", "credit", "casework")
CONCURRENT = 8


@pytest.fixture
def fresh_database(infra: dict[str, str]) -> Iterator[Callable[[str], str]]:
    """URLs of databases that do not exist yet (the processes create them); dropped after."""
    made: list[str] = []

    def make(service: str) -> str:
        url = with_database(infra["database"], f"test_ddl_{service}_{uuid.uuid4().hex[:10]}")
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("service", SERVICES)
def test_concurrent_builds_on_a_fresh_database_all_succeed(
    service: str,
    infra: dict[str, str],
    fresh_database: Callable[[str], str],
) -> None:
    build: Callable[[ServiceSettings], ServiceParts] = importlib.import_module(
        f"{service}.bootstrap"
    ).build
    settings = ServiceSettings(
        service=service,
        environment="test",
        kafka_bootstrap=infra["kafka"],
        database_url=fresh_database(service),
        database_is_service_db=True,
        topic_prefix=infra["prefix"],
    )
    barrier = threading.Barrier(CONCURRENT)
    errors: list[str] = []

    def one_role() -> None:
        barrier.wait()  # all at once, as `make run` started its roles
        try:
            close(build_parts(settings, build))
        except Exception as error:  # collected: the assertion shows every one
            errors.append(repr(error)[:300])

    threads = [threading.Thread(target=one_role) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a build hung on the schema lock"
    assert errors == []
    made = tables(settings.service_database_url)
    assert f"public.{service}_events" in made  # the event store, made once
    assert "public.projection_positions" in made


def test_prepare_processes_of_every_service_at_once(
    infra: dict[str, str],
    fresh_database: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """`python -m <service> prepare` (what `make run` runs before the roles), three of each
    service at once, each service on a fresh database: every one exits 0."""
    started = time.monotonic()
    processes: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    created = []
    for service in SERVICES:
        url = fresh_database(service)
        created.append(url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PUBREV_DATABASE_IS_SERVICE_DB": "true",
            "KAFKA_BOOTSTRAP": infra["kafka"],
            "PUBREV_ENVIRONMENT": "test",
            "PUBREV_TOPIC_PREFIX": infra["prefix"],
        }
        for n in range(3):
            log = tmp_path / f"{service}-{n}.log"
            with log.open("wb") as out:
                processes.append(
                    (
                        service,
                        subprocess.Popen(
                            [sys.executable, "-m", service, "prepare"],
                            cwd=ROOT,
                            env=env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        ),
                        log,
                    )
                )
    failed = []
    for service, process, log in processes:
        if process.wait(timeout=180) != 0:
            failed.append(
                f"{service} exited {process.returncode}:\n{log.read_text(errors='replace')[-1500:]}"
            )
    assert failed == [], "\n".join(failed)
    assert time.monotonic() - started < 120
    for url in created:  # start()'s isolation tables too, before any role runs
        assert {"public.parked_events", "public.worker_attempts"} <= tables(url)
