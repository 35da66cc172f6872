"""How GloVe gets its vectors from the counts: the weighted least squares by AdaGrad or
ALS, and the default, a truncated SVD of the shifted positive PMI matrix (at the end).

Both work on the non-zero co-occurrence entries (i, j, X_ij) with residual

    r_ij = w_i . c_j + b_i + b~_j - log X_ij,     loss = sum_ij f(X_ij) r_ij^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from groundup.linalg import randomized_svd


def glove_loss(W, C, b, bc, i, j, log_x, weight, chunk: int = 1 << 20) -> float:
    """Mean of f(X_ij) r_ij^2 over the non-zero entries (without materialising all rows)."""
    total = 0.0
    for s in range(0, i.shape[0], chunk):
        ii, jj = i[s : s + chunk], j[s : s + chunk]
        r = (W[ii] * C[jj]).sum(1) + b[ii] + bc[jj] - log_x[s : s + chunk]
        total += float((weight[s : s + chunk] * r * r).sum())
    return total / max(i.shape[0], 1)


def augment(W: torch.Tensor, C: torch.Tensor, b: torch.Tensor, bc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold the biases into the vectors: [w_i, b_i, 1] . [c_j, 1, b~_j] = w_i . c_j + b_i + b~_j,
    so one dot product gives the whole prediction and one update moves vector and bias."""
    one = torch.ones_like(b).unsqueeze(1)
    return torch.cat([W, b.unsqueeze(1), one], 1), torch.cat([C, one, bc.unsqueeze(1)], 1)


def adagrad_state(W_aug: torch.Tensor, C_aug: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """AdaGrad's sums of squared gradients, 1 at the start as in glove.c. The constant-1
    columns get +inf: their step, gradient / sqrt(inf), is 0, so they stay 1."""
    GW, GC = torch.ones_like(W_aug), torch.ones_like(C_aug)
    GW[:, -1] = float("inf")
    GC[:, -2] = float("inf")
    return GW, GC


def adagrad_epoch(
    W: torch.Tensor,
    C: torch.Tensor,
    GW: torch.Tensor,
    GC: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    log_x: torch.Tensor,
    weight: torch.Tensor,
    learning_rate: float,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One shuffled pass of AdaGrad over the entries (i, j, log X_ij, f(X_ij)) with the
    augmented tables of :func:`augment`; returns the mean weighted loss f r^2.

    As in glove.c, the step for a parameter is learning_rate * gradient / sqrt(sum of its
    earlier squared gradients), and the square is added after the step. Entries of one
    batch that share a word add their updates (Hogwild, as glove.c's threads do).
    """
    order = torch.randperm(i.shape[0], generator=generator, device=generator.device).to(i.device)
    i, j, log_x, weight = i[order], j[order], log_x[order], weight[order]  # shuffled once per epoch
    total = 0.0
    for s in range(0, i.shape[0], batch_size):
        ii, jj = i[s : s + batch_size], j[s : s + batch_size]
        w, c = F.embedding(ii, W), F.embedding(jj, C)
        r = (w * c).sum(1) - log_x[s : s + batch_size]  # residual w.c + b + b~ - log X
        fr = weight[s : s + batch_size] * r  # half the gradient of f r^2 with respect to r
        total += float((fr * r).sum())
        grad_w = fr.unsqueeze(1) * c
        grad_c = fr.unsqueeze(1) * w
        W.index_add_(0, ii, grad_w * torch.rsqrt(F.embedding(ii, GW)), alpha=-learning_rate)
        C.index_add_(0, jj, grad_c * torch.rsqrt(F.embedding(jj, GC)), alpha=-learning_rate)
        GW.index_add_(0, ii, grad_w.square_())
        GC.index_add_(0, jj, grad_c.square_())
    return total / max(i.shape[0], 1)


def _solve_side(x: Any, W: torch.Tensor, b: torch.Tensor, C: torch.Tensor, bc: torch.Tensor,
                x_max: float, alpha: float, reg: float, budget: int = 1 << 18) -> None:
    """With the other side (C, bc) fixed, set each row's (W[i], b[i]) to its weighted
    ridge-regression solution:

        minimise_z  sum_j f_ij ([c_j, 1] . z - (log X_ij - bc_j))^2 + reg |w|^2,

    i.e. z = (A^T F A + reg I)^-1 A^T F y with A's rows [c_j, 1] for the j in row i.
    Rows are sorted by their number of non-zeros and solved in groups whose padded
    (rows x non-zeros) block stays under ``budget`` entries, each group with one batched
    matrix product and one batched solve.
    """
    device = W.device
    V, d = W.shape
    nnz = np.diff(x.indptr)
    order = np.argsort(nnz, kind="stable")
    # A row without counts (a word seen only in one-word sentences) has no data: its
    # ridge solution would be the zero vector, which cosine similarity cannot handle.
    # It keeps its starting values instead, as under AdaGrad (and in word2vec).
    order = order[nnz[order] > 0]
    A = torch.cat([C, torch.ones(V, 1, device=device)], 1)  # (V, d+1): [c_j, 1]
    eye = torch.eye(d + 1, device=device) * reg
    eye[d, d] = 1e-6  # (almost) no penalty on the bias; enough to keep the system definite
    indices = torch.as_tensor(x.indices.astype(np.int64), device=device)
    data = torch.as_tensor(x.data, dtype=torch.float32, device=device)
    start, n_rows = 0, len(order)
    while start < n_rows:
        stop = start + 1
        while stop < n_rows and (stop - start + 1) * int(nnz[order[stop]]) <= budget:
            stop += 1
        rows = order[start:stop]
        width = int(nnz[rows].max())
        # Padded (rows, width) positions into the CSR arrays; pads get weight 0.
        pos = x.indptr[rows][:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < nnz[rows][:, None]
        pos_t = torch.as_tensor(np.where(valid, pos, 0), device=device)
        valid_t = torch.as_tensor(valid, device=device)
        cols = indices[pos_t]
        counts = torch.where(valid_t, data[pos_t], torch.ones((), device=device))
        f = torch.where(valid_t, torch.clamp(counts / x_max, max=1.0) ** alpha, torch.zeros((), device=device))
        y = torch.log(counts) - bc[cols]
        sf = f.sqrt().unsqueeze(2)
        Af = A[cols] * sf  # (rows, width, d+1), sqrt(f)-weighted design matrices
        gram = torch.bmm(Af.transpose(1, 2), Af) + eye
        rhs = torch.bmm(Af.transpose(1, 2), (y.unsqueeze(2) * sf))
        z = torch.linalg.solve(gram, rhs).squeeze(2)
        rows_t = torch.as_tensor(rows, device=device)
        W[rows_t] = z[:, :d]
        b[rows_t] = z[:, d]
        start = stop


def als_sweep(x: Any, xt: Any, W, C, b, bc, x_max: float, alpha: float, reg: float) -> None:
    """One sweep of alternating least squares: solve the words, then the contexts."""
    _solve_side(x, W, b, C, bc, x_max, alpha, reg)
    _solve_side(xt, C, bc, W, b, x_max, alpha, reg)


# -- the count-based default: shifted PPMI, smoothed, factorised by truncated SVD --------------
def ppmi_matrix(x: Any, context_smoothing: float = 0.75, shift: float = 1.0) -> Any:
    """Shifted positive PMI of the co-occurrence counts ``x`` (a scipy sparse matrix),
    with context-distribution smoothing (Levy, Goldberg & Dagan 2015):

        PMI(i, j) = log( X_ij * sum(X) / (X_i* * sum(X) * P_a(j)) ),
        P_a(j) = X_*j ** a / sum_k X_*k ** a,        SPPMI = max(PMI - log shift, 0).

    Smoothing the context distribution (a = ``context_smoothing``, 0.75 as in word2vec's
    noise distribution) raises the probability of rare contexts, which tames PMI's bias
    towards rare words; ``shift`` = k is word2vec's number of negative samples, which
    skip-gram implicitly subtracts as log k (1: no shift). Only entries with a positive
    value are kept, so the result is as sparse as ``x`` or sparser: a CSR matrix of float64.
    """
    import scipy.sparse as sp

    coo = x.tocoo()
    V = x.shape[0]
    data = coo.data.astype(np.float64)
    total = data.sum()
    row = np.bincount(coo.row, weights=data, minlength=V)
    col = np.bincount(coo.col, weights=data, minlength=x.shape[1]) ** context_smoothing
    p_context = col / col.sum()
    value = np.log(data) - np.log(row[coo.row]) - np.log(p_context[coo.col]) - np.log(shift)
    keep = value > 0
    m = sp.csr_matrix((value[keep], (coo.row[keep], coo.col[keep])), shape=x.shape)
    m.sort_indices()
    return m


def _torch_csr(m: Any) -> torch.Tensor:
    """A scipy sparse matrix as a float32 torch sparse CSR tensor."""
    import warnings

    csr = m.tocsr()
    with warnings.catch_warnings():  # torch calls its sparse CSR support beta; products are all we use
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(csr.indptr.astype(np.int64)),
                                       torch.from_numpy(csr.indices.astype(np.int64)),
                                       torch.from_numpy(csr.data.astype(np.float32)), size=csr.shape)


def truncated_svd(
    m: Any, rank: int, *, power_iterations: int = 5, oversample: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``rank`` leading singular triplets ``(U, s, Vt)`` of the scipy sparse matrix
    ``m``, by :func:`groundup.linalg.randomized_svd`: the products with ``m`` and the range
    finding in float32 (twice as fast, and the range only has to be found, not exact), the
    final small SVD in float64.

    Only sparse-dense products touch ``m``, so the cost grows with its non-zeros, not with
    the vocabulary squared; they run in torch on the CPU. The signs are fixed (each column
    of U has a non-negative sum), so the result depends on ``seed`` alone.
    """
    n_rows, n_cols = m.shape
    k = min(rank + oversample, n_rows, n_cols)
    a, at = _torch_csr(m), _torch_csr(m.T)  # m and its transpose, both as CSR: torch multiplies CSR fastest
    u, s, vt = randomized_svd(lambda q: a @ q, lambda p: at @ p, n_cols, k, power_iterations=power_iterations,
                              generator=torch.Generator().manual_seed(seed), dtype=torch.float32, svd_dtype=torch.float64)
    r = min(rank, s.shape[0])
    u, s, vt = u[:, :r].numpy(), s[:r].numpy(), vt[:r].numpy()
    signs = np.where(u.sum(0) < 0, -1.0, 1.0)
    return u * signs, s, vt * signs[:, None]


def svd_factors(
    x: Any, dim: int, *, context_smoothing: float, shift: float, eigenvalue_weighting: float, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Word and context vectors ``(U_d S_d^p, V_d S_d^p)`` of the SPPMI matrix of ``x``,
    p = ``eigenvalue_weighting``, both sides weighted alike as in Levy et al.'s
    ``hyperwords`` code (0.5: the singular values split evenly, so that W C^T is the best
    rank-d approximation of the SPPMI matrix; 0: orthonormal U and V), padded
    with zero columns when the matrix has fewer than ``dim`` dimensions. Also returns the
    share of the matrix's squared Frobenius norm that the rank-d factorisation leaves out,
    ``1 - sum s^2 / |M|^2`` (exact for the projection onto the found subspace).
    """
    m = ppmi_matrix(x, context_smoothing, shift)
    norm2 = float(np.square(m.data).sum())
    if m.nnz == 0:
        raise ValueError(
            f"every shifted PMI value is <= 0 with shift={shift}: nothing to factorise; lower shift (1 means no shift)"
        )
    u, s, vt = truncated_svd(m, dim, seed=seed)
    weight = s**eigenvalue_weighting
    W = np.zeros((x.shape[0], dim))
    C = np.zeros((x.shape[1], dim))
    W[:, : s.shape[0]] = u * weight
    C[:, : s.shape[0]] = vt.T * weight
    return W, C, max(0.0, 1.0 - float(np.square(s).sum()) / norm2)
