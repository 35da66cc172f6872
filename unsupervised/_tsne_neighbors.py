"""t-SNE's nearest neighbours: exact (blocked matrix products) or approximate (faiss HNSW).

The affinities need each point's ``3 * perplexity`` nearest neighbours. Exactly, that is
O(N^2 d) work, which overtakes everything else in t-SNE from a few tens of thousands of
points. Approximately, a hierarchical navigable small-world graph (Malkov & Yashunin,
2018) finds them in about O(N log N); faiss (``pip install faiss-cpu``) is a library made
for it, with wheels for every platform. openTSNE and UMAP take the same route with Annoy
and pynndescent; t-SNE tolerates a few missed neighbours, as the far end of each list
carries little probability.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["nearest_neighbors", "approximate_index", "approximate_neighbors", "faiss_available"]

# HNSW settings: 16 links a node, faiss's default build effort; the search keeps at least
# this many candidates (and 1.5x the neighbours asked for), which finds nearly all of them.
_HNSW_LINKS = 16
_HNSW_BUILD = 40
_HNSW_SEARCH = 128


def nearest_neighbors(X: torch.Tensor, k: int, *, block_size: int | None = None,
                      reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact ``k`` nearest neighbours of every row of ``X``.

    Without ``reference``, among the rows of ``X`` (a point is not its own neighbour);
    with it, among the rows of ``reference``. Returns ``(squared_distances, indices)``,
    both ``(N, k)``, nearest first. The distance matrix is computed one block of rows at a
    time (``|x|^2 + |y|^2 - 2 x.y``, one matrix product per block), so memory stays
    ``block_size * N`` (default: about 16M entries).
    """
    ref = X if reference is None else reference
    n, m = X.shape[0], ref.shape[0]
    block_size = block_size or max(1, 2**24 // m)
    sq_ref = (ref * ref).sum(1)
    dists, idx = [], []
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        block = X[start:stop]
        d2 = torch.addmm(sq_ref[None, :], block, ref.T, alpha=-2.0).add_((block * block).sum(1, keepdim=True))
        if reference is None:
            rows = torch.arange(stop - start, device=X.device)
            d2[rows, rows + start] = float("inf")  # a point is not its own neighbour
        val, ind = torch.topk(d2, k, dim=1, largest=False, sorted=True)
        dists.append(val.clamp_min_(0.0))  # rounding can make tiny distances negative
        idx.append(ind)
    return torch.cat(dists), torch.cat(idx)


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def approximate_index(X: torch.Tensor) -> Any | None:
    """A faiss HNSW index of the rows of ``X`` (float32), or None with a warning when faiss
    is not installed (the caller then falls back to the exact search)."""
    try:
        import faiss
    except ImportError:
        warnings.warn("t-SNE: faiss is not installed, so the nearest neighbours are searched exactly "
                      "(O(N^2), slow for many points); pip install faiss-cpu (or groundup[unsupervised]) "
                      "for the approximate search", RuntimeWarning, stacklevel=3)
        return None
    data = np.ascontiguousarray(X.detach().cpu().numpy(), dtype=np.float32)
    with _faiss_threads(faiss):
        index = faiss.IndexHNSWFlat(data.shape[1], _HNSW_LINKS)
        index.hnsw.efConstruction = _HNSW_BUILD
        index.add(data)
    return index


def approximate_neighbors(index: Any, Q: torch.Tensor, k: int, *, exclude_self: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` approximate nearest neighbours of the rows of ``Q`` in ``index``:
    ``(squared_distances, indices)``, both ``(len(Q), k)``, nearest first. With
    ``exclude_self`` the rows of ``Q`` are the indexed points and each drops itself."""
    import faiss

    data = np.ascontiguousarray(Q.detach().cpu().numpy(), dtype=np.float32)
    extra = 1 if exclude_self else 0
    with _faiss_threads(faiss):
        index.hnsw.efSearch = max(_HNSW_SEARCH, int(1.5 * (k + extra)))
        D, I = index.search(data, k + extra)
    if exclude_self:
        # Each point is normally found first, at distance 0; where it is missed (or a
        # duplicate came first) drop the point itself if present, else the last column.
        is_self = I == np.arange(I.shape[0])[:, None]
        drop = np.where(is_self.any(1), is_self.argmax(1), k)
        keep = np.ones_like(I, dtype=bool)
        keep[np.arange(I.shape[0]), drop] = False
        D, I = D[keep].reshape(-1, k), I[keep].reshape(-1, k)
    if (I < 0).any():  # fewer than k found: cannot happen with efSearch >= k, but be explicit
        raise RuntimeError("the approximate neighbour search returned fewer neighbours than asked for")
    dev = Q.device
    return torch.from_numpy(np.maximum(D, 0.0)).to(dev, Q.dtype), torch.from_numpy(I.astype(np.int64)).to(dev)


class _faiss_threads:
    """Run faiss with torch's thread count, then restore its own."""

    def __init__(self, faiss: Any) -> None:
        self.faiss = faiss

    def __enter__(self) -> None:
        self.before = self.faiss.omp_get_max_threads()
        self.faiss.omp_set_num_threads(torch.get_num_threads())

    def __exit__(self, *exc: Any) -> None:
        self.faiss.omp_set_num_threads(self.before)
