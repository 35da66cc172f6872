"""Smoke tests: the bandit and tabular benchmarks run end to end on the experiments engine
(serially: Ray's start-up would take longer than their runs) and write tables whose numbers
are those of working agents."""

from __future__ import annotations

import re

import pytest

# runs a benchmark script end to end: make test runs it, make test-fast skips it
pytestmark = pytest.mark.slow


def rows(table: str, first: str) -> list[list[str]]:
    """The cells of the markdown rows whose first cell is ``first``."""
    out = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first:
            out.append(cells)
    return out


def number(cell: str) -> float:
    """The leading number of a cell such as ``1.234 [1.1, 1.3]``, ``85.7% [..]`` or ``-13``."""
    match = re.match(r"-?[\d,]+(\.\d+)?", cell)
    assert match, f"no number in {cell!r}"
    return float(match.group(0).replace(",", ""))


def test_bandits_smoke(tmp_path, run_benchmark):
    run_benchmark("bandits", "--smoke", "--backend", "serial", timeout=300)
    table = (tmp_path / "bandits.md").read_text()
    gaussian, bernoulli = table.split("### Bernoulli arms")
    for method in ("greedy (epsilon 0)", "epsilon 0.01", "epsilon 0.1", "optimistic Q1 = 5, alpha 0.1", "UCB c = 2",
                   "Thompson sampling (Normal prior)"):
        (row,) = rows(gaussian, method)
        # a learning agent on the 10-armed testbed earns about 1.0-1.55 a step late in the run; a
        # random or broken one earns about 0
        assert 0.8 < number(row[2]) < 2.0, row
        assert "[" in row[2] and 20 <= number(row[4]) <= 100, row
    regret = {m: number(rows(bernoulli, m)[0][2]) for m in ("epsilon 0.1", "UCB c = 2", "Thompson sampling (Beta prior)")}
    # uniformly random arms would lose about 330 over 1,000 steps
    assert 0 < regret["Thompson sampling (Beta prior)"] < regret["epsilon 0.1"] < regret["UCB c = 2"] < 300, regret
    assert "![bandits_testbed](bandits_testbed.png)" in table
    assert (tmp_path / "bandits_testbed.png").stat().st_size > 10_000
    assert len(list((tmp_path / "store").glob("*.json"))) == 9  # one record per (testbed, method, seed)


def test_rl_tabular_smoke(tmp_path, run_benchmark):
    run_benchmark("rl_tabular", "--smoke", "--backend", "serial", timeout=600)
    table = (tmp_path / "rl_tabular.md").read_text()
    for heading in ("Dynamic programming", "Control against the dynamic-programming optimum", "Cliff Walking",
                    "Blackjack-v1", "Speed"):
        assert heading in table
    assert table.count("V(start) = 0.5420") == 2 and table.count("V(start) = 0.8235") == 2
    assert "| WindyGridWorld (Example 6.5) | value-iteration | path 15 steps |" in table
    assert "| TicTacToe vs perfect opponent | value-iteration | V(start) = 0.000 |" in table
    (cliff,) = [r for r in rows(table, "CliffWalking-v1") if r[2].startswith("50,000 steps")]
    assert number(cliff[3]) == number(cliff[4]) == -13  # 50,000 steps of Q-learning find the optimal path
    for agent in ("q-learning", "sarsa", "mc-control"):
        control = [r for r in rows(table, agent) if r[1] == "5,000"]
        assert len(control) == 1 and 0 <= number(control[0][4]) <= 0.744, control
    for agent in ("sarsa", "q-learning"):  # Example 6.6: online returns of the last 100 episodes
        example = [r for r in rows(table, agent) if r[1] == "2"]
        assert len(example) == 1 and -100 < number(example[0][2]) < -13, example
    for agent in ("mc-prediction", "td0-prediction"):
        (row,) = rows(table, agent)
        assert 0 < number(row[4]) < 0.5, row  # mean absolute error of V after 2,000 episodes
    speed = [r for env in ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v4") for r in rows(table, env) if "steps" not in r[2]]
    assert len(speed) == 15 and all(0.05 < number(r[4]) < 20 for r in speed), speed
    for png in ("rl_tabular_frozenlake.png", "rl_tabular_cliff.png", "rl_tabular_blackjack.png"):
        assert (tmp_path / png).stat().st_size > 10_000
        assert f"]({png})" in table

