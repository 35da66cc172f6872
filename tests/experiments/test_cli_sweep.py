"""`groundup sweep` and `groundup bench` on the engine, including a multi-node cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from groundup import experiments
from groundup.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_sweep_prints_one_row_per_setting_and_resumes(tmp_path, capsys):
    argv = ["sweep", "q-learning", "FrozenLake-v1", "--seeds", "0-2", "--timesteps", "5000", "--eval-episodes", "20",
            "--param", "learning_rate=0.1,0.5", "--param", "epsilon=0.1", "--store", str(tmp_path),
            "--backend", "serial", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "6 runs executed, 0 from" in out
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert lines[0] == "| learning_rate | runs | mean_return mean ± std | 95% CI | IQM | s/run (median) |"
    assert [line.split(" | ")[0:2] for line in lines[2:]] == [["| 0.1", "3"], ["| 0.5", "3"]]
    assert len(list(tmp_path.glob("*.json"))) == 6
    assert main(argv) == 0
    assert "0 runs executed, 6 from" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "no-such-agent", "FrozenLake-v1", "--timesteps", "10"], "unknown agent 'no-such-agent'"),
        (["sweep", "q-learning", "NoSuchEnv-v0", "--timesteps", "10", "--backend", "serial"], "cannot make environment"),
        (["sweep", "q-learning", "FrozenLake-v1", "--timesteps", "10", "--param", "seed=1,2"], "--param seed=..."),
    ],
)
def test_sweep_bad_input(tmp_path, capsys, argv, message):
    assert main(argv + ["--store", str(tmp_path), "--no-progress"]) in (1, 2)
    captured = capsys.readouterr()
    assert message in captured.err or message in captured.out


@pytest.mark.slow
def test_bench_runs_the_same_command_on_a_multi_node_cluster(tmp_path):
    from ray.cluster_utils import Cluster

    experiments.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        done = subprocess.run([sys.executable, "-m", "groundup.cli", "bench", "--smoke", "--only", "experiments",
                               "--address", cluster.address, "--store", str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"start-up (join {cluster.address})" in done.stdout
        assert "on 2 CPUs" in done.stdout
    finally:
        cluster.shutdown()
