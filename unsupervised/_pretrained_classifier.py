"""What a DBN and a stacked autoencoder share: greedy pretraining, then supervised fine-tuning.

Both build a stack of sigmoid layers one at a time, each trained without labels on the
output of the layers below (Hinton et al., 2006; Bengio et al., 2007), then add a softmax
layer and train the whole network with backpropagation on the labels. ``pretrain=False``
skips the first phase and starts from Glorot-uniform weights: the same network, the
same fine-tuning, so the benefit of pretraining can be measured rather than assumed.

Subclasses implement ``_pretrain_layer(H, n_hidden, gen, layer) -> (model, W, b)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from groundup.early_stopping import ValidationMonitor
from groundup.progress import TrainingLog
from groundup.torch_utils import check_optimizer, make_optimizer, resolve_batch_size
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output, stopping_before
from groundup.unsupervised._nets import DenseStack, classifier_step, glorot_weight, train_until_stopped, validation_split
from groundup.validation import (NotFittedError, check_array, check_bool, check_in_interval, check_is_fitted,
                                 check_layer_sizes, check_positive, check_unit_interval)

__all__ = ["PretrainedClassifier"]

#: ``pretrain_n_iter="auto"``: each layer is pretrained for this many minibatch updates (at
#: least ``PRETRAIN_MIN_EPOCHS`` epochs), so that a small data set gets as much pretraining
#: as a large one rather than a handful of steps; on MNIST's 20,000 images or more, with batches of
#: 200, the minimum of 10 epochs is the larger.
PRETRAIN_UPDATES = 1000
PRETRAIN_MIN_EPOCHS = 10


class PretrainedClassifier(ClassifierMixin, TransformerMixin, TorchEstimator):
    """Base class: greedy layer-wise pretraining + fine-tuning with a softmax head.

    ``fit(X)`` without labels only pretrains (then ``transform`` gives the top features);
    ``fit(X, y)`` pretrains (unless ``pretrain=False``) and fine-tunes. Fine-tuning
    minimises the cross-entropy over minibatches with the optimiser named by
    ``optimizer`` (by default SGD with momentum), with the step size decayed linearly
    towards ``learning_rate * final_lr_fraction`` over ``max_iter`` epochs, and
    optionally dropout of the hidden units (``dropout``; never of the pixels).

    ``optimizer`` and its settings (``momentum``, ``nesterov``, ``optimizer_kwargs``)
    apply to fine-tuning only. Pretraining keeps each layer model's own update: an RBM's
    contrastive-divergence step is not the gradient of a loss that torch.optim could
    follow, and has its own momentum (``pretrain_momentum``); so that the two stacks
    answer to the same parameters, the stacked autoencoder's layers keep theirs (Adam
    at ``pretrain_learning_rate``) too.
    """

    # Set by subclasses' __init__: hidden_layer_sizes, pretrain, pretrain_learning_rate,
    # pretrain_n_iter, optimizer, learning_rate, momentum, nesterov, optimizer_kwargs,
    # max_iter, batch_size, early_stopping, validation_fraction, n_iter_no_change, tol,
    # min_epochs, weight_decay, final_lr_fraction, dropout, verbose, random_state, device.

    def _pretrain_layer(self, H: torch.Tensor, n_hidden: int, gen: torch.Generator, layer: int) -> tuple[Any, torch.Tensor, torch.Tensor]:  # pragma: no cover
        """Train layer ``layer`` on ``H``; return the trained model and its encoder (W, b)."""
        raise NotImplementedError

    def _check_common(self) -> tuple[int, ...]:
        """The checks every stack shares (fine-tuning and the pretraining schedule)."""
        sizes = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes, example="(500, 500)")
        check_optimizer(self.optimizer, momentum=self.momentum, nesterov=self.nesterov, optimizer_kwargs=self.optimizer_kwargs)
        check_positive("learning_rate", self.learning_rate)
        check_positive("max_iter", self.max_iter, integer=True)
        resolve_batch_size(self.batch_size, 1)
        check_bool("early_stopping", self.early_stopping)
        check_in_interval("validation_fraction", self.validation_fraction, 0.0, 1.0, low_open=True, high_open=True, what="a fraction")
        check_positive("n_iter_no_change", self.n_iter_no_change, integer=True)
        check_positive("tol", self.tol, allow_zero=True)
        check_positive("min_epochs", self.min_epochs, integer=True)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_in_interval("final_lr_fraction", self.final_lr_fraction, 0.0, 1.0, what="a number")
        check_in_interval("dropout", self.dropout, 0.0, 1.0, high_open=True, what="a fraction")
        check_positive("pretrain_learning_rate", self.pretrain_learning_rate)
        if self.pretrain_n_iter != "auto":
            check_positive("pretrain_n_iter", self.pretrain_n_iter, integer=True)
        return sizes

    def _pretrain_epochs(self, n_samples: int) -> int:
        """``pretrain_n_iter``, or for "auto" enough epochs for ``PRETRAIN_UPDATES`` updates
        of each layer, and at least ``PRETRAIN_MIN_EPOCHS``."""
        if self.pretrain_n_iter != "auto":
            return int(self.pretrain_n_iter)
        batches = -(-n_samples // resolve_batch_size(self.batch_size, n_samples))
        return max(PRETRAIN_MIN_EPOCHS, -(-PRETRAIN_UPDATES // batches))

    def _check_params(self) -> tuple[int, ...]:  # subclasses add their own checks
        return self._check_common()

    def _check_data(self, X: torch.Tensor) -> None:
        """Every layer is pretrained on probabilities (sigmoid units), so X must lie in [0, 1]."""
        check_unit_interval(X, owner=type(self).__name__)

    def _keep_pretrained(self, layers: list[Any]) -> None:
        """Hook: the layer models of the last pretraining (bottom first; empty without
        pretraining), called once ``fit``'s checks have passed. DBN keeps its RBMs."""

    def _pretrain_stack(self, X: torch.Tensor, sizes: tuple[int, ...], gen: torch.Generator, log: TrainingLog) -> tuple[list[torch.Tensor], list[torch.Tensor], list[Any]]:
        """Greedy: train layer l on the (deterministic) activations of layers < l.
        Returns the weights, the biases and the trained layer models."""
        weights, biases, layers = [], [], []
        H = X
        for l, n_hidden in enumerate(sizes):
            layer, W, b = self._pretrain_layer(H, n_hidden, gen, l)
            weights.append(W)
            biases.append(b)
            layers.append(layer)
            with torch.no_grad():
                H = torch.cat([torch.sigmoid(torch.addmm(b, H[s : s + 8192], W.T)) for s in range(0, H.shape[0], 8192)])
            log.append(phase="pretrain", layer=l + 1, units=n_hidden)
        return weights, biases, layers

    def fit(self, X: Any, y: Any = None) -> "PretrainedClassifier":
        """Pretrain on ``X`` and, when ``y`` is given, fine-tune on the labels. Returns self."""
        sizes = self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        self._check_data(Xt)
        gen = self._generator(device)
        log = TrainingLog(self.verbose, name=type(self).__name__, tensorboard_log=self.tensorboard_log)
        if y is None and not self.pretrain:
            raise ValueError(f"{type(self).__name__}(pretrain=False).fit needs labels y: without pretraining there is nothing to learn from X alone")
        yt = None if y is None else self._encode_labels(y, Xt.shape[0], device)  # check labels before training
        if self.pretrain:
            weights, biases, layers = self._pretrain_stack(Xt, sizes, gen, log)
        else:
            dims = [Xt.shape[1], *sizes]
            weights = [glorot_weight(o, i, gen, device) for i, o in zip(dims[:-1], dims[1:])]
            biases = [torch.zeros(o, device=device) for o in sizes]
            layers = []
        self._keep_pretrained(layers)
        self.pretrained_ = bool(self.pretrain)
        if yt is None:
            self.module_ = DenseStack(weights, biases, ["sigmoid"] * len(sizes))
            self.classes_ = None
            self.loss_curve_ = []
            log.close()  # fine-tuning closes it otherwise (TrainingLog.stop)
            return self

        n_classes = len(self.classes_)
        weights.append(glorot_weight(n_classes, sizes[-1], gen, device))
        biases.append(torch.zeros(n_classes, device=device))
        self.module_ = DenseStack(weights, biases, ["sigmoid"] * len(sizes) + ["identity"])
        self.loss_curve_ = self._finetune(Xt, yt, gen, log)
        return self

    @property
    def n_iter_(self) -> int:
        """Fine-tuning epochs run (one entry of ``loss_curve_`` each; 0 after ``fit(X)``)."""
        return len(self.loss_curve_)

    def _encode_labels(self, y: Any, n: int, device: torch.device) -> torch.Tensor:
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"y must be 1-D with one label per row of X ({n}); got shape {y.shape}")
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must contain at least 2 classes; got {len(self.classes_)}")
        return torch.from_numpy(encoded.astype(np.int64)).to(device)

    def _finetune(self, X: torch.Tensor, y: torch.Tensor, gen: torch.Generator, log: TrainingLog) -> list[float]:
        """Backpropagation through the whole stack: ``optimizer``'s steps on the cross-entropy,
        until :class:`~groundup.early_stopping.ValidationMonitor`'s rules stop it.

        ``early_stopping=True`` sets a stratified ``validation_fraction`` aside, judges each
        epoch by its accuracy there and keeps the best epoch's weights; otherwise the score
        is the negated training loss and the last weights are kept (scikit-learn's
        ``MLPClassifier`` rules, both)."""
        optimizer = make_optimizer(self.module_.parameters(), self.optimizer, learning_rate=self.learning_rate,
                                   momentum=self.momentum, nesterov=self.nesterov, weight_decay=self.weight_decay,
                                   optimizer_kwargs=self.optimizer_kwargs)
        epochs = self.max_iter
        # Linear decay of the step size, per epoch (epoch e of E runs at
        # 1 - (1 - final_lr_fraction) * e / E of learning_rate); constant by default.
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1.0 - (1.0 - self.final_lr_fraction) * e / epochs)
        if self.early_stopping:
            train, valid = validation_split(X.shape[0], self.validation_fraction, gen, y=y)
            X, Xv, y, yv = X[train], X[valid], y[train], y[valid]
        counts = torch.bincount(y, minlength=len(self.classes_)).double()
        if self.early_stopping:
            floor = float((yv == counts.argmax()).double().mean())
            monitor = ValidationMonitor("val_accuracy", floor, "predicting the most common training class everywhere",
                                        self.n_iter_no_change, self.min_epochs, True, tol=self.tol,
                                        n_validation=int(Xv.shape[0]))  # accuracy: a share of the validation rows

            def score(loss: float) -> float:
                with torch.no_grad():
                    return float((self.module_(Xv).argmax(1) == yv).double().mean())
        else:
            prior = counts / counts.sum()
            floor = float((prior[prior > 0] * prior[prior > 0].log()).sum())  # minus the loss of predicting the prior
            monitor = ValidationMonitor("neg_train_loss", floor, "predicting the class frequencies everywhere",
                                        self.n_iter_no_change, self.min_epochs, True, tol=self.tol)

            def score(loss: float) -> float:
                return -loss

        step = classifier_step(self.module_, optimizer, self.dropout, gen)

        history = train_until_stopped(self.module_, step, [X, y], monitor=monitor, score=score,
                                      keep_best=bool(self.early_stopping), max_iter=epochs,
                                      batch_size=resolve_batch_size(self.batch_size, X.shape[0]), generator=gen, log=log,
                                      on_epoch_end=lambda epoch, loss: schedule.step(), name=type(self).__name__)
        self.best_validation_score_ = monitor.best_score if self.early_stopping else None
        self.training_log_ = log
        monitor.warn_if_at_floor(type(self).__name__, stacklevel=4)
        return history

    # -- queries --------------------------------------------------------------------------------
    def _forward(self, X: Any, upto: int | None) -> torch.Tensor:
        check_is_fitted(self)
        device = self._device()
        self.module_.to(device)
        Xt = check_array(X, device=device, n_features=self.n_features_in_, owner=type(self).__name__)
        with torch.no_grad():
            return torch.cat([self.module_(Xt[s : s + 4096], upto=upto) for s in range(0, Xt.shape[0], 4096)])

    def transform(self, X: Any) -> Any:
        """Activations of the top hidden layer (the learned features)."""
        return as_output(self._forward(X, upto=len(check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes, example="(500, 500)"))), X)

    def _require_labels(self) -> None:
        check_is_fitted(self)
        if self.classes_ is None:
            raise NotFittedError(f"this {type(self).__name__} was fitted without labels (fit(X)); call fit(X, y) before predicting classes")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the output layer), columns in ``classes_`` order."""
        self._require_labels()
        return torch.softmax(self._forward(X, upto=None), dim=1).cpu().numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        self._require_labels()
        return self.classes_[self._forward(X, upto=None).argmax(1).cpu().numpy()]

    # -- persistence ----------------------------------------------------------------------------
    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Before ``optimizer`` existed, fine-tuning was SGD with momentum; before early
        stopping, every epoch ran."""
        return {"optimizer": "sgd", **stopping_before(params)}

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = dict(self.module_.state_dict())
        extra = {
            "classes_": None if self.classes_ is None else self.classes_.tolist(),
            "activations": self.module_.activation_names,
            "loss_curve_": list(self.loss_curve_),
            "pretrained_": self.pretrained_,
        }
        return tensors, extra

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        n_layers = len(metadata["activations"])
        weights = [torch.from_numpy(tensors[f"weights.{l}"]) for l in range(n_layers)]
        biases = [torch.from_numpy(tensors[f"biases.{l}"]) for l in range(n_layers)]
        self.module_ = DenseStack(weights, biases, metadata["activations"])
        self.classes_ = None if metadata["classes_"] is None else np.asarray(metadata["classes_"])
        self.loss_curve_ = list(metadata["loss_curve_"])
        self.pretrained_ = bool(metadata["pretrained_"])
