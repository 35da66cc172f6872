"""The ``deep`` section of benchmarks/robustness.py: ``dqn``, ``policy-gradient`` and
``semi-gradient-sarsa`` with their defaults on classic control and Box2D, against
Stable-Baselines3's DQN, A2C and PPO with SB3's own defaults, in the same run.

Each run is one agent built as a user would build it, only the budget and the seed given:
``agents.make(id, gym.make(env), seed=seed)`` for groundup, ``DQN("MlpPolicy",
gym.make(env), seed=seed)`` (or ``A2C``, ``PPO``) for SB3; no RL Zoo settings, no
normalisation wrappers. Every tenth of the budget the deterministic policy is evaluated on
5 episodes of a separately seeded environment, and at the end on 20
(benchmarks/rl_deep.py's ``Evaluator``, whose time is not counted as training time). A
seed **solves** a task when that final mean reaches the task's threshold (Gymnasium's
``reward_threshold``: CartPole-v1 475, Acrobot-v1 -100, MountainCar-v0 -110, LunarLander-v3
200, MountainCarContinuous-v0 90, LunarLanderContinuous-v3 200).

Rows (``DEEP_ROWS``): each (task, groundup agent) has the budget issue 15 sets, and the
share of seeds that must solve it (none where the issue sets no target: those rows
report). Each row's baselines (``BASELINES``: DQN for the value-based agents, A2C and PPO
for policy-gradient) run on the same task with the same budget and seeds, and the row's
second target is to solve at least as many seeds as each of them. ``semi-gradient-sarsa``
runs with its default features (tile coding on Box observations, hashed on LunarLander's
eight dimensions).

The module is a part of benchmarks/robustness.py (run it there: ``--only deep``); the
leading underscore keeps ``groundup bench`` from running it as a benchmark of its own.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks import common

DEEP_TASKS: dict[str, dict[str, Any]] = {
    "cartpole": dict(env="CartPole-v1", threshold=475.0),
    "acrobot": dict(env="Acrobot-v1", threshold=-100.0),
    "mountaincar": dict(env="MountainCar-v0", threshold=-110.0),
    "lunarlander": dict(env="LunarLander-v3", threshold=200.0),
    "mountaincar-continuous": dict(env="MountainCarContinuous-v0", threshold=90.0),
    "lunarlander-continuous": dict(env="LunarLanderContinuous-v3", threshold=200.0),
}
# (task, agent) -> (budget in steps, share of the seeds that must solve it; None: report only)
DEEP_ROWS: dict[tuple[str, str], tuple[int, float | None]] = {
    ("cartpole", "dqn"): (100_000, 0.8),
    ("acrobot", "dqn"): (100_000, 0.8),
    ("mountaincar", "dqn"): (200_000, None),
    ("lunarlander", "dqn"): (500_000, 0.6),
    ("cartpole", "policy-gradient"): (100_000, 0.8),
    ("acrobot", "policy-gradient"): (200_000, 0.8),
    ("mountaincar", "policy-gradient"): (300_000, None),
    ("lunarlander", "policy-gradient"): (1_000_000, 0.6),
    ("mountaincar-continuous", "policy-gradient"): (300_000, None),
    ("lunarlander-continuous", "policy-gradient"): (1_000_000, 0.6),
    ("cartpole", "semi-gradient-sarsa"): (100_000, None),
    ("acrobot", "semi-gradient-sarsa"): (100_000, None),
    ("mountaincar", "semi-gradient-sarsa"): (200_000, None),
    ("lunarlander", "semi-gradient-sarsa"): (500_000, None),
}
BASELINES: dict[str, tuple[str, ...]] = {"dqn": ("sb3-dqn",), "policy-gradient": ("sb3-a2c", "sb3-ppo"),
                                         "semi-gradient-sarsa": ("sb3-dqn",)}
SB3_ALGOS = ("sb3-dqn", "sb3-a2c", "sb3-ppo")


def row_steps(steps: int, scale: float) -> int:
    """A row's budget in a mode: its full-mode steps times the mode's scale, at least 1."""
    return max(1, round(steps * scale))


def deep_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    """The groundup rows of the mode and their baselines, each (task, agent, steps) once,
    the longest first so that the cores stay busy to the end."""
    scale, tasks = budgets["deep_scale"], budgets["deep_tasks"]
    cases: dict[tuple[str, str, int], dict[str, Any]] = {}
    for (task, agent), (steps, _) in DEEP_ROWS.items():
        if task not in tasks:
            continue
        n = row_steps(steps, scale)
        for who in (agent, *BASELINES[agent]):
            cases[(task, who, n)] = {"task": task, "agent": who, "steps": n}
    return sorted(cases.values(), key=lambda c: -c["steps"])


def make_model(agent: str, env: Any, seed: int) -> Any:
    """The agent with its library's defaults: groundup's registry, or SB3's class."""
    if agent in SB3_ALGOS:
        import stable_baselines3 as sb3

        cls = {"sb3-dqn": sb3.DQN, "sb3-a2c": sb3.A2C, "sb3-ppo": sb3.PPO}[agent]
        return cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0)
    from groundup import agents

    return agents.make(agent, env, seed=seed, device="cpu")


def deep(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One agent with its defaults on one task for ``case["steps"]`` steps: its evaluation
    curve, final mean return (20 episodes), whether it solved the task, training seconds."""
    import gymnasium as gym

    from benchmarks.rl_deep import Evaluator, record, sb3_callback

    spec = DEEP_TASKS[case["task"]]
    steps, agent = int(case["steps"]), case["agent"]
    model = make_model(agent, gym.make(spec["env"]), seed)
    ev = Evaluator(spec["env"], seed, steps, spec["threshold"])
    start = time.perf_counter()
    if agent in SB3_ALGOS:
        model.learn(steps, callback=sb3_callback(ev))
    else:
        model.learn(steps, callback=lambda locals_, globals_: ev.maybe(model, model.num_timesteps))
    return record(ev, model, time.perf_counter() - start - ev.eval_seconds, steps)


# -- the report ----------------------------------------------------------------------------------------------
def group(records: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    """(task, agent, steps) -> the metrics of each seed's run."""
    out: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in records:
        case = r["params"]["case"]
        out.setdefault((case["task"], case["agent"], int(case["steps"])), []).append(r["metrics"])
    return out


def _solved(ms: list[dict[str, Any]]) -> int:
    return sum(bool(m["solved"]) for m in ms)


def row_verdicts(runs: dict[tuple[str, str, int], list[dict[str, Any]]], scale: float
                 ) -> list[dict[str, Any]]:
    """Per groundup row present in the runs: its seeds, solves, targets and baselines."""
    out = []
    for (task, agent), (steps, share) in DEEP_ROWS.items():
        n = row_steps(steps, scale)
        ms = runs.get((task, agent, n))
        if not ms:
            continue
        base = {b: runs.get((task, b, n), []) for b in BASELINES[agent]}
        solved = _solved(ms)
        share_met = None if share is None else solved >= share * len(ms) - 1e-9
        vs_base = all(solved >= _solved(bms) for bms in base.values() if bms) if any(base.values()) else None
        out.append({"task": task, "agent": agent, "steps": n, "runs": ms, "solved": solved, "share": share,
                    "share_met": share_met, "baselines": base, "vs_baselines": vs_base})
    return out


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "**not met**")


def earlier_rows(text: str, scale: float) -> dict[tuple[str, str], dict[str, Any]]:
    """The groundup rows of an earlier report's deep table (``text``, the section), keyed by
    (task, agent): each row's cells and its two verdicts, read back from the cells. Only rows
    whose budget is this mode's are returned."""
    task_of = {spec["env"]: task for task, spec in DEEP_TASKS.items()}
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != len(ROW_HEADINGS) or cells[0] not in task_of:
            continue
        key = (task_of[cells[0]], cells[1])
        if key not in DEEP_ROWS or cells[2] != f"{row_steps(DEEP_ROWS[key][0], scale):,}":
            continue
        verdict = lambda cell: None if not cell else "not met" not in cell  # noqa: E731
        out[key] = {"cells": cells, "share_met": verdict(cells[5]), "vs_baselines": verdict(cells[7])}
    return out


ROW_HEADINGS = ["task", "agent", "steps", "solved", "final return", "target (seeds)", "SB3 defaults: solved, mean final",
                ">= SB3", "train s"]


def render_deep(records: list[dict[str, Any]], args: Any, budgets: dict[str, Any], earlier: str = ""
                ) -> tuple[str, list[str]]:
    """The deep section from this run's records. Rows of the earlier report (``earlier``, its
    text) that this run did not run are kept, so that a section of days of CPU can grow a
    few rows at a time: the run store does not outlive the machine it ran on."""
    if not records:
        return "", []
    runs = group(records)
    rows = row_verdicts(runs, budgets["deep_scale"])
    if not rows:
        return "", []
    new: dict[tuple[str, str], dict[str, Any]] = {}
    for v in rows:
        ms, n = v["runs"], len(v["runs"])
        cells = [f"{DEEP_TASKS[v['task']]['env']}", v["agent"], f"{v['steps']:,}",
                 f"{v['solved']}/{n}", common.mean_ci([m["final"] for m in ms], 1),
                 "" if v["share"] is None else f">= {round(v['share'] * n)}/{n}: {_verdict(v['share_met'])}"]
        base_cells = []
        for b, bms in v["baselines"].items():
            base_cells.append(f"{b}: {_solved(bms)}/{len(bms)}, {np.mean([m['final'] for m in bms]):.1f}" if bms
                              else f"{b}: not run")
        cells += ["; ".join(base_cells), _verdict(v["vs_baselines"]),
                  f"{np.median([m['train_seconds'] for m in ms]):.0f}"]
        new[(v["task"], v["agent"])] = {"cells": cells, "share_met": v["share_met"], "vs_baselines": v["vs_baselines"]}
    kept = {k: r for k, r in earlier_rows(earlier, budgets["deep_scale"]).items() if k not in new}
    every = {k: new.get(k) or kept[k] for k in DEEP_ROWS if k in new or k in kept}
    summary = []
    for agent in dict.fromkeys(agent for _, agent in every):
        mine = [r for (_, a), r in every.items() if a == agent]
        targeted = [r["share_met"] for r in mine if r["share_met"] is not None]
        compared = [r["vs_baselines"] for r in mine if r["vs_baselines"] is not None]
        summary.append([agent, len(mine), f"{sum(targeted)}/{len(targeted)}", f"{sum(compared)}/{len(compared)}",
                        "**met**" if all(targeted) and all(compared) else "**not met**"])
    n_seeds = len({r["seed"] for r in records})
    missing = [f"{DEEP_TASKS[t]['env']} {a}" for (t, a) in DEEP_ROWS
               if (t, a) not in every and t in budgets["deep_tasks"]]
    not_run = f"\n\nRows not run yet (no finished run in the store): {', '.join(missing)}." if missing else ""
    if kept:
        not_run += ("\n\nRows kept from the earlier report (this run did not run them; the picture shows the rows it "
                    f"ran): {', '.join(DEEP_TASKS[t]['env'] + ' ' + a for t, a in kept)}.")
    text = ("### Deep and linear agents with the defaults, against SB3's defaults\n\n"
            f"`agents.make(id, gym.make(env), seed=seed)` and `learn(steps)`; SB3: `DQN`/`A2C`/`PPO(\"MlpPolicy\", "
            f"env, seed=seed)` with SB3's own defaults, the same budget and seeds; {n_seeds} seed(s). A seed solves "
            "a task when the deterministic policy's mean return over 20 final evaluation episodes reaches Gymnasium's "
            "threshold. Targets (issue 15): the share of seeds shown, where one is set, and at least as many solved "
            "seeds as each SB3 baseline.\n\n"
            + common.markdown_table(["agent", "rows", "seed-share targets met", "rows solving >= SB3", "all targets"],
                                    summary) + "\n\n"
            + common.markdown_table(ROW_HEADINGS, [r["cells"] for r in every.values()])
            + not_run)
    return text, [plot_deep(runs, rows, args)]


def plot_deep(runs: dict[tuple[str, str, int], list[dict[str, Any]]], rows: list[dict[str, Any]], args: Any) -> str:
    """One panel per groundup row: the mean evaluation curve of the agent and its baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(4, len(rows))
    nrows = -(-len(rows) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False, layout="constrained")
    for ax, v in zip(axes.ravel(), rows):
        for i, (who, ms) in enumerate([(v["agent"], v["runs"]), *v["baselines"].items()]):
            if not ms:
                continue
            x = [p[0] for p in ms[0]["curve"]]
            y = np.mean([[p[1] for p in m["curve"]] for m in ms], axis=0)
            ax.plot(x, y, color=f"C{i}", lw=1.4, label=f"{who} ({_solved(ms)}/{len(ms)})")
        ax.axhline(DEEP_TASKS[v["task"]]["threshold"], color="black", lw=0.8, ls="--")
        ax.set_title(f"{DEEP_TASKS[v['task']]['env']}: {v['agent']}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(rows):]:
        ax.axis("off")
    fig.supxlabel("environment steps", fontsize=8)
    fig.supylabel("mean evaluation return", fontsize=8)
    name = "robustness_deep.png"
    common.savefig(fig, args, name)
    plt.close(fig)
    return name
