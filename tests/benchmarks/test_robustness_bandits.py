"""The bandits section of ``python -m benchmarks.robustness``: the bounds it reports against,
worked by hand, its regret accounting, its report, and (slow) the section end to end."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

import groundup  # noqa: F401  (registers groundup/Bandit-v0)
from benchmarks import _robustness_bandits as rb
from groundup import agents
from groundup.experiments import ResultStore

LN_T = math.log(10_000)


def test_bernoulli_kl_and_the_lai_robbins_constant_by_hand():
    # two arms 0.9 / 0.8: KL(0.8, 0.9) = 0.8 ln(8/9) + 0.2 ln 2
    kl = 0.8 * math.log(8 / 9) + 0.2 * math.log(2)
    assert kl == pytest.approx(0.0444030076, rel=1e-9)
    assert rb.kl_bernoulli(0.8, 0.9) == pytest.approx(kl, rel=1e-12)
    assert rb.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2))  # 0 ln 0 = 0
    assert rb.kl_bernoulli(0.9, 0.9) == 0.0
    (C,) = rb.lai_robbins_constant(np.array([0.9, 0.8]), "bernoulli")
    assert C == pytest.approx(0.1 / 0.0444030076, rel=1e-8)  # 2.2521
    assert C * LN_T == pytest.approx(20.7424, abs=1e-3)  # the lower bound at T = 10,000
    # the best arm's position does not matter; one constant per problem (row)
    both = rb.lai_robbins_constant(np.array([[0.8, 0.9], [0.9, 0.8], [0.5, 0.5]]), "bernoulli")
    assert both == pytest.approx([C, C, 0.0])
    # Gaussian arms of unit variance: KL = Delta^2 / 2, so C = sum 2 / Delta = 2/0.5 + 2/1
    (G,) = rb.lai_robbins_constant(np.array([1.0, 0.5, 0.0]), "gaussian")
    assert G == pytest.approx(6.0)
    (G2,) = rb.lai_robbins_constant(np.array([1.0, 0.5, 0.0]), "gaussian", reward_std=2.0)
    assert G2 == pytest.approx(24.0)


def test_ucb1_bound_is_auer_theorem_1_by_hand():
    q = np.array([0.9, 0.8])
    # 8 ln T / 0.1 + (1 + pi^2/3) * 0.1, with the constants written out
    assert rb.ucb1_bound(q, 10_000)[0] == pytest.approx(80 * 9.210340372 + 0.1 * 4.289868134, rel=1e-9)
    assert rb.ucb1_bound(q, 10_000)[0] == pytest.approx(737.2562, abs=1e-3)
    # the book's c = 2: the proof's first term is 4 c^2 ln T / Delta = 16 ln T / Delta
    assert rb.ucb1_bound(q, 10_000, c=2.0)[0] == pytest.approx(160 * LN_T + 0.1 * (1 + math.pi**2 / 3))
    # three arms 0.5 / 0.4 / 0.2: the sums run over both suboptimal arms
    three = rb.ucb1_bound(np.array([0.4, 0.5, 0.2]), 100)[0]
    assert three == pytest.approx(8 * math.log(100) * (10 + 1 / 0.3) + (1 + math.pi**2 / 3) * 0.4)
    # a curve: one row per horizon
    curve = rb.ucb1_bound(np.array([[0.9, 0.8], [0.5, 0.1]]), np.array([10, 100, 1000]))
    assert curve.shape == (3, 2) and np.all(np.diff(curve, axis=0) > 0)
    with pytest.raises(ValueError, match="c must be >= sqrt"):
        rb.ucb1_bound(q, 100, c=1.0)


def test_checkpoints_are_log_spaced_and_end_at_the_horizon():
    points = rb.checkpoints(10_000)
    assert points[0] == 1 and points[-1] == 10_000 and np.all(np.diff(points) > 0)
    assert 20 <= len(points) <= rb.N_CHECKPOINTS
    assert list(rb.checkpoints(3)) == [1, 2, 3]


def test_regret_accounting_equals_a_direct_computation_for_fixed_actions():
    problems, steps, k = 4, 60, 10
    venv = rb.make_testbed("bernoulli-10", problems, steps)
    venv.reset(seed=3)
    q = np.asarray(venv.unwrapped.q_star)
    assert q.shape == (problems, k) and np.all((q > 0) & (q < 1))
    points = rb.checkpoints(steps)
    tracker = rb.RegretTracker(problems, steps, points)
    rows = np.arange(problems)
    actions = [(t + 3 * rows) % k for t in range(steps)]  # each problem cycles through its arms
    rewards = np.zeros(problems)
    for A in actions:
        _, R, _, _, info = venv.step(A)
        rewards += R
        tracker.record(R, info)
    gap = q.max(axis=1, keepdims=True) - q
    direct = np.cumsum([gap[rows, A] for A in actions], axis=0)  # (steps, problems)
    assert tracker.regret == pytest.approx(direct[-1])
    assert tracker.curve == pytest.approx(direct[points - 1])
    assert tracker.reward == pytest.approx(rewards)
    best = q.argmax(axis=1)
    last = actions[steps - 6:]  # the last tenth of 60 steps
    assert tracker.optimal_last == pytest.approx(np.sum([A == best for A in last], axis=0))
    # cycling through all ten arms every ten steps: the regret of uniform play, exactly
    assert direct[-1] == pytest.approx(steps * (q.max(axis=1) - q.mean(axis=1)))


def test_every_agent_meets_the_same_problems_under_a_seed():
    tables = []
    for agent_id in rb.BANDIT_AGENTS:
        venv = rb.make_testbed("gaussian-10", 5, 20)
        agents.make(agent_id, venv, seed=7).learn(5 * 20)
        tables.append(np.asarray(venv.unwrapped.q_star))
    assert all(np.array_equal(tables[0], t) for t in tables[1:])
    other = rb.make_testbed("gaussian-10", 5, 20)
    agents.make("ucb1", other, seed=8).learn(5 * 20)
    assert not np.array_equal(tables[0], other.unwrapped.q_star)


def test_a_run_scores_its_regret_and_ucb1_stays_below_its_bound():
    case = {"task": "bernoulli-2", "steps": 1000, "problems": 100}
    ucb = rb.bandit({**case, "agent": "ucb1"}, seed=0)
    assert ucb["points"][-1] == 1000 and ucb["regret"] == pytest.approx(ucb["regret_curve"][-1])
    assert ucb["c"] == 2.0 and ucb["below_ucb1_bound"] == 1.0
    assert len(ucb["ucb1_curve"]) == len(ucb["points"])
    # the bound over C at T is far above ln T (UCB1's bound is loose; Lai & Robbins' is ln T)
    assert ucb["ucb1_curve"][-1] > 10 * math.log(1000)
    thompson = rb.bandit({**case, "agent": "thompson-sampling"}, seed=0)
    greedy = rb.bandit({**case, "agent": "epsilon-greedy"}, seed=0)
    assert thompson["below_ucb1_bound"] is None and thompson["ucb1_curve"] is None
    # epsilon = 0.1 keeps paying for random pulls: its regret grows linearly, Thompson's logarithmically
    assert thompson["regret"] < greedy["regret"] and thompson["score"] > greedy["score"]
    assert 0 < thompson["lai_robbins_ratio"] < greedy["lai_robbins_ratio"]
    for run in (ucb, thompson, greedy):
        assert 0 < run["score"] < 1 and 0 <= run["optimal_last"] <= 1
        assert 0 < run["mean_reward"] < 1  # Bernoulli rewards
    gaussian = rb.bandit({"task": "gaussian-2", "steps": 50, "problems": 10, "agent": "ucb1"}, seed=0)
    assert gaussian["below_ucb1_bound"] is None  # rewards outside [0, 1]: the bound does not apply


def metrics(score: float, regret: float, lr: float | None = 1.0, below: float | None = None) -> dict:
    points = [1, 10, 100]
    return {"points": points, "regret_curve": [0.1, 1.0, regret], "normalized_curve": [0.05, 0.5, 2.0],
            "regret": regret, "score": score, "optimal_last": 0.8, "mean_reward": 0.5, "lai_robbins_ratio": lr,
            "below_ucb1_bound": below, "ucb1_curve": [50.0, 100.0, 200.0] if below is not None else None,
            "c": 2.0, "learn_seconds": 0.5}


def record(task: str, agent: str, seed: int, m: dict) -> dict:
    return {"status": "ok", "seed": seed, "metrics": m,
            "params": {"case": {"task": task, "agent": agent, "steps": 100, "problems": 50}}}


def test_the_report_has_a_row_per_agent_and_per_task(tmp_path):
    records = [record("bernoulli-2", "ucb1", 0, metrics(0.5, 10.0, 2.0, 1.0)),
               record("bernoulli-2", "ucb1", 1, metrics(0.7, 20.0, 3.0, 0.5)),
               record("gaussian-10", "ucb1", 0, metrics(0.9, 30.0)),
               record("gaussian-10", "ucb1", 1, metrics(0.9, 30.0)),
               record("bernoulli-2", "thompson-sampling", 0, metrics(0.8, 4.0, 1.1)),
               record("bernoulli-2", "thompson-sampling", 1, metrics(0.8, 4.0, 1.1))]
    text, pictures = rb.render_bandits(records, argparse.Namespace(out=tmp_path), {})
    assert pictures == ["robustness_bandits.png"] and (tmp_path / "robustness_bandits.png").stat().st_size > 10_000
    assert "### Bandits with the defaults" in text and "on 50 independent problems per seed" in text and "2 seed(s)" in text
    # per task: score and regret as mean [interval over the seeds], ratios, the UCB1 bound's share, n/a on Gaussian arms
    assert ("| bernoulli-2 | ucb1 | 0.600 [0.500, 0.700] | 15.0 [10.0, 20.0] | 80.0 [80.0, 80.0] | "
            "0.500 [0.500, 0.500] | 2.50 [2.00, 3.00] | 75.0% | 0.50 |") in text
    assert "| gaussian-10 | ucb1 | 0.900 [0.900, 0.900] | 30.0 [30.0, 30.0] |" in text
    assert "| gaussian-10 | ucb1 |" in text and text.split("| gaussian-10 | ucb1 |")[1].split("\n")[0].endswith("| n/a | 0.50 |")
    assert "| bernoulli-2 | thompson-sampling | 0.800 [0.800, 0.800] | 4.0 [4.0, 4.0] |" in text
    # summary: ucb1's IQM over its four scores (0.5, 0.7, 0.9, 0.9 -> the middle two: 0.8), worst task bernoulli-2
    summary = text.split("Per task:")[0]
    assert "| ucb1 | 2 | 0.800 [" in summary and "| bernoulli-2 (0.600) | 2.50 [2.00, 3.00] | 75.0% |" in summary
    assert "| thompson-sampling | 1 | 0.800 [0.800, 0.800] | bernoulli-2 (0.800) | 1.10 [1.10, 1.10] |  |" in summary
    assert rb.render_bandits([], argparse.Namespace(out=tmp_path), {}) == ("", [])


@pytest.mark.slow
def test_robustness_bandits_smoke(tmp_path, run_benchmark):
    run_benchmark("robustness", "--smoke", "--backend", "serial", "--only", "bandits", timeout=300)
    report = (tmp_path / "robustness.md").read_text()
    assert "### Bandits with the defaults" in report and "](robustness_bandits.png)" in report
    assert "### Tabular control" not in report and "### Prediction" not in report
    for task in rb.BANDIT_TASKS:
        for agent in rb.BANDIT_AGENTS:
            assert f"| {task} | {agent} |" in report
    assert (tmp_path / "robustness_bandits.png").stat().st_size > 10_000
    records = list(ResultStore(tmp_path / "store"))
    assert len(records) == len(rb.BANDIT_TASKS) * len(rb.BANDIT_AGENTS) and all(r["status"] == "ok" for r in records)
    assert all(r["params"]["case"]["steps"] == 200 and r["metrics"]["score"] <= 1 for r in records)
