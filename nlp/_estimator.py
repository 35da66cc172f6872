"""What the tagger and the tree models share as scikit-learn-style estimators (their
parameter protocol is scikit-learn's ``BaseEstimator``): the checks on sentences and tags
done once at the boundary, and the early-stopping report."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from groundup.validation import NotFittedError  # re-exported: the one NotFittedError

__all__ = [
    "MIN_VALIDATION_SIZE",
    "EarlyStoppingWarning",
    "NotFittedError",
    "check_sentences",
    "check_tags",
    "stop_reason",
    "warn_if_validation_too_small",
]

#: Early stopping on fewer validation sentences (or trees) than this draws a warning:
#: one item more or less right moves the score by 2% or more, so "no improvement for
#: n_iter_no_change epochs" is mostly noise and training tends to stop far too soon.
MIN_VALIDATION_SIZE = 50


class EarlyStoppingWarning(UserWarning):
    """Early stopping judged training on a validation set too small to tell a better
    epoch from noise (fewer than ``MIN_VALIDATION_SIZE`` sentences or trees)."""

def check_sentences(sentences: Any, name: str = "sentences") -> list[list[str]]:
    """A list of non-empty token lists, or a ``TypeError``/``ValueError`` naming the culprit."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise TypeError(f"{name} must be a list of sentences, each a list of token strings; got {type(sentences).__name__}")
    if len(sentences) == 0:
        raise ValueError(f"{name} is empty; give at least one sentence")
    out = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not isinstance(sentence, Sequence):
            raise TypeError(
                f"{name}[{i}] must be a list of token strings; got {type(sentence).__name__} "
                f"{sentence!r:.60} (split a text into tokens first)"
            )
        if len(sentence) == 0:
            raise ValueError(f"{name}[{i}] is an empty sentence; every sentence needs at least one token")
        for j, token in enumerate(sentence):
            if not isinstance(token, str):
                raise TypeError(f"{name}[{i}][{j}] must be a string token; got {type(token).__name__} {token!r:.60}")
            if token == "":
                raise ValueError(f"{name}[{i}][{j}] is an empty string; tokens must be non-empty")
        out.append(list(sentence))
    return out


def check_tags(sentences: list[list[str]], tags: Any, name: str = "tags") -> list[list[str]]:
    """Tag sequences aligned with ``sentences``: one per sentence, one string per token."""
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise TypeError(f"{name} must be a list of tag sequences, one per sentence; got {type(tags).__name__}")
    if len(tags) != len(sentences):
        raise ValueError(f"{name} has {len(tags)} tag sequences but there are {len(sentences)} sentences; give one per sentence")
    out = []
    for i, (sentence, ts) in enumerate(zip(sentences, tags)):
        if isinstance(ts, str) or not isinstance(ts, Sequence):
            raise TypeError(f"{name}[{i}] must be a list of tag strings; got {type(ts).__name__}")
        if len(ts) != len(sentence):
            raise ValueError(
                f"sentence {i} has {len(sentence)} tokens but {name}[{i}] has {len(ts)} tags; they must be the same length"
            )
        for j, t in enumerate(ts):
            if not isinstance(t, str) or t == "":
                raise TypeError(f"{name}[{i}][{j}] must be a non-empty tag string; got {t!r}")
        out.append(list(ts))
    return out


def stop_reason(stopped_early: bool, n_epochs: int, max_iter: int, n_iter_no_change: int,
                best_epoch: int | None, metric: str, best_score: float) -> str:
    """The ``training_log_.stop_reason`` sentence of the tagger and the recursive nets."""
    if stopped_early:
        epochs = "epoch" if n_iter_no_change == 1 else "epochs"
        return (f"early_stopping: no improvement in {n_iter_no_change} {epochs}; stopped after epoch {n_epochs} of "
                f"max_iter={max_iter}, kept epoch {best_epoch} ({metric} {best_score:.4g})")
    kept = f", kept epoch {best_epoch} ({metric} {best_score:.4g})" if best_epoch is not None else ""
    return f"max_iter: all {max_iter} epochs ran{kept}"


def warn_if_validation_too_small(estimator: str, n_validation: int, unit: str, *, stopped_early: bool,
                                 n_epochs: int, kept_epoch: int | None, max_iter: int, how_to_add: str,
                                 stacklevel: int = 3) -> None:
    """Warn (:class:`EarlyStoppingWarning`) when early stopping, judging by fewer than
    :data:`MIN_VALIDATION_SIZE` validation ``unit``s (sentences, trees), changed the
    outcome: it ended training before ``max_iter``, or kept an earlier epoch's weights than
    the last. Says what to do; ``how_to_add`` names the ``fit`` argument that takes a
    validation set."""
    if n_validation >= MIN_VALIDATION_SIZE or not (stopped_early or kept_epoch != n_epochs):
        return
    items = unit if n_validation == 1 else unit + "s"
    if stopped_early:
        what = f"early stopping ended training after epoch {n_epochs} of max_iter={max_iter}"
    else:
        what = f"early stopping kept the weights of epoch {kept_epoch} of {n_epochs}"
    warnings.warn(
        f"{estimator}: {what} judging by a validation set of only {n_validation} {items}; fewer than "
        f"{MIN_VALIDATION_SIZE} cannot tell a better epoch from noise, so the model may be undertrained. "
        f"Pass early_stopping=False to train for all max_iter epochs on every {unit}, or give more data: "
        f"at least {MIN_VALIDATION_SIZE} validation {unit}s ({how_to_add}, or enough training {unit}s "
        f"that validation_fraction sets aside {MIN_VALIDATION_SIZE}).",
        EarlyStoppingWarning,
        stacklevel=stacklevel,
    )
