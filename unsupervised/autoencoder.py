"""An autoencoder: a network trained to reproduce its input through a narrow code.

The encoder maps x through ``hidden_layer_sizes`` to a code of ``n_components`` units;
the decoder mirrors it back to the input size. Trained to minimise the reconstruction
error, a linear autoencoder with squared error finds the PCA subspace (Baldi & Hornik,
1989); non-linear layers let it bend that subspace, which is why a deep autoencoder
beats PCA at the same code size (Hinton & Salakhutdinov, 2006).

By default (``init="pca"``) the network starts *as* PCA: a linear path beside the
non-linear layers holds PCA's projection, and the layers learn only what PCA misses, so
the autoencoder is never worse than PCA on new data, whatever the data set's size.

Options: tied weights (the decoder uses the encoder's transposed weights, halving the
parameters), and denoising (Vincent et al., 2008): the input is corrupted, by zeroing a
fraction ``noise`` of its entries ("mask") or by adding Gaussian noise of std ``noise``
("gaussian"), while the target stays clean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from groundup.progress import TrainingLog
from groundup.early_stopping import ValidationMonitor
from groundup.torch_utils import as_tensor, check_optimizer, make_optimizer, resolve_batch_size
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output, stopping_before
from groundup.unsupervised._nets import activation_fn, glorot_weight, train_until_stopped, validation_split
from groundup.validation import (check_array, check_bool, check_choice, check_in_interval, check_is_fitted, check_layer_sizes,
                                 check_positive, check_unit_interval)

__all__ = ["Autoencoder"]


def activation_name(value: Any) -> Any:
    """An activation's canonical name ("linear" is "identity", "logistic" is "sigmoid")."""
    return {"linear": "identity", "logistic": "sigmoid"}.get(value, value) if isinstance(value, str) else value


class _AutoencoderNet(nn.Module):
    """Encoder weights ``W_l`` (out, in) and biases; decoder biases; decoder weights unless tied.

    With ``linear=True`` a linear path runs beside the non-linear one, ``code = (x - mean)
    E^T + encoder(x)`` and ``reconstruction = c + code D + decoder_logits(code)``, and the
    last layer of each non-linear path starts at zero: :meth:`start_at_pca` then makes the
    untrained network exactly PCA's projection and reconstruction.
    """

    def __init__(self, sizes: list[int], tied: bool, acts: tuple[str, str, str], gen: torch.Generator,
                 device: torch.device, linear: bool = False) -> None:
        super().__init__()
        self.tied = tied
        self.linear = linear
        self.enc_w = nn.ParameterList([nn.Parameter(glorot_weight(o, i, gen, device)) for i, o in zip(sizes[:-1], sizes[1:])])
        self.enc_b = nn.ParameterList([nn.Parameter(torch.zeros(o, device=device)) for o in sizes[1:]])
        rev = sizes[::-1]
        self.dec_w = nn.ParameterList([] if tied else [nn.Parameter(glorot_weight(o, i, gen, device)) for i, o in zip(rev[:-1], rev[1:])])
        self.dec_b = nn.ParameterList([nn.Parameter(torch.zeros(o, device=device)) for o in rev[1:]])
        self.hidden_act, self.code_act, self.output_act = (activation_fn(a) for a in acts)
        if linear:
            d, k = sizes[0], sizes[-1]
            self.register_buffer("mean", torch.zeros(d, device=device))
            self.lin_enc = nn.Parameter(torch.zeros(k, d, device=device))
            self.lin_dec = nn.Parameter(torch.zeros(k, d, device=device))
            with torch.no_grad():  # the non-linear paths add nothing until training moves them
                self.enc_w[-1].zero_()
                self.dec_w[-1].zero_()

    def start_at_pca(self, mean: torch.Tensor, components: torch.Tensor) -> None:
        """Set the linear path to PCA's (``components``: (k, d), orthonormal rows)."""
        with torch.no_grad():
            self.mean.copy_(mean)
            self.lin_enc.copy_(components)
            self.lin_dec.copy_(components)
            self.dec_b[-1].copy_(mean)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.enc_w) - 1
        for l, (W, b) in enumerate(zip(self.enc_w, self.enc_b)):
            h = torch.addmm(b, h, W.T)
            h = self.code_act(h) if l == last else self.hidden_act(h)
        return h + (x - self.mean) @ self.lin_enc.T if self.linear else h

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder up to (not including) the output activation."""
        weights = [W.T for W in reversed(self.enc_w)] if self.tied else list(self.dec_w)
        h = z
        last = len(weights) - 1
        for l, (W, b) in enumerate(zip(weights, self.dec_b)):
            h = torch.addmm(b, h, W.T)
            if l < last:
                h = self.hidden_act(h)
        return h + z @ self.lin_dec if self.linear else h


class Autoencoder(TransformerMixin, TorchEstimator):
    """A (deep, optionally tied, optionally denoising) autoencoder; ``transform`` gives the code.

    Parameters
    ----------
    n_components : int, default 30
        Size of the code layer.
    hidden_layer_sizes : tuple of int, default (256,)
        Encoder layers between the input and the code; the decoder mirrors them.
    activation : str, default "relu"
        Activation of the hidden layers (any name in ``_nets.ACTIVATIONS``).
    code_activation : str, default "identity"
        Activation of the code layer (linear codes, as Hinton & Salakhutdinov's).
    output_activation : str, default "identity"
        Activation of the reconstruction. "sigmoid" suits data in [0, 1] with
        ``loss="bce"`` (and needs ``init="random"``); the identity suits any real data.
    loss : "mse" or "bce", default "mse"
        Squared error, or binary cross-entropy (needs targets in [0, 1] and a sigmoid output).
    tied_weights : bool, default False
        Decoder weights are the transposed encoder weights.
    init : "pca" or "random", default "pca"
        "pca": a linear path runs beside the non-linear layers, from the input to the code
        and from the code to the output, set to PCA's projection and reconstruction, with
        the last layer of each non-linear path starting at zero. Training starts from
        PCA's reconstruction and the layers learn what PCA misses, so with early stopping
        (which can keep the starting point) the autoencoder reconstructs new data no worse
        than PCA with as many components, on a thousand samples or on sixty thousand. A
        randomly initialised autoencoder only reaches PCA after long training, and on
        small data not at all. Needs the identity code and output, squared error, untied
        weights and ``n_components <= min(n_samples, n_features)``.
        "random": Glorot-uniform weights and no linear path, the classic autoencoder of
        Hinton & Salakhutdinov (2006); an over-complete code (``n_components`` above
        ``n_features``) is allowed here, with ``noise`` to keep it from copying its input.
    noise : float, default 0.0
        Corruption during training: the masking probability ("mask") or the std ("gaussian").
    noise_type : {"mask", "gaussian"}, default "mask"
        How ``noise`` corrupts the input: zeroing entries, or adding Gaussian noise.
    optimizer : {"sgd", "adagrad", "rmsprop", "adam"}, default "adam"
        ``torch.optim``'s SGD, Adagrad, RMSprop or Adam (built by
        :func:`groundup.torch_utils.make_optimizer`).
    learning_rate : float, default 1e-3
        The optimiser's step size (torch's ``lr``). 1e-3 suits "adam"; "sgd" usually
        wants a larger one.
    momentum : float in [0, 1), default 0.9
        SGD's momentum, used when ``optimizer="sgd"`` (as scikit-learn's MLP).
    nesterov : bool, default False
        Nesterov's momentum, when ``optimizer="sgd"``; needs ``momentum > 0``.
    optimizer_kwargs : dict or None, default None
        The optimiser's other settings, by torch's names, each defaulting as in torch
        (Adam's ``betas=(0.9, 0.999)`` and ``eps=1e-8``, RMSprop's ``alpha=0.99``, ...:
        listed in :class:`DBN`). ``learning_rate``, ``weight_decay`` and SGD's
        ``momentum`` and ``nesterov`` have parameters of their own and may not appear here.
    batch_size : int or "auto", default "auto"
        "auto" is scikit-learn's ``min(200, n_samples)``.
    max_iter : int, default 200
        The most epochs (passes over the data).
    early_stopping : bool, default True
        Set ``validation_fraction`` of the rows aside, score each epoch by the
        reconstruction error there (as a fraction of its variance), stop after
        ``n_iter_no_change`` epochs without an improvement of more than ``tol``, and keep
        the best epoch's weights (the starting point's too, with ``init="pca"``). On by
        default, unlike scikit-learn's classifiers, because an autoencoder's training
        error always falls while its error on new data, on small data sets, soon rises.
        False: train on every row until the training loss stops falling by ``tol``.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int, default 10
    tol : float, default 1e-4
        In units of the data's variance.
    min_epochs : int, default 5
        Training never stops before this many epochs.
    weight_decay : float, default 0.0
        L2 penalty on the parameters (torch.optim's ``weight_decay``).
    verbose, random_state, device : as elsewhere.
    tensorboard_log : str or None, default None
        A folder for TensorBoard: each epoch's row of ``training_log_`` is written as scalars (``train/<column>``)
        in a run sub-folder ``Autoencoder_<n>`` (see :class:`groundup.progress.TrainingLog`).
        Needs ``pip install groundup[logging]``.

    Attributes
    ----------
    module_ : the trained torch module.
    loss_curve_ : list of float, the mean training loss of each epoch.
    training_log_ : one row per epoch; its ``stop_reason`` says why training ended.
    best_validation_score_ : minus the kept epoch's validation error as a fraction of the
        validation data's variance (with ``early_stopping``; else None).
    """

    def __init__(
        self,
        n_components: int = 30,
        *,
        hidden_layer_sizes: tuple[int, ...] = (256,),
        activation: str = "relu",
        code_activation: str = "identity",
        output_activation: str = "identity",
        loss: str = "mse",
        tied_weights: bool = False,
        init: str = "pca",
        noise: float = 0.0,
        noise_type: str = "mask",
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        momentum: float = 0.9,
        nesterov: bool = False,
        optimizer_kwargs: dict[str, Any] | None = None,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        min_epochs: int = 5,
        weight_decay: float = 0.0,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
    ) -> None:
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.loss = loss
        self.tied_weights = tied_weights
        self.init = init
        self.noise = noise
        self.noise_type = noise_type
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.optimizer_kwargs = optimizer_kwargs
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.min_epochs = min_epochs
        self.weight_decay = weight_decay
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log

    def _check_params(self) -> list[int]:
        check_positive("n_components", self.n_components, integer=True)
        hidden = list(check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes, example="(500, 500)")) if self.hidden_layer_sizes else []
        for name in ("activation", "code_activation", "output_activation"):
            activation_fn(getattr(self, name), param=name)
        check_choice("loss", self.loss, ("mse", "bce"))
        if self.loss == "bce" and self.output_activation not in ("sigmoid", "logistic"):
            raise ValueError(f"loss='bce' needs output_activation='sigmoid'; got {self.output_activation!r}")
        check_choice("noise_type", self.noise_type, ("mask", "gaussian"))
        check_positive("noise", self.noise, allow_zero=True)
        if self.noise_type == "mask" and self.noise >= 1.0:
            raise ValueError(f"noise is a masking probability for noise_type='mask' and must be in [0, 1); got {self.noise!r}")
        check_optimizer(self.optimizer, momentum=self.momentum, nesterov=self.nesterov, optimizer_kwargs=self.optimizer_kwargs)
        check_positive("learning_rate", self.learning_rate)
        resolve_batch_size(self.batch_size, 1)
        check_positive("max_iter", self.max_iter, integer=True)
        check_bool("early_stopping", self.early_stopping)
        check_in_interval("validation_fraction", self.validation_fraction, 0.0, 1.0, low_open=True, high_open=True, what="a fraction")
        check_positive("n_iter_no_change", self.n_iter_no_change, integer=True)
        check_positive("tol", self.tol, allow_zero=True)
        check_positive("min_epochs", self.min_epochs, integer=True)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_choice("init", self.init, ("pca", "random"))
        if self.init == "pca":
            needs = {"code_activation": "identity", "output_activation": "identity", "loss": "mse", "tied_weights": False}
            wrong = {k: v for k, v in needs.items() if activation_name(getattr(self, k)) != v}
            if wrong:
                got = ", ".join(f"{k}={getattr(self, k)!r}" for k in wrong)
                want = ", ".join(f"{k}={v!r}" for k, v in needs.items())
                raise ValueError(f"init='pca' starts from PCA's linear reconstruction, so it needs {want}; got {got}. "
                                 f"Pass init='random' for the classic autoencoder with these settings")
        return hidden

    def _corrupt(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.noise == 0:
            return x
        if self.noise_type == "mask":
            keep = torch.rand(x.shape, generator=gen, device=x.device) >= self.noise
            return x * keep
        return x + self.noise * torch.randn(x.shape, generator=gen, device=x.device)

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.loss == "bce":
            # Cross-entropy summed over pixels, from the logits (numerically stable).
            return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / target.shape[0]
        return ((self.module_.output_act(logits) - target) ** 2).sum(1).mean()

    def fit(self, X: Any, y: Any = None) -> "Autoencoder":
        """Train on ``X`` (n_samples, n_features). Returns self."""
        hidden = self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        n, d = Xt.shape
        if n < 2:
            raise ValueError(f"Autoencoder needs at least 2 samples to learn a code; got n_samples={n}")
        if self.loss == "bce":
            check_unit_interval(Xt, owner="Autoencoder(loss='bce')")
        if self.init == "pca" and self.n_components > min(n, d):
            raise ValueError(f"n_components={self.n_components} is more than min(n_samples, n_features) = {min(n, d)}: "
                             f"init='pca' starts from PCA's {self.n_components} components, which do not exist. "
                             f"Lower n_components, or pass init='random' with noise > 0 for an over-complete code "
                             f"(without corruption it can learn to copy its input)")
        gen = self._generator(device)
        sizes = [d, *hidden, self.n_components]
        self.module_ = _AutoencoderNet(sizes, bool(self.tied_weights), (self.activation, self.code_activation, self.output_activation),
                                       gen, device, linear=self.init == "pca")
        if self.init == "pca":
            # PCA of every row given, validation share included: the start is exactly the
            # PCA a user would fit on the same data, and early stopping can only improve on it.
            mean = Xt.mean(0)
            _, _, Vt = torch.linalg.svd(Xt - mean, full_matrices=False)  # the top right-singular vectors
            self.module_.start_at_pca(mean, Vt[: self.n_components])
        Xv = None
        if self.early_stopping:
            train, valid = validation_split(n, self.validation_fraction, gen)
            Xt, Xv = Xt[train], Xt[valid]
        optimizer = make_optimizer(self.module_.parameters(), self.optimizer, learning_rate=self.learning_rate, momentum=self.momentum,
                                   nesterov=self.nesterov, weight_decay=self.weight_decay, optimizer_kwargs=self.optimizer_kwargs)

        def step(x: torch.Tensor) -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            loss = self._loss(self.module_.decode_logits(self.module_.encode(self._corrupt(x, gen))), x)
            loss.backward()
            optimizer.step()
            return loss.detach()

        # Scores are errors as a fraction of the data's total variance, negated so that
        # higher is better: -1 is the floor, reconstructing every row as the mean.
        if Xv is not None:
            variance = float(((Xv - Xt.mean(0)) ** 2).sum(1).mean())
            monitor = ValidationMonitor("val_relative_error", -1.0, "reconstructing every row as the training mean",
                                        self.n_iter_no_change, self.min_epochs, True, tol=self.tol)

            def score(loss: float) -> float:
                with torch.no_grad():
                    return -self._loss(self.module_.decode_logits(self.module_.encode(Xv)), Xv).item() / variance
        else:
            variance = float(((Xt - Xt.mean(0)) ** 2).sum(1).mean())
            monitor = ValidationMonitor("neg_relative_train_loss", -1.0, "reconstructing every row as the mean",
                                        self.n_iter_no_change, self.min_epochs, True, tol=self.tol)

            def score(loss: float) -> float:
                return -loss / variance

        log = TrainingLog(self.verbose, name="Autoencoder", tensorboard_log=self.tensorboard_log)
        self.loss_curve_ = train_until_stopped(
            self.module_, step, [Xt], monitor=monitor, score=score, keep_best=Xv is not None, max_iter=self.max_iter,
            batch_size=resolve_batch_size(self.batch_size, Xt.shape[0]), generator=gen, log=log,
            initial_score=score(float("nan")) if (self.init == "pca" and Xv is not None) else None, name="Autoencoder",
        )
        self.training_log_ = log
        self.best_validation_score_ = monitor.best_score if Xv is not None else None
        return self

    @property
    def n_iter_(self) -> int:
        """Epochs run (one entry of ``loss_curve_`` each)."""
        return len(self.loss_curve_)

    def _run(self, X: Any, what: str) -> Any:
        """Apply part of the fitted network ("encode", "decode" or "reconstruct") in batches."""
        check_is_fitted(self)
        device = self._device()
        net = self.module_.to(device)
        steps = {
            "encode": net.encode,
            "decode": lambda z: net.output_act(net.decode_logits(z)),
            "reconstruct": lambda x: net.output_act(net.decode_logits(net.encode(x))),
        }
        name, n_features = ("Z", self.n_components) if what == "decode" else ("X", self.n_features_in_)
        Xt = check_array(X, name=name, device=device, n_features=n_features, owner="Autoencoder")
        with torch.no_grad():
            return as_output(torch.cat([steps[what](Xt[s : s + 4096]) for s in range(0, Xt.shape[0], 4096)]), X)

    def transform(self, X: Any) -> Any:
        """The code of each row of ``X``: shape (n_samples, n_components)."""
        return self._run(X, "encode")

    def inverse_transform(self, Z: Any) -> Any:
        """Decode codes ``Z`` (n_samples, n_components) back to input space."""
        return self._run(Z, "decode")

    def reconstruct(self, X: Any) -> Any:
        """Encode and decode ``X`` (no corruption)."""
        return self._run(X, "reconstruct")

    def reconstruction_error(self, X: Any) -> float:
        """Mean squared reconstruction error per feature of ``X`` (comparable to PCA's)."""
        Xt = self._check_X(X, reset=False, device=self._device())
        return float(((Xt - as_tensor(self.reconstruct(Xt), Xt.device)) ** 2).mean())

    # -- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return dict(self.module_.state_dict()), {"loss_curve_": list(self.loss_curve_)}

    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Before ``init`` and early stopping existed, the autoencoder was the classic one (no
        linear path), trained for every epoch on all the data."""
        return {"init": "random", **stopping_before(params)}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        hidden = self._check_params()
        device = self._device()
        sizes = [self.n_features_in_, *hidden, self.n_components]
        gen = torch.Generator(device=device)
        self.module_ = _AutoencoderNet(sizes, bool(self.tied_weights), (self.activation, self.code_activation, self.output_activation),
                                       gen, device, linear=self.init == "pca")
        self.module_.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
        self.loss_curve_ = list(metadata.get("loss_curve_", []))
