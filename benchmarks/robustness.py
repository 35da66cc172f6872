"""Robustness of the agents' defaults: every agent built with its defaults, only the budget
and the seed given, on a family of tasks, against an exact reference (issue 15).

DESIGN.md asks for one default per agent that works across the family of tasks it is
meant for: a user writes ``agents.make(id, env).learn(n)`` on their own environment. This
benchmark measures exactly that call. (A benchmark that reproduces a book figure, such as
benchmarks/rl_tabular.py's Example 6.6, passes the book's settings explicitly instead.)

    python -m benchmarks.robustness                      # the full tables (5 seeds)
    python -m benchmarks.robustness --only tabular       # one section (or prediction, bandits, deep)
    python -m benchmarks.robustness --only taxi          # one task of a section
    python -m benchmarks.robustness --quick              # smaller budgets, 2 seeds (minutes)
    python -m benchmarks.robustness --smoke              # tiny budgets (seconds; the tests)

Sections (``SECTIONS``); each run is named ``SECTION:TASK:AGENT`` and ``--only`` keeps the
runs whose name contains one of its comma-separated substrings:

* ``tabular`` (benchmarks/_robustness_tabular.py): ``q-learning``, ``sarsa``,
  ``mc-control`` and ``mc-exploring-starts`` on FrozenLake (4x4, 8x8 and five random 8x8
  maps), Taxi, CliffWalking, GridWorld, WindyGridWorld and tic-tac-toe, scored by the exact
  expected return of the greedy policy relative to value iteration's; 1M steps, and 5M for
  the Monte Carlo agents.
* ``prediction`` (benchmarks/_robustness_prediction.py): ``policy-evaluation``,
  ``mc-prediction``, ``td0-prediction`` and ``semi-gradient-td0`` on GridWorld, FrozenLake
  and Blackjack, scored by the on-policy-weighted RMS error against the exact values.
* ``bandits`` (benchmarks/_robustness_bandits.py): ``epsilon-greedy``,
  ``optimistic-initial-values``, ``ucb1`` and ``thompson-sampling`` on the Gaussian testbed
  with 2, 10 and 50 arms and on Bernoulli arms (2 and 10, means drawn from U(0, 1)), many
  problems per seed in one vector environment; score 1 - R(T) / R_uniform(T), and the
  regret beside Lai & Robbins' lower bound and UCB1's finite-time upper bound (Auer et al.
  2002), computed per problem.
* ``deep`` (benchmarks/_robustness_deep.py): ``dqn``, ``policy-gradient`` and
  ``semi-gradient-sarsa`` on CartPole-v1, Acrobot-v1, MountainCar-v0 and LunarLander-v3
  (policy-gradient's Gaussian mode also on MountainCarContinuous-v0 and
  LunarLanderContinuous-v3), each against SB3's DQN, A2C and PPO with SB3's own defaults at
  the same budget and seeds. The full section is days of CPU on two cores (the LunarLander
  rows alone: 5 seeds x 3-4 agents x 0.5-1M steps); run it in parts with ``--only
  deep:cartpole`` and the like: every finished run is kept in the store, and a report
  written with ``--update-results`` keeps the earlier report's rows that the run did not
  run (the store does not outlive the machine, and the rows take sessions to collect).

Each section's module docstring gives its tasks, scores and targets (issue 15's). A target
is met on a task when at least 4 of 5 seeds meet it, and met by an agent when it is met on
every task it applies to; every verdict in the report is computed from the runs.

A section is one ``Section`` entry in ``SECTIONS``: a run function (one engine run per
case and seed, returning JSON), the cases of each mode (dicts with ``task``, ``agent`` and
whatever the function takes), a renderer from the records to markdown and pictures, and
what refuses to run where. The command line, the store, ``--only``, the report's assembly
and the keeping of sections a partial run did not run are shared, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks import _robustness_prediction as prediction
from benchmarks import _robustness_tabular as tabular
from benchmarks._robustness_bandits import bandit_cases, render_bandits
from benchmarks._robustness_deep import DEEP_TASKS, deep_cases, render_deep

# per mode: steps of the TD agents, the Monte Carlo budgets, evaluation episodes of the
# stochastic tasks, prediction steps, the bandits' pulls per problem and problems per seed,
# the deep budgets' scale and tasks, seeds
BUDGETS: dict[str, dict[str, Any]] = {
    "full": dict(steps=1_000_000, mc_steps=(1_000_000, 5_000_000), eval_episodes=1000, prediction_steps=1_000_000,
                 bandit_steps=10_000, bandit_problems=200, deep_scale=1.0, deep_tasks=tuple(DEEP_TASKS),
                 seeds=(0, 1, 2, 3, 4)),
    "quick": dict(steps=200_000, mc_steps=(200_000, 1_000_000), eval_episodes=200, prediction_steps=200_000,
                  bandit_steps=2_000, bandit_problems=100, deep_scale=0.2, deep_tasks=("cartpole",), seeds=(0, 1)),
    "smoke": dict(steps=2_000, mc_steps=(2_000, 4_000), eval_episodes=10, prediction_steps=2_000,
                  bandit_steps=200, bandit_problems=10, deep_scale=0.01, deep_tasks=("cartpole",), seeds=(0,)),
}


@dataclass(frozen=True)
class Section:
    """One part of the benchmark: the engine run function, its cases for a mode (dicts with
    ``task`` and ``agent``), the renderer of its records, and why an agent cannot run on a task."""

    function: str
    cases: Callable[[dict[str, Any]], list[dict[str, Any]]]
    render: Callable[[list[dict[str, Any]], Any, dict[str, Any]], tuple[str, list[str]]]
    unsupported: Callable[[str, str], str | None] = lambda task, agent: None  # why (task, agent) cannot run, or None
    keeps_rows: bool = False  # the renderer takes the earlier report's section (earlier=) and keeps the rows not run


# the first words of each section's heading in the report (earlier_sections finds them there)
SECTION_HEADINGS = {"tabular": "### Tabular control", "prediction": "### Prediction", "bandits": "### Bandits",
                    "deep": "### Deep and linear"}
SECTIONS: dict[str, Section] = {
    "tabular": Section("benchmarks._robustness_tabular:control", tabular.tabular_cases, tabular.render_tabular,
                       tabular.unsupported),
    "prediction": Section("benchmarks._robustness_prediction:prediction", prediction.prediction_cases,
                          prediction.render_prediction, prediction.unsupported),
    "bandits": Section("benchmarks._robustness_bandits:bandit", bandit_cases, render_bandits),
    "deep": Section("benchmarks._robustness_deep:deep", deep_cases, render_deep, keeps_rows=True),
}


def run_name(section: str, task: str, agent: str) -> str:
    return f"{section}:{task}:{agent}"


def unsupported(section: str, task: str, agent: str) -> str | None:
    """Why ``agent`` cannot run on ``task`` in ``section`` (its constructor's message), or None."""
    return SECTIONS[section].unsupported(task, agent)


def earlier_sections(path: Path) -> dict[str, tuple[str, list[str]]]:
    """The sections of the tracked report at ``path`` (name -> its text and pictures), so that
    a run of some sections (``--only deep``) rewrites those and keeps the others: the full
    benchmark takes days on two cores, and a partial rerun must not erase what it did not
    run. A section is found by its renderer's heading; its picture is ``robustness_NAME.png``."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    starts = [i for i, line in enumerate(lines) if line.startswith("### ")]
    footer = next((i for i, line in enumerate(lines) if i > max(starts, default=-1)
                   and line.startswith(("![", "_Configuration", "Sections "))), len(lines))
    ends = starts[1:] + [footer]
    pictures = {m for line in lines if line.startswith("![") for m in re.findall(r"\]\(([^)]+)\)", line)}
    out = {}
    for start, end in zip(starts, ends):
        name = next((n for n, heading in SECTION_HEADINGS.items() if lines[start].startswith(heading)), None)
        if name is not None:
            picture = f"robustness_{name}.png"
            out[name] = ("\n".join(lines[start:end]).strip(), [picture] if picture in pictures else [])
    return out


def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("robustness", __doc__.splitlines()[0], argv)
    budgets = dict(BUDGETS[args.mode])
    budgets["seeds"] = common.seeds_for(args, budgets["seeds"])
    records: dict[str, list[dict[str, Any]]] = {}
    for name, section in SECTIONS.items():
        cases = [c for c in section.cases(budgets) if common.selected(args, run_name(name, c["task"], c["agent"]))]
        cases = [c for c in cases if unsupported(name, c["task"], c["agent"]) is None]
        if cases:
            records[name] = common.sweep(args, section.function, {"case": cases}, budgets["seeds"], desc=name).records
    every = [r for rs in records.values() for r in rs]
    if not every:
        raise SystemExit(f"--only {','.join(args.only)} matches no run; runs are named SECTION:TASK:AGENT "
                         f"(sections {', '.join(SECTIONS)})")

    earlier = earlier_sections(args.out / "robustness.md") if args.update_results else {}

    def render() -> str:
        parts, pictures, kept = [], [], []
        for name, section in SECTIONS.items():
            extra = {"earlier": earlier.get(name, ("", []))[0]} if section.keeps_rows else {}
            text, pics = section.render([r for r in records.get(name, []) if r["status"] == "ok"], args, budgets, **extra)
            if not text and name in earlier:  # not run this time (or every run failed): the earlier section stays
                text, pics = earlier[name]
                kept.append(name)
            if text:
                parts.append(text)
                pictures += pics
        if kept:
            parts.append(f"Sections {', '.join(kept)}: kept from the earlier report (this run did not run them).")
        if pictures:
            parts.append(" ".join(f"![{p.removesuffix('.png')}]({p})" for p in pictures))
        return "\n\n".join(parts)

    common.finish(args, every, render, lambda r: run_name(next(n for n in records if r in records[n]),
                                                           r["params"]["case"]["task"], r["params"]["case"]["agent"]))


if __name__ == "__main__":
    main()
