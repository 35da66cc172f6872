"""One trial of :func:`groundup.experiments.tune`, in whichever process runs it: the
driver's (``backend="serial"``) or a Ray worker's.

A trial trains one agent per seed, in lock-step: each seed makes one long ``learn()`` call
in its own thread and meets the others at a barrier at every evaluation point, where the
mean over seeds is reported to the driver, which answers prune or continue (the module
docstring of :mod:`groundup.experiments.tune` says why). On Ray the report goes through
:class:`_Mailbox`, a small actor that holds no state worth keeping.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any



# -- one trial, in whichever process runs it ------------------------------------------------------------------
def evaluation_points(timesteps: int, n_evaluations: int) -> list[int]:
    """The steps (counted from the start of ``learn``) at which a trial is evaluated."""
    return [timesteps * (i + 1) // n_evaluations for i in range(n_evaluations)]


def run_trial(agent: str, env: str, params: dict[str, Any], seeds: Sequence[int], timesteps: int,
              n_evaluations: int, eval_episodes: int, env_kwargs: dict[str, Any] | None,
              report: Callable[[int, float], bool], num_cpus: float = 1) -> dict[str, Any]:
    """Train one agent per seed in lock-step and evaluate them together (see the module
    docstring). ``report(step, mean_value)`` is called once per evaluation point, after
    every seed reached it, and returns True when the trial must stop (pruned).

    Returns ``status`` (``"ok"``, ``"pruned"`` or ``"failed"``), ``value`` (the final mean
    over seeds), ``curve`` ([step, mean] per point reported), ``seed_values`` (each seed's
    last evaluation), ``error`` (a traceback), ``seconds``, ``hostname`` and ``pid``.
    """
    import torch

    from groundup.experiments.runs import make_env

    start = time.perf_counter()
    base = {"hostname": socket.gethostname(), "pid": os.getpid()}
    previous_threads = torch.get_num_threads()
    try:
        torch.set_num_threads(max(1, int(num_cpus)))
        from groundup import agents

        points = evaluation_points(timesteps, n_evaluations)
        models = [agents.make(agent, make_env(env, env_kwargs), seed=s, **params) for s in seeds]
        eval_envs = [make_env(env, env_kwargs) for _ in seeds]
        lockstep = _LockStep(models, eval_envs, list(seeds), points, timesteps, eval_episodes, report)
        lockstep.run()
        return {**base, **lockstep.outcome(), "seconds": time.perf_counter() - start}
    except Exception:
        return {**base, "status": "failed", "value": None, "curve": [], "seed_values": None,
                "error": traceback.format_exc(), "seconds": time.perf_counter() - start}
    finally:
        # backend="serial" runs trials in the caller's process: give it its thread count back
        torch.set_num_threads(previous_threads)


class _LockStep:
    """One trial's K seeds, each training in its own thread and meeting the others at a
    barrier at every evaluation point (see the module docstring for why)."""

    def __init__(self, models: list[Any], eval_envs: list[Any], seeds: list[int], points: list[int], timesteps: int,
                 eval_episodes: int, report: Callable[[int, float], bool]) -> None:
        import numpy as np

        self.models, self.eval_envs, self.seeds, self.points = models, eval_envs, seeds, points
        self.timesteps, self.eval_episodes, self.report = timesteps, eval_episodes, report
        K = len(seeds)
        self.values = np.full((K, len(points)), np.nan)
        self.pruned = False
        self.curve: list[list[float]] = []
        self.errors: list[str | None] = [None] * K
        self.begin = [0] * K  # each model's num_timesteps when its learn() started
        self.reached = [0] * K  # each seed's next evaluation point
        self.barrier = threading.Barrier(K, action=self._at_barrier)

    def run(self) -> None:
        threads = [threading.Thread(target=self._train, args=(k,), name=f"seed-{self.seeds[k]}", daemon=True)
                   for k in range(1, len(self.seeds))]
        for t in threads:
            t.start()
        self._train(0)  # seed 0 in this thread: a serial run stays debuggable
        for t in threads:
            t.join()

    def _at_barrier(self) -> None:  # runs in one thread once all K seeds reached the next point
        i = len(self.curve)
        mean = float(self.values[:, i].mean())
        self.curve.append([self.points[i], mean])
        prune = bool(self.report(self.points[i], mean))
        self.pruned = prune and i < len(self.points) - 1  # at the last point training is over: complete

    def _train(self, k: int) -> None:
        model = self.models[k]
        self.begin[k] = model.num_timesteps
        try:
            model.learn(self.timesteps, callback=functools.partial(self._callback, k))
            while self.reached[k] < len(self.points) and not self.pruned:  # learn() ended short of a point
                self._evaluate_next(k)
        except threading.BrokenBarrierError:
            pass  # another seed failed; its error is the trial's
        except Exception:
            self.errors[k] = traceback.format_exc()
            self.barrier.abort()
        except BaseException:  # Ctrl-C: release the other seeds and stop
            self.barrier.abort()
            raise

    def _callback(self, k: int, locals_: dict[str, Any], globals_: dict[str, Any]) -> bool:
        model, points = self.models[k], self.points
        while self.reached[k] < len(points) and model.num_timesteps - self.begin[k] >= points[self.reached[k]]:
            self._evaluate_next(k)
            if self.pruned:
                return False
        return True

    def _evaluate_next(self, k: int) -> None:
        """Evaluate seed ``k`` at its next point, and wait there for the other seeds."""
        from groundup.experiments.runs import evaluate_agent

        i = self.reached[k]
        self.values[k, i] = evaluate_agent(self.models[k], self.eval_envs[k], self.eval_episodes,
                                           seed=10_000 + self.seeds[k])[0]
        self.barrier.wait()
        self.reached[k] += 1

    def outcome(self) -> dict[str, Any]:
        """``status``, ``value``, ``curve``, ``seed_values`` and ``error`` of the trial."""
        failed = [e for e in self.errors if e]
        if failed:
            return {"status": "failed", "value": None, "curve": self.curve, "seed_values": None, "error": failed[0]}
        done = len(self.curve)
        seed_values = [float(v) for v in self.values[:, done - 1]] if done else None
        status = "pruned" if self.pruned else "ok"
        value = self.curve[-1][1] if done else None
        return {"status": status, "value": value, "curve": self.curve, "seed_values": seed_values, "error": None}


class _Mailbox:
    """A Ray actor between running trials and the driver: a trial posts an intermediate value
    and waits; the driver collects the posts and answers each with prune or continue."""

    def __init__(self) -> None:
        self._posts: list[tuple[int, int, float]] = []
        self._answers: dict[tuple[int, int], Any] = {}
        self._arrived: Any = None

    def _event(self) -> Any:
        import asyncio

        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    async def post(self, number: int, step: int, value: float) -> bool:
        import asyncio

        answer = asyncio.get_running_loop().create_future()
        self._answers[(number, step)] = answer
        self._posts.append((number, step, value))
        self._event().set()
        return await answer

    async def collect(self) -> list[tuple[int, int, float]]:
        """The posts since the last call; waits for at least one."""
        event = self._event()
        while not self._posts:
            event.clear()
            await event.wait()
        posts, self._posts = self._posts, []
        return posts

    async def answer(self, number: int, step: int, prune: bool) -> None:
        future = self._answers.pop((number, step), None)
        if future is not None and not future.done():
            future.set_result(bool(prune))


def _ray_trial(agent: str, env: str, params: dict[str, Any], seeds: list[int], timesteps: int, n_evaluations: int,
               eval_episodes: int, env_kwargs: dict[str, Any] | None, num_cpus: float, number: int,
               mailbox: Any) -> dict[str, Any]:
    import ray

    def report(step: int, value: float) -> bool:
        return ray.get(mailbox.post.remote(number, step, value))

    return run_trial(agent, env, params, seeds, timesteps, n_evaluations, eval_episodes, env_kwargs, report, num_cpus)
