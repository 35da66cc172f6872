"""A Bernoulli restricted Boltzmann machine trained by contrastive divergence.

Visible units ``v`` (n_features) and hidden units ``h`` (n_components), all binary, with
the energy ``E(v, h) = -b.v - c.h - h.W.v``. Given one layer, the other factorises:

    P(h_j = 1 | v) = sigmoid(c_j + W_j . v)        P(v_i = 1 | h) = sigmoid(b_i + W^T_i . h)

and summing out h gives the free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j . v)``,
with ``P(v) = exp(-F(v)) / Z``. The log-likelihood gradient is a difference of two
expectations, ``<v h^T>_data - <v h^T>_model``; the second is estimated with a short
Gibbs chain (Hinton, 2002):

* CD-k starts the chain at the data and runs k steps;
* persistent CD (Tieleman, 2008) keeps one chain per batch row alive across updates.

Updates use momentum and L2 weight decay as in Hinton's "practical guide" (2010).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from groundup.progress import TrainingLog
from groundup.torch_utils import as_tensor, train_minibatches
from groundup.unsupervised._base import TorchEstimator, TransformerMixin, as_output
from groundup.validation import check_is_fitted, check_momentum, check_positive, check_unit_interval

__all__ = ["RBM"]


class RBM(TransformerMixin, TorchEstimator):
    """Bernoulli RBM with CD-k or persistent CD; scikit-learn's ``BernoulliRBM`` names.

    Parameters
    ----------
    n_components : int, default 256
        Number of hidden units.
    learning_rate : float, default 0.1
        Step size on the mean (per sample) gradient of a minibatch.
    batch_size : int, default 10
        Samples per update.
    n_iter : int, default 10
        Passes (epochs) over the training data.
    k : int, default 1
        Gibbs steps per update (CD-k).
    persistent : bool, default False
        Persistent CD: keep the negative chains between updates instead of restarting
        them at the data.
    momentum : float, default 0.0
        Fraction of the previous update added to the current one (0 <= momentum < 1).
    weight_decay : float, default 0.0
        L2 penalty on the weights (not the biases), per sample.
    verbose : int, default 0
        Print the reconstruction error after every epoch.
    random_state : int or None, default None
        Seed for the initial weights, the minibatch order and the Gibbs samples.
    device : str, default "auto"

    Attributes
    ----------
    components_ : (n_components, n_features) weights W.
    intercept_hidden_ : (n_components,) hidden biases c.
    intercept_visible_ : (n_features,) visible biases b.
    h_samples_ : (batch_size, n_components) the persistent chains' hidden state (PCD).
    loss_curve_ : list of float, mean squared reconstruction error after each epoch.

    Inputs must lie in [0, 1] (they are read as probabilities of the visible units);
    anything else raises a ``ValueError`` that suggests rescaling or binarising.
    """

    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        n_iter: int = 10,
        k: int = 1,
        persistent: bool = False,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        verbose: int = 0,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    # -- conditionals and sampling --------------------------------------------------------------
    def _hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.addmm(self._c, v, self._W.T))

    def _visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.addmm(self._b, h, self._W))

    def _sample(self, probs: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(probs, generator=self._gen)

    def _free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -b.v - sum_j softplus(c_j + W_j . v)`` for each row of ``v``."""
        return -(v @ self._b) - F.softplus(torch.addmm(self._c, v, self._W.T)).sum(1)

    # -- training -------------------------------------------------------------------------------
    def _cd_update(self, v0: torch.Tensor) -> torch.Tensor:
        """One CD-k (or PCD-k) update on the minibatch ``v0``; returns its reconstruction error."""
        ph0 = self._hidden_probs(v0)  # positive phase: hidden probabilities given the data
        h0 = self._sample(ph0)
        h = self._chain[: v0.shape[0]] if self.persistent else h0
        for step in range(self.k):  # negative phase: k steps of block Gibbs sampling
            pv = self._visible_probs(h)
            if step == 0 and not self.persistent:
                recon = pv  # the one-step reconstruction of the data, for the error we report
            vk = self._sample(pv)
            phk = self._hidden_probs(vk)
            if self.persistent or step < self.k - 1:
                h = self._sample(phk)
        if self.persistent:
            self._chain[: v0.shape[0]] = h
        n = v0.shape[0]
        # <v h>_data - <v h>_model, averaged over the batch; probabilities, not samples,
        # for the statistics wherever that lowers the variance (Hinton's guide, sec. 3).
        grad_W = (ph0.T @ v0 - phk.T @ vk) / n - self.weight_decay * self._W
        grad_b = (v0 - vk).mean(0)
        grad_c = (ph0 - phk).mean(0)
        for param, vel, grad in ((self._W, self._vW, grad_W), (self._b, self._vb, grad_b), (self._c, self._vc, grad_c)):
            vel.mul_(self.momentum).add_(grad, alpha=self.learning_rate)
            param.add_(vel)
        if self.persistent:  # the chain is not the data: reconstruct the data separately
            recon = self._visible_probs(h0)
        return ((v0 - recon) ** 2).mean()

    def _check_params(self) -> None:
        for name in ("n_components", "batch_size", "n_iter", "k"):
            check_positive(name, getattr(self, name), integer=True)
        check_positive("learning_rate", self.learning_rate)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_momentum(self.momentum)

    def _init_params(self, n_features: int, device: torch.device) -> None:
        self._gen = self._generator(device)
        # Small random weights break the symmetry between hidden units (N(0, 0.01^2), as
        # scikit-learn and Hinton's guide); biases start at zero.
        self._W = 0.01 * torch.randn(self.n_components, n_features, generator=self._gen, device=device)
        self._b = torch.zeros(n_features, device=device)
        self._c = torch.zeros(self.n_components, device=device)
        self._vW, self._vb, self._vc = torch.zeros_like(self._W), torch.zeros_like(self._b), torch.zeros_like(self._c)
        self._chain = torch.zeros(self.batch_size, self.n_components, device=device)

    def fit(self, X: Any, y: Any = None) -> "RBM":
        """Train on ``X`` (n_samples, n_features) with values in [0, 1]. Returns self."""
        self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=True, device=device)
        check_unit_interval(Xt, owner="RBM")
        self._init_params(Xt.shape[1], device)
        log = TrainingLog(self.verbose, name="RBM")
        with torch.no_grad():
            self.loss_curve_ = train_minibatches(
                self._cd_update,
                [Xt],
                epochs=self.n_iter,
                batch_size=self.batch_size,
                generator=self._gen,
                on_epoch_end=lambda epoch, loss: log.append(epoch=epoch + 1, reconstruction_error=loss),
                name="RBM",
            )
        self._publish()
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "RBM":
        """One CD update on the minibatch ``X`` (initialising the model on the first call)."""
        first = not hasattr(self, "components_")
        self._check_params()
        device = self._device()
        Xt = self._check_X(X, reset=first, device=device)
        check_unit_interval(Xt, owner="RBM")
        if first:
            self._init_params(Xt.shape[1], device)
            self.loss_curve_ = []
        else:
            self._restore_tensors(device)
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
        self._vW, self._vb, self._vc = torch.zeros_like(self._W), torch.zeros_like(self._b), torch.zeros_like(self._c)
        self._gen = self._generator(device)

    def _inputs(self, X: Any) -> torch.Tensor:
        device = self._device()
        Xt = self._check_X(X, reset=False, device=device)
        check_unit_interval(Xt, owner="RBM")
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
        """One step of block Gibbs sampling from ``v``: sample h, then a binary v."""
        Vt = self._inputs(v)
        with torch.no_grad():
            return as_output(self._sample(self._visible_probs(self._sample(self._hidden_probs(Vt)))), v)

    def sample(self, n_samples: int = 16, *, n_steps: int = 1000, init: Any = None) -> np.ndarray:
        """Visible probabilities after ``n_steps`` of Gibbs sampling from ``init`` (or noise).

        Each chain starts at a row of ``init`` or, when ``init`` is None, at uniform random
        binary images; the last step returns ``P(v = 1 | h)`` (smoother to look at).
        """
        check_is_fitted(self)
        check_positive("n_steps", n_steps, integer=True)
        if init is None:
            check_positive("n_samples", n_samples, integer=True)
            device = self._device()
            self._restore_tensors(device)
            v = torch.bernoulli(torch.full((n_samples, self.n_features_in_), 0.5, device=device), generator=self._gen)
        else:
            v = self._inputs(init)
        with torch.no_grad():
            for _ in range(n_steps - 1):
                v = self._sample(self._visible_probs(self._sample(self._hidden_probs(v))))
            return self._visible_probs(self._sample(self._hidden_probs(v))).cpu().numpy()

    def pseudo_likelihood(self, X: Any, *, batch_size: int = 64) -> np.ndarray:
        """Exact log pseudo-likelihood of each row: ``sum_i log P(v_i | v_-i)`` (nats).

        ``P(v_i | v_-i) = sigmoid(F(v with bit i flipped) - F(v))``, summed over every
        feature (not the one-random-bit estimate of :meth:`score_samples`). Flipping bit i
        shifts the hidden pre-activations by ``(1 - 2 v_i) W[:, i]``, so all flips of a
        batch are one broadcast. Grey values v are flipped to ``1 - v``, as scikit-learn does.
        """
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

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn's estimate: ``n_features * log sigmoid(F(v~) - F(v))`` with one random
        bit of each row flipped (stochastic; see :meth:`pseudo_likelihood` for the full sum)."""
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
        return {k: v for k, v in state.items() if k not in ("_W", "_b", "_c", "_vW", "_vb", "_vc", "_chain", "_gen")}
