"""groundup's deep and linear agents against Stable-Baselines3 on classic control.

    python -m benchmarks.rl_deep [--smoke | --quick | --full] [--only dqn/Acrobot] [--update-results]

* ``dqn`` against SB3's DQN on CartPole-v1 (50k steps), Acrobot-v1 (100k) and
  MountainCar-v0 (120k);
* ``policy-gradient`` (actor-critic mode) against SB3's A2C and PPO on CartPole-v1 (200k),
  Acrobot-v1 (200k), MountainCar-v0 (300k) and MountainCarContinuous-v0 (300k);
* ``semi-gradient-sarsa`` with tile coding on MountainCar-v0 (500 episodes) against
  Sutton & Barto's Figure 10.2, and with RBF features on CartPole-v1 (300 episodes).

SB3 runs with RL Zoo's tuned hyper-parameters for each task (VecNormalize where the Zoo
normalises); groundup runs with the settings in ``GROUNDUP`` below. Both get the same seeds
and step budgets. Every tenth of the budget the deterministic policy is evaluated on 5
episodes of a separately seeded environment (the time spent evaluating is not counted as
training time), and at the end on 20 episodes: a seed is *solved* when that final mean
reaches the task's threshold. "Steps to threshold" is the first evaluation point whose mean
reaches it (median over the seeds that got there).

Each (task, agent, seed) is one engine run (:func:`run`, :func:`sarsa`), kept in the
results store as soon as it finishes: the full grid takes hours on two cores, so run it in
chunks (``--only dqn/Acrobot``; an interrupted run resumes where it stopped) and the table
is drawn from the store each time. Every run is single-threaded and asks for one CPU, so
the engine runs as many side by side as there are cores and no run's threads compete
with another's; groundup and SB3 are timed under the same conditions.

Modes: ``--full`` is every task on seeds 0-4 (the first three on the slow tasks);
``--quick`` (about 5 minutes on two cores) is the CartPole rows, DQN (50k) and actor-critic
(200k) against their SB3 baselines at the full budgets, on seed 0, and both SARSA tasks at
their full episode counts on seeds 0 and 1; ``--smoke`` is the CartPole rows at 2% of the
budget, for the tests.
"""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any

import gymnasium as gym

from benchmarks import common
from groundup import agents
from groundup.experiments.stats import plot_curves, summarize

warnings.filterwarnings("ignore", message=".*Monitor.*")

# task -> env id, step budget, threshold, the agents compared, how many of the seeds (the
# slow tasks take the first three: SB3's DQN on Acrobot alone needs ~5 minutes a seed here)
TASKS: dict[str, dict[str, Any]] = {
    "dqn/CartPole-v1": dict(env="CartPole-v1", steps=50_000, threshold=475, algos=("groundup-dqn", "sb3-dqn")),
    "dqn/Acrobot-v1": dict(env="Acrobot-v1", steps=100_000, threshold=-100, algos=("groundup-dqn", "sb3-dqn"), seeds=3),
    "dqn/MountainCar-v0": dict(env="MountainCar-v0", steps=120_000, threshold=-120, algos=("groundup-dqn", "sb3-dqn"),
                               seeds=3),
    "pg/CartPole-v1": dict(env="CartPole-v1", steps=200_000, threshold=475, algos=("groundup-pg", "sb3-a2c", "sb3-ppo")),
    "pg/Acrobot-v1": dict(env="Acrobot-v1", steps=200_000, threshold=-100, algos=("groundup-pg", "sb3-a2c", "sb3-ppo"),
                          seeds=3),
    "pg/MountainCar-v0": dict(env="MountainCar-v0", steps=300_000, threshold=-120, algos=("groundup-pg", "sb3-a2c", "sb3-ppo"),
                              seeds=3),
    "pg/MountainCarContinuous-v0": dict(env="MountainCarContinuous-v0", steps=300_000, threshold=90,
                                        algos=("groundup-pg", "sb3-a2c", "sb3-ppo"), seeds=3),
}
SARSA_TASKS = {
    "sarsa/MountainCar-v0": dict(env="MountainCar-v0", episodes=500, threshold=-140, eval_episodes=100,
                                 kwargs=dict(features="tile-coding", epsilon=0.0)),
    "sarsa/CartPole-v1": dict(env="CartPole-v1", episodes=300, threshold=300, eval_episodes=100,
                              kwargs=dict(features="rbf", rbf_per_dim=7, gamma=0.99)),
}
BOOK_STEPS_PER_EPISODE = 130  # Sutton & Barto, Figure 10.2: α = 0.5/8, after a few hundred episodes

# groundup's settings per task: (n_envs, agent kwargs)
GROUNDUP: dict[str, tuple[int, dict[str, Any]]] = {
    "dqn/CartPole-v1": (1, dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
                                target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                                exploration_final_eps=0.04, net_arch=[128, 128], double_q=True,
                                learning_rate_schedule="linear")),
    "dqn/Acrobot-v1": (1, dict(learning_rate=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0,
                               target_update_interval=250, train_freq=4, gradient_steps=-1, exploration_fraction=0.12,
                               exploration_final_eps=0.1, net_arch=[64, 64], double_q=True)),
    # RL Zoo's settings but twice the gradient steps: with 8, seeds 0-2 ended at -140, -141 and
    # -102 (the goal is first reached only after ~70k steps, leaving little time to refine).
    "dqn/MountainCar-v0": (1, dict(learning_rate=4e-3, batch_size=128, buffer_size=10_000, learning_starts=1000,
                                   gamma=0.98, target_update_interval=600, train_freq=16, gradient_steps=16,
                                   exploration_fraction=0.2, exploration_final_eps=0.07, net_arch=[256, 256],
                                   scale_observations=True, double_q=True, learning_rate_schedule="linear")),
    "pg/CartPole-v1": (8, dict(n_steps=8, learning_rate=1.5e-3, gae_lambda=0.95, normalize_advantage=True,
                               learning_rate_schedule="linear", normalize_rewards=False)),
    "pg/Acrobot-v1": (8, dict(n_steps=8, learning_rate=1e-3, gae_lambda=0.95, normalize_advantage=True,
                              normalize_observations=True, normalize_rewards=False)),
    # SB3 A2C's defaults and RL Zoo's 16 environments with VecNormalize's scalings: without
    # the reward scaling (rewards -1 a step) no seed ever reached the goal in 300k steps.
    "pg/MountainCar-v0": (16, dict(normalize_observations=True, normalize_rewards=True, optimizer="rmsprop")),
    "pg/MountainCarContinuous-v0": (4, dict(n_steps=100, use_sde=True, sde_sample_freq=16, log_std_init=0.0,
                                            ortho_init=False, normalize_observations=True, optimizer="rmsprop",
                                            normalize_rewards=False)),
}

# RL Zoo (rl-baselines3-zoo, hyperparams/{dqn,a2c,ppo}.yml): n_envs, normalize, kwargs
ZOO: dict[tuple[str, str], tuple[int, bool, dict[str, Any]]] = {
    ("sb3-dqn", "CartPole-v1"): (1, False, dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
                                              learning_starts=1000, gamma=0.99, target_update_interval=10,
                                              train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                                              exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]))),
    ("sb3-dqn", "Acrobot-v1"): (1, False, dict(learning_rate=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0,
                                             gamma=0.99, target_update_interval=250, train_freq=4, gradient_steps=-1,
                                             exploration_fraction=0.12, exploration_final_eps=0.1,
                                             policy_kwargs=dict(net_arch=[256, 256]))),
    ("sb3-dqn", "MountainCar-v0"): (1, False, dict(learning_rate=4e-3, batch_size=128, buffer_size=10_000,
                                                 learning_starts=1000, gamma=0.98, target_update_interval=600,
                                                 train_freq=16, gradient_steps=8, exploration_fraction=0.2,
                                                 exploration_final_eps=0.07, policy_kwargs=dict(net_arch=[256, 256]))),
    ("sb3-a2c", "CartPole-v1"): (8, False, dict(ent_coef=0.0)),
    ("sb3-a2c", "Acrobot-v1"): (16, True, dict(ent_coef=0.0)),
    ("sb3-a2c", "MountainCar-v0"): (16, True, dict(ent_coef=0.0)),
    ("sb3-a2c", "MountainCarContinuous-v0"): (4, True, dict(n_steps=100, ent_coef=0.0, use_sde=True, sde_sample_freq=16,
                                                          policy_kwargs=dict(log_std_init=0.0, ortho_init=False))),
    ("sb3-ppo", "CartPole-v1"): (8, False, dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                                              ent_coef=0.0, learning_rate="lin_0.001", clip_range="lin_0.2")),
    ("sb3-ppo", "Acrobot-v1"): (16, True, dict(n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0)),
    ("sb3-ppo", "MountainCar-v0"): (16, True, dict(n_steps=16, gae_lambda=0.98, gamma=0.99, n_epochs=4, ent_coef=0.0)),
    ("sb3-ppo", "MountainCarContinuous-v0"): (1, True, dict(batch_size=256, n_steps=8, gamma=0.9999, learning_rate=7.77e-5,
                                                          ent_coef=0.00429, clip_range=0.1, n_epochs=10, gae_lambda=0.9,
                                                          max_grad_norm=5, vf_coef=0.19, use_sde=True,
                                                          policy_kwargs=dict(log_std_init=-3.29, ortho_init=False))),
}

# configurations: seeds, budget scale, which tasks; the SARSA tasks' seeds and episode scale
MODES: dict[str, dict[str, Any]] = {
    "full": dict(seeds=(0, 1, 2, 3, 4), scale=1.0, tasks=tuple(TASKS), sarsa_seeds=(0, 1, 2, 3, 4), sarsa_scale=1.0),
    "quick": dict(seeds=(0,), scale=1.0, tasks=("dqn/CartPole-v1", "pg/CartPole-v1"), sarsa_seeds=(0, 1), sarsa_scale=1.0),
    "smoke": dict(seeds=(0,), scale=0.02, tasks=("dqn/CartPole-v1", "pg/CartPole-v1"), sarsa_seeds=(0,), sarsa_scale=0.02),
}
N_EVALS, EVAL_EPISODES, FINAL_EPISODES = 10, 5, 20


# -- evaluation, the same for every library ---------------------------------------------------------
class Evaluator:
    """Evaluates a policy at fixed step counts, keeping its own time out of the training clock."""

    def __init__(self, env_id: str, seed: int, budget: int, threshold: float, make_eval_env: Any = None) -> None:
        self.points = [round(budget * (i + 1) / N_EVALS) for i in range(N_EVALS - 1)]
        self.env = (make_eval_env or (lambda: gym.make(env_id)))()
        self.seed = seed
        self.threshold = threshold
        self.curve: list[tuple[int, float]] = []
        self.eval_seconds = 0.0
        self._next = 0

    def evaluate(self, model: Any, n_episodes: int) -> float:
        from stable_baselines3.common.evaluation import evaluate_policy

        start = time.perf_counter()
        if hasattr(self.env, "reset") and not hasattr(self.env, "num_envs"):
            self.env.reset(seed=10_000 + self.seed)
        else:
            self.env.seed(10_000 + self.seed)
        mean, _ = evaluate_policy(model, self.env, n_eval_episodes=n_episodes, deterministic=True, warn=False)
        self.eval_seconds += time.perf_counter() - start
        return float(mean)

    def due(self, num_timesteps: int) -> bool:
        return self._next < len(self.points) and num_timesteps >= self.points[self._next]

    def maybe(self, model: Any, num_timesteps: int) -> None:
        if self.due(num_timesteps):
            self.curve.append((self.points[self._next], self.evaluate(model, EVAL_EPISODES)))
            self._next += 1


def run(task: str, algo: str, budget: int, seed: int) -> dict[str, Any]:
    """One engine run: ``algo`` (``groundup-dqn``, ``groundup-pg`` or ``sb3-*``) on ``task``
    for ``budget`` steps; its evaluation curve, final return and training seconds."""
    if task not in TASKS or algo not in TASKS[task]["algos"]:
        raise ValueError(f"{algo!r} is not an agent of task {task!r}")
    return run_groundup(task, seed, budget) if algo.startswith("groundup") else run_sb3(task, algo, seed, budget)


def run_groundup(task: str, seed: int, budget: int) -> dict[str, Any]:
    spec = TASKS[task]
    n_envs, kwargs = GROUNDUP[task]
    agent_id = "dqn" if task.startswith("dqn") else "policy-gradient"
    env = gym.make(spec["env"]) if n_envs == 1 else gym.make_vec(spec["env"], num_envs=n_envs, vectorization_mode="sync")
    agent = agents.make(agent_id, env, seed=seed, device="cpu", **kwargs)
    ev = Evaluator(spec["env"], seed, budget, spec["threshold"])
    start = time.perf_counter()
    agent.learn(budget, callback=lambda locals_, globals_: ev.maybe(agent, agent.num_timesteps))
    seconds = time.perf_counter() - start - ev.eval_seconds
    return record(ev, agent, seconds, budget)


def _sb3_env(env_id: str, n_envs: int, normalize: bool, gamma: float, seed: int) -> Any:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    return VecNormalize(venv, gamma=gamma) if normalize else venv


def run_sb3(task: str, algo: str, seed: int, budget: int) -> dict[str, Any]:
    import stable_baselines3 as sb3
    from stable_baselines3.common.vec_env import VecNormalize

    spec = TASKS[task]
    n_envs, normalize, kwargs = ZOO[(algo, spec["env"])]
    kwargs = {k: (_linear(float(v[4:])) if isinstance(v, str) and v.startswith("lin_") else v) for k, v in kwargs.items()}
    env = _sb3_env(spec["env"], n_envs, normalize, kwargs.get("gamma", 0.99), seed)
    cls = {"sb3-dqn": sb3.DQN, "sb3-a2c": sb3.A2C, "sb3-ppo": sb3.PPO}[algo]
    model = cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs)

    def make_eval_env() -> Any:
        if not normalize:
            return gym.make(spec["env"])
        eval_env = _sb3_env(spec["env"], 1, True, kwargs.get("gamma", 0.99), seed)
        eval_env.training, eval_env.norm_reward = False, False
        return eval_env

    ev = Evaluator(spec["env"], seed, budget, spec["threshold"], make_eval_env)
    start = time.perf_counter()
    model.learn(budget, callback=sb3_callback(ev, env if normalize else None))
    seconds = time.perf_counter() - start - ev.eval_seconds
    if isinstance(env, VecNormalize):
        ev.env.obs_rms = env.obs_rms.copy()
    return record(ev, model, seconds, budget)


def sb3_callback(ev: Evaluator, normalized_env: Any = None) -> Any:
    """An SB3 callback that evaluates at ``ev``'s points (with the training env's
    observation statistics, where it normalises them)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if ev.due(self.num_timesteps):
                if normalized_env is not None:
                    ev.env.obs_rms = normalized_env.obs_rms.copy()  # evaluate with the training statistics
                ev.maybe(self.model, self.num_timesteps)
            return True

    return Evaluate()


def _linear(initial: float) -> Any:
    return lambda progress_remaining: progress_remaining * initial


def record(ev: Evaluator, model: Any, seconds: float, budget: int) -> dict[str, Any]:
    """The final evaluation (20 episodes) added to the curve: a run's metrics."""
    final = ev.evaluate(model, FINAL_EPISODES)
    ev.curve.append((budget, final))
    reached = [step for step, mean in ev.curve if mean >= ev.threshold]
    return {"final": final, "solved": bool(final >= ev.threshold), "steps_to_threshold": reached[0] if reached else None,
            "train_seconds": seconds, "curve": ev.curve}


def sarsa(task: str, episodes: int, seed: int) -> dict[str, Any]:
    """One engine run: semi-gradient SARSA on a SARSA task for ``episodes`` episodes, then its
    greedy mean return over the task's evaluation episodes."""
    from stable_baselines3.common.evaluation import evaluate_policy

    spec = SARSA_TASKS[task]
    env = gym.make(spec["env"])
    agent = agents.make("semi-gradient-sarsa", env, seed=seed, **spec["kwargs"])
    start = time.perf_counter()
    agent.learn(n_episodes=episodes)
    seconds = time.perf_counter() - start
    eval_env = gym.make(spec["env"])
    eval_env.reset(seed=10_000 + seed)
    final, _ = evaluate_policy(agent, eval_env, n_eval_episodes=spec["eval_episodes"], deterministic=True, warn=False)
    return {"final": float(final), "solved": bool(final >= spec["threshold"]), "train_seconds": seconds,
            "lengths": agent.episode_lengths, "steps": agent.num_timesteps}


# -- the grid ---------------------------------------------------------------------------------------------
def budget_of(task: str, scale: float) -> int:
    return max(1000, round(TASKS[task]["steps"] * scale))


def episodes_of(task: str, scale: float) -> int:
    return max(2, round(SARSA_TASKS[task]["episodes"] * scale))


def task_seeds(task: str, seeds: list[int]) -> list[int]:
    """The slow tasks take the first three seeds."""
    return seeds[: TASKS[task].get("seeds", len(seeds))]


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args("rl_deep", __doc__, argv)
    cfg = MODES[args.mode]
    seeds = common.seeds_for(args, cfg["seeds"])
    sarsa_seeds = common.seeds_for(args, cfg["sarsa_seeds"])
    records: list[dict[str, Any]] = []
    for task in cfg["tasks"]:
        algos = [a for a in TASKS[task]["algos"] if common.selected(args, f"{task}/{a}")]
        if algos:
            result = common.sweep(args, "benchmarks.rl_deep:run",
                                  {"task": [task], "algo": algos, "budget": [budget_of(task, cfg["scale"])]},
                                  task_seeds(task, seeds), num_cpus=1, desc=task)
            records += result.records
    for task in SARSA_TASKS:
        if common.selected(args, f"{task}/groundup-sarsa"):
            result = common.sweep(args, "benchmarks.rl_deep:sarsa",
                                  {"task": [task], "episodes": [episodes_of(task, cfg["sarsa_scale"])]}, sarsa_seeds,
                                  num_cpus=1, desc=task)
            records += result.records
    failed = [r for r in records if r["status"] != "ok"]
    common.write_result(args, report(records, args, seeds, sarsa_seeds))
    for r in failed:
        common.log(f"failed: {r['function']} {r['params']} seed {r['seed']}\n{r['error']}")
    return 1 if failed else 0


# -- the report ----------------------------------------------------------------------------------------
def _k(steps: float) -> str:
    return f"{steps / 1000:.0f}k"


def _seconds(t: float) -> str:
    return f"{t:.1f}" if t >= 1 else f"{t:.2f}"


def report(records: list[dict[str, Any]], args: Any, seeds: list[int], sarsa_seeds: list[int]) -> str:
    cfg = MODES[args.mode]
    ok = [r for r in records if r["status"] == "ok"]
    deep = [r for r in ok if r["function"].endswith(":run")]
    rows, curves = [], {}
    for task in cfg["tasks"]:
        spec = TASKS[task]
        budget = budget_of(task, cfg["scale"])
        runs = {a: [r for r in deep if r["params"]["task"] == task and r["params"]["algo"] == a] for a in spec["algos"]}
        times = {a: statistics.median(r["metrics"]["train_seconds"] for r in rs) for a, rs in runs.items() if rs}
        for algo in spec["algos"]:
            if not common.selected(args, f"{task}/{algo}"):
                continue
            rs = runs[algo]
            if not rs:  # say so rather than drop the row
                failed = sum(1 for r in records if r["status"] != "ok" and r["params"].get("task") == task
                             and r["params"].get("algo") == algo)
                rows.append([f"{spec['env']} ({_k(budget)})", algo, f"{failed} failed" if failed else "not run"]
                            + ["—"] * 6)
                continue
            curves.setdefault(task, {})[algo] = [r["metrics"]["curve"] for r in rs]
            finals = [r["metrics"]["final"] for r in rs]
            s = summarize(finals)
            reached = [r["metrics"]["steps_to_threshold"] for r in rs if r["metrics"]["steps_to_threshold"] is not None]
            ratio = [f"{times[algo] / times[base]:.2f}× {base[4:].upper()}" for base in spec["algos"][1:]
                     if algo.startswith("groundup") and base in times]
            rows.append([f"{spec['env']} ({_k(budget)})", algo, f"{sum(r['metrics']['solved'] for r in rs)}/{len(rs)}",
                         _k(statistics.median(reached)) if reached else "—",
                         f"{s['mean']:.1f} ± {s['std']:.1f}" if s["n"] > 1 else f"{s['mean']:.1f}",
                         f"[{s['ci_low']:.1f}, {s['ci_high']:.1f}]" if s["n"] > 1 else "—", f"{s['iqm']:.1f}",
                         _seconds(times[algo]), ", ".join(ratio) or "—"])
    md = ["## Deep RL: groundup against Stable-Baselines3 (RL Zoo hyper-parameters)", "",
          f"Mode {args.mode}; seeds {', '.join(map(str, seeds))} (the first three on Acrobot, MountainCar and "
          "MountainCarContinuous); threshold: CartPole 475, Acrobot -100, MountainCar -120, MountainCarContinuous 90; "
          "*solved* = the final deterministic policy's mean over 20 episodes reaches it. Final return: mean ± std over "
          "the seeds, a 95% bootstrap interval of the mean, and the interquartile mean. Every run is single-threaded "
          "on one CPU, as many side by side as there are cores, groundup and SB3 alike; the time ratio is groundup's "
          "median training seconds over the baseline's.", "",
          common.markdown_table(["task (budget)", "agent", "seeds solved", "steps to threshold (median)", "final return",
                                 "95% CI", "IQM", "train s (median)", "time ratio"], rows) if rows else "(no run selected)"]
    sarsa_rows, lengths = [], {}
    for task, spec in SARSA_TASKS.items():
        rs = [r for r in ok if r["function"].endswith(":sarsa") and r["params"]["task"] == task]
        if not rs:
            continue
        s = summarize([r["metrics"]["final"] for r in rs])
        last = [statistics.mean(r["metrics"]["lengths"][-50:]) for r in rs]
        sarsa_rows.append([spec["env"], spec["kwargs"]["features"], rs[0]["params"]["episodes"],
                           f"{sum(r['metrics']['solved'] for r in rs)}/{len(rs)}",
                           f"{s['mean']:.1f} ± {s['std']:.1f}" if s["n"] > 1 else f"{s['mean']:.1f}",
                           f"[{s['ci_low']:.1f}, {s['ci_high']:.1f}]" if s["n"] > 1 else "—",
                           f"{statistics.mean(last):.0f}",
                           _seconds(statistics.median(r["metrics"]["train_seconds"] for r in rs))])
        lengths[f"{spec['env']}, {spec['kwargs']['features']}"] = {
            "semi-gradient SARSA": [[(i + 1, n) for i, n in enumerate(r["metrics"]["lengths"])] for r in rs]}
    if sarsa_rows:
        md += ["", f"### semi-gradient SARSA (seeds {', '.join(map(str, sarsa_seeds))}; greedy mean over 100 episodes; "
                   f"thresholds -140 and 300; the book's Figure 10.2 reaches ~{BOOK_STEPS_PER_EPISODE} steps per episode "
                   "on Mountain Car)", "",
               common.markdown_table(["env", "features", "training episodes", "seeds solved", "greedy return", "95% CI",
                                      "steps/episode, last 50", "train s (median)"], sarsa_rows)]
    pictures = []
    if curves:
        plot_curves(curves, args.out / "rl_deep_curves.png", xlabel="environment steps",
                    ylabel="evaluation return",
                    thresholds={t: TASKS[t]["threshold"] for t in curves}, ncols=4)
        pictures.append("![rl_deep_curves](rl_deep_curves.png)")
    if lengths:
        plot_curves(lengths, args.out / "rl_deep_sarsa.png", xlabel="episode", ylabel="steps per episode",
                    thresholds={k: BOOK_STEPS_PER_EPISODE for k in lengths if k.startswith("MountainCar")}, ncols=2)
        pictures.append("![rl_deep_sarsa](rl_deep_sarsa.png)")
    if pictures:
        md += ["", "Learning curves, mean and 95% bootstrap band over the seeds (dashed: the threshold; for SARSA on Mountain "
               "Car, the book's ~130 steps per episode, where 200 is the time limit):", "",
               " ".join(pictures)]
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        md += ["", f"**{len(failed)} run(s) failed**: "
               + ", ".join(f"{r['params']} seed {r['seed']}" for r in failed)]
    return "\n".join(md)


if __name__ == "__main__":
    raise SystemExit(main())
