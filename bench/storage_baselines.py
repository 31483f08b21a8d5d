"""Raw write baselines: asyncpg single-row inserts and eventsourcing `save`, one per call."""

from __future__ import annotations

import functools
import os
import uuid

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.load import drive, run_sequentially
from bench.report import Figure
from servicekit.postgres import eventsourcing_env

PAYLOAD = os.urandom(600)
"""About the size of a stored DisclosureFiled event's state."""
CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_insert "
    "(id bigserial PRIMARY KEY, originator_id uuid NOT NULL, payload bytea NOT NULL)"
)
INSERT = "INSERT INTO bench_insert (originator_id, payload) VALUES ($1, $2)"


async def asyncpg_concurrent(url: str, count: int, callers: int) -> Figure:
    pool = await asyncpg.create_pool(url, min_size=callers, max_size=callers)
    try:
        await pool.execute(CREATE)

        async def insert(_: int) -> None:
            await pool.execute(INSERT, uuid.uuid4(), PAYLOAD)

        result = await drive(insert, count, callers)
    finally:
        await pool.close()
    return result.figure(
        "asyncpg_pool",
        f"asyncpg single-row INSERT, {callers} callers on a pool of {callers}",
        "inserts/s",
    )


async def asyncpg_sequential(url: str, count: int) -> Figure:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(CREATE)

        async def insert(_: int) -> None:
            await connection.execute(INSERT, uuid.uuid4(), PAYLOAD)

        result = await drive(insert, count, 1)
    finally:
        await connection.close()
    return result.figure(
        "asyncpg_seq", "asyncpg single-row INSERT, 1 connection sequential", "inserts/s"
    )


class Sample(Aggregate):
    """The smallest aggregate: one creation event with one field."""

    @event("Created")
    def __init__(self, number: int) -> None:
        self.number = number


class ScratchStore(Application[uuid.UUID]):
    name = "benchscratch"


def es_save(url: str, count: int) -> Figure:
    """`save` of one new aggregate per call from one thread (the ≈650/s reference)."""
    store = ScratchStore(env=eventsourcing_env(url))
    try:
        store.save(Sample(-1))  # creates the table and the pool's first connection
        result = run_sequentially(
            functools.partial(_save_new, store, number) for number in range(count)
        )
    finally:
        store.close()
    return result.figure(
        "es_save", "eventsourcing save, one new aggregate per call, 1 thread", "saves/s"
    )


def _save_new(store: ScratchStore, number: int) -> None:
    store.save(Sample(number))
