"""The skeleton every deep agent shares (``dqn``, ``policy-gradient``): stepping one
environment or a vector of them (:class:`EnvRunner`), and :class:`DeepAgent`, which owns
``learn``, the learning-rate schedule, the agent's generator, and the persistence of networks
and optimizers. An algorithm writes only its own steps: ``_collect_step`` (act, step, keep
the experience) and ``_train_step`` (learn when due).

Checkpoints and exact resume are a separate concern: :mod:`groundup.agents.checkpoint`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from groundup.agents.base import Agent
from groundup.agents.environment import Callback, check_budget, make_callback, reset_env, step_envs
from groundup.agents.checkpoint import Checkpointable
from groundup.agents.exploration import linear_schedule
from groundup.agents.networks import ObservationEncoder, load_optimizer_state, optimizer_state
from groundup.progress import progress_bar as make_progress_bar
from groundup.torch_utils import resolve_device
from groundup.validation import check_choice, check_learning_rate, check_positive

__all__ = ["DeepAgent", "EnvRunner", "LR_SCHEDULES"]

LR_SCHEDULES = ("constant", "linear")


class EnvRunner:
    """Steps one ``gymnasium.Env`` or a ``VectorEnv`` the same way: a batch of encoded
    observations in ``obs``, a batch of actions to :meth:`step`, then :meth:`advance`.

    :meth:`step` returns the transition arrays; ``next_obs`` there is the true next state of
    each transition (the final observation when an episode ended), for bootstrapping.
    ``valid`` is False for the reset steps of a vector environment in Gymnasium's default
    ``NEXT_STEP`` autoreset mode, whose action is ignored and whose reward is 0.
    Finished episodes are listed in ``finished`` as ``(return, length)`` after each step.
    """

    def __init__(self, env: Any, encoder: ObservationEncoder, rng: np.random.Generator) -> None:
        self.env = env
        self.encoder = encoder
        self.rng = rng
        self.vector = isinstance(env, gym.vector.VectorEnv)
        self.n_envs = env.num_envs if self.vector else 1
        self.same_step = False
        if self.vector:
            mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
            mode = getattr(mode, "value", mode)
            if mode not in ("NextStep", "SameStep"):
                raise ValueError(f"vector environments must autoreset (NEXT_STEP or SAME_STEP mode); got autoreset_mode={mode!r}")
            self.same_step = mode == "SameStep"
        self.discrete_actions = isinstance(env.single_action_space if self.vector else env.action_space, spaces.Discrete)

    def reset(self) -> None:
        """Reset every environment with seeds drawn from the agent's generator."""
        raw, _ = reset_env(self.env, rng=self.rng)
        self.obs = self.encoder.encode(raw if self.vector else [raw])
        self.valid = np.ones(self.n_envs, dtype=bool)
        self.done = np.zeros(self.n_envs, dtype=bool)
        self.returns = np.zeros(self.n_envs)
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)
        self.finished: list[tuple[float, int]] = []

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(rewards, next_obs, terminated, truncated, valid, done)`` for ``actions``."""
        raw, rewards, terminated, truncated, info = step_envs(self.env, actions, self.vector, self.discrete_actions)
        self._next = self.encoder.encode(raw)
        next_obs = self._next
        done = terminated | truncated
        if self.same_step and done.any():  # the returned obs is already the reset one
            next_obs = next_obs.copy()
            for i in np.flatnonzero(done):
                next_obs[i] = self.encoder.encode([info["final_obs"][i]])[0]
        valid = self.valid
        self.returns += np.where(valid, rewards, 0.0)
        self.lengths += valid
        self.finished = []
        for i in np.flatnonzero(done & valid):
            self.finished.append((float(self.returns[i]), int(self.lengths[i])))
            self.returns[i], self.lengths[i] = 0.0, 0
        self.done = done & valid
        return rewards, next_obs, terminated, truncated, valid, self.done

    def advance(self) -> None:
        """Move on to the observation the next action is for (resetting a single
        environment whose episode just ended, with the next seed from the generator)."""
        if not self.vector and self.done[0]:
            self.reset()
            return
        self.obs = self._next
        if self.vector and not self.same_step:
            self.valid = ~self.done


class DeepAgent(Checkpointable, Agent):
    """Base of the torch agents: device, generator, the training skeleton, the learning-rate
    schedule, and the persistence of networks and optimizers (checkpoints:
    :class:`~groundup.agents.checkpoint.Checkpointable`).

    A subclass builds its networks inside :meth:`_init_networks` (seeded, so the same seed
    gives the same initial weights on any device), lists them in ``self._modules`` and its
    optimizers in ``self._optimizers`` (name -> object), and writes its own steps:
    ``_collect_step(runner)`` and ``_train_step(runner)`` (and ``_begin_run(runner)``).
    """

    family = "deep"
    observation_spaces = ("Box", "Discrete")
    supports_vector_env = True

    def __init__(self, env: Any, *, learning_rate: float, learning_rate_schedule: str, scale_observations: bool,
                 gamma: float, seed: int | None, verbose: int, device: str,
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device,
                         tensorboard_log=tensorboard_log, monitor_dir=monitor_dir)
        self.learning_rate = check_learning_rate(learning_rate)
        self.learning_rate_schedule = check_choice("learning_rate_schedule", learning_rate_schedule, LR_SCHEDULES)
        self.device_ = resolve_device(device)
        self.scale_observations = bool(scale_observations)
        self.encoder = ObservationEncoder(self.observation_space, scale=self.scale_observations)
        self._rng = np.random.default_rng(self.seed)
        self._modules: dict[str, torch.nn.Module] = {}
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self.n_updates = 0
        self._run: dict[str, Any] | None = None

    def _init_networks(self, build: Any) -> None:
        """Call ``build()`` with torch's generator seeded from ``seed`` (then put back), on
        the CPU, so initial weights do not depend on the device; then move to the device."""
        with torch.random.fork_rng(devices=[]):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            build()
        for module in self._modules.values():
            module.to(self.device_)

    # -- the learn() every deep agent shares ------------------------------------------------------
    def learn(self, total_timesteps: int, *, callback: Callback | None = None, progress_bar: bool = False,
              checkpoint_every: int | None = None, checkpoint_path: str | os.PathLike | None = None,
              tb_log_name: str | None = None) -> "DeepAgent":
        """Train for ``total_timesteps`` environment steps (counted over all environments).

        ``callback(locals_, globals_)`` runs after every step (SB3's convention); returning
        ``False`` stops. With ``checkpoint_every=N`` and ``checkpoint_path``, a checkpoint is
        written atomically at the first episode end after every N steps (and at the end);
        :func:`~groundup.agents.checkpoint.resume` continues an interrupted run from it.
        ``tb_log_name`` names this run's TensorBoard sub-folder (default: the class name, as
        SB3's ``"DQN"``) when the agent has a ``tensorboard_log``. Returns the agent.
        """
        total_timesteps, _ = check_budget(total_timesteps)
        if (checkpoint_every is None) != (checkpoint_path is None):
            raise ValueError("checkpoint_every and checkpoint_path go together: give both or neither")
        if checkpoint_every is not None:
            checkpoint_every = check_positive("checkpoint_every", checkpoint_every, integer=True)
            folder = Path(checkpoint_path).parent
            if not folder.is_dir():
                raise FileNotFoundError(f"checkpoint_path {str(checkpoint_path)!r}: folder {str(folder)!r} does not exist")
        env = self._require_env()
        run = {"start": self.num_timesteps, "total": total_timesteps, "end": self.num_timesteps + total_timesteps,
               "checkpoint_every": checkpoint_every, "checkpoint_path": None if checkpoint_path is None else str(checkpoint_path),
               "last_checkpoint": self.num_timesteps, "checkpoint_written": None, "done": False,
               "tb_log_name": tb_log_name}
        return self._learn_flushing_denormals(env, run, callback, progress_bar)

    def _learn_flushing_denormals(self, env: Any, run: dict[str, Any], callback: Callback | None,
                                  progress_bar: bool) -> "DeepAgent":
        """Run ``_learn`` with denormal floats flushed to zero (on x86 CPUs). Adam's second
        moments of weights whose gradients stay zero (dead ReLUs) decay into the denormal
        range, where arithmetic is far slower on x86 CPUs; flushing them changes nothing
        that matters and keeps training steps fast. The
        flag is process-wide in torch, so it is switched off again afterwards."""
        flushing = self.device_.type == "cpu" and torch.set_flush_denormal(True)
        try:
            return self._learn(env, run, callback, progress_bar)
        finally:
            if flushing:
                torch.set_flush_denormal(False)

    def _learn(self, env: Any, run: dict[str, Any], callback: Callback | None, progress_bar: bool) -> "DeepAgent":
        """The skeleton every deep agent shares: one environment step (of every environment)
        at a time, ``_collect_step`` then ``_train_step``, then the episodes that ended, the
        progress bar, the callback and the checkpoint when due."""
        self._run = run
        cb = make_callback(callback)
        runner = EnvRunner(env, self.encoder, self._rng)
        bar = make_progress_bar(run["end"] - self.num_timesteps, enabled=progress_bar, desc=self._name(), unit="step")
        try:
            next_log = self._start_telemetry(run.get("tb_log_name"))
            runner.reset()
            self._begin_run(runner)
            n_envs = runner.n_envs
            while self.num_timesteps < run["end"]:
                self._collect_step(runner)
                self._train_step(runner)
                self._record_finished(runner)
                if self.num_timesteps >= next_log:
                    next_log = self._log_telemetry()
                bar.update(n_envs)
                if cb is not None and not cb(locals()):
                    break
                self._maybe_checkpoint(runner, run)
                runner.advance()
            self._maybe_checkpoint(runner, run, final=True)
        finally:
            bar.close()
            self._close_telemetry()
            self._run = None
        return self

    # -- the algorithm's steps (overridden) ----------------------------------------------------------
    def _begin_run(self, runner: EnvRunner) -> None:
        """Prepare for this learn() call, after the environments' first reset."""

    def _collect_step(self, runner: EnvRunner) -> None:
        """Act in every environment once (``runner.step``), count the steps in
        ``num_timesteps`` and keep the experience (replay buffer, rollout)."""
        raise NotImplementedError

    def _train_step(self, runner: EnvRunner) -> None:
        """Learn from the experience when it is due (``runner.done`` holds the episode ends)."""
        raise NotImplementedError

    def _progress(self) -> float:
        """How much of the current learn() budget is spent, in [0, 1]."""
        run = self._run
        return min(1.0, (self.num_timesteps - run["start"]) / run["total"])

    def _telemetry_scalars(self) -> dict[str, float | None]:
        """``train/learning_rate`` as the optimizer has it now (the schedule's value) and
        ``train/loss``, the mean loss of the last update (read here, at the logging interval,
        so that training steps never wait for the device to report it)."""
        optimizer = next(iter(self._optimizers.values()), None)
        lr = optimizer.param_groups[0]["lr"] if optimizer is not None else self.learning_rate
        losses = getattr(self, "_last_losses", None)
        return {"train/learning_rate": lr, "train/loss": None if losses is None else float(losses.float().mean())}

    def _update_learning_rate(self) -> None:
        lr = self.learning_rate
        if self.learning_rate_schedule == "linear":
            lr = linear_schedule(self.learning_rate, 0.0, self._progress())
        for optimizer in self._optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = lr

    def _record_finished(self, runner: EnvRunner) -> None:
        for G, length in runner.finished:
            self._record_episode(G, length)

    def _check_loss(self, losses: torch.Tensor, what: str) -> None:
        """Stop with a clear error (and the last good checkpoint untouched) on NaN/inf."""
        if bool(torch.isfinite(losses).all()):
            return
        bad = losses.detach().reshape(-1)
        first = int((~torch.isfinite(bad)).nonzero()[0, 0])
        run = self._run or {}
        where = run.get("checkpoint_written")
        saved = (f"the last good checkpoint, {where!r}, holds step {run['last_checkpoint']}" if where
                 else "no checkpoint had been written")
        raise FloatingPointError(
            f"{self._name()}: the {what} loss became {float(bad[first])} at environment step {self.num_timesteps} "
            f"(update {self.n_updates + first + 1}); training stopped and {saved}. Lower learning_rate, "
            "clip gradients (max_grad_norm) or check the environment's observations and rewards for NaN/inf"
        )

    # -- persistence: networks, optimizers and the update count (checkpoints add the run) -----------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()
        for name, module in self._modules.items():
            for key, value in module.state_dict().items():
                tensors[f"net.{name}.{key}"] = value
        optimizers = {}
        for name, optimizer in self._optimizers.items():
            arrays, optimizers[name] = optimizer_state(optimizer, f"optim.{name}")
            tensors.update(arrays)
        # "algorithm" holds a subclass's own counters: the layout files already written have
        metadata.update(optimizers=optimizers, n_updates=self.n_updates, algorithm={})
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)
        for name, module in self._modules.items():
            head = f"net.{name}."
            state = {k[len(head):]: torch.from_numpy(np.array(v)) for k, v in tensors.items() if k.startswith(head)}
            try:
                module.load_state_dict(state)
            except RuntimeError as exc:
                raise ValueError(f"the {name} network's weights do not fit: {exc}") from None
        for name, optimizer in self._optimizers.items():
            doc = metadata.get("optimizers", {}).get(name)
            if doc is not None:
                load_optimizer_state(optimizer, f"optim.{name}", tensors, doc)
        self.n_updates = int(metadata.get("n_updates", 0))
        self._after_weights_changed()

    def _after_weights_changed(self) -> None:
        """Refresh whatever mirrors the weights (the NumPy acting copies)."""
