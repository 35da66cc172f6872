"""t-distributed stochastic neighbour embedding (van der Maaten & Hinton, 2008).

1. Neighbours: each point's ``3 * perplexity`` nearest neighbours, exactly for small data
   sets and approximately (faiss's HNSW graph) for large ones (``_tsne_neighbors``).
2. Affinities: for each point, a Gaussian over those neighbours whose width gives the
   requested perplexity; symmetrised into a sparse joint P (``_tsne_affinities``).
3. Embedding: points ``y_i`` in 2-D start near the origin (scaled PCA or noise) and follow
   the KL gradient (``_tsne_gradients``) by gradient descent with momentum and per-
   coordinate adaptive gains (Jacobs, 1988), the optimiser scikit-learn uses. For the
   first 250 iterations P is multiplied by ``early_exaggeration`` (and momentum is 0.5,
   then 0.8), which pulls clusters together before they settle.

The repulsive half of the gradient is computed exactly in blocks (``method="exact"``;
O(N^2), the choice for small N or a GPU) or by FFT-accelerated interpolation
(``method="fft"``, FIt-SNE's scheme; O(N), the choice for larger N on a CPU).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from groundup.progress import TrainingLog
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.unsupervised._tsne_affinities import conditional_probabilities, joint_probabilities
from groundup.unsupervised._tsne_gradients import (attraction, exact_repulsion, fft_repulsion, field_repulsion,
                                                   kl_divergence_exact, reference_field)
from groundup.unsupervised._tsne_neighbors import approximate_index, approximate_neighbors, nearest_neighbors
from groundup.validation import check_array, check_choice, check_is_fitted, check_number, check_positive

__all__ = ["TSNE"]

_EXAGGERATION_ITER = 250  # scikit-learn's and openTSNE's length of the exaggeration phase
_MIN_STEP_DIVISOR = 4.0  # "auto" step after the exaggeration phase: n / (4 * 4); see learning_rate
_EXACT_MAX_N_CPU = 2000  # "auto" uses the exact gradient up to this many points on a CPU
_EXACT_MAX_N_GPU = 50_000  # ... and up to this many on a GPU
_APPROX_MIN_N = 10_000  # neighbors="auto" searches approximately from this many points on
# transform: openTSNE's settings for placing new points into a fixed map, but for a stronger
# exaggeration (openTSNE: 1.5): a new point has only its own half of the affinities (no
# symmetrised mass from points that count it among their neighbours), and a stronger pull
# towards its neighbours places more new points in their class's cluster.
_TRANSFORM = dict(perplexity=5.0, n_neighbors=25, exaggeration=4.0, learning_rate=0.1, momentum=0.8,
                  max_grad_norm=0.25, max_iter=250)


class TSNE(TransformerMixin, TorchEstimator):
    """t-SNE in torch with scikit-learn's parameter names.

    Parameters
    ----------
    n_components : int, default 2
        Dimension of the embedding (the FFT method supports 1 and 2).
    perplexity : float, default 30.0
        Effective number of neighbours of each point; must be below ``n_samples``.
        Each point's affinities use its ``min(n_samples - 1, 3 * perplexity)`` nearest
        neighbours.
    early_exaggeration : float, default 12.0
        Factor on P during the first 250 iterations.
    learning_rate : float or "auto", default "auto"
        Step size; "auto" is ``max(n_samples / (4 * max(exaggeration, 4)), 50)`` with the
        exaggeration in force: ``n_samples / 48`` while it is ``early_exaggeration``
        (Belkina et al., 2019, as openTSNE and scikit-learn), then ``n_samples / 16``.
        openTSNE grows the step to ``n_samples / 4`` after the exaggeration phase and
        scikit-learn keeps ``n_samples / 48`` (so it needs 1,000 iterations); the middle
        course still settles within 750 iterations on large data, and does not overshoot
        on noisy data, where the larger step leaves neighbourhoods less faithful. A number
        is used in both phases.
    max_iter : int, default 750
        Total gradient steps, exaggeration phase included (at least 250). openTSNE's
        schedule (250 exaggerated, then 500): with the step of "auto" the map has settled
        by then. scikit-learn's default is 1000 (with its smaller step).
    init : "pca", "random" or array of shape (n_samples, n_components), default "pca"
        Starting positions; PCA is rescaled so its first coordinate has std 1e-4.
    method : "auto", "exact" or "fft", default "auto"
        How to compute the repulsive forces: "exact" in blocks (O(N^2)); "fft" by
        interpolation on a grid (O(N)); "auto" picks exact for up to 2,000 points on a
        CPU or 50,000 on a GPU (and whenever n_components > 2), else fft.
    neighbors : "auto", "exact" or "approx", default "auto"
        How to find the nearest neighbours: "exact" by blocked matrix products (O(N^2));
        "approx" with faiss's HNSW graph (needs ``faiss-cpu``; without it, exact with a
        warning); "auto" is approximate from 10,000 points on, where the exact search
        starts to cost more than the rest of the fit.
    n_interpolation_points : int, default 3
        FFT method: interpolation nodes per grid box and dimension.
    intervals_per_integer : float, default 1.0
        FFT method: the widest a grid box may be, in embedding units (FIt-SNE's default;
        the repulsion's error is a few percent and falls about 8x per halving).
    min_num_intervals : int, default 20
        FFT method: the fewest grid boxes per dimension, which sets the resolution while
        the embedding is small (FIt-SNE uses 50; 20 keeps the error there below 1e-3).
    verbose : int, default 0
        Print the KL divergence every 50 iterations (exact method) or the progress.
    random_state : int or None, default None
        Seed for the random initialisation (PCA initialisation is deterministic).
    device : str, default "auto"
    tensorboard_log : str or None, default None
        A folder for TensorBoard: every 50 iterations the KL divergence (as ``verbose``
        prints it) is written as scalars (``train/<column>``)
        in a run sub-folder ``TSNE_<n>`` (see :class:`groundup.progress.TrainingLog`).
        Needs ``pip install groundup[logging]``.

    Attributes
    ----------
    embedding_ : (n_samples, n_components) the embedding.
    kl_divergence_ : KL(P || Q) at the end (computed exactly over the stored pairs of P).
    n_iter_ : iterations run.
    learning_rate_ : the step size of the last phase.
    method_ : the repulsion method used.
    neighbors_ : the neighbour search used ("exact" or "approx").
    timings_ : seconds spent in each phase: "neighbors", "affinities", "optimization".
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        perplexity: float = 30.0,
        early_exaggeration: float = 12.0,
        learning_rate: float | str = "auto",
        max_iter: int = 750,
        init: str | np.ndarray = "pca",
        method: str = "auto",
        neighbors: str = "auto",
        n_interpolation_points: int = 3,
        intervals_per_integer: float = 1.0,
        min_num_intervals: int = 20,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.init = init
        self.method = method
        self.neighbors = neighbors
        self.n_interpolation_points = n_interpolation_points
        self.intervals_per_integer = intervals_per_integer
        self.min_num_intervals = min_num_intervals
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log

    # -- checks ---------------------------------------------------------------------------------
    def _check_params(self, n: int, device: torch.device) -> str:
        check_positive("n_components", self.n_components, integer=True)
        check_positive("perplexity", self.perplexity)
        if self.perplexity >= n:
            raise ValueError(f"perplexity must be less than n_samples; got perplexity={self.perplexity} for {n} samples "
                             f"(with {n} samples, choose perplexity < {n}; scikit-learn's rule, and 5 to 50 is usual)")
        check_positive("early_exaggeration", self.early_exaggeration)
        if not (isinstance(self.learning_rate, str) and self.learning_rate == "auto"):
            check_number("learning_rate", self.learning_rate, low=0.0, low_open=True, accepted="'auto' or a positive number")
        check_positive("max_iter", self.max_iter, integer=True)
        if self.max_iter < _EXAGGERATION_ITER:
            raise ValueError(f"max_iter must be at least {_EXAGGERATION_ITER} (the exaggeration phase); got {self.max_iter}")
        check_positive("n_interpolation_points", self.n_interpolation_points, integer=True)
        check_positive("intervals_per_integer", self.intervals_per_integer)
        check_positive("min_num_intervals", self.min_num_intervals, integer=True)
        check_choice("method", self.method, ("auto", "exact", "fft"))
        check_choice("neighbors", self.neighbors, ("auto", "exact", "approx"))
        if self.method == "fft" and self.n_components > 2:
            raise ValueError(f"method='fft' supports n_components 1 or 2; got n_components={self.n_components} (use method='exact')")
        if self.method != "auto":
            return self.method
        limit = _EXACT_MAX_N_CPU if device.type == "cpu" else _EXACT_MAX_N_GPU
        return "exact" if (n <= limit or self.n_components > 2) else "fft"

    def _initial_embedding(self, X: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n, d = X.shape[0], self.n_components
        if isinstance(self.init, str) and self.init == "pca":
            if d > min(X.shape):
                raise ValueError(f"init='pca' needs n_components <= min(n_samples, n_features) = {min(X.shape)}; got {d}")
            Xc = X - X.mean(0)
            # The top right-singular vectors of the centred data, via the small d x d eigenproblem.
            _, vecs = torch.linalg.eigh(Xc.T @ Xc)
            Y = Xc @ vecs[:, -d:].flip(1)
            # Fix signs as scikit-learn's PCA does, then shrink: std of the first coordinate 1e-4.
            Y = Y * torch.sign(Y.gather(0, Y.abs().argmax(0, keepdim=True)))
            return Y / Y[:, 0].std() * 1e-4
        if isinstance(self.init, str) and self.init == "random":
            return 1e-4 * torch.randn(n, d, generator=gen, device=X.device)
        if isinstance(self.init, str):
            raise ValueError(f"init must be 'pca', 'random' or an array of shape (n_samples, n_components); got {self.init!r}")
        Y = check_array(self.init, name="init", device=X.device, owner="TSNE")
        if tuple(Y.shape) != (n, d):
            raise ValueError(f"init must have shape (n_samples, n_components) = {(n, d)}; got {tuple(Y.shape)}")
        return Y.clone()

    # -- the optimisation -----------------------------------------------------------------------
    def _fft_settings(self) -> dict[str, Any]:
        return dict(n_interpolation_points=self.n_interpolation_points, min_num_intervals=self.min_num_intervals,
                    intervals_per_integer=self.intervals_per_integer)

    def _repulsion(self, Y: torch.Tensor, method: str, cache: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sum_j K_ij^2 (y_i - y_j) for every i, Z)`` by the chosen method."""
        if method == "exact":
            return exact_repulsion(Y)
        return fft_repulsion(Y, cache=cache, **self._fft_settings())

    def _neighbors(self, X: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, str]:
        """Each row's ``k`` nearest other rows, exactly or approximately (see ``neighbors``)."""
        n = X.shape[0]
        approx = self.neighbors == "approx" or (self.neighbors == "auto" and n >= _APPROX_MIN_N)
        index = approximate_index(X) if approx else None
        if index is None:
            d2, nbrs = nearest_neighbors(X, k)
            return d2, nbrs, "exact"
        self._index = index
        d2, nbrs = approximate_neighbors(index, X, k, exclude_self=True)
        return d2, nbrs, "approx"

    def fit(self, X: Any, y: Any = None) -> "TSNE":
        """Embed ``X`` (n_samples, n_features); the result is ``embedding_``. Returns self."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Embed ``X`` and return the embedding (n_samples, n_components)."""
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        n = Xt.shape[0]
        if n < 2:
            raise ValueError(f"t-SNE needs at least 2 samples; got n_samples={n}")
        method = self._check_params(n, device)
        gen = self._generator(device)
        log = TrainingLog(self.verbose, name="TSNE", tensorboard_log=self.tensorboard_log)
        self._index = None
        timings = {}

        start = time.perf_counter()
        k = min(n - 1, int(3.0 * self.perplexity + 1))
        sq_dist, nbrs, self.neighbors_ = self._neighbors(Xt, k)
        timings["neighbors"] = time.perf_counter() - start
        start = time.perf_counter()
        i, j, p = joint_probabilities(nbrs, conditional_probabilities(sq_dist, self.perplexity))
        del sq_dist, nbrs
        i, j = i.int(), j.int()  # the pair arrays are the largest: int32 indices halve them
        timings["affinities"] = time.perf_counter() - start

        start = time.perf_counter()
        Y = self._initial_embedding(Xt, gen)
        cache: dict = {}  # the FFT kernel's spectrum, reused while the grid size holds
        update = torch.zeros_like(Y)
        gains = torch.ones_like(Y)
        try:
            for it in range(self.max_iter):
                exaggeration = self.early_exaggeration if it < _EXAGGERATION_ITER else 1.0
                lr = self._step_size(n, exaggeration)
                # dC/dY = 4 [exaggeration * attraction - repulsion / Z]
                rep, Z = self._repulsion(Y, method, cache)
                grad = attraction(Y, i, j, p).mul_(4.0 * exaggeration).sub_(rep, alpha=4.0 / float(Z))
                update = _gains_step(update, grad, gains, 0.5 if it < _EXAGGERATION_ITER else 0.8, lr)
                Y = Y + update
                if (self.verbose or log.log_dir is not None) and (it + 1) % 50 == 0:
                    log.append(iteration=it + 1, kl_divergence=float(kl_divergence_exact(Y, i, j, p, Z)), grad_norm=float(grad.norm()))
        finally:
            log.close()
        if not bool(torch.isfinite(Y).all()):
            raise FloatingPointError("t-SNE diverged (non-finite embedding); lower learning_rate")
        timings["optimization"] = time.perf_counter() - start
        _, Z = self._repulsion(Y, method, cache)
        self.kl_divergence_ = float(kl_divergence_exact(Y, i, j, p, Z))
        self.embedding_ = Y.cpu().numpy()
        self._fit_X = Xt.cpu().numpy()
        self.n_iter_ = self.max_iter
        self.learning_rate_ = self._step_size(n, 1.0)
        self.method_ = method
        self.timings_ = timings
        return as_output(Y, X)

    def _step_size(self, n: int, exaggeration: float) -> float:
        if isinstance(self.learning_rate, str):  # "auto"
            return max(n / (4.0 * max(exaggeration, _MIN_STEP_DIVISOR)), 50.0)
        return float(self.learning_rate)

    # -- new points -----------------------------------------------------------------------------
    def transform(self, X: Any) -> Any:
        """Place new points into the fitted map, its points fixed (openTSNE's ``transform``).

        Each new point gets its own affinities to its nearest fitted points (a Gaussian of
        perplexity 5 over 25 neighbours: the new point's neighbourhood is all it has, with
        no symmetrised mass from the others), starts at the median of those neighbours'
        positions, and then follows the gradient of its own ``KL(p_i || q_i)``, with the
        fitted points' repulsion precomputed on a grid (or summed exactly when the map was
        fitted with ``method="exact"``); the new points do not move each other. Returns
        ``(n_new, n_components)``.
        """
        check_is_fitted(self, "embedding_", hint="call fit(X) first")
        if getattr(self, "_fit_X", None) is None:
            raise ValueError("this TSNE was saved without its training data (a file from an older version), "
                             "so it cannot place new points; fit it again")
        device = self._device()
        Xt = self._check_X(X, reset=False, device=device)
        ref_X = torch.as_tensor(self._fit_X, device=device)
        ref_Y = torch.as_tensor(self.embedding_, device=device)
        s = _TRANSFORM
        k = min(ref_X.shape[0], int(s["n_neighbors"]))
        perplexity = min(s["perplexity"], k - 1e-3) if k > 1 else 1.0
        if self.neighbors_ == "approx" and getattr(self, "_index", None) is None:
            self._index = approximate_index(ref_X)
        if self.neighbors_ == "approx" and self._index is not None:
            d2, nbrs = approximate_neighbors(self._index, Xt, k, exclude_self=False)
        else:
            d2, nbrs = nearest_neighbors(Xt, k, reference=ref_X)
        P = conditional_probabilities(d2, perplexity)  # (m, k), rows sum to 1
        Y = ref_Y[nbrs].median(dim=1).values  # (m, d)
        if self.method_ == "fft":
            field = reference_field(ref_Y, margin=5.0, **self._fft_settings())
            repulse = lambda T: field_repulsion(field, T)  # noqa: E731
        else:
            repulse = lambda T: _exact_field(ref_Y, T)  # noqa: E731
        update = torch.zeros_like(Y)
        gains = torch.ones_like(Y)
        for _ in range(s["max_iter"]):
            diff = Y[:, None, :] - ref_Y[nbrs]  # (m, k, d)
            pull = (diff * (P / (1.0 + (diff * diff).sum(-1)))[..., None]).sum(1)
            rep, sum_K = repulse(Y)
            # d KL(p_i || q_i) / d y_i = 2 [exaggeration * sum_j p_ij K_ij (y_i - y_j) - sum_j K_ij^2 (y_i - y_j) / Z_i]
            grad = 2.0 * (s["exaggeration"] * pull - rep / sum_K.clamp_min(1e-12)[:, None])
            norm = grad.norm(dim=1, keepdim=True)
            grad = grad * (s["max_grad_norm"] / norm.clamp_min(s["max_grad_norm"]))  # clip each point's gradient
            update = _gains_step(update, grad, gains, s["momentum"], s["learning_rate"])
            Y = Y + update
        return as_output(Y, X)

    # -- persistence ----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.deepcopy``, joblib) leave out the faiss index, which is rebuilt
        from the training data when ``transform`` needs it."""
        state = dict(super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__)
        state.pop("_index", None)
        return state

    _SCALARS = ("kl_divergence_", "n_iter_", "learning_rate_", "method_")

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        extra = {key: getattr(self, key) for key in self._SCALARS}
        extra.update(neighbors_=self.neighbors_, timings_=self.timings_)
        # the training data stays with the map: transform searches its neighbours there
        # (an approximate index is rebuilt from it on the first transform after loading)
        tensors = {"embedding_": self.embedding_}
        if self._fit_X is not None:  # a file of an older version had none to keep
            tensors["fit_X"] = self._fit_X
        return tensors, extra

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        """Files written before approximate neighbours and phase timings existed searched
        exactly and timed nothing."""
        metadata = super()._upgrade_state(metadata)
        return {"neighbors_": "exact", "timings_": {}, **metadata}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self.embedding_ = tensors["embedding_"]
        self._fit_X = tensors.get("fit_X")  # absent from files of older versions
        self._index = None
        for key in self._SCALARS:
            setattr(self, key, metadata[key])
        self.neighbors_ = metadata.get("neighbors_", "exact")
        self.timings_ = metadata.get("timings_", {})

    def _header(self) -> dict[str, Any]:
        """The parameters, with an array ``init`` stored as "array" (the embedding is saved)."""
        header = super()._header()
        if not isinstance(self.init, str):
            header["params"] = {**header["params"], "init": "array"}
        return header


def _gains_step(update: torch.Tensor, grad: torch.Tensor, gains: torch.Tensor, momentum: float, lr: float) -> torch.Tensor:
    """The next update of gradient descent with momentum and delta-bar-delta gains (updated
    in place): a coordinate's gain grows while its gradient keeps its sign relative to the
    last update and shrinks when the sign flips."""
    same_direction = (update * grad) < 0.0
    gains.copy_(torch.where(same_direction, gains + 0.2, gains * 0.8).clamp_(min=0.01))
    return momentum * update - lr * gains * grad


def _exact_field(ref_Y: torch.Tensor, T: torch.Tensor, block_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_j K_tj^2 (t - y_j), sum_j K_tj)`` for each row ``t`` of ``T`` over all fixed
    points ``y_j``, exactly, a block of rows of ``T`` at a time."""
    block_size = block_size or max(1, 2**22 // ref_Y.shape[0])
    reps, sums = [], []
    for start in range(0, T.shape[0], block_size):
        t = T[start:start + block_size]
        K = torch.cdist(t, ref_Y).square_().add_(1.0).reciprocal_()
        sums.append(K.sum(1))
        K2 = K.square_()
        reps.append(t * K2.sum(1, keepdim=True) - K2 @ ref_Y)
    return torch.cat(reps), torch.cat(sums)
