"""The t-SNE gradient: sparse attraction plus exact (blocked) or FFT-interpolated repulsion.

With the Student-t kernel ``K_ij = 1 / (1 + |y_i - y_j|^2)`` and ``Z = sum_{k != l} K_kl``,
the gradient of ``KL(P || Q)``, ``q_ij = K_ij / Z``, is (van der Maaten & Hinton, 2008)

    dC/dy_i = 4 * sum_j (p_ij - q_ij) K_ij (y_i - y_j)
            = 4 * [ sum_j p_ij K_ij (y_i - y_j)  -  (1/Z) sum_j K_ij^2 (y_i - y_j) ]
                    attraction (sparse P)            repulsion (all pairs)

Attraction only visits the stored pairs of P. Repulsion touches all N^2 pairs; two ways:

* ``exact_repulsion``: blocks of rows against all points, O(N^2) work, O(block * N)
  memory. Right for small N, and on a GPU for quite large N.
* ``fft_repulsion``: the interpolation scheme of FIt-SNE (Linderman et al., 2019). The
  sums ``sum_j K_ij^2 q_j`` for the charges ``q_j in {1, y_j, |y_j|^2}`` are sums of a
  smooth kernel, so the charges are spread onto an equispaced grid with Lagrange
  polynomials, the kernel is applied on the grid as a convolution by FFT, and the
  potentials are interpolated back: O(N + G log G) for G grid nodes.
"""

from __future__ import annotations

import torch

__all__ = ["attraction", "exact_repulsion", "fft_repulsion", "kl_divergence_exact"]


def attraction(Y: torch.Tensor, i: torch.Tensor, j: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``sum_j p_ij K_ij (y_i - y_j)`` for every i; each pair ``(i < j, p_ij)`` is stored once."""
    # Coordinates as rows (d, N): every step below runs over long contiguous rows.
    Yt = Y.T.contiguous()
    diff = Yt.index_select(1, i) - Yt.index_select(1, j)  # (d, pairs)
    force = diff * (p / (1.0 + (diff * diff).sum(0)))  # p_ij K_ij (y_i - y_j)
    pulled_i = torch.zeros_like(Yt).index_add_(1, i, force)
    pulled_j = torch.zeros_like(Yt).index_add_(1, j, force)  # the other end feels the opposite pull
    return (pulled_i - pulled_j).T


def exact_repulsion(Y: torch.Tensor, *, block_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_j K_ij^2 (y_i - y_j) for every i, Z)``, exactly, one block of rows at a time
    (default: blocks of about 4M pairs, a few temporary arrays of that size)."""
    n = Y.shape[0]
    block_size = block_size or max(1, 2**22 // n)
    sq = (Y * Y).sum(1)
    rep = torch.empty_like(Y)
    Z = torch.zeros((), dtype=Y.dtype, device=Y.device)
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        d2 = (sq[start:stop, None] + sq[None, :] - 2.0 * (Y[start:stop] @ Y.T)).clamp_min_(0.0)
        K = 1.0 / (1.0 + d2)
        rows = torch.arange(stop - start, device=Y.device)
        K[rows, rows + start] = 0.0  # no self-interaction
        Z = Z + K.sum()
        K2 = K * K
        # sum_j K_ij^2 (y_i - y_j) = y_i sum_j K_ij^2 - sum_j K_ij^2 y_j
        rep[start:stop] = Y[start:stop] * K2.sum(1, keepdim=True) - K2 @ Y
    return rep, Z


def _round_up_smooth(n: int) -> int:
    """The smallest integer >= n whose prime factors are all 2, 3, 5 or 7 (fast FFT sizes,
    as FIt-SNE rounds its box counts up to)."""
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _lagrange_weights(t: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
    """Lagrange basis polynomials at ``t`` (any shape) for ``nodes`` (p,): shape ``t.shape + (p,)``.

    ``L_k(t) = prod_{m != k} (t - u_m) / (u_k - u_m)``: interpolation that is exact for
    polynomials of degree p - 1.
    """
    p = nodes.shape[0]
    out = []
    for k in range(p):
        w = torch.ones_like(t)
        for m in range(p):
            if m != k:
                w = w * (t - nodes[m]) / (nodes[k] - nodes[m])
        out.append(w)
    return torch.stack(out, dim=-1)


def fft_repulsion(
    Y: torch.Tensor,
    *,
    n_interpolation_points: int = 3,
    min_num_intervals: int = 50,
    intervals_per_integer: float = 1.0,
    cache: dict | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_j K_ij^2 (y_i - y_j) for every i, Z)`` by FFT-accelerated interpolation.

    The bounding square of ``Y`` (1-D or 2-D) is cut into square boxes at most
    ``intervals_per_integer`` wide (the kernel varies on a scale of 1), at least
    ``min_num_intervals`` per side, each with ``n_interpolation_points`` equispaced nodes
    per side. Grid potentials are a discrete convolution with the kernel
    ``1 / (1 + r^2)^2``, computed with zero-padded real FFTs. Once the embedding is wide
    enough for boxes of exactly ``intervals_per_integer``, the kernel's spectrum depends
    only on the grid size; pass the same ``cache`` dict on every call to reuse it.
    """
    n, dim = Y.shape
    p = n_interpolation_points
    Yt = Y.T.contiguous()  # (dim, n): coordinates as rows
    # Four charges q_j = (1, y_j, |y_j|^2): from their K^2-potentials phi we get both
    #   sum_j K_ij^2 (y_i - y_j) = y_i phi_1 - phi_y    and
    #   sum_j K_ij = sum_j K_ij^2 (1 + |y_i - y_j|^2) = (1 + |y_i|^2) phi_1 - 2 y_i.phi_y + phi_|y|^2
    sq_norm = (Yt * Yt).sum(0, keepdim=True)
    charges = torch.cat([torch.ones_like(sq_norm), Yt, sq_norm])  # (C, n), C = dim + 2
    n_charges = charges.shape[0]

    lo, box_width, n_boxes = _boxes(Yt, min_num_intervals, intervals_per_integer)
    n_nodes = n_boxes * p  # per side
    spacing = box_width / p
    weights, flat = _interpolation_stencil(Yt, lo, box_width, n_boxes, p)

    # 1. Spread the charges onto the grid: grid[c, node] += w(point, node) * q_c(point).
    grid = torch.zeros(n_charges, n_nodes**dim, dtype=Y.dtype, device=Y.device)
    grid.index_add_(1, flat, (charges[:, None, :] * weights).reshape(n_charges, -1))

    # 2. Convolve with the kernel.
    kernel_spectrum = _kernel_spectrum(n_nodes, dim, spacing, Y.dtype, Y.device, cache)
    potential = _convolve(grid, kernel_spectrum, n_nodes, dim)

    # 3. Interpolate the potentials back to the points.
    phi = (potential.index_select(1, flat).reshape(n_charges, -1, n) * weights).sum(1)  # (C, n)
    phi_1, phi_y, phi_y2 = phi[:1], phi[1 : 1 + dim], phi[1 + dim :]
    rep = Yt * phi_1 - phi_y
    sum_K = (1.0 + sq_norm) * phi_1 - 2.0 * (Yt * phi_y).sum(0, keepdim=True) + phi_y2
    Z = sum_K.sum() - n  # remove the self-terms K_ii = 1
    return rep.T, Z


def _boxes(Yt: torch.Tensor, min_num_intervals: int, intervals_per_integer: float) -> tuple[float, float, int]:
    """``(lo, box_width, n_boxes)``: the grid's lower corner, box side and boxes per side."""
    lo = float(Yt.min())
    extent = float(Yt.max()) - lo
    if extent >= min_num_intervals * intervals_per_integer:  # boxes of the widest allowed size
        box_width = intervals_per_integer
        n_boxes = _round_up_smooth(int(extent / box_width) + 1)
    else:  # a small embedding: min_num_intervals boxes, narrower
        n_boxes = _round_up_smooth(min_num_intervals)
        box_width = max(extent, 1e-8) / n_boxes
    return lo, box_width, n_boxes


def _interpolation_stencil(Yt: torch.Tensor, lo: float, box_width: float, n_boxes: int,
                           p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``(p^dim, n)`` and flat grid indices ``(p^dim * n,)`` of the p^dim nodes around each point."""
    dim, n = Yt.shape
    n_nodes = n_boxes * p
    # Which box each coordinate falls in, and where inside it (t in [0, 1]).
    scaled = (Yt - lo) / box_width
    box = scaled.floor().clamp_(0, n_boxes - 1)
    local_nodes = (torch.arange(p, dtype=Yt.dtype, device=Yt.device) + 0.5) / p
    L = _lagrange_weights(scaled - box, local_nodes)  # (dim, n, p)
    node = box.long()[:, :, None] * p + torch.arange(p, device=Yt.device)  # (dim, n, p)
    if dim == 1:
        weights, flat = L[0].T, node[0].T
    else:
        weights = (L[0][:, :, None] * L[1][:, None, :]).reshape(n, p * p).T
        flat = (node[0][:, :, None] * n_nodes + node[1][:, None, :]).reshape(n, p * p).T
    return weights.contiguous(), flat.reshape(-1)


def _kernel_spectrum(n_nodes: int, dim: int, spacing: float, dtype: torch.dtype, device: torch.device,
                     cache: dict | None) -> torch.Tensor:
    """The real spectrum of ``1 / (1 + r^2)^2`` at node offsets -(n_nodes-1)..(n_nodes-1),
    laid out circularly in 2 * n_nodes so that the circular convolution equals the linear
    one. The kernel is real and even, so its spectrum is real: one factor per frequency."""
    key = (n_nodes, dim, spacing, dtype, device)
    if cache is not None and cache.get("key") == key:
        return cache["spectrum"]
    offsets = torch.arange(2 * n_nodes, dtype=dtype, device=device)
    offsets = torch.where(offsets < n_nodes, offsets, offsets - 2 * n_nodes) * spacing
    if dim == 1:
        kernel = 1.0 / (1.0 + offsets * offsets) ** 2
    else:
        kernel = 1.0 / (1.0 + offsets[:, None] ** 2 + offsets[None, :] ** 2) ** 2
    kernel_spectrum = torch.fft.rfftn(kernel).real
    if cache is not None:
        cache.update(key=key, spectrum=kernel_spectrum)
    return kernel_spectrum


def _convolve(grid: torch.Tensor, kernel_spectrum: torch.Tensor, n_nodes: int, dim: int) -> torch.Tensor:
    """The grid potentials ``(C, n_nodes^dim)``: each charge's grid convolved with the kernel, zero-padded."""
    n_charges = grid.shape[0]
    size = (2 * n_nodes,) * dim
    dims = tuple(range(1, dim + 1))
    spectrum = torch.fft.rfftn(grid.reshape((n_charges,) + (n_nodes,) * dim), s=size, dim=dims)
    spectrum *= kernel_spectrum
    potential = torch.fft.irfftn(spectrum, s=size, dim=dims)[(slice(None),) + (slice(0, n_nodes),) * dim]
    return potential.reshape(n_charges, -1)


def kl_divergence_exact(Y: torch.Tensor, i: torch.Tensor, j: torch.Tensor, p: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    """``KL(P || Q)`` over the stored pairs (each counted twice, as P is symmetric).

    ``sum_ij p_ij log(p_ij / q_ij)`` with ``q_ij = K_ij / Z``; pairs outside P contribute 0.
    """
    diff = Y.index_select(0, i) - Y.index_select(0, j)
    q = 1.0 / (1.0 + (diff * diff).sum(1)) / Z
    keep = p > 0
    return 2.0 * (p[keep] * torch.log(p[keep] / q[keep].clamp_min(1e-300))).sum()
