"""Checkpoints of a deep agent's training run, and exact resume (``dqn``, ``policy-gradient``).
The agents themselves, and their training skeleton, are in :mod:`groundup.agents.deep`.

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
from typing import Any

import numpy as np
import torch

from groundup.agents.base import load
from groundup.agents.environment import Callback
from groundup.torch_utils import rng_state, set_rng_state

__all__ = ["Checkpointable", "DeepAgent", "EnvRunner", "resume", "LR_SCHEDULES"]


def __getattr__(name: str) -> Any:
    # DeepAgent, EnvRunner and LR_SCHEDULES lived here before agents/deep.py; still importable
    if name in ("DeepAgent", "EnvRunner", "LR_SCHEDULES"):
        from groundup.agents import deep

        return getattr(deep, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Checkpointable:
    """What a checkpoint adds to a deep agent: writing one when due, and the state of the
    ``learn()`` call in progress on top of the agent's own ``_get_state``/``_set_state``:
    the run's counters (``metadata["run"]``), the agent's generator and the global ones
    (Python, NumPy, torch). While ``_checkpointing`` is set, an agent's ``_get_state`` also
    adds its run arrays (the replay buffer, the partial rollout) under ``run.``.
    """

    _checkpointing = False
    _global_rng_doc: dict[str, Any] | None = None
    _run: dict[str, Any] | None
    _rng: np.random.Generator

    def _maybe_checkpoint(self, runner: Any, run: dict[str, Any], *, final: bool = False) -> None:
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

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, metadata = super()._get_state()  # type: ignore[misc]
        if self._checkpointing:
            state = rng_state()
            python, numpy_global = state["python"], state["numpy"]
            tensors["rng.numpy_global"] = numpy_global[1]
            tensors["rng.torch_global"] = state["torch"]
            metadata["run"] = dict(self._run)
            metadata["rng"] = {
                "agent": self._rng.bit_generator.state,
                "python": [python[0], list(python[1]), python[2]],
                "numpy_global": [numpy_global[0], int(numpy_global[2]), int(numpy_global[3]), float(numpy_global[4])],
            }
        return tensors, metadata

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        super()._set_state(tensors, metadata)  # type: ignore[misc]
        if "run" in metadata:
            self._run = dict(metadata["run"])
            rng = metadata["rng"]
            self._rng.bit_generator.state = rng["agent"]
            self._global_rng_doc = {"python": rng["python"], "numpy": rng["numpy_global"],
                                    "numpy_keys": tensors["rng.numpy_global"], "torch": tensors["rng.torch_global"]}

    def _restore_global_rng(self) -> None:
        doc = self._global_rng_doc
        if doc is None:
            return
        version, state, gauss = doc["python"]
        name, pos, has_gauss, cached = doc["numpy"]
        set_rng_state({"python": (version, tuple(state), gauss),
                       "numpy": (name, np.asarray(doc["numpy_keys"], dtype=np.uint32), pos, has_gauss, cached),
                       "torch": torch.from_numpy(np.array(doc["torch"], dtype=np.uint8))})


def resume(path: str | os.PathLike, env: Any = None, *, callback: Callback | None = None,
           progress_bar: bool = False) -> Any:
    """Continue the ``learn()`` call that wrote the checkpoint at ``path`` to its end.

    ``env`` must be an environment with the same spaces as the one trained on (a fresh one:
    it is reset with the seed the interrupted run would have used next). Checkpoints keep
    being written to the same path every ``checkpoint_every`` steps. Returns the agent.
    """
    agent = load(path, env=env)
    if not isinstance(agent, Checkpointable) or agent._run is None:
        raise ValueError(f"{str(path)!r} is a saved agent, not a checkpoint of a deep agent's learn() call; "
                         "checkpoints are written by learn(..., checkpoint_every=N, checkpoint_path=...)")
    if agent._run["done"]:
        return agent
    agent._restore_global_rng()
    return agent._learn_flushing_denormals(agent._require_env(), agent._run, callback, progress_bar)
