"""``python -m benchmarks.taggers_robustness``: the smoke mode runs every section end to end
on the experiments engine and writes its report from the store's records; the targets
are computed from the runs (checked here on hand-made records), and the data subsets
are drawn from the seed."""

from __future__ import annotations

import pytest

from benchmarks import taggers_robustness as bench
from groundup.experiments import ResultStore


def tagging_run(seed: int, score: float, fit_s: float, n: int, floor: float = 0.0) -> dict:
    return {"seed": seed, "score": score, "floor": floor, "fit_s": fit_s, "n_sentences": n, "epochs": 10, "warnings": []}


def test_subsets_are_drawn_from_the_seed():
    assert bench.subset(1000, 30, seed=0) == bench.subset(1000, 30, seed=0)
    assert bench.subset(1000, 30, seed=0) != bench.subset(1000, 30, seed=1)
    assert bench.subset(1000, 30, seed=2) == sorted(set(bench.subset(1000, 30, seed=2)))  # distinct, in corpus order
    assert bench.subset(5, 10, seed=0) == [0, 1, 2, 3, 4]


def test_targets_are_computed_from_the_runs():
    # RNNTagger beats the perceptron from 3% upward, trains in time linear in the data, and
    # collapses (F1 0) once, at 1%, where the perceptron is above 0
    runs = {}
    for fraction, n in ((0.01, 140), (0.03, 421), (0.1, 1404)):
        runs["ner", "perceptron", fraction] = [tagging_run(s, 40.0, 1.0, n) for s in (0, 1)]
        runs["ner", "rnn", fraction] = [tagging_run(s, 0.0 if fraction == 0.01 and s == 1 else 50.0, n / 20, n)
                                        for s in (0, 1)]
    rows = {row[0]: row for row in bench.tagging_targets(runs, ["ner"])}
    assert rows["never collapses"][2:] == ["collapsed at 1% (seed 1)", "**not met**"]
    assert rows[">= perceptron from 3% of the data"][2:] == ["smallest margin +10.0 (at 3%)", "met"]
    slope = rows["training time ~ linear (log-log slope <= 1.2)"]
    assert slope[2].startswith("slope 1.00 (per epoch 1.00; perceptron 0.00)") and slope[3] == "met"
    assert rows["3% NER model trains in under 60 s"][2:] == ["21.1 s at most over 2 seed(s)", "met"]
    # slower than linear, slower than a minute, below the perceptron at 10%
    for fraction, n in ((0.03, 421), (0.1, 1404)):
        runs["ner", "rnn", fraction] = [tagging_run(s, 45.0 if fraction == 0.03 else 30.0, n * n / 2000, n) for s in (0, 1)]
    rows = {row[0]: row for row in bench.tagging_targets(runs, ["ner"])}
    assert rows[">= perceptron from 3% of the data"][2:] == ["smallest margin -10.0 (at 10%)", "**not met**"]
    assert rows["training time ~ linear (log-log slope <= 1.2)"][3] == "**not met**"
    assert rows["3% NER model trains in under 60 s"][3] == "**not met**"
    # POS: the floor is the majority tag's accuracy, and a perceptron at its floor excuses nothing
    runs = {("pos", "rnn", 0.01): [tagging_run(0, 20.0, 1.0, 140, floor=20.0)],
            ("pos", "perceptron", 0.01): [tagging_run(0, 20.0, 1.0, 140, floor=20.0)]}
    rows = {row[0]: row for row in bench.tagging_targets(runs, ["pos"])}
    assert rows["never collapses"][2:] == ["no paired runs", "not measured"]
    assert rows["training time ~ linear (log-log slope <= 1.2)"][2:] == ["fewer than two sizes", "not measured"]


def test_loglog_slope():
    assert bench.loglog_slope([(10, 3.0), (100, 30.0), (1000, 300.0)]) == pytest.approx(1.0)
    assert bench.loglog_slope([(10, 1.0), (1000, 100.0 ** 1.5)]) == pytest.approx(1.5)
    assert bench.loglog_slope([(10, 1.0), (10, 2.0)]) is None


@pytest.mark.slow
def test_taggers_robustness_smoke(tmp_path, run_benchmark):
    run_benchmark("taggers_robustness", "--smoke", "--backend", "serial", timeout=600)
    report = (tmp_path / "taggers_robustness.md").read_text()
    for heading in ("### Tagging: RNNTagger() against NLTK's perceptron", "### Sentiment trees: RecursiveNN() and RNTN()",
                    "Targets, computed from these runs", "command: `python -m benchmarks.taggers_robustness --smoke`"):
        assert heading in report
    for task in bench.TASKS:
        assert f"| {task} | 10% (30) |" in report and f"| {task} | 30% (90) |" in report
    assert report.count("| never collapses |") == 4 and "| 3% NER model trains in under 60 s | ner | not run |" in report
    for picture in ("taggers_robustness.png", "taggers_robustness_time.png", "taggers_robustness_trees.png"):
        assert f"]({picture})" in report and (tmp_path / picture).stat().st_size > 5_000

    records = list(ResultStore(tmp_path / "store"))
    assert len(records) == 4 * 2 * 2 + 4 * 2 and all(r["status"] == "ok" for r in records)
    tagging = {(r["params"]["task"], r["params"]["model"], r["params"]["fraction"]): r["metrics"]
               for r in records if "task" in r["params"]}
    for (task, model, fraction), m in tagging.items():
        assert m["n_sentences"] == round(300 * fraction) == tagging[task, "perceptron", fraction]["n_sentences"]
        assert 0.0 <= m["floor"] <= 100.0 and 0.0 <= m["score"] <= 100.0 and m["fit_s"] > 0
        assert m["epochs"] <= 2 if model == "rnn" else m["epochs"] == 5
        assert isinstance(m["stop_reason"], str) and isinstance(m["warnings"], list)
    assert tagging["pos", "perceptron", 0.3]["score"] > tagging["pos", "perceptron", 0.3]["floor"] > 5.0
    trees = {(r["params"]["model"], r["params"]["size"]): r["metrics"] for r in records if "size" in r["params"]}
    assert set(trees) == {(m, s) for m in bench.TREE_MODELS for s in (30, 150)}
    assert all(0.0 <= m["score"] <= 100.0 and m["n_negated"] == 40 for m in trees.values())

    # one section, written from the store without training again
    done = run_benchmark("taggers_robustness", "--smoke", "--backend", "serial", "--only", "trees",
                         "--out", str(tmp_path / "trees"))
    report = (tmp_path / "trees" / "taggers_robustness.md").read_text()
    assert "### Sentiment trees" in report and "### Tagging" not in report
    assert "training trees" not in done.stderr  # no run logged its data: every record came from the store
