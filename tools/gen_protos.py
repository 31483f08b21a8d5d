"""Generate (or check) the Python stubs of the gRPC contracts.

    python tools/gen_protos.py          # regenerate contracts/src/pubrev/** from contracts/proto
    python tools/gen_protos.py --check  # fail if the committed stubs differ from the protos

The stubs are committed so services import them without a build step; the check keeps
them honest (a proto edited without regenerating fails `make lint`).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "contracts" / "proto"
OUT_ROOT = ROOT / "contracts" / "src"
GENERATED_PACKAGE = "pubrev"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def _protos() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out: Path) -> None:
    import grpc_tools  # the protoc bundled with grpcio-tools, so no system protoc is needed

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    # mypy-protobuf's plugins sit beside this interpreter, which need not be on PATH.
    bindir = Path(sys.executable).parent
    args = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *[str(p.relative_to(PROTO_ROOT)) for p in _protos()],
    ]
    subprocess.run(args, check=True, cwd=PROTO_ROOT)


def _generated_files(base: Path) -> dict[str, Path]:
    pkg = base / GENERATED_PACKAGE
    if not pkg.exists():
        return {}
    return {
        str(p.relative_to(base)): p
        for p in pkg.rglob("*")
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    }


def check() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        generate(fresh_root)
        fresh = _generated_files(fresh_root)
        committed = _generated_files(OUT_ROOT)
        problems = [f"missing: {name}" for name in sorted(fresh.keys() - committed.keys())]
        problems += [
            f"stale (no proto): {name}" for name in sorted(committed.keys() - fresh.keys())
        ]
        problems += [
            f"differs: {name}"
            for name in sorted(fresh.keys() & committed.keys())
            if not filecmp.cmp(fresh[name], committed[name], shallow=False)
        ]
    if problems:
        print("generated stubs are out of date; run `make protos`:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"gen_protos: {len(fresh)} generated files match {len(_protos())} protos")
    return 0


def regenerate() -> int:
    for path in _generated_files(OUT_ROOT).values():
        path.unlink()
    generate(OUT_ROOT)
    # Packages need no __init__.py (namespace packages), but keep empty dirs from lingering.
    for directory in sorted((OUT_ROOT / GENERATED_PACKAGE).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            shutil.rmtree(directory)
    print(f"gen_protos: generated stubs for {len(_protos())} protos into {OUT_ROOT}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    return check() if parser.parse_args().check else regenerate()


if __name__ == "__main__":
    raise SystemExit(main())
