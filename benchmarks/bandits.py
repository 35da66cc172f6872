"""The 10-armed testbed (Sutton & Barto, section 2.3 and Figures 2.2-2.4), vectorised over
runs, and a Bernoulli testbed where regret is the measure.

    python -m benchmarks.bandits [--smoke | --quick | --full] [--update-results]

One engine run is one method on one testbed with one seed: ``runs`` independent bandit
problems stepped together as one vectorised environment for ``steps`` steps. The tables
pool the runs (and the seeds, when ``--seeds`` gives several) and give a 95% bootstrap
interval over them. Writes bandits.md and bandits_testbed.png.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from benchmarks import common
from groundup.experiments.stats import plot_curves, summarize

# method -> agent id, kwargs (the book's settings, passed explicitly), the book's figure
# for the average reward over steps 901-1000
GAUSSIAN: dict[str, tuple[str, dict[str, Any], str]] = {
    "greedy (epsilon 0)": ("epsilon-greedy", {"epsilon": 0.0}, "about 1.0 (Figure 2.2)"),
    "epsilon 0.01": ("epsilon-greedy", {"epsilon": 0.01}, "about 1.3 (Figure 2.2)"),
    "epsilon 0.1": ("epsilon-greedy", {"epsilon": 0.1}, "1.37"),
    "optimistic Q1 = 5, alpha 0.1": ("optimistic-initial-values", {"initial_value": 5.0, "learning_rate": 0.1}, "1.50"),
    "UCB c = 2": ("ucb1", {"c": 2.0}, "1.49"),
    "Thompson sampling (Normal prior)": ("thompson-sampling", {}, ">= 1.50 (target)"),
}
BERNOULLI: dict[str, tuple[str, dict[str, Any], str]] = {
    "epsilon 0.1": ("epsilon-greedy", {"epsilon": 0.1}, ""),
    "UCB c = 2": ("ucb1", {"c": 2.0}, ""),
    "Thompson sampling (Beta prior)": ("thompson-sampling", {}, ""),
}
TESTBEDS = {"gaussian": GAUSSIAN, "bernoulli": BERNOULLI}
SEEDS = {"gaussian": [0], "bernoulli": [1]}  # one seed each: the runs inside it are the samples
RUNS = {"smoke": 100, "quick": 500, "full": 2000}  # bandit problems per seed
STEPS = {"smoke": 1000, "quick": 1000, "full": 1000}
LAST = 100  # the book's "steps 901-1000" window


def run(testbed: str, method: str, runs: int, steps: int, seed: int) -> dict[str, Any]:
    """One method on ``runs`` bandit problems at once; per-step curves (mean over the runs)
    and per-run values over the last ``LAST`` steps."""
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/Bandit-v0)
    from groundup import agents

    agent_id, kwargs, _ = TESTBEDS[testbed][method]
    venv = gym.make_vec("groundup/Bandit-v0", num_envs=runs, vectorization_mode="vector_entry_point",
                        arm_distribution=testbed, max_episode_steps=steps)
    reward, optimal, regret = np.zeros(steps), np.zeros(steps), np.zeros(steps)
    last_reward, last_optimal, total_regret = np.zeros(runs), np.zeros(runs), np.zeros(runs)
    first = steps - min(LAST, steps)

    def record(locals_: dict, globals_: dict) -> None:
        i = locals_["it"] - 1
        R, info = locals_["R"], locals_["info"]
        reward[i], optimal[i], regret[i] = R.mean(), info["is_optimal"].mean(), info["regret"].mean()
        total_regret[:] += info["regret"]
        if i >= first:
            last_reward[:] += R
            last_optimal[:] += info["is_optimal"]

    start = time.perf_counter()
    agents.make(agent_id, venv, seed=seed, **kwargs).learn(runs * steps, callback=record)
    seconds = time.perf_counter() - start
    window = steps - first
    return {"reward_curve": reward, "optimal_curve": optimal, "regret_curve": regret,
            "last_reward": last_reward / window, "last_optimal": last_optimal / window, "total_regret": total_regret,
            "learn_seconds": seconds}


# -- the report --------------------------------------------------------------------------------------------
def pooled(records: list[dict], name: str) -> list[float]:
    return [v for r in records for v in r["metrics"][name]]


def with_ci(values: list[float], scale: float = 1.0, digits: int = 3, suffix: str = "") -> str:
    s = summarize([scale * v for v in values])
    return f"{s['mean']:.{digits}f}{suffix} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def curve(record: dict, name: str, scale: float = 1.0, cumulative: bool = False) -> list[tuple[int, float]]:
    y = np.asarray(record["metrics"][name], dtype=float) * scale
    if cumulative:
        y = np.cumsum(y)
    return [(i + 1, float(v)) for i, v in enumerate(y)]


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args("bandits", __doc__, argv)
    runs, steps = RUNS[args.mode], STEPS[args.mode]
    window = f"steps {steps - min(LAST, steps) + 1}-{steps}"
    results, failed = {}, []
    for testbed, methods in TESTBEDS.items():
        names = [m for m in methods if common.selected(args, f"{testbed}/{m}")]
        if names:
            # cheap runs, but each reports its own time: nothing runs beside it
            result = common.sweep(args, "benchmarks.bandits:run",
                                  {"testbed": [testbed], "method": names, "runs": [runs], "steps": [steps]},
                                  common.seeds_for(args, SEEDS[testbed]), num_cpus=common.all_cores(), desc=testbed)
            results[testbed] = result
            failed += result.failed

    def by_method(testbed: str) -> dict[str, list[dict]]:
        groups: dict[str, list[dict]] = {}
        for r in results[testbed].ok() if testbed in results else []:
            groups.setdefault(r["params"]["method"], []).append(r)
        return groups

    parts, panels = [], {}
    gaussian = by_method("gaussian")
    if gaussian:
        rows = []
        for method, records in gaussian.items():
            agent_id, _, book = GAUSSIAN[method]
            rows.append([method, f"`{agent_id}`", with_ci(pooled(records, "last_reward")), book,
                         with_ci(pooled(records, "last_optimal"), 100, 1, "%"),
                         f"{statistics.median(r['metrics']['learn_seconds'] for r in records):.2f} s"])
        n = len(next(iter(gaussian.values())))
        parts.append(
            "### The 10-armed Gaussian testbed\n\nq*(a) ~ N(0, 1), rewards ~ N(q*(a), 1); every run is one row of a "
            "vectorised environment (`gym.make_vec(\"groundup/Bandit-v0\", num_envs=..., "
            "vectorization_mode=\"vector_entry_point\")`), and the agents update all runs in one NumPy step. "
            f"Mean over {n * runs:,} runs [95% bootstrap interval over the runs]:\n\n"
            + common.markdown_table(["method", "agent id", f"average reward, {window}", "Sutton & Barto",
                                     f"% optimal action, {window}", f"time ({runs:,} runs x {steps:,} steps)"], rows))
        panels["Gaussian: average reward"] = {m: [curve(r, "reward_curve") for r in rs] for m, rs in gaussian.items()}
        panels["Gaussian: % optimal action"] = {m: [curve(r, "optimal_curve", 100) for r in rs] for m, rs in gaussian.items()}
    bernoulli = by_method("bernoulli")
    if bernoulli:
        rows = []
        for method, records in bernoulli.items():
            agent_id = BERNOULLI[method][0]
            rows.append([method, f"`{agent_id}`", with_ci(pooled(records, "total_regret"), digits=1),
                         with_ci(pooled(records, "last_reward")), with_ci(pooled(records, "last_optimal"), 100, 1, "%"),
                         f"{statistics.median(r['metrics']['learn_seconds'] for r in records):.2f} s"])
        parts.append(
            "### Bernoulli arms\n\nq*(a) ~ U(0, 1), rewards in {0, 1}; regret is max q* - q*(A) summed over steps, "
            "averaged over runs [95% bootstrap interval]:\n\n"
            + common.markdown_table(["method", "agent id", f"total expected regret over {steps:,} steps",
                                     f"average reward, {window}", f"% optimal action, {window}", "time"], rows))
        panels["Bernoulli: cumulative regret"] = {m: [curve(r, "regret_curve", cumulative=True) for r in rs]
                                                  for m, rs in bernoulli.items()}
        panels["Bernoulli: % optimal action"] = {m: [curve(r, "optimal_curve", 100) for r in rs] for m, rs in bernoulli.items()}
    if panels:
        plot_curves(panels, args.out / "bandits_testbed.png", xlabel="steps", ylabel=f"mean over {runs:,} runs per seed",
                    ncols=2, panel_size=(4.0, 3.0))
        parts.append("![bandits_testbed](bandits_testbed.png)")
    if failed:
        parts.append(f"**{len(failed)} run(s) failed**: " + ", ".join(f"{r['params']['testbed']}/{r['params']['method']} "
                                                                     f"seed {r['seed']}" for r in failed))
    common.write_result(args, "\n\n".join(parts))
    for r in failed:
        common.log(f"failed: {r['params']} seed {r['seed']}\n{r['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
