"""Multi-armed bandits (Sutton & Barto, chapter 2): epsilon-greedy, optimistic initial
values, UCB1 and Thompson sampling.

A bandit has one state, so these agents need ``Discrete(1)`` observations
(``groundup/Bandit-v0``). They also take a vector environment of many independent runs
(``gym.make_vec("groundup/Bandit-v0", num_envs=2000, vectorization_mode="vector_entry_point")``)
and then keep one row of estimates per run: every array below is ``(n_runs, k)``, and one
``update`` is one NumPy expression for all runs, which is how the book's 2,000-run
testbed runs in seconds. The loop is the one every step-by-step learner shares
(:class:`~groundup.agents.stepwise.StepwiseAgent`); a bandit has one state, so it chooses
each pull afresh in ``act`` (``select``) and ``update`` returns no next action.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from groundup.agents import spaces as sp
from groundup.agents.base import check_initial_value
from groundup.agents.environment import Callback, step_envs
from groundup.agents.exploration import argmax_random_ties
from groundup.agents.stepwise import StepwiseAgent
from groundup.validation import check_choice, check_learning_rate, check_positive, check_probability

__all__ = ["EpsilonGreedyBandit", "OptimisticInitialValues", "UCB1", "ThompsonSampling"]


class _Bandit(StepwiseAgent):
    """The estimates and persistence shared by the bandit agents; the loop is
    :class:`~groundup.agents.stepwise.StepwiseAgent`'s, every hook taking arrays over runs.

    Parameters
    ----------
    learning_rate
        None (default) for sample averages ``Q += (R - Q) / N``; a number
        alpha for a constant step size (for nonstationary problems).
    initial_value
        The estimates' starting value Q_1.
    """

    family = "bandits"
    observation_spaces = ("Discrete",)
    action_spaces = ("Discrete",)
    supports_vector_env = True
    _batched = True

    def __init__(self, env: Any, *, learning_rate: float | None = None, initial_value: float = 0.0, gamma: float = 0.99,
                 seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.learning_rate = check_learning_rate(learning_rate, allow_none=True)
        self.initial_value = check_initial_value(initial_value)
        self.k = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self._runs = np.arange(self.n_envs)
        self._np_rng = np.random.default_rng(self.seed)
        self.Q = np.full((self.n_envs, self.k), self.initial_value)
        self.N = np.zeros((self.n_envs, self.k), dtype=np.int64)
        self.t = 0

    def _check_spaces(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        super()._check_spaces(observation_space, action_space)
        if observation_space.n != 1:
            raise TypeError(
                f"{self._name()} is a bandit agent: it needs a single-state environment, observation space Discrete(1) "
                f"such as groundup/Bandit-v0; got {sp.describe(observation_space)}. Use a tabular agent such as 'q-learning'"
            )

    # -- the algorithm's part: the hooks of the shared loop -----------------------------------
    def select(self) -> np.ndarray:
        """The arm each run pulls now, shape (n_runs,)."""
        raise NotImplementedError

    def start_episode(self, S: Any) -> None:
        return None  # every pull is chosen afresh, by act()

    def act(self, S: Any) -> np.ndarray:
        return self.select()

    def update(self, S: Any, A: np.ndarray, R: np.ndarray, S_next: Any, terminated: Any) -> None:
        """``Q(A) += alpha (R - Q(A))`` with alpha = 1/N(A) for sample averages (section 2.4)."""
        runs = self._runs
        self.N[runs, A] += 1
        alpha = 1.0 / self.N[runs, A] if self.learning_rate is None else self.learning_rate
        self.Q[runs, A] += alpha * (R - self.Q[runs, A])
        self.t += 1

    def _stepper(self, env: Any) -> Any:
        vector, a0 = isinstance(env, gym.vector.VectorEnv), self._action_start
        step = lambda A: step_envs(env, A + a0, vector)  # noqa: E731
        if self._telemetry is None:
            return step
        # with logs, the pulls between two log points are summed (a bandit's episodes end only
        # at the horizon, so the rolling episode means alone would show no learning curve)
        self._pulls = np.zeros(3)  # reward sum, regret sum, pulls

        def step_and_count(A: np.ndarray) -> tuple:
            out = step(A)
            self._pulls[0] += out[1].sum()
            regret = out[4].get("regret") if isinstance(out[4], dict) else None
            self._pulls[1] += np.nan if regret is None else np.sum(regret)
            self._pulls[2] += len(out[1])
            return out

        return step_and_count

    def _telemetry_scalars(self) -> dict[str, float | None]:
        """Besides the learning rate: ``rollout/reward_mean`` and ``rollout/regret_mean``,
        the mean reward and expected regret per pull since the last log point (Sutton &
        Barto's Figure 2.2 curves), and ``rollout/exploration_rate`` for epsilon-greedy."""
        values = super()._telemetry_scalars()
        pulls = getattr(self, "_pulls", None)
        if pulls is not None and pulls[2] > 0:
            values["rollout/reward_mean"] = pulls[0] / pulls[2]
            values["rollout/regret_mean"] = None if np.isnan(pulls[1]) else pulls[1] / pulls[2]
            pulls[:] = 0.0
        if hasattr(self, "epsilon"):
            values["rollout/exploration_rate"] = self.epsilon
        return values

    def learn(self, total_timesteps: int | None = None, *, n_episodes: int | None = None, callback: Callback | None = None,
              progress_bar: bool = False, tb_log_name: str | None = None) -> "_Bandit":
        """Pull arms for ``total_timesteps`` pulls in all (SB3 counts every run's steps, so
        2,000 runs x 1,000 steps is ``total_timesteps=2_000_000``) or ``n_episodes``
        episodes. ``callback(locals_, globals_)`` runs after every step with ``A``, ``R``
        and ``info`` (arrays over runs) and ``it`` (the pulls of each run) in ``locals_``;
        returning False stops."""
        return super().learn(total_timesteps, n_episodes=n_episodes, callback=callback, progress_bar=progress_bar,
                             tb_log_name=tb_log_name)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The arm with the highest estimate (lowest index on ties), per run when the
        observation is a batch of ``n_runs``; ``deterministic=False`` uses the agent's own
        exploring choice."""
        obs = np.asarray(observation)
        batched = obs.ndim > 0
        m = obs.size if batched else 1
        if np.any(obs != 0):
            raise ValueError(f"a bandit's observation is always 0; got {observation!r}")
        actions = self.Q.argmax(axis=1) if deterministic else self.select()
        if m == self.n_envs:
            out = actions
        elif self.n_envs == 1:
            out = np.repeat(actions, m)
        else:
            raise ValueError(f"this agent holds {self.n_envs} runs; predict takes 1 or {self.n_envs} observations, got {m}")
        out = out.astype(np.int64) + self._action_start
        return (out if batched else out[0]), None

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors.update(Q=self.Q, N=self.N, t=np.array([self.t], dtype=np.int64))
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        Q, N = tensors["Q"], tensors["N"]
        if Q.shape != (self.n_envs, self.k) or N.shape != Q.shape:
            raise ValueError(f"Q/N shapes {Q.shape}/{N.shape} do not fit {self.n_envs} runs of {self.k} arms")
        self.Q, self.N, self.t = Q.astype(np.float64), N.astype(np.int64), int(tensors["t"][0])


class EpsilonGreedyBandit(_Bandit):
    """Epsilon-greedy action values (section 2.2): explore a random arm with probability
    epsilon, else pull a greedy one.

    Parameters
    ----------
    epsilon
        Exploration probability (default 0.1).

    Other Parameters
    ----------------
    learning_rate, initial_value : float or None
        See the bandit base (sample averages from 0 by default).
    """

    agent_id = "epsilon-greedy"
    search_space = {"epsilon": ("uniform", 0.0, 0.3), "learning_rate": ("categorical", [None, 0.03, 0.1, 0.3])}

    def __init__(self, env: Any, *, epsilon: float = 0.1, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.epsilon = check_probability("epsilon", epsilon)

    def select(self) -> np.ndarray:
        rng, n = self._np_rng, self.n_envs
        explore = rng.random(n) < self.epsilon
        return np.where(explore, rng.integers(self.k, size=n), argmax_random_ties(self.Q, rng))


class OptimisticInitialValues(EpsilonGreedyBandit):
    """Greedy with optimistic initial values (section 2.6): Q_1 = 5 makes every arm look
    good until tried, which drives early exploration without randomness.

    Parameters
    ----------
    initial_value
        The optimistic Q_1 (default 5.0).
    learning_rate
        Constant step size (default 0.1, as in the book's Figure 2.3).
    epsilon
        Exploration probability (default 0: purely greedy).
    """

    agent_id = "optimistic-initial-values"
    search_space = {"initial_value": ("uniform", 1.0, 10.0), "learning_rate": ("log_uniform", 0.01, 0.5),
                    "epsilon": ("uniform", 0.0, 0.1)}

    def __init__(self, env: Any, *, initial_value: float = 5.0, learning_rate: float | None = 0.1, epsilon: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(env, initial_value=initial_value, learning_rate=learning_rate, epsilon=epsilon, **kwargs)


class UCB1(_Bandit):
    """Upper-confidence-bound action selection (section 2.7):
    ``A = argmax_a [Q(a) + c sqrt(ln t / N(a))]``, untried arms first.

    Parameters
    ----------
    c
        The exploration weight (default 2, as in the book's Figure 2.4; UCB1 proper is
        sqrt(2)).

    Other Parameters
    ----------------
    learning_rate, initial_value : float or None
        See the bandit base.
    """

    agent_id = "ucb1"
    search_space = {"c": ("log_uniform", 0.1, 5.0)}

    def __init__(self, env: Any, *, c: float = 2.0, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.c = check_positive("c", c, allow_zero=True)

    def select(self) -> np.ndarray:
        t = self.t + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = self.c * np.sqrt(math.log(t) / self.N)
        upper = np.where(self.N == 0, np.inf, self.Q + bonus)
        return argmax_random_ties(upper, self._np_rng)


class ThompsonSampling(_Bandit):
    """Thompson sampling: draw each arm's mean from its posterior, pull the best draw.

    Gaussian rewards with known noise ``reward_std`` get a Normal prior
    N(``prior_mean``, ``prior_std``^2) on each mean (conjugate); Bernoulli rewards get a
    Beta(``prior_alpha``, ``prior_beta``) prior. ``likelihood="auto"`` reads the
    environment's ``arm_distribution`` (groundup/Bandit-v0 has one) and falls back to
    Gaussian.

    Q holds the posterior means, which ``predict`` ranks.
    """

    agent_id = "thompson-sampling"
    # the Normal prior and noise matter for Gaussian arms, the Beta prior for Bernoulli ones
    search_space = {"prior_std": ("log_uniform", 0.1, 10.0), "reward_std": ("log_uniform", 0.1, 10.0),
                    "prior_alpha": ("log_uniform", 0.1, 10.0), "prior_beta": ("log_uniform", 0.1, 10.0)}

    def __init__(self, env: Any, *, likelihood: str = "auto", prior_mean: float = 0.0, prior_std: float = 1.0,
                 reward_std: float = 1.0, prior_alpha: float = 1.0, prior_beta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        check_choice("likelihood", likelihood, ("auto", "gaussian", "bernoulli"))
        self.likelihood = likelihood
        self.prior_mean = float(prior_mean)
        self.prior_std = check_positive("prior_std", prior_std)
        self.reward_std = check_positive("reward_std", reward_std)
        self.prior_alpha = check_positive("prior_alpha", prior_alpha)
        self.prior_beta = check_positive("prior_beta", prior_beta)
        if likelihood == "auto":
            dist = getattr(getattr(self.env, "unwrapped", self.env), "arm_distribution", "gaussian")
            likelihood = "bernoulli" if dist == "bernoulli" else "gaussian"
        self.likelihood_ = likelihood
        self.reward_sum = np.zeros((self.n_envs, self.k))
        if self.likelihood_ == "gaussian":
            self.Q[:] = self.prior_mean
        else:
            self.Q[:] = self.prior_alpha / (self.prior_alpha + self.prior_beta)

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian: (mean, std) of each arm's posterior; Bernoulli: (alpha, beta)."""
        if self.likelihood_ == "gaussian":
            precision = 1.0 / self.prior_std**2 + self.N / self.reward_std**2
            mean = (self.prior_mean / self.prior_std**2 + self.reward_sum / self.reward_std**2) / precision
            return mean, 1.0 / np.sqrt(precision)
        return self.prior_alpha + self.reward_sum, self.prior_beta + self.N - self.reward_sum

    def select(self) -> np.ndarray:
        a, b = self._posterior()
        if self.likelihood_ == "gaussian":
            theta = a + b * self._np_rng.standard_normal(a.shape)
        else:
            theta = self._np_rng.beta(a, b)
        return argmax_random_ties(theta, self._np_rng)

    def update(self, S: Any, A: np.ndarray, R: np.ndarray, S_next: Any, terminated: Any) -> None:
        runs = self._runs
        self.N[runs, A] += 1
        self.reward_sum[runs, A] += R
        a, b = self._posterior()
        self.Q = a if self.likelihood_ == "gaussian" else a / (a + b)
        self.t += 1

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors["reward_sum"] = self.reward_sum
        metadata["likelihood_"] = self.likelihood_
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        self.reward_sum = tensors["reward_sum"].astype(np.float64)
        self.likelihood_ = metadata.get("likelihood_", self.likelihood_)
