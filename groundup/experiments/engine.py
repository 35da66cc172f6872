"""``sweep``: many independent runs as Ray tasks, each finished run one file in a store.

The driver (the process that calls :func:`sweep`) decides what is missing from the
store, submits one Ray task per missing run, and writes each record as its task returns.
So a record lands exactly once even when Ray retries a task whose worker died, and an
interrupted sweep started again runs only what is missing. Workers never touch the
store, which is why the same code works on a cluster whose nodes share no disk.

``backend="serial"`` runs the same runs in this process, one after another, for
debugging (breakpoints and print statements work there).
"""

from __future__ import annotations

import importlib
import itertools
import os
import socket
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from groundup._version import __version__
from groundup.experiments.cluster import ClusterConnectionError, code_paths, connect, shutdown
from groundup.experiments.store import ResultStore, check_json_metrics, run_key

__all__ = ["sweep", "SweepResult", "parse_seeds", "RunFailedWarning", "ClusterConnectionError", "connect", "shutdown"]

BACKENDS = ("ray", "serial")


class RunFailedWarning(UserWarning):
    """Some runs of a sweep raised; their records hold the tracebacks."""


# -- what to run --------------------------------------------------------------------------------------
def function_name(function: Callable[..., Any] | str) -> str:
    """``"module:qualname"`` for a callable, or the path itself; validated either way."""
    if isinstance(function, str):
        resolve_function(function)  # fail in the driver, before any task starts
        return function
    if not callable(function):
        raise TypeError(f"function must be a callable or a 'module:function' string, got {type(function).__name__}")
    module = getattr(function, "__module__", None) or "__main__"
    qualname = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return f"{module}:{qualname}"


def resolve_function(path: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` (dots after the colon walk attributes)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"function path {path!r} is not of the form 'package.module:function'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"function path {path!r}: cannot import module {module_name!r} ({exc})") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"function path {path!r}: module {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ValueError(f"function path {path!r} names a {type(obj).__name__}, not a callable")
    return obj


def expand_grid(params: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """The product of ``params``' value lists, as one dict per combination (in order)."""
    if params is None:
        return [{}]
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict mapping names to lists of values, got {type(params).__name__}")
    for name, values in params.items():
        if not isinstance(name, str):
            raise TypeError(f"params keys must be parameter names (str), got {name!r}")
        if name == "seed":
            raise ValueError("params must not contain 'seed': pass the seeds as the seeds argument")
        if not isinstance(values, (list, tuple)):
            raise TypeError(
                f"params[{name!r}] must be a list of values to sweep, got {type(values).__name__} {values!r}; "
                f"write {{{name!r}: [{values!r}]}} for a single value"
            )
        if len(values) == 0:
            raise ValueError(f"params[{name!r}] is an empty list: give at least one value")
    names = list(params)
    return [dict(zip(names, combo)) for combo in itertools.product(*(params[n] for n in names))]


def parse_seeds(text: str) -> list[int]:
    """Seeds from the command line: ``"0-4"`` -> [0, 1, 2, 3, 4], ``"0,2,5"`` -> [0, 2, 5].
    Raises ``argparse.ArgumentTypeError`` (so argparse shows the message) on bad text."""
    import argparse

    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, sep, high = part.strip().partition("-")
            seeds += range(int(low), int(high) + 1) if sep else [int(low)]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"seeds must look like '0-9' or '0,3,5' (non-negative), got {text!r}")
    return list(dict.fromkeys(seeds))


def check_seeds(seeds: Iterable[int] | int) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    try:
        seeds = list(seeds)
    except TypeError:
        raise TypeError(f"seeds must be a list of integers, got {type(seeds).__name__}") from None
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. seeds=[0, 1, 2]")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise TypeError(f"seeds must be non-negative integers, got {s!r} in {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds has duplicates: {seeds!r}")
    return seeds


# -- one run, in whichever process executes it -----------------------------------------------------------
def execute_run(function: Callable[..., Any] | str, params: dict[str, Any], seed: int, num_cpus: float,
                on_ray: bool = False) -> dict[str, Any]:
    """Call ``function(seed=seed, **params)`` and return the run's record fields.

    Exceptions (including metrics JSON cannot hold) become a failed record with the
    traceback; only the death of the process itself is left to Ray to retry.
    """
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(num_cpus)))
    node_id = None
    if on_ray:
        import ray

        node_id = ray.get_runtime_context().get_node_id()
    start = time.perf_counter()
    status, error, metrics = "ok", None, None
    try:
        fn = resolve_function(function) if isinstance(function, str) else function
        metrics = check_json_metrics(fn(seed=seed, **params), where="the run's metrics")
    except Exception:
        status, error = "failed", traceback.format_exc()
    finally:
        # The serial backend runs in the caller's process: leave its thread count as it was.
        torch.set_num_threads(previous_threads)
    return {"metrics": metrics, "status": status, "error": error, "seconds": time.perf_counter() - start,
            "node_id": node_id, "hostname": socket.gethostname(), "pid": os.getpid()}


# -- the sweep ---------------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """The records of one sweep, in grid order (combinations, then seeds).

    Each record is a dict: ``params``, ``seed``, ``metrics``, ``status`` (``"ok"`` or
    ``"failed"``), ``error`` (the traceback), ``seconds``, ``node_id`` (Ray's),
    ``hostname``, ``key`` (the store file's name) and ``function``.
    """

    records: list[dict[str, Any]]
    store: ResultStore
    executed: int = 0
    """How many runs this call executed (the others came from the store)."""
    startup_seconds: float = 0.0
    """Seconds spent starting or joining Ray."""
    failed: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.failed = [r for r in self.records if r["status"] != "ok"]

    def ok(self) -> list[dict[str, Any]]:
        """The records of the runs that finished without an error."""
        return [r for r in self.records if r["status"] == "ok"]

    def metric(self, name: str, **params: Any) -> list[Any]:
        """``name`` from every successful run whose params include ``params``."""
        return [r["metrics"][name] for r in self.ok()
                if name in r["metrics"] and all(r["params"].get(k) == v for k, v in params.items())]

    def table(self, metric: str, **kwargs: Any) -> str:
        """A markdown table, one row per setting: see :func:`groundup.experiments.summary_table`."""
        from groundup.experiments.stats import summary_table

        return summary_table(self.records, metric, **kwargs)


def sweep(
    function: Callable[..., Any] | str,
    params: Mapping[str, Sequence[Any]] | None,
    seeds: Iterable[int] | int,
    *,
    store: str | os.PathLike | ResultStore,
    address: str | None = None,
    num_cpus: float = 1,
    num_gpus: float = 0,
    fresh: bool = False,
    max_retries: int = 2,
    progress_bar: bool = True,
    backend: str = "ray",
    desc: str = "",
) -> SweepResult:
    """Run ``function(seed=s, **combination)`` for every combination of ``params`` and
    every seed, skipping runs already in ``store``; returns a :class:`SweepResult`.

    Parameters
    ----------
    function
        A callable, or an importable ``"module:function"`` path. It returns a
        dict of JSON values (metrics, and curves as lists).
    params
        Parameter name -> list of values; the sweep runs their product.
    seeds
        The seeds, each a non-negative int.
    store
        The folder of run records (created if missing).
    address
        ``None`` for a local Ray on all cores (or ``$RAY_ADDRESS``), ``"auto"``
        or ``"ray://host:port"``/``"host:port"`` for a running cluster.
    num_cpus, num_gpus
        Each run's Ray resource request; torch's thread count inside
        the run is set to ``num_cpus``.
    fresh
        Rerun everything, overwriting stored records as the new ones arrive.
    max_retries
        How often Ray reruns a run whose worker process died (killed, out of
        memory, node lost). An exception raised by ``function`` is not retried: it is
        recorded as a failed run, with its traceback, and the sweep goes on.
    progress_bar
        A tqdm bar over the runs.
    backend
        ``"ray"`` or ``"serial"`` (this process, one run after another).

    Notes
    -----
    Failed runs are kept in the store and run again by the next call (a failure may be
    transient: memory, a lost node); successful runs are never rerun unless ``fresh``.
    """
    fname, grid, seeds, store = _check_sweep_args(function, params, seeds, store, num_cpus, num_gpus, max_retries,
                                                   backend)
    runs = [(combo, seed, run_key(fname, combo, seed)) for combo in grid for seed in seeds]
    records, todo = _look_up(runs, store, fresh)

    from groundup.progress import progress_bar as make_bar

    startup, ray = 0.0, None
    if backend == "ray" and todo:
        start = time.perf_counter()
        ray = connect(address, code_paths=code_paths(function))
        startup = time.perf_counter() - start
    bar = make_bar(len(runs), enabled=progress_bar and bool(todo), desc=desc or fname.rpartition(":")[2], unit="run")
    bar.update(len(runs) - len(todo))
    recorder = _Recorder(store, fname, records, bar)
    try:
        if ray is None:
            _run_serial(todo, function, num_cpus, recorder)
        else:
            _run_on_ray(ray, todo, function, num_cpus, num_gpus, max_retries, recorder)
    finally:
        bar.close()
    result = SweepResult(records=[records[key] for _, _, key in runs], store=store, executed=len(todo),
                         startup_seconds=startup)
    _warn_if_failed(result, len(runs))
    return result


def _check_sweep_args(function: Callable[..., Any] | str, params: Mapping[str, Sequence[Any]] | None,
                      seeds: Iterable[int] | int, store: str | os.PathLike | ResultStore, num_cpus: float,
                      num_gpus: float, max_retries: int,
                      backend: str) -> tuple[str, list[dict[str, Any]], list[int], ResultStore]:
    """``(function's name, grid, seeds, store)``, or an error before anything runs."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    for name, value, low in (("num_cpus", num_cpus, 0), ("num_gpus", num_gpus, 0), ("max_retries", max_retries, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    fname = function_name(function)
    grid = expand_grid(params)
    seeds = check_seeds(seeds)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    return fname, grid, seeds, store


_Run = tuple[dict[str, Any], int, str]  # (combination, seed, key)


def _look_up(runs: list[_Run], store: ResultStore, fresh: bool) -> tuple[dict[str, dict[str, Any]], list[_Run]]:
    """The records of runs that succeeded before (none if ``fresh``), and the runs still to do."""
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for combo, seed, key in runs:
        found = None if fresh else store.get(key)
        if found is not None and found.get("status") == "ok":
            records[key] = found
        else:
            todo.append((combo, seed, key))
    return records, todo


@dataclass
class _Recorder:
    """Writes each run's record as it finishes, from the driver only: workers never touch
    the store, and a task that Ray retried still lands once."""

    store: ResultStore
    fname: str
    records: dict[str, dict[str, Any]]
    bar: Any

    def finish(self, combo: dict[str, Any], seed: int, key: str, fields: dict[str, Any]) -> None:
        record = {"key": key, "function": self.fname, "params": combo, "seed": seed, "groundup_version": __version__,
                  "finished_at": time.time(), **fields}
        self.store.put(record)
        self.records[key] = record
        self.bar.update(1)


def _run_serial(todo: list[_Run], function: Callable[..., Any] | str, num_cpus: float, recorder: _Recorder) -> None:
    for combo, seed, key in todo:
        recorder.finish(combo, seed, key, execute_run(function, combo, seed, num_cpus))


def _run_on_ray(ray: Any, todo: list[_Run], function: Callable[..., Any] | str, num_cpus: float, num_gpus: float,
                max_retries: int, recorder: _Recorder) -> None:
    """One Ray task per run, recorded in the order they finish; an error or Ctrl-C cancels the rest."""
    remote = ray.remote(execute_run).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries,
                                             retry_exceptions=False)
    fn_ref = ray.put(function) if callable(function) else function
    pending = {remote.remote(fn_ref, combo, seed, num_cpus, True): (combo, seed, key) for combo, seed, key in todo}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                combo, seed, key = pending.pop(ref)
                try:
                    fields = ray.get(ref)
                except Exception as exc:  # the worker died more often than max_retries
                    fields = {"metrics": None, "status": "failed", "seconds": None, "node_id": None,
                              "hostname": None, "error": f"{type(exc).__name__}: {exc}"}
                recorder.finish(combo, seed, key, fields)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


def _warn_if_failed(result: SweepResult, n_runs: int) -> None:
    if result.failed:
        first = result.failed[0]
        last_line = (first.get("error") or "").strip().splitlines()[-1:] or ["?"]
        warnings.warn(f"{len(result.failed)} of {n_runs} runs failed; the first ({first['params']}, seed "
                      f"{first['seed']}): {last_line[0]} (tracebacks in the records' 'error')", RunFailedWarning,
                      stacklevel=3)  # the caller of sweep
