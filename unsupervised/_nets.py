"""Small pieces the neural estimators share: activations, initialisation, a dense stack.

Weights are kept in the ``(out_features, in_features)`` layout of ``torch.nn.Linear``
and of scikit-learn's ``BernoulliRBM.components_``, so an RBM's ``W`` drops straight
into a feed-forward layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groundup.validation import check_choice

__all__ = ["ACTIVATIONS", "activation_fn", "check_layer_sizes", "DenseStack", "glorot_weight"]

_ALIASES = {"identity": None, "linear": None, "logistic": "sigmoid"}
# Elementwise activations of torch.nn.functional (by name, so a model's file can say which).
ACTIVATIONS = (
    "identity", "linear", "logistic", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "celu",
    "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "relu6", "hardswish", "hardsigmoid",
    "tanhshrink", "logsigmoid",
)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x  # a named function, not a lambda, so that the networks can be pickled


def activation_fn(name: str, *, param: str = "activation") -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation called ``name``, one of :data:`ACTIVATIONS` ("logistic" is "sigmoid",
    "linear" is "identity"); the others are the ``torch.nn.functional`` functions."""
    check_choice(param, name, ACTIVATIONS)
    key = _ALIASES.get(name, name)
    if key is None:
        return _identity
    return getattr(torch, key) if key in ("sigmoid", "tanh") else getattr(F, key)


def check_layer_sizes(sizes: Sequence[int], *, param: str = "hidden_layer_sizes") -> tuple[int, ...]:
    """Validate a sequence of positive layer widths; returns it as a tuple."""
    if isinstance(sizes, (int,)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        out = tuple(sizes)
    except TypeError:
        raise TypeError(f"{param} must be a sequence of positive integers; got {sizes!r}") from None
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in out):
        raise ValueError(f"{param} must be a non-empty sequence of positive integers; got {sizes!r}")
    return out


def glorot_weight(fan_out: int, fan_in: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Glorot/Xavier-uniform weights: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    w = torch.empty(fan_out, fan_in, device=device)
    return nn.init.xavier_uniform_(w, generator=generator)


class DenseStack(nn.Module):
    """Fully connected layers ``x -> act_l(x W_l^T + b_l)`` with one activation per layer."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], activations: Sequence[str]) -> None:
        super().__init__()
        if not (len(weights) == len(biases) == len(activations)):
            raise ValueError("weights, biases and activations must have the same length")
        self.weights = nn.ParameterList([nn.Parameter(w.detach().clone()) for w in weights])
        self.biases = nn.ParameterList([nn.Parameter(b.detach().clone()) for b in biases])
        self.activation_names = list(activations)
        self._acts = [activation_fn(a) for a in activations]

    def forward(self, x: torch.Tensor, *, upto: int | None = None, drop: Sequence[float] = (), generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply the first ``upto`` layers (all by default).

        ``drop[l]`` (training only) zeroes that fraction of layer l's inputs, drawn with
        ``generator``, and scales the rest by ``1 / (1 - drop[l])`` so their expected sum is
        unchanged (inverted dropout); layers past the end of ``drop`` see all their inputs.
        """
        for l, (W, b, act) in enumerate(list(zip(self.weights, self.biases, self._acts))[:upto]):
            p = drop[l] if l < len(drop) else 0.0
            if p > 0.0:
                x = x * torch.bernoulli(torch.full_like(x, 1.0 - p), generator=generator) / (1.0 - p)
            x = act(torch.addmm(b, x, W.T))
        return x
