"""What telemetry costs: ``learn()`` and ``fit()`` at default settings, with and without logs.

Issue 19, point 5: logging (TensorBoard scalars and SB3 monitor files) must cost at most 3%
of ``learn()``'s time at default settings. Three workloads, each timed without logs and with
``tensorboard_log`` (and ``monitor_dir`` for the agents) in the same process, the two
alternating run by run so that a busy machine slows both alike:

* q-learning on FrozenLake 8x8 (200,000 steps in the full mode): the fastest loop, where a
  step takes a microsecond or two, so the fixed cost of each log point weighs most;
* dqn on CartPole-v1 (50,000 steps): a torch agent with ``train/loss``;
* an RBM on scikit-learn's digits (its default epochs): an estimator logging per epoch.

Only the ``learn()``/``fit()`` call is timed (building the agent is not), and TensorBoard is
imported once before the first timing, as in any session that logs more than one run. The
overhead is the ratio of the medians minus one, in wall-clock time (the target's measure) and
in the process's CPU time (every thread's, the event writer's included), which a machine
shared with other work disturbs less: on a busy machine, read the CPU column. It runs in one process, without the
experiments engine, because the comparison is paired: both sides must share the machine's
state at the same moment.

    python -m benchmarks.telemetry [--smoke | --quick | --full] [--update-readme]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import log, parse_args, selected, write_result

TARGET = 0.03  # the issue's limit: logging costs at most 3% of learn()'s time

#: mode -> (q-learning steps, dqn steps, RBM epochs or None for its default, repeats)
CONFIGS = {
    "smoke": {"q_steps": 5_000, "dqn_steps": 600, "rbm_epochs": 2, "repeats": 2},
    "quick": {"q_steps": 50_000, "dqn_steps": 5_000, "rbm_epochs": None, "repeats": 5},
    "full": {"q_steps": 200_000, "dqn_steps": 50_000, "rbm_epochs": None, "repeats": 7},
}


Timing = tuple[float, float]  # (wall-clock seconds, CPU seconds of the process)


def timed(fn: Callable[[], Any]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def q_learning(steps: int) -> Callable[[str | None], Timing]:
    import gymnasium as gym

    from groundup import agents

    def run(folder: str | None) -> Timing:
        env = gym.make("FrozenLake-v1", map_name="8x8")
        agent = agents.make("q-learning", env, seed=0, tensorboard_log=folder,
                            monitor_dir=None if folder is None else f"{folder}/monitor")
        return timed(lambda: agent.learn(steps))

    return run


def dqn(steps: int) -> Callable[[str | None], Timing]:
    import gymnasium as gym

    from groundup import agents

    def run(folder: str | None) -> Timing:
        agent = agents.make("dqn", gym.make("CartPole-v1"), seed=0, tensorboard_log=folder,
                            monitor_dir=None if folder is None else f"{folder}/monitor")
        return timed(lambda: agent.learn(steps))

    return run


def rbm(epochs: int | None) -> Callable[[str | None], Timing]:
    from sklearn.datasets import load_digits

    from groundup.unsupervised import RBM

    X = load_digits().data / 16.0
    extra: dict[str, Any] = {} if epochs is None else {"n_iter": epochs}

    def run(folder: str | None) -> Timing:
        model = RBM(random_state=0, tensorboard_log=folder, **extra)
        return timed(lambda: model.fit(X))

    return run


def measure(run: Callable[[str | None], Timing], repeats: int) -> tuple[list[Timing], list[Timing]]:
    """(wall, CPU) seconds without and with logs, alternating (which goes first alternates too)."""
    without, with_logs = [], []
    for r in range(repeats):
        for logged in ((False, True) if r % 2 == 0 else (True, False)):
            if logged:
                with tempfile.TemporaryDirectory() as folder:
                    with_logs.append(run(folder))
            else:
                without.append(run(None))
    return without, with_logs


def main(argv: list[str] | None = None) -> None:
    args = parse_args("telemetry", __doc__, argv)
    config = CONFIGS[args.mode]
    import torch.utils.tensorboard  # noqa: F401  (imported once, before any timing)

    # q-learning's runs last about a second, where run-to-run noise is a few percent, as
    # large as the target: three times the repeats there
    workloads = [
        ("q-learning, FrozenLake 8x8", f"{config['q_steps']:,} steps", q_learning(config["q_steps"]), 3 * config["repeats"]),
        ("dqn, CartPole-v1", f"{config['dqn_steps']:,} steps", dqn(config["dqn_steps"]), config["repeats"]),
        ("RBM, digits", "default epochs" if config["rbm_epochs"] is None else f"{config['rbm_epochs']} epochs",
         rbm(config["rbm_epochs"]), config["repeats"]),
    ]
    rows = []
    for name, budget, run, repeats in workloads:
        if not selected(args, name):
            continue
        log(f"telemetry: {name}, {budget}, {repeats} repeats")
        without, with_logs = measure(run, repeats)
        base, logged = statistics.median(w for w, _ in without), statistics.median(w for w, _ in with_logs)
        cpu = statistics.median(c for _, c in with_logs) / statistics.median(c for _, c in without) - 1.0
        overhead = logged / base - 1.0
        rows.append(f"| {name} | {budget} | {repeats} | {base:.3f} | {logged:.3f} | {100 * overhead:+.1f}% | {100 * cpu:+.1f}% | "
                    f"{'yes' if overhead <= TARGET else 'NO'} |")
    table = "\n".join([
        "### What logging costs (`tensorboard_log` and `monitor_dir`)",
        "",
        "Median seconds of `learn()`/`fit()` over the runs each way (alternating, in one process), at default "
        "settings; the target is at most 3% (issue 19).",
        "",
        "| workload | budget | runs each way | without logs (s) | with logs (s) | overhead | CPU-time overhead | within 3% (wall) |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ])
    write_result(args, table)


if __name__ == "__main__":
    main()
