"""Smoke test of ``python -m benchmarks.embeddings``: every model trains on a slice of PTB
as one run of the experiments engine, the table, the examples and the projection plot are
written, and no tracked file changes."""

from __future__ import annotations

import re

import pytest

from groundup.experiments import ResultStore

# runs a benchmark script end to end: make test runs it, make test-fast skips it
pytestmark = pytest.mark.slow


def test_embeddings_benchmark_smoke(tmp_path, run_benchmark):
    run_benchmark("embeddings", "--smoke", "--backend", "serial")
    table = (tmp_path / "embeddings.md").read_text()
    for row in ("gensim skip-gram (workers = cores)", "groundup skip-gram (default workers = cores)",
                "gensim CBOW (workers = cores)", "groundup CBOW (default workers = cores)",
                "groundup GloVe (default, svd)", "groundup GloVe (adagrad)", "groundup GloVe (als)",
                "groundup GloVe (adagrad, w + c)", "groundup GloVe (als, w + c)"):
        line = next((line for line in table.splitlines() if line.startswith(f"| {row} |")), None)
        assert line is not None, row
        accuracy, _, rho, simlex = (cell.strip() for cell in line.split("|")[2:6])
        assert 0.0 <= float(accuracy) <= 1.0 and -1.0 <= float(rho) <= 1.0 and -1.0 <= float(simlex) <= 1.0, line
    assert "SimLex-999 ρ" in table and "within 10% of gensim skip-gram" in table
    ratios = re.findall(r"\| (\d+\.\d\d) \| quality", table)
    assert len(ratios) == 2 and all(0.0 <= float(r) < 100.0 for r in ratios)  # timings of 0.1 s: any load sways them
    assert "ratio to gensim" in table and "`monday`" in table and "counting" in table
    assert "_Configuration: smoke;" in table and "command: `python -m benchmarks.embeddings --smoke`" in table
    assert "](embeddings_pca.png)" in table  # a plain file name: the README sync prefixes the folder
    assert (tmp_path / "embeddings_pca.png").stat().st_size > 10_000

    records = list(ResultStore(tmp_path / "store"))
    assert sorted(r["params"]["model"] for r in records) == sorted(
        ["gensim-sg", "groundup-sg", "gensim-cbow", "groundup-cbow", "glove-svd", "glove-adagrad", "glove-als"])
    for r in records:
        assert r["status"] == "ok", r.get("error")
        m = r["metrics"]
        assert m["sentences"] == 4000 and m["epochs"] >= 1 and m["words_per_second"] > 0
        assert 0 < m["analogies"] and 0.0 <= m["accuracy"] <= 1.0
        assert r["params"]["corpus"] == "ptb"  # the smoke run reads PTB only; full runs add the Wikipedia sample
    assert len(next(r for r in records if r["params"]["model"] == "groundup-sg")["metrics"]["map"]["xy"]) == 300
