"""The Optuna study behind :func:`~groundup.experiments.tune`: where it lives (SQLite in the
study folder), how it is created or resumed (settings checked, interrupted trials queued
again), and the driver that asks it for parameters, records intermediate values, prunes,
tells results and writes the best parameters file.

Only the process that calls ``tune`` opens the study (see the design notes in
:mod:`groundup.experiments.tune`); Optuna is imported when a search starts.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundup._version import __version__
from groundup.experiments.search_space import _suggest
from groundup.experiments.trials import _Mailbox, _ray_trial, run_trial

__all__ = ["TuneResult", "TuneFailedError", "TrialFailedWarning", "StudyDriver", "open_study", "study_folder",
           "study_config", "n_finished", "import_optuna", "optuna_warnings_only", "PARAMS_FILE", "STUDY_DB"]

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


# -- the study ---------------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "study"


def _interrupted(trial: Any) -> bool:
    return bool(trial.user_attrs.get("interrupted"))


def n_finished(study: Any) -> int:
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


def import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError("groundup tune needs Optuna: pip install 'groundup[experiments]'") from None
    return optuna


def study_folder(agent: str, env: str, study: str | os.PathLike | None, study_name: str | None) -> tuple[str, Path]:
    """The study's name and folder (created if missing)."""
    name = study_name or f"{agent}-{_slug(env)}"
    folder = Path(study) if study is not None else Path("studies") / f"{agent}-{_slug(env)}"
    folder.mkdir(parents=True, exist_ok=True)
    return name, folder


def study_config(agent: str, env: str, env_kwargs: dict[str, Any], timesteps: int, seeds: list[int],
                  n_evaluations: int, eval_episodes: int, fixed: dict[str, Any],
                  space: Mapping[str, tuple]) -> dict[str, Any]:
    """What the study optimises, as the JSON it is stored as, so that resuming it with other
    settings can be refused."""
    config = {"agent": agent, "env": env, "env_kwargs": env_kwargs, "timesteps": timesteps, "seeds": seeds,
              "n_evaluations": n_evaluations, "eval_episodes": eval_episodes, "fixed_params": fixed,
              "search_space": {k: list(v) for k, v in space.items()}}
    return json.loads(json.dumps(config, sort_keys=True, default=repr))


@contextlib.contextmanager
def optuna_warnings_only(optuna: Any) -> Iterator[None]:
    """Optuna logs at WARNING during the search; the caller's level comes back after it."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def open_study(optuna: Any, name: str, folder: Path, config: dict[str, Any], sampler: Any, pruner: Any,
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


class StudyDriver:
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
