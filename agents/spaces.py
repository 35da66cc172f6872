"""Space helpers every agent shares: describing, checking, serialising and indexing spaces."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

__all__ = ["describe", "space_kind", "to_json", "from_json", "TabularIndexer", "is_image_space"]


def describe(space: spaces.Space) -> str:
    """A short human-readable form, e.g. ``Discrete(16)`` or ``Box(-inf, inf, (4,), float32)``."""
    return repr(space)


def is_image_space(space: spaces.Space) -> bool:
    """A Box that looks like an image: 3-D (or 2-D uint8) pixels."""
    return isinstance(space, spaces.Box) and (len(space.shape) == 3 or (len(space.shape) == 2 and space.dtype == np.uint8))


def space_kind(space: spaces.Space) -> str:
    """The kind of a space, as agents declare what they support.

    ``"Discrete"``, ``"Tuple[Discrete]"`` (all members Discrete), ``"Box"`` (a flat vector),
    ``"Box[image]"``, or the space's class name for anything else (Dict, MultiDiscrete, ...).
    """
    if isinstance(space, spaces.Discrete):
        return "Discrete"
    if isinstance(space, spaces.Tuple) and len(space.spaces) > 0 and all(isinstance(s, spaces.Discrete) for s in space.spaces):
        return "Tuple[Discrete]"
    if isinstance(space, spaces.Box):
        if is_image_space(space):
            return "Box[image]"
        if len(space.shape) == 1:
            return "Box"
        return "Box[nd]"
    return type(space).__name__


def _floats(arr: np.ndarray) -> list:
    return [float(x) if math.isfinite(x) else ("inf" if x > 0 else "-inf") for x in np.asarray(arr, dtype=np.float64).ravel()]


def to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON description from which :func:`from_json` rebuilds an equal space."""
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [to_json(s) for s in space.spaces]}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": np.dtype(space.dtype).name,
                "low": _floats(space.low), "high": _floats(space.high)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": np.asarray(space.nvec).tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: to_json(s) for k, s in space.spaces.items()}}
    raise TypeError(f"cannot describe a space of type {type(space).__name__}")


def from_json(doc: dict[str, Any]) -> spaces.Space:
    kind = doc.get("type")
    if kind == "Discrete":
        return spaces.Discrete(int(doc["n"]), start=int(doc.get("start", 0)))
    if kind == "Tuple":
        return spaces.Tuple([from_json(d) for d in doc["spaces"]])
    if kind == "Box":
        shape = tuple(doc["shape"])
        low = np.array([float(x) for x in doc["low"]]).reshape(shape)
        high = np.array([float(x) for x in doc["high"]]).reshape(shape)
        return spaces.Box(low=low.astype(doc["dtype"]), high=high.astype(doc["dtype"]), shape=shape, dtype=np.dtype(doc["dtype"]))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(doc["nvec"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(doc["n"])
    if kind == "Dict":
        return spaces.Dict({k: from_json(d) for k, d in doc["spaces"].items()})
    raise ValueError(f"unknown space description {doc!r}")


class TabularIndexer:
    """Maps observations of a Discrete or Tuple-of-Discrete space to ``0..n_states-1``.

    Tuple spaces (Blackjack's ``(player sum, dealer card, usable ace)``) are flattened in
    row-major order, so ``n_states`` is the product of the members' sizes.
    """

    def __init__(self, space: spaces.Space) -> None:
        if isinstance(space, spaces.Discrete):
            self.sizes = (int(space.n),)
            self.starts = (int(space.start),)
            self.is_tuple = False
        else:
            self.sizes = tuple(int(s.n) for s in space.spaces)
            self.starts = tuple(int(s.start) for s in space.spaces)
            self.is_tuple = True
        self.n_states = int(np.prod(self.sizes))
        strides, acc = [], 1
        for n in reversed(self.sizes):
            strides.append(acc)
            acc *= n
        self.strides = tuple(reversed(strides))
        self.offset = sum(st * s0 for st, s0 in zip(self.strides, self.starts))

    def index(self, obs: Any) -> int:
        """One observation to its state index (no checks: the hot path)."""
        if self.is_tuple:
            return sum(int(o) * st for o, st in zip(obs, self.strides)) - self.offset
        return int(obs) - self.offset

    def observation(self, index: int) -> Any:
        """The observation of a state index (a tuple for Tuple spaces)."""
        if not self.is_tuple:
            return index + self.starts[0]
        out = []
        for st, s0 in zip(self.strides, self.starts):
            q, index = divmod(index, st)
            out.append(q + s0)
        return tuple(out)

    def batch(self, obs: Any) -> tuple[np.ndarray, bool]:
        """Observations (one or a batch, as SB3's VecEnv gives them) to indices and a flag
        saying whether the input was a batch. Raises ``ValueError`` for out-of-range input."""
        if self.is_tuple:
            k = len(self.sizes)
            if isinstance(obs, tuple) and len(obs) == k and all(np.ndim(o) == 0 for o in obs):
                cols, batched = [np.asarray([o]) for o in obs], False
            elif isinstance(obs, tuple) and len(obs) == k:
                cols, batched = [np.asarray(o).reshape(-1) for o in obs], True
            else:
                arr = np.asarray(obs)
                if arr.ndim != 2 or arr.shape[1] != k:
                    raise ValueError(f"observation must be a {k}-tuple of integers, a tuple of {k} arrays or an (n, {k}) array; got {obs!r}")
                cols, batched = [arr[:, j] for j in range(k)], True
            idx = np.zeros(len(cols[0]), dtype=np.int64)
            for c, st, s0, n in zip(cols, self.strides, self.starts, self.sizes):
                c = np.asarray(c)
                if not np.issubdtype(c.dtype, np.integer) or (c < s0).any() or (c >= s0 + n).any():
                    raise ValueError(f"observation component out of range [{s0}, {s0 + n}): {c!r}")
                idx += (c.astype(np.int64) - s0) * st
            return idx, batched
        arr = np.asarray(obs)
        batched = arr.ndim > 0
        flat = arr.reshape(-1)
        if flat.size and not np.issubdtype(flat.dtype, np.integer):
            if np.issubdtype(flat.dtype, np.floating) and np.all(flat == np.round(flat)):
                flat = flat.astype(np.int64)
            else:
                raise ValueError(f"observation must be integer states of Discrete({self.sizes[0]}); got {obs!r}")
        idx = flat.astype(np.int64) - self.starts[0]
        if (idx < 0).any() or (idx >= self.sizes[0]).any():
            raise ValueError(f"observation must be in [{self.starts[0]}, {self.starts[0] + self.sizes[0]}); got {obs!r}")
        return idx, batched
