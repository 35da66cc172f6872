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

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from groundup.experiments.search_space import SPACE_KINDS, ParamsFileError, SearchSpaceError, check_search_space, read_params_file
from groundup.experiments.study import (
    StudyDriver,
    TrialFailedWarning,
    TuneFailedError,
    TuneResult,
    import_optuna,
    n_finished,
    open_study,
    optuna_warnings_only,
    study_config,
    study_folder,
)
from groundup.experiments.trials import run_trial

__all__ = ["tune", "TuneResult", "SearchSpaceError", "ParamsFileError", "TuneFailedError", "TrialFailedWarning",
           "check_search_space", "read_params_file", "SPACE_KINDS"]

# -- the search -----------------------------------------------------------------------------------------------------
def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


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

    Parameters
    ----------
    agent
        A registered agent id with a non-empty ``search_space``.
    env
        A Gymnasium environment id (``env_kwargs`` go to ``gym.make``).
    n_trials
        The study's total number of finished trials (complete, pruned or failed);
        a call runs only those missing, so running it again resumes.
    timesteps
        The training budget of each seed of each trial.
    seeds
        K, meaning seeds 0..K-1, or a list of seeds; every trial trains one agent per
        seed and is scored by their mean.
    study
        The study's folder (default ``studies/AGENT-ENV``): ``study.db`` (SQLite)
        and ``best_params.json``. study_name: the study's name in the database
        (default ``AGENT-ENV``).
    address
        ``None`` for a local Ray on all cores (or ``$RAY_ADDRESS``), ``"auto"`` or
        ``"ray://host:port"`` for a running cluster.
    num_cpus, num_gpus
        Each trial's Ray resource request (torch's thread count too).
    n_evaluations
        Evaluation points per trial (evenly spaced; the last ends training).
    eval_episodes
        Deterministic episodes per seed at each evaluation point.
    fixed_params
        Hyper-parameters every trial uses, taken out of the search.
    search_space
        Replaces the agent's declared space (same format, same checks).
    sampler_seed
        Seeds the TPE sampler (offset by the trials already in the study).
    n_startup_trials
        Random trials before TPE models the results, and completed
        trials before the pruner prunes (RL Zoo's defaults' role).
    sampler, pruner
        Optuna objects replacing the defaults (``TPESampler(multivariate=
        True)``; ``MedianPruner`` that never prunes in the first third of the budget).
    backend
        ``"ray"`` or ``"serial"`` (this process, one trial after another).
    max_retries
        How often Ray reruns a trial whose worker process died.
    progress_bar
        A tqdm bar over the trials.
    """
    seeds, env_kwargs, fixed, space = _check_tune_args(
        agent, env, n_trials, timesteps, seeds, n_evaluations, eval_episodes, n_startup_trials, num_cpus, num_gpus,
        max_retries, backend, env_kwargs, fixed_params, search_space)
    optuna = import_optuna()
    name, folder = study_folder(agent, env, study, study_name)
    config = study_config(agent, env, env_kwargs, timesteps, seeds, n_evaluations, eval_episodes, fixed, space)
    with optuna_warnings_only(optuna):
        the_study = open_study(optuna, name, folder, config, sampler, pruner, sampler_seed, n_startup_trials,
                                timesteps)
        finished = n_finished(the_study)
        todo = max(0, n_trials - finished)
        runner = StudyDriver(the_study, config, folder, progress_bar and todo > 0, n_trials, finished)
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


def _run_trials(runner: StudyDriver, todo: int, backend: str, address: str | None, space: Mapping[str, tuple],
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
    from groundup.experiments.cluster import code_paths, connect

    start = time.perf_counter()
    ray = connect(address, code_paths=code_paths(run_trial))
    startup = time.perf_counter() - start
    runner.run_ray(ray, todo, space, fixed, agent, env, env_kwargs, seeds, timesteps, n_evaluations, eval_episodes,
                   num_cpus, num_gpus, max_retries)
    return startup
