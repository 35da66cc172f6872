"""A restricted Boltzmann machine (Bernoulli or Gaussian visible units) trained by contrastive divergence.

Visible units ``v`` (n_features) and binary hidden units ``h`` (n_components). With binary
visible units the energy is ``E(v, h) = -b.v - c.h - h.W.v``. Given one layer, the other
factorises:

    P(h_j = 1 | v) = sigmoid(c_j + W_j . v)        P(v_i = 1 | h) = sigmoid(b_i + W^T_i . h)

and summing out h gives the free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j . v)``,
with ``P(v) = exp(-F(v)) / Z``.

Gaussian visible units (``visible="gaussian"``; Hinton's practical guide, section 13.2)
model real-valued, standardised data with unit variance: ``E(v, h) = |v - b|^2 / 2 - c.h
- h.W.v``, so ``P(h_j = 1 | v)`` is unchanged, ``v | h ~ N(b + W^T h, I)``, and
``F(v) = |v - b|^2 / 2 - sum_j softplus(c_j + W_j . v)``. Integrating v out of
``exp(-E)`` is a Gaussian integral, so ``log Z`` is a log-sum over hidden states
(:meth:`RBM.log_partition`, exact for small models). The log-likelihood gradient is a difference of two
expectations, ``<v h^T>_data - <v h^T>_model``; the second is estimated with a short
Gibbs chain (Hinton, 2002):

* CD-k starts the chain at the data and runs k steps;
* persistent CD (Tieleman, 2008) keeps one chain per batch row alive across updates.

Updates use momentum and L2 weight decay as in Hinton's "practical guide" (2010).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from groundup.progress import TrainingLog
from groundup.torch_utils import as_tensor, train_minibatches
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.validation import check_choice, check_in_interval, check_is_fitted, check_momentum, check_positive, check_unit_interval

__all__ = ["RBM"]


class RBM(TransformerMixin, TorchEstimator):
    """RBM with CD-k or persistent CD; scikit-learn's ``BernoulliRBM`` names.

    The defaults are one setting for data sets from a thousand rows to MNIST (issue 22):
    the batch size, the number of epochs and the learning rate follow the number of
    samples and the visible units (see ``_resolve_schedule``), and the features are meant
    for a linear classifier on top: many hidden units (1,024) kept in use by a sparsity
    target (0.2), so that logistic regression on them is at least as good as on the raw
    pixels. A reproduction of a paper passes its own settings (``sparsity_target=None``,
    ``momentum=0``, a fixed ``n_iter`` ...).

    Parameters
    ----------
    n_components : int, default 1024
        Number of hidden units. Many, since the features feed a linear model: more
        units, more directions for it to separate the classes along.
    visible : {"bernoulli", "gaussian"}, default "bernoulli"
        Binary visible units (inputs in [0, 1], read as probabilities) or Gaussian ones of
        unit variance (standardised real-valued inputs; a warning names the fix when the
        columns are far from mean 0 and variance 1). Gaussian units reconstruct with the
        noise-free mean under CD (the guide's advice) and sample under PCD.
    learning_rate : float or "auto", default "auto"
        Step size on the mean (per sample) gradient of a minibatch; "auto": 0.3 for
        Bernoulli units, 0.003 for Gaussian ones.
    batch_size : int or "auto", default "auto"
        Samples per update; "auto": ``min(100, n_samples)``.
    n_iter : int or "auto", default "auto"
        Passes (epochs) over the training data; "auto": at least 10 epochs and at least
        ``MIN_UPDATES`` (4,000) updates, so small data sets train as long as large ones.
    k : int, default 1
        Gibbs steps per update (CD-k).
    persistent : bool, default False
        Persistent CD: keep the negative chains between updates instead of restarting
        them at the data.
    momentum : float, default 0.9
        Fraction of the previous update added to the current one (0 <= momentum < 1).
    weight_decay : float, default 0.0
        L2 penalty on the weights (not the biases), per sample.
    sparsity_target : float in (0, 1) or None, default 0.2
        Target mean activation of each hidden unit (Hinton's guide, section 11): a running
        estimate of each unit's activation is pulled towards it through the unit's bias and
        weights. It keeps every hidden unit in use at high learning rates. None: off.
    sparsity_cost : float, default 1.0
        Strength of that pull.
    verbose : int, default 0
        Print the reconstruction error after every epoch.
    random_state : int or None, default None
        Seed for the initial weights, the minibatch order and the Gibbs samples.
    device : str, default "auto"
    tensorboard_log : str or None, default None
        A folder for TensorBoard: each epoch's reconstruction error is written as scalars (``train/<column>``)
        in a run sub-folder ``RBM_<n>`` (see :class:`groundup.progress.TrainingLog`).
        Needs ``pip install groundup[logging]``.

    Attributes
    ----------
    components_ : (n_components, n_features) weights W.
    intercept_hidden_ : (n_components,) hidden biases c.
    intercept_visible_ : (n_features,) visible biases b.
    h_samples_ : (batch_size, n_components) the persistent chains' hidden state (PCD).
    loss_curve_ : list of float, mean squared reconstruction error after each epoch.
    batch_size_, n_iter_, learning_rate_ : the values :meth:`fit` used ("auto" resolved).

    Bernoulli inputs must lie in [0, 1] (they are read as probabilities of the visible
    units); anything else raises a ``ValueError`` that suggests rescaling or binarising.
    Fewer samples than ``batch_size`` train as one batch.
    """

    _VISIBLE = {"bernoulli": "binary units, inputs in [0, 1]", "gaussian": "real-valued units of unit variance, standardised inputs"}

    def __init__(
        self,
        n_components: int = 1024,
        *,
        visible: str = "bernoulli",
        learning_rate: float | str = "auto",
        batch_size: int | str = "auto",
        n_iter: int | str = "auto",
        k: int = 1,
        persistent: bool = False,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        sparsity_target: float | None = 0.2,
        sparsity_cost: float = 1.0,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
    ) -> None:
        self.n_components = n_components
        self.visible = visible
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log

    # -- conditionals and sampling --------------------------------------------------------------
    def _hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.addmm(self._c, v, self._W.T))

    def _visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        """``P(v = 1 | h)`` (Bernoulli) or the mean ``E[v | h] = b + W^T h`` (Gaussian)."""
        mean = torch.addmm(self._b, h, self._W)
        return mean if self.visible == "gaussian" else torch.sigmoid(mean)

    def _sample(self, probs: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(probs, generator=self._gen)

    def _sample_visible(self, mean: torch.Tensor) -> torch.Tensor:
        """A draw of v given its conditional mean: Bernoulli, or the mean plus N(0, 1) noise."""
        if self.visible == "gaussian":
            return mean + torch.randn(mean.shape, generator=self._gen, device=mean.device, dtype=mean.dtype)
        return self._sample(mean)

    def _free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -b.v - sum_j softplus(c_j + W_j . v)`` for each row of ``v`` (Bernoulli);
        the Gaussian units' ``|v - b|^2 / 2`` replaces ``-b.v``."""
        visible_term = 0.5 * ((v - self._b) ** 2).sum(1) if self.visible == "gaussian" else -(v @ self._b)
        return visible_term - F.softplus(torch.addmm(self._c, v, self._W.T)).sum(1)

    # -- training -------------------------------------------------------------------------------
    def _cd_update(self, v0: torch.Tensor) -> torch.Tensor:
        """One CD-k (or PCD-k) update on the minibatch ``v0``; returns its reconstruction error."""
        n = v0.shape[0]
        ph0 = self._hidden_probs(v0)  # positive phase: hidden probabilities given the data
        h0 = self._sample(ph0)
        if self.persistent:
            self._grow_chain(n, h0)
            h = self._chain[:n]
        else:
            h = h0
        gaussian_mean = self.visible == "gaussian" and not self.persistent
        for step in range(self.k):  # negative phase: k steps of block Gibbs sampling
            pv = self._visible_probs(h)
            if step == 0 and not self.persistent:
                recon = pv  # the one-step reconstruction of the data, for the error we report
            # Gaussian units under CD: the noise-free mean as the reconstruction (Hinton's
            # guide, 13.2), which lowers the variance of the update; PCD's chains must sample.
            vk = pv if gaussian_mean else self._sample_visible(pv)
            phk = self._hidden_probs(vk)
            if self.persistent or step < self.k - 1:
                h = self._sample(phk)
        if self.persistent:
            self._chain[:n] = h
        # <v h>_data - <v h>_model, averaged over the batch; probabilities, not samples,
        # for the statistics wherever that lowers the variance (Hinton's guide, sec. 3).
        grad_W = (ph0.T @ v0 - phk.T @ vk) / n - self.weight_decay * self._W
        grad_b = (v0 - vk).mean(0)
        grad_c = (ph0 - phk).mean(0)
        if self.sparsity_target is not None:
            # Hinton's guide, sec. 11: a running estimate q of each hidden unit's mean
            # activation is pulled towards the target p through its bias and incoming weights
            # (the gradient of the cross-entropy between p and q is p - q per unit).
            self._q.mul_(0.9).add_(ph0.mean(0), alpha=0.1)
            push = self.sparsity_cost * (self.sparsity_target - self._q)
            grad_c = grad_c + push
            grad_W = grad_W + torch.outer(push, v0.mean(0))
        lr = self._lr
        for param, vel, grad in ((self._W, self._vW, grad_W), (self._b, self._vb, grad_b), (self._c, self._vc, grad_c)):
            vel.mul_(self.momentum).add_(grad, alpha=lr)
            param.add_(vel)
        if self.persistent:  # the chain is not the data: reconstruct the data separately
            recon = self._visible_probs(h0)
        return ((v0 - recon) ** 2).mean()

    def _grow_chain(self, n: int, h0: torch.Tensor) -> None:
        """PCD keeps one chain per batch row; a batch larger than the chains so far (a
        ``partial_fit`` batch above ``batch_size``) starts the extra chains at its own
        hidden samples."""
        have = self._chain.shape[0]
        if n > have:
            self._chain = torch.cat([self._chain, h0[have:n].to(self._chain.dtype)])

    def _check_params(self) -> None:
        check_choice("visible", self.visible, self._VISIBLE)
        for name in ("n_components", "k"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("batch_size", "n_iter"):
            if getattr(self, name) != "auto":
                check_positive(name, getattr(self, name), integer=True)
        if self.learning_rate != "auto":
            check_positive("learning_rate", self.learning_rate)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_momentum(self.momentum)
        if self.sparsity_target is not None:
            check_in_interval("sparsity_target", self.sparsity_target, 0.0, 1.0, low_open=True, high_open=True)
        check_positive("sparsity_cost", self.sparsity_cost, allow_zero=True)

    # -- the data-dependent defaults ("auto") ---------------------------------------------------
    def _resolve_schedule(self, n_samples: int) -> tuple[int, int, float]:
        """``(batch_size, n_iter, learning_rate)`` for ``n_samples`` training rows.

        * batch size ``min(100, n_samples)``: scikit-learn's ``min(200, n_samples)`` rule
          (one batch when the data are fewer), with Hinton's guide's 100 as the cap, so
          MNIST gets 500 updates an epoch;
        * ``n_iter``: enough epochs for at least MIN_UPDATES updates, and at least 10
          epochs: a fixed epoch count gives a 1,000-row data set a hundredth of MNIST's
          updates, and the filters are still blank when it ends;
        * learning rate 0.3 (Bernoulli) on the batch-mean gradient, with momentum 0.9 and the
          sparsity target holding every hidden unit in use (without the target, rates this
          high switch most hidden units off for good); a hundredth of it, 0.003, for
          Gaussian visible units, whose reconstructions are unbounded: the guide asks for
          one to two orders of magnitude less, and a tenth diverged on standardised data.
        """
        batch = min(100, n_samples) if self.batch_size == "auto" else int(self.batch_size)
        if self.n_iter == "auto":
            per_epoch = math.ceil(n_samples / batch)
            n_iter = max(10, math.ceil(self.MIN_UPDATES / per_epoch))
        else:
            n_iter = int(self.n_iter)
        if self.learning_rate == "auto":
            lr = 0.3 if self.visible == "bernoulli" else 0.003
        else:
            lr = float(self.learning_rate)
        return batch, n_iter, lr

    MIN_UPDATES = 4000

    def _check_inputs(self, X: torch.Tensor, *, warn: bool = False) -> None:
        """Bernoulli units read X as probabilities; Gaussian ones assume standardised
        columns (unit variance is built into the model), so far-off columns get a warning."""
        if self.visible == "bernoulli":
            check_unit_interval(X, owner="RBM")
            return
        if not warn or X.shape[0] < 2:
            return
        mean, std = X.mean(0), X.std(0)
        varying = std > 0  # StandardScaler leaves a constant column at 0 with std 0
        if bool(varying.any()):
            off = float((mean[varying].abs()).max()), float(std[varying].min()), float(std[varying].max())
            if off[0] > 0.5 or off[1] < 0.5 or off[2] > 2.0:
                warnings.warn(
                    f"RBM(visible='gaussian') models each input with unit variance, but X's columns have means up to "
                    f"{off[0]:.3g} in magnitude and standard deviations from {off[1]:.3g} to {off[2]:.3g}; standardise "
                    f"X first (sklearn.preprocessing.StandardScaler) for the model to fit",
                    UserWarning, stacklevel=3)

    def _init_params(self, n_features: int, device: torch.device, chains: int) -> None:
        self._gen = self._generator(device)
        # Small random weights break the symmetry between hidden units (N(0, 0.01^2), as
        # scikit-learn and Hinton's guide); biases start at zero.
        self._W = 0.01 * torch.randn(self.n_components, n_features, generator=self._gen, device=device)
        self._b = torch.zeros(n_features, device=device)
        self._c = torch.zeros(self.n_components, device=device)
        self._vW, self._vb, self._vc = torch.zeros_like(self._W), torch.zeros_like(self._b), torch.zeros_like(self._c)
        self._chain = torch.zeros(chains, self.n_components, device=device)
        self._q = torch.full((self.n_components,), float(self.sparsity_target or 0.0), device=device)

    def fit(self, X: Any, y: Any = None) -> "RBM":
        """Train on ``X`` (n_samples, n_features): values in [0, 1] for Bernoulli visible
        units, standardised columns for Gaussian ones. Returns self."""
        self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        self._check_inputs(Xt, warn=True)
        batch, n_iter, self._lr = self._resolve_schedule(Xt.shape[0])
        self.batch_size_, self.n_iter_, self.learning_rate_ = batch, n_iter, self._lr
        self._init_params(Xt.shape[1], device, min(batch, Xt.shape[0]))
        with TrainingLog(self.verbose, name="RBM", tensorboard_log=self.tensorboard_log) as log, torch.no_grad():
            self.loss_curve_ = train_minibatches(
                self._cd_update,
                [Xt],
                epochs=n_iter,
                batch_size=batch,
                generator=self._gen,
                on_epoch_end=lambda epoch, loss: log.append(epoch=epoch + 1, reconstruction_error=loss),
                name="RBM",
            )
        self._publish()
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "RBM":
        """One CD update on the minibatch ``X`` (initialising the model on the first call).

        The whole of ``X`` is one batch, whatever ``batch_size`` says; with PCD, rows beyond
        the chains kept so far start chains of their own."""
        first = not hasattr(self, "components_")
        self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=first, device=device)
        self._check_inputs(Xt, warn=first)
        if first:
            self._init_params(Xt.shape[1], device, Xt.shape[0])
            self.loss_curve_ = []
        else:
            self._restore_tensors(device)
        self._lr = self._resolve_schedule(Xt.shape[0])[2]
        with torch.no_grad():
            self.loss_curve_.append(float(self._cd_update(Xt)))
        self._publish()
        return self

    def _publish(self) -> None:
        """Expose the learned tensors as NumPy attributes (scikit-learn's convention)."""
        self.components_ = self._W.cpu().numpy()
        self.intercept_hidden_ = self._c.cpu().numpy()
        self.intercept_visible_ = self._b.cpu().numpy()
        self.h_samples_ = self._chain.cpu().numpy()

    def _restore_tensors(self, device: torch.device) -> None:
        """Rebuild the working tensors from the public attributes (after load or set)."""
        if getattr(self, "_W", None) is not None and self._W.device == device:
            return
        self._W = as_tensor(self.components_, device).clone()
        self._c = as_tensor(self.intercept_hidden_, device).clone()
        self._b = as_tensor(self.intercept_visible_, device).clone()
        self._chain = as_tensor(self.h_samples_, device).clone()
        self._q = torch.full((self.n_components,), float(self.sparsity_target or 0.0), device=device)
        self._vW, self._vb, self._vc = torch.zeros_like(self._W), torch.zeros_like(self._b), torch.zeros_like(self._c)
        self._gen = self._generator(device)

    def _inputs(self, X: Any) -> torch.Tensor:
        device = self._device()
        Xt = self._check_X(X, reset=False, device=device)
        self._check_inputs(Xt)
        self._restore_tensors(device)
        return Xt

    # -- queries --------------------------------------------------------------------------------
    def transform(self, X: Any) -> Any:
        """Hidden-unit probabilities ``P(h = 1 | v)`` for each row of ``X``."""
        Xt = self._inputs(X)
        with torch.no_grad():
            return as_output(self._hidden_probs(Xt), X)

    def free_energy(self, X: Any) -> np.ndarray:
        """``F(v)`` of each row (lower is more probable under the model)."""
        Xt = self._inputs(X)
        with torch.no_grad():
            return self._free_energy(Xt).cpu().numpy()

    def gibbs(self, v: Any) -> Any:
        """One step of block Gibbs sampling from ``v``: sample h, then v (binary, or the
        Gaussian mean plus unit-variance noise)."""
        Vt = self._inputs(v)
        with torch.no_grad():
            return as_output(self._sample_visible(self._visible_probs(self._sample(self._hidden_probs(Vt)))), v)

    def sample(self, n_samples: int = 16, *, n_steps: int = 1000, init: Any = None) -> np.ndarray:
        """Visible probabilities after ``n_steps`` of Gibbs sampling from ``init`` (or noise).

        Each chain starts at a row of ``init`` or, when ``init`` is None, at uniform random
        binary images (standard normal noise for Gaussian units); the last step returns
        ``P(v = 1 | h)`` or the Gaussian mean ``b + W^T h`` (smoother to look at).
        """
        check_is_fitted(self)
        check_positive("n_steps", n_steps, integer=True)
        if init is None:
            check_positive("n_samples", n_samples, integer=True)
            device = self._device()
            self._restore_tensors(device)
            if self.visible == "gaussian":
                v = torch.randn(n_samples, self.n_features_in_, generator=self._gen, device=device)
            else:
                v = torch.bernoulli(torch.full((n_samples, self.n_features_in_), 0.5, device=device), generator=self._gen)
        else:
            v = self._inputs(init)
        with torch.no_grad():
            for _ in range(n_steps - 1):
                v = self._sample_visible(self._visible_probs(self._sample(self._hidden_probs(v))))
            return self._visible_probs(self._sample(self._hidden_probs(v))).cpu().numpy()

    def pseudo_likelihood(self, X: Any, *, batch_size: int = 64) -> np.ndarray:
        """Exact log pseudo-likelihood of each row: ``sum_i log P(v_i | v_-i)`` (nats).

        ``P(v_i | v_-i) = sigmoid(F(v with bit i flipped) - F(v))``, summed over every
        feature (not the one-random-bit estimate of :meth:`score_samples`). Flipping bit i
        shifts the hidden pre-activations by ``(1 - 2 v_i) W[:, i]``, so all flips of a
        batch are one broadcast. Grey values v are flipped to ``1 - v``, as scikit-learn does.
        Binary visible units only: a Gaussian unit has no bit to flip.
        """
        self._bernoulli_only("pseudo_likelihood")
        Xt = self._inputs(X)
        out = []
        with torch.no_grad():
            for start in range(0, Xt.shape[0], batch_size):
                v = Xt[start : start + batch_size]
                x = torch.addmm(self._c, v, self._W.T)  # (b, H)
                sign = 1.0 - 2.0 * v  # (b, V): the change of each bit when flipped
                x_flip = x[:, None, :] + sign[:, :, None] * self._W.T[None, :, :]  # (b, V, H)
                # F(v') - F(v) = -sign_i b_i - sum_j [softplus(x'_j) - softplus(x_j)]
                delta = -sign * self._b - (F.softplus(x_flip) - F.softplus(x)[:, None, :]).sum(2)
                out.append(F.logsigmoid(delta).sum(1))
        return torch.cat(out).cpu().numpy()

    def _bernoulli_only(self, what: str) -> None:
        if self.visible != "bernoulli":
            raise ValueError(f"RBM.{what} flips binary visible units; this RBM has visible={self.visible!r}. "
                             "Use score_samples (log-density up to log Z) and log_partition instead")

    def log_partition(self) -> float:
        """``log Z``, exactly, by summing over every hidden state (at most 20 hidden units).

        Summing v out of ``exp(-E(v, h))`` in closed form leaves one term per hidden state h:
        ``exp(c.h) prod_i (1 + exp(b_i + (W^T h)_i))`` for Bernoulli units, and
        ``(2 pi)^(d/2) exp(c.h + |b + W^T h|^2 / 2 - |b|^2 / 2)`` for Gaussian ones (a
        Gaussian integral). ``-free_energy(X) - log_partition()`` is then the exact log
        probability (density) of each row: for checking and for tiny models.
        """
        check_is_fitted(self)
        n_hidden = int(self.n_components_ if hasattr(self, "n_components_") else np.asarray(self.components_).shape[0])
        if n_hidden > 20:
            raise ValueError(f"log_partition sums over 2**n_components hidden states; n_components is {n_hidden}, "
                             "at most 20 is accepted")
        W = torch.as_tensor(np.asarray(self.components_), dtype=torch.float64)
        b = torch.as_tensor(np.asarray(self.intercept_visible_), dtype=torch.float64)
        c = torch.as_tensor(np.asarray(self.intercept_hidden_), dtype=torch.float64)
        states = torch.arange(2**n_hidden)[:, None].bitwise_right_shift(torch.arange(n_hidden)).bitwise_and(1).double()
        top = torch.addmm(b, states, W)  # b + W^T h for every h
        if self.visible == "gaussian":
            terms = states @ c + 0.5 * (top**2).sum(1) - 0.5 * float(b @ b)
            return float(torch.logsumexp(terms, 0)) + 0.5 * W.shape[1] * math.log(2 * math.pi)
        return float(torch.logsumexp(states @ c + F.softplus(top).sum(1), 0))

    def score_samples(self, X: Any) -> np.ndarray:
        """Bernoulli: scikit-learn's estimate ``n_features * log sigmoid(F(v~) - F(v))`` with one
        random bit of each row flipped (stochastic; see :meth:`pseudo_likelihood` for the full
        sum). Gaussian: ``-F(v)``, the log-density up to the model's constant ``log Z``
        (exact; subtract :meth:`log_partition` for the normalised log-density of a small model)."""
        if self.visible == "gaussian":
            return -self.free_energy(X)
        Xt = self._inputs(X)
        with torch.no_grad():
            idx = torch.randint(0, Xt.shape[1], (Xt.shape[0],), generator=self._gen, device=Xt.device)
            rows = torch.arange(Xt.shape[0], device=Xt.device)
            flipped = Xt.clone()
            flipped[rows, idx] = 1.0 - flipped[rows, idx]
            score = Xt.shape[1] * F.logsigmoid(self._free_energy(flipped) - self._free_energy(Xt))
        return score.cpu().numpy()

    # -- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = {"components_": self.components_, "intercept_hidden_": self.intercept_hidden_, "intercept_visible_": self.intercept_visible_, "h_samples_": self.h_samples_}
        return tensors, {"loss_curve_": list(self.loss_curve_)}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        for name, value in tensors.items():
            setattr(self, name, value)
        self.loss_curve_ = list(metadata.get("loss_curve_", []))
        self._W = None

    def __getstate__(self) -> dict[str, Any]:
        # The working tensors and the generator are rebuilt from the public attributes.
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k not in ("_W", "_b", "_c", "_vW", "_vb", "_vc", "_chain", "_gen", "_q", "_lr")}
