"""``groundup``: the command line.

    groundup agents                         the registry as a table
    groundup train ID ENV --timesteps N --seed S --save PATH [--params-file FILE] [--param k=v ...] [--env-arg k=v ...]
    groundup evaluate PATH ENV --episodes N [--seed S]
    groundup bench [--smoke | --quick | --full] [--only NAME ...] [--address ADDR] [--update-results]
    groundup sweep AGENT ENV --seeds 0-9 --timesteps N [--param k=v1,v2 ...] [--address ADDR] [--store DIR]
    groundup tune AGENT ENV --trials N --timesteps T --seeds K [--address ADDR] [--study DIR] [--eval-episodes E]
                  [--env-arg k=v ...] [--param k=v ...]   Optuna TPE + median pruning on Ray; writes DIR/best_params.json
    groundup demo                           DP, Q-learning and SARSA on FrozenLake and Cliff Walking
    groundup word2vec -train FILE -output FILE [-size 100 -window 5 -cbow 1 -threads N -binary 0 ...]
    groundup glove -train FILE -output FILE [-size 100 -window 10 -solver svd ...]
    groundup vectors-eval FILE              WordSim-353, SimLex-999 and analogy scores
                                            (word2vec.c's flags; see groundup/cli_vectors.py)
    groundup tagger train --train FILE [--valid FILE] --column pos|chunk|ner --save PATH [--epochs N ...]
    groundup tagger tag PATH FILE [--output FILE]   CoNLL or text in, CoNLL columns + predicted tag out
    groundup sentiment train --train FILE [--valid FILE] --model rnn|rntn --save PATH
    groundup sentiment predict PATH FILE [--all-nodes]   bracketed trees in, root labels (or trees) out
    groundup tsne DATA.npy|.csv --out map.png [--labels FILE] [--perplexity P] [--coords FILE.csv]
    groundup pca DATA.npy|.csv --n-components K --out map.png|coords.csv [--labels FILE]
                                            (see groundup/cli_tagger.py, cli_sentiment.py, cli_unsupervised.py;
                                            `groundup COMMAND --help` shows an example of each)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from groundup.experiments.engine import parse_seeds

__all__ = ["main"]


def _json_or_text(raw: str) -> Any:
    """A command-line value: JSON where it parses (numbers, lists, true/null), else the text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _split_kv(text: str, expected: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    key, raw = text.split("=", 1)
    return key, raw


def _kv(text: str) -> tuple[str, Any]:
    key, raw = _split_kv(text, "key=value")
    return key, _json_or_text(raw)


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
    params = {}
    if args.params_file:
        from groundup.experiments.tune import read_params_file

        params.update(read_params_file(args.params_file, agent=args.agent))
    params.update(dict(args.param))  # --param overrides the file
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
    from groundup.experiments.runs import evaluate_agent as evaluate

    return evaluate(agent, env, episodes, seed)


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
        if (candidate / "common.py").is_file():
            return candidate
    return None


def cmd_bench(args: argparse.Namespace) -> int:
    folder = _benchmarks_dir()
    if folder is None:
        raise SystemExit("groundup bench: no benchmarks/ folder found; run it from a clone of the groundup repository")
    names = sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_") and p.stem != "common")
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            raise SystemExit(f"groundup bench: unknown benchmark(s) {sorted(unknown)}; available: {names}")
        names = [n for n in names if n in args.only]
    flags = [f"--{args.mode}"] if args.mode else []
    for flag, value in (("--address", args.address), ("--seeds", args.seeds), ("--store", args.store)):
        if value is not None:
            flags += [flag, str(value) if flag != "--store" else str(Path(value).resolve() / "{name}")]
    flags += ["--fresh"] * args.fresh + ["--update-results"] * args.update_results
    failed = []
    for name in names:
        cmd = [sys.executable, "-m", f"benchmarks.{name}"] + [f.replace("{name}", name) for f in flags]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=folder.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"groundup bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _grid_param(text: str) -> tuple[str, list[Any]]:
    """``k=v1,v2`` -> (k, [v1, v2]); each value is JSON where it parses. A value that is a
    JSON list is the list of values itself (``net_arch=[[64,64],[128,128]]``)."""
    key, raw = _split_kv(text, "key=value[,value...]")
    whole = _json_or_text(raw)
    if isinstance(whole, list):
        return key, whole
    return key, [_json_or_text(part) for part in raw.split(",")]


def cmd_sweep(args: argparse.Namespace) -> int:
    from groundup import agents, experiments

    if args.agent not in agents.registry:
        raise ValueError(f"unknown agent {args.agent!r}; `groundup agents` lists the registered ids")
    experiments.make_env(args.env, dict(args.env_arg)).close()  # a bad id or keyword fails here, not in every run
    params: dict[str, list[Any]] = {"agent": [args.agent], "env": [args.env], "timesteps": [args.timesteps],
                                    "eval_episodes": [args.eval_episodes]}
    if args.env_arg:
        params["env_kwargs"] = [dict(args.env_arg)]
    for key, values in args.param:
        if key in params or key == "seed":
            raise ValueError(f"--param {key}=... is set by its own option; use --{key.replace('_', '-')}")
        params[key] = values
    store = args.store or Path("runs") / f"{args.agent}-{args.env.replace('/', '_')}"
    result = experiments.sweep(experiments.train_and_evaluate, params, args.seeds, store=store, address=args.address,
                               num_cpus=args.num_cpus, backend=args.backend, progress_bar=not args.no_progress)
    varying = [k for k, v in params.items() if len(v) > 1] or ["agent", "env"]
    print(f"{args.agent} on {args.env}, {args.timesteps} steps, seeds {args.seeds[0]}-{args.seeds[-1]}: "
          f"{result.executed} runs executed, {len(result.records) - result.executed} from {store}")
    print(result.table("mean_return", by=varying))
    for record in result.failed[:3]:
        last = (record["error"] or "").strip().splitlines()[-1:] or ["?"]
        print(f"failed: {record['params']} seed {record['seed']}: {last[0]}", file=sys.stderr)
    return 1 if result.failed else 0


def _tune_seeds(text: str) -> list[int]:
    """``"3"`` -> seeds 0, 1, 2 (K seeds per trial); ``"0,3,5"`` -> those seeds."""
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes K (seeds 0..K-1) or a list such as 0,3,5; got {text!r}") from None
    if len(seeds) == 1:
        if seeds[0] < 1:
            raise argparse.ArgumentTypeError(f"--seeds K needs K >= 1, got {text!r}")
        return list(range(seeds[0]))
    return seeds


def cmd_tune(args: argparse.Namespace) -> int:
    from groundup.experiments.tune import TuneFailedError, tune

    try:
        result = tune(args.agent, args.env, n_trials=args.trials, timesteps=args.timesteps, seeds=args.seeds,
                      study=args.study, study_name=args.study_name, address=args.address, num_cpus=args.num_cpus,
                      n_evaluations=args.evaluations, eval_episodes=args.eval_episodes, env_kwargs=dict(args.env_arg),
                      fixed_params=dict(args.param), sampler_seed=args.sampler_seed, backend=args.backend,
                      progress_bar=not args.no_progress)
    except TuneFailedError as exc:
        raise SystemExit(f"groundup tune: {exc}") from None
    c = result.counts
    print(f"study {result.study.study_name!r} in {result.study_dir}: {c['complete'] + c['pruned'] + c['failed']} trials "
          f"({c['complete']} complete, {c['pruned']} pruned, {c['failed']} failed), {result.executed} run now")
    if result.best_params is None:
        print("no trial has completed yet: no best parameters", file=sys.stderr)
        return 1
    print(f"best value {result.best_value:.6g} (trial {result.best_trial}; mean deterministic return over "
          f"{len(args.seeds)} seed(s) x {args.eval_episodes} episodes)")
    print("best parameters:")
    for key, value in result.best_params.items():
        print(f"  {key} = {json.dumps(value)}")
    print(f"written to {result.params_file}")
    print(f"train with: groundup train {args.agent} {args.env} --timesteps {args.timesteps} --params-file {result.params_file}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from groundup import agents

    rows = []
    start = time.perf_counter()
    setups = [
        ("FrozenLake-v1", 0.99, dict(total_timesteps=200_000), {}, 1000),
        ("CliffWalking-v1", 1.0, dict(n_episodes=500), dict(learning_rate=0.5, learning_rate_final=None, epsilon=0.1, initial_value=0.0), 1),  # the book's
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
    p.add_argument("--params-file", help="JSON file of hyper-parameters, e.g. the best_params.json `groundup tune` "
                   "writes; --param values override it")
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
    p = sub.add_parser("bench", help="run the benchmarks in benchmarks/ through the experiments engine")
    mode = p.add_mutually_exclusive_group()
    for m, text in (("smoke", "seconds each"), ("quick", "minutes each"), ("full", "the full tables (the default)")):
        mode.add_argument(f"--{m}", dest="mode", action="store_const", const=m, help=text)
    p.add_argument("--only", nargs="+", help="only these benchmarks (module names, e.g. rl_deep)")
    p.add_argument("--address", help="Ray cluster address ('auto', 'host:port', 'ray://host:port'); default: a local Ray")
    p.add_argument("--seeds", help="seeds for every benchmark, e.g. 0-4 (default: each mode's)")
    p.add_argument("--store", help="results store folder (one sub-folder per benchmark)")
    p.add_argument("--fresh", action="store_true", help="rerun runs already in the store")
    p.add_argument("--update-results", "--update-readme", dest="update_results", action="store_true",
                   help="full mode: rewrite the tracked tables in benchmarks/results/ (the docs' benchmarks page is built from them)")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("sweep", help="train an agent over seeds and a grid of settings, on Ray; print the table",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  groundup sweep q-learning FrozenLake-v1 --seeds 0-9 --timesteps 100000 "
                              "--param learning_rate=0.05,0.1,0.5")
    p.add_argument("agent", help="agent id, see `groundup agents`")
    p.add_argument("env", help="Gymnasium environment id")
    p.add_argument("--seeds", type=parse_seeds, default=list(range(5)), help="e.g. 0-9 or 0,3,5 (default 0-4)")
    p.add_argument("--timesteps", type=int, required=True, help="training steps per run")
    p.add_argument("--param", type=_grid_param, action="append", default=[],
                   help="hyper-parameter values to sweep, key=v1,v2 (JSON values)")
    p.add_argument("--env-arg", type=_kv, action="append", default=[], help="gym.make keyword key=value")
    p.add_argument("--eval-episodes", type=int, default=100, help="deterministic evaluation episodes per run")
    p.add_argument("--address", help="Ray cluster address; default: a local Ray on all cores (or $RAY_ADDRESS)")
    p.add_argument("--store", type=Path, help="results store folder (default runs/AGENT-ENV)")
    p.add_argument("--num-cpus", type=float, default=1, help="CPUs per run (default 1)")
    p.add_argument("--backend", choices=("ray", "serial"), default="ray")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("tune", help="search an agent's hyper-parameters (Optuna TPE, median pruning) on Ray",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="The study lives in DIR/study.db: the same command run again resumes it up to --trials\n"
                              "finished trials in all (raise --trials to search further).\nexample:\n"
                              "  groundup tune q-learning FrozenLake-v1 --trials 50 --timesteps 100000 --seeds 3")
    p.add_argument("agent", help="agent id, see `groundup agents`")
    p.add_argument("env", help="Gymnasium environment id")
    p.add_argument("--trials", type=int, required=True, help="finished trials the study should hold in all")
    p.add_argument("--timesteps", type=int, required=True, help="training steps per seed per trial")
    p.add_argument("--seeds", type=_tune_seeds, default=[0], help="K (seeds 0..K-1) or a list such as 0,3,5: each trial "
                   "is the mean over these seeds (default 1 seed)")
    p.add_argument("--env-arg", type=_kv, action="append", default=[], help="gym.make keyword key=value")
    p.add_argument("--param", type=_kv, action="append", default=[], help="fixed hyper-parameter key=value, not searched")
    p.add_argument("--eval-episodes", type=int, default=50, help="deterministic episodes per seed per evaluation (default 50)")
    p.add_argument("--evaluations", type=int, default=5, help="evaluation points per trial, for pruning (default 5)")
    p.add_argument("--study", type=Path, help="study folder (default studies/AGENT-ENV)")
    p.add_argument("--study-name", help="the study's name in the database (default AGENT-ENV)")
    p.add_argument("--address", help="Ray cluster address; default: a local Ray on all cores (or $RAY_ADDRESS)")
    p.add_argument("--num-cpus", type=float, default=1, help="CPUs per trial (default 1)")
    p.add_argument("--sampler-seed", type=int, default=0, help="seed of the TPE sampler (default 0)")
    p.add_argument("--backend", choices=("ray", "serial"), default="ray")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_tune)
    sub.add_parser("demo", help="a two-minute tour: DP, Q-learning and SARSA").set_defaults(func=cmd_demo)
    from groundup.cli_sentiment import add_sentiment_commands
    from groundup.cli_tagger import add_tagger_commands
    from groundup.cli_unsupervised import add_unsupervised_commands
    from groundup.cli_vectors import add_vector_commands

    add_vector_commands(sub)
    add_tagger_commands(sub)
    add_sentiment_commands(sub)
    add_unsupervised_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, ConnectionError) as exc:
        print(f"groundup {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
