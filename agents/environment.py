"""Talking to the environment, the one way every agent does: ``learn``'s budget and callbacks,
and reset and step of one environment or a vector of them, which come back as the same
arrays either way (so that an algorithm is written once, for a batch of environments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space

from groundup.agents import spaces as sp
from groundup.validation import check_int

__all__ = ["Callback", "check_budget", "check_uniform_vector_env", "make_callback", "reset_env", "step_envs"]

Callback = Callable[[dict[str, Any], dict[str, Any]], Any]


def check_budget(total_timesteps: Any, n_episodes: Any = None, *, required: bool = True) -> tuple[int | None, int | None]:
    """Validate ``learn``'s budget: a positive number of steps and/or episodes."""
    if total_timesteps is not None and n_episodes is not None and total_timesteps == 0 and n_episodes == 0:
        raise ValueError("learn() got total_timesteps=0 and n_episodes=0: nothing to train; give a positive number "
                         "of environment steps (total_timesteps) and/or of episodes (n_episodes)")
    if total_timesteps is not None:
        if isinstance(total_timesteps, float) and total_timesteps.is_integer():
            total_timesteps = int(total_timesteps)
        total_timesteps = check_int("total_timesteps", total_timesteps, minimum=1)
    if n_episodes is not None:
        n_episodes = check_int("n_episodes", n_episodes, minimum=1)
    if required and total_timesteps is None and n_episodes is None:
        raise ValueError("learn() needs a budget: total_timesteps (environment steps) and/or n_episodes")
    return total_timesteps, n_episodes


def check_uniform_vector_env(env: gym.vector.VectorEnv, agent: str) -> None:
    """Refuse a vector environment whose sub-environments differ in their spaces.

    Gymnasium builds one from sub-environments with different spaces when asked
    (``observation_mode="different"``); its batched spaces are then not ``num_envs`` copies
    of the single ones, and an agent sized by the first sub-environment would index out of
    range on the others."""
    for what, single, batched in (("observation", env.single_observation_space, env.observation_space),
                                  ("action", env.single_action_space, env.action_space)):
        if batched != batch_space(single, env.num_envs):
            raise ValueError(
                f"{agent} needs a vector environment whose {env.num_envs} sub-environments share one {what} space; "
                f"this one's {what}_space is {sp.describe(batched)}, not {env.num_envs} copies of "
                f"single_{what}_space {sp.describe(single)}: give every sub-environment the same spaces"
            )


def make_callback(callback: Callback | Sequence[Callback] | None) -> Callable[[dict[str, Any]], bool] | None:
    """Normalise ``callback`` (one callable ``f(locals_, globals_)``, as SB3 accepts, or a
    list of them) into ``f(locals_) -> keep_going``; any of them returning ``False`` stops."""
    if callback is None:
        return None
    callbacks = list(callback) if isinstance(callback, (list, tuple)) else [callback]
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callback must be a callable f(locals_, globals_) or a list of them; got {cb!r}")

    def call(locals_: dict[str, Any]) -> bool:
        keep_going = True
        for cb in callbacks:
            if cb(locals_, globals()) is False:
                keep_going = False
        return keep_going

    return call


def reset_env(env: Any, *, seed: int | None = None, rng: np.random.Generator | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """Reset one environment or a vector of them, the one way every agent does.

    ``seed`` seeds this reset and the action space (an agent's first reset); ``rng`` draws
    a fresh seed for each environment from the agent's generator (every episode repeats
    exactly); neither: an unseeded reset, which continues the environment's own generator.
    """
    if rng is not None:
        vector = isinstance(env, gym.vector.VectorEnv)
        seeds = [int(s) for s in rng.integers(2**31, size=env.num_envs if vector else 1)]
        # Sync and Async vectors take a seed per environment; other vector environments
        # (Gymnasium's own vectorised CartPole, ``gym.make_vec``'s default) take one integer
        # and derive the rest, the one form every VectorEnv accepts.
        per_env = isinstance(env, (gym.vector.SyncVectorEnv, gym.vector.AsyncVectorEnv))
        return env.reset(seed=seeds if per_env else seeds[0], options=options)
    if seed is not None:
        env.action_space.seed(seed)
        return env.reset(seed=seed, options=options)
    return env.reset(options=options)


def step_envs(env: Any, actions: np.ndarray, vector: bool, discrete: bool = True) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, Any]:
    """Step one environment or a vector of them with a batch of ``actions`` (one per
    environment) and return the same arrays either way: ``(observations, rewards (float64),
    terminated, truncated, info)``; a single environment's observation comes back in a list."""
    if vector:
        raw, rewards, terminated, truncated, info = env.step(actions)
        return (raw, np.asarray(rewards, dtype=np.float64), np.asarray(terminated, dtype=bool),
                np.asarray(truncated, dtype=bool), info)
    raw, reward, term, trunc, info = env.step(int(actions[0]) if discrete else actions[0])
    return [raw], np.array([reward], dtype=np.float64), np.array([term]), np.array([trunc]), info
