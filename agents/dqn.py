"""Deep Q-network (Mnih et al., 2015), with Double DQN (van Hasselt et al., 2016) and dueling
heads (Wang et al., 2016) as options. Hyper-parameter names are Stable-Baselines3's, so
RL Zoo's settings carry over unchanged. The defaults are not SB3's: they are RL Zoo's tuned
setting for Acrobot and LunarLander (the one Zoo shares between two tasks), used as one
setting for every task. SB3's own defaults (1e-4, one 32-transition update every 4 steps,
the target copied every 10,000 steps) learn too slowly to solve CartPole or Acrobot in
100k steps; this setting trains on every step with larger minibatches and a target
network that follows within 250 steps. ``agents.make("dqn", env, **SB3_DEFAULTS)`` gives
SB3's behaviour back.

The algorithm, one environment step at a time:

1. act ε-greedily on Q(S, ·; θ) (uniformly at random before ``learning_starts``);
2. store (S, A, R, S', terminated) in the replay buffer (a time-limit truncation is not
   a termination: its target still bootstraps from S');
3. every ``train_freq`` steps, take ``gradient_steps`` Adam steps on minibatches of the
   Huber loss between Q(S, A; θ) and the target
   y = R + γ (1 - terminated) max_a Q(S', a; θ⁻)   (Double DQN: Q(S', argmax_a Q(S', a; θ); θ⁻)),
   clipping the gradient norm to ``max_grad_norm``;
4. every ``target_update_interval`` steps, θ⁻ ← τ θ + (1 - τ) θ⁻.

Speed on small networks comes from three things: acting in NumPy on views of the weights
(:class:`~groundup.agents.networks.NumpyMLP`), sampling all of a training phase's minibatch
indices at once and moving them to the device in one transfer, and computing the targets of
the whole phase in one batched forward pass of the target network (it cannot change during
a phase: target updates happen between environment steps, as in SB3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from groundup.agents.deep import DeepAgent, EnvRunner
from groundup.agents.exploration import EpsilonSchedule
from groundup.agents.networks import NumpyMLP, check_activation, mlp
from groundup.torch_utils import make_optimizer
from groundup.validation import check_layer_sizes, check_positive, check_probability

__all__ = ["DQN", "QNetwork", "ReplayBuffer", "SB3_DEFAULTS"]

SB3_DEFAULTS: dict[str, Any] = dict(learning_rate=1e-4, buffer_size=1_000_000, learning_starts=100, batch_size=32,
                                    gradient_steps=1, target_update_interval=10_000, exploration_fraction=0.1,
                                    exploration_final_eps=0.05, net_arch=[64, 64])
"""Stable-Baselines3's DQN defaults where groundup's differ: ``agents.make("dqn", env,
**SB3_DEFAULTS)`` learns as SB3's ``DQN("MlpPolicy", env)`` does."""


class QNetwork(nn.Module):
    """Q(s, ·; θ): an MLP trunk and a linear head, or dueling value and advantage heads,
    Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')."""

    def __init__(self, in_dim: int, n_actions: int, net_arch: tuple[int, ...], activation: str, dueling: bool) -> None:
        super().__init__()
        self.dueling = dueling
        self.trunk = mlp(in_dim, net_arch, activation)
        if dueling:
            self.value = nn.Linear(net_arch[-1], 1)
            self.advantage = nn.Linear(net_arch[-1], n_actions)
        else:
            self.head = nn.Linear(net_arch[-1], n_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        if self.dueling:
            a = self.advantage(h)
            return self.value(h) + a - a.mean(dim=-1, keepdim=True)
        return self.head(h)


class ReplayBuffer:
    """A circular buffer of transitions in NumPy arrays (the oldest are overwritten)."""

    def __init__(self, buffer_size: int, obs_dim: int) -> None:
        self.buffer_size = buffer_size
        self.observations = np.zeros((buffer_size, obs_dim), dtype=np.float32)
        self.next_observations = np.zeros((buffer_size, obs_dim), dtype=np.float32)
        self.actions = np.zeros(buffer_size, dtype=np.int64)
        self.rewards = np.zeros(buffer_size, dtype=np.float32)
        self.terminated = np.zeros(buffer_size, dtype=np.float32)
        self.pos = 0
        self.size = 0

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> None:
        for i in range(len(actions)):
            p = self.pos
            self.observations[p] = obs[i]
            self.next_observations[p] = next_obs[i]
            self.actions[p] = actions[i]
            self.rewards[p] = rewards[i]
            self.terminated[p] = terminated[i]
            self.pos = (p + 1) % self.buffer_size
            self.size = min(self.size + 1, self.buffer_size)

    _fields = ("observations", "next_observations", "actions", "rewards", "terminated")

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name)[: self.size] for name in self._fields}

    def set_arrays(self, arrays: dict[str, np.ndarray], pos: int) -> None:
        size = len(arrays["actions"])
        if size > self.buffer_size:
            raise ValueError(f"the saved replay buffer holds {size} transitions, more than buffer_size={self.buffer_size}")
        for name in self._fields:
            getattr(self, name)[:size] = arrays[name]
        self.size, self.pos = size, int(pos)


class DQN(DeepAgent):
    """Deep Q-network for Discrete actions (SB3's names; RL Zoo's Acrobot/LunarLander setting as the defaults).

    Parameters
    ----------
    learning_rate
        Adam's step size (default 6.3e-4); ``learning_rate_schedule="linear"``
        decays it to 0 over each ``learn`` call.
    buffer_size
        Replay capacity in transitions (default 50 000).
    learning_starts
        Steps of uniformly random actions before training (default 0).
    batch_size
        Transitions per gradient step (default 128).
    tau
        Target update coefficient, 1 = hard copy (default 1.0).
    train_freq
        Train every this many (vector) environment steps (default 4).
    gradient_steps
        Gradient steps per training phase, -1 (the default) = as many as
        environment steps collected since the last phase: one per step.
    target_update_interval
        Environment steps between target updates (default 250).
    exploration_fraction, exploration_initial_eps, exploration_final_eps
        ε decays
        linearly from 1.0 to 0.1 over the first 12% of each ``learn`` call.
    max_grad_norm
        Gradient-norm clipping (default 10).
    net_arch, activation
        Hidden layer sizes (default [256, 256]) and "relu" or "tanh".
    double_q
        Double DQN targets (default False).
    dueling
        Dueling heads (default False).
    scale_observations
        Map a Box space's finite bounds to [-1, 1] (default False).
    device
        "auto" (CUDA, then MPS, then CPU), or a torch device name.
    """

    agent_id = "dqn"
    action_spaces = ("Discrete",)
    # RL Zoo's DQN space (rl_zoo3/hyperparams_opt.py), narrowed to the ranges that train at all
    search_space = {
        "learning_rate": ("log_uniform", 1e-5, 1e-2),
        "batch_size": ("categorical", [32, 64, 128, 256]),
        "buffer_size": ("categorical", [10_000, 50_000, 100_000, 1_000_000]),
        "gamma": ("categorical", [0.9, 0.95, 0.98, 0.99, 0.995, 0.999]),
        "exploration_fraction": ("uniform", 0.05, 0.5),
        "exploration_final_eps": ("uniform", 0.0, 0.2),
        "target_update_interval": ("categorical", [1, 100, 1000, 5000, 10_000]),
        "learning_starts": ("categorical", [0, 1000, 5000, 10_000]),
        "train_freq": ("categorical", [1, 4, 8, 16]),
        "gradient_steps": ("categorical", [1, -1]),
        "net_arch": ("categorical", [[64], [64, 64], [256, 256]]),
    }

    def __init__(self, env: Any, *, learning_rate: float = 6.3e-4, buffer_size: int = 50_000, learning_starts: int = 0,
                 batch_size: int = 128, tau: float = 1.0, gamma: float = 0.99, train_freq: int = 4, gradient_steps: int = -1,
                 target_update_interval: int = 250, exploration_fraction: float = 0.12, exploration_initial_eps: float = 1.0,
                 exploration_final_eps: float = 0.1, max_grad_norm: float = 10.0, net_arch: Any = (256, 256),
                 activation: str = "relu", double_q: bool = False, dueling: bool = False,
                 learning_rate_schedule: str = "constant", scale_observations: bool = False, seed: int | None = None,
                 verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, learning_rate=learning_rate, learning_rate_schedule=learning_rate_schedule,
                         scale_observations=scale_observations, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.buffer_size = check_positive("buffer_size", buffer_size, integer=True)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        if self.buffer_size < self.batch_size:
            raise ValueError(f"buffer_size ({buffer_size}) must be at least batch_size ({batch_size}): "
                             "a minibatch is drawn from the replay buffer")
        self.learning_starts = check_positive("learning_starts", learning_starts, integer=True, allow_zero=True)
        self.tau = check_probability("tau", tau)
        if self.tau == 0.0:
            raise ValueError("tau must be in (0, 1]; tau=0 would never update the target network")
        self.train_freq = check_positive("train_freq", train_freq, integer=True)
        if gradient_steps != -1:
            check_positive("gradient_steps", gradient_steps, integer=True)
        self.gradient_steps = int(gradient_steps)
        self.target_update_interval = check_positive("target_update_interval", target_update_interval, integer=True)
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self._schedule = EpsilonSchedule(None, exploration_initial_eps, exploration_final_eps, exploration_fraction)
        self.exploration_rate = self._schedule.initial
        self.max_grad_norm = check_positive("max_grad_norm", max_grad_norm)
        self.net_arch = list(check_layer_sizes("net_arch", net_arch))
        self.activation = check_activation(activation)
        self.double_q = bool(double_q)
        self.dueling = bool(dueling)
        self.n_actions = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self.replay_buffer = ReplayBuffer(self.buffer_size, self.encoder.dim)

        def build() -> None:
            self.q_net = QNetwork(self.encoder.dim, self.n_actions, tuple(self.net_arch), self.activation, self.dueling)
            self.q_net_target = QNetwork(self.encoder.dim, self.n_actions, tuple(self.net_arch), self.activation, self.dueling)
            self.q_net_target.load_state_dict(self.q_net.state_dict())
            self.q_net_target.requires_grad_(False)

        self._init_networks(build)
        self._modules = {"q_net": self.q_net, "q_net_target": self.q_net_target}
        # the fused implementation updates in place, with no temporaries: on small nets, where
        # the cost of each small op dominates, it is much faster than the default
        fused = self.device_.type in ("cpu", "cuda")
        self.optimizer = make_optimizer(self.q_net.parameters(), "adam", learning_rate=self.learning_rate,
                                        optimizer_kwargs={"fused": fused or None})
        self._optimizers = {"q_net": self.optimizer}
        self._after_weights_changed()

    def _after_weights_changed(self) -> None:
        # greedy actions only need argmax_a Q = argmax_a A for dueling heads
        head = self.q_net.advantage if self.dueling else self.q_net.head
        self._np_trunk, self._np_head = NumpyMLP(self.q_net.trunk), NumpyMLP(head)

    # -- acting ------------------------------------------------------------------------------------
    def _greedy(self, obs: np.ndarray) -> np.ndarray:
        return self._np_head(self._np_trunk(obs)).argmax(axis=1)

    def _explore(self, obs: np.ndarray, epsilon: float) -> np.ndarray:
        """ε-greedy for a batch of encoded observations (action indices)."""
        n = len(obs)
        explore = self._rng.random(n) < epsilon
        actions = self._rng.integers(self.n_actions, size=n)
        if not explore.all():
            actions = np.where(explore, actions, self._greedy(obs))
        return actions

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """Greedy actions for one observation or a batch (SB3's VecEnv convention);
        ``deterministic=False`` acts ε-greedily with the current exploration rate."""
        obs, batched = self.encoder.batch(observation)
        actions = self._greedy(obs) if deterministic else self._explore(obs, self.exploration_rate)
        actions = actions.astype(np.int64) + self._action_start
        return (actions if batched else actions[0]), None

    def q_values(self, observation: Any) -> np.ndarray:
        """Q(s, ·; θ) for one observation ``(n_actions,)`` or a batch."""
        obs, batched = self.encoder.batch(observation)
        with torch.no_grad():
            q = self.q_net(torch.as_tensor(obs, device=self.device_)).cpu().numpy()
        return q if batched else q[0]

    # -- learning: the two steps of the shared skeleton (DeepAgent._learn) -------------------------
    def _begin_run(self, runner: EnvRunner) -> None:
        n_envs = runner.n_envs
        self._gradient_steps_per_phase = self.gradient_steps if self.gradient_steps > 0 else self.train_freq * n_envs
        self._target_every = max(self.target_update_interval // n_envs, 1)

    def _collect_step(self, runner: EnvRunner) -> None:
        """Act ε-greedily (uniformly before ``learning_starts``), step, store the transitions."""
        n_envs = runner.n_envs
        self.exploration_rate = self._schedule.value(self._progress())
        obs = runner.obs
        if self.num_timesteps < self.learning_starts:
            actions = self._rng.integers(self.n_actions, size=n_envs)
        else:
            actions = self._explore(obs, self.exploration_rate)
        rewards, next_obs, terminated, truncated, valid, done = runner.step(actions + self._action_start)
        self.num_timesteps += n_envs
        if valid.all():
            self.replay_buffer.add(obs, actions, rewards, next_obs, terminated)
        else:
            self.replay_buffer.add(obs[valid], actions[valid], rewards[valid], next_obs[valid], terminated[valid])

    def _train_step(self, runner: EnvRunner) -> None:
        """Every ``train_freq`` steps, a training phase; every ``target_update_interval``, θ⁻."""
        vector_steps = self.num_timesteps // runner.n_envs
        if (self.num_timesteps > self.learning_starts and vector_steps % self.train_freq == 0
                and self.replay_buffer.size >= self.batch_size):
            self._update_learning_rate()
            self.train(self._gradient_steps_per_phase)
        if vector_steps % self._target_every == 0:
            self._update_target()

    def train(self, gradient_steps: int) -> None:
        """``gradient_steps`` minibatch updates of Q(·; θ) towards the TD targets."""
        buffer, device = self.replay_buffer, self.device_
        idx = self._rng.integers(buffer.size, size=(gradient_steps, self.batch_size))
        S = torch.as_tensor(buffer.observations[idx], device=device)
        A = torch.as_tensor(buffer.actions[idx], device=device).unsqueeze(-1)
        R = torch.as_tensor(buffer.rewards[idx], device=device)
        S_next = torch.as_tensor(buffer.next_observations[idx], device=device)
        not_terminal = 1.0 - torch.as_tensor(buffer.terminated[idx], device=device)
        if not self.double_q:  # θ⁻ is fixed during the phase: every target in one pass
            y_all = self.td_target(R, S_next, not_terminal)
        losses = []
        params = list(self.q_net.parameters())
        for g in range(gradient_steps):
            y = self.td_target(R[g], S_next[g], not_terminal[g]) if self.double_q else y_all[g]
            q = self.q_net(S[g]).gather(1, A[g]).squeeze(1)
            loss = F.smooth_l1_loss(q, y)  # the Huber loss
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, self.max_grad_norm)
            self.optimizer.step()
            losses.append(loss.detach())
        self._last_losses = torch.stack(losses)  # train/loss: their mean, as SB3 logs its last phase's
        self._check_loss(self._last_losses, "TD (Huber)")
        self.n_updates += gradient_steps
        if device.type != "cpu":
            self._after_weights_changed()

    @torch.no_grad()
    def td_target(self, R: torch.Tensor, S_next: torch.Tensor, not_terminal: torch.Tensor) -> torch.Tensor:
        """y = R + γ (1 - terminated) Q(S', A*; θ⁻), with A* = argmax_a Q(S', a; θ⁻) (DQN) or
        argmax_a Q(S', a; θ) (Double DQN: the online network chooses, the target evaluates)."""
        q_target = self.q_net_target(S_next)
        if self.double_q:
            A_star = self.q_net(S_next).argmax(dim=-1, keepdim=True)
            q_next = q_target.gather(-1, A_star).squeeze(-1)
        else:
            q_next = q_target.max(dim=-1).values
        return R + self.gamma * not_terminal * q_next

    def _update_target(self) -> None:
        with torch.no_grad():
            if self.tau == 1.0:
                for target, online in zip(self.q_net_target.parameters(), self.q_net.parameters()):
                    target.copy_(online)
            else:
                for target, online in zip(self.q_net_target.parameters(), self.q_net.parameters()):
                    target.mul_(1.0 - self.tau).add_(online, alpha=self.tau)

    # -- persistence -----------------------------------------------------------------------------------
    def _telemetry_scalars(self) -> dict[str, float | None]:
        values = super()._telemetry_scalars()
        values["rollout/exploration_rate"] = self.exploration_rate
        return values

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        metadata["algorithm"].update(exploration_rate=self.exploration_rate, buffer_pos=self.replay_buffer.pos)
        if self._checkpointing:
            tensors.update({f"run.replay.{k}": v for k, v in self.replay_buffer.arrays().items()})
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        counters = metadata.get("algorithm", {})
        self.exploration_rate = float(counters.get("exploration_rate", self.exploration_rate))
        replay = {k[len("run.replay."):]: v for k, v in tensors.items() if k.startswith("run.replay.")}
        if "run" in metadata and replay:
            self.replay_buffer.set_arrays(replay, int(counters.get("buffer_pos", 0)))
