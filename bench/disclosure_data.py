"""Filings and FileDisclosure requests for the disclosure benches.

Requests come from `tests.support.disclosure_requests`, which the tests keep valid. The
relay's store is filled the short way, many Disclosure aggregates per `app.save` (one
transaction each) instead of one command per filing: set-up is not timed, and the
relay reads stored events, however they were written. Communities for the command benches
are registered through the API itself (`register_all`), the same path any client takes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc

from bench.load import Call, drive
from disclosure.application.commands import FileDisclosure
from disclosure.domain.model import Community, Disclosure
from disclosure.entrypoints.grpc_api import content_from_pb
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity
from tests.support.disclosure_requests import (
    USCC,
    company_request,
    content,
    file_request,
    register_request,
)

T = TypeVar("T")

UNIT = "chengxiang"
OFFICER = Identity("property-bureau", "officer", UNIT)
IDENTITY_METADATA = (("x-pubrev-identity", OFFICER.render()),)
QUARTERS = [(year, quarter) for year in (2024, 2025) for quarter in (1, 2, 3, 4)]
"""Quarters that are over, so each community can file eight times."""
SAVE_CHUNK = 500
TIMEOUT = 30.0
"""Seconds each bench call may take before it counts as failed."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def community_codes(prefix: str, filings: int) -> list[str]:
    """Enough community codes for `filings` filings, one per community and quarter."""
    count = -(-filings // len(QUARTERS))
    return [f"{prefix}-{n:05d}" for n in range(count)]


def _filed(code: str, year: int, quarter: int, state: dict[str, Any],
           now: datetime) -> Disclosure:
    return Disclosure(
        community_id=Community.create_id(code), community_code=code, unit=UNIT,
        company_uscc=USCC, year=year, quarter=quarter, content=dict(state), late=False,
        filed_at=now,
    )


def fill_with_filings(app: ServiceApplication, count: int) -> None:
    """Stores `count` DisclosureFiled events (and no receipts), SAVE_CHUNK per transaction."""
    state = content_from_pb(content()).to_state()
    now = datetime.now(UTC)
    codes = community_codes("RELAY", count)
    filings = [
        _filed(code, year, quarter, state, now) for year, quarter in QUARTERS for code in codes
    ][:count]
    for chunk in chunks(filings, SAVE_CHUNK):
        app.save(*chunk)


def register_requests(codes: Sequence[str]) -> list[pb.RegisterCommunityRequest]:
    return [register_request(code, UNIT) for code in codes]


def file_requests(codes: Sequence[str]) -> list[pb.FileDisclosureRequest]:
    """One request per community and quarter, quarter after quarter."""
    return [file_request(code, year, quarter) for year, quarter in QUARTERS for code in codes]


def to_command(request: pb.FileDisclosureRequest) -> FileDisclosure:
    """What the servicer makes of a request (without going through gRPC)."""
    return FileDisclosure(
        request_id=request.request_id, community_code=request.community_code,
        year=request.year, quarter=request.quarter, content=content_from_pb(request.content),
    )


async def register_all(channel: grpc.aio.Channel,
                       requests: Sequence[pb.RegisterCommunityRequest], callers: int) -> None:
    """Registers their company, then the communities, through the API (untimed): the
    same path any client takes."""
    stub = pb_grpc.DisclosureServiceStub(channel)
    await stub.RegisterCompany(company_request(), metadata=IDENTITY_METADATA, timeout=TIMEOUT)

    async def call(index: int) -> None:
        await stub.RegisterCommunity(requests[index], metadata=IDENTITY_METADATA,
                                     timeout=TIMEOUT)

    await drive(call, len(requests), callers)


def filer(stub: pb_grpc.DisclosureServiceAsyncStub,
          requests: Sequence[pb.FileDisclosureRequest]) -> Call:
    async def call(index: int) -> None:
        await stub.FileDisclosure(requests[index], metadata=IDENTITY_METADATA, timeout=TIMEOUT)

    return call
