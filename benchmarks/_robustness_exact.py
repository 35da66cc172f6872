"""Environments and exact answers for the ``tabular`` and ``prediction`` sections of
benchmarks/robustness.py: the task's environment as a user makes it, its time limit, its
start distribution and model ``P``, the exact expected return of a deterministic policy
within the time limit, and the seed-share rule both sections' targets follow.

The module is a part of benchmarks/robustness.py; the leading underscore keeps ``groundup
bench`` from running it as a benchmark of its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.rl_tabular import horizon_values

EVAL_LIMIT = 1000  # evaluation time limit of a task whose environment has none (CliffWalking-v1)
SEED_SHARE = 0.8  # a target is met on a task when at least this share of the seeds meet it (4 of 5)


def make_env(spec: dict[str, Any]) -> Any:
    """The environment of a task's ``spec`` (env id, kwargs, random map seed), as a user would make it."""
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/ environments)

    kwargs = dict(spec.get("kwargs", {}))
    if "map_seed" in spec:
        from gymnasium.envs.toy_text.frozen_lake import generate_random_map

        kwargs["desc"] = generate_random_map(8, seed=spec["map_seed"])
    return gym.make(spec["env"], **kwargs)


def horizon(env: Any) -> int:
    """The evaluation time limit: the environment's own, else ``EVAL_LIMIT``."""
    limit = env.spec.max_episode_steps if env.spec is not None else None
    return int(limit) if limit else EVAL_LIMIT


def evaluation_env(env: Any) -> Any:
    """The environment evaluation episodes run in: a time limit added where it has none."""
    import gymnasium as gym

    if env.spec is not None and env.spec.max_episode_steps:
        return env
    return gym.wrappers.TimeLimit(env, EVAL_LIMIT)


def start_distribution(env: Any) -> np.ndarray:
    """The distribution of the first state: the toy-text ``initial_state_distrib``, groundup's
    grid worlds' ``initial_state``, else the state ``reset`` gives, which must not depend on
    the seed (tic-tac-toe with the agent to move first: the empty board)."""
    u = env.unwrapped
    n = u.observation_space.n
    if getattr(u, "initial_state_distrib", None) is not None:
        return np.asarray(u.initial_state_distrib, dtype=float)
    d = np.zeros(n)
    if getattr(u, "initial_state", None) is not None:
        d[int(u.initial_state)] = 1.0
        return d
    first = {int(env.reset(seed=s)[0]) for s in range(5)}
    if len(first) != 1:
        raise ValueError(f"{env.spec.id if env.spec else u}: the start state is random and the environment does not expose "
                         "its distribution (initial_state_distrib)")
    d[first.pop()] = 1.0
    return d


def model_of(env: Any) -> Any:
    from groundup.agents.dynamic_programming import FiniteModel

    u = env.unwrapped
    return FiniteModel(u.P, int(u.observation_space.n), int(u.action_space.n))


def exact_return(model: Any, start: np.ndarray, actions: np.ndarray | None, steps: int) -> float:
    """The expected undiscounted return within ``steps`` steps of the deterministic policy
    ``actions`` (a state -> action table), or of an optimal one (``None``), from ``start``:
    ``steps`` backward steps of dynamic programming over the model."""
    return float(start @ horizon_values(model, steps, actions))


def simulate(agent: Any, env: Any, episodes: int, seed: int) -> float:
    from groundup.experiments.runs import evaluate_agent

    mean, _, _ = evaluate_agent(agent, evaluation_env(env), episodes, seed=seed)
    return mean


def seed_share_met(passed: int, n: int) -> bool:
    """Whether ``passed`` of ``n`` seeds is at least ``SEED_SHARE`` of them."""
    return n > 0 and passed >= math.ceil(SEED_SHARE * n - 1e-9)


def refusal(agent: str, env: Any, **kwargs: Any) -> str | None:
    """Why ``agents.make(agent, env)`` refuses the environment (its constructor's message), or None."""
    from groundup import agents

    try:
        agents.make(agent, env, seed=0, **kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def short_reason(reason: str) -> str:
    if "reset(options" in reason:
        return "n/a: the environment cannot start in a chosen state"
    if "model" in reason and "P" in reason:
        return "n/a: no model P"
    if "spaces of kind" in reason:
        return "n/a: Tuple observations"
    return "n/a"
