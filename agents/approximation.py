"""Linear function approximation (Sutton & Barto, chapters 9 and 10): semi-gradient TD(0)
for prediction and episodic semi-gradient SARSA for control.

Both agents are linear in features x(s) from :mod:`groundup.agents.features` (tile coding,
Gaussian RBFs, or one-hot for Discrete spaces): v̂(s, w) = wᵀx(s) and q̂(s, a, w) = w_aᵀx(s),
so ∇q̂(s, a, w) = x(s) in the row of action a and the update is the book's boxed line.

The episode loop is the one every step-by-step learner shares
(:class:`~groundup.agents.stepwise.StepwiseAgent`); here a state S is the pair
``(observation, x)``, x the observation's feature vector, and ``start_episode(S) -> A`` and
``update(S, A, R, S_next, terminated) -> A_next`` are all an algorithm writes. Truncation (a
time limit) is not termination: the update still bootstraps from S_next.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from groundup.agents.base import check_initial_value, check_learning_rate_exponent
from groundup.agents.exploration import EpsilonGreedyExploration, greedy
from groundup.agents.features import FEATURES, ObservationScaler, make_featurizer, rollout_observations
from groundup.agents.policies import PolicyToEvaluate
from groundup.agents.spaces import TabularIndexer
from groundup.agents.stepwise import StepwiseAgent
from groundup.validation import check_choice, check_learning_rate, check_positive

__all__ = ["SemiGradientTD0", "SemiGradientSarsa", "TARGETS"]

TARGETS = ("sarsa", "expected-sarsa", "q-learning")


class LinearAgent(StepwiseAgent):
    """What both linear agents share: features, the weight table, persistence; the loop is
    :class:`~groundup.agents.stepwise.StepwiseAgent`'s, with S = ``(observation, x)``.

    Parameters
    ----------
    features
        ``"tile-coding"`` (default for Box observations), ``"rbf"`` or
        ``"one-hot"`` (default for Discrete observations).
    learning_rate
        The step size α. Default (None): 0.5 / n_tilings for tile coding (the
        best of Sutton & Barto's Figure 10.2), 0.5 / ||x(s)||² at the centre of the
        observation box for RBFs, 0.1 for one-hot.
    n_tilings, tiles_per_dim
        The tile coder's shape (default 8 tilings of 8 × 8 ... tiles). Where
        the tilings would need more than 2^24 weights per action (eight dimensions and
        more at the defaults), the tiles are hashed into 2^20 weights, as Sutton's
        ``tiles3`` does, so the default runs on any Box observation.
    rbf_per_dim, rbf_width
        RBF centres per dimension (default 5) and σ in grid spacings
        (default 1.0).
    n_scaling_samples
        Random-policy steps used to scale unbounded observation
        dimensions (default 10 000; bounded dimensions use the space's bounds).
    """

    family = "approximation"
    observation_spaces = ("Box", "Discrete")
    action_spaces = ("Discrete",)
    _float_rewards = True
    _reset_seeds = "generator"  # every episode is seeded from the agent's generator, so runs repeat exactly
    #: what ``learning_rate=None`` means, for the message of a bad learning_rate
    _learning_rate_none_means: ClassVar[str] = "a constant step that fits the features"

    def __init__(self, env: Any, *, features: str | None = None, learning_rate: float | None = None, n_tilings: int = 8,
                 tiles_per_dim: int = 8, rbf_per_dim: int = 5, rbf_width: float = 1.0, n_scaling_samples: int = 10_000,
                 gamma: float = 1.0, seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        if features is None:
            features = "one-hot" if isinstance(self.observation_space, spaces.Discrete) else "tile-coding"
        check_choice("features", features, FEATURES)
        if features == "one-hot" and not isinstance(self.observation_space, spaces.Discrete):
            raise ValueError(f"features='one-hot' needs a Discrete observation space; got {self.observation_space}")
        if features != "one-hot" and not isinstance(self.observation_space, spaces.Box):
            raise ValueError(f"features={features!r} needs a Box observation space; got {self.observation_space} "
                             "(use features='one-hot')")
        self.features = features
        self.learning_rate = check_learning_rate(learning_rate, allow_none=True, none_means=self._learning_rate_none_means)
        self.n_tilings = check_positive("n_tilings", n_tilings, integer=True)
        self.tiles_per_dim = check_positive("tiles_per_dim", tiles_per_dim, integer=True)
        self.rbf_per_dim = check_positive("rbf_per_dim", rbf_per_dim, integer=True)
        self.rbf_width = check_positive("rbf_width", rbf_width)
        self.n_scaling_samples = check_positive("n_scaling_samples", n_scaling_samples, integer=True)
        self.n_actions = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self._rng = random.Random(self.seed)
        self._np_rng = np.random.default_rng(self.seed)
        self._featurizer: Any = None
        self.w: np.ndarray | None = None  # the weights, one row per action (one row for v̂)

    # -- features (fitted lazily: scaling may need to roll out the environment) ------------
    @property
    def featurizer(self) -> Any:
        if self._featurizer is None:
            self._fit_features()
        return self._featurizer

    def _fit_features(self, scaler: ObservationScaler | None = None) -> None:
        space = self.observation_space
        if scaler is None and self.features != "one-hot":
            bounded = np.isfinite(space.low).all() and np.isfinite(space.high).all()
            samples = None if bounded else rollout_observations(self._require_env(), self.n_scaling_samples, self._np_rng)
            scaler = ObservationScaler.fit(space, samples)
        self._featurizer = make_featurizer(self.features, space, scaler=scaler, n_tilings=self.n_tilings,
                                           tiles_per_dim=self.tiles_per_dim, rbf_per_dim=self.rbf_per_dim,
                                           rbf_width=self.rbf_width)
        if self.w is None:
            self.w = np.zeros((self._n_rows(), self._featurizer.n_features))
            self._init_weights()
        self.alpha_ = self.learning_rate if self.learning_rate is not None else self._default_alpha()

    def _default_alpha(self) -> float:
        if self.features == "tile-coding":
            return 0.5 / self.n_tilings
        if self.features == "rbf":
            centre = (self._featurizer.scaler.low + self._featurizer.scaler.high) / 2
            return 0.5 / float(self._featurizer(centre) @ self._featurizer(centre))
        return 0.1

    def _n_rows(self) -> int:
        return self.n_actions

    def _init_weights(self) -> None:
        """Starting weights (zero; control agents add optimistic initial values)."""

    # -- the algorithm's part: the hooks of the shared loop, with S = (observation, x(observation))
    def _on_learn_start(self, total_timesteps: int | None, n_episodes: int | None) -> None:
        self.featurizer  # fit the features now (scaling may roll the environment out)

    def _observer(self) -> Any:
        featurize = self.featurizer.__call__
        return lambda observation: (observation, featurize(observation))

    # -- queries -------------------------------------------------------------------------------
    def _observations(self, observation: Any) -> tuple[list[Any], bool]:
        """One observation or a batch (SB3's VecEnv convention), checked, as a list."""
        space = self.observation_space
        if isinstance(space, spaces.Discrete):
            idx, batched = TabularIndexer(space).batch(observation)
            obs = [int(i) + int(space.start) for i in idx]
        else:
            arr = np.asarray(observation, dtype=np.float64)
            d = space.shape[0]
            if arr.shape == (d,):
                arr, batched = arr[None], False
            elif arr.ndim == 2 and arr.shape[1] == d:
                batched = True
            else:
                raise ValueError(f"observation must have shape ({d},) or (n, {d}) for {space}; got shape {arr.shape}")
            if not np.isfinite(arr).all():
                raise ValueError("observation contains NaN or infinity")
            obs = list(arr)
        return obs, batched

    def _features_batch(self, observation: Any) -> tuple[list[np.ndarray], bool]:
        obs, batched = self._observations(observation)
        featurize = self.featurizer
        return [featurize(o) for o in obs], batched

    # -- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        f = self.featurizer
        tensors["weights"] = self.w
        if self.features != "one-hot":
            tensors["scaler_low"], tensors["scaler_high"] = f.scaler.low, f.scaler.high
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        scaler = None
        if self.features != "one-hot":
            scaler = ObservationScaler(tensors["scaler_low"], tensors["scaler_high"])
        self.w = None
        self._fit_features(scaler)
        w = np.asarray(tensors["weights"], dtype=np.float64)
        if w.shape != self.w.shape:
            raise ValueError(f"weights have shape {w.shape}; this agent needs {self.w.shape}")
        self.w = w.copy()


class SemiGradientTD0(LinearAgent):
    """Semi-gradient TD(0) for estimating v̂ ≈ v_π (Sutton & Barto, section 9.3).

    Parameters
    ----------
    policy
        The policy to evaluate: another agent, a callable from observation to action,
        or (Discrete observations) an ``(n_states, n_actions)`` probability array.
    learning_rate_exponent
        Omega in (0.5, 1] (default 0.7) of the visit-count steps.

    Other Parameters
    ----------------
    learning_rate : float or None
        ``None`` (default), with one-hot or tile-coding features, gives visit-count step
        sizes: n_i counts the updates in which feature i was active (this one included),
        and each active weight moves by δ / (k n_i^0.7), k the number of active features
        (1 for one-hot, ``n_tilings`` for tile coding; the exponent is
        ``learning_rate_exponent``). With one-hot features n_i is the visit count of the
        state and this is ``td0-prediction``'s rule exactly; the first update of a region
        moves v̂ there all the way to its target, so no step size has to fit the scale of
        the task. With RBF features every feature is active at every step, so there is no
        per-state count (a count of all updates would starve the regions reached late):
        ``None`` keeps the linear agents' constant default there. A number gives a
        constant α.
    **kwargs
        ``features`` and the other settings of the linear agents (``SemiGradientSarsa``
        lists them); ``gamma`` defaults to 1.
    """

    agent_id = "semi-gradient-td0"
    is_prediction = True
    _learning_rate_none_means = ("visit-count steps 1/n^learning_rate_exponent on one-hot and tile-coding features, "
                                 "a constant step on RBF features")
    _non_json_params = ("policy",)

    def __init__(self, env: Any, policy: Any = None, *, learning_rate_exponent: float = 0.7, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.learning_rate_exponent = check_learning_rate_exponent(learning_rate_exponent)
        self.feature_visits_: np.ndarray | None = None  # n_i, when the step sizes count visits
        if isinstance(self.observation_space, spaces.Discrete):
            self.evaluated_policy = PolicyToEvaluate(policy, TabularIndexer(self.observation_space), self.n_actions,
                                                     self._action_start, self._name())
            index = self.evaluated_policy.indexer.index
            self._policy_act = lambda S: self.evaluated_policy.act(index(S), self._rng)
        else:
            if policy is None or isinstance(policy, (np.ndarray, list, tuple)) or not callable(getattr(policy, "predict", policy)):
                raise TypeError(f"{self._name()} on a Box observation space evaluates another agent or a callable from "
                                f"observation to action; got {type(policy).__name__}")
            act = (lambda obs, agent=policy: agent.predict(obs, deterministic=True)[0]) if hasattr(policy, "predict") else policy
            self.evaluated_policy = act
            self._policy_act = lambda S: int(act(S)) - self._action_start
        self.policy = policy

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        if isinstance(self.evaluated_policy, PolicyToEvaluate) and not self.evaluated_policy.is_callable:
            params["policy"] = self.evaluated_policy.probabilities()
        return params

    def _n_rows(self) -> int:
        return 1

    def value(self, observation: Any) -> Any:
        """v̂(s, w) for one observation or a batch."""
        xs, batched = self._features_batch(observation)
        values = np.array([self.featurizer.value(self.w[0], x) for x in xs])
        return values if batched else float(values[0])

    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        # before learning_rate_exponent, learning_rate=None meant LinearAgent's constant default
        if "learning_rate_exponent" in params or params.get("learning_rate") is not None:
            return {}
        if params.get("features") == "one-hot":
            return {"learning_rate": 0.1}
        if params.get("features") == "tile-coding":
            return {"learning_rate": 0.5 / params.get("n_tilings", 8)}
        return {}

    @property
    def counts_visits(self) -> bool:
        """Whether the step sizes count visits (``learning_rate=None`` on sparse features)."""
        return self.learning_rate is None and self.features != "rbf"

    def _fit_features(self, scaler: ObservationScaler | None = None) -> None:
        super()._fit_features(scaler)
        if self.counts_visits and self.feature_visits_ is None:
            self.feature_visits_ = np.zeros(self._featurizer.n_features, dtype=np.int64)

    def start_episode(self, S: tuple[Any, np.ndarray]) -> int:
        return self._policy_act(S[0])

    def update(self, S: tuple[Any, np.ndarray], A: int, R: float, S_next: tuple[Any, np.ndarray], terminated: bool) -> int:
        (_, x), (S_next, x_next) = S, S_next
        w, value, alpha, gamma = self.w[0], self.featurizer.value, self.alpha_, self.gamma
        target = R if terminated else R + gamma * value(w, x_next)
        delta = target - value(w, x)
        if self.feature_visits_ is not None:  # visit-count steps, on the active features (sparse)
            n = self.feature_visits_
            n[x] += 1
            w[x] += delta * n[x] ** -self.learning_rate_exponent / len(x)
        elif self.featurizer.sparse:
            w[x] += alpha * delta  # ∇v̂ = x(S): 1 on the active features
        else:
            w += alpha * delta * x
        return self._policy_act(S_next)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The evaluated policy's action for one observation or a batch."""
        obs, batched = self._observations(observation)
        actions = np.array([self._policy_act(o) for o in obs], dtype=np.int64) + self._action_start
        return (actions if batched else actions[0]), None

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        if isinstance(self.evaluated_policy, PolicyToEvaluate) and not self.evaluated_policy.is_callable:
            tensors["policy"] = self.evaluated_policy.probabilities()
        if self.feature_visits_ is not None:
            tensors["feature_visits"] = self.feature_visits_
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self.feature_visits_ = None
        super()._set_state(tensors, metadata)  # fits the features: zero counts where counting
        if self.feature_visits_ is not None and "feature_visits" in tensors:
            visits = np.asarray(tensors["feature_visits"], dtype=np.int64)
            if visits.shape != self.feature_visits_.shape:
                raise ValueError(f"feature_visits have shape {visits.shape}; this agent needs {self.feature_visits_.shape}")
            self.feature_visits_ = visits.copy()

    @classmethod
    def _from_file(cls, path, tensors, meta, env, agent_id, **overrides):  # type: ignore[override]
        if "policy" in tensors:
            overrides.setdefault("policy", tensors.pop("policy"))
        elif "policy" not in overrides:
            from groundup.persistence import ModelFileError

            raise ModelFileError(path, f"this {agent_id} agent evaluated an agent or a callable, which is not saved; "
                                       "pass policy= to agents.load")
        return super()._from_file(path, tensors, meta, env, agent_id, **overrides)


class SemiGradientSarsa(EpsilonGreedyExploration, LinearAgent):
    """Episodic semi-gradient SARSA (Sutton & Barto, section 10.1), with expected-SARSA and
    Q-learning targets as options.

    Parameters
    ----------
    target
        ``"sarsa"`` (R + γ q̂(S', A'), the default), ``"expected-sarsa"``
        (R + γ Σ_a π(a|S') q̂(S', a)) or ``"q-learning"`` (R + γ max_a q̂(S', a)).
    epsilon
        A constant exploration rate; overrides the schedule below when given.
    exploration_initial_eps, exploration_final_eps, exploration_fraction
        Epsilon decays
        linearly from the initial to the final value over that fraction of each ``learn``
        call's budget (default 0.1 to 0.0 over half of it).
    initial_value
        Q̂'s starting value everywhere (default 0; on Mountain Car, with rewards
        of -1, zero is already optimistic and drives exploration, as in the book).
        (features, learning_rate and the rest: see :class:`LinearAgent`; gamma defaults to 1.)
    """

    agent_id = "semi-gradient-sarsa"
    search_space = {"learning_rate": ("log_uniform", 0.001, 0.5), "exploration_initial_eps": ("uniform", 0.0, 0.3),
                    "exploration_fraction": ("uniform", 0.1, 1.0), "target": ("categorical", list(TARGETS))}

    def __init__(self, env: Any, *, target: str = "sarsa", epsilon: float | None = None, exploration_initial_eps: float = 0.1,
                 exploration_final_eps: float = 0.0, exploration_fraction: float = 0.5, initial_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        check_choice("target", target, TARGETS)
        self.target = target
        self._init_exploration(epsilon, exploration_initial_eps, exploration_final_eps, exploration_fraction)
        self.initial_value = check_initial_value(initial_value)

    def _init_weights(self) -> None:
        if self.features == "tile-coding":
            self.w[:] = self.initial_value / self.n_tilings  # n_tilings active features sum to q̂
        elif self.features == "rbf":
            self.w[:, -1] = self.initial_value  # the bias feature
        else:
            self.w[:] = self.initial_value

    def q_values(self, observation: Any) -> np.ndarray:
        """q̂(s, ·, w) for one observation ``(n_actions,)`` or a batch ``(n, n_actions)``."""
        xs, batched = self._features_batch(observation)
        q = np.array([self.featurizer.value(self.w, x) for x in xs])
        return q if batched else q[0]

    def behaviour(self, q: np.ndarray) -> int:
        """ε-greedy on q̂(S, ·): ties broken at random, as the book does."""
        if self.epsilon_ > 0 and self._rng.random() < self.epsilon_:
            return self._rng.randrange(self.n_actions)
        return greedy(q, self._rng)

    def start_episode(self, S: tuple[Any, np.ndarray]) -> int:
        return self.behaviour(self.featurizer.value(self.w, S[1]))

    def update(self, S: tuple[Any, np.ndarray], A: int, R: float, S_next: tuple[Any, np.ndarray], terminated: bool) -> int:
        x, x_next = S[1], S_next[1]
        w, value, alpha, gamma = self.w, self.featurizer.value, self.alpha_, self.gamma
        q_next = value(w, x_next)
        A_next = self.behaviour(q_next)
        if terminated:
            target = R
        elif self.target == "sarsa":
            target = R + gamma * q_next[A_next]
        elif self.target == "q-learning":
            target = R + gamma * q_next.max()
        else:  # expected SARSA under the ε-greedy policy
            eps = self.epsilon_
            greedy_share = np.flatnonzero(q_next == q_next.max())
            pi = np.full(self.n_actions, eps / self.n_actions)
            pi[greedy_share] += (1 - eps) / len(greedy_share)
            target = R + gamma * float(pi @ q_next)
        delta = target - value(w[A], x)
        if self.featurizer.sparse:
            w[A, x] += alpha * delta  # ∇q̂(S, A, w) = x(S) in row A
        else:
            w[A] += alpha * delta * x
        return A_next

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The greedy action (ties to the lowest) for one observation or a batch;
        ``deterministic=False`` acts ε-greedily with the current ε."""
        xs, batched = self._features_batch(observation)
        value = self.featurizer.value
        if deterministic:
            actions = [int(np.argmax(value(self.w, x))) for x in xs]
        else:
            actions = [self.behaviour(value(self.w, x)) for x in xs]
        actions = np.array(actions, dtype=np.int64) + self._action_start
        return (actions if batched else actions[0]), None
