"""The Recursive Neural Tensor Network (Socher et al., 2013, "Recursive Deep Models for
Semantic Compositionality Over a Sentiment Treebank").

The plain recursive net composes two children ``a`` and ``b`` through one matrix,
``tanh(W [a; b])``, so each child can only shift the parent additively. The RNTN adds a
bilinear term: with ``x = [a; b]`` (size 2d),

    p_k = tanh(x^T V[k] x + (W x)_k + bias_k),     k = 1..d,

one ``2d x 2d`` slice ``V[k]`` per output unit. Products such as a_i * b_j let a word
like "not" *multiply* its sibling's sentiment direction, which is what negation needs.
Everything else (word vectors, the softmax at every node, batching by level, training)
is :class:`groundup.nlp.RecursiveNN`'s.
"""

from __future__ import annotations

import torch
from torch import nn

from groundup.nlp.recursive_nn import RecursiveNN

__all__ = ["RNTN", "TensorComposition"]


class TensorComposition(nn.Module):
    """``p = tanh(x^T V x + W x + bias)`` with ``x = [a; b]``; ``V`` is ``(d, 2d, 2d)``."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.W = nn.Linear(2 * d, d)
        # Socher et al. initialise V small, so training starts close to the plain RNN.
        self.V = nn.Parameter(torch.empty(d, 2 * d, 2 * d).uniform_(-1.0 / (4 * d), 1.0 / (4 * d)))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.cat([a, b], dim=-1)  # (n, 2d)
        # (x V_k) . x for every slice k at once: (n, 2d) x (d, 2d, 2d) -> (n, d, 2d) -> (n, d)
        bilinear = torch.einsum("ni,kij,nj->nk", x, self.V, x)
        return torch.tanh(bilinear + self.W(x))


class RNTN(RecursiveNN):
    """Recursive Neural Tensor Network sentiment classifier; same parameters and methods
    as :class:`groundup.nlp.RecursiveNN`, with the tensor composition."""

    _class_id = "groundup.nlp.RNTN"

    def _make_composition(self, d: int) -> nn.Module:
        return TensorComposition(d)
