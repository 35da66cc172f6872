"""Monte Carlo methods (Sutton & Barto, chapter 5): first-visit prediction, control with
exploring starts, and on-policy control with epsilon-soft policies.

The episode loop (:mod:`groundup.agents.tabular`) hands each step to ``update``, which
only remembers it; the learning happens in ``end_episode``, walking the episode backwards
with ``G = gamma * G + R``, exactly as in the book's boxes. An episode cut short by a time
limit is learned from as it is (its returns are then those of the steps that happened).
"""

from __future__ import annotations

from typing import Any

from groundup.agents.environment import reset_env
from groundup.agents.exploration import greedy
from groundup.agents.tabular import PairStepSizes, TabularControlAgent, TabularPredictionAgent

__all__ = ["MCPrediction", "MCExploringStarts", "MCControl"]


class _EpisodeMemory:
    """The states, actions and rewards of the current episode, and its first visits."""

    def start_memory(self) -> None:
        self.states: list[int] = []
        self.actions: list[int] = []
        self.rewards: list[float] = []

    def remember(self, S: int, A: int, R: float) -> None:
        self.states.append(S)
        self.actions.append(A)
        self.rewards.append(R)

    def returns(self, gamma: float, by_pair: bool, first_visit: bool = True):
        """Yield ``(t, S_t, A_t, G_t)`` backwards, only at first visits when asked (of S,
        or of the pair (S, A) when ``by_pair``)."""
        keys = list(zip(self.states, self.actions)) if by_pair else self.states
        first: dict[Any, int] = {}
        if first_visit:
            for t, key in enumerate(keys):
                first.setdefault(key, t)
        G = 0.0
        for t in range(len(self.states) - 1, -1, -1):
            G = gamma * G + self.rewards[t]
            if not first_visit or first[keys[t]] == t:
                yield t, self.states[t], self.actions[t], G


class MCPrediction(_EpisodeMemory, TabularPredictionAgent):
    """First-visit Monte Carlo prediction of V for a given policy (section 5.1).

    Parameters
    ----------
    policy
        The policy to evaluate (see :mod:`groundup.agents.policies`).
    learning_rate
        None (default) averages returns, ``V(S) += (G - V(S)) / N(S)``;
        a number gives constant-alpha MC.
    learning_rate_exponent
        With ``learning_rate=None``, alpha = 1/N(S)^omega for omega
        in (0.5, 1] (default 1: sample averages, the book's, unbiased for a fixed policy).
    first_visit
        Average first visits only (default True) or every visit.
    """

    agent_id = "mc-prediction"
    family = "Monte Carlo"

    def __init__(self, env: Any, policy: Any = None, *, learning_rate: float | None = None,
                 learning_rate_exponent: float = 1.0, first_visit: bool = True, gamma: float = 0.99,
                 seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, policy, learning_rate=learning_rate, learning_rate_exponent=learning_rate_exponent,
                         gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.first_visit = bool(first_visit)
        self.start_memory()

    def start_episode(self, S: int) -> int:
        self.start_memory()
        return self.evaluated_policy.act(S, self._rng)

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        self.remember(S, A, R)
        return self.evaluated_policy.act(S_next, self._rng)

    def end_episode(self, truncated: bool) -> None:
        V = self.V
        for _, S, _, G in self.returns(self.gamma, by_pair=False, first_visit=self.first_visit):
            self.count_visit(S)
            V[S] += self.step_size(S) * (G - V[S])


class _MonteCarloControl(_EpisodeMemory, PairStepSizes, TabularControlAgent):
    """Shared by both control methods: Q(S, A) averages the returns that followed (S, A)."""

    search_space = {"learning_rate": ("categorical", [None, 0.01, 0.03, 0.1, 0.3]),
                    "first_visit": ("categorical", [True, False]), **TabularControlAgent.search_space}
    # before learning_rate_exponent, learning_rate=None meant sample averages, alpha = 1/n
    _params_added = {"learning_rate_exponent": 1.0}

    def __init__(self, env: Any, *, learning_rate: float | None = None, learning_rate_exponent: float = 0.7,
                 learning_rate_final: float | None = None, first_visit: bool = True, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._init_step_sizes(learning_rate, learning_rate_exponent, learning_rate_final)
        self.first_visit = bool(first_visit)
        self.start_memory()

    def update(self, S: int, A: int, R: float, S_next: int, terminated: bool) -> int:
        self.remember(S, A, R)
        return self.behaviour(S_next)

    def end_episode(self, truncated: bool) -> None:
        Q = self.Q
        for _, S, A, G in self.returns(self.gamma, by_pair=True, first_visit=self.first_visit):
            alpha = self.step_size(S, A)
            Q[S][A] += alpha * (G - Q[S][A])


class MCControl(_MonteCarloControl):
    """On-policy first-visit Monte Carlo control with an epsilon-soft (epsilon-greedy)
    policy (section 5.4).

    Parameters
    ----------
    learning_rate
        ``None`` (default) gives visit-count step sizes, alpha = 1/n^0.7 (the
        exponent is ``learning_rate_exponent``), n the number of returns of (S, A)
        learned from so far, this one included; a number gives constant-alpha MC. The
        policy improves as it learns, so the returns that followed (S, A) early, under
        heavy exploration and a worse policy, should not weigh as much as the recent
        ones, which sample averages (exponent 1) make them do.
    learning_rate_exponent
        Omega in (0.5, 1] (default 0.7); 1 gives the book's sample
        averages.
    learning_rate_final
        With a number for ``learning_rate``: alpha falls linearly to this over each
        ``learn`` budget (default None: constant alpha).
    first_visit
        Learn from first visits of (S, A) only (default True).
        (exploration: see :class:`~groundup.agents.tabular.TabularControlAgent`; by default
        epsilon decays from 1 to 0.05 over the first half of each ``learn`` budget; pass
        ``epsilon=0.1`` for the book's constant rate.)
    """

    agent_id = "mc-control"
    family = "Monte Carlo"

    def start_episode(self, S: int) -> int:
        self.start_memory()
        return self.behaviour(S)


class MCExploringStarts(_MonteCarloControl):
    """Monte Carlo control with exploring starts (section 5.3).

    Every episode starts from a state and an action chosen uniformly at random; after that
    the agent follows its greedy policy. The environment must be able to start anywhere
    through ``reset(options={"state": s})`` (groundup's grid worlds and tic-tac-toe can;
    Gymnasium's toy-text environments cannot; use ``mc-control`` there).

    Parameters
    ----------
    learning_rate
        None (default) averages returns; a number gives constant-alpha MC.
    learning_rate_exponent
        With ``learning_rate=None``, alpha = 1/n^omega for omega in
        (0.5, 1] (default 1: sample averages, the book's).
    learning_rate_final
        With a number for ``learning_rate``: alpha falls linearly to this over each
        ``learn`` budget (default None: constant alpha).
    first_visit
        Learn from first visits of (S, A) only (default True).
    """

    agent_id = "mc-exploring-starts"
    family = "Monte Carlo"
    search_space = {"learning_rate": ("categorical", [None, 0.01, 0.03, 0.1, 0.3]),
                    "first_visit": ("categorical", [True, False])}  # epsilon is 0: the starts explore

    def __init__(self, env: Any, *, learning_rate: float | None = None, learning_rate_exponent: float = 1.0,
                 learning_rate_final: float | None = None, first_visit: bool = True, gamma: float = 0.99,
                 seed: int | None = None, verbose: int = 0,
                 device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, learning_rate=learning_rate, learning_rate_exponent=learning_rate_exponent,
                         learning_rate_final=learning_rate_final, first_visit=first_visit, epsilon=0.0, gamma=gamma,
                         seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.start_states_: list[int] | None = None
        if self.env is not None:
            self.start_states_ = self._find_start_states(self.env)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        for name in ("epsilon", "exploration_initial_eps", "exploration_final_eps", "exploration_fraction", "initial_value"):
            params.pop(name, None)
        return params

    def _find_start_states(self, env: Any) -> list[int]:
        name = env.spec.id if getattr(env, "spec", None) is not None else type(env.unwrapped).__name__
        listed = getattr(env.unwrapped, "start_states", None)
        candidates = list(listed) if listed is not None else list(range(self.n_states))
        starts = []
        for s in candidates:
            obs_s = self._indexer.observation(s)
            try:
                obs, _ = reset_env(env, options={"state": obs_s})  # a probe: unseeded
            except (ValueError, TypeError, KeyError):
                continue
            if self._indexer.index(obs) != s:
                raise TypeError(
                    f"{self._name()} needs an environment that can start in any state through "
                    f"reset(options={{'state': s}}), but {name} ignores it (asked for state {obs_s!r}, it started in {obs!r}); "
                    f"use 'mc-control' (epsilon-soft) instead, or an environment such as groundup/GridWorld-v0"
                )
            starts.append(s)
        if not starts:
            raise TypeError(f"{self._name()}: {name} accepts no start state through reset(options={{'state': s}})")
        return starts

    def set_env(self, env: Any) -> None:
        super().set_env(env)
        self.start_states_ = self._find_start_states(env)

    def _episode_reset(self, env: Any) -> tuple[Any, dict[str, Any]]:
        S0 = self.start_states_[self._rng.randrange(len(self.start_states_))]
        return self._reset_env(env, options={"state": self._indexer.observation(S0)})

    def start_episode(self, S: int) -> int:
        self.start_memory()
        return self._rng.randrange(self.n_actions)  # the exploring start's A0

    def behaviour(self, S: int) -> int:
        return greedy(self.Q[S], self._rng)
