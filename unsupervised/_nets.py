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
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from groundup.early_stopping import ValidationMonitor, split_size
from groundup.progress import TrainingLog
from groundup.torch_utils import train_minibatches
from groundup.validation import check_choice

__all__ = ["ACTIVATIONS", "activation_fn", "DenseStack", "glorot_weight", "he_weight", "classifier_step",
           "train_classifier", "validation_split", "train_until_stopped", "weight_gradient_norms"]

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
    return train_minibatches(classifier_step(net, optimizer, dropout, generator), [X, y], epochs=epochs,
                             batch_size=batch_size, generator=generator, on_epoch_end=on_epoch_end, name=name)


def classifier_step(net: DenseStack, optimizer: torch.optim.Optimizer, dropout: float,
                    generator: torch.Generator | None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """One optimiser step on a minibatch's cross-entropy (logits against integer labels),
    with dropout of the hidden units (never of the inputs); returns the batch's loss."""
    drop = [0.0] + [float(dropout)] * (len(net.weights) - 1)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(xb, drop=drop, generator=generator), yb)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


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


def validation_split(n: int, fraction: float, generator: torch.Generator, *,
                     y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, validation)`` of ``n`` samples, ``fraction`` of them (at least one,
    :func:`groundup.early_stopping.split_size`) set aside for early stopping, drawn with
    ``generator``. With labels ``y`` the split is stratified, as scikit-learn's
    ``MLPClassifier`` does: every class keeps its share in both parts, so a rare class is
    not left out of the validation score by chance."""
    n_val = split_size(fraction, n, "sample", "a larger validation_fraction", stacklevel=5)
    order = torch.randperm(n, generator=generator, device=generator.device).cpu()
    if y is None:
        return order[n_val:], order[:n_val]
    labels = y.cpu()[order]
    # Take each class's first ceil(share) rows of the shuffled order, largest remainders
    # first, so the validation part holds exactly n_val rows in the training proportions.
    classes, counts = torch.unique(labels, return_counts=True)
    quota = counts.double() * n_val / n
    take = quota.floor().long()
    short = n_val - int(take.sum())
    if short > 0:
        take[torch.argsort(quota - take.double(), descending=True, stable=True)[:short]] += 1
    is_val = torch.zeros(n, dtype=torch.bool)
    for c, k in zip(classes.tolist(), take.tolist()):
        is_val[(labels == c).nonzero().flatten()[:k]] = True
    return order[~is_val], order[is_val]


def train_until_stopped(
    module: nn.Module,
    step: Callable[..., torch.Tensor],
    tensors: Sequence[torch.Tensor],
    *,
    monitor: ValidationMonitor,
    score: Callable[[float], float],
    keep_best: bool,
    max_iter: int,
    batch_size: int,
    generator: torch.Generator,
    log: TrainingLog,
    on_epoch_end: Callable[[int, float], Any] | None = None,
    initial_score: float | None = None,
    name: str = "training",
) -> list[float]:
    """The minibatch loop (:func:`groundup.torch_utils.train_minibatches`) under
    :class:`~groundup.early_stopping.ValidationMonitor`'s rules, for every estimator here
    that stops early.

    After each epoch, ``on_epoch_end(epoch, mean_loss)`` runs (a schedule), then
    ``score(mean_loss)`` (a validation score, or the negated training loss) goes to the
    monitor, which says when to stop. With ``keep_best`` the module ends with the weights of
    its best-scoring epoch; ``initial_score``, the score before any training, lets the
    starting weights win too (an autoencoder that starts at PCA's solution). The log gets
    one row per epoch and the stop reason. Returns the mean training loss of each epoch.
    """
    best: dict[str, torch.Tensor] | None = None

    def snapshot() -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in module.state_dict().items()}

    if initial_score is not None:
        monitor.best_score, monitor.best_epoch = initial_score, 0
        monitor.started = initial_score > monitor.floor
        best = snapshot() if keep_best else None

    def end_of_epoch(epoch: int, loss: float) -> bool:
        nonlocal best
        if on_epoch_end is not None:
            on_epoch_end(epoch, loss)
        value = score(loss)
        if monitor.update(value) and keep_best:
            best = snapshot()
        log.append(epoch=epoch + 1, loss=loss, **{monitor.metric: value})
        return not monitor.stopped_early

    history = train_minibatches(step, tensors, epochs=max_iter, batch_size=batch_size, generator=generator,
                                on_epoch_end=end_of_epoch, name=name)
    if best is not None:
        module.load_state_dict(best)
    log.stop(monitor.stop_reason(max_iter))
    return history
