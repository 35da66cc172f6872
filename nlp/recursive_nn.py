"""Recursive neural networks for sentiment over binarised parse trees (Socher et al., 2011/2013).

Every word has a vector; every internal node's vector is composed from its two children,

    p = tanh(W [a; b] + bias)                                   (RecursiveNN)

and a softmax classifier predicts a sentiment label from every node's vector. Training
minimises the cross-entropy of the labels at *all* nodes (the Stanford Sentiment
Treebank labels every phrase), with an L2 penalty ``alpha``. The RNTN
(:mod:`groundup.nlp.rntn`) changes only the composition.

Trees are batched by level (:mod:`groundup.nlp._tree_batch`): one composition call per
tree height, not one per node.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from groundup.persistence import SaveLoadMixin, load_module_state
from groundup.datasets.trees import check_sentiment_tree
from groundup.early_stopping import check_early_stopping, resolve_early_stopping
from groundup.nlp._estimator import (ValidationMonitor, check_at_least_two, check_training_classes, split_size,
                                     upgrade_params, warn_if_validation_too_small)
from groundup.nlp._tree_batch import TreeBatch, collate, flatten_tree
from groundup.progress import TrainingLog
from groundup.torch_utils import make_optimizer, resolve_device, set_seed, train_minibatches
from groundup.validation import (check_choice, check_in_interval, check_is_fitted, check_learning_rate, check_number,
                                 check_positive, check_seed)

__all__ = ["RecursiveNN", "Composition"]

_UNK = "<unk>"


class Composition(nn.Module):
    """The plain recursive composition ``p = tanh(W [a; b] + bias)``."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.W = nn.Linear(2 * d, d)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.W(torch.cat([a, b], dim=-1)))


class _TreeNet(nn.Module):
    """Word vectors, a composition, and a softmax classifier shared by every node."""

    def __init__(self, n_words: int, d: int, n_classes: int, composition: nn.Module) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_words, d)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        self.compose = composition
        self.classifier = nn.Linear(d, n_classes)

    def node_vectors(self, batch: TreeBatch) -> torch.Tensor:
        """``(n_nodes, d)``: every node's vector, computed level by level."""
        d = self.embedding.embedding_dim
        h = self.embedding.weight.new_zeros(batch.n_nodes, d)
        h = h.index_put((batch.leaf_nodes,), self.embedding(batch.leaf_words))
        for nodes, left, right in batch.levels:
            # Out-of-place index_put keeps autograd's record of every level.
            h = h.index_put((nodes,), self.compose(h[left], h[right]))
        return h

    def forward(self, batch: TreeBatch) -> torch.Tensor:
        """Class scores ``(n_nodes, n_classes)`` at every node."""
        return self.classifier(self.node_vectors(batch))


class RecursiveNN(SaveLoadMixin, BaseEstimator):
    """Recursive neural network sentiment classifier over binarised ``nltk.Tree``\\ s.

    ``fit(trees)`` learns from the integer label at every node (SST: 0..4);
    ``predict(trees)`` gives each tree's root label, ``predict_nodes`` a labelled copy.

    Parameters (defaults in brackets): ``vector_size`` (25, as Socher et al.);
    ``lowercase`` (True); ``min_count`` (1: rarer words share the unknown-word vector);
    ``optimizer`` ("adagrad", as Socher et al.; or "adam") with ``learning_rate`` (0.05:
    Adagrad's steps shrink as squared gradients add up, and at 0.01 a few hundred trees
    stop learning long before negation is learned);
    ``alpha`` (1e-4, the L2 penalty, scikit-learn's name);
    ``batch_size`` (32 trees); ``max_iter`` (50 epochs at most); ``early_stopping``
    ("auto": on when ``validation_data`` is given or ``validation_fraction`` (0.1) of the
    training trees is at least 50 trees, so from 500 trees; below that, every tree is
    trained on for ``max_iter`` epochs, because a validation set of fewer than 50 trees
    picks the kept epoch by noise; True or False force it, and ``early_stopping_`` says
    which applied; setting aside fewer than 10 draws an ``EarlyStoppingWarning``),
    ``n_iter_no_change`` (10, scikit-learn's; root accuracy on a validation set climbs in
    steps of one tree, with pauses of several epochs; when the validation set has fewer
    than 50 trees, too few to judge, and early stopping ended training early or kept an
    earlier epoch, ``fit`` warns with an ``EarlyStoppingWarning``: pass
    ``early_stopping=False`` or more data); ``min_epochs`` (5: early stopping never ends
    training sooner); ``random_state`` (None); ``device`` ("auto"); ``verbose`` (0); ``tensorboard_log``
    (None: a folder where each epoch's row of ``training_log_`` goes as TensorBoard scalars,
    see :class:`groundup.progress.TrainingLog`).

    Early stopping waits for learning to start, by the tagger's rules
    (:class:`groundup.early_stopping.ValidationMonitor`): ``n_iter_no_change`` counts from
    the first epoch whose root accuracy rises clearly (two standard errors) above its
    floor, the share of validation roots that carry the most common training root label
    (what predicting that label everywhere scores). A model that never leaves the floor
    trains for all ``max_iter`` epochs, and ``fit`` warns with a ``NoLearningWarning``. A
    label seen only in the validation trees draws a ``UserWarning``; training trees that
    hold one label are an error.

    Learned attributes: ``vocabulary_``, ``classes_``, ``n_iter_``, ``best_score_``,
    ``early_stopping_`` (whether early stopping applied),
    ``training_log_`` (one row per epoch; its ``stop_reason`` says why training ended:
    ``"max_iter: ..."``, and whether the score ever left its floor, or
    ``"early_stopping: no improvement in N epochs; ..."``).
    """

    _class_id = "groundup.nlp.RecursiveNN"

    def __init__(
        self,
        *,
        vector_size: int = 25,
        lowercase: bool = True,
        min_count: int = 1,
        learning_rate: float = 0.05,
        optimizer: str = "adagrad",
        alpha: float = 1e-4,
        batch_size: int = 32,
        max_iter: int = 50,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        min_epochs: int = 5,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        tensorboard_log: str | None = None,
    ) -> None:
        self.vector_size = vector_size
        self.lowercase = lowercase
        self.min_count = min_count
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.min_epochs = min_epochs
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose

    def _make_composition(self, d: int) -> nn.Module:
        return Composition(d)

    def _check_params(self) -> dict[str, Any]:
        p = self.get_params(deep=False)
        for name in ("vector_size", "min_count", "batch_size", "max_iter", "n_iter_no_change", "min_epochs"):
            check_positive(name, p[name], integer=True)
        check_choice("optimizer", p["optimizer"], ("adagrad", "adam"))
        check_learning_rate(p["learning_rate"])
        check_number("alpha", p["alpha"], low=0.0, accepted="a non-negative number (an L2 penalty)")
        check_in_interval("validation_fraction", p["validation_fraction"], 0.0, 1.0, low_open=True, high_open=True)
        check_early_stopping(p["early_stopping"])
        check_seed(p["random_state"], "random_state")
        return p

    # ----------------------------------------------------------------- data
    @staticmethod
    def _check_trees(trees: Any, name: str, labels: bool) -> list[Any]:
        if isinstance(trees, str) or not isinstance(trees, Sequence):
            raise TypeError(f"{name} must be a list of nltk.Tree objects (see groundup.datasets.parse_sst_tree); "
                            f"got {type(trees).__name__}")
        if len(trees) == 0:
            raise ValueError(f"{name} is empty; give at least one tree")
        for i, tree in enumerate(trees):
            check_sentiment_tree(tree, f"{name}[{i}]", labels=labels)
        return list(trees)

    def _key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def _flatten(self, trees: list[Any], labels: bool) -> list[Any]:
        index, unk = self._word_index, self._word_index[_UNK]
        word_id = lambda w: index.get(self._key(w), unk)  # noqa: E731
        flat = [flatten_tree(t, word_id, with_labels=labels) for t in trees]
        if labels:
            for i, f in enumerate(flat):
                unknown = set(f.label.tolist()) - set(self._class_index)
                if unknown:
                    raise ValueError(f"trees[{i}] has the label(s) {sorted(unknown)}, which the model never saw in "
                                     f"training; known labels: {self.classes_}")
                f.label = np.array([self._class_index[c] for c in f.label.tolist()], dtype=np.int64)
        return flat

    # ----------------------------------------------------------------- training
    def fit(self, trees: Sequence[Any], *, validation_data: Sequence[Any] | None = None) -> "RecursiveNN":
        """Learn from labelled binarised trees (a label at every node); returns ``self``.

        ``validation_data`` (trees) is used for early stopping on root accuracy; without
        it, ``validation_fraction`` of ``trees`` are set aside.
        """
        p = self._check_params()
        trees = self._check_trees(trees, "trees", labels=True)
        check_at_least_two("trees", Counter(lab for t in trees for lab in _labels(t)), "label", "node")
        p["early_stopping"] = self.early_stopping_ = resolve_early_stopping(
            p["early_stopping"], p["validation_fraction"], len(trees), has_validation_data=validation_data is not None)
        split = validation_data is None and p["early_stopping"]
        if validation_data is not None:
            validation_data = self._check_trees(validation_data, "validation_data", labels=True)
        elif split:
            trees, validation_data = self._split_validation(trees, p)
        set_seed(p["random_state"])
        self.device_ = resolve_device(p["device"])
        self._learn_vocabulary_and_classes(trees, validation_data, p, split)
        self._params = p
        self.net_ = _TreeNet(len(self.vocabulary_), p["vector_size"], len(self.classes_),
                             self._make_composition(p["vector_size"])).to(self.device_)
        flat = self._flatten(trees, labels=True)
        val_flat = self._flatten(validation_data, labels=True) if validation_data is not None else None
        optimizer = make_optimizer(self.net_.parameters(), p["optimizer"], learning_rate=p["learning_rate"],
                                   weight_decay=p["alpha"])
        loss_fn = nn.CrossEntropyLoss()

        def step(indices: torch.Tensor) -> torch.Tensor:
            """One update on the trees ``indices``: the loss over every node of every tree."""
            batch = collate([flat[i] for i in indices.tolist()], self.device_)
            self.net_.train()
            loss = loss_fn(self.net_(batch), batch.labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        self.training_log_ = TrainingLog(p["verbose"], name=type(self).__name__, tensorboard_log=p["tensorboard_log"])
        self.best_score_, best_state = -np.inf, None
        monitor = self._monitor(trees, val_flat, p)
        start = time.perf_counter()

        def on_epoch_end(epoch: int, mean_loss: float) -> bool:
            nonlocal best_state
            self.n_iter_ = epoch + 1
            row: dict[str, Any] = {"epoch": epoch + 1, "loss": mean_loss}
            if val_flat is not None:
                score = self._root_accuracy(val_flat)
                row["val_root_accuracy"] = score
                if monitor.update(score):
                    self.best_score_ = score
                    best_state = copy.deepcopy(self.net_.state_dict())
            row["time_s"] = round(time.perf_counter() - start, 2)
            self.training_log_.append(**row)
            return not monitor.stopped_early

        generator = torch.Generator()
        if p["random_state"] is not None:
            generator.manual_seed(p["random_state"])
        train_minibatches(step, [torch.arange(len(flat))], epochs=p["max_iter"], batch_size=p["batch_size"],
                          generator=generator, on_epoch_end=on_epoch_end, name=f"{type(self).__name__}.fit")
        self._finish_training(best_state, monitor, val_flat)
        return self

    def _monitor(self, trees: list[Any], val_flat: list[Any] | None, p: dict[str, Any]) -> ValidationMonitor:
        """The early-stopping rules, with the floor of this validation set: the root
        accuracy of predicting the most common training root label everywhere."""
        majority = Counter(t.label() for t in trees).most_common(1)[0][0]
        floor = 0.0
        if val_flat is not None:
            floor = float(np.mean([f.label[-1] == self._class_index[majority] for f in val_flat]))
        return ValidationMonitor("val_root_accuracy", floor, f"predicting the label {majority!r} at every root",
                                 p["n_iter_no_change"], p["min_epochs"], p["early_stopping"],
                                 n_validation=None if val_flat is None else len(val_flat))

    @staticmethod
    def _split_validation(trees: list[Any], p: dict[str, Any]) -> tuple[list[Any], list[Any]]:
        """Set a random ``validation_fraction`` of the trees aside: (training trees, validation trees)."""
        n_val = split_size(p["validation_fraction"], len(trees), "tree", "validation_data=trees")
        order = np.random.default_rng(p["random_state"]).permutation(len(trees))
        return [trees[i] for i in order[n_val:]], [trees[i] for i in order[:n_val]]

    def _learn_vocabulary_and_classes(self, trees: list[Any], validation_data: list[Any] | None,
                                      p: dict[str, Any], split: bool) -> None:
        counts = Counter(self._key(w) for t in trees for w in t.leaves())
        self.vocabulary_ = [_UNK] + sorted(w for w, c in counts.items() if c >= p["min_count"])
        self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        counts = Counter(lab for t in trees for lab in _labels(t))
        labels = set(counts)
        if validation_data is not None:
            # A label seen only in the validation set still gets an output, so that the
            # validation trees can be encoded and scored.
            val_counts = Counter(lab for t in validation_data for lab in _labels(t))
            labels |= set(val_counts)
            fix = ("They are in the trees validation_fraction set aside: pass validation_data=trees, or give more "
                   "trees with these labels." if split else
                   "Give training trees with these labels, or leave them out of validation_data.")
            check_training_classes(type(self).__name__, counts, val_counts, kind="label",
                                   validation_name="the validation set" if split else "validation_data",
                                   fix=fix, stacklevel=4)  # the caller of fit
        self.classes_ = sorted(labels)
        self._class_index = {c: i for i, c in enumerate(self.classes_)}

    def _finish_training(self, best_state: dict[str, torch.Tensor] | None, monitor: ValidationMonitor,
                         val_flat: list[Any] | None) -> None:
        """Keep the best epoch's weights, record why training stopped, and warn if the
        validation set was small or the score never left its floor."""
        p = self._params
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        self.net_.eval()
        self.training_log_.stop(monitor.stop_reason(p["max_iter"]))
        if p["early_stopping"]:
            warn_if_validation_too_small(type(self).__name__, len(val_flat), "tree",
                                         stopped_early=monitor.stopped_early, n_epochs=self.n_iter_,
                                         kept_epoch=monitor.best_epoch, max_iter=p["max_iter"],
                                         how_to_add="fit(..., validation_data=trees)",
                                         stacklevel=4)  # the caller of fit, one frame above this method
        monitor.warn_if_at_floor(type(self).__name__, stacklevel=4)

    # ----------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        check_is_fitted(self, "net_", hint="call fit(trees) or load(path)")

    @torch.no_grad()
    def _node_proba(self, flat: list[Any], batch_size: int = 512) -> list[np.ndarray]:
        """Per tree, an ``(n_nodes, n_classes)`` array of class probabilities (post-order)."""
        self.net_.eval()
        out = []
        for start in range(0, len(flat), batch_size):
            chunk = flat[start : start + batch_size]
            batch = collate(chunk, self.device_)
            proba = torch.softmax(self.net_(batch), dim=-1).cpu().numpy()
            sizes = np.cumsum([len(f.word) for f in chunk])[:-1]
            out.extend(np.split(proba, sizes))
        return out

    def _root_accuracy(self, flat: list[Any]) -> float:
        proba = self._node_proba(flat)
        return float(np.mean([p[-1].argmax() == f.label[-1] for p, f in zip(proba, flat)]))

    def predict_proba(self, trees: Sequence[Any]) -> np.ndarray:
        """``(n_trees, n_classes)``: the class probabilities at each tree's root."""
        self._check_fitted()
        flat = self._flatten(self._check_trees(trees, "trees", labels=False), labels=False)
        return np.stack([p[-1] for p in self._node_proba(flat)])

    def predict(self, trees: Sequence[Any]) -> np.ndarray:
        """The predicted label at each tree's root (the tree's own labels are ignored)."""
        self._check_fitted()
        return np.asarray(self.classes_)[self.predict_proba(trees).argmax(axis=1)]

    def predict_nodes(self, trees: Sequence[Any]) -> list[Any]:
        """Copies of ``trees`` with the predicted label at every node."""
        self._check_fitted()
        trees = self._check_trees(trees, "trees", labels=False)
        proba = self._node_proba(self._flatten(trees, labels=False))
        out = []
        for tree, p in zip(trees, proba):
            labels = iter(np.asarray(self.classes_)[p.argmax(axis=1)].tolist())
            out.append(_relabel(tree, labels))
        return out

    def score(self, trees: Sequence[Any], *, nodes: str = "root", binary: bool = False) -> float:
        """Accuracy at the roots (``nodes="root"``) or at every node (``"all"``).

        ``binary=True`` is SST's binary measure: nodes whose gold label is neutral (2) are
        left out, and a prediction counts as right when the probability mass on 3-4 versus
        0-1 points the same way as the gold label (needs the labels 0..4).
        """
        self._check_fitted()
        check_choice("nodes", nodes, ("root", "all"))
        if binary and self.classes_ != [0, 1, 2, 3, 4]:
            raise ValueError(f"binary=True needs SST's labels 0..4; this model has {self.classes_}")
        flat = self._flatten(self._check_trees(trees, "trees", labels=True), labels=True)
        proba = self._node_proba(flat)
        if nodes == "root":
            gold = np.array([f.label[-1] for f in flat])
            proba_all = np.stack([p[-1] for p in proba])
        else:
            gold = np.concatenate([f.label for f in flat])
            proba_all = np.concatenate(proba)
        if not binary:
            return float(np.mean(proba_all.argmax(axis=1) == gold))
        keep = gold != 2
        positive = proba_all[:, 3:].sum(axis=1) > proba_all[:, :2].sum(axis=1)
        return float(np.mean(positive[keep] == (gold[keep] > 2))) if keep.any() else float("nan")

    # ----------------------------------------------------------------- persistence
    # save/load are groundup.persistence.SaveLoadMixin's: weights, vocabulary, classes and
    # hyper-parameters in one file, loaded on the loading machine's device by default.
    _load_device = "auto"

    def _header(self) -> dict[str, Any]:
        self._check_fitted()
        return {"params": self._params}

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        return super()._upgrade_state(upgrade_params(metadata))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        self._check_fitted()
        return self.net_.state_dict(), {
            "vocabulary": self.vocabulary_, "classes": self.classes_, "n_iter": self.n_iter_,
            "best_score": float(self.best_score_), "early_stopping": bool(self.early_stopping_),
        }

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self._params = self._check_params()
        self.vocabulary_, self.classes_ = metadata["vocabulary"], metadata["classes"]
        self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        self._class_index = {c: i for i, c in enumerate(self.classes_)}
        self.n_iter_, self.best_score_ = metadata["n_iter"], metadata["best_score"]
        # files from before early_stopping="auto" were trained with the switch as given
        self.early_stopping_ = bool(metadata.get("early_stopping", self._params["early_stopping"]))
        self.device_ = resolve_device(self.device)
        d = self._params["vector_size"]
        self.net_ = _TreeNet(len(self.vocabulary_), d, len(self.classes_), self._make_composition(d))
        load_module_state(self.net_, tensors)
        self.net_.to(self.device_).eval()


def _labels(tree: Any) -> list[int]:
    return [t.label() for t in tree.subtrees()]


def _relabel(tree: Any, labels: Any) -> Any:
    """A copy of ``tree`` whose labels are drawn, in post-order, from the iterator ``labels``."""
    from nltk import Tree

    if len(tree) == 1:
        return Tree(next(labels), [tree[0]])
    left = _relabel(tree[0], labels)
    right = _relabel(tree[1], labels)
    return Tree(next(labels), [left, right])
