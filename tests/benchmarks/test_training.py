"""benchmarks/training.py: the plan of runs, the choice of step sizes, and a smoke run end to
end on the experiments engine (serially, as the other benchmarks' smoke tests)."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks import training


def test_every_method_gets_a_valid_step_size_grid_of_the_same_size():
    assert training.check_grids() == 5
    assert set(training.METHODS) == {"gd", "sgd-1", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
    uneven = {**training.METHODS, "adam": training.Method("Adam", "adam", (1e-3, 3e-3))}
    with pytest.raises(ValueError, match="the same size"):
        training.check_grids(uneven)
    bad = {"adam": training.Method("Adam", "adam", (1e-3, -1.0, 3e-3))}
    with pytest.raises(ValueError, match=r"METHODS\['adam'\].learning_rates\[1\]"):
        training.check_grids(bad)


@pytest.mark.parametrize("mode", ["smoke", "quick", "full"])
def test_the_plan_runs_every_method_at_every_step_size_with_the_same_budget(mode):
    cfg = training.CONFIGS[mode]
    settings = training.plan(cfg)
    optimizers = [s for s in settings if s["section"] == "optimizers"]
    n_rates = training.check_grids()
    assert len(optimizers) == n_rates * len(training.METHODS) * len(cfg["optimizers"])
    for net in cfg["optimizers"]:
        mine = [s for s in optimizers if s["hidden"] == list(net["hidden"])]
        assert {s["epochs"] for s in mine} == {net["epochs"]}  # the same epoch budget for every method
        for key, method in training.METHODS.items():
            assert sorted(s["learning_rate"] for s in mine if s["method"] == key) == sorted(method.learning_rates)
    assert [s["init"] for s in settings if s["section"] == "gradients"] == list(training.INITS)
    assert [s["device"] for s in settings if s["section"] == "devices"] == ["cpu", "auto"]
    assert len({s["name"] for s in settings}) == len(settings) - (n_rates - 1) * len(optimizers) // n_rates  # a name per method
    # a run's setting holds its own step size, not the grid: a widened grid reuses stored runs
    assert all("learning_rates" not in s for s in optimizers)


def test_the_full_mode_uses_the_issues_networks():
    cfg = training.CONFIGS["full"]
    assert [tuple(n["hidden"]) for n in cfg["optimizers"]] == [(500, 500), (500, 500, 2000)]
    assert tuple(cfg["gradients"]["hidden"]) == (500, 500, 500, 500)
    assert all(n["n_online"] < n["n_train"] for n in cfg["optimizers"])  # batch 1 on a subset, as its row says
    assert training.SEEDS["full"] == (0, 1, 2)


def test_the_step_size_with_the_lowest_mean_validation_error_wins_and_divergence_counts_as_the_worst():
    assert training.choose({0.1: [0.05, 0.07], 0.3: [0.04, 0.05], 1.0: [0.01, None]}) == 0.3
    assert training.choose({0.1: [0.2], 0.3: [0.2]}) == 0.1  # a tie goes to the smaller step
    assert training.grid_text(0.3, [0.1, 0.3, 1.0]) == "0.3 of 0.1, 0.3, 1"
    assert training.grid_text(1.0, [0.1, 0.3, 1.0]) == "1 (grid edge) of 0.1, 0.3, 1"


def test_epochs_to_a_target_read_the_mean_curve():
    curves = [[0.9, 0.06, 0.03, 0.019], [0.9, 0.04, 0.025, 0.021]]
    assert training.epochs_to(curves, 0.05) == 1 and training.epochs_to(curves, 0.02) == 3
    assert training.epochs_to(curves, 0.01) is None
    assert training.epochs_to([[0.9, 0.5, 0.01], [0.9, 0.5]], 0.02) is None  # the common length only


@pytest.mark.slow
def test_smoke_run(tmp_path, run_benchmark):
    from groundup.experiments import ResultStore

    run_benchmark("training", "--smoke", "--backend", "serial", timeout=300)
    table = (tmp_path / "training.md").read_text()
    for heading in ("Training: eight optimisers", "Training: vanishing gradients", "Training: CPU against GPU"):
        assert heading in table
    for method in training.METHODS.values():
        assert f"| 784-32-32-10 | {method.label} |" in table, method.label
    for label in training.INITS.values():
        assert f"| {label} |" in table, label
    assert "Not run" not in table and "command: `python -m benchmarks.training --smoke`" in table
    for png in ("optimizers_epochs", "optimizers_time", "gradients"):
        assert f"](training_{png}.png)" in table  # plain file names: the docs hook (benchmarks_page.py) prefixes the folder
        assert (tmp_path / f"training_{png}.png").stat().st_size > 10_000, png

    records = list(ResultStore(tmp_path / "store"))
    n_settings = len(training.plan(training.CONFIGS["smoke"]))
    assert len(records) == 2 * n_settings and all(r["status"] == "ok" for r in records)  # seeds 0 and 1
    by_section: dict[str, list] = {}
    for r in records:
        by_section.setdefault(r["params"]["setting"]["section"], []).append(r)
    for r in by_section["optimizers"]:
        m, s = r["metrics"], r["params"]["setting"]
        assert len(m["valid_curve"]) == len(m["seconds"]) == s["epochs"] + 1
        assert all(b > a for a, b in zip(m["seconds"], m["seconds"][1:]))
        expected_batch = {None: s["n_train"], 1: 1}.get(s["batch_size"], s["batch_size"])
        assert m["batch_size"] == expected_batch and m["n_train"] == (s["n_online"] if s["batch_size"] == 1 else s["n_train"])
        assert m["diverged"] or 0.0 <= m["test_error"] <= 1.0
    for r in by_section["gradients"]:
        norms = r["metrics"]["gradient_norms"]
        assert len(norms) == 5 and all(math.isfinite(v) and v > 0 for v in norms)
        assert [f["learning_rate"] for f in r["metrics"]["finetune"]] == list(training.FINETUNE["learning_rates"])
    devices = {r["params"]["setting"]["device"]: r["metrics"] for r in by_section["devices"]}
    assert devices["cpu"]["device"] == "cpu" and devices["cpu"]["seconds_per_epoch"] > 0
    if not torch.cuda.is_available():
        assert devices["auto"]["device"] == "cpu" and "no GPU on this machine" in table
