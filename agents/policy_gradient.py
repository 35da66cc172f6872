"""Policy gradients (Sutton & Barto, chapter 13): REINFORCE with a learned baseline, and an
n-step actor-critic (A2C-style: several environments through ``gymnasium.vector``, an
entropy bonus, generalised advantage estimation), for categorical or Gaussian actions.

Both modes take the same gradient step on a batch of experience,

    θ ← θ + α ∇θ mean_t[ Â_t ln π(A_t | S_t, θ) + β H(π(· | S_t, θ)) ]
    w ← w - α ∇w mean_t[ (G_t - v̂(S_t, w))² ] · vf_coef

and differ in how the return G_t and the advantage Â_t = G_t - v̂(S_t, w) are formed:

- ``mode="reinforce"`` (section 13.4): after each episode, G_t is the discounted return to
  the episode's end (bootstrapped with γ v̂(S_T) only when a time limit truncated it);
- ``mode="actor-critic"`` (section 13.5): every ``n_steps`` steps of every environment,
  Â_t is the GAE(λ) sum of TD errors δ_t = R + γ v̂(S') - v̂(S) (λ = 1: the n-step return),
  bootstrapped from v̂ at the end of the rollout.

The book's γ^t factor on the policy-gradient term is left out, as in every practical
implementation. Actor and critic are separate networks, each with its gradient norm clipped
to ``max_grad_norm``. Continuous actions are Gaussian with a learned state-independent
standard deviation, or, with ``use_sde=True``, generalised state-dependent exploration
(gSDE, Raffin et al., 2022): the noise φ(s)ᵀε is a linear function of the actor's last
hidden features φ(s) whose weights ε are resampled every ``sde_sample_freq`` steps, so the
exploration is consistent over many steps, which Mountain Car's sparse goal needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from groundup.agents.deep import DeepAgent, EnvRunner
from groundup.agents.networks import NumpyMLP, RunningMeanStd, check_activation, mlp
from groundup.torch_utils import make_optimizer
from groundup.validation import check_choice, check_layer_sizes, check_number, check_positive, check_probability

__all__ = ["PolicyGradient", "Actor", "Critic", "MODES", "OPTIMIZERS"]

MODES = ("actor-critic", "reinforce")
OPTIMIZERS = ("adam", "rmsprop")
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _orthogonal_init(module: nn.Module, head: nn.Linear, head_gain: float) -> None:
    """SB3's initialisation: orthogonal weights with gain √2 in the trunk, ``head_gain`` in
    the output layer, zero biases."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=head_gain if layer is head else math.sqrt(2))
            nn.init.zeros_(layer.bias)


class Actor(nn.Module):
    """π(a | s, θ): categorical logits, or a Gaussian mean with a learned log standard
    deviation (a vector, or with gSDE a ``(hidden, action_dim)`` matrix)."""

    def __init__(self, in_dim: int, net_arch: tuple[int, ...], activation: str, action_space: spaces.Space,
                 log_std_init: float, use_sde: bool) -> None:
        super().__init__()
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.use_sde = use_sde
        self.trunk = mlp(in_dim, net_arch, activation)
        hidden = net_arch[-1]
        if self.discrete:
            self.head = nn.Linear(hidden, int(action_space.n))
        else:
            action_dim = int(np.prod(action_space.shape))
            self.head = nn.Linear(hidden, action_dim)
            shape = (hidden, action_dim) if use_sde else (action_dim,)
            self.log_std = nn.Parameter(torch.full(shape, float(log_std_init)))

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ln π(A | S) and the entropy H(π(· | S)) for a batch."""
        h = self.trunk(obs)
        out = self.head(h)
        if self.discrete:
            log_p = F.log_softmax(out, dim=-1)
            return log_p.gather(1, actions.long().unsqueeze(1)).squeeze(1), -(log_p.exp() * log_p).sum(-1)
        if self.use_sde:  # Var[φ(s)ᵀε] = Σ_i φ_i(s)² σ_ij²; SB3 keeps φ out of this gradient
            std = torch.sqrt((h.detach() ** 2) @ torch.exp(2 * self.log_std) + 1e-6)
            log_std = torch.log(std)
        else:
            log_std = self.log_std.expand_as(out)
            std = torch.exp(log_std)
        log_prob = (-0.5 * ((actions - out) / std) ** 2 - log_std - _LOG_SQRT_2PI).sum(-1)
        entropy = (0.5 + _LOG_SQRT_2PI + log_std).sum(-1)
        return log_prob, entropy


class Critic(nn.Module):
    """v̂(s, w): an MLP with one output."""

    def __init__(self, in_dim: int, net_arch: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.trunk = mlp(in_dim, net_arch, activation)
        self.head = nn.Linear(net_arch[-1], 1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(obs)).squeeze(-1)


class PolicyGradient(DeepAgent):
    """REINFORCE with a learned baseline, or an n-step actor-critic (SB3's A2C names).

    Parameters
    ----------
    mode
        ``"actor-critic"`` (default) or ``"reinforce"`` (one environment; an update
        after every episode).
    learning_rate
        The optimizer's step size (default 7e-4); ``learning_rate_schedule=
        "linear"`` decays it to 0 over each ``learn`` call.
    n_steps
        Steps per environment between actor-critic updates (default 5).
    gae_lambda
        λ of generalised advantage estimation (default 1.0, the n-step return).
    ent_coef
        Weight β of the entropy bonus (default 0). vf_coef: weight of the value
        loss (default 0.5). max_grad_norm: per-network gradient-norm clip (default 0.5).
    normalize_advantage
        Standardise Â over each batch (default False).
    net_arch, activation
        Hidden layers of both networks (default [64, 64], "tanh").
    ortho_init
        SB3's orthogonal initialisation (default True).
    log_std_init
        Initial ln σ of Gaussian actions (default 0).
    use_sde, sde_sample_freq
        GSDE exploration for Box actions; resample ε every this
        many steps (default -1: once per rollout, or per episode with REINFORCE).
    normalize_observations
        Standardise inputs with running statistics, as SB3's
        VecNormalize does (default False). scale_observations: map a Box space's finite
        bounds to [-1, 1] instead, a fixed map (default False).
    normalize_rewards
        Divide each reward by the running standard deviation of the
        discounted return, clipped to ±10, as VecNormalize's ``norm_reward`` does
        (default True); the episode returns reported stay unscaled. It keeps the
        critic's targets of order one whatever the task's reward scale (+1 a step on
        CartPole, -1 a step on Acrobot and Mountain Car, hundreds on LunarLander), so
        that neither the value loss nor the advantages swamp the clipped gradient step;
        without it, SB3's A2C settings solve some tasks in some seeds only.
    optimizer
        ``"adam"`` (default) or ``"rmsprop"`` (SB3 A2C's, alpha=0.99, eps=1e-5).
    device
        "auto" (CUDA, then MPS, then CPU), or a torch device name.
    """

    agent_id = "policy-gradient"
    action_spaces = ("Discrete", "Box")
    _param_attributes = {"optimizer": "optimizer_name"}
    # a file from before normalize_rewards existed learned from the rewards as they came
    _params_added = {"normalize_rewards": False}
    # RL Zoo's A2C space (rl_zoo3/hyperparams_opt.py); the mode stays the user's choice
    search_space = {
        "learning_rate": ("log_uniform", 1e-5, 1e-2),
        "n_steps": ("categorical", [5, 8, 16, 32, 64, 128]),
        "gamma": ("categorical", [0.9, 0.95, 0.98, 0.99, 0.995, 0.999]),
        "gae_lambda": ("categorical", [0.8, 0.9, 0.95, 0.98, 1.0]),
        "ent_coef": ("log_uniform", 1e-8, 0.1),
        "vf_coef": ("uniform", 0.1, 1.0),
        "max_grad_norm": ("categorical", [0.3, 0.5, 1.0, 2.0, 5.0]),
        "normalize_advantage": ("categorical", [False, True]),
        "optimizer": ("categorical", ["adam", "rmsprop"]),
        "learning_rate_schedule": ("categorical", ["constant", "linear"]),
        "net_arch": ("categorical", [[64, 64], [256, 256]]),
        "activation": ("categorical", ["tanh", "relu"]),
    }

    def __init__(self, env: Any, *, mode: str = "actor-critic", learning_rate: float = 7e-4, n_steps: int = 5,
                 gamma: float = 0.99, gae_lambda: float = 1.0, ent_coef: float = 0.0, vf_coef: float = 0.5,
                 max_grad_norm: float = 0.5, normalize_advantage: bool = False, net_arch: Any = (64, 64),
                 activation: str = "tanh", ortho_init: bool = True, log_std_init: float = 0.0, use_sde: bool = False,
                 sde_sample_freq: int = -1, normalize_observations: bool = False, normalize_rewards: bool = True,
                 optimizer: str = "adam", learning_rate_schedule: str = "constant", scale_observations: bool = False,
                 seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, learning_rate=learning_rate, learning_rate_schedule=learning_rate_schedule,
                         scale_observations=scale_observations, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        check_choice("mode", mode, MODES)
        if mode == "reinforce" and self.n_envs != 1:
            raise ValueError(f"mode='reinforce' learns from whole episodes of one environment; got a vector environment "
                             f"of {self.n_envs} (use mode='actor-critic' for several environments)")
        self.mode = mode
        self.n_steps = check_positive("n_steps", n_steps, integer=True)
        self.gae_lambda = check_probability("gae_lambda", gae_lambda)
        self.ent_coef = check_positive("ent_coef", ent_coef, allow_zero=True)
        self.vf_coef = check_positive("vf_coef", vf_coef)
        self.max_grad_norm = check_positive("max_grad_norm", max_grad_norm)
        self.normalize_advantage = bool(normalize_advantage)
        self.net_arch = list(check_layer_sizes("net_arch", net_arch))
        self.activation = check_activation(activation)
        self.ortho_init = bool(ortho_init)
        self.log_std_init = check_number("log_std_init", log_std_init)
        self.discrete = isinstance(self.action_space, spaces.Discrete)
        if use_sde and self.discrete:
            raise ValueError("use_sde=True is for Box (continuous) action spaces; this one is Discrete")
        self.use_sde = bool(use_sde)
        if sde_sample_freq != -1:
            check_positive("sde_sample_freq", sde_sample_freq, integer=True)
        self.sde_sample_freq = int(sde_sample_freq)
        self.normalize_observations = bool(normalize_observations)
        check_choice("optimizer", optimizer, OPTIMIZERS)
        self.optimizer_name = optimizer  # the hyper-parameter ``optimizer``; self.optimizer is the torch optimizer
        self.obs_rms = RunningMeanStd(self.encoder.dim) if self.normalize_observations else None
        self.normalize_rewards = bool(normalize_rewards)
        self.ret_rms = RunningMeanStd(1) if self.normalize_rewards else None
        self._returns: np.ndarray | None = None  # each environment's running discounted return
        if not self.discrete:
            self._low = self.action_space.low.astype(np.float32)
            self._high = self.action_space.high.astype(np.float32)

        def build() -> None:
            arch = tuple(self.net_arch)
            self.actor = Actor(self.encoder.dim, arch, self.activation, self.action_space, self.log_std_init, self.use_sde)
            self.critic = Critic(self.encoder.dim, arch, self.activation)
            if self.ortho_init:
                _orthogonal_init(self.actor, self.actor.head, 0.01)
                _orthogonal_init(self.critic, self.critic.head, 1.0)

        self._init_networks(build)
        self._modules = {"actor": self.actor, "critic": self.critic}
        params = list(self.actor.parameters()) + list(self.critic.parameters())
        fused = (self.device_.type in ("cpu", "cuda")) or None
        settings = {"fused": fused} if optimizer == "adam" else {"alpha": 0.99, "eps": 1e-5}  # RMSprop as SB3's A2C
        self.optimizer = make_optimizer(params, optimizer, learning_rate=self.learning_rate, optimizer_kwargs=settings)
        self._optimizers = {"policy": self.optimizer}
        self._rollout: list[tuple[np.ndarray, ...]] = []
        self._exploration: np.ndarray | None = None  # gSDE's ε, one matrix per environment
        self._after_weights_changed()

    @property
    def optimizer_(self) -> torch.optim.Optimizer:
        """The torch optimizer (the old name of :attr:`optimizer`)."""
        return self.optimizer

    def _after_weights_changed(self) -> None:
        self._np_trunk, self._np_head = NumpyMLP(self.actor.trunk), NumpyMLP(self.actor.head)
        if not self.discrete:
            self._np_log_std = self.actor.log_std.detach().cpu().numpy()

    # -- acting ----------------------------------------------------------------------------------
    def _normalize(self, obs: np.ndarray) -> np.ndarray:
        return self.obs_rms.normalize(obs) if self.obs_rms is not None else obs

    def _sample_exploration(self, n_envs: int) -> None:
        """gSDE: draw ε ~ N(0, σ²) for each environment, ``(n_envs, hidden, action_dim)``."""
        sigma = np.exp(self._np_log_std)
        self._exploration = (self._rng.standard_normal((n_envs,) + sigma.shape) * sigma).astype(np.float32)

    def _act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        """Actions for a batch of (normalised) observations, from π or its mode."""
        h = self._np_trunk(obs)
        out = self._np_head(h)
        if self.discrete:
            if deterministic:
                return out.argmax(axis=1)
            p = np.exp(out - out.max(axis=1, keepdims=True))
            cdf = np.cumsum(p, axis=1)
            u = self._rng.random((len(out), 1)) * cdf[:, -1:]
            return np.minimum((cdf < u).sum(axis=1), out.shape[1] - 1)
        if deterministic:
            return out
        if self.use_sde:
            if self._exploration is None or len(self._exploration) != len(out):
                self._sample_exploration(len(out))
            return out + np.einsum("nh,nha->na", h, self._exploration)
        return out + np.exp(self._np_log_std) * self._rng.standard_normal(out.shape).astype(np.float32)

    def _to_env(self, actions: np.ndarray) -> np.ndarray:
        if self.discrete:
            return actions + int(self.action_space.start)
        return np.clip(actions, self._low, self._high).reshape((len(actions),) + self.action_space.shape)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The most probable action (the Gaussian mean, clipped to the bounds) for one
        observation or a batch; ``deterministic=False`` samples from π."""
        obs, batched = self.encoder.batch(observation)
        actions = self._to_env(self._act(self._normalize(obs), deterministic))
        return (actions if batched else actions[0]), None

    # -- learning: the two steps of the shared skeleton (DeepAgent._learn) -------------------------
    def _begin_run(self, runner: EnvRunner) -> None:
        if self.use_sde and (self._exploration is None or len(self._exploration) != runner.n_envs):
            self._sample_exploration(runner.n_envs)

    def _collect_step(self, runner: EnvRunner) -> None:
        """Sample A ~ π(·|S) in every environment, step, add the transitions to the rollout."""
        rms = self.obs_rms
        if rms is not None:
            rms.update(runner.obs[runner.valid] if not runner.valid.all() else runner.obs)
        obs = self._normalize(runner.obs)
        actions = self._act(obs, deterministic=False)
        rewards, next_obs, terminated, truncated, valid, done = runner.step(self._to_env(actions))
        if self.ret_rms is not None:
            rewards = self._scale_rewards(rewards, valid, done)
        self.num_timesteps += runner.n_envs
        self._rollout.append((obs, actions.astype(np.float32), rewards, self._normalize(next_obs), terminated, done, valid))

    def _train_step(self, runner: EnvRunner) -> None:
        """A gradient step after each episode (REINFORCE) or every ``n_steps`` (actor-critic);
        gSDE's noise is resampled after it, or every ``sde_sample_freq`` steps."""
        n_envs = runner.n_envs
        reinforce = self.mode == "reinforce"
        if reinforce and runner.done[0] or not reinforce and len(self._rollout) == self.n_steps:
            self._update_learning_rate()
            self.train()
            if self.use_sde:
                self._sample_exploration(n_envs)
        elif self.use_sde and self.sde_sample_freq > 0 and (self.num_timesteps // n_envs) % self.sde_sample_freq == 0:
            self._sample_exploration(n_envs)

    def _scale_rewards(self, rewards: np.ndarray, valid: np.ndarray, done: np.ndarray) -> np.ndarray:
        """R / sqrt(Var[G] + 1e-8), clipped, where G is each environment's running discounted
        return (VecNormalize's scaling: the critic's targets stay of order one whatever the
        reward scale, e.g. -1 a step for 200 steps on MountainCar)."""
        if self._returns is None or len(self._returns) != len(rewards):
            self._returns = np.zeros(len(rewards))
        self._returns = self._returns * self.gamma + rewards
        self.ret_rms.update(self._returns[valid][:, None])
        self._returns[done] = 0.0
        clip = self.ret_rms.clip
        return np.clip(rewards / np.sqrt(self.ret_rms.var[0] + 1e-8), -clip, clip)

    def _advantages(self, rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray, terminated: np.ndarray,
                    done: np.ndarray) -> np.ndarray:
        """GAE(λ): Â_t = δ_t + γλ(1 - done_t) Â_{t+1}, δ_t = R_{t+1} + γ(1 - terminated_t) v̂(S_{t+1}) - v̂(S_t).
        A truncated episode bootstraps from v̂ of its last state; the sum stops at any episode end."""
        lam = 1.0 if self.mode == "reinforce" else self.gae_lambda
        gamma = self.gamma
        delta = rewards + gamma * (1.0 - terminated) * next_values - values
        advantages = np.zeros_like(delta)
        running = np.zeros(delta.shape[1])
        for t in range(len(delta) - 1, -1, -1):
            running = delta[t] + gamma * lam * (1.0 - done[t]) * running
            advantages[t] = running
        return advantages

    def train(self) -> None:
        """One gradient step on the collected rollout (or episode), then forget it."""
        obs, actions, rewards, next_obs, terminated, done, valid = (np.stack(x) for x in zip(*self._rollout))
        self._rollout = []
        T, n = rewards.shape
        device = self.device_
        S = torch.as_tensor(obs.reshape(T * n, -1), device=device)
        A = torch.as_tensor(actions.reshape((T * n,) + actions.shape[2:]), device=device)
        values = self.critic(S)
        with torch.no_grad():
            next_values = self.critic(torch.as_tensor(next_obs.reshape(T * n, -1), device=device))
        v_old = values.detach().cpu().numpy().reshape(T, n).astype(np.float64)
        v_next = next_values.cpu().numpy().reshape(T, n).astype(np.float64)
        advantages = self._advantages(rewards, v_old, v_next, terminated.astype(np.float64), done.astype(np.float64))
        returns = advantages + v_old  # G_t, the critic's regression target
        mask = valid.reshape(-1)
        adv = advantages.reshape(-1)[mask]
        if self.normalize_advantage and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        idx = torch.as_tensor(np.flatnonzero(mask), device=device)
        adv_t = torch.as_tensor(adv, dtype=torch.float32, device=device)
        G = torch.as_tensor(returns.reshape(-1)[mask], dtype=torch.float32, device=device)
        log_prob, entropy = self.actor.log_prob_entropy(S[idx], A[idx])
        policy_loss = -(adv_t * log_prob).mean()
        value_loss = F.mse_loss(values[idx], G)
        loss = policy_loss + self.vf_coef * value_loss - self.ent_coef * entropy.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._last_losses = loss.detach()  # train/loss
        nn.utils.clip_grad_norm_(list(self.actor.parameters()), self.max_grad_norm)
        nn.utils.clip_grad_norm_(list(self.critic.parameters()), self.max_grad_norm)
        self._check_loss(torch.stack([policy_loss.detach(), value_loss.detach()]).max().reshape(1), "policy-gradient")
        self.optimizer.step()
        self.n_updates += 1
        if device.type != "cpu":
            self._after_weights_changed()
        elif not self.discrete:
            self._np_log_std = self.actor.log_std.detach().numpy()

    # -- persistence -----------------------------------------------------------------------------------
    _rollout_fields = ("obs", "actions", "rewards", "next_obs", "terminated", "done", "valid")

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        for prefix, rms in (("obs", self.obs_rms), ("ret", self.ret_rms)):
            if rms is not None:
                tensors.update({f"learned.{prefix}_mean": rms.mean, f"learned.{prefix}_var": rms.var,
                                f"learned.{prefix}_count": np.array([rms.count])})
        if self._checkpointing:  # the run in progress: partial rollout, gSDE noise, discounted returns
            if self._rollout:
                for name, column in zip(self._rollout_fields, zip(*self._rollout)):
                    tensors[f"run.rollout.{name}"] = np.stack(column)
            if self._exploration is not None:
                tensors["run.sde_exploration"] = self._exploration
            if self._returns is not None:
                tensors["run.discounted_returns"] = self._returns
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        for prefix, rms in (("obs", self.obs_rms), ("ret", self.ret_rms)):
            if rms is not None and f"learned.{prefix}_mean" in tensors:
                rms.mean = np.array(tensors[f"learned.{prefix}_mean"], dtype=np.float64)
                rms.var = np.array(tensors[f"learned.{prefix}_var"], dtype=np.float64)
                rms.count = float(tensors[f"learned.{prefix}_count"][0])
        if "run" not in metadata:
            return
        if "run.rollout.obs" in tensors:
            columns = [np.array(tensors[f"run.rollout.{name}"]) for name in self._rollout_fields]
            self._rollout = [tuple(c[t] for c in columns) for t in range(len(columns[0]))]
        if "run.sde_exploration" in tensors:
            self._exploration = np.array(tensors["run.sde_exploration"])
        if "run.discounted_returns" in tensors:
            self._returns = np.array(tensors["run.discounted_returns"], dtype=np.float64)
