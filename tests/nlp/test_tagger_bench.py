"""Smoke test of benchmarks/taggers.py: every part runs on tiny sizes and writes its table."""

from __future__ import annotations

import json


def test_taggers_benchmark_smoke(tmp_path, run_benchmark):
    from groundup.datasets.trees import make_sentiment_treebank

    # Stand-in SST files (the real ones cannot ship): the same one command reads them.
    sst = tmp_path / "trees"
    sst.mkdir()
    bank = make_sentiment_treebank(n_train=120, n_dev=30, n_test=40, n_negated=0, random_state=9)
    for name, trees in (("train", bank.train), ("dev", bank.dev), ("test", bank.test)):
        (sst / f"{name}.txt").write_text("\n".join(t.pformat(margin=10**9) for t in trees) + "\n")
    run_benchmark("taggers", "--smoke", "--threads", "1", "--sst", str(sst))
    table = (tmp_path / "taggers.md").read_text()
    for heading in ("Part-of-speech tagging", "Named entities", "generated compositional treebank", "Socher et al."):
        assert heading in table
    for model in ("RNNTagger", "PerceptronTagger", "HMM tagger", "RNTN", "bag-of-words"):
        assert model in table
    pos = json.loads((tmp_path / "taggers_pos_smoke.json").read_text())["result"]["models"]
    assert set(pos) == {"ensemble", "rnn", "perceptron", "hmm"} and "TaggerEnsemble: 2 such RNNTaggers" in table
    assert pos["ensemble"]["epochs"] == [pos["rnn"]["epochs"], pos["ensemble"]["epochs"][1]]
    assert all(0.0 <= m["accuracy"] <= 1.0 and m["fit_s"] > 0 for m in pos.values())
    assert pos["perceptron"]["accuracy"] > 0.5  # trained on 300 sentences, still far above chance
    ner = json.loads((tmp_path / "taggers_ner_smoke.json").read_text())["result"]["models"]
    assert all(0.0 <= m["f1"] <= 100.0 for m in ner.values())
    trees = json.loads((tmp_path / "taggers_sentiment_smoke.json").read_text())["result"]["generated"]
    assert set(trees) == {"rntn", "recursive_nn", "bow", "bow_bigrams"}
    assert all(0.0 <= r["negated_root"] <= 1.0 for r in trees.values())
    real = json.loads((tmp_path / "taggers_sentiment_smoke.json").read_text())["result"]["sst"]
    assert set(real) == {"rntn", "recursive_nn", "bow", "bow_bigrams"} and "Real SST (this run)" in table
