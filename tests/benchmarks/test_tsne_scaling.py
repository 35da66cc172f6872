"""benchmarks/tsne_scaling.py: the log parsers, and a smoke run end to end on the
experiments engine (serially, as the other benchmarks' smoke tests)."""

from __future__ import annotations

import re

import pytest

from benchmarks import tsne_scaling


def test_the_full_mode_covers_1k_to_70k_for_every_library():
    assert tsne_scaling.CONFIGS["full"]["sizes"] == (1000, 2000, 5000, 10_000, 20_000, 70_000)
    assert tsne_scaling.LIBRARIES == ("groundup", "openTSNE", "sklearn")
    assert max(tsne_scaling.CONFIGS["quick"]["sizes"]) < 70_000


def test_opentsne_log_phases_are_read():
    log = ("===> Finding 90 nearest neighbors using Annoy approximate search using euclidean distance...\n"
           "   --> Time elapsed: 12.50 seconds\n===> Calculating affinity matrix...\n   --> Time elapsed: 3.04 seconds\n")
    assert tsne_scaling._elapsed_after(log, "nearest neighbors") == 12.5
    assert tsne_scaling._elapsed_after(log, "affinity matrix") == 3.04


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path, run_benchmark):
    from groundup.experiments import ResultStore

    run_benchmark("tsne_scaling", "--smoke", "--backend", "serial", timeout=600)
    table = (tmp_path / "tsne_scaling.md").read_text()
    for lib in tsne_scaling.LIBRARIES:
        assert f"| 250 | {lib} |" in table and f"| 500 | {lib} |" in table, lib
    assert "command: `python -m benchmarks.tsne_scaling --smoke`" in table
    assert "](tsne_scaling.png)" in table and (tmp_path / "tsne_scaling.png").stat().st_size > 10_000
    ratios = [float(x) for x in re.findall(r"\| (\d+\.\d\d)x \|", table)]
    assert len(ratios) == 4 and all(r > 0 for r in ratios)  # two sizes, two baselines
    records = list(ResultStore(tmp_path / "store"))
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    for r in records:
        m = r["metrics"]
        assert set(m["phases"]) == set(tsne_scaling.PHASES) and m["seconds"] > 0 and 0.5 < m["trust"] <= 1.0
        assert m["peak_mb"] > 0 and m["added_mb"] >= 0
