"""Ready-made run functions for :func:`groundup.experiments.sweep`.

``train_and_evaluate`` trains any registered agent on any Gymnasium environment and
returns its evaluation; ``groundup sweep`` and ``groundup tune`` call it. The agent
family is imported when a run starts, not when this module is imported, so the core
stays free of family imports.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["train_and_evaluate", "evaluate_agent", "make_env"]


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None, n_envs: int = 1) -> Any:
    """``gym.make(env_id, **env_kwargs)``, or ``gym.make_vec`` when ``n_envs > 1``
    (groundup's environments are registered first)."""
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/ environments)

    if not isinstance(env_id, str):
        raise TypeError(f"env must be a Gymnasium environment id (str), got {type(env_id).__name__}")
    kwargs = dict(env_kwargs or {})
    try:
        if n_envs > 1:
            return gym.make_vec(env_id, num_envs=n_envs, **kwargs)
        return gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f"cannot make environment {env_id!r}: {exc}") from None


def evaluate_agent(agent: Any, env: Any, episodes: int, seed: int | None = None) -> tuple[float, float, list[float]]:
    """Run ``episodes`` episodes of the deterministic policy on a single environment;
    returns (mean, std, returns). The first reset uses ``seed``."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    returns = []
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        G, done = 0.0, False
        while not done:
            action, _ = agent.predict(obs, deterministic=True)
            obs, r, terminated, truncated, _ = env.step(action)
            G += float(r)
            done = terminated or truncated
        returns.append(G)
        obs, _ = env.reset()
    return float(np.mean(returns)), float(np.std(returns)), returns


def _learning_curve(agent: Any, points: int = 20) -> list[list[float]]:
    """(timestep, mean online return of the episodes that ended in that slice) pairs."""
    returns = list(getattr(agent, "episode_returns", []) or [])
    lengths = list(getattr(agent, "episode_lengths", []) or [])
    if not returns or len(lengths) != len(returns):
        return []
    ends = np.cumsum(lengths)
    edges = np.linspace(0, ends[-1], points + 1)[1:]
    curve, start = [], 0
    for edge in edges:
        stop = int(np.searchsorted(ends, edge, side="right"))
        if stop > start:
            curve.append([float(edge), float(np.mean(returns[start:stop]))])
            start = stop
    return curve


def train_and_evaluate(agent: str, env: str, timesteps: int | None, seed: int, eval_episodes: int = 100,
                       env_kwargs: dict[str, Any] | None = None, n_envs: int = 1, **agent_params: Any) -> dict[str, Any]:
    """Train the registered agent ``agent`` on ``gym.make(env, **env_kwargs)`` for
    ``timesteps`` steps (dynamic programming agents sweep to convergence and ignore it),
    then run its deterministic policy for ``eval_episodes`` episodes on a separate
    environment seeded ``10_000 + seed``.

    Returns ``mean_return``, ``std_return``, ``seconds`` (training only),
    ``steps_per_second``, ``timesteps``, ``episodes`` and ``curve`` (online returns
    against steps, 20 points).
    """
    from groundup import agents

    train_env = make_env(env, env_kwargs, n_envs)
    model = agents.make(agent, train_env, seed=seed, **agent_params)
    start = time.perf_counter()
    if agents.registry[agent].family == "dynamic programming":
        model.learn()
    else:
        if timesteps is None or isinstance(timesteps, bool) or not isinstance(timesteps, int) or timesteps < 1:
            raise ValueError(f"timesteps must be a positive integer for {agent!r}, got {timesteps!r}")
        model.learn(timesteps)
    seconds = time.perf_counter() - start
    steps = int(getattr(model, "num_timesteps", 0) or 0)
    mean, std, _ = evaluate_agent(model, make_env(env, env_kwargs), eval_episodes, seed=10_000 + seed)
    return {"mean_return": mean, "std_return": std, "seconds": seconds,
            "steps_per_second": steps / seconds if seconds > 0 and steps else None, "timesteps": steps,
            "episodes": len(getattr(model, "episode_returns", []) or []), "curve": _learning_curve(model)}
