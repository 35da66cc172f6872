"""Aggregates: IQM against scipy's trimmed mean, bootstrap intervals, tables, plots."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from groundup.experiments import bootstrap_ci, iqm, plot_curves, summarize, summary_table


@pytest.mark.parametrize("n", [4, 5, 10, 13])
def test_iqm_is_scipy_trim_mean_at_a_quarter(n):
    x = np.random.default_rng(n).normal(size=n) ** 3
    assert iqm(x) == pytest.approx(scipy_stats.trim_mean(x, 0.25))


def test_iqm_ignores_outliers_that_move_the_mean():
    x = [1.0, 2.0, 3.0, 4.0, 1000.0, -1000.0, 2.5, 3.5]
    assert iqm(x) == pytest.approx(np.mean([2.0, 2.5, 3.0, 3.5]))


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_more_runs():
    rng = np.random.default_rng(0)
    few, many = rng.normal(10, 2, 10), rng.normal(10, 2, 1000)
    lo, hi = bootstrap_ci(few)
    assert lo < few.mean() < hi
    lo2, hi2 = bootstrap_ci(many)
    assert hi2 - lo2 < (hi - lo) / 4
    # the standard error of the mean is 2/sqrt(1000) = 0.063: a 95% interval spans ~0.25
    assert 0.18 < hi2 - lo2 < 0.32
    assert bootstrap_ci([3.0]) == (3.0, 3.0)


def test_stratified_bootstrap_keeps_every_task_in_every_resample():
    # task a scores 0, task b scores 100: a pooled resample could miss a task and move the
    # mean to 0 or 100; a stratified one always holds both, so the mean stays at 50
    scores = {"a": [0.0, 0.0, 0.0], "b": [100.0, 100.0, 100.0]}
    assert bootstrap_ci(scores) == (50.0, 50.0)
    pooled = bootstrap_ci([0.0] * 3 + [100.0] * 3)
    assert pooled[0] < 40 and pooled[1] > 60


def test_summarize_and_its_errors():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s["n"] == 4 and s["mean"] == 2.5 and s["std"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert s["ci_low"] <= 2.5 <= s["ci_high"] and s["iqm"] == 2.5
    with pytest.raises(ValueError, match="at least one value"):
        summarize([])
    with pytest.raises(ValueError, match="confidence must be in"):
        bootstrap_ci([1.0], confidence=1.5)


def test_summary_table_has_a_row_per_setting_and_counts_failures():
    records = [
        {"params": {"lr": 0.1}, "seed": s, "status": "ok", "metrics": {"ret": float(s)}, "seconds": 1.0} for s in range(3)
    ] + [
        {"params": {"lr": 0.5}, "seed": 0, "status": "ok", "metrics": {"ret": 7.0}, "seconds": 2.0},
        {"params": {"lr": 0.5}, "seed": 1, "status": "failed", "metrics": None, "seconds": None},
    ]
    table = summary_table(records, "ret").splitlines()
    assert table[0] == "| lr | runs | ret mean ± std | 95% CI | IQM | s/run (median) | failed |"
    assert table[2].startswith("| 0.1 | 3 | 1 ± 1 | [0, 2] | 1 | 1.00 | 0 |")
    assert table[3].startswith("| 0.5 | 1 | 7 ± 0 | [7, 7] | 7 | 2.00 | 1 |")


def test_plot_curves_draws_a_grid_of_panels(tmp_path):
    from PIL import Image

    runs = [[(x, x * k + s) for x in range(0, 1000, 100)] for s in range(3) for k in (1,)]
    curves = {f"task {i}": {"agent": runs, "baseline": [[(x, y / 2) for x, y in r] for r in runs]} for i in range(6)}
    path = plot_curves(curves, tmp_path / "curves.png", ncols=3, thresholds={"task 0": 500})
    width, height = Image.open(path).size
    assert 800 <= width <= 1100 and height < width  # 3 columns, 2 rows: readable at README width
    with pytest.raises(ValueError, match="no curves"):
        plot_curves({}, tmp_path / "empty.png")


def test_plot_curves_can_keep_the_x_ticks_on_whole_numbers(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to read its ticks
    runs = [[(layer, 10.0 ** (layer - s)) for layer in range(1, 6)] for s in range(3)]
    plot_curves({"norms": {"net": runs}}, tmp_path / "layers.png", integer_x=True, log_y=True)
    ticks = [t for t in figures[0].axes[0].get_xticks() if 1 <= t <= 5]
    assert ticks == [1, 2, 3, 4, 5]


def test_plot_curves_on_log_axes(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    subplots = plt.subplots
    monkeypatch.setattr(plt, "subplots", lambda *a, **k: figures.append(subplots(*a, **k)) or figures[-1])
    runs = [[(n, 10 + s + n / 100) for n in (100, 300, 1000, 3000)] for s in range(3)]
    plot_curves({"task": {"model": runs}}, tmp_path / "log.png", log_x=True, log_y=True)
    ax = figures[0][1][0, 0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert list(ax.get_xticks()) == [100, 300, 1000, 3000]  # ticks at the measured sizes
    assert (tmp_path / "log.png").stat().st_size > 5_000
