"""``tune``: hyper-parameter search for any registered agent, as RL Zoo does it.

Optuna's TPE sampler proposes the parameters, a median pruner stops trials whose learning
curve falls below the median of the finished ones, and every trial runs as a Ray task (on
the local machine or on a cluster: the same ``address`` as :func:`~groundup.experiments.sweep`)::

    from groundup import experiments

    result = experiments.tune("q-learning", "FrozenLake-v1", n_trials=50, timesteps=100_000,
                              seeds=3, study="studies/q-learning-frozenlake")
    result.best_params       # {"learning_rate": 0.31, "epsilon": 0.04}
    result.params_file       # studies/q-learning-frozenlake/best_params.json

and then ``groundup train q-learning FrozenLake-v1 --timesteps 100000 --params-file
studies/q-learning-frozenlake/best_params.json``.

What is searched: each agent class declares its ``search_space`` beside its defaults (see
:class:`groundup.agents.Agent`), in a declarative form that this module alone turns into
``trial.suggest_*`` calls (agents never import Optuna) and checks, in
:func:`check_search_space`. ``fixed_params`` take names out of the search.

The objective: the mean over the trial's K seeds of the deterministic policy's mean return
over ``eval_episodes`` episodes, on an evaluation environment seeded ``10_000 + seed``
(never the training one), maximised. It is evaluated at ``n_evaluations`` evenly spaced
points of the budget; the last one is the trial's value, the others feed the pruner.

Design choices
--------------
*The driver owns the study.* The study lives in SQLite (``<study folder>/study.db``) and
only the process that calls :func:`tune` opens it: it asks the sampler, records every
intermediate value, asks the pruner and tells the results. Workers never touch it, the
same rule as the sweep's results store, so the code runs unchanged on a cluster whose nodes
share no disk (an actor owning the study would land on any node, and SQLite must not be
shared over a network file system). Trials send their intermediate values through a small
Ray actor, a mailbox that holds no state worth keeping, and wait for the driver's prune or
continue.

*K seeds in lock-step, one long ``learn()`` each.* A trial's intermediate value at point i
is the mean over its K seeds at i, the same quantity as its final value, so the median
pruner compares like with like across trials. Splitting training into chunks of repeated
``learn()`` calls would not be one long run: each call restarts the exploration schedule
(epsilon decays over each call's budget), the learning-rate schedule and the tabular
episode. So each seed makes one ``learn(timesteps)`` call, in its own thread, with a
callback that evaluates at each point and waits at a barrier; when all K seeds have arrived
the mean goes to the driver, and if the pruner says stop, every callback returns False.
Each seed's training is then exactly the run
:func:`~groundup.experiments.train_and_evaluate` makes (the agents keep their own random
generators and share nothing), so a completed trial's value equals the mean of
``train_and_evaluate(...)["mean_return"]`` over its seeds with the same parameters. Threads
take turns under the GIL: a tabular trial uses one core (deep agents' torch kernels may
overlap). Rejected: seeds one after another with seed 0's curve for pruning (one noisy seed
decides, and only while it runs); one Ray task per seed with the driver as the barrier
(K cores per trial at once, for the same result). ``seeds=1`` is RL Zoo's one seed per trial.

*Resume: ``n_trials`` is the study's total.* Finished trials (complete, pruned or failed)
count, and a call runs only the missing ones, so the same command run again after an
interruption finishes the budget and after completion runs nothing; ask for more trials to
search further. Trials an interrupted driver left running are marked failed and their
parameters queued to run first. The sampler's seed is offset by the number of trials already
in the study, so a resumed study never proposes its first trials again, and the study
records what it optimises (agent, environment, budget, seeds, evaluation, fixed parameters,
search space): resuming it with other settings is an error, not a mixed study. One driver
per study at a time.

``backend="serial"`` runs the same trials in this process, one after another (the
debugger and print statements work there). Optuna and Ray are imported when a search
starts (``pip install 'groundup[experiments]'``), never by ``import groundup``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundup._version import __version__
from groundup.experiments.search_space import (
    SPACE_KINDS,
    ParamsFileError,
    SearchSpaceError,
    _suggest,
    check_search_space,
    read_params_file,
)
from groundup.experiments.trials import _Mailbox, _ray_trial, run_trial

__all__ = ["tune", "TuneResult", "SearchSpaceError", "ParamsFileError", "TuneFailedError", "TrialFailedWarning",
           "check_search_space", "read_params_file", "SPACE_KINDS"]

PARAMS_FILE = "best_params.json"
STUDY_DB = "study.db"
_CONFIG_ATTR = "groundup.tune"


class TuneFailedError(RuntimeError):
    """The first trials of a call all failed: a setting is wrong, not the luck of the draw."""


class TrialFailedWarning(UserWarning):
    """A trial raised; its traceback is in the trial's ``error`` user attribute."""

# -- the result -------------------------------------------------------------------------------------------------
@dataclass
class TuneResult:
    """What :func:`tune` found.

    ``best_params`` are the agent keyword arguments of the best trial (fixed ones included),
    ready for ``agents.make(agent, env, **best_params)``; ``best_value`` its objective;
    ``params_file`` the JSON written for ``groundup train --params-file`` (None while no
    trial has completed); ``study`` the Optuna study (``study.trials_dataframe()``...).
    """

    agent: str
    env: str
    best_params: dict[str, Any] | None
    best_value: float | None
    best_trial: int | None
    study: Any
    study_dir: Path
    params_file: Path | None
    executed: int = 0
    """Trials this call ran (the others were in the study already)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Trials in the study by state: ``complete``, ``pruned``, ``failed``."""
    startup_seconds: float = 0.0


# -- the search -----------------------------------------------------------------------------------------------------
def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "study"


def _interrupted(trial: Any) -> bool:
    return bool(trial.user_attrs.get("interrupted"))


def _n_finished(study: Any) -> int:
    """Trials that count towards ``n_trials``: complete, pruned, or failed by their own error
    (not those a stopped driver interrupted: they are queued to run again)."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return sum(1 for t in study.get_trials(deepcopy=False, states=states) if not _interrupted(t))


def _requeue(study: Any, trial: Any, params: dict[str, Any]) -> None:
    """Mark a running trial as interrupted (failed) and queue its parameters to run first."""
    from optuna.trial import TrialState

    trial.set_user_attr("interrupted", True)
    trial.set_user_attr("error", "interrupted: the driver stopped before the trial finished")
    study.tell(trial, state=TrialState.FAIL)
    study.enqueue_trial(params, user_attrs={"rerun_of": trial.number})


def tune(
    agent: str,
    env: str,
    *,
    n_trials: int,
    timesteps: int,
    seeds: int | Sequence[int] = 1,
    study: str | os.PathLike | None = None,
    study_name: str | None = None,
    address: str | None = None,
    num_cpus: float = 1,
    num_gpus: float = 0,
    n_evaluations: int = 5,
    eval_episodes: int = 50,
    env_kwargs: dict[str, Any] | None = None,
    fixed_params: dict[str, Any] | None = None,
    search_space: Mapping[str, tuple] | None = None,
    sampler_seed: int | None = 0,
    n_startup_trials: int = 10,
    sampler: Any = None,
    pruner: Any = None,
    backend: str = "ray",
    max_retries: int = 2,
    progress_bar: bool = True,
) -> TuneResult:
    """Search ``agent``'s hyper-parameters on ``env`` with TPE and median pruning; trials
    run as Ray tasks. Returns a :class:`TuneResult` (see the module docstring for the design).

    Args:
        agent: a registered agent id with a non-empty ``search_space``.
        env: a Gymnasium environment id (``env_kwargs`` go to ``gym.make``).
        n_trials: the study's total number of finished trials (complete, pruned or failed);
            a call runs only those missing, so running it again resumes.
        timesteps: the training budget of each seed of each trial.
        seeds: K, meaning seeds 0..K-1, or a list of seeds; every trial trains one agent per
            seed and is scored by their mean.
        study: the study's folder (default ``studies/AGENT-ENV``): ``study.db`` (SQLite)
            and ``best_params.json``. study_name: the study's name in the database
            (default ``AGENT-ENV``).
        address: ``None`` for a local Ray on all cores (or ``$RAY_ADDRESS``), ``"auto"`` or
            ``"ray://host:port"`` for a running cluster.
        num_cpus, num_gpus: each trial's Ray resource request (torch's thread count too).
        n_evaluations: evaluation points per trial (evenly spaced; the last ends training).
        eval_episodes: deterministic episodes per seed at each evaluation point.
        fixed_params: hyper-parameters every trial uses, taken out of the search.
        search_space: replaces the agent's declared space (same format, same checks).
        sampler_seed: seeds the TPE sampler (offset by the trials already in the study).
        n_startup_trials: random trials before TPE models the results, and completed
            trials before the pruner prunes (RL Zoo's defaults' role).
        sampler, pruner: Optuna objects replacing the defaults (``TPESampler(multivariate=
            True)``; ``MedianPruner`` that never prunes in the first third of the budget).
        backend: ``"ray"`` or ``"serial"`` (this process, one trial after another).
        max_retries: how often Ray reruns a trial whose worker process died.
        progress_bar: a tqdm bar over the trials.
    """
    seeds, env_kwargs, fixed, space = _check_tune_args(
        agent, env, n_trials, timesteps, seeds, n_evaluations, eval_episodes, n_startup_trials, num_cpus, num_gpus,
        max_retries, backend, env_kwargs, fixed_params, search_space)
    optuna = _import_optuna()
    name, folder = _study_folder(agent, env, study, study_name)
    config = _study_config(agent, env, env_kwargs, timesteps, seeds, n_evaluations, eval_episodes, fixed, space)
    with _optuna_warnings_only(optuna):
        the_study = _open_study(optuna, name, folder, config, sampler, pruner, sampler_seed, n_startup_trials,
                                timesteps)
        finished = _n_finished(the_study)
        todo = max(0, n_trials - finished)
        runner = _Driver(the_study, config, folder, progress_bar and todo > 0, n_trials, finished)
        try:
            startup = _run_trials(runner, todo, backend, address, space, fixed, agent, env, env_kwargs, seeds,
                                  timesteps, n_evaluations, eval_episodes, num_cpus, num_gpus, max_retries)
        finally:
            runner.close()
        return runner.result(agent, env, startup)


def _check_tune_args(agent: str, env: Any, n_trials: Any, timesteps: Any, seeds: Any, n_evaluations: Any,
                     eval_episodes: Any, n_startup_trials: Any, num_cpus: Any, num_gpus: Any, max_retries: Any,
                     backend: str, env_kwargs: dict[str, Any] | None, fixed_params: dict[str, Any] | None,
                     search_space: Mapping[str, tuple] | None
                     ) -> tuple[list[int], dict[str, Any], dict[str, Any], dict[str, tuple]]:
    """``(seeds, env_kwargs, fixed_params, the space to search)``, checked before any trial runs."""
    from groundup import agents as agents_module
    from groundup.experiments.engine import BACKENDS, check_seeds

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    agent_spec = agents_module.spec(agent)  # ValueError listing the registered ids
    cls = agent_spec.load()
    if not isinstance(env, str):
        raise TypeError(f"env must be a Gymnasium environment id (str), got {type(env).__name__}")
    for name, value in (("n_trials", n_trials), ("timesteps", timesteps), ("n_evaluations", n_evaluations),
                        ("eval_episodes", eval_episodes), ("n_startup_trials", n_startup_trials)):
        _positive_int(name, value)
    if n_evaluations > timesteps:
        raise ValueError(f"n_evaluations ({n_evaluations}) cannot exceed timesteps ({timesteps})")
    for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus), ("max_retries", max_retries)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if num_cpus <= 0:
        raise ValueError(f"num_cpus must be > 0, got {num_cpus!r}")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(_positive_int("seeds", seeds)))
    seeds = check_seeds(seeds)
    env_kwargs = dict(env_kwargs or {})
    fixed = dict(fixed_params or {})
    for name in fixed:
        if name in ("seed", "env"):
            raise ValueError(f"fixed_params cannot set {name!r}: the trials' seeds are the seeds argument")
        if name not in cls._param_names():
            raise ValueError(f"fixed_params: {name!r} is not a hyper-parameter of {agent}; its hyper-parameters are "
                             f"{', '.join(n for n in cls._param_names() if n != 'seed')}")
    space = _space_to_search(agent, agent_spec, cls, search_space, fixed)
    # a bad environment id, keyword or fixed parameter fails here, once, not in every trial
    from groundup.experiments.runs import make_env

    probe_env = make_env(env, env_kwargs)
    try:
        agents_module.make(agent, probe_env, **fixed)
    finally:
        probe_env.close()
    return seeds, env_kwargs, fixed, space


def _space_to_search(agent: str, agent_spec: Any, cls: type, search_space: Mapping[str, tuple] | None,
                     fixed: dict[str, Any]) -> dict[str, tuple]:
    """The agent's declared space (or ``search_space``), checked, less the ``fixed`` names."""
    from groundup import agents as agents_module

    if agent_spec.family == "dynamic programming":
        raise ValueError(f"agent {agent!r} is a dynamic programming agent: it sweeps the model to convergence, with "
                         f"no training budget or hyper-parameters to tune")
    declared = agent_spec.search_space if search_space is None else search_space
    where = None if search_space is None else "search_space"
    space = check_search_space(declared, cls, where=where)
    if not space:
        kind = "a prediction agent (it evaluates a given policy)" if cls.is_prediction else "an agent"
        tunable = [i for i in agents_module.registry if agents_module.registry[i].search_space]
        raise ValueError(f"agent {agent!r} has nothing to tune: it is {kind} whose search_space is empty. "
                         f"Agents with a search space: {', '.join(tunable)}")
    space = {k: v for k, v in space.items() if k not in fixed}
    if not space:
        raise ValueError(f"nothing left to tune: fixed_params fixes every name in {agent}'s search space "
                         f"({', '.join(declared)})")
    return space


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError("groundup tune needs Optuna: pip install 'groundup[experiments]'") from None
    return optuna


def _study_folder(agent: str, env: str, study: str | os.PathLike | None, study_name: str | None) -> tuple[str, Path]:
    """The study's name and folder (created if missing)."""
    name = study_name or f"{agent}-{_slug(env)}"
    folder = Path(study) if study is not None else Path("studies") / f"{agent}-{_slug(env)}"
    folder.mkdir(parents=True, exist_ok=True)
    return name, folder


def _study_config(agent: str, env: str, env_kwargs: dict[str, Any], timesteps: int, seeds: list[int],
                  n_evaluations: int, eval_episodes: int, fixed: dict[str, Any],
                  space: Mapping[str, tuple]) -> dict[str, Any]:
    """What the study optimises, as the JSON it is stored as, so that resuming it with other
    settings can be refused."""
    config = {"agent": agent, "env": env, "env_kwargs": env_kwargs, "timesteps": timesteps, "seeds": seeds,
              "n_evaluations": n_evaluations, "eval_episodes": eval_episodes, "fixed_params": fixed,
              "search_space": {k: list(v) for k, v in space.items()}}
    return json.loads(json.dumps(config, sort_keys=True, default=repr))


@contextlib.contextmanager
def _optuna_warnings_only(optuna: Any) -> Iterator[None]:
    """Optuna logs at WARNING during the search; the caller's level comes back after it."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _open_study(optuna: Any, name: str, folder: Path, config: dict[str, Any], sampler: Any, pruner: Any,
                sampler_seed: int | None, n_startup_trials: int, timesteps: int) -> Any:
    """The study in ``folder``'s SQLite file, created or resumed; resuming one run with
    other settings is an error, and trials an interrupted driver left running are failed
    and queued to run again first."""
    from optuna.trial import TrialState

    storage_url = f"sqlite:///{(folder / STUDY_DB).resolve()}"
    storage = optuna.storages.RDBStorage(storage_url, engine_kwargs={"connect_args": {"timeout": 60}})
    existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    n_existing = existing[name].n_trials if name in existing else 0
    if sampler is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=n_startup_trials, multivariate=True,
                seed=None if sampler_seed is None else sampler_seed + n_existing)
    if pruner is None:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=timesteps // 3)
    the_study = optuna.create_study(storage=storage, study_name=name, direction="maximize", sampler=sampler,
                                    pruner=pruner, load_if_exists=True)
    stored = the_study.user_attrs.get(_CONFIG_ATTR)
    if stored is None:
        the_study.set_user_attr(_CONFIG_ATTR, config)
    elif stored != config:
        differ = sorted(k for k in set(stored) | set(config) if stored.get(k) != config.get(k))
        detail = "; ".join(f"{k}: study {stored.get(k)!r}, now {config.get(k)!r}" for k in differ)
        raise ValueError(f"study {name!r} in {str(folder)!r} was run with other settings ({detail}); "
                         f"resume it with the same settings, or give another study folder or study_name")
    for t in the_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        _requeue(the_study, optuna.trial.Trial(the_study, t._trial_id), t.params)
    return the_study


def _run_trials(runner: _Driver, todo: int, backend: str, address: str | None, space: Mapping[str, tuple],
                fixed: dict[str, Any], agent: str, env: str, env_kwargs: dict[str, Any], seeds: list[int],
                timesteps: int, n_evaluations: int, eval_episodes: int, num_cpus: float, num_gpus: float,
                max_retries: int) -> float:
    """Run the ``todo`` missing trials on ``backend``; returns the seconds spent starting or joining Ray."""
    if not todo:
        return 0.0
    if backend == "serial":
        runner.run_serial(todo, space, fixed, agent, env, env_kwargs, seeds, timesteps, n_evaluations, eval_episodes,
                          num_cpus)
        return 0.0
    from groundup.experiments.engine import _code_paths, connect

    start = time.perf_counter()
    ray = connect(address, code_paths=_code_paths(run_trial))
    startup = time.perf_counter() - start
    runner.run_ray(ray, todo, space, fixed, agent, env, env_kwargs, seeds, timesteps, n_evaluations, eval_episodes,
                   num_cpus, num_gpus, max_retries)
    return startup


class _Driver:
    """Asks, records, prunes and tells, for either backend; writes the parameters file."""

    def __init__(self, study: Any, config: dict[str, Any], folder: Path, bar: bool, n_trials: int, finished: int) -> None:
        from groundup.progress import progress_bar as make_bar

        self.study, self.config, self.folder = study, config, folder
        self.trials: dict[int, Any] = {}
        self.decisions: dict[tuple[int, int], bool] = {}
        self.executed = 0
        self.last_error = ""
        self.first_results: list[str] = []
        self.bar = make_bar(n_trials, enabled=bar, desc=f"tune {config['agent']}", unit="trial")
        self.bar.update(finished)

    def close(self) -> None:
        """Trials still open (an error or Ctrl-C stopped the driver) are requeued."""
        for trial in self.trials.values():
            _requeue(self.study, trial, trial.params)
        self.trials.clear()
        self.bar.close()

    def ask(self, space: Mapping[str, tuple], fixed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask()
        params = {**fixed, **_suggest(trial, space)}
        trial.set_user_attr("agent_params", params)
        self.trials[trial.number] = trial
        return trial, params

    def on_report(self, number: int, step: int, value: float) -> bool:
        if (number, step) in self.decisions:  # a retried task reporting again
            return self.decisions[(number, step)]
        trial = self.trials[number]
        if math.isfinite(value):
            trial.report(value, step)
            prune = bool(trial.should_prune())
        else:
            prune = True
        self.decisions[(number, step)] = prune
        return prune

    def on_result(self, number: int, outcome: dict[str, Any]) -> None:
        from optuna.trial import TrialState

        trial = self.trials.pop(number)
        self.decisions = {k: v for k, v in self.decisions.items() if k[0] != number}
        for key in ("seconds", "seed_values", "hostname"):
            if outcome.get(key) is not None:
                trial.set_user_attr(key, outcome[key])
        status = outcome["status"]
        if status == "ok" and outcome["value"] is not None and math.isfinite(outcome["value"]):
            self.study.tell(trial, outcome["value"])
        elif status == "pruned":
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            error = outcome.get("error") or f"the trial's value is {outcome.get('value')!r}"
            trial.set_user_attr("error", error)
            self.study.tell(trial, state=TrialState.FAIL)
            last = error.strip().splitlines()[-1:] or ["?"]
            self.last_error = last[0]
            warnings.warn(f"trial {number} ({trial.user_attrs.get('agent_params')}) failed: {last[0]} (the "
                          f"traceback is in the trial's user attribute 'error')", TrialFailedWarning,
                          stacklevel=5)  # tune's caller: above run_serial/run_ray, _run_trials and tune
        self.executed += 1
        self.first_results.append(status)
        self.bar.update(1)
        self._write_best()

    def stop_early(self) -> str | None:
        """A reason to stop when this call's first trials all failed (a bad setting, not bad luck)."""
        if len(self.first_results) >= 3 and all(s == "failed" for s in self.first_results[:3]):
            return f"the first 3 trials all failed, the last with: {self.last_error}"
        return None

    def _best(self) -> Any:
        try:
            return self.study.best_trial
        except ValueError:  # no completed trial yet
            return None

    def _write_best(self) -> None:
        best = self._best()
        if best is None:
            return
        self.bar.set_postfix(best=f"{best.value:.4g}")
        from groundup.persistence import atomic_write_bytes

        counts = self.counts()
        doc = {
            "agent": self.config["agent"], "env": self.config["env"], "env_kwargs": self.config["env_kwargs"],
            "params": best.user_attrs.get("agent_params", best.params), "value": best.value, "trial": best.number,
            "seed_values": best.user_attrs.get("seed_values"), "timesteps": self.config["timesteps"],
            "seeds": self.config["seeds"], "n_evaluations": self.config["n_evaluations"],
            "eval_episodes": self.config["eval_episodes"], "fixed_params": self.config["fixed_params"],
            "study": {"name": self.study.study_name, "storage": f"sqlite:///{(self.folder / STUDY_DB).resolve()}",
                      **counts},
            "groundup_version": __version__,
        }
        atomic_write_bytes(self.folder / PARAMS_FILE, (json.dumps(doc, indent=2) + "\n").encode())

    def counts(self) -> dict[str, int]:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        return {"complete": sum(t.state == TrialState.COMPLETE for t in trials),
                "pruned": sum(t.state == TrialState.PRUNED for t in trials),
                "failed": sum(t.state == TrialState.FAIL and not _interrupted(t) for t in trials),
                "interrupted": sum(t.state == TrialState.FAIL and _interrupted(t) for t in trials)}

    # -- the backends ------------------------------------------------------------------------------------------
    def run_serial(self, todo: int, space, fixed, agent, env, env_kwargs, seeds, timesteps, n_evaluations,
                   eval_episodes, num_cpus) -> None:
        for _ in range(todo):
            trial, params = self.ask(space, fixed)
            number = trial.number
            outcome = run_trial(agent, env, params, seeds, timesteps, n_evaluations, eval_episodes, env_kwargs,
                                lambda step, value: self.on_report(number, step, value), num_cpus)
            self.on_result(number, outcome)
            reason = self.stop_early()
            if reason:
                raise TuneFailedError(f"tune {agent} on {env}: {reason}")

    def run_ray(self, ray: Any, todo: int, space, fixed, agent, env, env_kwargs, seeds, timesteps, n_evaluations,
                eval_episodes, num_cpus, num_gpus, max_retries) -> None:
        mailbox = ray.remote(num_cpus=0)(_Mailbox).remote()
        remote = ray.remote(_ray_trial).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries,
                                                retry_exceptions=False)
        in_flight: dict[Any, int] = {}
        asked = 0
        posts = mailbox.collect.remote()
        try:
            while True:
                capacity = max(1, int(ray.cluster_resources().get("CPU", 1) // num_cpus))
                while asked < todo and len(in_flight) < capacity:
                    trial, params = self.ask(space, fixed)
                    ref = remote.remote(agent, env, params, seeds, timesteps, n_evaluations, eval_episodes, env_kwargs,
                                        num_cpus, trial.number, mailbox)
                    in_flight[ref] = trial.number
                    asked += 1
                if not in_flight:
                    break
                ready, _ = ray.wait([posts, *in_flight], num_returns=1)
                if posts in ready:
                    for number, step, value in ray.get(posts):
                        mailbox.answer.remote(number, step, self.on_report(number, step, value))
                    posts = mailbox.collect.remote()
                for ref in ready:
                    if ref in in_flight:
                        number = in_flight.pop(ref)
                        try:
                            outcome = ray.get(ref)
                        except Exception as exc:  # the worker died more often than max_retries
                            outcome = {"status": "failed", "value": None, "error": f"{type(exc).__name__}: {exc}"}
                        self.on_result(number, outcome)
                        reason = self.stop_early()
                        if reason:
                            raise TuneFailedError(f"tune {agent} on {env}: {reason}")
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            ray.kill(mailbox)

    def result(self, agent: str, env: str, startup: float) -> TuneResult:
        best = self._best()
        self._write_best()
        params_file = self.folder / PARAMS_FILE
        return TuneResult(
            agent=agent, env=env, best_params=None if best is None else best.user_attrs.get("agent_params", best.params),
            best_value=None if best is None else best.value, best_trial=None if best is None else best.number,
            study=self.study, study_dir=self.folder, params_file=params_file if best is not None else None,
            executed=self.executed, counts=self.counts(), startup_seconds=startup)
