"""A bidirectional RNN over padded batches, and batches of sentences of similar length.

Padding-aware without packing. The backward direction of a bidirectional RNN must start
at each sentence's *last real token*, not at the padding after it. torch's usual answer
is ``pack_padded_sequence``, but on a CPU the packed LSTM's backward pass slices the
packed data once per time step, which makes it much slower than the padded version. So
each direction is its own one-directional RNN over the padded batch: the forward one
reads ``x`` left to right (padding comes after every real token, so it changes nothing
that is used), the backward one reads each sentence reversed *within its own length*
(:func:`reverse_padded`), which puts the padding at the end again. The result equals the
packed bidirectional RNN exactly (a test checks this).

Similar lengths together. A padded batch costs as much as its longest sentence times the
batch size, so :func:`length_buckets` shuffles the sentences, sorts them by length within
pools of 50 batches, and shuffles the resulting batches: every epoch sees new batches,
and each batch wastes little on padding.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["reverse_padded", "BiRNN", "length_buckets"]


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of ``x`` ``(batch, time, ...)`` within its first ``lengths[i]``
    steps; the padding after them stays where it is. Applying it twice gives ``x``."""
    batch, time = x.shape[:2]
    steps = torch.arange(time, device=x.device).unsqueeze(0).expand(batch, time)
    lengths = lengths.to(x.device).unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    index = index.view(batch, time, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class BiRNN(nn.Module):
    """``num_layers`` bidirectional layers of ``cell`` (``nn.RNN``, ``nn.GRU`` or
    ``nn.LSTM``), each direction a one-directional RNN; dropout between layers."""

    def __init__(self, cell: type[nn.Module], input_size: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.forward_rnns = nn.ModuleList()
        self.backward_rnns = nn.ModuleList()
        for layer in range(num_layers):
            size = input_size if layer == 0 else 2 * hidden_size
            self.forward_rnns.append(cell(size, hidden_size, batch_first=True))
            self.backward_rnns.append(cell(size, hidden_size, batch_first=True))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``(batch, time, 2 * hidden_size)``: both directions' states at every position
        (the values at padding positions are meaningless; mask them)."""
        for layer, (fwd, bwd) in enumerate(zip(self.forward_rnns, self.backward_rnns)):
            if layer > 0:
                x = self.dropout(x)
            left_to_right, _ = fwd(x)
            right_to_left, _ = bwd(reverse_padded(x, lengths))
            x = torch.cat([left_to_right, reverse_padded(right_to_left, lengths)], dim=-1)
        return x


def length_buckets(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool: int = 50) -> list[np.ndarray]:
    """Index batches for one epoch: shuffled, sorted by length within pools of ``pool``
    batches (stable, so ties keep the shuffled order), the batch order shuffled again."""
    order = rng.permutation(len(lengths))
    batches = []
    step = batch_size * pool
    for start in range(0, len(order), step):
        chunk = order[start : start + step]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]
