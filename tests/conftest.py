"""Fixtures shared by every test family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _git_status() -> str | None:
    try:
        done = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@pytest.fixture
def run_benchmark(tmp_path):
    """``run_benchmark(name, *args)`` runs ``python -m benchmarks.<name> *args`` from the
    repository root with its store in ``tmp_path`` (outputs go to ``--out tmp_path``
    unless ``args`` say otherwise), checks that it succeeded and that it left every
    tracked file alone (``git status`` unchanged, README untouched), and returns the
    finished process."""

    def run(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        readme = (ROOT / "README.md").read_text()
        status = _git_status()
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *args, "--store", str(tmp_path / "store")]
        if "--out" not in args:
            cmd += ["--out", str(tmp_path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        assert (ROOT / "README.md").read_text() == readme
        assert _git_status() == status, "the benchmark changed files that git tracks"
        return done

    return run
