"""Plot helpers draw what they are given; the benchmark's smoke run writes its table and PNGs."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from groundup.unsupervised import plots  # noqa: E402


def test_image_grid_places_each_image():
    imgs = np.arange(5 * 6, dtype=np.float32).reshape(5, 6)  # five 2x3 images
    grid = plots.image_grid(imgs, (2, 3), n_cols=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    np.testing.assert_array_equal(grid[1:3, 1:4], imgs[0].reshape(2, 3))
    np.testing.assert_array_equal(grid[4:6, 5:8], imgs[4].reshape(2, 3))  # row 1, column 1
    normed = plots.image_grid(imgs, (2, 3), normalize=True)
    assert normed.max() == 1.0 and normed.min() == 0.0
    with pytest.raises(ValueError, match="images must have shape"):
        plots.image_grid(imgs, (3, 3))


def test_plot_functions_return_figures(tmp_path):
    rng = np.random.default_rng(0)
    fig = plots.plot_embedding(rng.normal(size=(50, 2)), rng.integers(0, 3, 50), title="t")
    fig.savefig(tmp_path / "e.png")
    assert len(fig.axes[0].collections) == 3  # one scatter per class
    fig = plots.plot_filters(rng.normal(size=(12, 64)), (8, 8), n=10)
    fig = plots.plot_reconstructions(rng.random((4, 64)), rng.random((4, 64)), (8, 8))
    fig.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_reconstructions(rng.random((4, 64)), rng.random((3, 64)), (8, 8))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.plot_embedding(rng.normal(size=(5, 3)))


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path, run_benchmark):
    from groundup.experiments import ResultStore

    run_benchmark("unsupervised", "--smoke", "--backend", "serial")
    table = (tmp_path / "unsupervised.md").read_text()
    for row in ("PCA-50", "PCA-50 partial_fit", "svd_solver='randomized'", "t-SNE of 300 test images", "TSNE.transform: 100 random test images", "RBM 256 hidden", "RBM(visible='gaussian'), n_components=64, n_iter=2", "standardised MNIST (1,000 train / 500 test, 1 seed)", "DBN 784-64-64-128-10", "Stacked denoising autoencoder", "Autoencoder 784-64-30"):
        assert row in table, row
    assert "Not run" not in table and "command: `python -m benchmarks.unsupervised --smoke`" in table
    for png in ("pca_map", "tsne_pixels", "rbm_filters", "rbm_samples", "reconstructions", "tsne_dbn", "tsne_autoencoder",
                "tsne_sae", "dbn_filters", "sae_filters"):
        assert (tmp_path / f"unsupervised_{png}.png").stat().st_size > 5000, png
    assert "](unsupervised_pca_map.png)" in table  # plain file names: the README sync prefixes the folder
    speedups = [float(x) for x in re.findall(r"\| (\d+\.\d\d)x \|", table)]
    assert len(speedups) == 5 and all(s > 0 for s in speedups)  # PCA (exact, incremental, randomized), t-SNE and RBM against scikit-learn

    runs = {r["params"]["section"]: r for r in ResultStore(tmp_path / "store")}
    assert set(runs) == {"pca", "pca_large", "tsne", "tsne_transform", "rbm", "gaussian_rbm", "gaussian_rbm_mnist", "dbn", "sae",
                         "random", "autoencoder"}
    assert all(r["status"] == "ok" for r in runs.values())
    m = {section: r["metrics"] for section, r in runs.items()}
    assert m["pca"]["max_ratio_diff"] < 1e-4 and 0.0 < m["pca"]["ratio_sum_ours"] <= 1.0
    assert all(m["pca_large"][k]["max_ratio_diff"] < 1e-4 for k in ("incremental", "randomized"))
    assert all(0.5 < m["tsne"][name]["trust"] <= 1.0 for name in ("groundup", "sklearn", "openTSNE"))
    assert all(0.0 <= m["rbm"][k] <= 1.0 for k in ("acc_raw", "acc_ours", "acc_plain", "acc_sklearn"))
    assert m["rbm"]["acc_raw"] > 0.5 and m["rbm"]["pl_ours"] < 0
    (draw,) = m["tsne_transform"]["draws"]  # 100 test images placed into a map of 300 training images
    assert all(0.1 < draw[k] <= 1.0 for k in ("own", "new", "input_own", "input_new")) and draw["transform_s"] > 0
    (split,) = m["gaussian_rbm"]["splits"]  # standardised digits: 1,257 rows to train on, 540 to test
    assert m["gaussian_rbm"]["n_train"] == 1257 and split["n_components"] == 64 and split["acc_raw"] > 0.9
    assert 0.1 < split["acc_rbm"] <= 1.0 and 0.1 < split["learning_rate=0.01"] <= 1.0
    (mnist_run,) = m["gaussian_rbm_mnist"]["runs"]  # standardised MNIST: 1,000 training images
    assert m["gaussian_rbm_mnist"]["n_train"] == 1000 and mnist_run["n_components"] == 64 and mnist_run["n_iter"] == 2
    assert 0.1 < mnist_run["acc_rbm"] <= 1.0 and 0.5 < m["gaussian_rbm_mnist"]["acc_raw"] <= 1.0
    assert all(0.0 <= m[k]["test_error"] <= 1.0 for k in ("dbn", "sae")) and 0.0 <= m["random"]["best"]["valid_error"] <= 1.0
    assert 0.0 < m["autoencoder"]["mse_pca"] < m["autoencoder"]["mse_ae"] + 1.0
    assert len(m["dbn"]["map"]["xy"]) == 300 and len(m["rbm"]["pictures"]["filters_ours"]) == 100
