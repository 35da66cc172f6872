"""The ``prediction`` section of benchmarks/robustness.py: the prediction agents with their
defaults, against the exact values of the policy they evaluate.

Agents: ``policy-evaluation``, ``mc-prediction``, ``td0-prediction`` and
``semi-gradient-td0`` evaluate the uniformly random policy on GridWorld and FrozenLake
4x4 and 8x8 (each with the agent's default gamma), and Sutton & Barto's stick-on-20
policy on Blackjack-v1 (gamma 1: the exact values of ``groundup.envs.blackjack`` are
undiscounted). Error: the root of the book's VE (section 9.2), the squared error of
each state weighted by the on-policy distribution mu (the expected visits per episode,
exact), against v = (I - gamma P_pi)^-1 r_pi solved from ``P`` (Blackjack:
``blackjack.policy_values`` and ``blackjack.expected_visits``), reported relative to the
range of the exact values over the states mu reaches. Budget: 1M steps. An agent that
cannot run on a task (no ``P`` for dynamic programming, a Tuple observation space for
the linear agent) is shown as such, with the reason its constructor gives.

Target (``PREDICTION_TARGET``): RMS error <= 2% of the exact values' range on every task,
in at least ``SEED_SHARE`` (4 of 5) of the seeds.

The module is a part of benchmarks/robustness.py (run it there: ``--only prediction``); the
leading underscore keeps ``groundup bench`` from running it as a benchmark of its own.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks._robustness_exact import SEED_SHARE, make_env, model_of, refusal, seed_share_met, short_reason, start_distribution

PREDICTION_TASKS: dict[str, dict[str, Any]] = {
    "gridworld": dict(env="groundup/GridWorld-v0"),
    "frozenlake-4x4": dict(env="FrozenLake-v1"),
    "frozenlake-8x8": dict(env="FrozenLake8x8-v1"),
    "blackjack": dict(env="Blackjack-v1", gamma=1.0),
}
PREDICTION_AGENTS = ("policy-evaluation", "mc-prediction", "td0-prediction", "semi-gradient-td0")
PREDICTION_TARGET = 0.02  # RMS error relative to the range of the exact values


def make_task(task: str) -> Any:
    """The prediction task's environment, as a user would make it."""
    return make_env(PREDICTION_TASKS[task])


def prediction_policy(task: str, env: Any) -> np.ndarray:
    """The policy evaluated on ``task``: uniformly random, or on Blackjack the stick-on-20
    policy of Example 5.1 as a table of actions (row-major over the Tuple space, the layout
    of the tabular agents)."""
    if task == "blackjack":
        from groundup.envs import blackjack

        policy = blackjack.stick_at(20)
        return np.array([policy((p, d, a)) for p in range(32) for d in range(11) for a in range(2)], dtype=np.int64)
    n, k = int(env.observation_space.n), int(env.action_space.n)
    return np.full((n, k), 1.0 / k)


def exact_values(task: str, env: Any, policy: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(v_pi, mu)`` over the flat state index: the exact values of ``policy`` and its
    on-policy distribution (expected visits per episode, normalised)."""
    if task == "blackjack":
        from groundup.envs import blackjack

        if gamma != 1.0:
            raise ValueError("the exact Blackjack values are undiscounted: run Blackjack prediction with gamma=1")
        table = policy.reshape(32, 11, 2)
        act = lambda obs: int(table[obs])  # noqa: E731
        v = blackjack.policy_values(act).ravel()
        visits = blackjack.expected_visits(act).ravel()
        v = np.where(visits > 0, v, 0.0)
        return v, visits / visits.sum()
    model = model_of(env)
    S, A = model.n_states, model.n_actions
    P = np.zeros((S * A, S))
    np.add.at(P, (model.rows, model.cols), model.probs)  # continuation probabilities (termination left out)
    P_pi = np.einsum("sa,sat->st", policy, P.reshape(S, A, S))
    r_pi = (policy * model.R).sum(axis=1)
    v = np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
    visits = np.linalg.solve((np.eye(S) - P_pi).T, start_distribution(env))
    visits = np.clip(visits, 0.0, None)
    return v, visits / visits.sum()


def estimated_values(agent: Any) -> np.ndarray:
    """The agent's estimate of v_pi over the flat state index."""
    if hasattr(agent, "value") and not hasattr(agent, "q_table") and getattr(agent, "w", None) is not None:
        n = int(agent.observation_space.n)
        return np.asarray(agent.value(np.arange(n) + int(agent.observation_space.start)), dtype=float)
    return np.asarray(agent.value_function, dtype=float).ravel()


def prediction(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One prediction agent, with its defaults (plus ``case["params"]``), on one task: the
    on-policy-weighted RMS error of its values against the exact ones."""
    from groundup import agents

    task, agent_id, steps = case["task"], case["agent"], int(case["steps"])
    env = make_task(task)
    policy = prediction_policy(task, env)
    gamma = PREDICTION_TASKS[task].get("gamma")
    kwargs = {**({"gamma": gamma} if gamma is not None else {}), **case.get("params", {})}
    model = agents.make(agent_id, env, policy=policy, seed=seed, **kwargs)
    start = time.perf_counter()
    model.learn(steps)
    seconds = time.perf_counter() - start
    v, mu = exact_values(task, env, policy, float(model.gamma))
    error = float(np.sqrt(mu @ (estimated_values(model) - v) ** 2))
    reached = v[mu > 0]
    spread = float(reached.max() - reached.min())
    return {"rms": error, "range": spread, "relative": error / spread, "gamma": float(model.gamma), "learn_seconds": seconds}


@functools.lru_cache(maxsize=None)
def unsupported(task: str, agent: str) -> str | None:
    """Why ``agent`` cannot run on ``task`` (its constructor's message), or None."""
    env = make_task(task)
    return refusal(agent, env, policy=prediction_policy(task, env))


def render_prediction(records: list[dict[str, Any]], args: Any, budgets: dict[str, Any]) -> tuple[str, list[str]]:
    if not records:
        return "", []
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        case = r["params"]["case"]
        runs.setdefault((case["task"], case["agent"]), []).append(r["metrics"])
    tasks = [t for t in PREDICTION_TASKS if any(k[0] == t for k in runs)]
    agents_here = [a for a in PREDICTION_AGENTS if any(k[1] == a for k in runs)]
    rows: list[list[Any]] = []
    met_by: dict[str, list[bool]] = {}
    for task in tasks:
        for agent in agents_here:
            group = runs.get((task, agent))
            if not group:
                reason = unsupported(task, agent)
                if reason:
                    rows.append([task, agent, short_reason(reason), "", "", "", "", ""])
                continue
            passed = sum(m["relative"] <= PREDICTION_TARGET for m in group)
            met = seed_share_met(passed, len(group))
            met_by.setdefault(agent, []).append(met)
            rows.append([task, agent, f"{group[0]['gamma']:g}", common.mean_ci([m["rms"] for m in group], 4),
                         f"{group[0]['range']:.4f}", common.mean_ci([100 * m["relative"] for m in group], 2),
                         f"{passed}/{len(group)} {'met' if met else '**not met**'}",
                         f"{np.median([m['learn_seconds'] for m in group]):.1f}"])
    summary = [[agent, len(met_by.get(agent, [])), f"{sum(met_by.get(agent, []))}/{len(met_by.get(agent, []))}",
                "**met**" if met_by.get(agent) and all(met_by[agent]) else "**not met**"] for agent in agents_here]
    text = (f"### Prediction with the defaults\n\n`agents.make(id, env, policy=pi, seed=seed)` and "
            f"`learn({budgets['prediction_steps']:,})`; the uniformly random policy (Blackjack: stick on 20, gamma 1). "
            "Error: the on-policy-weighted RMS error of V (the root of the book's VE) against the exact values; "
            f"target: at most {100 * PREDICTION_TARGET:g}% of the exact values' range, in at least "
            f"{SEED_SHARE:.0%} of the seeds.\n\n"
            + common.markdown_table(["agent", "tasks", "tasks meeting target", "all targets"], summary) + "\n\n"
            + common.markdown_table(["task", "agent", "gamma", "RMS error", "range of v", "RMS / range (%)",
                                     "target (seeds)", "learn() s"], rows))
    return text, []


def prediction_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"task": task, "agent": agent, "steps": budgets["prediction_steps"]}
            for task in PREDICTION_TASKS for agent in PREDICTION_AGENTS]
