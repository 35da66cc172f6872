"""A deep belief network: RBMs stacked greedily, then fine-tuned as a classifier.

Hinton, Osindero & Teh (2006): train an RBM on the data, then another RBM on the first
one's hidden probabilities, and so on; each added layer improves a variational bound on
the data's likelihood. The stack of recognition weights then initialises a feed-forward
sigmoid network that backpropagation fine-tunes on the labels (Hinton & Salakhutdinov,
2006). The paper's MNIST network is 784-500-500-2000; the defaults here are sized for any
data set (see the parameters), and the benchmark passes the paper's settings.
"""

from __future__ import annotations

from typing import Any

import torch

from groundup.torch_utils import resolve_batch_size
from groundup.unsupervised._pretrained_classifier import PretrainedClassifier
from groundup.unsupervised.rbm import RBM
from groundup.validation import check_choice, check_in_interval, check_momentum, check_positive

__all__ = ["DBN"]

#: A Gaussian first layer's pretraining step, as a fraction of ``pretrain_learning_rate``.
GAUSSIAN_RATE_FACTOR = 0.01


class DBN(PretrainedClassifier):
    """Deep belief network classifier (stacked :class:`RBM` + softmax, fine-tuned).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (500, 500)
        Units of each hidden layer, bottom first. Hinton et al.'s MNIST network is
        ``(500, 500, 2000)``; two layers of 500 train in a fraction of its time, and
        fine-tuning closes most of the gap on data sets smaller than MNIST.
    visible : "bernoulli" or "gaussian", default "bernoulli"
        The first RBM's visible units: Bernoulli for inputs in [0, 1] (pixels,
        probabilities), Gaussian for real values standardised to unit variance
        (:class:`RBM`'s ``visible``), pretrained at a hundredth of
        ``pretrain_learning_rate``. The layers above are Bernoulli either way.
    pretrain : bool, default True
        Greedy RBM pretraining; ``False`` trains the same network from Glorot-uniform
        initial weights (the baseline that measures what pretraining buys).
    pretrain_learning_rate : float, default 0.1
        RBM step size (per-sample mean gradient).
    pretrain_n_iter : int or "auto", default "auto"
        CD epochs per layer; "auto" gives each layer ``PRETRAIN_UPDATES`` minibatch
        updates and at least ``PRETRAIN_MIN_EPOCHS`` epochs (1,000 and 10), so that a
        thousand samples are pretrained as thoroughly as sixty thousand.
    k : int, default 1
        Gibbs steps per CD update.
    pretrain_momentum : float, default 0.9
    pretrain_sparsity_target : float in (0, 1) or None, default 0.1
        Each RBM's hidden units are pulled towards this mean activation
        (:class:`RBM`'s ``sparsity_target``; Hinton's practical guide, section 11). Without
        it, on data that is not binary-like (rescaled real values), the upper RBMs can
        learn units that all say the same thing, and fine-tuning then starts from features
        that carry no class; None turns it off, as in the paper.
    optimizer : {"sgd", "adagrad", "rmsprop", "adam"}, default "adam"
        The fine-tuning optimiser: ``torch.optim``'s SGD, Adagrad, RMSprop or Adam
        (built by :func:`groundup.torch_utils.make_optimizer`). Pretraining keeps
        contrastive divergence, whatever this is. Adam, as scikit-learn's
        ``MLPClassifier``: its steps are scaled per weight, so one rate suits a thousand
        samples and sixty thousand.
    learning_rate : float, default 3e-3
        Fine-tuning step size at the first epoch (torch's ``lr``). Sigmoid layers pass
        smaller gradients than ReLU ones, so the default is three times scikit-learn's
        1e-3; "sgd" usually wants about 0.1.
    momentum : float in [0, 1), default 0.9
        Fine-tuning momentum, used when ``optimizer="sgd"`` (as scikit-learn's MLP).
    nesterov : bool, default False
        Nesterov's momentum, when ``optimizer="sgd"``; needs ``momentum > 0``.
    optimizer_kwargs : dict or None, default None
        The optimiser's other settings, by torch's names, each defaulting as in torch:
        ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``amsgrad=False`` ("adam"); ``alpha=0.99``,
        ``eps=1e-8``, ``momentum=0``, ``centered=False`` ("rmsprop"); ``lr_decay=0``,
        ``initial_accumulator_value=0``, ``eps=1e-10`` ("adagrad"); ``dampening=0``
        ("sgd"). ``learning_rate``, ``weight_decay`` and SGD's ``momentum`` and
        ``nesterov`` have parameters of their own and may not appear here.
    max_iter : int, default 200
        The most fine-tuning epochs (scikit-learn's ``MLPClassifier`` default).
    batch_size : int or "auto", default "auto"
        Minibatch size for both phases; "auto" is scikit-learn's ``min(200, n_samples)``,
        and a size above ``n_samples`` trains on one batch of them all.
    early_stopping : bool, default False
        True: set ``validation_fraction`` of the training data aside (stratified), judge
        every epoch by its accuracy there, stop after ``n_iter_no_change`` epochs without
        an improvement of more than ``tol``, and keep the best epoch's weights. False: train
        on all of it and stop once the training loss has not fallen by ``tol`` for
        ``n_iter_no_change`` epochs. Both are scikit-learn's ``MLPClassifier`` rules, and
        so are the names and defaults; the epochs spent before the score first beats its
        floor (the most common class everywhere) do not count, as in
        :class:`~groundup.early_stopping.ValidationMonitor`.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int, default 10
    tol : float, default 1e-4
    min_epochs : int, default 5
        Fine-tuning never stops before this many epochs.
    weight_decay : float, default 0.0
        L2 penalty in both phases.
    final_lr_fraction : float, default 1.0
        The fine-tuning step size falls linearly over ``max_iter`` epochs to this fraction
        of ``learning_rate``; 1 keeps it constant (Adam's usual use), 0 is the paper's
        decay to zero.
    dropout : float, default 0.2
        Fraction of each hidden layer's units dropped at every fine-tuning step (inverted
        dropout: the rest are scaled by ``1 / (1 - dropout)``); 0 turns it off. Layers of
        500 units fit a few thousand training labels exactly, noise and all, so without it
        they fall behind a smaller network on classes that overlap.
    verbose, random_state, device : as elsewhere.
    tensorboard_log : str or None, default None
        A folder for TensorBoard: each row of ``training_log_`` (pretraining and fine-tuning epochs) is written as scalars (``train/<column>``)
        in a run sub-folder ``DBN_<n>`` (see :class:`groundup.progress.TrainingLog`).
        Needs ``pip install groundup[logging]``.

    Attributes
    ----------
    module_ : the network (``DenseStack``); ``classes_``; ``loss_curve_`` (fine-tuning
    loss per epoch); ``training_log_`` (one row per epoch; ``stop_reason`` says why
    fine-tuning ended); ``best_validation_score_`` (with ``early_stopping``, else None);
    ``rbms_`` (the pretrained RBMs, bottom first; empty without pretraining).

    Inputs must lie in [0, 1] (the first RBM reads them as probabilities), unless
    ``visible="gaussian"``.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (500, 500),
        *,
        visible: str = "bernoulli",
        pretrain: bool = True,
        pretrain_learning_rate: float = 0.1,
        pretrain_n_iter: int | str = "auto",
        k: int = 1,
        pretrain_momentum: float = 0.9,
        pretrain_sparsity_target: float | None = 0.1,
        optimizer: str = "adam",
        learning_rate: float = 3e-3,
        momentum: float = 0.9,
        nesterov: bool = False,
        optimizer_kwargs: dict[str, Any] | None = None,
        max_iter: int = 200,
        batch_size: int | str = "auto",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        min_epochs: int = 5,
        weight_decay: float = 0.0,
        final_lr_fraction: float = 1.0,
        dropout: float = 0.2,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible = visible
        self.pretrain = pretrain
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_n_iter = pretrain_n_iter
        self.k = k
        self.pretrain_momentum = pretrain_momentum
        self.pretrain_sparsity_target = pretrain_sparsity_target
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.optimizer_kwargs = optimizer_kwargs
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.min_epochs = min_epochs
        self.weight_decay = weight_decay
        self.final_lr_fraction = final_lr_fraction
        self.dropout = dropout
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log

    def _check_params(self) -> tuple[int, ...]:
        sizes = self._check_common()
        check_positive("k", self.k, integer=True)
        check_momentum(self.pretrain_momentum, "pretrain_momentum")
        check_choice("visible", self.visible, ("bernoulli", "gaussian"))
        if self.pretrain_sparsity_target is not None:
            check_in_interval("pretrain_sparsity_target", self.pretrain_sparsity_target, 0.0, 1.0, low_open=True,
                              high_open=True, what="a mean activation or None")
        return sizes

    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Before ``pretrain_sparsity_target`` existed, the RBMs were pretrained without one."""
        return {**super()._params_before(params), "pretrain_sparsity_target": None}

    def _check_data(self, X: torch.Tensor) -> None:
        """Bernoulli visible units read the inputs as probabilities; Gaussian ones take any
        real values (standardised: the first RBM warns otherwise)."""
        if self.visible == "bernoulli":
            super()._check_data(X)

    def _keep_pretrained(self, layers: list[RBM]) -> None:
        self.rbms_ = layers  # not saved by save()

    def _pretrain_layer(self, H: torch.Tensor, n_hidden: int, gen: torch.Generator, layer: int) -> tuple[RBM, torch.Tensor, torch.Tensor]:
        """Train one RBM on ``H`` (the layer below's hidden probabilities); return it and (W, c)."""
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=gen.device))
        gaussian = layer == 0 and self.visible == "gaussian"
        rbm = RBM(
            n_hidden,
            visible="gaussian" if gaussian else "bernoulli",
            # Gaussian visible units want a step one to two orders of magnitude smaller
            # (Hinton's practical guide, section 13.2): a hundredth, as RBM's "auto".
            learning_rate=self.pretrain_learning_rate * (GAUSSIAN_RATE_FACTOR if gaussian else 1.0),
            batch_size=resolve_batch_size(self.batch_size, H.shape[0]),
            n_iter=self._pretrain_epochs(H.shape[0]),
            k=self.k,
            momentum=self.pretrain_momentum,
            sparsity_target=self.pretrain_sparsity_target,
            weight_decay=self.weight_decay,
            verbose=self.verbose,
            random_state=seed,
            device=str(H.device),
        ).fit(H)
        # The learned attributes (NumPy), copied back to H's device.
        W = torch.tensor(rbm.components_, device=H.device)
        c = torch.tensor(rbm.intercept_hidden_, device=H.device)
        return rbm, W, c
