"""Fixtures shared by every test family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_benchmark(tmp_path):
    """``run_benchmark(name, *args)`` runs ``benchmarks/<name>.py *args --out tmp_path`` in a
    subprocess, checks that it succeeded and left the README alone (results written
    elsewhere never touch it), and returns the finished process."""

    def run(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        readme = (ROOT / "README.md").read_text()
        cmd = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args, "--out", str(tmp_path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        assert (ROOT / "README.md").read_text() == readme
        return done

    return run
