"""Windy Gridworld, Sutton & Barto Example 6.5.

A 7x10 grid; a crosswind pushes the agent up by ``WIND[col]`` cells in the column it
leaves. Start (3, 0), goal (3, 7), reward -1 per step until the goal. With the four
standard moves the shortest path takes 15 steps. Options: ``king_moves`` adds the four
diagonals (Exercise 6.9) and ``stochastic_wind`` makes the wind vary by one cell up or down
a third of the time each (Exercise 6.10). Actions 0 left, 1 down, 2 right, 3 up, then
(king's moves) 4 down-left, 5 down-right, 6 up-right, 7 up-left.

State ``s = row * 10 + col``.
"""

from __future__ import annotations

import numpy as np

from groundup.envs._finite import FiniteModelEnv, Transition, merge_outcomes
from groundup.envs._render import COLOURS, grid_image, grid_text

WIND = (0, 0, 0, 1, 1, 1, 2, 2, 1, 0)
MOVES = [(0, -1), (1, 0), (0, 1), (-1, 0), (1, -1), (1, 1), (-1, 1), (-1, -1)]
ARROWS = ["<", "v", ">", "^", "\u2199", "\u2198", "\u2197", "\u2196"]


class WindyGridWorldEnv(FiniteModelEnv):
    """Sutton & Barto's windy grid world.

    Parameters
    ----------
    king_moves
        Eight actions instead of four (default False).
    stochastic_wind
        Wind strength varies by +-1 with probability 1/3 each (default False).
    render_mode
        ``None``, ``"ansi"`` or ``"rgb_array"``.
    """

    ROWS, COLS = 7, 10
    START = (3, 0)
    GOAL = (3, 7)

    def __init__(self, king_moves: bool = False, stochastic_wind: bool = False, render_mode: str | None = None) -> None:
        for name, value in (("king_moves", king_moves), ("stochastic_wind", stochastic_wind)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False; got {value!r}")
        self.king_moves = bool(king_moves)
        self.stochastic_wind = bool(stochastic_wind)
        n_actions = 8 if self.king_moves else 4
        P: dict[int, dict[int, list[Transition]]] = {}
        starts = []
        goal = self.to_state(*self.GOAL)
        for r in range(self.ROWS):
            for c in range(self.COLS):
                s = self.to_state(r, c)
                if s == goal:
                    P[s] = {a: [(1.0, s, 0.0, True)] for a in range(n_actions)}
                    continue
                starts.append(s)
                P[s] = {a: self._outcomes(r, c, a) for a in range(n_actions)}
        super().__init__(P, self.ROWS * self.COLS, n_actions, self.to_state(*self.START), starts, render_mode)

    @classmethod
    def to_state(cls, row: int, col: int) -> int:
        """The state index of grid cell ``(row, col)``: ``row * COLS + col``."""
        return row * cls.COLS + col

    def _outcomes(self, r: int, c: int, a: int) -> list[Transition]:
        dr, dc = MOVES[a]
        wind = WIND[c]
        winds = [(wind, 1.0)]
        if self.stochastic_wind and wind > 0:
            winds = [(wind - 1, 1 / 3), (wind, 1 / 3), (wind + 1, 1 / 3)]
        outcomes = []
        for w, prob in winds:
            nr = min(max(r + dr - w, 0), self.ROWS - 1)
            nc = min(max(c + dc, 0), self.COLS - 1)
            outcomes.append((prob, self.to_state(nr, nc), -1.0, (nr, nc) == self.GOAL))
        return merge_outcomes(outcomes)

    def _cell_text(self, r: int, c: int) -> str:
        return "G" if (r, c) == self.GOAL else "S" if (r, c) == self.START else "."

    def render(self) -> str | np.ndarray | None:
        """The grid as text (``"ansi"``) or as an RGB array (``"rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            return None
        row, col = divmod(self.s, self.COLS)
        if self.render_mode == "ansi":
            footer = [" ".join(str(w) for w in WIND) + "   <- wind"]
            if self.last_action is not None:
                footer.append(f"({ARROWS[self.last_action]})")
            return grid_text((self.ROWS, self.COLS), (row, col), self._cell_text, footer=footer)
        colours = np.empty((self.ROWS, self.COLS, 3), dtype=np.uint8)
        for c, w in enumerate(WIND):
            colours[:, c] = COLOURS["empty"] if w == 0 else COLOURS["wind1"] if w == 1 else COLOURS["wind2"]
        colours[self.START] = COLOURS["start"]
        colours[self.GOAL] = COLOURS["good"]
        return grid_image(colours, (row, col))
