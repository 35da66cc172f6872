"""Plot helpers draw what they are given; the benchmark's smoke run writes its table and PNGs."""

from __future__ import annotations

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


def test_benchmark_smoke_run(tmp_path, run_benchmark):
    run_benchmark("unsupervised", "--smoke", "--threads", "1")
    table = (tmp_path / "unsupervised.md").read_text()
    for row in ("PCA-50", "t-SNE of 300 test images", "RBM 256 hidden", "DBN 784-64-64-128-10", "Stacked denoising autoencoder", "Autoencoder 784-64-30"):
        assert row in table, row
    for png in ("pca_map", "tsne_pixels", "rbm_filters", "rbm_samples", "reconstructions", "tsne_dbn", "tsne_autoencoder"):
        assert (tmp_path / f"unsupervised_{png}.png").stat().st_size > 5000, png
    assert "Not run" not in table
