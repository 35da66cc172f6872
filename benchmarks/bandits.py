"""The 10-armed testbed (Sutton & Barto, section 2.3 and Figures 2.2-2.4), vectorised over
runs, and a Bernoulli testbed where regret is the measure.

    python benchmarks/bandits.py [--quick] [--out DIR]

Writes bandits.md and bandits_testbed.png (average reward and % optimal action against
steps) into benchmarks/results/.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

import _common as C
import groundup  # noqa: F401
from groundup import agents

# agent id, kwargs, label, the book's figure for the average reward over steps 901-1000
GAUSSIAN = [
    ("epsilon-greedy", {"epsilon": 0.0}, "greedy (epsilon 0)", "about 1.0 (Figure 2.2)"),
    ("epsilon-greedy", {"epsilon": 0.01}, "epsilon 0.01", "about 1.3 (Figure 2.2)"),
    ("epsilon-greedy", {"epsilon": 0.1}, "epsilon 0.1", "1.37"),
    ("optimistic-initial-values", {"initial_value": 5.0, "learning_rate": 0.1}, "optimistic Q1 = 5, alpha 0.1", "1.50"),
    ("ucb1", {"c": 2.0}, "UCB c = 2", "1.49"),
    ("thompson-sampling", {}, "Thompson sampling (Normal prior)", ">= 1.50 (target)"),
]
BERNOULLI = [
    ("epsilon-greedy", {"epsilon": 0.1}, "epsilon 0.1"),
    ("ucb1", {"c": 2.0}, "UCB c = 2"),
    ("thompson-sampling", {}, "Thompson sampling (Beta prior)"),
]


def run(agent_id: str, kwargs: dict, runs: int, steps: int, seed: int, arm_distribution: str = "gaussian"):
    venv = gym.make_vec("groundup/Bandit-v0", num_envs=runs, vectorization_mode="vector_entry_point",
                        arm_distribution=arm_distribution, max_episode_steps=steps)
    reward, optimal, regret = np.zeros(steps), np.zeros(steps), np.zeros(steps)

    def record(locals_, globals_):
        i = locals_["it"] - 1
        reward[i] = locals_["R"].mean()
        optimal[i] = locals_["info"]["is_optimal"].mean()
        regret[i] = locals_["info"]["regret"].mean()

    start = time.perf_counter()
    agents.make(agent_id, venv, seed=seed, **kwargs).learn(runs * steps, callback=record)
    return reward, optimal, regret, time.perf_counter() - start


def main(argv=None) -> None:
    args = C.parse_args(__doc__, argv)
    runs = 500 if args.quick else 2000
    steps = 1000
    curves, rows = {}, []
    for agent_id, kwargs, label, book in GAUSSIAN:
        C.log(f"gaussian: {label}")
        reward, optimal, _, seconds = run(agent_id, kwargs, runs, steps, seed=0)
        curves[label] = (reward, optimal)
        rows.append([label, f"`{agent_id}`", f"{reward[900:].mean():.3f}", book, f"{100 * optimal[900:].mean():.1f}%",
                     f"{seconds:.2f} s"])
    gaussian = C.markdown_table(["method", "agent id", "average reward, steps 901-1000", "Sutton & Barto",
                                 "% optimal action, steps 901-1000", f"time ({runs:,} runs x {steps:,} steps)"], rows)
    rows = []
    for agent_id, kwargs, label in BERNOULLI:
        C.log(f"bernoulli: {label}")
        reward, optimal, regret, seconds = run(agent_id, kwargs, runs, steps, seed=1, arm_distribution="bernoulli")
        rows.append([label, f"`{agent_id}`", f"{regret.sum():.1f}", f"{reward[900:].mean():.3f}",
                     f"{100 * optimal[900:].mean():.1f}%", f"{seconds:.2f} s"])
    bernoulli = C.markdown_table(["method", "agent id", f"total expected regret over {steps:,} steps",
                                  "average reward, steps 901-1000", "% optimal action, steps 901-1000", "time"], rows)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for label, (reward, optimal) in curves.items():
        ax1.plot(np.arange(1, steps + 1), reward, label=label, linewidth=0.9)
        ax2.plot(np.arange(1, steps + 1), 100 * optimal, label=label, linewidth=0.9)
    ax1.set(ylabel="average reward", title=f"10-armed testbed, {runs:,} runs")
    ax2.set(ylabel="% optimal action", xlabel="steps")
    ax1.legend(fontsize=8, loc="lower right")
    C.savefig(fig, args, "bandits_testbed.png")
    plt.close(fig)

    text = ("### The 10-armed Gaussian testbed\n\nq*(a) ~ N(0, 1), rewards ~ N(q*(a), 1); every run is one row of a "
            "vectorised environment (`gym.make_vec(\"groundup/Bandit-v0\", num_envs=..., "
            "vectorization_mode=\"vector_entry_point\")`), and the agents update all runs in one NumPy step.\n\n"
            + gaussian + "\n\n### Bernoulli arms\n\nq*(a) ~ U(0, 1), rewards in {0, 1}; regret is "
            "max q* - q*(A) summed over steps, averaged over runs:\n\n" + bernoulli
            + "\n\n![bandits_testbed.png](benchmarks/results/bandits_testbed.png)")
    C.write_result(args, "bandits", text)


if __name__ == "__main__":
    main()
