"""`make run`: the local infrastructure and the four services, until Ctrl-C or `make stop`.

    python tools/run_platform.py          # start everything, print endpoints, wait
    python tools/run_platform.py --demo   # the same, with the synthetic Putian data loaded
    python tools/run_platform.py --stop   # stop services started by another run

Each service runs as `python -m <service> all` (API, relay and consumers in one process),
logs to .local/logs/<service>.log, with its pid in .local/pids/<service>.pid. Development
mode: plain gRPC, identity from the `x-pubrev-identity` header.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".local" / "logs"
PIDS = ROOT / ".local" / "pids"
SERVICES = {"disclosure": 50051, "inspection": 50052, "credit": 50053, "casework": 50054}
START_TIMEOUT = 90.0


def say(text: str) -> None:
    print(f"run: {text}", file=sys.stderr, flush=True)


def _pid_file(service: str) -> Path:
    return PIDS / f"{service}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


RECEIVER = "feed-receiver"


def start_receiver() -> subprocess.Popen[bytes]:
    """The stand-in for 信用中国(福建) and market regulation: accepted records land in
    .local/feeds/<feed>.jsonl."""
    log = (LOGS / f"{RECEIVER}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "feed_receiver.py"), "--port", "18080",
         "--feeds-dir", str(ROOT / "contracts" / "feeds"), "--out",
         str(ROOT / ".local" / "feeds")],
        cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
    )
    _pid_file(RECEIVER).write_text(str(process.pid))
    return process


def start_service(service: str, port: int) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PUBREV_ENVIRONMENT": "development",
        "PUBREV_DEV_IDENTITY_HEADER": "true",
        "PUBREV_GRPC_PORT": str(port),
    }
    log = (LOGS / f"{service}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", service, "all"], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=True,
    )
    _pid_file(service).write_text(str(process.pid))
    return process


def wait_healthy(service: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with status {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.3)
    raise RuntimeError(f"{service} not healthy after {START_TIMEOUT:.0f} s")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_services() -> None:
    for service in (*SERVICES, RECEIVER):
        pid_file = _pid_file(service)
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)  # drains RPCs, finishes the batch and the event
            deadline = time.monotonic() + 20
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
            say(f"stopped {service}")
        pid_file.unlink(missing_ok=True)


def infra(command: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "devinfra.py"), command], check=True)


def run(demo: bool) -> int:
    infra("up")
    stop_services()  # leftovers of a run that was killed
    if demo:
        say("loading the synthetic Putian demo data (about 30 s the first time)")
        subprocess.run([sys.executable, str(ROOT / "tools" / "load_demo.py")], check=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    processes = {s: start_service(s, port) for s, port in SERVICES.items()}
    processes[RECEIVER] = start_receiver()
    try:
        for service, port in SERVICES.items():
            wait_healthy(service, port, processes[service])
    except RuntimeError as error:
        say(f"{error}; last lines of its log:")
        failed = str(error).split()[0]
        print(tail(LOGS / f"{failed}.log"), file=sys.stderr)
        stop_services()
        return 1
    print("\npubrev is up (development mode: plain gRPC, identity from x-pubrev-identity)\n")
    for service, port in SERVICES.items():
        print(f"  {service:<11} 127.0.0.1:{port}    grpcurl -plaintext 127.0.0.1:{port} list")
    print("  feeds       127.0.0.1:18080    records received: .local/feeds/*.jsonl")
    print("\n  logs: .local/logs/    stop: Ctrl-C here, or `make stop` elsewhere\n", flush=True)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        for service, process in processes.items():
            if process.poll() is not None:
                say(f"{service} exited ({process.returncode}); see .local/logs/{service}.log")
                stopping = True
        time.sleep(0.5)
    say("stopping")
    stop_services()
    infra("down")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stop", action="store_true", help="stop services of another run")
    parser.add_argument("--demo", action="store_true",
                        help="load the synthetic Putian dataset first (tools/load_demo.py)")
    args = parser.parse_args()
    if args.stop:
        stop_services()
        return 0
    return run(args.demo)


if __name__ == "__main__":
    raise SystemExit(main())
