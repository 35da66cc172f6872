"""``python -m benchmarks.embeddings_scaling``: the corpora it assembles, and a smoke run end to
end (every model at both sizes, each fit in a process of its own, the memory filled in, the
targets and the plot written, no tracked file changed)."""

from __future__ import annotations

import re

import pytest

from benchmarks import embeddings_scaling


def test_grid_is_the_issue_one():
    cfg = embeddings_scaling.CONFIGS["full"]
    assert cfg["sizes"] == (1_000_000, 10_000_000, 50_000_000)
    assert len(cfg["epochs"]) == len(cfg["seeds"]) == 3 and cfg["seeds"][0] == (0, 1, 2)
    assert max(embeddings_scaling.CONFIGS["quick"]["sizes"]) <= 3_000_000
    assert embeddings_scaling.MODELS == ("gensim-sg", "groundup-sg", "gensim-cbow", "groundup-cbow")


def test_corpus_has_exactly_the_tokens_asked_and_copies_differ_in_order(tmp_path, monkeypatch):
    source = [[f"w{i}", f"x{i}", "the"] for i in range(50)]  # 150 tokens a copy
    monkeypatch.setattr(embeddings_scaling, "source_sentences", lambda: source)
    path = embeddings_scaling.corpus_path(400, folder=tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sum(len(line.split()) for line in lines) == 400  # cut inside the third copy
    first, second = lines[:50], lines[50:100]
    assert sorted(first) == sorted(second) == sorted(" ".join(s) for s in source)
    assert first != second  # each copy shuffled with its own seed
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    # written once: a second call reads the cached file, whatever the source now holds
    monkeypatch.setattr(embeddings_scaling, "source_sentences", lambda: [["other"]])
    assert embeddings_scaling.corpus_path(400, folder=tmp_path).read_text(encoding="utf-8").splitlines() == lines


# runs a benchmark script end to end: make test runs it, make test-fast skips it
@pytest.mark.slow
def test_embeddings_scaling_benchmark_smoke(tmp_path, run_benchmark):
    from groundup.experiments import ResultStore

    run_benchmark("embeddings_scaling", "--smoke", "--backend", "serial", timeout=600)
    table = (tmp_path / "embeddings_scaling.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| tokens |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[5:12] == ["words/s (training)", "ratio", "words/s (vocabulary + training)", "ratio",
                             "peak MB (+fit)", "tables MB", "beyond tables MB"]
    for size in ("20k", "50k"):
        for model in ("gensim skip-gram", "groundup skip-gram", "gensim CBOW", "groundup CBOW"):
            line = next((line for line in table.splitlines() if line.startswith(f"| {size} | {model} |")), None)
            assert line is not None, (size, model)
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert float(cells[5].rstrip("M")) > 0 and float(cells[7].rstrip("M")) > 0
            peak, added = re.fullmatch(r"(\d+) \(\+(\d+)\)", cells[9]).groups()
            assert int(peak) > 50 and int(added) <= int(peak)  # an interpreter with torch or gensim holds > 50 MB
            if model.startswith("gensim"):
                assert cells[6] == cells[8] == "1.00"
            else:
                assert 0.0 < float(cells[6]) < 100.0  # timings of a fraction of a second: load sways them
    for target in ("words/s (training) ≥ 1.0x gensim's at every size", "flat: words/s at 50k ≥ 0.8x at 20k",
                   "memory beyond the tables at 50k ≤ 1536 MB"):
        assert len(re.findall(rf"\| (skip-gram|CBOW) \| {re.escape(target)} \| [^|]+ \| (met|NOT met) \|", table)) == 2, target
    assert "command: `python -m benchmarks.embeddings_scaling --smoke`" in table
    assert "](embeddings_scaling.png)" in table and (tmp_path / "embeddings_scaling.png").stat().st_size > 10_000

    records = list(ResultStore(tmp_path / "store"))
    assert len(records) == 8 and all(r["status"] == "ok" for r in records), [r.get("error") for r in records]
    for r in records:
        m = r["metrics"]
        # both libraries read the whole file: exactly the tokens the corpus was cut at
        assert m["corpus_words"] == r["params"]["tokens"] and m["epochs"] == 1
        assert m["vocab"] > 100 and m["workers"] >= 1
        assert m["peak_mb"] > 0 and m["added_mb"] >= 0
        assert m["tables_mb"] == pytest.approx(2 * m["vocab"] * 100 * 4 / 2**20)
        assert m["beyond_tables_mb"] == pytest.approx(m["added_mb"] - m["tables_mb"])
        assert 0 < m["vocab_seconds"] < m["seconds"] and m["train_seconds"] > 0
    vocab = {(r["params"]["tokens"], r["params"]["model"]): r["metrics"]["vocab"] for r in records}
    for n in (20_000, 50_000):  # min_count 5 on the same file: the same vocabulary on both sides
        assert len({vocab[(n, m)] for m in embeddings_scaling.MODELS}) == 1


def _record(model: str, seed: int, rho: float) -> dict:
    lead = 0.05 if model.startswith("groundup") else 0.0  # the other two scores are well above gensim's
    metrics = dict(vocab=1000, epochs=1, words_per_second=1e6, end_to_end_words_per_second=9e5, peak_mb=300.0,
                   added_mb=50.0, tables_mb=0.8, beyond_tables_mb=49.2, rho=rho, simlex=0.2 + lead + seed / 1000,
                   accuracy=0.05 + lead + seed / 1000)
    return dict(status="ok", seed=seed, params=dict(tokens=1_000_000, model=model), metrics=metrics)


@pytest.mark.parametrize("ours, verdict", [((0.29, 0.30, 0.31), "met"), ((0.27, 0.27, 0.27), "NOT met")])
def test_quality_target_is_gensims_mean_minus_one_sd(tmp_path, monkeypatch, ours, verdict):
    """gensim's rho over three seeds is 0.30 ± 0.02: 0.30 on average passes, 0.27 (1.5 sd below) fails,
    and the report names the score that came closest."""
    monkeypatch.setattr(embeddings_scaling, "draw", lambda table, args: "plot.png")
    records = [_record(f"gensim-{arch}", s, rho) for arch in ("sg", "cbow") for s, rho in enumerate((0.28, 0.30, 0.32))]
    records += [_record(f"groundup-{arch}", s, rho) for arch in ("sg", "cbow") for s, rho in enumerate(ours)]
    table = embeddings_scaling.report(records, None)
    rows = re.findall(r"\| (skip-gram|CBOW) \| quality: mean ≥ gensim's mean − 1 sd \(3 seeds\), every score and size \| "
                      r"closest: ([^|]+) \| (met|NOT met) \|", table)
    assert [r[2] for r in rows] == [verdict, verdict]
    assert all(r[1].startswith("WordSim-353 ρ at 1M") for r in rows)
