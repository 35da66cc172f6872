"""``groundup``: the command line.

    groundup agents                         the registry as a table
    groundup train ID ENV --timesteps N --seed S --save PATH [--param k=v ...] [--env-arg k=v ...]
    groundup evaluate PATH ENV --episodes N [--seed S]
    groundup bench [--quick] [--only NAME ...]
    groundup demo                           DP, Q-learning and SARSA on FrozenLake and Cliff Walking
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _kv(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def cmd_agents(args: argparse.Namespace) -> int:
    from groundup import agents

    rows = []
    for agent_id in agents.registry:
        spec = agents.registry[agent_id]
        try:
            obs, act = ", ".join(spec.observation_spaces), ", ".join(spec.action_spaces)
            model = "yes" if spec.requires_model else ""
        except ImportError as exc:  # an agent whose optional dependency is missing
            obs, act, model = "?", "?", f"(cannot load: {exc})"
        rows.append([agent_id, spec.family, obs, act, model, spec.summary])
    print(_table(["id", "family", "observations", "actions", "model", "summary"], rows))
    return 0


def _make_env(env_id: str, env_args: list[tuple[str, Any]]) -> Any:
    import gymnasium as gym

    import groundup  # noqa: F401  (registers groundup/ environments)

    try:
        return gym.make(env_id, **dict(env_args))
    except gym.error.Error as exc:
        raise SystemExit(f"groundup: cannot make environment {env_id!r}: {exc}") from None


def cmd_train(args: argparse.Namespace) -> int:
    from groundup import agents

    env = _make_env(args.env, args.env_arg)
    params = dict(args.param)
    if args.seed is not None:
        params["seed"] = args.seed
    agent = agents.make(args.agent, env, **params)
    start = time.perf_counter()
    spec = agents.registry[args.agent]
    if spec.family == "dynamic programming":
        agent.learn(progress_bar=not args.no_progress)
    else:
        if args.timesteps is None and args.episodes is None:
            raise SystemExit("groundup train: give --timesteps N (or --episodes N)")
        kwargs = {"n_episodes": args.episodes} if args.episodes is not None else {}
        agent.learn(args.timesteps, progress_bar=not args.no_progress, **kwargs)
    seconds = time.perf_counter() - start
    returns = agent.episode_returns[-100:]
    tail = f"; mean return of the last {len(returns)} episodes {sum(returns) / len(returns):.3f}" if returns else ""
    print(f"trained {args.agent} on {args.env} in {seconds:.1f} s ({agent.num_timesteps} steps, {agent.num_episodes} episodes{tail})")
    if args.save:
        agent.save(args.save)
        print(f"saved to {args.save}")
    return 0


def evaluate_agent(agent: Any, env: Any, episodes: int, seed: int | None = None) -> tuple[float, float, list[float]]:
    """Run ``episodes`` deterministic episodes; (mean, std, returns)."""
    import numpy as np

    returns = []
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        G, done = 0.0, False
        while not done:
            action, _ = agent.predict(obs, deterministic=True)
            obs, r, terminated, truncated, _ = env.step(action)
            G += float(r)
            done = terminated or truncated
        returns.append(G)
        obs, _ = env.reset()
    return float(np.mean(returns)), float(np.std(returns)), returns


def cmd_evaluate(args: argparse.Namespace) -> int:
    from groundup import agents

    env = _make_env(args.env, args.env_arg)
    agent = agents.load(args.path, env=env)
    mean, std, _ = evaluate_agent(agent, env, args.episodes, args.seed)
    print(f"{agent.agent_id} on {args.env}: mean return {mean:.3f} ± {std:.3f} over {args.episodes} episodes")
    return 0


def _benchmarks_dir() -> Path | None:
    here = Path(__file__).resolve().parents[1] / "benchmarks"
    for candidate in (here, Path.cwd() / "benchmarks"):
        if candidate.is_dir() and any(candidate.glob("*.py")):
            return candidate
    return None


def cmd_bench(args: argparse.Namespace) -> int:
    folder = _benchmarks_dir()
    if folder is None:
        raise SystemExit("groundup bench: no benchmarks/ folder found; run it from a clone of the groundup repository")
    scripts = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if args.only:
        unknown = set(args.only) - {p.stem for p in scripts}
        if unknown:
            raise SystemExit(f"groundup bench: unknown benchmark(s) {sorted(unknown)}; available: {[p.stem for p in scripts]}")
        scripts = [p for p in scripts if p.stem in args.only]
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"== {script.stem}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd)
        print(f"== {script.stem}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(script.stem)
    if failed:
        print(f"groundup bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from groundup import agents

    rows = []
    start = time.perf_counter()
    setups = [
        ("FrozenLake-v1", 0.99, dict(total_timesteps=200_000), {}, 1000),
        ("CliffWalking-v1", 1.0, dict(n_episodes=500), dict(learning_rate=0.5, epsilon=0.1), 1),
    ]
    for env_id, gamma, budget, td_kwargs, episodes in setups:
        env = gym.make(env_id)
        start_state = int(env.reset(seed=0)[0])
        vi = agents.make("value-iteration", env, gamma=gamma).learn()
        mean, _, _ = evaluate_agent(vi, env, episodes, seed=0)
        rows.append([env_id, "value-iteration", f"{vi.n_sweeps_} sweeps", f"{mean:.3f}", f"{vi.value_function[start_state]:.4f}"])
        for agent_id in ("q-learning", "sarsa"):
            agent = agents.make(agent_id, env, gamma=gamma, seed=0, **td_kwargs).learn(progress_bar=True, **budget)
            mean, _, _ = evaluate_agent(agent, env, episodes, seed=0)
            online = sum(agent.episode_returns[-100:]) / len(agent.episode_returns[-100:])
            trained = f"{agent.num_timesteps} steps, online {online:.2f}"
            rows.append([env_id, agent_id, trained, f"{mean:.3f}", f"{agent.value_function[start_state]:.4f}"])
    print()
    print(_table(["environment", "agent", "training", "greedy return", "V(start)"], rows))
    print("\nFrozenLake: greedy return = success rate over 1,000 episodes (the optimum under the 100-step limit is 0.744).")
    print("Cliff Walking: SARSA learns the safe path (online return about -25), Q-learning the optimal edge path")
    print("(greedy return -13, online about -50 while it keeps falling off with epsilon 0.1): Sutton & Barto, Example 6.6.")
    print(f"\ndone in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="groundup", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("agents", help="list the registered agents").set_defaults(func=cmd_agents)
    p = sub.add_parser("train", help="train an agent on a Gymnasium environment and save it")
    p.add_argument("agent", help="agent id, see `groundup agents`")
    p.add_argument("env", help="Gymnasium environment id, e.g. FrozenLake-v1 or groundup/GridWorld-v0")
    p.add_argument("--timesteps", type=int, help="environment steps to train for")
    p.add_argument("--episodes", type=int, help="episodes to train for (instead of, or besides, --timesteps)")
    p.add_argument("--seed", type=int)
    p.add_argument("--save", help="path of the .safetensors file to write")
    p.add_argument("--param", type=_kv, action="append", default=[], help="agent hyper-parameter key=value (JSON values)")
    p.add_argument("--env-arg", type=_kv, action="append", default=[], help="gym.make keyword key=value")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="evaluate a saved agent")
    p.add_argument("path")
    p.add_argument("env")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--seed", type=int)
    p.add_argument("--env-arg", type=_kv, action="append", default=[])
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("bench", help="run the benchmark scripts in benchmarks/")
    p.add_argument("--quick", action="store_true", help="the few-minute configurations")
    p.add_argument("--only", nargs="+", help="only these benchmarks (script names without .py)")
    p.set_defaults(func=cmd_bench)
    sub.add_parser("demo", help="a two-minute tour: DP, Q-learning and SARSA").set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"groundup {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
