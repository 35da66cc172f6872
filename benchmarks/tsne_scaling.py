"""t-SNE from 1,000 points to all 70,000 MNIST images: groundup against openTSNE and scikit-learn.

For each size N, the first N of MNIST's 70,000 images (training, validation and test sets in
that order) after PCA to 50 dimensions (fitted on all 70,000), embedded by each library with
its defaults: groundup's ``TSNE()``, openTSNE's ``TSNE(n_jobs=cores)`` and scikit-learn's
``TSNE()`` (Barnes-Hut). Each fit runs in a fresh process of its own, so that its peak
memory is its own; the run reports:

* seconds per phase: nearest neighbours, affinities, optimisation (initialisation
  included), and the total wall time of the fit. groundup reports its phases in
  ``timings_``; openTSNE's and scikit-learn's are read from their verbose logs.
* trustworthiness (k = 10) of the first 5,000 points (all of them below 5,000);
* peak memory: the process's peak resident set during the fit (Linux's ``VmHWM``, reset
  just before it), and how much that is above what the process held before the fit (the
  interpreter, the imported library, the data).

The targets (issues 17 and 22): at 70,000 points groundup's time at most 0.8x openTSNE's
with trustworthiness within 0.005 of it; at every N, time at most scikit-learn's with
trustworthiness within 0.005; time growing no faster than openTSNE's from 5,000 to 70,000.
Every run asks for all cores, so the runs go one at a time and the timings are only
worth something on a machine with nothing else running.

    python -m benchmarks.tsne_scaling                  # 1k to 70k, all three libraries (about an hour on 2 cores)
    python -m benchmarks.tsne_scaling --only groundup  # one library (finished runs stay in the store)
    python -m benchmarks.tsne_scaling --quick          # 1k to 10k (minutes)
    python -m benchmarks.tsne_scaling --smoke          # two tiny sizes (the tests)
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import tempfile
import time
from contextlib import redirect_stdout
from typing import Any

import numpy as np

from benchmarks import common

RUN = "benchmarks.tsne_scaling:run"
LIBRARIES = ("groundup", "openTSNE", "sklearn")
PHASES = ("neighbors", "affinities", "optimization")
CONFIGS: dict[str, dict[str, Any]] = {
    "full": dict(sizes=(1000, 2000, 5000, 10_000, 20_000, 70_000)),
    "quick": dict(sizes=(1000, 2000, 5000, 10_000)),
    "smoke": dict(sizes=(250, 500)),
}
SEEDS = {"full": (0,), "quick": (0,), "smoke": (0,)}
TRUST_POINTS = 5000  # trustworthiness on the first 5,000 points: O(N^2) to compute
CHILD_TIMEOUT = 3600  # seconds a single fit may take


# -- the data -----------------------------------------------------------------------------------
def mnist_pca50(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` of MNIST's 70,000 images (train, validation, test) after PCA to 50
    dimensions fitted on all of them, as float32, with their labels."""
    from sklearn.decomposition import PCA

    from groundup.datasets import load_mnist

    ds = load_mnist()
    X = np.concatenate([ds.X_train, ds.X_valid, ds.X_test]).reshape(-1, 784).astype(np.float32)
    y = np.concatenate([ds.y_train, ds.y_valid, ds.y_test])
    return PCA(50, random_state=0).fit_transform(X)[:n].astype(np.float32), y[:n]


# -- one fit, in a process of its own -----------------------------------------------------------------
def _elapsed_after(log: str, marker: str) -> float:
    """openTSNE's log: the "--> Time elapsed: X seconds" that follows ``marker``."""
    m = re.search(re.escape(marker) + r".*?Time elapsed: ([0-9.]+) seconds", log, re.S)
    return float(m.group(1)) if m else float("nan")


def fit_one(library: str, path: str, seed: int, threads: int) -> dict[str, Any]:
    """Fit ``library``'s t-SNE with its defaults on the array saved at ``path``; return the
    phases, the total seconds, the peak memory and the embedding of the first points."""
    X = np.load(path)
    if library == "groundup":
        import torch

        from groundup.unsupervised import TSNE

        torch.set_num_threads(threads)
        make = lambda: TSNE(random_state=seed)  # noqa: E731
    elif library == "openTSNE":
        from openTSNE import TSNE as OpenTSNE

        make = lambda: OpenTSNE(random_state=seed, n_jobs=threads, verbose=True)  # noqa: E731
    elif library == "sklearn":
        from sklearn.manifold import TSNE as SkTSNE

        make = lambda: SkTSNE(random_state=seed, verbose=2)  # noqa: E731
    else:
        raise ValueError(f"unknown library {library!r}; choose from {', '.join(LIBRARIES)}")
    model = make()
    common.reset_peak_memory()
    before = common.memory_mb("VmRSS")
    log = io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(log):
        Y = np.asarray(model.fit(X) if library == "openTSNE" else model.fit_transform(X))
    total = time.perf_counter() - start
    peak = common.memory_mb("VmHWM")
    text = log.getvalue()
    if library == "groundup":
        phases = dict(model.timings_)
        detail = f"{model.neighbors_} neighbours, {model.method_} repulsion"
    elif library == "openTSNE":
        phases = {"neighbors": _elapsed_after(text, "nearest neighbors"), "affinities": _elapsed_after(text, "affinity matrix")}
        detail = "; ".join(sorted(set(re.findall(r"nearest neighbors using (\w+)", text)))) or "exact"
    else:
        found = lambda pattern: float(m.group(1)) if (m := re.search(pattern, text)) else 0.0  # noqa: E731
        phases = {"neighbors": found(r"Indexed \d+ samples in ([0-9.]+)s") + found(r"Computed neighbors for \d+ samples in ([0-9.]+)s"),
                  "affinities": found(r"Computed conditional probabilities in ([0-9.]+)s")}
        detail = "Barnes-Hut"
    if library != "groundup":
        phases["optimization"] = total - phases["neighbors"] - phases["affinities"]
    return dict(seconds=total, phases=phases, peak_mb=peak, added_mb=max(0.0, peak - before), detail=detail,
                Y=Y[:TRUST_POINTS].tolist())


def _child(library: str, path: str, seed: int, threads: int, queue: Any) -> None:
    try:
        queue.put(("ok", fit_one(library, path, seed, threads)))
    except BaseException as err:  # noqa: BLE001 - the parent re-raises it
        queue.put(("error", f"{type(err).__name__}: {err}"))


def run(library: str, n: int, size: dict[str, Any], seed: int) -> dict[str, Any]:
    """One engine run: ``library`` on the first ``n`` points, in a fresh process."""
    from sklearn.manifold import trustworthiness

    X, _ = mnist_pca50(n)
    threads = common.all_cores()
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "X.npy")
        np.save(path, X)
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(library, path, seed, threads, queue))
        proc.start()
        status, out = queue.get(timeout=CHILD_TIMEOUT)
        proc.join()
    if status != "ok":
        raise RuntimeError(f"{library} on {n} points failed: {out}")
    m = min(n, TRUST_POINTS)
    out["trust"] = float(trustworthiness(X[:m], np.asarray(out.pop("Y"))[:m], n_neighbors=10))
    return dict(out, n=n, library=library, threads=threads)


# -- the report -----------------------------------------------------------------------------------
def draw(table: dict[tuple[str, int], dict[str, Any]], args: Any) -> str:
    """Log-log time against N: the total and each phase, one line per library."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharex=True)
    for ax, what in zip(axes, ("total",) + PHASES):
        for lib, style in zip(LIBRARIES, ("o-", "s--", "^:")):
            pts = sorted((n, r["seconds"] if what == "total" else r["phases"][what]) for (l, n), r in table.items() if l == lib)
            pts = [(n, t) for n, t in pts if t > 0]
            if pts:
                ax.loglog(*zip(*pts), style, label=lib)
        ax.set_title(what)
        ax.set_xlabel("points N")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds")
    axes[0].legend()
    fig.suptitle("t-SNE on MNIST (PCA-50): time against N, by phase")
    fig.tight_layout()
    name = "tsne_scaling.png"
    common.savefig(fig, args, name)
    plt.close(fig)
    return name


def report(records: list[dict[str, Any]], args: Any) -> str:
    table = {(r["params"]["library"], r["params"]["n"]): r["metrics"] for r in records if r["status"] == "ok"}
    sizes = sorted({n for _, n in table})
    rows = []
    for n in sizes:
        for lib in LIBRARIES:
            r = table.get((lib, n))
            if r is None:
                rows.append([f"{n:,}", lib] + ["not run"] + [""] * 6)
                continue
            rows.append([f"{n:,}", lib] + [f"{r['phases'][p]:.1f}" for p in PHASES] +
                        [f"{r['seconds']:.1f}", f"{r['trust']:.4f}", f"{r['peak_mb']:.0f} (+{r['added_mb']:.0f})", r["detail"]])
    lines = ["### t-SNE from 1,000 to 70,000 MNIST points (PCA-50): groundup, openTSNE, scikit-learn", "",
             common.markdown_table(["N", "library", "neighbours s", "affinities s", "optimisation s", "total s",
                                    "trustworthiness", "peak MB (+fit)", "how"], rows), ""]
    checks = []
    for n in sizes:
        g, o, s = (table.get((lib, n)) for lib in LIBRARIES)
        if g and o:
            checks.append([f"{n:,}", "vs openTSNE", f"{g['seconds'] / o['seconds']:.2f}x", f"{g['trust'] - o['trust']:+.4f}"])
        if g and s:
            checks.append([f"{n:,}", "vs scikit-learn", f"{g['seconds'] / s['seconds']:.2f}x", f"{g['trust'] - s['trust']:+.4f}"])
    if checks:
        lines += ["groundup's time as a fraction of each baseline's, and its trustworthiness minus theirs "
                  "(targets: at 70,000 points at most 0.80x openTSNE's; at every N at most 1.00x scikit-learn's; "
                  "trustworthiness no more than 0.005 below):", "",
                  common.markdown_table(["N", "against", "time ratio", "trustworthiness difference"], checks), ""]
    lo, hi = (5000 if 5000 in sizes else min(sizes, default=0)), max(sizes, default=0)  # 5k to 70k in the full run
    growth = [f"{lib} x{table[(lib, hi)]['seconds'] / table[(lib, lo)]['seconds']:.1f}"
              for lib in LIBRARIES if (lib, lo) in table and (lib, hi) in table]
    if growth and lo != hi:
        lines += [f"Time growth from {lo:,} to {hi:,} points: {', '.join(growth)}.", ""]
    lines += ["Each fit ran alone in a fresh process with every core (openTSNE with n_jobs = cores; scikit-learn with its "
              "defaults, whose Barnes-Hut gradient uses every core); the seconds are wall-clock. Trustworthiness (k = 10) "
              f"is measured on the first {TRUST_POINTS:,} points. Peak MB is the fit's process's peak resident set "
              "(interpreter, library and data included); (+fit) is how much the fit raised it. The phases of openTSNE and "
              "scikit-learn are read from their verbose logs, optimisation being the rest of the fit (initialisation "
              "included)."]
    if table:
        lines += ["", f"![t-SNE time against N, by phase]({draw(table, args)})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("tsne_scaling", __doc__.splitlines()[0], argv)
    args.cfg = CONFIGS[args.mode]
    seeds = common.seeds_for(args, SEEDS[args.mode])
    libraries = [lib for lib in LIBRARIES if common.selected(args, lib)]
    if not libraries:
        raise SystemExit(f"--only {','.join(args.only)} matches no library; choose from {', '.join(LIBRARIES)}")
    common.log(f"tsne_scaling ({args.mode}): {', '.join(libraries)} at {args.cfg['sizes']}; one run at a time, all cores")
    records = common.sweep(args, RUN, {"n": list(args.cfg["sizes"]), "library": libraries, "size": [args.cfg]}, seeds,
                           num_cpus=common.all_cores()).records
    common.finish(args, records, lambda: report(records, args), lambda r: f"{r['params']['library']} n={r['params']['n']}")


if __name__ == "__main__":
    main()
