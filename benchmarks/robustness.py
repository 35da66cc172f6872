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

* ``tabular`` (control): ``q-learning``, ``sarsa``, ``mc-control`` and, on the tasks whose
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
* ``prediction``: ``policy-evaluation``, ``mc-prediction``, ``td0-prediction`` and
  ``semi-gradient-td0`` evaluate the uniformly random policy on GridWorld and FrozenLake
  4x4 and 8x8 (each with the agent's default gamma), and Sutton & Barto's stick-on-20
  policy on Blackjack-v1 (gamma 1: the exact values of ``groundup.envs.blackjack`` are
  undiscounted). Error: the root of the book's VE (section 9.2), the squared error of
  each state weighted by the on-policy distribution mu (the expected visits per episode,
  exact), against v = (I - gamma P_pi)^-1 r_pi solved from ``P`` (Blackjack:
  ``blackjack.policy_values`` and ``blackjack.expected_visits``), reported relative to the
  range of the exact values over the states mu reaches. Budget: 1M steps. An agent that
  cannot run on a task (no ``P`` for dynamic programming, a Tuple observation space for
  the linear agent) is shown as such, with the reason its constructor gives.

The score of a control run is its return relative to the reference: G / G_ref where the
reference return is positive (success rates, Taxi, GridWorld, tic-tac-toe) and G_ref / G
where returns count costs (CliffWalking, WindyGridWorld), so that 1 is the reference and
lower is worse on every task. Means carry 95% bootstrap intervals over the seeds; the
summary pools an agent's tasks with the interquartile mean and a stratified bootstrap
(``groundup.experiments.stats``).

The targets (``control_target``, ``PREDICTION_TARGET``), each shown as met or not met from
the runs; a target is met on a task when at least ``SEED_SHARE`` (4 of 5) of the seeds meet
it, and met by an agent when it is met on every task it applies to:

* ``q-learning``, ``sarsa`` at 1M steps: score >= 0.9 on every FrozenLake map, return >=
  7.0 on Taxi-v4 (the optimum is 7.93), the optimal return on CliffWalking, GridWorld and
  WindyGridWorld (SARSA's safer paths count within 10%: score >= 1/1.1);
* ``mc-control``, ``mc-exploring-starts`` at 5M steps: score >= 0.75 on every FrozenLake
  map, return >= 5.0 on Taxi-v4 (where the agent can run at all);
* prediction agents: RMS error <= 2% of the exact values' range on every task.

* ``bandits`` (benchmarks/_robustness_bandits.py, whose docstring gives the details and
  the papers): ``epsilon-greedy``, ``optimistic-initial-values``, ``ucb1`` and
  ``thompson-sampling`` on the Gaussian testbed with 2, 10 and 50 arms and on Bernoulli
  arms (2 and 10, means drawn from U(0, 1)), many problems per seed in one vector
  environment; score 1 - R(T) / R_uniform(T), and the regret beside Lai & Robbins' lower
  bound and UCB1's finite-time upper bound (Auer et al. 2002), computed per problem.

* ``deep`` (benchmarks/_robustness_deep.py, whose docstring gives the details): ``dqn``,
  ``policy-gradient`` and ``semi-gradient-sarsa`` on CartPole-v1, Acrobot-v1,
  MountainCar-v0 and LunarLander-v3 (policy-gradient's Gaussian mode also on
  MountainCarContinuous-v0 and LunarLanderContinuous-v3), each against SB3's DQN, A2C and
  PPO with SB3's own defaults at the same budget and seeds; targets: issue 15's seed
  shares (dqn: CartPole and Acrobot 4/5 in 100k, LunarLander 3/5 in 500k;
  policy-gradient: CartPole 4/5 in 100k, Acrobot 4/5 in 200k, both LunarLanders 3/5 in
  1M) and at least as many solved seeds as each SB3 baseline. The full section is days of
  CPU on two cores (the LunarLander rows alone: 5 seeds x 3-4 agents x 0.5-1M steps); run
  it in parts with ``--only deep:cartpole`` and the like: every finished run is kept.

A
section is one ``Section`` entry in ``SECTIONS``: a run function (one engine run per
case and seed, returning JSON), the cases of each mode (dicts with ``task``, ``agent`` and
whatever the function takes) and a renderer from the records to markdown and pictures.
The command line, the store, ``--only`` and the report's assembly are shared.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.rl_tabular import horizon_values
from benchmarks._robustness_bandits import bandit_cases, render_bandits
from benchmarks._robustness_deep import DEEP_TASKS, deep_cases, render_deep
from groundup.experiments.stats import bootstrap_ci, iqm, summarize

# -- the grid ---------------------------------------------------------------------------------------------
MAP_SEEDS = (0, 1, 2, 3, 4)  # generate_random_map(8, seed=s): five random 8x8 slippery lakes
EVAL_LIMIT = 1000  # evaluation time limit of a task whose environment has none (CliffWalking-v1)
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
PREDICTION_TASKS: dict[str, dict[str, Any]] = {
    "gridworld": dict(env="groundup/GridWorld-v0"),
    "frozenlake-4x4": dict(env="FrozenLake-v1"),
    "frozenlake-8x8": dict(env="FrozenLake8x8-v1"),
    "blackjack": dict(env="Blackjack-v1", gamma=1.0),
}
PREDICTION_AGENTS = ("policy-evaluation", "mc-prediction", "td0-prediction", "semi-gradient-td0")

# per mode: steps of the TD agents, the Monte Carlo budgets, evaluation episodes of the
# stochastic tasks, prediction steps, the bandits' pulls per problem and problems per seed, seeds
BUDGETS: dict[str, dict[str, Any]] = {
    "full": dict(steps=1_000_000, mc_steps=(1_000_000, 5_000_000), eval_episodes=1000, prediction_steps=1_000_000,
                 bandit_steps=10_000, bandit_problems=200, deep_scale=1.0, deep_tasks=tuple(DEEP_TASKS),
                 seeds=(0, 1, 2, 3, 4)),
    "quick": dict(steps=200_000, mc_steps=(200_000, 1_000_000), eval_episodes=200, prediction_steps=200_000,
                  bandit_steps=2_000, bandit_problems=100, deep_scale=0.2, deep_tasks=("cartpole",), seeds=(0, 1)),
    "smoke": dict(steps=2_000, mc_steps=(2_000, 4_000), eval_episodes=10, prediction_steps=2_000,
                  bandit_steps=200, bandit_problems=10, deep_scale=0.01, deep_tasks=("cartpole",), seeds=(0,)),
}

# -- the targets ---------------------------------------------------------------------------------------------
SEED_SHARE = 0.8  # a target is met on a task when at least this share of the seeds meet it (4 of 5)
PREDICTION_TARGET = 0.02  # RMS error relative to the range of the exact values
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


def run_name(section: str, task: str, agent: str) -> str:
    return f"{section}:{task}:{agent}"


# -- environments and exact answers ---------------------------------------------------------------------------
def make_task(task: str, tasks: dict[str, dict[str, Any]] | None = None) -> Any:
    """The task's environment, as a user would make it."""
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/ environments)

    spec = (tasks or {**PREDICTION_TASKS, **CONTROL_TASKS})[task]
    kwargs = dict(spec.get("kwargs", {}))
    if "map_seed" in spec:
        from gymnasium.envs.toy_text.frozen_lake import generate_random_map

        kwargs["desc"] = generate_random_map(8, seed=spec["map_seed"])
    return gym.make(spec["env"], **kwargs)


def horizon(env: Any) -> int:
    """The evaluation time limit: the environment's own, else ``EVAL_LIMIT``."""
    limit = env.spec.max_episode_steps if env.spec is not None else None
    return int(limit) if limit else EVAL_LIMIT


def evaluation_env(env: Any) -> Any:
    """The environment evaluation episodes run in: a time limit added where it has none."""
    import gymnasium as gym

    if env.spec is not None and env.spec.max_episode_steps:
        return env
    return gym.wrappers.TimeLimit(env, EVAL_LIMIT)


def start_distribution(env: Any) -> np.ndarray:
    """The distribution of the first state: the toy-text ``initial_state_distrib``, groundup's
    grid worlds' ``initial_state``, else the state ``reset`` gives, which must not depend on
    the seed (tic-tac-toe with the agent to move first: the empty board)."""
    u = env.unwrapped
    n = u.observation_space.n
    if getattr(u, "initial_state_distrib", None) is not None:
        return np.asarray(u.initial_state_distrib, dtype=float)
    d = np.zeros(n)
    if getattr(u, "initial_state", None) is not None:
        d[int(u.initial_state)] = 1.0
        return d
    first = {int(env.reset(seed=s)[0]) for s in range(5)}
    if len(first) != 1:
        raise ValueError(f"{env.spec.id if env.spec else u}: the start state is random and the environment does not expose "
                         "its distribution (initial_state_distrib)")
    d[first.pop()] = 1.0
    return d


def model_of(env: Any) -> Any:
    from groundup.agents.dynamic_programming import FiniteModel

    u = env.unwrapped
    return FiniteModel(u.P, int(u.observation_space.n), int(u.action_space.n))


def exact_return(model: Any, start: np.ndarray, actions: np.ndarray | None, steps: int) -> float:
    """The expected undiscounted return within ``steps`` steps of the deterministic policy
    ``actions`` (a state -> action table), or of an optimal one (``None``), from ``start``:
    ``steps`` backward steps of dynamic programming over the model."""
    return float(start @ horizon_values(model, steps, actions))


@functools.lru_cache(maxsize=None)
def reference(task: str) -> dict[str, Any]:
    """Value iteration's greedy policy on the task (gamma ``REFERENCE_GAMMA``), its exact
    return within the time limit, and the best return possible within that limit."""
    from groundup import agents

    env = make_task(task, CONTROL_TASKS)
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


def simulate(agent: Any, env: Any, episodes: int, seed: int) -> float:
    from groundup.experiments.runs import evaluate_agent

    mean, _, _ = evaluate_agent(agent, evaluation_env(env), episodes, seed=seed)
    return mean


def uses_schedule(agent: Any) -> bool:
    """Whether the agent's settings move with the budget (an epsilon schedule): then a 1M
    run is not the first part of a 5M run."""
    return bool(getattr(agent, "_uses_progress", False))


# -- the runs (one engine run each) ---------------------------------------------------------------------------
def control(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One control agent, with its defaults (plus ``case["params"]``, empty in this
    benchmark), on one task, scored at each budget of ``case["steps"]``."""
    from groundup import agents

    task, agent_id, budgets = case["task"], case["agent"], sorted(case["steps"])
    params, episodes = dict(case.get("params", {})), int(case["eval_episodes"])
    spec = CONTROL_TASKS[task]
    episodes = 1 if spec.get("deterministic") else episodes
    ref = reference(task)
    env = make_task(task, CONTROL_TASKS)
    eval_seed = 10_000 + seed
    out: dict[str, Any] = {"reference": ref["exact"], "optimum_within_limit": ref["optimum_within_limit"],
                           "reference_simulated": simulate(ref["agent"], make_task(task, CONTROL_TASKS), episodes, eval_seed),
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
                               "simulated": simulate(model, make_task(task, CONTROL_TASKS), episodes, eval_seed),
                               "learn_seconds": seconds, "episodes": len(model.episode_returns)})
        out["separate_runs"] = uses_schedule(model)
    return out


def prediction_policy(task: str, env: Any) -> np.ndarray:
    """The policy evaluated on ``task``: uniformly random, or on Blackjack the stick-on-20
    policy of Example 5.1 as a table of actions (row-major over the Tuple space, the layout
    of the tabular agents)."""
    if task == "blackjack":
        from groundup.envs import blackjack

        policy = blackjack.stick_at(20)
        return np.array([policy((p, d, a)) for p in range(32) for d in range(11) for a in range(2)], dtype=np.int64)
    n, k = int(env.observation_space.n), int(env.action_space.n)
    return np.full((n, k), 1.0 / k)


def exact_values(task: str, env: Any, policy: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(v_pi, mu)`` over the flat state index: the exact values of ``policy`` and its
    on-policy distribution (expected visits per episode, normalised)."""
    if task == "blackjack":
        from groundup.envs import blackjack

        if gamma != 1.0:
            raise ValueError("the exact Blackjack values are undiscounted: run Blackjack prediction with gamma=1")
        table = policy.reshape(32, 11, 2)
        act = lambda obs: int(table[obs])  # noqa: E731
        v = blackjack.policy_values(act).ravel()
        visits = blackjack.expected_visits(act).ravel()
        v = np.where(visits > 0, v, 0.0)
        return v, visits / visits.sum()
    model = model_of(env)
    S, A = model.n_states, model.n_actions
    P = np.zeros((S * A, S))
    np.add.at(P, (model.rows, model.cols), model.probs)  # continuation probabilities (termination left out)
    P_pi = np.einsum("sa,sat->st", policy, P.reshape(S, A, S))
    r_pi = (policy * model.R).sum(axis=1)
    v = np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
    visits = np.linalg.solve((np.eye(S) - P_pi).T, start_distribution(env))
    visits = np.clip(visits, 0.0, None)
    return v, visits / visits.sum()


def estimated_values(agent: Any) -> np.ndarray:
    """The agent's estimate of v_pi over the flat state index."""
    if hasattr(agent, "value") and not hasattr(agent, "q_table") and getattr(agent, "w", None) is not None:
        n = int(agent.observation_space.n)
        return np.asarray(agent.value(np.arange(n) + int(agent.observation_space.start)), dtype=float)
    return np.asarray(agent.value_function, dtype=float).ravel()


def prediction(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One prediction agent, with its defaults (plus ``case["params"]``), on one task: the
    on-policy-weighted RMS error of its values against the exact ones."""
    from groundup import agents

    task, agent_id, steps = case["task"], case["agent"], int(case["steps"])
    env = make_task(task, PREDICTION_TASKS)
    policy = prediction_policy(task, env)
    gamma = PREDICTION_TASKS[task].get("gamma")
    kwargs = {**({"gamma": gamma} if gamma is not None else {}), **case.get("params", {})}
    model = agents.make(agent_id, env, policy=policy, seed=seed, **kwargs)
    start = time.perf_counter()
    model.learn(steps)
    seconds = time.perf_counter() - start
    v, mu = exact_values(task, env, policy, float(model.gamma))
    error = float(np.sqrt(mu @ (estimated_values(model) - v) ** 2))
    reached = v[mu > 0]
    spread = float(reached.max() - reached.min())
    return {"rms": error, "range": spread, "relative": error / spread, "gamma": float(model.gamma), "learn_seconds": seconds}


# -- which agent runs where ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def unsupported(section: str, task: str, agent: str) -> str | None:
    """Why ``agent`` cannot run on ``task`` (its constructor's message), or None."""
    from groundup import agents

    if section not in ("tabular", "prediction"):
        return None  # every bandit agent runs on every bandit task

    tasks = CONTROL_TASKS if section == "tabular" else PREDICTION_TASKS
    env = make_task(task, tasks)
    kwargs = {"policy": prediction_policy(task, env)} if section == "prediction" else {}
    try:
        agents.make(agent, env, seed=0, **kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def short_reason(reason: str) -> str:
    if "reset(options" in reason:
        return "n/a: the environment cannot start in a chosen state"
    if "model" in reason and "P" in reason:
        return "n/a: no model P"
    if "spaces of kind" in reason:
        return "n/a: Tuple observations"
    return "n/a"


# -- the report ------------------------------------------------------------------------------------------------
def _met(passed: int, n: int) -> bool:
    return n > 0 and passed >= math.ceil(SEED_SHARE * n - 1e-9)


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
        out[(task, agent)] = (passed, len(runs), _met(passed, len(runs)))
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
                reason = unsupported("tabular", task, agent)
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


def render_prediction(records: list[dict[str, Any]], args: Any, budgets: dict[str, Any]) -> tuple[str, list[str]]:
    if not records:
        return "", []
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        case = r["params"]["case"]
        runs.setdefault((case["task"], case["agent"]), []).append(r["metrics"])
    tasks = [t for t in PREDICTION_TASKS if any(k[0] == t for k in runs)]
    agents_here = [a for a in PREDICTION_AGENTS if any(k[1] == a for k in runs)]
    rows: list[list[Any]] = []
    met_by: dict[str, list[bool]] = {}
    for task in tasks:
        for agent in agents_here:
            group = runs.get((task, agent))
            if not group:
                reason = unsupported("prediction", task, agent)
                if reason:
                    rows.append([task, agent, short_reason(reason), "", "", "", "", ""])
                continue
            passed = sum(m["relative"] <= PREDICTION_TARGET for m in group)
            met = _met(passed, len(group))
            met_by.setdefault(agent, []).append(met)
            rows.append([task, agent, f"{group[0]['gamma']:g}", common.mean_ci([m["rms"] for m in group], 4),
                         f"{group[0]['range']:.4f}", common.mean_ci([100 * m["relative"] for m in group], 2),
                         f"{passed}/{len(group)} {'met' if met else '**not met**'}",
                         f"{np.median([m['learn_seconds'] for m in group]):.1f}"])
    summary = [[agent, len(met_by.get(agent, [])), f"{sum(met_by.get(agent, []))}/{len(met_by.get(agent, []))}",
                "**met**" if met_by.get(agent) and all(met_by[agent]) else "**not met**"] for agent in agents_here]
    text = (f"### Prediction with the defaults\n\n`agents.make(id, env, policy=pi, seed=seed)` and "
            f"`learn({budgets['prediction_steps']:,})`; the uniformly random policy (Blackjack: stick on 20, gamma 1). "
            "Error: the on-policy-weighted RMS error of V (the root of the book's VE) against the exact values; "
            f"target: at most {100 * PREDICTION_TARGET:g}% of the exact values' range, in at least "
            f"{SEED_SHARE:.0%} of the seeds.\n\n"
            + common.markdown_table(["agent", "tasks", "tasks meeting target", "all targets"], summary) + "\n\n"
            + common.markdown_table(["task", "agent", "gamma", "RMS error", "range of v", "RMS / range (%)",
                                     "target (seeds)", "learn() s"], rows))
    return text, []


# -- sections -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """One part of the benchmark: the engine run function, its cases for a mode (dicts with
    ``task`` and ``agent``), and the renderer of its records."""

    function: str
    cases: Callable[[dict[str, Any]], list[dict[str, Any]]]
    render: Callable[[list[dict[str, Any]], Any, dict[str, Any]], tuple[str, list[str]]]


def tabular_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    cases = []
    for agent in CONTROL_AGENTS:  # the long Monte Carlo runs first, so that the cores stay busy to the end
        steps = list(budgets["mc_steps"]) if agent in MONTE_CARLO else [budgets["steps"]]
        for task in CONTROL_TASKS:
            cases.append({"task": task, "agent": agent, "steps": steps, "eval_episodes": budgets["eval_episodes"]})
    return sorted(cases, key=lambda c: -max(c["steps"]))


def prediction_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"task": task, "agent": agent, "steps": budgets["prediction_steps"]}
            for task in PREDICTION_TASKS for agent in PREDICTION_AGENTS]


# the first words of each section's heading in the report (earlier_sections finds them there)
SECTION_HEADINGS = {"tabular": "### Tabular control", "prediction": "### Prediction", "bandits": "### Bandits",
                    "deep": "### Deep and linear"}
SECTIONS: dict[str, Section] = {
    "tabular": Section("benchmarks.robustness:control", tabular_cases, render_tabular),
    "prediction": Section("benchmarks.robustness:prediction", prediction_cases, render_prediction),
    "bandits": Section("benchmarks._robustness_bandits:bandit", bandit_cases, render_bandits),
    "deep": Section("benchmarks._robustness_deep:deep", deep_cases, render_deep),
}


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
            text, pics = section.render([r for r in records.get(name, []) if r["status"] == "ok"], args, budgets)
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
