"""The disclosure benches' workload: the synthetic Putian of `tools/synthetic_putian.py`.

One dataset, `generate(seed=SEED, communities=COMMUNITIES, companies=COMPANIES)` (made once,
about a second, the same every run), feeds every disclosure figure:

- Command benches (gRPC in this process, in-process, the API in its own process): on each
  scratch database every generated company is registered (RegisterCompany exactly as
  generated: the few with a bad check character come from the official registry, carry
  `source="official_registry"` and are kept, flagged), then the communities of the command
  workload (RegisterCommunity), both through the API and untimed. The workload's filings are
  then sent as FileDisclosure requests in the generator's time order, each run its own slice
  of them: a (community, quarter) is filed once per database.
- The generator's `filed_at` does not travel over gRPC (nor in `FileDisclosure`): the service
  stamps its own clock, so every filing is made now and, now being past all their deadlines,
  recorded late whatever its generated kind.
- Filings of kind "inconsistent" (an attempt whose allocation breaks the income identity, made
  before the real filing) are refused by the service by design: never timed, they are sent
  once in a separate small run that must see every one refused with INVALID_ARGUMENT.
- The relay's store is filled the short way, many Disclosure aggregates per `app.save` (one
  transaction each) instead of one command per filing: set-up is not timed, and the relay
  reads stored events, however they were written. Being written directly, they keep the
  generator's `filed_at`, and the lateness that follows from it.

Every call is made by a property-bureau officer of the community's own unit (as
`tools/load_demo.py` does); companies are registered by the city's bureau.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import grpc
from google.rpc import error_details_pb2, status_pb2

from bench.load import Call, drive
from disclosure.application.commands import FileDisclosure
from disclosure.domain.community import Community
from disclosure.domain.disclosure import Disclosure
from disclosure.entrypoints.grpc_api import content_from_pb
from pubrev.disclosure.v1 import disclosure_pb2 as pb
from pubrev.disclosure.v1 import disclosure_pb2_grpc as pb_grpc
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.calendar import Quarter
from pubrev_contracts.vocabulary.units import CITY as CITY_UNIT
from pubrev_contracts.vocabulary.units import COUNTY_UNITS
from servicekit.eventstore import ServiceApplication
from servicekit.identity import Identity
from tools.synthetic_putian import Dataset, generate

T = TypeVar("T")

SEED = 2023
COMMUNITIES = 2_800
"""Sized for the relay: ~7.6 valid filings per community (8 quarters, less the missing
ones) give ~21,000, of which it stores 20,000."""
COMPANIES = 560
"""The generator's default proportion (1,500 communities, 300 companies)."""
STRIDE = 4
"""The command workload takes every STRIDE-th community first: all units, in proportion."""
REFUSED_KIND = "inconsistent"
FILED_KINDS = ("on_time", "late", "zero_revenue")
SAVE_CHUNK = 500
TIMEOUT = 30.0
"""Seconds each bench call may take before it counts as failed."""
IDENTITY_HEADER = "x-pubrev-identity"
Metadata = tuple[tuple[str, str], ...]


def officer(unit: str) -> Identity:
    return Identity(Agency.PROPERTY_BUREAU, "officer", unit, "bench")


def metadata_of(identity: Identity) -> Metadata:
    return ((IDENTITY_HEADER, identity.render()),)


CITY_OFFICER = officer(CITY_UNIT)
IDENTITY_METADATA = metadata_of(CITY_OFFICER)
"""For calls that are no unit's business (companies, health checks)."""
OFFICERS = {unit: officer(unit) for unit in COUNTY_UNITS}
UNIT_METADATA = {unit: metadata_of(identity) for unit, identity in OFFICERS.items()}


@dataclass(frozen=True)
class Filing:
    """A generated filing and the unit whose officer sends it."""

    request: pb.FileDisclosureRequest
    kind: str
    unit: str
    filed_at: datetime
    """The generator's; only the relay's directly written store keeps it."""

    @property
    def identity(self) -> Identity:
        return OFFICERS[self.unit]

    @property
    def metadata(self) -> Metadata:
        return UNIT_METADATA[self.unit]

    @property
    def late_as_generated(self) -> bool:
        """Late by the generator's `filed_at` (the service's rule, on the history's clock)."""
        return Quarter(self.request.year, self.request.quarter).is_late(self.filed_at)


@dataclass(frozen=True)
class CommandData:
    """What each command bench database gets: all companies, the workload's communities, and
    their valid filings in the generator's time order (each run files its own slice)."""

    companies: Sequence[pb.RegisterCompanyRequest]
    communities: Sequence[pb.RegisterCommunityRequest]
    filings: Sequence[Filing]
    refused: Sequence[Filing]
    """The workload communities' "inconsistent" filings, which the service must refuse."""

    @property
    def flagged_companies(self) -> int:
        return sum(1 for c in self.companies if c.source == "official_registry")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@functools.cache
def putian() -> Dataset:
    """The synthetic Putian every disclosure bench uses (generated once per process)."""
    return generate(seed=SEED, communities=COMMUNITIES, companies=COMPANIES)


def _filings(dataset: Dataset, codes: Iterable[str] | None = None) -> list[Filing]:
    """The dataset's filings (all kinds) of `codes` (all when None), in time order."""
    unit_of = {c.community_code: c.unit for c in dataset.communities}
    wanted = None if codes is None else set(codes)
    return [
        Filing(f.request, f.kind, unit_of[f.request.community_code], f.filed_at)
        for f in dataset.filings
        if wanted is None or f.request.community_code in wanted
    ]


def _spread(items: Sequence[T], stride: int) -> list[T]:
    """Every stride-th item, then the ones after those, and so on: prefixes span the list."""
    return [item for offset in range(stride) for item in items[offset::stride]]


def command_data(needed: int) -> CommandData:
    """The fewest communities (every STRIDE-th first) with at least `needed` valid filings,
    and the first `needed` of those filings in the generator's time order."""
    dataset = putian()
    valid = Counter(f.request.community_code for f in dataset.filings if f.kind != REFUSED_KIND)
    chosen: list[pb.RegisterCommunityRequest] = []
    total = 0
    for community in _spread(dataset.communities, STRIDE):
        if total >= needed:
            break
        chosen.append(community)
        total += valid[community.community_code]
    if total < needed:
        raise ValueError(f"the synthetic Putian has {total:,} valid filings, {needed:,} needed")
    filings = _filings(dataset, (c.community_code for c in chosen))
    return CommandData(
        companies=dataset.companies,
        communities=chosen,
        filings=[f for f in filings if f.kind != REFUSED_KIND][:needed],
        refused=[f for f in filings if f.kind == REFUSED_KIND],
    )


def kinds(filings: Iterable[Filing]) -> str:
    counts = Counter(f.kind for f in filings)
    return ", ".join(
        f"{kind} {counts[kind]:,}" for kind in (*FILED_KINDS, REFUSED_KIND) if counts[kind]
    )


def source_note() -> str:
    """The line each section prints about where its workload comes from."""
    summary = putian().summary()
    return (
        f"workload: synthetic Putian, tools.synthetic_putian.generate(seed={SEED}, "
        f"communities={COMMUNITIES:,}, companies={COMPANIES:,}): "
        f"{summary['filings']:,} filings over {summary['quarters']} quarters "
        f"(kinds on_time {summary['kind_on_time']:,}, late {summary['kind_late']:,}, "
        f"zero_revenue {summary['kind_zero_revenue']:,}, "
        f"inconsistent {summary['kind_inconsistent']:,}); "
        f"{summary['companies_flagged_official']} of the companies official-registry "
        "ones with a bad USCC check character"
    )


def all_late(filings: Iterable[Filing], now: datetime | None = None) -> bool:
    """Whether a filing of each of these quarters made `now` is late (it is for 2024–2025)."""
    moment = now or datetime.now(UTC)
    return all(Quarter(f.request.year, f.request.quarter).is_late(moment) for f in filings)


# -- the relay's store ----------------------------------------------------------------------


def relay_filings(count: int) -> list[Filing]:
    """The dataset's first `count` valid filings, in time order."""
    filings = [f for f in _filings(putian()) if f.kind != REFUSED_KIND]
    if len(filings) < count:
        raise ValueError(
            f"the synthetic Putian has {len(filings):,} valid filings, {count:,} needed"
        )
    return filings[:count]


def _filed(
    filing: Filing, company_of: dict[str, str], handed_over: dict[str, tuple[str, str]]
) -> Disclosure:
    r = filing.request
    # The company in charge on the quarter's last day owns the disclosure, as the service
    # decides it (Community.company_for; 民法典 Art. 943).
    company = company_of[r.community_code]
    effective, successor = handed_over.get(r.community_code, ("", ""))
    if effective and effective <= Quarter(r.year, r.quarter).last_day.isoformat():
        company = successor
    return Disclosure(
        community_id=Community.create_id(r.community_code),
        community_code=r.community_code,
        unit=filing.unit,
        company_uscc=company,
        year=r.year,
        quarter=r.quarter,
        content=content_from_pb(r.content).to_state(),
        late=filing.late_as_generated,
        filed_at=filing.filed_at,
    )


def fill_with_filings(app: ServiceApplication, filings: Sequence[Filing]) -> None:
    """Stores one DisclosureFiled event per filing (and no receipts), SAVE_CHUNK per
    transaction."""
    company_of = {c.community_code: c.company_uscc for c in putian().communities}
    handed_over = {
        h.community_code: (h.effective_date, h.new_company_uscc) for h in putian().handovers
    }
    for chunk in chunks(filings, SAVE_CHUNK):
        app.save(*(_filed(filing, company_of, handed_over) for filing in chunk))


# -- through the API ------------------------------------------------------------------------


def to_command(request: pb.FileDisclosureRequest) -> FileDisclosure:
    """What the servicer makes of a request (without going through gRPC)."""
    return FileDisclosure(
        request_id=request.request_id,
        community_code=request.community_code,
        year=request.year,
        quarter=request.quarter,
        content=content_from_pb(request.content),
    )


async def register_all(channel: grpc.aio.Channel, data: CommandData, callers: int) -> None:
    """Registers the companies, then the communities, through the API (untimed): the same
    path any client takes. Checks that the service flagged exactly the official-registry
    companies (their USCC fails the check; it keeps them, flagged)."""
    stub = pb_grpc.DisclosureServiceStub(channel)
    flagged: list[str] = []

    async def company(index: int) -> None:
        request = data.companies[index]
        response = await stub.RegisterCompany(request, metadata=IDENTITY_METADATA, timeout=TIMEOUT)
        if response.uscc_flagged:
            flagged.append(request.uscc)

    async def community(index: int) -> None:
        request = data.communities[index]
        await stub.RegisterCommunity(request, metadata=UNIT_METADATA[request.unit], timeout=TIMEOUT)

    await drive(company, len(data.companies), callers)
    official = sorted(c.uscc for c in data.companies if c.source == "official_registry")
    if sorted(flagged) != official:
        raise RuntimeError(
            f"the service flagged {len(flagged)} companies, {len(official)} "
            "official-registry ones with a bad check character expected"
        )
    await drive(community, len(data.communities), callers)


def filer(stub: pb_grpc.DisclosureServiceAsyncStub, filings: Sequence[Filing]) -> Call:
    async def call(index: int) -> None:
        filing = filings[index]
        await stub.FileDisclosure(filing.request, metadata=filing.metadata, timeout=TIMEOUT)

    return call


def _violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The reasons (rules) of the google.rpc.BadRequest in the error's trailers."""
    reasons: list[str] = []
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                reasons.extend(v.reason for v in bad.field_violations)
    return reasons


async def file_refused(channel: grpc.aio.Channel, filings: Sequence[Filing], callers: int) -> int:
    """Sends the "inconsistent" filings (untimed) and checks that each one is refused with
    INVALID_ARGUMENT for the broken identity, and for nothing else; returns how many."""
    stub = pb_grpc.DisclosureServiceStub(channel)
    outcomes: Counter[str] = Counter()

    async def call(index: int) -> None:
        filing = filings[index]
        try:
            await stub.FileDisclosure(filing.request, metadata=filing.metadata, timeout=TIMEOUT)
        except grpc.aio.AioRpcError as error:
            reasons = ",".join(sorted(set(_violations(error))))
            outcomes[f"{error.code().name}({reasons})"] += 1
        else:
            outcomes["OK"] += 1

    await drive(call, len(filings), callers)
    expected = "INVALID_ARGUMENT(identity_broken)"
    if outcomes[expected] != len(filings):
        raise RuntimeError(
            f"inconsistent filings should all be refused {expected}; got {dict(outcomes)}"
        )
    return len(filings)
