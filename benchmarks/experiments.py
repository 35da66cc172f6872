"""The experiments engine itself: start-up time, parallel speed-up and overhead per run.

* **Start-up**: seconds for :func:`groundup.experiments.connect` to start a local Ray (or
  join ``--address``), median of 3 starts.
* **Speed-up**: 8 single-threaded CPU-bound runs (a pure-Python loop of 20 million steps each),
  first one after another in this process (``backend="serial"``), then as a sweep on
  Ray with one CPU per run; the ratio is the sweep's wall time over the serial time
  (with 2 cores the ideal is 0.5).
* **Overhead per run**: sweeps of runs that return at once; the engine's cost per run is
  the sweep's wall time (Ray already started) over the number of runs: hashing, the store
  look-up, submitting the task, Ray's round trip and the atomic write of the record.
  Median of 5 sweeps.

Every measurement uses a fresh temporary store, so nothing is skipped as already done.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from benchmarks import common
from groundup import experiments

MODES = {
    "smoke": dict(runs=2, loop=200_000, instant_runs=10, repeats=1, starts=1),
    "quick": dict(runs=8, loop=20_000_000, instant_runs=50, repeats=5, starts=3),
    "full": dict(runs=8, loop=20_000_000, instant_runs=50, repeats=5, starts=3),
}


def busy(seed: int, loop: int) -> dict[str, Any]:
    """A single-threaded CPU-bound run: a pure-Python loop (the GIL keeps it on one core)."""
    start = time.perf_counter()
    total = seed
    for i in range(loop):
        total = (total * 31 + i) % 1_000_003
    return {"total": total, "seconds": time.perf_counter() - start}


def instant(seed: int) -> dict[str, Any]:
    return {"seed": seed}


def _sweep(args: Any, function: str, params: dict, seeds: list[int], backend: str) -> tuple[float, Any]:
    with tempfile.TemporaryDirectory() as store:
        start = time.perf_counter()
        result = experiments.sweep(function, params, seeds, store=store, address=args.address, backend=backend,
                                   progress_bar=False)
        return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("experiments", __doc__.split("\n")[0], argv)
    cfg = MODES[args.mode]
    common.set_threads(1)
    starts = []
    for _ in range(cfg["starts"]):
        experiments.shutdown()
        t = time.perf_counter()
        ray = experiments.connect(args.address, code_paths=[str(common.ROOT)])
        starts.append(time.perf_counter() - t)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    seeds = list(range(cfg["runs"]))
    params = {"loop": [cfg["loop"]]}
    serial, _ = _sweep(args, "benchmarks.experiments:busy", params, seeds, "serial")
    _sweep(args, "benchmarks.experiments:busy", {"loop": [1000]}, [0, 1], "ray")  # warm the workers
    parallel, result = _sweep(args, "benchmarks.experiments:busy", params, seeds, "ray")
    assert not result.failed, result.failed[0]["error"]
    per_run = []
    for _ in range(cfg["repeats"]):
        wall, res = _sweep(args, "benchmarks.experiments:instant", None, list(range(cfg["instant_runs"])), "ray")
        assert res.executed == cfg["instant_runs"] and not res.failed
        per_run.append(wall / cfg["instant_runs"])
    experiments.shutdown()

    run_seconds = statistics.median(r["metrics"]["seconds"] for r in result.records)
    rows = [
        ["start-up (local Ray)" if args.address is None else f"start-up (join {args.address})",
         f"{statistics.median(starts):.2f} s", "reported", f"median of {len(starts)}"],
        [f"{cfg['runs']} single-threaded CPU-bound runs, sweep / serial", f"{parallel / serial:.2f}", "≤ 0.6",
         f"serial {serial:.1f} s, sweep {parallel:.1f} s on {cpus} CPUs (a run: {run_seconds:.2f} s)"],
        ["overhead per run (runs that return at once)", f"{1000 * statistics.median(per_run):.1f} ms", "≤ 50 ms",
         f"median of {len(per_run)} sweeps of {cfg['instant_runs']} runs"],
    ]
    md = ["## The experiments engine on this machine", "",
          common.markdown_table(["measure", "value", "target", "how"], rows)]
    common.write_result(args, "\n".join(md))


if __name__ == "__main__":
    main()
