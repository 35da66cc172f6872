"""groundup.native: a kernel compiles once into the cache, atomically, and every way it can
fail (no compiler, a failing compile, the opt-out) leaves the caller on its torch path."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from groundup import native

SOURCE = "int add_one(int x) { return x + 1; }\n"


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GROUNDUP_NATIVE", raising=False)
    monkeypatch.setattr(native, "_loaded", {})
    source = tmp_path / "plus.c"
    source.write_text(SOURCE)
    return source


@pytest.mark.skipif(native._compiler() is None, reason="no C compiler on this machine")
def test_compiles_once_into_the_cache_and_loads(fresh):
    lib = native.load_kernel(fresh)
    assert lib is not None and lib.add_one(41) == 42
    built = list((fresh.parent / "cache").iterdir())
    assert len(built) == 1 and built[0].name.startswith("plus-") and built[0].suffix == ".so"  # no temporary left
    assert native.load_kernel(fresh) is lib  # remembered in the process
    native._loaded.clear()
    stamp = built[0].stat().st_mtime_ns
    assert native.load_kernel(fresh).add_one(1) == 2 and built[0].stat().st_mtime_ns == stamp  # not rebuilt
    fresh.write_text(SOURCE.replace("x + 1", "x + 2"))  # a new version of the source gets its own build
    native._loaded.clear()
    assert native.load_kernel(fresh).add_one(1) == 3
    assert len(list((fresh.parent / "cache").iterdir())) == 2


def test_a_failing_compiler_warns_and_returns_none(fresh, monkeypatch):
    monkeypatch.setenv("CC", shutil.which("false") or "false")
    monkeypatch.setattr(native, "_compiler", lambda: shutil.which("false"))
    with pytest.warns(RuntimeWarning, match=r"compiling plus.c with .*false failed .* runs in torch instead"):
        assert native.load_kernel(fresh) is None
    assert not any((fresh.parent / "cache").glob("*"))  # nothing half-written left behind


def test_no_compiler_warns_and_returns_none(fresh, monkeypatch):
    monkeypatch.setattr(native, "_compiler", lambda: None)
    with pytest.warns(RuntimeWarning, match="no C compiler found"):
        assert native.load_kernel(fresh) is None


def test_the_opt_out_is_silent(fresh, monkeypatch):
    monkeypatch.setenv("GROUNDUP_NATIVE", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert native.load_kernel(fresh) is None
