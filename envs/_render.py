"""Small NumPy drawing helpers for ``render_mode="rgb_array"`` (no pygame needed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CELL = 32

COLOURS = {
    "empty": (235, 235, 235),
    "wall": (60, 60, 60),
    "good": (90, 190, 90),
    "bad": (210, 80, 80),
    "start": (150, 180, 230),
    "agent": (30, 60, 200),
    "wind1": (215, 225, 245),
    "wind2": (190, 205, 240),
    "line": (120, 120, 120),
    "x": (200, 60, 60),
    "o": (40, 90, 200),
}


def grid_image(colours: np.ndarray, agent: tuple[int, int] | None) -> np.ndarray:
    """An RGB image of a grid; ``colours`` is a (rows, cols, 3) array of cell colours."""
    rows, cols, _ = colours.shape
    img = np.repeat(np.repeat(colours.astype(np.uint8), CELL, axis=0), CELL, axis=1)
    img[::CELL, :, :] = COLOURS["line"]
    img[:, ::CELL, :] = COLOURS["line"]
    if agent is not None:
        r, c = agent
        yy, xx = np.mgrid[0:CELL, 0:CELL]
        disc = (yy - CELL / 2) ** 2 + (xx - CELL / 2) ** 2 <= (CELL / 3) ** 2
        block = img[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL]
        block[disc] = COLOURS["agent"]
    return np.ascontiguousarray(img)


def grid_text(
    shape: tuple[int, int],
    agent: tuple[int, int],
    cell: Callable[[int, int], str],
    agent_mark: str = "A",
    sep: str = " ",
    footer: list[str] | None = None,
) -> str:
    """An ``ansi`` rendering: ``cell(r, c)`` draws each cell, ``agent_mark`` the agent's."""
    rows, cols = shape
    lines = [sep.join(agent_mark if (r, c) == agent else cell(r, c) for c in range(cols)) for r in range(rows)]
    return "\n".join(lines + (footer or [])) + "\n"
