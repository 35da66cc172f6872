"""groundup.unsupervised against scikit-learn (and openTSNE) on MNIST, same data, same run.

Sections (``--only`` picks some; each caches its numbers in ``unsupervised_runs.json`` in
``--out`` so a full run can be done in chunks of a few minutes, ``--resume`` skipping
what is cached for the same configuration):

* ``pca``: 50 components of the 50,000 training images; explained-variance ratios
  against scikit-learn's, fit time (median of repeats) against scikit-learn's.
* ``tsne``: 5,000 test images after PCA to 50; trustworthiness (k = 10) and time against
  scikit-learn's Barnes-Hut t-SNE and openTSNE (FFT), each with its default schedule.
* ``rbm``: 256 hidden units, CD-1, learning rate 0.05, batch 64, 10 epochs, against
  ``BernoulliRBM`` with the same settings: logistic-regression test accuracy on the
  hidden probabilities (and on raw pixels), mean pseudo-likelihood of the test images.
  Ours uses momentum 0.9 (BernoulliRBM has no momentum); plain CD-1 without momentum is
  trained and reported beside it.
* ``dbn``, ``sae``, ``random``: the 784-500-500-2000-10 sigmoid network pretrained as a
  DBN (CD-1 RBMs, momentum 0.9), as a stacked denoising autoencoder, and from random
  (Glorot) initialisation; the same fine-tuning (SGD, momentum 0.9, step size decayed
  linearly from 0.3, batch 100, dropout of 20% of the hidden units, same epochs and
  seeds) for all three. The random-init network is also fine-tuned with
  a smaller step size (it diverges at 0.3), and the 10,000 validation images pick the better.
* ``autoencoder``: a 784-500-250-30 autoencoder (30-unit code) against PCA with 30
  components: test reconstruction error (mean squared error per pixel).

Every section also draws its pictures (filters, reconstructions, Gibbs samples, PCA and
t-SNE maps) as PNGs in ``--out``. ``--quick`` trains on a 10,000-image subset with fewer
epochs; ``--smoke`` is a seconds-long run for the test suite.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, markdown_table, parse_args, savefig, write_result  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from groundup.datasets import load_mnist  # noqa: E402
from groundup.persistence import atomic_write_bytes  # noqa: E402
from groundup.unsupervised import DBN, PCA, RBM, TSNE, Autoencoder, StackedAutoencoder  # noqa: E402
from groundup.unsupervised import plots  # noqa: E402

SECTIONS = ("pca", "tsne", "rbm", "dbn", "sae", "random", "autoencoder")
NETWORK = (500, 500, 2000)

CONFIGS: dict[str, dict[str, Any]] = {
    "full": dict(n_train=None, pca_repeats=7, tsne_n=5000, tsne_repeats=3, rbm_epochs=10, hidden=NETWORK,
                 dbn_pretrain_epochs=10, sae_pretrain_epochs=15, finetune_epochs=30, ae_epochs=30, map_n=5000,
                 gibbs_steps=1000, lr_max_iter=300),
    "quick": dict(n_train=10_000, pca_repeats=5, tsne_n=5000, tsne_repeats=1, rbm_epochs=10, hidden=NETWORK,
                  dbn_pretrain_epochs=5, sae_pretrain_epochs=3, finetune_epochs=10, ae_epochs=15, map_n=2000,
                  gibbs_steps=1000, lr_max_iter=300),
    "smoke": dict(n_train=1000, n_test=500, pca_repeats=1, tsne_n=300, tsne_repeats=1, rbm_epochs=1, hidden=(64, 64, 128),
                  dbn_pretrain_epochs=1, sae_pretrain_epochs=1, finetune_epochs=1, ae_epochs=1, map_n=300,
                  gibbs_steps=20, lr_max_iter=20),
}
# RBM pretraining of the DBN's layers: CD-1, step 0.05 on the mean gradient, momentum 0.9.
DBN_PRETRAIN = dict(pretrain_learning_rate=0.05, pretrain_momentum=0.9, k=1)
# Fine-tuning, the same for the DBN, the stacked autoencoder and the random-init network.
FINETUNE = dict(learning_rate=0.3, momentum=0.9, batch_size=100, final_lr_fraction=0.0, dropout=0.2)
# A smaller fine-tuning rate tried for the randomly initialised network (it diverges at 0.3;
# 0.01 was worse than 0.03 in a full run without dropout: 7.71% against 3.99% test error).
RANDOM_INIT_LEARNING_RATES = (0.03,)
# The RBM comparison: our CD-1 with momentum (Hinton's practical guide); BernoulliRBM has none.
RBM_MOMENTUM = 0.9


def _extra(parser: Any) -> None:
    parser.add_argument("--smoke", action="store_true", help="seconds-long sizes for the test suite")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections to run ({', '.join(SECTIONS)})")
    parser.add_argument("--resume", action="store_true", help="skip sections already cached for this configuration")


# -- data and timing ------------------------------------------------------------------------------
def load_data(cfg: dict[str, Any]) -> Any:
    ds = load_mnist()
    if ds.source == "digits":  # pragma: no cover - load_mnist raises rather than falling back here
        raise SystemExit("MNIST not found")
    n, n_test = cfg.get("n_train"), cfg.get("n_test")
    Xtr, ytr = (ds.X_train, ds.y_train) if n is None else (ds.X_train[:n], ds.y_train[:n])
    Xte, yte = (ds.X_test, ds.y_test) if n_test is None else (ds.X_test[:n_test], ds.y_test[:n_test])
    return ds, Xtr, ytr, Xte, yte


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median_of(fn: Any, repeats: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        t, out = timed(fn)
        times.append(t)
    return statistics.median(times), times, out


def logistic_accuracy(F_train: np.ndarray, y_train: np.ndarray, F_test: np.ndarray, y_test: np.ndarray, max_iter: int) -> float:
    """Test accuracy of scikit-learn's LogisticRegression (same settings for every feature set)."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop at max_iter; the same budget for all
        clf = LogisticRegression(max_iter=max_iter).fit(F_train, y_train)
    return float(clf.score(F_test, y_test))


# -- sections -------------------------------------------------------------------------------------
def run_pca(cfg: dict[str, Any], data: Any, args: Any) -> dict[str, Any]:
    from sklearn.decomposition import PCA as SkPCA

    ds = data[0]
    X = ds.X_train  # all 50,000 training images in every configuration but smoke
    if cfg["n_train"] is not None and cfg["n_train"] < 5000:
        X = data[1]
    ours_t, ours_all, ours = median_of(lambda: PCA(50).fit(X), cfg["pca_repeats"])
    sk_t, sk_all, sk = median_of(lambda: SkPCA(50).fit(X), cfg["pca_repeats"])
    diff = float(np.abs(ours.explained_variance_ratio_ - sk.explained_variance_ratio_).max())
    # Picture: the test images in the first two principal components.
    Z = ours.transform(data[3][: cfg["map_n"]])
    fig = plots.plot_embedding(Z[:, :2], data[4][: cfg["map_n"]], title="PCA of raw pixels (components 1 and 2)")
    savefig(fig, args, "unsupervised_pca_map.png")
    plt.close(fig)
    return dict(n=int(X.shape[0]), ours_s=ours_t, sklearn_s=sk_t, ours_all=ours_all, sklearn_all=sk_all, max_ratio_diff=diff,
                ratio_sum_ours=float(ours.explained_variance_ratio_.sum()), ratio_sum_sklearn=float(sk.explained_variance_ratio_.sum()))


def run_tsne(cfg: dict[str, Any], data: Any, args: Any) -> dict[str, Any]:
    from openTSNE import TSNE as OpenTSNE
    from sklearn.decomposition import PCA as SkPCA
    from sklearn.manifold import TSNE as SkTSNE
    from sklearn.manifold import trustworthiness

    Xte, yte = data[3][: cfg["tsne_n"]], data[4][: cfg["tsne_n"]]
    X50 = SkPCA(min(50, Xte.shape[0]), random_state=0).fit_transform(Xte).astype(np.float32)
    runs = {
        "groundup": lambda: TSNE(random_state=0).fit_transform(X50),
        "sklearn": lambda: SkTSNE(random_state=0).fit_transform(X50),
        "openTSNE": lambda: np.asarray(OpenTSNE(random_state=0, n_jobs=args.threads).fit(X50)),
    }
    out: dict[str, Any] = {"n": int(X50.shape[0])}
    for name, fn in runs.items():
        t, all_t, Y = median_of(fn, cfg["tsne_repeats"])
        out[name] = dict(seconds=t, all=all_t, trust=float(trustworthiness(X50, Y, n_neighbors=10)))
        log(f"tsne {name}: {t:.2f}s trust {out[name]['trust']:.4f}")
        if name == "groundup":
            fig = plots.plot_embedding(Y, yte, title=f"groundup t-SNE of {len(Y)} test images (raw pixels, PCA-50)")
            savefig(fig, args, "unsupervised_tsne_pixels.png")
            plt.close(fig)
    out["method"] = TSNE().set_params(random_state=0)._check_params(X50.shape[0], torch.device("cpu"))
    return out


def run_rbm(cfg: dict[str, Any], data: Any, args: Any) -> dict[str, Any]:
    from sklearn.neural_network import BernoulliRBM

    ds, Xtr, ytr, Xte, yte = data
    settings = dict(n_components=256, learning_rate=0.05, batch_size=64, n_iter=cfg["rbm_epochs"], random_state=0)
    # Ours adds momentum (which BernoulliRBM lacks); plain CD-1 without it is reported beside.
    ours_t, ours = timed(lambda: RBM(**settings, k=1, momentum=RBM_MOMENTUM, device="cpu").fit(Xtr))
    plain_t, plain = timed(lambda: RBM(**settings, k=1, momentum=0.0, device="cpu").fit(Xtr))
    sk_t, sk = timed(lambda: BernoulliRBM(**settings).fit(Xtr))
    # Evaluate scikit-learn's weights with our exact pseudo-likelihood too (same formula for both).
    sk_as_ours = RBM(256, device="cpu")
    sk_as_ours.n_features_in_ = Xtr.shape[1]
    sk_as_ours.components_, sk_as_ours.intercept_hidden_, sk_as_ours.intercept_visible_ = sk.components_.astype(np.float32), sk.intercept_hidden_.astype(np.float32), sk.intercept_visible_.astype(np.float32)
    sk_as_ours.h_samples_, sk_as_ours.loss_curve_ = np.zeros((64, 256), np.float32), []
    out = dict(
        ours_s=ours_t, sklearn_s=sk_t, momentum=RBM_MOMENTUM, plain_s=plain_t,
        acc_raw=logistic_accuracy(Xtr, ytr, Xte, yte, cfg["lr_max_iter"]),
        acc_ours=logistic_accuracy(ours.transform(Xtr), ytr, ours.transform(Xte), yte, cfg["lr_max_iter"]),
        acc_plain=logistic_accuracy(plain.transform(Xtr), ytr, plain.transform(Xte), yte, cfg["lr_max_iter"]),
        acc_sklearn=logistic_accuracy(sk.transform(Xtr), ytr, sk.transform(Xte), yte, cfg["lr_max_iter"]),
        pl_ours=float(ours.pseudo_likelihood(Xte).mean()), pl_sklearn=float(sk_as_ours.pseudo_likelihood(Xte).mean()),
        sl_ours=float(ours.score_samples(Xte).mean()), sl_sklearn=float(sk.score_samples(Xte).mean()),
        recon_first=ours.loss_curve_[0], recon_last=ours.loss_curve_[-1],
    )
    shape = ds.image_shape
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    plots.plot_filters(ours.components_, shape, n=100, title="groundup RBM filters (100 of 256)", ax=axes[0])
    plots.plot_filters(sk.components_, shape, n=100, title="scikit-learn BernoulliRBM filters", ax=axes[1])
    savefig(fig, args, "unsupervised_rbm_filters.png")
    plt.close(fig)
    fig, axes = plt.subplots(2, 1, figsize=(10, 4))
    recon = ours._visible_probs(ours._hidden_probs(torch.from_numpy(Xte[:12]))).numpy()
    plots.plot_reconstructions(Xte[:12], recon, shape, title="RBM: test images (top) and mean-field reconstructions", ax=axes[0])
    samples = ours.sample(n_steps=cfg["gibbs_steps"], init=Xte[12:24])
    plots.plot_images(samples, shape, n_cols=12, title=f"RBM: after {cfg['gibbs_steps']:,} Gibbs steps from test images", ax=axes[1])
    savefig(fig, args, "unsupervised_rbm_samples.png")
    plt.close(fig)
    return out


def _deep(kind: str, cfg: dict[str, Any], data: Any, args: Any) -> dict[str, Any]:
    ds, Xtr, ytr, Xte, yte = data
    Xva, yva = ds.X_valid[: len(Xte)], ds.y_valid[: len(Xte)]
    common = dict(hidden_layer_sizes=cfg["hidden"], max_iter=cfg["finetune_epochs"], random_state=0, device="cpu", **FINETUNE)
    if kind == "random":
        # The same network and fine-tuning from Glorot-uniform weights: first with the very
        # same learning rate, then with each smaller one; the validation split picks the best.
        runs = []
        for lr in (FINETUNE["learning_rate"], *RANDOM_INIT_LEARNING_RATES):
            model = DBN(**{**common, "learning_rate": lr}, pretrain=False)
            t, _ = timed(lambda m=model: m.fit(Xtr, ytr))
            runs.append(dict(learning_rate=lr, seconds=t, valid_error=float(1.0 - model.score(Xva, yva)),
                             test_error=float(1.0 - model.score(Xte, yte)), loss_curve=list(model.loss_curve_)))
            log(f"random init, lr {lr}: valid {runs[-1]['valid_error']:.4f} test {runs[-1]['test_error']:.4f}")
        best = min(runs, key=lambda r: r["valid_error"])
        return dict(same=runs[0], best=best, runs=runs)
    if kind == "dbn":
        model = DBN(**common, pretrain_n_iter=cfg["dbn_pretrain_epochs"], **DBN_PRETRAIN)
    else:
        model = StackedAutoencoder(**common, pretrain_n_iter=cfg["sae_pretrain_epochs"], noise=0.2)
    t, _ = timed(lambda: model.fit(Xtr, ytr))
    out = dict(seconds=t, valid_error=float(1.0 - model.score(Xva, yva)), test_error=float(1.0 - model.score(Xte, yte)), loss_curve=list(model.loss_curve_))
    n = cfg["map_n"]
    F = model.transform(Xte[:n])
    Y = TSNE(random_state=0).fit_transform(PCA(min(50, F.shape[1], n)).fit_transform(F))
    label = "DBN" if kind == "dbn" else "stacked autoencoder"
    fig = plots.plot_embedding(Y, yte[:n], title=f"t-SNE of fine-tuned {label} top-layer features ({n} test images)")
    savefig(fig, args, f"unsupervised_tsne_{kind}.png")
    plt.close(fig)
    fig = plots.plot_filters(model.module_.weights[0].detach(), ds.image_shape, n=100, title=f"{label}: first-layer filters after fine-tuning")
    savefig(fig, args, f"unsupervised_{kind}_filters.png")
    plt.close(fig)
    return out


def run_autoencoder(cfg: dict[str, Any], data: Any, args: Any) -> dict[str, Any]:
    ds, Xtr, ytr, Xte, yte = data
    hidden = (500, 250) if cfg["hidden"] == NETWORK else (64,)
    ae = Autoencoder(30, hidden_layer_sizes=hidden, activation="relu", loss="bce", max_iter=cfg["ae_epochs"], batch_size=128, learning_rate=1e-3, random_state=0, device="cpu")
    t, _ = timed(lambda: ae.fit(Xtr))
    pca = PCA(30).fit(Xtr)
    out = dict(seconds=t, hidden=list(hidden), mse_ae=ae.reconstruction_error(Xte), mse_pca=pca.reconstruction_error(Xte))
    shape = ds.image_shape
    fig, axes = plt.subplots(2, 1, figsize=(10, 4))
    plots.plot_reconstructions(Xte[:12], ae.reconstruct(Xte[:12]), shape, title=f"Autoencoder, 30-unit code (test MSE {out['mse_ae']:.4f})", ax=axes[0])
    plots.plot_reconstructions(Xte[:12], pca.inverse_transform(pca.transform(Xte[:12])), shape, title=f"PCA, 30 components (test MSE {out['mse_pca']:.4f})", ax=axes[1])
    savefig(fig, args, "unsupervised_reconstructions.png")
    plt.close(fig)
    n = cfg["map_n"]
    Y = TSNE(random_state=0).fit_transform(ae.transform(Xte[:n]))
    fig = plots.plot_embedding(Y, yte[:n], title=f"t-SNE of the autoencoder's 30-d codes ({n} test images)")
    savefig(fig, args, "unsupervised_tsne_autoencoder.png")
    plt.close(fig)
    return out


RUNNERS = {
    "pca": run_pca, "tsne": run_tsne, "rbm": run_rbm, "autoencoder": run_autoencoder,
    "dbn": lambda c, d, a: _deep("dbn", c, d, a), "sae": lambda c, d, a: _deep("sae", c, d, a),
    "random": lambda c, d, a: _deep("random", c, d, a),
}


# -- the report -----------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def report(cache: dict[str, Any], mode: str, cfg: dict[str, Any]) -> str:
    r = cache.get(mode, {})
    cmd = "python benchmarks/unsupervised.py" + {"full": "", "quick": " --quick", "smoke": " --smoke"}[mode]
    rows, lines = [], ["### groundup.unsupervised against scikit-learn on MNIST", ""]
    if "pca" in r:
        p = r["pca"]
        rows.append([f"PCA-50, fit on {p['n']:,} images", "ratios within 1e-4; time <= sklearn",
                     f"max ratio difference {p['max_ratio_diff']:.1e}; {p['ours_s']:.3f} s", f"{p['sklearn_s']:.3f} s",
                     f"{p['sklearn_s'] / p['ours_s']:.2f}x", f"`{cmd} --only pca`"])
    if "tsne" in r:
        t = r["tsne"]
        rows.append([f"t-SNE of {t['n']:,} test images (PCA-50)", "trust >= sklearn - 0.01; time <= sklearn",
                     f"trust {t['groundup']['trust']:.4f}; {t['groundup']['seconds']:.1f} s ({t['method']})",
                     f"trust {t['sklearn']['trust']:.4f}; {t['sklearn']['seconds']:.1f} s (openTSNE: {t['openTSNE']['trust']:.4f}; {t['openTSNE']['seconds']:.1f} s)",
                     f"{t['sklearn']['seconds'] / t['groundup']['seconds']:.2f}x", f"`{cmd} --only tsne`"])
    if "rbm" in r:
        b = r["rbm"]
        rows.append([f"RBM 256 hidden, CD-1, lr 0.05, batch 64, {cfg['rbm_epochs']} epochs: logistic regression on features", "accuracy >= sklearn's",
                     f"momentum {b['momentum']}: {_pct(b['acc_ours'])}; fit {b['ours_s']:.1f} s (no momentum: {_pct(b['acc_plain'])}; {b['plain_s']:.1f} s)",
                     f"{_pct(b['acc_sklearn'])}; fit {b['sklearn_s']:.1f} s (raw pixels: {_pct(b['acc_raw'])})",
                     f"{b['sklearn_s'] / b['ours_s']:.2f}x", f"`{cmd} --only rbm`"])
        rows.append(["RBM mean pseudo-likelihood of the test images (nats)", "reported",
                     f"exact {b['pl_ours']:.1f}; one-bit estimate {b['sl_ours']:.1f}", f"exact {b['pl_sklearn']:.1f}; one-bit estimate {b['sl_sklearn']:.1f}", "", f"`{cmd} --only rbm`"])
    net = "-".join(str(s) for s in (784, *cfg["hidden"], 10))
    base = r.get("random")
    if base:
        same, best = base["same"], base["best"]
        base_text = (f"random init, same fine-tuning (lr {same['learning_rate']}): {_pct(same['test_error'])}; "
                     f"random init, best lr by validation ({best['learning_rate']}): {_pct(best['test_error'])} ({best['seconds']:.0f} s)")
    else:
        base_text = "random init: not run"
    for kind, name in (("dbn", "DBN"), ("sae", "Stacked denoising autoencoder")):
        if kind in r:
            d = r[kind]
            epochs = f"{cfg[kind + '_pretrain_epochs']} epochs a layer, then {cfg['finetune_epochs']} fine-tuning epochs"
            rows.append([f"{name} {net}, pretrained ({epochs})", "test error <= 1.5%; beats random init",
                         f"{_pct(d['test_error'])} (validation {_pct(d['valid_error'])}; {d['seconds']:.0f} s)", base_text,
                         "", f"`{cmd} --only {kind},random`"])
    if "autoencoder" in r:
        a = r["autoencoder"]
        shape = "-".join(str(s) for s in (784, *a["hidden"], 30))
        rows.append([f"Autoencoder {shape} vs PCA-30: test MSE per pixel", "ours lower", f"{a['mse_ae']:.5f} ({a['seconds']:.0f} s)",
                     f"PCA-30: {a['mse_pca']:.5f}", "", f"`{cmd} --only autoencoder`"])
    lines.append(markdown_table(["point", "target", "groundup", "baseline (same run)", "speed-up", "command"], rows))
    lines += ["", "Times are wall-clock seconds with the thread count below; PCA and t-SNE times are medians of "
              f"{cfg['pca_repeats']} and {cfg['tsne_repeats']} runs. scikit-learn's t-SNE is Barnes-Hut (angle 0.5), "
              "openTSNE's is FFT-interpolated (its own 750-iteration schedule); groundup's uses FFT-accelerated "
              "interpolation above 2,000 points on a CPU, 1,000 iterations as scikit-learn. Pseudo-likelihoods: 'exact' "
              "sums log P(v_i | v_-i) over all 784 pixels (groundup's `RBM.pseudo_likelihood`, applied to both models' "
              "weights); 'one-bit estimate' is scikit-learn's `score_samples` (784 x one random pixel per image). "
              "scikit-learn's BernoulliRBM trains by persistent CD (SML) without momentum; ours by CD-1, with "
              "momentum and (beside it) without."]
    missing = [s for s in SECTIONS if s not in r]
    if missing:
        lines += ["", f"Not run in this configuration yet: {', '.join(missing)}."]
    lines += ["", "![PCA map](unsupervised_pca_map.png) ![t-SNE of pixels](unsupervised_tsne_pixels.png)",
              "![RBM filters](unsupervised_rbm_filters.png)", "![RBM samples](unsupervised_rbm_samples.png)",
              "![reconstructions](unsupervised_reconstructions.png)",
              "![t-SNE of DBN features](unsupervised_tsne_dbn.png) ![t-SNE of autoencoder codes](unsupervised_tsne_autoencoder.png)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.split("\n")[0], argv, extra=_extra)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = CONFIGS[mode]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"--only: unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    torch.manual_seed(0)
    cache_path = args.out / "unsupervised_runs.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    data = load_data(cfg)
    for section in only:
        if args.resume and section in cache.get(mode, {}):
            log(f"{section}: cached, skipped")
            continue
        log(f"running {section} ({mode})")
        t, result = timed(lambda run=RUNNERS[section]: run(cfg, data, args))
        result["section_seconds"] = t
        cache.setdefault(mode, {})[section] = result
        atomic_write_bytes(cache_path, json.dumps(cache, indent=1).encode())  # keep what is done
        log(f"{section}: done in {t:.0f} s")
    write_result(args, "unsupervised", report(cache, mode, cfg))


if __name__ == "__main__":
    main()
