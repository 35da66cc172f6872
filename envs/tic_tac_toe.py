"""Tic-tac-toe against a fixed opponent: a random player or a perfect (minimax) one.

The board is nine cells, numbered row by row (0 top-left ... 8 bottom-right); each holds
0 (empty), 1 (the agent's mark) or 2 (the opponent's). The observation is the board read
as a base-3 number, ``sum(cell[i] * 3**i)``, a ``Discrete(3**9)`` state that every tabular
agent can use directly. Actions are the cell to mark. Rewards: +1 for a win, -1 for a loss
or an illegal move (marking a taken cell ends the episode), 0 otherwise. ``info`` carries
``action_mask`` (the legal cells) and the board.

With the opponent fixed, tic-tac-toe is a finite MDP; ``P`` builds it on first use (the
opponent's replies are the stochastic part), so dynamic programming solves the game.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from groundup.envs._render import COLOURS

N_STATES = 3**9
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
POWERS = tuple(3**i for i in range(9))
OPPONENTS = ("random", "perfect")
Board = tuple[int, ...]


def encode(board: Board) -> int:
    return sum(c * p for c, p in zip(board, POWERS))


def decode(state: int) -> Board:
    cells = []
    for _ in range(9):
        state, c = divmod(state, 3)
        cells.append(c)
    return tuple(cells)


def winner(board: Board) -> int:
    """1 or 2 if that player has three in a row, else 0."""
    for a, b, c in LINES:
        if board[a] and board[a] == board[b] == board[c]:
            return board[a]
    return 0


@lru_cache(maxsize=None)
def minimax(board: Board, to_move: int) -> int:
    """The game value for player 1 (+1 win, 0 draw, -1 loss) with ``to_move`` to play."""
    w = winner(board)
    if w:
        return 1 if w == 1 else -1
    free = [i for i in range(9) if board[i] == 0]
    if not free:
        return 0
    values = [minimax(board[:i] + (to_move,) + board[i + 1 :], 3 - to_move) for i in free]
    return max(values) if to_move == 1 else min(values)


def opponent_moves(board: Board, opponent: str) -> list[tuple[int, float]]:
    """The opponent's replies with their probabilities: uniform over legal cells (random)
    or uniform over the cells that keep the agent's minimax value lowest (perfect)."""
    free = [i for i in range(9) if board[i] == 0]
    if opponent == "random":
        return [(i, 1.0 / len(free)) for i in free]
    values = {i: minimax(board[:i] + (2,) + board[i + 1 :], 1) for i in free}
    best = min(values.values())
    chosen = [i for i in free if values[i] == best]
    return [(i, 1.0 / len(chosen)) for i in chosen]


_MODEL_CACHE: dict[tuple[str, bool], dict] = {}


class TicTacToeEnv(gym.Env):
    """Tic-tac-toe for one agent against a built-in opponent.

    Parameters
    ----------
    opponent
        ``"random"`` (default) or ``"perfect"`` (plays minimax; never loses).
    agent_first
        Whether the agent moves first (default True); otherwise the opponent
        opens and the first observation already shows its mark.
    render_mode
        ``None``, ``"ansi"`` or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 2}

    def __init__(self, opponent: str = "random", agent_first: bool = True, render_mode: str | None = None) -> None:
        if opponent not in OPPONENTS:
            raise ValueError(f"opponent must be one of {OPPONENTS}; got {opponent!r}")
        if not isinstance(agent_first, (bool, np.bool_)):
            raise TypeError(f"agent_first must be True or False; got {agent_first!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None; got {render_mode!r}")
        self.opponent = opponent
        self.agent_first = bool(agent_first)
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(N_STATES)
        self.action_space = spaces.Discrete(9)
        self.board: Board = (0,) * 9

    # -- the model ---------------------------------------------------------------------
    def is_agent_turn(self, board: Board) -> bool:
        """Whether ``board`` is a live position with the agent to move."""
        n_agent, n_opp = board.count(1), board.count(2)
        turn_ok = n_agent == n_opp if self.agent_first else n_opp == n_agent + 1
        return turn_ok and winner(board) == 0 and 0 in board

    @property
    def start_states(self) -> list[int]:
        """Every encoded board with the agent to move and no winner yet (``reset(options={"state": s})`` takes these)."""
        return [s for s in range(N_STATES) if self.is_agent_turn(decode(s))]

    def _outcomes(self, board: Board, a: int) -> list[tuple[float, int, float, bool]]:
        if board[a] != 0:
            return [(1.0, encode(board), -1.0, True)]
        after = board[:a] + (1,) + board[a + 1 :]
        if winner(after):
            return [(1.0, encode(after), 1.0, True)]
        if 0 not in after:
            return [(1.0, encode(after), 0.0, True)]
        outcomes = []
        for cell, prob in opponent_moves(after, self.opponent):
            reply = after[:cell] + (2,) + after[cell + 1 :]
            if winner(reply):
                outcomes.append((prob, encode(reply), -1.0, True))
            else:
                outcomes.append((prob, encode(reply), 0.0, 0 not in reply))
        return outcomes

    @property
    def P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        """``P[s][a] = [(prob, s', r, terminated)]``; positions where the agent cannot move
        (finished or impossible boards) are absorbing with reward 0."""
        key = (self.opponent, self.agent_first)
        if key not in _MODEL_CACHE:
            model = {}
            for s in range(N_STATES):
                board = decode(s)
                if self.is_agent_turn(board):
                    model[s] = {a: self._outcomes(board, a) for a in range(9)}
                else:
                    model[s] = {a: [(1.0, s, 0.0, True)] for a in range(9)}
            _MODEL_CACHE[key] = model
        return _MODEL_CACHE[key]

    # -- the game ----------------------------------------------------------------------
    def _opponent_reply(self, board: Board) -> Board:
        moves = opponent_moves(board, self.opponent)
        cell = moves[int(self.np_random.integers(len(moves)))][0]
        return board[:cell] + (2,) + board[cell + 1 :]

    def _info(self) -> dict[str, Any]:
        return {"action_mask": np.array([c == 0 for c in self.board], dtype=np.int8), "board": np.array(self.board, dtype=np.int8)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """An empty board (after the opponent's first move when it starts), or the board
        ``options={"state": s}`` encodes; ``info`` holds the legal-move mask and the board."""
        super().reset(seed=seed)
        if options and "state" in options:
            s = options["state"]
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or not 0 <= s < N_STATES or not self.is_agent_turn(decode(int(s))):
                raise ValueError(f"options['state'] must encode a live board with the agent to move; got {s!r}")
            self.board = decode(int(s))
        else:
            self.board = (0,) * 9
            if not self.agent_first:
                self.board = self._opponent_reply(self.board)
        return encode(self.board), self._info()

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Mark cell ``action`` (0-8, row by row), then the opponent replies. Reward +1 for a
        win, -1 for a loss or an illegal move (which ends the game), 0 otherwise."""
        a = int(action)
        if not 0 <= a < 9:
            raise ValueError(f"action must be a cell in [0, 9); got {action!r}")
        if self.board[a] != 0:
            info = self._info()
            info["illegal_move"] = True
            return encode(self.board), -1.0, True, False, info
        self.board = self.board[:a] + (1,) + self.board[a + 1 :]
        reward, terminated = 0.0, False
        if winner(self.board):
            reward, terminated = 1.0, True
        elif 0 not in self.board:
            terminated = True
        else:
            self.board = self._opponent_reply(self.board)
            if winner(self.board):
                reward, terminated = -1.0, True
            elif 0 not in self.board:
                terminated = True
        return encode(self.board), reward, terminated, False, self._info()

    def render(self) -> str | np.ndarray | None:
        """The board as text (``"ansi"``) or as an RGB array (``"rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            marks = {0: ".", 1: "X" if self.agent_first else "O", 2: "O" if self.agent_first else "X"}
            rows = [" ".join(marks[self.board[3 * r + c]] for c in range(3)) for r in range(3)]
            return "\n".join(rows) + "\n"
        size = 32
        img = np.full((3 * size, 3 * size, 3), 245, dtype=np.uint8)
        img[::size, :] = COLOURS["line"]
        img[:, ::size] = COLOURS["line"]
        yy, xx = np.mgrid[0:size, 0:size]
        cross = (np.abs(yy - xx) <= 2) | (np.abs(yy + xx - size + 1) <= 2)
        cross &= (yy > 5) & (yy < size - 5)
        ring = np.abs(np.hypot(yy - size / 2, xx - size / 2) - size / 3) <= 2
        for i, c in enumerate(self.board):
            if c == 0:
                continue
            r, col = divmod(i, 3)
            block = img[r * size : (r + 1) * size, col * size : (col + 1) * size]
            block[cross if c == 1 else ring] = COLOURS["x"] if c == 1 else COLOURS["o"]
        return img
