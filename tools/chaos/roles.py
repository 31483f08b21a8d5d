"""The four services' roles, each its own process, supervised as `make run` supervises them
(tools/run_platform.py: the same role list, environment, schema preparation and restarts),
on the chaos run's own broker and database server, and killed at random moments.

Differences from `make run`, each for the run's sake:
- the relays run through `armed_role.py`, which crashes them now and then between Kafka's
  ack and the position record, counted in a file;
- the restart backoff is shorter (local configuration): a role killed a dozen times in a few
  minutes is restarted within a second or two instead of waiting up to 30 s, so the run
  measures recovery, not the backoff;
- logs, status and the feed receiver's records go under the run's state directory.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools import run_platform
from tools.run_platform import Backoff, Layout, RoleSpec, Supervisor

ROOT = Path(__file__).resolve().parents[2]
ARMED = "tools.chaos.armed_role"
"""Run as a module from the repository root (the supervisor's working directory), so that
nothing of this folder shadows a standard module."""
SERVICES = list(run_platform.SERVICES)
CHAOS_BACKOFF = Backoff(first=0.5, cap=4.0, stable=20.0, loud_after=6)
"""Local configuration: see the module's docstring."""


def port_offset() -> int:
    """An offset at which every api port and the feed receiver's port are free."""
    import socket

    from tools.chaos.infra import HOST

    def free(port: int) -> bool:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                return False
        return True

    for offset in range(2000, 9000, 41):
        ports = [p + offset for p in run_platform.SERVICES.values()]
        if all(free(p) for p in [*ports, run_platform.RECEIVER_PORT + offset]):
            return offset
    raise RuntimeError("no free ports for the chaos run's apis")


@dataclass
class Platform:
    layout: Layout
    env: dict[str, str]
    """On top of this process's environment, for every role: where the infrastructure is."""
    after_ack_counter: Path
    after_ack_probability: float
    after_ack_max: int
    after_ack_gap: float
    say: Callable[[str], None]
    offset: int = field(default_factory=port_offset)
    supervisor: Supervisor | None = None
    kills: list[tuple[float, str]] = field(default_factory=list)

    def api_port(self, service: str) -> int:
        return run_platform.SERVICES[service] + self.offset

    @property
    def receiver_port(self) -> int:
        return run_platform.RECEIVER_PORT + self.offset

    def specs(self) -> list[RoleSpec]:
        armed = {
            "CHAOS_AFTER_ACK_COUNTER": str(self.after_ack_counter),
            "CHAOS_AFTER_ACK_P": str(self.after_ack_probability),
            "CHAOS_AFTER_ACK_MAX": str(self.after_ack_max),
            "CHAOS_AFTER_ACK_GAP": str(self.after_ack_gap),
        }
        specs = []
        for spec in run_platform.role_specs(SERVICES, self.layout, self.offset, sys.executable):
            env = {**spec.env, **self.env}
            argv = spec.argv
            if spec.name.endswith("-relay"):
                service = spec.name.removesuffix("-relay")
                argv = (sys.executable, "-m", ARMED, service, "relay")
                env.update(armed)
            specs.append(dataclasses.replace(spec, argv=argv, env=env))
        return specs

    def prepare(self) -> None:
        """Each service's database and tables, once, before any role starts (as make run)."""
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            if not run_platform.prepare(SERVICES, self.layout, self.say):
                raise RuntimeError(
                    "preparing the services' databases failed; see "
                    f"{self.layout.logs}/*-prepare.log"
                )
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self) -> float:
        started = time.monotonic()
        self.supervisor = Supervisor(
            self.specs(),
            self.layout.logs,
            self.layout.status,
            backoff=CHAOS_BACKOFF,
            say=self.say,
            cwd=ROOT,
        )
        self.supervisor.start()
        not_serving = run_platform.wait_serving(self.supervisor, lambda: False)
        if not_serving:
            tails = "\n".join(
                f"{name}:\n{run_platform.tail(self.supervisor.log_of(name))}"
                for name in not_serving
            )
            raise RuntimeError(
                f"not serving after {run_platform.START_TIMEOUT:.0f} s: "
                f"{', '.join(not_serving)}\n{tails}"
            )
        self.supervisor.state = "up"
        self.supervisor.write_status()
        return time.monotonic() - started

    def role_names(self) -> list[str]:
        assert self.supervisor is not None
        return [name for name in self.supervisor.roles if name != run_platform.RECEIVER]

    def kill(self, name: str) -> bool:
        """kill -9 of one role's process group; False when it was not running (between its
        death and its restart)."""
        assert self.supervisor is not None
        role = self.supervisor.roles[name]
        if role.process is None or role.process.poll() is not None:
            return False
        run_platform.signal_group(role.process.pid, signal.SIGKILL)
        self.kills.append((time.monotonic(), name))
        return True

    def tick(self) -> None:
        if self.supervisor is not None:
            self.supervisor.tick()

    def restarts(self) -> dict[str, int]:
        assert self.supervisor is not None
        return {name: role.restarts for name, role in self.supervisor.roles.items()}

    def exits(self) -> dict[str, str]:
        assert self.supervisor is not None
        return {name: role.last_exit for name, role in self.supervisor.roles.items()}

    def all_running(self) -> bool:
        assert self.supervisor is not None
        return all(role.process is not None for role in self.supervisor.roles.values())

    def stop(self) -> float:
        if self.supervisor is None:
            return 0.0
        return self.supervisor.stop()
