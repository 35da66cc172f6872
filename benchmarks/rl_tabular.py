"""Tabular RL against exact answers: dynamic programming optima, Sutton & Barto's figures,
the exact Blackjack values, and the speed of a plain random-action loop.

    python -m benchmarks.rl_tabular [--smoke | --quick | --full] [--update-results]

Every section is a grid of engine runs (one module-level function each, below); the
tables and pictures are drawn from their records. Writes rl_tabular.md and PNGs (learning
curves against the DP optimum, Cliff Walking's Example 6.6, Blackjack value surfaces as in
Figure 5.1).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from benchmarks import common
from groundup.experiments.stats import plot_curves, summarize

# -- the grid ------------------------------------------------------------------------------------------------
# dynamic programming: deterministic, one run each
DP_PROBLEMS: dict[str, dict[str, Any]] = {
    "FrozenLake-v1 4x4, gamma 0.99": dict(env="FrozenLake-v1", gamma=0.99, methods=("value-iteration", "policy-iteration"),
                                          exact="0.5420"),
    "FrozenLake-v1 4x4, gamma 1.0": dict(env="FrozenLake-v1", gamma=1.0, methods=("value-iteration", "policy-iteration"),
                                         exact="0.8235"),
    "FrozenLake 8x8, gamma 0.99": dict(env="FrozenLake8x8-v1", gamma=0.99, theta=1e-10, methods=("value-iteration",), exact=""),
    "WindyGridWorld (Example 6.5)": dict(env="groundup/WindyGridWorld-v0", gamma=1.0, methods=("value-iteration",),
                                         exact="15 steps", path=True),
    "TicTacToe vs perfect opponent": dict(env="groundup/TicTacToe-v0", env_kwargs={"opponent": "perfect"}, gamma=1.0,
                                          methods=("value-iteration",), exact="0 (a draw)", repeats=1),
}
CONTROL_AGENTS = ("q-learning", "sarsa", "mc-control")  # FrozenLake-v1 4x4 against its DP optimum, BOOK's settings
AGAINST_DP = {"Taxi-v4": dict(gamma=0.99), "CliffWalking-v1": dict(gamma=1.0)}  # q-learning's gamma; DP uses 1.0
CLIFF_AGENTS = ("sarsa", "q-learning")  # Example 6.6
BLACKJACK_PREDICTION = ("mc-prediction", "td0-prediction")
SPEED_ENVS = ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v4")
SPEED_AGENTS = ("q-learning", "sarsa", "mc-control", "td0-prediction", "mc-prediction")
# The book's settings, which the tables of benchmarks/results/rl_tabular.md were measured with
# and which every run here passes explicitly (they were the defaults before issue 15, whose
# defaults benchmarks/robustness.py measures): a constant epsilon 0.1, alpha 0.1 and Q1 = 0
# for TD control, sample averages (alpha = 1/n) for Monte Carlo, alpha 0.1 for TD(0).
BOOK: dict[str, dict[str, Any]] = {
    "q-learning": dict(epsilon=0.1, learning_rate=0.1, learning_rate_final=None, initial_value=0.0),
    "sarsa": dict(epsilon=0.1, learning_rate=0.1, learning_rate_final=None, initial_value=0.0),
    "mc-control": dict(epsilon=0.1, learning_rate=None, learning_rate_exponent=1.0),
    "td0-prediction": dict(learning_rate=0.1),
    "mc-prediction": dict(learning_rate=None, learning_rate_exponent=1.0),
}

# budgets per mode; the full ones are those of the tables in benchmarks/results/
BUDGETS: dict[str, dict[str, int]] = {
    "full": dict(control_seeds=5, control_steps=200_000, taxi_steps=200_000, taxi_eval=1000, cliff_steps=50_000,
                 cliff_seeds=20, cliff_episodes=500, bj_episodes=500_000, bj_min_visits=1000, bj_control=1_000_000,
                 bj_eval=100_000, speed_steps=200_000, speed_repeats=5),
    "quick": dict(control_seeds=2, control_steps=100_000, taxi_steps=200_000, taxi_eval=1000, cliff_steps=50_000,
                  cliff_seeds=10, cliff_episodes=500, bj_episodes=50_000, bj_min_visits=100, bj_control=100_000,
                  bj_eval=20_000, speed_steps=50_000, speed_repeats=3),
    "smoke": dict(control_seeds=1, control_steps=5_000, taxi_steps=5_000, taxi_eval=10, cliff_steps=50_000,
                  cliff_seeds=2, cliff_episodes=500, bj_episodes=2_000, bj_min_visits=10, bj_control=2_000,
                  bj_eval=1_000, speed_steps=2_000, speed_repeats=1),
}
CHECKPOINTS = 20  # exact evaluations of the greedy policy along a FrozenLake run


# -- exact references ------------------------------------------------------------------------------------------
def finite_horizon_value(env: Any, horizon: int, actions: np.ndarray | None = None) -> np.ndarray:
    """Undiscounted value within ``horizon`` steps, of a policy (``actions``) or optimal
    (``None``): FrozenLake's success probability under its 100-step time limit."""
    from groundup.agents.dynamic_programming import FiniteModel

    u = env.unwrapped
    return horizon_values(FiniteModel(u.P, u.observation_space.n, u.action_space.n), horizon, actions)


def horizon_values(model: Any, horizon: int, actions: np.ndarray | None = None) -> np.ndarray:
    """``horizon`` backward steps of undiscounted dynamic programming over a finite model:
    the value of the state -> action table ``actions``, or the optimal one (``None``)."""
    V = np.zeros(model.n_states)
    rows = np.arange(model.n_states)
    for _ in range(horizon):
        Q = model.q_values(V, 1.0)
        V = Q.max(axis=1) if actions is None else Q[rows, actions]
    return V


def expected_start_value(env: Any, V: np.ndarray) -> float:
    isd = np.asarray(env.unwrapped.initial_state_distrib)
    return float(isd @ V)


def _make(env_id: str, **kwargs: Any) -> Any:
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/ environments)

    return gym.make(env_id, **kwargs)


# -- the runs (one engine run each) ------------------------------------------------------------------------------
def dynamic_programming(problem: str, seed: int) -> dict[str, Any]:
    """Value and policy iteration on one problem: V(start), sweeps, median time."""
    from groundup import agents
    from groundup.experiments.runs import evaluate_agent

    spec = DP_PROBLEMS[problem]
    env = _make(spec["env"], **spec.get("env_kwargs", {}))
    extra = {"theta": spec["theta"]} if "theta" in spec else {}
    out: dict[str, Any] = {"methods": {}}
    policies = []
    for method in spec["methods"]:
        seconds, agent = common.median_time(lambda: agents.make(method, env, gamma=spec["gamma"], **extra).learn(),
                                            repeats=spec.get("repeats", 5))
        out["methods"][method] = {"v_start": float(agent.value_function[0]), "sweeps": int(agent.n_sweeps_),
                                  "seconds": seconds}
        policies.append(np.asarray(agent.policy))
        if spec.get("path"):
            _, _, returns = evaluate_agent(agent, env, 1, seed=seed)
            out["path_steps"] = int(-returns[0])
    if len(policies) > 1:
        out["same_policy"] = all(np.array_equal(policies[0], p) for p in policies[1:])
    return out


def frozenlake_control(agent: str, steps: int, seed: int) -> dict[str, Any]:
    """One control agent on FrozenLake-v1 4x4 (gamma 0.99, the book's epsilon and alpha, ``BOOK``):
    the exact success probability of its greedy policy at 20 points, and its simulated
    success rate over 1,000 episodes at the end."""
    from groundup import agents
    from groundup.experiments.runs import evaluate_agent

    env = _make("FrozenLake-v1")
    checkpoints = {int(c) for c in np.linspace(steps / CHECKPOINTS, steps, CHECKPOINTS).astype(int)}
    model = agents.make(agent, env, gamma=0.99, seed=seed, **BOOK[agent])
    curve: list[tuple[int, float]] = []

    def snapshot(locals_: dict, globals_: dict) -> None:
        if locals_["t"] in checkpoints:
            curve.append((int(locals_["t"]), float(finite_horizon_value(env, 100, model.q_table.argmax(axis=1))[0])))

    start = time.perf_counter()
    model.learn(steps, callback=snapshot)
    seconds = time.perf_counter() - start
    rate, _, _ = evaluate_agent(model, env, 1000, seed=10_000 + seed)
    return {"success_rate": rate, "exact_success": curve[-1][1], "curve": curve, "learn_seconds": seconds,
            "optimum": float(finite_horizon_value(env, 100)[0])}


def against_dp(env: str, steps: int, eval_episodes: int, seed: int) -> dict[str, Any]:
    """Q-learning's greedy return against the dynamic-programming optimum of the start state."""
    from groundup import agents
    from groundup.experiments.runs import evaluate_agent

    e = _make(env)
    q = agents.make("q-learning", e, gamma=AGAINST_DP[env]["gamma"], seed=seed, **BOOK["q-learning"]).learn(steps)
    mean, _, _ = evaluate_agent(q, e, eval_episodes, seed=seed + 1 if env == "Taxi-v4" else seed)
    vi = agents.make("value-iteration", e, gamma=1.0).learn()
    optimum = expected_start_value(e, vi.value_function) if env == "Taxi-v4" else float(vi.value_function[36])
    return {"mean_return": mean, "optimum": optimum}


def cliff_walking(agent: str, episodes: int, seed: int) -> dict[str, Any]:
    """Example 6.6 with the book's settings (alpha 0.5, epsilon 0.1, Q1 = 0, gamma 1): online returns."""
    from groundup import agents

    model = agents.make(agent, _make("CliffWalking-v1"), learning_rate=0.5, learning_rate_final=None, epsilon=0.1,
                        initial_value=0.0, gamma=1.0, seed=seed)
    model.learn(n_episodes=episodes)
    return {"returns": [float(g) for g in model.episode_returns]}


def blackjack_prediction(agent: str, episodes: int, seed: int) -> dict[str, Any]:
    """The value of the stick-on-20 policy (Example 5.1), sample averages, gamma 1."""
    from groundup import agents
    from groundup.envs import blackjack

    model = agents.make(agent, _make("Blackjack-v1"), policy=blackjack.stick_at(20), learning_rate=None,
                        learning_rate_exponent=1.0, gamma=1.0, seed=seed)
    start = time.perf_counter()
    model.learn(n_episodes=episodes)
    seconds = time.perf_counter() - start
    return {"V": np.asarray(model.value_function).ravel(), "visits": np.asarray(model.N).ravel(), "learn_seconds": seconds}


def blackjack_control(episodes: int, eval_episodes: int, seed: int) -> dict[str, Any]:
    """Monte Carlo control (epsilon 0.1, sample averages, gamma 1): the greedy policy's simulated and exact return."""
    from groundup import agents
    from groundup.envs import blackjack
    from groundup.experiments.runs import evaluate_agent

    env = _make("Blackjack-v1")
    start = time.perf_counter()
    mc = agents.make("mc-control", env, gamma=1.0, seed=seed, **BOOK["mc-control"]).learn(n_episodes=episodes)
    seconds = time.perf_counter() - start
    greedy = mc.q_table.argmax(axis=1)
    mean, std, _ = evaluate_agent(mc, env, eval_episodes, seed=7 + seed)  # seed 7 for seed 0, as the earlier tables
    return {"mean_return": mean, "std_error": std / np.sqrt(eval_episodes), "learn_seconds": seconds,
            "exact_return": blackjack.expected_return(lambda obs: int(greedy[obs[0] * 22 + obs[1] * 2 + obs[2]])),
            "optimum": blackjack.expected_return()}


def speed(env: str, steps: int, repeats: int, seed: int) -> dict[str, Any]:
    """Steps per second of ``learn()`` for every agent (with ``BOOK``'s settings), and of a loop
    that only steps the environment, measured in the same run (median of ``repeats``)."""
    from groundup import agents

    def plain() -> float:
        e = _make(env)
        e.reset(seed=seed)
        e.action_space.seed(seed)
        start = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = e.step(e.action_space.sample())
            if terminated or truncated:
                e.reset()
        return steps / (time.perf_counter() - start)

    def learner(agent_id: str) -> float:
        e = _make(env)
        kwargs = {"policy": np.full((e.observation_space.n, e.action_space.n), 1 / e.action_space.n)} \
            if agents.registry[agent_id].is_prediction else {}
        model = agents.make(agent_id, e, seed=seed, **kwargs, **BOOK[agent_id])
        start = time.perf_counter()
        model.learn(steps)
        return steps / (time.perf_counter() - start)

    return {"plain": statistics.median(plain() for _ in range(repeats)),
            "agents": {a: statistics.median(learner(a) for _ in range(repeats)) for a in SPEED_AGENTS}}


# -- the report -----------------------------------------------------------------------------------------------
def dp_section(records: list[dict]) -> str:
    rows = []
    for r in records:
        problem, m = r["params"]["problem"], r["metrics"]
        spec = DP_PROBLEMS[problem]
        for method, v in m["methods"].items():
            if "path_steps" in m:
                rows.append([problem, method, f"path {m['path_steps']} steps", spec["exact"], "", ""])
                continue
            digits = 3 if "TicTacToe" in problem else 4
            t = f"{v['seconds']:.2f} s (model of 19,683 states)" if "TicTacToe" in problem else f"{v['seconds'] * 1000:.1f} ms"
            rows.append([problem, method, f"V(start) = {v['v_start']:.{digits}f}", spec["exact"], f"{v['sweeps']} sweeps", t])
        if "same_policy" in m:
            rows.append([problem, "same greedy policy?", "yes" if m["same_policy"] else "NO", "yes", "", ""])
    return "### Dynamic programming\n\n" + common.markdown_table(["problem", "method", "measured", "exact", "work", "time"], rows)


def control_section(control: list[dict], more: list[dict], steps: int) -> tuple[str, dict]:
    rows, curves, optimum = [], {}, None
    for agent in CONTROL_AGENTS:
        runs = [r for r in control if r["params"]["agent"] == agent]
        if not runs:
            continue
        rates = [r["metrics"]["success_rate"] for r in runs]
        exact = [r["metrics"]["exact_success"] for r in runs]
        optimum = runs[0]["metrics"]["optimum"]
        curves[agent] = [r["metrics"]["curve"] for r in runs]
        rows.append([agent, f"{steps:,}", ", ".join(f"{x:.3f}" for x in rates), f"{sum(x >= 0.70 for x in rates)}/{len(rates)}",
                     common.mean_ci(exact), f"{optimum:.3f}", f"{statistics.median(r['metrics']['learn_seconds'] for r in runs):.1f} s"])
    parts = []
    if rows:
        parts.append("FrozenLake-v1 4x4 (slippery), gamma 0.99, epsilon 0.1, alpha 0.1 and Q1 = 0 (Monte Carlo: sample "
                     "averages), the book's settings; the exact success probability of the final greedy policy is a mean "
                     "[95% bootstrap interval] over the seeds:\n\n"
                     + common.markdown_table(["agent", "steps", "greedy success rate per seed (1,000 episodes)",
                                              "seeds >= 0.70", "exact success of the greedy policy",
                                              "optimum (100-step DP)", "learn() s/seed (median)"], rows))
    more_rows = []
    for r in more:
        p, m = r["params"], r["metrics"]
        digits = 3 if p["env"] == "Taxi-v4" else 0
        more_rows.append([p["env"], "q-learning", f"{p['steps']:,} steps, seed {r['seed']}", f"{m['mean_return']:.{digits}f}",
                          f"{m['optimum']:.{digits}f}"])
    if more_rows:
        parts.append(common.markdown_table(["environment", "agent", "budget", "greedy mean return", "optimum (DP)"], more_rows))
    text = "### Control against the dynamic-programming optimum\n\n" + "\n\n".join(parts) if parts else ""
    return text, {"curves": curves, "optimum": optimum}


def cliff_section(records: list[dict], episodes: int) -> tuple[str, dict]:
    rows, curves, means = [], {}, {}
    for agent in CLIFF_AGENTS:
        runs = [r["metrics"]["returns"] for r in records if r["params"]["agent"] == agent]
        if not runs:
            continue
        last = [float(np.mean(x[-100:])) for x in runs]
        s = summarize(last)
        means[agent] = s["mean"]
        curves[agent] = runs
        rows.append([agent, len(runs), f"{s['mean']:.1f} ± {s['std']:.1f}", f"[{s['ci_low']:.1f}, {s['ci_high']:.1f}]",
                     f"{s['iqm']:.1f}", "about -25" if agent == "sarsa" else "about -50"])
    if not rows:
        return "", curves
    text = (f"### Cliff Walking, Sutton & Barto Example 6.6\n\nalpha 0.5, epsilon 0.1, {episodes} episodes; mean online "
            "return over the last 100 episodes, per seed:\n\n"
            + common.markdown_table(["agent", "seeds", "mean ± std", "95% CI", "IQM", "book (Figure 6.4)"], rows))
    if len(means) == 2:
        text += f"\n\nSARSA beats Q-learning online by {means['sarsa'] - means['q-learning']:.1f} (target: at least 15)."
    return text, curves


def blackjack_section(prediction: list[dict], control: list[dict], min_visits: int) -> tuple[str, dict]:
    from groundup.envs import blackjack

    exact = blackjack.policy_values(blackjack.stick_at(20))
    rows, estimates = [], {}
    for r in prediction:
        agent, m = r["params"]["agent"], r["metrics"]
        V = np.asarray(m["V"]).reshape(32, 11, 2)
        often = np.asarray(m["visits"]).reshape(32, 11, 2) >= min_visits
        estimates.setdefault(agent, V)
        rows.append([agent, f"{r['params']['episodes']:,}", r["seed"], int(often.sum()),
                     f"{float(np.abs(V[often] - exact[often]).mean()):.4f}", f"{V[13, 2, 1]:.4f}", f"{exact[13, 2, 1]:.4f}",
                     f"{m['learn_seconds']:.1f} s"])
    parts = []
    if rows:
        parts.append("Prediction of the policy that sticks only on 20 or 21, against its exact values (a recursion over "
                     "Gymnasium's infinite-deck rules, `groundup.envs.blackjack`):\n\n"
                     + common.markdown_table(["agent", "episodes", "seed", f"states visited >= {min_visits}",
                                              "mean abs. error (target < 0.05)", "V(13, 2, usable ace)", "exact", "time"],
                                             rows))
    crows = []
    for r in control:
        p, m = r["params"], r["metrics"]
        crows.append([f"mc-control (epsilon 0.1), seed {r['seed']}", f"{p['episodes']:,}",
                      f"{m['mean_return']:.4f} ± {m['std_error']:.4f}", f"{m['exact_return']:.4f}", f"{m['optimum']:.4f}",
                      f"{m['learn_seconds']:.0f} s"])
    if crows:
        n = control[0]["params"]["eval_episodes"]
        parts.append(common.markdown_table(["agent", "training episodes", f"greedy mean return ({n:,} episodes)",
                                            "exact return of that policy", "optimum (exact)", "time"], crows))
    text = "### Blackjack-v1 (Sutton & Barto, Examples 5.1 and 5.3)\n\n" + "\n\n".join(parts) if parts else ""
    return text, {"estimates": estimates, "exact": exact}


def speed_section(records: list[dict], steps: int, repeats: int) -> str:
    rows = []
    for r in records:
        env, m = r["params"]["env"], r["metrics"]
        for agent, rate in m["agents"].items():
            rows.append([env, agent, f"{rate:,.0f}", f"{m['plain']:,.0f}", f"{rate / m['plain']:.2f}"])
    if not rows:
        return ""
    return ("### Speed: `learn()` against a loop that only steps the environment\n\nSteps per second, median of "
            f"{repeats} runs of {steps:,} steps, each environment's agents and plain loop timed in one run that has "
            "the machine to itself; the plain loop steps the same `gym.make` environment with "
            "`env.action_space.sample()` (target ratio >= 0.8):\n\n"
            + common.markdown_table(["environment", "agent", "learn() steps/s", "plain loop steps/s", "ratio"], rows))


# -- pictures ------------------------------------------------------------------------------------------------
def plot(args: Any, control: dict, cliff: dict, bj: dict) -> list[str]:
    names = []
    if control["curves"]:
        title = f"FrozenLake-v1 4x4 slippery (dashed: the DP optimum, {control['optimum']:.3f})"
        plot_curves({title: control["curves"]}, args.out / "rl_tabular_frozenlake.png", xlabel="environment steps",
                    ylabel="exact success probability of the greedy policy", thresholds={title: control["optimum"]},
                    ncols=1, panel_size=(6.5, 4.0))
        names.append("rl_tabular_frozenlake.png")
    if cliff:
        # Figure 6.4 shows a 10-episode moving average from where it enters the -100 line
        smooth = {a: [np.convolve(r, np.ones(10) / 10, mode="valid") for r in runs] for a, runs in cliff.items()}
        means = [np.mean(runs, axis=0) for runs in smooth.values()]
        start = max(int(np.argmax(m > -100)) for m in means)
        curves = {a: [[(start + i + 10, float(v)) for i, v in enumerate(r[start:])] for r in runs] for a, runs in smooth.items()}
        plot_curves({"Cliff Walking (Example 6.6), epsilon 0.1": curves}, args.out / "rl_tabular_cliff.png",
                    xlabel="episodes", ylabel="sum of rewards during episode (10-episode average)", ncols=1,
                    panel_size=(6.5, 4.0))
        names.append("rl_tabular_cliff.png")
    if bj["estimates"]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 7))
        players, dealers = np.arange(12, 22), np.arange(1, 11)
        X, Y = np.meshgrid(dealers, players)
        source = "mc-prediction" if "mc-prediction" in bj["estimates"] else next(iter(bj["estimates"]))
        panels = [(source, 1, "usable ace"), (source, 0, "no usable ace"), ("exact", 1, "usable ace"),
                  ("exact", 0, "no usable ace")]
        for i, (name, ace, label) in enumerate(panels):
            V = bj["exact"] if name == "exact" else bj["estimates"][name]
            ax = fig.add_subplot(2, 2, i + 1, projection="3d")
            ax.plot_wireframe(X, Y, V[12:22, 1:11, ace], color="C3" if name == "exact" else "C0", linewidth=0.8)
            ax.set(zlim=(-1, 1), xlabel="dealer showing", ylabel="player sum", title=f"{name}: {label}")
        fig.suptitle("Blackjack, the stick-on-20 policy (Figure 5.1)")
        common.savefig(fig, args, "rl_tabular_blackjack.png")
        plt.close(fig)
        names.append("rl_tabular_blackjack.png")
    return names


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args("rl_tabular", __doc__, argv)
    b = BUDGETS[args.mode]
    records: dict[str, list[dict]] = {}
    failed: list[dict] = []

    def grid(section: str, function: str, params: dict[str, list], seeds: list[int], names: list[str] | None = None,
             num_cpus: float = 1) -> None:
        """Sweep ``params`` (narrowed by ``--only`` on ``section/NAME``) and keep the records."""
        if names is not None:
            key = next(iter(params))
            params = {**params, key: [v for v, n in zip(params[key], names) if common.selected(args, f"{section}/{n}")]}
            if not params[key]:
                return
        elif not common.selected(args, section):
            return
        result = common.sweep(args, f"benchmarks.rl_tabular:{function}", params, seeds, num_cpus=num_cpus, desc=section)
        records.setdefault(section, []).extend(result.ok())
        failed.extend(result.failed)

    seeds = common.seeds_for(args, [0])
    grid("dp", "dynamic_programming", {"problem": list(DP_PROBLEMS)}, [0], names=list(DP_PROBLEMS))
    grid("control", "frozenlake_control", {"agent": list(CONTROL_AGENTS), "steps": [b["control_steps"]]},
         common.seeds_for(args, range(b["control_seeds"])), names=list(CONTROL_AGENTS))
    grid("taxi", "against_dp", {"env": ["Taxi-v4"], "steps": [b["taxi_steps"]], "eval_episodes": [b["taxi_eval"]]}, seeds)
    grid("cliff", "against_dp", {"env": ["CliffWalking-v1"], "steps": [b["cliff_steps"]], "eval_episodes": [1]}, seeds)
    grid("example-6.6", "cliff_walking", {"agent": list(CLIFF_AGENTS), "episodes": [b["cliff_episodes"]]},
         common.seeds_for(args, range(b["cliff_seeds"])), names=list(CLIFF_AGENTS))
    grid("blackjack", "blackjack_prediction", {"agent": list(BLACKJACK_PREDICTION), "episodes": [b["bj_episodes"]]}, seeds,
         names=list(BLACKJACK_PREDICTION))
    grid("blackjack-control", "blackjack_control", {"episodes": [b["bj_control"]], "eval_episodes": [b["bj_eval"]]}, seeds)
    # a speed ratio: each run has every core, so nothing runs beside it
    grid("speed", "speed", {"env": list(SPEED_ENVS), "steps": [b["speed_steps"]], "repeats": [b["speed_repeats"]]}, [0],
         names=list(SPEED_ENVS), num_cpus=common.all_cores())

    parts = []
    if records.get("dp"):
        parts.append(dp_section(records["dp"]))
    text, control = control_section(records.get("control", []), records.get("taxi", []) + records.get("cliff", []),
                                     b["control_steps"])
    parts.append(text)
    text, cliff = cliff_section(records.get("example-6.6", []), b["cliff_episodes"])
    parts.append(text)
    text, bj = blackjack_section(records.get("blackjack", []), records.get("blackjack-control", []), b["bj_min_visits"])
    parts.append(text)
    parts.append(speed_section(records.get("speed", []), b["speed_steps"], b["speed_repeats"]))
    images = plot(args, control, cliff, bj)
    if images:
        parts.append(" ".join(f"![{name.removesuffix('.png')}]({name})" for name in images))
    if failed:
        parts.append(f"**{len(failed)} run(s) failed**: "
                     + ", ".join(f"{r['function'].rpartition(':')[2]} {r['params']} seed {r['seed']}" for r in failed))
    common.write_result(args, "\n\n".join(p for p in parts if p))
    for r in failed:
        common.log(f"failed: {r['function']} {r['params']} seed {r['seed']}\n{r['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
