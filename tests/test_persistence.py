import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from groundup import persistence
from groundup.persistence import ModelFileError


def _save(tmp_path, name="m.safetensors", **meta):
    path = tmp_path / name
    persistence.save(path, {"w": np.arange(6.0).reshape(2, 3), "b": torch.ones(3), "flag": np.array([True, False])},
                     {"class": "thing", "hyper": {"gamma": 0.9}, **meta})
    return path


def test_round_trip_keeps_arrays_dtypes_and_metadata(tmp_path):
    path = _save(tmp_path)
    tensors, meta = persistence.load(path, expected_class="thing")
    np.testing.assert_array_equal(tensors["w"], np.arange(6.0).reshape(2, 3))
    assert tensors["b"].dtype == np.float32 and tensors["flag"].dtype == np.bool_
    assert meta["hyper"] == {"gamma": 0.9}
    assert meta["format_version"] == persistence.FORMAT_VERSION
    assert meta["groundup_version"]


def test_numpy_scalars_in_metadata_become_json(tmp_path):
    path = tmp_path / "s.safetensors"
    persistence.save(path, {}, {"class": "x", "n": np.int64(3), "f": np.float32(0.5)})
    assert persistence.read_metadata(path)["n"] == 3


def test_metadata_needs_a_class(tmp_path):
    with pytest.raises(ValueError, match="'class'"):
        persistence.save(tmp_path / "a.safetensors", {}, {"hyper": 1})


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="tensor 'x'"):
        persistence.save(tmp_path / "a.safetensors", {"x": np.array(["a"], dtype=object)}, {"class": "x"})


def test_truncated_file_is_rejected_with_path_and_reason(tmp_path):
    path = _save(tmp_path)
    data = path.read_bytes()
    for cut in (4, 20, len(data) - 3):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError) as info:
            persistence.load(bad)
        assert str(bad) in str(info.value)


def test_tampered_tensor_bytes_fail_the_checksum(tmp_path):
    path = _save(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        persistence.load(path)


def test_tampered_metadata_fails_the_checksum(tmp_path):
    path = _save(tmp_path)
    data = path.read_bytes()
    assert b"0.9" in data
    path.write_bytes(data.replace(b"0.9", b"0.1", 1))
    with pytest.raises(ModelFileError, match="checksum"):
        persistence.load(path)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/groundup_pwned",))


def test_pickle_files_are_refused_and_never_executed(tmp_path):
    marker = "/tmp/groundup_pwned"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ModelFileError, match="pickle"):
        persistence.load(path)
    zipped = tmp_path / "torch.safetensors"
    torch.save({"x": torch.ones(1)}, zipped)
    with pytest.raises(ModelFileError, match="zip"):
        persistence.load(zipped)
    assert not os.path.exists(marker)


def test_foreign_safetensors_without_groundup_metadata(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"x": np.ones(2)}, str(path))
    with pytest.raises(ModelFileError, match="not written by groundup"):
        persistence.load(path)


def test_newer_format_and_wrong_class_are_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "FORMAT_VERSION", persistence.FORMAT_VERSION + 1)
    path = _save(tmp_path)
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match="newer"):
        persistence.load(path)
    path = _save(tmp_path, "ok.safetensors")
    with pytest.raises(ModelFileError, match="'other' was expected"):
        persistence.load(path, expected_class="other")


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _save(tmp_path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        persistence.save(path, {"w": np.zeros(3)}, {"class": "thing"})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_missing_file_and_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        persistence.load(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        persistence.save(tmp_path / "no" / "dir.safetensors", {}, {"class": "x"})


def test_header_length_past_end(tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", 10_000) + json.dumps({}).encode())
    with pytest.raises(ModelFileError, match="past the end"):
        persistence.load(path)
