"""The rules of early stopping, written once for every estimator that stops on a validation
score: the taggers, the tree models, the deep belief network, the stacked autoencoders and
the autoencoder.

:class:`ValidationMonitor` holds the rules (a warm-up, patience counted from the first epoch
above the score's floor, a minimum number of epochs) and writes ``stop_reason``;
:func:`split_size` sets a validation share aside, and the warnings say when a validation set
is too small to judge by, or when training ended without learning anything.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MIN_VALIDATION_SIZE",
    "MIN_VALIDATION_SPLIT",
    "EarlyStoppingWarning",
    "NoLearningWarning",
    "ValidationMonitor",
    "check_early_stopping",
    "resolve_early_stopping",
    "split_size",
    "warn_if_validation_too_small",
]

#: Early stopping on fewer validation items (sentences, trees, samples) than this draws a warning:
#: one item more or less right moves the score by 2% or more, so "no improvement for
#: n_iter_no_change epochs" is mostly noise and training tends to stop far too soon.
MIN_VALIDATION_SIZE = 50

#: ``validation_fraction`` setting aside fewer items (sentences, trees, samples) than this draws a
#: warning before training starts: one item right or wrong moves the score by 10% or more,
#: so early stopping follows noise. (A ``validation_data`` the caller chose is judged only by
#: the ``MIN_VALIDATION_SIZE`` rule above.)
MIN_VALIDATION_SPLIT = 10


class EarlyStoppingWarning(UserWarning):
    """Early stopping judged training on a validation set too small to tell a better
    epoch from noise (fewer than ``MIN_VALIDATION_SIZE`` sentences, trees or samples)."""


class NoLearningWarning(UserWarning):
    """Training ended with the best validation score at its floor: no better than
    predicting the most common training tag (or label, or the mean) everywhere, so the model has
    learned nothing a constant would not do."""

def split_size(validation_fraction: float, n: int, unit: str, how_to_add: str, stacklevel: int = 4) -> int:
    """How many of ``n`` training items (sentences, trees, samples) ``validation_fraction`` sets
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


def resolve_early_stopping(early_stopping: Any, validation_fraction: float, n: int, *,
                           has_validation_data: bool) -> bool:
    """Whether to stop early: ``True`` or ``False`` as given; ``"auto"`` (the default of the
    taggers and tree models) stops early when a validation set was given, or when
    ``validation_fraction`` of the ``n`` training items sets aside at least
    :data:`MIN_VALIDATION_SIZE` of them.

    Why not always: below that size one item more or less right moves the score by 2% or
    more, so the epoch early stopping keeps is picked by noise, and it is picked from the
    start of a slow climb as often as from its top; the model learns more from the items
    it would have set aside. Training on every item for ``max_iter`` epochs is then the
    better default, as it is scikit-learn's (``MLPClassifier(early_stopping=False)``)."""
    if check_early_stopping(early_stopping) != "auto":
        return bool(early_stopping)
    return has_validation_data or max(1, int(round(validation_fraction * n))) >= MIN_VALIDATION_SIZE


def check_early_stopping(early_stopping: Any) -> bool | str:
    """``early_stopping`` as given (a bool, or ``"auto"``); anything else is a ``ValueError``."""
    if isinstance(early_stopping, (bool, np.bool_)) or early_stopping == "auto":
        return early_stopping
    raise ValueError(f"early_stopping must be True, False or 'auto'; got {early_stopping!r:.80}")


@dataclass
class ValidationMonitor:
    """The rules of early stopping and of learning-rate decay on a plateau, written once
    for every estimator that stops early; :meth:`update` is called with the validation score
    after every epoch.

    Training starts with a **warm-up**: the first ``min_epochs`` epochs, and every epoch
    until the validation score first rises clearly above its **floor** (``floor``: what
    predicting the most common training tag or label everywhere scores, e.g. entity F1 0
    for tagging every token ``O``). During the warm-up the learning rate does not decay and
    early stopping does not stop. Patience, ``n_iter_no_change`` epochs without
    improvement, counts from the first epoch clearly above the floor; training stops once
    patience has run out and at least ``min_epochs`` epochs have run. An epoch improves on
    the best only by more than ``tol`` (scikit-learn's rule; 0 by default), though the best
    weights are kept whatever the margin.

    "Clearly" is two standard errors when the score is a share of ``n_validation`` items
    (an accuracy over validation sentences, trees, tokens or samples): the score must pass
    ``floor + 2 * sqrt(floor * (1 - floor) / n_validation)``. A model still at the floor
    scores within that band by luck on a small validation set (10 trees: ±0.3 around a
    floor of 0.5), and patience started by such a fluke ends training before learning has
    begun. With ``n_validation`` None (scores that are not shares, such as F1 or a loss) or
    a floor of 0 or 1, the margin is 0.

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
    tol: float = 0.0  # an epoch must beat the best score by more than this to reset patience
    n_validation: int | None = None  # items the score is a share of (for the start margin); None: not a share
    best_score: float = -math.inf
    best_epoch: int | None = None
    epochs: int = 0
    started: bool = False  # the score has risen above its floor
    stale: int = 0  # epochs without improvement since the score left its floor
    decay: bool = False  # the last epoch calls for a smaller learning rate
    stopped_early: bool = False

    @property
    def start_margin(self) -> float:
        """How far above the floor the score must rise before patience counts: two standard
        errors of a share equal to the floor over ``n_validation`` items (0 when the score is
        not a share)."""
        if not self.n_validation or not 0.0 < self.floor < 1.0:
            return 0.0
        return 2.0 * math.sqrt(self.floor * (1.0 - self.floor) / self.n_validation)

    @property
    def warming_up(self) -> bool:
        return self.epochs <= self.min_epochs or not self.started

    def update(self, score: float) -> bool:
        """Record one epoch's validation score; whether it is the best so far (keep its
        weights). Sets :attr:`decay` and :attr:`stopped_early`."""
        self.epochs += 1
        improved = score > self.best_score
        # scikit-learn's rule: patience resets only on an improvement larger than tol, while
        # the weights kept are those of the best score, however small its lead.
        significant = score > self.best_score + self.tol
        if improved:
            self.best_score, self.best_epoch = score, self.epochs
        if significant:
            self.stale = 0
        self.started = self.started or score > self.floor + self.start_margin
        if not significant and self.started:
            self.stale += 1
        self.decay = not improved and not self.warming_up
        self.stopped_early = (self.early_stopping and self.started and self.stale >= self.n_iter_no_change
                              and self.epochs >= self.min_epochs)
        return improved

    @property
    def at_floor(self) -> bool:
        """Whether a validation score was recorded and none rose above the floor."""
        return self.best_epoch is not None and self.best_score <= self.floor

    def stop_reason(self, max_iter: int) -> str:
        """The ``training_log_.stop_reason`` sentence: what ended training, which epoch was
        kept, and, when the score never left its floor, that too."""
        kept = ("" if self.best_epoch is None else f", kept epoch {self.best_epoch} ({self.metric} {self.best_score:.4g})"
                + (", the weights before training" if self.best_epoch == 0 else ""))
        if self.stopped_early:
            epochs = "epoch" if self.n_iter_no_change == 1 else "epochs"
            return (f"early_stopping: no improvement in {self.n_iter_no_change} {epochs}; stopped after epoch "
                    f"{self.epochs} of max_iter={max_iter}{kept}")
        reason = f"max_iter: all {max_iter} epochs ran{kept}"
        never_began = ", so early stopping never began" if self.early_stopping else ""
        if self.at_floor:
            reason += f"; {self.metric} never rose above its floor {self.floor:.4g} ({self.floor_what}){never_began}"
        elif not self.started and self.best_epoch is not None:
            reason += (f"; {self.metric} never rose more than {self.start_margin:.3g} (two standard errors on "
                       f"{self.n_validation} validation items) above its floor {self.floor:.4g} ({self.floor_what})"
                       f"{never_began}")
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


def warn_if_validation_too_small(estimator: str, n_validation: int, unit: str, *, stopped_early: bool,
                                 n_epochs: int, kept_epoch: int | None, max_iter: int, how_to_add: str,
                                 stacklevel: int = 3) -> None:
    """Warn (:class:`EarlyStoppingWarning`) when early stopping, judging by fewer than
    :data:`MIN_VALIDATION_SIZE` validation ``unit``s (sentences, trees, samples), changed the
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
