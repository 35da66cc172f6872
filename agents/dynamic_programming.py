"""Dynamic programming (Sutton & Barto, chapter 4): policy evaluation, policy iteration and
value iteration, on the model an environment exposes as ``env.unwrapped.P``.

The model ``P[s][a] = [(prob, s', r, terminated), ...]`` (Gymnasium's toy-text convention)
is turned once into arrays: the expected reward ``R[s, a]`` and a sparse transition table
(``rows, cols, probs``) that leaves out transitions into termination, so that one
expectation over next states is one ``np.bincount``. Sweeps are therefore synchronous
(every state is backed up from the previous sweep's values) and vectorised; the book's
in-place sweep converges to the same fixed point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.agents.environment import Callback, make_callback
from groundup.agents.policies import PolicyToEvaluate
from groundup.agents.tabular import TabularBase
from groundup.progress import progress_bar as make_progress_bar
from groundup.validation import check_positive

__all__ = ["FiniteModel", "PolicyEvaluation", "PolicyIteration", "ValueIteration", "greedy_policy"]


class FiniteModel:
    """``P`` as arrays: ``R`` (S, A) expected rewards and the sparse continuation
    probabilities ``Pr(s' | s, a, not terminated)`` as COO triples."""

    def __init__(self, P: Any, n_states: int, n_actions: int) -> None:
        self.n_states, self.n_actions = n_states, n_actions
        R = np.zeros((n_states, n_actions))
        rows, cols, probs = [], [], []
        for s in range(n_states):
            if s not in P:
                raise ValueError(f"the model P has no entry for state {s}; P must list every state 0..{n_states - 1}")
            for a in range(n_actions):
                transitions = P[s].get(a) if hasattr(P[s], "get") else P[s][a]
                if transitions is None:
                    raise ValueError(f"the model P has no entry for state {s}, action {a}")
                total = 0.0
                for prob, s_next, reward, terminated in transitions:
                    total += prob
                    R[s, a] += prob * reward
                    if not terminated:
                        rows.append(s * n_actions + a)
                        cols.append(int(s_next))
                        probs.append(prob)
                if abs(total - 1.0) > 1e-6:
                    raise ValueError(f"the model's probabilities for state {s}, action {a} sum to {total}, not 1")
        self.R = R
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.probs = np.asarray(probs, dtype=np.float64)

    def expected_next_value(self, V: np.ndarray) -> np.ndarray:
        """``sum_s' Pr(s' | s, a) V(s')`` for every (s, a), shape (S, A)."""
        flat = np.bincount(self.rows, weights=self.probs * V[self.cols], minlength=self.n_states * self.n_actions)
        return flat.reshape(self.n_states, self.n_actions)

    def q_values(self, V: np.ndarray, gamma: float) -> np.ndarray:
        """One-step lookahead: ``Q(s, a) = R(s, a) + gamma * E[V(s')]``."""
        return self.R + gamma * self.expected_next_value(V)


def greedy_policy(Q: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """The greedy policy as one-hot rows; actions within ``tol`` (relative) of the best
    count as ties and go to the lowest index, so that equal values give equal policies."""
    best = Q.max(axis=1, keepdims=True)
    near = Q >= best - tol * np.maximum(1.0, np.abs(best))
    pi = np.zeros_like(Q)
    pi[np.arange(Q.shape[0]), near.argmax(axis=1)] = 1.0
    return pi


class _DynamicProgramming(TabularBase):
    """Shared by the three methods: the model, V, the sweep loop, predict and saving. There
    is no episode loop: dynamic programming sweeps the model and never steps the environment.

    Parameters
    ----------
    theta
        Stop when a sweep changes no value by more than this (default 1e-10).
    max_iterations
        At most this many sweeps (default 100,000).
    """

    family = "dynamic programming"
    observation_spaces = ("Discrete",)
    requires_model = True

    def __init__(self, env: Any, *, theta: float = 1e-10, max_iterations: int = 100_000, gamma: float = 0.99,
                 seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.theta = check_positive("theta", theta)
        self.max_iterations = check_positive("max_iterations", max_iterations, integer=True)
        self.V = np.zeros(self.n_states)
        self.pi = np.full((self.n_states, self.n_actions), 1.0 / self.n_actions)
        self.converged_ = False
        self.n_sweeps_ = 0
        self.model_: FiniteModel | None = None
        if self.env is not None:
            self.model_ = self._read_model(self.env)

    def _read_model(self, env: Any) -> FiniteModel:
        unwrapped = getattr(env, "unwrapped", env)
        try:
            P = unwrapped.P
        except AttributeError:
            P = None
        if P is None:
            name = env.spec.id if getattr(env, "spec", None) is not None else type(unwrapped).__name__
            raise TypeError(
                f"{self._name()} needs a model of the environment as env.unwrapped.P "
                f"(P[s][a] = [(prob, next_state, reward, terminated)], as Gymnasium's toy-text environments have); "
                f"{name} has none. Use a model-free agent such as 'q-learning' or 'mc-control'"
            )
        return FiniteModel(P, self.n_states, self.n_actions)

    def set_env(self, env: Any) -> None:
        super().set_env(env)
        self.model_ = self._read_model(env)

    @property
    def q_table(self) -> np.ndarray:
        if self.model_ is None:
            raise RuntimeError(f"{self._name()} has no model (loaded without an environment); call set_env(env)")
        return self.model_.q_values(self.V, self.gamma)

    @property
    def value_function(self) -> np.ndarray:
        return self.V.copy()

    @property
    def policy(self) -> np.ndarray:
        return self.pi.copy()

    def sweep(self) -> float:
        """One sweep over all states; returns the largest change of V."""
        raise NotImplementedError

    def _finish(self) -> None:
        """After the sweeps: set the final policy."""

    def learn(self, total_timesteps: int | None = None, *, callback: Callback | None = None, progress_bar: bool = False,
              tb_log_name: str | None = None, **_: Any) -> "_DynamicProgramming":
        """Sweep until no value changes by more than ``theta`` (or ``max_iterations``).

        Dynamic programming needs no interaction, so ``total_timesteps`` is accepted for a
        uniform API and ignored. ``callback(locals_, globals_)`` runs after every sweep
        (``locals_["delta"]``, ``locals_["sweep"]``); returning False stops. With a
        ``tensorboard_log``, every sweep writes ``train/value_change`` (its delta, the
        largest change of V) at x = the sweep count: there are no steps or episodes to
        log, and sweeps are few. A ``monitor_dir`` gets a file with no rows, for the same reason.
        """
        if self.model_ is None:
            self._require_env()
        cb = make_callback(callback)
        bar = make_progress_bar(None, enabled=progress_bar, desc=self._name(), unit="sweep")
        self.converged_ = False
        try:
            self._start_telemetry(tb_log_name)
            writer = None if self._telemetry is None else self._telemetry.writer
            for sweep in range(1, self.max_iterations + 1):
                delta = self.sweep()
                self.n_sweeps_ += 1
                bar.update(1)
                if writer is not None:
                    writer.scalar("train/value_change", delta, self.n_sweeps_)
                if self.verbose and (sweep & (sweep - 1)) == 0:
                    print(f"[{self._name()}] sweep {sweep}: delta {delta:.3g}")
                if delta < self.theta:
                    self.converged_ = True
                if cb is not None and not cb(locals()):
                    break
                if self.converged_:
                    break
        finally:
            bar.close()
            self._close_telemetry()
        self._finish()
        return self

    def _greedy_action(self, S: int) -> int:
        return int(self.pi[S].argmax())

    def _sample_action(self, S: int) -> int:
        row = self.pi[S]
        return min(int(np.searchsorted(np.cumsum(row), self._rng.random(), side="right")), self.n_actions - 1)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        tensors.update(value_function=self.V, policy=self.pi)
        metadata.update(converged_=self.converged_, n_sweeps_=self.n_sweeps_)
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        V, pi = tensors["value_function"], tensors["policy"]
        if V.shape != (self.n_states,) or pi.shape != (self.n_states, self.n_actions):
            raise ValueError(f"value_function/policy shapes {V.shape}/{pi.shape} do not fit {self.n_states} states, {self.n_actions} actions")
        self.V, self.pi = V.astype(np.float64), pi.astype(np.float64)
        self.converged_ = bool(metadata.get("converged_", False))
        self.n_sweeps_ = int(metadata.get("n_sweeps_", 0))


class PolicyEvaluation(_DynamicProgramming):
    """Iterative policy evaluation (section 4.1): V(s) <- sum_a pi(a|s) [r + gamma V(s')].

    Parameters
    ----------
    policy
        The policy to evaluate (see :mod:`groundup.agents.policies`; a callable is
        asked once per state).

    Other Parameters
    ----------------
    theta, max_iterations : float, int
        See the dynamic programming base.
    """

    agent_id = "policy-evaluation"
    is_prediction = True
    _non_json_params = ("policy",)

    def __init__(self, env: Any, policy: Any = None, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.evaluated_policy = PolicyToEvaluate(policy, self._indexer, self.n_actions, self._action_start, self._name())
        self.pi = self.evaluated_policy.probabilities()

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["policy"] = self.pi.copy()
        return params

    def sweep(self) -> float:
        Q = self.model_.q_values(self.V, self.gamma)
        V_new = (self.pi * Q).sum(axis=1)
        delta = float(np.abs(V_new - self.V).max())
        self.V = V_new
        return delta

    @classmethod
    def _from_file(cls, path, tensors, meta, env, agent_id, **overrides):  # type: ignore[override]
        overrides.setdefault("policy", tensors["policy"])
        return super()._from_file(path, tensors, meta, env, agent_id, **overrides)


class PolicyIteration(_DynamicProgramming):
    """Policy iteration (section 4.3): evaluate pi to ``theta``, make it greedy, repeat until
    it is stable. An action only replaces the current one when it is better by more than a
    tiny tolerance, so equally good actions cannot make the loop flip forever.

    ``learn``'s callback runs after each improvement step (``locals_["delta"]`` is the
    number of states whose action changed).
    """

    agent_id = "policy-iteration"

    def __init__(self, env: Any, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.pi = np.zeros((self.n_states, self.n_actions))
        self.pi[:, 0] = 1.0
        self.n_evaluation_sweeps_ = 0

    def evaluate(self) -> None:
        """Policy evaluation of the current deterministic policy, in place."""
        actions = self.pi.argmax(axis=1)
        states = np.arange(self.n_states)
        for _ in range(self.max_iterations):
            V_new = self.model_.q_values(self.V, self.gamma)[states, actions]
            delta = float(np.abs(V_new - self.V).max())
            self.V = V_new
            self.n_evaluation_sweeps_ += 1
            if delta < self.theta:
                return
        raise RuntimeError(f"{self._name()}: policy evaluation did not converge to theta={self.theta} in "
                           f"{self.max_iterations} sweeps; with gamma=1 a policy that never terminates has unbounded values")

    def sweep(self) -> float:
        self.evaluate()
        Q = self.model_.q_values(self.V, self.gamma)
        old = self.pi.argmax(axis=1)
        best = Q.max(axis=1)
        keep = Q[np.arange(self.n_states), old] >= best - 1e-12 * np.maximum(1.0, np.abs(best))
        new = np.where(keep, old, Q.argmax(axis=1))
        changed = int((new != old).sum())
        self.pi = np.zeros_like(self.pi)
        self.pi[np.arange(self.n_states), new] = 1.0
        # delta 0 (policy stable) stops the loop; otherwise any value above theta continues
        return 0.0 if changed == 0 else float(changed)

    def _finish(self) -> None:
        self.pi = greedy_policy(self.model_.q_values(self.V, self.gamma))


class ValueIteration(_DynamicProgramming):
    """Value iteration (section 4.4): V(s) <- max_a [r + gamma V(s')], then the greedy policy."""

    agent_id = "value-iteration"

    def sweep(self) -> float:
        V_new = self.model_.q_values(self.V, self.gamma).max(axis=1)
        delta = float(np.abs(V_new - self.V).max())
        self.V = V_new
        return delta

    def _finish(self) -> None:
        self.pi = greedy_policy(self.model_.q_values(self.V, self.gamma))
