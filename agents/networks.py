"""Networks for the deep agents, written once: multi-layer perceptrons from ``net_arch``,
observation encoding, acting in NumPy, and optimizer state as plain tensors.

Why act in NumPy: choosing one action for one observation is a handful of tiny matrix
products, where torch's per-call overhead (~70 µs) dwarfs the arithmetic (~10 µs).
:class:`NumpyMLP` runs the same forward pass on NumPy views of the torch parameters (on the
CPU they share memory, so every optimizer step is seen at once; on a GPU :meth:`refresh`
copies them back after each batch of updates). Training stays in torch, in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from groundup.validation import check_choice

__all__ = ["ACTIVATIONS", "check_activation", "mlp", "ObservationEncoder", "NumpyMLP",
           "RunningMeanStd", "optimizer_state", "load_optimizer_state"]

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


def check_activation(activation: Any) -> str:
    """The name of a hidden layer's activation: one of :data:`ACTIVATIONS`."""
    return check_choice("activation", activation, tuple(ACTIVATIONS))


def mlp(in_dim: int, hidden: Sequence[int], activation: str) -> nn.Sequential:
    """Linear → activation for each hidden size: the trunk every head sits on."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_dim, size), ACTIVATIONS[activation]()]
        in_dim = size
    return nn.Sequential(*layers)


class ObservationEncoder:
    """Observations as float32 network inputs: Box vectors as they are, Discrete as one-hot.

    With ``scale=True`` the finite bounds of a Box are mapped to [-1, 1] (a fixed affine
    map; unbounded dimensions are left alone): Mountain Car's velocity (±0.07) then weighs
    as much as its position (-1.2 to 0.6) from the first update on.
    ``encode(raw_batch)`` trusts its input (the environment's); :meth:`batch` checks what a
    user passes to ``predict`` and says whether it was one observation or a batch.
    """

    def __init__(self, space: spaces.Space, scale: bool = False) -> None:
        self.space = space
        self._shift = self._mul = None
        if isinstance(space, spaces.Discrete):
            self.dim = int(space.n)
            self._eye = np.eye(self.dim, dtype=np.float32)
            self._start = int(space.start)
        elif isinstance(space, spaces.Box) and len(space.shape) == 1:
            self.dim = int(space.shape[0])
            self._eye = None
            low, high = space.low.astype(np.float64), space.high.astype(np.float64)
            finite = np.isfinite(low) & np.isfinite(high) & (high > low)
            if scale and finite.any():
                low, high = np.where(finite, low, -1.0), np.where(finite, high, 1.0)  # unbounded: x ↦ x
                self._shift = ((low + high) / 2).astype(np.float32)
                self._mul = (2 / (high - low)).astype(np.float32)
        else:  # the agents' space checks exclude this; a clear message if one is bypassed
            raise TypeError(f"networks take a flat Box or a Discrete observation space; got {space}")

    def encode(self, raw: Any) -> np.ndarray:
        """A batch of raw observations ``(n, ...)`` as an ``(n, dim)`` float32 array."""
        if self._eye is not None:
            return self._eye[np.asarray(raw, dtype=np.int64).reshape(-1) - self._start]
        x = np.asarray(raw, dtype=np.float32).reshape(-1, self.dim)
        return x if self._mul is None else (x - self._shift) * self._mul

    def batch(self, observation: Any) -> tuple[np.ndarray, bool]:
        """Check ``observation`` (one or a batch, SB3's VecEnv convention) and encode it."""
        arr = np.asarray(observation)
        if self._eye is not None:
            if not np.issubdtype(arr.dtype, np.integer) or arr.ndim > 1:
                raise ValueError(f"observation must be an integer state of {self.space} or a 1-D batch of them; got {observation!r}")
            flat = arr.reshape(-1)
            if ((flat < self._start) | (flat >= self._start + self.dim)).any():
                raise ValueError(f"observation must lie in [{self._start}, {self._start + self.dim}); got {observation!r}")
            return self.encode(flat), arr.ndim == 1
        if arr.shape == (self.dim,):
            batched = False
        elif arr.ndim == 2 and arr.shape[1] == self.dim:
            batched = True
        else:
            raise ValueError(f"observation must have shape ({self.dim},) or (n_envs, {self.dim}); got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
            raise ValueError("observation must be finite numbers (it holds NaN, infinity or non-numbers)")
        return self.encode(arr), batched


class NumpyMLP:
    """The forward pass of an ``nn.Sequential`` of ``Linear`` and ReLU/Tanh layers in NumPy."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.refresh()

    def refresh(self) -> None:
        """Re-read the weights (a no-copy view on the CPU; a copy from a GPU)."""
        self._layers: list[tuple[str, Any, Any]] = []
        modules = list(self.module) if isinstance(self.module, nn.Sequential) else [self.module]
        for m in modules:
            if isinstance(m, nn.Linear):
                weight = m.weight.detach().cpu().numpy().T
                bias = m.bias.detach().cpu().numpy()
                self._layers.append(("linear", weight, bias))
            elif isinstance(m, nn.ReLU):
                self._layers.append(("relu", None, None))
            elif isinstance(m, nn.Tanh):
                self._layers.append(("tanh", None, None))
            else:
                raise TypeError(f"NumpyMLP handles Linear, ReLU and Tanh layers; got {type(m).__name__}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for kind, weight, bias in self._layers:
            if kind == "linear":
                x = x @ weight + bias
            elif kind == "relu":
                x = np.maximum(x, 0.0, out=x)
            else:
                x = np.tanh(x, out=x)
        return x


# -- optimizer state as tensors + JSON (for groundup.persistence: no pickle) -------------------
def optimizer_state(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into named tensors and a JSON-able remainder."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    shapes: dict[str, list[int]] = {}
    for index, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value
                shapes[f"{index}.{key}"] = list(value.shape)  # 0-d tensors (Adam's step) come back 1-d
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars, "shapes": shapes, "indices": [int(i) for i in sd["state"]]}


def load_optimizer_state(optimizer: torch.optim.Optimizer, prefix: str, tensors: dict[str, np.ndarray], doc: dict[str, Any]) -> None:
    """Rebuild and load a state dict written by :func:`optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for index in doc["indices"]:
        entry: dict[str, Any] = dict(doc["scalars"].get(str(index), {}))
        head = f"{prefix}.{index}."
        for name, arr in tensors.items():
            if name.startswith(head):
                key = name[len(head):]
                shape = doc.get("shapes", {}).get(f"{index}.{key}")
                value = np.array(arr)
                entry[key] = torch.from_numpy(value.reshape(shape) if shape is not None else value)
        state[int(index)] = entry
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in doc["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


class RunningMeanStd:
    """Running mean and variance of observations (Chan et al.'s parallel update), used to
    normalise network inputs as SB3's ``VecNormalize`` does: (x - mean) / sqrt(var + 1e-8),
    clipped to ±``clip``."""

    def __init__(self, dim: int, clip: float = 10.0) -> None:
        self.mean = np.zeros(dim)
        self.var = np.ones(dim)
        self.count = 1e-4  # as SB3: the first batch dominates at once
        self.clip = clip

    def update(self, batch: np.ndarray) -> None:
        if len(batch) == 0:  # e.g. every sub-environment resetting at once
            return
        batch_mean, batch_var, n = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def normalize(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / np.sqrt(self.var + 1e-8), -self.clip, self.clip).astype(np.float32)
