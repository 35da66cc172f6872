"""Principal component analysis: the eigenvectors of the covariance matrix.

For centred data ``Xc`` (n samples x d features) the covariance is ``C = Xc^T Xc / (n-1)``.
Its eigenvectors, sorted by eigenvalue, are the principal axes; each eigenvalue is the
variance of the data along its axis. Two ways to get them, picked by the data's shape:

* more samples than features (MNIST: 50,000 x 784): form the d x d matrix ``X^T X`` once
  and take its symmetric eigendecomposition (``torch.linalg.eigh``). The centring is
  folded into the product, ``Xc^T Xc = X^T X - n mean mean^T``, so X is never copied.
* fewer samples than features: the thin SVD ``Xc = U S V^T``; the rows of ``V^T`` are the
  axes and ``S^2 / (n-1)`` the variances.

Signs are fixed as scikit-learn fixes them (the largest-magnitude entry of each
component is positive), so results are comparable line by line.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import torch

from groundup.torch_utils import as_tensor
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.validation import check_array, check_is_fitted

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
    device : str, default "auto"
        Where the arithmetic runs ("cpu", "cuda", ...); "auto" picks a GPU when present.

    Attributes
    ----------
    components_ : (n_components, n_features) principal axes, by decreasing variance.
    explained_variance_ : (n_components,) variance along each axis (unbiased, n-1).
    explained_variance_ratio_ : (n_components,) fraction of the total variance.
    singular_values_ : (n_components,) singular values of the centred data.
    mean_ : (n_features,) per-feature mean of the training data.
    n_components_, n_samples_, noise_variance_, n_features_in_ : as in scikit-learn.
    """

    def __init__(self, n_components: int | float | None = None, *, whiten: bool = False, device: str = "auto") -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.device = device

    def fit(self, X: Any, y: Any = None) -> "PCA":
        """Find the principal axes of ``X`` (n_samples, n_features). Returns self."""
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        n, d = Xt.shape
        k = self._resolve_n_components(n, d)
        mean = Xt.mean(0)
        if n >= d:
            variances, axes = self._covariance_eigh(Xt, mean)
        else:
            _, S, Vt = torch.linalg.svd(Xt - mean, full_matrices=False)
            variances, axes = S * S / max(n - 1, 1), Vt
        variances = variances.clamp_min(0.0)  # round-off can make tiny eigenvalues negative
        total = variances.sum()
        ratios = variances / total if float(total) > 0 else torch.zeros_like(variances)
        if isinstance(k, float):  # smallest count reaching the requested fraction of variance
            k = int(torch.searchsorted(torch.cumsum(ratios.double(), 0), torch.tensor(k, dtype=torch.float64), right=False)) + 1
            k = min(k, variances.shape[0])
        axes = axes[:k]
        # scikit-learn's svd_flip: make the largest-|.| loading of each axis positive.
        signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
        axes = axes * torch.where(signs == 0, torch.ones_like(signs), signs)

        self.components_ = axes.cpu().numpy()
        self.explained_variance_ = variances[:k].cpu().numpy()
        self.explained_variance_ratio_ = ratios[:k].cpu().numpy()
        self.singular_values_ = torch.sqrt(variances[:k] * max(n - 1, 1)).cpu().numpy()
        self.mean_ = mean.cpu().numpy()
        self.n_components_ = int(k)
        self.n_samples_ = int(n)
        rest = variances[k:]
        self.noise_variance_ = float(rest.mean()) if rest.numel() > 0 else 0.0
        return self

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
    def _covariance_eigh(X: torch.Tensor, mean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigenvalues (descending) and eigenvectors (as rows) of the covariance of ``X``."""
        n = X.shape[0]
        gram = _gram(X) if X.device.type == "cpu" else X.T @ X
        cov = (gram - n * torch.outer(mean, mean)) / max(n - 1, 1)
        values, vectors = torch.linalg.eigh(cov)  # ascending order, vectors as columns
        return values.flip(0), vectors.flip(1).T

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
        tensors = {name: getattr(self, name) for name in ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_")}
        return tensors, {"n_components_": self.n_components_, "n_samples_": self.n_samples_, "noise_variance_": self.noise_variance_}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        for name, value in tensors.items():
            setattr(self, name, value)
        self.n_components_ = int(metadata["n_components_"])
        self.n_samples_ = int(metadata["n_samples_"])
        self.noise_variance_ = float(metadata["noise_variance_"])


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
