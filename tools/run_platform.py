"""`make run`: the local infrastructure and the four services' roles, supervised, until Ctrl-C
or `make stop`.

    python tools/run_platform.py            # start everything, print endpoints, supervise
    python tools/run_platform.py --demo     # the same, the synthetic Putian data loaded first
    python tools/run_platform.py --status   # the roles of a running `make run` (make status)
    python tools/run_platform.py --stop     # stop a running `make run` from another shell

Order: the infrastructure (tools/devinfra.py up); the roles a killed run left behind, stopped;
each service's `python -m <service> prepare` (its database and tables, once, before any role
starts, so the roles never race on DDL); the demo data when asked; then every role in a
process of its own, `python -m <service> api|relay|consumer|projector` as deploy/k8s runs
them (development mode: plain gRPC, identity from `x-pubrev-identity`), and the feed
receiver. Logs in .local/logs/<role>.log, this supervisor's in .local/logs/run.log, the
roles' pids, states and restart counts in .local/run/status.json.

Supervision: a role that dies, whatever killed it, is restarted after a delay that doubles
with each death in a row (1 s, 2 s, 4 s ... at most 30 s) and starts again from 1 s once the
role has stayed up for a minute. Each death is logged with the role, its exit code or
signal, the restart count and the next delay, and the counts show in the status line and in
`make status`. A role that keeps dying is still restarted, and said so loudly with the tail
of its log. Nothing but Ctrl-C, SIGTERM or `make stop` stops anything: a role's death never
stops the other roles or the infrastructure. Stopping sends SIGTERM to every role at once
(each drains its RPCs, finishes the event in hand and the relay batch), SIGKILL to what is
left after the grace, reaps every child, then stops the infrastructure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"disclosure": 50051, "inspection": 50052, "credit": 50053, "casework": 50054}
SERVICE_ROLES = {
    # As deploy/k8s/base runs them, one process per role. Disclosure subscribes to nothing:
    # its consumer role would start, find no subscription and idle, so it is not run here.
    "disclosure": ("api", "relay", "projector"),
    "inspection": ("api", "relay", "consumer", "projector"),
    "credit": ("api", "relay", "consumer", "projector"),
    "casework": ("api", "relay", "consumer", "projector"),
}
RECEIVER = "feed-receiver"
RECEIVER_PORT = 18080
FEED_URLS = {
    # Where credit and casework push (their settings' development defaults, repeated here
    # so that a --port-offset run pushes to its own receiver); an URL set in the
    # environment wins.
    "PUBREV_FEED_CREDITCHINA_URL": "/feeds/creditchina",
    "PUBREV_FEED_MARKET_URL": "/feeds/market",
    "PUBREV_ZHIHUI_URL": "/feeds/zhihui",
}
START_TIMEOUT = 120.0
"""Until every api answers SERVING; 15 processes importing at once on 2 cores take ~20 s."""
STOP_GRACE = 15.0
"""SIGTERM to SIGKILL: longer than a role's own drain (PUBREV_SHUTDOWN_GRACE_SECONDS, 10 s),
so a clean shutdown is never cut short; an idle role is down in about a second."""
STOP_WAIT = STOP_GRACE + 30.0
"""How long `--stop` waits for the supervisor: its roles' grace, then the infrastructure."""
TICK = 0.2


# ------------------------------------------------------------------------------ output


class Output:
    """`run: …` lines on stderr (the foreground of `make run`), also appended with a
    timestamp to the supervisor's log."""

    def __init__(self, log: Path | None = None) -> None:
        self.log = log

    def __call__(self, text: str) -> None:
        print(f"run: {text}", file=sys.stderr, flush=True)
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a", encoding="utf-8") as out:
                out.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {text}\n")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64 * 1024))
        text = handle.read().decode(errors="replace")
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def describe_exit(code: int) -> str:
    """`exit code 3` or `signal SIGKILL` (Popen's negative return code)."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


# ------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    """For processes that are not our children (`--stop`, leftovers): a zombie, dead but not
    yet reaped by its parent, still answers kill(pid, 0); /proc tells it apart."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    fields = stat.rpartition(")")[2].split()
    return not fields or fields[0] != "Z"


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Every role leads a process group of its own (start_new_session): the group also
    holds what the role started (api workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


# ---------------------------------------------------------------------------- supervisor


@dataclass(frozen=True)
class RoleSpec:
    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    """On top of this process's environment."""
    port: int | None = None
    """Where the role answers gRPC health checks (the api roles)."""


@dataclass(frozen=True)
class Backoff:
    """Delay before restarting a role: `first`, doubled with each death in a row, at most
    `cap`. A role that ran `stable` seconds before dying starts over at `first`. After
    `loud_after` deaths in a row the supervisor says loudly that the role keeps dying.
    Local configuration: short enough that a role killed once is back at once, long enough
    that one failing at start (a bad setting, a dependency away) does not spin."""

    first: float = 1.0
    cap: float = 30.0
    stable: float = 60.0
    loud_after: int = 3

    def delay(self, deaths_in_a_row: int) -> float:
        return float(min(self.cap, self.first * 2 ** max(0, deaths_in_a_row - 1)))


@dataclass
class Role:
    spec: RoleSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    up_since: str = ""
    restarts: int = 0
    deaths_in_a_row: int = 0
    restart_at: float | None = None
    last_exit: str = ""


class Supervisor:
    """Starts roles, restarts the ones that die (tick), stops them all (stop). Single
    threaded: everything happens in tick(), called every TICK seconds by the run loop."""

    def __init__(
        self,
        specs: Sequence[RoleSpec],
        logs: Path,
        status_file: Path,
        *,
        backoff: Backoff = Backoff(),
        grace: float = STOP_GRACE,
        say: Callable[[str], None] | None = None,
        cwd: Path = ROOT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.roles = {spec.name: Role(spec) for spec in specs}
        self.logs = logs
        self.status_file = status_file
        self.backoff = backoff
        self.grace = grace
        self.say = say if say is not None else Output()
        self.cwd = cwd
        self.clock = clock
        self.state = "starting"
        self.hurry = False
        """Set by a second Ctrl-C: stop() sends SIGKILL without waiting out the grace."""

    # -- running ---------------------------------------------------------------------------

    def log_of(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self) -> None:
        for role in self.roles.values():
            self._spawn(role)
        self.write_status()

    def _spawn(self, role: Role) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log_of(role.spec.name).open("ab") as log:
            role.process = subprocess.Popen(
                role.spec.argv,
                cwd=self.cwd,
                env={**os.environ, **role.spec.env},
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C reaches the supervisor only, which stops the roles
                # in order; and a group of its own to signal with what it started.
                start_new_session=True,
            )
        role.started_at = self.clock()
        role.up_since = datetime.now(UTC).isoformat(timespec="seconds")
        role.restart_at = None

    def tick(self) -> bool:
        """Reaps the roles that died, schedules their restart, restarts the due ones.
        Whether anything changed."""
        changed = False
        now = self.clock()
        for role in self.roles.values():
            if role.process is not None:
                code = role.process.poll()  # waitpid(WNOHANG): a dead child is reaped here
                if code is not None:
                    self._died(role, code, now)
                    changed = True
            elif role.restart_at is not None and now >= role.restart_at:
                role.restarts += 1
                self._spawn(role)
                assert role.process is not None
                self.say(
                    f"{role.spec.name} restarted (restart {role.restarts}, pid {role.process.pid})"
                )
                changed = True
        if changed:
            self.write_status()
            self.say(self.status_line())
        return changed

    def _died(self, role: Role, code: int, now: float) -> None:
        assert role.process is not None
        # An api's workers share its group: gone with it, so the next one gets the port.
        signal_group(role.process.pid, signal.SIGKILL)
        role.process = None
        ran = now - role.started_at
        role.deaths_in_a_row = 1 if ran >= self.backoff.stable else role.deaths_in_a_row + 1
        delay = self.backoff.delay(role.deaths_in_a_row)
        role.restart_at = now + delay
        role.last_exit = describe_exit(code)
        name, log = role.spec.name, self.log_of(role.spec.name)
        self.say(
            f"{name} died ({role.last_exit}) after {ran:.1f} s; restart "
            f"{role.restarts + 1} in {delay:.3g} s; log: {log}"
        )
        if role.deaths_in_a_row >= self.backoff.loud_after:
            self.say(
                f"!!! {name} KEEPS DYING: {role.deaths_in_a_row} deaths in a row, each within "
                f"{self.backoff.stable:.0f} s of its start; still restarting it, every "
                f"{self.backoff.cap:.0f} s at most, until it stays up. Last lines of {log}:\n"
                + tail(log, 15)
            )

    def running(self) -> list[str]:
        return [n for n, r in self.roles.items() if r.process is not None]

    def status_line(self) -> str:
        restarts = ", ".join(f"{n} {r.restarts}" for n, r in self.roles.items() if r.restarts)
        waiting = [n for n, r in self.roles.items() if r.restart_at is not None]
        text = f"roles: {len(self.running())}/{len(self.roles)} running"
        if waiting:
            text += f"; waiting to restart: {', '.join(waiting)}"
        return text + f"; restarts: {restarts or 'none'}"

    # -- stopping --------------------------------------------------------------------------

    def stop(self) -> float:
        """SIGTERM to every role at once, SIGKILL to what is left after the grace (at once
        after a second Ctrl-C), every child reaped. The seconds it took."""
        started = self.clock()
        self.state = "stopping"
        live = []
        for role in self.roles.values():
            role.restart_at = None
            if role.process is not None:
                signal_group(role.process.pid, signal.SIGTERM)
                live.append(role)
        self.write_status()
        deadline = started + self.grace
        while live and self.clock() < deadline and not self.hurry:
            live = [role for role in live if not self._reaped(role)]
            if live:
                time.sleep(0.05)
        for role in live:
            if role.process is None or self._reaped(role):
                continue
            self.say(
                f"{role.spec.name} still running "
                f"{self.clock() - started:.1f} s after SIGTERM; SIGKILL"
            )
            signal_group(role.process.pid, signal.SIGKILL)
            role.process.wait()
            self._reaped(role)
        self.state = "stopped"
        self.write_status()
        return self.clock() - started

    def _reaped(self, role: Role) -> bool:
        assert role.process is not None
        code = role.process.poll()
        if code is None:
            return False
        signal_group(role.process.pid, signal.SIGKILL)  # anything it left in its group
        role.last_exit = describe_exit(code)
        role.process = None
        return True

    # -- status ----------------------------------------------------------------------------

    def write_status(self) -> None:
        now = self.clock()
        document = {
            "supervisor": os.getpid(),
            "supervisor_argv": cmdline(os.getpid()),
            "state": self.state,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "roles": [
                {
                    "name": name,
                    "argv": list(role.spec.argv),
                    "pid": role.process.pid if role.process is not None else None,
                    "state": (
                        "running"
                        if role.process is not None
                        else "restarting"
                        if role.restart_at is not None
                        else "stopped"
                    ),
                    "up_since": role.up_since if role.process is not None else None,
                    "restart_in": (
                        round(max(0.0, role.restart_at - now), 1)
                        if role.restart_at is not None
                        else None
                    ),
                    "restarts": role.restarts,
                    "deaths_in_a_row": role.deaths_in_a_row,
                    "last_exit": role.last_exit or None,
                    "log": str(self.log_of(name)),
                }
                for name, role in self.roles.items()
            ],
        }
        write_json(self.status_file, document)


def write_json(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
    partial.replace(path)  # readers never see half a file


# ------------------------------------------------------------------------------ the platform


@dataclass(frozen=True)
class Layout:
    """Where a run keeps its state: .local by default, elsewhere for a second run."""

    state: Path

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def status(self) -> Path:
        return self.state / "run" / "status.json"

    @property
    def feeds(self) -> Path:
        return self.state / "feeds"


def role_specs(
    services: Iterable[str], layout: Layout, port_offset: int = 0, python: str = sys.executable
) -> list[RoleSpec]:
    """The roles of `services` and the feed receiver."""
    receiver = RECEIVER_PORT + port_offset
    base = {"PUBREV_ENVIRONMENT": "development", "PUBREV_DEV_IDENTITY_HEADER": "true"}
    base.update(
        {
            name: f"http://127.0.0.1:{receiver}{path}"
            for name, path in FEED_URLS.items()
            if name not in os.environ
        }
    )
    specs = [
        RoleSpec(
            RECEIVER,
            (
                python,
                str(ROOT / "tools" / "feed_receiver.py"),
                "--port",
                str(receiver),
                "--feeds-dir",
                str(ROOT / "contracts" / "feeds"),
                "--out",
                str(layout.feeds),
            ),
        )
    ]
    for service in services:
        port = SERVICES[service] + port_offset
        for role in SERVICE_ROLES[service]:
            env = {**base, "PUBREV_GRPC_PORT": str(port)} if role == "api" else base
            specs.append(
                RoleSpec(
                    f"{service}-{role}",
                    (python, "-m", service, role),
                    env,
                    port if role == "api" else None,
                )
            )
    return specs


def prepare(
    services: Sequence[str],
    layout: Layout,
    say: Callable[[str], None],
    python: str = sys.executable,
) -> bool:
    """Each service's database and tables, once, before any role starts (the services in
    parallel: each has a database of its own)."""
    started = time.monotonic()
    layout.logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PUBREV_ENVIRONMENT": "development"}
    running = []
    for service in services:
        log_path = layout.logs / f"{service}-prepare.log"
        with log_path.open("ab") as log:
            running.append(
                (
                    service,
                    log_path,
                    subprocess.Popen(
                        [python, "-m", service, "prepare"],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=log,
                        stdin=subprocess.DEVNULL,
                    ),
                )
            )
    ok = True
    for service, log_path, process in running:
        code = process.wait()
        if code != 0:
            ok = False
            say(
                f"preparing {service}'s database failed ({describe_exit(code)}); last lines "
                f"of {log_path}:\n{tail(log_path)}"
            )
    if ok:
        say(
            f"databases and tables of {len(services)} services ready in "
            f"{time.monotonic() - started:.1f} s"
        )
    return ok


def wait_serving(
    supervisor: Supervisor, stopping: Callable[[], bool], timeout: float = START_TIMEOUT
) -> list[str]:
    """Supervises while waiting for every api to answer SERVING; the ones that did not."""
    import grpc  # the supervisor loads gRPC for these checks only
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    waiting = {
        name: role.spec.port
        for name, role in supervisor.roles.items()
        if role.spec.port is not None
    }
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline and not stopping():
        supervisor.tick()
        for name, port in list(waiting.items()):
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=0.5
                    )
                except grpc.RpcError:
                    continue
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                del waiting[name]
        if waiting:
            time.sleep(0.3)
    return sorted(waiting)


def read_status(layout: Layout) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = json.loads(layout.status.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document


def live_supervisor(layout: Layout) -> int | None:
    """The pid of a supervisor running on `layout`, if any (checked against its argv, in
    case the pid was reused)."""
    status = read_status(layout)
    if not status or not status.get("supervisor") or status.get("state") == "stopped":
        return None
    pid = int(status["supervisor"])
    if pid == os.getpid() or not pid_alive(pid):
        return None
    return pid if cmdline(pid) == status.get("supervisor_argv") else None


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [pid for pid in pids if pid_alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if pid_alive(pid)]
    return left


def stop_leftovers(layout: Layout, say: Callable[[str], None]) -> None:
    """Roles of a supervisor that was killed outright (SIGKILL, a closed laptop), from its
    last status: SIGTERM, SIGKILL after the grace. A pid now running something else is left
    alone."""
    status = read_status(layout)
    if not status:
        return
    pids = {}
    for role in status.get("roles", []):
        pid = role.get("pid")
        if pid and pid_alive(pid) and cmdline(pid) == role.get("argv") and leads_group(pid):
            pids[int(pid)] = role["name"]
    if not pids:
        return
    say(f"stopping {len(pids)} roles a killed run left: {', '.join(sorted(pids.values()))}")
    for pid in pids:
        signal_group(pid, signal.SIGTERM)
    for pid in wait_gone(pids, STOP_GRACE):
        say(f"{pids[pid]} still running after SIGTERM; SIGKILL")
        signal_group(pid, signal.SIGKILL)
    wait_gone(pids, 10)
    status["state"] = "stopped"
    for role in status.get("roles", []):
        role["pid"] = None
        role["state"] = "stopped"
    write_json(layout.status, status)


def infra(command: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "devinfra.py"), command], check=True)


def run(args: argparse.Namespace, layout: Layout) -> int:
    say = Output(layout.logs / "run.log")
    other = live_supervisor(layout)
    if other is not None:
        say(f"another `make run` (pid {other}) is running on {layout.state}; `make stop` it first")
        return 1
    stop_leftovers(layout, say)
    services = args.services
    supervisor = Supervisor(
        role_specs(services, layout, args.port_offset), layout.logs, layout.status, say=say
    )
    signals = []

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signum)
        if len(signals) > 1:
            supervisor.hurry = True  # a second Ctrl-C: no more waiting for the drain

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def stopping() -> bool:
        return bool(signals)

    supervisor.write_status()  # from now on `make stop` finds this run, even while it starts
    try:
        return supervise(args, layout, supervisor, stopping, say)
    except subprocess.CalledProcessError as error:
        say(f"{' '.join(map(str, error.cmd[1:]))} failed ({describe_exit(error.returncode)})")
        return 1
    finally:
        if supervisor.running():  # an error of the supervisor itself: no role outlives it
            supervisor.stop()
        elif supervisor.state != "stopped":
            supervisor.state = "stopped"
            supervisor.write_status()


def supervise(
    args: argparse.Namespace,
    layout: Layout,
    supervisor: Supervisor,
    stopping: Callable[[], bool],
    say: Callable[[str], None],
) -> int:
    services = args.services
    if args.infra:
        infra("up")
    if not stopping() and not prepare(services, layout, say):
        return 1
    if args.demo and not stopping():
        say("loading the synthetic Putian demo data (about 30 s the first time)")
        subprocess.run([sys.executable, str(ROOT / "tools" / "load_demo.py")], check=True)
    if not stopping():
        supervisor.start()
        say(f"started {len(supervisor.roles)} processes; waiting for the apis to serve")
        not_serving = wait_serving(supervisor, stopping)
        if not_serving and not stopping():
            for name in not_serving:
                say(
                    f"{name} not serving after {START_TIMEOUT:.0f} s; last lines of its log:\n"
                    + tail(supervisor.log_of(name))
                )
            supervisor.stop()
            say("the infrastructure is left running for a look; `make stop` stops it")
            return 1
    if not stopping():
        supervisor.state = "up"
        supervisor.write_status()
        print("\npubrev is up (development mode: plain gRPC, identity from x-pubrev-identity)\n")
        for service in services:
            port = SERVICES[service] + args.port_offset
            print(f"  {service:<11} 127.0.0.1:{port}    grpcurl -plaintext 127.0.0.1:{port} list")
        print(
            f"  feeds       127.0.0.1:{RECEIVER_PORT + args.port_offset}    records "
            f"received: {layout.feeds}/*.jsonl"
        )
        print(
            f"\n  {len(supervisor.roles)} processes supervised (restarted when they die); "
            f"logs: {layout.logs}/\n  status: make status    stop: Ctrl-C here, or "
            "`make stop` elsewhere\n",
            flush=True,
        )
    while not stopping():
        supervisor.tick()
        time.sleep(TICK)
    say("stopping the roles (SIGTERM; Ctrl-C again to kill them at once)")
    took = supervisor.stop()
    say(f"roles stopped in {took:.1f} s; {supervisor.status_line()}")
    if args.infra:
        infra("down")
    return 0


def stop_run(layout: Layout) -> int:
    """`make stop`: the running supervisor stops its roles and the infrastructure; roles of
    a supervisor that was killed are stopped here."""
    say = Output(layout.logs / "run.log")
    started = time.monotonic()
    pid = live_supervisor(layout)
    if pid is not None:
        say(f"asking the supervisor (pid {pid}) to stop")
        os.kill(pid, signal.SIGTERM)
        if wait_gone([pid], STOP_WAIT):
            say(f"supervisor still running {STOP_WAIT:.0f} s after SIGTERM; SIGKILL")
            os.kill(pid, signal.SIGKILL)
            wait_gone([pid], 10)
    stop_leftovers(layout, say)
    if pid is not None:
        say(f"stopped in {time.monotonic() - started:.1f} s")
    return 0


def show_status(layout: Layout) -> int:
    status = read_status(layout)
    if not status:
        print("no `make run` has run here yet")
        return 3
    pid = live_supervisor(layout)
    state = status.get("state", "?") if pid else "not running"
    print(
        f"supervisor: {state}"
        + (f" (pid {pid})" if pid else "")
        + f"; status of {status.get('written_at', '?')}"
    )
    print(f"  {'role':<22} {'state':<11} {'pid':>7} {'restarts':>8}  last exit / up since")
    for role in status.get("roles", []):
        alive = bool(role.get("pid")) and pid_alive(int(role["pid"]))
        shown = role["state"] if (alive or role["state"] != "running") else "GONE"
        if role["state"] == "restarting":
            shown = f"in {role['restart_in']} s"
        extra = role.get("last_exit") or ""
        if alive and role.get("up_since"):
            extra = (extra + "; " if extra else "") + f"up since {role['up_since']}"
        print(
            f"  {role['name']:<22} {shown:<11} {role.get('pid') or '-':>7} "
            f"{role['restarts']:>8}  {extra}"
        )
    return 0 if pid else 3


def parse_services(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SERVICES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"not a service: {', '.join(u[:20] for u in unknown) or '(none)'}; "
            f"choose among {', '.join(SERVICES)}"
        )
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--stop", action="store_true", help="stop a running `make run`")
    action.add_argument(
        "--status", action="store_true", help="roles of a running `make run`: state, pid, restarts"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="load the synthetic Putian dataset first (tools/load_demo.py)",
    )
    parser.add_argument(
        "--no-infra",
        dest="infra",
        action="store_false",
        help="leave the infrastructure alone: neither start nor stop it "
        "(KAFKA_BOOTSTRAP / DATABASE_URL name running servers)",
    )
    parser.add_argument(
        "--services",
        type=parse_services,
        default=list(SERVICES),
        help="comma-separated services to run (default: all four)",
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="added to every port the roles listen on (apis, feed receiver)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=ROOT / ".local",
        help="where logs, status and received feeds go (default .local)",
    )
    args = parser.parse_args(argv)
    layout = Layout(args.state_dir.resolve())
    if args.stop:
        return stop_run(layout)
    if args.status:
        return show_status(layout)
    return run(args, layout)


if __name__ == "__main__":
    raise SystemExit(main())
