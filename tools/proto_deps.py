"""Fetches what pubrev's .proto files import from outside pubrev, at build time.

    python tools/proto_deps.py          # fetch (when missing or another version) and generate
    python tools/proto_deps.py --print  # the include and Python directories, one a line

The bounds of every request field are protovalidate annotations (`buf.validate`,
docs/bounds.md). Their definitions, `buf/validate/validate.proto`, are third-party and never
copied into this repository; the Buf Schema Registry that usually serves them is not
reachable from the build machines, and neither protovalidate wheel ships the .proto. The Go
module github.com/bufbuild/protovalidate carries it (proto/protovalidate/), so `go mod
download` brings it from the Go module proxy, verified by the Go checksum database and here
against the module hash pinned below. It lands in `.local/protovalidate/proto`; its Python
module `buf.validate.validate_pb2` (imported by the generated stubs, and by the protovalidate
wheel that the tests use as an oracle, which ships no generated code) is generated beside it
into `.local/protovalidate/python`, which the virtualenv puts on sys.path (Makefile).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/bufbuild/protovalidate"
VERSION = "v1.2.2"
"""The protovalidate specification the annotations are written against (protovalidate-python
1.2.0, the oracle, targets the 1.2 specification)."""
MODULE_SUM = "h1:2H/9/Kr97etSRqW3IJjTTb09z+zutkK2GDhDRbOnqr4="
"""The Go module hash (dirhash h1) of MODULE@VERSION: a different download is refused."""
SOURCE = "proto/protovalidate/buf/validate/validate.proto"
IMPORT_PATH = "buf/validate/validate.proto"

BASE = ROOT / ".local" / "protovalidate"
PROTO_DIR = BASE / "proto"
PYTHON_DIR = BASE / "python"
STAMP = BASE / "VERSION"


def ready() -> bool:
    return (
        STAMP.exists()
        and STAMP.read_text().strip() == f"{VERSION} {MODULE_SUM}"
        and (PROTO_DIR / IMPORT_PATH).exists()
        and (PYTHON_DIR / "buf" / "validate" / "validate_pb2.py").exists()
    )


def download() -> Path:
    """The module's directory in the Go module cache, after checking its hash."""
    if shutil.which("go") is None:
        raise SystemExit(
            "Go is required: `go mod download` fetches protovalidate's "
            f"{IMPORT_PATH} from the Go module proxy"
        )
    with tempfile.TemporaryDirectory() as scratch:
        # Outside any Go module of ours (there is none): `go mod download` of a path@version
        # needs no go.mod.
        result = subprocess.run(
            ["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"],
            cwd=scratch,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or "Error" in info:
        raise SystemExit(
            f"go mod download {MODULE}@{VERSION} failed: "
            f"{info.get('Error') or result.stderr.strip()}"
        )
    if info.get("Sum") != MODULE_SUM:
        raise SystemExit(
            f"{MODULE}@{VERSION} has hash {info.get('Sum')}, expected {MODULE_SUM}: refusing it"
        )
    return Path(info["Dir"])


def generate_python(proto_dir: Path, out: Path) -> None:
    import grpc_tools  # the protoc bundled with grpcio-tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    bindir = Path(sys.executable).parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{well_known}",
            f"--python_out={out}",
            f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
            f"--mypy_out={out}",
            IMPORT_PATH,
        ],
        check=True,
        cwd=proto_dir,
    )
    # Regular packages, so that `buf` is not a namespace package split across sys.path.
    for package in (out / "buf", out / "buf" / "validate"):
        (package / "__init__.py").touch()
    (out / "buf" / "validate" / "py.typed").touch()


def ensure() -> None:
    """Fetches and generates unless the pinned version is already in place."""
    if ready():
        return
    module_dir = download()
    staging = Path(
        tempfile.mkdtemp(prefix="protovalidate-", dir=BASE.parent if BASE.parent.exists() else None)
    )
    try:
        target = staging / "proto" / IMPORT_PATH
        target.parent.mkdir(parents=True)
        shutil.copyfile(module_dir / SOURCE, target)
        (staging / "python").mkdir()
        generate_python(staging / "proto", staging / "python")
        (staging / "VERSION").write_text(f"{VERSION} {MODULE_SUM}\n")
        # Swapped in whole: a half-written directory is never mistaken for a ready one.
        if BASE.exists():
            shutil.rmtree(BASE)
        BASE.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(BASE)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    print(
        f"proto_deps: {MODULE}@{VERSION} {IMPORT_PATH} in {PROTO_DIR.relative_to(ROOT)}, "
        f"its Python module in {PYTHON_DIR.relative_to(ROOT)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--print", action="store_true", help="print the include and Python directories"
    )
    args = parser.parse_args()
    ensure()
    if args.print:
        print(PROTO_DIR)
        print(PYTHON_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
