"""Temporal-difference learning (Sutton & Barto, chapter 6): TD(0) prediction, SARSA and
Q-learning. Each ``update`` is the book's boxed line; the episode loop, exploration and
persistence come from :mod:`groundup.agents.tabular`.
"""

from __future__ import annotations

from typing import Any

from groundup.agents.base import check_initial_value
from groundup.agents.tabular import PairStepSizes, TabularControlAgent, TabularPredictionAgent

__all__ = ["TD0Prediction", "Sarsa", "QLearning"]


class TD0Prediction(TabularPredictionAgent):
    """Tabular TD(0) for estimating V of a given policy (Sutton & Barto, section 6.1).

    Parameters
    ----------
    policy
        The policy to evaluate (see :mod:`groundup.agents.policies`).
    learning_rate
        ``None`` (default) gives visit-count step sizes, alpha = 1/n(S)^0.7
        (the exponent is ``learning_rate_exponent``), n(S) the number of TD updates of S
        so far, this one included; a number gives a constant alpha. The first update of
        a state takes its target whole, so no step size has to fit the scale of the
        task, and the steps shrink slowly enough (slower than sample averages, 1/n) for
        values to keep propagating back along long chains.
    learning_rate_exponent
        Omega in (0.5, 1] (default 0.7); 1 gives sample averages,
        exact on short episodic chains such as Blackjack.
    initial_value
        V's starting value.
    """

    agent_id = "td0-prediction"
    family = "temporal difference"

    def __init__(self, env: Any, policy: Any = None, *, learning_rate: float | None = None,
                 learning_rate_exponent: float = 0.7, initial_value: float = 0.0, gamma: float = 0.99,
                 seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, policy, learning_rate=learning_rate, learning_rate_exponent=learning_rate_exponent,
                         gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.initial_value = check_initial_value(initial_value)
        self.V = [self.initial_value] * self.n_states

    def start_episode(self, S: int) -> int:
        return self.evaluated_policy.act(S, self._rng)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        self.count_visit(S)
        V, alpha = self.V, self.step_size(S)
        target = R if terminated else R + self.gamma * V[S_next]
        V[S] += alpha * (target - V[S])
        return self.evaluated_policy.act(S_next, self._rng)


class _TDControl(PairStepSizes, TabularControlAgent):
    """SARSA and Q-learning share their arguments and their first action.

    Parameters
    ----------
    learning_rate
        The step size alpha at the start of each ``learn`` call (default 0.5).
    learning_rate_final
        The step size at the end of each ``learn`` budget (default 0.01): alpha falls
        linearly from ``learning_rate`` to it as the budget is used, as epsilon falls.
        Large early steps carry values back along long paths and wash the optimistic
        start out quickly; small late steps average the noise of stochastic transitions
        out of Q, so that the greedy policy settles on the best action where two are
        close. Any constant step is a trade between the two, and which side loses depends
        on the task. ``None`` keeps alpha at ``learning_rate`` (pass it, with
        ``learning_rate=0.1`` or 0.5, for the book's constant step).
        ``learning_rate=None`` gives visit-count steps instead,
        alpha = 1/n(S, A)^learning_rate_exponent, n(S, A) the updates of the pair so far.
    learning_rate_exponent
        omega in (0.5, 1] for ``learning_rate=None`` (default 0.8).
    initial_value
        Q's starting value for every pair (default 1.0, optimistic): every
        untried action looks better than the tried ones until it has been tried, so even
        the greedy choices try every action of every state they reach, where the epsilon
        schedule alone can leave whole regions of a large map unexplored. 1.0 is
        optimistic on tasks whose returns are at most 1 (success rates) or negative
        (costs); pass 0.0 for the book's settings.
        (exploration: see :class:`~groundup.agents.tabular.TabularControlAgent`; by default
        epsilon decays from 1 to 0.05, SARSA's to 0.01, over the first half of each ``learn`` budget.)
    """

    family = "temporal difference"
    search_space = {"learning_rate": ("log_uniform", 0.01, 1.0), **TabularControlAgent.search_space}
    _params_added = {"learning_rate_final": None}  # before learning_rate_final, alpha stayed constant

    def __init__(self, env: Any, *, learning_rate: float | None = 0.5, learning_rate_final: float | None = 0.01,
                 learning_rate_exponent: float = 0.8, initial_value: float = 1.0, **kwargs: Any) -> None:
        super().__init__(env, initial_value=initial_value, **kwargs)
        self._init_step_sizes(learning_rate, learning_rate_exponent, learning_rate_final)

    def start_episode(self, S: int) -> int:
        return self.behaviour(S)


class Sarsa(_TDControl):
    """SARSA: on-policy TD control (Sutton & Barto, section 6.4); see :class:`_TDControl`.

    Parameters
    ----------
    exploration_final_eps
        The exploration rate the schedule ends at (default 0.01, where Q-learning's is
        0.05). SARSA learns the values of the epsilon-greedy policy it follows, so its
        greedy policy is the best one only as epsilon goes to 0: on a slippery map
        with a path along holes, a final rate of 0.05 makes it learn the detour that
        is best for a policy that still takes a random action one step in twenty.
    """

    agent_id = "sarsa"

    def __init__(self, env: Any, *, exploration_final_eps: float = 0.01, **kwargs: Any) -> None:
        super().__init__(env, exploration_final_eps=exploration_final_eps, **kwargs)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        Q, alpha, gamma = self.Q, self.step_size(S, A), self.gamma
        A_next = self.behaviour(S_next)
        target = R if terminated else R + gamma * Q[S_next][A_next]
        Q[S][A] += alpha * (target - Q[S][A])
        return A_next


class QLearning(_TDControl):
    """Q-learning: off-policy TD control (Sutton & Barto, section 6.5); see :class:`_TDControl`."""

    agent_id = "q-learning"

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        Q, alpha, gamma = self.Q, self.step_size(S, A), self.gamma
        target = R if terminated else R + gamma * max(Q[S_next])
        Q[S][A] += alpha * (target - Q[S][A])
        return self.behaviour(S_next)
