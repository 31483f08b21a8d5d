"""The read side of the gRPC path (issue 14, goal 7; ADR 0021): ListDisclosures against the
cheapest reads of the same page.

Run inside the commands section, on its database once its filings are in: the query
through gRPC (policy, validation, `current()`, the read model's SELECT on the service's
asyncpg pool, the page mapped to protobuf), then two baselines that read the same page of
`rm_disclosures` with a hand-written SELECT and nothing else: on an asyncpg pool of the
read pool's size, and on psycopg in `asyncio.to_thread` (the driver and the hop the queries
used before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import grpc
from psycopg_pool import ConnectionPool

from bench.disclosure_data import TIMEOUT, UNIT_METADATA, Filing
from bench.load import drive, warm_up
from bench.report import Figure, Ratio
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc

QUERY_UNIT = "queries/s"
PAGE = 50
POOL = 4
"""The read pool's default size (`PUBREV_READ_POOL_MAX`)."""
PAGE_SQL = (
    "SELECT disclosure_id, version, community_code, unit, company_uscc, year, quarter,"
    " income_total_fen, surplus_fen, late, zero_revenue, filed_at, revision"
    " FROM rm_disclosures WHERE unit = {unit} AND year = {year}"
    " ORDER BY year, quarter, community_code LIMIT {limit}"
)
ASYNCPG_SQL = PAGE_SQL.format(unit="$1", year="$2", limit="$3")
PSYCOPG_SQL = PAGE_SQL.format(unit="%s", year="%s", limit="%s")

RATIOS = [
    Ratio("ListDisclosures via gRPC ÷ raw asyncpg SELECT of the page", "list", "list_asyncpg"),
    Ratio("raw SELECT: asyncpg ÷ psycopg in threads", "list_asyncpg", "list_psycopg"),
]


def busiest(filings: Sequence[Filing]) -> tuple[str, int]:
    """The unit and year with the most filings: its pages are full."""
    counts: dict[tuple[str, int], int] = {}
    for filing in filings:
        key = (filing.unit, filing.request.year)
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda k: counts[k])


async def query_figures(
    channel: grpc.aio.Channel,
    url: str,
    filings: Sequence[Filing],
    count: int,
    callers: int,
    page: int = PAGE,
) -> list[Figure]:
    """The three figures; every call must read a full page of `page` rows."""
    unit, year = busiest(filings)
    stub = pb_grpc.DisclosureServiceStub(channel)
    request = pb.ListDisclosuresRequest(unit=unit, year=year, page_size=page)
    metadata = UNIT_METADATA[unit]

    async def listed(_: int) -> None:
        reply = await stub.ListDisclosures(request, metadata=metadata, timeout=TIMEOUT)
        if len(reply.disclosures) != page:
            raise RuntimeError(f"a page of {len(reply.disclosures)} rows, {page} expected")

    # The first call makes the read model current (the filings were not projected yet).
    await warm_up(listed, callers * 2, callers)
    grpc_list = await drive(listed, count, callers)

    pool = await asyncpg.create_pool(url, min_size=POOL, max_size=POOL)
    try:

        async def fetched(_: int) -> None:
            rows = await pool.fetch(ASYNCPG_SQL, unit, year, page)
            if len(rows) != page:
                raise RuntimeError(f"a page of {len(rows)} rows, {page} expected")

        await warm_up(fetched, callers * 2, callers)
        raw = await drive(fetched, count, callers)
    finally:
        await pool.close()

    with ConnectionPool(url, min_size=POOL, max_size=POOL, open=True) as threads_pool:

        def select() -> int:
            with threads_pool.connection() as conn:
                return len(conn.execute(PSYCOPG_SQL, (unit, year, page)).fetchall())

        async def threaded(_: int) -> None:
            if await asyncio.to_thread(select) != page:
                raise RuntimeError(f"a page short of {page} rows")

        await warm_up(threaded, callers * 2, callers)
        old = await drive(threaded, count, callers)
    return [
        grpc_list.figure(
            "list",
            f"ListDisclosures via gRPC (a page of {page}, {unit} {year}), {callers} callers",
            QUERY_UNIT,
        ),
        raw.figure(
            "list_asyncpg",
            f"raw SELECT of that page, asyncpg pool of {POOL}, {callers} callers",
            QUERY_UNIT,
        ),
        old.figure(
            "list_psycopg",
            f"raw SELECT of that page, psycopg pool of {POOL} in asyncio.to_thread, "
            f"{callers} callers",
            QUERY_UNIT,
        ),
    ]
