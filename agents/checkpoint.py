"""The state of a deep agent's training run, written once for ``dqn`` and ``policy-gradient``:
stepping environments, random-number generators, save/load of networks and optimizers,
checkpoints and exact resume.

Exact resume works like this. Every random choice of the agent (exploration, minibatch
indices, sampled actions, and the seed of every episode's ``reset``) comes from the agent's
own ``numpy.random.Generator``. A checkpoint is taken at an episode boundary, after the
step's learning and before the next ``reset``; it holds the weights, the optimizer state,
the counters, the generator's state (and Python's, NumPy's and torch's global states) and
the replay buffer or partial rollout. Resuming loads all of that and resets the
environment with the next seed from the restored generator, which is exactly what the
uninterrupted run does at that point, so on the CPU both end with identical weights.

With a ``gymnasium.vector`` environment the sub-environments are mid-episode at any moment
and their internal state cannot be saved in general: checkpoints are then taken when due,
and a resumed run continues from the saved weights, optimizer, counters and buffers with
freshly reset environments (not bit-identical to an uninterrupted run).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from groundup.agents.base import Agent, Callback, check_budget, check_learning_rate, check_positive, load
from groundup.agents.networks import ObservationEncoder, load_optimizer_state, optimizer_state
from groundup.torch_utils import resolve_device

__all__ = ["DeepAgent", "EnvRunner", "resume", "LR_SCHEDULES"]

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
        seeds = [int(s) for s in self.rng.integers(2**31, size=self.n_envs)]
        raw, _ = self.env.reset(seed=seeds if self.vector else seeds[0])
        self.obs = self.encoder.encode(raw if self.vector else [raw])
        self.valid = np.ones(self.n_envs, dtype=bool)
        self.done = np.zeros(self.n_envs, dtype=bool)
        self.returns = np.zeros(self.n_envs)
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)
        self.finished: list[tuple[float, int]] = []

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(rewards, next_obs, terminated, truncated, valid, done)`` for ``actions``."""
        if self.vector:
            raw, rewards, terminated, truncated, info = self.env.step(actions)
            rewards = np.asarray(rewards, dtype=np.float64)
            terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        else:
            action = int(actions[0]) if self.discrete_actions else actions[0]
            raw, reward, term, trunc, info = self.env.step(action)
            raw, rewards = [raw], np.array([reward], dtype=np.float64)
            terminated, truncated = np.array([term]), np.array([trunc])
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


class DeepAgent(Agent):
    """Base of the torch agents: device, generators, run state, persistence, checkpoints.

    A subclass builds its networks inside :meth:`_init_networks` (seeded, so the same seed
    gives the same initial weights on any device), lists them in ``self._modules`` and its
    optimizers in ``self._optimizers`` (name -> object), and writes ``_learn(run, ...)``.
    """

    family = "deep"
    observation_spaces = ("Box", "Discrete")
    supports_vector_env = True

    def __init__(self, env: Any, *, learning_rate: float, learning_rate_schedule: str, scale_observations: bool,
                 gamma: float, seed: int | None, verbose: int, device: str) -> None:
        super().__init__(env, gamma=gamma, seed=seed, verbose=verbose, device=device)
        self.learning_rate = check_learning_rate(learning_rate)
        if learning_rate_schedule not in LR_SCHEDULES:
            raise ValueError(f"learning_rate_schedule must be one of {LR_SCHEDULES}; got {learning_rate_schedule!r}")
        self.learning_rate_schedule = learning_rate_schedule
        self.device_ = resolve_device(device)
        self.scale_observations = bool(scale_observations)
        self.encoder = ObservationEncoder(self.observation_space, scale=self.scale_observations)
        self._rng = np.random.default_rng(self.seed)
        self._modules: dict[str, torch.nn.Module] = {}
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self.n_updates = 0
        self._run: dict[str, Any] | None = None
        self._checkpointing = False
        self._loaded: dict[str, np.ndarray] = {}
        self._global_rng_doc: dict[str, Any] | None = None

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
              checkpoint_every: int | None = None, checkpoint_path: str | os.PathLike | None = None) -> "DeepAgent":
        """Train for ``total_timesteps`` environment steps (counted over all environments).

        ``callback(locals_, globals_)`` runs after every step (SB3's convention); returning
        ``False`` stops. With ``checkpoint_every=N`` and ``checkpoint_path``, a checkpoint is
        written atomically at the first episode end after every N steps (and at the end);
        :func:`resume` continues an interrupted run from it. Returns the agent.
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
               "last_checkpoint": self.num_timesteps, "checkpoint_written": None, "done": False}
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
        raise NotImplementedError

    def _progress(self) -> float:
        """How much of the current learn() budget is spent, in [0, 1]."""
        run = self._run
        return min(1.0, (self.num_timesteps - run["start"]) / run["total"])

    def _update_learning_rate(self) -> None:
        lr = self.learning_rate * (1.0 - self._progress()) if self.learning_rate_schedule == "linear" else self.learning_rate
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

    def _maybe_checkpoint(self, runner: EnvRunner, run: dict[str, Any], *, final: bool = False) -> None:
        """Write a checkpoint when due: at an episode end for a single environment (exact
        resume), at any step for a vector environment."""
        if run["checkpoint_every"] is None:
            return
        due = self.num_timesteps - run["last_checkpoint"] >= run["checkpoint_every"]
        at_boundary = runner.vector or bool(runner.done[0])
        if final or (due and at_boundary):
            for name, module in self._modules.items():
                if not all(bool(torch.isfinite(p).all()) for p in module.parameters()):
                    raise FloatingPointError(f"{self._name()}: the {name} network holds NaN/inf at step {self.num_timesteps}; "
                                             f"not overwriting the checkpoint {run['checkpoint_path']!r}")
            run.update(last_checkpoint=self.num_timesteps, done=final, checkpoint_written=run["checkpoint_path"])
            self._checkpointing = True
            try:
                self.save(run["checkpoint_path"])
            finally:
                self._checkpointing = False

    # -- persistence ---------------------------------------------------------------------------------
    def _learned_arrays(self) -> dict[str, np.ndarray]:
        """Learned arrays outside the networks (observation statistics), saved every time."""
        return {}

    def _set_learned_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    def _run_arrays(self) -> dict[str, np.ndarray]:
        """What a checkpoint adds to a save: the replay buffer or the partial rollout."""
        return {}

    def _set_run_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    def _algorithm_counters(self) -> dict[str, Any]:
        return {}

    def _set_algorithm_counters(self, counters: dict[str, Any]) -> None:
        pass

    def _state_tensors(self) -> dict[str, Any]:
        tensors: dict[str, Any] = {}
        for name, module in self._modules.items():
            for key, value in module.state_dict().items():
                tensors[f"net.{name}.{key}"] = value
        for name, optimizer in self._optimizers.items():
            tensors.update(optimizer_state(optimizer, f"optim.{name}")[0])
        tensors.update({f"learned.{k}": v for k, v in self._learned_arrays().items()})
        if self._checkpointing:
            tensors.update({f"run.{k}": v for k, v in self._run_arrays().items()})
            np_state = np.random.get_state()
            tensors["rng.numpy_global"] = np_state[1]
            tensors["rng.torch_global"] = torch.get_rng_state()
        return tensors

    def _extra_metadata(self) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "optimizers": {name: optimizer_state(opt, f"optim.{name}")[1] for name, opt in self._optimizers.items()},
            "n_updates": self.n_updates,
            "algorithm": self._algorithm_counters(),
        }
        if self._checkpointing:
            np_state = np.random.get_state()
            extra["run"] = dict(self._run)
            extra["rng"] = {
                "agent": self._rng.bit_generator.state,
                "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
                "numpy_global": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            }
        return extra

    def _set_state_tensors(self, tensors: dict[str, np.ndarray]) -> None:
        # the optimizer state also needs the JSON part: finish in _set_extra_metadata
        self._loaded = tensors
        for name, module in self._modules.items():
            head = f"net.{name}."
            state = {k[len(head):]: torch.from_numpy(np.array(v)) for k, v in tensors.items() if k.startswith(head)}
            try:
                module.load_state_dict(state)
            except RuntimeError as exc:
                raise ValueError(f"the {name} network's weights do not fit: {exc}") from None

    def _set_extra_metadata(self, extra: dict[str, Any]) -> None:
        tensors, self._loaded = self._loaded, {}
        for name, optimizer in self._optimizers.items():
            doc = extra.get("optimizers", {}).get(name)
            if doc is not None:
                load_optimizer_state(optimizer, f"optim.{name}", tensors, doc)
        self._set_learned_arrays({k[len("learned."):]: v for k, v in tensors.items() if k.startswith("learned.")})
        self.n_updates = int(extra.get("n_updates", 0))
        self._set_algorithm_counters(extra.get("algorithm", {}))
        self._after_weights_changed()
        if "run" in extra:
            self._run = dict(extra["run"])
            self._rng.bit_generator.state = extra["rng"]["agent"]
            self._set_run_arrays({k[4:]: v for k, v in tensors.items() if k.startswith("run.")})
            rng = extra["rng"]
            self._global_rng_doc = {"python": rng["python"], "numpy": rng["numpy_global"],
                                    "numpy_keys": tensors["rng.numpy_global"], "torch": tensors["rng.torch_global"]}

    def _after_weights_changed(self) -> None:
        """Refresh whatever mirrors the weights (the NumPy acting copies)."""

    def _restore_global_rng(self) -> None:
        doc = self._global_rng_doc
        if doc is None:
            return
        version, state, gauss = doc["python"]
        random.setstate((version, tuple(state), gauss))
        name, pos, has_gauss, cached = doc["numpy"]
        np.random.set_state((name, np.asarray(doc["numpy_keys"], dtype=np.uint32), pos, has_gauss, cached))
        torch.set_rng_state(torch.from_numpy(np.array(doc["torch"], dtype=np.uint8)))


def resume(path: str | os.PathLike, env: Any = None, *, callback: Callback | None = None,
           progress_bar: bool = False) -> DeepAgent:
    """Continue the ``learn()`` call that wrote the checkpoint at ``path`` to its end.

    ``env`` must be an environment with the same spaces as the one trained on (a fresh one:
    it is reset with the seed the interrupted run would have used next). Checkpoints keep
    being written to the same path every ``checkpoint_every`` steps. Returns the agent.
    """
    agent = load(path, env=env)
    if not isinstance(agent, DeepAgent) or agent._run is None:
        raise ValueError(f"{str(path)!r} is a saved agent, not a checkpoint of a deep agent's learn() call; "
                         "checkpoints are written by learn(..., checkpoint_every=N, checkpoint_path=...)")
    if agent._run["done"]:
        return agent
    agent._restore_global_rng()
    return agent._learn_flushing_denormals(agent._require_env(), agent._run, callback, progress_bar)
