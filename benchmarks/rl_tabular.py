"""Tabular RL against exact answers: dynamic programming optima, Sutton & Barto's figures,
the exact Blackjack values, and the speed of a plain random-action loop.

    python benchmarks/rl_tabular.py [--quick] [--out DIR]

Writes rl_tabular.md and PNGs (learning curves against the DP optimum, Cliff Walking's
Example 6.6, Blackjack value surfaces as in Figure 5.1) into benchmarks/results/.
"""

from __future__ import annotations

import statistics
import time

import gymnasium as gym
import numpy as np

import _common as C
import groundup  # noqa: F401
from groundup import agents
from groundup.agents.dynamic_programming import FiniteModel
from groundup.cli import evaluate_agent
from groundup.envs import blackjack


# -- exact references -------------------------------------------------------------------
def finite_horizon_value(env: gym.Env, horizon: int, actions: np.ndarray | None = None) -> np.ndarray:
    """Undiscounted value within ``horizon`` steps, of a policy (``actions``) or optimal
    (``None``): FrozenLake's success probability under its 100-step time limit."""
    u = env.unwrapped
    model = FiniteModel(u.P, u.observation_space.n, u.action_space.n)
    V = np.zeros(u.observation_space.n)
    for _ in range(horizon):
        Q = model.q_values(V, 1.0)
        V = Q.max(axis=1) if actions is None else Q[np.arange(len(V)), actions]
    return V


def expected_start_value(env: gym.Env, V: np.ndarray) -> float:
    isd = np.asarray(env.unwrapped.initial_state_distrib)
    return float(isd @ V)


def size(args, full: int, quick: int, smoke: int) -> int:
    """The budget for this run's configuration."""
    return smoke if getattr(args, "smoke", False) else quick if args.quick else full


# -- sections ------------------------------------------------------------------------------
def dynamic_programming_section(args) -> str:
    rows = []
    for env_id, gamma, expected in (("FrozenLake-v1", 0.99, 0.5420), ("FrozenLake-v1", 1.0, 0.8235)):
        env = gym.make(env_id)
        results = {}
        for method in ("value-iteration", "policy-iteration"):
            seconds, agent = C.median_time(lambda: agents.make(method, env, gamma=gamma).learn(), repeats=5)
            results[method] = agent
            rows.append([f"{env_id} 4x4, gamma {gamma}", method, f"V(start) = {agent.value_function[0]:.4f}",
                         f"{expected:.4f}", f"{agent.n_sweeps_} sweeps", f"{seconds * 1000:.1f} ms"])
        same = np.array_equal(results["value-iteration"].policy, results["policy-iteration"].policy)
        rows.append([f"{env_id} 4x4, gamma {gamma}", "same greedy policy?", "yes" if same else "NO", "yes", "", ""])
    env8 = gym.make("FrozenLake8x8-v1")
    seconds, vi8 = C.median_time(lambda: agents.make("value-iteration", env8, gamma=0.99, theta=1e-10).learn(), repeats=5)
    rows.append(["FrozenLake 8x8, gamma 0.99", "value-iteration", f"V(start) = {vi8.value_function[0]:.4f}", "",
                 f"{vi8.n_sweeps_} sweeps", f"{seconds * 1000:.1f} ms"])
    windy = gym.make("groundup/WindyGridWorld-v0")
    vi = agents.make("value-iteration", windy, gamma=1.0).learn()
    _, _, returns = evaluate_agent(vi, windy, 1, seed=0)
    rows.append(["WindyGridWorld (Example 6.5)", "value-iteration", f"path {int(-returns[0])} steps", "15 steps", "", ""])
    ttt = gym.make("groundup/TicTacToe-v0", opponent="perfect")
    seconds, vt = C.median_time(lambda: agents.make("value-iteration", ttt, gamma=1.0).learn(), repeats=1)
    rows.append(["TicTacToe vs perfect opponent", "value-iteration", f"V(start) = {vt.value_function[0]:.3f}", "0 (a draw)",
                 f"{vt.n_sweeps_} sweeps", f"{seconds:.2f} s (model of 19,683 states)"])
    return "### Dynamic programming\n\n" + C.markdown_table(["problem", "method", "measured", "exact", "work", "time"], rows)


def control_section(args) -> tuple[str, dict]:
    seeds = range(size(args, 5, 2, 1))
    steps = size(args, 200_000, 100_000, 5_000)
    env = gym.make("FrozenLake-v1")
    optimum = finite_horizon_value(env, 100)[0]
    rows, curves = [], {}
    checkpoints = np.linspace(steps / 20, steps, 20).astype(int)
    for agent_id in ("q-learning", "sarsa", "mc-control"):
        rates, exact_rates, curve = [], [], []
        start = time.perf_counter()
        for seed in seeds:
            agent = agents.make(agent_id, env, gamma=0.99, seed=seed)
            points = []

            def snapshot(locals_, globals_, agent=agent, points=points):
                if locals_["t"] in checkpoints_set:
                    greedy = agent.q_table.argmax(axis=1)
                    points.append(finite_horizon_value(env, 100, greedy)[0])

            checkpoints_set = set(int(c) for c in checkpoints)
            agent.learn(steps, callback=snapshot)
            curve.append(points)
            rate, _, _ = evaluate_agent(agent, env, 1000, seed=10_000 + seed)
            rates.append(rate)
            exact_rates.append(points[-1])
        curves[agent_id] = np.array(curve)
        solved = sum(r >= 0.70 for r in rates)
        rows.append([agent_id, f"{steps:,}", ", ".join(f"{r:.3f}" for r in rates), f"{solved}/{len(rates)}",
                     f"{np.mean(exact_rates):.3f}", f"{optimum:.3f}", f"{time.perf_counter() - start:.1f} s"])
    table = C.markdown_table(["agent", "steps", "greedy success rate per seed (1,000 episodes)", "seeds >= 0.70",
                              "exact success of the greedy policy (mean)", "optimum (100-step DP)", "time"], rows)
    taxi = gym.make("Taxi-v4")
    taxi_steps = size(args, 200_000, 200_000, 5_000)
    q = agents.make("q-learning", taxi, gamma=0.99, seed=0).learn(taxi_steps)
    taxi_mean, _, _ = evaluate_agent(q, taxi, size(args, 1000, 1000, 10), seed=1)
    vi = agents.make("value-iteration", taxi, gamma=1.0).learn()
    taxi_opt = expected_start_value(taxi, vi.value_function)
    cliff = gym.make("CliffWalking-v1")
    qc = agents.make("q-learning", cliff, gamma=1.0, seed=0).learn(50_000)
    cliff_ret, _, _ = evaluate_agent(qc, cliff, 1, seed=0)
    vic = agents.make("value-iteration", cliff, gamma=1.0).learn()
    more = C.markdown_table(["environment", "agent", "budget", "greedy mean return", "optimum (DP)"], [
        ["Taxi-v4", "q-learning", f"{taxi_steps:,} steps", f"{taxi_mean:.3f}", f"{taxi_opt:.3f}"],
        ["CliffWalking-v1", "q-learning", "50,000 steps", f"{cliff_ret:.0f}", f"{vic.value_function[36]:.0f}"],
    ])
    text = ("### Control against the dynamic-programming optimum\n\nFrozenLake-v1 4x4 (slippery), gamma 0.99, "
            "epsilon 0.1, alpha 0.1 (the defaults):\n\n" + table + "\n\n" + more)
    return text, {"curves": curves, "checkpoints": checkpoints, "optimum": optimum}


def cliff_section(args) -> tuple[str, dict]:
    n_seeds = size(args, 20, 10, 2)
    curves, rows = {}, []
    for agent_id in ("sarsa", "q-learning"):
        runs = []
        for seed in range(n_seeds):
            env = gym.make("CliffWalking-v1")
            agent = agents.make(agent_id, env, learning_rate=0.5, epsilon=0.1, gamma=1.0, seed=seed).learn(n_episodes=500)
            runs.append(agent.episode_returns)
        runs = np.array(runs)
        curves[agent_id] = runs.mean(axis=0)
        last = runs[:, -100:].mean(axis=1)
        rows.append([agent_id, n_seeds, f"{last.mean():.1f} ± {last.std(ddof=1):.1f}",
                     "about -25" if agent_id == "sarsa" else "about -50"])
    gap = float(np.mean(curves["sarsa"][-100:]) - np.mean(curves["q-learning"][-100:]))
    text = ("### Cliff Walking, Sutton & Barto Example 6.6\n\nalpha 0.5, epsilon 0.1, 500 episodes; mean online return "
            "over the last 100 episodes:\n\n" + C.markdown_table(["agent", "seeds", "measured", "book (Figure 6.4)"], rows)
            + f"\n\nSARSA beats Q-learning online by {gap:.1f} (target: at least 15).")
    return text, curves


def blackjack_section(args) -> tuple[str, dict]:
    episodes = size(args, 500_000, 50_000, 2_000)
    min_visits = size(args, 1000, 100, 10)
    exact = blackjack.policy_values(blackjack.stick_at(20))
    rows, estimates = [], {}
    for agent_id in ("mc-prediction", "td0-prediction"):
        env = gym.make("Blackjack-v1")
        start = time.perf_counter()
        agent = agents.make(agent_id, env, policy=blackjack.stick_at(20), learning_rate=None, gamma=1.0, seed=0)
        agent.learn(n_episodes=episodes)
        V = agent.value_function.reshape(32, 11, 2)
        visits = np.asarray(agent.N).reshape(32, 11, 2)
        often = visits >= min_visits
        mae = float(np.abs(V[often] - exact[often]).mean())
        estimates[agent_id] = V
        rows.append([agent_id, f"{episodes:,}", int(often.sum()), f"{mae:.4f}", f"{V[13, 2, 1]:.4f}", f"{exact[13, 2, 1]:.4f}",
                     f"{time.perf_counter() - start:.1f} s"])
    pred = C.markdown_table(["agent", "episodes", f"states visited >= {min_visits}", "mean abs. error (target < 0.05)",
                             "V(13, 2, usable ace)", "exact", "time"], rows)
    control_episodes = size(args, 1_000_000, 100_000, 2_000)
    eval_episodes = size(args, 100_000, 20_000, 1_000)
    env = gym.make("Blackjack-v1")
    start = time.perf_counter()
    mc = agents.make("mc-control", env, gamma=1.0, epsilon=0.1, seed=0).learn(n_episodes=control_episodes)
    seconds = time.perf_counter() - start
    greedy = mc.q_table.argmax(axis=1)
    policy = lambda obs: int(greedy[obs[0] * 22 + obs[1] * 2 + obs[2]])  # noqa: E731
    sim_mean, sim_std, _ = evaluate_agent(mc, env, eval_episodes, seed=7)
    ctrl = C.markdown_table(["agent", "training episodes", f"greedy mean return ({eval_episodes:,} episodes)",
                             "exact return of that policy", "optimum (exact)", "time"], [
        ["mc-control (epsilon 0.1)", f"{control_episodes:,}", f"{sim_mean:.4f} ± {sim_std / np.sqrt(eval_episodes):.4f}",
         f"{blackjack.expected_return(policy):.4f}", f"{blackjack.expected_return():.4f}", f"{seconds:.0f} s"]])
    text = ("### Blackjack-v1 (Sutton & Barto, Examples 5.1 and 5.3)\n\nPrediction of the policy that sticks only on "
            "20 or 21, against its exact values (a recursion over Gymnasium's infinite-deck rules, "
            "`groundup.envs.blackjack`):\n\n" + pred + "\n\n" + ctrl)
    return text, {"estimates": estimates, "exact": exact}


def speed_section(args) -> str:
    n = size(args, 200_000, 50_000, 2_000)
    repeats = size(args, 5, 3, 1)

    def plain(env_id: str) -> float:
        env = gym.make(env_id)
        env.reset(seed=0)
        env.action_space.seed(0)
        start = time.perf_counter()
        for _ in range(n):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return n / (time.perf_counter() - start)

    def learner(agent_id: str, env_id: str) -> float:
        env = gym.make(env_id)
        kwargs = {"policy": np.full((env.observation_space.n, env.action_space.n), 1 / env.action_space.n)} \
            if agents.registry[agent_id].is_prediction else {}
        agent = agents.make(agent_id, env, seed=0, **kwargs)
        start = time.perf_counter()
        agent.learn(n)
        return n / (time.perf_counter() - start)

    rows = []
    for env_id in ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v4"):
        base = statistics.median(plain(env_id) for _ in range(repeats))
        for agent_id in ("q-learning", "sarsa", "mc-control", "td0-prediction", "mc-prediction"):
            rate = statistics.median(learner(agent_id, env_id) for _ in range(repeats))
            rows.append([env_id, agent_id, f"{rate:,.0f}", f"{base:,.0f}", f"{rate / base:.2f}"])
    return ("### Speed: `learn()` against a loop that only steps the environment\n\nSteps per second, median of "
            f"{repeats} runs of {n:,} steps; the plain loop steps the same `gym.make` environment with "
            "`env.action_space.sample()` (target ratio >= 0.8):\n\n"
            + C.markdown_table(["environment", "agent", "learn() steps/s", "plain loop steps/s", "ratio"], rows))


# -- pictures --------------------------------------------------------------------------------
def plot(args, control: dict, cliff: dict, bj: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for agent_id, curve in control["curves"].items():
        mean = curve.mean(axis=0)
        ax.plot(control["checkpoints"], mean, label=agent_id)
        ax.fill_between(control["checkpoints"], curve.min(axis=0), curve.max(axis=0), alpha=0.15)
    ax.axhline(control["optimum"], color="k", ls="--", label=f"DP optimum {control['optimum']:.3f}")
    ax.set(xlabel="environment steps", ylabel="success probability of the greedy policy (exact)",
           title="FrozenLake-v1 4x4 slippery")
    ax.legend()
    C.savefig(fig, args, "rl_tabular_frozenlake.png")
    names.append("rl_tabular_frozenlake.png")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for agent_id, curve in cliff.items():
        smooth = np.convolve(curve, np.ones(10) / 10, mode="valid")
        ax.plot(np.arange(len(smooth)) + 10, smooth, label=agent_id)
    ax.set(ylim=(-100, -10), xlabel="episodes", ylabel="sum of rewards during episode",
           title="Cliff Walking (Example 6.6), epsilon 0.1")
    ax.legend()
    C.savefig(fig, args, "rl_tabular_cliff.png")
    names.append("rl_tabular_cliff.png")

    fig = plt.figure(figsize=(10, 7))
    players, dealers = np.arange(12, 22), np.arange(1, 11)
    X, Y = np.meshgrid(dealers, players)
    panels = [("mc-prediction", 1, "usable ace"), ("mc-prediction", 0, "no usable ace"),
              ("exact", 1, "usable ace"), ("exact", 0, "no usable ace")]
    for i, (source, ace, label) in enumerate(panels):
        V = bj["exact"] if source == "exact" else bj["estimates"][source]
        ax = fig.add_subplot(2, 2, i + 1, projection="3d")
        ax.plot_wireframe(X, Y, V[12:22, 1:11, ace], color="C0" if source != "exact" else "C3", linewidth=0.8)
        ax.set(zlim=(-1, 1), xlabel="dealer showing", ylabel="player sum", title=f"{source}: {label}")
    fig.suptitle("Blackjack, the stick-on-20 policy (Figure 5.1)")
    C.savefig(fig, args, "rl_tabular_blackjack.png")
    names.append("rl_tabular_blackjack.png")
    plt.close("all")
    return names


def main(argv=None) -> None:
    args = C.parse_args(__doc__, argv, extra=lambda p: p.add_argument(
        "--smoke", action="store_true", help="tiny budgets that only exercise the code (for the test suite)"))
    parts = []
    C.log("dynamic programming ...")
    parts.append(dynamic_programming_section(args))
    C.log("control ...")
    text, control = control_section(args)
    parts.append(text)
    C.log("cliff walking ...")
    text, cliff = cliff_section(args)
    parts.append(text)
    C.log("blackjack ...")
    text, bj = blackjack_section(args)
    parts.append(text)
    C.log("speed ...")
    parts.append(speed_section(args))
    images = plot(args, control, cliff, bj)
    parts.append(" ".join(f"![{name}](benchmarks/results/{name})" for name in images))
    C.write_result(args, "rl_tabular", "\n\n".join(parts))


if __name__ == "__main__":
    main()
