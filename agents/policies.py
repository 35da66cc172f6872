"""The policy a prediction agent evaluates: another agent, a probability table, or a callable.

Prediction agents (policy evaluation, MC prediction, TD(0), semi-gradient TD(0)) take
``policy=`` in any of these forms:

- an ``(n_states, n_actions)`` array of probabilities pi(a|s) (rows sum to 1), or an
  ``(n_states,)`` array of actions (a deterministic policy);
- another agent: its ``policy`` table when it has one, else its ``predict``;
- a callable from an observation (as the environment gives it) to an action.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

import numpy as np

from groundup.agents.spaces import TabularIndexer

__all__ = ["PolicyToEvaluate"]


class PolicyToEvaluate:
    """A policy in whichever form the user gave it, able to act and to tabulate itself."""

    def __init__(self, policy: Any, indexer: TabularIndexer, n_actions: int, action_start: int, owner: str) -> None:
        self.indexer = indexer
        self.n_states = indexer.n_states
        self.n_actions = n_actions
        self.action_start = action_start
        self._probs: np.ndarray | None = None
        self._callable = None
        if policy is None:
            raise TypeError(f"{owner} evaluates a policy: pass policy= as an (n_states, n_actions) probability array, "
                            f"another agent, or a callable from observation to action")
        if isinstance(policy, np.ndarray) or isinstance(policy, (list, tuple)):
            self._probs = self._check_array(np.asarray(policy), owner)
        elif hasattr(policy, "predict") and hasattr(policy, "action_space"):
            table = getattr(policy, "policy", None)
            if isinstance(table, np.ndarray) and table.shape == (self.n_states, n_actions):
                self._probs = self._check_array(table, owner)
            else:
                self._callable = lambda obs, agent=policy: agent.predict(obs, deterministic=True)[0]
        elif callable(policy):
            self._callable = policy
        else:
            raise TypeError(f"{owner}: policy must be an (n_states, n_actions) array, another agent or a callable; "
                            f"got {type(policy).__name__}")
        if self._probs is not None:
            cum = np.cumsum(self._probs, axis=1)
            cum[:, -1] = 1.0
            self._cum = cum.tolist()
            det = np.where(self._probs.max(axis=1) >= 1.0 - 1e-12, self._probs.argmax(axis=1), -1)
            self._deterministic = det.tolist()
            self._mode = self._probs.argmax(axis=1).tolist()

    def _check_array(self, arr: np.ndarray, owner: str) -> np.ndarray:
        S, A = self.n_states, self.n_actions
        if arr.ndim == 1 and arr.shape == (S,) and np.issubdtype(arr.dtype, np.integer):
            a = arr - self.action_start
            if (a < 0).any() or (a >= A).any():
                raise ValueError(f"{owner}: a policy given as actions must hold actions in "
                                 f"[{self.action_start}, {self.action_start + A}); got values {np.unique(arr)}")
            probs = np.zeros((S, A))
            probs[np.arange(S), a] = 1.0
            return probs
        if arr.shape != (S, A):
            raise ValueError(f"{owner}: policy array must have shape (n_states, n_actions) = ({S}, {A}) "
                             f"(or ({S},) actions); got shape {arr.shape}")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError(f"{owner}: policy probabilities must be finite and non-negative")
        sums = arr.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            bad = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(f"{owner}: each row of the policy must sum to 1; row {bad} sums to {sums[bad]:.6g}")
        return arr

    @property
    def is_callable(self) -> bool:
        return self._callable is not None

    def act(self, S: int, rng: random.Random) -> int:
        """An action index drawn from pi(.|S)."""
        if self._callable is not None:
            return int(self._callable(self.indexer.observation(S))) - self.action_start
        a = self._deterministic[S]
        if a >= 0:
            return a
        return min(bisect.bisect_right(self._cum[S], rng.random()), self.n_actions - 1)

    def mode(self, S: int) -> int:
        """The most probable action index in S (the callable's choice for a callable)."""
        if self._callable is not None:
            return int(self._callable(self.indexer.observation(S))) - self.action_start
        return self._mode[S]

    def probabilities(self) -> np.ndarray:
        """pi as an ``(n_states, n_actions)`` array; a callable is asked once per state
        (so it is taken to be deterministic)."""
        if self._probs is not None:
            return self._probs.copy()
        probs = np.zeros((self.n_states, self.n_actions))
        for s in range(self.n_states):
            probs[s, int(self._callable(self.indexer.observation(s))) - self.action_start] = 1.0
        return probs
