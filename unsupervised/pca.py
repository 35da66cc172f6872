"""Principal component analysis: the eigenvectors of the covariance matrix.

For centred data ``Xc`` (n samples x d features) the covariance is ``C = Xc^T Xc / (n-1)``.
Its eigenvectors, sorted by eigenvalue, are the principal axes; each eigenvalue is the
variance of the data along its axis. Two ways to get them, picked by the data's shape:

* more samples than features (MNIST: 50,000 x 784): form the d x d matrix ``X^T X`` once
  and take its symmetric eigendecomposition (``torch.linalg.eigh``). The centring is
  folded into the product, ``Xc^T Xc = X^T X - n mean mean^T``, so X is never copied.
* fewer samples than features: the thin SVD ``Xc = U S V^T``; the rows of ``V^T`` are the
  axes and ``S^2 / (n-1)`` the variances.

Two more for data too big for those, with scikit-learn's names:

* ``svd_solver="randomized"`` (Halko, Martinsson & Tropp, 2011, algorithm 4.4): project
  the centred data on ``k + n_oversamples`` random directions, sharpen that subspace with
  ``iterated_power`` power iterations (orthonormalised by QR each time), then take the
  exact SVD of the small projected matrix. Cost ``O(n d k)`` rather than ``O(n d^2)``:
  for wide data (many features), or when only a few of many components are wanted. The
  centring stays implicit (``Xc Q = X Q - 1 (mean Q)``), so ``X`` is never copied.
* ``partial_fit`` (scikit-learn's ``IncrementalPCA``; Ross et al., 2008): the data arrive
  in batches. The past is summarised by its top ``k`` axes scaled by their singular
  values; each batch is stacked under that summary (centred on its own mean, plus one row
  that corrects for the shift between the old and the new mean) and the stack's SVD gives
  the new axes. The per-feature mean and variance are updated exactly (Chan et al.), so
  ``mean_``, ``var_`` and ``n_samples_seen_`` are those of all the data seen.

Signs are fixed as scikit-learn fixes them (the largest-magnitude entry of each
component is positive), so results are comparable line by line.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from groundup.linalg import randomized_svd
from groundup.torch_utils import as_tensor
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.validation import check_array, check_choice, check_int, check_is_fitted

__all__ = ["PCA"]


class PCA(TransformerMixin, TorchEstimator):
    """Principal component analysis in torch, with scikit-learn's names.

    Parameters
    ----------
    n_components : int, float or None, default None
        Components to keep: an int ``1..min(n_samples, n_features)``; a float in (0, 1)
        for the fewest components that explain at least that fraction of the variance;
        ``None`` for all ``min(n_samples, n_features)``.
    whiten : bool, default False
        Divide each projected coordinate by its standard deviation (unit variance).
    svd_solver : {"auto", "covariance_eigh", "full", "randomized"}, default "auto"
        How :meth:`fit` finds the axes. "covariance_eigh": eigendecomposition of the
        ``d x d`` covariance (fast when samples outnumber features); "full": thin SVD of
        the centred data; "auto": the first when ``n_samples >= n_features``, else the
        second (both exact). "randomized": Halko et al.'s randomized SVD, approximate, for
        wide or large data when ``n_components`` is small; needs an integer (or None)
        ``n_components``. Unlike scikit-learn's "auto", ours never picks the randomized
        solver by itself: an exact answer stays the default.
    iterated_power : int or "auto", default "auto"
        Power iterations of the randomized solver; "auto" is scikit-learn's rule, 7 when
        ``n_components < 0.1 * min(n_samples, n_features)`` (a small subspace of a slowly
        decaying spectrum needs more sharpening), else 4.
    n_oversamples : int, default 10
        Extra random directions of the randomized solver beyond ``n_components`` (they
        catch the part of the top subspace a k-dimensional sketch would miss).
    random_state : int or None, default None
        Seed of the randomized solver's random directions.
    device : str, default "auto"
        Where the arithmetic runs ("cpu", "cuda", ...); "auto" picks a GPU when present.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Principal axes, by decreasing variance.
    explained_variance_ : ndarray of shape (n_components,)
        Variance along each axis (unbiased, n - 1).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Fraction of the total variance along each axis.
    singular_values_ : ndarray of shape (n_components,)
        Singular values of the centred data.
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data.
    var_ : ndarray of shape (n_features,)
        Per-feature variance of all the data seen (biased, n).
    n_samples_seen_ : int
        Samples seen by ``fit`` or by all ``partial_fit`` calls.
    n_components_, n_samples_, noise_variance_, n_features_in_
        As in scikit-learn.

    Notes
    -----
    ``partial_fit`` continues from ``fit`` or from earlier batches, as
    scikit-learn's ``IncrementalPCA.partial_fit`` does (an integer or None
    ``n_components``; each batch needs at least ``n_components`` rows).
    """

    _SOLVERS = {
        "auto": "covariance_eigh if n_samples >= n_features, else full",
        "covariance_eigh": "eigendecomposition of the covariance matrix",
        "full": "thin SVD of the centred data",
        "randomized": "Halko et al.'s randomized SVD",
    }

    def __init__(
        self,
        n_components: int | float | None = None,
        *,
        whiten: bool = False,
        svd_solver: str = "auto",
        iterated_power: int | str = "auto",
        n_oversamples: int = 10,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.random_state = random_state
        self.device = device

    def _check_solver(self) -> str:
        check_choice("svd_solver", self.svd_solver, self._SOLVERS)
        if self.iterated_power != "auto":
            check_int("iterated_power", self.iterated_power, minimum=0)
        check_int("n_oversamples", self.n_oversamples, minimum=0)
        return self.svd_solver

    def fit(self, X: Any, y: Any = None) -> "PCA":
        """Find the principal axes of ``X`` (n_samples, n_features). Returns self."""
        solver = self._check_solver()
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        n, d = Xt.shape
        k = self._resolve_n_components(n, d)
        mean = Xt.mean(0)
        if solver == "randomized":
            if isinstance(k, float):
                raise ValueError(f"n_components must be an integer or None with svd_solver='randomized'; got {self.n_components!r}")
            return self._fit_randomized(Xt, mean, k)
        column_variance = None
        if solver == "covariance_eigh" or (solver == "auto" and n >= d):
            variances, axes, column_variance = self._covariance_eigh(Xt, mean)
        else:
            _, S, Vt = torch.linalg.svd(Xt - mean, full_matrices=False)
            variances, axes = S * S / max(n - 1, 1), Vt
        variances = variances.clamp_min(0.0)  # round-off can make tiny eigenvalues negative
        variances, axes = variances[: min(n, d)], axes[: min(n, d)]  # the eigh path has d of them
        total = variances.sum()
        ratios = variances / total if float(total) > 0 else torch.zeros_like(variances)
        if isinstance(k, float):  # smallest count reaching the requested fraction of variance
            k = int(torch.searchsorted(torch.cumsum(ratios.double(), 0), torch.tensor(k, dtype=torch.float64), right=False)) + 1
            k = min(k, variances.shape[0])
        rest = variances[k:]
        self._publish(Xt, mean, axes[:k], variances[:k], ratios[:k], float(rest.mean()) if rest.numel() > 0 else 0.0,
                      column_variance)
        return self

    def _publish(self, X: torch.Tensor, mean: torch.Tensor, axes: torch.Tensor, variances: torch.Tensor,
                 ratios: torch.Tensor, noise_variance: float, column_variance: torch.Tensor | None = None) -> None:
        """Store a full fit's results (scikit-learn's attributes, NumPy arrays); the
        per-feature (biased) variance is computed from ``X`` unless given."""
        n = X.shape[0]
        self.components_ = _flip_signs(axes).cpu().numpy()
        self.explained_variance_ = variances.cpu().numpy()
        self.explained_variance_ratio_ = ratios.cpu().numpy()
        self.singular_values_ = torch.sqrt(variances * max(n - 1, 1)).cpu().numpy()
        self.mean_ = mean.cpu().numpy()
        self.var_ = (_column_variance(X, mean) if column_variance is None else column_variance).cpu().numpy()
        self.n_components_ = int(axes.shape[0])
        self.n_samples_ = self.n_samples_seen_ = int(n)
        self.noise_variance_ = float(noise_variance)

    def _fit_randomized(self, X: torch.Tensor, mean: torch.Tensor, k: int) -> "PCA":
        """Top ``k`` axes by randomized SVD of the implicitly centred ``X`` (Halko et al.)."""
        n, d = X.shape
        size = min(k + self.n_oversamples, n, d)
        n_iter = self.iterated_power
        if n_iter == "auto":  # scikit-learn's rule
            n_iter = 7 if k < 0.1 * min(n, d) else 4
        ones = torch.ones(n, 1, dtype=X.dtype, device=X.device)
        row = mean[None, :]

        def times(Q: torch.Tensor) -> torch.Tensor:  # (X - 1 mean) @ Q
            return X @ Q - ones @ (row @ Q)

        def times_t(P: torch.Tensor) -> torch.Tensor:  # (X - 1 mean)^T @ P
            return X.T @ P - row.T @ P.sum(0, keepdim=True)

        _, S, Vt = randomized_svd(times, times_t, d, size, power_iterations=int(n_iter),
                                  generator=self._generator(X.device), dtype=X.dtype, device=X.device, compute_u=False)
        variances = S[:k] ** 2 / max(n - 1, 1)
        column_variance = _column_variance(X, mean)
        total = float(column_variance.sum()) * n / max(n - 1, 1)  # unbiased total variance
        ratios = variances / total if total > 0 else torch.zeros_like(variances)
        rank = min(n, d)
        noise = (total - float(variances.sum())) / (rank - k) if k < rank else 0.0
        self._publish(X, mean, Vt[:k], variances, ratios, max(noise, 0.0), column_variance)
        return self

    # -- incremental ----------------------------------------------------------------------------
    def partial_fit(self, X: Any, y: Any = None) -> "PCA":
        """Update the axes with the batch ``X`` (scikit-learn's ``IncrementalPCA.partial_fit``).

        The first call (or the first after :meth:`fit`'s results were cleared) starts a new
        model; later calls need the same number of features and, for an integer
        ``n_components``, at least that many rows. Returns self.
        """
        first = not hasattr(self, "components_")
        device = self._device()
        Xt = self._check_X(X, reset=first, device=device)
        b, d = Xt.shape
        k = self._incremental_n_components(b, d, first)
        # Chan et al.'s update of the running mean and (biased) variance, in float64.
        Xd = Xt.double()
        batch_mean = Xd.mean(0)
        batch_ss = ((Xd - batch_mean) ** 2).sum(0)
        if first:
            seen, old_mean, old_ss = 0, torch.zeros_like(batch_mean), torch.zeros_like(batch_ss)
        else:
            seen = int(self.n_samples_seen_)
            old_mean = torch.as_tensor(self.mean_, dtype=torch.float64, device=device)
            old_ss = torch.as_tensor(self.var_, dtype=torch.float64, device=device) * seen
        total_n = seen + b
        mean = old_mean + (batch_mean - old_mean) * (b / total_n)
        ss = old_ss + batch_ss + (batch_mean - old_mean) ** 2 * (seen * b / total_n)
        centred = Xt - batch_mean.to(Xt.dtype)
        if seen > 0:  # the past's summary, the centred batch, and the mean-shift correction
            summary = as_tensor(self.singular_values_, device)[:, None] * as_tensor(self.components_, device)
            correction = (math.sqrt(seen / total_n * b) * (old_mean - batch_mean)).to(Xt.dtype)[None, :]
            centred = torch.cat([summary, centred, correction])
        _, S, Vt = torch.linalg.svd(centred, full_matrices=False)
        variances = S**2 / max(total_n - 1, 1)
        ratios = S**2 / float(ss.sum()) if float(ss.sum()) > 0 else torch.zeros_like(S)
        self.components_ = _flip_signs(Vt[:k]).cpu().numpy()
        self.singular_values_ = S[:k].cpu().numpy()
        self.explained_variance_ = variances[:k].cpu().numpy()
        self.explained_variance_ratio_ = ratios[:k].cpu().numpy()
        self.mean_ = mean.float().cpu().numpy()
        self.var_ = (ss / total_n).float().cpu().numpy()
        self.n_components_ = int(k)
        self.n_samples_ = self.n_samples_seen_ = int(total_n)
        self.noise_variance_ = float(variances[k:].mean()) if k not in (b, d) and variances.numel() > k else 0.0
        return self

    def _incremental_n_components(self, n_batch: int, d: int, first: bool) -> int:
        """scikit-learn's IncrementalPCA rules for ``n_components`` in ``partial_fit``."""
        k = self.n_components
        if k is None:
            return min(n_batch, d) if first else int(self.n_components_)
        if not (isinstance(k, (int, np.integer)) and not isinstance(k, bool)) or k < 1:
            raise ValueError(f"n_components must be None or a positive integer for partial_fit; got {k!r}")
        if k > d:
            raise ValueError(f"n_components={k} must be at most the number of features ({d}) for partial_fit")
        if k > n_batch:
            raise ValueError(f"n_components={k} must be at most the number of samples in each partial_fit batch; "
                             f"this batch has {n_batch}. Use batches of at least {k} rows")
        if not first and int(self.n_components_) != k:
            raise ValueError(f"n_components changed from {self.n_components_} to {k} between calls to partial_fit; "
                             "keep it fixed (or call fit to start again)")
        return int(k)

    def _resolve_n_components(self, n: int, d: int) -> int | float:
        k, limit = self.n_components, min(n, d)
        if k is None:
            return limit
        if isinstance(k, (float, np.floating)) and not isinstance(k, bool) and 0.0 < k < 1.0:
            return float(k)
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= limit:
            return int(k)
        raise ValueError(
            f"n_components must be None, an integer in [1, min(n_samples, n_features)] = [1, {limit}], "
            f"or a float in (0, 1); got {k!r}"
        )

    @staticmethod
    def _covariance_eigh(X: torch.Tensor, mean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Eigenvalues (descending) and eigenvectors (as rows) of the covariance of ``X``,
        and each feature's biased variance, read off the covariance's diagonal (a second
        pass over ``X`` for ``var_`` would cost as much as the whole covariance)."""
        n = X.shape[0]
        gram = _gram(X) if X.device.type == "cpu" else X.T @ X
        cov = (gram - n * torch.outer(mean, mean)) / max(n - 1, 1)
        column_variance = (torch.diagonal(cov).double() * (max(n - 1, 1) / max(n, 1))).clamp_min(0.0)
        values, vectors = torch.linalg.eigh(cov)  # ascending order, vectors as columns
        return values.flip(0), vectors.flip(1).T, column_variance

    # -- using the fitted model -----------------------------------------------------------------
    def transform(self, X: Any) -> Any:
        """Coordinates of ``X`` along the principal axes: ``(X - mean_) @ components_.T``."""
        device = self._device()
        Xt = self._check_X(X, reset=False, device=device)
        Z = (Xt - as_tensor(self.mean_, device)) @ as_tensor(self.components_, device).T
        if self.whiten:
            Z = Z / torch.sqrt(as_tensor(self.explained_variance_, device)).clamp_min(1e-12)
        return as_output(Z, X)

    def inverse_transform(self, Z: Any) -> Any:
        """Map coordinates back to the input space (the best rank-k reconstruction)."""
        check_is_fitted(self)
        device = self._device()
        Zt = check_array(Z, name="Z", device=device, n_features=self.n_components_, owner="PCA.inverse_transform")
        if self.whiten:
            Zt = Zt * torch.sqrt(as_tensor(self.explained_variance_, device))
        Xr = Zt @ as_tensor(self.components_, device) + as_tensor(self.mean_, device)
        return as_output(Xr, Z)

    def reconstruction_error(self, X: Any) -> float:
        """Mean squared reconstruction error per feature of ``X`` through the kept components."""
        Xt = self._check_X(X, reset=False, device=self._device())
        Xr = as_tensor(self.inverse_transform(self.transform(Xt)), Xt.device)
        return float(((Xt - Xr) ** 2).mean())

    # -- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        names = ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_", "var_")
        tensors = {name: getattr(self, name) for name in names if hasattr(self, name)}
        return tensors, {"n_components_": self.n_components_, "n_samples_": self.n_samples_, "noise_variance_": self.noise_variance_,
                         "n_samples_seen_": getattr(self, "n_samples_seen_", self.n_samples_)}

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        """Files written before ``partial_fit`` existed saw all their samples in one ``fit``."""
        metadata = super()._upgrade_state(metadata)
        if "n_samples_seen_" not in metadata and "n_samples_" in metadata:
            metadata = {**metadata, "n_samples_seen_": metadata["n_samples_"]}
        return metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        for name, value in tensors.items():  # files written before partial_fit existed have no var_
            setattr(self, name, value)
        self.n_components_ = int(metadata["n_components_"])
        self.n_samples_ = int(metadata["n_samples_"])
        self.n_samples_seen_ = int(metadata.get("n_samples_seen_", self.n_samples_))
        self.noise_variance_ = float(metadata["noise_variance_"])


def _flip_signs(axes: torch.Tensor) -> torch.Tensor:
    """scikit-learn's ``svd_flip``: make the largest-|.| loading of each axis positive."""
    signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    return axes * torch.where(signs == 0, torch.ones_like(signs), signs)


def _column_variance(X: torch.Tensor, mean: torch.Tensor, rows: int = 8192) -> torch.Tensor:
    """Per-feature biased variance of ``X`` about ``mean``, in float64, a block of rows at a
    time (no copy of the whole of ``X``)."""
    ss = torch.zeros(X.shape[1], dtype=torch.float64, device=X.device)
    m = mean.double()
    for start in range(0, X.shape[0], rows):
        ss += ((X[start : start + rows].double() - m) ** 2).sum(0)
    return ss / max(X.shape[0], 1)


def _gram(X: torch.Tensor, panels: int = 4) -> torch.Tensor:
    """``X^T X`` from the products on and above its diagonal, mirrored below.

    BLAS's syrk does this (half the multiplications of a general product), but torch has
    none, and NumPy's (OpenBLAS) runs on a thread pool of its own that fights torch's for
    the cores. Column panel ``j`` is multiplied by every column up to its own, and the part
    above the diagonal copied below it: ``(1 + 2 + 3 + 4) / 16`` of the full product's work
    for four panels. On a CPU this is faster than both NumPy's syrk and ``X.T @ X``;
    benchmarks/results/unsupervised.md holds the PCA fit times.
    """
    d = X.shape[1]
    edges = [i * d // panels for i in range(panels + 1)]
    gram = torch.empty(d, d, dtype=X.dtype, device=X.device)
    for lo, hi in pairwise(edges):
        block = X[:, :hi].T @ X[:, lo:hi]  # rows 0..hi of columns lo..hi
        gram[:hi, lo:hi] = block
        gram[lo:hi, :lo] = block[:lo].T
    return gram
