"""The one loop of the agents that learn after every step: tabular (Monte Carlo, TD), linear
(semi-gradient TD(0) and SARSA) and bandits.

:meth:`StepwiseAgent.learn` resets and steps the environment, counts steps and episodes,
applies the schedules (``_on_progress``), records returns, shows the progress bar and calls
the callback. An algorithm writes only its own steps, as hooks:

- ``start_episode(S) -> A``: the first action of an episode, from its first state S;
- ``update(S, A, R, S_next, terminated) -> A_next``: learn from one transition (the book's
  boxed lines) and return the next action;
- ``end_episode(truncated)``: the episode is over (Monte Carlo learns here);
- ``act(S) -> A``: only for an algorithm that chooses each action afresh just before the
  step (the bandits: one state, no "next action"); its ``start_episode`` and ``update``
  return ``None``, and the loop calls ``act`` where they would have chosen.

What S is, is the agent's choice (``_observer``): a table index for tabular agents, the
observation with its feature vector for linear ones. A truncated episode (a time limit) is
not a terminated one: ``update`` gets ``terminated`` only, so that it still bootstraps.

Bandits run many independent runs at once through a vector environment (``_batched``):
rewards are then arrays over the runs, all runs end their episodes together, and the vector
environment resets itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from groundup.agents.base import Agent
from groundup.agents.environment import Callback, check_budget, make_callback
from groundup.progress import progress_bar as make_progress_bar

__all__ = ["StepwiseAgent"]


class StepwiseAgent(Agent):
    """Base of the agents that learn step by step; see the module docstring for the hooks."""

    #: the hooks take arrays over runs (a vector environment of independent runs: bandits)
    _batched: ClassVar[bool] = False
    #: call ``_on_progress`` as the budget is used (a schedule needs it)
    _uses_progress: ClassVar[bool] = False
    #: hand ``update`` the reward as a Python float (episode returns add the raw reward)
    _float_rewards: ClassVar[bool] = False

    # -- the algorithm's part (overridden) ----------------------------------------------------
    def start_episode(self, S: Any) -> Any:
        """Called with the first state of an episode; returns the first action (an index)."""
        raise NotImplementedError

    def update(self, S: Any, A: Any, R: Any, S_next: Any, terminated: Any) -> Any:
        """Learn from one transition; return the next action (an index)."""
        raise NotImplementedError

    def end_episode(self, truncated: Any) -> None:
        """Called when an episode ends (Monte Carlo learns here)."""

    def act(self, S: Any) -> Any:
        """The action for S, chosen just before the step (only when ``start_episode`` or
        ``update`` returned ``None``)."""
        raise NotImplementedError(f"{self._name()}: start_episode/update returned no action and act() is not written")

    # -- what the loop asks of the agent -------------------------------------------------------
    def _on_learn_start(self, total_timesteps: int | None, n_episodes: int | None) -> None:
        """Prepare for this call of ``learn`` (schedules, features)."""

    def _on_progress(self, progress: float) -> None:
        """Called as the budget is used (``progress`` in [0, 1]) when ``_uses_progress``."""

    def _observer(self) -> Callable[[Any], Any]:
        """The map from an observation to the S the hooks see (called once per ``learn``)."""
        return lambda observation: observation

    def _stepper(self, env: Any) -> Callable[[Any], tuple]:
        """``step(A) -> (observation, R, terminated, truncated, info)`` for action index A."""
        a0 = int(getattr(self, "_action_start", 0))
        return env.step if a0 == 0 else (lambda A, step=env.step: step(A + a0))

    def _episode_reset(self, env: Any) -> tuple[Any, dict[str, Any]]:
        """Start an episode (exploring starts override this to choose the start)."""
        return self._reset_env(env)

    def _record_episodes(self, G: Any, length: int) -> None:
        if self._batched:
            for g in G:
                self._record_episode(float(g), length)
        else:
            self._record_episode(G, length)

    # -- the loop --------------------------------------------------------------------------------
    def learn(self, total_timesteps: int | None = None, *, n_episodes: int | None = None, callback: Callback | None = None,
              progress_bar: bool = False, tb_log_name: str | None = None) -> "StepwiseAgent":
        """Interact with the environment for ``total_timesteps`` steps and/or ``n_episodes``
        episodes (whichever ends first), learning as the algorithm says. With a vector
        environment, steps count every run's steps (as in SB3: 2,000 runs of 1,000 steps are
        ``total_timesteps=2_000_000``).

        ``callback(locals_, globals_)`` is called after every step (``locals_["self"]`` is
        the agent; ``A``, ``R``, ``info``, ``terminated``, ``truncated`` are there too, with
        ``t`` the steps counted so far and ``it`` the steps of each run); returning ``False``
        stops. ``tb_log_name`` names this run's TensorBoard sub-folder (default: the
        class name) when the agent has a ``tensorboard_log``. Returns the agent.
        """
        total_timesteps, n_episodes = check_budget(total_timesteps, n_episodes)
        env = self._require_env()
        cb = make_callback(callback)
        by_steps = total_timesteps is not None
        max_steps = total_timesteps if by_steps else math.inf
        max_episodes = n_episodes if n_episodes is not None else math.inf
        budget = total_timesteps if by_steps else n_episodes
        self._on_learn_start(total_timesteps, n_episodes)
        bar = make_progress_bar(budget, enabled=progress_bar, desc=self._name(), unit="step" if by_steps else "episode")
        length, t, it, shown, episodes = 0, 0, 0, 0, 0
        try:
            next_log = self._start_telemetry(tb_log_name)  # before _stepper: a stepper may count for the logs
            observe, step, update, act = self._observer(), self._stepper(env), self.update, self.act
            uses_progress, batched, n = self._uses_progress, self._batched, self.n_envs
            autoreset = isinstance(env, gym.vector.VectorEnv)
            to_float = float if self._float_rewards else None
            obs, _ = self._episode_reset(env)
            S = observe(obs)
            A_next = self.start_episode(S)
            G: Any = np.zeros(n) if batched else 0.0
            while t < max_steps and episodes < max_episodes:
                A = A_next if A_next is not None else act(S)
                obs, R, terminated, truncated, info = step(A)
                S_next = observe(obs)
                it += 1
                t += n
                self.num_timesteps += n
                if self.num_timesteps >= next_log:
                    next_log = self._log_telemetry()
                G += R
                length += 1
                A_next = update(S, A, R if to_float is None else to_float(R), S_next, terminated)
                if bool(np.any(terminated | truncated)) if batched else terminated or truncated:
                    self.end_episode(truncated)
                    self._record_episodes(G, length)
                    episodes += 1
                    if not by_steps:
                        bar.update(1)
                        if uses_progress:
                            self._on_progress(episodes / budget)
                    if autoreset:  # a vector environment resets itself
                        S = S_next
                    else:
                        obs, _ = self._episode_reset(env)
                        S = observe(obs)
                    A_next = self.start_episode(S)
                    if batched:
                        G[:] = 0.0
                    else:
                        G = 0.0
                    length = 0
                else:
                    S = S_next
                if by_steps:
                    if uses_progress:
                        self._on_progress(t / budget)
                    if t & 1023 < n:
                        bar.update(t - shown)
                        shown = t
                if cb is not None and not cb(locals()):
                    break
        finally:
            if by_steps:
                bar.update(t - shown)
            bar.close()
            self._close_telemetry()
        return self
