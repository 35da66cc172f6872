"""Torch machinery shared by every family: devices, seeding, batching, the minibatch loop,
and the optimisers that ``optimizer=`` arguments name.

Nothing here imports a family (agents, nlp, unsupervised); they all stand on it.
"""

from __future__ import annotations

import inspect
import math
import os
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from groundup.validation import (  # check_seed re-exported: torch_utils.check_seed is validation.check_seed
    InvalidArgumentTypeError,
    check_bool,
    check_choice,
    check_learning_rate,
    check_momentum,
    check_positive,
    check_seed,
)

__all__ = [
    "resolve_device",
    "set_seed",
    "set_num_threads",
    "as_tensor",
    "to_numpy",
    "resolve_batch_size",
    "iterate_minibatches",
    "train_minibatches",
    "rng_state",
    "set_rng_state",
    "OPTIMIZERS",
    "check_optimizer",
    "make_optimizer",
]

_DEVICE_ENV = "GROUNDUP_DEVICE"


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``device`` into a ``torch.device``.

    ``"auto"`` (or ``None``) picks ``$GROUNDUP_DEVICE`` when set, else CUDA when available,
    else Apple's MPS, else the CPU. Anything else is passed to ``torch.device`` after a
    check that the backend exists, so a typo or a missing GPU fails here with a clear
    message instead of deep inside a forward pass.
    """
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        override = os.environ.get(_DEVICE_ENV)
        if override and override != "auto":
            return resolve_device(override)
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str):
        raise TypeError(
            f"device must be 'auto', a string such as 'cpu' or 'cuda:0', or a torch.device; "
            f"got {device!r} of type {type(device).__name__}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows; use 'auto', 'cpu', 'cuda', "
            f"'cuda:N' or 'mps'"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; use 'auto' or 'cpu'")
    if resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={device!r} was asked for but MPS is not available here; use 'auto' or 'cpu'")
    return resolved


def set_seed(seed: int | None) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    The same seed gives the same results on the CPU. ``None`` leaves every generator as it is.
    """
    if seed is None:
        return
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the platform reports one
    (a container or ``taskset`` can allow fewer than the machine has), else
    ``os.cpu_count()``, else 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def set_num_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count (default: ``$GROUNDUP_THREADS`` or all cores).

    Benchmarks call this explicitly: an oversubscribed BLAS thread pool can make a
    measurement many times slower than the code is. Returns the count used.
    """
    if n is None:
        n = int(os.environ.get("GROUNDUP_THREADS", os.cpu_count() or 1))
    if n < 1:
        raise ValueError(f"n must be a positive number of threads; got {n}")
    torch.set_num_threads(n)
    return n


def as_tensor(x: Any, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Convert arrays, lists and tensors to a tensor on ``device`` in one transfer."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype) if (device is not None or dtype is not None) else x
    arr = np.asarray(x)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    if dtype is not None or device is not None:
        t = t.to(device=device, dtype=dtype)
    return t


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy of a tensor (from any device) or array-like."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


#: ``batch_size="auto"``: scikit-learn's rule for its networks, ``min(200, n_samples)``.
AUTO_BATCH_SIZE = 200


def resolve_batch_size(batch_size: int | str, n_samples: int, *, name: str = "batch_size") -> int:
    """The minibatch size to train ``n_samples`` with: ``"auto"`` is scikit-learn's
    ``min(200, n_samples)``; a number is checked, and one larger than ``n_samples`` gives a
    single batch of them all (as scikit-learn clips it)."""
    if isinstance(batch_size, str):
        if batch_size != "auto":
            raise ValueError(f"{name} must be 'auto' or a positive integer; got {batch_size!r}")
        return max(1, min(AUTO_BATCH_SIZE, n_samples))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{name} must be 'auto' or a positive integer; got {batch_size!r}")
    return max(1, min(int(batch_size), n_samples))


def iterate_minibatches(
    *tensors: torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, ...]]:
    """Yield aligned minibatches of ``tensors`` (all with the same first dimension).

    The permutation is drawn on the tensors' device, so data already on a GPU never
    travels back to the host.
    """
    if not tensors:
        raise ValueError("iterate_minibatches needs at least one tensor")
    n = tensors[0].shape[0]
    for t in tensors[1:]:
        if t.shape[0] != n:
            raise ValueError(f"all tensors must have the same first dimension; got {[t.shape[0] for t in tensors]}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}")
    device = tensors[0].device
    if shuffle:
        gen_device = generator.device if generator is not None else device
        order = torch.randperm(n, generator=generator, device=gen_device).to(device)
    else:
        order = None
    stop = n - (n % batch_size) if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield tuple(t[start : start + batch_size] for t in tensors)
        else:
            idx = order[start : start + batch_size]
            yield tuple(t[idx] for t in tensors)


def train_minibatches(
    step: Callable[..., float | torch.Tensor],
    tensors: Sequence[torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    on_epoch_end: Callable[[int, float], bool | None] | None = None,
    progress: Any = None,
    name: str = "training",
) -> list[float]:
    """The minibatch training loop every torch model here shares.

    ``step(*batch)`` does one optimisation step on one minibatch and returns its loss.
    After each epoch ``on_epoch_end(epoch, mean_loss)`` may return ``False`` to stop
    early (early stopping, a callback). ``progress`` is an optional object with
    ``update(n)`` (a tqdm bar), advanced by one per epoch. A non-finite loss stops
    training with a ``FloatingPointError`` naming the epoch and batch, so a diverged
    model is never returned as if it had trained.

    Returns the mean loss of each epoch.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs}")
    history: list[float] = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for b, batch in enumerate(iterate_minibatches(*tensors, batch_size=batch_size, shuffle=shuffle, generator=generator)):
            loss = step(*batch)
            loss_value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
            if not math.isfinite(loss_value):
                raise FloatingPointError(
                    f"{name}: the loss became {loss_value} at epoch {epoch + 1}, batch {b + 1}; "
                    f"lower the learning rate or check the inputs for NaN/inf"
                )
            n = batch[0].shape[0]
            total += loss_value * n
            count += n
        mean = total / max(count, 1)
        history.append(mean)
        if progress is not None:
            progress.update(1)
        if on_epoch_end is not None and on_epoch_end(epoch, mean) is False:
            break
    return history


def rng_state() -> dict[str, Any]:
    """Snapshot of Python, NumPy-global and torch RNG states (for checkpoints)."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot made by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# -- optimisers ----------------------------------------------------------------------------
#: The optimisers an ``optimizer=`` argument may name: torch.optim's classes under the
#: lower-case names PyTorch users write them with.
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
}

# Settings with a parameter of their own, so that each has one name: never in
# optimizer_kwargs. Momentum and Nesterov are SGD's own here; RMSprop's momentum, a
# different quantity with another default (0), goes through optimizer_kwargs.
_OWN_SETTINGS = {"params": "the parameters", "lr": "learning_rate", "weight_decay": "weight_decay"}
_SGD_OWN_SETTINGS = {"momentum": "momentum", "nesterov": "nesterov"}


def _passable_settings(optimizer: str) -> tuple[str, ...]:
    """The keyword arguments of ``OPTIMIZERS[optimizer]`` that optimizer_kwargs may hold."""
    own = {**_OWN_SETTINGS, **(_SGD_OWN_SETTINGS if optimizer == "sgd" else {})}
    signature = inspect.signature(OPTIMIZERS[optimizer].__init__)
    return tuple(k for k in signature.parameters if k != "self" and k not in own)


def check_optimizer(
    optimizer: Any,
    *,
    momentum: Any = 0.0,
    nesterov: Any = False,
    optimizer_kwargs: Any = None,
) -> dict[str, Any]:
    """Check an optimiser choice; return the keyword arguments, besides the parameters,
    ``lr`` and ``weight_decay``, that ``OPTIMIZERS[optimizer]`` is built with.

    ``optimizer`` is one of :data:`OPTIMIZERS`. ``momentum`` (in [0, 1)) and ``nesterov``
    are SGD's and are checked whatever the choice, but used only by "sgd" (as
    scikit-learn's MLP ignores ``momentum`` unless ``solver="sgd"``, so a grid over
    optimisers and momenta runs); ``nesterov=True`` with ``momentum=0`` is refused for
    "sgd", where Nesterov's look-ahead has no velocity to look along.
    ``optimizer_kwargs`` (a dict, or None for none) holds the class's other settings
    under torch's names, each left out taking torch's default. Each value is checked
    here, by building the optimiser over one dummy tensor, so a bad setting fails before
    any training starts, with a message naming ``optimizer_kwargs``.
    """
    check_choice("optimizer", optimizer, tuple(OPTIMIZERS))
    momentum = check_momentum(momentum)
    nesterov = check_bool("nesterov", nesterov)
    cls = OPTIMIZERS[optimizer]
    if optimizer_kwargs is None:
        extra: dict[str, Any] = {}
    elif not isinstance(optimizer_kwargs, dict) or not all(isinstance(k, str) for k in optimizer_kwargs):
        raise InvalidArgumentTypeError(
            f"optimizer_kwargs must be None or a dict from torch.optim.{cls.__name__}'s keyword names to values; "
            f"got {optimizer_kwargs!r:.80} of type {type(optimizer_kwargs).__name__}"
        )
    else:
        extra = dict(optimizer_kwargs)
    own = {**_OWN_SETTINGS, **(_SGD_OWN_SETTINGS if optimizer == "sgd" else {})}
    passable = _passable_settings(optimizer)
    for key in extra:
        if key in own:
            raise ValueError(f"optimizer_kwargs must not hold {key!r}: it is set by {own[key]}; "
                             f"got optimizer_kwargs={optimizer_kwargs!r:.120}")
        if key not in passable:
            raise ValueError(f"optimizer_kwargs holds {key!r}, which torch.optim.{cls.__name__} (optimizer={optimizer!r}) "
                             f"does not take; it takes {', '.join(map(repr, passable))}")
    if "momentum" in extra:  # RMSprop's; torch only checks that it is >= 0
        extra["momentum"] = check_momentum(extra["momentum"], name="optimizer_kwargs['momentum']")
    kwargs = extra
    if optimizer == "sgd":
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum in (0, 1) for optimizer='sgd' (Nesterov's method "
                             "looks ahead along the momentum); got momentum=0.0. Set momentum (e.g. 0.9) or nesterov=False")
        kwargs = {"momentum": momentum, "nesterov": nesterov, **extra}
    try:
        cls([torch.zeros(1, requires_grad=True)], lr=1.0, **kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        error = InvalidArgumentTypeError if isinstance(exc, TypeError) else ValueError
        raise error(f"optimizer_kwargs={optimizer_kwargs!r:.120} is refused by torch.optim.{cls.__name__}: {exc}") from exc
    return kwargs


def make_optimizer(
    parameters: Any,
    optimizer: str = "sgd",
    *,
    learning_rate: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    optimizer_kwargs: dict[str, Any] | None = None,
) -> torch.optim.Optimizer:
    """The torch.optim optimiser named ``optimizer`` over ``parameters`` (an iterable of
    tensors or of parameter groups, as torch.optim takes).

    - ``optimizer``: "sgd" (``torch.optim.SGD``), "adagrad", "rmsprop" or "adam".
    - ``learning_rate``: the step size (torch's ``lr``), a positive number.
    - ``momentum`` (default 0.0, torch's) and ``nesterov`` (default False): SGD's momentum
      and Nesterov's variant of it; checked for every optimiser, used by "sgd" only.
    - ``weight_decay`` (default 0.0): the L2 penalty's coefficient, added to the gradient
      (every one of the four takes it).
    - ``optimizer_kwargs`` (default None): the class's other settings by torch's names,
      each defaulting as in torch: "adam": ``betas=(0.9, 0.999)``, ``eps=1e-8``,
      ``amsgrad=False``; "rmsprop": ``alpha=0.99``, ``eps=1e-8``, ``momentum=0``,
      ``centered=False``; "adagrad": ``lr_decay=0``, ``initial_accumulator_value=0``,
      ``eps=1e-10``; "sgd": ``dampening=0``; and for each, torch's implementation
      switches (``foreach``, ``fused``, ``maximize``, ...).

    Every argument is checked first (:func:`check_optimizer`), with a message naming it.
    This is the one place where a name becomes an optimiser: the estimators'
    ``optimizer=`` parameters and the training benchmarks build theirs here.
    """
    kwargs = check_optimizer(optimizer, momentum=momentum, nesterov=nesterov, optimizer_kwargs=optimizer_kwargs)
    lr = check_learning_rate(learning_rate)
    weight_decay = check_positive("weight_decay", weight_decay, allow_zero=True)
    return OPTIMIZERS[optimizer](parameters, lr=lr, weight_decay=weight_decay, **kwargs)
