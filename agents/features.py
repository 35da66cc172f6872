"""Features for linear function approximation (Sutton & Barto, section 9.5).

A featurizer turns an observation into a feature vector x(s) so that v̂(s, w) = wᵀx(s) and
q̂(s, a, w) = w_aᵀx(s). Three kinds, chosen by ``features=`` in the approximation agents:

- ``"tile-coding"`` (section 9.5.4): ``n_tilings`` grids of ``tiles_per_dim`` tiles per
  dimension, each offset by a fraction of a tile along the asymmetric displacement vector
  (1, 3, 5, ...) the book recommends. Exactly ``n_tilings`` features are 1, so x(s) is kept
  as the indices of the active tiles and q̂ is a sum of ``n_tilings`` weights.
- ``"rbf"`` (section 9.5.5): Gaussian radial basis functions
  x_i(s) = exp(-||s - c_i||² / (2 σ²)) centred on a regular grid of ``rbf_per_dim`` points
  per dimension, with σ = ``rbf_width`` times the grid spacing, plus a constant bias feature.
- ``"one-hot"``: one feature per state of a Discrete space (the tabular case, section 9.5
  opening), so that a linear method reproduces its tabular counterpart exactly.

Box observations are first scaled to [0, 1] per dimension by an :class:`ObservationScaler`
fitted from samples: the space's own bounds where they are finite (uniform samples of a
bounded Box span exactly those bounds), and the observations of a few random-policy
episodes where they are not (CartPole's velocities are unbounded).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from gymnasium import spaces

from groundup.validation import check_choice, check_positive

__all__ = ["ObservationScaler", "TileCoder", "RBFFeatures", "OneHotFeatures", "make_featurizer", "FEATURES"]

FEATURES = ("tile-coding", "rbf", "one-hot")
_MAX_FEATURES = 1 << 24  # a weight table past this would not fit a laptop's memory comfortably
_HASHED_BITS = 20  # tiles past _MAX_FEATURES are hashed into 2^20 weights per action
_HASHED_FEATURES = 1 << _HASHED_BITS


class ObservationScaler:
    """Maps Box observations to [0, 1] per dimension (values outside are clipped).

    ``low``/``high`` are the bounds used; :meth:`fit` takes them from the space where finite
    and from ``samples`` (the 0.5th and 99.5th percentiles, widened by 10%) elsewhere.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        if self.low.shape != self.high.shape or not (self.high > self.low).all():
            raise ValueError(f"scaler bounds must satisfy high > low elementwise; got low={self.low}, high={self.high}")
        self._inv_range = 1.0 / (self.high - self.low)

    @classmethod
    def fit(cls, space: spaces.Box, samples: np.ndarray | None = None) -> "ObservationScaler":
        low = np.asarray(space.low, dtype=np.float64).copy()
        high = np.asarray(space.high, dtype=np.float64).copy()
        unbounded = ~(np.isfinite(low) & np.isfinite(high))
        if unbounded.any():
            if samples is None or len(samples) == 0:
                raise ValueError(f"the observation space {space} has unbounded dimensions {np.flatnonzero(unbounded).tolist()}; "
                                 "scaling them needs samples of observations (an environment to roll out)")
            samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
            lo, hi = np.percentile(samples, 0.5, axis=0), np.percentile(samples, 99.5, axis=0)
            margin = 0.1 * np.maximum(hi - lo, 1e-6)
            low[unbounded], high[unbounded] = (lo - margin)[unbounded], (hi + margin)[unbounded]
        return cls(low, high)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Scaled copy of one observation ``(d,)`` or a batch ``(n, d)``, clipped to [0, 1]."""
        return np.clip((np.asarray(obs, dtype=np.float64) - self.low) * self._inv_range, 0.0, 1.0)


class TileCoder:
    """Grid tile coding with asymmetric offsets (Sutton & Barto, section 9.5.4).

    Each of the ``n_tilings`` tilings covers [0, 1]^d with ``tiles_per_dim`` tiles per
    dimension plus one extra tile to absorb the offset, and tiling k is shifted by
    ``k / n_tilings`` of a tile times (1, 3, 5, ...) in successive dimensions.

    Where the tilings hold more tiles than ``_MAX_FEATURES`` (8 tilings of 9^d tiles pass
    it from d = 8, LunarLander's observation), the tiles are hashed into ``_HASHED_FEATURES``
    weights, as Sutton's ``tiles3`` does: an observation still activates one weight per
    tiling, and the few tiles a task visits rarely share one.
    """

    sparse = True

    def __init__(self, scaler: ObservationScaler, n_tilings: int = 8, tiles_per_dim: int = 8) -> None:
        self.scaler = scaler
        self.n_tilings = n_tilings
        self.tiles_per_dim = tiles_per_dim
        d = scaler.low.shape[0]
        side = tiles_per_dim + 1
        displacement = 2 * np.arange(d) + 1  # (1, 3, 5, ...)
        self._offsets = (np.arange(n_tilings)[:, None] * displacement[None, :] / n_tilings) % 1.0  # in tiles, (k, d)
        self.hashed = n_tilings * side**d > _MAX_FEATURES
        if self.hashed:
            self.n_features = _HASHED_FEATURES
            rng = np.random.default_rng(0)  # fixed: a saved agent's weights must mean the same tiles after loading
            self._multipliers = rng.integers(1, 2**62, size=d, dtype=np.uint64) | np.uint64(1)
            self._salts = rng.integers(0, 2**62, size=n_tilings, dtype=np.uint64)
        else:
            self.n_features = n_tilings * side**d
            self._strides = side ** np.arange(d - 1, -1, -1)
            self._bases = np.arange(n_tilings) * side**d

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The indices of the ``n_tilings`` active tiles of one observation."""
        coords = (self.scaler(obs) * self.tiles_per_dim + self._offsets).astype(np.int64)  # (k, d)
        if not self.hashed:
            return self._bases + coords @ self._strides
        with np.errstate(over="ignore"):  # multiplicative hashing wraps around 2^64 by design
            h = (coords.astype(np.uint64) * self._multipliers).sum(axis=1, dtype=np.uint64) + self._salts
            h *= np.uint64(0x9E3779B97F4A7C15)
        return (h >> np.uint64(64 - _HASHED_BITS)).astype(np.int64)

    @staticmethod
    def value(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """wᵀx for every row of ``w`` (actions) at once."""
        return w[..., x].sum(axis=-1)


class RBFFeatures:
    """Gaussian radial basis functions on a regular grid of centres, plus a bias feature.

    x_i(s) = exp(-||s - c_i||² / (2 σ²)) with s scaled to [0, 1]^d, centres ``rbf_per_dim``
    points per dimension from 0 to 1, and σ = ``width`` × the spacing between centres.
    """

    sparse = False

    def __init__(self, scaler: ObservationScaler, rbf_per_dim: int = 5, width: float = 1.0) -> None:
        self.scaler = scaler
        d = scaler.low.shape[0]
        n_centres = rbf_per_dim**d
        if n_centres + 1 > _MAX_FEATURES // 16:
            raise ValueError(f"rbf_per_dim={rbf_per_dim} in {d} dimensions gives {n_centres} centres; use fewer")
        self.grid = np.linspace(0.0, 1.0, rbf_per_dim)
        self.centres = np.array(list(itertools.product(self.grid, repeat=d)), dtype=np.float64)  # (n, d)
        spacing = 1.0 / max(rbf_per_dim - 1, 1)
        self.sigma = width * spacing
        self._inv_two_sigma_sq = 1.0 / (2.0 * self.sigma**2)
        self.n_features = n_centres + 1

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        s = self.scaler(obs)
        # On a grid the Gaussian factorises over dimensions, exp(-Σ_j (s_j - c_j)²/2σ²) =
        # Π_j exp(-(s_j - c_j)²/2σ²): d small vectors and their outer product replace a
        # distance to every centre (same values, in itertools.product order).
        per_dim = np.exp(-((s[:, None] - self.grid[None, :]) ** 2) * self._inv_two_sigma_sq)
        x = per_dim[0]
        for g in per_dim[1:]:
            x = np.multiply.outer(x, g).ravel()
        return np.append(x, 1.0)

    @staticmethod
    def value(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        return w @ x


class OneHotFeatures:
    """x(s) = e_s for the states of a Discrete space: linear methods become tabular."""

    sparse = True

    def __init__(self, space: spaces.Discrete) -> None:
        self.n_features = int(space.n)
        self.start = int(space.start)
        self._index = [np.array([i]) for i in range(self.n_features)]

    def __call__(self, obs: Any) -> np.ndarray:
        return self._index[int(obs) - self.start]

    @staticmethod
    def value(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        return w[..., x].sum(axis=-1)


def rollout_observations(env: Any, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Observations of a uniformly random policy, ``n_samples`` steps over as many episodes as
    that takes (used to scale unbounded observation dimensions)."""
    out = []
    obs, _ = env.reset(seed=int(rng.integers(2**31)))
    n_actions = int(env.action_space.n) if isinstance(env.action_space, spaces.Discrete) else None
    start = int(env.action_space.start) if n_actions else 0
    for _ in range(n_samples):
        out.append(np.asarray(obs, dtype=np.float64).ravel())
        action = start + int(rng.integers(n_actions)) if n_actions else env.action_space.sample()
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
    return np.array(out)


def make_featurizer(kind: str, observation_space: spaces.Space, *, scaler: ObservationScaler | None = None,
                    n_tilings: int = 8, tiles_per_dim: int = 8, rbf_per_dim: int = 5, rbf_width: float = 1.0) -> Any:
    """Build the featurizer ``kind`` (one of :data:`FEATURES`) for ``observation_space``."""
    check_choice("features", kind, FEATURES)
    if kind == "one-hot":
        if not isinstance(observation_space, spaces.Discrete):
            raise ValueError(f"features='one-hot' needs a Discrete observation space; got {observation_space}")
        return OneHotFeatures(observation_space)
    if not isinstance(observation_space, spaces.Box):
        raise ValueError(f"features={kind!r} needs a Box observation space; got {observation_space} (use features='one-hot')")
    if scaler is None:
        raise ValueError(f"features={kind!r} needs an ObservationScaler")
    if kind == "tile-coding":
        return TileCoder(scaler, n_tilings, tiles_per_dim)
    return RBFFeatures(scaler, rbf_per_dim, check_positive("rbf_width", rbf_width))
