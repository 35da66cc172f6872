"""Smoke tests: the tabular benchmarks run end to end and write their tables and plots."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script, *args, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_bandits_quick(tmp_path):
    _run("bandits.py", "--quick", tmp_path=tmp_path)
    table = (tmp_path / "bandits.md").read_text()
    assert "| epsilon 0.1 | `epsilon-greedy` |" in table and "Thompson" in table
    assert (tmp_path / "bandits_testbed.png").stat().st_size > 10_000


def test_rl_tabular_smoke(tmp_path):
    _run("rl_tabular.py", "--smoke", tmp_path=tmp_path)
    table = (tmp_path / "rl_tabular.md").read_text()
    for heading in ("Dynamic programming", "Cliff Walking", "Blackjack-v1", "Speed"):
        assert heading in table
    assert "V(start) = 0.5420" in table
    for png in ("rl_tabular_frozenlake.png", "rl_tabular_cliff.png", "rl_tabular_blackjack.png"):
        assert (tmp_path / png).stat().st_size > 10_000
