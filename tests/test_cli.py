import subprocess
import sys

import pytest

from groundup.cli import main


def test_agents_lists_the_registry(capsys):
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    for agent_id in ("q-learning", "value-iteration", "thompson-sampling", "mc-exploring-starts"):
        assert agent_id in out
    assert "dynamic programming" in out and "Tuple[Discrete]" in out


def test_train_then_evaluate(tmp_path, capsys):
    path = tmp_path / "fl.safetensors"
    assert main(["train", "q-learning", "FrozenLake-v1", "--timesteps", "200000", "--seed", "0", "--save", str(path),
                 "--param", "learning_rate=0.1", "--no-progress"]) == 0
    assert path.is_file()
    assert main(["evaluate", str(path), "FrozenLake-v1", "--episodes", "500", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    line = [ln for ln in out.splitlines() if ln.startswith("q-learning on FrozenLake-v1")][0]
    mean = float(line.split("mean return ")[1].split()[0])
    assert mean > 0.6


def test_train_dynamic_programming_and_groundup_envs(tmp_path, capsys):
    assert main(["train", "value-iteration", "groundup/WindyGridWorld-v0", "--param", "gamma=1.0", "--no-progress",
                 "--save", str(tmp_path / "w.safetensors")]) == 0
    assert main(["evaluate", str(tmp_path / "w.safetensors"), "groundup/WindyGridWorld-v0", "--episodes", "1"]) == 0
    assert "mean return -15.000" in capsys.readouterr().out


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["train", "q-learning", "CartPole-v1", "--timesteps", "10"]) == 2
    assert "supports observation spaces" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing.safetensors"), "FrozenLake-v1"]) == 2
    with pytest.raises(SystemExit, match="unknown benchmark"):
        main(["bench", "--only", "nope"])


def test_demo_runs_and_prints_its_table():
    out = subprocess.run([sys.executable, "-m", "groundup.cli", "demo"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "FrozenLake-v1" in out.stdout and "CliffWalking-v1" in out.stdout and "value-iteration" in out.stdout
