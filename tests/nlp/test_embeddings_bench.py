"""Smoke test of benchmarks/embeddings.py: every model trains on a slice of PTB, the table,
the examples and the projection plot are written, and the README is left alone."""

from __future__ import annotations



def test_embeddings_benchmark_smoke(tmp_path, run_benchmark):
    run_benchmark("embeddings", "--smoke", "--threads", "1")
    table = (tmp_path / "embeddings_smoke.md").read_text()
    for row in ("gensim skip-gram (workers=2)", "groundup skip-gram (workers=1)", "gensim CBOW (workers=2)", "groundup CBOW (workers=2)",
                "groundup GloVe (adagrad)", "groundup GloVe (als)", "groundup GloVe (adagrad, w + c)", "groundup GloVe (als, w + c)"):
        assert f"| {row} |" in table
    assert "ratio to gensim" in table and "`monday`" in table and "counting" in table
    assert "_Configuration: smoke;" in table and "command: `python benchmarks/embeddings.py --smoke`" in table
    assert (tmp_path / "embeddings_pca.png").stat().st_size > 10_000
