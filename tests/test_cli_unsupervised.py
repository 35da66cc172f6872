"""groundup tsne and groundup pca, end to end: the coordinates, the map, the printed variance;
and the console script itself, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def blobs(tmp_path):
    """Three well-separated clusters of 35 points in 6-D, as a CSV with a header and a labels file."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=8.0, size=(3, 6))
    labels = np.repeat(np.arange(3), 35)
    X = centres[labels] + rng.normal(size=(len(labels), 6))
    data = tmp_path / "blobs.csv"
    np.savetxt(data, X, delimiter=",", header=",".join(f"f{k}" for k in range(6)), comments="", fmt="%.10g")
    label_file = tmp_path / "labels.txt"
    label_file.write_text("\n".join(f"class{k}" for k in labels) + "\n", encoding="utf-8")
    return X, labels, data, label_file


def test_tsne_writes_a_map_and_one_row_of_coordinates_per_input_row(blobs, tmp_path, capsys):
    X, labels, data, label_file = blobs
    out = tmp_path / "map.png"
    assert main(["tsne", str(data), "--out", str(out), "--labels", str(label_file), "--perplexity", "10",
                 "--max-iter", "500", "--device", "cpu"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    coords = np.loadtxt(tmp_path / "map.coords.csv", delimiter=",", skiprows=1)  # the default: next to the png
    assert (tmp_path / "map.coords.csv").read_text().splitlines()[0] == "tsne1,tsne2"
    assert coords.shape == (105, 2) and np.isfinite(coords).all()
    # the map keeps the clusters: each point's nearest neighbour on the map is of its own cluster
    # (after 500 iterations; at 300, 250 of them exaggerated, four blob data sets gave 0.93-0.97)
    d = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(labels[d.argmin(1)] == labels) > 0.95
    err = capsys.readouterr().err
    assert "t-SNE" in err and "500/500" in err and "KL divergence" in err


def test_tsne_coordinates_only_as_npy(blobs, tmp_path):
    X, _, _, _ = blobs
    data = tmp_path / "blobs.npy"
    np.save(data, X.astype(np.float32))
    out = tmp_path / "coords.npy"
    assert main(["tsne", str(data), "--out", str(out), "--perplexity", "10", "--max-iter", "250", "--n-components", "3",
                 "--no-progress", "--device", "cpu"]) == 0
    assert np.load(out).shape == (105, 3)
    assert not (tmp_path / "coords.png").exists()


def test_pca_coordinates_equal_the_estimator_and_scikit_learn(blobs, tmp_path, capsys):
    from sklearn.decomposition import PCA as SkPCA

    from groundup.unsupervised import PCA

    X, _, data, label_file = blobs
    out = tmp_path / "pca.png"
    capsys.readouterr()
    assert main(["pca", str(data), "--n-components", "3", "--out", str(out), "--labels", str(label_file),
                 "--device", "cpu"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    coords = np.loadtxt(tmp_path / "pca.coords.csv", delimiter=",", skiprows=1)
    ours = PCA(n_components=3, device="cpu").fit(X)
    np.testing.assert_allclose(coords, ours.transform(X), atol=1e-6)
    reference = SkPCA(n_components=3).fit(X)
    np.testing.assert_allclose(coords, reference.transform(X), atol=1e-4 * np.abs(coords).max())  # float32 vs float64
    printed = capsys.readouterr().out
    expected = ", ".join(f"PC{k + 1} {r:.4f}" for k, r in enumerate(reference.explained_variance_ratio_))
    assert printed.startswith(f"explained variance ratio: {expected} (total ")


def test_pca_variance_fraction_and_one_component(blobs, tmp_path, capsys):
    X, _, data, _ = blobs
    out = tmp_path / "reduced.csv"
    assert main(["pca", str(data), "--n-components", "0.5", "--out", str(out), "--device", "cpu"]) == 0
    assert np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2).shape == (105, 1)  # one axis holds half the variance
    assert main(["pca", str(data), "--n-components", "1", "--out", str(tmp_path / "one.png")]) == 2
    assert "a map needs 2 or more components" in capsys.readouterr().err
    assert not (tmp_path / "one.png").exists() and not (tmp_path / "one.coords.csv").exists()


def _console_script() -> Path:
    script = Path(sys.executable).parent / "groundup"
    if not script.exists():
        pytest.skip("the groundup console script is not installed next to this Python")
    return script


def test_the_console_script_runs_pca_and_exits_2_on_a_bad_file(blobs, tmp_path):
    _, _, data, _ = blobs
    script = _console_script()
    out = tmp_path / "coords.npy"
    done = subprocess.run([str(script), "pca", str(data), "--n-components", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("explained variance ratio: PC1 ")
    assert np.load(out).shape == (105, 2)

    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,oops\n", encoding="utf-8")
    done = subprocess.run([str(script), "tsne", str(bad), "--out", str(tmp_path / "m.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"groundup tsne: {bad}, line 2, column 2: 'oops' is not a number " \
                          "(labels go in a separate file: --labels FILE)\n"
