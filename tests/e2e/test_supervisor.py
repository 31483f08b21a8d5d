"""`make run`'s supervisor (tools/run_platform.py), on real processes (issue 11 item 5).

Before: a role that died made `make run` stop every other role and then Kafka and
PostgreSQL, and nothing restarted it; stopping waited 20 s for each role because a child
that had exited but was not reaped still answered kill(pid, 0) (~80 s for `make stop`).
Now a dead role is reaped and restarted with a capped, doubling delay, said loudly when it
keeps dying; nothing else stops; stopping signals every role at once and reaps each.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pubrev.disclosure.v1 import disclosure_pb2_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS
from servicekit.testing import read_topic
from services.disclosure.tests.support.requests import CITY, company_request
from tools.run_platform import (
    RECEIVER_PORT,
    SERVICES,
    Backoff,
    Layout,
    RoleSpec,
    Supervisor,
    pid_alive,
    stop_leftovers,
)

ROOT = Path(__file__).resolve().parents[2]
SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")
STUBBORN = (
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(120)",
)


class Said(list[str]):
    def __call__(self, text: str) -> None:
        self.append(text)


def supervisor(tmp_path: Path, *specs: RoleSpec, **options: Any) -> tuple[Supervisor, Said]:
    said = Said()
    return Supervisor(
        list(specs), tmp_path / "logs", tmp_path / "status.json", say=said, **options
    ), said


def run_for(sup: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sup.tick()
        time.sleep(0.01)


def reaped(pid: int) -> bool:
    """True when `pid` (a child of this process) is no zombie waiting to be reaped."""
    try:
        os.waitpid(pid, os.WNOHANG)  # running, or a zombie the supervisor left
    except ChildProcessError:
        return True
    return False


def test_backoff_doubles_from_the_first_delay_and_is_capped() -> None:
    backoff = Backoff(first=1.0, cap=30.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_role_that_keeps_dying_is_restarted_with_capped_backoff_and_said_loudly(
    tmp_path: Path,
) -> None:
    sup, said = supervisor(
        tmp_path,
        RoleSpec("crasher", (sys.executable, "-c", "raise SystemExit(3)")),
        RoleSpec("steady", SLEEPER),
        backoff=Backoff(first=0.05, cap=0.2, stable=30.0, loud_after=3),
    )
    sup.start()
    steady_pid = sup.roles["steady"].process.pid  # type: ignore[union-attr]
    try:
        deadline = time.monotonic() + 30  # ~1 s on an idle machine
        while sum(line.startswith("crasher died") for line in said) < 6:
            assert time.monotonic() < deadline, said
            run_for(sup, 0.1)
        crasher = sup.roles["crasher"]
        deaths = [line for line in said if line.startswith("crasher died")]
        assert crasher.restarts >= 5
        assert all("(exit code 3)" in line for line in deaths)
        delays = [
            float(re.search(r"in ([0-9.]+) s", line).group(1))  # type: ignore[union-attr]
            for line in deaths
        ]
        assert delays[:4] == [0.05, 0.1, 0.2, 0.2]  # doubled, then capped
        assert all(d == 0.2 for d in delays[3:])
        assert [f"restart {n} in" in line for n, line in enumerate(deaths, 1)] == [True] * len(
            deaths
        )
        loud = [n for n, line in enumerate(said) if "KEEPS DYING" in line]
        assert loud  # from the third death in a row on, each time
        assert sum(line.startswith("crasher died") for line in said[: loud[0]]) == 3
        assert "exit code 3" in said[loud[0] - 1]
        # The other role was left alone, and the status counts the restarts.
        assert sup.roles["steady"].process is not None
        assert sup.roles["steady"].process.pid == steady_pid
        assert sup.roles["steady"].restarts == 0
        status = json.loads((tmp_path / "status.json").read_text())
        counted = {r["name"]: r["restarts"] for r in status["roles"]}
        assert counted["crasher"] >= 4 and counted["steady"] == 0
        assert "crasher" in sup.status_line() and "restarts: crasher" in sup.status_line()
    finally:
        sup.stop()


def test_a_role_up_for_a_while_starts_over_at_the_first_delay(tmp_path: Path) -> None:
    now = [100.0]
    sup, said = supervisor(
        tmp_path,
        RoleSpec("flaky", SLEEPER),
        backoff=Backoff(first=1.0, cap=30.0, stable=60.0, loud_after=9),
        clock=lambda: now[0],
    )
    sup.start()
    try:
        role = sup.roles["flaky"]
        for expected in (1.0, 2.0, 4.0):  # quick deaths in a row
            assert role.process is not None
            os.kill(role.process.pid, signal.SIGKILL)
            role.process.wait()
            sup.tick()
            assert said[-2].endswith(f"in {expected:.3g} s; log: {sup.log_of('flaky')}")
            now[0] += expected
            sup.tick()  # restarted
        now[0] += 61.0  # then it stays up past `stable`
        assert role.process is not None
        os.kill(role.process.pid, signal.SIGKILL)
        role.process.wait()
        sup.tick()
        assert "after 61.0 s; restart 4 in 1 s" in said[-2]
    finally:
        sup.stop()


def test_stop_reaps_each_child_at_once_and_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    sup, said = supervisor(
        tmp_path, *(RoleSpec(f"quick-{n}", SLEEPER) for n in range(4)), grace=30.0
    )
    sup.start()
    pids = [r.process.pid for r in sup.roles.values()]  # type: ignore[union-attr]
    took = sup.stop()
    # Four roles that exit on SIGTERM: down together, not one grace each.
    assert took < 2.0
    assert all(reaped(pid) for pid in pids)
    assert all(r.process is None and r.last_exit == "signal SIGTERM" for r in sup.roles.values())

    sup, said = supervisor(
        tmp_path, RoleSpec("stubborn", STUBBORN), RoleSpec("quick", SLEEPER), grace=1.0
    )
    sup.start()
    log = sup.log_of("stubborn")
    deadline = time.monotonic() + 20
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [r.process.pid for r in sup.roles.values()]  # type: ignore[union-attr]
    took = sup.stop()
    assert 1.0 <= took < 3.0
    assert any("stubborn still running" in line and "SIGKILL" in line for line in said)
    assert sup.roles["stubborn"].last_exit == "signal SIGKILL"
    assert all(reaped(pid) for pid in pids)
    assert json.loads((tmp_path / "status.json").read_text())["state"] == "stopped"


def test_a_zombie_counts_as_gone(tmp_path: Path) -> None:
    """What made `make stop` wait 20 s a role: an exited child not yet reaped answers
    kill(pid, 0)."""
    child = subprocess.Popen(SLEEPER)
    child.kill()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(child.pid, 0)  # still "there" for kill()
    assert not pid_alive(child.pid)
    child.wait()


def test_leftovers_of_a_killed_supervisor_are_stopped_by_their_status(tmp_path: Path) -> None:
    sup, _ = supervisor(tmp_path, RoleSpec("orphan", SLEEPER))
    sup.start()
    orphan = sup.roles["orphan"].process
    assert orphan is not None
    layout = Layout(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "status.json").replace(layout.status)  # as a run on this state dir left it
    said = Said()
    stop_leftovers(layout, said)
    assert orphan.wait(timeout=5) == -signal.SIGTERM
    assert said == ["stopping 1 roles a killed run left: orphan"]
    assert json.loads(layout.status.read_text())["roles"][0]["pid"] is None

    # A pid now running something else is left alone.
    other = subprocess.Popen(
        (sys.executable, "-c", "import time; time.sleep(121)"), start_new_session=True
    )
    try:
        status = json.loads(layout.status.read_text())
        status["roles"][0].update(pid=other.pid, state="running")
        layout.status.write_text(json.dumps(status))
        started = time.monotonic()
        stop_leftovers(layout, said)
        assert time.monotonic() - started < 1.0
        assert other.poll() is None
        assert len(said) == 1
    finally:
        other.kill()
        other.wait()


# -- the real roles, on the real stack ------------------------------------------------------


def free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_offset() -> int:
    """An offset at which disclosure's api port and the receiver's are both free."""
    for offset in range(1000, 9000, 37):
        if free(SERVICES["disclosure"] + offset) and free(RECEIVER_PORT + offset):
            return offset
    raise AssertionError("no free ports")


def serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1.0
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def wait_for(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.infra
def test_make_run_restarts_a_killed_role_keeps_the_rest_and_stops_in_seconds(
    service_settings: Any,
    infra: dict[str, str],
    tmp_path: Path,
) -> None:
    settings = service_settings("disclosure")
    offset = port_offset()
    api_port = SERVICES["disclosure"] + offset
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PUBREV_DATABASE_IS_SERVICE_DB": "true",
        "KAFKA_BOOTSTRAP": infra["kafka"],
        "PUBREV_TOPIC_PREFIX": infra["prefix"],
        "PUBREV_SHUTDOWN_GRACE_SECONDS": "5",
    }
    state = tmp_path / "state"
    status_file = Layout(state).status
    command = [
        sys.executable,
        str(ROOT / "tools" / "run_platform.py"),
        "--no-infra",
        "--services",
        "disclosure",
        "--port-offset",
        str(offset),
        "--state-dir",
        str(state),
    ]
    output = tmp_path / "run.out"

    def status() -> dict[str, Any]:
        try:
            document: dict[str, Any] = json.loads(status_file.read_text())
        except (OSError, ValueError):
            return {}
        return document

    def role(name: str) -> dict[str, Any]:
        return next(r for r in status().get("roles", []) if r["name"] == name)

    with output.open("wb") as out:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_for(
            lambda: status().get("state") == "up" or run.poll() is not None,
            120,
            "make run to be up",
        )
        assert run.poll() is None, output.read_text()[-3000:]
        names = {r["name"] for r in status()["roles"]}
        assert names == {
            "feed-receiver",
            "disclosure-api",
            "disclosure-relay",
            "disclosure-projector",
        }
        before = {r["name"]: r["pid"] for r in status()["roles"]}

        os.kill(before["disclosure-relay"], signal.SIGKILL)
        wait_for(
            lambda: (
                role("disclosure-relay")["restarts"] == 1
                and role("disclosure-relay")["state"] == "running"
            ),
            30,
            "the relay's restart",
        )
        relay = role("disclosure-relay")
        assert relay["pid"] != before["disclosure-relay"] and pid_alive(relay["pid"])
        assert relay["last_exit"] == "signal SIGKILL"
        text = output.read_text()
        assert "disclosure-relay died (signal SIGKILL)" in text
        assert "restart 1 in 1 s" in text
        assert "disclosure-relay restarted (restart 1" in text
        assert "restarts: disclosure-relay 1" in text
        # Nothing else stopped: the supervisor, the other roles, Kafka and PostgreSQL.
        assert run.poll() is None
        for name in ("disclosure-api", "disclosure-projector", "feed-receiver"):
            assert role(name)["pid"] == before[name] and pid_alive(before[name])
        assert serving(api_port)
        with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        host, _, port = infra["kafka"].partition(":")
        socket.create_connection((host, int(port)), timeout=5).close()
        # And the restarted relay publishes.
        with grpc.insecure_channel(f"127.0.0.1:{api_port}") as channel:
            reply = disclosure_pb2_grpc.DisclosureServiceStub(channel).RegisterCompany(
                company_request(), metadata=CITY, timeout=10
            )
        asyncio.run(
            read_topic(
                infra["kafka"],
                infra["prefix"] + DISCLOSURE_EVENTS,
                subject=reply.company_id,
                timeout=30,
            )
        )

        # `make stop` from another shell.
        pids = [r["pid"] for r in status()["roles"]]
        started = time.monotonic()
        stop = subprocess.run(
            [*command[:2], "--stop", "--state-dir", str(state)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
        assert stop.returncode == 0, stop.stderr
        assert run.wait(timeout=5) == 0
        assert took < 10.0, f"stop took {took:.1f} s"
        assert not any(pid_alive(pid) for pid in pids)
        assert status()["state"] == "stopped"
        print(f"stop took {took:.1f} s")  # shown with -s: the figure for the report
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        stop_leftovers(Layout(state), lambda _: None)
