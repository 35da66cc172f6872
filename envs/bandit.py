"""The k-armed bandit testbed (Sutton & Barto, section 2.3), single and vectorised.

Each arm ``a`` has a true value ``q*(a)``. Gaussian arms (the book's testbed) draw
``q*(a) ~ N(mean_loc, mean_scale^2)`` and pay ``R ~ N(q*(a), reward_std^2)``; Bernoulli arms
draw ``q*(a) ~ U(0, 1)`` and pay 1 with probability ``q*(a)``, else 0.

The arms are drawn at the first reset, at every ``reset(seed=...)`` and on
``reset(options={"resample": True})``; a plain ``reset()`` keeps them, so a bandit problem
stays the same problem across episodes (an episode is only a horizon, ``max_episode_steps``
of ``gym.make``, 1000 by default). ``info`` reports the optimal arm, whether the action was
optimal, and its expected regret ``max q* - q*(A)``.

``BanditVecEnv`` runs many independent problems at once, fully vectorised: the book's
2,000 runs of the testbed are one environment (``gym.make_vec("groundup/Bandit-v0",
num_envs=2000, vectorization_mode="vector_entry_point")``).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from groundup.envs._render import COLOURS

DISTRIBUTIONS = ("gaussian", "bernoulli")


def _check_args(k: Any, arm_distribution: Any, mean_loc: Any, mean_scale: Any, reward_std: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (the number of arms) must be a positive integer; got {k!r}")
    if arm_distribution not in DISTRIBUTIONS:
        raise ValueError(f"arm_distribution must be one of {DISTRIBUTIONS}; got {arm_distribution!r}")
    for name, value, low in (("mean_loc", mean_loc, -math.inf), ("mean_scale", mean_scale, 0.0), ("reward_std", reward_std, 0.0)):
        if not isinstance(value, (int, float, np.floating)) or not math.isfinite(value) or value < low:
            raise ValueError(f"{name} must be a finite number{' >= 0' if low == 0 else ''}; got {value!r}")


def _draw_means(rng: np.random.Generator, shape: tuple[int, ...], dist: str, loc: float, scale: float) -> np.ndarray:
    if dist == "gaussian":
        return rng.normal(loc, scale, size=shape)
    return rng.uniform(0.0, 1.0, size=shape)


class BanditEnv(gym.Env):
    """One k-armed bandit problem with a single state (observation always 0).

    Parameters
    ----------
    k
        Number of arms (default 10).
    arm_distribution
        ``"gaussian"`` (default) or ``"bernoulli"``.
    mean_loc, mean_scale
        The Gaussian testbed's ``q*`` distribution (default 0, 1).
    reward_std
        Standard deviation of a Gaussian arm's reward (default 1).
    render_mode
        ``None``, ``"ansi"`` or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 30}

    def __init__(self, k: int = 10, arm_distribution: str = "gaussian", mean_loc: float = 0.0, mean_scale: float = 1.0,
                 reward_std: float = 1.0, render_mode: str | None = None) -> None:
        _check_args(k, arm_distribution, mean_loc, mean_scale, reward_std)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None; got {render_mode!r}")
        self.k = int(k)
        self.arm_distribution = arm_distribution
        self.mean_loc, self.mean_scale, self.reward_std = float(mean_loc), float(mean_scale), float(reward_std)
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(1)
        self.action_space = spaces.Discrete(self.k)
        self.q_star: np.ndarray | None = None
        self.last_action: int | None = None
        self.counts = np.zeros(self.k, dtype=np.int64)

    @property
    def optimal_action(self) -> int:
        """The arm with the highest mean reward (drawn at the first ``reset``)."""
        self._require_arms()
        return int(np.argmax(self.q_star))

    @property
    def P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        """The finite model, for Bernoulli arms only (Gaussian rewards are not finite)."""
        if self.arm_distribution != "bernoulli":
            raise AttributeError("P exists only for Bernoulli arms: Gaussian rewards have no finite model")
        self._require_arms()
        return {0: {a: [(float(q), 0, 1.0, False), (float(1 - q), 0, 0.0, False)] for a, q in enumerate(self.q_star)}}

    def _require_arms(self) -> None:
        if self.q_star is None:
            raise RuntimeError("the arms are drawn at the first reset(); call reset() first")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Start a run: arms are drawn at the first reset, on a new ``seed`` or with
        ``options={"resample": True}``; the observation is always 0 (one state)."""
        super().reset(seed=seed)
        options = options or {}
        if "state" in options and options["state"] != 0:
            raise ValueError(f"options['state'] must be 0, the bandit's only state; got {options['state']!r}")
        if self.q_star is None or seed is not None or options.get("resample", False):
            self.q_star = _draw_means(self.np_random, (self.k,), self.arm_distribution, self.mean_loc, self.mean_scale)
        self.last_action = None
        self.counts[:] = 0
        return 0, {"optimal_action": self.optimal_action}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Pull arm ``action``; ``info`` holds the optimal arm, whether this one was it and
        the regret (best mean minus this arm's mean). A run never terminates by itself."""
        self._require_arms()
        a = int(action)
        if not 0 <= a < self.k:
            raise ValueError(f"action must be an arm in [0, {self.k}); got {action!r}")
        q = self.q_star[a]
        if self.arm_distribution == "gaussian":
            reward = float(self.np_random.normal(q, self.reward_std))
        else:
            reward = float(self.np_random.random() < q)
        best = self.optimal_action
        self.last_action = a
        self.counts[a] += 1
        info = {"optimal_action": best, "is_optimal": a == best, "regret": float(self.q_star[best] - q)}
        return 0, reward, False, False, info

    def render(self) -> str | np.ndarray | None:
        """The arms' means and pull counts, as text (``"ansi"``) or an RGB array (``"rgb_array"``)."""
        if self.render_mode is None:
            return None
        self._require_arms()
        if self.render_mode == "ansi":
            rows = [f"arm {a:2d}  q*={q:+.3f}  pulled {n:6d}{'  <-' if a == self.last_action else ''}"
                    for a, (q, n) in enumerate(zip(self.q_star, self.counts))]
            return "\n".join(rows) + "\n"
        # a bar chart of q*, the last arm pulled highlighted
        height, bar = 64, 12
        img = np.full((height, bar * self.k, 3), 245, dtype=np.uint8)
        lo, hi = float(self.q_star.min()), float(self.q_star.max())
        span = (hi - lo) or 1.0
        for a, q in enumerate(self.q_star):
            h = int(4 + (height - 8) * (q - lo) / span)
            colour = COLOURS["agent"] if a == self.last_action else COLOURS["good"]
            img[height - h :, a * bar + 1 : (a + 1) * bar - 1] = colour
        return img


class BanditVecEnv(VectorEnv):
    """``num_envs`` independent k-armed bandits, stepped together with NumPy.

    The arms of every run are drawn at ``reset(seed=...)`` (or the first reset, or with
    ``options={"resample": True}``). Runs never terminate; they are truncated together after
    ``max_episode_steps`` steps (default 1000) and then reset in the same step, keeping their
    arms (``metadata["autoreset_mode"]`` is SAME_STEP). ``infos`` holds arrays:
    ``optimal_action``, ``is_optimal``, ``regret``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 1, k: int = 10, arm_distribution: str = "gaussian", mean_loc: float = 0.0,
                 mean_scale: float = 1.0, reward_std: float = 1.0, max_episode_steps: int | None = 1000,
                 render_mode: str | None = None, **kwargs: Any) -> None:
        _check_args(k, arm_distribution, mean_loc, mean_scale, reward_std)
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer; got {num_envs!r}")
        if render_mode is not None:
            raise ValueError("BanditVecEnv does not render; use the single BanditEnv to render")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, (int, np.integer)) or max_episode_steps < 1):
            raise ValueError(f"max_episode_steps must be None or a positive integer; got {max_episode_steps!r}")
        self.num_envs = int(num_envs)
        self.k = int(k)
        self.arm_distribution = arm_distribution
        self.mean_loc, self.mean_scale, self.reward_std = float(mean_loc), float(mean_scale), float(reward_std)
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = spaces.Discrete(1)
        self.single_action_space = spaces.Discrete(self.k)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self.q_star: np.ndarray | None = None
        self._elapsed = 0
        self._rows = np.arange(self.num_envs)

    @property
    def optimal_action(self) -> np.ndarray:
        """The best arm of every run, shape ``(num_envs,)``."""
        if self.q_star is None:
            raise RuntimeError("the arms are drawn at the first reset(); call reset() first")
        return self.q_star.argmax(axis=1)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start all runs: each row draws its own arms (at the first reset, on a new
        ``seed``, or with ``options={"resample": True}``)."""
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
        options = options or {}
        if self.q_star is None or seed is not None or options.get("resample", False):
            self.q_star = _draw_means(self.np_random, (self.num_envs, self.k), self.arm_distribution, self.mean_loc, self.mean_scale)
        self._elapsed = 0
        return np.zeros(self.num_envs, dtype=np.int64), {"optimal_action": self.optimal_action}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Pull one arm in every run (``actions`` of shape ``(num_envs,)``); returns rewards,
        and ``info`` with the optimal arms and each run's regret."""
        if self.q_star is None:
            raise RuntimeError("the arms are drawn at the first reset(); call reset() first")
        A = np.asarray(actions)
        if A.shape != (self.num_envs,) or not np.issubdtype(A.dtype, np.integer) or A.min() < 0 or A.max() >= self.k:
            raise ValueError(f"actions must be {self.num_envs} integer arms in [0, {self.k}); got shape {A.shape}, dtype {A.dtype}")
        q = self.q_star[self._rows, A]
        if self.arm_distribution == "gaussian":
            rewards = q + self.reward_std * self.np_random.standard_normal(self.num_envs)
        else:
            rewards = (self.np_random.random(self.num_envs) < q).astype(np.float64)
        best = self.optimal_action
        infos = {"optimal_action": best, "is_optimal": A == best, "regret": self.q_star[self._rows, best] - q}
        self._elapsed += 1
        truncated = self.max_episode_steps is not None and self._elapsed >= self.max_episode_steps
        if truncated:
            self._elapsed = 0
        obs = np.zeros(self.num_envs, dtype=np.int64)
        return obs, rewards, np.zeros(self.num_envs, dtype=bool), np.full(self.num_envs, truncated), infos
