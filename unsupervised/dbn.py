"""A deep belief network: RBMs stacked greedily, then fine-tuned as a classifier.

Hinton, Osindero & Teh (2006): train an RBM on the data, then another RBM on the first
one's hidden probabilities, and so on; each added layer improves a variational bound on
the data's likelihood. The stack of recognition weights then initialises a feed-forward
sigmoid network that backpropagation fine-tunes on the labels (Hinton & Salakhutdinov,
2006). The default shape is the paper's 784-500-500-2000.
"""

from __future__ import annotations

from typing import Any

import torch

from groundup.unsupervised._pretrained_classifier import PretrainedClassifier
from groundup.unsupervised.rbm import RBM
from groundup.validation import check_momentum, check_positive

__all__ = ["DBN"]


class DBN(PretrainedClassifier):
    """Deep belief network classifier (stacked :class:`RBM` + softmax, fine-tuned).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (500, 500, 2000)
    pretrain : bool, default True
        Greedy RBM pretraining; ``False`` trains the same network from Glorot-uniform
        initial weights (the baseline that measures what pretraining buys).
    pretrain_learning_rate : float, default 0.05
        RBM step size (per-sample mean gradient).
    pretrain_n_iter : int, default 10
        CD epochs per layer.
    k : int, default 1
        Gibbs steps per CD update.
    pretrain_momentum : float, default 0.5
    optimizer : {"sgd", "adagrad", "rmsprop", "adam"}, default "sgd"
        The fine-tuning optimiser: ``torch.optim``'s SGD, Adagrad, RMSprop or Adam
        (built by :func:`groundup.torch_utils.make_optimizer`). Pretraining keeps
        contrastive divergence, whatever this is.
    learning_rate : float, default 0.1
        Fine-tuning step size at the first epoch (torch's ``lr``). 0.1 suits "sgd";
        "adam" and "rmsprop" usually want about 1e-3.
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
    max_iter : int, default 20
        Fine-tuning epochs.
    batch_size : int, default 100
        Minibatch size for both phases.
    weight_decay : float, default 0.0
        L2 penalty in both phases.
    final_lr_fraction : float, default 0.0
        The fine-tuning step size falls linearly to this fraction of ``learning_rate``.
    dropout : float, default 0.0
        Fraction of each hidden layer's units dropped at every fine-tuning step (inverted
        dropout: the rest are scaled by ``1 / (1 - dropout)``); 0 turns it off.
    verbose, random_state, device : as elsewhere.

    Attributes
    ----------
    module_ : the network (``DenseStack``); ``classes_``; ``loss_curve_`` (fine-tuning
    loss per epoch); ``rbms_`` (the pretrained RBMs, bottom first; empty without pretraining).

    Inputs must lie in [0, 1]: the first RBM reads them as probabilities.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (500, 500, 2000),
        *,
        pretrain: bool = True,
        pretrain_learning_rate: float = 0.05,
        pretrain_n_iter: int = 10,
        k: int = 1,
        pretrain_momentum: float = 0.5,
        optimizer: str = "sgd",
        learning_rate: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = False,
        optimizer_kwargs: dict[str, Any] | None = None,
        max_iter: int = 20,
        batch_size: int = 100,
        weight_decay: float = 0.0,
        final_lr_fraction: float = 0.0,
        dropout: float = 0.0,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain = pretrain
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_n_iter = pretrain_n_iter
        self.k = k
        self.pretrain_momentum = pretrain_momentum
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.optimizer_kwargs = optimizer_kwargs
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.final_lr_fraction = final_lr_fraction
        self.dropout = dropout
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    def _check_params(self) -> tuple[int, ...]:
        sizes = self._check_common()
        check_positive("k", self.k, integer=True)
        check_momentum(self.pretrain_momentum, "pretrain_momentum")
        return sizes

    def _keep_pretrained(self, layers: list[RBM]) -> None:
        self.rbms_ = layers  # not saved by save()

    def _pretrain_layer(self, H: torch.Tensor, n_hidden: int, gen: torch.Generator, layer: int) -> tuple[RBM, torch.Tensor, torch.Tensor]:
        """Train one RBM on ``H`` (the layer below's hidden probabilities); return it and (W, c)."""
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=gen.device))
        rbm = RBM(
            n_hidden,
            learning_rate=self.pretrain_learning_rate,
            batch_size=self.batch_size,
            n_iter=self.pretrain_n_iter,
            k=self.k,
            momentum=self.pretrain_momentum,
            weight_decay=self.weight_decay,
            verbose=self.verbose,
            random_state=seed,
            device=str(H.device),
        ).fit(H)
        # The learned attributes (NumPy), copied back to H's device.
        W = torch.tensor(rbm.components_, device=H.device)
        c = torch.tensor(rbm.intercept_hidden_, device=H.device)
        return rbm, W, c
