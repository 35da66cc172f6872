"""Smoke test of benchmarks/rl_deep.py on the Ray backend: every agent and baseline runs on
tiny budgets as engine runs, the table and plots are written from the store's records, and a
second run finds every run in the store and only redraws the table."""

from __future__ import annotations

import json
import re

import pytest

# runs a benchmark script end to end: make test runs it, make test-fast skips it
pytestmark = pytest.mark.slow


def cells(table: str, second: str) -> list[list[str]]:
    """The cells of the markdown rows whose second cell is ``second``."""
    out = []
    for line in table.splitlines():
        row = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(row) > 2 and row[1] == second:
            out.append(row)
    return out


def test_rl_deep_benchmark_smoke(tmp_path, run_benchmark):
    run_benchmark("rl_deep", "--smoke", timeout=600)
    table = (tmp_path / "rl_deep.md").read_text()
    for agent in ("groundup-dqn", "sb3-dqn", "groundup-pg", "sb3-a2c", "sb3-ppo"):
        (row,) = cells(table, agent)
        assert row[0].startswith("CartPole-v1 (") and re.fullmatch(r"[01]/1", row[2]), row
        assert 8 <= float(row[4]) <= 500 and float(row[7]) >= 0, row  # CartPole returns lie in [8, 500]
        if agent.startswith("groundup"):
            assert re.fullmatch(r"\d+\.\d\d× \w+(, \d+\.\d\d× \w+)?", row[8]), row
    for features, low, high in (("tile-coding", -200, -80), ("rbf", 8, 500)):
        (row,) = cells(table, features)  # semi-gradient SARSA's greedy return
        assert low <= float(row[4]) <= high, row
    assert "![rl_deep_curves](rl_deep_curves.png)" in table and "![rl_deep_sarsa](rl_deep_sarsa.png)" in table
    assert (tmp_path / "rl_deep_curves.png").stat().st_size > 10_000
    assert (tmp_path / "rl_deep_sarsa.png").stat().st_size > 10_000

    records = {p.name: p.read_text() for p in (tmp_path / "store").glob("*.json")}
    assert len(records) == 7  # 2 DQN + 3 actor-critic runs + 2 SARSA runs, one seed each
    runs = [json.loads(text) for text in records.values()]
    assert all(r["status"] == "ok" for r in runs)
    dqn = next(r for r in runs if r["params"].get("algo") == "groundup-dqn")
    assert dqn["params"] == {"task": "dqn/CartPole-v1", "algo": "groundup-dqn", "budget": 1000} and dqn["seed"] == 0
    assert dqn["metrics"]["curve"][-1][0] == 1000 and dqn["metrics"]["train_seconds"] > 0

    # a second run finds every run in the store: nothing reruns, the same table is drawn
    run_benchmark("rl_deep", "--smoke", timeout=300)
    assert {p.name: p.read_text() for p in (tmp_path / "store").glob("*.json")} == records
    assert (tmp_path / "rl_deep.md").read_text() == table
