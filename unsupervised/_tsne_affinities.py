"""t-SNE's input affinities P: nearest neighbours, the perplexity search, symmetrisation.

van der Maaten (2014) showed that each point's Gaussian only needs its ``3 * perplexity``
nearest neighbours: farther points get a probability below ``exp(-4.5)``-ish of the
nearest ones and contribute nothing visible. So P is sparse, with about
``N * 3 * perplexity`` entries, whatever the gradient method.
"""

from __future__ import annotations

import math

import torch

from groundup.unsupervised._tsne_neighbors import nearest_neighbors

__all__ = ["nearest_neighbors", "conditional_probabilities", "joint_probabilities"]


def conditional_probabilities(sq_distances: torch.Tensor, perplexity: float, *, n_steps: int = 100, tol: float = 1e-5) -> torch.Tensor:
    """``p_{j|i}`` over each row's neighbours, with each row's precision found by bisection.

    Row ``i`` gets ``p_{j|i} = exp(-beta_i d_ij^2) / sum_k exp(-beta_i d_ik^2)`` with
    ``beta_i = 1 / (2 sigma_i^2)`` chosen so that the entropy ``H_i`` (in nats) equals
    ``log(perplexity)``. All rows are searched at once: the same doubling-then-halving
    bisection as scikit-learn's ``_binary_search_perplexity``, vectorised over rows, in
    float64. ``n_steps`` (default 100) and ``tol`` (in nats, default 1e-5) bound it.
    """
    d = sq_distances.to(torch.float64)
    # Subtracting each row's nearest distance leaves P unchanged and keeps exp() in range.
    d = d - d[:, :1]
    target = math.log(perplexity)
    n = d.shape[0]
    beta = torch.ones(n, dtype=torch.float64, device=d.device)
    lo = torch.zeros_like(beta)
    hi = torch.full_like(beta, float("inf"))
    for _ in range(n_steps):
        P = torch.exp(-d * beta[:, None])
        sum_P = P.sum(1).clamp_min(1e-300)
        # H = log(sum P) + beta * sum(d P) / sum(P), the entropy of the normalised row
        H = torch.log(sum_P) + beta * (d * P).sum(1) / sum_P
        diff = H - target
        if bool((diff.abs() <= tol).all()):
            break
        too_flat = diff > 0  # entropy too high: the Gaussian is too wide, raise beta
        lo = torch.where(too_flat, beta, lo)
        hi = torch.where(too_flat, hi, beta)
        beta = torch.where(
            too_flat,
            torch.where(torch.isinf(hi), beta * 2.0, (beta + hi) / 2.0),
            (beta + lo) / 2.0,
        )
    P = torch.exp(-d * beta[:, None])
    return (P / P.sum(1, keepdim=True)).to(sq_distances.dtype)


def joint_probabilities(
    neighbors: torch.Tensor, conditional: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Symmetrise ``p_ij = (p_{j|i} + p_{i|j}) / (2N)`` and keep each pair once.

    Returns ``(i, j, p)`` with ``i < j``: P is symmetric, so the attractive force of a
    pair is computed once and applied with opposite signs to both ends. The entries of
    the full (both-halves) matrix sum to 1.
    """
    n, k = neighbors.shape
    rows = torch.arange(n, device=neighbors.device).repeat_interleave(k)
    cols = neighbors.reshape(-1)
    vals = conditional.reshape(-1)
    # p_{j|i} sits at (i, j) and p_{i|j} at (j, i); fold both onto the pair (min, max).
    i = torch.minimum(rows, cols)
    j = torch.maximum(rows, cols)
    key = i * n + j
    unique, inverse = torch.unique(key, return_inverse=True)
    p = torch.zeros(unique.shape[0], dtype=vals.dtype, device=vals.device).index_add_(0, inverse, vals)
    p = p / (2.0 * n)
    return unique // n, unique % n, p
