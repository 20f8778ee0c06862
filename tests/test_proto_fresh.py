"""The committed generated code must match the .proto files; regenerate with `make proto`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "proto" / "votestore" / "v1"


def test_generated_code_matches_proto_files(tmp_path: Path) -> None:
    protos = sorted(p.relative_to(ROOT).as_posix() for p in GENERATED.glob("*.proto"))
    assert protos, "no .proto files found"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            ".",
            f"--python_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            f"--mypy_out=quiet:{tmp_path}",
            f"--mypy_grpc_out=quiet:{tmp_path}",
            *protos,
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    fresh_dir = tmp_path / "proto" / "votestore" / "v1"
    fresh = {p.name: p.read_text() for p in fresh_dir.iterdir() if _kept(p)}
    committed = {
        p.name: p.read_text()
        for p in GENERATED.iterdir()
        if p.suffix in (".py", ".pyi") and p.name != "__init__.py"
    }
    how = f"run `make setup proto` (regenerates with grpcio-tools {_tools_version()}, the locked one)"
    assert sorted(fresh) == sorted(committed), f"generated file set differs: {how}"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated code {stale}: {how}"


def _tools_version() -> str:
    from importlib.metadata import version

    return version("grpcio-tools")


def _kept(path: Path) -> bool:
    """Messages-only protos get service modules with no services; gen_proto.sh drops them."""
    stem = path.name.split(".")[0]
    if not stem.endswith("_pb2_grpc"):
        return True
    source = GENERATED / (stem.removesuffix("_pb2_grpc") + ".proto")
    return "\nservice " in source.read_text()
