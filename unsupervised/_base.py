"""The plumbing every estimator here shares: parameters, devices, input checks, save/load.

Each estimator is a scikit-learn ``BaseEstimator``: ``__init__`` only stores its
arguments (so ``get_params``, ``set_params`` and ``sklearn.base.clone`` work and it fits
in a ``Pipeline``), ``fit`` returns ``self`` and learned attributes end in ``_``. The
arithmetic runs in torch on ``device`` ("auto": CUDA, then MPS, then the CPU).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from groundup import persistence
from groundup.torch_utils import check_seed, resolve_device, to_numpy

__all__ = ["NotFittedError", "TorchEstimator", "check_input", "check_unit_interval", "as_output"]

E = TypeVar("E", bound="TorchEstimator")


def check_input(X: Any, *, name: str = "X", device: torch.device | None = None, n_features: int | None = None, owner: str = "") -> torch.Tensor:
    """Turn ``X`` into a finite 2-D float32 tensor on ``device``, or raise a clear error.

    Accepts array-likes and tensors (a tensor stays on its device unless ``device`` is
    given). Raises ``TypeError`` for non-numeric data and ``ValueError`` for the wrong
    number of dimensions, no samples, NaN or infinity, or (when ``n_features`` is given)
    a column count other than the one seen in ``fit``.
    """
    if isinstance(X, torch.Tensor):
        if X.is_complex() or X.dtype == torch.bool:
            raise TypeError(f"{name} must hold real numbers; got a tensor of dtype {X.dtype}")
        t = X.to(device=device, dtype=torch.float32)
    else:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:  # ragged lists and the like
            raise ValueError(f"{name} must be a 2-D array of numbers; could not convert it ({exc})") from exc
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        if device is not None:
            t = t.to(device)
    if t.ndim != 2:
        hint = " (use X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample)" if t.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {t.ndim}-D with shape {tuple(t.shape)}{hint}")
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sample and one feature; got shape {tuple(t.shape)}")
    # One float32 sum is much cheaper than an elementwise isfinite pass (scikit-learn's
    # trick), and NaN or inf anywhere makes it non-finite; only then look closer, since
    # large finite values can also overflow the sum.
    if not bool(torch.isfinite(t.sum())):
        bad = "NaN" if bool(torch.isnan(t).any()) else "infinity" if bool(torch.isinf(t).any()) else None
        if bad is not None:
            raise ValueError(f"{name} contains {bad}; {owner or 'this estimator'} needs finite values")
    if n_features is not None and t.shape[1] != n_features:
        raise ValueError(f"{name} has {t.shape[1]} features, but {owner or 'the estimator'} was fitted with {n_features} features")
    return t


def check_unit_interval(X: torch.Tensor, *, name: str = "X", owner: str = "") -> None:
    """Raise ``ValueError`` unless every value of ``X`` is in [0, 1] (Bernoulli units).

    A rounding-sized excursion (1e-6, as a MinMaxScaler's float64 output cast to float32
    can show) is accepted: it changes nothing in the arithmetic.
    """
    lo, hi = float(X.min()), float(X.max())
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise ValueError(
            f"{name} must hold values in [0, 1] (probabilities for Bernoulli visible units) for {owner}; "
            f"got values from {lo:.4g} to {hi:.4g}. Rescale (e.g. MinMaxScaler) or binarise (X > 0.5) first"
        )


def as_output(Y: torch.Tensor, like: Any) -> Any:
    """Return ``Y`` as the caller gave ``like``: a tensor for a tensor, else a NumPy array."""
    return Y if isinstance(like, torch.Tensor) else to_numpy(Y)


class TorchEstimator(BaseEstimator):
    """Base for groundup's scikit-learn-style torch estimators.

    Subclasses define ``_get_state() -> (tensors, extra)`` and ``_set_state(tensors,
    extra)`` for persistence; ``save``/``load`` handle the file. ``device`` is a parameter
    of every subclass; learned tensors are kept as NumPy arrays (scikit-learn's habit) or
    torch modules and moved to the device when used.
    """

    # -- devices, seeds, checks -------------------------------------------------------------
    def _device(self) -> torch.device:
        return resolve_device(getattr(self, "device", "auto"))

    def _generator(self, device: torch.device) -> torch.Generator:
        """A generator on ``device`` seeded from ``random_state`` (fresh entropy if None)."""
        seed = check_seed(getattr(self, "random_state", None), "random_state")
        gen = torch.Generator(device=device)
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(seed)
        return gen

    def _check_X(self, X: Any, *, reset: bool, device: torch.device | None = None) -> torch.Tensor:
        """Validate ``X``; in ``fit`` (``reset=True``) remember ``n_features_in_``, later check it."""
        owner = type(self).__name__
        if reset:
            t = check_input(X, device=device, owner=owner)
            self.n_features_in_ = int(t.shape[1])
            return t
        check_is_fitted(self)
        return check_input(X, device=device, n_features=self.n_features_in_, owner=owner)

    def _check_positive(self, name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> None:
        kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
        ok = isinstance(value, kinds) and not isinstance(value, (bool, np.bool_)) and (value >= 0 if allow_zero else value > 0)
        if not ok:
            what = "integer" if integer else "number"
            raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} {what}; got {value!r}")

    # -- persistence --------------------------------------------------------------------------
    @classmethod
    def _class_id(cls) -> str:
        return f"groundup.unsupervised.{cls.__name__}"

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_state(self, tensors: dict[str, np.ndarray], extra: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted estimator to ``path`` (one ``.safetensors`` file, atomically)."""
        check_is_fitted(self)
        tensors, extra = self._get_state()
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params(deep=False).items()}
        meta = {"class": self._class_id(), "params": params, "n_features_in_": self.n_features_in_, "extra": extra}
        return persistence.save(path, tensors, meta)

    @classmethod
    def load(cls: type[E], path: str | os.PathLike, *, device: str | torch.device | None = None) -> E:
        """Read an estimator written by :meth:`save`; ``device`` overrides the saved one.

        Raises :class:`groundup.persistence.ModelFileError` for a file of another class,
        a truncated or tampered file, or one from a newer format.
        """
        tensors, meta = persistence.load(path, expected_class=cls._class_id())
        params = dict(meta["params"])
        for key, value in params.items():  # JSON has no tuples
            if isinstance(value, list):
                params[key] = tuple(value)
        if device is not None:
            params["device"] = str(device)
        est = cls(**params)
        est.n_features_in_ = int(meta["n_features_in_"])
        est._set_state(tensors, meta.get("extra", {}))
        return est
