"""The read side's bench figures (bench.query_bench) at a tiny scale, on the real stack:
the disclosure API in this process, filings through gRPC, then ListDisclosures and both
bare SELECTs; every call must read a full page (the values are the bench's business)."""

from __future__ import annotations

import grpc
import pytest

from bench.command_bench import running_disclosure
from bench.disclosure_data import command_data, filer, register_all
from bench.infra import scratch_database
from bench.load import drive
from bench.query_bench import busiest, query_figures
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc

pytestmark = pytest.mark.infra


async def test_the_query_figures_read_full_pages(infra: dict[str, str]) -> None:
    data = command_data(60)
    filings = data.filings[:60]
    unit, year = busiest(filings)
    page = sum(1 for f in filings if (f.unit, f.request.year) == (unit, year))
    assert page >= 5
    with scratch_database("queries") as url:
        async with (
            running_disclosure(url) as (_, port),
            grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
        ):
            await register_all(channel, data, 5)
            stub = pb_grpc.DisclosureServiceStub(channel)
            await drive(filer(stub, filings), len(filings), 5)
            figures = await query_figures(channel, url, filings, 20, 4, page=page)
    assert [f.key for f in figures] == ["list", "list_asyncpg", "list_psycopg"]
    assert all(f.count == 20 and f.seconds > 0 for f in figures)
