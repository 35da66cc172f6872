"""The plumbing every estimator here shares: parameters, devices, input checks, save/load.

Each estimator is a scikit-learn ``BaseEstimator``: ``__init__`` only stores its
arguments (so ``get_params``, ``set_params`` and ``sklearn.base.clone`` work and it fits
in a ``Pipeline``), ``fit`` returns ``self`` and learned attributes end in ``_``. The
arithmetic runs in torch on ``device`` ("auto": CUDA, then MPS, then the CPU).
"""

from __future__ import annotations

from typing import Any, TypeVar

import torch
import sklearn.base
from sklearn.base import BaseEstimator

from groundup.persistence import SaveLoadMixin
from groundup.torch_utils import resolve_device, to_numpy
from groundup.validation import NotFittedError, check_array, check_is_fitted, check_seed

__all__ = ["NotFittedError", "TorchEstimator", "TransformerMixin", "as_output", "stopping_before"]

E = TypeVar("E", bound="TorchEstimator")


def as_output(Y: torch.Tensor, like: Any) -> Any:
    """Return ``Y`` as the caller gave ``like``: a tensor for a tensor, else a NumPy array."""
    return Y if isinstance(like, torch.Tensor) else to_numpy(Y)


class TransformerMixin(sklearn.base.TransformerMixin):
    """scikit-learn's ``TransformerMixin``, whose tags say what these transformers return:
    float32 (the arithmetic is torch's float32), also for float64 input."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class TorchEstimator(SaveLoadMixin, BaseEstimator):
    """Base for groundup's scikit-learn-style torch estimators.

    Subclasses define ``_get_state() -> (tensors, metadata)`` and ``_set_state(tensors,
    metadata)`` for persistence; ``save``/``load`` (groundup.persistence.SaveLoadMixin's)
    handle the file, which also holds the parameters and ``n_features_in_``. ``device`` is a parameter
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

    # -- persistence: groundup.persistence.SaveLoadMixin's save/load --------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._class_id = f"groundup.unsupervised.{cls.__name__}"

    def _header(self) -> dict[str, Any]:
        check_is_fitted(self)
        return {"params": self.get_params(deep=False), "n_features_in_": self.n_features_in_}

    @classmethod
    def _new_for_state(cls: type[E], metadata: dict[str, Any], device: Any) -> E:
        est = super()._new_for_state(metadata, device)
        est.n_features_in_ = int(metadata["n_features_in_"])
        return est

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        """Files written before the shared protocol (groundup.persistence.SaveLoadMixin)
        kept each estimator's own metadata under "extra"; it now sits beside "params".
        Parameters added since are filled as :class:`~groundup.persistence.SaveLoadMixin`
        says (with :meth:`_params_before`)."""
        if isinstance(metadata.get("extra"), dict):
            metadata = {**{k: v for k, v in metadata.items() if k != "extra"}, **metadata["extra"]}
        return super()._upgrade_state(metadata)


def stopping_before(params: dict[str, Any]) -> dict[str, Any]:
    """Before early stopping existed, training ran every one of ``max_iter`` epochs on all
    the data: the stopping parameters that say so."""
    return dict(early_stopping=False, n_iter_no_change=params.get("max_iter", 20), tol=0.0, min_epochs=1)
