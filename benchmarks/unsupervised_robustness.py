"""The unsupervised estimators' defaults on other data: a thousand images to sixty thousand,
real-valued tables, synthetic blobs (issue 22).

benchmarks/unsupervised.py measures tuned models on MNIST with the papers' settings; this
benchmark builds every estimator with its defaults and only ``random_state`` (and the code
size for the autoencoder), as a user would, and scikit-learn's with its own defaults, on
the same data in the same run:

* ``dbn``, ``sae``: ``DBN()`` and ``StackedAutoencoder()`` test accuracy, against
  ``MLPClassifier()`` (``mlp``) and ``LogisticRegression()`` (``logreg``);
* ``autoencoder``: ``Autoencoder(k)`` test reconstruction error (mean squared error per
  feature) against scikit-learn's ``PCA(k)``, for k = 2, 10 and 30;
* ``rbm``: logistic regression on ``RBM()``'s features (``RBM(visible="gaussian")`` on the
  real-valued sets) against logistic regression on the inputs;
* ``tsne``: ``TSNE()`` against scikit-learn's ``TSNE()``: seconds and trustworthiness
  (k = 10) of the training images or rows (MNIST after PCA to 50 dimensions, as usual).
  Larger sizes, to 70,000 points, are in ``benchmarks/tsne_scaling.py``.

The data (``DATASETS``), each split anew by every seed:

* ``digits``: scikit-learn's 8x8 digits, pixels / 16, a stratified 70/30 split;
* ``mnist-1k``, ``mnist-5k``, ``mnist-20k``, ``mnist-60k``: that many training images drawn
  from MNIST's 60,000 (all of them for 60k), tested on its 10,000 test images;
* ``breast-cancer``: scikit-learn's 569 tumours, 30 real features, standardised on the
  training rows, a stratified 70/30 split;
* ``blobs``: ``make_blobs`` in 50 dimensions, 10 centres, 3,000 points (standard
  deviation 15, so that the classes overlap: logistic regression scores about 83%),
  standardised, a 70/30 split.

The classifiers (DBN, stacked autoencoder, MLP) read their inputs as probabilities on the
real-valued sets too, so those are rescaled to [0, 1] (``MinMaxScaler`` fitted on the
training rows, test rows clipped), the same inputs for scikit-learn's MLP. The autoencoder,
PCA, logistic regression and the Gaussian RBM get the standardised values.

Targets (``TARGETS``), shown as met or not from the runs (means over seeds):

* DBN and stacked autoencoder: accuracy at least ``MLPClassifier()``'s minus 1 point, and
  more than 5 points above chance, on every set;
* autoencoder: error at most PCA's with as many components, for every k (PCA with as many
  components as features is exact, and so is the autoencoder's start: there the two must
  agree within 1e-6 of the data's variance);
* RBM: features + logistic regression at least logistic regression on the pixels, on the
  image sets; reported on the others;
* t-SNE: time at most scikit-learn's, trustworthiness within 0.005.

Cores: the t-SNE runs ask for every core (their times are targets) and should have the
machine to themselves; every other run uses one core, side by side, and its seconds are
only reported.

    python -m benchmarks.unsupervised_robustness           # everything, 3 seeds (hours on 2 cores: 60k dominates)
    python -m benchmarks.unsupervised_robustness --only mnist-60k:dbn
    python -m benchmarks.unsupervised_robustness --quick   # digits, MNIST 1k, breast cancer, blobs; 1 seed
    python -m benchmarks.unsupervised_robustness --smoke   # 300 digits (the tests)

Runs are named ``DATASET:ESTIMATOR`` (``digits:dbn``, ``mnist-5k:autoencoder``); ``--only``
takes substrings of these names. Finished runs stay in the results store.
"""

from __future__ import annotations

import functools
import statistics
from typing import Any

import numpy as np

from benchmarks import common

RUN = "benchmarks.unsupervised_robustness:run"
ESTIMATORS = ("dbn", "sae", "mlp", "logreg", "rbm", "autoencoder", "tsne")
CLASSIFIERS = ("dbn", "sae", "mlp", "logreg")
CODE_SIZES = (2, 10, 30)
IMAGES = ("digits", "mnist-1k", "mnist-5k", "mnist-20k", "mnist-60k")
TABLES = ("breast-cancer", "blobs")
DATASETS = IMAGES + TABLES
TSNE_SETS = ("digits", "mnist-1k", "mnist-5k", "breast-cancer", "blobs")
TARGETS = dict(mlp_gap=1.0, above_chance=5.0, tsne_trust_gap=0.005, exact_tol=1e-6)

CONFIGS: dict[str, dict[str, Any]] = {
    "full": dict(datasets=DATASETS, test_n=None, tsne_max_n=5000),
    "quick": dict(datasets=("digits", "mnist-1k", "breast-cancer", "blobs"), test_n=None, tsne_max_n=5000),
    "smoke": dict(datasets=("digits",), test_n=200, tsne_max_n=300, smoke=True),
}
SEEDS = {"full": (0, 1, 2), "quick": (0,), "smoke": (0,)}


def run_name(dataset: str, estimator: str) -> str:
    return f"{dataset}:{estimator}"


# ----------------------------------------------------------------------------------- the data
@functools.lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, ...]:
    from groundup.datasets import load_mnist

    ds = load_mnist()
    return (np.concatenate([ds.X_train, ds.X_valid]), np.concatenate([ds.y_train, ds.y_valid]), ds.X_test, ds.y_test)


def load(dataset: str, seed: int, cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{"X", "y", "Xt", "yt"}`` (inputs as the unsupervised models get them) and, for the
    classifiers, ``{"P", "Pt"}``: the same rows in [0, 1]."""
    from sklearn.datasets import load_breast_cancer, load_digits, make_blobs
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X, Xt, y, yt = train_test_split((X / 16.0).astype(np.float32), y, test_size=0.3, stratify=y, random_state=seed)
    elif dataset.startswith("mnist-"):
        pool_X, pool_y, Xt, yt = _mnist()
        n = {"1k": 1000, "5k": 5000, "20k": 20_000, "60k": len(pool_X)}[dataset.split("-")[1]]
        rows = np.random.default_rng(seed).permutation(len(pool_X))[:n]
        X, y = pool_X[rows], pool_y[rows]
    else:
        if dataset == "breast-cancer":
            X, y = load_breast_cancer(return_X_y=True)
        elif dataset == "blobs":
            X, y = make_blobs(n_samples=3000, n_features=50, centers=10, cluster_std=15.0, random_state=seed)
        else:
            raise ValueError(f"unknown dataset {dataset!r}; the datasets are {', '.join(DATASETS)}")
        X, Xt, y, yt = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
        scaler = StandardScaler().fit(X)
        X, Xt = scaler.transform(X).astype(np.float32), scaler.transform(Xt).astype(np.float32)
    if cfg.get("smoke"):
        X, y = X[:300], y[:300]
    if cfg["test_n"]:
        Xt, yt = Xt[: cfg["test_n"]], yt[: cfg["test_n"]]
    data = dict(X=X, y=y, Xt=Xt, yt=yt, P=X, Pt=Xt)
    if dataset in TABLES:
        unit = MinMaxScaler(clip=True).fit(X)
        data.update(P=unit.transform(X).astype(np.float32), Pt=unit.transform(Xt).astype(np.float32))
    return data


# ------------------------------------------------------------------------------------ the runs
def _classify(estimator: str, d: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from groundup.unsupervised import DBN, StackedAutoencoder

    make = {"dbn": lambda: DBN(random_state=seed, device="cpu"),
            "sae": lambda: StackedAutoencoder(random_state=seed, device="cpu"),
            "mlp": lambda: MLPClassifier(random_state=seed),
            "logreg": lambda: LogisticRegression()}[estimator]
    X, Xt = (d["X"], d["Xt"]) if estimator == "logreg" else (d["P"], d["Pt"])
    model, seconds, caught = common.fit_recording_warnings(lambda: make().fit(X, d["y"]))
    out = dict(accuracy=100.0 * float(model.score(Xt, d["yt"])), fit_s=seconds, warnings=caught,
               chance=100.0 * float(np.bincount(d["yt"]).max() / len(d["yt"])))
    if estimator in ("dbn", "sae"):
        out.update(epochs=model.n_iter_, stop_reason=model.training_log_.stop_reason)
    elif estimator == "mlp":
        out.update(epochs=int(model.n_iter_))
    return out


def _autoencoder(d: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    from sklearn.decomposition import PCA as SkPCA

    from groundup.unsupervised import Autoencoder

    X, Xt = d["X"], d["Xt"]
    out: dict[str, Any] = {"variance": float(Xt.var(0).mean())}
    for k in CODE_SIZES:
        if k > min(X.shape):
            continue
        ae, seconds, caught = common.fit_recording_warnings(lambda: Autoencoder(k, random_state=seed, device="cpu").fit(X))
        pca = SkPCA(k, random_state=seed).fit(X)
        pca_error = float(((pca.inverse_transform(pca.transform(Xt)) - Xt) ** 2).mean())
        out[str(k)] = dict(error=ae.reconstruction_error(Xt), pca_error=pca_error, fit_s=seconds, epochs=ae.n_iter_,
                           stop_reason=ae.training_log_.stop_reason, warnings=caught)
    return out


def _rbm(dataset: str, d: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from groundup.unsupervised import RBM

    visible = "gaussian" if dataset in TABLES else "bernoulli"
    rbm, seconds, caught = common.fit_recording_warnings(lambda: RBM(visible=visible, random_state=seed, device="cpu").fit(d["X"]))
    clf = LogisticRegression().fit(rbm.transform(d["X"]), d["y"])
    raw = LogisticRegression().fit(d["X"], d["y"])
    return dict(accuracy=100.0 * float(clf.score(rbm.transform(d["Xt"]), d["yt"])),
                raw_accuracy=100.0 * float(raw.score(d["Xt"], d["yt"])), fit_s=seconds, visible=visible, warnings=caught)


def _tsne(dataset: str, d: dict[str, np.ndarray], seed: int, cfg: dict[str, Any]) -> dict[str, Any]:
    from sklearn.decomposition import PCA as SkPCA
    from sklearn.manifold import TSNE as SkTSNE
    from sklearn.manifold import trustworthiness

    from groundup.unsupervised import TSNE

    X = d["X"][: cfg["tsne_max_n"]]
    if X.shape[1] > 50:
        X = SkPCA(50, random_state=0).fit_transform(X).astype(np.float32)
    Y, seconds, _ = common.fit_recording_warnings(lambda: TSNE(random_state=seed).fit_transform(X))
    Ys, sk_seconds, _ = common.fit_recording_warnings(lambda: SkTSNE(random_state=seed).fit_transform(X))
    return dict(n=len(X), seconds=seconds, sk_seconds=sk_seconds, trust=float(trustworthiness(X, Y, n_neighbors=10)),
                sk_trust=float(trustworthiness(X, Ys, n_neighbors=10)))


def run(dataset: str, estimator: str, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One estimator with its defaults on one data set, split by ``seed``."""
    d = load(dataset, seed, cfg)
    common.log(f"[{run_name(dataset, estimator)}, seed {seed}] {len(d['X'])} training rows, {len(d['Xt'])} test")
    if estimator in CLASSIFIERS:
        return _classify(estimator, d, seed)
    if estimator == "autoencoder":
        return _autoencoder(d, seed)
    if estimator == "rbm":
        return _rbm(dataset, d, seed)
    if estimator == "tsne":
        return _tsne(dataset, d, seed, cfg)
    raise ValueError(f"unknown estimator {estimator!r}; the estimators are {', '.join(ESTIMATORS)}")


# ---------------------------------------------------------------------------------- the report
def _by(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        if r["status"] == "ok":
            out.setdefault((r["params"]["dataset"], r["params"]["estimator"]), []).append(r["metrics"])
    return out


def _mean(values: list[float]) -> float:
    return float(statistics.mean(values))


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def classification_report(runs: dict, datasets: list[str]) -> list[str]:
    rows, targets = [], []
    for ds in datasets:
        if (ds, "mlp") not in runs:
            continue
        acc = {e: [m["accuracy"] for m in runs.get((ds, e), [])] for e in CLASSIFIERS}
        rbm = runs.get((ds, "rbm"), [])
        rows.append([ds] + [common.mean_ci(acc[e], 2) if acc[e] else "" for e in CLASSIFIERS]
                    + [common.mean_ci([m["accuracy"] for m in rbm], 2) if rbm else "",
                       f"{_mean([m['fit_s'] for m in runs[(ds, 'dbn')]]):.1f} / {_mean([m['fit_s'] for m in runs[(ds, 'mlp')]]):.1f}"
                       if (ds, "dbn") in runs else ""])
        chance = runs[(ds, "mlp")][0]["chance"]
        for e in ("dbn", "sae"):
            if acc[e]:
                gap = _mean(acc[e]) - _mean(acc["mlp"])
                ok = gap >= -TARGETS["mlp_gap"] and _mean(acc[e]) > chance + TARGETS["above_chance"]
                targets.append([f"{e.upper()}() within {TARGETS['mlp_gap']:g} point of MLPClassifier()", ds,
                                f"{_mean(acc[e]):.2f} vs {_mean(acc['mlp']):.2f} ({gap:+.2f}); chance {chance:.1f}", _met(ok)])
        if rbm:
            raw = _mean([m["raw_accuracy"] for m in rbm])
            ok = _mean([m["accuracy"] for m in rbm]) >= raw
            targets.append(["RBM() features + LogisticRegression() >= LogisticRegression() on the inputs", ds,
                            f"{_mean([m['accuracy'] for m in rbm]):.2f} vs {raw:.2f}",
                            _met(ok) if ds in IMAGES else ("reported" + (" (met)" if ok else " (not met)"))])
    header = ["data", "DBN()", "StackedAutoencoder()", "MLPClassifier()", "LogisticRegression()",
              "RBM() + LogisticRegression()", "DBN / MLP fit s"]
    return ["### Classification: test accuracy (%), mean [95% CI] over seeds", "", common.markdown_table(header, rows),
            "", *(["Targets:", "", common.markdown_table(["target", "data", "measured", "met?"], targets), ""] if targets else [])]


def autoencoder_report(runs: dict, datasets: list[str]) -> list[str]:
    rows, targets = [], []
    for ds in datasets:
        ms = runs.get((ds, "autoencoder"))
        if not ms:
            continue
        for k in CODE_SIZES:
            if str(k) not in ms[0]:
                continue
            ae = [m[str(k)]["error"] for m in ms]
            pca = [m[str(k)]["pca_error"] for m in ms]
            tol = TARGETS["exact_tol"] * _mean([m["variance"] for m in ms])
            ok = _mean(ae) <= _mean(pca) + tol
            rows.append([ds, str(k), common.mean_ci(ae, 5), common.mean_ci(pca, 5), f"{_mean(ae) / max(_mean(pca), 1e-30):.3f}"
                         if _mean(pca) > tol else "exact", f"{_mean([m[str(k)]['epochs'] for m in ms]):.0f}",
                         f"{_mean([m[str(k)]['fit_s'] for m in ms]):.1f}"])
            targets.append(ok)
    summary = (f"Target, Autoencoder(k) error <= PCA(k)'s on every set and k: {_met(all(targets))} "
               f"({sum(targets)} of {len(targets)}).") if targets else ""
    return ["### Autoencoder(k) against PCA(k): test reconstruction error (mean squared error per feature)", "",
            common.markdown_table(["data", "k", "Autoencoder(k)", "PCA(k)", "ratio", "epochs", "fit s"], rows), "", summary, ""]


def tsne_report(runs: dict, datasets: list[str]) -> list[str]:
    rows = []
    for ds in datasets:
        ms = runs.get((ds, "tsne"))
        if not ms:
            continue
        t, ts = _mean([m["seconds"] for m in ms]), _mean([m["sk_seconds"] for m in ms])
        tr, trs = _mean([m["trust"] for m in ms]), _mean([m["sk_trust"] for m in ms])
        ok = t <= ts and tr >= trs - TARGETS["tsne_trust_gap"]
        rows.append([ds, str(ms[0]["n"]), f"{t:.1f}", f"{ts:.1f}", f"{ts / t:.2f}x", f"{tr:.4f}", f"{trs:.4f}", _met(ok)])
    return ["### TSNE() against scikit-learn's TSNE(): seconds (all cores) and trustworthiness (k = 10)", "",
            common.markdown_table(["data", "points", "groundup s", "sklearn s", "speed-up", "groundup trust", "sklearn trust",
                                   "target"], rows), ""] if rows else []


def plot(runs: dict, datasets: list[str], args: Any) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [ds for ds in datasets if (ds, "mlp") in runs]
    if not shown:
        return []
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    x = np.arange(len(shown))
    for i, e in enumerate(("dbn", "sae", "mlp", "logreg")):
        means = [_mean([m["accuracy"] for m in runs.get((ds, e), [])]) if runs.get((ds, e)) else np.nan for ds in shown]
        ax[0].bar(x + (i - 1.5) * 0.2, means, 0.2, label={"dbn": "DBN()", "sae": "StackedAutoencoder()",
                                                          "mlp": "MLPClassifier()", "logreg": "LogisticRegression()"}[e])
    ax[0].set_xticks(x, shown, rotation=20)
    ax[0].set_ylim(50, 100)
    ax[0].set_ylabel("test accuracy (%)")
    ax[0].legend(fontsize=8)
    for k in CODE_SIZES:
        ratio = []
        for ds in shown:
            ms = runs.get((ds, "autoencoder"))
            ok = ms and str(k) in ms[0] and _mean([m[str(k)]["pca_error"] for m in ms]) > 0
            ratio.append(_mean([m[str(k)]["error"] for m in ms]) / _mean([m[str(k)]["pca_error"] for m in ms]) if ok else np.nan)
        ax[1].plot(x, ratio, "o-", label=f"k = {k}")
    ax[1].axhline(1.0, color="grey", lw=1)
    ax[1].set_xticks(x, shown, rotation=20)
    ax[1].set_ylabel("Autoencoder(k) error / PCA(k) error")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    path = common.savefig(fig, args, "unsupervised_robustness.png")
    plt.close(fig)
    return [f"![defaults against scikit-learn]({path.name})"]


def render(records: list[dict[str, Any]], datasets: list[str], args: Any) -> str:
    runs = _by(records)
    seeds = sorted({r["seed"] for r in records})
    md = ["## Unsupervised estimators with their defaults, from a thousand samples to sixty thousand", "",
          f"Every estimator with its defaults and `random_state` only; seeds {', '.join(map(str, seeds))}, each drawing "
          "its own split or subset. DBN, stacked autoencoder and MLP get the real-valued sets rescaled to [0, 1].", "",
          *classification_report(runs, datasets), *autoencoder_report(runs, datasets), *tsne_report(runs, datasets),
          *plot(runs, datasets, args)]
    missing = [ds for ds in datasets if not any(key[0] == ds for key in runs)]
    if missing:
        md += ["", f"Not run yet: {', '.join(missing)} (`--only {missing[0]}:`)."]
    return "\n".join(md)


# ---------------------------------------------------------------------------------- the sweep
def main(argv: list[str] | None = None) -> None:
    args = common.parse_args("unsupervised_robustness", __doc__.splitlines()[0], argv)
    cfg = CONFIGS[args.mode]
    seeds = common.seeds_for(args, SEEDS[args.mode])
    records: list[dict[str, Any]] = []
    for estimator in ESTIMATORS:
        sets = [ds for ds in cfg["datasets"] if (estimator != "tsne" or ds in TSNE_SETS)
                and common.selected(args, run_name(ds, estimator))]
        if not sets:
            continue
        cores = common.all_cores() if estimator == "tsne" else 1
        common.log(f"unsupervised_robustness ({args.mode}): {estimator} on {sets}; seeds {seeds}; {cores} core(s) a run")
        records += common.sweep(args, RUN, {"dataset": sets, "estimator": [estimator], "cfg": [cfg]}, seeds,
                                num_cpus=cores, desc=estimator).records
    if not records:
        raise SystemExit(f"--only {','.join(args.only)} matches no run; runs are named DATASET:ESTIMATOR "
                         f"(data {', '.join(DATASETS)}; estimators {', '.join(ESTIMATORS)})")
    common.finish(args, records, lambda: render(records, list(cfg["datasets"]), args),
                  lambda r: run_name(r["params"]["dataset"], r["params"]["estimator"]))


if __name__ == "__main__":
    main()
