"""Generate (or check) the Python stubs of the gRPC contracts.

    python tools/gen_protos.py          # regenerate contracts/src/pubrev/** from contracts/proto
    python tools/gen_protos.py --check  # fail if the committed stubs differ from the protos
    python tools/gen_protos.py --image OUT [--ref REV]  # a Buf image (of a git revision)

The stubs are committed so services import them without a build step; the check keeps
them honest (a proto edited without regenerating fails `make lint`).

The protos import protovalidate's `buf/validate/validate.proto`, which is fetched at build
time (tools/proto_deps.py) and never kept here. `buf` resolves imports only through its own
modules or the Buf Schema Registry (not reachable from the build machines), so `make lint`
gives `buf lint` and `buf breaking` images that protoc builds here with the fetched file on
its include path (`--image`), and limits them to pubrev's files (`--path pubrev`).
"""

from __future__ import annotations

import argparse
import filecmp
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proto_deps  # type: ignore[import-not-found]  # a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "contracts" / "proto"
OUT_ROOT = ROOT / "contracts" / "src"
GENERATED_PACKAGE = "pubrev"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def _protos(root: Path = PROTO_ROOT) -> list[Path]:
    return sorted(root.rglob("*.proto"))


def _includes(root: Path) -> list[str]:
    import grpc_tools  # the protoc bundled with grpcio-tools, so no system protoc is needed

    proto_deps.ensure()
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    return [f"-I{root}", f"-I{proto_deps.PROTO_DIR}", f"-I{well_known}"]


def image(out: Path, ref: str | None) -> int:
    """A Buf image (a FileDescriptorSet with imports and source info) of the working tree's
    protos, or of those at git revision `ref`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = PROTO_ROOT
        if ref is not None:
            archive = subprocess.run(
                ["git", "archive", "--format=tar", ref, str(PROTO_ROOT.relative_to(ROOT))],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
            root = Path(tmp) / PROTO_ROOT.relative_to(ROOT)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                *_includes(root),
                "--include_imports",
                "--include_source_info",
                f"--descriptor_set_out={out.resolve()}",
                *[str(p.relative_to(root)) for p in _protos(root)],
            ],
            check=True,
            cwd=root,
        )
    return 0


def generate(out: Path) -> None:
    # mypy-protobuf's plugins sit beside this interpreter, which need not be on PATH.
    bindir = Path(sys.executable).parent
    args = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        *_includes(PROTO_ROOT),
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


def regenerate(out_root: Path = OUT_ROOT) -> int:
    """Compiles into a temporary directory and only then replaces the committed stubs: a
    proto that does not compile leaves them as they were (the services keep importing),
    instead of deleting every stub and writing none."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        try:
            generate(fresh_root)
        except subprocess.CalledProcessError as error:
            print(
                f"gen_protos: protoc failed (exit {error.returncode}); the stubs in "
                f"{out_root} are unchanged",
                file=sys.stderr,
            )
            return 1
        swap(_generated_files(fresh_root), out_root)
    print(f"gen_protos: generated stubs for {len(_protos())} protos into {out_root}")
    return 0


def swap(fresh: dict[str, Path], out_root: Path) -> None:
    """Makes the generated files under `out_root` exactly `fresh`: each new or changed one
    written beside its place and renamed over it (a reader never sees half a file), those
    no proto generates any more deleted, and directories left empty removed. Files that are
    not generated stubs are never touched."""
    for name, path in fresh.items():
        target = out_root / name
        if target.is_file() and filecmp.cmp(path, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.new")
        shutil.copyfile(path, staged)
        os.replace(staged, target)
    for name, path in _generated_files(out_root).items():
        if name not in fresh:
            path.unlink()
    # Packages need no __init__.py (namespace packages), but keep empty dirs from lingering.
    for directory in sorted((out_root / GENERATED_PACKAGE).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--image", type=Path, help="write a Buf image of the protos here")
    parser.add_argument("--ref", help="with --image: the protos of this git revision")
    args = parser.parse_args()
    if args.image is not None:
        return image(args.image, args.ref)
    return check() if args.check else regenerate()


if __name__ == "__main__":
    raise SystemExit(main())
