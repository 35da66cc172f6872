"""groundup.experiments.tune and `groundup tune`: Optuna TPE + median pruning, trials on a
real local Ray (2 CPUs), resume from SQLite, and the parameters file `groundup train` reads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("ray")

from groundup import agents  # noqa: E402
from groundup.agents.temporal_difference import QLearning  # noqa: E402
from groundup.cli import main  # noqa: E402
from groundup.experiments import shutdown, train_and_evaluate, tune  # noqa: E402
from groundup.experiments.tune import (  # noqa: E402
    ParamsFileError,
    SearchSpaceError,
    TrialFailedWarning,
    TuneFailedError,
    check_search_space,
    read_params_file,
)

FROZEN = {"is_slippery": False}
# gamma = 0 cannot carry the goal's reward back to the start: a clearly worse half of the space
GAMMA_SPACE = {"gamma": ("categorical", [0.0, 0.99])}
# a constant epsilon and zero initial values (optimism would keep the greedy gamma-0 trials
# exploring, so that they fall behind later): the worse trials are clear at the first evaluation
PRUNING_FIXED = {"epsilon": 0.3, "initial_value": 0.0}


@pytest.fixture(scope="module")
def ray_local():
    import ray

    shutdown()  # a Ray another module left running
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    shutdown()


@pytest.fixture(scope="module")
def cli_study(ray_local, tmp_path_factory):
    """A 4-trial `groundup tune` study on Ray; (folder, captured stdout)."""
    folder = tmp_path_factory.mktemp("tune") / "q-frozenlake"
    argv = ["tune", "q-learning", "FrozenLake-v1", "--trials", "4", "--timesteps", "2000", "--seeds", "2",
            "--study", str(folder), "--eval-episodes", "20", "--evaluations", "2", "--no-progress"]
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return folder, out.getvalue()


def _load_study(folder, name="q-learning-FrozenLake-v1"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'study.db'}")


# -- on Ray ----------------------------------------------------------------------------------------------------
def test_cli_tune_on_ray_writes_params_that_train_reads(cli_study, tmp_path, capsys):
    folder, out = cli_study
    params_file = folder / "best_params.json"
    assert f"written to {params_file}" in out and "best parameters:" in out
    doc = json.loads(params_file.read_text())
    assert doc["agent"] == "q-learning" and doc["seeds"] == [0, 1] and set(doc["params"]) == {"learning_rate", "epsilon"}
    study = _load_study(folder)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert doc["value"] == study.best_value and doc["trial"] == study.best_trial.number
    assert all(t.user_attrs["hostname"] for t in study.trials)

    saved = tmp_path / "agent.safetensors"
    assert main(["train", "q-learning", "FrozenLake-v1", "--timesteps", "200", "--params-file", str(params_file),
                 "--save", str(saved), "--no-progress"]) == 0
    trained = agents.load(saved).get_params()
    assert trained["learning_rate"] == doc["params"]["learning_rate"] and trained["epsilon"] == doc["params"]["epsilon"]
    # --param overrides the file
    assert main(["train", "q-learning", "FrozenLake-v1", "--timesteps", "200", "--params-file", str(params_file),
                 "--param", "epsilon=0.05", "--save", str(saved), "--no-progress"]) == 0
    trained = agents.load(saved).get_params()
    assert trained["epsilon"] == 0.05 and trained["learning_rate"] == doc["params"]["learning_rate"]


def test_resume_continues_the_study_up_to_n_trials_in_all(cli_study):
    folder, _ = cli_study
    before = [(t.number, t.params, t.value) for t in _load_study(folder).trials]
    kwargs = dict(timesteps=2000, seeds=2, study=folder, eval_episodes=20, n_evaluations=2, progress_bar=False)
    result = tune("q-learning", "FrozenLake-v1", n_trials=6, **kwargs)
    assert result.executed == 2 and result.counts["complete"] == 6
    after = [(t.number, t.params, t.value) for t in result.study.trials]
    assert after[:4] == before  # the finished trials are kept, not rerun
    assert len({json.dumps(p, sort_keys=True) for _, p, _ in after}) == 6  # no proposal repeated
    assert tune("q-learning", "FrozenLake-v1", n_trials=6, **kwargs).executed == 0
    with pytest.raises(ValueError, match="other settings.*timesteps"):
        tune("q-learning", "FrozenLake-v1", n_trials=7, **{**kwargs, "timesteps": 3000})


def test_pruning_on_ray(ray_local, tmp_path):
    result = tune("q-learning", "FrozenLake-v1", n_trials=8, timesteps=2000, seeds=2, study=tmp_path, env_kwargs=FROZEN,
                  search_space=GAMMA_SPACE, fixed_params=PRUNING_FIXED, n_evaluations=2, eval_episodes=5,
                  pruner=optuna.pruners.MedianPruner(n_startup_trials=2), progress_bar=False)
    pruned = [t for t in result.study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.params["gamma"] == 0.0 and max(t.intermediate_values) < 2000 for t in pruned)
    assert result.best_params == {**PRUNING_FIXED, "gamma": 0.99} and result.best_value == 1.0


# -- serial backend: the same trials in this process --------------------------------------------------------
def test_median_pruning_prunes_the_clearly_worse_trials(tmp_path):
    result = tune("q-learning", "FrozenLake-v1", n_trials=8, timesteps=3000, seeds=2, study=tmp_path, env_kwargs=FROZEN,
                  search_space=GAMMA_SPACE, fixed_params=PRUNING_FIXED, n_evaluations=3, eval_episodes=5,
                  pruner=optuna.pruners.MedianPruner(n_startup_trials=2), backend="serial", progress_bar=False)
    states = {t.number: t.state for t in result.study.trials}
    pruned = [t for t in result.study.trials if states[t.number] == optuna.trial.TrialState.PRUNED]
    assert len(pruned) >= 1, states
    for t in pruned:  # stopped at the first evaluation, below the median of the finished trials
        assert t.params["gamma"] == 0.0 and list(t.intermediate_values) == [1000]
    assert result.counts == {"complete": 8 - len(pruned), "pruned": len(pruned), "failed": 0, "interrupted": 0}


def test_a_trial_is_the_mean_of_its_seeds_independent_runs(tmp_path):
    """Lock-step training with a callback is exactly one learn() call per seed."""
    result = tune("q-learning", "FrozenLake-v1", n_trials=1, timesteps=4000, seeds=[3, 5], study=tmp_path,
                  n_evaluations=4, eval_episodes=30, backend="serial", progress_bar=False)
    trial = result.study.trials[0]
    runs = [train_and_evaluate("q-learning", "FrozenLake-v1", 4000, seed, eval_episodes=30, **result.best_params)
            for seed in (3, 5)]
    assert trial.user_attrs["seed_values"] == [r["mean_return"] for r in runs]
    assert trial.value == pytest.approx(sum(r["mean_return"] for r in runs) / 2)
    assert sorted(trial.intermediate_values) == [1000, 2000, 3000, 4000]


def test_a_trial_left_running_by_a_stopped_driver_runs_again(tmp_path):
    kwargs = dict(timesteps=500, study=tmp_path, env_kwargs=FROZEN, n_evaluations=1, eval_episodes=2,
                  backend="serial", progress_bar=False)
    tune("q-learning", "FrozenLake-v1", n_trials=2, **kwargs)
    study = _load_study(tmp_path)
    stale = study.ask()  # as a killed driver leaves it: RUNNING, parameters suggested
    stale.suggest_float("learning_rate", 0.01, 1.0, log=True)
    stale.suggest_float("epsilon", 0.01, 0.3)
    result = tune("q-learning", "FrozenLake-v1", n_trials=3, **kwargs)
    assert result.executed == 1 and result.counts == {"complete": 3, "pruned": 0, "failed": 0, "interrupted": 1}
    rerun = result.study.trials[-1]
    assert rerun.user_attrs["rerun_of"] == stale.number and rerun.params == stale.params


# -- errors ----------------------------------------------------------------------------------------------------
def test_unknown_agent_and_agents_with_nothing_to_tune(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown agent id 'no-such-agent'"):
        tune("no-such-agent", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path)
    with pytest.raises(ValueError, match="'td0-prediction' has nothing to tune.*prediction agent"):
        tune("td0-prediction", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path)
    with pytest.raises(ValueError, match="dynamic programming"):
        tune("value-iteration", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path)
    with pytest.raises(ValueError, match="nothing left to tune"):
        tune("q-learning", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path,
             fixed_params={"learning_rate": 0.1, "epsilon": 0.1})
    with pytest.raises(ValueError, match="'alpha' is not a hyper-parameter of q-learning"):
        tune("q-learning", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path, fixed_params={"alpha": 0.1})
    assert main(["tune", "no-such-agent", "FrozenLake-v1", "--trials", "1", "--timesteps", "10",
                 "--study", str(tmp_path), "--no-progress"]) == 2
    assert "groundup tune: unknown agent id 'no-such-agent'" in capsys.readouterr().err
    assert not (tmp_path / "study.db").exists()


def test_trials_that_all_fail_stop_the_search_with_their_error(tmp_path):
    with pytest.warns(TrialFailedWarning, match="epsilon must be a probability"):
        with pytest.raises(TuneFailedError, match="first 3 trials all failed.*epsilon must be a probability"):
            tune("q-learning", "FrozenLake-v1", n_trials=10, timesteps=100, study=tmp_path, backend="serial",
                 search_space={"epsilon": ("uniform", 1.5, 2.0)}, progress_bar=False)
    study = _load_study(tmp_path)
    assert len(study.trials) == 3 and all("Traceback" in t.user_attrs["error"] for t in study.trials)
    assert not (tmp_path / "best_params.json").exists()


class _BadlyDeclared(QLearning):
    agent_id = "test-badly-declared"
    search_space = {"learning_rate": ("log_uniform", 0.0, 1.0)}


def test_a_bad_declaration_on_an_agent_class_is_named(tmp_path):
    agents.register("test-badly-declared", _BadlyDeclared, "temporal difference", override=True)
    try:
        with pytest.raises(SearchSpaceError, match=r"test-badly-declared.search_space\['learning_rate'\].*0 < low"):
            tune("test-badly-declared", "FrozenLake-v1", n_trials=1, timesteps=10, study=tmp_path, backend="serial")
    finally:
        dict.pop(agents.registry, "test-badly-declared")


@pytest.mark.parametrize("space, message", [
    ([("learning_rate", 0.1)], "must be a dict"),
    ({"learning_rate": ("normal", 0, 1)}, "first item is one of"),
    ({"learning_rate": ("uniform", 1.0, 0.1)}, "low must be below high"),
    ({"learning_rate": ("uniform", 0.1)}, r"write \('uniform', low, high\)"),
    ({"learning_rate": ("uniform", "a", 1.0)}, "finite numbers"),
    ({"epsilon": ("int", 0.5, 2)}, "must be integers"),
    ({"epsilon": ("categorical", [0.1])}, "at least two choices"),
    ({"epsilon": ("categorical", [0.1, 0.1])}, "repeat"),
    ({"epsilon": ("categorical", [object(), 1])}, "JSON values"),
    ({"alpha": ("uniform", 0.1, 0.5)}, "'alpha' is not a hyper-parameter of QLearning"),
    ({"seed": ("int", 0, 9)}, "cannot be searched"),
])
def test_search_space_format_errors(space, message):
    with pytest.raises(SearchSpaceError, match=message):
        check_search_space(space, QLearning)


def test_builtin_search_spaces_are_valid_and_sit_with_their_agents():
    for agent_id in agents.registry:
        spec = agents.registry[agent_id]
        space = check_search_space(spec.search_space, spec.load())
        empty = spec.family == "dynamic programming" or spec.is_prediction
        assert bool(space) != empty, agent_id
    # lists are searched as JSON text and come back as lists
    trial = optuna.create_study().ask()
    from groundup.experiments.search_space import _suggest

    params = _suggest(trial, check_search_space(agents.registry["dqn"].search_space, agents.registry["dqn"].load()))
    assert isinstance(params["net_arch"], list) and params["batch_size"] in (32, 64, 128, 256)


def test_bad_params_files_are_named(tmp_path, capsys):
    cases = {"missing.json": None, "broken.json": "{not json", "list.json": "[1, 2]",
             "other.json": json.dumps({"agent": "sarsa", "params": {"learning_rate": 0.1}}),
             "unknown.json": json.dumps({"alpha": 0.1})}
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    expected = {"missing.json": (FileNotFoundError, "does not exist"), "broken.json": (ParamsFileError, "not valid JSON"),
                "list.json": (ParamsFileError, "JSON object"), "other.json": (ParamsFileError, "tuned for agent 'sarsa'"),
                "unknown.json": (ParamsFileError, "'alpha' is not a hyper-parameter of q-learning")}
    for name, (error, message) in expected.items():
        path = tmp_path / name
        with pytest.raises(error, match=message) as info:
            read_params_file(path, agent="q-learning")
        assert str(path) in str(info.value)
        assert main(["train", "q-learning", "FrozenLake-v1", "--timesteps", "10", "--params-file", str(path),
                     "--no-progress"]) == 2
        assert f"params file {str(path)!r}" in capsys.readouterr().err
    (tmp_path / "flat.json").write_text(json.dumps({"learning_rate": 0.2}))
    assert read_params_file(tmp_path / "flat.json", agent="q-learning") == {"learning_rate": 0.2}


def test_import_loads_neither_optuna_nor_ray():
    code = ("import sys, groundup, groundup.experiments, groundup.agents, groundup.cli; "
            "from groundup.experiments import tune; "
            "assert not {'optuna', 'ray'} & set(sys.modules), sorted({'optuna', 'ray'} & set(sys.modules))")
    subprocess.run([sys.executable, "-c", code], check=True)
