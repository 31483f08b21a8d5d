"""The mixed workload: registrations, filings, amendments, spot checks with findings,
penalties, complaints and referrals across the four services, from concurrent callers.

Commands that depend on each other run in order inside one chain (a community's filings and
their amendments; a complaint, its investigation and its referral; a plan, its draw and then
its checks); chains and single commands are taken at random from one bag by the callers, so
every service is busy at once. Companies come first (a community names its company), then
the communities and the inspectors (a plan draws from what inspection knows of the unit),
then the rest, mixed. Each plan waits until inspection has learnt every community of its
unit from disclosure's events before it is made, so the draw covers them.

The sizes follow the number of commands asked for (about 10,000 in `make chaos`, 500 in the
test): the synthetic Putian (tools/synthetic_putian.py) gives the companies, communities and
filings; the rest is drawn from one seeded random generator.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pubrev.disclosure.v1 import disclosure_pb2 as dpb
from pubrev.inspection.v1 import inspection_pb2 as ipb
from pubrev_contracts.vocabulary.identifiers import is_uscc
from pubrev_contracts.vocabulary.units import CITY, COUNTY_UNITS
from tools.chaos import commands as rq
from tools.chaos.client import NOT_SPECIFIC, RETRYABLE, Caller
from tools.chaos.model import Model
from tools.synthetic_putian import Filing, generate

Task = Callable[[], Awaitable[None]]
QUARTERS = ((2026, 1), (2026, 2))
CITY_QUOTA = 0.15
UNIT_QUOTA = 0.5
"""What inspection's plans draw (work plan 四（三）), to size the checks the plans allow."""
PLAN_WAIT = 240.0
"""How long a plan waits for inspection to learn its unit's communities (a consumer killed
during the wait is back within seconds; its group rebalance takes longer)."""


@dataclass(frozen=True)
class Sizes:
    communities: int
    companies: int
    inspectors_per_unit: int
    plan_years: tuple[int, ...]
    amend_share: float
    checks: int
    penalties: int
    complaints: int
    referrals: int

    @classmethod
    def for_commands(cls, commands: int) -> Sizes:
        """About `commands` commands in all (filings, amendments and checks are estimates:
        a refused filing is filed again, an amendment follows an accepted filing only)."""
        communities = max(35, round(commands * 0.10))
        companies = max(3, communities // 16)
        big = commands >= 5000
        years = (2025, 2026) if big else (2026,)
        inspectors = (5 if big else 3) * (len(COUNTY_UNITS) + 1)
        filings = round(communities * len(QUARTERS) * 0.97)
        amend_share = 0.3
        amendments = round(filings * amend_share * 0.95)
        plans = 2 * len(years) * (len(COUNTY_UNITS) + 1)
        targets = len(years) * (
            math.ceil(communities * CITY_QUOTA)
            + math.ceil(communities * UNIT_QUOTA)
            + len(COUNTY_UNITS)
        )
        checks = min(round(commands * 0.12), int(targets * 0.95))
        rest = max(
            0,
            commands - companies - communities - inspectors - filings - amendments - plans - checks,
        )
        referrals = round(rest * 0.08)
        complaints = round(rest * 0.36)
        penalties = max(0, rest - 3 * referrals - complaints)
        return cls(
            communities,
            companies,
            inspectors // (len(COUNTY_UNITS) + 1),
            years,
            amend_share,
            checks,
            penalties,
            complaints,
            referrals,
        )

    def planned(self) -> int:
        """Commands planned, for the progress bar (the estimate of for_commands)."""
        filings = round(self.communities * len(QUARTERS) * 0.97)
        return (
            self.companies
            + self.communities
            + self.inspectors_per_unit * (len(COUNTY_UNITS) + 1)
            + filings
            + round(filings * self.amend_share * 0.95)
            + 2 * len(self.plan_years) * (len(COUNTY_UNITS) + 1)
            + self.checks
            + self.penalties
            + self.complaints
            + 3 * self.referrals
        )


@dataclass(frozen=True)
class Pending:
    """A command answered INTERNAL or UNKNOWN, or not answered within its budget."""

    service: str
    rpc: str
    request: object
    metadata: rq.Metadata
    published: bool | None = None


class Pace:
    """At most `rate` commands started per second, whoever starts them: the callers send
    over minutes, not in one burst, so the kills and restarts fall among their commands.
    (Unpaced, the platform answers ~150 commands/s here and a small run is over before its
    first restart is.)"""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next)
            self.next = start + self.interval
        await asyncio.sleep(start - now)


@dataclass
class Bag:
    """Tasks taken at random by the callers; follow-up tasks may be added while it runs."""

    rng: random.Random
    tasks: list[Task] = field(default_factory=list)
    busy: int = 0
    producers: int = 0
    """Tasks outside the bag that will still add to it (the plans)."""
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    failures: list[BaseException] = field(default_factory=list)

    async def add(self, *tasks: Task) -> None:
        async with self.changed:
            self.tasks.extend(tasks)
            self.changed.notify_all()

    async def take(self) -> Task | None:
        async with self.changed:
            while not self.tasks:
                if not self.busy and not self.producers:
                    self.changed.notify_all()
                    return None
                await self.changed.wait()
            self.busy += 1
            return self.tasks.pop(self.rng.randrange(len(self.tasks)))

    async def done(self) -> None:
        async with self.changed:
            self.busy -= 1
            self.changed.notify_all()

    async def run(self, callers: int) -> None:
        """Until the bag is empty and nothing can add to it any more."""

        async def caller() -> None:
            while (task := await self.take()) is not None:
                try:
                    await task()
                except Exception as error:  # a bug of the workload itself: report, go on
                    self.failures.append(error)
                finally:
                    await self.done()

        await asyncio.gather(*(caller() for _ in range(callers)))


class Workload:
    def __init__(
        self,
        caller: Caller,
        model: Model,
        sizes: Sizes,
        seed: int,
        callers: int = 50,
        rate: float = 0.0,
        say: Callable[[str], None] = print,
        target: int = 0,
    ) -> None:
        """`target`: at least this many commands in all (0: the sizes' estimate)."""
        self.caller = caller
        self.model = model
        self.sizes = sizes
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible workload, not a secret)
        self.callers = callers
        self.say = say
        self.dataset = generate(seed, sizes.communities, sizes.companies, QUARTERS)
        self.plan_notes: list[str] = []
        self.pace = Pace(rate)
        self.uncertain: list[Pending] = []
        self.target = target or sizes.planned()
        self.plans_left = len(sizes.plan_years) * len(rq.PLAN_UNITS)
        self.checks_queued = 0
        self.spare: list[tuple[str, int, ipb.PlannedTarget, rq.Metadata]] = []

    # -- one command ----------------------------------------------------------------------

    async def command(
        self,
        service: str,
        rpc: str,
        request: object,
        metadata: rq.Metadata,
        published: bool | None = None,
    ) -> object | None:
        """Sends one command; the model records what it must cause. The reply, if accepted."""
        await self.pace.wait()
        answer = await self.caller.call(service, rpc, request, metadata)
        if answer.ok:
            self.model.accept(rpc, request, answer.reply, published)
            reply: object = answer.reply
            return reply
        if answer.code in NOT_SPECIFIC or answer.code in RETRYABLE:
            # Done or not? The caller cannot tell (that is the failure reported); resolve()
            # asks again later with the same request_id, so the model knows.
            self.uncertain.append(Pending(service, rpc, request, metadata, published))
            return None
        self.model.refuse(rpc, answer.code.name)
        return None

    async def resolve(self) -> None:
        """The commands whose outcome the callers could not learn, sent again with their
        request_id now that the platform is calm: a receipt answers one that was carried
        out, anything else is carried out now or refused. Either way the model knows."""
        for pending in self.uncertain:
            answer = await self.caller.call(
                pending.service,
                pending.rpc,
                pending.request,
                pending.metadata,
                count=False,
                budget=120,
            )
            if answer.ok:
                self.model.accept(pending.rpc, pending.request, answer.reply, pending.published)
            else:
                self.model.refuse(pending.rpc, answer.code.name)

    # -- the phases -----------------------------------------------------------------------

    async def run(self, extra: list[Task] | None = None) -> None:
        bag = Bag(self.rng)
        city = rq.officer(CITY)
        await bag.add(
            *(
                self._single("disclosure", "RegisterCompany", r, city)
                for r in self.dataset.companies
            )
        )
        await bag.run(self.callers)
        units = {c.community_code: c.unit for c in self.dataset.communities}
        await bag.add(
            *(
                self._single("disclosure", "RegisterCommunity", r, rq.officer(r.unit))
                for r in self.dataset.communities
            )
        )
        for unit in rq.PLAN_UNITS:
            await bag.add(
                *(
                    self._single(
                        "inspection", "RegisterInspector", rq.inspector(unit, n), rq.officer(unit)
                    )
                    for n in range(self.sizes.inspectors_per_unit)
                )
            )
        await bag.run(self.callers)
        self.say(
            f"registered {len(self.model.companies)} companies, "
            f"{len(self.model.communities)} communities, "
            f"{len(self.model.inspectors)} inspectors"
        )

        filings: dict[str, list[Filing]] = {}
        for filing in self.dataset.filings:
            filings.setdefault(filing.request.community_code, []).append(filing)
        tasks: list[Task] = [
            self._filing_chain(code, chain, units[code]) for code, chain in filings.items()
        ]
        # Credit refuses a party whose code fails GB 32100's check character (uscc_check):
        # the penalties (and complaints) name the companies with valid codes.
        companies = [(c.uscc, c.name) for c in self.dataset.companies if is_uscc(c.uscc)]
        for n in range(self.sizes.penalties):
            uscc, name = self.rng.choice(companies)
            tasks.append(self._penalty_chain(rq.penalty(self.rng, n, uscc, name)))
        communities = self.dataset.communities
        for n in range(self.sizes.complaints + self.sizes.referrals):
            about = self.rng.choice(communities) if self.rng.random() < 0.6 else None
            unit = about.unit if about else self.rng.choice(COUNTY_UNITS)
            request = rq.complaint(self.rng, n, about, unit, self.rng.choice(companies)[0])
            if n < self.sizes.referrals:
                tasks.append(self._referral_chain(n, request))
            else:
                tasks.append(
                    self._single("casework", "ReceiveComplaint", request, rq.officer(unit))
                )
        tasks.extend(extra or [])
        await bag.add(*tasks)
        plans = [(unit, year) for year in self.sizes.plan_years for unit in rq.PLAN_UNITS]
        share = math.ceil(self.sizes.checks / len(plans))
        bag.producers = len(plans)
        planners = [asyncio.create_task(self._plan(bag, unit, year, share)) for unit, year in plans]
        await bag.run(self.callers)
        await asyncio.gather(*planners)
        # The sizes were estimates (refused filings, amendments drawn at random, plans of
        # small units with fewer targets than their share): the rest of the commands asked
        # for are penalties and complaints.
        short = self.target - self.caller.stats.commands()
        if short > 0:
            self.say(f"{short} more commands to reach {self.target}")
            await bag.add(*self._more(short, companies))
            await bag.run(self.callers)
        if bag.failures:
            raise RuntimeError(
                f"{len(bag.failures)} workload tasks failed; first: {bag.failures[0]!r}"
            ) from bag.failures[0]

    def _more(self, count: int, companies: list[tuple[str, str]]) -> list[Task]:
        tasks = []
        for n in range(count):
            uscc, name = self.rng.choice(companies)
            if n % 2:
                tasks.append(self._penalty_chain(rq.penalty(self.rng, 10**5 + n, uscc, name)))
            else:
                about = self.rng.choice(self.dataset.communities)
                request = rq.complaint(self.rng, 10**5 + n, about, about.unit, uscc)
                tasks.append(
                    self._single("casework", "ReceiveComplaint", request, rq.officer(about.unit))
                )
        return tasks

    def _single(
        self,
        service: str,
        rpc: str,
        request: object,
        metadata: rq.Metadata,
        published: bool | None = None,
    ) -> Task:
        async def task() -> None:
            await self.command(service, rpc, request, metadata, published)

        return task

    def _filing_chain(self, code: str, chain: list[Filing], unit: str) -> Task:
        """A community's filings in time order; an accepted one is amended now and then."""

        async def task() -> None:
            who = rq.officer(unit)
            for n, filing in enumerate(chain):
                reply = await self.command("disclosure", "FileDisclosure", filing.request, who)
                if reply is None or self.rng.random() >= self.sizes.amend_share:
                    continue
                filed = reply
                assert isinstance(filed, dpb.FileDisclosureResponse)
                amend = rq.amendment(filing.request, filed.disclosure_id, filed.version, n)
                if amend is not None:
                    await self.command("disclosure", "AmendDisclosure", amend, who)
            self.model.settled.add(code)

        return task

    def _penalty_chain(self, p: rq.Penalty) -> Task:
        """The notice, then the decision on it (credit refuses a decision without one:
        《行政处罚法》第四十四条、第六十二条)."""

        async def task() -> None:
            who = rq.officer(p.request.unit)
            notice = await self.command("credit", "NotifyIntendedPenalty", p.notice, who)
            if notice is None:
                return
            notice_id = getattr(notice, "notice_id", "")
            await self.command("credit", "ImposePenalty", p.on_notice(notice_id), who, p.published)

        return task

    def _referral_chain(self, n: int, complaint: object) -> Task:
        async def task() -> None:
            assert hasattr(complaint, "unit")
            who = rq.officer(complaint.unit)
            reply = await self.command("casework", "ReceiveComplaint", complaint, who)
            if reply is None:
                return
            case_id = getattr(reply, "case_id", "")
            if (
                await self.command(
                    "casework", "StartInvestigation", rq.start_investigation(n, case_id), who
                )
                is None
            ):
                return
            await self.command(
                "casework", "ReferToPolice", rq.referral(self.rng, n, case_id, complaint.unit), who
            )

        return task

    async def _plan(self, bag: Bag, unit: str, year: int, share: int) -> None:
        """Waits for inspection to know the unit's communities, plans, has the discipline
        office contribute, then puts up to `share` checks of the drawn targets in the bag."""
        try:
            expected = sum(
                1 for c in self.model.communities.values() if unit == CITY or c.unit == unit
            )
            known = await self._known_communities(unit, year, expected)
            if known < expected:
                self.plan_notes.append(
                    f"{unit} {year}: planned with {known} of {expected} "
                    f"communities known after {PLAN_WAIT:.0f} s"
                )
            who = rq.officer(unit)
            planned = await self.command("inspection", "PlanSpotChecks", rq.plan(unit, year), who)
            if not isinstance(planned, ipb.PlanSpotChecksResponse):
                self.plan_notes.append(f"{unit} {year}: the plan was refused")
                return
            drawn = await self.command(
                "inspection",
                "ContributeDrawEntropy",
                rq.contribution(self.rng, unit, year, planned.plan_id),
                rq.discipline(unit),
            )
            if not isinstance(drawn, ipb.ContributeDrawEntropyResponse):
                self.plan_notes.append(f"{unit} {year}: the draw was refused")
                return
            targets = list(drawn.targets)
            self.rng.shuffle(targets)
            await bag.add(*(self._check(planned.plan_id, year, t, who) for t in targets[:share]))
            self.spare += [(planned.plan_id, year, t, who) for t in targets[share:]]
            self.checks_queued += min(share, len(targets))
        finally:
            self.plans_left -= 1
            if self.plans_left == 0:
                # The last plan drawn: what small units' plans could not take, the others'
                # remaining targets do.
                left = max(0, self.sizes.checks - self.checks_queued)
                self.rng.shuffle(self.spare)
                await bag.add(*(self._check(*spare) for spare in self.spare[:left]))
            async with bag.changed:
                bag.producers -= 1
                bag.changed.notify_all()

    async def _known_communities(self, unit: str, year: int, expected: int) -> int:
        deadline = time.monotonic() + PLAN_WAIT
        known = 0
        while True:
            answer = await self.caller.call(
                "inspection",
                "GetPlanProgress",
                ipb.GetPlanProgressRequest(year=year, unit=unit),
                rq.officer(unit),
                count=False,
                budget=30,
            )
            if answer.ok:
                rows = [r for r in answer.reply.units if r.unit == unit]
                known = rows[0].communities if rows else 0
            if known >= expected or time.monotonic() > deadline:
                return known
            await asyncio.sleep(1.0)

    def _check(self, plan_id: str, year: int, target: ipb.PlannedTarget, who: rq.Metadata) -> Task:
        request, _ = rq.spot_check(self.rng, plan_id, year, target)

        async def task() -> None:
            await self.command("inspection", "RecordSpotCheck", request, who)

        return task
