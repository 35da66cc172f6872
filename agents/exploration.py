"""Exploration, written once: epsilon schedules and epsilon-greedy choice over a Q row.

Names follow Stable-Baselines3 (``exploration_initial_eps``, ``exploration_final_eps``,
``exploration_fraction``); ``epsilon`` is Sutton & Barto's constant shortcut.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from groundup.agents.base import check_probability

__all__ = ["EpsilonSchedule", "greedy", "argmax_first", "epsilon_greedy"]


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
        if self.constant or progress >= self.fraction:
            return self.final
        return self.initial + (self.final - self.initial) * progress / self.fraction


def greedy(row: Sequence[float], rng: random.Random) -> int:
    """argmax_a Q(S, a) with ties broken at random, as Sutton & Barto do."""
    best = max(row)
    if row.count(best) == 1:  # type: ignore[attr-defined]
        return row.index(best)  # type: ignore[attr-defined]
    return rng.choice([a for a, q in enumerate(row) if q == best])


def argmax_first(row: Sequence[float]) -> int:
    """argmax with ties going to the lowest action: deterministic, for ``predict``."""
    return row.index(max(row))  # type: ignore[attr-defined]


def epsilon_greedy(row: Sequence[float], epsilon: float, rng: random.Random) -> int:
    """With probability epsilon a uniformly random action, else a greedy one."""
    if rng.random() < epsilon:
        return rng.randrange(len(row))
    return greedy(row, rng)
