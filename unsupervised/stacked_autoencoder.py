"""A stacked (denoising) autoencoder: autoencoders trained greedily, then fine-tuned.

Bengio et al. (2007) replaced the RBMs of a deep belief network with one-hidden-layer
autoencoders: train one to reconstruct the data, keep its encoder, train the next on the
codes, and so on; Vincent et al. (2010) corrupt each layer's input (denoising), which
makes the features more useful. The encoders then initialise a sigmoid network that is
fine-tuned with a softmax layer on the labels.
"""

from __future__ import annotations

from typing import Any

import torch

from groundup.torch_utils import resolve_batch_size
from groundup.unsupervised._pretrained_classifier import PretrainedClassifier
from groundup.unsupervised.autoencoder import Autoencoder
from groundup.validation import check_in_interval

__all__ = ["StackedAutoencoder"]


class StackedAutoencoder(PretrainedClassifier):
    """Stacked denoising autoencoder classifier (greedy pretraining + softmax fine-tuning).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (500, 500)
        As in :class:`DBN`.
    pretrain : bool, default True
        Greedy autoencoder pretraining; ``False`` trains the same network from
        Glorot-uniform initial weights.
    pretrain_learning_rate : float, default 1e-3
        Adam's step size for each layer's autoencoder.
    pretrain_n_iter : int or "auto", default "auto"
        Epochs per layer; "auto" as in :class:`DBN` (enough epochs for 1,000 updates, and
        at least 10).
    noise : float, default 0.2
        Masking noise of each layer's input during pretraining (0 for plain autoencoders).
    tied_weights : bool, default True
        Each layer's decoder uses its encoder's transposed weights.
    optimizer, learning_rate, momentum, nesterov, optimizer_kwargs, max_iter, batch_size, early_stopping, validation_fraction, n_iter_no_change, tol, min_epochs, weight_decay, final_lr_fraction, dropout, verbose, random_state, device, tensorboard_log
        As in [DBN][groundup.unsupervised.DBN] (fine-tuning; ``optimizer`` and its settings
        do not change the layers' pretraining, which stays Adam at
        ``pretrain_learning_rate``).

    Notes
    -----
    Each layer's autoencoder has sigmoid code units and a sigmoid output trained with
    cross-entropy (inputs and codes are in [0, 1]), so inputs must lie in [0, 1].
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (500, 500),
        *,
        pretrain: bool = True,
        pretrain_learning_rate: float = 1e-3,
        pretrain_n_iter: int | str = "auto",
        noise: float = 0.2,
        tied_weights: bool = True,
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
        self.pretrain = pretrain
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_n_iter = pretrain_n_iter
        self.noise = noise
        self.tied_weights = tied_weights
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
        check_in_interval("noise", self.noise, 0.0, 1.0, high_open=True, what="a masking probability")
        return sizes

    def _pretrain_layer(self, H: torch.Tensor, n_hidden: int, gen: torch.Generator, layer: int) -> tuple[Autoencoder, torch.Tensor, torch.Tensor]:
        """Train a one-hidden-layer denoising autoencoder on ``H``; return it and its encoder (W, b)."""
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=gen.device))
        epochs = self._pretrain_epochs(H.shape[0])
        ae = Autoencoder(
            n_hidden,
            hidden_layer_sizes=(),
            code_activation="sigmoid",
            output_activation="sigmoid",
            loss="bce",
            tied_weights=self.tied_weights,
            init="random",
            noise=self.noise,
            noise_type="mask",
            optimizer="adam",
            learning_rate=self.pretrain_learning_rate,
            batch_size=resolve_batch_size(self.batch_size, H.shape[0]),
            max_iter=epochs,
            early_stopping=False,
            n_iter_no_change=epochs,  # every epoch runs
            weight_decay=self.weight_decay,
            verbose=self.verbose,
            random_state=seed,
            device=str(H.device),
        ).fit(H)
        return ae, ae.module_.enc_w[0].detach().clone(), ae.module_.enc_b[0].detach().clone()
