"""Smoke test of ``python -m benchmarks.taggers``: every part runs on tiny sizes as runs of
the experiments engine on Ray (the POS ensemble's own training processes included), and
the table is written from the store's records."""

from __future__ import annotations

import re

import pytest

from groundup.experiments import ResultStore

# runs a benchmark script end to end: make test runs it, make test-fast skips it
pytestmark = pytest.mark.slow


def test_taggers_benchmark_smoke(tmp_path, run_benchmark):
    from groundup.datasets.trees import make_sentiment_treebank

    # Stand-in SST files (the real ones cannot ship): the same one command reads them.
    sst = tmp_path / "trees"
    sst.mkdir()
    bank = make_sentiment_treebank(n_train=120, n_dev=30, n_test=40, n_negated=0, random_state=9)
    for name, trees in (("train", bank.train), ("dev", bank.dev), ("test", bank.test)):
        (sst / f"{name}.txt").write_text("\n".join(t.pformat(margin=10**9) for t in trees) + "\n")
    run_benchmark("taggers", "--smoke", "--sst", str(sst), timeout=420)  # the Ray backend
    table = (tmp_path / "taggers.md").read_text()
    for heading in ("Part-of-speech tagging", "Named entities", "generated compositional treebank", "Real SST (this run)",
                    "Socher et al."):
        assert heading in table
    for model in ("RNNTagger", "PerceptronTagger", "HMM tagger", "RNTN", "bag-of-words", "TaggerEnsemble: 2 such RNNTaggers"):
        assert model in table
    assert "command: `python -m benchmarks.taggers --smoke`" in table
    accuracies = [float(a) for a in re.findall(r"^\| [^|]+ \| (\d+\.\d\d)(?: ± \d+\.\d\d)?% \|", table, flags=re.M)]
    assert len(accuracies) == 4 and all(0.0 <= a <= 100.0 for a in accuracies)  # the four POS rows

    runs = {(r["params"]["part"], r["params"]["model"]): r for r in ResultStore(tmp_path / "store")}
    assert len(runs) == 3 + 3 + 4 + 4 and all(r["status"] == "ok" for r in runs.values())
    pos = runs["pos", "rnn-ensemble"]["metrics"]["models"]
    assert set(pos) == {"ensemble", "rnn"} and pos["ensemble"]["members"] == [0, 1]
    assert pos["ensemble"]["epochs"][0] == pos["rnn"]["epochs"]  # the single tagger is the first member
    (second,) = pos["rnn"]["other_members"]  # ... and the second member is scored alone too
    assert second["seed"] == 1 and second["epochs"] == pos["ensemble"]["epochs"][1] and 0.0 <= second["accuracy"] <= 1.0
    assert "seeds 0 and 1: the ensemble's members, each scored alone" in table
    # the smoke mode's 100 valid sentences: 60 held out for early stopping, 40 added to the 300 training ones
    metrics = runs["pos", "perceptron"]["metrics"]
    assert (metrics["n_train"], metrics["n_from_valid"], metrics["n_valid"]) == (340, 40, 60)
    for part in ("pos", "ner"):
        for model in ("rnn-ensemble" if part == "pos" else "rnn", "perceptron", "hmm"):
            for m in runs[part, model]["metrics"]["models"].values():
                assert 0.0 <= m["accuracy"] <= 1.0 and m["fit_s"] >= 0 and m["tokens_per_s"] > 0
                if part == "ner":
                    assert 0.0 <= m["f1"] <= 100.0
    assert runs["pos", "perceptron"]["metrics"]["models"]["perceptron"]["accuracy"] > 0.5  # 300 sentences, far above chance
    for model in ("rntn", "recursive_nn", "bow", "bow_bigrams"):
        scores = runs["sentiment", model]["metrics"]["scores"]
        assert 0.0 <= scores["negated_root"] <= 1.0 and 0.0 <= scores["test_root"] <= 1.0
        assert set(runs["sentiment", model]["metrics"]["curve"]) == {"100", "300"}
        assert 0.0 <= runs["sentiment-sst", model]["metrics"]["scores"]["test_root"] <= 1.0


def test_the_valid_split_joins_the_training_data_but_for_the_held_out_sentences():
    from benchmarks.taggers import fold_in_valid

    train, valid = [f"t{i}" for i in range(50)], [f"v{i}" for i in range(30)]
    X, held = fold_in_valid(train, valid, 10)
    assert X[:50] == train and len(X) == 70 and len(held) == 10
    assert sorted(X[50:] + held) == sorted(valid)  # every valid sentence exactly once
    assert fold_in_valid(train, valid, 10) == (X, held)  # the same sentences for every model and seed
    assert fold_in_valid(train, valid, None) == (train, valid)  # the splits as given
    assert fold_in_valid(train, valid, 30) == (train, valid)  # nothing left to add
