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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

__all__ = ["attraction", "exact_repulsion", "fft_repulsion", "reference_field", "field_repulsion", "kl_divergence_exact"]


_POOL: dict[int, ThreadPoolExecutor] = {}


def _in_parallel(jobs: list[Callable[[], object]]) -> None:
    """Run independent in-place torch operations side by side, one Python thread each.

    Scatter-adds (``index_add_``) run on one core in torch; the coordinates (or charges)
    scatter into separate rows, so they can run at once on ``torch.get_num_threads()``
    cores (torch releases the GIL inside each operation)."""
    threads = min(torch.get_num_threads(), len(jobs))
    if threads <= 1:
        for job in jobs:
            job()
        return
    pool = _POOL.get(threads)
    if pool is None:
        pool = _POOL[threads] = ThreadPoolExecutor(threads, thread_name_prefix="groundup-tsne")
    for future in [pool.submit(job) for job in jobs]:
        future.result()


# Pairs per slice of the attraction: a slice's temporaries (a few arrays of this many
# floats) stay in the core's cache, so each pair is read from memory once, not once per
# operation.
_PAIR_CHUNK = 1 << 17
# The pair arrays are cut into this many parts, each adding into a force array of its own,
# summed in a fixed order: the threads share out the parts, so the result does not depend
# on how many threads there are.
_PAIR_PARTS = 8


def attraction(Y: torch.Tensor, i: torch.Tensor, j: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``sum_j p_ij K_ij (y_i - y_j)`` for every i; each pair ``(i < j, p_ij)`` is stored once.

    The pairs outnumber the points about a hundred to one, so the cost is the passes over
    the pair arrays. They are taken in cache-sized slices (``_PAIR_CHUNK``), one coordinate
    at a time, and the parts (``_PAIR_PARTS``) are shared among ``torch.get_num_threads()``
    threads; each part adds into a force array of its own (the scatter-adds of two threads
    would race on one), and they are summed at the end."""
    Yt = Y.T.contiguous()  # coordinates as rows (d, N): long contiguous rows
    n_pairs = i.shape[0]
    parts = max(1, min(_PAIR_PARTS, -(-n_pairs // _PAIR_CHUNK)))
    outs = [torch.zeros_like(Yt) for _ in range(parts)]
    bounds = [n_pairs * t // parts for t in range(parts + 1)]

    def pull(part: int) -> Callable[[], object]:
        def run() -> None:
            out = outs[part]
            for s in range(bounds[part], bounds[part + 1], _PAIR_CHUNK):
                e = min(s + _PAIR_CHUNK, bounds[part + 1])
                ii, jj = i[s:e], j[s:e]
                diffs = [y.index_select(0, ii).sub_(y.index_select(0, jj)) for y in Yt]
                w = diffs[0] * diffs[0]
                for d in diffs[1:]:
                    w.addcmul_(d, d)
                w = torch.div(p[s:e], w.add_(1.0), out=w)  # p_ij K_ij
                for c, d in enumerate(diffs):
                    force = d.mul_(w)
                    # the other end of each pair feels the opposite pull
                    out[c].index_add_(0, ii, force).index_add_(0, jj, force, alpha=-1.0)
        return run

    _in_parallel([pull(part) for part in range(parts)])
    total = outs[0]
    for other in outs[1:]:
        total += other
    return total.T


def exact_repulsion(Y: torch.Tensor, *, block_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_j K_ij^2 (y_i - y_j) for every i, Z)``, exactly, one block of points at a time
    (default: blocks of about 4M pairs).

    ``1 + |y_i - y_j|^2`` is one matrix product of the augmented rows
    ``[1, |y_j|^2, y_j]`` and ``[1 + |y_i|^2, 1, -2 y_i]``; then ``K`` and ``K^2`` are made
    in place and ``[1, Y]^T K^2`` gives both ``sum_j K_ij^2`` and ``sum_j K_ij^2 y_j`` in a
    second product: few passes over the block, no temporaries of its size. The block
    holds the block's points as columns, the layout in which both products run fastest."""
    n, d = Y.shape
    block_size = block_size or max(1, 2**22 // n)
    Yc = Y - Y.mean(0)  # translation-invariant; smaller norms lose less to rounding
    sq = (Yc * Yc).sum(1, keepdim=True)
    ones = torch.ones_like(sq)
    left = torch.cat([ones, sq, Yc], 1)  # (n, d + 2): the other points j
    right = torch.cat([1.0 + sq, ones, -2.0 * Yc], 1)  # the block's points i
    charges_t = torch.cat([ones, Yc], 1).T.contiguous()  # (1 + d, n)
    rep = torch.empty_like(Y)
    Z = torch.zeros((), dtype=Y.dtype, device=Y.device)
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        K = (left @ right[start:stop].T).clamp_min_(1.0).reciprocal_()  # (n, block): 1 / (1 + d2)
        cols = torch.arange(stop - start, device=Y.device)
        K[cols + start, cols] = 0.0  # no self-interaction
        Z = Z + K.sum()
        s = charges_t @ K.square_()  # (1 + d, block): [sum_j K_ij^2, sum_j K_ij^2 y_j]
        # sum_j K_ij^2 (y_i - y_j) = y_i sum_j K_ij^2 - sum_j K_ij^2 y_j
        rep[start:stop] = Yc[start:stop] * s[0, :, None] - s[1:].T
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
    Yt = Y.T.contiguous()  # (dim, n): coordinates as rows
    grid = _boxes(Yt, min_num_intervals, intervals_per_integer) + (n_interpolation_points,)
    stencil = _interpolation_stencil(Yt, *grid)  # the same points are spread and interpolated
    potential = _grid_potentials(Yt, grid, cache, stencil)
    rep, sum_K = _interpolate(potential, Yt, grid, stencil)
    return rep.T, sum_K.sum() - Y.shape[0]  # remove the self-terms K_ii = 1


def reference_field(Y: torch.Tensor, *, margin: float, n_interpolation_points: int = 3, min_num_intervals: int = 50,
                    intervals_per_integer: float = 1.0) -> dict:
    """The repulsive field of fixed points ``Y`` on a grid, for :func:`field_repulsion`.

    The grid covers ``Y``'s bounding square widened by ``margin`` on every side; its
    potentials are computed once, so evaluating the field at moving points costs only
    the interpolation."""
    Yt = Y.T.contiguous()
    lo, hi = float(Yt.min()) - margin, float(Yt.max()) + margin
    corners = torch.tensor([[lo, hi]], dtype=Y.dtype, device=Y.device).expand(Yt.shape[0], 2)
    grid = _boxes(corners, min_num_intervals, intervals_per_integer) + (n_interpolation_points,)
    return {"grid": grid, "potential": _grid_potentials(Yt, grid, None), "hi": lo + grid[1] * grid[2]}


def field_repulsion(field: dict, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_j K_tj^2 (t - y_j), sum_j K_tj)`` for each row ``t`` of ``T``, over the fixed
    points ``y_j`` of :func:`reference_field`. Points outside its grid are evaluated at the
    nearest point of the grid (the field there is weak and the attraction brings them in)."""
    lo, hi = field["grid"][0], field["hi"]
    Tt = T.T.contiguous()
    inside = Tt.clamp(lo, hi - 1e-6 * (hi - lo))
    rep, sum_K = _interpolate(field["potential"], inside, field["grid"])
    return rep.T, sum_K[0]


def _grid_potentials(Yt: torch.Tensor, grid: tuple, cache: dict | None, stencil: tuple | None = None) -> torch.Tensor:
    """The potentials ``(C, n_nodes^dim)`` on the grid of the charges ``(1, y_j, |y_j|^2)``
    of the points ``Yt`` (dim, n): spread with Lagrange weights, convolved with the kernel."""
    lo, box_width, n_boxes, p = grid
    dim, n = Yt.shape
    n_nodes = n_boxes * p  # per side
    # Four charges q_j = (1, y_j, |y_j|^2): from their K^2-potentials phi we get both
    #   sum_j K_ij^2 (y_i - y_j) = y_i phi_1 - phi_y    and
    #   sum_j K_ij = sum_j K_ij^2 (1 + |y_i - y_j|^2) = (1 + |y_i|^2) phi_1 - 2 y_i.phi_y + phi_|y|^2
    sq_norm = (Yt * Yt).sum(0, keepdim=True)
    charges = torch.cat([torch.ones_like(sq_norm), Yt, sq_norm])  # (C, n), C = dim + 2
    n_charges = charges.shape[0]
    weights, flat = stencil or _interpolation_stencil(Yt, lo, box_width, n_boxes, p)
    # Spread the charges onto the grid: grid[c, node] += w(point, node) * q_c(point).
    spread = torch.zeros(n_charges, n_nodes**dim, dtype=Yt.dtype, device=Yt.device)
    values = (charges[:, None, :] * weights).reshape(n_charges, -1)
    _in_parallel([lambda c=c: spread[c].index_add_(0, flat, values[c]) for c in range(n_charges)])
    kernel_spectrum = _kernel_spectrum(n_nodes, dim, box_width / p, Yt.dtype, Yt.device, cache)
    return _convolve(spread, kernel_spectrum, n_nodes, dim)


def _interpolate(potential: torch.Tensor, Tt: torch.Tensor, grid: tuple,
                 stencil: tuple | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """At the points ``Tt`` (dim, m): ``(sum_j K^2 (t - y_j) as (dim, m), sum_j K as (1, m))``,
    self-terms included, from the grid potentials."""
    lo, box_width, n_boxes, p = grid
    dim, m = Tt.shape
    weights, flat = stencil or _interpolation_stencil(Tt, lo, box_width, n_boxes, p)
    phi = (potential.index_select(1, flat).reshape(potential.shape[0], -1, m) * weights).sum(1)  # (C, m)
    phi_1, phi_y, phi_y2 = phi[:1], phi[1 : 1 + dim], phi[1 + dim :]
    rep = Tt * phi_1 - phi_y
    sum_K = (1.0 + (Tt * Tt).sum(0, keepdim=True)) * phi_1 - 2.0 * (Tt * phi_y).sum(0, keepdim=True) + phi_y2
    return rep, sum_K


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
