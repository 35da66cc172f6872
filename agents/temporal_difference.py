"""Temporal-difference learning (Sutton & Barto, chapter 6): TD(0) prediction, SARSA and
Q-learning. Each ``update`` is the book's boxed line; the episode loop, exploration and
persistence come from :mod:`groundup.agents.tabular`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.agents.base import check_learning_rate
from groundup.agents.policies import PolicyToEvaluate
from groundup.agents.tabular import TabularAgent, TabularControlAgent

__all__ = ["TD0Prediction", "Sarsa", "QLearning"]


class TD0Prediction(TabularAgent):
    """Tabular TD(0) for estimating V of a given policy (Sutton & Barto, section 6.1).

    Args:
        policy: the policy to evaluate (see :mod:`groundup.agents.policies`).
        learning_rate: the step size alpha (default 0.1). ``None`` uses alpha = 1/n(S),
            n the number of visits: exact averages on short episodic chains such as
            Blackjack, but slow to converge when values must propagate over many steps.
        initial_value: V's starting value.
    """

    agent_id = "td0-prediction"
    family = "temporal difference"
    is_prediction = True
    _non_json_params = ("policy",)

    def __init__(self, env: Any, policy: Any = None, *, learning_rate: float | None = 0.1, initial_value: float = 0.0,
                 gamma: float = 0.99, seed: int | None = None, verbose: int = 0, device: str = "auto") -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device)
        self.learning_rate = check_learning_rate(learning_rate, allow_none=True)
        self.initial_value = float(initial_value)
        self.evaluated_policy = PolicyToEvaluate(policy, self._indexer, self.n_actions, self._action_start, self._name())
        self.V = [self.initial_value] * self.n_states
        self.N = [0] * self.n_states

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["policy"] = self.evaluated_policy.probabilities() if not self.evaluated_policy.is_callable else self.evaluated_policy
        return params

    @property
    def value_function(self) -> np.ndarray:
        return np.array(self.V, dtype=np.float64)

    @property
    def policy(self) -> np.ndarray:
        return self.evaluated_policy.probabilities()

    def start_episode(self, S: int) -> int:
        return self.evaluated_policy.act(S, self._rng)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        V = self.V
        self.N[S] += 1
        alpha = self.learning_rate or 1.0 / self.N[S]
        target = R if terminated else R + self.gamma * V[S_next]
        V[S] += alpha * (target - V[S])
        return self.evaluated_policy.act(S_next, self._rng)

    def _greedy_action(self, S: int) -> int:
        return self.evaluated_policy.mode(S)

    def _sample_action(self, S: int) -> int:
        return self.evaluated_policy.act(S, self._rng)

    def _state_tensors(self) -> dict[str, np.ndarray]:
        return {"value_function": self.value_function, "visits": np.array(self.N, dtype=np.int64), "policy": self.policy}

    def _set_state_tensors(self, tensors: dict[str, np.ndarray]) -> None:
        self.V = tensors["value_function"].astype(np.float64).tolist()
        self.N = tensors["visits"].astype(np.int64).tolist()

    @classmethod
    def _from_file(cls, path, tensors, meta, env, agent_id, **overrides):  # type: ignore[override]
        overrides.setdefault("policy", tensors.pop("policy"))
        return super()._from_file(path, tensors, meta, env, agent_id, **overrides)


class Sarsa(TabularControlAgent):
    """SARSA: on-policy TD control (Sutton & Barto, section 6.4).

    Args:
        learning_rate: the step size alpha (default 0.1).
        (exploration and initial values: see :class:`~groundup.agents.tabular.TabularControlAgent`.)
    """

    agent_id = "sarsa"
    family = "temporal difference"

    def __init__(self, env: Any, *, learning_rate: float = 0.1, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.learning_rate = check_learning_rate(learning_rate)

    def start_episode(self, S: int) -> int:
        return self.behaviour(S)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        Q, alpha, gamma = self.Q, self.learning_rate, self.gamma
        A_next = self.behaviour(S_next)
        target = R if terminated else R + gamma * Q[S_next][A_next]
        Q[S][A] += alpha * (target - Q[S][A])
        return A_next


class QLearning(TabularControlAgent):
    """Q-learning: off-policy TD control (Sutton & Barto, section 6.5).

    Args:
        learning_rate: the step size alpha (default 0.1).
        (exploration and initial values: see :class:`~groundup.agents.tabular.TabularControlAgent`.)
    """

    agent_id = "q-learning"
    family = "temporal difference"

    def __init__(self, env: Any, *, learning_rate: float = 0.1, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.learning_rate = check_learning_rate(learning_rate)

    def start_episode(self, S: int) -> int:
        return self.behaviour(S)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        Q, alpha, gamma = self.Q, self.learning_rate, self.gamma
        target = R if terminated else R + gamma * max(Q[S_next])
        Q[S][A] += alpha * (target - Q[S][A])
        return self.behaviour(S_next)
