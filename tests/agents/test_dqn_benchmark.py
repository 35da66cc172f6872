"""Smoke test of benchmarks/rl_deep.py: every agent and baseline runs on tiny budgets, the
table and plots are written, the cache lets a second run skip finished work."""

from __future__ import annotations

import json


def test_rl_deep_benchmark_smoke(tmp_path, run_benchmark):
    args = ("--smoke", "--threads", "1")
    run_benchmark("rl_deep", *args)
    table = (tmp_path / "rl_deep.md").read_text()
    for agent in ("groundup-dqn", "sb3-dqn", "groundup-pg", "sb3-a2c", "sb3-ppo", "tile-coding", "rbf"):
        assert agent in table
    assert (tmp_path / "rl_deep_curves.png").stat().st_size > 1000
    assert (tmp_path / "rl_deep_sarsa.png").stat().st_size > 1000
    runs = json.loads((tmp_path / "rl_deep_runs.json").read_text())
    assert len(runs) == 7
    dqn = runs["smoke|dqn/CartPole-v1/groundup-dqn|0"]
    assert dqn["curve"][-1][0] == 1000 and dqn["train_seconds"] > 0 and 8 <= dqn["final"] <= 500
    # a second run finds every cell in the cache and only redraws the table
    again = run_benchmark("rl_deep", *args, timeout=120)
    assert "running" not in again.stderr
