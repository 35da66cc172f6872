"""Exploration, written once: epsilon schedules, greedy choice with random tie-breaking, and
epsilon-greedy choice over a Q row; and the one linear schedule over a ``learn`` budget
that epsilon, the tabular step size alpha and the deep agents' learning rate all follow.

Names follow Stable-Baselines3 (``exploration_initial_eps``, ``exploration_final_eps``,
``exploration_fraction``); ``epsilon`` is Sutton & Barto's constant shortcut.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.validation import check_probability

__all__ = ["linear_schedule", "EpsilonSchedule", "EpsilonGreedyExploration", "greedy", "argmax_random_ties", "argmax_first", "epsilon_greedy"]


def linear_schedule(start: float, end: float, progress: float, fraction: float = 1.0) -> float:
    """The value after ``progress`` (0 to 1) of a budget: linear from ``start`` to ``end``
    over the first ``fraction`` of it, then ``end``."""
    if progress >= fraction:
        return end
    return start + (end - start) * progress / fraction


class EpsilonSchedule:
    """Epsilon decays linearly from ``initial`` to ``final`` over the first ``fraction`` of
    the training budget, then stays at ``final``. ``epsilon`` (when not None) fixes it."""

    def __init__(self, epsilon: float | None, initial: float, final: float, fraction: float) -> None:
        if epsilon is not None:
            epsilon = check_probability("epsilon", epsilon)
            initial = final = epsilon
        self.initial = check_probability("exploration_initial_eps", initial)
        self.final = check_probability("exploration_final_eps", final)
        self.fraction = check_probability("exploration_fraction", fraction)
        self.constant = self.initial == self.final or self.fraction == 0.0

    def value(self, progress: float) -> float:
        """Epsilon after ``progress`` (0 to 1) of the budget."""
        return self.final if self.constant else linear_schedule(self.initial, self.final, progress, self.fraction)


class EpsilonGreedyExploration:
    """The epsilon schedule of an agent that behaves epsilon-greedily (the tabular and linear
    control agents), written once: its arguments, ``epsilon_`` (the current rate, reset at
    the start of each ``learn`` and moved as the budget is used), and its place in saved files.

    Mixed in before the agent's base class, so that the hooks below run around the base's.
    """

    epsilon_: float

    def _init_exploration(self, epsilon: float | None, exploration_initial_eps: float,
                          exploration_final_eps: float, exploration_fraction: float) -> None:
        self.epsilon = epsilon
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.exploration_fraction = exploration_fraction
        self._schedule = EpsilonSchedule(epsilon, exploration_initial_eps, exploration_final_eps, exploration_fraction)
        self.epsilon_ = self._schedule.value(0.0)
        # a constant rate needs no progress reports from the episode loop
        self._uses_progress = not self._schedule.constant

    def _on_learn_start(self, total_timesteps: int | None, n_episodes: int | None) -> None:
        super()._on_learn_start(total_timesteps, n_episodes)  # type: ignore[misc]
        self.epsilon_ = self._schedule.value(0.0)

    def _on_progress(self, progress: float) -> None:
        self.epsilon_ = self._schedule.value(progress)

    def _telemetry_scalars(self) -> dict[str, float | None]:
        values = super()._telemetry_scalars()  # type: ignore[misc]
        values["rollout/exploration_rate"] = self.epsilon_
        return values

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()  # type: ignore[misc]
        metadata["epsilon_"] = self.epsilon_
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)  # type: ignore[misc]
        self.epsilon_ = float(metadata.get("epsilon_", self.epsilon_))


def greedy(row: Sequence[float] | np.ndarray, rng: random.Random) -> int:
    """argmax_a Q(S, a) with ties broken uniformly at random, as Sutton & Barto do (a list,
    as the tabular agents keep Q, or a NumPy row, as the linear agents compute q̂)."""
    if isinstance(row, np.ndarray):
        row = row.tolist()
    best = max(row)
    if row.count(best) == 1:  # type: ignore[attr-defined]
        return row.index(best)  # type: ignore[attr-defined]
    return rng.choice([a for a, q in enumerate(row) if q == best])


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of a 2-d array, ties broken uniformly at random: :func:`greedy` for
    many rows at once (the bandits' runs), drawing one uniform number per entry."""
    ties = values == values.max(axis=1, keepdims=True)
    return (ties * rng.random(values.shape)).argmax(axis=1)


def argmax_first(row: Sequence[float]) -> int:
    """argmax with ties going to the lowest action: deterministic, for ``predict``."""
    return row.index(max(row))  # type: ignore[attr-defined]


def epsilon_greedy(row: Sequence[float], epsilon: float, rng: random.Random) -> int:
    """With probability epsilon a uniformly random action, else a greedy one."""
    if rng.random() < epsilon:
        return rng.randrange(len(row))
    return greedy(row, rng)
