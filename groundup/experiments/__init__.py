"""Many runs at once: seed sweeps, grids of settings and hyper-parameter searches, on Ray.

One call runs a grid as Ray tasks, on the local machine or on a cluster, and keeps every
finished run as one file in a results store, so a sweep resumes where it stopped::

    from groundup import experiments

    result = experiments.sweep(
        experiments.train_and_evaluate,
        params={"agent": ["q-learning"], "env": ["FrozenLake-v1"], "timesteps": [100_000],
                "learning_rate": [0.05, 0.1]},
        seeds=range(10),
        store="runs/frozenlake",
        address=None,            # a local Ray on all cores; "auto" or "ray://head:10001" for a cluster
    )
    print(result.table("mean_return"))   # mean ± std, 95% bootstrap CI, IQM per setting

Ray is imported when a sweep starts (``pip install 'groundup[experiments]'``), never by
``import groundup``; ``backend="serial"`` runs the same sweep without it.
``groundup sweep`` and ``groundup tune`` are the command-line faces of this module.
"""

from groundup.experiments.cluster import ClusterConnectionError, connect, shutdown
from groundup.experiments.engine import RunFailedWarning, SweepResult, sweep
from groundup.experiments.runs import evaluate_agent, make_env, train_and_evaluate
from groundup.experiments.stats import bootstrap_ci, iqm, markdown_table, plot_curves, summarize, summary_table
from groundup.experiments.store import ResultStore, run_key
from groundup.experiments.tune import TuneResult, check_search_space, read_params_file, tune

__all__ = [
    "sweep",
    "SweepResult",
    "tune",
    "TuneResult",
    "check_search_space",
    "read_params_file",
    "ResultStore",
    "run_key",
    "connect",
    "shutdown",
    "ClusterConnectionError",
    "RunFailedWarning",
    "train_and_evaluate",
    "evaluate_agent",
    "make_env",
    "summarize",
    "bootstrap_ci",
    "iqm",
    "summary_table",
    "markdown_table",
    "plot_curves",
]
