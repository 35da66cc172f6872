"""Argument checks and their messages, written once for every family.

Each check takes the argument's name and its value, returns the value in its canonical
type (``int``, ``float``, a float32 tensor) and raises, at the boundary, an error whose
message names the argument, what was given and what is accepted:

- a value of the wrong type raises :class:`InvalidArgumentTypeError`, a ``TypeError``
  that is also a ``ValueError`` (as scikit-learn's ``InvalidParameterError`` is), so
  code that catches either keeps working;
- a value of the right type outside what is accepted raises ``ValueError``;
- a model used before ``fit`` raises :class:`NotFittedError`.

The checks: numbers (:func:`check_number`, :func:`check_int`, :func:`check_positive`,
:func:`check_in_interval`), probabilities (:func:`check_probability`,
:func:`check_gamma`), step sizes and momenta (:func:`check_learning_rate`,
:func:`check_learning_rate_grid`, :func:`check_momentum`), switches
(:func:`check_bool`), seeds (:func:`check_seed`), choices among strings
(:func:`check_choice`), arrays (:func:`check_array`, :func:`check_unit_interval`) and
fitted state (:func:`check_is_fitted`). The optimiser choice (a name, momentum, Nesterov,
torch's other settings) is checked by ``groundup.torch_utils.check_optimizer``, next to
the table of optimisers it names, with these checks.

This module is part of the core: it imports no family, and no optional library at import
time (scikit-learn is looked up only when :class:`NotFittedError` is first asked for).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "InvalidArgumentTypeError",
    "NotFittedError",
    "check_array",
    "check_bool",
    "check_choice",
    "check_gamma",
    "check_in_interval",
    "check_int",
    "check_is_fitted",
    "check_layer_sizes",
    "check_learning_rate",
    "check_learning_rate_grid",
    "check_momentum",
    "check_number",
    "check_positive",
    "check_probability",
    "check_seed",
    "check_unit_interval",
    "format_choices",
    "is_number",
]


class InvalidArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a number goes, a float where an
    integer goes). Both a ``TypeError`` and a ``ValueError``, as scikit-learn's
    ``InvalidParameterError`` is: callers that catch either keep working."""


def _not_fitted_error() -> type:
    """scikit-learn's ``NotFittedError`` when scikit-learn is installed (so that
    ``except NotFittedError`` in users' scikit-learn code catches ours), else one defined
    here with the same bases (``ValueError`` and ``AttributeError``)."""
    try:
        from sklearn.exceptions import NotFittedError as error
    except ImportError:  # pragma: no cover - scikit-learn comes with the nlp and unsupervised extras

        class NotFittedError(ValueError, AttributeError):
            """A model was used before ``fit`` (or ``load``)."""

        error = NotFittedError
    return error


_NOT_FITTED: type | None = None


def __getattr__(name: str) -> Any:  # PEP 562: NotFittedError resolved on first use
    global _NOT_FITTED
    if name == "NotFittedError":
        if _NOT_FITTED is None:
            _NOT_FITTED = _not_fitted_error()
        return _NOT_FITTED
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- numbers -----------------------------------------------------------------------------
def is_number(value: Any) -> bool:
    """True for a real number (Python or NumPy int or float), False for a bool or anything else."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``-style text; an infinite end is written as ``inf`` and is always open."""
    left = "(" if low_open or low == -math.inf else "["
    right = ")" if high_open or high == math.inf else "]"
    lo = "-inf" if low == -math.inf else _fmt(low)
    hi = "inf" if high == math.inf else _fmt(high)
    return f"{left}{lo}, {hi}{right}"


def check_number(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    allow_none: bool = False,
    accepted: str | None = None,
) -> Any:
    """``value`` as an ``int`` (``integer=True``) or a finite ``float`` within ``low`` and
    ``high`` (each end closed unless ``low_open``/``high_open``); ``None`` passes through
    when ``allow_none``. ``accepted`` replaces the default description of what is accepted
    in the message ("an integer >= 1", "a number in [0, 1)").

    Raises :class:`InvalidArgumentTypeError` for a non-number (a bool is not a number) or
    a float where an integer is needed, and ``ValueError`` for NaN, infinity or a value
    outside the interval.
    """
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a number"
    if accepted is None:
        if low != -math.inf and high == math.inf:
            accepted = f"{kind} {'>' if low_open else '>='} {_fmt(low)}"
        elif high != math.inf and low == -math.inf:
            accepted = f"{kind} {'<' if high_open else '<='} {_fmt(high)}"
        elif low == -math.inf and high == math.inf:
            accepted = "an integer" if integer else "a finite number"
        else:
            accepted = f"{kind} in {_interval(low, high, low_open, high_open)}"
        if allow_none:
            accepted += " or None"
    ok_type = _is_integer(value) if integer else is_number(value)
    if not ok_type:
        raise InvalidArgumentTypeError(f"{name} must be {accepted}; got {value!r} of type {type(value).__name__}")
    x = int(value) if integer else float(value)
    inside = (
        math.isfinite(x)
        and (x > low if low_open else x >= low)
        and (x < high if high_open else x <= high)
    )
    if not inside:
        raise ValueError(f"{name} must be {accepted}; got {value!r}")
    return x


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either end may be left out)."""
    accepted = None
    if minimum == 1 and maximum is None:
        accepted = "a positive integer" + (" or None" if allow_none else "")
    elif minimum == 0 and maximum is None:
        accepted = "a non-negative integer" + (" or None" if allow_none else "")
    return check_number(
        name, value, integer=True, allow_none=allow_none, accepted=accepted,
        low=-math.inf if minimum is None else minimum, high=math.inf if maximum is None else maximum,
    )


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    """A positive (or, with ``allow_zero``, non-negative) integer or finite number."""
    sign = "non-negative" if allow_zero else "positive"
    accepted = f"a {sign} integer" if integer else f"a {sign} finite number"
    return check_number(name, value, low=0, low_open=not allow_zero, integer=integer, accepted=accepted)


def check_in_interval(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
                      high_open: bool = False, what: str | None = None) -> float:
    """A finite number between ``low`` and ``high``. The message reads "``name`` must be
    in [low, high)", or "``name`` must be ``what`` in [low, high)" when ``what`` says
    what the number is ("a fraction", "a masking probability")."""
    interval = _interval(low, high, low_open, high_open)
    accepted = f"{what} in {interval}" if what else f"in {interval}"
    return check_number(name, value, low=low, high=high, low_open=low_open, high_open=high_open, accepted=accepted)


def check_probability(name: str, value: Any) -> float:
    """A probability: a number in [0, 1]."""
    return check_in_interval(name, value, 0.0, 1.0, what="a probability")


def check_gamma(gamma: Any, name: str = "gamma") -> float:
    """A discount factor: a number in [0, 1]."""
    return check_in_interval(f"{name} (the discount factor)", gamma, 0.0, 1.0, what="a number")


def check_learning_rate(value: Any, *, name: str = "learning_rate", allow_none: bool = False,
                        none_means: str = "sample averages, alpha = 1/n") -> float | None:
    """A step size: a positive finite number (or ``None`` when ``allow_none``, which
    means ``none_means``)."""
    if value is None and allow_none:
        return None
    accepted = "a positive finite number" + (f" or None ({none_means})" if allow_none else "")
    return check_number(name, value, low=0.0, low_open=True, accepted=accepted)


def check_learning_rate_grid(grid: Any, *, name: str = "learning_rates") -> tuple[float, ...]:
    """A grid of step sizes to try: a non-empty sequence of positive finite numbers,
    returned as a tuple of floats in the order given.

    A single number, a string or a mapping raises :class:`InvalidArgumentTypeError` (wrap
    one rate in a list); an empty grid raises ``ValueError``, and so does a zero, negative,
    NaN or infinite entry, named by its index (``learning_rates[2]``).
    """
    accepted = "a non-empty sequence of positive finite numbers, e.g. [0.01, 0.1]"
    if isinstance(grid, (str, bytes, Mapping)) or is_number(grid) or not isinstance(grid, Iterable):
        raise InvalidArgumentTypeError(f"{name} must be {accepted}; got {grid!r:.80} of type {type(grid).__name__}")
    values = list(np.asarray(grid).ravel()) if isinstance(grid, np.ndarray) else list(grid)
    if not values:
        raise ValueError(f"{name} must be {accepted}; got an empty {type(grid).__name__}")
    return tuple(check_learning_rate(v, name=f"{name}[{i}]") for i, v in enumerate(values))


def check_momentum(value: Any, name: str = "momentum") -> float:
    """A momentum coefficient: a number in [0, 1). At 1 no past gradient would ever fade,
    so the steps would grow without bound; 0 is plain gradient descent."""
    return check_in_interval(name, value, 0.0, 1.0, high_open=True, what="a number")


def check_bool(name: str, value: Any) -> bool:
    """A switch: ``True`` or ``False`` (a NumPy bool too). Anything else, ``1`` or ``"yes"``
    included, raises :class:`InvalidArgumentTypeError`: a typo should not pass as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentTypeError(f"{name} must be True or False; got {value!r:.80} of type {type(value).__name__}")
    return bool(value)


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """A seed: ``None`` (fresh entropy) or a non-negative integer. A wrong type raises a
    ``TypeError`` (an :class:`InvalidArgumentTypeError`), a negative integer ``ValueError``."""
    return check_number(name, seed, low=0, integer=True, allow_none=True,
                        accepted="None or a non-negative integer")


# -- choices -----------------------------------------------------------------------------
def check_layer_sizes(name: str, value: Any, *, example: str = "[64, 64]") -> tuple[int, ...]:
    """Hidden layer widths: a non-empty sequence of positive integers (a bare integer is one
    layer, as in scikit-learn's ``hidden_layer_sizes``). Returns them as a tuple of ``int``.

    A string or another non-sequence raises :class:`InvalidArgumentTypeError`; an empty
    sequence or a width that is not a positive integer raises ``ValueError``. ``example``
    shows an accepted value in the message, in the caller's own spelling.
    """
    if _is_integer(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidArgumentTypeError(
            f"{name} must be a list of hidden layer sizes such as {example}; got {value!r} of type {type(value).__name__}")
    sizes = list(value)
    if not sizes:
        raise ValueError(f"{name} must list at least one hidden layer size (such as {example}); got an empty {type(value).__name__}")
    if not all(_is_integer(size) and size > 0 for size in sizes):
        raise ValueError(f"{name} must hold positive integers (hidden layer sizes, such as {example}); got {sizes!r}")
    return tuple(int(size) for size in sizes)


def format_choices(choices: Iterable[Any] | Mapping[Any, str]) -> str:
    """``'a' or 'b'`` for two choices, ``one of 'a', 'b', 'c'`` for more; a mapping from
    each choice to what it means reads ``1 (skip-gram) or 0 (CBOW)``."""
    if isinstance(choices, Mapping):
        items = [f"{c!r} ({meaning})" for c, meaning in choices.items()]
    else:
        items = [repr(c) for c in choices]
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} or {items[1]}"
    return "one of " + ", ".join(items)


def _same_choice(value: Any, choice: Any) -> bool:
    if isinstance(choice, str):
        return isinstance(value, str) and value == choice
    if isinstance(choice, (int, np.integer)):  # 1 matches 1 (and True, as Python has it), not 1.0
        return isinstance(value, (int, np.integer)) and value == choice
    if isinstance(value, (str, int, float, np.number)) or value is None:
        return bool(value == choice)
    return False


def check_choice(name: str, value: Any, choices: Sequence[Any] | Mapping[Any, str]) -> Any:
    """``value`` if it is one of ``choices``, else ``ValueError`` naming the argument, the
    value and the choices. A string matches only a string and an integer choice only an
    integer (so ``1.0`` is not ``1``); a value such as an array or a list matches nothing.
    ``choices`` may map each choice to what it means, for the message."""
    if not any(_same_choice(value, c) for c in choices):
        raise ValueError(f"{name} must be {format_choices(choices)}; got {value!r:.80}")
    return value


# -- arrays ------------------------------------------------------------------------------
def check_array(X: Any, *, name: str = "X", device: torch.device | str | None = None, n_features: int | None = None,
                owner: str = "") -> torch.Tensor:
    """Turn ``X`` into a finite 2-D float32 tensor on ``device``, or raise a clear error.

    Accepts array-likes and tensors (a tensor stays on its device unless ``device`` is
    given). Raises ``TypeError`` (an :class:`InvalidArgumentTypeError`) for non-numeric,
    complex or sparse data, and ``ValueError`` for the wrong
    number of dimensions, no samples, NaN or infinity, or (when ``n_features`` is given)
    a column count other than the one seen in ``fit``. ``owner`` names the model in
    messages.
    """
    if isinstance(X, torch.Tensor):
        if X.is_complex() or X.dtype == torch.bool:
            raise InvalidArgumentTypeError(f"{name} must hold real numbers; got a tensor of dtype {X.dtype}"
                                           f"{'. Complex data not supported' if X.is_complex() else ''}")
        t = X.to(device=device, dtype=torch.float32)
    else:
        if hasattr(X, "toarray") and hasattr(X, "nnz"):  # scipy.sparse matrices and arrays
            raise InvalidArgumentTypeError(
                f"{name} is a sparse {type(X).__name__}; {owner or 'this estimator'} needs a dense array "
                f"(sparse input is not supported): pass {name}.toarray()"
            )
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:  # ragged lists and the like
            raise ValueError(f"{name} must be a 2-D array of numbers; could not convert it ({exc})") from exc
        if arr.dtype == object:  # numbers in an object array are fine; anything else is not
            try:
                arr = arr.astype(np.float64)
            except (ValueError, TypeError) as exc:
                raise InvalidArgumentTypeError(f"{name} must hold real numbers; got an array of dtype object ({exc})") from None
        if arr.dtype.kind not in "biuf":
            complex_note = ". Complex data not supported" if arr.dtype.kind == "c" else ""
            raise InvalidArgumentTypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}{complex_note}")
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        if device is not None:
            t = t.to(device)
    if t.ndim != 2:
        hint = (f". Reshape your data: {name}.reshape(-1, 1) for one feature or {name}.reshape(1, -1) for one sample"
                if t.ndim == 1 else "")
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {t.ndim}-D with shape {tuple(t.shape)}{hint}")
    for axis, what in ((0, "sample"), (1, "feature")):
        if t.shape[axis] == 0:
            raise ValueError(f"{name} must have at least one sample and one feature; got 0 {what}(s) "
                             f"(shape={tuple(t.shape)}) while a minimum of 1 is required.")
    # One float32 sum is much cheaper than an elementwise isfinite pass (scikit-learn's
    # trick), and NaN or inf anywhere makes it non-finite; only then look closer, since
    # large finite values can also overflow the sum.
    if not bool(torch.isfinite(t.sum())):
        bad = "NaN" if bool(torch.isnan(t).any()) else "infinity" if bool(torch.isinf(t).any()) else None
        if bad is not None:
            raise ValueError(f"{name} contains {bad}; {owner or 'this estimator'} needs finite values")
    if n_features is not None and t.shape[1] != n_features:
        raise ValueError(f"{name} has {t.shape[1]} features, but {owner or 'the estimator'} is expecting {n_features} "
                         f"features as input (as many as it was fitted with)")
    return t


def check_unit_interval(X: torch.Tensor, *, name: str = "X", owner: str = "") -> None:
    """Raise ``ValueError`` unless every value of ``X`` is in [0, 1] (Bernoulli units).

    A rounding-sized excursion (1e-6, as a MinMaxScaler's float64 output cast to float32
    can show) is accepted: it changes nothing in the arithmetic.
    """
    lo, hi = float(X.min()), float(X.max())
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise ValueError(
            f"{name} must hold values in [0, 1] (probabilities for Bernoulli visible units) for {owner or 'this model'}; "
            f"got values from {lo:.4g} to {hi:.4g}. Rescale (e.g. MinMaxScaler) or binarise (X > 0.5) first"
        )


# -- fitted state ------------------------------------------------------------------------
def check_is_fitted(model: Any, attributes: str | Sequence[str] | None = None, *, hint: str | None = None) -> None:
    """Raise :class:`NotFittedError` unless ``model`` is fitted.

    Fitted means: every name in ``attributes`` is set (and not ``None``) on ``model``; with
    no ``attributes``, scikit-learn's rule: ``model.__sklearn_is_fitted__()`` if it has
    one, else some attribute ending in ``_`` (learned attributes, by convention).
    ``hint`` says what to do ("call fit(sentences, tags) or RNNTagger.load(path)");
    by default "call fit first".
    """
    if attributes is not None:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(getattr(model, a, None) is not None for a in names)
    elif hasattr(model, "__sklearn_is_fitted__"):
        fitted = bool(model.__sklearn_is_fitted__())
    else:
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(model))
    if not fitted:
        error = __getattr__("NotFittedError")
        raise error(f"this {type(model).__name__} is not fitted yet; {hint or 'call fit first'}")
