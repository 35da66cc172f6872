"""groundup word2vec / glove / vectors-eval: word2vec.c's flags, output gensim reads (text and binary)."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from groundup.cli import main


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(300):
        topic = "a" if rng.random() < 0.5 else "b"
        lines.append(" ".join(f"{topic}{k}" for k in rng.integers(0, 15, size=8)))
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("binary", ["0", "1"])
def test_word2vec_flags_and_output_gensim_loads(tmp_path, corpus, binary, capsys):
    from groundup.nlp import Word2Vec

    out = tmp_path / f"vectors.{'bin' if binary == '1' else 'txt'}"
    assert main(["word2vec", "-train", str(corpus), "-output", str(out), "-size", "12", "-window", "3", "-sample", "0",
                 "-negative", "4", "-cbow", "0", "-min-count", "2", "-iter", "2", "-threads", "1", "-binary", binary,
                 "-seed", "5", "-no-progress"]) == 0
    loaded = KeyedVectors.load_word2vec_format(str(out), binary=binary == "1")
    same = Word2Vec(vector_size=12, window=3, sample=0, negative=4, sg=1, min_count=2, epochs=2, workers=1, seed=5)
    same.fit(corpus_file=corpus)
    assert loaded.index_to_key == same.wv.index_to_key
    np.testing.assert_allclose(loaded.vectors, same.wv.vectors, atol=1e-5 if binary == "0" else 0)
    assert "skip-gram" in capsys.readouterr().err
    assert main(["vectors-eval", str(out)]) == 0  # the format is detected
    text = capsys.readouterr().out
    for label in ("WordSim-353  Spearman rho", "SimLex-999   Spearman rho", "analogies    accuracy"):
        assert label in text


@pytest.mark.parametrize("binary", ["0", "1"])
def test_glove_writes_word2vec_format(tmp_path, corpus, binary):
    from groundup.nlp import GloVe

    out = tmp_path / "glove.out"
    assert main(["glove", "-train", str(corpus), "-output", str(out), "-size", "6", "-window-size", "3", "-min-count", "1",
                 "-binary", binary, "-no-progress"]) == 0
    loaded = KeyedVectors.load_word2vec_format(str(out), binary=binary == "1")
    same = GloVe(vector_size=6, window=3, min_count=1).fit(corpus_file=corpus)
    np.testing.assert_allclose(loaded.vectors, same.wv.vectors, atol=1e-5 if binary == "0" else 0)


def test_vectors_eval_scores_known_vectors(tmp_path, capsys):
    """A file whose vectors put 'tiger' and 'cat' together scores the pair: the numbers
    printed are gensim's evaluate_word_pairs and evaluate_word_analogies on it."""
    from groundup.cli_vectors import evaluate_vectors, load_vectors

    rng = np.random.default_rng(0)
    words = ["tiger", "cat", "king", "queen", "man", "woman", "car", "automobile"]
    kv = KeyedVectors(vector_size=5)
    kv.add_vectors(words, rng.standard_normal((len(words), 5)).astype(np.float32))
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(str(path))
    scores = evaluate_vectors(load_vectors(str(path)))
    assert 0 < scores["wordsim353_oov_percent"] < 100 and -1 <= scores["wordsim353_rho"] <= 1
    assert main(["vectors-eval", str(path), "-binary", "0"]) == 0
    assert f"{scores['wordsim353_rho']:.4f}" in capsys.readouterr().out


def test_errors_are_reported(tmp_path, corpus, capsys):
    assert main(["word2vec", "-train", str(tmp_path / "missing.txt"), "-output", str(tmp_path / "o")]) == 2
    assert "missing.txt' does not exist" in capsys.readouterr().err
    assert main(["word2vec", "-train", str(corpus), "-output", str(tmp_path / "o"), "-hs", "1"]) == 2
    assert "hierarchical softmax" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["word2vec", "-train", str(corpus), "-output", str(tmp_path / "o"), "-binary", "2"])
    assert main(["vectors-eval", str(tmp_path / "none.txt")]) == 2
