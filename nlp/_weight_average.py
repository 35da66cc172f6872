"""A running average of a network's weights, kept beside the weights that train."""

from __future__ import annotations

from collections.abc import Iterable

import torch


class WeightAverage:
    """Exponential moving average of ``parameters``: after each optimizer step
    ``average <- m * average + (1 - m) * weight``, with ``m = min(momentum, (1 + t) / (10 + t))``
    at update ``t`` (TensorFlow's ExponentialMovingAverage with ``num_updates``), so the
    random start fades fast. ``swap()`` exchanges the live weights and the average, to
    validate or keep the averaged model and swap back to go on training."""

    def __init__(self, parameters: Iterable[torch.nn.Parameter], momentum: float) -> None:
        self.weights = list(parameters)
        self.averaged = [q.detach().clone() for q in self.weights]
        self.momentum = momentum
        self.n_updates = 0

    @torch.no_grad()
    def update(self) -> None:
        self.n_updates += 1
        m = min(self.momentum, (1 + self.n_updates) / (10 + self.n_updates))
        # One fused call over all tensors, not a Python loop of small lerps (one per tensor).
        torch._foreach_lerp_(self.averaged, [q.detach() for q in self.weights], 1.0 - m)

    @torch.no_grad()
    def swap(self) -> None:
        for a, q in zip(self.averaged, self.weights):
            live = q.detach().clone()
            q.copy_(a)
            a.copy_(live)
