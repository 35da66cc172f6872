"""The 3x4 grid world (Russell & Norvig, Figure 17.1; the usual first MDP of RL courses).

::

    .  .  .  +1        row 0
    .  #  .  -1        row 1
    S  .  .  .         row 2

State ``s = row * 4 + col`` (12 states; the wall, state 5, is never visited). Actions
follow FrozenLake's numbering: 0 left, 1 down, 2 right, 3 up. Reaching +1 (state 3) or
-1 (state 7) ends the episode with that reward; every other step gives ``step_reward``.
With ``slip_probability`` p > 0 the agent moves as intended with probability 1 - p and
to either perpendicular side with p / 2 each (p = 0.2 is Russell & Norvig's 0.8/0.1/0.1).
Bumping into the wall or the edge leaves the agent where it is.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.envs._finite import FiniteModelEnv, Transition, merge_outcomes
from groundup.envs._render import COLOURS, grid_image, grid_text

LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
MOVES = {LEFT: (0, -1), DOWN: (1, 0), RIGHT: (0, 1), UP: (-1, 0)}
PERPENDICULAR = {LEFT: (UP, DOWN), RIGHT: (UP, DOWN), UP: (LEFT, RIGHT), DOWN: (LEFT, RIGHT)}
ARROWS = {LEFT: "<", DOWN: "v", RIGHT: ">", UP: "^"}


class GridWorldEnv(FiniteModelEnv):
    """The 3x4 grid world, deterministic by default.

    Parameters
    ----------
    slip_probability
        Chance of sliding to a perpendicular side (default 0: deterministic).
    step_reward
        Reward of every non-terminal step (default 0; -0.1 makes the "negative grid").
    render_mode
        ``None``, ``"ansi"`` or ``"rgb_array"``.
    """

    ROWS, COLS = 3, 4
    WALLS = frozenset({(1, 1)})
    TERMINALS = {(0, 3): 1.0, (1, 3): -1.0}
    START = (2, 0)

    def __init__(self, slip_probability: float = 0.0, step_reward: float = 0.0, render_mode: str | None = None) -> None:
        if not (isinstance(slip_probability, (int, float)) and 0.0 <= slip_probability <= 1.0):
            raise ValueError(f"slip_probability must be a number in [0, 1]; got {slip_probability!r}")
        if not (isinstance(step_reward, (int, float)) and math.isfinite(step_reward)):
            raise ValueError(f"step_reward must be a finite number; got {step_reward!r}")
        self.slip_probability = float(slip_probability)
        self.step_reward = float(step_reward)
        n_states = self.ROWS * self.COLS
        P: dict[int, dict[int, list[Transition]]] = {}
        starts = []
        for r in range(self.ROWS):
            for c in range(self.COLS):
                s = self.to_state(r, c)
                if (r, c) in self.WALLS or (r, c) in self.TERMINALS:
                    P[s] = {a: [(1.0, s, 0.0, True)] for a in range(4)}
                    continue
                starts.append(s)
                P[s] = {a: self._outcomes(r, c, a) for a in range(4)}
        super().__init__(P, n_states, 4, self.to_state(*self.START), starts, render_mode)

    @classmethod
    def to_state(cls, row: int, col: int) -> int:
        """The state index of grid cell ``(row, col)``: ``row * COLS + col``."""
        return row * cls.COLS + col

    def _move(self, r: int, c: int, a: int) -> tuple[int, int]:
        dr, dc = MOVES[a]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < self.ROWS and 0 <= nc < self.COLS) or (nr, nc) in self.WALLS:
            return r, c
        return nr, nc

    def _outcomes(self, r: int, c: int, a: int) -> list[Transition]:
        p = self.slip_probability
        weighted = [(1.0 - p, a)] + [(p / 2.0, side) for side in PERPENDICULAR[a]]
        outcomes = []
        for prob, direction in weighted:
            nr, nc = self._move(r, c, direction)
            reward = self.TERMINALS.get((nr, nc), self.step_reward)
            outcomes.append((prob, self.to_state(nr, nc), reward, (nr, nc) in self.TERMINALS))
        return merge_outcomes(outcomes)

    def _cell_text(self, r: int, c: int) -> str:
        if (r, c) in self.WALLS:
            return " # "
        if (r, c) in self.TERMINALS:
            return f"{self.TERMINALS[(r, c)]:+.0f} "
        return " . "

    def render(self) -> str | np.ndarray | None:
        """The grid as text (``"ansi"``) or as an RGB array (``"rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            return None
        row, col = divmod(self.s, self.COLS)
        if self.render_mode == "ansi":
            return grid_text((self.ROWS, self.COLS), (row, col), self._cell_text, agent_mark=" A ", sep="",
                             footer=[] if self.last_action is None else [f"({ARROWS[self.last_action]})"])
        colours = np.empty((self.ROWS, self.COLS, 3), dtype=np.uint8)
        colours[:] = COLOURS["empty"]
        for w in self.WALLS:
            colours[w] = COLOURS["wall"]
        for t, v in self.TERMINALS.items():
            colours[t] = COLOURS["good"] if v > 0 else COLOURS["bad"]
        return grid_image(colours, (row, col))
