"""The ``tabular`` section of benchmarks/robustness.py: the control agents with their
defaults on a family of finite tasks, scored against value iteration's policy.

Agents: ``q-learning``, ``sarsa``, ``mc-control`` and, on the tasks whose
environment starts anywhere through ``reset(options={"state": s})`` (found by asking
each environment; Gymnasium's toy-text ones do not), ``mc-exploring-starts``. Tasks:
FrozenLake-v1 4x4 and 8x8 (slippery), five random 8x8 slippery maps from
``generate_random_map(8, seed=s)`` (``MAP_SEEDS``; 200-step limit, as FrozenLake8x8-v1),
Taxi-v4, CliffWalking-v1, groundup/GridWorld-v0, groundup/WindyGridWorld-v0 and
groundup/TicTacToe-v0 against its random opponent. The reference is the greedy policy
of the ``value-iteration`` agent on the environment's model ``P`` (gamma 0.99, the
learners' default; with gamma 1 its greedy policy stalls on ties on FrozenLake 8x8 and
GridWorld). Both policies are scored the same way: the exact expected return of the
deterministic greedy policy from the start distribution within the task's time limit
(``T`` backward steps over ``P``: the mean over infinitely many evaluation episodes),
and, as a check, the mean over the mode's evaluation episodes, simulated with the same
seeds for both (one episode on the deterministic tasks, whose episodes are all alike).
CliffWalking-v1 has no time limit: its evaluation stops at ``EVAL_LIMIT`` steps, and
tic-tac-toe ends within nine moves. Budget: 1M steps, and 5M for the Monte Carlo agents
as well. A Monte Carlo agent whose settings do not depend on the budget (no schedule)
learns once and is scored at 1M on its way to 5M (``learn(1M)``, then ``learn(4M)``:
the first part is the 1M run itself); one with a schedule runs each budget on its own.

The score of a control run is its return relative to the reference: G / G_ref where the
reference return is positive (success rates, Taxi, GridWorld, tic-tac-toe) and G_ref / G
where returns count costs (CliffWalking, WindyGridWorld), so that 1 is the reference and
lower is worse on every task. Means carry 95% bootstrap intervals over the seeds; the
summary pools an agent's tasks with the interquartile mean and a stratified bootstrap
(``groundup.experiments.stats``).

The targets (``control_target``), each shown as met or not met from the runs; a target is
met on a task when at least ``SEED_SHARE`` (4 of 5) of the seeds meet it, and met by an
agent when it is met on every task it applies to:

* ``q-learning``, ``sarsa`` at 1M steps: score >= 0.9 on every FrozenLake map, return >=
  7.0 on Taxi-v4 (the optimum is 7.93), the optimal return on CliffWalking, GridWorld and
  WindyGridWorld (SARSA's safer paths count within 10%: score >= 1/1.1);
* ``mc-control``, ``mc-exploring-starts`` at 5M steps: score >= 0.75 on every FrozenLake
  map, return >= 5.0 on Taxi-v4 (where the agent can run at all).

The module is a part of benchmarks/robustness.py (run it there: ``--only tabular``); the
leading underscore keeps ``groundup bench`` from running it as a benchmark of its own.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks._robustness_exact import (
    exact_return, horizon, make_env, model_of, refusal, seed_share_met, short_reason, simulate, start_distribution,
)
from groundup.experiments.stats import bootstrap_ci, iqm, summarize

MAP_SEEDS = (0, 1, 2, 3, 4)  # generate_random_map(8, seed=s): five random 8x8 slippery lakes
REFERENCE_GAMMA = 0.99  # value iteration's gamma for the reference policy: the learners' default

# task -> how to make it: env id and kwargs, the random map's seed, whether its episodes are
# all alike (deterministic dynamics from one start state: one evaluation episode suffices)
CONTROL_TASKS: dict[str, dict[str, Any]] = {
    "frozenlake-4x4": dict(env="FrozenLake-v1"),
    "frozenlake-8x8": dict(env="FrozenLake8x8-v1"),
    **{f"frozenlake-random-{s}": dict(env="FrozenLake-v1", map_seed=s, kwargs={"max_episode_steps": 200}) for s in MAP_SEEDS},
    "taxi": dict(env="Taxi-v4"),
    "cliffwalking": dict(env="CliffWalking-v1", deterministic=True),
    "gridworld": dict(env="groundup/GridWorld-v0", deterministic=True),
    "windygridworld": dict(env="groundup/WindyGridWorld-v0", deterministic=True),
    "tictactoe": dict(env="groundup/TicTacToe-v0"),
}
CONTROL_AGENTS = ("q-learning", "sarsa", "mc-control", "mc-exploring-starts")
MONTE_CARLO = ("mc-control", "mc-exploring-starts")
SAFE_PATH = 1 / 1.1  # SARSA's safer path counts when its cost is within 10% of the optimum


def control_target(agent: str, task: str) -> tuple[str, float, str] | None:
    """``(measure, threshold, words)`` for one agent on one task, or None where the issue
    sets none: ``measure`` is ``"score"`` (relative to the reference) or ``"return"``."""
    if agent in MONTE_CARLO:
        if task.startswith("frozenlake"):
            return "score", 0.75, "score >= 0.75"
        if task == "taxi":
            return "return", 5.0, "return >= 5.0"
        return None
    if task.startswith("frozenlake"):
        return "score", 0.9, "score >= 0.9"
    if task == "taxi":
        return "return", 7.0, "return >= 7.0"
    if task in ("cliffwalking", "gridworld", "windygridworld"):
        if agent == "sarsa":
            return "score", SAFE_PATH, "optimal, or cost within 10%"
        return "score", 1.0 - 1e-9, "optimal return"
    return None


def make_task(task: str) -> Any:
    """The control task's environment, as a user would make it."""
    return make_env(CONTROL_TASKS[task])


@functools.lru_cache(maxsize=None)
def reference(task: str) -> dict[str, Any]:
    """Value iteration's greedy policy on the task (gamma ``REFERENCE_GAMMA``), its exact
    return within the time limit, and the best return possible within that limit."""
    from groundup import agents

    env = make_task(task)
    vi = agents.make("value-iteration", env, gamma=REFERENCE_GAMMA).learn()
    model, start, T = model_of(env), start_distribution(env), horizon(env)
    actions = np.asarray(vi.policy).argmax(axis=1)
    return {"actions": actions, "exact": exact_return(model, start, actions, T),
            "optimum_within_limit": exact_return(model, start, None, T), "horizon": T, "model": model, "start": start,
            "agent": vi}


def relative_score(G: float, G_ref: float) -> float | None:
    """G / G_ref for a positive reference; G_ref / G when returns count costs (both negative).

    None when the reference's return is 0: a time limit too short to reach any reward
    leaves the ratio undefined. The run still counts and is reported by its return."""
    if G_ref > 0:
        return G / G_ref
    if G_ref < 0:
        if G >= 0:
            raise ValueError(f"a return of {G} where every return is a cost (the reference's is {G_ref})")
        return G_ref / G
    return None


def uses_schedule(agent: Any) -> bool:
    """Whether the agent's settings move with the budget (an epsilon schedule): then a 1M
    run is not the first part of a 5M run."""
    return bool(getattr(agent, "_uses_progress", False))


def control(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One control agent, with its defaults (plus ``case["params"]``, empty in this
    benchmark), on one task, scored at each budget of ``case["steps"]``."""
    from groundup import agents

    task, agent_id, budgets = case["task"], case["agent"], sorted(case["steps"])
    params, episodes = dict(case.get("params", {})), int(case["eval_episodes"])
    spec = CONTROL_TASKS[task]
    episodes = 1 if spec.get("deterministic") else episodes
    ref = reference(task)
    env = make_task(task)
    eval_seed = 10_000 + seed
    out: dict[str, Any] = {"reference": ref["exact"], "optimum_within_limit": ref["optimum_within_limit"],
                           "reference_simulated": simulate(ref["agent"], make_task(task), episodes, eval_seed),
                           "horizon": ref["horizon"], "eval_episodes": episodes, "results": []}
    model, done = None, 0
    for steps in budgets:
        if model is None or uses_schedule(model):
            model, done = agents.make(agent_id, env, seed=seed, **params), 0
        start = time.perf_counter()
        model.learn(steps - done)
        seconds = time.perf_counter() - start
        done = steps
        actions = np.asarray(model.policy).argmax(axis=1)
        G = exact_return(ref["model"], ref["start"], actions, ref["horizon"])
        out["results"].append({"steps": steps, "return": G, "score": relative_score(G, ref["exact"]),
                               "simulated": simulate(model, make_task(task), episodes, eval_seed),
                               "learn_seconds": seconds, "episodes": len(model.episode_returns)})
        out["separate_runs"] = uses_schedule(model)
    return out


@functools.lru_cache(maxsize=None)
def unsupported(task: str, agent: str) -> str | None:
    """Why ``agent`` cannot run on ``task`` (its constructor's message), or None."""
    return refusal(agent, make_task(task))


# -- the report ------------------------------------------------------------------------------------------------
def _steps(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def control_rows(records: list[dict[str, Any]], scored: bool = True) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    """(task, agent, steps) -> the per-seed results at that budget: those with a score, or
    (``scored=False``) those whose reference return is 0, which have none."""
    out: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in records:
        case = r["params"]["case"]
        for res in r["metrics"]["results"]:
            if (res["score"] is not None) == scored:
                out.setdefault((case["task"], case["agent"], res["steps"]), []).append({**res, "seed": r["seed"]})
    return out


def target_steps(agent: str, budgets: dict[str, Any]) -> int:
    return max(budgets["mc_steps"]) if agent in MONTE_CARLO else budgets["steps"]


def control_verdicts(rows: dict[tuple[str, str, int], list[dict[str, Any]]], budgets: dict[str, Any]
                     ) -> dict[tuple[str, str], tuple[int, int, bool] | None]:
    """(task, agent) -> (seeds that meet the target, seeds, met) at the agent's target
    budget, or None where no target applies."""
    out: dict[tuple[str, str], tuple[int, int, bool] | None] = {}
    for (task, agent, steps), runs in rows.items():
        if steps != target_steps(agent, budgets):
            continue
        target = control_target(agent, task)
        if target is None:
            out[(task, agent)] = None
            continue
        measure, threshold, _ = target
        passed = sum(r[measure] >= threshold for r in runs)
        out[(task, agent)] = (passed, len(runs), seed_share_met(passed, len(runs)))
    return out


def render_tabular(records: list[dict[str, Any]], args: Any, budgets: dict[str, Any]) -> tuple[str, list[str]]:
    if not records:
        return "", []
    rows = control_rows(records)
    verdicts = control_verdicts(rows, budgets)
    refs = {r["params"]["case"]["task"]: r["metrics"] for r in records}
    tasks = [t for t in CONTROL_TASKS if t in refs]
    agents_here = [a for a in CONTROL_AGENTS if any(k[1] == a for k in rows)]
    n_eval = budgets["eval_episodes"]
    parts = [f"### Tabular control with the defaults\n\nEach agent is `agents.make(id, env, seed=seed)` and "
             f"`learn(steps)`, nothing else; {len(budgets['seeds'])} seed(s). Score: the greedy policy's exact expected "
             "return within the time limit relative to the reference's (value iteration's greedy policy, gamma "
             f"{REFERENCE_GAMMA}); 1 is the reference, lower is worse. Mean [95% bootstrap interval] over the seeds."]
    # references
    ref_rows = []
    for task in tasks:
        m = refs[task]
        ref_rows.append([task, CONTROL_TASKS[task]["env"], m["horizon"], f"{m['reference']:.4f}",
                         f"{m['reference_simulated']:.4f} ({m['eval_episodes']:,})", f"{m['optimum_within_limit']:.4f}"])
    parts.append("The references:\n\n" + common.markdown_table(
        ["task", "environment", "time limit", "value iteration's greedy policy: exact return",
         "simulated (episodes)", "best possible within the limit"], ref_rows))
    # summary, one row per agent and budget
    summary = []
    for agent in agents_here:
        for steps in sorted({k[2] for k in rows if k[1] == agent}):
            scores = {t: [r["score"] for r in rows[(t, agent, steps)]] for t in tasks if (t, agent, steps) in rows}
            if not scores:
                continue
            pooled = np.concatenate([np.asarray(v) for v in scores.values()])
            low, high = bootstrap_ci(scores, iqm)
            worst = min(scores, key=lambda t: float(np.mean(scores[t])))
            cells = [agent, _steps(steps), len(scores), f"{iqm(pooled):.3f} [{low:.3f}, {high:.3f}]",
                     f"{worst} ({np.mean(scores[worst]):.3f})"]
            if steps == target_steps(agent, budgets):
                applicable = [v for (t, a), v in verdicts.items() if a == agent and v is not None]
                met = sum(v[2] for v in applicable)
                cells += [f"{met}/{len(applicable)}", "**met**" if applicable and met == len(applicable) else
                          ("not measured" if not applicable else "**not met**")]
            else:
                cells += ["", "(reported)"]
            summary.append(cells)
    parts.append("Summary, one row per agent and budget (IQM of the scores over every task and seed, stratified "
                 "bootstrap interval; the targets at the agent's target budget):\n\n" + common.markdown_table(
                     ["agent", "steps", "tasks", "IQM score [95% CI]", "worst task (mean score)", "tasks meeting target",
                      "all targets"], summary))
    # per task
    per_task = []
    for task in tasks:
        for agent in agents_here:
            steps_here = sorted({k[2] for k in rows if k[:2] == (task, agent)})
            if not steps_here:
                reason = unsupported(task, agent)
                if reason:
                    per_task.append([task, agent, "", short_reason(reason), "", "", "", ""])
                continue
            target = control_target(agent, task)
            for steps in steps_here:
                runs = rows[(task, agent, steps)]
                verdict = ""
                if steps == target_steps(agent, budgets) and target is not None:
                    passed, n, met = verdicts[(task, agent)]
                    verdict = f"{target[2]}: {passed}/{n} {'met' if met else '**not met**'}"
                per_task.append([task, agent, _steps(steps), common.mean_ci([r["score"] for r in runs]),
                                 common.mean_ci([r["return"] for r in runs], 3), common.mean_ci([r["simulated"] for r in runs], 3),
                                 verdict, f"{np.median([r['learn_seconds'] for r in runs]):.1f}"])
    parts.append(f"Per task (simulated: the mean over {n_eval:,} evaluation episodes, one on the deterministic "
                 "tasks, with the references' seeds):\n\n" + common.markdown_table(
                     ["task", "agent", "steps", "score", "exact return", "simulated return", "target (seeds)",
                      "learn() s"], per_task))
    unscored = control_rows(records, scored=False)
    if unscored:
        parts.append("No score (the reference's return within the time limit is 0, so the ratio is undefined; "
                     "the runs finished and are reported by their return):\n\n" + common.markdown_table(
                         ["task", "agent", "steps", "exact return", "simulated return", "learn() s"],
                         [[task, agent, _steps(steps), common.mean_ci([r["return"] for r in runs], 3),
                           common.mean_ci([r["simulated"] for r in runs], 3),
                           f"{np.median([r['learn_seconds'] for r in runs]):.1f}"]
                          for (task, agent, steps), runs in unscored.items()]))
    picture = plot_tabular(rows, tasks, agents_here, budgets, args)
    return "\n\n".join(parts), [picture]


def plot_tabular(rows: dict, tasks: list[str], agents_here: list[str], budgets: dict[str, Any], args: Any) -> str:
    """Score per task, one marker per agent at its target budget (hollow: the Monte Carlo
    agents at the smaller budget), with 95% intervals over the seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
    x = np.arange(len(tasks))
    series = [(a, s) for a in agents_here for s in sorted({k[2] for k in rows if k[1] == a})]
    width = 0.8 / max(1, len(series))
    colours = {a: f"C{i}" for i, a in enumerate(agents_here)}
    floor = -0.2
    for i, (agent, steps) in enumerate(series):
        main = steps == target_steps(agent, budgets)
        for j, task in enumerate(tasks):
            runs = rows.get((task, agent, steps))
            if not runs:
                continue
            s = summarize([r["score"] for r in runs])
            mean, low, high = (max(floor, v) for v in (s["mean"], s["ci_low"], s["ci_high"]))
            ax.errorbar(x[j] - 0.4 + width * (i + 0.5), mean, yerr=[[mean - low], [high - mean]], fmt="o",
                        color=colours[agent], mfc=colours[agent] if main else "white", ms=4, lw=1,
                        label=f"{agent}, {_steps(steps)} steps" if j == 0 or not ax.get_legend_handles_labels()[1]
                        .count(f"{agent}, {_steps(steps)} steps") else None)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(x, tasks, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(floor - 0.05, 1.2)
    ax.set_ylabel(f"score (1 = value iteration; clipped at {floor})", fontsize=8)
    ax.set_title("Tabular control with the defaults: greedy return relative to the reference", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=7, ncol=3, loc="lower left")
    name = "robustness_tabular.png"
    common.savefig(fig, args, name)
    plt.close(fig)
    return name


def tabular_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    cases = []
    for agent in CONTROL_AGENTS:  # the long Monte Carlo runs first, so that the cores stay busy to the end
        steps = list(budgets["mc_steps"]) if agent in MONTE_CARLO else [budgets["steps"]]
        for task in CONTROL_TASKS:
            cases.append({"task": task, "agent": agent, "steps": steps, "eval_episodes": budgets["eval_episodes"]})
    return sorted(cases, key=lambda c: -max(c["steps"]))
