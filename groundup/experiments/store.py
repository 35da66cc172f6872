"""The results store: one JSON file per finished run, in one folder.

A run is identified by what determines its result: the function's import path, its
parameters, the seed and the groundup version. The file name is a hash of those, so a
sweep started again finds what is already done by looking for files, with no index to
keep consistent. Files are written atomically (temporary file, fsync, rename): a crash
or a killed driver never leaves half a record, and a finished record is never lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from groundup._version import __version__
from groundup.persistence import atomic_write_bytes

__all__ = ["ResultStore", "run_key", "check_json_metrics"]

RECORD_FORMAT = 1


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=repr)


def run_key(function: str, params: Mapping[str, Any], seed: int, version: str = __version__) -> str:
    """The store's name for one run: a hash of (function, params, seed, groundup version)."""
    doc = {"function": function, "params": dict(params), "seed": seed, "groundup_version": version}
    return hashlib.sha256(_canonical(doc).encode()).hexdigest()[:24]


def check_json_metrics(metrics: Any, where: str = "metrics") -> dict[str, Any]:
    """Return ``metrics`` if it is a dict that JSON can hold; else raise a TypeError saying
    which entry is not (a NumPy scalar or array is converted to its Python value first)."""
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{where} must be a dict of JSON values (numbers, strings, lists), got {type(metrics).__name__}")

    def convert(value: Any, path: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value
        if isinstance(value, Mapping):
            return {str(k): convert(v, f"{path}[{k!r}]") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v, f"{path}[{i}]") for i, v in enumerate(value)]
        tolist = getattr(value, "tolist", None)  # NumPy scalars and arrays, torch tensors
        if callable(tolist) and type(value).__module__.split(".")[0] in ("numpy", "torch"):
            return convert(tolist(), path)
        raise TypeError(
            f"{path} has type {type(value).__name__}, which JSON cannot hold; return numbers, strings, "
            "booleans, None, lists or dicts of them"
        )

    return {str(k): convert(v, f"{where}[{k!r}]") for k, v in metrics.items()}


class ResultStore:
    """A folder of run records, ``<key>.json`` each.

    >>> store = ResultStore("runs/")            # doctest: +SKIP
    >>> store.get(run_key("pkg.mod:f", {"x": 1}, seed=0))
    """

    def __init__(self, path: str | os.PathLike) -> None:
        if isinstance(path, ResultStore):
            path = path.path
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"store must be a folder path (str or os.PathLike), got {type(path).__name__}")
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"store {str(self.path)!r} exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)

    def file(self, key: str) -> Path:
        """The JSON file that holds (or will hold) the run with this key."""
        return self.path / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under ``key``, or None (also for an unreadable file, with a warning)."""
        path = self.file(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            warnings.warn(f"results store: ignoring {str(path)!r}, which is not valid JSON ({exc})", stacklevel=2)
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            warnings.warn(f"results store: ignoring {str(path)!r}, which is not a run record", stacklevel=2)
            return None
        return record

    def put(self, record: Mapping[str, Any]) -> Path:
        """Write one record atomically under its ``key``."""
        record = dict(record)
        record.setdefault("record_format", RECORD_FORMAT)
        data = json.dumps(record, indent=1, sort_keys=True, allow_nan=True).encode("utf-8")
        path = self.file(record["key"])
        atomic_write_bytes(path, data)
        return path

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every record in the folder (any sweep's), in file-name order."""
        for path in sorted(self.path.glob("*.json")):
            record = self.get(path.stem)
            if record is not None:
                yield record

    def __len__(self) -> int:
        return sum(1 for _ in self.path.glob("*.json"))

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"
