"""One chaos run, start to finish: its own broker and database server, the four services'
roles as separate supervised processes, the workload from concurrent callers while roles
are killed and the broker and the database server restarted, the poison corpus and the
generated requests, then quiescence, the reconciliation and its table."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pubrev.casework.v1 import casework_pb2_grpc
from pubrev.common.v1 import admin_pb2 as apb
from pubrev.common.v1 import admin_pb2_grpc
from pubrev.credit.v1 import credit_pb2_grpc
from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev.inspection.v1 import inspection_pb2_grpc
from tools import run_platform
from tools.chaos import commands as rq
from tools.chaos.client import Caller
from tools.chaos.infra import Kafka, Postgres
from tools.chaos.model import Model
from tools.chaos.poison import Poisoner, PoisonReport
from tools.chaos.progress import Display
from tools.chaos.reconcile import SERVICES, Row, gather, reconcile
from tools.chaos.roles import Platform
from tools.chaos.workload import Sizes, Workload
from tools.run_platform import Layout

STUBS = {
    "disclosure": disclosure_pb2_grpc.DisclosureServiceStub,
    "inspection": inspection_pb2_grpc.InspectionServiceStub,
    "credit": credit_pb2_grpc.CreditServiceStub,
    "casework": casework_pb2_grpc.CaseworkServiceStub,
    "admin": admin_pb2_grpc.AdminServiceStub,
}
KILLS_FROM, KILLS_UNTIL = 0.04, 0.9
"""The share of the workload's commands between which the kills are spread."""
BROKER_AT, DATABASE_AT = 0.35, 0.65
POISON_FROM, POISON_UNTIL = 0.25, 0.85


@dataclass(frozen=True)
class Options:
    commands: int = 10_000
    callers: int = 50
    kills: int = 50
    after_ack_probability: float = 0.02
    after_ack_max: int = 12
    after_ack_gap: float = 20.0
    """Seconds at least between two crashes after the ack (armed_role.py)."""
    generated: int = 300
    rate: float = 30.0
    """Commands started per second at most (workload.Pace)."""
    seed: int = 2026
    state: Path = Path(".local/chaos")
    quiescence_timeout: float = 600.0
    quiet: bool = False


@dataclass
class Result:
    options: dict[str, Any]
    seconds: float = 0.0
    seconds_by_phase: dict[str, float] = field(default_factory=dict)
    commands: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    not_specific: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    kills: dict[str, int] = field(default_factory=dict)
    after_ack_crashes: int = 0
    restarts: dict[str, int] = field(default_factory=dict)
    infra_restarts: list[str] = field(default_factory=list)
    poison: list[dict[str, Any]] = field(default_factory=list)
    generated: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quiescent: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)
    parked: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class Chaos:
    """Kills roles and restarts the infrastructure as the workload progresses."""

    def __init__(
        self,
        platform: Platform,
        kafka: Kafka,
        postgres: Postgres,
        options: Options,
        display: Display,
        progress: Any,
    ) -> None:
        self.platform = platform
        self.kafka = kafka
        self.postgres = postgres
        self.options = options
        self.display = display
        self.progress = progress
        self.rng = random.Random(options.seed + 1)  # noqa: S311 (when and whom to kill)
        spread = (KILLS_UNTIL - KILLS_FROM) / max(1, options.kills)
        self.kill_at = [KILLS_FROM + spread * (n + self.rng.random()) for n in range(options.kills)]
        self.kills: Counter[str] = Counter()
        self.infra: list[str] = []
        self._order: list[str] = []

    def _victim(self) -> str | None:
        names = self.platform.role_names()
        for _ in range(2 * len(names)):
            if not self._order:
                self._order = list(names)
                self.rng.shuffle(self._order)
            name = self._order.pop()
            if self.platform.kill(name):
                return name
        return None

    async def run(self, done: asyncio.Event) -> None:
        broker, database = False, False
        while not done.is_set():
            self.platform.tick()
            share = self.progress()
            while self.kill_at and share >= self.kill_at[0]:
                self.kill_at.pop(0)
                victim = self._victim()
                if victim is not None:
                    self.kills[victim] += 1
            if not broker and share >= BROKER_AT:
                broker = True
                await self._restart("broker", self.kafka.restart)
            if not database and share >= DATABASE_AT:
                database = True
                await self._restart("PostgreSQL", self.postgres.restart)
            await asyncio.sleep(0.1)
        # The workload may end before the last kills were due: they happen now, while the
        # relays, consumers and projectors still work through the backlog.
        for _ in self.kill_at:
            victim = self._victim()
            if victim is not None:
                self.kills[victim] += 1
            for _ in range(10):
                self.platform.tick()
                await asyncio.sleep(0.1)
        self.kill_at = []

    async def _restart(self, what: str, restart: Any) -> None:
        self.display.phase(f"restarting {what} (kill -9 / immediate stop, then start)")
        ticker = asyncio.create_task(self._tick_while())
        try:
            down, took = await asyncio.to_thread(restart)
        finally:
            ticker.cancel()
        self.infra.append(f"{what}: down {down:.1f} s (start {took:.1f} s)")
        self.display.phase(f"{what} back after {down:.1f} s")

    async def _tick_while(self) -> None:
        while True:
            self.platform.tick()
            await asyncio.sleep(0.2)


async def lag_of(caller: Caller, service: str) -> apb.GetLagResponse | None:
    answer = await caller.call(
        service, "GetLag", apb.GetLagRequest(), rq.OPERATOR, admin=True, count=False, budget=20
    )
    return answer.reply if answer.ok else None


async def pending_pushes(postgres: Postgres) -> tuple[int, int, float]:
    """Records waiting to be pushed: (due now, leased, seconds until the last lease ends).
    A leased record was claimed by a pusher that died, or failed in the middle of its batch,
    before it was sent: it is sent when the lease ends (servicekit.push)."""
    from tools.chaos.reconcile import read_rows

    due = leased = 0
    until = 0.0
    for service in ("credit", "casework"):
        url = postgres.url.rsplit("/", 1)[0] + f"/pubrev_{service}"
        [(now, later, seconds)] = await asyncio.to_thread(
            read_rows,
            url,
            "SELECT count(*) FILTER (WHERE next_attempt_at <= now()),"
            " count(*) FILTER (WHERE next_attempt_at > now()),"
            " coalesce(extract(epoch FROM max(next_attempt_at) - now()), 0)"
            " FROM push_records WHERE status = 'pending'",
        )
        due += int(now)
        leased += int(later)
        until = max(until, float(seconds))
    return due, leased, until


async def quiesce(
    caller: Caller, platform: Platform, postgres: Postgres, timeout: float, display: Display
) -> tuple[bool, str]:
    """Until every relay and projection is at its log's head, every consumer group at its
    partitions' ends, no record is due to be pushed and every role runs: three times in a
    row, a second apart. Records leased by a pusher that died are waited for when their
    lease ends within the timeout; otherwise the reconciliation counts them as delayed."""
    started = time.monotonic()
    deadline = started + timeout
    next_note = started + 15
    calm = 0
    why = ""
    while time.monotonic() < deadline:
        platform.tick()
        behind: list[str] = []
        if not platform.all_running():
            behind.append("a role is restarting")
        for service in SERVICES:
            lag = await lag_of(caller, service)
            if lag is None:
                behind.append(f"{service}: no lag answer")
                continue
            if lag.relay.position < lag.relay.head:
                behind.append(f"{service} relay {lag.relay.head - lag.relay.position}")
            behind += [
                f"{p.name} {p.head - p.position}" for p in lag.projections if p.position < p.head
            ]
            if lag.consumers_error:
                behind.append(f"{service} consumers: {lag.consumers_error[:60]}")
            behind += [
                f"{c.group} {c.topic}/{c.partition} {c.lag}" for c in lag.consumers if c.lag > 0
            ]
        try:
            due, leased, until = await pending_pushes(postgres)
        except Exception as error:  # the database restarting: not calm yet
            behind.append(f"pushes unknown ({type(error).__name__})")
        else:
            if due:
                behind.append(f"{due} pushes due")
            if leased and time.monotonic() + until < deadline:
                behind.append(
                    f"{leased} pushes leased by a pusher that died, for {until:.0f} s more"
                )
        calm = 0 if behind else calm + 1
        if calm >= 3:
            return True, ""
        if behind and time.monotonic() >= next_note:
            display.phase(
                f"waiting for: {', '.join(behind[:4])}"
                + (f" (and {len(behind) - 4} more)" if len(behind) > 4 else "")
            )
            next_note = time.monotonic() + 15
        if behind:
            why = ", ".join(behind[:4])
        await asyncio.sleep(1.0)
        platform.tick()
    return False, why


async def parked_and_groups(caller: Caller) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    parked: list[dict[str, Any]] = []
    groups: dict[str, set[str]] = {}
    for service in SERVICES:
        after = 0
        while True:
            answer = await caller.call(
                service,
                "ListParked",
                apb.ListParkedRequest(status="all", after_id=after, limit=1000),
                rq.OPERATOR,
                admin=True,
                count=False,
                budget=30,
            )
            if not answer.ok:
                raise RuntimeError(f"ListParked on {service}: {answer.code.name} {answer.details}")
            entries = list(answer.reply.parked)
            parked += [
                {
                    "service": service,
                    "id": e.id,
                    "role": e.role,
                    "worker": e.worker,
                    "event_key": e.event_key,
                    "error": e.error,
                    "status": e.status,
                    "attempts": e.attempts,
                    "held_behind": e.held_behind,
                }
                for e in entries
            ]
            if len(entries) < 1000:
                break
            after = entries[-1].id
        lag = await lag_of(caller, service)
        for consumer in lag.consumers if lag is not None else []:
            groups.setdefault(consumer.topic, set()).add(consumer.group)
    return parked, groups


def crashed_batches(counter: Path) -> Counter[str]:
    """Per service, the messages acknowledged in the relay batches that crashed before
    their position was recorded (one line per crash, written by armed_role.py)."""
    messages: Counter[str] = Counter()
    for line in counter.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        count = next(
            (f.removeprefix("messages=") for f in fields if f.startswith("messages=")), "0"
        )
        messages[fields[1]] += int(count)
    return messages


def fresh_state(layout: Layout, counter: Path) -> None:
    """Logs, received feeds and the crash counter of this run only."""
    for folder in (layout.feeds, layout.logs):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    layout.status.unlink(missing_ok=True)
    counter.write_text("")


async def run(options: Options) -> Result:
    result = Result(options={k: str(v) for k, v in asdict(options).items()})
    started = time.monotonic()
    state = options.state.resolve()
    layout = Layout(state)
    counter = state / "after_ack_crashes.log"
    state.mkdir(parents=True, exist_ok=True)
    sizes = Sizes.for_commands(options.commands)
    kafka = Kafka(state / "kafka", layout.logs)
    postgres = Postgres(state / "pg", layout.logs)
    display = Display(sizes.planned(), force_quiet=options.quiet)
    # What a run killed outright (SIGKILL, a closed terminal) left on this state: its roles
    # (from its status file), its broker, its PostgreSQL.
    run_platform.stop_leftovers(layout, display.phase)
    if await asyncio.to_thread(kafka.stop_leftover):
        display.phase("stopped the broker a killed run left")
    if await asyncio.to_thread(postgres.stop_leftover):
        display.phase("stopped the PostgreSQL a killed run left")
    fresh_state(layout, counter)
    said: list[str] = []
    platform: Platform | None = None
    caller: Caller | None = None

    def phase(name: str, since: float) -> float:
        now = time.monotonic()
        result.seconds_by_phase[name] = round(now - since, 1)
        return now

    with display:
        try:
            mark = time.monotonic()
            display.phase(
                f"starting a PostgreSQL and a Kafka broker of the run's own (state {state})"
            )
            await asyncio.to_thread(postgres.start)
            await asyncio.to_thread(postgres.drop_service_databases, list(SERVICES))
            await asyncio.to_thread(kafka.start, fresh=True)
            env = {
                "KAFKA_BOOTSTRAP": kafka.bootstrap,
                "DATABASE_URL": postgres.url,
                "PUBREV_SHUTDOWN_GRACE_SECONDS": "3",
            }

            def say(text: str) -> None:
                said.append(text)
                with (layout.logs / "run.log").open("a", encoding="utf-8") as out:
                    out.write(text + "\n")

            platform = Platform(
                layout,
                env,
                counter,
                options.after_ack_probability,
                options.after_ack_max,
                options.after_ack_gap,
                say,
            )
            await asyncio.to_thread(platform.prepare)
            mark = phase("infrastructure and schemas", mark)
            display.phase(f"starting {len(platform.specs())} role processes")
            await asyncio.to_thread(platform.start)
            mark = phase("roles up", mark)
            ports = {s: platform.api_port(s) for s in SERVICES}
            caller = Caller(ports, STUBS)
            model = Model()
            workload = Workload(
                caller,
                model,
                sizes,
                options.seed,
                options.callers,
                options.rate,
                say=display.phase,
                target=options.commands,
            )
            poisoner = Poisoner(
                caller,
                model,
                kafka.bootstrap,
                options.seed + 2,
                options.generated,
                workload.uncertain,
            )
            generated = await asyncio.to_thread(poisoner.generated_tasks)
            display.phase(
                f"workload: about {sizes.planned()} commands from "
                f"{options.callers} callers; {options.kills} kills, a broker and "
                f"a PostgreSQL restart, {len(generated)} generated requests and "
                "the poison corpus on the way"
            )
            planned = sizes.planned()

            def progress() -> float:
                assert caller is not None
                return caller.stats.commands() / planned

            done = asyncio.Event()
            chaos = Chaos(platform, kafka, postgres, options, display, progress)
            chaos_task = asyncio.create_task(chaos.run(done))

            async def show() -> None:
                while not done.is_set():
                    assert caller is not None
                    display.update(
                        caller.stats.commands(),
                        f"kills {sum(chaos.kills.values())}/{options.kills}, "
                        f"after-ack {counter.read_text().count(chr(10))}, "
                        f"infra {len(chaos.infra)}/2",
                    )
                    await asyncio.sleep(0.5)

            finished = asyncio.Event()

            async def reach(share: float) -> None:
                """Until the workload has done `share` of its commands (or is over)."""
                while not finished.is_set():
                    if progress() >= share:
                        return
                    await asyncio.sleep(0.05)

            async def hostile() -> None:
                # The corpus once the workload is well under way (the forged event needs a
                # filed disclosure), the generated requests spread over the rest of it.
                await reach(POISON_FROM)
                for task in poisoner.corpus():
                    await task()
                pace = (POISON_UNTIL - POISON_FROM) / max(1, len(generated))
                for n, task in enumerate(generated):
                    await reach(POISON_FROM + pace * n)
                    await task()

            shower = asyncio.create_task(show())
            hostile_task = asyncio.create_task(hostile())
            try:
                await workload.run()
                finished.set()
                await hostile_task
            finally:
                finished.set()
                done.set()
                if not hostile_task.done():
                    hostile_task.cancel()
                await chaos_task
                await shower
            display.update(caller.stats.commands(), "")
            result.notes += workload.plan_notes
            if workload.uncertain:
                display.phase(
                    f"asking again for the outcome of {len(workload.uncertain)} "
                    "commands without a specific answer"
                )
                await workload.resolve()
            mark = phase("workload under chaos", mark)
            display.phase(f"{caller.stats.commands()} commands answered; waiting for quiescence")
            result.quiescent, why = await quiesce(
                caller, platform, postgres, options.quiescence_timeout, display
            )
            if not result.quiescent:
                result.failures.append(
                    f"not quiescent after {options.quiescence_timeout:.0f} s: {why}"
                )
            mark = phase("quiescence", mark)
            display.phase("reconciling")
            parked, groups = await parked_and_groups(caller)
            urls = {s: postgres.url.rsplit("/", 1)[0] + f"/pubrev_{s}" for s in SERVICES}
            evidence = await asyncio.to_thread(
                gather, urls, kafka.bootstrap, layout.feeds, parked, groups
            )
            rows = reconcile(model, evidence, poisoner.report, crashed_batches(counter))
            phase("reconciliation", mark)
            fill(result, caller, model, poisoner.report, chaos, platform, counter, rows, parked)
        finally:
            if caller is not None:
                await caller.close()
            if platform is not None:
                took = await asyncio.to_thread(platform.stop)
                display.phase(f"roles stopped in {took:.1f} s")
            await asyncio.to_thread(kafka.stop)
            await asyncio.to_thread(postgres.stop)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def fill(
    result: Result,
    caller: Caller,
    model: Model,
    poison: PoisonReport,
    chaos: Chaos,
    platform: Platform,
    counter: Path,
    rows: list[Row],
    parked: list[dict[str, Any]],
) -> None:
    stats = caller.stats
    result.commands = stats.commands()
    # The workload's commands, as first answered (the generated requests are apart).
    result.accepted = {rpc: n for (rpc, code), n in stats.outcomes.items() if code == "OK"}
    result.refused = {
        f"{rpc} {code}": n for (rpc, code), n in stats.outcomes.items() if code != "OK"
    }
    result.retries = dict(stats.retries)
    result.not_specific = [f"{rpc} {code}: {why}" for rpc, code, why in stats.not_specific]
    result.unresolved = [f"{rpc} {rid}" for rpc, rid in stats.unresolved]
    result.kills = dict(chaos.kills)
    result.after_ack_crashes = counter.read_text().count("\n")
    result.restarts = {k: v for k, v in platform.restarts().items() if v}
    result.infra_restarts = chaos.infra
    result.poison = [asdict(p) for p in poison.probes if not p.name.endswith("(generated)")]
    result.poison += [
        {"name": k.name, "topic": k.topic, "partition": k.partition, "offset": k.offset}
        for k in poison.kafka
    ]
    result.generated = {f"{rpc} {code}": n for (rpc, code), n in poison.generated.items()}
    result.mismatches = model.mismatches
    result.rows = [asdict(r) for r in rows]
    result.parked = parked
    f = result.failures
    f += [
        f"{r.area}: {r.effect}: {r.lost} lost, {r.double} double"
        for r in rows
        if r.lost or r.double
    ]
    f += [
        f"not a specific answer: {p.name} ({p.rpc}) got {p.code}"
        + (f", trailers {p.trailers} B" if p.trailers >= 8192 else "")
        + (f", expected {p.expected}" if p.expected and p.code != p.expected else "")
        for p in poison.failures()
    ]
    f += [f"command answered {line}" for line in result.not_specific]
    f += [f"unresolved (no answer within its budget): {line}" for line in result.unresolved]
    f += [f"model: {m}" for m in model.mismatches]
    if sum(chaos.kills.values()) < int(result.options["kills"]):
        f.append(f"only {sum(chaos.kills.values())} kills of {result.options['kills']}")
    if int(result.options["after_ack_max"]) and not result.after_ack_crashes:
        f.append("no relay crashed between the Kafka ack and the position record")
    if len(chaos.infra) < 2:
        f.append("the broker and PostgreSQL were not both restarted")


def table(result: Result) -> str:
    """The reconciliation table and the run's figures, as plain text (the report)."""
    lines = []
    width = max(len(f"{r['area']}: {r['effect']}") for r in result.rows) if result.rows else 40
    lines.append(
        f"{'effect':<{width}} {'expected':>8} {'found':>8} {'lost':>5} {'double':>6}  note"
    )
    lines.append("-" * (width + 40))
    for r in result.rows:
        name = f"{r['area']}: {r['effect']}"
        mark = " !" if r["lost"] or r["double"] else ""
        lines.append(
            f"{name:<{width}} {r['expected']:>8} {r['found']:>8} {r['lost']:>5} "
            f"{r['double']:>6}  {r['note']}{mark}"
        )
        lines += [f"{'':<{width}}     {e}" for e in r["examples"] if r["lost"] or r["double"]]
    lines.append("-" * (width + 40))
    kills = sum(result.kills.values())
    lines.append(
        f"commands answered: {result.commands} "
        f"(accepted {sum(result.accepted.values())}, not accepted "
        f"{sum(result.refused.values())}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.refused.items()))
        + "); retried attempts: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(result.retries.items())) or 'none'}"
    )
    lines.append(
        f"kills: {kills} kill -9 of roles + {result.after_ack_crashes} relay crashes "
        f"between the Kafka ack and the position record = "
        f"{kills + result.after_ack_crashes}; by role: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.kills.items()))
    )
    lines.append(
        "restarts by the supervisor: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.restarts.items()))
    )
    lines.append("infrastructure: " + "; ".join(result.infra_restarts))
    lines.append(
        "poison corpus: "
        + "; ".join(f"{p['name']}: {p.get('code', 'published')}" for p in result.poison)
    )
    lines.append(
        "generated requests: " + ", ".join(f"{k} {v}" for k, v in sorted(result.generated.items()))
    )
    by_why = Counter(f"{p['worker']} [{p['status']}]: {p['error'][:100]}" for p in result.parked)
    lines.append(
        f"parked ({len(result.parked)}): "
        + ("; ".join(f"{n}× {why}" for why, n in by_why.most_common()) or "none")
    )
    if result.notes:
        lines.append("notes: " + "; ".join(result.notes))
    lines.append(
        f"time: {result.seconds:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds_by_phase.items())
        + ")"
    )
    lines.append(
        "RESULT: "
        + (
            "OK: no loss, no double effect"
            if result.ok
            else f"FAILED ({len(result.failures)}):\n  " + "\n  ".join(result.failures[:40])
        )
    )
    return "\n".join(lines)


def write_json(result: Result, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = asdict(result) | {"ok": result.ok}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
