"""groundup's deep and linear agents against Stable-Baselines3 on classic control.

* ``dqn`` against SB3's DQN on CartPole-v1 (50k steps), Acrobot-v1 (100k) and
  MountainCar-v0 (120k);
* ``policy-gradient`` (actor-critic mode) against SB3's A2C and PPO on CartPole-v1 (200k),
  Acrobot-v1 (200k), MountainCar-v0 (300k) and MountainCarContinuous-v0 (300k);
* ``semi-gradient-sarsa`` with tile coding on MountainCar-v0 (500 episodes) against
  Sutton & Barto's Figure 10.2, and with RBF features on CartPole-v1 (300 episodes).

SB3 runs with RL Zoo's tuned hyper-parameters for each task (VecNormalize where the Zoo
normalises); groundup runs with the settings in ``GROUNDUP`` below. Both get the same seeds
and step budgets in the same run. Every tenth of the budget the deterministic policy is
evaluated on 5 episodes of a separately seeded environment (the time spent evaluating is
not counted as training time), and at the end on 20 episodes: a seed is *solved* when that
final mean reaches the task's threshold. "Steps to threshold" is the first evaluation point
whose mean reaches it (median over the seeds that got there).

The full run takes hours on two cores, so every (task, agent, seed) is cached in
``rl_deep_runs.json`` in ``--out`` as soon as it finishes: run it in chunks
(``--only dqn/Acrobot``, ``--max-minutes 9``) and the table is drawn from the cache each time.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, markdown_table, parse_args, savefig, write_result  # noqa: E402

import gymnasium as gym  # noqa: E402

from groundup import agents  # noqa: E402
from groundup.persistence import atomic_write_bytes  # noqa: E402

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
                               learning_rate_schedule="linear")),
    "pg/Acrobot-v1": (8, dict(n_steps=8, learning_rate=1e-3, gae_lambda=0.95, normalize_advantage=True,
                              normalize_observations=True)),
    # SB3 A2C's defaults and RL Zoo's 16 environments with VecNormalize's scalings: without
    # the reward scaling (rewards -1 a step) no seed ever reached the goal in 300k steps.
    "pg/MountainCar-v0": (16, dict(normalize_observations=True, normalize_rewards=True, optimizer="rmsprop")),
    "pg/MountainCarContinuous-v0": (4, dict(n_steps=100, use_sde=True, sde_sample_freq=16, log_std_init=0.0,
                                            ortho_init=False, normalize_observations=True, optimizer="rmsprop")),
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

# configurations: seeds, budget scale, which tasks
MODES = {
    "full": dict(seeds=(0, 1, 2, 3, 4), scale=1.0, tasks=tuple(TASKS), sarsa_scale=1.0),
    "quick": dict(seeds=(0, 1), scale=1.0, tasks=("dqn/CartPole-v1", "pg/CartPole-v1"), sarsa_scale=0.4),
    "smoke": dict(seeds=(0,), scale=0.02, tasks=("dqn/CartPole-v1", "pg/CartPole-v1"), sarsa_scale=0.02),
}
N_EVALS, EVAL_EPISODES, FINAL_EPISODES = 10, 5, 20


def _extra(parser: Any) -> None:
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, for the test suite (seconds)")
    parser.add_argument("--only", default="", help="comma-separated substrings of 'task/agent' to run (default: all)")
    parser.add_argument("--seeds", default="", help="comma-separated seeds (default: the mode's)")
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this many minutes")
    parser.add_argument("--fresh", action="store_true", help="ignore cached runs")


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
    return _record(ev, agent, seconds, budget)


def _sb3_env(env_id: str, n_envs: int, normalize: bool, gamma: float, seed: int) -> Any:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    return VecNormalize(venv, gamma=gamma) if normalize else venv


def run_sb3(task: str, algo: str, seed: int, budget: int) -> dict[str, Any]:
    import stable_baselines3 as sb3
    from stable_baselines3.common.callbacks import BaseCallback
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

    class Eval(BaseCallback):
        def _on_step(self) -> bool:
            if ev.due(self.num_timesteps):
                if normalize:
                    ev.env.obs_rms = env.obs_rms.copy()  # evaluate with the training statistics
                ev.maybe(self.model, self.num_timesteps)
            return True

    start = time.perf_counter()
    model.learn(budget, callback=Eval())
    seconds = time.perf_counter() - start - ev.eval_seconds
    if isinstance(env, VecNormalize):
        ev.env.obs_rms = env.obs_rms.copy()
    return _record(ev, model, seconds, budget)


def _linear(initial: float) -> Any:
    return lambda progress_remaining: progress_remaining * initial


def _record(ev: Evaluator, model: Any, seconds: float, budget: int) -> dict[str, Any]:
    final = ev.evaluate(model, FINAL_EPISODES)
    ev.curve.append((budget, final))
    reached = [step for step, mean in ev.curve if mean >= ev.threshold]
    return {"final": final, "solved": bool(final >= ev.threshold), "steps_to_threshold": reached[0] if reached else None,
            "train_seconds": seconds, "curve": ev.curve}


def run_sarsa(task: str, seed: int, episodes: int) -> dict[str, Any]:
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


# -- the cache of finished runs ----------------------------------------------------------------------
def _load_cache(path: Path, fresh: bool) -> dict[str, Any]:
    if fresh or not path.is_file():
        return {}
    return json.loads(path.read_text())


def _save_cache(path: Path, cache: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(cache, indent=1, sort_keys=True).encode())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.split("\n")[0], argv, extra=_extra)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = MODES[mode]
    seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else cfg["seeds"]
    only = [s for s in args.only.split(",") if s]
    cache_path = args.out / "rl_deep_runs.json"
    cache = _load_cache(cache_path, args.fresh)
    started = time.perf_counter()
    jobs: list[tuple[str, str, int]] = []
    for task in cfg["tasks"]:
        jobs += [(task, algo, seed) for algo in TASKS[task]["algos"] for seed in _task_seeds(task, seeds)]
    jobs += [(task, "groundup-sarsa", seed) for task in SARSA_TASKS for seed in seeds]
    for task, algo, seed in jobs:
        name = f"{task}/{algo}"
        key = f"{mode}|{name}|{seed}"
        if key in cache or (only and not any(s in name for s in only)):
            continue
        if args.max_minutes is not None and time.perf_counter() - started > 60 * args.max_minutes:
            log(f"time is up ({args.max_minutes} min): stopping before {key}")
            break
        log(f"running {key}")
        if task.startswith("sarsa"):
            result = run_sarsa(task, seed, max(2, round(SARSA_TASKS[task]["episodes"] * cfg["sarsa_scale"])))
        else:
            budget = max(1000, round(TASKS[task]["steps"] * cfg["scale"]))
            result = run_groundup(task, seed, budget) if algo.startswith("groundup") else run_sb3(task, algo, seed, budget)
        log(f"  final {result['final']:.1f}, solved {result['solved']}, {result['train_seconds']:.1f} s")
        cache = {**_load_cache(cache_path, False), **cache, key: result}  # keep runs another chunk cached meanwhile
        _save_cache(cache_path, cache)
    write_result(args, "rl_deep", report(cache, mode, seeds, cfg, args))


# -- the report ----------------------------------------------------------------------------------------
def _task_seeds(task: str, seeds: tuple[int, ...]) -> tuple[int, ...]:
    return seeds[: TASKS[task].get("seeds", len(seeds))]


def _runs(cache: dict[str, Any], mode: str, name: str, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    return [cache[f"{mode}|{name}|{s}"] for s in seeds if f"{mode}|{name}|{s}" in cache]


def _mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"


def report(cache: dict[str, Any], mode: str, seeds: tuple[int, ...], cfg: dict[str, Any], args: Any) -> str:
    rows = []
    curves = {}
    for task in cfg["tasks"]:
        spec = TASKS[task]
        budget = max(1000, round(spec["steps"] * cfg["scale"]))
        times: dict[str, float] = {}
        task_seeds = _task_seeds(task, seeds)
        for algo in spec["algos"]:
            runs = _runs(cache, mode, f"{task}/{algo}", task_seeds)
            if runs:
                times[algo] = statistics.median(r["train_seconds"] for r in runs)
        for algo in spec["algos"]:
            runs = _runs(cache, mode, f"{task}/{algo}", task_seeds)
            if not runs:  # say so rather than drop the row
                rows.append([f"{spec['env']} ({budget // 1000}k)", algo, "not run", "—", "—", "—", "—"])
                continue
            curves[(task, algo)] = runs
            reached = [r["steps_to_threshold"] for r in runs if r["steps_to_threshold"] is not None]
            ratio = []
            if algo.startswith("groundup"):
                for base in spec["algos"][1:]:
                    if base in times:
                        ratio.append(f"{times[algo] / times[base]:.2f}× {base[4:].upper()}")
            rows.append([f"{spec['env']} ({budget // 1000}k)", algo, f"{sum(r['solved'] for r in runs)}/{len(runs)}",
                         f"{statistics.median(reached) / 1000:.0f}k" if reached else "—",
                         _mean_std([r["final"] for r in runs]), f"{times[algo]:.1f}", ", ".join(ratio) or "—"])
    md = ["## Deep RL: groundup against Stable-Baselines3 (RL Zoo hyper-parameters)", "",
          f"Mode {mode}; seeds {', '.join(map(str, seeds))} (the first three on Acrobot, MountainCar and MountainCarContinuous); threshold: CartPole 475, Acrobot -100, MountainCar -120, "
          "MountainCarContinuous 90; *solved* = the final deterministic policy's mean over 20 episodes reaches it.", "",
          markdown_table(["task (budget)", "agent", "seeds solved", "steps to threshold (median)", "final return",
                          "train s (median)", "time ratio"], rows)]
    sarsa_rows = []
    for task, spec in SARSA_TASKS.items():
        runs = _runs(cache, mode, f"{task}/groundup-sarsa", seeds)
        if not runs:
            continue
        episodes = len(runs[0]["lengths"])
        last = [statistics.mean(r["lengths"][-50:]) for r in runs]
        sarsa_rows.append([spec["env"], spec["kwargs"]["features"], episodes, f"{sum(r['solved'] for r in runs)}/{len(runs)}",
                           _mean_std([r["final"] for r in runs]), f"{statistics.mean(last):.0f}",
                           f"{statistics.median(r['train_seconds'] for r in runs):.1f}"])
    if sarsa_rows:
        md += ["", f"### semi-gradient SARSA (greedy mean over 100 episodes; thresholds -140 and 300; the book's Figure 10.2 "
                   f"reaches ~{BOOK_STEPS_PER_EPISODE} steps per episode on Mountain Car)", "",
               markdown_table(["env", "features", "training episodes", "seeds solved", "greedy return",
                               "steps/episode, last 50", "train s (median)"], sarsa_rows)]
    _plot(curves, cache, mode, seeds, args)
    md += ["", "Learning curves: `rl_deep_curves.png`, `rl_deep_sarsa.png`."]
    return "\n".join(md)


def _plot(curves: dict[tuple[str, str], list[dict[str, Any]]], cache: dict[str, Any], mode: str, seeds: tuple[int, ...],
          args: Any) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return
    tasks = sorted({t for t, _ in curves}, key=list(TASKS).index)
    if tasks:
        fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
        for ax, task in zip(axes[0], tasks):
            for (t, algo), runs in curves.items():
                if t != task:
                    continue
                steps = np.array([s for s, _ in runs[0]["curve"]])
                values = np.array([[v for _, v in r["curve"]] for r in runs if len(r["curve"]) == len(steps)])
                ax.plot(steps, values.mean(axis=0), label=algo, lw=2 if algo.startswith("groundup") else 1.2)
                ax.fill_between(steps, values.min(axis=0), values.max(axis=0), alpha=0.15)
            ax.axhline(TASKS[task]["threshold"], color="grey", ls="--", lw=0.8)
            ax.set_title(task, fontsize=9)
            ax.set_xlabel("environment steps")
            ax.legend(fontsize=7)
        axes[0][0].set_ylabel("evaluation return (mean, min-max over seeds)")
        savefig(fig, args, "rl_deep_curves.png")
        plt.close(fig)
    runs = _runs(cache, mode, "sarsa/MountainCar-v0/groundup-sarsa", seeds)
    if runs:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        n = min(len(r["lengths"]) for r in runs)
        mean = np.mean([r["lengths"][:n] for r in runs], axis=0)
        ax.plot(np.arange(1, n + 1), mean, label=f"semi-gradient SARSA, tile coding (mean of {len(runs)} seeds)")
        ax.axhline(BOOK_STEPS_PER_EPISODE, color="grey", ls="--", lw=0.8, label="Sutton & Barto Fig. 10.2 (~130)")
        ax.set_yscale("log")
        ax.set_xlabel("episode")
        ax.set_ylabel("steps per episode (200 = time limit)")
        ax.legend(fontsize=7)
        savefig(fig, args, "rl_deep_sarsa.png")
        plt.close(fig)


if __name__ == "__main__":
    main()
