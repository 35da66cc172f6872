"""Fixtures shared by every test family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked_outputs() -> dict[str, bytes]:
    """What a benchmark could wrongly rewrite: the README and everything in
    benchmarks/results/ (compared by content, so edits elsewhere in a working checkout do
    not make the check flaky)."""
    paths = [ROOT / "README.md", *sorted((ROOT / "benchmarks" / "results").iterdir())]
    outputs = {str(p.relative_to(ROOT)): p.read_bytes() for p in paths if p.is_file()}
    # and git's view of the benchmarks folder: a new, unignored file there shows up too
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "benchmarks"],
                            capture_output=True, cwd=ROOT, timeout=60)
    if status.returncode == 0:
        outputs["git status -- benchmarks"] = status.stdout
    return outputs


@pytest.fixture
def run_benchmark(tmp_path):
    """``run_benchmark(name, *args)`` runs ``python -m benchmarks.<name> *args`` from the
    repository root with its store in ``tmp_path`` (outputs go to ``--out tmp_path``
    unless ``args`` say otherwise), checks that it succeeded and that it left the
    README and benchmarks/results/ alone (same files, same bytes), and returns the
    finished process."""

    def run(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        before = _tracked_outputs()
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *args, "--store", str(tmp_path / "store")]
        if "--out" not in args:
            cmd += ["--out", str(tmp_path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        after = _tracked_outputs()
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, f"the benchmark rewrote tracked outputs: {changed}"
        return done

    return run
