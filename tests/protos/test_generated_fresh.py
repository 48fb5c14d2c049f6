"""The committed generated code is exactly what `make protos` makes of the protos.

The test runs the same protoc command as the Makefile (``python -m
grpc_tools.protoc -I protos ... protos/makersync/v1/*.proto``, from the repo
root) into a temporary directory and compares byte for byte.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "protos" / "makersync" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def run_protoc(*out_args: str) -> None:
    """Run protoc on every proto of makersync.v1, as `make protos` does."""
    protos = sorted(p.relative_to(REPO).as_posix() for p in PROTO_DIR.glob("*.proto"))
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I", "protos", *out_args, *protos]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"protoc failed:\n{result.stderr}"


def generated_files(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in directory.iterdir()
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    }


def test_generated_code_matches_protos_when_regenerated(tmp_path: Path) -> None:
    run_protoc(f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}")

    fresh = generated_files(tmp_path / "makersync" / "v1")
    committed = generated_files(PROTO_DIR)

    missing = sorted(fresh.keys() - committed.keys())
    orphaned = sorted(committed.keys() - fresh.keys())
    differing = sorted(n for n in fresh.keys() & committed.keys() if fresh[n] != committed[n])
    problems = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("stale (differs from its proto)", differing),
            ("missing (never generated)", missing),
            ("orphaned (its proto is gone; delete it)", orphaned),
        )
        if names
    ]
    assert not problems, (
        "generated code under protos/makersync/v1/ is out of date -- "
        + "; ".join(problems)
        + f". Run `make protos` (grpcio-tools=={version('grpcio-tools')}) and commit the result."
    )
