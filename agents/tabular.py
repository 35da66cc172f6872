"""The shared machinery of the tabular agents: state indexing, the Q table, ``predict``,
the epsilon schedule, and the persistence of tables.

Each algorithm (Monte Carlo, TD) only writes what the book's box says:
``start_episode(S) -> A`` (the first action), ``update(S, A, R, S_next, terminated) -> A_next``
(one step's learning, returning the next action) and, for Monte Carlo, ``end_episode()``.
The loop that calls them is :class:`~groundup.agents.stepwise.StepwiseAgent`'s, shared with
the linear agents and the bandits; it keeps the counters, the progress bar and the callback,
so that no algorithm repeats them.

Q is kept as a list of rows (``Q[S][A]``) while learning: with a handful of actions,
Python's ``max`` over a short list is several times faster than a NumPy call, which keeps
``learn()`` as fast as a loop that only steps the environment. ``q_table``,
``value_function`` and ``policy`` give NumPy arrays.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from groundup.agents.base import Agent, check_initial_value, check_learning_rate_exponent, visit_count_step
from groundup.agents.exploration import EpsilonGreedyExploration, argmax_first, epsilon_greedy, linear_schedule
from groundup.agents.policies import PolicyToEvaluate
from groundup.agents.spaces import TabularIndexer
from groundup.agents.stepwise import StepwiseAgent
from groundup.validation import check_learning_rate

__all__ = ["TabularBase", "TabularAgent", "TabularControlAgent", "TabularPredictionAgent"]


class TabularBase(Agent):
    """Base of every agent with tables indexed by state (Discrete or Tuple-of-Discrete
    spaces): the indexing, ``predict`` and the random generator; no learning loop (dynamic
    programming sweeps a model instead)."""

    observation_spaces = ("Discrete", "Tuple[Discrete]")
    action_spaces = ("Discrete",)

    def __init__(self, env: Any, *, gamma: float = 0.99, seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self._indexer = TabularIndexer(self.observation_space)
        self.n_states = self._indexer.n_states
        self.n_actions = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self._rng = random.Random(self.seed)

    # -- prediction ------------------------------------------------------------------------
    def _greedy_action(self, S: int) -> int:
        raise NotImplementedError

    def _sample_action(self, S: int) -> int:
        """The behaviour policy's choice, for ``predict(..., deterministic=False)``."""
        return self._greedy_action(S)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The greedy action for one observation or a batch (SB3's VecEnv convention).

        ``deterministic=False`` samples from the behaviour policy instead (epsilon-greedy
        for control agents). Returns ``(action, None)``.
        """
        idx, batched = self._indexer.batch(observation)
        choose = self._greedy_action if deterministic else self._sample_action
        actions = np.array([choose(int(s)) for s in idx], dtype=np.int64) + self._action_start
        return (actions if batched else actions[0]), None


class TabularAgent(StepwiseAgent, TabularBase):
    """Base of the tabular agents that learn from experience, step by step, through the
    loop of :class:`~groundup.agents.stepwise.StepwiseAgent`: S is the state's index."""

    def __init__(self, env: Any, *, gamma: float = 0.99, seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.Q: list[list[float]] = [[0.0] * self.n_actions for _ in range(self.n_states)]

    # -- arrays for users -----------------------------------------------------------------
    @property
    def q_table(self) -> np.ndarray:
        """Q(s, a) as an ``(n_states, n_actions)`` array (a copy)."""
        return np.array(self.Q, dtype=np.float64).reshape(self.n_states, self.n_actions)

    @q_table.setter
    def q_table(self, value: np.ndarray) -> None:
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (self.n_states, self.n_actions):
            raise ValueError(f"q_table must have shape ({self.n_states}, {self.n_actions}); got {arr.shape}")
        self.Q = arr.tolist()

    @property
    def value_function(self) -> np.ndarray:
        """V(s) = max_a Q(s, a), shape ``(n_states,)``."""
        return self.q_table.max(axis=1)

    @property
    def policy(self) -> np.ndarray:
        """The greedy (target) policy as ``(n_states, n_actions)`` probabilities; ties go to
        the lowest action, as in ``predict``."""
        pi = np.zeros((self.n_states, self.n_actions))
        pi[np.arange(self.n_states), self.q_table.argmax(axis=1)] = 1.0
        return pi

    def _observer(self) -> Any:
        return self._indexer.index

    def _greedy_action(self, S: int) -> int:
        return argmax_first(self.Q[S])

    # -- persistence -----------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors["q_table"] = self.q_table
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        self.q_table = tensors["q_table"]


class TabularControlAgent(EpsilonGreedyExploration, TabularAgent):
    """A tabular control agent that behaves epsilon-greedily with respect to Q.

    Parameters
    ----------
    env, gamma, seed, verbose, device
        As every agent takes them (:class:`~groundup.agents.base.Agent`).
    epsilon
        ``None`` (default) follows the schedule below; a number is a constant
        exploration rate (0.1 is the book's).
    exploration_initial_eps, exploration_final_eps, exploration_fraction
        With
        ``epsilon=None``, epsilon decays linearly from the initial value (default 1.0)
        to the final one (default 0.05) over that fraction (default 0.5) of each
        ``learn`` call's budget (steps, or episodes when only ``n_episodes`` is given),
        then stays at the final value. Exploring everything early and little late
        suits any budget a user gives, where a constant rate that fits one task (0.1)
        leaves a larger map barely explored and a smaller one paying for exploration
        to the end.
    initial_value
        Q's starting value for every pair (default 0; SARSA and Q-learning
        start optimistic, see :class:`~groundup.agents.temporal_difference.QLearning`).
    """

    search_space = {"epsilon": ("uniform", 0.01, 0.3)}

    def __init__(self, env: Any, *, epsilon: float | None = None, exploration_initial_eps: float = 1.0,
                 exploration_final_eps: float = 0.05, exploration_fraction: float = 0.5, initial_value: float = 0.0,
                 gamma: float = 0.99, seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self._init_exploration(epsilon, exploration_initial_eps, exploration_final_eps, exploration_fraction)
        self.initial_value = check_initial_value(initial_value)
        self.Q = [[self.initial_value] * self.n_actions for _ in range(self.n_states)]

    def behaviour(self, S: int) -> int:
        """The epsilon-greedy behaviour policy b(S)."""
        return epsilon_greedy(self.Q[S], self.epsilon_, self._rng)

    def _sample_action(self, S: int) -> int:
        return self.behaviour(S)


class PairStepSizes:
    """The step size alpha of a control agent's update of Q(S, A).

    Three forms, one argument each: a constant ``learning_rate`` (the book's);
    ``learning_rate`` falling linearly to ``learning_rate_final`` over each ``learn``
    budget, as epsilon falls; or, with ``learning_rate=None``, the visit-count step
    1/n(S, A)^omega (omega the ``learning_rate_exponent``, n(S, A) the updates of the pair
    so far, this one included). The counts are saved with the agent; ``alpha_`` is the
    current constant or scheduled step.
    """

    alpha_: float | None

    def _init_step_sizes(self, learning_rate: float | None, learning_rate_exponent: float,
                         learning_rate_final: float | None = None) -> None:
        self.learning_rate = check_learning_rate(learning_rate, allow_none=True,
                                                 none_means="alpha = 1/n^learning_rate_exponent, n the updates of (S, A)")
        self.learning_rate_exponent = check_learning_rate_exponent(learning_rate_exponent)
        self.learning_rate_final = check_learning_rate(learning_rate_final, name="learning_rate_final", allow_none=True,
                                                       none_means="alpha stays at learning_rate")
        if self.learning_rate is not None and self.learning_rate_final is not None \
                and self.learning_rate_final > self.learning_rate:
            raise ValueError(f"learning_rate_final ({self.learning_rate_final}) is larger than learning_rate "
                             f"({self.learning_rate}), so alpha would grow over the budget; pass a smaller "
                             "learning_rate_final, or learning_rate_final=None for a constant alpha")
        self.N = [[0] * self.n_actions for _ in range(self.n_states)]
        self.alpha_ = self.learning_rate
        self._alpha_decays = self.learning_rate is not None and self.learning_rate_final is not None \
            and self.learning_rate_final != self.learning_rate
        self._uses_progress = self._uses_progress or self._alpha_decays

    def step_size(self, S: int, A: int) -> float:
        """Count one more update of (S, A) and return its alpha."""
        self.N[S][A] += 1
        if self.alpha_ is not None:
            return self.alpha_
        return visit_count_step(self.N[S][A], self.learning_rate_exponent)

    def _on_learn_start(self, total_timesteps: int | None, n_episodes: int | None) -> None:
        super()._on_learn_start(total_timesteps, n_episodes)  # type: ignore[misc]
        self.alpha_ = self.learning_rate

    def _on_progress(self, progress: float) -> None:
        super()._on_progress(progress)  # type: ignore[misc]
        if self._alpha_decays:
            self.alpha_ = linear_schedule(self.learning_rate, self.learning_rate_final, progress)

    def _telemetry_scalars(self) -> dict[str, float | None]:
        values = super()._telemetry_scalars()  # type: ignore[misc]
        values["train/learning_rate"] = self.alpha_
        return values

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()  # type: ignore[misc]
        tensors["visits"] = np.array(self.N, dtype=np.int64).reshape(self.n_states, self.n_actions)
        if self._alpha_decays:  # a constant or visit-count alpha is all in the parameters
            metadata["alpha_"] = self.alpha_
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)  # type: ignore[misc]
        if "visits" in tensors:  # files from before the counts were kept start counting afresh
            self.N = tensors["visits"].astype(np.int64).tolist()
        self.alpha_ = metadata.get("alpha_", self.learning_rate)


class TabularPredictionAgent(TabularAgent):
    """A tabular agent that estimates V of a given policy (Monte Carlo or TD prediction).

    Args (besides :class:`~groundup.agents.base.Agent`'s):
        policy: the policy to evaluate (see :mod:`groundup.agents.policies`).
        learning_rate: the step size alpha; ``None`` gives visit-count step sizes,
            alpha = 1/n(S)^learning_rate_exponent, n(S) the number of updates of S so far
            (this one included).
        learning_rate_exponent: omega in (0.5, 1] for ``learning_rate=None``; 1 gives
            sample averages (each agent sets its default).
    """

    is_prediction = True
    # before learning_rate_exponent, learning_rate=None meant sample averages, alpha = 1/n
    _params_added = {"learning_rate_exponent": 1.0}
    _non_json_params = ("policy",)

    def __init__(self, env: Any, policy: Any = None, *, learning_rate: float | None = None,
                 learning_rate_exponent: float = 1.0, gamma: float = 0.99, seed: int | None = None, verbose: int = 0,
                 device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.learning_rate = check_learning_rate(learning_rate, allow_none=True,
                                                 none_means="alpha = 1/n^learning_rate_exponent, n the visits")
        self.learning_rate_exponent = check_learning_rate_exponent(learning_rate_exponent)
        self.evaluated_policy = PolicyToEvaluate(policy, self._indexer, self.n_actions, self._action_start, self._name())
        self.V = [0.0] * self.n_states
        self.N = [0] * self.n_states

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["policy"] = self.evaluated_policy
        return params

    @property
    def value_function(self) -> np.ndarray:
        """The estimate of V, shape ``(n_states,)``."""
        return np.array(self.V, dtype=np.float64)

    @property
    def policy(self) -> np.ndarray:
        """The evaluated policy as ``(n_states, n_actions)`` probabilities."""
        return self.evaluated_policy.probabilities()

    def count_visit(self, S: int) -> None:
        """N(S) += 1: one more visit of S (visit-count step sizes need the count)."""
        self.N[S] += 1

    def step_size(self, S: int) -> float:
        """alpha for S: the constant ``learning_rate``, or 1/N(S)^omega (omega the
        ``learning_rate_exponent``; count the visit first with :meth:`count_visit`). Only a
        query: it changes nothing."""
        if self.learning_rate is not None:
            return self.learning_rate
        return visit_count_step(self.N[S], self.learning_rate_exponent)

    def _greedy_action(self, S: int) -> int:
        return self.evaluated_policy.mode(S)

    def _sample_action(self, S: int) -> int:
        return self.evaluated_policy.act(S, self._rng)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        # the prediction agents learn V, not Q: their state replaces the table's
        return {"value_function": self.value_function, "visits": np.array(self.N, dtype=np.int64), "policy": self.policy}, {}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self.V = tensors["value_function"].astype(np.float64).tolist()
        self.N = tensors["visits"].astype(np.int64).tolist()

    @classmethod
    def _from_file(cls, path, tensors, meta, env, agent_id, **overrides):  # type: ignore[override]
        # the evaluated policy is saved as its table (a callable is asked once per state)
        overrides.setdefault("policy", tensors.pop("policy"))
        return super()._from_file(path, tensors, meta, env, agent_id, **overrides)
