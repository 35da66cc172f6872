"""A Gymnasium environment driven by a finite model ``P`` (the toy-text convention).

``P[s][a]`` is a list of ``(probability, next_state, reward, terminated)``. Stepping samples
from that list, so the environment and the model dynamic programming reads can never
disagree. Subclasses build ``P`` and draw themselves.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

Transition = tuple[float, int, float, bool]


def merge_outcomes(outcomes: list[tuple[float, int, float, bool]]) -> list[Transition]:
    """Combine outcomes that land in the same next state (their probabilities add), dropping
    zero-probability ones, so ``P[s][a]`` lists each next state once."""
    merged: dict[int, list] = {}
    for prob, s_next, reward, terminated in outcomes:
        if prob == 0.0:
            continue
        if s_next in merged:
            merged[s_next][0] += prob
        else:
            merged[s_next] = [prob, s_next, reward, terminated]
    return [(float(p), int(s), float(r), bool(t)) for p, s, r, t in merged.values()]


class FiniteModelEnv(gym.Env):
    """Base for grid worlds: Discrete states and actions, a model ``P``, exploring starts.

    ``reset(options={"state": s})`` starts the episode in state ``s`` (any non-terminal,
    reachable state), which is what Monte Carlo exploring starts needs.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, P: dict[int, dict[int, list[Transition]]], n_states: int, n_actions: int,
                 initial_state: int, start_states: list[int], render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None; got {render_mode!r}")
        self.P = P
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(n_actions)
        self.initial_state = initial_state
        self.start_states = list(start_states)
        self.render_mode = render_mode
        self.s = initial_state
        self.last_action: int | None = None
        # Cumulative probabilities per (s, a), so a step is one uniform draw and a search.
        self._cum = {s: {a: np.cumsum([t[0] for t in ts]) for a, ts in acts.items()} for s, acts in P.items()}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        state = self.initial_state
        if options and "state" in options:
            state = options["state"]
            if isinstance(state, (bool, np.bool_)) or not isinstance(state, (int, np.integer)) or int(state) not in self.start_states:
                raise ValueError(
                    f"options['state'] must be a non-terminal, reachable state of {type(self).__name__}, "
                    f"one of {self.start_states}; got {state!r}"
                )
            state = int(state)
        self.s = state
        self.last_action = None
        if self.render_mode is not None and self.render_mode != "ansi":
            self.render()
        return self.s, {"prob": 1.0}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < self.action_space.n:
            raise ValueError(f"action must be an integer in [0, {self.action_space.n}); got {action!r}")
        transitions = self.P[self.s][a]
        if len(transitions) == 1:
            i = 0
        else:
            i = int(np.searchsorted(self._cum[self.s][a], self.np_random.random() * self._cum[self.s][a][-1], side="right"))
            i = min(i, len(transitions) - 1)
        p, s_next, r, terminated = transitions[i]
        self.s = s_next
        self.last_action = a
        return s_next, float(r), bool(terminated), False, {"prob": float(p)}
