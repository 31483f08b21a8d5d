"""Load the synthetic Putian dataset into the disclosure service as demo data.

    python tools/load_demo.py [--seed 2023] [--communities 1500] [--companies 300]

A historical import: the dataset's events happened over two years, so the loader drives the
disclosure application directly (not over gRPC) with its clock set to each event's time.
That keeps every rule honest: a filing after its deadline is recorded late, each quarter is
closed at its deadline (missing filings become DisclosureOverdue), inconsistent filings are
refused. Filings are committed in groups, as the API does under load. The relay of a
running service then publishes everything to Kafka. Loading twice changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from disclosure.application.app import DisclosureApplication  # noqa: E402
from disclosure.application.commands import (  # noqa: E402
    AmendDisclosure,
    ChangePropertyCompany,
    CloseQuarter,
    DisclosureFiled,
    FileDisclosure,
    QuarterClosed,
    RegisterCommunity,
    RegisterCompany,
)
from disclosure.application.handlers import prepare_file_disclosure  # noqa: E402
from disclosure.bootstrap import build  # noqa: E402
from disclosure.domain.disclosure import Disclosure  # noqa: E402
from disclosure.entrypoints.grpc_api import content_from_pb  # noqa: E402
from pubrev_contracts.vocabulary.calendar import Quarter  # noqa: E402
from pubrev_contracts.vocabulary.units import CITY as CITY_UNIT  # noqa: E402
from servicekit.errors import ServiceError  # noqa: E402
from servicekit.eventstore import Prepared  # noqa: E402
from servicekit.identity import Identity  # noqa: E402
from servicekit.postgres import ensure_database  # noqa: E402
from servicekit.runtime import close  # noqa: E402
from servicekit.settings import ServiceSettings  # noqa: E402
from tools.synthetic_putian import Amendment, Dataset, Filing, generate  # noqa: E402

CITY = Identity("property-bureau", "officer", CITY_UNIT, "demo loader")
GROUP = 200


class LoaderClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def officer(unit: str) -> Identity:
    return Identity("property-bureau", "officer", unit, "demo loader")


class Loader:
    def __init__(self, app: DisclosureApplication, clock: LoaderClock, dataset: Dataset) -> None:
        self.app = app
        self.clock = clock
        self.dataset = dataset
        self.unit_of = {c.community_code: c.unit for c in dataset.communities}
        self.counts: Counter[str] = Counter()
        self.pending: list[Prepared] = []

    def register(self) -> None:
        self.clock.now = self.dataset.registered_at
        for company in self.dataset.companies:
            self.app.handle(
                CITY,
                RegisterCompany(company.request_id, company.uscc, company.name, company.source),
            )
        self.counts["companies"] = len(self.dataset.companies)
        for c in self.dataset.communities:
            self.app.handle(
                officer(c.unit),
                RegisterCommunity(
                    c.request_id,
                    c.community_code,
                    c.name,
                    c.address,
                    c.unit,
                    c.division_code,
                    c.township,
                    c.company_uscc,
                    c.company_name,
                    c.signboard_at_main_entrance,
                    c.elevator_count,
                    c.barrier_gate_count,
                    c.has_leasable_space,
                    c.household_count,
                ),
            )
        self.counts["communities"] = len(self.dataset.communities)

    def deadlines(self) -> Iterator[tuple[datetime, Quarter]]:
        for year, quarter in self.dataset.quarters:
            period = Quarter(year, quarter)
            yield period.deadline, period

    def run_timeline(self) -> None:
        closes = sorted(self.deadlines(), key=lambda d: d[0])
        for when, item in self.dataset.timeline():
            while closes and closes[0][0] <= when:
                self.close(*closes.pop(0))
            self.clock.now = when
            if isinstance(item, Filing):
                self.file(item)
            elif isinstance(item, Amendment):
                self.amend(item)
            else:
                self.flush()
                self.app.handle(
                    officer(self.unit_of[item.community_code]),
                    ChangePropertyCompany(
                        item.request_id,
                        item.community_code,
                        item.new_company_uscc,
                        item.effective_date,
                        item.reason,
                    ),
                )
                self.counts["handovers"] += 1
        for deadline, period in closes:
            if deadline <= datetime.now(UTC):
                self.close(deadline, period)
        self.flush()

    def file(self, filing: Filing) -> None:
        r = filing.request
        cmd = FileDisclosure(
            r.request_id, r.community_code, r.year, r.quarter, content_from_pb(r.content)
        )
        try:
            prepared = prepare_file_disclosure(
                self.app, officer(self.unit_of[r.community_code]), cmd
            )
        except ServiceError as error:
            self.counts[f"refused_{type(error).__name__}"] += 1
            return
        if isinstance(prepared, DisclosureFiled):
            self.counts["already_loaded"] += 1
            return
        self.pending.append(prepared)
        self.counts["late" if prepared.result["late"] else "on_time"] += 1
        if len(self.pending) >= GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            for outcome in self.app.commit_group(self.pending):
                if isinstance(outcome, ServiceError):
                    self.counts[f"refused_{type(outcome).__name__}"] += 1
            self.pending = []

    def amend(self, amendment: Amendment) -> None:
        self.flush()
        disclosure = self.app.find(
            Disclosure.create_id(amendment.community_code, amendment.year, amendment.quarter),
            Disclosure,
        )
        if disclosure is None:
            self.counts["amendment_without_filing"] += 1
            return
        request = amendment.to_request(str(disclosure.id), disclosure.version)
        self.app.handle(
            officer(disclosure.unit),
            AmendDisclosure(
                request.request_id,
                request.disclosure_id,
                request.expected_version,
                request.reason,
                content_from_pb(request.content),
            ),
        )
        self.counts["amendments"] += 1

    def close(self, deadline: datetime, period: Quarter) -> None:
        self.flush()
        self.clock.now = deadline
        result: QuarterClosed = self.app.handle(
            CITY, CloseQuarter(f"demo-close-{period}", period.year, period.quarter)
        )
        self.counts["overdue"] += result.marked_overdue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--communities", type=int, default=1500)
    parser.add_argument("--companies", type=int, default=300)
    args = parser.parse_args()
    settings = ServiceSettings(service="disclosure")
    ensure_database(settings.service_database_url)
    clock = LoaderClock()
    parts = build(settings, clock=clock)
    app = parts.app
    assert isinstance(app, DisclosureApplication)
    started = time.perf_counter()
    try:
        dataset = generate(args.seed, args.communities, args.companies)
        first = dataset.companies[0]
        if app.find_receipt("RegisterCompany", first.request_id) is not None:
            print("load_demo: the demo data is loaded already; nothing to do")
            return 0
        loader = Loader(app, clock, dataset)
        loader.register()
        loader.run_timeline()
    finally:
        close(parts)
    counts = dict(sorted(loader.counts.items()))
    print(f"load_demo: loaded in {time.perf_counter() - started:.1f} s: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
