"""Linear algebra shared across the families: the randomised SVD.

Halko, Martinsson & Tropp (2011), algorithms 4.4 and 5.1: project the matrix on a few
more random directions than the rank wanted, sharpen that subspace with power
iterations (orthonormalised by QR after each product), then take the exact SVD of the
small projected matrix. The matrix enters only through its products with a block of
vectors (``matmul(Q) = A @ Q``, ``rmatmul(P) = A^T @ P``), so a caller can keep it sparse
(GloVe's shifted-PPMI matrix) or centre it implicitly (PCA), never forming either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["randomized_svd", "one_thread"]


def one_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on one torch thread. For the small dense factorisations of the
    randomised SVD (QR of a tall, thin matrix; the SVD of a short, wide one) LAPACK's
    threads gain little, and on a machine busy with other work they can make them ten or
    twenty times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(threads)


def _orthonormal(y: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis of the columns of the tall, thin ``y`` (QR's Q)."""
    return one_thread(lambda t: torch.linalg.qr(t).Q, y)


def randomized_svd(
    matmul: Callable[[torch.Tensor], torch.Tensor],
    rmatmul: Callable[[torch.Tensor], torch.Tensor],
    n_cols: int,
    size: int,
    *,
    power_iterations: int,
    generator: torch.Generator,
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
    svd_dtype: torch.dtype | None = None,
    compute_u: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """``(U, S, Vt)`` of the matrix A (``n_rows x n_cols``) restricted to a ``size``-dimensional
    subspace of its range: the leading singular triplets, most accurate for the first.

    ``size`` is the rank wanted plus the oversampling (the caller trims to the rank and
    keeps it at most ``min(n_rows, n_cols)``). The test matrix is drawn from ``generator``
    in ``dtype``, the products and QR run in ``dtype`` and the small SVD in ``svd_dtype``
    (default ``dtype``): the range only has to be found, the last step is exact. With
    ``compute_u=False`` U (``n_rows x size``, the one large product) is not formed: None.
    """
    q = _orthonormal(matmul(torch.randn(n_cols, size, generator=generator, dtype=dtype, device=device)))
    for _ in range(power_iterations):  # (A A^T)^q sharpens the spectrum
        q = _orthonormal(rmatmul(q))
        q = _orthonormal(matmul(q))
    b = rmatmul(q).T  # Q^T A, (size, n_cols)
    if svd_dtype is not None:
        b = b.to(svd_dtype)
    ub, s, vt = one_thread(lambda t: torch.linalg.svd(t, full_matrices=False), b)
    return (q.to(ub.dtype) @ ub if compute_u else None), s, vt
