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

from groundup import persistence
from groundup.torch_utils import resolve_device, to_numpy
from groundup.validation import NotFittedError, check_array, check_is_fitted, check_seed

__all__ = ["NotFittedError", "TorchEstimator", "as_output"]

E = TypeVar("E", bound="TorchEstimator")


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
            t = check_array(X, device=device, owner=owner)
            self.n_features_in_ = int(t.shape[1])
            return t
        check_is_fitted(self)
        return check_array(X, device=device, n_features=self.n_features_in_, owner=owner)

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
