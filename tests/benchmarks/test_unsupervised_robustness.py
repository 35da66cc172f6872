"""``python -m benchmarks.unsupervised_robustness``: the smoke mode runs every estimator end
to end on the experiments engine; the targets are computed from the runs (checked here on
hand-made records) and the subsets are drawn from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import unsupervised_robustness as bench
from groundup.experiments import ResultStore


def record(dataset: str, estimator: str, seed: int, **metrics) -> dict:
    return {"status": "ok", "seed": seed, "params": {"dataset": dataset, "estimator": estimator}, "metrics": metrics}


def test_splits_are_drawn_from_the_seed():
    cfg = bench.CONFIGS["quick"]
    a, b, c = (bench.load("breast-cancer", s, cfg) for s in (0, 0, 1))
    np.testing.assert_array_equal(a["X"], b["X"])
    assert not np.array_equal(a["X"], c["X"])
    assert abs(float(a["X"].mean())) < 1e-5 and a["P"].min() >= 0.0 and a["Pt"].max() <= 1.0  # standardised; [0, 1] for the nets


def test_targets_are_computed_from_the_runs():
    runs = bench._by([
        record("digits", "mlp", 0, accuracy=97.0, chance=10.0, fit_s=1.0),
        record("digits", "logreg", 0, accuracy=96.0, chance=10.0, fit_s=1.0),
        record("digits", "dbn", 0, accuracy=96.5, chance=10.0, fit_s=5.0),  # within a point: met
        record("digits", "sae", 0, accuracy=95.5, chance=10.0, fit_s=5.0),  # 1.5 behind: not met
        record("digits", "rbm", 0, accuracy=96.2, raw_accuracy=96.0, fit_s=3.0),
    ])
    text = "\n".join(bench.classification_report(runs, ["digits"]))
    assert "| DBN() within 1 point of MLPClassifier() | digits | 96.50 vs 97.00 (-0.50); chance 10.0 | met |" in text
    assert "| SAE() within 1 point of MLPClassifier() | digits | 95.50 vs 97.00 (-1.50); chance 10.0 | **not met** |" in text
    assert "| digits | 96.20 vs 96.00 | met |" in text
    ae = bench._by([record("blobs", "autoencoder", 0, variance=1.0,
                           **{"2": dict(error=0.5, pca_error=0.6, epochs=20, fit_s=1.0),
                              "10": dict(error=0.31, pca_error=0.30, epochs=20, fit_s=1.0)})])
    assert "**not met** (1 of 2)" in "\n".join(bench.autoencoder_report(ae, ["blobs"]))


@pytest.mark.slow
def test_unsupervised_robustness_smoke(tmp_path, run_benchmark):
    run_benchmark("unsupervised_robustness", "--smoke", "--backend", "serial", timeout=600)
    report = (tmp_path / "unsupervised_robustness.md").read_text()
    for heading in ("### Classification: test accuracy", "### Autoencoder(k) against PCA(k)", "### TSNE() against scikit-learn",
                    "command: `python -m benchmarks.unsupervised_robustness --smoke`"):
        assert heading in report
    assert "](unsupervised_robustness.png)" in report and (tmp_path / "unsupervised_robustness.png").stat().st_size > 5_000
    records = list(ResultStore(tmp_path / "store"))
    assert len(records) == len(bench.ESTIMATORS) and all(r["status"] == "ok" for r in records)
    metrics = {r["params"]["estimator"]: r["metrics"] for r in records}
    assert all(40.0 < metrics[e]["accuracy"] <= 100.0 for e in bench.CLASSIFIERS)
    assert set(metrics["autoencoder"]) >= {"2", "10", "30"} and metrics["tsne"]["n"] == 300
