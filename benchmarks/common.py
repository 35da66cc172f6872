"""What every benchmark shares: its command line, its runs on the experiments engine, and
where its tables and pictures go.

Each benchmark is a module run as ``python -m benchmarks.NAME [--smoke | --quick | --full]``
from the repository root (``groundup bench`` runs them all). A script declares its grid
(tasks, agents or models, budgets per mode, seeds), runs it with :func:`sweep`, and turns
the records into a markdown table with :func:`write_result`. Everything else is here:

* the flags, defined once: ``--smoke``/``--quick``/``--full`` (the default), ``--only``,
  ``--seeds``, ``--fresh``, ``--address``, ``--store``, ``--out``, ``--update-results``,
  ``--backend``;
* the runs go through :func:`groundup.experiments.sweep`, so each finished run is one
  file in the results store (default ``benchmarks/output/store/NAME``) and a benchmark
  stopped half-way resumes where it stopped; ``--fresh`` reruns everything;
* outputs go to ``benchmarks/output/MODE/`` (ignored by git) unless ``--update-results``
  (formerly ``--update-readme``, still accepted) is given with the full mode, which writes
  ``benchmarks/results/``. The documentation's benchmarks page is built from that folder
  (``docs/hooks/benchmarks_page.py``), and the README's headline table quotes it (a test
  checks the quotes). A quick or smoke run never touches a tracked file.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from groundup.experiments.engine import parse_seeds
from groundup.experiments.stats import markdown_table  # noqa: F401  (re-exported for the scripts)
from groundup.persistence import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUTPUT = ROOT / "benchmarks" / "output"
MODES = ("smoke", "quick", "full")


def parse_args(name: str, description: str, argv: Sequence[str] | None = None,
               extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The benchmark command line. ``args.mode`` is ``"smoke"``, ``"quick"`` or ``"full"``;
    ``args.seeds`` is None unless ``--seeds`` was given; ``args.out`` exists on return."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke", help="tiny sizes, seconds (the tests run this)")
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="a small configuration, minutes")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="the full tables (the default)")
    parser.set_defaults(mode="full")
    parser.add_argument("--only", default="", help="comma-separated substrings of the run names to keep (default: all)")
    parser.add_argument("--seeds", type=parse_seeds, default=None, help="seeds, e.g. 0-4 or 0,2 (default: the mode's)")
    parser.add_argument("--fresh", action="store_true", help="rerun every run, even those already in the store")
    parser.add_argument("--address", default=None, help="Ray cluster address ('auto', 'host:port', 'ray://host:port'); default: a local Ray, or $RAY_ADDRESS")
    parser.add_argument("--backend", choices=("ray", "serial"), default="ray", help="'serial' runs in this process, without Ray")
    parser.add_argument("--store", type=Path, default=None, help=f"results store folder (default: benchmarks/output/store/{name})")
    parser.add_argument("--out", type=Path, default=None, help="folder for tables and pictures (default: benchmarks/output/MODE, or benchmarks/results with --update-results)")
    parser.add_argument("--update-results", "--update-readme", dest="update_results", action="store_true",
                        help="full mode only: write the tracked tables and pictures in benchmarks/results/")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in this process (default: all cores)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.update_results and args.mode != "full":
        parser.error(f"--update-results writes the tracked tables and is only for the full mode, not --{args.mode}")
    if args.update_results and args.out is not None and args.out.resolve() != RESULTS.resolve():
        parser.error("--update-results writes benchmarks/results/; leave --out out")
    args.name = name
    args.only = [s for s in args.only.split(",") if s]
    args.out = args.out or (RESULTS if args.update_results else OUTPUT / args.mode)
    args.store = args.store or OUTPUT / "store" / name
    args.out.mkdir(parents=True, exist_ok=True)
    set_threads(args.threads or os.cpu_count() or 1)
    return args


def seeds_for(args: argparse.Namespace, default: Sequence[int]) -> list[int]:
    return list(args.seeds) if args.seeds is not None else list(default)


def selected(args: argparse.Namespace, name: str) -> bool:
    """Whether ``--only`` keeps the run called ``name``."""
    return not args.only or any(s in name for s in args.only)


def sweep(args: argparse.Namespace, function: Callable[..., Any] | str, params: Mapping[str, Sequence[Any]],
          seeds: Sequence[int], *, num_cpus: float = 1, num_gpus: float = 0, desc: str = "") -> Any:
    """:func:`groundup.experiments.sweep` with the command line's store, address, backend
    and ``--fresh``. Runs that time each other (a speed ratio) ask for every core
    (``num_cpus=os.cpu_count()``), so that nothing runs beside them. A run that uses a
    GPU asks for one (``num_gpus=1``): Ray hides the GPUs from a task that asked for none."""
    from groundup.experiments import sweep as engine_sweep

    return engine_sweep(function, params, seeds, store=args.store, address=args.address, num_cpus=num_cpus,
                        num_gpus=num_gpus, fresh=args.fresh, backend=args.backend, desc=desc or args.name)


def all_cores() -> int:
    return os.cpu_count() or 1


def set_threads(n: int) -> None:
    """Pin torch's thread pool; BLAS pools follow the environment variables set before import."""
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass


def median_time(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Median wall-clock seconds of ``repeats`` calls of ``fn`` and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fit_recording_warnings(fit: Callable[[], Any]) -> tuple[Any, float, list[str]]:
    """(``fit()``'s result, its wall-clock seconds, the names of the warnings it raised):
    the warnings say whether the estimator itself saw trouble (NoLearningWarning,
    EarlyStoppingWarning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        fitted = fit()
        seconds = time.perf_counter() - start
    return fitted, seconds, sorted({w.category.__name__ for w in caught})


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    values = list(values)
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def mean_ci(values: Sequence[float], digits: int = 3) -> str:
    """``mean [95% bootstrap interval]`` of ``values`` (just the mean for one value)."""
    from groundup.experiments.stats import summarize

    s = summarize(list(values))
    if s["n"] == 1:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def machine_line(threads: int | None = None) -> str:
    try:
        import torch

        tv = torch.__version__
        t = threads or torch.get_num_threads()
    except ImportError:  # pragma: no cover
        tv, t = "n/a", threads
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {tv} with {t} threads, Python {platform.python_version()}"


def command_line(args: argparse.Namespace) -> str:
    """The command that wrote a result, with the flags that chose its runs, so that the
    footer of a partial run names the part it ran."""
    words = [f"python -m benchmarks.{args.name}"]
    if args.mode != "full":
        words.append(f"--{args.mode}")
    if args.only:  # parse_args has split it into its substrings
        words.append("--only " + ",".join(args.only))
    if args.seeds is not None:
        words.append("--seeds " + ",".join(str(s) for s in args.seeds))
    if args.update_results:
        words.append("--update-results")
    return " ".join(words)


def write_result(args: argparse.Namespace, markdown: str, name: str | None = None) -> Path:
    """Write ``NAME.md`` into ``args.out`` with a footer naming the configuration and the
    command (``benchmarks/results/`` with ``--update-results``)."""
    name = name or args.name
    body = markdown.rstrip() + f"\n\n_Configuration: {args.mode}; {machine_line(args.threads)}; command: `{command_line(args)}`._\n"
    path = args.out / f"{name}.md"
    atomic_write_bytes(path, body.encode())
    print(body)
    return path


def finish(args: argparse.Namespace, records: Sequence[dict[str, Any]], render: Callable[[], str],
           run_name: Callable[[dict[str, Any]], str]) -> None:
    """The end of every benchmark's ``main``: write the result when any run succeeded (a
    failed run never overwrites earlier tables with nothing), log each failed run's
    traceback under ``run_name(record)``, and exit non-zero when any failed."""
    failed = [r for r in records if r["status"] != "ok"]
    if len(failed) < len(records):
        write_result(args, render())
    for r in failed:
        log(f"run {run_name(r)} seed {r['seed']} failed:\n{r.get('error')}")
    if failed:
        raise SystemExit(f"{len(failed)} of {len(records)} runs failed (tracebacks above and in {args.store})")


def savefig(fig: Any, args: argparse.Namespace, filename: str) -> Path:
    """Save a matplotlib figure as ``args.out/filename``, atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(filename).suffix.lstrip(".") or "png", dpi=100)
    path = args.out / filename
    atomic_write_bytes(path, buffer.getvalue())
    return path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- memory of the running process (the scaling benchmarks) ---------------------------------
def memory_mb(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of this process in MB, from /proc (Linux); elsewhere
    the peak from ``ru_maxrss`` (which, unlike VmHWM, a spawned process inherits)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def reset_peak_memory() -> None:
    """Reset VmHWM to the current resident set (Linux >= 4.0), so that the next
    ``memory_mb("VmHWM")`` is the peak of what ran since (a fit's own)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
