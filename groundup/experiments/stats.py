"""Aggregates over runs, written once: mean ± std, stratified-bootstrap confidence
intervals and the interquartile mean (Agarwal et al. 2021, "Deep Reinforcement Learning at
the Edge of the Statistical Precipice"; the rliable library), markdown tables and
learning-curve plots with confidence bands.

Why the IQM and a bootstrap: with the 3-10 seeds RL results usually have, the mean is
swayed by one outlier run and the median throws most runs away; the IQM (the mean of the
middle 50% of runs) sits between the two, and the percentile bootstrap gives an interval
without assuming the runs are normally distributed. "Stratified" means that when a score
pools several tasks, each task's runs are resampled separately, so every resample still
holds every task.
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groundup.persistence import atomic_write_bytes

__all__ = ["iqm", "bootstrap_ci", "summarize", "group_records", "summary_table", "markdown_table", "plot_curves",
           "format_ci"]


def iqm(values: Any) -> float:
    """The interquartile mean: the mean of the values left after cutting 25% from each end
    (the same cut as ``scipy.stats.trim_mean(values, 0.25)``)."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("iqm of an empty set of values")
    cut = int(0.25 * x.size)
    return float(x[cut: x.size - cut].mean())


def _pooled(scores: Any) -> list[np.ndarray]:
    if isinstance(scores, Mapping):
        strata = [np.asarray(v, dtype=float).ravel() for v in scores.values()]
    else:
        strata = [np.asarray(scores, dtype=float).ravel()]
    if not strata or any(s.size == 0 for s in strata):
        raise ValueError("bootstrap_ci needs at least one value in every task")
    return strata


def bootstrap_ci(scores: Any, statistic: Callable[[np.ndarray], float] = np.mean, *, confidence: float = 0.95,
                 n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A percentile-bootstrap confidence interval of ``statistic`` over the runs.

    ``scores`` is a sequence of per-run values, or a dict task -> per-run values; with a
    dict the bootstrap is stratified (each task's runs are resampled on their own) and
    ``statistic`` is taken over all tasks' resampled runs together. With one run the
    interval is that value.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    strata = _pooled(scores)
    rng = np.random.default_rng(seed)
    samples = np.empty(n_resamples)
    for i in range(n_resamples):
        samples[i] = statistic(np.concatenate([s[rng.integers(0, s.size, s.size)] for s in strata]))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return float(low), float(high)


def summarize(values: Sequence[float] | Mapping[str, Sequence[float]], **bootstrap: Any) -> dict[str, float]:
    """``n``, ``mean``, ``std`` (sample), ``ci_low``/``ci_high`` (95% bootstrap of the
    mean), ``iqm`` and ``iqm_ci_low``/``iqm_ci_high``."""
    strata = _pooled(values)
    x = np.concatenate(strata)
    mean_ci = bootstrap_ci(values, np.mean, **bootstrap)
    iqm_ci = bootstrap_ci(values, iqm, **bootstrap)
    return {"n": int(x.size), "mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else 0.0,
            "ci_low": mean_ci[0], "ci_high": mean_ci[1], "iqm": iqm(x), "iqm_ci_low": iqm_ci[0],
            "iqm_ci_high": iqm_ci[1]}


def format_ci(low: float, high: float, digits: int = 3) -> str:
    return f"[{low:.{digits}g}, {high:.{digits}g}]"


def group_records(records: Sequence[Mapping[str, Any]], by: Sequence[str] | None = None) -> dict[tuple, list[Mapping[str, Any]]]:
    """Successful records grouped by the values of the params named in ``by`` (default:
    every param), in first-seen order."""
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in records:
        if r.get("status") != "ok":
            continue
        names = list(r["params"]) if by is None else list(by)
        key = tuple((n, _hashable(r["params"].get(n))) for n in names)
        groups.setdefault(key, []).append(r)
    return groups


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats with 4 significant digits."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(records: Sequence[Mapping[str, Any]], metric: str, *, by: Sequence[str] | None = None,
                  digits: int = 4, seconds: bool = True) -> str:
    """One row per setting: the setting, runs, mean ± std, 95% CI, IQM, median seconds;
    failed runs are counted in their own column."""
    groups = group_records(records, by)
    failed: dict[tuple, int] = {}
    for r in records:
        if r.get("status") != "ok":
            names = list(r["params"]) if by is None else list(by)
            k = tuple((n, _hashable(r["params"].get(n))) for n in names)
            failed[k] = failed.get(k, 0) + 1
    keys = list(groups) + [k for k in failed if k not in groups]
    names = [n for n, _ in keys[0]] if keys else list(by or [])
    headers = names + ["runs", f"{metric} mean ± std", "95% CI", "IQM"] + (["s/run (median)"] if seconds else [])
    if any(failed.values()):
        headers.append("failed")
    rows = []
    for key in keys:
        values = [float(r["metrics"][metric]) for r in groups.get(key, []) if metric in (r["metrics"] or {})]
        cells: list[Any] = [_show(v) for _, v in key]
        if values:
            s = summarize(values)
            cells += [len(values), f"{s['mean']:.{digits}g} ± {s['std']:.{digits}g}",
                      format_ci(s["ci_low"], s["ci_high"], digits), f"{s['iqm']:.{digits}g}"]
        else:
            cells += [0, "—", "—", "—"]
        if seconds:
            secs = [r["seconds"] for r in groups.get(key, []) if r.get("seconds") is not None]
            cells.append(f"{statistics.median(secs):.2f}" if secs else "—")
        if "failed" in headers:
            cells.append(failed.get(key, 0))
        rows.append(cells)
    return markdown_table(headers, rows)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(_show, value)) + "]"
    return str(value)


def plot_curves(curves: Mapping[str, Mapping[str, Sequence[tuple[float, Sequence[float]]]]] | Mapping[str, Any],
                path: str | Path, *, xlabel: str = "environment steps", ylabel: str = "return",
                thresholds: Mapping[str, float] | None = None, ncols: int = 4, panel_size: tuple[float, float] = (3.2, 2.6),
                confidence: float = 0.95, log_x: bool = False, log_y: bool = False, integer_x: bool = False) -> Path:
    """Learning curves with bootstrap confidence bands, one panel per task in a grid.

    ``curves[panel][label]`` is a list of runs, each a list of ``(x, y)`` points (the runs
    of one label share their x). The line is the mean over runs; the band is a
    ``confidence`` percentile-bootstrap interval of that mean at each x. ``log_x`` and
    ``log_y`` draw that axis on a log scale (learning curves over data sizes, timings);
    ``integer_x`` puts ticks on whole numbers only (epochs, layers).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter

    panels = list(curves)
    if not panels:
        raise ValueError("plot_curves: no curves to draw")
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False,
                             layout="constrained")
    for ax, panel in zip(axes.ravel(), panels):
        xs: set[float] = set()
        for label, runs in curves[panel].items():
            runs = [r for r in runs if r]
            if not runs:
                continue
            n = min(len(r) for r in runs)
            x = np.asarray([p[0] for p in runs[0][:n]], dtype=float)
            xs.update(x.tolist())
            y = np.asarray([[p[1] for p in r[:n]] for r in runs], dtype=float)
            mean = y.mean(axis=0)
            if len(runs) > 1:
                bands = np.array([bootstrap_ci(y[:, j], confidence=confidence, n_resamples=500) for j in range(n)])
                ax.fill_between(x, bands[:, 0], bands[:, 1], alpha=0.2)
            ax.plot(x, mean, label=f"{label} (n={len(runs)})", lw=1.6)
        if thresholds and panel in thresholds:
            ax.axhline(thresholds[panel], color="grey", ls="--", lw=0.8)
        ax.set_title(panel, fontsize=9)
        if log_x:  # ticks at the measured sizes: a log axis over one or two decades has few of its own
            ax.set_xscale("log")
            ax.set_xticks(sorted(xs))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True) if integer_x else MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.tick_params(labelsize=7)
        if log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.supxlabel(xlabel, fontsize=8)
    fig.supylabel(ylabel, fontsize=8)
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path
