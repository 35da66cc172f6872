"""What the tagger and the tree models share as scikit-learn-style estimators (their
parameter protocol is scikit-learn's ``BaseEstimator``): the checks on sentences, tags and
labels done once at the boundary. The rules of early stopping and learning-rate decay live
in :mod:`groundup.early_stopping`, shared with the unsupervised estimators, and are
re-exported here."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

from groundup.early_stopping import (MIN_VALIDATION_SIZE, MIN_VALIDATION_SPLIT, EarlyStoppingWarning,  # re-exported
                                     NoLearningWarning, ValidationMonitor, split_size, warn_if_validation_too_small)
from groundup.validation import NotFittedError  # re-exported: the one NotFittedError

__all__ = [
    "MIN_VALIDATION_SIZE",
    "MIN_VALIDATION_SPLIT",
    "EarlyStoppingWarning",
    "NoLearningWarning",
    "NotFittedError",
    "ValidationMonitor",
    "check_at_least_two",
    "check_sentences",
    "check_tags",
    "check_training_classes",
    "split_size",
    "upgrade_params",
    "warn_if_validation_too_small",
]


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


def check_training_classes(estimator: str, train: Counter, validation: Counter | None, *, kind: str,
                           validation_name: str, fix: str, stacklevel: int = 3) -> None:
    """Warn (``UserWarning``) when the validation set holds a ``kind`` (tag, label) that
    the training set never shows: the model cannot learn to predict it, so every one counts
    as an error in the validation score. ``train`` and ``validation`` count each ``kind``
    in the training and validation sets; ``fix`` says what to do."""
    if validation is None:
        return
    unseen = sorted((k for k in validation if k not in train), key=str)
    if unseen:
        n = sum(validation[k] for k in unseen)
        names = ", ".join(repr(k) for k in unseen[:8]) + (" ..." if len(unseen) > 8 else "")
        warnings.warn(f"{estimator}: {validation_name} has the {kind}{'s' if len(unseen) > 1 else ''} {names} "
                      f"({n} in all) that the training {kind}s never show; the model cannot learn to predict "
                      f"{'them' if len(unseen) > 1 else 'it'}, so each counts as an error in the validation score. "
                      f"{fix}", UserWarning, stacklevel=stacklevel)


def check_at_least_two(name: str, counts: Counter, kind: str, unit: str) -> None:
    """A ``ValueError`` when ``counts`` (occurrences of each tag or label in the argument
    ``name``) holds a single ``kind``: a model that sees one answer learns only to give it."""
    if len(counts) < 2:
        only, n = next(iter(counts.items()))
        raise ValueError(f"{name} holds a single {kind}, {only!r}, on all {n} {unit}s; training needs at least 2 "
                         f"distinct {kind}s (with one, every prediction would be {only!r})")


def upgrade_params(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a tagger or tree-model file in the current layout: files written
    before ``min_epochs`` existed were trained with no minimum, which is ``min_epochs=1``;
    files written before ``early_stopping="auto"`` stopped early exactly when their
    ``early_stopping`` switch said so (``early_stopping_``)."""
    params = metadata.get("params")
    if isinstance(params, dict) and "min_epochs" not in params:
        metadata = {**metadata, "params": {**params, "min_epochs": 1}}
    if isinstance(params, dict) and "early_stopping" not in metadata and isinstance(params.get("early_stopping"), bool):
        metadata = {**metadata, "early_stopping": params["early_stopping"]}
    return metadata
