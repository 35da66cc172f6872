"""t-distributed stochastic neighbour embedding (van der Maaten & Hinton, 2008).

1. Affinities: for each point, a Gaussian over its ``3 * perplexity`` nearest neighbours
   whose width gives the requested perplexity; symmetrised into a sparse joint P
   (``_tsne_affinities``).
2. Embedding: points ``y_i`` in 2-D start near the origin (scaled PCA or noise) and follow
   the KL gradient (``_tsne_gradients``) by gradient descent with momentum and per-
   coordinate adaptive gains (Jacobs, 1988), the optimiser scikit-learn uses.
3. Early exaggeration: for the first 250 iterations P is multiplied by
   ``early_exaggeration`` (and momentum is 0.5, then 0.8), which pulls clusters together
   before they settle.

The repulsive half of the gradient is computed exactly in blocks (``method="exact"``;
O(N^2), the choice for small N or a GPU) or by FFT-accelerated interpolation
(``method="fft"``, FIt-SNE's scheme; O(N), the choice for large N on a CPU).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from groundup.progress import TrainingLog
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.unsupervised._tsne_affinities import conditional_probabilities, joint_probabilities, nearest_neighbors
from groundup.unsupervised._tsne_gradients import attraction, exact_repulsion, fft_repulsion, kl_divergence_exact
from groundup.validation import check_array, check_choice, check_number, check_positive

__all__ = ["TSNE"]

_EXAGGERATION_ITER = 250  # scikit-learn's and openTSNE's length of the exaggeration phase
_EXACT_MAX_N_CPU = 2000  # "auto" uses the exact gradient up to this many points on a CPU
_EXACT_MAX_N_GPU = 50_000  # ... and up to this many on a GPU


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
        Step size; "auto" is ``max(n_samples / early_exaggeration / 4, 50)`` as in
        scikit-learn (Belkina et al., 2019).
    max_iter : int, default 1000
        Total gradient steps, exaggeration phase included (at least 250).
    init : "pca", "random" or array of shape (n_samples, n_components), default "pca"
        Starting positions; PCA is rescaled so its first coordinate has std 1e-4.
    method : "auto", "exact" or "fft", default "auto"
        How to compute the repulsive forces: "exact" in blocks (O(N^2)); "fft" by
        interpolation on a grid (O(N)); "auto" picks exact for up to 2,000 points on a
        CPU or 50,000 on a GPU (and whenever n_components > 2), else fft.
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

    Attributes
    ----------
    embedding_ : (n_samples, n_components) the embedding.
    kl_divergence_ : KL(P || Q) at the end (computed exactly over the stored pairs of P).
    n_iter_ : iterations run.
    learning_rate_ : the step size used.
    method_ : the repulsion method used.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        perplexity: float = 30.0,
        early_exaggeration: float = 12.0,
        learning_rate: float | str = "auto",
        max_iter: int = 1000,
        init: str | np.ndarray = "pca",
        method: str = "auto",
        n_interpolation_points: int = 3,
        intervals_per_integer: float = 1.0,
        min_num_intervals: int = 20,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.init = init
        self.method = method
        self.n_interpolation_points = n_interpolation_points
        self.intervals_per_integer = intervals_per_integer
        self.min_num_intervals = min_num_intervals
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    # -- checks ---------------------------------------------------------------------------------
    def _check_params(self, n: int, device: torch.device) -> str:
        check_positive("n_components", self.n_components, integer=True)
        check_positive("perplexity", self.perplexity)
        if self.perplexity >= n:
            raise ValueError(f"perplexity must be less than n_samples; got perplexity={self.perplexity} for {n} samples")
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
    def _repulsion(self, Y: torch.Tensor, method: str, cache: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sum_j K_ij^2 (y_i - y_j) for every i, Z)`` by the chosen method."""
        if method == "exact":
            return exact_repulsion(Y)
        return fft_repulsion(
            Y,
            n_interpolation_points=self.n_interpolation_points,
            min_num_intervals=self.min_num_intervals,
            intervals_per_integer=self.intervals_per_integer,
            cache=cache,
        )

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
        log = TrainingLog(self.verbose, name="TSNE")

        k = min(n - 1, int(3.0 * self.perplexity + 1))
        sq_dist, neighbors = nearest_neighbors(Xt, k)
        P = joint_probabilities(neighbors, conditional_probabilities(sq_dist, self.perplexity))

        Y = self._initial_embedding(Xt, gen)
        cache: dict = {}  # the FFT kernel's spectrum, reused while the grid size holds
        i, j, p = P
        lr = max(n / self.early_exaggeration / 4.0, 50.0) if self.learning_rate == "auto" else float(self.learning_rate)
        update = torch.zeros_like(Y)
        gains = torch.ones_like(Y)
        for it in range(self.max_iter):
            exaggerating = it < _EXAGGERATION_ITER
            # dC/dY = 4 [exaggeration * attraction - repulsion / Z]
            rep, Z = self._repulsion(Y, method, cache)
            grad = 4.0 * ((self.early_exaggeration if exaggerating else 1.0) * attraction(Y, i, j, p) - rep / Z)
            # Delta-bar-delta gains: grow a coordinate's step while its gradient keeps its
            # sign relative to the last update, shrink it when the sign flips.
            same_direction = (update * grad) < 0.0
            gains = torch.where(same_direction, gains + 0.2, gains * 0.8).clamp_(min=0.01)
            update = (0.5 if exaggerating else 0.8) * update - lr * gains * grad
            Y = Y + update
            if self.verbose and (it + 1) % 50 == 0:
                log.append(iteration=it + 1, kl_divergence=float(kl_divergence_exact(Y, *P, Z)), grad_norm=float(grad.norm()))
        if not bool(torch.isfinite(Y).all()):
            raise FloatingPointError("t-SNE diverged (non-finite embedding); lower learning_rate")
        _, Z = self._repulsion(Y, method, cache)
        self.kl_divergence_ = float(kl_divergence_exact(Y, *P, Z))
        self.embedding_ = Y.cpu().numpy()
        self.n_iter_ = self.max_iter
        self.learning_rate_ = lr
        self.method_ = method
        return as_output(Y, X)

    # -- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        extra = {"kl_divergence_": self.kl_divergence_, "n_iter_": self.n_iter_, "learning_rate_": self.learning_rate_, "method_": self.method_}
        return {"embedding_": self.embedding_}, extra

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self.embedding_ = tensors["embedding_"]
        for key in ("kl_divergence_", "n_iter_", "learning_rate_", "method_"):
            setattr(self, key, metadata[key])

    def _header(self) -> dict[str, Any]:
        """The parameters, with an array ``init`` stored as "array" (the embedding is saved)."""
        header = super()._header()
        if not isinstance(self.init, str):
            header["params"] = {**header["params"], "init": "array"}
        return header
