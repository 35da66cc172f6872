"""``python -m benchmarks.robustness``: the exact references and errors it scores against,
the targets computed from the runs, and (slow) the smoke mode end to end on the engine."""

from __future__ import annotations

import argparse
import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401  (registers groundup/ environments)
from benchmarks import robustness as bench
from benchmarks import _robustness_exact as exact
from benchmarks import _robustness_prediction as prediction
from benchmarks import _robustness_tabular as tabular
from benchmarks import _robustness_deep as deep
from benchmarks._robustness_bandits import BANDIT_AGENTS, BANDIT_TASKS
from groundup import agents
from groundup.experiments import ResultStore


def test_reference_is_value_iteration_scored_exactly_within_the_time_limit():
    taxi = tabular.reference("taxi")
    assert taxi["exact"] == pytest.approx(7.93, abs=0.005) and taxi["horizon"] == 200
    cliff = tabular.reference("cliffwalking")
    assert cliff["exact"] == cliff["optimum_within_limit"] == -13.0 and cliff["horizon"] == exact.EVAL_LIMIT
    assert tabular.reference("windygridworld")["exact"] == -15.0  # Example 6.5's 15-step path
    lake = tabular.reference("frozenlake-4x4")
    assert 0.70 < lake["exact"] <= lake["optimum_within_limit"] < 0.75
    # the exact return is what simulated episodes average to
    env = tabular.make_task("frozenlake-4x4")
    simulated = tabular.simulate(lake["agent"], env, 4000, seed=0)
    assert simulated == pytest.approx(lake["exact"], abs=0.03)


def test_random_maps_are_fixed_and_slippery_with_the_8x8_time_limit():
    a, b = tabular.make_task("frozenlake-random-1"), tabular.make_task("frozenlake-random-1")
    assert (a.unwrapped.desc == b.unwrapped.desc).all() and a.unwrapped.desc.shape == (8, 8)
    assert (a.unwrapped.desc != tabular.make_task("frozenlake-random-2").unwrapped.desc).any()
    assert a.spec.max_episode_steps == 200 and len(a.unwrapped.P[0][0]) == 3  # slippery: three outcomes


def test_relative_score():
    assert tabular.relative_score(0.5, 0.8) == pytest.approx(0.625)
    assert tabular.relative_score(-17.0, -13.0) == pytest.approx(13 / 17)  # a cost: the longer path scores lower
    assert tabular.relative_score(-13.0, -13.0) == 1.0
    with pytest.raises(ValueError):
        tabular.relative_score(1.0, -13.0)
    assert tabular.relative_score(1.0, 0.0) is None  # no reward reachable: undefined, not an error


def test_a_time_limit_that_makes_the_reference_unreachable_is_run_and_reported(monkeypatch, tmp_path):
    # FrozenLake 8x8 cut to 5 steps: the goal is 14 moves away, so every policy's return is 0
    monkeypatch.setitem(tabular.CONTROL_TASKS, "frozenlake-8x8-5-steps",
                        dict(env="FrozenLake8x8-v1", kwargs={"max_episode_steps": 5}))
    case = {"task": "frozenlake-8x8-5-steps", "agent": "q-learning", "steps": [3000], "eval_episodes": 20}
    out = tabular.control(case, seed=0)
    assert out["reference"] == 0.0 and out["optimum_within_limit"] == 0.0
    (result,) = out["results"]
    assert result["score"] is None and result["return"] == 0.0 and result["episodes"] >= 3000 // 5
    record = {"params": {"case": case}, "seed": 0, "metrics": out}
    budgets = {**bench.BUDGETS["smoke"], "steps": 3000}
    text, _ = tabular.render_tabular([record], argparse.Namespace(out=tmp_path), budgets)
    assert "No score (the reference's return within the time limit is 0" in text
    assert "| frozenlake-8x8-5-steps | q-learning |" in text.split("No score")[1]


def test_exact_values_are_the_linear_solve_and_match_policy_evaluation():
    env = gym.make("FrozenLake-v1")
    pi = prediction.prediction_policy("frozenlake-4x4", env)
    v, mu = prediction.exact_values("frozenlake-4x4", env, pi, 0.99)
    dp = agents.make("policy-evaluation", env, policy=pi, gamma=0.99).learn()
    assert np.allclose(v, dp.value_function, atol=1e-8)
    assert mu.sum() == pytest.approx(1.0) and mu[0] > 0 and mu[5] == mu[15] == 0.0  # a hole and the goal: never left from
    # Blackjack: the exact values of the stick-on-20 policy and how often each hand is seen
    bj = gym.make("Blackjack-v1")
    pi = prediction.prediction_policy("blackjack", bj)
    v, mu = prediction.exact_values("blackjack", bj, pi, 1.0)
    assert v.shape == mu.shape == (32 * 11 * 2,) and mu.sum() == pytest.approx(1.0)
    assert v[(13 * 11 + 2) * 2 + 1] == pytest.approx(-0.2772, abs=1e-4)  # V(13, 2, usable ace), as benchmarks/rl_tabular
    with pytest.raises(ValueError, match="undiscounted"):
        prediction.exact_values("blackjack", bj, pi, 0.99)


def test_exploring_starts_only_where_the_environment_starts_anywhere():
    for task in ("frozenlake-4x4", "taxi", "cliffwalking"):
        assert "reset(options" in bench.unsupported("tabular", task, "mc-exploring-starts")
    for task in ("gridworld", "windygridworld", "tictactoe"):
        assert bench.unsupported("tabular", task, "mc-exploring-starts") is None
    assert bench.unsupported("prediction", "blackjack", "semi-gradient-td0") is not None


def control_record(task: str, agent: str, seed: int, scores: dict[int, float], returns: dict[int, float] | None = None) -> dict:
    returns = returns or {}
    return {"status": "ok", "seed": seed, "params": {"case": {"task": task, "agent": agent, "steps": sorted(scores)}},
            "metrics": {"results": [{"steps": s, "score": sc, "return": returns.get(s, sc), "simulated": sc,
                                     "learn_seconds": 1.0} for s, sc in scores.items()]}}


def test_targets_are_computed_from_the_runs():
    budgets = bench.BUDGETS["full"]
    M1, M5 = 1_000_000, 5_000_000
    records = [control_record("frozenlake-8x8", "q-learning", s, {M1: 0.95 if s else 0.5}) for s in range(5)]  # 4/5
    records += [control_record("frozenlake-8x8", "sarsa", s, {M1: 0.95 if s > 1 else 0.5}) for s in range(5)]  # 3/5
    records += [control_record("taxi", "mc-control", s, {M1: 0.1, M5: 0.8}, {M1: -50.0, M5: 6.3}) for s in range(5)]
    records += [control_record("cliffwalking", "sarsa", s, {M1: 13 / 14}) for s in range(5)]  # within 10%
    records += [control_record("cliffwalking", "q-learning", s, {M1: 13 / 14}) for s in range(5)]  # not optimal
    records += [control_record("tictactoe", "q-learning", s, {M1: 0.9}) for s in range(5)]
    verdicts = tabular.control_verdicts(tabular.control_rows(records), budgets)
    assert verdicts["frozenlake-8x8", "q-learning"] == (4, 5, True)
    assert verdicts["frozenlake-8x8", "sarsa"] == (3, 5, False)
    assert verdicts["taxi", "mc-control"] == (5, 5, True)  # judged at 5M, by the return
    assert verdicts["cliffwalking", "sarsa"][2] and not verdicts["cliffwalking", "q-learning"][2]
    assert verdicts["tictactoe", "q-learning"] is None  # no target: reported only
    assert tabular.control_target("mc-exploring-starts", "gridworld") is None


def deep_record(task: str, agent: str, steps: int, seed: int, solved: bool) -> dict:
    return {"status": "ok", "seed": seed, "params": {"case": {"task": task, "agent": agent, "steps": steps}},
            "metrics": {"final": 500.0 if solved else 100.0, "solved": solved, "train_seconds": 1.0,
                        "curve": [(steps, 500.0 if solved else 100.0)]}}


def test_deep_rows_count_solved_seeds_against_the_share_and_each_sb3_baseline():
    records = [deep_record("cartpole", "dqn", 100_000, s, s > 0) for s in range(5)]  # 4/5: the share is met
    records += [deep_record("cartpole", "sb3-dqn", 100_000, s, True) for s in range(5)]  # 5/5: more than dqn's
    records += [deep_record("acrobot", "policy-gradient", 200_000, s, s > 1) for s in range(5)]  # 3/5: not met
    records += [deep_record("acrobot", "sb3-a2c", 200_000, s, False) for s in range(5)]
    records += [deep_record("acrobot", "sb3-ppo", 200_000, s, s > 2) for s in range(5)]
    records += [deep_record("cartpole", "semi-gradient-sarsa", 100_000, s, False) for s in range(5)]  # no share set
    verdicts = {(v["task"], v["agent"]): v for v in deep.row_verdicts(deep.group(records), 1.0)}
    assert set(verdicts) == {("cartpole", "dqn"), ("acrobot", "policy-gradient"), ("cartpole", "semi-gradient-sarsa")}
    dqn, pg, sarsa = verdicts["cartpole", "dqn"], verdicts["acrobot", "policy-gradient"], verdicts["cartpole", "semi-gradient-sarsa"]
    assert (dqn["solved"], dqn["share_met"], dqn["vs_baselines"]) == (4, True, False)
    assert (pg["solved"], pg["share_met"], pg["vs_baselines"]) == (3, False, True)
    assert sarsa["share_met"] is None and sarsa["vs_baselines"] is False  # against the same SB3 DQN runs (5/5)
    cases = deep.deep_cases({"deep_scale": 1.0, "deep_tasks": ("acrobot",)})
    assert {(c["agent"], c["steps"]) for c in cases} == {("dqn", 100_000), ("sb3-dqn", 100_000), ("semi-gradient-sarsa", 100_000),
                                                         ("policy-gradient", 200_000), ("sb3-a2c", 200_000), ("sb3-ppo", 200_000)}


def test_a_deep_rerun_of_some_rows_keeps_the_earlier_rows_and_their_verdicts(tmp_path):
    records = [deep_record("cartpole", "dqn", 100_000, s, True) for s in range(5)]  # 5/5 now
    records += [deep_record("cartpole", "sb3-dqn", 100_000, s, False) for s in range(5)]
    row = "| {} | {} | {} | {} | 1.0 | {} | sb3: 0/5, 1.0 | {} | 9 |"
    earlier = "\n".join([
        "### Deep and linear agents with the defaults, against SB3's defaults", "",
        row.format("CartPole-v1", "dqn", "100,000", "3/5", ">= 4/5: **not met**", "met"),  # replaced by this run's
        row.format("Acrobot-v1", "policy-gradient", "200,000", "2/5", ">= 4/5: **not met**", "met"),  # kept
        row.format("Acrobot-v1", "semi-gradient-sarsa", "100,000", "0/5", "", "**not met**"),  # kept
        row.format("Acrobot-v1", "dqn", "20,000", "5/5", ">= 4/5: met", "met"),  # another budget: dropped
    ])
    text, pictures = deep.render_deep(records, argparse.Namespace(out=tmp_path), {**bench.BUDGETS["full"]}, earlier=earlier)
    table = text.split("| task | agent |")[1]
    assert "| CartPole-v1 | dqn | 100,000 | 5/5 |" in table and "3/5" not in table.split("Rows")[0].split("Acrobot")[0]
    assert "| Acrobot-v1 | policy-gradient | 200,000 | 2/5 |" in table and "20,000" not in table
    assert table.index("| CartPole-v1 | dqn") < table.index("| Acrobot-v1 | policy-gradient")  # DEEP_ROWS' order
    assert "Rows kept from the earlier report (this run did not run them; the picture shows the rows it ran): " \
           "Acrobot-v1 policy-gradient, Acrobot-v1 semi-gradient-sarsa." in text
    summary = text.split("| task | agent |")[0]
    assert "| dqn | 1 | 1/1 | 1/1 | **met** |" in summary
    assert "| policy-gradient | 1 | 0/1 | 1/1 | **not met** |" in summary  # the kept row's verdicts count
    assert "| semi-gradient-sarsa | 1 | 0/0 | 0/1 | **not met** |" in summary
    assert pictures == ["robustness_deep.png"] and (tmp_path / "robustness_deep.png").exists()
    assert deep.render_deep([], argparse.Namespace(out=tmp_path), bench.BUDGETS["full"], earlier=earlier) == ("", [])


def test_a_partial_update_keeps_the_sections_it_did_not_run(tmp_path):
    report = tmp_path / "robustness.md"
    assert bench.earlier_sections(report) == {}  # no earlier report: nothing to keep
    report.write_text("### Tabular control with the defaults\n\n| a |\n|---|\n| 1 |\n\n"
                      "### Prediction with the defaults\n\ntext\n\n"
                      "### Deep and linear agents with the defaults, against SB3's defaults\n\n| d |\n\n"
                      "![robustness_tabular](robustness_tabular.png) ![robustness_deep](robustness_deep.png)\n\n"
                      "_Configuration: full; command: `python -m benchmarks.robustness --update-results`._\n")
    kept = bench.earlier_sections(report)
    assert set(kept) == {"tabular", "prediction", "deep"}
    assert kept["tabular"] == ("### Tabular control with the defaults\n\n| a |\n|---|\n| 1 |", ["robustness_tabular.png"])
    assert kept["prediction"] == ("### Prediction with the defaults\n\ntext", [])  # its section draws no picture
    assert kept["deep"] == ("### Deep and linear agents with the defaults, against SB3's defaults\n\n| d |",
                            ["robustness_deep.png"])


@pytest.mark.slow
def test_robustness_smoke(tmp_path, run_benchmark):
    run_benchmark("robustness", "--smoke", "--backend", "serial", timeout=600)
    report = (tmp_path / "robustness.md").read_text()
    for heading in ("### Tabular control with the defaults", "### Prediction with the defaults", "### Bandits with the defaults",
                    "### Deep and linear agents with the defaults, against SB3's defaults",
                    "command: `python -m benchmarks.robustness --smoke`", "](robustness_tabular.png)", "](robustness_deep.png)"):
        assert heading in report
    assert (tmp_path / "robustness_tabular.png").stat().st_size > 10_000
    # a later partial --update-results finds each section by these headings and pictures
    kept = bench.earlier_sections(tmp_path / "robustness.md")
    assert set(kept) == set(bench.SECTIONS)
    assert {p for _, pics in kept.values() for p in pics} == {"robustness_tabular.png", "robustness_bandits.png",
                                                             "robustness_deep.png"}
    for task in tabular.CONTROL_TASKS:
        assert f"| {task} | q-learning | 2,000 |" in report
    assert "| taxi | mc-exploring-starts |  | n/a: the environment cannot start in a chosen state |" in report
    assert "| gridworld | mc-exploring-starts | 4,000 |" in report
    assert "| blackjack | td0-prediction | 1 |" in report and "| frozenlake-8x8 | policy-evaluation | 0.99 | 0.0000 |" in report
    records = list(ResultStore(tmp_path / "store"))
    n_control = 3 * len(tabular.CONTROL_TASKS) + 3  # mc-exploring-starts on the three groundup environments
    n_bandits = len(BANDIT_TASKS) * len(BANDIT_AGENTS)
    n_deep = 3 + 3  # dqn, policy-gradient, semi-gradient-sarsa on CartPole, and SB3's DQN, A2C, PPO
    assert len(records) == n_control + 4 * 4 - 2 + n_bandits + n_deep and all(r["status"] == "ok" for r in records)
    assert "| CartPole-v1 | policy-gradient | 1,000 |" in report and "sb3-a2c: " in report
    for r in records:
        if "final" in r["metrics"]:  # a deep run
            assert np.isfinite(r["metrics"]["final"]) and len(r["metrics"]["curve"]) == 10
        elif "score" in r["metrics"]:  # a bandit run
            assert r["metrics"]["score"] <= 1.0
        elif "results" in r["metrics"]:
            assert all(np.isfinite(x["score"]) for x in r["metrics"]["results"])
        else:
            assert r["metrics"]["relative"] >= 0

    # one task, written from the store without running again
    run_benchmark("robustness", "--smoke", "--backend", "serial", "--only", "taxi", "--out", str(tmp_path / "taxi"))
    report = (tmp_path / "taxi" / "robustness.md").read_text()
    assert "| taxi | sarsa |" in report and "frozenlake-4x4" not in report and "### Prediction" not in report
    assert "command: `python -m benchmarks.robustness --smoke --only taxi`" in report
    assert len(list(ResultStore(tmp_path / "store"))) == len(records)
