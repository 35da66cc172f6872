"""What the tagger and the tree models share as scikit-learn-style estimators (their
parameter protocol is scikit-learn's ``BaseEstimator``): the checks on sentences, tags and
labels done once at the boundary, and the rules of early stopping and learning-rate decay
(:class:`ValidationMonitor`) with their report and warnings."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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

#: Early stopping on fewer validation sentences (or trees) than this draws a warning:
#: one item more or less right moves the score by 2% or more, so "no improvement for
#: n_iter_no_change epochs" is mostly noise and training tends to stop far too soon.
MIN_VALIDATION_SIZE = 50

#: ``validation_fraction`` setting aside fewer sentences (or trees) than this draws a
#: warning before training starts: one item right or wrong moves the score by 10% or more,
#: so early stopping follows noise. (A ``validation_data`` the caller chose is judged only by
#: the ``MIN_VALIDATION_SIZE`` rule above.)
MIN_VALIDATION_SPLIT = 10


class EarlyStoppingWarning(UserWarning):
    """Early stopping judged training on a validation set too small to tell a better
    epoch from noise (fewer than ``MIN_VALIDATION_SIZE`` sentences or trees)."""


class NoLearningWarning(UserWarning):
    """Training ended with the best validation score at its floor: no better than
    predicting the most common training tag (or label) everywhere, so the model has
    learned nothing a constant would not do."""

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


def split_size(validation_fraction: float, n: int, unit: str, how_to_add: str, stacklevel: int = 4) -> int:
    """How many of ``n`` training items (sentences, trees) ``validation_fraction`` sets
    aside for early stopping (at least one). Fewer than :data:`MIN_VALIDATION_SPLIT` draws
    an :class:`EarlyStoppingWarning` that says how to fix it; none left to train on is a
    ``ValueError``. ``how_to_add`` names the ``fit`` argument that takes a validation set."""
    n_val = max(1, int(round(validation_fraction * n)))
    if n_val >= n:
        raise ValueError(f"validation_fraction={validation_fraction:g} sets aside {n_val} of the {n} training {unit}"
                         f"{'s' if n > 1 else ''} for early stopping, which leaves none to train on; pass "
                         f"early_stopping=False (train on every {unit}) or {how_to_add}")
    if n_val < MIN_VALIDATION_SPLIT:
        fixes = ["early_stopping=False (train for all max_iter epochs)", how_to_add]
        smallest = math.ceil(MIN_VALIDATION_SPLIT / n * 100) / 100  # round(smallest * n) >= MIN_VALIDATION_SPLIT
        if smallest <= 0.5:  # a larger share would leave too little to train on
            fixes.insert(1, f"validation_fraction={smallest:g} or more")
        warnings.warn(f"validation_fraction={validation_fraction:g} sets aside only {n_val} of the {n} training "
                      f"{unit}s for early stopping; fewer than {MIN_VALIDATION_SPLIT} cannot tell a better epoch "
                      f"from noise, so training may stop too soon. Pass {', or '.join(fixes)}.",
                      EarlyStoppingWarning, stacklevel=stacklevel)
    return n_val


@dataclass
class ValidationMonitor:
    """The rules of early stopping and of learning-rate decay on a plateau, written once
    for the tagger and the tree models; :meth:`update` is called with the validation score
    after every epoch.

    Training starts with a **warm-up**: the first ``min_epochs`` epochs, and every epoch
    until the validation score first rises above its **floor** (``floor``: what predicting
    the most common training tag or label everywhere scores, e.g. entity F1 0 for tagging
    every token ``O``). During the warm-up the learning rate does not decay and early
    stopping does not stop. Patience, ``n_iter_no_change`` epochs without improvement,
    counts from the first epoch above the floor; training stops once patience has run out
    and at least ``min_epochs`` epochs have run.

    Why the floor and not the validation loss: the score is what the user asked for and it
    picks the kept epoch; a loss can rise (the model grows overconfident) while the score
    still climbs, so stopping on it ends real learning early. A model that only predicts
    the majority tag sits exactly on the floor, so "above the floor" is the first sign that
    it has started to learn, and once it has, the rules are those of plain early stopping.
    A model that never leaves the floor trains for every epoch and draws a
    :class:`NoLearningWarning` (:meth:`warn_if_at_floor`).
    """

    metric: str  # the logged name of the score, such as "val_f1"
    floor: float
    floor_what: str  # how the floor is reached, such as "tagging every token 'O'"
    n_iter_no_change: int
    min_epochs: int
    early_stopping: bool
    best_score: float = -math.inf
    best_epoch: int | None = None
    epochs: int = 0
    started: bool = False  # the score has risen above its floor
    stale: int = 0  # epochs without improvement since the score left its floor
    decay: bool = False  # the last epoch calls for a smaller learning rate
    stopped_early: bool = False

    @property
    def warming_up(self) -> bool:
        return self.epochs <= self.min_epochs or not self.started

    def update(self, score: float) -> bool:
        """Record one epoch's validation score; whether it is the best so far (keep its
        weights). Sets :attr:`decay` and :attr:`stopped_early`."""
        self.epochs += 1
        improved = score > self.best_score
        if improved:
            self.best_score, self.best_epoch, self.stale = score, self.epochs, 0
        self.started = self.started or score > self.floor
        if not improved and self.started:
            self.stale += 1
        self.decay = not improved and not self.warming_up
        self.stopped_early = (self.early_stopping and self.started and self.stale >= self.n_iter_no_change
                              and self.epochs >= self.min_epochs)
        return improved

    @property
    def at_floor(self) -> bool:
        """Whether a validation score was recorded and none rose above the floor."""
        return self.best_epoch is not None and not self.started

    def stop_reason(self, max_iter: int) -> str:
        """The ``training_log_.stop_reason`` sentence: what ended training, which epoch was
        kept, and, when the score never left its floor, that too."""
        kept = f", kept epoch {self.best_epoch} ({self.metric} {self.best_score:.4g})" if self.best_epoch else ""
        if self.stopped_early:
            epochs = "epoch" if self.n_iter_no_change == 1 else "epochs"
            return (f"early_stopping: no improvement in {self.n_iter_no_change} {epochs}; stopped after epoch "
                    f"{self.epochs} of max_iter={max_iter}{kept}")
        reason = f"max_iter: all {max_iter} epochs ran{kept}"
        if self.at_floor:
            reason += (f"; {self.metric} never rose above its floor {self.floor:.4g} ({self.floor_what})"
                       + (", so early stopping never began" if self.early_stopping else ""))
        return reason

    def warn_if_at_floor(self, estimator: str, stacklevel: int = 3) -> None:
        """A :class:`NoLearningWarning` when training ended with the best validation score
        at its floor, saying what to try."""
        if not self.at_floor:
            return
        warnings.warn(
            f"{estimator}: after {self.epochs} epochs the best {self.metric} is {self.best_score:.4g}, no better than "
            f"{self.floor_what} ({self.floor:.4g}): the model has learned nothing useful. Train for more epochs "
            f"(max_iter), with a larger learning_rate, or on more data, and check that the validation data is "
            f"labelled like the training data.",
            NoLearningWarning,
            stacklevel=stacklevel,
        )


def upgrade_params(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a tagger or tree-model file in the current layout: files written
    before ``min_epochs`` existed were trained with no minimum, which is ``min_epochs=1``."""
    params = metadata.get("params")
    if isinstance(params, dict) and "min_epochs" not in params:
        metadata = {**metadata, "params": {**params, "min_epochs": 1}}
    return metadata


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
