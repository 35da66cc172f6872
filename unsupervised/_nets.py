"""Small pieces the neural estimators share: activations, initialisation, a dense stack,
and the loop that trains a stack as a classifier.

The fine-tuning of :class:`~groundup.unsupervised.DBN` and
:class:`~groundup.unsupervised.StackedAutoencoder` is :func:`train_classifier`, and so is
the training of ``benchmarks/training.py``, which compares optimisers and initialisations
on the very same steps (it reads validation error and time after each epoch through
``on_epoch_end``, and the gradients at the start through :func:`weight_gradient_norms`).

Weights are kept in the ``(out_features, in_features)`` layout of ``torch.nn.Linear``
and of scikit-learn's ``BernoulliRBM.components_``, so an RBM's ``W`` drops straight
into a feed-forward layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from groundup.torch_utils import train_minibatches
from groundup.validation import check_choice

__all__ = ["ACTIVATIONS", "activation_fn", "DenseStack", "glorot_weight", "he_weight",
           "train_classifier", "weight_gradient_norms"]

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


def glorot_weight(fan_out: int, fan_in: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Glorot/Xavier-uniform weights: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    w = torch.empty(fan_out, fan_in, device=device)
    return nn.init.xavier_uniform_(w, generator=generator)


def he_weight(fan_out: int, fan_in: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """He/Kaiming-normal weights for ReLU layers: N(0, 2 / fan_in) (He et al., 2015).

    A ReLU zeroes half of its inputs on average, so twice Glorot's variance keeps the
    size of the activations, and of the gradients, the same from layer to layer.
    """
    w = torch.empty(fan_out, fan_in, device=device)
    return nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)


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


def train_classifier(
    net: DenseStack,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    dropout: float = 0.0,
    on_epoch_end: Callable[[int, float], bool | None] | None = None,
    name: str = "train_classifier",
) -> list[float]:
    """Backpropagation through the whole stack: ``optimizer``'s steps on the cross-entropy
    of ``net``'s outputs (logits) against the integer labels ``y``, over shuffled
    minibatches (:func:`groundup.torch_utils.train_minibatches`).

    ``dropout`` (Srivastava et al., 2014) hides each hidden unit from the layer above
    with that probability at every step, so that no unit can rely on particular others;
    the pixels are never dropped. ``on_epoch_end(epoch, mean_loss)`` is called after
    each epoch (a learning-rate schedule, a log, a validation curve) and may return
    ``False`` to stop. A non-finite loss raises ``FloatingPointError``. Returns the mean
    loss of each epoch.
    """
    drop = [0.0] + [float(dropout)] * (len(net.weights) - 1)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(xb, drop=drop, generator=generator), yb)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return train_minibatches(step, [X, y], epochs=epochs, batch_size=batch_size, generator=generator,
                             on_epoch_end=on_epoch_end, name=name)


def weight_gradient_norms(net: DenseStack, X: torch.Tensor, y: torch.Tensor) -> list[float]:
    """The Frobenius norm of the gradient of the mean cross-entropy over ``(X, y)`` with
    respect to each layer's weights, bottom layer first.

    This is how vanishing gradients are measured: in a deep sigmoid network the norms
    shrink from the top layer to the bottom one. Neither the weights nor their ``.grad``
    are changed, so the measurement can be taken in the middle of training.
    """
    loss = F.cross_entropy(net(X), y)
    grads = torch.autograd.grad(loss, list(net.weights))
    return [float(g.norm()) for g in grads]
