"""Small C kernels, compiled on first use with the machine's C compiler and called through
ctypes: the inner loops that torch cannot batch without losing most of their speed.

A kernel is one C source file shipped inside the package. :func:`load_kernel` compiles
it once per source version into the user's cache folder (``$GROUNDUP_CACHE``, else
``$XDG_CACHE_HOME/groundup``, else ``~/.cache/groundup``), writing the shared library
atomically (a temporary file renamed into place, so two processes compiling at once
never load half a file), and loads it with :class:`ctypes.CDLL`. The file name carries
a hash of the source, the compiler flags and the platform, so an upgraded package never
loads an older build.

Nothing here is required: when no compiler is found, or compiling fails, or
``GROUNDUP_NATIVE=0`` is set, :func:`load_kernel` returns None (with one warning naming
the reason, except for the explicit opt-out) and the caller uses its torch path, which
computes the same update.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

__all__ = ["cache_dir", "load_kernel"]

#: -march=native: the library is built on the machine that runs it, for its vector units.
_FLAGS = ("-O3", "-march=native", "-fopenmp-simd", "-fPIC", "-shared", "-std=c99")
_loaded: dict[str, ctypes.CDLL | None] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    """Where compiled kernels are kept."""
    if os.environ.get("GROUNDUP_CACHE"):
        return Path(os.environ["GROUNDUP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "groundup"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def load_kernel(source: Path) -> ctypes.CDLL | None:
    """The C file ``source`` compiled and loaded, or None when that is not possible here.

    The result is remembered for the life of the process (one compile, one warning).
    """
    key = str(source)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _build(source)
        return _loaded[key]


def _build(source: Path) -> ctypes.CDLL | None:
    if os.environ.get("GROUNDUP_NATIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    cc = _compiler()
    if cc is None:
        warnings.warn(f"groundup: no C compiler found (tried $CC, cc, gcc, clang); {source.name} runs in torch "
                      f"instead, which is slower on the CPU", RuntimeWarning, stacklevel=4)
        return None
    text = source.read_bytes()
    digest = hashlib.sha256(text + " ".join((cc, *_FLAGS, platform.platform())).encode()).hexdigest()[:16]
    folder = cache_dir()
    library = folder / f"{source.stem}-{digest}{'.dll' if os.name == 'nt' else '.so'}"
    if not library.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=library.stem, suffix=".tmp", dir=folder)
            os.close(fd)
            try:
                done = subprocess.run([cc, *_FLAGS, str(source), "-o", tmp, "-lm"], capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
                os.replace(tmp, library)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except (OSError, RuntimeError, subprocess.SubprocessError) as err:
            warnings.warn(f"groundup: compiling {source.name} with {cc} failed ({err}); it runs in torch instead, "
                          f"which is slower on the CPU", RuntimeWarning, stacklevel=4)
            return None
    try:
        return ctypes.CDLL(str(library))
    except OSError as err:
        warnings.warn(f"groundup: loading {library} failed ({err}); {source.name} runs in torch instead",
                      RuntimeWarning, stacklevel=4)
        return None
