"""The ``bandits`` section of benchmarks/robustness.py: the bandit agents' defaults on the
Gaussian and Bernoulli testbeds, their regret against the bounds in the literature.

Each run is one agent, built as a user would (``agents.make(id, venv, seed=seed)``, only
the budget given), on ``problems`` independent bandit problems at once (one vector
environment, ``gym.make_vec("groundup/Bandit-v0", num_envs=problems,
vectorization_mode="vector_entry_point")``) for ``steps`` pulls each. The environment's
first reset takes the agent's seed, so every agent meets the same problems under a seed.

Tasks (``BANDIT_TASKS``): the Gaussian testbed (Sutton & Barto, section 2.3: q*(a) ~ N(0, 1),
rewards ~ N(q*(a), 1)) with k = 2, 10 and 50 arms, and Bernoulli arms with k = 2 and 10
(q*(a) ~ U(0, 1) drawn independently for each arm of each problem, rewards 1 with
probability q*(a), else 0).

Measures, per problem: the cumulative pseudo-regret R(t) = sum_{s <= t} (max_a q*(a) -
q*(A_s)) at log-spaced checkpoints (``checkpoints``), the share of optimal pulls over the
last tenth of the steps, the mean reward per pull. The **score** is the share of the
attainable gain that the agent collects, 1 - R(T) / R_uniform(T), where R_uniform(T) = T
(max q* - mean q*) is the regret of pulling arms uniformly at random: 1 is the best arm
from the first pull (the reference), 0 is random play, lower is worse. It is pooled over a
seed's problems (sum of regrets over sum of random regrets) and given as the mean over
seeds with a 95% bootstrap interval.

The literature:

* Lai & Robbins (1985), "Asymptotically efficient adaptive allocation rules", Adv. Appl.
  Math. 6: every consistent policy has liminf R(T) / ln T >= C(q*) = sum_{a: Delta_a > 0}
  Delta_a / KL(q*(a), q*max), with KL the divergence between the arms' reward laws:
  Bernoulli KL(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q)), and for Gaussian rewards of known
  variance sigma^2 (the testbed's 1) KL = Delta^2 / (2 sigma^2). ``lai_robbins_constant``
  computes C exactly for each drawn problem. Thompson sampling with a Beta(1, 1) prior
  attains this bound on Bernoulli arms (Kaufmann, Korda & Munos 2012, "Thompson sampling:
  an asymptotically optimal finite-time analysis", ALT; Agrawal & Goyal 2013, "Further
  optimal regret bounds for Thompson sampling", AISTATS; its logarithmic regret was first
  proved by Agrawal & Goyal 2012, "Analysis of Thompson sampling for the multi-armed bandit
  problem", COLT). The report gives each agent's mean over problems of R(T) / (C ln T):
  near 1 is the asymptotic optimum. It is a ratio to an asymptotic bound at finite T, so it
  can fall below 1 (problems whose gaps are too small to be told apart within T pulls).
* Auer, Cesa-Bianchi & Fischer (2002), "Finite-time analysis of the multiarmed bandit
  problem", Machine Learning 47, Theorem 1: UCB1 (bonus sqrt(2 ln t / N)) on rewards in
  [0, 1] has E[R(T)] <= sum_{a: Delta_a > 0} 8 ln T / Delta_a + (1 + pi^2/3) sum_a Delta_a.
  groundup's ``ucb1`` default is the book's c = 2 (bonus c sqrt(ln t / N)); the theorem's
  proof, with the same steps, gives 4 c^2 ln T / Delta_a in the first term for any c >=
  sqrt(2) (the tail events stay below t^-4), which at c = sqrt(2) is the theorem as
  stated. ``ucb1_bound`` computes it for the agent's own c, and the report says in how many
  problems the realised R(T) stays below it. It needs rewards in [0, 1]: on the Gaussian
  testbed it does not apply and is not shown; there the comparison is empirical, with
  Lai & Robbins' Gaussian bound as the yardstick.

No target is set for the bandits (issue 15 sets none): the section reports.

The module is a part of benchmarks/robustness.py (run it there: ``--only bandits``); the
leading underscore keeps ``groundup bench`` from running it as a benchmark of its own.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from benchmarks import common
from groundup.experiments.stats import bootstrap_ci, iqm, summarize

BANDIT_TASKS: dict[str, dict[str, Any]] = {
    "gaussian-2": dict(k=2, arm_distribution="gaussian"),
    "gaussian-10": dict(k=10, arm_distribution="gaussian"),
    "gaussian-50": dict(k=50, arm_distribution="gaussian"),
    "bernoulli-2": dict(k=2, arm_distribution="bernoulli"),
    "bernoulli-10": dict(k=10, arm_distribution="bernoulli"),
}
BANDIT_AGENTS = ("epsilon-greedy", "optimistic-initial-values", "ucb1", "thompson-sampling")
N_CHECKPOINTS = 25  # log-spaced points of the regret curves
LAST_SHARE = 0.1  # % optimal action over the last tenth of the steps: what the agent has learnt


# -- the bounds -----------------------------------------------------------------------------------------------
def kl_bernoulli(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(Bernoulli(p) || Bernoulli(q)), elementwise, with 0 ln 0 = 0; q must be in (0, 1)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / q), 0.0)
        b = np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0.0)
    return a + b


def gaps(q_star: np.ndarray) -> np.ndarray:
    """Delta_a = max q* - q*(a), per problem (rows)."""
    q = np.atleast_2d(np.asarray(q_star, dtype=float))
    return q.max(axis=1, keepdims=True) - q


def lai_robbins_constant(q_star: np.ndarray, arm_distribution: str, reward_std: float = 1.0) -> np.ndarray:
    """C(q*) = sum over the suboptimal arms of Delta_a / KL(arm a, best arm), one per
    problem (row of ``q_star``): the asymptotic regret of an optimal policy is C ln T."""
    q = np.atleast_2d(np.asarray(q_star, dtype=float))
    delta = gaps(q)
    sub = delta > 0
    if arm_distribution == "bernoulli":
        kl = kl_bernoulli(q, q.max(axis=1, keepdims=True))
    else:
        kl = delta**2 / (2 * reward_std**2)
    return np.where(sub, delta / np.where(sub, kl, 1.0), 0.0).sum(axis=1)


def ucb1_bound(q_star: np.ndarray, T: int | np.ndarray, c: float = math.sqrt(2)) -> np.ndarray:
    """Auer et al. (2002) Theorem 1 for rewards in [0, 1], for the bonus c sqrt(ln t / N):
    sum_{Delta_a > 0} 4 c^2 ln T / Delta_a + (1 + pi^2/3) sum_a Delta_a, one per problem
    (and per horizon, when ``T`` is an array: shape (len(T), problems))."""
    if c < math.sqrt(2):
        raise ValueError(f"c must be >= sqrt(2) for the UCB1 bound (its proof needs it); got {c!r}")
    delta = gaps(q_star)
    sub = delta > 0
    inverse = np.where(sub, 1.0 / np.where(sub, delta, 1.0), 0.0).sum(axis=1)
    first = 4 * c**2 * np.multiply.outer(np.log(np.asarray(T, dtype=float)), inverse)
    return first + (1 + math.pi**2 / 3) * delta.sum(axis=1)


def checkpoints(steps: int, n: int = N_CHECKPOINTS) -> np.ndarray:
    """About ``n`` log-spaced step counts from 1 to ``steps`` (both included)."""
    return np.unique(np.geomspace(1, steps, n).round().astype(np.int64))


class RegretTracker:
    """A ``learn`` callback that accounts, per problem, the pseudo-regret (the
    environment's ``info["regret"]``, max q* - q*(A)), the optimal pulls over the last
    ``LAST_SHARE`` of the steps and the rewards; ``curve[i]`` is R at ``points[i]``."""

    def __init__(self, n_problems: int, steps: int, points: np.ndarray) -> None:
        self.points = np.asarray(points)
        self.regret, self.reward = np.zeros(n_problems), np.zeros(n_problems)
        self.optimal_last = np.zeros(n_problems)
        self.curve = np.zeros((len(self.points), n_problems))
        self.first_last = steps - max(1, int(LAST_SHARE * steps))  # steps after this one count as "last"
        self.t, self._next = 0, 0

    def record(self, R: np.ndarray, info: dict[str, Any]) -> None:
        self.t += 1
        self.regret += info["regret"]
        self.reward += R
        if self.t > self.first_last:
            self.optimal_last += info["is_optimal"]
        if self._next < len(self.points) and self.t == self.points[self._next]:
            self.curve[self._next] = self.regret
            self._next += 1

    def __call__(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> bool:
        self.record(locals_["R"], locals_["info"])
        return True


# -- the run (one engine run) -------------------------------------------------------------------------------
def make_testbed(task: str, problems: int, steps: int) -> Any:
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/Bandit-v0)

    return gym.make_vec("groundup/Bandit-v0", num_envs=problems, vectorization_mode="vector_entry_point",
                        max_episode_steps=steps, **BANDIT_TASKS[task])


def bandit(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """One bandit agent, with its defaults, on ``case["problems"]`` problems of one task for
    ``case["steps"]`` pulls each: its regret curve, score and ratios to the bounds."""
    from groundup import agents

    task, agent_id, steps, problems = case["task"], case["agent"], int(case["steps"]), int(case["problems"])
    venv = make_testbed(task, problems, steps)
    points = checkpoints(steps)
    tracker = RegretTracker(problems, steps, points)
    model = agents.make(agent_id, venv, seed=seed, **case.get("params", {}))
    start = time.perf_counter()
    model.learn(problems * steps, callback=tracker)
    seconds = time.perf_counter() - start
    q = np.asarray(venv.unwrapped.q_star, dtype=float)
    dist = BANDIT_TASKS[task]["arm_distribution"]
    C = lai_robbins_constant(q, dist, float(venv.unwrapped.reward_std))
    random_regret = steps * (q.max(axis=1) - q.mean(axis=1))
    # per problem R(t) / C: its asymptote under an optimal policy is ln t (problems with C = 0 have no regret)
    normalized = np.divide(tracker.curve, C, out=np.zeros_like(tracker.curve), where=C > 0)
    out = {"points": points.tolist(), "regret_curve": tracker.curve.mean(axis=1).tolist(),
           "normalized_curve": normalized.mean(axis=1).tolist(), "regret": float(tracker.regret.mean()),
           "score": float(1 - tracker.regret.sum() / random_regret.sum()),
           "optimal_last": float(tracker.optimal_last.mean() / (steps - tracker.first_last)),
           "mean_reward": float(tracker.reward.mean() / steps),
           "lai_robbins_ratio": float(normalized[-1].mean() / math.log(steps)) if steps > 1 else None,
           "below_ucb1_bound": None, "ucb1_curve": None, "learn_seconds": seconds}
    if dist == "bernoulli" and agent_id == "ucb1" and float(model.c) >= math.sqrt(2):
        bound = ucb1_bound(q, points, float(model.c))  # (checkpoints, problems)
        out["below_ucb1_bound"] = float(np.mean(tracker.regret <= bound[-1]))
        out["ucb1_curve"] = np.divide(bound, C, out=np.zeros_like(bound), where=C > 0).mean(axis=1).tolist()
        out["c"] = float(model.c)
    return out


def bandit_cases(budgets: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"task": task, "agent": agent, "steps": budgets["bandit_steps"], "problems": budgets["bandit_problems"]}
            for task in BANDIT_TASKS for agent in BANDIT_AGENTS]


# -- the report ----------------------------------------------------------------------------------------------
def group(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(task, agent) -> the metrics of each seed's run."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        case = r["params"]["case"]
        out.setdefault((case["task"], case["agent"]), []).append(r["metrics"])
    return out


def stratified_mean(values: dict[str, list[float]], digits: int = 2) -> str:
    """``mean [95% interval]`` over every task's seeds, each task resampled on its own."""
    s = summarize(values)
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def render_bandits(records: list[dict[str, Any]], args: Any, budgets: dict[str, Any]) -> tuple[str, list[str]]:
    if not records:
        return "", []
    runs = group(records)
    tasks = [t for t in BANDIT_TASKS if any(k[0] == t for k in runs)]
    agents_here = [a for a in BANDIT_AGENTS if any(k[1] == a for k in runs)]
    steps, problems = records[0]["params"]["case"]["steps"], records[0]["params"]["case"]["problems"]
    n_seeds = len({r["seed"] for r in records})
    summary = []
    for agent in agents_here:
        scores = {t: [m["score"] for m in runs[(t, agent)]] for t in tasks if (t, agent) in runs}
        if not scores:
            continue
        pooled = np.concatenate([np.asarray(v) for v in scores.values()])
        low, high = bootstrap_ci(scores, iqm)
        worst = min(scores, key=lambda t: float(np.mean(scores[t])))
        lr = {t: [m["lai_robbins_ratio"] for m in runs[(t, agent)] if m["lai_robbins_ratio"] is not None]
              for t in tasks if t.startswith("bernoulli") and (t, agent) in runs}
        lr = {t: v for t, v in lr.items() if v}
        below = [m["below_ucb1_bound"] for (t, a), ms in runs.items() if a == agent for m in ms
                 if m["below_ucb1_bound"] is not None]
        summary.append([agent, len(scores), f"{iqm(pooled):.3f} [{low:.3f}, {high:.3f}]",
                        f"{worst} ({np.mean(scores[worst]):.3f})", stratified_mean(lr) if lr else "",
                        f"{100 * np.mean(below):.1f}%" if below else ""])
    rows = []
    for task in tasks:
        for agent in agents_here:
            ms = runs.get((task, agent))
            if not ms:
                continue
            lr = [m["lai_robbins_ratio"] for m in ms if m["lai_robbins_ratio"] is not None]
            below = [m["below_ucb1_bound"] for m in ms if m["below_ucb1_bound"] is not None]
            rows.append([task, agent, common.mean_ci([m["score"] for m in ms]), common.mean_ci([m["regret"] for m in ms], 1),
                         common.mean_ci([100 * m["optimal_last"] for m in ms], 1),
                         common.mean_ci([m["mean_reward"] for m in ms]), common.mean_ci(lr, 2) if lr else "",
                         f"{100 * np.mean(below):.1f}%" if below else ("n/a" if task.startswith("gaussian") else ""),
                         f"{np.median([m['learn_seconds'] for m in ms]):.2f}"])
    text = (f"### Bandits with the defaults\n\n`agents.make(id, venv, seed=seed)` and `learn({problems:,} x {steps:,})` "
            f"on {problems:,} independent problems per seed (one vector environment), {steps:,} pulls each, "
            f"{n_seeds} seed(s); every agent meets the same problems under a seed. Gaussian testbed: q*(a) ~ N(0, 1), "
            "rewards ~ N(q*(a), 1); Bernoulli: q*(a) ~ U(0, 1), rewards in {0, 1}. Score: 1 - R(T) / R_uniform(T), the "
            "share of the best arm's gain over uniformly random play that the agent collects (1 = the best arm from "
            "the first pull, 0 = random), pooled over the problems; mean [95% bootstrap interval] over the seeds.\n\n"
            "Against the literature: **regret / Lai-Robbins** is the mean over problems of R(T) / (C ln T), with C "
            "the Lai & Robbins (1985) constant computed exactly from each problem's arms (Gaussian: known unit "
            "variance); Thompson sampling attains it asymptotically on Bernoulli arms (Kaufmann, Korda & Munos 2012; "
            "Agrawal & Goyal 2013), and at finite T the ratio may fall below 1 on problems whose gaps are too small to "
            "resolve. **Below UCB1 bound**: the share of problems whose R(T) is under Auer, Cesa-Bianchi & Fischer's "
            "(2002) Theorem 1 bound for the agent's c (the proof's 4c^2 ln T / Delta, 8 ln T / Delta at c = sqrt 2); "
            "it needs rewards in [0, 1], so n/a on the Gaussian testbed.\n\n"
            "Summary, one row per agent (IQM of the scores over every task and seed, stratified bootstrap interval; "
            "regret / Lai-Robbins: the mean over the Bernoulli tasks and seeds, stratified bootstrap):\n\n"
            + common.markdown_table(["agent", "tasks", "IQM score [95% CI]", "worst task (mean score)",
                                     "Bernoulli: regret / Lai-Robbins", "below UCB1 bound"], summary) + "\n\n"
            + "Per task:\n\n" + common.markdown_table(
                ["task", "agent", "score", f"regret R({steps:,})", f"% optimal, last {LAST_SHARE:.0%}", "mean reward",
                 "regret / Lai-Robbins", "below UCB1 bound", "learn() s"], rows))
    return text, [plot_bandits(runs, tasks, agents_here, args)]


def plot_bandits(runs: dict[tuple[str, str], list[dict[str, Any]]], tasks: list[str], agents_here: list[str],
                 args: Any) -> str:
    """Two rows, one column per task, log-x: the mean cumulative regret, and the regret over
    each problem's Lai-Robbins constant with the bounds (ln t; UCB1's where it applies)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(tasks), figsize=(3.0 * len(tasks), 5.4), squeeze=False, layout="constrained")
    for j, task in enumerate(tasks):
        top, bottom = axes[0, j], axes[1, j]
        x = None
        for i, agent in enumerate(agents_here):
            ms = runs.get((task, agent))
            if not ms:
                continue
            x = np.asarray(ms[0]["points"])
            top.plot(x, np.mean([m["regret_curve"] for m in ms], axis=0), color=f"C{i}", lw=1.4, label=agent)
            bottom.plot(x, np.mean([m["normalized_curve"] for m in ms], axis=0), color=f"C{i}", lw=1.4, label=agent)
            if ms[0]["ucb1_curve"] is not None:
                bound = np.mean([m["ucb1_curve"] for m in ms], axis=0)
                bottom.plot(x, bound, color=f"C{i}", lw=1, ls=":",
                            label=f"UCB1 bound (c = {ms[0]['c']:g}): {bound[-1]:,.0f} at t = {x[-1]:,}")
        if x is not None:
            bottom.plot(x, np.log(x), color="black", lw=1, ls="--", label="Lai-Robbins: ln t")
        top.set_title(task, fontsize=9)
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.tick_params(labelsize=7)
        bottom.set_ylim(bottom=0)
        if x is not None:  # the UCB1 bound is loose: keep the agents' curves readable
            agents_max = max(np.max(np.mean([m["normalized_curve"] for m in runs[(task, a)]], axis=0))
                             for a in agents_here if (task, a) in runs)
            bottom.set_ylim(0, 1.3 * max(agents_max, math.log(x[-1])))
    axes[0, 0].set_ylabel("mean cumulative regret R(t)", fontsize=8)
    axes[1, 0].set_ylabel("mean of R(t) / C (Lai-Robbins constant)", fontsize=8)
    axes[0, 0].legend(fontsize=6)
    axes[1, -1].legend(fontsize=6)
    fig.supxlabel("pulls t (log scale)", fontsize=8)
    name = "robustness_bandits.png"
    common.savefig(fig, args, name)
    plt.close(fig)
    return name
